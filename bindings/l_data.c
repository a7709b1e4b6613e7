/* l_data.c -- nn.ImageSet userdata (8-bit images with labels, nn/data/data.c) and
 * the transform kernels, as the Lua package "data._C". stdlib/datasets and
 * stdlib/transforms build the user-facing classes on top; stdlib/data's
 * DataLoader asks an ImageSet for whole batches.
 *
 * Also nn.Indices: sample indices as exact 64-bit integers (a float32 tensor
 * holds whole numbers exactly only up to 2^24), for Subset, random_split and
 * the DataLoader's epoch order. Its values live inside the userdata (no __gc,
 * nothing to free early); 1..n without shuffling is kept as a range.
 *
 * Also CSV files: csv_read turns the records of nn/io/csv.h's reader into
 * Lua records for data.read_csv, or straight into float tensors for
 * datasets.CSV (its nn.CSVReader userdata only owns the reader for the length
 * of the call); write_file writes data.write_csv's text atomically
 * (nn/io/atomic.h).
 *
 * These functions are internal but validate like public ones: tables are read
 * raw (no metamethod runs in the middle of a call, so nothing a call holds
 * can be freed under it), counts and ranges are checked without overflow,
 * and paths with a NUL inside are refused.
 *
 * A transform step crosses as a table: {kind = "totensor" | "normalize" |
 * "flatten" | "hflip" | "crop", mean, std, p, size = {h, w}, padding =
 * {left, top, right, bottom}, padding_mode, pad_if_needed, fill, generator}. */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common.h"
#include "l_tensor.h"
#include "l_generator.h"
#include "nn/data/data.h"
#include "nn/io/png.h"
#include "nn/io/infile.h"
#include "nn/io/atomic.h"
#include "nn/io/gate.h"
#include "nn/io/csv.h"
#include "bindings.h"

static const char imageset_mt[] = "nn.ImageSet", indices_mt[] = "nn.Indices",
                  csvreader_mt[] = "nn.CSVReader";
#define IMAGESET_MT imageset_mt
#define INDICES_MT indices_mt
#define CSVREADER_MT csvreader_mt
#define FLOAT_EXACT ((int64_t)1 << 24)   /* float32 holds every whole number up to this */
#define STACK_IDX 256                 /* batch indices kept on the stack up to this many */

/* live 0: not built yet, or closed; held: closed but not yet released (common.h) */
typedef struct LImageSet { const char *tname; nn_imageset s; int live, held; } LImageSet;

/* The live image set at arg. Any allocation through Lua may run finalizers,
 * and a script's finalizer can call the set's __gc as a plain function: so a
 * binding checks the set after its last Lua allocation, then runs C only. */
static LImageSet *checkset(lua_State *L, int arg) {
  LImageSet *u = lnn_checkudata(L, arg, IMAGESET_MT);
  if (!u->live) luaL_argerror(L, arg, "image set has been freed");
  return u;
}

static LImageSet *newset(lua_State *L) {
  return lnn_newudata(L, sizeof(LImageSet), IMAGESET_MT);
}

/* Tells the collector about the set's bytes, as tensors do (they are in the
 * counted total: nn/mem.h). */
static int finishset(lua_State *L, LImageSet *u, int rc) {
  nn_ctx *ctx = getctx(L);
  if (rc != 0) return lnn_error(L);
  u->live = 1;
  lnn_gcaccount(L, ctx);
  return 1;
}

/* The byte limit at arg: absent (NN_DATA_MAXBYTES) or a whole number >= 1. */
static size_t optmaxbytes(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return NN_DATA_MAXBYTES;
  int isint;
  lua_Integer v = lua_tointegerx(L, arg, &isint);
  if (!isint || v < 1)
    luaL_argerror(L, arg, "max_bytes must be a whole number of bytes >= 1");
  return (size_t)v;
}

/* imageset_idx(images_path, labels_path [, max_bytes]) */
static int d_imageset_idx(lua_State *L) {
  const char *images = lnn_checkpath(L, 1), *labels = lnn_checkpath(L, 2);
  size_t max = optmaxbytes(L, 3);
  LImageSet *u = newset(L);
  return finishset(L, u, nn_imageset_from_idx(getctx(L), images, labels, max, &u->s));
}

/* imageset_png({path...}, {label...} [, max_bytes]) with 1-based labels; plain
 * arrays, read raw */
static int d_imageset_png(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t max = optmaxbytes(L, 3);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  luaL_argcheck(L, n >= 1, 1, "no image files");
  luaL_argcheck(L, (lua_Integer)lua_rawlen(L, 2) == n, 2, "one label per file expected");
  luaL_argcheck(L, n <= INT32_MAX, 1, "too many image files");
  const char **paths = lua_newuserdatauv(L, (size_t)n * sizeof *paths, 0);   /* freed by the GC */
  int32_t *labels = lua_newuserdatauv(L, (size_t)n * sizeof *labels, 0);
  lua_createtable(L, (int)n, 0);      /* keeps the paths: the list may be a proxy (common.h) */
  int keep = lua_gettop(L);
  for (lua_Integer i = 0; i < n; i++) {
    if (lua_rawgeti(L, 1, i + 1) != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "paths must be strings (entry %I is %s)", i + 1,
                                          luaL_typename(L, -1)));
    size_t len;
    paths[i] = lua_tolstring(L, -1, &len);
    if (strlen(paths[i]) != len)
      luaL_argerror(L, 1, lua_pushfstring(L, "path '%s' has a NUL byte inside", paths[i]));
    lua_rawseti(L, keep, i + 1);       /* our table keeps the string, whatever a finalizer does to the list */
    lua_rawgeti(L, 2, i + 1);
    int isint;
    lua_Integer lab = lua_tointegerx(L, -1, &isint);
    luaL_argcheck(L, isint && lab >= 1 && lab <= INT32_MAX, 2, "labels must be integers >= 1");
    labels[i] = (int32_t)(lab - 1);
    lua_pop(L, 1);
  }
  LImageSet *u = newset(L);
  return finishset(L, u, nn_imageset_from_pngs(getctx(L), paths, labels, n, max, &u->s));
}

