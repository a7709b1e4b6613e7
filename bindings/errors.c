/* errors.c -- the one error boundary: a message handler that runs before the
 * stack unwinds and makes an error read as the user's own.
 *
 *   1. A message located in one of nnlua's own stdlib files ("…/stdlib/nn/
 *      Linear.lua:31: ") gets the location of the first frame of the user's
 *      code above it instead: the line of the script that made the call.
 *   2. Frames of stdlib code that hold a string local named _where (a
 *      container saying which child it was running) add it after the
 *      location: "main.lua:12: Sequential: child 3 (Linear): Linear(...): ...".
 *   3. The traceback lists the user's frames only (NNLUA_TRACEBACK=full
 *      lists every frame, for work on nnlua itself).
 *
 * Which files are nnlua's own is known from the stdlib folder's chunk-name
 * prefix ("@/path/stdlib/"), which nnlua.errors registers when it loads
 * (errors.set_stdlib). The host uses nnlua_msghandler for every call it makes;
 * so can an embedding program or a script loaded from stock Lua. */
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "bindings.h"

#define STDLIB_KEY "nnlua.stdlib"       /* registry: the stdlib chunk-name prefix */
#define MAXLEVELS 100000                 /* how far up the stack a search goes */

/* whether the function at level (described by ar, "S" filled) is nnlua's own Lua code */
static int internal(lua_State *L, const lua_Debug *ar) {
  if (ar->what[0] == 'C') return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, STDLIB_KEY);
  size_t n;
  const char *prefix = lua_tolstring(L, -1, &n);
  int in = prefix != NULL && n > 0 && strncmp(ar->source, prefix, n) == 0;
  lua_pop(L, 1);
  return in;
}

/* The level whose "short_src:line:" starts msg, or 0 if none does. */
static int located_at(lua_State *L, const char *msg) {
  lua_Debug ar;
  for (int level = 1; level < MAXLEVELS && lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    size_t n = strlen(ar.short_src);
    if (strncmp(msg, ar.short_src, n) != 0 || msg[n] != ':') continue;
    char *end;
    long line = strtol(msg + n + 1, &end, 10);
    if (end != msg + n + 1 && line == ar.currentline && end[0] == ':') return level;
  }
  return 0;
}

/* The first level above `from` that runs the user's Lua code, or 0. */
static int user_level(lua_State *L, int from) {
  lua_Debug ar;
  for (int level = from; level < MAXLEVELS && lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "Sl", &ar) && ar.what[0] != 'C' && ar.currentline > 0 && !internal(L, &ar))
      return level;
  }
  return 0;
}

/* Pushes the _where strings of stdlib frames from the outermost in, each
 * followed by ": ", as one string (maybe empty). */
static void push_context(lua_State *L) {
  luaL_Buffer b;
  int top = 0;
  lua_Debug ar;
  while (top < MAXLEVELS && lua_getstack(L, top + 1, &ar)) top++;
  luaL_buffinit(L, &b);
  for (int level = top; level >= 1; level--) {
    if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "S", &ar) || !internal(L, &ar)) continue;
    const char *name;
    for (int i = 1; (name = lua_getlocal(L, &ar, i)) != NULL; i++) {
      if (strcmp(name, "_where") == 0 && lua_type(L, -1) == LUA_TSTRING) {
        luaL_addvalue(&b);                           /* pops the value */
        luaL_addstring(&b, ": ");
      } else {
        lua_pop(L, 1);
      }
    }
  }
  luaL_pushresult(&b);
}

