/* path.c -- finding the stdlib folder from where the binary is.
 *
 * The binary's own path comes from /proc/self/exe (symlinks resolved), so a
 * script finds the stdlib whatever the current directory is. Folders tried,
 * first existing one wins, with <bin> the binary's folder:
 *   <bin>/stdlib                  ./nnlua in a source tree
 *   <bin>/../stdlib               build/nnlua, build-asan/nnlua in a source tree
 *   <bin>/../share/nnlua/stdlib   an installed <prefix>/bin/nnlua
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "host.h"

static int isdir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Pushes the folder holding the running binary, or nil if unknown. The
 * malloc'd realpath is copied into Lua at once, so nothing leaks if a later
 * push raises a memory error. */
static void pushbindir(lua_State *L) {
  char *exe = realpath("/proc/self/exe", NULL);
  const char *slash = exe ? strrchr(exe, '/') : NULL;
  if (slash == NULL) {
    lua_pushnil(L);
  } else {
    size_t n = (size_t)(slash - exe);
    lua_pushlstring(L, exe, n > 0 ? n : 1);    /* "/nnlua" lives in "/" */
  }
  free(exe);
}

/* Pushes the parent of folder dir ("/a/b" -> "/a", "/a" -> "/"). */
static void pushparent(lua_State *L, const char *dir) {
  const char *slash = strrchr(dir, '/');
  size_t n = slash ? (size_t)(slash - dir) : 0;
  lua_pushlstring(L, dir, n > 0 ? n : 1);
}

/* Pushes the stdlib folder, or nil when none of the candidates exists. */
static void pushstdlib(lua_State *L) {
  int top = lua_gettop(L);
  pushbindir(L);
  if (!lua_isnil(L, -1)) {
    const char *bin = lua_tostring(L, -1);
    pushparent(L, bin);
    const char *up = lua_tostring(L, -1);
    const char *cand[3];
    cand[0] = lua_pushfstring(L, "%s/stdlib", bin);
    cand[1] = lua_pushfstring(L, "%s/stdlib", up);
    cand[2] = lua_pushfstring(L, "%s/share/nnlua/stdlib", up);
    for (int i = 0; i < 3; i++) {
      if (!isdir(cand[i])) continue;
      lua_pushvalue(L, top + 3 + i);
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      return;
    }
  }
  lua_settop(L, top);
  lua_pushnil(L);
}

void vm_setpath(lua_State *L) {
  pushstdlib(L);
  const char *dir = lua_tostring(L, -1);
  if (dir == NULL) { lua_pop(L, 1); return; }
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  lua_setfield(L, -3, "path");
  lua_pop(L, 3);
}