static int64_t checkindex(lua_State *L, int arg, const nn_imageset *s) {
  lua_Integer i = luaL_checkinteger(L, arg);
  if (i < 1 || i > s->n)
    luaL_argerror(L, arg, lua_pushfstring(L, "index %I out of range 1..%I", i, (lua_Integer)s->n));
  return i - 1;
}

static int s_len(lua_State *L) {
  lua_pushinteger(L, checkset(L, 1)->s.n);
  return 1;
}

/* set:raw(i) -> float tensor [H, W] or [H, W, C] of 0..255 */
static int s_raw(lua_State *L) {
  LTensor *t = lnn_newtensor(L);      /* first: an allocation may run finalizers (see checkset) */
  LImageSet *u = checkset(L, 1);
  int64_t i = checkindex(L, 2, &u->s);
  return lnn_finish(L, t, nn_imageset_raw(getctx(L), &u->s, i));
}

/* set:label(i) -> integer 1..C */
static int s_label(lua_State *L) {
  LImageSet *u = checkset(L, 1);
  int64_t i = checkindex(L, 2, &u->s);
  lua_pushinteger(L, u->s.labels[i] + 1);
  return 1;
}

/* set:labels() -> float tensor [N] of labels 1..C */
static int s_labels(lua_State *L) {
  checkset(L, 1);
  LTensor *t = lnn_newtensor(L);
  LImageSet *u = checkset(L, 1);      /* again: still live after the allocation */
  int64_t n = u->s.n;
  nn_tensor *x = nn_tensor_empty(getctx(L), 1, &n);
  if (x) for (int64_t i = 0; i < n; i++) x->s->data[x->off + i] = (float)u->s.labels[i] + 1;
  return lnn_finish(L, t, x);
}

/* set:info() -> n, channels, height, width (0 when sizes differ), classes */
static int s_info(lua_State *L) {
  LImageSet *u = checkset(L, 1);
  lua_pushinteger(L, u->s.n);
  lua_pushinteger(L, u->s.c);
  lua_pushinteger(L, u->s.h);
  lua_pushinteger(L, u->s.w);
  lua_pushinteger(L, u->s.nclasses);
  return 5;
}

/* ---- steps ---- */

/* A number field of a step as a float32: absent gives dflt; NaN is kept (the
 * kernel's check names it); a finite value outside float32's range is an
 * error (converting it would be undefined behaviour). */
static float tofloat(lua_State *L, const char *k, int idx) {
  lua_Number v = lua_tonumber(L, idx);
  if (isfinite(v) && (v > FLT_MAX || v < -FLT_MAX))
    luaL_error(L, "transform step: '%s' = %f is outside float32's range", k, v);
  return (float)v;
}

