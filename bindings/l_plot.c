/* l_plot.c -- require "plot._C": figures (nn.Figure userdata) and image files.
 *
 * stdlib/plot/init.lua checks the user's options and calls these with tidy
 * arguments: numbers as Lua arrays or 1-d tensors, images as one contiguous
 * tensor [N, C, H, W], a matrix as a tensor [R, C].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "l_tensor.h"
#include "nn/plot/plot.h"
#include "nn/io/png.h"
#include "bindings.h"

static const char figure_mt[] = "nn.Figure";
#define FIGURE_MT figure_mt
#define MAX_POINTS 2000000      /* in all the series of a line chart */
#define MAX_CELLS 512           /* rows or columns of a heatmap */

typedef struct LFigure {
  const char *tname;    /* FIGURE_MT (common.h, "Userdata lifetimes") */
  nn_canvas *cv;        /* NULL once closed */
  nn_canvas *held;      /* a closed figure's canvas, until it can be released */
  const char *kind;     /* "lines", "image_grid", "heatmap" (static) */
} LFigure;

static LFigure *checkfig(lua_State *L, int arg) {
  LFigure *f = lnn_checkudata(L, arg, FIGURE_MT);
  if (!f->cv) luaL_error(L, "the figure is closed");
  return f;
}

/* pushes a figure for cv (which it then owns), telling the collector its size */
static int pushfig(lua_State *L, nn_canvas *cv, const char *kind) {
  if (!cv) return lnn_error(L);
  if (!lua_checkstack(L, 2) || luaL_getmetatable(L, FIGURE_MT) != LUA_TTABLE) {
    nn_canvas_free(cv);                 /* lnn_newudata would raise with cv owned by nobody */
    return luaL_error(L, "nnlua: the registry's metatable '%s' was replaced", FIGURE_MT);
  }
  lua_pop(L, 1);
  LFigure *f = lnn_newudata(L, sizeof *f, FIGURE_MT);   /* raises only for memory: cv leaks then */
  f->cv = cv;
  f->kind = kind;
  nn_ctx *ctx = getctx(L);
  ctx->alloc_pending += nn_canvas_bytes(cv);
  lnn_gcaccount(L, ctx);
  return 1;
}

/* ------------------------------------------------------ reading options */

