/* guard.c -- the debug library without the four doors into C's memory, and
 * Lua source only (no binary chunks).
 *
 * nnlua's promise is that no script can crash it. Lua's debug library can
 * change what C code relies on without any check, in stock Lua as well:
 *
 *   debug.setupvalue(f, n, v)   on a C function replaces an upvalue its C code
 *                               reads as a pointer (nnlua's context is upvalue
 *                               1 of every binding; print's wrapper keeps the
 *                               original function and its state as upvalues)
 *   debug.setlocal(level, n, v) on a C function's frame replaces a value that
 *                               the running C code holds a pointer into, which
 *                               the collector may then free under it
 *   debug.getlocal(level, n)    on a C function's frame hands the script the
 *                               private tables and boxes the C code keeps
 *   debug.setmetatable(u, mt)   on a userdata makes it pass for another type
 *                               (a file for a tensor, a tensor for an image set)
 *
 * The host replaces these four with versions that refuse exactly those uses
 * (getlocal reports no locals in a C frame, the others raise) and behave as
 * Lua's own otherwise. The rest of the debug library is left as it is: what
 * it reaches (the registry, metatables, C upvalues to read) the bindings
 * validate (bindings/common.h, "Userdata lifetimes"). */
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "bindings/bindings.h"
#include "host.h"

/* The thread the call is about: argument 1 when it is a thread (*arg = 1),
 * else L itself (*arg = 0). */
static lua_State *thread_arg(lua_State *L, int *arg) {
  if (lua_isthread(L, 1)) {
    *arg = 1;
    return lua_tothread(L, 1);
  }
  *arg = 0;
  return L;
}

/* The frame at the level in argument arg+1 of thread L1, or an error. */
static void frame_at(lua_State *L, lua_State *L1, int arg, lua_Debug *ar) {
  if (!lua_getstack(L1, (int)luaL_checkinteger(L, arg + 1), ar))
    luaL_argerror(L, arg + 1, "level out of range");
  lua_getinfo(L1, "S", ar);
}

/* debug.getlocal([thread,] f|level, n) -> name, value | name (of a parameter of f) | nil */
static int g_getlocal(lua_State *L) {
  int arg;
  lua_State *L1 = thread_arg(L, &arg);
  int n = (int)luaL_checkinteger(L, arg + 2);
  if (lua_isfunction(L, arg + 1)) {          /* the name of a parameter of a function */
    lua_pushvalue(L, arg + 1);
    lua_pushstring(L, lua_getlocal(L, NULL, n));
    return 1;
  }
  lua_Debug ar;
  frame_at(L, L1, arg, &ar);
  if (ar.what[0] == 'C') {                   /* a C frame's slots are the C code's */
    luaL_pushfail(L);
    return 1;
  }
  luaL_checkstack(L, 3, "too many values");
  const char *name = lua_getlocal(L1, &ar, n);
  if (name == NULL) {
    luaL_pushfail(L);
    return 1;
  }
  lua_xmove(L1, L, 1);
  lua_pushstring(L, name);
  lua_rotate(L, -2, 1);
  return 2;
}

/* debug.setlocal([thread,] level, n, value) -> name | nil */
static int g_setlocal(lua_State *L) {
  int arg;
  lua_State *L1 = thread_arg(L, &arg);
  lua_Debug ar;
  frame_at(L, L1, arg, &ar);
  int n = (int)luaL_checkinteger(L, arg + 2);
  luaL_checkany(L, arg + 3);
  if (ar.what[0] == 'C')
    return luaL_error(L, "debug.setlocal: cannot change the stack of a C function");
  lua_settop(L, arg + 3);
  lua_xmove(L, L1, 1);
  const char *name = lua_setlocal(L1, &ar, n);
  if (name == NULL) lua_pop(L1, 1);           /* not taken */
  lua_pushstring(L, name);
  return 1;
}

/* debug.setupvalue(f, n, value) -> name | nil */
static int g_setupvalue(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int n = (int)luaL_checkinteger(L, 2);
  luaL_checkany(L, 3);
  if (lua_iscfunction(L, 1))
    return luaL_error(L, "debug.setupvalue: cannot change an upvalue of a C function");
  lua_settop(L, 3);
  const char *name = lua_setupvalue(L, 1, n);
  if (name == NULL) return 0;
  lua_pushstring(L, name);
  return 1;
}

