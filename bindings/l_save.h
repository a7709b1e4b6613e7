/* l_save.h -- tensor.save and tensor.load (safetensors checkpoints).
 * Both expect the nn_ctx as upvalue 1 (register them with lnn_setfuncs). */
#ifndef NN_L_SAVE_H
#define NN_L_SAVE_H

#include <lua.h>

int lnn_tensor_save(lua_State *L);   /* tensor.save(value, path): value a tensor or nested table */
int lnn_tensor_load(lua_State *L);   /* tensor.load(path) -> the saved value */

#endif