static int opt_int(lua_State *L, int t, const char *k, int def) {
  int ty = lua_getfield(L, t, k);
  int v = ty == LUA_TNIL ? def : (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int t, const char *k) {
  lua_getfield(L, t, k);
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* a string field, or NULL; the string stays on the stack (one slot, also
 * for nil) so that it lives as long as the call: the table need not keep it */
static const char *opt_str(lua_State *L, int t, const char *k) {
  int ty = lua_getfield(L, t, k);
  return ty == LUA_TNIL ? NULL : luaL_checkstring(L, -1);
}

static int too_many_points(lua_State *L) {
  return luaL_error(L, "plot.lines: more than %d points in all; average them (per epoch, say) "
                    "or keep every k-th", MAX_POINTS);
}

/* the numbers at index idx (an array or a 1-d tensor) copied into a scratch
 * userdata left on the stack; *n gets their count */
static double *numbers(lua_State *L, int idx, int64_t *n) {
  idx = lua_absindex(L, idx);
  nn_tensor *t = lnn_totensor(L, idx);
  *n = t ? (t->ndim == 1 ? t->shape[0] : 0) : (int64_t)lua_rawlen(L, idx);
  if (*n > MAX_POINTS) too_many_points(L);
  if (t) {
    luaL_argcheck(L, t->ndim == 1, idx, "expected a 1-d tensor");
    double *d = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *d, 0);
    for (int64_t k = 0; k < *n; k++) d[k] = t->s->data[t->off + (size_t)(k * t->stride[0])];
    return d;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  double *d = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *d, 0);
  for (int64_t k = 0; k < *n; k++) {
    lua_rawgeti(L, idx, k + 1);
    d[k] = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;   /* init.lua checked the types */
    lua_pop(L, 1);
  }
  return d;
}

/* the fields every figure has: size and texts (xlabel, ylabel may be NULL) */
static void opt_frame(lua_State *L, int t, int *w, int *h, const char **title,
                      const char **xlabel, const char **ylabel) {
  *w = opt_int(L, t, "width", 800);
  *h = opt_int(L, t, "height", 600);
  *title = opt_str(L, t, "title");
  if (xlabel) *xlabel = opt_str(L, t, "xlabel");
  if (ylabel) *ylabel = opt_str(L, t, "ylabel");
}

/* {lo, hi} at field k, or NaN NaN */
static void opt_range(lua_State *L, int t, const char *k, double *r) {
  r[0] = r[1] = NAN;
  if (lua_getfield(L, t, k) == LUA_TTABLE) {
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    r[0] = luaL_checknumber(L, -2);
    r[1] = luaL_checknumber(L, -1);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* an array of n strings at field k (or NULL when absent), in a scratch
 * userdata. The strings are kept by a table of this call's own (left on the
 * stack under the scratch): the script's table may change while we draw. */
static const char **opt_strings(lua_State *L, int t, const char *k, int64_t n) {
  if (lua_getfield(L, t, k) == LUA_TNIL) { lua_pop(L, 1); return NULL; }
  int arr = lua_gettop(L);
  luaL_checktype(L, arr, LUA_TTABLE);
  lua_newtable(L);                                         /* arr + 1: ours */
  const char **s = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *s, 0);
  for (int64_t i = 0; i < n; i++) {
    lua_rawgeti(L, arr, i + 1);
    s[i] = lua_tostring(L, -1);      /* strings already (init.lua); NULL for nil */
    lua_rawseti(L, arr + 1, i + 1);  /* kept by our table */
  }
  lua_remove(L, arr);                /* leaves our table and the scratch */
  return s;
}

/* the contiguous float data of a tensor */
static const float *tensor_data(lua_State *L, int idx, nn_tensor **t) {
  *t = lnn_checktensor(L, idx);
  luaL_argcheck(L, nn_tensor_is_contiguous(*t), idx, "expected a contiguous tensor");
  return (*t)->s->data + (*t)->off;
}

/* ------------------------------------------------------------- figures */

static const char *const legends[] = {"best", "none", "upper right", "upper left",
                                      "lower left", "lower right", NULL};

/* lines(spec) -> figure */
static int p_lines(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nn_lines_spec p;
  memset(&p, 0, sizeof p);
  opt_frame(L, 1, &p.width, &p.height, &p.title, &p.xlabel, &p.ylabel);
  p.grid = opt_bool(L, 1, "grid");
  p.logy = opt_bool(L, 1, "logy");
  p.markers = opt_bool(L, 1, "markers");
  lua_getfield(L, 1, "legend");
  p.legend = luaL_checkoption(L, -1, "best", legends);
  lua_pop(L, 1);
  opt_range(L, 1, "xlim", p.xlim);
  opt_range(L, 1, "ylim", p.ylim);
  lua_getfield(L, 1, "series");
  int st = lua_gettop(L);
  luaL_checktype(L, st, LUA_TTABLE);
  p.nseries = (int)luaL_len(L, st);
  int64_t total = 0;
  nn_plot_series *ser = lua_newuserdatauv(L, (size_t)(p.nseries ? p.nseries : 1) * sizeof *ser, 0);
  memset(ser, 0, (size_t)(p.nseries ? p.nseries : 1) * sizeof *ser);
  p.series = ser;
  for (int i = 0; i < p.nseries; i++) {
    nn_plot_series *s = &ser[i];
    luaL_checkstack(L, 8, "plot.lines: too many series");   /* each keeps ~4 slots */
    lua_rawgeti(L, st, i + 1);
    int e = lua_gettop(L);
    luaL_checktype(L, e, LUA_TTABLE);
    s->label = opt_str(L, e, "label");
    int64_t nx = 0;
    lua_getfield(L, e, "y");
    s->y = numbers(L, -1, &s->n);
    lua_replace(L, -2);                      /* keep the scratch, drop the field */
    if (lua_getfield(L, e, "x") != LUA_TNIL) {
      s->x = numbers(L, -1, &nx);
      lua_replace(L, -2);
      if (nx != s->n)
        return luaL_error(L, "plot.lines: series %d has %d x values and %d y values", i + 1,
                          (int)nx, (int)s->n);
    } else {
      lua_pop(L, 1);
    }
    s->color = opt_int(L, e, "color", NN_PLOT_AUTO);
    s->dash = opt_int(L, e, "dash", NN_PLOT_AUTO);
    s->marker = opt_int(L, e, "marker", NN_PLOT_AUTO);
    /* the scratch buffers stay on the stack (above e) until we return */
    total += s->n;
    if (total > MAX_POINTS) return too_many_points(L);
  }
  return pushfig(L, nn_plot_lines(getctx(L), &p), "lines");
}

/* image_grid(spec) -> figure; spec.images a contiguous tensor [N, C, H, W] */
static int p_image_grid(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nn_grid_spec g;
  memset(&g, 0, sizeof g);
  opt_frame(L, 1, &g.width, &g.height, &g.title, NULL, NULL);
  g.rows = opt_int(L, 1, "rows", 1);
  g.cols = opt_int(L, 1, "cols", 1);
  lua_getfield(L, 1, "images");
  nn_tensor *t;
  g.images = tensor_data(L, -1, &t);
  luaL_argcheck(L, t->ndim == 4, 1, "images must be a tensor [N, C, H, W]");
  if (t->shape[0] > INT32_MAX || t->shape[1] > INT32_MAX || t->shape[2] > INT32_MAX ||
      t->shape[3] > INT32_MAX)
    return luaL_error(L, "plot.image_grid: images too large");
  g.n = (int)t->shape[0];
  g.c = (int)t->shape[1];
  g.h = (int)t->shape[2];
  g.w = (int)t->shape[3];
  g.labels = opt_strings(L, 1, "labels", g.n);
  float mean[3], std[3];
  if (lua_getfield(L, 1, "mean") == LUA_TTABLE && lua_getfield(L, 1, "std") == LUA_TTABLE) {
    for (int k = 0; k < g.c && k < 3; k++) {
      lua_rawgeti(L, -2, k + 1);
      lua_rawgeti(L, -2, k + 1);
      mean[k] = (float)luaL_checknumber(L, -2);
      std[k] = (float)luaL_checknumber(L, -1);
      lua_pop(L, 2);
    }
    g.mean = mean;
    g.std = std;
  }
  double range[2];
  opt_range(L, 1, "range", range);
  g.lo = isnan(range[0]) ? 0 : range[0];
  g.hi = isnan(range[0]) ? 1 : range[1];
  return pushfig(L, nn_plot_image_grid(getctx(L), &g), "image_grid");
}

/* heatmap(spec) -> figure; spec.matrix a contiguous tensor [R, C] */
static int p_heatmap(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nn_heatmap_spec p;
  memset(&p, 0, sizeof p);
  opt_frame(L, 1, &p.width, &p.height, &p.title, &p.xlabel, &p.ylabel);
  lua_getfield(L, 1, "annotate");
  p.annotate = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "matrix");
  nn_tensor *t;
  const float *m = tensor_data(L, -1, &t);
  if (t->ndim != 2 || t->shape[0] > MAX_CELLS || t->shape[1] > MAX_CELLS)
    return luaL_error(L, "plot.heatmap: matrix must be 2-d with at most %d rows and columns",
                      MAX_CELLS);
  p.rows = (int)t->shape[0];
  p.cols = (int)t->shape[1];
  size_t n = (size_t)p.rows * (size_t)p.cols;
  double *d = lua_newuserdatauv(L, (n ? n : 1) * sizeof *d, 0);
  for (size_t k = 0; k < n; k++) d[k] = m[k];
  p.m = d;
  p.xlabels = opt_strings(L, 1, "xlabels", p.cols);
  p.ylabels = opt_strings(L, 1, "ylabels", p.rows);
  return pushfig(L, nn_plot_heatmap(getctx(L), &p), "heatmap");
}

