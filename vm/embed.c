/* embed.c -- the embedding API of include/nnlua.h (libnnlua) and the
 * stock-Lua module nnlua.so (luaopen_nnlua).
 *
 * A library has no binary of its own to find the stdlib from, so it looks
 * next to its own file (dladdr): <prefix>/lib/libnnlua.so.0 finds
 * <prefix>/share/nnlua/stdlib, <prefix>/lib/lua/5.4/nnlua.so too, and a
 * library built in a source tree finds that tree's stdlib (vm_stdlib_near).
 * A program linked with libnnlua.a is its own file: <bin>/../share/nnlua/stdlib
 * is tried, then the absolute folder in NNLUA_STDLIB. Never the current
 * directory.
 *
 * Errors: every call runs under nnlua_msghandler (bindings/errors.c), the
 * message handler of the nnlua program, and the string it makes is kept in
 * the registry for nnlua_errmsg. */
#define _GNU_SOURCE                     /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "include/nnlua.h"
#include "bindings/bindings.h"
#include "bindings/l_tensor.h"
#include "nn/threads.h"
#include "host.h"

#define ERR_KEY "nnlua.errmsg"          /* registry: the last failure's message */

/* ---- the stdlib folder ------------------------------------------------- */

static char stdlib_dir[PATH_MAX];
static int stdlib_state;                /* 0 not looked for yet, 1 found, -1 none */

const char *nnlua_stdlib(void) {
  if (stdlib_state == 0) {              /* racing first calls write the same bytes */
    Dl_info info;
    int found = 0;
    if (dladdr((void *)nnlua_stdlib, &info) && info.dli_fname != NULL)
      found = vm_stdlib_near(info.dli_fname, stdlib_dir, sizeof stdlib_dir);
    if (!found) found = vm_stdlib_near("/proc/self/exe", stdlib_dir, sizeof stdlib_dir);
    const char *env = getenv("NNLUA_STDLIB");   /* a program linked statically, elsewhere */
    char mark[PATH_MAX];
    if (!found && env != NULL && env[0] == '/' &&
        snprintf(mark, sizeof mark, "%s/nnlua/errors.lua", env) < (int)sizeof mark &&
        access(mark, R_OK) == 0 && strlen(env) < sizeof stdlib_dir) {
      strcpy(stdlib_dir, env);
      found = 1;
    }
    stdlib_state = found ? 1 : -1;
  }
  return stdlib_state == 1 ? stdlib_dir : NULL;
}

/* ---- errors --------------------------------------------------------------- */

/* Keeps the string on top (or a note for a non-string) as the last error and pops it. */
static int fail(lua_State *L) {
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "(error object is not a string)");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, ERR_KEY);
  return -1;
}

static int failmsg(lua_State *L, const char *msg) {
  lua_pushstring(L, msg);
  return fail(L);
}

const char *nnlua_errmsg(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, ERR_KEY);
  const char *s = lua_tostring(L, -1);  /* the registry keeps the string alive */
  lua_pop(L, 1);
  return s != NULL ? s : "";
}

int nnlua_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;     /* the function */
  lua_pushcfunction(L, nnlua_msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status == LUA_OK ? 0 : fail(L);
}

/* ---- states ----------------------------------------------------------------- */

static int open_all(lua_State *L) {
  vm_guard(L);
  vm_setpath_stdlib(L, nnlua_stdlib(), NULL);
  nnlua_openlibs(L);
  return 0;
}

int nnlua_open(lua_State *L) {
  if (nnlua_stdlib() == NULL)
    return failmsg(L, "nnlua: cannot find nnlua's stdlib folder (share/nnlua/stdlib "
                      "next to the library)");
  lua_pushcfunction(L, open_all);
  return nnlua_pcall(L, 0, 0);
}

lua_State *nnlua_newstate(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return NULL;
  luaL_openlibs(L);
  if (nnlua_open(L) != 0) {
    lua_close(L);
    return NULL;
  }
  return L;
}

