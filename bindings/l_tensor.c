/* l_tensor.c -- the nn.Tensor userdata type and the `tensor` module, in the
 * order of Lua's liolib.c: the type's test, check and push functions (its
 * interface for the other bindings files, l_tensor.h), the methods, the
 * metamethods, their tables, createmeta and luaopen_nn_tensor. The module
 * functions that make tensors from sizes or lists (tensor.new, zeros, ...,
 * randint, meshgrid, cat, stack) and the settings (no_grad, threads, seeds)
 * are l_tensor_new.c's, which adds them to the module table here. Every function that makes a tensor pushes its
 * userdata first, then runs the op, then calls lnn_finish (l_tensor.h).
 * tensor.Generator is l_generator.c's, tensor.save and tensor.load are
 * l_save.c's. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "bindings.h"
#include "l_tensor.h"
#include "l_generator.h"
#include "l_save.h"
#include "nn/autograd.h"
#include "nn/ops.h"
#include "nn/rng.h"

/* ---- the type: test, check, push ---- */

const char lnn_tensor_mt[] = "nn.Tensor";

LTensor *lnn_testtensor(lua_State *L, int arg) {
  return lnn_testudata(L, arg, TENSOR_MT);
}

nn_tensor *lnn_totensor(lua_State *L, int arg) {
  LTensor *u = lnn_testudata(L, arg, TENSOR_MT);
  return u ? u->t : NULL;
}

nn_tensor *lnn_checktensor(lua_State *L, int arg) {
  LTensor *u = lnn_testudata(L, arg, TENSOR_MT);
  if (!u) lnn_typeerror(L, arg, TENSOR_MT);
  if (!u->t) luaL_argerror(L, arg, "tensor has been freed");
  return u->t;
}

LTensor *lnn_newtensor(lua_State *L) {
  return lnn_newudata(L, sizeof(LTensor), TENSOR_MT);
}

int lnn_finish(lua_State *L, LTensor *u, nn_tensor *t) {
  nn_ctx *ctx = getctx(L);
  if (!t) return lnn_error(L);
  u->t = t;
  lnn_gcaccount(L, ctx);
  return 1;
}

/* ---- dims and shapes as arguments ---- */

int lnn_checkdim(lua_State *L, int arg, int ndim) {
  lua_Integer d = luaL_checkinteger(L, arg);
  int n = ndim > 0 ? ndim : 1;
  if (d >= 1 && d <= n) return (int)d - 1;
  if (d < 0 && d >= -n) return n + (int)d;
  return luaL_argerror(L, arg, lua_pushfstring(L, "dim %I out of range for a "
                                               "%d-d tensor (dims are 1-based)", d, ndim));
}

static int64_t shape_entry(lua_State *L, int arg, int allow_neg1) {
  int isint;
  lua_Integer n = lua_tointegerx(L, -1, &isint);
  if (!isint || n < (allow_neg1 ? -1 : 0))
    luaL_argerror(L, arg, lua_pushfstring(L, "sizes must be whole numbers >= 0%s, got %s",
                                          allow_neg1 ? " (or -1)" : "", luaL_tolstring(L, -1, NULL)));
  lua_pop(L, 1);
  return n;
}

int lnn_checkshape(lua_State *L, int arg, int last, int64_t *shape, int allow_neg1) {
  int n;
  if (lua_istable(L, arg) && !luaL_testudata(L, arg, TENSOR_MT)) {
    lua_Integer len = luaL_len(L, arg);       /* a __len may return anything */
    if (len < 0 || len > NN_MAXDIM)
      luaL_argerror(L, arg, lua_pushfstring(L, "%s: the shape table has length %I",
                                            len < 0 ? "negative length" : "more than 8 dims", len));
    n = (int)len;
    lnn_checklist(L, arg, arg, n, "the shape table");
    for (int i = 0; i < n; i++) {
      lua_geti(L, arg, i + 1);
      shape[i] = shape_entry(L, arg, allow_neg1);
    }
    return n;
  }
  n = last - arg + 1;
  if (n > NN_MAXDIM)
    luaL_argerror(L, arg, lua_pushfstring(L, "more than %d dims: got %d sizes", NN_MAXDIM, n));
  for (int i = 0; i < n; i++) {
    if (!lua_isnumber(L, arg + i)) luaL_typeerror(L, arg + i, "size (a number)");
    lua_pushvalue(L, arg + i);
    shape[i] = shape_entry(L, arg + i, allow_neg1);
  }
  return n < 0 ? 0 : n;
}

/* ---- methods: shape ---- */