/* ---------------------------------------------------------------- files */

/* the tEXt chunks of a file nnlua writes: software, script (arg 3) and title (arg 4) */
static int text_chunks(lua_State *L, const char **kv, int script, int title) {
  int n = 0;
  kv[n++] = "Software";
  kv[n++] = "nnlua " NNLUA_VERSION;
  if (lua_type(L, script) == LUA_TSTRING) { kv[n++] = "Script"; kv[n++] = lua_tostring(L, script); }
  if (lua_type(L, title) == LUA_TSTRING && lua_rawlen(L, title) > 0) {
    kv[n++] = "Title";
    kv[n++] = lua_tostring(L, title);
  }
  return n / 2;
}

/* save(fig, path [, script [, title]]) */
static int fig_save(lua_State *L) {
  LFigure *f = checkfig(L, 1);
  const char *path = lnn_checkpath(L, 2);
  const char *kv[6];
  int n = text_chunks(L, kv, 3, 4);
  if (nn_canvas_save(getctx(L), f->cv, path, kv, n) != 0) return lnn_error(L);
  return 0;
}

/* pixels(fig) -> tensor [3, H, W] in [0, 1]: the figure as save would write it */
static int fig_pixels(lua_State *L) {
  LFigure *f = checkfig(L, 1);
  nn_ctx *ctx = getctx(L);
  LTensor *u = lnn_newtensor(L);
  uint8_t *px = nn_canvas_pixels(ctx, f->cv);
  if (!px) return lnn_error(L);
  int64_t shape[3] = {3, nn_canvas_height(f->cv), nn_canvas_width(f->cv)};
  nn_tensor *t = nn_tensor_empty(ctx, 3, shape);
  if (t) {
    size_t plane = (size_t)shape[1] * (size_t)shape[2];
    float *d = t->s->data + t->off;
    for (size_t k = 0; k < plane; k++)
      for (int c = 0; c < 3; c++) d[(size_t)c * plane + k] = px[3 * k + (size_t)c] / 255.0f;
  }
  free(px);
  return lnn_finish(L, u, t);
}