static float fieldnum(lua_State *L, int t, const char *k, float dflt) {
  float v = dflt;
  lua_pushstring(L, k);
  if (lua_rawget(L, t) != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "transform step: '%s' must be a number", k);
    v = tofloat(L, k, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* a field of step t, read raw; pushes it and returns its type */
static int rawfield(lua_State *L, int t, const char *k) {
  lua_pushstring(L, k);
  return lua_rawget(L, t);
}

static int64_t fieldint(lua_State *L, int t, int i, const char *k) {
  int isint;
  lua_rawgeti(L, t, i);
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint || lua_type(L, -1) != LUA_TNUMBER)
    luaL_error(L, "transform step: '%s' must hold whole numbers", k);
  lua_pop(L, 1);
  return v;
}

static void floats(lua_State *L, int t, const char *k, float *out, int *n) {
  if (rawfield(L, t, k) != LUA_TTABLE) luaL_error(L, "transform step: '%s' must be a table", k);
  lua_Unsigned len = lua_rawlen(L, -1);
  if (len < 1 || len > NN_TF_MAXC)
    luaL_error(L, "transform step: '%s' needs 1 to %d values, got %I", k, NN_TF_MAXC,
               (lua_Integer)len);
  for (lua_Unsigned i = 1; i <= len; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i);
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "transform step: '%s' must hold numbers", k);
    out[i - 1] = tofloat(L, k, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  *n = (int)len;
}

static int option(lua_State *L, int t, const char *k, const char *dflt,
                  const char *const *names) {
  rawfield(L, t, k);
  const char *v = lua_isnil(L, -1) ? dflt : lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  for (int i = 0; v && names[i]; i++)
    if (strcmp(v, names[i]) == 0) { lua_pop(L, 1); return i; }
  return luaL_error(L, "transform step: bad '%s' (%s)", k, v ? v : luaL_typename(L, -1));
}

/* Reads the step table at index t (raw) into *st. A generator the step names
 * is pushed (else nil): the caller keeps it on the stack while st is used. */
static void checkstep(lua_State *L, int t, nn_tf_step *st) {
  static const char *const kinds[] = {"totensor", "normalize", "flatten", "hflip", "crop", NULL};
  static const char *const modes[] = {"constant", "edge", "reflect", "symmetric", NULL};
  t = lua_absindex(L, t);
  if (!lua_istable(L, t)) luaL_error(L, "transform step must be a table");
  memset(st, 0, sizeof *st);
  st->kind = option(L, t, "kind", NULL, kinds);
  if (st->kind == NN_TF_NORMALIZE) {
    int nstd;
    floats(L, t, "mean", st->mean, &st->nmean);
    floats(L, t, "std", st->std, &nstd);
    if (nstd != st->nmean) luaL_error(L, "Normalize: %d means but %d stds", st->nmean, nstd);
  } else if (st->kind == NN_TF_HFLIP) {
    st->p = fieldnum(L, t, "p", 0.5f);
  } else if (st->kind == NN_TF_CROP) {
    if (rawfield(L, t, "size") != LUA_TTABLE) luaL_error(L, "transform step: 'size' must be a table");
    st->ch = fieldint(L, -1, 1, "size");
    st->cw = fieldint(L, -1, 2, "size");
    lua_pop(L, 1);
    int ty = rawfield(L, t, "padding");
    if (ty == LUA_TTABLE)
      for (int k = 0; k < 4; k++) st->pad[k] = fieldint(L, -1, k + 1, "padding");
    else if (ty != LUA_TNIL) luaL_error(L, "transform step: 'padding' must be a table");
    lua_pop(L, 1);
    st->pad_mode = option(L, t, "padding_mode", "constant", modes);
    rawfield(L, t, "pad_if_needed");
    st->pad_if_needed = lua_toboolean(L, -1);
    lua_pop(L, 1);
    st->fill = fieldnum(L, t, "fill", 0.0f);
  }
  if (rawfield(L, t, "generator") != LUA_TNIL)
    st->rng = &((LGenerator *)lnn_checkudata(L, lua_gettop(L), GENERATOR_MT))->rng;
  if (nn_tf_check(getctx(L), st) != 0) lnn_error(L);
}

/* apply(step, x) -> the step applied to one sample */
static int d_apply(lua_State *L) {
  nn_tf_step st;
  checkstep(L, 1, &st);                 /* its generator stays on the stack */
  LTensor *t = lnn_newtensor(L);        /* before x is fetched: no allocation in between */
  nn_tensor *x = lnn_checktensor(L, 2);
  nn_ctx *ctx = getctx(L);
  return lnn_finish(L, t, nn_tf_apply(ctx, &st, &ctx->rng, x));
}

/* ---- sample indices: nn.Indices ---- */

typedef struct LIndices {
  const char *tname;  /* INDICES_MT (common.h, "Userdata lifetimes") */
  int64_t n;          /* how many */
  int64_t start;      /* > 0: the range start .. start+n-1, v unused; 0: the values are v */
  int64_t v[];        /* 1-based indices */
} LIndices;

static LIndices *newindices(lua_State *L, int64_t n, int64_t start) {
  size_t bytes = sizeof(LIndices) + (start > 0 ? 0 : (size_t)n * sizeof(int64_t));
  if (start == 0 && (uint64_t)n > (SIZE_MAX - sizeof(LIndices)) / sizeof(int64_t))
    luaL_error(L, "not enough memory for %I sample indices", (lua_Integer)n);
  LIndices *ix = lnn_newudata(L, bytes, INDICES_MT);
  ix->n = n;
  ix->start = start;
  return ix;
}

static LIndices *checkindices(lua_State *L, int arg) {
  return lnn_checkudata(L, arg, INDICES_MT);
}

static int64_t ix_at(const LIndices *ix, int64_t k) {     /* k 0-based, in range */
  return ix->start > 0 ? ix->start + k : ix->v[k];
}

/* The count at arg: a whole number >= 0. */
static int64_t checkcount(lua_State *L, int arg, const char *what) {
  int isint;
  lua_Integer n = lua_tointegerx(L, arg, &isint);
  if (!isint || n < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a whole number >= 0", what));
  return n;
}

/* indices(n) -> 1..n */
static int d_indices(lua_State *L) {
  int64_t n = checkcount(L, 1, "n");
  newindices(L, n, 1);
  return 1;
}

/* randperm(n [, generator]) -> 1..n shuffled, as tensor.randperm(n, generator) */
static int d_randperm(lua_State *L) {
  int64_t n = checkcount(L, 1, "n");
  nn_rng *r = lnn_optgenerator(L, 2);
  LIndices *ix = newindices(L, n, 0);
  nn_index_randperm(r, ix->v, n);
  return 1;
}

/* indices_of(values, n) -> the values (a plain Lua array of whole numbers, read
 * raw, or a 1-d tensor) checked to lie in 1..n. A tensor may hold at most 2^24:
 * beyond that float32 cannot say which whole number was meant. Errors start
 * with "indices" for the caller to prefix with its name. */
static int d_indices_of(lua_State *L) {
  int64_t n = checkcount(L, 2, "n");
  nn_tensor *t = lnn_totensor(L, 1);
  if (t) {
    if (t->ndim != 1)
      return luaL_error(L, "indices must be a 1-d tensor, got %d-d", t->ndim);
    LIndices *ix = newindices(L, t->shape[0], 0);
    for (int64_t k = 0; k < ix->n; k++) {
      float v = t->s->data[t->off + (size_t)(k * t->stride[0])];
      if (!(v >= 1 && v <= (float)FLOAT_EXACT) || v != floorf(v) || (int64_t)v > n) {
        if (v > (float)FLOAT_EXACT && v <= (float)n && v == floorf(v))
          return luaL_error(L, "indices[%I] holds %f, above 2^24 = 16777216, where a float32 "
                            "tensor cannot hold every whole number exactly; give the indices as "
                            "a Lua array of integers", (lua_Integer)k + 1, (double)v);
        return luaL_error(L, "indices must be whole numbers in 1..%I (indices[%I] is %f)",
                          (lua_Integer)n, (lua_Integer)k + 1, (double)v);
      }
      ix->v[k] = (int64_t)v;
    }
    return 1;
  }
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "indices must be a Lua array or a 1-d tensor, got %s", luaL_typename(L, 1));
  int64_t len = (int64_t)lua_rawlen(L, 1);
  LIndices *ix = newindices(L, len, 0);
  for (int64_t k = 0; k < len; k++) {
    int isint;
    lua_rawgeti(L, 1, k + 1);
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (lua_type(L, -1) != LUA_TNUMBER)
      return luaL_error(L, "indices[%I] is a %s, not a number", (lua_Integer)k + 1,
                        luaL_typename(L, -1));
    if (!isint || v < 1 || v > n)
      return luaL_error(L, "indices must be whole numbers in 1..%I (indices[%I] is %s)",
                        (lua_Integer)n, (lua_Integer)k + 1, luaL_tolstring(L, -1, NULL));
    ix->v[k] = v;
    lua_pop(L, 1);
  }
  return 1;
}

/* The range first, count (arguments a, a+1) within 1..len, without overflow. */
static void checkrange(lua_State *L, int a, int64_t len, int64_t *first, int64_t *count) {
  lua_Integer f = luaL_checkinteger(L, a), c = luaL_checkinteger(L, a + 1);
  if (f < 1 || c < 0 || f - 1 > len || c > len - (f - 1))
    luaL_argerror(L, a, lua_pushfstring(L, "range of %I from %I is outside 1..%I", c, f,
                                        (lua_Integer)len));
  *first = f - 1;
  *count = c;
}

static int ix_len(lua_State *L) {
  lua_pushinteger(L, checkindices(L, 1)->n);
  return 1;
}

/* ix:get(i) -> the i-th index, an integer */
static int ix_get(lua_State *L) {
  LIndices *ix = checkindices(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || i > ix->n)
    luaL_argerror(L, 2, lua_pushfstring(L, "position %I out of range 1..%I", i, (lua_Integer)ix->n));
  lua_pushinteger(L, ix_at(ix, i - 1));
  return 1;
}

/* ix:sub(first, count) -> a copy of positions first .. first+count-1 */
static int ix_sub(lua_State *L) {
  LIndices *ix = checkindices(L, 1);
  int64_t first, count;
  checkrange(L, 2, ix->n, &first, &count);
  if (ix->start > 0) { newindices(L, count, ix->start + first); return 1; }
  LIndices *r = newindices(L, count, 0);
  memcpy(r->v, ix->v + first, (size_t)count * sizeof *r->v);
  return 1;
}

/* ix:take(order) -> r with r[k] = ix[order[k]]: a Subset's indices seen through
 * an order of its positions (every order[k] must lie in 1..#ix) */
static int ix_take(lua_State *L) {
  LIndices *ix = checkindices(L, 1), *order = checkindices(L, 2);
  LIndices *r = newindices(L, order->n, 0);
  for (int64_t k = 0; k < order->n; k++) {
    int64_t p = ix_at(order, k);
    if (p < 1 || p > ix->n)
      return luaL_error(L, "take: position %I holds %I, outside 1..%I", (lua_Integer)k + 1,
                        (lua_Integer)p, (lua_Integer)ix->n);
    r->v[k] = ix_at(ix, p - 1);
  }
  return 1;
}

/* ix:tensor([first, count]) -> the indices as a float tensor; an error when one
 * is above 2^24, which float32 cannot hold exactly */
static int ix_tensor(lua_State *L) {
  LIndices *ix = checkindices(L, 1);
  int64_t first = 0, count = ix->n;
  if (!lua_isnoneornil(L, 2)) checkrange(L, 2, ix->n, &first, &count);
  for (int64_t k = first; k < first + count; k++)
    if (ix_at(ix, k) > FLOAT_EXACT)
      return luaL_error(L, "sample index %I (at position %I) is above 2^24 = 16777216: a float32 "
                        "tensor cannot hold it exactly", (lua_Integer)ix_at(ix, k),
                        (lua_Integer)k + 1);
  LTensor *u = lnn_newtensor(L);
  nn_tensor *t = nn_tensor_empty(getctx(L), 1, &count);
  if (t) for (int64_t k = 0; k < count; k++) t->s->data[t->off + k] = (float)ix_at(ix, first + k);
  return lnn_finish(L, u, t);
}

static int ix_tostring(lua_State *L) {
  LIndices *ix = checkindices(L, 1);
  lua_pushfstring(L, "Indices (%I)", (lua_Integer)ix->n);
  return 1;
}

/* ---- batches ---- */

/* set:batch(indices, first, count, steps) -> x, y: the samples at positions
 * first .. first+count-1 of indices (an nn.Indices, or a 1-d tensor of whole
 * numbers up to 2^24) through the steps (a plain array, read raw). */
static int s_batch(lua_State *L) {
  LImageSet *u = checkset(L, 1);
  LIndices *ix = lnn_testudata(L, 2, INDICES_MT);
  nn_tensor *it = ix ? NULL : lnn_checktensor(L, 2);
  if (it) luaL_argcheck(L, it->ndim == 1, 2, "indices must be a 1-d tensor");
  int64_t first, count;
  checkrange(L, 3, ix ? ix->n : it->shape[0], &first, &count);
  luaL_argcheck(L, count >= 1, 4, "a batch needs at least one sample");
  luaL_checktype(L, 5, LUA_TTABLE);
  lua_Unsigned nsteps = lua_rawlen(L, 5);
  luaL_argcheck(L, nsteps <= NN_TF_MAXSTEPS, 5, "too many transforms");
  nn_tf_step steps[NN_TF_MAXSTEPS];
  luaL_checkstack(L, 2 * (int)nsteps + 8, "too many transforms");
  for (int k = 0; k < (int)nsteps; k++) {
    lua_rawgeti(L, 5, k + 1);
    checkstep(L, -1, &steps[k]);        /* leaves the step and its generator on the stack */
  }
  int64_t stackidx[STACK_IDX], *idx = stackidx;
  if (count > STACK_IDX) idx = lua_newuserdatauv(L, (size_t)count * sizeof *idx, 0);
  LTensor *tx = lnn_newtensor(L), *ty = lnn_newtensor(L);
  /* the last Lua allocation is done: the set and the index tensor again, from here on C only */
  u = checkset(L, 1);
  if (it) {
    it = lnn_checktensor(L, 2);
    checkrange(L, 3, it->shape[0], &first, &count);
  }
  for (int64_t k = 0; k < count; k++) {
    int64_t v;
    if (ix) v = ix_at(ix, first + k);
    else {
      float f = it->s->data[it->off + (size_t)((first + k) * it->stride[0])];
      if (!(f >= 1 && f <= (float)FLOAT_EXACT) || f != floorf(f))
        return luaL_error(L, "batch: index %f is not a whole number in 1..16777216", (double)f);
      v = (int64_t)f;
    }
    if (v < 1 || v > u->s.n)
      return luaL_error(L, "batch: index %I out of range 1..%I", (lua_Integer)v,
                        (lua_Integer)u->s.n);
    idx[k] = v - 1;
  }
  nn_ctx *ctx = getctx(L);
  nn_tensor *x, *y;
  if (nn_imageset_batch(ctx, &u->s, idx, count, steps, (int)nsteps, &ctx->rng, &x, &y) != 0)
    return lnn_error(L);
  tx->t = x;
  ty->t = y;
  if (ix && first + 2 * count <= ix->n && count <= STACK_IDX) {   /* the next batch of this order */
    for (int64_t k = 0; k < count; k++) stackidx[k] = ix_at(ix, first + count + k) - 1;
    nn_imageset_prefetch(&u->s, stackidx, count);
  }
  lnn_gcaccount(L, ctx);
  return 2;
}

/* __gc and __close: closes the set; frees it when no C function can be using
 * it, else at finalization (common.h, "Userdata lifetimes") */
static int s_gc(lua_State *L) {
  LImageSet *u = lnn_checkudata(L, 1, IMAGESET_MT);
  u->live = 0;
  u->held = 1;
  if (lnn_releasable(L)) {
    u->held = 0;
    nn_imageset_free(&u->s);       /* safe on a set never built (zeroed) and twice */
  }
  return 0;
}

static int s_tostring(lua_State *L) {
  LImageSet *u = lnn_checkudata(L, 1, IMAGESET_MT);
  if (!u->live) lua_pushliteral(L, "ImageSet (freed)");
  else lua_pushfstring(L, "ImageSet (%I images, %d channels)", (lua_Integer)u->s.n, u->s.c);
  return 1;
}

/* ---- files and terminal, for datasets and the progress bar ---- */

static int cmpname(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* listdir(path) -> names (sorted bytewise), kinds, ids: parallel arrays.
 * kinds[i] is "dir", "file" (a regular file), "other" (FIFO, socket, device)
 * or "missing" (a broken link, or unreadable), symbolic links followed; ids[i]
 * is "device:inode" of what the name leads to ("" when missing), so a walk
 * can visit each folder and file once. Hidden entries (leading '.') are skipped. */
static int d_listdir(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  char why[512];
  if (nn_gate_test(path, NN_GATE_READ, why, sizeof why) != 0) return luaL_error(L, "%s", why);
  struct stat st;
  if (stat(path, &st) != 0)
    return luaL_error(L, "cannot open folder '%s': %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return luaL_error(L, "cannot open folder '%s': it is %s, not a folder", path,
                      S_ISREG(st.st_mode) ? "a file" : nn_file_kind(&st));
  DIR *d = opendir(path);
  if (!d) return luaL_error(L, "cannot open folder '%s': %s", path, strerror(errno));
  lua_newtable(L);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == INT32_MAX) break;
    lua_pushstring(L, e->d_name);     /* may raise (memory): d leaks then, as liolib's would */
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, -2, i + 1);
    names[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);                    /* still referenced by the table */
  }
  qsort(names, (size_t)n, sizeof *names, cmpname);
  lua_createtable(L, n, 0);
  lua_createtable(L, n, 0);
  lua_createtable(L, n, 0);
  luaL_Buffer b;
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -4, i + 1);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, path);
    luaL_addchar(&b, '/');
    luaL_addstring(&b, names[i]);
    luaL_pushresult(&b);
    const char *kind = "missing";
    if (stat(lua_tostring(L, -1), &st) == 0) {
      kind = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other";
      lua_pushfstring(L, "%I:%I", (lua_Integer)st.st_dev, (lua_Integer)st.st_ino);
    } else {
      lua_pushliteral(L, "");
    }
    lua_rawseti(L, -3, i + 1);
    lua_pop(L, 1);
    lua_pushstring(L, kind);
    lua_rawseti(L, -3, i + 1);
  }
  return 3;
}