static void pushshape(lua_State *L, const nn_tensor *t) {
  lua_createtable(L, t->ndim, 0);
  for (int i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, t->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

static int t_size(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) {
    pushshape(L, t);
    return 1;
  }
  lua_pushinteger(L, t->shape[lnn_checkdim(L, 2, t->ndim)]);
  return 1;
}

static int t_dim(lua_State *L) {
  lua_pushinteger(L, lnn_checktensor(L, 1)->ndim);
  return 1;
}

static int t_numel(lua_State *L) {
  lua_pushinteger(L, nn_tensor_numel(lnn_checktensor(L, 1)));
  return 1;
}

/* ---- methods: values ---- */

static int t_item(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (nn_tensor_numel(t) != 1) {
    char s[128];
    return luaL_error(L, "item: tensor of shape %s has %I elements, expected 1",
                      nn_shape_str(t, s, sizeof s), (lua_Integer)nn_tensor_numel(t));
  }
  int64_t idx[NN_MAXDIM] = {0};
  lua_pushnumber(L, nn_tensor_get(t, idx));
  return 1;
}

static void totable(lua_State *L, const nn_tensor *t, int d, const float *p) {
  if (d == t->ndim) {
    lua_pushnumber(L, *p);
    return;
  }
  luaL_checkstack(L, 4, "tensor too deep");
  lua_createtable(L, t->shape[d] < INT_MAX ? (int)t->shape[d] : 0, 0);   /* a size hint */
  for (int64_t i = 0; i < t->shape[d]; i++) {
    totable(L, t, d + 1, p + i * t->stride[d]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* A Lua number in a table takes 16 bytes: past this many elements the table
 * would take gigabytes before Lua ran out of memory (an expanded view of 2^38
 * elements has no storage to speak of). */
#define TOTABLE_MAX ((int64_t)1 << 26)

static int t_totable(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t n = nn_tensor_numel(t);
  if (n > TOTABLE_MAX) {
    char s[128];
    return luaL_error(L, "totable: a tensor of shape %s has %I elements; a Lua table of more than %I "
                      "numbers would take gigabytes: take a part first (x:narrow, x[i])",
                      nn_shape_str(t, s, sizeof s), (lua_Integer)n, (lua_Integer)TOTABLE_MAX);
  }
  totable(L, t, 0, nn_tensor_data(t));
  return 1;
}

static int t_clone(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  return lnn_finish(L, u, nn_ag_copied(ctx, nn_tensor_clone(ctx, t), t));
}

static int t_contiguous(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (nn_tensor_is_contiguous(t)) {
    lua_settop(L, 1);
    return 1;
  }
  return t_clone(L);
}

static int t_equal(lua_State *L) {
  nn_tensor *a = lnn_checktensor(L, 1), *b = lnn_checktensor(L, 2);   /* self first */
  int same;
  if (nn_equal(getctx(L), a, b, &same)) return lnn_error(L);
  lua_pushboolean(L, same);
  return 1;
}

/* ---- methods: views ---- */

static int reshape_like(lua_State *L, int copy_ok) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t shape[NN_MAXDIM];
  int nd = lnn_checkshape(L, 2, lua_gettop(L), shape, 1);
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  return lnn_finish(L, u, nn_ag_reshaped(ctx, copy_ok ? nn_tensor_reshape(ctx, t, nd, shape) : nn_tensor_view(ctx, t, nd, shape), t));
}

static int t_view(lua_State *L) { return reshape_like(L, 0); }
static int t_reshape(lua_State *L) { return reshape_like(L, 1); }

static int t_flatten(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int start = lua_isnoneornil(L, 2) ? 0 : lnn_checkdim(L, 2, t->ndim);
  int end = lua_isnoneornil(L, 3) ? (t->ndim ? t->ndim - 1 : 0) : lnn_checkdim(L, 3, t->ndim);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_reshaped(getctx(L), nn_tensor_flatten(getctx(L), t, start, end), t));
}

static int t_t(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (t->ndim > 2) {
    char s[128];
    return luaL_error(L, "t: expects a tensor with <= 2 dims, got shape %s; use transpose(d1, d2)",
                      nn_shape_str(t, s, sizeof s));
  }
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  if (t->ndim < 2) return lnn_finish(L, u, nn_ag_reshaped(ctx, nn_tensor_view_of(ctx, t, t->ndim, t->shape, t->stride, t->off), t));
  return lnn_finish(L, u, nn_ag_permuted(ctx, nn_tensor_transpose(ctx, t, 0, 1), t, (int[]){1, 0}));
}

static int t_transpose(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d1 = lnn_checkdim(L, 2, t->ndim), d2 = lnn_checkdim(L, 3, t->ndim);
  int perm[NN_MAXDIM];
  for (int i = 0; i < t->ndim; i++) perm[i] = i;
  perm[d1] = d2;
  perm[d2] = d1;
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_permuted(getctx(L), nn_tensor_transpose(getctx(L), t, d1, d2), t, perm));
}

/* x:permute(d1, d2, ...) or x:permute{d1, d2, ...}; dims may count from the end */
static int t_permute(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int perm[NN_MAXDIM];
  int table = lua_istable(L, 2), top = lua_gettop(L);
  lua_Integer n = table ? luaL_len(L, 2) : top - 1;
  if (table) lnn_checklist(L, 2, 2, n, "the table of dims");
  if (n != t->ndim) {
    char s[NN_SHAPESTR];
    return luaL_error(L, "permute: got %I dims for a tensor of shape %s", n, nn_shape_str(t, s, sizeof s));
  }
  for (int i = 0; i < (int)n; i++) {
    int arg = 2 + i;
    if (table) {
      lua_geti(L, 2, i + 1);
      arg = lua_gettop(L);
    }
    perm[i] = lnn_checkdim(L, arg, t->ndim);
    if (table) lua_pop(L, 1);
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_permuted(getctx(L), nn_tensor_permute(getctx(L), t, perm), t, perm));
}

static int t_squeeze(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lua_isnoneornil(L, 2) ? -1 : lnn_checkdim(L, 2, t->ndim);
  if (t->ndim == 0) d = -1;
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_reshaped(getctx(L), nn_tensor_squeeze(getctx(L), t, d), t));
}

static int t_unsqueeze(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim + 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_reshaped(getctx(L), nn_tensor_unsqueeze(getctx(L), t, d), t));
}

static int t_narrow(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
  if (t->ndim == 0) return luaL_error(L, "narrow: cannot narrow a 0-d tensor");
  if (start < 0 && start + t->shape[d] < 0)         /* -1 is the last element */
    return luaL_error(L, "narrow: start %I and length %I are out of range for dim %d of size %I",
                      start, len, d + 1, (lua_Integer)t->shape[d]);
  if (start < 0) start += t->shape[d] + 1;
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_narrowed(getctx(L), nn_tensor_narrow(getctx(L), t, d, start - 1, len), t, d, start - 1));
}

/* x:select(dim, i) -> the slice at index i of dim (1-based; negative counts
 * from the end), dim dropped: a view that keeps the gradient, 0-d for a 1-d x
 * (where x[i] gives a plain number) */
static int t_select(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (t->ndim == 0) return luaL_error(L, "select: cannot select from a 0-d tensor");
  int d = lnn_checkdim(L, 2, t->ndim);
  lua_Integer i = luaL_checkinteger(L, 3), n = (lua_Integer)t->shape[d];
  lua_Integer k = i < 0 ? i + n + 1 : i;
  if (k < 1 || k > n)
    return luaL_error(L, "select: index %I is out of range for dim %d of size %I", i, d + 1, n);
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  t = lnn_checktensor(L, 1);            /* after the last allocation (common.h, "Userdata lifetimes") */
  return lnn_finish(L, u, nn_ag_selected(ctx, nn_tensor_select(ctx, t, d, k - 1), t, d, k - 1));
}

/* one dim of x:slice: the 1-based inclusive range {first, last [, step]}
 * (negatives count from the end, {} is the whole dim) made 0-based: start,
 * length and step; lengths below zero (first past last) are 0 */
