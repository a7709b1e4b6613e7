/* l_data.c -- nn.ImageSet userdata (8-bit images with labels, nn/data.c) and
 * the transform kernels, as the Lua package "data._C". stdlib/datasets and
 * stdlib/transforms build the user-facing classes on top; stdlib/data's
 * DataLoader asks an ImageSet for whole batches.
 *
 * A transform step crosses as a table: {kind = "totensor" | "normalize" |
 * "flatten" | "hflip" | "crop", mean, std, p, size = {h, w}, padding =
 * {left, top, right, bottom}, padding_mode, pad_if_needed, fill, generator}. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lnn.h"
#include "nn/data.h"
#include "nn/png.h"
#include "bindings.h"

static const char imageset_mt[] = "nn.ImageSet";
#define IMAGESET_MT imageset_mt
#define STACK_IDX 256                 /* batch indices kept on the stack up to this many */

/* live 0: not built yet, or closed; held: closed but not yet released (lnn.h) */
typedef struct LImageSet { const char *tname; nn_imageset s; int live, held; } LImageSet;

static LImageSet *checkset(lua_State *L, int arg) {
  LImageSet *u = lnn_checkudata(L, arg, IMAGESET_MT);
  if (!u->live) luaL_argerror(L, arg, "image set has been freed");
  return u;
}

static LImageSet *newset(lua_State *L) {
  return lnn_newudata(L, sizeof(LImageSet), IMAGESET_MT);
}

/* Tells the collector about the set's bytes, as tensors do. */
static int finishset(lua_State *L, LImageSet *u, int rc) {
  nn_ctx *ctx = getctx(L);
  if (rc != 0) return lnn_error(L);
  u->live = 1;
  ctx->alloc_pending += (size_t)u->s.offset[u->s.n] + (size_t)u->s.n * 16;
  lnn_gcaccount(L, ctx);
  return 1;
}

/* imageset_idx(images_path, labels_path) */
static int d_imageset_idx(lua_State *L) {
  const char *images = luaL_checkstring(L, 1), *labels = luaL_checkstring(L, 2);
  LImageSet *u = newset(L);
  return finishset(L, u, nn_imageset_from_idx(getctx(L), images, labels, &u->s));
}

/* imageset_png({path...}, {label...}) with 1-based labels */
static int d_imageset_png(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1);
  luaL_argcheck(L, n >= 1, 1, "no image files");
  luaL_argcheck(L, luaL_len(L, 2) == n, 2, "one label per file expected");
  luaL_argcheck(L, n <= INT32_MAX, 1, "too many image files");
  const char **paths = lua_newuserdatauv(L, (size_t)n * sizeof *paths, 0);   /* freed by the GC */
  int32_t *labels = lua_newuserdatauv(L, (size_t)n * sizeof *labels, 0);
  lua_createtable(L, (int)n, 0);      /* keeps the paths: the list may be a proxy (lnn.h) */
  int keep = lua_gettop(L);
  for (lua_Integer i = 0; i < n; i++) {
    if (lua_geti(L, 1, i + 1) != LUA_TSTRING) luaL_argerror(L, 1, "paths must be strings");
    paths[i] = lua_tostring(L, -1);
    lua_rawseti(L, keep, i + 1);
    lua_geti(L, 2, i + 1);
    int isint;
    lua_Integer lab = lua_tointegerx(L, -1, &isint);
    luaL_argcheck(L, isint && lab >= 1 && lab <= INT32_MAX, 2, "labels must be integers >= 1");
    labels[i] = (int32_t)(lab - 1);
    lua_pop(L, 1);
  }
  LImageSet *u = newset(L);
  return finishset(L, u, nn_imageset_from_pngs(getctx(L), paths, labels, n, &u->s));
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
  LImageSet *u = checkset(L, 1);
  int64_t i = checkindex(L, 2, &u->s);
  LTensor *t = lnn_newtensor(L);
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
  LImageSet *u = checkset(L, 1);
  int64_t n = u->s.n;
  LTensor *t = lnn_newtensor(L);
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

static float fieldnum(lua_State *L, int t, const char *k, float dflt) {
  float v = dflt;
  if (lua_getfield(L, t, k) != LUA_TNIL) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "transform step: '%s' must be a number", k);
    v = (float)lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static int64_t fieldint(lua_State *L, int t, int i, const char *k) {
  int isint;
  lua_geti(L, t, i);
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint) luaL_error(L, "transform step: '%s' must hold whole numbers", k);
  lua_pop(L, 1);
  return v;
}

