/* init.c -- opens every nnlua module as a global and in package.loaded. */
#include <lauxlib.h>
#include "bindings.h"

static const luaL_Reg modules[] = {
  {"tensor", luaopen_nn_tensor},
  {NULL, NULL}
};

int nnlua_openlibs(lua_State *L) {
  for (const luaL_Reg *m = modules; m->name; m++) {
    luaL_requiref(L, m->name, m->func, 1);   /* package.loaded[name] and the global */
    lua_pop(L, 1);
  }
  return 0;
}
