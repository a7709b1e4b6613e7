/* l_save.h -- tensor.save and tensor.load (safetensors checkpoints).
 * Both expect the nn_ctx as upvalue 1 (register them with lnn_setfuncs). */
#ifndef NN_L_SAVE_H
#define NN_L_SAVE_H

#include <lua.h>

/* The checkpoint format tensor.save writes and the newest tensor.load reads
 * (l_save.c): 1 and 2 escaped dots inside keys as %2E, 3 stores plain dotted
 * names and records nnlua_format / nnlua_version. Raise it when a file of the
 * new layout could not be read correctly by the code of the old one. */
#define LNN_CKPT_FORMAT 3

int lnn_tensor_save(lua_State *L);   /* tensor.save(value, path): value a tensor or nested table */
int lnn_tensor_load(lua_State *L);   /* tensor.load(path) -> the saved value */

#endif