/* debug.setmetatable(value, mt) -> value. On the global table, the modules
 * whose globals are lazy are loaded first and their metatable removed
 * (bindings/init.c), so that the script's metatable replaces nothing. */
static int g_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (lua_type(L, 1) == LUA_TUSERDATA || lua_type(L, 1) == LUA_TLIGHTUSERDATA)
    return luaL_error(L, "debug.setmetatable: the metatable of a userdata belongs to the C code "
                      "that made it");
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int globals = lua_rawequal(L, 1, -1);
    lua_pop(L, 1);
    if (globals) nnlua_materialize_globals(L);
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* ---- text chunks only ----
 * A binary chunk (luac's output) is trusted by Lua's VM as it is: a crafted
 * one reads and writes memory at will. The host loads Lua source only: load,
 * loadfile, dofile and require's Lua searcher refuse binary chunks, and so do
 * the script, -e and the REPL (main.c, repl.c). */

/* Calls the original (upvalue 1) of load or loadfile with the arguments
 * given, the mode (argument `mode`) made "t"; an env argument stays absent
 * when it was not given (an explicit nil env is not the same thing). */
static int call_text_only(lua_State *L, const char *fn, int mode) {
  int n = lua_gettop(L) > mode ? lua_gettop(L) : mode;
  lua_settop(L, n);
  const char *m = luaL_optstring(L, mode, "bt");
  if (strchr(m, 't') == NULL)
    return luaL_error(L, "%s: nnlua loads Lua source only (mode \"%s\" asks for binary chunks)", fn, m);
  lua_pushliteral(L, "t");
  lua_replace(L, mode);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* load(chunk [, chunkname [, mode [, env]]]) and loadfile([filename [, mode [, env]]]) */
static int g_load(lua_State *L) { return call_text_only(L, "load", 3); }
static int g_loadfile(lua_State *L) { return call_text_only(L, "loadfile", 2); }

static int dofile_cont(lua_State *L, int status, lua_KContext ctx) {
  (void)status; (void)ctx;
  return lua_gettop(L) - 1;
}

/* dofile([filename]) */
static int g_dofile(lua_State *L) {
  const char *fname = luaL_optstring(L, 1, NULL);
  lua_settop(L, 1);
  if (luaL_loadfilex(L, fname, "t") != LUA_OK) return lua_error(L);
  lua_callk(L, 0, LUA_MULTRET, 0, dofile_cont);
  return dofile_cont(L, 0, 0);
}

/* require's searcher of Lua files (package.searchers[2]), text only */
static int g_searcher_Lua(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getglobal(L, LUA_LOADLIBNAME);
  if (!lua_istable(L, -1)) return luaL_error(L, "'package' must be a table");
  lua_getfield(L, -1, "searchpath");
  lua_pushstring(L, name);
  lua_getfield(L, -3, "path");
  if (!lua_isstring(L, -1)) return luaL_error(L, "'package.path' must be a string");
  lua_call(L, 2, 2);                            /* filename | nil, message */
  if (lua_isnil(L, -2)) return 1;               /* the message of where it looked */
  lua_pop(L, 1);
  const char *filename = lua_tostring(L, -1);
  if (luaL_loadfilex(L, filename, "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, filename,
                      lua_tostring(L, -1));
  lua_pushvalue(L, -2);                         /* the filename, the loader's second argument */
  return 2;
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction f) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

static void text_only(lua_State *L) {
  wrap_global(L, "load", g_load);
  wrap_global(L, "loadfile", g_loadfile);
  lua_pushcfunction(L, g_dofile);
  lua_setglobal(L, "dofile");
  int top = lua_gettop(L);
  lua_getglobal(L, LUA_LOADLIBNAME);
  if (lua_istable(L, -1) && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
    lua_pushcfunction(L, g_searcher_Lua);
    lua_rawseti(L, -2, 2);
  }
  lua_settop(L, top);
}

void vm_guard(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"getlocal", g_getlocal}, {"setlocal", g_setlocal},
    {"setupvalue", g_setupvalue}, {"setmetatable", g_setmetatable},
    {NULL, NULL}
  };
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, LUA_DBLIBNAME) == LUA_TTABLE) luaL_setfuncs(L, funcs, 0);
  lua_pop(L, 2);
  text_only(L);
}
