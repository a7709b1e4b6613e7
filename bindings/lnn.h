/* lnn.h -- helpers shared by the bindings files: the context upvalue,
 * tensor userdata, argument and option checking. */
#ifndef NN_LNN_H
#define NN_LNN_H

#include <lua.h>
#include <lauxlib.h>
#include "nn/tensor.h"

#define TENSOR_MT "nn.Tensor"
#define GENERATOR_MT "nn.Generator"

typedef struct LTensor { nn_tensor *t; } LTensor;     /* t NULL: not built yet, or freed */
typedef struct LGenerator { nn_rng rng; } LGenerator;

/* The nn_ctx of this Lua state: upvalue 1 of every binding. */
#define getctx(L) (*(nn_ctx **)lua_touserdata(L, lua_upvalueindex(1)))

void lnn_pushctx(lua_State *L);            /* pushes the state's context userdata, creating it once */
void lnn_setfuncs(lua_State *L, const luaL_Reg *l);   /* luaL_setfuncs with the context as upvalue */
/* lnn_setfuncs for the methods of a type, into the table on top, each also
 * recorded (in the registry) as a method whose self is named receiver ("x"):
 * when its argument 1 fails lnn_checkself or lnn_checktensor (x.sum(), x.view(2, 3))
 * the error says "sum: call it as x:sum(...) with a colon; ...", and when a later
 * one fails lnn_checktensor or lnn_checkfloat in a call through a field
 * (x.matmul(y): y became self) the usual error adds the same advice. */
void lnn_setmethods(lua_State *L, const luaL_Reg *l, const char *receiver);
/* The userdata of type tname at argument 1 of a method (see lnn_setmethods);
 * in any other function a plain "bad argument #1" error. */
void *lnn_checkself(lua_State *L, const char *tname);

nn_tensor *lnn_checktensor(lua_State *L, int arg);
nn_tensor *lnn_totensor(lua_State *L, int arg);        /* NULL if not a tensor */
LTensor *lnn_newtensor(lua_State *L);                   /* pushes an empty tensor userdata */
/* Stores t in u (the userdata on top) and returns 1; if t is NULL raises ctx->err.
 * Tells the garbage collector about storage allocated since the last call. */
int lnn_finish(lua_State *L, LTensor *u, nn_tensor *t);
void lnn_gcaccount(lua_State *L, nn_ctx *ctx);
int lnn_error(lua_State *L);                            /* raises ctx->err */

int lnn_checkdim(lua_State *L, int arg, int ndim);      /* 1-based (or negative from the end) -> 0-based */
int64_t lnn_checksize(lua_State *L, int arg);           /* a whole number >= 0 */
/* Checks that the table at idx (raw: a proxy's __index is not asked) has no
 * key but the integers 1..n: a hole ({[1] = 1, [3] = 3}, whose # may be 1) or
 * another key raises "bad argument #arg (what is not a list: it has key K but
 * length n (holes are not allowed))". */
void lnn_checklist(lua_State *L, int idx, int arg, lua_Integer n, const char *what);
/* Sizes given as arguments arg..last (2, 3) or as one table {2, 3} at arg. Returns ndim. */
int lnn_checkshape(lua_State *L, int arg, int last, int64_t *shape, int allow_neg1);
float lnn_checkfloat(lua_State *L, int arg);
nn_rng *lnn_optgenerator(lua_State *L, int arg);        /* a Generator at arg, or the default */
/* Checks that the table at arg has only the given keys; raises "fn: unknown option 'k'". */
void lnn_checkopts(lua_State *L, int arg, const char *fn, const char *const *keys);

#endif
