/* l_tensor_new.c -- the `tensor` module's functions that make tensors from
 * sizes, lists or other tensors (tensor.new, zeros, ones, empty, full, eye,
 * arange, linspace, logspace, rand, randn, randperm, randint, the *_like
 * functions, meshgrid, cat, stack) and its settings (manual_seed, no_grad,
 * allclose, is_tensor, set_num_threads, get_num_threads). The Tensor type,
 * its methods and luaopen_nn_tensor are l_tensor.c's; this file is the
 * second half of that module, kept apart so each stays short. Every function
 * that makes a tensor pushes its userdata first, then runs the op, then calls
 * lnn_finish (l_tensor.h). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "bindings.h"
#include "l_tensor.h"
#include "l_generator.h"
#include "nn/autograd.h"
#include "nn/ops.h"
#include "nn/rng.h"

/* ---- module functions: tensor.new{...} from nested tables ---- */

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

/* ---- module functions: filled constructors, f(2, 3) or f{2, 3} ---- */

/* the last size argument of rand and randn, which may end with a generator */
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

/* ---- module functions: like another tensor, randint, logspace ---- */

/* zeros_like(x), ones_like(x), full_like(x, v), rand_like(x [, g]), randn_like(x [, g]):
 * a new contiguous tensor of x's shape that does not require grad */
enum like_kind { LIKE_FULL, LIKE_RAND, LIKE_RANDN };

static int like(lua_State *L, enum like_kind kind, int value_arg, float v) {
  nn_tensor *x = lnn_checktensor(L, 1);
  if (value_arg) v = lnn_checkfloat(L, value_arg);
  nn_rng *r = kind == LIKE_FULL ? NULL : lnn_optgenerator(L, 2);
  int last = kind == LIKE_FULL ? 1 + value_arg / 2 : 2;
  if (!lua_isnoneornil(L, last + 1)) return luaL_argerror(L, last + 1, "unexpected argument");
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  x = lnn_checktensor(L, 1);            /* after the last allocation (common.h, "Userdata lifetimes") */
  if (kind == LIKE_RAND) return lnn_finish(L, u, nn_tensor_rand(ctx, r, x->ndim, x->shape));
  if (kind == LIKE_RANDN) return lnn_finish(L, u, nn_tensor_randn(ctx, r, x->ndim, x->shape));
  return lnn_finish(L, u, nn_tensor_full(ctx, x->ndim, x->shape, v));
}

static int l_zeros_like(lua_State *L) { return like(L, LIKE_FULL, 0, 0.0f); }
static int l_ones_like(lua_State *L) { return like(L, LIKE_FULL, 0, 1.0f); }
static int l_full_like(lua_State *L) { return like(L, LIKE_FULL, 2, 0.0f); }
static int l_rand_like(lua_State *L) { return like(L, LIKE_RAND, 0, 0.0f); }
static int l_randn_like(lua_State *L) { return like(L, LIKE_RANDN, 0, 0.0f); }

/* randint(low, high, shape [, g]) or randint(high, {sizes} [, g]) (low 0, as PyTorch):
 * whole numbers in [low, high); shape a table {2, 3}, or one size after low and high */
static int l_randint(lua_State *L) {
  int two = lua_istable(L, 2);
  lua_Integer low = two ? 0 : luaL_checkinteger(L, 1), high = luaL_checkinteger(L, two ? 1 : 2);
  int sarg = two ? 2 : 3;
  if (!lua_istable(L, sarg) && !lua_isnumber(L, sarg)) luaL_typeerror(L, sarg, "shape (a table of sizes)");
  int64_t shape[NN_MAXDIM];
  int nd = checkshape(L, "randint", sarg, sarg, shape);
  nn_rng *r = lnn_optgenerator(L, sarg + 1);
  nn_ctx *ctx = getctx(L);
  LTensor *u = lnn_newtensor(L);
  nn_tensor *t = nn_tensor_empty(ctx, nd, shape);
  if (t && nn_randint_(ctx, r, t, low, high)) {
    nn_tensor_free(t);
    t = NULL;
  }
  return lnn_finish(L, u, t);
}

static int l_logspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2), base = luaL_optnumber(L, 4, 10);
  lua_Integer n = luaL_checkinteger(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_logspace(getctx(L), a, b, n, base));
}

/* meshgrid(a, b, ... [, {indexing = "ij"}]) or meshgrid({a, b, ...} [, opts]): one
 * tensor per input (returned as several values), each of shape [#a, #b, ...]
 * ("xy": the first two sizes swapped), input i laid along dim i; expanded views
 * that keep the gradient, as PyTorch's */