static void floats(lua_State *L, int t, const char *k, float *out, int *n) {
  if (lua_getfield(L, t, k) != LUA_TTABLE) luaL_error(L, "transform step: '%s' must be a table", k);
  lua_Integer len = luaL_len(L, -1);
  if (len < 1 || len > NN_TF_MAXC)
    luaL_error(L, "transform step: '%s' needs 1 to %d values, got %d", k, NN_TF_MAXC, (int)len);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_geti(L, -1, i);
    if (!lua_isnumber(L, -1)) luaL_error(L, "transform step: '%s' must hold numbers", k);
    out[i - 1] = (float)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  *n = (int)len;
}

/* Reads the step table at index t into *st. Leaves one value on the stack,
 * the step's generator (or nil), which st->rng points into: keep it there
 * while st is used (the table need not keep it; lnn.h). */
static void checkstep(lua_State *L, int t, nn_tf_step *st) {
  static const char *const kinds[] = {"totensor", "normalize", "flatten", "hflip", "crop", NULL};
  static const char *const modes[] = {"constant", "edge", "reflect", "symmetric", NULL};
  t = lua_absindex(L, t);
  if (!lua_istable(L, t)) luaL_error(L, "transform step must be a table");
  memset(st, 0, sizeof *st);
  lua_getfield(L, t, "kind");
  st->kind = luaL_checkoption(L, -1, NULL, kinds);
  lua_pop(L, 1);
  if (st->kind == NN_TF_NORMALIZE) {
    int nstd;
    floats(L, t, "mean", st->mean, &st->nmean);
    floats(L, t, "std", st->std, &nstd);
    if (nstd != st->nmean) luaL_error(L, "Normalize: %d means but %d stds", st->nmean, nstd);
  } else if (st->kind == NN_TF_HFLIP) {
    st->p = fieldnum(L, t, "p", 0.5f);
  } else if (st->kind == NN_TF_CROP) {
    if (lua_getfield(L, t, "size") != LUA_TTABLE) luaL_error(L, "transform step: 'size' must be a table");
    st->ch = fieldint(L, -1, 1, "size");
    st->cw = fieldint(L, -1, 2, "size");
    lua_pop(L, 1);
    if (lua_getfield(L, t, "padding") == LUA_TTABLE)
      for (int k = 0; k < 4; k++) st->pad[k] = fieldint(L, -1, k + 1, "padding");
    lua_pop(L, 1);
    lua_getfield(L, t, "padding_mode");
    st->pad_mode = luaL_checkoption(L, -1, "constant", modes);
    lua_pop(L, 1);
    lua_getfield(L, t, "pad_if_needed");
    st->pad_if_needed = lua_toboolean(L, -1);
    lua_pop(L, 1);
    st->fill = fieldnum(L, t, "fill", 0.0f);
  }
  if (lua_getfield(L, t, "generator") != LUA_TNIL)
    st->rng = &((LGenerator *)lnn_checkudata(L, lua_gettop(L), GENERATOR_MT))->rng;
  if (nn_tf_check(getctx(L), st) != 0) lnn_error(L);
}

/* apply(step, x) -> the step applied to one sample */
static int d_apply(lua_State *L) {
  nn_tf_step st;
  checkstep(L, 1, &st);
  nn_tensor *x = lnn_checktensor(L, 2);
  LTensor *t = lnn_newtensor(L);
  nn_ctx *ctx = getctx(L);
  return lnn_finish(L, t, nn_tf_apply(ctx, &st, &ctx->rng, x));
}

/* set:batch(indices, first, count, steps) -> x, y: samples indices[first ..
 * first+count-1] (a 1-d tensor of 1-based indices) through the steps. */
static int s_batch(lua_State *L) {
  LImageSet *u = checkset(L, 1);
  nn_tensor *ix = lnn_checktensor(L, 2);
  lua_Integer first = luaL_checkinteger(L, 3), count = luaL_checkinteger(L, 4);
  luaL_checktype(L, 5, LUA_TTABLE);
  luaL_argcheck(L, ix->ndim == 1, 2, "indices must be a 1-d tensor");
  luaL_argcheck(L, first >= 1 && count >= 1 && first - 1 + count <= ix->shape[0], 3,
                "batch range outside the indices");
  nn_tf_step steps[NN_TF_MAXSTEPS];
  int nsteps = (int)luaL_len(L, 5);
  luaL_argcheck(L, nsteps <= NN_TF_MAXSTEPS, 5, "too many transforms");
  luaL_checkstack(L, nsteps + 8, "too many transforms");
  for (int k = 0; k < nsteps; k++) {
    lua_geti(L, 5, k + 1);
    checkstep(L, -1, &steps[k]);
    lua_remove(L, -2);                /* the step; its generator stays (checkstep) */
  }
  int64_t stackidx[STACK_IDX], *idx = stackidx;
  if (count > STACK_IDX) idx = lua_newuserdatauv(L, (size_t)count * sizeof *idx, 0);
  for (lua_Integer k = 0; k < count; k++) {
    float v = ix->s->data[ix->off + (size_t)(first - 1 + k) * (size_t)ix->stride[0]];
    if (!(v >= 1 && v <= (float)u->s.n) || v != (float)(int64_t)v)
      return luaL_error(L, "batch: index %f out of range 1..%d", (double)v, (int)u->s.n);
    idx[k] = (int64_t)v - 1;
  }
  nn_ctx *ctx = getctx(L);
  LTensor *tx = lnn_newtensor(L), *ty = lnn_newtensor(L);
  nn_tensor *x, *y;
  if (nn_imageset_batch(ctx, &u->s, idx, count, steps, nsteps, &ctx->rng, &x, &y) != 0)
    return lnn_error(L);
  tx->t = x;
  ty->t = y;
  lnn_gcaccount(L, ctx);
  return 2;
}

