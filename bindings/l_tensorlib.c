/* l_tensorlib.c -- the `tensor` module: constructors, random numbers,
 * cat/stack, no_grad, threads. Opened by luaopen_nn_tensor. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "bindings.h"
#include "l_save.h"
#include "nn/autograd.h"
#include "l_tensor.h"
#include "l_generator.h"
#include "nn/ops.h"
#include "nn/rng.h"

/* ---- tensor.new{...} from nested tables ---- */

/* #t of a nested table, as a size: 0..INT_MAX (a __len may return anything;
 * a Lua table holds fewer than 2^32 items, and one of more than INT_MAX
 * numbers would take over 32 GB) */
static int64_t nested_len(lua_State *L, const char *path) {
  lua_Integer n = luaL_len(L, -1);
  if (n < 0 || n > INT_MAX)
    luaL_error(L, "tensor.new: the table at %s has length %I (expected 0..%d)",
               path[0] ? path : "the top", n, INT_MAX);
  return n;
}

/* The shape, from the lengths of the first table at each depth. */
static int nested_shape(lua_State *L, int64_t *shape) {
  int nd = 0;
  char path[8 * 4 + 1] = "";
  lua_pushvalue(L, 1);
  while (lua_istable(L, -1) && !lnn_totensor(L, -1)) {
    if (nd == NN_MAXDIM) luaL_argerror(L, 1, "nested more than 8 deep");
    shape[nd++] = nested_len(L, path);
    if (shape[nd - 1] == 0) break;
    strcat(path, "[1]");
    lua_geti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return nd;
}

/* Copies the numbers of the table on top (at depth d, named path) to *p, checking
 * that every table at depth d is a list (no holes, no other keys) of shape[d] items. */
static void fill_nested(lua_State *L, int d, int nd, const int64_t *shape, float **p, char *path) {
  size_t plen = strlen(path);
  if (d == nd) {
    int isnum;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    if (lua_isboolean(L, -1)) v = lua_toboolean(L, -1), isnum = 1;
    if (!isnum)
      luaL_error(L, "tensor.new: element %s is a %s, expected a number", path, luaL_typename(L, -1));
    *(*p)++ = (float)v;
    return;
  }
  const char *where = plen ? path : "the top";
  if (!lua_istable(L, -1) || lnn_totensor(L, -1))
    luaL_error(L, "tensor.new: ragged nested table at %s: expected a table of %I elements, "
               "got a %s", where, (lua_Integer)shape[d], luaL_typename(L, -1));
  int64_t n = nested_len(L, path);
  if (n != shape[d])
    luaL_error(L, "tensor.new: ragged nested table at %s: expected a table of %I elements, "
               "got one of %I", where, (lua_Integer)shape[d], (lua_Integer)n);
  lua_pushfstring(L, "the table at %s", where);
  lnn_checklist(L, -2, 1, n, lua_tostring(L, -1));
  lua_pop(L, 1);
  luaL_checkstack(L, 4, "tensor.new: nested too deep");
  for (int64_t i = 0; i < shape[d]; i++) {
    lua_geti(L, -1, i + 1);
    if (plen < 200) snprintf(path + plen, 256 - plen, "[%lld]", (long long)i + 1);
    fill_nested(L, d + 1, nd, shape, p, path);
    path[plen] = '\0';
    lua_pop(L, 1);
  }
}

static int l_new(lua_State *L) {
  nn_ctx *ctx = getctx(L);
  nn_tensor *src = lnn_totensor(L, 1);
  if (src) {
    LTensor *u = lnn_newtensor(L);
    return lnn_finish(L, u, nn_tensor_clone(ctx, src));
  }
  if (lua_isnumber(L, 1) || lua_isboolean(L, 1)) {
    LTensor *u = lnn_newtensor(L);
    return lnn_finish(L, u, nn_tensor_full(ctx, 0, NULL, lnn_checkfloat(L, 1)));
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  int64_t shape[NN_MAXDIM];
  int nd = nested_shape(L, shape);
  if (nn_shape_check(ctx, "tensor.new", nd, shape, NULL, NULL)) return lnn_error(L);
  LTensor *u = lnn_newtensor(L);
  lnn_finish(L, u, nn_tensor_empty(ctx, nd, shape));
  float *p = nn_tensor_data(u->t);
  char path[256] = "";
  lua_pushvalue(L, 1);
  fill_nested(L, 0, nd, shape, &p, path);
  lua_pop(L, 1);
  return 1;
}

/* ---- filled constructors: f(2, 3), f{2, 3}, each with an optional trailing generator ---- */

static int lastsize(lua_State *L) {
  int top = lua_gettop(L);
  return top > 0 && luaL_testudata(L, top, GENERATOR_MT) ? top - 1 : top;
}

/* the shape at arg..last (or a table at arg), checked as a whole for fn */
static int checkshape(lua_State *L, const char *fn, int arg, int last, int64_t *shape) {
  int nd = lnn_checkshape(L, arg, last, shape, 0);
  if (nn_shape_check(getctx(L), fn, nd, shape, NULL, NULL)) lnn_error(L);
  return nd;
}

static int filled(lua_State *L, const char *fn, float v) {
  int64_t shape[NN_MAXDIM];
  int nd = checkshape(L, fn, 1, lua_gettop(L), shape);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_full(getctx(L), nd, shape, v));
}

static int l_zeros(lua_State *L) { return filled(L, "zeros", 0.0f); }
static int l_ones(lua_State *L) { return filled(L, "ones", 1.0f); }

static int l_empty(lua_State *L) {
  int64_t shape[NN_MAXDIM];
  int nd = checkshape(L, "empty", 1, lua_gettop(L), shape);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_empty(getctx(L), nd, shape));
}