static int l_meshgrid(lua_State *L) {
  static const char *const keys[] = {"indexing", NULL};
  int top = lua_gettop(L), xy = 0;
  if (top >= 1 && lua_istable(L, top) && !lnn_totensor(L, top) &&
      (top > 1 || lua_rawgeti(L, top, 1) == LUA_TNIL)) {
    lua_settop(L, top);
    lnn_checkopts(L, top, "meshgrid", keys);
    if (lua_getfield(L, top, "indexing") != LUA_TNIL) {
      const char *ix = luaL_checkstring(L, -1);
      if (strcmp(ix, "xy") && strcmp(ix, "ij"))
        return luaL_error(L, "meshgrid: indexing must be \"ij\" or \"xy\", got \"%s\"", ix);
      xy = ix[0] == 'x';
    }
    top--;
  }
  lua_settop(L, top);
  int list = top == 1 && lua_istable(L, 1) && !lnn_totensor(L, 1);
  lua_Integer n = list ? luaL_len(L, 1) : top;
  if (n < 1 || n > NN_MAXDIM)
    return luaL_error(L, "meshgrid: expected 1 to %d tensors, got %I", NN_MAXDIM, n);
  if (list) lnn_checklist(L, 1, 1, n, "the list of tensors");
  nn_tensor *ts[NN_MAXDIM];
  int64_t shape[NN_MAXDIM];
  for (int i = 0; i < (int)n; i++) {
    if (list) lua_geti(L, 1, i + 1);
    else lua_pushvalue(L, i + 1);
    ts[i] = lnn_totensor(L, -1);
    if (!ts[i] || ts[i]->ndim > 1)
      return luaL_error(L, "meshgrid: input %d must be a 0-d or 1-d tensor, got %s", i + 1,
                        ts[i] ? lua_pushfstring(L, "a %d-d one", ts[i]->ndim) : luaL_typename(L, -1));
    int at = xy && n > 1 && i < 2 ? 1 - i : i;
    shape[at] = ts[i]->ndim ? ts[i]->shape[0] : 1;
  }                                     /* the inputs stay on the stack while we work */
  nn_ctx *ctx = getctx(L);
  if (nn_shape_check(ctx, "meshgrid", (int)n, shape, NULL, NULL)) return lnn_error(L);
  int first = lua_gettop(L) + 1;
  for (int i = 0; i < (int)n; i++) lnn_newtensor(L);
  for (int i = 0; i < (int)n; i++) {
    int64_t vs[NN_MAXDIM];
    int at = xy && n > 1 && i < 2 ? 1 - i : i;
    for (int d = 0; d < (int)n; d++) vs[d] = d == at ? shape[d] : 1;
    nn_tensor *v = nn_ag_reshaped(ctx, nn_tensor_view(ctx, ts[i], (int)n, vs), ts[i]);
    nn_tensor *e = v ? nn_ag_expanded(ctx, nn_tensor_expand(ctx, v, (int)n, shape), v) : NULL;
    nn_tensor_free(v);
    lua_pushvalue(L, first + i);
    lnn_finish(L, lua_touserdata(L, -1), e);
    lua_pop(L, 1);
  }
  return (int)n;
}

/* ---- module functions: cat / stack ---- */

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
      return luaL_argerror(L, 1, lua_pushfstring(L, "element %d of the list is a %s, expected a "
                                                 "tensor", i + 1, luaL_typename(L, -1)));
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

/* ---- module functions: no_grad, allclose, is_tensor, threads ---- */

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

/* set_num_threads(n) fixes the count; set_num_threads("auto") goes back to
 * the default, which follows how busy the machine is (nn/threads.h) */
static int l_set_num_threads(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "auto") == 0) {
    nn_threads_auto();
    return 0;
  }
  int isint;
  lua_Integer n = lua_tointegerx(L, 1, &isint);
  if (!isint || lua_type(L, 1) != LUA_TNUMBER)
    return luaL_argerror(L, 1, lua_pushfstring(L, "a thread count (a whole number) or \"auto\" expected, "
                                               "got %s", lua_isnoneornil(L, 1) ? "nil" : luaL_tolstring(L, 1, NULL)));
  if (n < 1 || n > 1024) return luaL_argerror(L, 1, "thread count must be in 1..1024");
  nn_set_num_threads((int)n);
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, nn_get_num_threads());
  return 1;
}

/* ---- the table ---- */

static const luaL_Reg newfuncs[] = {
  {"new", l_new}, {"zeros", l_zeros}, {"ones", l_ones}, {"empty", l_empty}, {"full", l_full},
  {"eye", l_eye}, {"arange", l_arange}, {"linspace", l_linspace}, {"logspace", l_logspace},
  {"rand", l_rand}, {"randn", l_randn}, {"randperm", l_randperm}, {"randint", l_randint},
  {"zeros_like", l_zeros_like}, {"ones_like", l_ones_like}, {"full_like", l_full_like},
  {"rand_like", l_rand_like}, {"randn_like", l_randn_like}, {"meshgrid", l_meshgrid},
  {"cat", l_cat}, {"stack", l_stack},
  {"manual_seed", l_manual_seed}, {"no_grad", l_no_grad}, {"allclose", l_allclose},
  {"is_tensor", l_is_tensor}, {"set_num_threads", l_set_num_threads},
  {"get_num_threads", l_get_num_threads},
  {NULL, NULL}
};

void lnn_tensor_newfuncs(lua_State *L) {
  lnn_setfuncs(L, newfuncs);
}
