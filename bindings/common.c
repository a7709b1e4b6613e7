/* common.c -- helpers shared by the bindings: context, userdata lifetimes, arguments. */
#include <limits.h>
#include <string.h>
#include "common.h"
#include "l_tensor.h"

#define CTX_KEY "nnlua.context"  /* the registry slot of the one context userdata */
#define METHODS_KEY "nnlua.methods"  /* registry: method (a C closure) -> "receiver:name" */
/* Growth of tensor storage since the last step that makes the collector take
 * one. A step with this much debt runs about a whole cycle over the Lua heap
 * (small: the big data lives in C), so stepping every 256 KB of allocation
 * cost a cycle per DataLoader batch, half of an epoch's time.
 * Growth, not allocation: what C frees by itself (autograd's temporaries and
 * tape after backward, a .grad dropped by zero_grad that no Lua value holds:
 * optim._C reads it) never waits for the collector, so it does not call for
 * a cycle either. In a training step that is two thirds of what is allocated,
 * so 1 MB of growth keeps as little garbage waiting as 4 MB of allocation
 * did (the reference experiment's peak RSS: 85.6-86.0 MB against 87-89; 2 MB
 * gave 90.5, 4 MB 93-99), with cheaper cycles (bench/README.md). A loop whose
 * every tensor is garbage takes a cycle per MB: 1 MB temporaries cost 20-25
 * us an iteration instead of about 20. */
#define GC_STEP_BYTES (1024 * 1024)

static const char ctx_mt[] = "nn.Context";

/* ---- userdata lifetimes (common.h) ---- */

void *lnn_newudata(lua_State *L, size_t size, const char *tname) {
  void *p = lua_newuserdatauv(L, size, 0);
  memset(p, 0, size);
  *(const char **)p = tname;
  if (luaL_getmetatable(L, tname) != LUA_TTABLE)
    luaL_error(L, "nnlua: the registry's metatable '%s' was replaced by a %s", tname,
               luaL_typename(L, -1));
  lua_setmetatable(L, -2);
  return p;
}

void *lnn_testudata(lua_State *L, int arg, const char *tname) {
  void *p = luaL_testudata(L, arg, tname);
  if (p == NULL || lua_rawlen(L, arg) < sizeof(const char *) || *(const char **)p != tname)
    return NULL;
  return p;
}

void *lnn_checkudata(lua_State *L, int arg, const char *tname) {
  void *p = lnn_testudata(L, arg, tname);
  if (!p) luaL_typeerror(L, arg, tname);
  return p;
}

int lnn_finalizing(lua_State *L) {
  lua_Debug ar;
  return lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.namewhat != NULL &&
         strcmp(ar.namewhat, "metamethod") == 0 && ar.name != NULL && strcmp(ar.name, "__gc") == 0;
}

/* Whether a C function's frame on this thread's stack (other than the
 * running one) holds the value at idx in one of its slots. */
static int held_by_c(lua_State *L, int idx) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "S", &ar) || ar.what[0] != 'C') continue;
    const char *name;
    for (int n = 1; lua_checkstack(L, 1) && (name = lua_getlocal(L, &ar, n)) != NULL; n++) {
      int same = lua_rawequal(L, -1, idx);
      lua_pop(L, 1);
      if (same) return 1;
    }
  }
  return 0;
}

int lnn_releasable(lua_State *L) {
  if (lnn_finalizing(L)) return 1;
  /* a coroutine cannot see the frames of the threads that resumed it */
  int main = lua_pushthread(L);
  lua_pop(L, 1);
  return main && !held_by_c(L, 1);
}

/* ---- the context ---- */

/* __gc: the context lives as long as the state; only the collector frees it */
static int ctx_gc(lua_State *L) {
  LContext *p = lnn_checkudata(L, 1, ctx_mt);
  if (!lnn_finalizing(L)) return luaL_error(L, "nnlua: the context is freed only when the state closes");
  nn_ctx_free(p->ctx);
  p->ctx = NULL;
  return 0;
}

void lnn_pushctx(lua_State *L) {
  int t = lua_getfield(L, LUA_REGISTRYINDEX, CTX_KEY);
  if (lnn_testudata(L, -1, ctx_mt) && ((LContext *)lua_touserdata(L, -1))->ctx) return;
  if (t != LUA_TNIL) luaL_error(L, "nnlua: the registry's '%s' was replaced by a %s", CTX_KEY, luaL_typename(L, -1));
  lua_pop(L, 1);
  if (luaL_newmetatable(L, ctx_mt)) {
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  LContext *p = lnn_newudata(L, sizeof *p, ctx_mt);
  if (!(p->ctx = nn_ctx_new())) luaL_error(L, "nnlua: out of memory creating the context");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, CTX_KEY);
}

void lnn_setfuncs(lua_State *L, const luaL_Reg *l) {
  lnn_pushctx(L);
  luaL_setfuncs(L, l, 1);
}

void lnn_setmethods(lua_State *L, const luaL_Reg *l, const char *receiver) {
  lnn_setfuncs(L, l);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, METHODS_KEY);
  for (; l->name; l++) {
    lua_getfield(L, -2, l->name);                 /* the closure just made */
    lua_pushfstring(L, "%s:%s", receiver, l->name);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
}

/* what luaL_typeerror calls the value at arg: its __name, or its type */
static const char *typename_at(lua_State *L, int arg) {
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING) return lua_tostring(L, -1);
  return lua_type(L, arg) == LUA_TLIGHTUSERDATA ? "light userdata" : luaL_typename(L, arg);
}

