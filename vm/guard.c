/* guard.c -- the debug library without the four doors into C's memory.
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
 * validate (bindings/lnn.h, "Userdata lifetimes"). */
#include <lauxlib.h>
#include <lualib.h>
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

/* debug.setmetatable(value, mt) -> value */
static int g_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (lua_type(L, 1) == LUA_TUSERDATA || lua_type(L, 1) == LUA_TLIGHTUSERDATA)
    return luaL_error(L, "debug.setmetatable: the metatable of a userdata belongs to the C code "
                      "that made it");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
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
}