static int fig_size(lua_State *L) {
  LFigure *f = checkfig(L, 1);
  lua_pushstring(L, f->kind);
  lua_pushinteger(L, nn_canvas_width(f->cv));
  lua_pushinteger(L, nn_canvas_height(f->cv));
  return 3;
}

/* __gc, __close and close(fig): closes the figure; frees its canvas when no
 * C function can be using it, else at finalization (common.h) */
static int fig_gc(lua_State *L) {
  LFigure *f = lnn_checkudata(L, 1, FIGURE_MT);
  if (f->cv) {                  /* held is NULL while cv is set */
    f->held = f->cv;
    f->cv = NULL;
  }
  if (f->held && lnn_releasable(L)) {
    nn_canvas *cv = f->held;
    f->held = NULL;
    nn_canvas_free(cv);
  }
  return 0;
}

/* save_image(path, x [, script]): x a contiguous tensor [C, H, W], C 1 or 3 */
static int p_save_image(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  nn_tensor *t;
  const float *d = tensor_data(L, 2, &t);
  luaL_argcheck(L, t->ndim == 3 && t->shape[1] <= NN_PNG_MAXSIDE && t->shape[2] <= NN_PNG_MAXSIDE,
                2, "expected a tensor [C, H, W]");
  const char *kv[6];
  int n = text_chunks(L, kv, 3, 4);
  if (nn_plot_save_image(getctx(L), path, d, (int)t->shape[0], (int)t->shape[1],
                         (int)t->shape[2], kv, n) != 0)
    return lnn_error(L);
  return 0;
}

/* read_image(path) -> tensor [C, H, W] in [0, 1], C 1 (grey) or 3 (RGB) */
static int p_read_image(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  nn_ctx *ctx = getctx(L);
  LTensor *u = lnn_newtensor(L);
  nn_image im;
  if (nn_png_read(ctx, path, &im) != 0) return lnn_error(L);
  int64_t shape[3] = {im.c, im.h, im.w};
  nn_tensor *t = nn_tensor_empty(ctx, 3, shape);
  if (t) {
    size_t plane = (size_t)im.h * (size_t)im.w;
    float *d = t->s->data + t->off;
    for (size_t k = 0; k < plane; k++)
      for (int c = 0; c < im.c; c++)
        d[(size_t)c * plane + k] = im.data[k * (size_t)im.c + (size_t)c] / 255.0f;
  }
  nn_image_free(&im);
  return lnn_finish(L, u, t);
}

/* the palette colour i (1-based) as 0xRRGGBB */
static int p_palette(lua_State *L) {
  lua_pushinteger(L, nn_plot_palette((int)luaL_checkinteger(L, 1) - 1));
  return 1;
}

static const luaL_Reg funcs[] = {
  {"lines", p_lines}, {"image_grid", p_image_grid}, {"heatmap", p_heatmap},
  {"save", fig_save}, {"pixels", fig_pixels}, {"size", fig_size}, {"close", fig_gc},
  {"save_image", p_save_image}, {"read_image", p_read_image}, {"palette", p_palette},
  {NULL, NULL}
};

static const luaL_Reg metameth[] = {
  {"__gc", fig_gc}, {"__close", fig_gc},
  {NULL, NULL}
};

int luaopen_plot__C(lua_State *L) {
  luaL_newmetatable(L, FIGURE_MT);    /* the state is new: a table */
  lnn_setfuncs(L, metameth);
  lua_pop(L, 1);
  luaL_newlibtable(L, funcs);
  lnn_setfuncs(L, funcs);
  return 1;
}