static void slice_range(lua_State *L, int spec, int k, int64_t size, int64_t *start, int64_t *len,
                        int64_t *step) {
  lua_Unsigned n = lua_rawlen(L, spec);
  if (n != 0 && n != 2 && n != 3)
    luaL_error(L, "slice: entry %d must be {} or {first, last [, step]}, got a table of %d values",
               k, (int)(n > 99 ? 99 : n));
  lua_Integer v[3] = {1, -1, 1};
  for (lua_Unsigned i = 1; i <= n; i++) {
    int isint;
    lua_rawgeti(L, spec, (lua_Integer)i);
    v[i - 1] = lua_tointegerx(L, -1, &isint);
    if (!isint) luaL_error(L, "slice: entry %d: value %d must be a whole number", k, (int)i);
    lua_pop(L, 1);
  }
  lua_Integer first = v[0] < 0 ? v[0] + size + 1 : v[0], last = v[1] < 0 ? v[1] + size + 1 : v[1];
  if (v[2] < 1) luaL_error(L, "slice: entry %d: step %I must be >= 1", k, v[2]);
  if (first < 1 || first > size + 1 || last < 0 || last > size)
    luaL_error(L, "slice: entry %d: {%I, %I} is out of range for a dim of size %I", k, v[0], v[1],
               (lua_Integer)size);
  *start = first - 1;
  *len = last >= first ? last - first + 1 : 0;
  *step = v[2];
}

/* x:slice{e1, e2, ...}: per dim, {first, last [, step]} (1-based, inclusive,
 * negatives from the end), {} for the whole dim, or a number that selects
 * one index and drops the dim; dims past the list are whole. A view that
 * keeps the gradient (narrow, step and select recorded in turn). Entry k is
 * dim k of x, so every entry is checked before any tensor is made. */
static int t_slice(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Unsigned n = lua_rawlen(L, 2);
  if ((lua_Integer)n > t->ndim) {
    char s[128];
    return luaL_error(L, "slice: %d entries for a tensor of shape %s", (int)(n > 99 ? 99 : n),
                      nn_shape_str(t, s, sizeof s));
  }
  int64_t start[NN_MAXDIM], len[NN_MAXDIM], step[NN_MAXDIM];
  int pick[NN_MAXDIM];                          /* 1: select start[k] and drop the dim */
  for (int k = 0; k < (int)n; k++) {
    int64_t size = t->shape[k];
    int ty = lua_rawgeti(L, 2, k + 1), isint;
    lua_Integer i = lua_tointegerx(L, -1, &isint);    /* 2 and 2.0 alike */
    pick[k] = ty == LUA_TNUMBER && isint;
    if (pick[k]) {
      lua_Integer j = i < 0 ? i + size + 1 : i;
      if (j < 1 || j > size)
        return luaL_error(L, "slice: entry %d: index %I is out of range for a dim of size %I",
                          k + 1, i, (lua_Integer)size);
      start[k] = j - 1;
    } else if (ty == LUA_TTABLE) {
      slice_range(L, lua_gettop(L), k + 1, size, &start[k], &len[k], &step[k]);
    } else {
      return luaL_error(L, "slice: entry %d must be a table or a whole number, got %s", k + 1,
                        luaL_typename(L, -1));
    }
    lua_pop(L, 1);
  }
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  t = lnn_checktensor(L, 1);                    /* after the last allocation (common.h) */
  nn_tensor *cur = nn_tensor_retain(t);
  for (int k = 0, dim = 0; k < (int)n && cur; k++) {
    nn_tensor *next;
    if (pick[k]) {
      next = nn_ag_selected(ctx, nn_tensor_select(ctx, cur, dim, start[k]), cur, dim, start[k]);
    } else {
      next = nn_ag_narrowed(ctx, nn_tensor_narrow(ctx, cur, dim, start[k], len[k]), cur, dim, start[k]);
      if (next && step[k] > 1) {
        nn_tensor *stepped = nn_ag_stepped(ctx, nn_tensor_step(ctx, next, dim, step[k]), next, dim, step[k]);
        nn_tensor_free(next);
        next = stepped;
      }
      dim++;
    }
    nn_tensor_free(cur);
    cur = next;
  }
  return lnn_finish(L, u, cur);
}

static int t_expand(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t shape[NN_MAXDIM];
  int nd = lnn_checkshape(L, 2, lua_gettop(L), shape, 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_expanded(getctx(L), nn_tensor_expand(getctx(L), t, nd, shape), t));
}

/* ---- methods: autograd ---- */

