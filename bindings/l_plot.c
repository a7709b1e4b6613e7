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
#include "nn/plot/gif.h"
#include "nn/io/png.h"
#include "nn/mem.h"
#include "nn/plot/report.h"
#include "bindings.h"
#include "l_std.h"

static const char figure_mt[] = "nn.Figure";
#define FIGURE_MT figure_mt
#define MAX_POINTS 2000000      /* in all the series of a line chart */
#define MAX_CELLS 512           /* rows or columns of a heatmap */
#define MAX_GRID 2000           /* rows or columns of a contour's grid */
#define MAX_LEVELS 1000         /* contour levels */
#define MAX_BINS 100000         /* histogram bins */

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
  lnn_gcaccount(L, getctx(L));          /* what it holds is in the counted total (nn/mem.h) */
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

/* the numbers of a 1-d tensor or array at idx, of any count (histograms) */
static const double *numbers_any(lua_State *L, int idx, int64_t *n) {
  nn_tensor *t = lnn_totensor(L, idx);
  if (!t) luaL_checktype(L, idx, LUA_TTABLE);
  *n = t ? (t->ndim == 1 ? t->shape[0] : 0) : (int64_t)lua_rawlen(L, idx);
  if (t) luaL_argcheck(L, t->ndim == 1, idx, "expected a 1-d tensor");
  double *d = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *d, 0);
  for (int64_t k = 0; k < *n; k++) {
    if (t) { d[k] = t->s->data[t->off + (size_t)(k * t->stride[0])]; continue; }
    lua_rawgeti(L, idx, k + 1);
    d[k] = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;
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

/* a zeroed scratch array of n elements of size bytes (one at least), left on
 * the stack, where the GC keeps it until the reader returns */
static void *scratch_array(lua_State *L, int64_t n, size_t size) {
  size_t bytes = (size_t)(n ? n : 1) * size;
  return memset(lua_newuserdatauv(L, bytes, 0), 0, bytes);
}

/* an array of n strings at field k (or NULL when absent), in a scratch
 * userdata. The strings are kept by a table of this call's own (left on the
 * stack under the scratch): the script's table may change while we draw. */
static const char **opt_strings(lua_State *L, int t, const char *k, int64_t n) {
  if (lua_getfield(L, t, k) == LUA_TNIL) { lua_pop(L, 1); return NULL; }
  int arr = lua_gettop(L);
  luaL_checktype(L, arr, LUA_TTABLE);
  lua_newtable(L);                                         /* arr + 1: ours */
  const char **s = scratch_array(L, n, sizeof *s);
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

static double opt_num(lua_State *L, int t, const char *k, double def) {
  int ty = lua_getfield(L, t, k);
  double v = ty == LUA_TNIL ? def : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

static int64_t opt_color(lua_State *L, int t, const char *k) {
  int ty = lua_getfield(L, t, k);
  int64_t v = ty == LUA_TNIL ? NN_PLOT_AUTO : (int64_t)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* the array of tables at field k of t (left on the stack) and its length */
static int opt_list(lua_State *L, int t, const char *k) {
  if (lua_getfield(L, t, k) == LUA_TNIL) return 0;
  luaL_checktype(L, -1, LUA_TTABLE);
  return (int)luaL_len(L, -1);
}

static void read_series(lua_State *L, int t, nn_lines_spec *p, int64_t *total) {
  luaL_checkstack(L, 4, "plot: series");
  int n = opt_list(L, t, "series");
  int st = lua_gettop(L);
  p->nseries = n;
  nn_plot_series *ser = scratch_array(L, n, sizeof *ser);
  p->series = ser;
  for (int i = 0; i < n; i++) {
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
        luaL_error(L, "plot.lines: series %d has %d x values and %d y values", i + 1, (int)nx,
                   (int)s->n);
    } else {
      lua_pop(L, 1);
    }
    s->color = opt_color(L, e, "color");
    s->dash = opt_int(L, e, "dash", NN_PLOT_AUTO);
    s->marker = opt_int(L, e, "marker", NN_PLOT_AUTO);
    s->marker_size = opt_num(L, e, "marker_size", 0);
    s->start_marker = opt_int(L, e, "start_marker", NN_MARK_NONE);
    s->end_marker = opt_int(L, e, "end_marker", NN_MARK_NONE);
    /* the scratch buffers stay on the stack (above e) until we return */
    *total += s->n;
    if (*total > MAX_POINTS) too_many_points(L);
  }
}

static void read_bars(lua_State *L, int t, nn_lines_spec *p, int64_t *total) {
  luaL_checkstack(L, 4, "plot: bars");
  int n = opt_list(L, t, "bars");
  int st = lua_gettop(L);
  p->nbars = n;
  nn_plot_bars *bars = scratch_array(L, n, sizeof *bars);
  p->bars = bars;
  for (int i = 0; i < n; i++) {
    nn_plot_bars *b = &bars[i];
    luaL_checkstack(L, 8, "plot.bar: too many bar groups");
    lua_rawgeti(L, st, i + 1);
    int e = lua_gettop(L);
    luaL_checktype(L, e, LUA_TTABLE);
    b->label = opt_str(L, e, "label");
    int64_t nh = 0;
    lua_getfield(L, e, "x");
    b->x = numbers(L, -1, &b->n);
    lua_replace(L, -2);
    lua_getfield(L, e, "h");
    b->h = numbers(L, -1, &nh);
    lua_replace(L, -2);
    if (nh != b->n) luaL_error(L, "plot.bar: %d positions and %d heights", (int)b->n, (int)nh);
    b->width = opt_num(L, e, "width", 0.8);
    b->bottom = opt_num(L, e, "bottom", 0);
    b->color = opt_color(L, e, "color");
    *total += b->n;
    if (*total > MAX_POINTS) too_many_points(L);
  }
}

static void read_texts(lua_State *L, int t, nn_lines_spec *p) {
  luaL_checkstack(L, 4, "plot: texts");
  int n = opt_list(L, t, "texts");
  int st = lua_gettop(L);
  if (n > MAX_POINTS) too_many_points(L);
  p->ntexts = n;
  nn_plot_text *tx = scratch_array(L, n, sizeof *tx);
  p->texts = tx;
  for (int i = 0; i < n; i++) {
    luaL_checkstack(L, 4, "plot: too many texts");
    lua_rawgeti(L, st, i + 1);
    int e = lua_gettop(L);
    luaL_checktype(L, e, LUA_TTABLE);
    tx[i].x = opt_num(L, e, "x", NAN);
    tx[i].y = opt_num(L, e, "y", NAN);
    tx[i].text = opt_str(L, e, "text");     /* stays on the stack */
    tx[i].color = opt_color(L, e, "color");
    tx[i].size = opt_num(L, e, "size", 0);
    tx[i].halign = opt_num(L, e, "halign", 0);
  }
}

static void read_field(lua_State *L, int t, nn_lines_spec *p) {
  luaL_checkstack(L, 24, "plot.contour");   /* what it reads stays on the stack: about 16 slots */
  if (lua_getfield(L, t, "field") == LUA_TNIL) return;
  int e = lua_gettop(L);
  luaL_checktype(L, e, LUA_TTABLE);
  nn_plot_field *f = scratch_array(L, 1, sizeof *f);
  lua_getfield(L, e, "z");
  nn_tensor *z;
  const float *zd = tensor_data(L, -1, &z);
  if (z->ndim != 2 || z->shape[0] > MAX_GRID || z->shape[1] > MAX_GRID)
    luaL_error(L, "plot.contour: z must be 2-d with at most %d rows and columns", MAX_GRID);
  f->ny = (int)z->shape[0];
  f->nx = (int)z->shape[1];
  size_t n = (size_t)f->nx * (size_t)f->ny;
  double *d = scratch_array(L, n, sizeof *d);
  for (size_t k = 0; k < n; k++) d[k] = zd[k];
  f->z = d;
  int64_t nx = 0, ny = 0;
  lua_getfield(L, e, "x");
  f->x = numbers(L, -1, &nx);
  lua_getfield(L, e, "y");
  f->y = numbers(L, -1, &ny);
  if (nx != f->nx || ny != f->ny)
    luaL_error(L, "plot.contour: z is %d x %d but x has %d values and y %d", f->ny, f->nx,
               (int)nx, (int)ny);
  f->mode = opt_int(L, e, "mode", NN_FIELD_LINES);
  int64_t nl = 0;
  if (lua_getfield(L, e, "levels") != LUA_TNIL) {
    f->levels = numbers(L, -1, &nl);
    if (nl > MAX_LEVELS) luaL_error(L, "plot.contour: more than %d levels", MAX_LEVELS);
  }
  f->nlevels = (int)nl;
  f->log = opt_bool(L, e, "log");
  f->vmin = opt_num(L, e, "vmin", NAN);
  f->vmax = opt_num(L, e, "vmax", NAN);
  f->line_color = opt_color(L, e, "line_color");
  f->colorbar = opt_bool(L, e, "colorbar");
  f->colorbar_label = opt_str(L, e, "colorbar_label");
  p->field = f;
}

/* the options of one set of axes at index t into p; what p points to stays
 * on the stack until the caller returns */
static void read_axes(lua_State *L, int t, nn_lines_spec *p) {
  memset(p, 0, sizeof *p);
  opt_frame(L, t, &p->width, &p->height, &p->title, &p->xlabel, &p->ylabel);
  p->grid = opt_bool(L, t, "grid");
  p->logy = opt_bool(L, t, "logy");
  p->markers = opt_bool(L, t, "markers");
  p->equal = opt_bool(L, t, "equal");
  lua_getfield(L, t, "legend");
  p->legend = luaL_checkoption(L, -1, "best", legends);
  lua_pop(L, 1);
  opt_range(L, t, "xlim", p->xlim);
  opt_range(L, t, "ylim", p->ylim);
  int64_t total = 0;
  read_series(L, t, p, &total);
  read_bars(L, t, p, &total);
  read_texts(L, t, p);
  read_field(L, t, p);
  luaL_checkstack(L, 8, "plot");
  lua_getfield(L, t, "xticklabels");
  int64_t nt = lua_istable(L, -1) ? (int64_t)luaL_len(L, -1) : 0;
  lua_pop(L, 1);
  if (nt > MAX_CELLS) luaL_error(L, "plot: more than %d tick labels", MAX_CELLS);
  p->xticklabels = opt_strings(L, t, "xticklabels", nt);
  p->nxticks = (int)nt;
  p->kind = opt_str(L, t, "kind");
}

/* lines(spec) -> figure: every kind drawn in one set of axes */
static int p_lines(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nn_lines_spec p;
  read_axes(L, 1, &p);
  lua_getfield(L, 1, "kind");
  const char *kind = lua_tostring(L, -1);
  static const char *const kinds[] = {"lines", "contour", "scatter", "bar", "hist", "heatmap"};
  const char *k = kinds[0];
  for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
    if (strcmp(kind, kinds[i]) == 0) k = kinds[i];
  return pushfig(L, nn_plot_lines(getctx(L), &p), k);
}

/* subplots(spec) -> figure; spec.cells a table of rows * cols axes specs, or
 * {image = tensor [C, H, W] bytes 0..255 as floats, title =}, or false */
static int p_subplots(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  nn_subplots_spec g;
  memset(&g, 0, sizeof g);
  opt_frame(L, 1, &g.width, &g.height, &g.title, NULL, NULL);
  g.rows = opt_int(L, 1, "rows", 1);
  g.cols = opt_int(L, 1, "cols", 1);
  g.sharex = opt_bool(L, 1, "sharex");
  g.sharey = opt_bool(L, 1, "sharey");
  if (g.rows < 1 || g.cols < 1 || g.rows > 16 || g.cols > 16)
    return luaL_error(L, "plot.subplots: rows and cols must be 1 to 16 (got %d x %d)", g.rows, g.cols);
  int n = g.rows * g.cols;
  lua_getfield(L, 1, "cells");
  int cells = lua_gettop(L);
  luaL_checktype(L, cells, LUA_TTABLE);
  nn_lines_spec *ax = scratch_array(L, n, sizeof *ax);
  nn_plot_imagecell *im = scratch_array(L, n, sizeof *im);
  for (int k = 0; k < n; k++) {
    luaL_checkstack(L, 40, "plot.subplots: too many cells");
    ax[k].xlim[0] = ax[k].xlim[1] = ax[k].ylim[0] = ax[k].ylim[1] = NAN;
    if (lua_rawgeti(L, cells, k + 1) != LUA_TTABLE) { lua_pop(L, 1); continue; }
    int c = lua_gettop(L);
    if (lua_getfield(L, c, "image") != LUA_TNIL) {
      nn_tensor *t;
      const float *d = tensor_data(L, -1, &t);
      if (t->ndim != 3 || (t->shape[0] != 1 && t->shape[0] != 3) || t->shape[1] > NN_PLOT_MAXSIDE ||
          t->shape[2] > NN_PLOT_MAXSIDE)
        return luaL_error(L, "plot.subplots: cell %d: the image must be [C, H, W], C 1 or 3", k + 1);
      int ch = (int)t->shape[0], h = (int)t->shape[1], w = (int)t->shape[2];
      uint8_t *b = lua_newuserdatauv(L, (size_t)ch * h * w, 0);
      size_t plane = (size_t)h * w;
      for (int cc = 0; cc < ch; cc++)
        for (size_t q = 0; q < plane; q++) {
          float v = d[(size_t)cc * plane + q];
          b[q * ch + cc] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : v);   /* NaN: 0 */
        }
      im[k].data = b;
      im[k].c = ch;
      im[k].h = h;
      im[k].w = w;
      ax[k].title = opt_str(L, c, "title");
      continue;
    }
    lua_pop(L, 1);
    read_axes(L, c, &ax[k]);
  }
  g.axes = ax;
  g.images = im;
  return pushfig(L, nn_plot_subplots(getctx(L), &g), "subplots");
}

/* levels(lo, hi, n, log) -> array of contour levels */
static int p_levels(lua_State *L) {
  double lo = luaL_checknumber(L, 1), hi = luaL_checknumber(L, 2);
  int n = (int)luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 1 && n <= MAX_LEVELS, 3, "level count out of range");
  double lv[MAX_LEVELS + 4];
  int m = nn_plot_levels(lo, hi, n, lua_toboolean(L, 4), lv, MAX_LEVELS + 4);
  lua_createtable(L, m, 0);
  for (int k = 0; k < m; k++) {
    lua_pushnumber(L, lv[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

/* histogram(values, lo, hi, nbins) -> array of counts */
static int p_histogram(lua_State *L) {
  int64_t n;
  const double *x = numbers_any(L, 1, &n);
  double lo = luaL_checknumber(L, 2), hi = luaL_checknumber(L, 3);
  int nb = (int)luaL_checkinteger(L, 4);
  luaL_argcheck(L, nb >= 1 && nb <= MAX_BINS, 4, "bin count out of range");
  double *c = lua_newuserdatauv(L, (size_t)nb * sizeof *c, 0);
  nn_plot_histogram(x, n, lo, hi, nb, c);
  lua_createtable(L, nb, 0);
  for (int k = 0; k < nb; k++) {
    lua_pushinteger(L, (lua_Integer)c[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
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
  double *d = scratch_array(L, n, sizeof *d);
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
  nn_report *r = nnlua_getreport(L);          /* nnlua --report: the drawing is kept */
  if (r && nn_report_figure(getctx(L), r, path, f->cv) != 0) return lnn_error(L);
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
  nn_mem_free(px);
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
  nn_report *r = nnlua_getreport(L);          /* nnlua --report: the pixels are kept */
  if (r && nn_report_image(getctx(L), r, path, d, (int)t->shape[0], (int)t->shape[1],
                           (int)t->shape[2]) != 0)
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

/* animate(path, {fig, ...}, delay_cs, last_cs, loop): the figures as an animated GIF */
static int p_animate(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int n = (int)luaL_len(L, 2);
  int delay = (int)luaL_checkinteger(L, 3), last = (int)luaL_checkinteger(L, 4);
  int loop = (int)luaL_checkinteger(L, 5);
  if (n < 1 || n > NN_GIF_MAXFRAMES)
    return luaL_error(L, "plot.animate: 1 to %d frames (got %d)", NN_GIF_MAXFRAMES, n);
  nn_canvas **cv = lua_newuserdatauv(L, (size_t)n * sizeof *cv, 0);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, 2, k + 1);
    cv[k] = checkfig(L, -1)->cv;      /* the table keeps the figures alive */
    lua_pop(L, 1);
  }
  if (nn_gif_write(getctx(L), path, cv, n, delay, last, loop) != 0) return lnn_error(L);
  nn_report *r = nnlua_getreport(L);          /* nnlua --report: the last frame is kept */
  if (r) {
    const char *name = lua_pushfstring(L, "%s (the last of %d frames)", path, n);
    if (nn_report_figure(getctx(L), r, name, cv[n - 1]) != 0) return lnn_error(L);
  }
  return 0;
}

/* read_gif(path) -> {tensor [3, H, W], ...}, {delay_cs, ...}, loop */
static int p_read_gif(lua_State *L) {
  const char *path = lnn_checkpath(L, 1);
  nn_ctx *ctx = getctx(L);
  nn_gif *g = lua_newuserdatauv(L, sizeof *g, 0);    /* freed below; nothing raises before */
  if (nn_gif_read(ctx, path, g) != 0) return lnn_error(L);
  nn_gif gif = *g;
  /* copy the frames out as tensors; a raise here (no memory) would leak gif: the
   * tensors are made first, then gif freed, then the tables built */
  lua_createtable(L, gif.n, 0);
  int frames = lua_gettop(L);
  size_t plane = (size_t)gif.w * gif.h;
  for (int f = 0; f < gif.n; f++) {
    LTensor *u = lnn_newtensor(L);
    int64_t shape[3] = {3, gif.h, gif.w};
    nn_tensor *t = nn_tensor_empty(ctx, 3, shape);
    if (t) {
      const uint8_t *src = gif.rgb + plane * 3 * (size_t)f;
      float *d = t->s->data + t->off;
      for (size_t k = 0; k < plane; k++)
        for (int c = 0; c < 3; c++) d[(size_t)c * plane + k] = src[3 * k + (size_t)c] / 255.0f;
    } else {
      nn_gif_free(&gif);
    }
    lnn_finish(L, u, t);
    lua_rawseti(L, frames, f + 1);
  }
  lua_createtable(L, gif.n, 0);
  for (int f = 0; f < gif.n; f++) {
    lua_pushinteger(L, gif.delay_cs[f]);
    lua_rawseti(L, -2, f + 1);
  }
  lua_pushinteger(L, gif.loop);
  nn_gif_free(&gif);
  return 3;
}

/* the palette colour i (1-based) as 0xRRGGBB */
static int p_palette(lua_State *L) {
  lua_pushinteger(L, nn_plot_palette((int)luaL_checkinteger(L, 1) - 1));
  return 1;
}

static const luaL_Reg funcs[] = {
  {"lines", p_lines}, {"image_grid", p_image_grid}, {"heatmap", p_heatmap},
  {"subplots", p_subplots}, {"levels", p_levels}, {"histogram", p_histogram},
  {"animate", p_animate}, {"read_gif", p_read_gif},
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
