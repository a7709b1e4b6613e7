/* init.c -- opens every nnlua module as a global and in package.loaded.
 *
 * tensor (C) and nnlua.errors are loaded at start-up. The six modules written
 * in Lua (nn, optim, data, datasets, transforms, plot) cost most of the
 * start-up time, so their globals are lazy: the global table gets a metatable
 * whose __index (lazy_index) loads a module the first time its global name is
 * read, require(name) then rawset(_G, name, module), so that every later read
 * is a plain table read and `nn == require "nn"` whichever comes first. Any
 * other missing global reads as nil; assigning one of the six names before it
 * was read (`data = {...}`) simply wins and nothing is loaded (__newindex,
 * lazy_newindex, takes the name off the list and rawsets).
 *
 * Scripts that put their own metatable on _G (strict.lua) must still see
 * every module: base getmetatable and setmetatable and debug.getmetatable
 * (replaced here) and debug.setmetatable (vm/guard.c), given the global table
 * while the lazy metatable is on it, first load every module not loaded yet
 * and remove that metatable (nnlua_materialize_globals), then do what Lua's
 * own do: getmetatable(_G) is nil, as in stock Lua.
 *
 * What no metamethod can cover: rawget(_G, "nn"), next and pairs(_G) do not
 * see a module before its first use.
 *
 * require "nn" (or the global) loads stdlib/nn from package.path as it was at
 * start-up (package.preload.nn, stdlib_loader), as when the modules were all
 * loaded at start-up: a script that puts "./?.lua" first in package.path and
 * has a data.lua of its own still gets nnlua's data (and vm/path.c's warning
 * about that file stays true). */
#include <lauxlib.h>
#include <lualib.h>
#include "bindings.h"
#include "l_std.h"

static const luaL_Reg modules[] = {
  {"tensor", luaopen_nn_tensor},
  {NULL, NULL}
};

/* modules written in Lua, in stdlib/ (found through package.path) */
static const char *const lua_modules[] = {"nn", "optim", "data", "datasets", "transforms", "plot", NULL};

/* ---- loading from the stdlib ------------------------------------------ */

/* package.preload loader of the modules of lua_modules: (name) -> module.
 * Upvalues: package.path at start-up, package.searchpath. Does what Lua's
 * searcher of Lua files and require do with them, source only (vm/guard.c). */