static int autograd_field(lua_State *L, nn_tensor *t, const char *k) {
  if (k[0] == 'r') {
    lua_pushboolean(L, t->requires_grad);
  } else if (strcmp(k, "grad_fn") == 0) {
    const char *name = nn_grad_fn_name(t);
    if (name) lua_pushstring(L, name);
    else lua_pushnil(L);
  } else if (t->grad) {
    LTensor *u = lnn_newtensor(L);
    u->t = nn_tensor_retain(t->grad);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int set_requires_grad(lua_State *L, nn_tensor *t, int arg) {
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  if (t->node)
    return luaL_error(L, "requires_grad: only leaf tensors can be changed (this one comes from %s); "
                      "use x:detach()", nn_grad_fn_name(t));
  t->requires_grad = lua_toboolean(L, arg);
  return 0;
}

static int set_grad(lua_State *L, nn_tensor *t, int arg) {
  nn_tensor *g = lua_isnil(L, arg) ? NULL : lnn_totensor(L, arg);
  if (!g && !lua_isnil(L, arg)) return luaL_error(L, "grad: expected a tensor or nil, got %s", luaL_typename(L, arg));
  if (g && (g->ndim != t->ndim || memcmp(g->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim))) {
    char s1[128], s2[128];
    return luaL_error(L, "grad: a gradient of shape %s for a tensor of shape %s",
                      nn_shape_str(g, s1, sizeof s1), nn_shape_str(t, s2, sizeof s2));
  }
  nn_tensor_free(t->grad);
  t->grad = g ? nn_tensor_retain(g) : NULL;
  return 0;
}

static int t_requires_grad_(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (lua_isnone(L, 2)) lua_pushboolean(L, 1);
  set_requires_grad(L, t, 2);
  lua_settop(L, 1);
  return 1;
}

/* x:backward([grad] [, {retain_graph = false, allow_nonfinite = false}])
 * A loss (one element, no grad given) that is NaN or infinite is an error
 * unless allow_nonfinite: backward would fill every gradient with NaN or
 * infinities and the next step would write them into the parameters, and
 * the run would go on training nothing without a word. */
static int t_backward(lua_State *L) {
  static const char *const keys[] = {"retain_graph", "allow_nonfinite", NULL};
  nn_tensor *t = lnn_checktensor(L, 1), *g = NULL;
  int arg = 2, retain = 0, allow = 0;
  if (!lua_isnoneornil(L, arg) && !lua_istable(L, arg)) g = lnn_checktensor(L, arg++);
  else if (lua_isnil(L, arg)) arg++;
  if (lua_istable(L, arg) && !lnn_totensor(L, arg)) {
    lnn_checkopts(L, arg, "backward", keys);
    lua_getfield(L, arg, "retain_graph");
    retain = lua_toboolean(L, -1);
    lua_getfield(L, arg, "allow_nonfinite");
    allow = lua_toboolean(L, -1);
  }
  if (!g && !allow && nn_tensor_numel(t) == 1) {
    float v = t->s->data[t->off];
    if (!isfinite(v))
      return luaL_error(L, "backward: the loss is %s; its gradients would carry it into the parameters "
                        "at the next step. Training has likely diverged (a smaller learning rate often "
                        "helps), or an input or target holds nan or inf "
                        "(loss:backward({allow_nonfinite = true}) runs it anyway)",
                        isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
  }
  if (nn_backward(getctx(L), t, g, retain)) return lnn_error(L);
  return 0;
}

static int t_detach(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_detach(getctx(L), t));
}

/* ---- methods: indexing ---- */

static int t_index_select(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  nn_tensor *idx = lnn_checktensor(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_index_select(getctx(L), t, d, idx));
}

/* x:masked_select(mask) -> a 1-d tensor of the elements of x where mask is
 * nonzero, x and mask broadcast together, in row-major order; it keeps the
 * gradient (an index_select of the flattened x, as PyTorch's backward is) */
static int t_masked_select(lua_State *L) {
  nn_tensor *x = lnn_checktensor(L, 1), *m = lnn_checktensor(L, 2);
  nn_ctx *ctx = getctx(L);
  int nd;
  int64_t shape[NN_MAXDIM], n;
  if (nn_broadcast_shape(ctx, "masked_select", x, m, &nd, shape) ||
      nn_shape_check(ctx, "masked_select", nd, shape, &n, NULL))
    return lnn_error(L);
  if (n > ((int64_t)1 << 24))          /* the indices are float32 whole numbers */
    return luaL_error(L, "masked_select: %I elements; at most 2^24", (lua_Integer)n);
  LTensor *ux = lnn_newtensor(L), *ui = lnn_newtensor(L), *u = lnn_newtensor(L);
  x = lnn_checktensor(L, 1);            /* after the last allocation (common.h, "Userdata lifetimes") */
  m = lnn_checktensor(L, 2);
  nn_tensor *me = nn_tensor_expand(ctx, m, nd, shape);
  nn_tensor *mc = me ? nn_tensor_contiguous(ctx, me) : NULL;
  nn_tensor_free(me);
  if (!mc) return lnn_error(L);
  const float *mv = nn_tensor_data(mc);
  int64_t count = 0;
  for (int64_t i = 0; i < n; i++) count += mv[i] != 0.0f;
  nn_tensor *idx = nn_tensor_empty(ctx, 1, &count);
  if (!idx) {
    nn_tensor_free(mc);
    return lnn_error(L);
  }
  float *iv = nn_tensor_data(idx);
  for (int64_t i = 0, k = 0; i < n; i++)
    if (mv[i] != 0.0f) iv[k++] = (float)(i + 1);
  nn_tensor_free(mc);
  ui->t = idx;                          /* owned by ui from here on */
  nn_tensor *xe = nn_ag_expanded(ctx, nn_tensor_expand(ctx, x, nd, shape), x);
  nn_tensor *xf = xe ? nn_ag_reshaped(ctx, nn_tensor_reshape(ctx, xe, 1, &n), xe) : NULL;
  nn_tensor_free(xe);
  if (!xf) return lnn_error(L);
  ux->t = xf;
  return lnn_finish(L, u, nn_ag_index_select(ctx, xf, 0, idx));
}

static int t_gather(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  nn_tensor *idx = lnn_checktensor(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_gather(getctx(L), t, d, idx));
}

static int t_masked_fill(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1), *mask = lnn_checktensor(L, 2);
  float v = lnn_checkfloat(L, 3);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_masked_fill(getctx(L), t, mask, v));
}

/* ---- methods (and module functions, x first): where, matrices ---- */

/* the tensor at arg, or a number there made a 0-d tensor (pushed, so the GC owns it) */
static nn_tensor *tensor_or_number(lua_State *L, int arg) {
  nn_tensor *t = lnn_totensor(L, arg);
  if (t) return t;
  float v = lnn_checkfloat(L, arg);
  LTensor *u = lnn_newtensor(L);
  lnn_finish(L, u, nn_tensor_full(getctx(L), 0, NULL, v));
  return u->t;
}

static int where3(lua_State *L, int cond_arg, int a_arg, int b_arg) {
  nn_tensor *c = lnn_checktensor(L, cond_arg);
  nn_tensor *a = tensor_or_number(L, a_arg), *b = tensor_or_number(L, b_arg);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_where(getctx(L), c, a, b));
}

/* tensor.where(cond, a, b): a where cond is nonzero, else b (tensors or numbers, broadcast) */
static int l_where(lua_State *L) { return where3(L, 1, 2, 3); }
/* x:where(cond, y) = tensor.where(cond, x, y), as PyTorch's Tensor.where */
static int t_where(lua_State *L) {
  lnn_checktensor(L, 1);
  return where3(L, 2, 1, 3);
}

/* outer(a, b): the [#a, #b] matrix a[i] * b[j] of two 1-d tensors (MulBackward0, as PyTorch) */
static int t_outer(lua_State *L) {
  nn_tensor *a = lnn_checktensor(L, 1), *b = lnn_checktensor(L, 2);
  if (a->ndim != 1 || b->ndim != 1) {
    char s1[NN_SHAPESTR], s2[NN_SHAPESTR];
    return luaL_error(L, "outer: expected two 1-d tensors, got shapes %s and %s",
                      nn_shape_str(a, s1, sizeof s1), nn_shape_str(b, s2, sizeof s2));
  }
  LTensor *u = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  a = lnn_checktensor(L, 1);            /* after the last allocation (common.h, "Userdata lifetimes") */
  b = lnn_checktensor(L, 2);
  nn_tensor *ac = nn_ag_reshaped(ctx, nn_tensor_view(ctx, a, 2, (int64_t[]){a->shape[0], 1}), a);
  nn_tensor *br = ac ? nn_ag_reshaped(ctx, nn_tensor_view(ctx, b, 2, (int64_t[]){1, b->shape[0]}), b) : NULL;
  nn_tensor *out = br ? nn_ag_binary(ctx, NN_MUL, ac, br) : NULL;
  NN_FREE(ac, br);
  return lnn_finish(L, u, out);
}