/* __gc and __close: closes the set; frees it when no C function can be using
 * it, else at finalization (lnn.h, "Userdata lifetimes") */
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

/* listdir(path) -> names (sorted bytewise), isdir (parallel array of booleans);
 * hidden entries (leading '.') are skipped. */
static int d_listdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  if (!d) return luaL_error(L, "cannot open folder '%s': %s", path, strerror(errno));
  lua_newtable(L);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    lua_pushstring(L, e->d_name);
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
  luaL_Buffer b;
  for (int i = 0; i < n; i++) {
    struct stat st;
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -3, i + 1);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, path);
    luaL_addchar(&b, '/');
    luaL_addstring(&b, names[i]);
    luaL_pushresult(&b);
    lua_pushboolean(L, stat(lua_tostring(L, -1), &st) == 0 && S_ISDIR(st.st_mode));
    lua_rawseti(L, -3, i + 1);
    lua_pop(L, 1);
  }
  return 2;
}

/* write_png(path, x): x [H, W] or [H, W, C] (C 1..4) of 0..255, rounded and
 * clamped; for tests and tools until plot.save_image (issue 7). */
static int d_write_png(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  nn_tensor *x = lnn_checktensor(L, 2);
  int c = x->ndim == 3 ? (int)x->shape[2] : 1;
  luaL_argcheck(L, (x->ndim == 2 || x->ndim == 3) && c >= 1 && c <= 4, 2,
                "expected [H, W] or [H, W, C] with C 1 to 4");
  nn_ctx *ctx = getctx(L);
  nn_tensor *xc = nn_tensor_contiguous(ctx, x);
  if (!xc) return lnn_error(L);
  size_t n = (size_t)x->shape[0] * (size_t)x->shape[1] * (size_t)c;
  uint8_t *b = malloc(n ? n : 1);
  if (!b) { nn_tensor_free(xc); return luaL_error(L, "write_png: out of memory"); }
  const float *d = xc->s->data + xc->off;
  for (size_t k = 0; k < n; k++) {
    float v = d[k] + 0.5f;
    b[k] = (uint8_t)(v >= 255 ? 255 : v > 0 ? v : 0);
  }
  int rc = nn_png_write(ctx, path, b, (int)x->shape[0], (int)x->shape[1], c, NULL, 0);
  free(b);
  nn_tensor_free(xc);
  return rc != 0 ? lnn_error(L) : 0;
}

/* check_indices(t, n): raises "must be whole numbers in 1..n (got v at k)"
 * unless every value of the 1-d tensor t is */
static int d_check_indices(lua_State *L) {
  nn_tensor *t = lnn_checktensor(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, t->ndim == 1, 1, "expected a 1-d tensor");
  for (int64_t k = 0; k < t->shape[0]; k++) {
    float v = t->s->data[t->off + (size_t)(k * t->stride[0])];
    if (!(v >= 1 && v <= (float)n && v == (float)(int64_t)v))
      return luaL_error(L, "must be whole numbers in 1..%d (got %f at position %d)", (int)n,
                        (double)v, (int)k + 1);
  }
  return 0;
}

/* isatty(fd) -> boolean */
static int d_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
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
  {"listdir", d_listdir}, {"write_png", d_write_png}, {"check_indices", d_check_indices}, {"isatty", d_isatty}, {"clock", d_clock},
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

static void createmeta(lua_State *L) {
  luaL_newmetatable(L, IMAGESET_MT);
  lnn_setfuncs(L, metameth);
  luaL_newlibtable(L, meth);
  lnn_setfuncs(L, meth);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

int luaopen_data__C(lua_State *L) {
  createmeta(L);
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