/* Argument arg is not a tname. Only here, on the way to an error, is the
 * running function looked up. A method called with '.' gets whatever came
 * first as self: argument 1 (x.sum(), x.view(2, 3)) says how to call it, in
 * the wording of stdlib/nnlua/class.lua so that C and Lua methods read alike;
 * a later argument of a method reached through a field (x.matmul(y) makes y
 * self and leaves no argument 2) adds the same advice to the usual message.
 * The one type it knows by name is the tensor, the self most often passed. */
int lnn_typeerror(lua_State *L, int arg, const char *tname) {
  lua_Debug ar;
  int top = lua_gettop(L);                  /* arguments past it are none: push nothing before */
  const char *got = typename_at(L, arg);    /* a __name is kept alive by its metatable */
  const char *self = lua_isnoneornil(L, 1) ? "nothing"
                     : lnn_testtensor(L, 1) ? "a tensor"
                     : lua_pushfstring(L, "a %s", luaL_typename(L, 1));
  if (lua_getstack(L, 0, &ar)) {
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_getinfo(L, "nf", &ar);                                   /* the running function */
    const char *rn, *colon;
    if (lua_istable(L, -2) && lua_rawget(L, -2) == LUA_TSTRING &&      /* the registry entry */
        (colon = strchr(rn = lua_tostring(L, -1), ':')) != NULL) {     /* may have been changed */
      const char *name = colon + 1;
      const char *r = lua_pushlstring(L, rn, (size_t)(name - 1 - rn));
      if (arg == 1)
        return luaL_error(L, "%s: call it as %s(...) with a colon; %s.%s(...) passes %s as self, "
                          "not the %s", name, rn, r, name, self, r);
      if (ar.namewhat && strcmp(ar.namewhat, "field") == 0)
        return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s; with '.' the first "
                                                     "argument is self: call it as %s(...)",
                                                     tname, got, rn));
    }
  }
  lua_settop(L, top);
  return luaL_typeerror(L, arg, tname);
}

void *lnn_checkself(lua_State *L, const char *tname) {
  void *p = lnn_testudata(L, 1, tname);
  if (!p) lnn_typeerror(L, 1, tname);
  return p;
}

int lnn_error(lua_State *L) {
  return luaL_error(L, "%s", getctx(L)->err);
}

void lnn_gcaccount(lua_State *L, nn_ctx *ctx) {
  size_t live = nn_storage_live_bytes();
  if (live < ctx->gc_live_base) ctx->gc_live_base = live;      /* C freed some itself */
  size_t grown = live - ctx->gc_live_base;
  if (grown < GC_STEP_BYTES) return;
  size_t kb = grown / 1024;
  lua_gc(L, LUA_GCSTEP, kb > INT_MAX / 2 ? INT_MAX / 2 : (int)kb);
  ctx->gc_live_base = nn_storage_live_bytes();
}

int64_t lnn_checksize(lua_State *L, int arg) {
  lua_Integer n = luaL_checkinteger(L, arg);
  if (n < 0) luaL_argerror(L, arg, lua_pushfstring(L, "size must be >= 0, got %I", n));
  return n;
}

void lnn_checklist(lua_State *L, int idx, int arg, lua_Integer n, const char *what) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 3, NULL);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int isint;
    lua_Integer k = lua_tointegerx(L, -2, &isint);
    if (!isint || lua_type(L, -2) != LUA_TNUMBER || k < 1 || k > n) {
      lua_pushvalue(L, -2);
      const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, -1))
                                                       : luaL_tolstring(L, -1, NULL);
      luaL_argerror(L, arg, lua_pushfstring(L, "%s is not a list: it has key %s but length "
                                            "%I (holes are not allowed)", what, key, n));
    }
    lua_pop(L, 1);
  }
}

float lnn_checkfloat(lua_State *L, int arg) {
  if (lua_isboolean(L, arg)) return lua_toboolean(L, arg) ? 1.0f : 0.0f;
  int isnum;
  lua_Number v = lua_tonumberx(L, arg, &isnum);
  if (!isnum) lnn_typeerror(L, arg, "number");
  return (float)v;
}

void lnn_checkopts(lua_State *L, int arg, const char *fn, const char *const *keys) {
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, arg)) {
    int known = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (const char *const *k = keys; *k && !known; k++) known = strcmp(*k, lua_tostring(L, -2)) == 0;
    if (!known) {
      lua_pushvalue(L, -2);
      luaL_error(L, "%s: unknown option '%s'", fn, luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
  }
}

/* A path: a non-empty string (not a number, so that a stray number never
 * names a file) without NUL bytes (C would see a shorter name). */
const char *lnn_checkpath(lua_State *L, int arg) {
  size_t len;
  luaL_checktype(L, arg, LUA_TSTRING);
  const char *p = lua_tolstring(L, arg, &len);
  if (p[0] == '\0' && len == 0) luaL_argerror(L, arg, "empty path");
  if (strlen(p) != len) {                         /* shown with the NULs as \0 */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "path '");
    for (size_t i = 0; i < len; i++)
      if (p[i]) luaL_addchar(&b, p[i]); else luaL_addstring(&b, "\\0");
    lua_pushfstring(L, "' holds a NUL byte at byte %d (C would see '%s')", (int)strlen(p) + 1, p);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  return p;
}