static int64_t optdiagonal(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? 0 : luaL_checkinteger(L, arg);
}

/* diag(x [, k]): a 1-d x on diagonal k of a square matrix, or diagonal k of a 2-d x */
static int t_diag(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t k = optdiagonal(L, 2);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_diag(getctx(L), t, k));
}

/* tril(x [, k]), triu(x [, k]): the lower (upper) triangle from diagonal k, the rest 0 */
static int tri(lua_State *L, int upper) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t k = optdiagonal(L, 2);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_tril(getctx(L), t, k, upper));
}
static int t_tril(lua_State *L) { return tri(L, 0); }
static int t_triu(lua_State *L) { return tri(L, 1); }

/* ---- methods: cumsum, norm, sort, topk ---- */

static int t_cumsum(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_cumsum(getctx(L), t, d));
}

/* p given as 1, 2, math.huge, -math.huge is not a norm; "fro" is 2 */
static double checknorm_p(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return 2;
  if (lua_type(L, arg) == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, arg), "fro") == 0) return 2;
    return luaL_argerror(L, arg, lua_pushfstring(L, "p must be 1, 2, math.huge or \"fro\", got \"%s\"",
                                                 lua_tostring(L, arg)));
  }
  double p = luaL_checknumber(L, arg);
  if (p != 1 && p != 2 && p != HUGE_VAL)
    luaL_argerror(L, arg, lua_pushfstring(L, "p must be 1, 2, math.huge or \"fro\", got %f", p));
  return p;
}

/* x:norm([p [, dim [, keepdim]]] [, {p, dim, keepdim}]): the 2-norm (Frobenius) of all
 * elements by default */
static int t_norm(lua_State *L) {
  static const char *const keys[] = {"p", "dim", "keepdim", NULL};
  nn_tensor *t = lnn_checktensor(L, 1);
  int top = lua_gettop(L), opts = 0;
  if (top >= 2 && lua_istable(L, top) && !lnn_totensor(L, top)) {
    opts = top;
    lnn_checkopts(L, opts, "norm", keys);
    top--;
  }
  if (top > 4) return luaL_argerror(L, 5, "unexpected argument");
  double p = top >= 2 ? checknorm_p(L, 2) : 2;
  int dim = top < 3 || lua_isnil(L, 3) ? -1 : lnn_checkdim(L, 3, t->ndim);
  int keepdim = top >= 4 && lua_toboolean(L, 4);
  if (opts) {
    if (lua_getfield(L, opts, "p") != LUA_TNIL) p = checknorm_p(L, lua_gettop(L));
    if (lua_getfield(L, opts, "dim") != LUA_TNIL) dim = lnn_checkdim(L, lua_gettop(L), t->ndim);
    if (lua_getfield(L, opts, "keepdim") != LUA_TNIL) keepdim = lua_toboolean(L, -1);
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_norm(getctx(L), t, p, dim, keepdim));
}

/* values and indices, as two results */
static int two_results(lua_State *L, nn_tensor *t, int dim, int descending, int64_t k) {
  LTensor *uv = lnn_newtensor(L), *ui = lnn_newtensor(L);
  nn_tensor *v, *ix;
  if (nn_ag_sort(getctx(L), t, dim, descending, k, &v, &ix)) return lnn_error(L);
  uv->t = v;
  ui->t = ix;
  lnn_gcaccount(L, getctx(L));
  return 2;
}

/* x:sort([dim [, descending]]) -> values, 1-based indices; stable (equal values keep their order) */
static int t_sort(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int dim = lua_isnoneornil(L, 2) ? (t->ndim ? t->ndim - 1 : 0) : lnn_checkdim(L, 2, t->ndim);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TBOOLEAN);
  if (!lua_isnone(L, 4)) return luaL_argerror(L, 4, "unexpected argument");
  return two_results(L, t, dim, lua_toboolean(L, 3), -1);
}

/* x:topk(k [, dim [, largest]]) -> the k largest (smallest) values along dim, sorted, and their indices */
static int t_topk(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  if (k < 0) return luaL_argerror(L, 2, lua_pushfstring(L, "k must be >= 0, got %I", k));
  int dim = lua_isnoneornil(L, 3) ? (t->ndim ? t->ndim - 1 : 0) : lnn_checkdim(L, 3, t->ndim);
  int largest = 1;
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TBOOLEAN);
    largest = lua_toboolean(L, 4);
  }
  if (!lua_isnone(L, 5)) return luaL_argerror(L, 5, "unexpected argument");
  return two_results(L, t, dim, largest, k);
}

/* ---- methods: arithmetic: tensor op tensor, tensor op number, number op tensor ---- */

static int arith(lua_State *L, enum nn_binop op) {
  nn_tensor *a = lnn_totensor(L, 1), *b = lnn_totensor(L, 2);
  nn_ctx *ctx = getctx(L);
  if (!a && !b) lnn_checktensor(L, 1);
  if (a && b) {
    LTensor *u = lnn_newtensor(L);
    return lnn_finish(L, u, nn_ag_binary(ctx, op, a, b));
  }
  float s = lnn_checkfloat(L, a ? 2 : 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_binary_scalar(ctx, op, a ? a : b, s, a == NULL));
}

/* methods take no argument after the operand (a typo must not pass) */
static int arith_method(lua_State *L, enum nn_binop op) {
  if (!lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "unexpected argument");
  return arith(L, op);
}

/* x:add(y, alpha) = x + alpha * y and x:sub(y, alpha) = x - alpha * y, as in PyTorch */
static int add_alpha(lua_State *L, float sign) {
  nn_tensor *a = lnn_checktensor(L, 1), *b = lnn_totensor(L, 2);
  float alpha = sign * lnn_checkfloat(L, 3);
  nn_ctx *ctx = getctx(L);
  if (!b) {
    float s = lnn_checkfloat(L, 2);
    LTensor *u = lnn_newtensor(L);
    return lnn_finish(L, u, nn_ag_binary_scalar(ctx, NN_ADD, a, alpha * s, 0));
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_axpy(ctx, a, alpha, b));
}