static int stdlib_loader(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_call(L, 2, 2);                                    /* 2: filename | nil, 3: message */
  if (lua_isnil(L, 2))
    return luaL_error(L, "module '%s' not found:%s", name, luaL_optstring(L, 3, ""));
  lua_settop(L, 2);
  const char *filename = luaL_checkstring(L, 2);
  if (luaL_loadfilex(L, filename, "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, filename,
                      lua_tostring(L, -1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

/* ---- lazy globals -------------------------------------------------------- */

/* whether index i holds the global table */
static int isglobals(lua_State *L, int i) {
  if (lua_type(L, i) != LUA_TTABLE) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  int g = lua_rawequal(L, i, -1);
  lua_pop(L, 1);
  return g;
}

/* Pushes require(name): the function at index req called with the string at
 * index name. */
static void require_at(lua_State *L, int req, int name) {
  lua_pushvalue(L, req);
  lua_pushvalue(L, name);
  lua_call(L, 1, 1);
}

/* __index of the global table while modules are pending: (t, k) -> value.
 * Upvalues: 1 the set of names not loaded nor assigned yet, 2 require. */
static int lazy_index(lua_State *L) {
  lua_settop(L, 2);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;               /* nil */
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNIL) return 1;   /* nil */
  lua_pop(L, 1);
  require_at(L, lua_upvalueindex(2), 2);                     /* 3: the module; errors go up */
  if (isglobals(L, 1)) {
    lua_pushvalue(L, 2);
    lua_pushnil(L);
    lua_rawset(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, 1);
  }
  return 1;
}

/* __newindex of the global table while modules are pending: (t, k, v).
 * Upvalue 1: the set of pending names. */
static int lazy_newindex(lua_State *L) {
  lua_settop(L, 3);
  if (lua_type(L, 1) != LUA_TTABLE)                          /* the metatable misused */
    return luaL_error(L, "attempt to index a %s value", luaL_typename(L, 1));
  if (isglobals(L, 1) && lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_pushnil(L);
    lua_rawset(L, lua_upvalueindex(1));
  }
  lua_rawset(L, 1);                                          /* a nil or NaN key raises */
  return 0;
}

int nnlua_materialize_globals(lua_State *L) {
  int top = lua_gettop(L);
  luaL_checkstack(L, 8, "materializing the globals");
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);        /* top+1 */
  int g = top + 1;
  if (!lua_getmetatable(L, g)) {                              /* top+2 */
    lua_settop(L, top);
    return 0;
  }
  lua_pushliteral(L, "__index");
  lua_rawget(L, top + 2);                                     /* top+3 */
  if (lua_tocfunction(L, top + 3) != lazy_index) {
    lua_settop(L, top);
    return 0;
  }
  lua_getupvalue(L, top + 3, 1);                              /* top+4: pending */
  lua_getupvalue(L, top + 3, 2);                              /* top+5: require */
  for (const char *const *name = lua_modules; *name; name++) {
    lua_pushstring(L, *name);                                 /* top+6 */
    lua_pushvalue(L, top + 6);
    int pending = lua_rawget(L, top + 4) != LUA_TNIL;
    lua_pop(L, 1);
    if (pending) {
      require_at(L, top + 5, top + 6);                        /* top+7 */
      lua_pushvalue(L, top + 6);
      lua_pushnil(L);
      lua_rawset(L, top + 4);
      lua_pushvalue(L, top + 6);
      if (lua_rawget(L, g) == LUA_TNIL) {                     /* a rawset value stays */
        lua_pushvalue(L, top + 6);
        lua_pushvalue(L, top + 7);
        lua_rawset(L, g);
      }
    }
    lua_settop(L, top + 5);
  }
  lua_pushnil(L);
  lua_setmetatable(L, g);
  lua_settop(L, top);
  return 1;
}

/* Lua's getmetatable(obj), setmetatable(t, mt) and debug.getmetatable(obj)
 * (lbaselib.c, ldblib.c), with the global table materialized first. Written
 * out, not wrapped, so that their argument errors name them as Lua's do, and
 * cheap (getmetatable runs in stdlib's __index functions, setmetatable makes
 * every object): nothing more than Lua's for a value without a metatable, one
 * comparison for one with: is it the lazy metatable (upvalue 1)? */

/* Pushes the metatable of argument 1, materializing first when it is the
 * lazy one; returns 0 and pushes nothing when there is none. */
static int getmetatable_arg1(lua_State *L) {
  if (!lua_getmetatable(L, 1)) return 0;
  if (!lua_rawequal(L, -1, lua_upvalueindex(1))) return 1;
  lua_pop(L, 1);
  if (isglobals(L, 1)) nnlua_materialize_globals(L);
  return lua_getmetatable(L, 1);
}

static int b_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  if (!getmetatable_arg1(L)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushliteral(L, "__metatable");
  if (lua_rawget(L, -2) == LUA_TNIL) lua_pop(L, 1);
  return 1;                           /* the __metatable field if present, else the metatable */
}

static int b_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (getmetatable_arg1(L)) {
    lua_pushliteral(L, "__metatable");
    if (lua_rawget(L, -2) != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

static int db_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  if (!getmetatable_arg1(L)) luaL_pushfail(L);
  return 1;
}

/* Sets package.preload[name] for the modules of lua_modules, puts the lazy
 * metatable on the global table and replaces the three functions above. */
static void lazy_globals(lua_State *L) {
  int top = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);     /* top+1 */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);      /* top+2 */
  lua_getfield(L, top + 2, LUA_LOADLIBNAME);                     /* top+3: package */
  luaL_checktype(L, top + 3, LUA_TTABLE);
  lua_getfield(L, top + 3, "path");
  luaL_checktype(L, -1, LUA_TSTRING);
  lua_getfield(L, top + 3, "searchpath");
  luaL_checktype(L, -1, LUA_TFUNCTION);
  lua_pushcclosure(L, stdlib_loader, 2);                         /* top+4 */
  lua_newtable(L);                                               /* top+5: pending */
  for (const char *const *name = lua_modules; *name; name++) {
    lua_pushvalue(L, top + 4);
    lua_setfield(L, top + 1, *name);
    lua_pushboolean(L, 1);
    lua_setfield(L, top + 5, *name);
  }
  lua_createtable(L, 0, 2);                                      /* top+6: the metatable */
  lua_pushvalue(L, top + 5);
  lua_getglobal(L, "require");
  luaL_checktype(L, -1, LUA_TFUNCTION);
  lua_pushcclosure(L, lazy_index, 2);
  lua_setfield(L, top + 6, "__index");
  lua_pushvalue(L, top + 5);
  lua_pushcclosure(L, lazy_newindex, 1);
  lua_setfield(L, top + 6, "__newindex");
  lua_pushglobaltable(L);                                        /* top+7 */
  lua_pushvalue(L, top + 6);
  lua_setmetatable(L, top + 7);
  lua_pushvalue(L, top + 6);
  lua_pushcclosure(L, b_getmetatable, 1);
  lua_setfield(L, top + 7, "getmetatable");
  lua_pushvalue(L, top + 6);
  lua_pushcclosure(L, b_setmetatable, 1);
  lua_setfield(L, top + 7, "setmetatable");
  if (lua_getfield(L, top + 2, LUA_DBLIBNAME) == LUA_TTABLE) {
    lua_pushvalue(L, top + 6);
    lua_pushcclosure(L, db_getmetatable, 1);
    lua_setfield(L, -2, "getmetatable");
  }
  lua_settop(L, top);
}

int nnlua_modules(lua_State *L) {
  static const char *const globals[] = {"tensor", "nn", "optim", "data", "datasets",
                                        "transforms", "plot", NULL};
  nnlua_materialize_globals(L);
  lua_createtable(L, 0, 9);
  for (const char *const *g = globals; *g; g++) {
    lua_getglobal(L, "require");
    lua_pushstring(L, *g);
    lua_call(L, 1, 1);                 /* the module, even if the global was reassigned */
    lua_setfield(L, -2, *g);
  }
  lua_pushliteral(L, NNLUA_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushcfunction(L, nnlua_msghandler);
  lua_setfield(L, -2, "handler");
  return 1;
}

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
  lua_pushcfunction(L, nnlua_modules);         /* a script for stock Lua: require "nnlua" */
  lua_setfield(L, -2, "nnlua");
  lua_pop(L, 1);
  lua_getglobal(L, "require");                  /* first: it registers the stdlib folder */
  lua_pushliteral(L, "nnlua.errors");
  lua_call(L, 1, 0);
  for (const luaL_Reg *m = modules; m->name; m++) {
    luaL_requiref(L, m->name, m->func, 1);   /* package.loaded[name] and the global */
    lua_pop(L, 1);
  }
  nnlua_openstd(L);   /* os.monotime; print and writes step around the progress bar */
  lazy_globals(L);    /* nn, optim, data, datasets, transforms, plot: on first use */
  return 0;
}
