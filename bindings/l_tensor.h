/* l_tensor.h -- metatables shared between the tensor bindings files. */
#ifndef NN_L_TENSOR_H
#define NN_L_TENSOR_H

#include <lua.h>

void lnn_tensor_createmeta(lua_State *L);      /* registers "nn.Tensor" once */
void lnn_generator_createmeta(lua_State *L);   /* registers "nn.Generator" once */
int lnn_generator_new(lua_State *L);           /* tensor.Generator([seed]) */
int lnn_get_rng_state(lua_State *L);           /* tensor.get_rng_state() -> 32-byte string */
int lnn_set_rng_state(lua_State *L);           /* tensor.set_rng_state(s) */

#endif