static int m_add(lua_State *L) { return lua_isnoneornil(L, 3) ? arith_method(L, NN_ADD) : add_alpha(L, 1); }
static int m_sub(lua_State *L) { return lua_isnoneornil(L, 3) ? arith_method(L, NN_SUB) : add_alpha(L, -1); }
static int m_mul(lua_State *L) { return arith_method(L, NN_MUL); }
static int m_div(lua_State *L) { return arith_method(L, NN_DIV); }
static int m_pow(lua_State *L) { return arith_method(L, NN_POW); }
static int t_eq(lua_State *L) { return arith_method(L, NN_EQ); }
static int t_ne(lua_State *L) { return arith_method(L, NN_NE); }
static int t_lt(lua_State *L) { return arith_method(L, NN_LT); }
static int t_le(lua_State *L) { return arith_method(L, NN_LE); }
static int t_gt(lua_State *L) { return arith_method(L, NN_GT); }
static int t_ge(lua_State *L) { return arith_method(L, NN_GE); }

static int t_matmul(lua_State *L) {
  nn_tensor *a = lnn_checktensor(L, 1), *b = lnn_checktensor(L, 2);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_matmul(getctx(L), a, b));
}

static int unary(lua_State *L, enum nn_unop op) {
  nn_tensor *a = lnn_checktensor(L, 1);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_unary(getctx(L), op, a));
}

static int t_neg(lua_State *L) { return unary(L, NN_NEG); }
static int t_exp(lua_State *L) { return unary(L, NN_EXP); }
static int t_log(lua_State *L) { return unary(L, NN_LOG); }
static int t_sqrt(lua_State *L) { return unary(L, NN_SQRT); }
static int t_abs(lua_State *L) { return unary(L, NN_ABS); }
static int t_sign(lua_State *L) { return unary(L, NN_SIGN); }
static int t_relu(lua_State *L) { return unary(L, NN_RELU); }
static int t_sigmoid(lua_State *L) { return unary(L, NN_SIGMOID); }
static int t_tanh(lua_State *L) { return unary(L, NN_TANH); }
static int t_sin(lua_State *L) { return unary(L, NN_SIN); }
static int t_cos(lua_State *L) { return unary(L, NN_COS); }
static int t_tan(lua_State *L) { return unary(L, NN_TAN); }
static int t_floor(lua_State *L) { return unary(L, NN_FLOOR); }
static int t_round(lua_State *L) { return unary(L, NN_ROUND); }
static int t_trunc(lua_State *L) { return unary(L, NN_TRUNC); }

static void clamp_args(lua_State *L, float *lo, float *hi) {
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    luaL_error(L, "clamp: give at least one of min and max");
  *lo = lua_isnoneornil(L, 2) ? NAN : lnn_checkfloat(L, 2);
  *hi = lua_isnoneornil(L, 3) ? NAN : lnn_checkfloat(L, 3);
  /* NaN is how the kernel says "no bound": a NaN the script gave would silently
   * clamp nothing on that side */
  if (!lua_isnoneornil(L, 2) && isnan(*lo)) luaL_argerror(L, 2, "min is NaN (leave it out, or pass nil, for no lower bound)");
  if (!lua_isnoneornil(L, 3) && isnan(*hi)) luaL_argerror(L, 3, "max is NaN (leave it out, or pass nil, for no upper bound)");
}

static int t_clamp(lua_State *L) {
  nn_tensor *a = lnn_checktensor(L, 1);
  float lo, hi;
  clamp_args(L, &lo, &hi);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_clamp(getctx(L), a, lo, hi));
}

/* ---- methods: reductions ---- */

/* x:f([dim [, keepdim]] [, {keepdim, unbiased, correction}]) */
static void reduce_args(lua_State *L, const nn_tensor *t, const char *fn, int *dim, int *keepdim,
                        int *correction) {
  static const char *const keys[] = {"dim", "keepdim", "unbiased", "correction", NULL};
  int arg = 2;
  *dim = -1;
  *keepdim = 0;
  if (lua_isinteger(L, arg) || lua_isnumber(L, arg)) *dim = lnn_checkdim(L, arg++, t->ndim);
  else if (lua_isnil(L, arg)) arg++;
  if (lua_isboolean(L, arg)) *keepdim = lua_toboolean(L, arg++);
  if (lua_istable(L, arg)) {
    lnn_checkopts(L, arg, fn, keys);
    if (lua_getfield(L, arg, "dim") != LUA_TNIL) *dim = lnn_checkdim(L, -1, t->ndim);
    if (lua_getfield(L, arg, "keepdim") != LUA_TNIL) *keepdim = lua_toboolean(L, -1);
    if (lua_getfield(L, arg, "unbiased") != LUA_TNIL) *correction = lua_toboolean(L, -1);
    if (lua_getfield(L, arg, "correction") != LUA_TNIL) {
      lua_Integer c = luaL_checkinteger(L, -1);
      if (c < INT_MIN || c > INT_MAX)
        luaL_error(L, "%s: correction %I is out of range (%d..%d)", fn, c, INT_MIN, INT_MAX);
      *correction = (int)c;
    }
    lua_pop(L, 4);
    arg++;
  }
  if (!lua_isnone(L, arg))
    luaL_argerror(L, arg, lua_pushfstring(L, "unexpected argument to %s (%s)", fn, luaL_typename(L, arg)));
}

static int reduce(lua_State *L, enum nn_redop op, const char *fn, int take_sqrt) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int dim, keepdim, correction = 1;
  reduce_args(L, t, fn, &dim, &keepdim, &correction);
  nn_ctx *ctx = getctx(L);
  LTensor *u = lnn_newtensor(L);
  nn_tensor *r = nn_ag_reduce(ctx, op, t, dim, keepdim, correction);
  if (r && take_sqrt) {
    nn_tensor *s = nn_ag_unary(ctx, NN_SQRT, r);
    nn_tensor_free(r);
    r = s;
  }
  return lnn_finish(L, u, r);
}

static int t_sum(lua_State *L) { return reduce(L, NN_SUM, "sum", 0); }
static int t_mean(lua_State *L) { return reduce(L, NN_MEAN, "mean", 0); }
static int t_var(lua_State *L) { return reduce(L, NN_VAR, "var", 0); }
static int t_std(lua_State *L) { return reduce(L, NN_VAR, "std", 1); }

/* max() -> value; max(dim [, keepdim]) -> values, indices; max(other) -> elementwise */
static int minmax(lua_State *L, enum nn_redop op, int want_values, int want_indices) {
  const char *fn = op == NN_MAX ? (want_values ? "max" : "argmax") : (want_values ? "min" : "argmin");
  nn_tensor *t = lnn_checktensor(L, 1);
  if (want_values && lnn_totensor(L, 2)) return arith(L, op == NN_MAX ? NN_MAXIMUM : NN_MINIMUM);
  int dim, keepdim, correction = 0;
  reduce_args(L, t, fn, &dim, &keepdim, &correction);
  nn_tensor *v, *ix;
  LTensor *uv = lnn_newtensor(L), *ui = lnn_newtensor(L);
  if (nn_ag_reduce_arg(getctx(L), op, t, dim, keepdim, &v, &ix)) return lnn_error(L);
  uv->t = v;
  ui->t = ix;
  if (!want_indices) lua_pop(L, 1);
  else if (!want_values) lua_remove(L, -2);
  lnn_gcaccount(L, getctx(L));
  return want_values && want_indices ? 2 : 1;
}