const char *nnlua_version(void) {
  static char line[256];
  if (line[0] == '\0') {
    lua_State *L = luaL_newstate();
    if (L == NULL) return "nnlua " NNLUA_VERSION_STRING;
    snprintf(line, sizeof line, "%s", vm_pushversion(L));
    lua_close(L);
  }
  return line;
}

/* ---- running code -------------------------------------------------------- */

int nnlua_dofile(lua_State *L, const char *path) {
  if (luaL_loadfilex(L, path, "t") != LUA_OK) return fail(L);
  if (path != NULL) {                   /* its folder on package.path, as nnlua does */
    vm_setpath_stdlib(L, nnlua_stdlib(), path);
  }
  return nnlua_pcall(L, 0, 0);
}

int nnlua_dostring(lua_State *L, const char *code, const char *name) {
  if (code == NULL) return failmsg(L, "nnlua_dostring: code is NULL");
  if (luaL_loadbufferx(L, code, strlen(code), name ? name : "=(embed)", "t") != LUA_OK)
    return fail(L);
  return nnlua_pcall(L, 0, 0);
}

/* ---- tensors ------------------------------------------------------------- */

/* (lightuserdata data, ndim, sizes...) -> a new tensor holding a copy */
static int pushtensor(lua_State *L) {
  const float *data = lua_touserdata(L, 1);
  int ndim = (int)lua_tointeger(L, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "tensor") != LUA_TTABLE)
    return luaL_error(L, "nnlua_pushtensor: the tensor module is not open (nnlua_open)");
  lua_getfield(L, -1, "empty");
  lua_createtable(L, ndim, 0);
  for (int i = 1; i <= ndim; i++) {
    lua_pushvalue(L, 2 + i);
    lua_rawseti(L, -2, i);
  }
  lua_call(L, 1, 1);                    /* tensor.empty{sizes}: checks them */
  nn_tensor *t = lnn_checktensor(L, -1);
  int64_t n = nn_tensor_numel(t);
  if (n > 0) memcpy(nn_tensor_data(t), data, (size_t)n * sizeof(float));
  return 1;
}

int nnlua_pushtensor(lua_State *L, const float *data, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > NNLUA_MAXDIM) {
    lua_pushfstring(L, "nnlua_pushtensor: ndim must be in 0..%d (got %d)", NNLUA_MAXDIM, ndim);
    return fail(L);
  }
  if (ndim > 0 && shape == NULL) return failmsg(L, "nnlua_pushtensor: shape is NULL");
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      lua_pushfstring(L, "nnlua_pushtensor: size %d is negative (%I)", i + 1, (lua_Integer)shape[i]);
      return fail(L);
    }
    if (shape[i] == 0 || n > INT64_MAX / shape[i]) n = 0;
    else n *= shape[i];
  }
  if (data == NULL && n > 0) return failmsg(L, "nnlua_pushtensor: data is NULL");
  if (!lua_checkstack(L, ndim + 8)) return failmsg(L, "nnlua_pushtensor: stack overflow");
  lua_pushcfunction(L, pushtensor);
  lua_pushlightuserdata(L, (void *)data);
  lua_pushinteger(L, ndim);
  for (int i = 0; i < ndim; i++) lua_pushinteger(L, (lua_Integer)shape[i]);
  return nnlua_pcall(L, 2 + ndim, 1);
}

int nnlua_istensor(lua_State *L, int idx) {
  return lnn_totensor(L, idx) != NULL;
}

const float *nnlua_totensor(lua_State *L, int idx, int *ndim, int64_t *shape) {
  nn_tensor *t = lnn_totensor(L, idx);
  if (t == NULL || !nn_tensor_is_contiguous(t)) return NULL;
  if (ndim != NULL) *ndim = t->ndim;
  if (shape != NULL)
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
  return nn_tensor_data(t);
}