/* filekind(path) -> kind, id as one entry of listdir gives them */
static int d_filekind(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  char why[512];
  if (nn_gate_test(path, NN_GATE_READ, why, sizeof why) != 0) return luaL_error(L, "%s", why);
  struct stat st;
  if (stat(path, &st) != 0) {
    lua_pushliteral(L, "missing");
    lua_pushliteral(L, "");
    return 2;
  }
  lua_pushstring(L, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
  lua_pushfstring(L, "%I:%I", (lua_Integer)st.st_dev, (lua_Integer)st.st_ino);
  return 2;
}

/* write_png(path, x): x [H, W] or [H, W, C] (C 1..4) of 0..255, rounded and
 * clamped; for tests and tools */
static int d_write_png(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  nn_tensor *x = lnn_checktensor(L, 2);
  int64_t c = x->ndim == 3 ? x->shape[2] : 1;
  luaL_argcheck(L, (x->ndim == 2 || x->ndim == 3) && c >= 1 && c <= 4, 2,
                "expected [H, W] or [H, W, C] with C 1 to 4");
  if (x->shape[0] > NN_PNG_MAXSIDE || x->shape[1] > NN_PNG_MAXSIDE)
    luaL_argerror(L, 2, lua_pushfstring(L, "image of %Ix%I is larger than %d per side",
                                        (lua_Integer)x->shape[1], (lua_Integer)x->shape[0],
                                        NN_PNG_MAXSIDE));
  nn_ctx *ctx = getctx(L);
  size_t n = (size_t)x->shape[0] * (size_t)x->shape[1] * (size_t)c;
  uint8_t *b = lua_newuserdatauv(L, n ? n : 1, 0);    /* freed by the GC, even on an error */
  nn_tensor *xc = nn_tensor_contiguous(ctx, x);
  if (!xc) return lnn_error(L);
  const float *d = xc->s->data + xc->off;
  for (size_t k = 0; k < n; k++) {
    float v = d[k] + 0.5f;
    b[k] = (uint8_t)(v >= 255 ? 255 : v > 0 ? v : 0);
  }
  nn_tensor_free(xc);
  if (nn_png_write(ctx, path, b, (int)x->shape[0], (int)x->shape[1], (int)c, NULL, 0) != 0)
    return lnn_error(L);
  return 0;
}

/* write_file(path, s): the string s as the whole file at path, written
 * atomically (nn/io/atomic.h): data.write_csv's writer */
static int d_write_file(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  if (nn_atomic_write(getctx(L), path, s, len) != 0) return lnn_error(L);
  return 0;
}

/* ---- CSV files, for data.read_csv and datasets.CSV (the parser: nn/io/csv.c) ---- */

/* The reader of one csv_read call. It sits in that call's stack slot alone
 * (scripts cannot read C slots: vm/guard.c), so after a Lua error its
 * finalizer frees the file's bytes. */
typedef struct LCSVReader { const char *tname; nn_csv *r; } LCSVReader;

static int csvr_gc(lua_State *L) {
  LCSVReader *u = lnn_checkudata(L, 1, CSVREADER_MT);
  if (lnn_releasable(L)) {
    nn_csv_close(u->r);
    u->r = NULL;
  }
  return 0;
}

/* Raises r's last error, whole (ctx->err may hold only its start). */
static int csv_error(lua_State *L, const nn_csv *r) {
  size_t n = nn_csv_message(r, NULL, 0);
  if (n == 0) return lnn_error(L);
  luaL_Buffer b;
  char *s = luaL_buffinitsize(L, &b, n + 1);
  nn_csv_message(r, s, n + 1);
  luaL_pushresultsize(&b, n);
  return lua_error(L);
}

/* Pushes the number the text of f is (nn_csv_number) and returns 1, or
 * returns 0 with nothing pushed. */
static int csv_pushnumber(lua_State *L, const nn_csv_field *f) {
  int64_t i;
  double d;
  switch (nn_csv_number(f->p, f->n, &i, &d)) {
    case NN_CSV_INT: lua_pushinteger(L, i); return 1;
    case NN_CSV_FLOAT: lua_pushnumber(L, d); return 1;
    default: return 0;
  }
}

/* Reads the header into a new table of names (pushed); returns their count
 * (1..INT32_MAX). */
static int64_t csv_names(lua_State *L, nn_csv *r) {
  const nn_csv_field *f;
  int64_t n;
  if (nn_csv_header(getctx(L), r, &f, &n) != 0) csv_error(L, r);
  lua_createtable(L, (int)n, 0);
  for (int64_t k = 0; k < n; k++) {
    lua_pushlstring(L, f[k].p, f[k].n);
    lua_rawseti(L, -2, k + 1);
  }
  return n;
}

/* The rows as records keyed by the names at index names, in a new table
 * (pushed) with .columns = names. Unquoted fields that are numbers become
 * numbers, empty unquoted fields are left out (nil), anything else, and
 * every quoted field, is a string. */
static int csv_records(lua_State *L, nn_csv *r, int names, int64_t ncols) {
  nn_ctx *ctx = getctx(L);
  lua_newtable(L);
  int rows = lua_gettop(L);
  lua_pushvalue(L, names);
  lua_setfield(L, rows, "columns");
  const nn_csv_field *f;
  int64_t n, line, i = 0;
  int rc;
  while ((rc = nn_csv_next(ctx, r, &f, &n, &line)) > 0) {
    lua_createtable(L, 0, (int)ncols);
    for (int64_t k = 0; k < ncols; k++) {
      if (f[k].n == 0 && !f[k].quoted) continue;
      lua_rawgeti(L, names, k + 1);
      if (f[k].quoted || !csv_pushnumber(L, &f[k])) lua_pushlstring(L, f[k].p, f[k].n);
      lua_rawset(L, -3);
    }
    lua_rawseti(L, rows, ++i);
  }
  if (rc < 0) csv_error(L, r);
  return 1;
}

/* Raises the error for field f (column k, 0-based) of the file at path that
 * is not a number. */
static int csv_notnumber(lua_State *L, const char *path, int names, const nn_csv_field *f,
                         int64_t k) {
  lua_rawgeti(L, names, k + 1);
  const char *name = lua_tostring(L, -1);
  if (f->n == 0)
    return luaL_error(L, "'%s' line %I, column %I ('%s'): the field is empty; every field of the "
                      "columns used must be a number", path, (lua_Integer)f->line,
                      (lua_Integer)k + 1, name);
  size_t show = f->n > 40 ? 40 : f->n;
  lua_pushlstring(L, f->p, show);
  return luaL_error(L, "'%s' line %I, column %I ('%s'): '%s%s' is not a number", path,
                    (lua_Integer)f->line, (lua_Integer)k + 1, name, lua_tostring(L, -1),
                    show < f->n ? "..." : "");
}

/* The columns numbered in the groups table at index groups (an array of
 * arrays of column numbers 1..ncols) as float tensors [N, #group], pushed in
 * order. Every field of those columns must be a number within float32's
 * range; quoted numbers count too. */
static int csv_numbers(lua_State *L, nn_csv *r, const char *path, int names, int64_t ncols,
                       int groups) {
  nn_ctx *ctx = getctx(L);
  lua_Integer ng = (lua_Integer)lua_rawlen(L, groups);
  if (ng < 1 || ng > 16) luaL_error(L, "csv_read: 1 to 16 groups of columns expected");
  luaL_checkstack(L, 2 * (int)ng + 8, "csv_read: too many groups");
  int64_t *cols[16], width[16];
  int64_t ub = nn_csv_records_left(r);      /* rows to make room for */
  LTensor *out[16];
  for (int g = 0; g < ng; g++) {
    if (lua_rawgeti(L, groups, g + 1) != LUA_TTABLE) luaL_error(L, "csv_read: groups must be tables");
    width[g] = (int64_t)lua_rawlen(L, -1);
    if (width[g] < 1 || width[g] > ncols) luaL_error(L, "csv_read: a group needs 1 to %I columns", (lua_Integer)ncols);
    cols[g] = lua_newuserdatauv(L, (size_t)width[g] * sizeof(int64_t), 0);
    for (int64_t j = 0; j < width[g]; j++) {
      int isint;
      lua_rawgeti(L, -2, j + 1);
      lua_Integer c = lua_tointegerx(L, -1, &isint);
      if (!isint || c < 1 || c > ncols) luaL_error(L, "csv_read: column numbers must lie in 1..%I", (lua_Integer)ncols);
      cols[g][j] = c - 1;
      lua_pop(L, 1);
    }
    lua_replace(L, -2);                     /* keep the numbers, drop the group */
  }
  for (int g = 0; g < ng; g++) {
    out[g] = lnn_newtensor(L);
    int64_t shape[2] = {ub, width[g]};
    if (!(out[g]->t = nn_tensor_empty(ctx, 2, shape))) lnn_error(L);
  }
  const nn_csv_field *f;
  int64_t n, line, i = 0;
  int rc;
  while ((rc = nn_csv_next(ctx, r, &f, &n, &line)) > 0) {
    for (int g = 0; g < ng; g++) {
      float *row = nn_tensor_data(out[g]->t) + i * width[g];
      for (int64_t j = 0; j < width[g]; j++) {
        const nn_csv_field *fj = &f[cols[g][j]];
        int64_t iv;
        double v = 0;
        int kind = nn_csv_number(fj->p, fj->n, &iv, &v);
        if (kind == NN_CSV_TEXT) csv_notnumber(L, path, names, fj, cols[g][j]);
        if (kind == NN_CSV_INT) v = (double)iv;
        if (isfinite(v) && (v > FLT_MAX || v < -FLT_MAX)) {
          lua_rawgeti(L, names, cols[g][j] + 1);
          lua_pushlstring(L, fj->p, fj->n);
          luaL_error(L, "'%s' line %I, column %I ('%s'): %s is outside float32's range "
                     "(about 3.4e38)", path, (lua_Integer)fj->line,
                     (lua_Integer)cols[g][j] + 1, lua_tostring(L, -2), lua_tostring(L, -1));
        }
        row[j] = (float)v;
      }
    }
    i++;
  }
  if (rc < 0) csv_error(L, r);
  for (int g = 0; g < ng; g++) {            /* the rows read, of the ub made */
    nn_tensor *t = out[g]->t, *v = nn_tensor_narrow(ctx, t, 0, 0, i);
    if (!v) lnn_error(L);
    if (i < ub / 2) {                       /* many blank lines or multi-line fields: give back the rest */
      nn_tensor *c = nn_tensor_clone(ctx, v);
      nn_tensor_free(v);
      if (!(v = c)) lnn_error(L);
    }
    out[g]->t = v;
    nn_tensor_free(t);
  }
  lnn_gcaccount(L, ctx);
  return (int)ng;                           /* the tensors are the top ng values */
}

/* csv_read(path [, choose]) -> rows: the CSV file at path (nn/io/csv.h: RFC
 * 4180; \r\n, \n or \r line ends; a UTF-8 BOM skipped; the first line is the
 * header) as records keyed by column name, rows.columns the names in order.
 * With choose: calls choose(names), which returns an array of arrays of
 * column numbers, and returns one float tensor [N, #group] per group, then
 * names. Errors name the file and the line. */
static int d_csv_read(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  int choose = !lua_isnoneornil(L, 2);
  if (choose) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  LCSVReader *u = lnn_newudata(L, sizeof *u, CSVREADER_MT);   /* slot 3: the owner first */
  nn_ctx *ctx = getctx(L);
  if (nn_csv_open(ctx, path, &u->r) != 0) return lnn_error(L);
  nn_csv *r = u->r;
  lnn_gcaccount(L, ctx);                    /* its text is in the counted total (nn/mem.h) */
  int64_t ncols = csv_names(L, r);          /* slot 4: the names */
  int nret;
  if (!choose) {
    nret = csv_records(L, r, 4, ncols);
  } else {
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 4);
    lua_call(L, 1, 1);                      /* slot 5: the groups */
    luaL_checktype(L, 5, LUA_TTABLE);
    nret = csv_numbers(L, r, path, 4, ncols, 5);
    lua_pushvalue(L, 4);
    nret++;
  }
  nn_csv_close(r);                          /* now rather than at the next cycle */
  u->r = NULL;
  return nret;
}

