/* path.c -- package.path: nnlua's stdlib folder, then the script's folder,
 * then what was there; and a warning for a student's file that nnlua's own
 * module shadows.
 *
 * The binary's own path comes from /proc/self/exe (symlinks resolved), so a
 * script finds the stdlib whatever the current directory is. Folders tried,
 * first existing one wins, with <bin> the binary's folder:
 *   <bin>/stdlib                  ./nnlua in a source tree
 *   <bin>/../stdlib               build/nnlua, build-asan/nnlua in a source tree
 *   <bin>/../share/nnlua/stdlib   an installed <prefix>/bin/nnlua
 *
 * The stdlib comes first so that a student's plot.lua never replaces nnlua's
 * plot. The script's folder comes next, before LUA_PATH and Lua's defaults
 * (which end with ./?.lua), as Python puts the script's folder first: then
 * `nnlua proj/main.lua` finds proj/helpers.lua from any current directory.
 * With -e, stdin or the REPL alone, the script's folder is the current one,
 * already in the defaults. package.cpath is left alone: a stray .so next to a
 * downloaded script would be native code run by a plain require, nnlua's
 * students write no C modules, and ./?.so is in the defaults for who does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "host.h"

static int isfile(const char *path, struct stat *st);

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

void vm_pushstdlib(lua_State *L) { pushstdlib(L); }

/* Appends template t (n bytes) to the array at index list unless the table
 * at list + 1 has seen it: a template once, at its first place. */
static void addtemplate(lua_State *L, int list, const char *t, size_t n) {
  if (n == 0) return;
  lua_pushlstring(L, t, n);
  if (lua_rawget(L, list + 1) == LUA_TNIL) {
    lua_pushlstring(L, t, n);
    lua_pushboolean(L, 1);
    lua_rawset(L, list + 1);
    lua_pushlstring(L, t, n);
    lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
  }
  lua_pop(L, 1);
}

/* Appends the templates of the ;-separated path p. */
static void addpath(lua_State *L, int list, const char *p) {
  for (;;) {
    const char *end = strchr(p, ';');
    addtemplate(L, list, p, end ? (size_t)(end - p) : strlen(p));
    if (end == NULL) return;
    p = end + 1;
  }
}

/* Appends <dir>/?.lua and <dir>/?/init.lua. A folder whose name holds ';' or
 * '?' cannot be written in a template and is left out. */
static void addfolder(lua_State *L, int list, const char *dir) {
  if (strpbrk(dir, ";?") != NULL) return;
  const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
  lua_pushfstring(L, "%s%s?.lua;%s%s?/init.lua", dir, sep, dir, sep);
  addpath(L, list, lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* Pushes the folder of the script as written: "proj/main.lua" -> "proj",
 * "main.lua" -> ".", "/main.lua" -> "/". */
static void pushscriptdir(lua_State *L, const char *script) {
  const char *slash = strrchr(script, '/');
  if (slash == NULL) lua_pushliteral(L, ".");
  else pushparent(L, script);
}

/* vm_setpath with the stdlib folder at index stdlib (a string, or nil). */
static void setpath(lua_State *L, int stdlib, const char *script) {
  int top = lua_gettop(L);
  lua_newtable(L);                     /* top+1: the templates in order */
  lua_newtable(L);                     /* top+2: the ones already in */
  if (!lua_isnil(L, stdlib)) addfolder(L, top + 1, lua_tostring(L, stdlib));
  if (script != NULL) {
    pushscriptdir(L, script);
    addfolder(L, top + 1, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_getglobal(L, "package");         /* top+3 */
  if (lua_getfield(L, top + 3, "path") == LUA_TSTRING) addpath(L, top + 1, lua_tostring(L, -1));
  lua_pop(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_Integer n = (lua_Integer)lua_rawlen(L, top + 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, top + 1, i);
    luaL_addvalue(&b);
    if (i < n) luaL_addchar(&b, ';');
  }
  luaL_pushresult(&b);
  lua_setfield(L, top + 3, "path");
  lua_settop(L, top);
}

void vm_setpath(lua_State *L, const char *script) {
  pushstdlib(L);
  setpath(L, lua_gettop(L), script);
  lua_pop(L, 1);
}

void vm_setpath_stdlib(lua_State *L, const char *stdlib, const char *script) {
  if (stdlib != NULL) lua_pushstring(L, stdlib);
  else lua_pushnil(L);
  setpath(L, lua_gettop(L), script);
  lua_pop(L, 1);
}

/* ---- the stdlib of a library ------------------------------------------ */

/* whether dir holds nnlua's stdlib (its error module is the mark) */
static int isstdlib(const char *dir) {
  char buf[4096];
  struct stat st;
  int n = snprintf(buf, sizeof buf, "%s/nnlua/errors.lua", dir);
  return n > 0 && (size_t)n < sizeof buf && isfile(buf, &st);
}

int vm_stdlib_near(const char *file, char *out, size_t size) {
  char dir[4096];
  char *real = realpath(file, NULL);
  if (real == NULL) return 0;
  int n = snprintf(dir, sizeof dir, "%s", real);
  free(real);
  if (n <= 0 || (size_t)n >= sizeof dir) return 0;
  for (int up = 0; up < 5; up++) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) return 0;
    *slash = '\0';                    /* the folder one level up */
    static const char *const under[] = {"share/nnlua/stdlib", "share/lua/5.4/nnlua/stdlib", "stdlib"};
    for (int k = 0; k < 3; k++) {
      n = snprintf(out, size, "%s/%s", dir, under[k]);
      if (n > 0 && (size_t)n < size && isstdlib(out)) return 1;
    }
  }
  return 0;
}

/* ---- files that nnlua's modules shadow ------------------------------- */

static int isfile(const char *path, struct stat *st) {
  return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

/* Lua's own libraries, which a student's file of the same name cannot
 * replace either; not nnlua's business. */
static int isluastd(const char *name) {
  static const char *const std[] = {"_G", "package", "coroutine", "table", "io", "os",
                                    "string", "math", "utf8", "debug", NULL};
  for (const char *const *p = std; *p; p++)
    if (strcmp(name, *p) == 0) return 1;
  return 0;
}

/* Sets set[name] = true for each top-level module of the stdlib folder dir
 * (X.lua, or X/init.lua) and each one in package.loaded that is not Lua's own
 * (the modules nnlua_openlibs opened, tensor among them). nn, optim, data,
 * ... are not in package.loaded before their first use (bindings/init.c),
 * but the stdlib folder names them, and require loads them from there
 * whatever package.path has become. */
static void collectnames(lua_State *L, int set, const char *dir) {
  DIR *d = dir != NULL ? opendir(dir) : NULL;
  struct dirent *e;
  struct stat st;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.') continue;
    if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0) {
      lua_pushlstring(L, e->d_name, n - 4);
    } else {
      const char *init = lua_pushfstring(L, "%s/%s/init.lua", dir, e->d_name);
      int ok = isfile(init, &st);
      lua_pop(L, 1);
      if (!ok) continue;
      lua_pushstring(L, e->d_name);
    }
    lua_pushboolean(L, 1);
    lua_rawset(L, set);
  }
  if (d != NULL) closedir(d);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) continue;
    const char *name = lua_tostring(L, -1);
    if (strchr(name, '.') != NULL || isluastd(name)) continue;
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, set);
  }
  lua_pop(L, 1);
}