int nnlua_copytensor(lua_State *L, int idx, float *out, size_t n) {
  nn_tensor *t = lnn_totensor(L, idx);
  if (t == NULL) {
    lua_pushfstring(L, "nnlua_copytensor: a tensor expected at index %d, got %s", idx,
                    luaL_typename(L, idx));
    return fail(L);
  }
  int64_t numel = nn_tensor_numel(t);
  if ((uint64_t)numel != (uint64_t)n) {
    lua_pushfstring(L, "nnlua_copytensor: the tensor has %I elements, the buffer %I",
                    (lua_Integer)numel, (lua_Integer)n);
    return fail(L);
  }
  if (n == 0) return 0;
  if (out == NULL) return failmsg(L, "nnlua_copytensor: out is NULL");
  if (nn_tensor_is_contiguous(t)) {
    memcpy(out, nn_tensor_data(t), n * sizeof(float));
    return 0;
  }
  int64_t ix[NN_MAXDIM] = {0};          /* walk the indices in row-major order */
  for (size_t k = 0; k < n; k++) {
    out[k] = nn_tensor_get(t, ix);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++ix[d] < t->shape[d]) break;
      ix[d] = 0;
    }
  }
  return 0;
}

/* ---- threads ------------------------------------------------------------- */

void nnlua_set_num_threads(int n) {
  if (n <= 0) nn_threads_auto();
  else nn_set_num_threads(n > 1024 ? 1024 : n);
}

int nnlua_get_num_threads(void) {
  return nn_get_num_threads();
}

/* ---- require "nnlua" from stock Lua --------------------------------------- */

/* lua.c (the lua5.4 program) runs a script, -e code and -l modules with
 * lua_pcall under its own message handler, a C function it inserts just
 * below the function it calls, in the frame of its pmain. The message is the
 * one nnlua prints only if nnlua's handler runs before the stack unwinds, so
 * when the program is lua (the name of /proc/self/exe starts with "lua") and
 * the outermost frame is a C function holding that layout (a C function, then
 * the function running at the level above it), the C function is replaced by
 * nnlua_msghandler. Any other host's handler is left alone. */
static void adopt_handler(lua_State *L) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char *base = strrchr(exe, '/');
  base = base ? base + 1 : exe;
  if (strncmp(base, "lua", 3) != 0) return;
  lua_Debug ar, below;
  int top = 0;
  while (lua_getstack(L, top + 1, &ar)) top++;
  if (top < 1 || !lua_getstack(L, top, &ar) || !lua_getinfo(L, "S", &ar) || ar.what[0] != 'C') return;
  if (!lua_getstack(L, top - 1, &below) || !lua_getinfo(L, "f", &below)) return;
  int called = lua_gettop(L);           /* the function pmain called */
  for (int i = 1;; i++) {
    if (lua_getlocal(L, &ar, i) == NULL) break;
    if (lua_getlocal(L, &ar, i + 1) == NULL) { lua_pop(L, 1); break; }
    int match = lua_iscfunction(L, -2) && lua_rawequal(L, -1, called) &&
                lua_tocfunction(L, -2) != nnlua_msghandler;
    lua_pop(L, 2);
    if (match) {
      lua_pushcfunction(L, nnlua_msghandler);
      lua_setlocal(L, &ar, i);          /* pops it */
      break;
    }
  }
  lua_pop(L, 1);
}

int luaopen_nnlua(lua_State *L) {
  const char *stdlib = nnlua_stdlib();
  if (stdlib == NULL)
    return luaL_error(L, "nnlua: cannot find nnlua's stdlib folder (share/nnlua/stdlib "
                         "next to the module)");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int opened = lua_getfield(L, -1, "tensor") != LUA_TNIL;    /* required twice under two names */
  lua_pop(L, 2);
  if (!opened) {
    vm_guard(L);
    vm_setpath_stdlib(L, stdlib, NULL);
    nnlua_openlibs(L);
    adopt_handler(L);
  }
  return nnlua_modules(L);
}
