/* l_generator.h -- the nn.Generator userdata type (l_generator.c), as the other
 * bindings files use it: its metatable name, its struct, the optional
 * generator argument, and what the tensor module registers. */
#ifndef NN_L_GENERATOR_H
#define NN_L_GENERATOR_H

#include <lua.h>
#include "nn/ctx.h"

/* The metatable name; its address is the type's tag (common.h, "Userdata lifetimes"). */
extern const char lnn_generator_mt[];
#define GENERATOR_MT lnn_generator_mt     /* "nn.Generator" */

typedef struct LGenerator { const char *tname; nn_rng rng; } LGenerator;

nn_rng *lnn_optgenerator(lua_State *L, int arg);   /* a Generator at arg, or the default */

void lnn_generator_createmeta(lua_State *L);   /* registers "nn.Generator" once */
int lnn_generator_new(lua_State *L);           /* tensor.Generator([seed]) */
int lnn_get_rng_state(lua_State *L);           /* tensor.get_rng_state() -> 32-byte string */
int lnn_set_rng_state(lua_State *L);           /* tensor.set_rng_state(s) */

#endif