static int t_max(lua_State *L) { return minmax(L, NN_MAX, 1, !lua_isnoneornil(L, 2)); }
static int t_min(lua_State *L) { return minmax(L, NN_MIN, 1, !lua_isnoneornil(L, 2)); }
static int t_argmax(lua_State *L) { return minmax(L, NN_MAX, 0, 1); }
static int t_argmin(lua_State *L) { return minmax(L, NN_MIN, 0, 1); }

static int t_softmax_like(lua_State *L, int take_log) {
  nn_tensor *t = lnn_checktensor(L, 1);
  int d = lnn_checkdim(L, 2, t->ndim);
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_softmax(getctx(L), t, d, take_log));
}
static int t_softmax(lua_State *L) { return t_softmax_like(L, 0); }
static int t_log_softmax(lua_State *L) { return t_softmax_like(L, 1); }

/* ---- methods: in place: each returns the tensor itself ---- */

/* the check every in-place method makes first */
static nn_tensor *checkinplace(lua_State *L, const char *fn) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (nn_check_inplace(getctx(L), fn, t)) lnn_error(L);
  return t;
}

static int done_inplace(lua_State *L, int rc) {
  if (rc) return lnn_error(L);
  lua_settop(L, 1);
  return 1;
}

static int t_fill_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "fill_");
  return done_inplace(L, nn_fill_(getctx(L), t, lnn_checkfloat(L, 2)));
}

static int t_zero_(lua_State *L) {
  return done_inplace(L, nn_fill_(getctx(L), checkinplace(L, "zero_"), 0.0f));
}

static int t_copy_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "copy_"), *src = lnn_checktensor(L, 2);
  return done_inplace(L, nn_copy_(getctx(L), t, src));
}

static int inplace_binary(lua_State *L, enum nn_binop op, const char *fn) {
  nn_tensor *t = checkinplace(L, fn), *b = lnn_totensor(L, 2);
  nn_ctx *ctx = getctx(L);
  if (b) return done_inplace(L, nn_binary_(ctx, op, t, b));
  return done_inplace(L, nn_binary_scalar_(ctx, op, t, lnn_checkfloat(L, 2)));
}

static int t_add_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "add_"), *b = lnn_totensor(L, 2);
  if (lua_isnoneornil(L, 3)) return inplace_binary(L, NN_ADD, "add_");
  float alpha = lnn_checkfloat(L, 3);
  if (b) return done_inplace(L, nn_axpy_(getctx(L), t, alpha, b));
  return done_inplace(L, nn_binary_scalar_(getctx(L), NN_ADD, t, alpha * lnn_checkfloat(L, 2)));
}
static int t_sub_(lua_State *L) { return inplace_binary(L, NN_SUB, "sub_"); }
static int t_mul_(lua_State *L) { return inplace_binary(L, NN_MUL, "mul_"); }
static int t_div_(lua_State *L) { return inplace_binary(L, NN_DIV, "div_"); }

static int t_clamp_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "clamp_");
  float lo, hi;
  clamp_args(L, &lo, &hi);
  return done_inplace(L, nn_clamp_(getctx(L), t, lo, hi));
}

/* argument arg (default def) as a finite float32 */
static float optfinite(lua_State *L, int arg, double def, const char *name) {
  lua_Number v = luaL_optnumber(L, arg, def);
  if (!(fabs(v) <= FLT_MAX))
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a finite float32 number, got %f",
                                          name, v));
  return (float)v;
}

static int t_uniform_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "uniform_");
  float a = optfinite(L, 2, 0, "a"), b = optfinite(L, 3, 1, "b");
  return done_inplace(L, nn_uniform_(getctx(L), lnn_optgenerator(L, 4), t, a, b));
}

static int t_normal_(lua_State *L) {
  nn_tensor *t = checkinplace(L, "normal_");
  float m = optfinite(L, 2, 0, "mean"), s = optfinite(L, 3, 1, "std");
  return done_inplace(L, nn_normal_(getctx(L), lnn_optgenerator(L, 4), t, m, s));
}

/* ---- metamethods ---- */

/* x[i]: sub-tensor along dim 1 (a number for 1-d); negative i counts from the end */
static int64_t checkindex(lua_State *L, const nn_tensor *t, int arg) {
  int isint;
  lua_Integer i = lua_tointegerx(L, arg, &isint);
  if (!isint) luaL_error(L, "tensor index must be an integer, got %s", luaL_tolstring(L, arg, NULL));
  if (t->ndim == 0) luaL_error(L, "cannot index a 0-d tensor (use item())");
  int64_t n = t->shape[0];
  if (i < 0) i += n + 1;
  if (i < 1 || i > n)
    luaL_error(L, "index %I is out of range for dim 1 of size %I (indices are 1-based)",
               lua_tointeger(L, arg), (lua_Integer)n);
  return i - 1;
}

static int t_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "shape") == 0) {
      pushshape(L, lnn_checktensor(L, 1));
      return 1;
    }
    if (strcmp(k, "requires_grad") == 0 || strcmp(k, "grad") == 0 || strcmp(k, "grad_fn") == 0)
      return autograd_field(L, lnn_checktensor(L, 1), k);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__methods");
    lua_getfield(L, -1, k);
    return 1;
  }
  nn_tensor *t = lnn_checktensor(L, 1);
  int64_t i = checkindex(L, t, 2);
  if (t->ndim == 1) {
    lua_pushnumber(L, nn_tensor_data(t)[i * t->stride[0]]);
    return 1;
  }
  LTensor *u = lnn_newtensor(L);
  return lnn_finish(L, u, nn_ag_selected(getctx(L), nn_tensor_select(getctx(L), t, 0, i), t, 0, i));
}

