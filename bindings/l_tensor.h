/* l_tensor.h -- metatables shared between the tensor bindings files. */
#ifndef NN_L_TENSOR_H
#define NN_L_TENSOR_H

#include <lua.h>

void lnn_tensor_createmeta(lua_State *L);      /* registers "nn.Tensor" once */

#endif
