/* l_tensor.h -- the nn.Tensor userdata type (l_tensor.c), as the other
 * bindings files use it: its metatable name and struct, the functions that
 * check, test and push tensors, and the checks of dims and shapes. */
#ifndef NN_L_TENSOR_H
#define NN_L_TENSOR_H

#include <lua.h>
#include "nn/tensor.h"

/* The metatable name; its address is the type's tag (common.h, "Userdata lifetimes"). */
extern const char lnn_tensor_mt[];
#define TENSOR_MT lnn_tensor_mt           /* "nn.Tensor" */

typedef struct LTensor {
  const char *tname;
  nn_tensor *t;         /* NULL: not built yet, or freed/closed */
  nn_tensor *held;      /* a closed tensor's reference, until it can be released */
} LTensor;

nn_tensor *lnn_checktensor(lua_State *L, int arg);     /* a live tensor, or "bad argument" */
nn_tensor *lnn_totensor(lua_State *L, int arg);        /* NULL if not a tensor */
LTensor *lnn_testtensor(lua_State *L, int arg);        /* a tensor userdata (maybe freed), or NULL */
/* A binding that makes a tensor pushes its userdata first (lnn_newtensor),
 * then runs the op, then calls lnn_finish: were Lua out of memory for the
 * userdata after the op, the op's tensor would leak. */
LTensor *lnn_newtensor(lua_State *L);                   /* pushes an empty tensor userdata */
/* Stores t in u (the userdata on top) and returns 1; if t is NULL raises ctx->err.
 * Tells the garbage collector about storage allocated since the last call. */
int lnn_finish(lua_State *L, LTensor *u, nn_tensor *t);

int lnn_checkdim(lua_State *L, int arg, int ndim);      /* 1-based (or negative from the end) -> 0-based */
/* Sizes given as arguments arg..last (2, 3) or as one table {2, 3} at arg. Returns ndim. */
int lnn_checkshape(lua_State *L, int arg, int last, int64_t *shape, int allow_neg1);

/* Adds l_tensor_new.c's module functions (tensor.new, zeros, ..., cat, stack,
 * no_grad, set_num_threads) to the table on top; luaopen_nn_tensor calls it. */
void lnn_tensor_newfuncs(lua_State *L);

#endif