static int l_full(lua_State *L) {
  int64_t shape[NN_MAXDIM];
  luaL_checktype(L, 1, LUA_TTABLE);
  int nd = checkshape(L, "full", 1, 1, shape);
  float v = lnn_checkfloat(L, 2);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_full(getctx(L), nd, shape, v));
}

static int l_eye(lua_State *L) {
  int64_t n = lnn_checksize(L, 1), m = lua_isnoneornil(L, 2) ? n : lnn_checksize(L, 2);
  if (nn_shape_check(getctx(L), "eye", 2, (int64_t[]){n, m}, NULL, NULL)) return lnn_error(L);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_eye(getctx(L), n, m));
}

/* arange(n) -> 1..n; arange(a, b [, step]) -> a, a+step, ... < b */
static int l_arange(lua_State *L) {
  double start = 1, stop, step = 1;
  if (lua_isnoneornil(L, 2)) stop = luaL_checknumber(L, 1) + 1;
  else {
    start = luaL_checknumber(L, 1);
    stop = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1);
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_arange(getctx(L), start, stop, step));
}

static int l_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_linspace(getctx(L), a, b, n));
}

static int random_tensor(lua_State *L, int normal) {
  int64_t shape[NN_MAXDIM];
  int last = lastsize(L);
  int nd = checkshape(L, normal ? "randn" : "rand", 1, last, shape);
  nn_rng *r = lnn_optgenerator(L, last + 1);
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  return lnn_finish(L, u, normal ? nn_tensor_randn(ctx, r, nd, shape) : nn_tensor_rand(ctx, r, nd, shape));
}

static int l_rand(lua_State *L) { return random_tensor(L, 0); }
static int l_randn(lua_State *L) { return random_tensor(L, 1); }

static int l_randperm(lua_State *L) {
  int64_t n = lnn_checksize(L, 1);
  nn_rng *r = lnn_optgenerator(L, 2);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_tensor_randperm(getctx(L), r, n));
}

static int l_manual_seed(lua_State *L) {
  int isint;
  lua_Integer s = lua_tointegerx(L, 1, &isint);
  if (!isint) luaL_argerror(L, 1, "seed must be an integer");
  nn_rng_seed(&getctx(L)->rng, (uint64_t)s);
  return 0;
}

/* ---- cat / stack ---- */

/* stack = cat of the inputs each given a new dim (as views that autograd sees) */
static nn_tensor *stack_tensors(nn_ctx *ctx, nn_tensor **ts, int n, int dim) {
  for (int k = 1; k < n; k++) {
    if (ts[k]->ndim == ts[0]->ndim && !memcmp(ts[k]->shape, ts[0]->shape, sizeof(int64_t) * (size_t)ts[0]->ndim))
      continue;
    char s1[128], s2[128];
    nn_seterr(ctx, NN_EARG, "stack: tensor 1 has shape %s but tensor %d has shape %s",
              nn_shape_str(ts[0], s1, 128), k + 1, nn_shape_str(ts[k], s2, 128));
    return NULL;
  }
  nn_tensor **us = calloc((size_t)n, sizeof *us), *out = NULL;
  int k = 0;
  while (us && k < n && (us[k] = nn_ag_reshaped(ctx, nn_tensor_unsqueeze(ctx, ts[k], dim), ts[k]))) k++;
  if (!us) nn_seterr(ctx, NN_ENOMEM, "out of memory");
  else if (k == n) out = nn_ag_cat(ctx, us, n, dim);
  for (int i = 0; us && i < k; i++) nn_tensor_free(us[i]);
  free(us);
  return out;
}

