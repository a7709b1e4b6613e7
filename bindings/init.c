/* init.c -- opens every nnlua module as a global and in package.loaded. */
#include <lauxlib.h>
#include "bindings.h"
#include "l_std.h"

static const luaL_Reg modules[] = {
  {"tensor", luaopen_nn_tensor},
  {NULL, NULL}
};

/* modules written in Lua, in stdlib/ (found through package.path) */
static const char *const lua_modules[] = {"nn", "optim", "data", "datasets", "transforms", "plot", NULL};

int nnlua_openlibs(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);   /* require "nn._C" loads it */
  lua_pushcfunction(L, luaopen_nn__C);
  lua_setfield(L, -2, "nn._C");
  lua_pushcfunction(L, luaopen_optim__C);
  lua_setfield(L, -2, "optim._C");
  lua_pushcfunction(L, luaopen_data__C);
  lua_setfield(L, -2, "data._C");
  lua_pushcfunction(L, luaopen_plot__C);
  lua_setfield(L, -2, "plot._C");
  lua_pushcfunction(L, luaopen_nnlua__C);
  lua_setfield(L, -2, "nnlua._C");
  lua_pop(L, 1);
  lua_getglobal(L, "require");                  /* first: it registers the stdlib folder */
  lua_pushliteral(L, "nnlua.errors");
  lua_call(L, 1, 0);
  for (const luaL_Reg *m = modules; m->name; m++) {
    luaL_requiref(L, m->name, m->func, 1);   /* package.loaded[name] and the global */
    lua_pop(L, 1);
  }
  for (const char *const *name = lua_modules; *name; name++) {
    lua_getglobal(L, "require");
    lua_pushstring(L, *name);
    lua_call(L, 1, 1);
    lua_setglobal(L, *name);
  }
  nnlua_openstd(L);   /* os.monotime; print and writes step around the progress bar */
  return 0;
}