/* isatty(fd) -> boolean */
static int d_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd >= 0 && fd <= INT32_MAX, 1, "not a file descriptor");
  lua_pushboolean(L, isatty((int)fd));
  return 1;
}

/* clock() -> seconds on a monotonic clock */
static int d_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"imageset_idx", d_imageset_idx}, {"imageset_png", d_imageset_png}, {"apply", d_apply},
  {"listdir", d_listdir}, {"filekind", d_filekind}, {"write_png", d_write_png},
  {"write_file", d_write_file}, {"csv_read", d_csv_read}, {"indices", d_indices},
  {"randperm", d_randperm}, {"indices_of", d_indices_of}, {"isatty", d_isatty}, {"clock", d_clock},
  {NULL, NULL}
};

static const luaL_Reg meth[] = {
  {"raw", s_raw}, {"label", s_label}, {"labels", s_labels}, {"info", s_info},
  {"batch", s_batch},
  {NULL, NULL}
};

static const luaL_Reg metameth[] = {
  {"__len", s_len}, {"__gc", s_gc}, {"__close", s_gc}, {"__tostring", s_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

static const luaL_Reg ix_meth[] = {
  {"get", ix_get}, {"sub", ix_sub}, {"take", ix_take}, {"tensor", ix_tensor},
  {NULL, NULL}
};

static const luaL_Reg ix_metameth[] = {
  {"__len", ix_len}, {"__tostring", ix_tostring}, {"__index", NULL},
  {NULL, NULL}
};

static const luaL_Reg csvr_metameth[] = {
  {"__gc", csvr_gc},
  {NULL, NULL}
};

static void createmeta(lua_State *L) {
  luaL_newmetatable(L, IMAGESET_MT);
  lnn_setfuncs(L, metameth);
  luaL_newlibtable(L, meth);
  lnn_setfuncs(L, meth);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, INDICES_MT);
  lnn_setfuncs(L, ix_metameth);
  luaL_newlibtable(L, ix_meth);
  lnn_setfuncs(L, ix_meth);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, CSVREADER_MT);
  lnn_setfuncs(L, csvr_metameth);
  lua_pop(L, 1);
}

int luaopen_data__C(lua_State *L) {
  createmeta(L);
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