/* The most tensors cat and stack take: their list is read into one block of pointers. */
#define MAXLIST (1 << 24)

static int catlike(lua_State *L, int stack) {
  lua_settop(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer len = luaL_len(L, 1);             /* a __len may return anything */
  if (len < 1) return luaL_argerror(L, 1, "expected a non-empty list of tensors");
  if (len > MAXLIST)
    return luaL_argerror(L, 1, lua_pushfstring(L, "a list of %I tensors (at most %d)",
                                               len, MAXLIST));
  int n = (int)len;
  lnn_checklist(L, 1, 1, n, "the list of tensors");
  nn_tensor **ts = lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);   /* freed by the GC */
  lua_createtable(L, n, 0);          /* keeps the tensors: the list may be a proxy (common.h) */
  for (int i = 0; i < n; i++) {
    lua_geti(L, 1, i + 1);
    if (!(ts[i] = lnn_totensor(L, -1)))
      return luaL_error(L, "%s: element %d of the list is a %s, expected a tensor",
                        stack ? "stack" : "cat", i + 1, luaL_typename(L, -1));
    lua_rawseti(L, -2, i + 1);
  }
  int nd = ts[0]->ndim + (stack ? 1 : 0);
  int dim = lua_isnoneornil(L, 2) ? 0 : lnn_checkdim(L, 2, nd);
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  if (!stack) return lnn_finish(L, u, nn_ag_cat(ctx, ts, n, dim));
  return lnn_finish(L, u, stack_tensors(ctx, ts, n, dim));
}

static int l_cat(lua_State *L) { return catlike(L, 0); }
static int l_stack(lua_State *L) { return catlike(L, 1); }

/* ---- misc ---- */

static int l_no_grad(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  nn_ctx *ctx = getctx(L);
  int before = ctx->grad_enabled;
  ctx->grad_enabled = 0;
  int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  ctx->grad_enabled = before;
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

static int l_allclose(lua_State *L) {
  nn_tensor *a = lnn_checktensor(L, 1), *b = lnn_checktensor(L, 2);
  double rtol = luaL_optnumber(L, 3, 1e-5), atol = luaL_optnumber(L, 4, 1e-8);
  int close;
  if (nn_allclose(getctx(L), a, b, rtol, atol, &close)) return lnn_error(L);
  lua_pushboolean(L, close);
  return 1;
}

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, lnn_totensor(L, 1) != NULL);
  return 1;
}

static int l_set_num_threads(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  if (n < 1 || n > 1024) return luaL_argerror(L, 1, "thread count must be in 1..1024");
  nn_set_num_threads((int)n);
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, nn_get_num_threads());
  return 1;
}

static const luaL_Reg funcs[] = {
  {"new", l_new}, {"zeros", l_zeros}, {"ones", l_ones}, {"empty", l_empty}, {"full", l_full},
  {"eye", l_eye}, {"arange", l_arange}, {"linspace", l_linspace},
  {"rand", l_rand}, {"randn", l_randn}, {"randperm", l_randperm},
  {"manual_seed", l_manual_seed}, {"Generator", lnn_generator_new},
  {"get_rng_state", lnn_get_rng_state}, {"set_rng_state", lnn_set_rng_state},
  {"cat", l_cat}, {"stack", l_stack}, {"no_grad", l_no_grad},
  {"allclose", l_allclose}, {"is_tensor", l_is_tensor},
  {"set_num_threads", l_set_num_threads}, {"get_num_threads", l_get_num_threads},
  {"save", lnn_tensor_save}, {"load", lnn_tensor_load},
  {NULL, NULL}
};

int luaopen_nn_tensor(lua_State *L) {
  lnn_tensor_createmeta(L);
  lnn_generator_createmeta(L);
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