/* Replaces the string message at index 1 by the rewritten one. */
static void rewrite(lua_State *L) {
  const char *msg = lua_tostring(L, 1), *rest = msg;
  int at = located_at(L, msg);
  if (at > 0) {
    lua_Debug ar;
    lua_getstack(L, at, &ar);
    lua_getinfo(L, "Sl", &ar);
    rest = strchr(msg + strlen(ar.short_src) + 1, ':') + 1;      /* after "src:line:" */
    if (rest[0] == ' ') rest++;
    int user = internal(L, &ar) ? user_level(L, at + 1) : 0;
    if (user > 0) {
      lua_getstack(L, user, &ar);
      lua_getinfo(L, "Sl", &ar);
    }
    lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
  } else {
    lua_pushliteral(L, "");
  }
  push_context(L);
  const char *ctx = lua_tostring(L, -1);
  if (ctx[0] != '\0' && strstr(rest, ctx) != NULL) {      /* added already (caught, raised again) */
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
  lua_pushstring(L, rest);
  lua_concat(L, 3);
  lua_replace(L, 1);
}

/* Turns the error object at 1 into a string when it has a __tostring; returns
 * whether 1 is now a string. */
static int tostring_error(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) return 1;
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
    lua_replace(L, 1);
    return 1;
  }
  return 0;
}

int nnlua_errmessage(lua_State *L) {
  lua_settop(L, 1);
  if (tostring_error(L)) rewrite(L);
  return 1;
}

/* how a traceback line names the function of ar ("nSl" filled) */
static void push_funcname(lua_State *L, const lua_Debug *ar) {
  if (ar->namewhat[0] != '\0') lua_pushfstring(L, "%s '%s'", ar->namewhat, ar->name);
  else if (ar->what[0] == 'm') lua_pushliteral(L, "main chunk");
  else if (ar->what[0] != 'C') lua_pushfstring(L, "function <%s:%d>", ar->short_src, ar->linedefined);
  else lua_pushliteral(L, "?");
}

#define TB_HEAD 10                       /* frames shown before and after a skipped middle */
#define TB_TAIL 11

/* Appends to the buffer the user's frames from level 1 up. */
static void user_traceback(lua_State *L, luaL_Buffer *b) {
  lua_Debug ar;
  int total = 0, shown = 0;
  for (int level = 1; level < MAXLEVELS && lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "S", &ar) && ar.what[0] != 'C' && !internal(L, &ar)) total++;
  luaL_addstring(b, "\nstack traceback:");
  int tail = 0;                           /* a skipped frame was called by a tail call */
  for (int level = 1; level < MAXLEVELS && lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "nSlt", &ar)) continue;
    if (ar.what[0] == 'C' || internal(L, &ar)) {
      tail |= ar.istailcall;
      continue;
    }
    if (tail) luaL_addstring(b, "\n\t(...tail calls...)");
    tail = ar.istailcall;
    shown++;
    if (shown == TB_HEAD + 1 && total > TB_HEAD + TB_TAIL) {
      lua_pushfstring(L, "\n\t...\t(skipping %d levels)", total - TB_HEAD - TB_TAIL);
      luaL_addvalue(b);
    }
    if (shown > TB_HEAD && shown <= total - TB_TAIL) continue;
    lua_pushfstring(L, "\n\t%s:", ar.short_src);
    luaL_addvalue(b);
    if (ar.currentline > 0) {
      lua_pushfstring(L, "%d:", ar.currentline);
      luaL_addvalue(b);
    }
    luaL_addstring(b, " in ");
    push_funcname(L, &ar);
    luaL_addvalue(b);
  }
}

int nnlua_msghandler(lua_State *L) {
  lua_settop(L, 1);
  if (!tostring_error(L)) {
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_replace(L, 1);
  }
  rewrite(L);
  const char *full = getenv("NNLUA_TRACEBACK");
  if ((full != NULL && strcmp(full, "full") == 0) || user_level(L, 1) == 0) {
    luaL_traceback(L, L, lua_tostring(L, 1), 1);   /* every frame: asked for, or none is the user's */
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushvalue(L, 1);
  luaL_addvalue(&b);
  user_traceback(L, &b);
  luaL_pushresult(&b);
  return 1;
}

/* set_stdlib(prefix): the chunk-name prefix of nnlua's own Lua files */
static int e_set_stdlib(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, STDLIB_KEY);
  return 0;
}

static const luaL_Reg funcs[] = {
  {"message", nnlua_errmessage},
  {"handler", nnlua_msghandler},
  {"set_stdlib", e_set_stdlib},
  {NULL, NULL}
};

int luaopen_nnlua__C(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