static int t_newindex(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "requires_grad") == 0) return set_requires_grad(L, t, 3);
    if (strcmp(k, "grad") == 0) return set_grad(L, t, 3);
    return luaL_error(L, "cannot set field '%s' of a tensor", k);
  }
  int64_t i = checkindex(L, t, 2);
  nn_ctx *ctx = getctx(L);
  if (nn_check_inplace(ctx, "x[i] = v", t)) return lnn_error(L);
  nn_tensor *src = lnn_totensor(L, 3);
  float v = src ? 0 : lnn_checkfloat(L, 3);
  nn_tensor *dst = nn_tensor_select(ctx, t, 0, i);
  int rc = !dst ? -1 : src ? nn_copy_(ctx, dst, src) : nn_fill_(ctx, dst, v);
  nn_tensor_free(dst);
  return rc ? lnn_error(L) : 0;
}

static int t_len(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  if (t->ndim == 0) return luaL_error(L, "#: a 0-d tensor has no length");
  lua_pushinteger(L, t->shape[0]);
  return 1;
}

/* __gc and __close: closes the handle; frees now when no C function can be
 * using the tensor, else at finalization (common.h, "Userdata lifetimes") */
static int t_gc(lua_State *L) {
  LTensor *u = lnn_checkudata(L, 1, TENSOR_MT);
  if (u->t) {                     /* held is NULL while t is set */
    u->held = u->t;
    u->t = NULL;
  }
  if (u->held && lnn_releasable(L)) {
    nn_tensor *t = u->held;
    u->held = NULL;
    nn_tensor_free(t);
  }
  return 0;
}

static int t_tostring(lua_State *L) {
  LTensor *u = lnn_checkudata(L, 1, TENSOR_MT);
  if (!u->t) {
    lua_pushliteral(L, "tensor(<freed>)");
    return 1;
  }
  char *s = nn_tensor_format(u->t);
  if (!s) return luaL_error(L, "tostring: out of memory");
  lua_pushstring(L, s);
  free(s);
  return 1;
}

/* x + y, x - y, x * y, x / y, x ^ y: tensor op tensor, tensor op number, number op tensor */
static int t_add(lua_State *L) { return arith(L, NN_ADD); }
static int t_sub(lua_State *L) { return arith(L, NN_SUB); }
static int t_mul(lua_State *L) { return arith(L, NN_MUL); }
static int t_div(lua_State *L) { return arith(L, NN_DIV); }
static int t_pow(lua_State *L) { return arith(L, NN_POW); }

/* x < y, x <= y (and > >=, which Lua turns into them): Lua needs one boolean */
static int t_compare(lua_State *L) {
  return luaL_error(L, "tensors cannot be compared with <, <=, > or >= (Lua wants one true or false): "
                    "use x:lt(y), x:le(y), x:gt(y) or x:ge(y) for a 0/1 tensor, or x:item() < y for a number");
}

/* ---- the tables: module functions, methods, metamethods ---- */

static const luaL_Reg funcs[] = {   /* the rest are l_tensor_new.c's */
  {"Generator", lnn_generator_new},
  {"get_rng_state", lnn_get_rng_state}, {"set_rng_state", lnn_set_rng_state},
  {"save", lnn_tensor_save}, {"load", lnn_tensor_load},
  {"where", l_where}, {"outer", t_outer}, {"diag", t_diag}, {"tril", t_tril}, {"triu", t_triu},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"size", t_size}, {"dim", t_dim}, {"numel", t_numel},
  {"item", t_item}, {"totable", t_totable}, {"clone", t_clone}, {"contiguous", t_contiguous},
  {"equal", t_equal},
  {"view", t_view}, {"reshape", t_reshape}, {"flatten", t_flatten}, {"t", t_t},
  {"transpose", t_transpose}, {"permute", t_permute}, {"squeeze", t_squeeze},
  {"unsqueeze", t_unsqueeze}, {"narrow", t_narrow}, {"select", t_select}, {"slice", t_slice}, {"expand", t_expand},
  {"index_select", t_index_select}, {"gather", t_gather}, {"masked_fill", t_masked_fill},
  {"masked_select", t_masked_select},
  {"add", m_add}, {"sub", m_sub}, {"mul", m_mul}, {"div", m_div}, {"pow", m_pow},
  {"matmul", t_matmul},
  {"exp", t_exp}, {"log", t_log}, {"sqrt", t_sqrt}, {"abs", t_abs}, {"neg", t_neg},
  {"sign", t_sign}, {"relu", t_relu}, {"sigmoid", t_sigmoid}, {"tanh", t_tanh},
  {"sin", t_sin}, {"cos", t_cos}, {"tan", t_tan},
  {"floor", t_floor}, {"round", t_round}, {"trunc", t_trunc},
  {"clamp", t_clamp},
  {"where", t_where}, {"outer", t_outer}, {"diag", t_diag}, {"tril", t_tril}, {"triu", t_triu},
  {"cumsum", t_cumsum}, {"norm", t_norm}, {"sort", t_sort}, {"topk", t_topk},
  {"sum", t_sum}, {"mean", t_mean}, {"var", t_var}, {"std", t_std},
  {"max", t_max}, {"min", t_min}, {"argmax", t_argmax}, {"argmin", t_argmin},
  {"eq", t_eq}, {"ne", t_ne}, {"lt", t_lt}, {"le", t_le}, {"gt", t_gt}, {"ge", t_ge},
  {"fill_", t_fill_}, {"zero_", t_zero_}, {"copy_", t_copy_}, {"add_", t_add_},
  {"sub_", t_sub_}, {"mul_", t_mul_}, {"div_", t_div_}, {"clamp_", t_clamp_},
  {"uniform_", t_uniform_}, {"normal_", t_normal_},
  {"softmax", t_softmax}, {"log_softmax", t_log_softmax},
  {"requires_grad_", t_requires_grad_}, {"backward", t_backward}, {"detach", t_detach},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__index", t_index}, {"__newindex", t_newindex}, {"__len", t_len},
  {"__tostring", t_tostring}, {"__gc", t_gc}, {"__close", t_gc},
  {"__add", t_add}, {"__sub", t_sub}, {"__mul", t_mul}, {"__div", t_div},
  {"__pow", t_pow}, {"__unm", t_neg}, {"__lt", t_compare}, {"__le", t_compare},
  {NULL, NULL}
};

static void createmeta(lua_State *L) {
  if (!luaL_newmetatable(L, TENSOR_MT)) {
    lua_pop(L, 1);
    return;
  }
  lnn_setfuncs(L, metamethods);
  lua_newtable(L);
  lnn_setmethods(L, methods, "x");
  lua_setfield(L, -2, "__methods");
  lua_pop(L, 1);
}

int luaopen_nn_tensor(lua_State *L) {
  createmeta(L);
  lnn_generator_createmeta(L);
  lua_newtable(L);
  lnn_tensor_newfuncs(L);
  lnn_setfuncs(L, funcs);
  return 1;
}