/* Pushes the names of the set at index set as a sorted array. */
static void sortednames(lua_State *L, int set) {
  lua_newtable(L);
  int arr = lua_gettop(L);
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, set) != 0) {
    lua_pop(L, 1);
    lua_Integer j = ++n;               /* insertion sort: a dozen names */
    for (; j > 1; j--) {
      lua_rawgeti(L, arr, j - 1);
      int before = lua_compare(L, -2, -1, LUA_OPLT);
      if (!before) { lua_pop(L, 1); break; }
      lua_rawseti(L, arr, j);
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, arr, j);
  }
}

/* Pushes how to name nnlua's module: its file in the stdlib, or "built in". */
static void pushownfile(lua_State *L, const char *stdlib, const char *name) {
  struct stat st;
  if (stdlib != NULL) {
    if (isfile(lua_pushfstring(L, "%s/%s.lua", stdlib, name), &st)) return;
    lua_pop(L, 1);
    if (isfile(lua_pushfstring(L, "%s/%s/init.lua", stdlib, name), &st)) return;
    lua_pop(L, 1);
  }
  lua_pushliteral(L, "built in");
}

/* Warns once about the student's file path, named like nnlua's module name,
 * if it exists and was not warned about yet; what and to are what to rename
 * and a new name. seen (a table at that index) keys files by device and
 * inode, so proj/x.lua met again as x.lua counts once. */
static void warnfile(lua_State *L, int seen, const char *path, const char *name,
                     const char *stdlib, const char *what, const char *to) {
  struct stat st;
  if (!isfile(path, &st)) return;
  const char *key = lua_pushfstring(L, "%I:%I", (lua_Integer)st.st_dev, (lua_Integer)st.st_ino);
  int again = lua_getfield(L, seen, key) != LUA_TNIL;
  lua_pop(L, 1);
  if (again) { lua_pop(L, 1); return; }
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
  pushownfile(L, stdlib, name);
  fflush(stdout);
  fprintf(stderr, "%s: warning: require \"%s\" loads nnlua's own %s (%s), not %s; "
          "rename %s (to %s, say) to load yours\n",
          VM_PROGNAME, name, name, lua_tostring(L, -1), path, what, to);
  fflush(stderr);
  lua_pop(L, 1);
}

void vm_warnshadowed(lua_State *L, const char *script) {
  int top = lua_gettop(L);
  pushstdlib(L);                       /* top+1 */
  const char *stdlib = lua_tostring(L, top + 1);
  lua_newtable(L);                     /* top+2: the names */
  collectnames(L, top + 2, stdlib);
  sortednames(L, top + 2);             /* top+3 */
  lua_newtable(L);                     /* top+4: files warned about */
  if (script != NULL) pushscriptdir(L, script);
  else lua_pushliteral(L, ".");        /* top+5 */
  const char *dirs[2] = { lua_tostring(L, top + 5), "." };
  lua_Integer n = (lua_Integer)lua_rawlen(L, top + 3);
  for (int k = 0; k < 2; k++) {
    /* files in the current directory are named as require names them */
    const char *pre = strcmp(dirs[k], ".") == 0 ? "" : dirs[k];
    const char *sep = pre[0] == '\0' || strcmp(pre, "/") == 0 ? "" : "/";
    for (lua_Integer i = 1; i <= n; i++) {
      int base = lua_gettop(L);
      lua_rawgeti(L, top + 3, i);
      const char *name = lua_tostring(L, -1);
      const char *file = lua_pushfstring(L, "%s%s%s.lua", pre, sep, name);
      warnfile(L, top + 4, file, name, stdlib, file, lua_pushfstring(L, "my_%s.lua", name));
      const char *folder = lua_pushfstring(L, "%s%s%s", pre, sep, name);
      warnfile(L, top + 4, lua_pushfstring(L, "%s/init.lua", folder), name, stdlib,
               lua_pushfstring(L, "the folder %s", folder), lua_pushfstring(L, "my_%s", name));
      lua_settop(L, base);
    }
  }
  lua_settop(L, top);
}
