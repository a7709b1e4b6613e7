/* plot_image.c -- image grids, heatmaps and plain images (see plot.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plot.h"
#include "nn/io/png.h"
#include "nn/mem.h"

/* s cut to fit maxw pixels at size, ending in "…" when cut; buf holds the
 * result (len bytes). Cuts fall between UTF-8 characters. */
static const char *fit_text(nn_canvas *cv, const char *s, double size, double maxw,
                            char *buf, size_t len) {
  if (nn_canvas_text_width(cv, s, size) <= maxw) return s;
  size_t n = strlen(s);
  if (n + 4 > len) n = len - 4;
  while (n > 0) {
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;   /* start of a character */
    memcpy(buf, s, n);
    memcpy(buf + n, "\xE2\x80\xA6", 4);
    if (nn_canvas_text_width(cv, buf, size) <= maxw) return buf;
    n--;
  }
  return "";
}

/* ----------------------------------------------------------- image grid */

static int check_grid(nn_ctx *ctx, const nn_grid_spec *g) {
  if (nn_plot_check_size(ctx, "plot.image_grid", g->width ? g->width : NN_PLOT_MINSIDE,
                         g->height ? g->height : NN_PLOT_MINSIDE) != 0)
    return NN_EARG;
  if (g->n < 1 || !g->images) return nn_seterr(ctx, NN_EARG, "plot.image_grid: no images");
  if (g->c != 1 && g->c != 3)
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: images must have 1 or 3 channels (got %d)",
                     g->c);
  if (g->h < 1 || g->w < 1 || g->h > NN_PLOT_MAXSIDE || g->w > NN_PLOT_MAXSIDE)
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: bad image size %d x %d", g->h, g->w);
  if (g->rows < 1 || g->cols < 1 || (int64_t)g->rows * g->cols < g->n)
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: %d rows x %d cols cannot hold %d images",
                     g->rows, g->cols, g->n);
  if (!isfinite(g->lo) || !isfinite(g->hi) || !(g->hi > g->lo))
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: range must be {lo, hi} with lo < hi");
  for (int k = 0; g->mean && k < g->c; k++)
    if (!isfinite(g->mean[k]) || !isfinite(g->std[k]))
      return nn_seterr(ctx, NN_EARG, "plot.image_grid: mean and std must be finite numbers");
  return 0;
}

/* image i as bytes [h, w, c]: un-normalised, mapped from lo..hi, clamped */
static int grid_bytes(nn_ctx *ctx, const nn_grid_spec *g, int i, uint8_t *out) {
  size_t plane = (size_t)g->h * (size_t)g->w;
  const float *src = g->images + (size_t)i * plane * (size_t)g->c;
  double scale = 255.0 / (g->hi - g->lo);
  for (int ch = 0; ch < g->c; ch++) {
    double m = g->mean ? g->mean[ch] : 0, sd = g->std ? g->std[ch] : 1;
    for (size_t k = 0; k < plane; k++) {
      double v = src[ch * plane + k];
      if (isnan(v))
        return nn_seterr(ctx, NN_EARG, "plot.image_grid: image %d has a NaN pixel", i + 1);
      v = ((v * sd + m) - g->lo) * scale;
      out[k * (size_t)g->c + (size_t)ch] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lround(v));
    }
  }
  return 0;
}

/* The layout of a grid: the image scale k, the column pitch, the cell
 * height and, for a side given as 0, the figure's size. */
typedef struct grid_layout {
  int width, height;
  double s, pad, gap, lf, tf, top, lab;
  double k, pitch, iw, ih;
} grid_layout;

#define GRID_TARGET 128.0   /* auto size: the larger side of an image shown about this big */
#define GRID_MAXW 1600      /* auto size: the largest figure before images shrink */
#define GRID_MAXH 1200
#define GRID_LABEL_CELLS 3.0 /* a label may widen its column to 3 images' width */

/* widest label in pixels at size lf (0 without labels) */
static double widest_label(nn_canvas *cv, const nn_grid_spec *g, double lf) {
  double w = 0;
  for (int i = 0; g->labels && i < g->n; i++)
    if (g->labels[i]) w = fmax(w, nn_canvas_text_width(cv, g->labels[i], lf));
  return w;
}

/* the pitch of the columns: the image plus a gap, widened for the labels up
 * to GRID_LABEL_CELLS images and, when the width is given, to the room there */
static double grid_pitch(const grid_layout *L, double labw, double room) {
  double want = fmin(labw + 0.6 * L->lf, GRID_LABEL_CELLS * L->iw) + L->gap;
  double p = fmax(L->iw + L->gap, want);
  return room > 0 ? fmax(L->iw + L->gap, fmin(p, room)) : p;
}

static int grid_layout_of(nn_ctx *ctx, nn_canvas *m, const nn_grid_spec *g, grid_layout *L) {
  int autow = g->width == 0, autoh = g->height == 0;
  L->s = autow && autoh ? 1
       : autow ? fmin(fmax(g->height / 600.0, 0.75), 4)
       : autoh ? fmin(fmax(g->width / 800.0, 0.75), 4) : nn_plot_scale(g->width, g->height);
  L->pad = L->gap = NN_PLOT_PAD * L->s;
  L->lf = NN_PLOT_TICK_FONT * L->s;
  L->tf = NN_PLOT_TITLE_FONT * L->s;
  int titled = g->title && *g->title;
  L->top = L->pad + (titled ? nn_canvas_text_height(m, L->tf) + L->pad : 0);
  L->lab = g->labels ? nn_canvas_text_height(m, L->lf) + 0.6 * L->lf : 0;
  double labw = widest_label(m, g, L->lf);
  int side = g->w > g->h ? g->w : g->h;
  /* the scale: fit the given sides, or the target size for the auto ones */
  double k = INFINITY;
  if (!autow) k = fmin(k, (g->width - 2 * L->pad - (g->cols - 1) * L->gap) / g->cols / g->w);
  if (!autoh)
    k = fmin(k, ((g->height - L->top - L->pad - (g->rows - 1) * L->gap) / g->rows - L->lab) / g->h);
  if (autow || autoh) {
    double t = fmax(1, round(GRID_TARGET / side));
    k = fmin(k, t);
  }
  if (k >= 1) k = floor(k);
  for (;;) {                      /* auto sides: shrink the images until the figure is not huge */
    L->k = k;
    L->iw = k * g->w;
    L->ih = k * g->h;
    double room = autow ? 0 : (g->width - 2 * L->pad + L->gap) / g->cols;
    L->pitch = grid_pitch(L, labw, room);
    double fw = 2 * L->pad + g->cols * L->pitch - L->gap;
    if (titled) fw = fmax(fw, nn_canvas_text_width(m, g->title, L->tf) + 2 * L->pad);
    double fh = L->top + g->rows * (L->ih + L->lab) + (g->rows - 1) * L->gap + L->pad;
    L->width = autow ? (int)ceil(fmax(fw, NN_PLOT_MINSIDE)) : g->width;
    L->height = autoh ? (int)ceil(fmax(fh, NN_PLOT_MINSIDE)) : g->height;
    int big = (autow && L->width > GRID_MAXW) || (autoh && L->height > GRID_MAXH);
    if (!big || k <= 1) break;
    k = k - 1;
  }
  if ((autow && L->width > NN_PLOT_MAXSIDE) || (autoh && L->height > NN_PLOT_MAXSIDE))
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: %d rows x %d cols of %d x %d images need "
                     "a figure over %d pixels; give width and height", g->rows, g->cols, g->h,
                     g->w, NN_PLOT_MAXSIDE);
  if (!(L->k * g->w >= 1 && L->k * g->h >= 1))
    return nn_seterr(ctx, NN_EARG, "plot.image_grid: %d rows x %d cols do not fit in %d x %d "
                     "pixels", g->rows, g->cols, g->width, g->height);
  return 0;
}

nn_canvas *nn_plot_image_grid(nn_ctx *ctx, const nn_grid_spec *g) {
  if (check_grid(ctx, g) != 0) return NULL;
  nn_canvas *m = nn_canvas_new(ctx, 1, 1);    /* measures the text before the size is known */
  if (!m) return NULL;
  grid_layout L;
  int rc = grid_layout_of(ctx, m, g, &L);
  nn_canvas_free(m);
  if (rc != 0) return NULL;
  nn_canvas *cv = nn_canvas_new(ctx, L.width, L.height);
  if (!cv) return NULL;
  double pad = L.pad, gap = L.gap, lf = L.lf, tf = L.tf, top = L.top, lab = L.lab;
  double k = L.k, iw = L.iw, ih = L.ih, cellh = ih + lab;
  /* the grid is centred: cells hug their images, widened for their labels */
  double gw = g->cols * L.pitch - gap, gh = g->rows * cellh + (g->rows - 1) * gap;
  double x0 = round((L.width - gw) / 2 + (L.pitch - gap - iw) / 2);
  double y0 = round(top + (L.height - top - pad - gh) / 2);   /* title and grid centred together */
  double ty = y0 - (top - pad);
  uint8_t *px = nn_mem_alloc(ctx, (size_t)g->h * (size_t)g->w * (size_t)g->c,
                             "plot.image_grid: an image of %d x %d", g->w, g->h);
  if (!px) {
    nn_canvas_free(cv);
    return NULL;
  }
  char buf[256];
  for (int i = 0; i < g->n; i++) {
    double x = x0 + (i % g->cols) * L.pitch, y = y0 + (i / g->cols) * (cellh + gap);
    if (grid_bytes(ctx, g, i, px) != 0 ||
        nn_canvas_image(ctx, cv, round(x), round(y), px, g->h, g->w, g->c, k) != 0) {
      nn_mem_free(px);
      nn_canvas_free(cv);
      return NULL;
    }
    if (g->labels && g->labels[i]) {
      nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
      nn_canvas_text(cv, round(x) + iw / 2, y + ih + 0.5 * lf,
                     fit_text(cv, g->labels[i], lf, L.pitch - 0.2 * gap, buf, sizeof buf), lf,
                     0.5, 0, 0);
    }
  }
  nn_mem_free(px);
  if (g->title && *g->title) {
    nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
    nn_canvas_text(cv, L.width / 2.0, ty, g->title, tf, 0.5, 0, 0);
  }
  if (nn_canvas_check(ctx, cv) != 0) { nn_canvas_free(cv); return NULL; }
  return cv;
}

/* -------------------------------------------------------------- heatmap */

/* how to print the cell values: whole numbers as such, else 2 decimals (or 3
 * significant digits when large) */
static void cell_format(char *buf, size_t len, double v, int whole, double maxabs) {
  if (whole) snprintf(buf, len, "%.0f", v);
  else if (maxabs < 1000) snprintf(buf, len, "%.2f", v);
  else snprintf(buf, len, "%.3g", v);
}

static double luminance(uint32_t rgb) {
  return (0.2126 * ((rgb >> 16) & 255) + 0.7152 * ((rgb >> 8) & 255) + 0.0722 * (rgb & 255)) /
         255.0;
}

static const char *tick_label(const char *const *labels, int i, char *buf, size_t len) {
  if (labels && labels[i]) return labels[i];
  snprintf(buf, len, "%d", i + 1);
  return buf;
}

/* the smallest of 1, 2, 5, 10, 20, 50, ... at least need */
static int label_stride(double need) {
  for (int m = 1; m < 1000000; m *= 10) {
    if (need <= m) return m;
    if (need <= 2 * m) return 2 * m;
    if (need <= 5 * m) return 5 * m;
  }
  return 1000000;
}

nn_canvas *nn_plot_heatmap(nn_ctx *ctx, const nn_heatmap_spec *p) {
  if (nn_plot_check_size(ctx, "plot.heatmap", p->width, p->height) != 0) return NULL;
  if (p->rows < 1 || p->cols < 1 || !p->m) {
    nn_seterr(ctx, NN_EARG, "plot.heatmap: the matrix is empty");
    return NULL;
  }
  size_t n = (size_t)p->rows * (size_t)p->cols;
  double vmin = INFINITY, vmax = -INFINITY, maxabs = 0;
  int whole = 1;
  for (size_t k = 0; k < n; k++) {
    double v = p->m[k];
    if (!isfinite(v)) continue;
    vmin = fmin(vmin, v);
    vmax = fmax(vmax, v);
    maxabs = fmax(maxabs, fabs(v));
    if (v != floor(v) || fabs(v) >= 1e15) whole = 0;
  }
  if (vmin > vmax) {
    nn_seterr(ctx, NN_EARG, "plot.heatmap: the matrix has no finite value (all NaN or inf)");
    return NULL;
  }
  if (vmax == vmin) { vmin -= 0.5; vmax += 0.5; }
  nn_canvas *cv = nn_canvas_new(ctx, p->width, p->height);
  if (!cv) return NULL;
  double s = nn_plot_scale(p->width, p->height), pad = NN_PLOT_PAD * s;
  double tf = NN_PLOT_TICK_FONT * s, lf = NN_PLOT_LABEL_FONT * s, tl = NN_PLOT_TICK_LEN * s;
  double th = nn_canvas_text_height(cv, tf), lh = nn_canvas_text_height(cv, lf);
  char buf[64];

  /* colour bar ticks and the widest labels set the margins */
  double cticks[64], cstep;
  int nct = nn_plot_ticks(vmin, vmax, 7, whole, cticks, 64, &cstep);
  double cbw = 0;
  for (int k = 0; k < nct; k++) {
    nn_plot_format(buf, sizeof buf, cticks[k], cstep, fmax(fabs(vmin), fabs(vmax)));
    cbw = fmax(cbw, nn_canvas_text_width(cv, buf, tf));
  }
  double ylw = 0, xlw = 0;
  for (int i = 0; i < p->rows; i++)
    ylw = fmax(ylw, nn_canvas_text_width(cv, tick_label(p->ylabels, i, buf, sizeof buf), tf));
  for (int j = 0; j < p->cols; j++)
    xlw = fmax(xlw, nn_canvas_text_width(cv, tick_label(p->xlabels, j, buf, sizeof buf), tf));
  double top = pad + (p->title && *p->title
                      ? nn_canvas_text_height(cv, NN_PLOT_TITLE_FONT * s) + pad : th / 2);
  double left = pad + (p->ylabel && *p->ylabel ? lh + 0.7 * lf : 0) + ylw + 0.5 * tf + tl;
  double bar = 1.4 * tf;
  double right = pad + cbw + 0.5 * tf + tl + bar + 1.5 * tf;
  double xl_extra = p->xlabel && *p->xlabel ? lh + 0.7 * lf : 0;
  double bottom = pad + tl + 0.5 * tf + th + xl_extra;
  double cell = fmin((p->width - left - right) / p->cols, (p->height - top - bottom) / p->rows);
  /* labels on every stride-th row and column when the cells are too small for
   * all of them; column labels turn 45 degrees when that keeps many more */
  int su = label_stride((xlw + 0.8 * tf) / cell), sr = label_stride(1.3 * th / cell);
  int rotate = xlw > cell * 0.92 && su > 2 * sr;
  if (rotate) {   /* labels at 45 degrees need more room below */
    bottom = pad + tl + 0.5 * tf + (xlw + th) * 0.7072 + xl_extra;
    cell = fmin((p->width - left - right) / p->cols, (p->height - top - bottom) / p->rows);
  }
  int xstride = rotate ? label_stride(1.3 * th / cell) : label_stride((xlw + 0.8 * tf) / cell);
  int ystride = label_stride(1.3 * th / cell);
  if (cell < 2) {
    nn_canvas_free(cv);
    nn_seterr(ctx, NN_EARG, "plot.heatmap: a %d x %d matrix does not fit in %d x %d pixels",
              p->rows, p->cols, p->width, p->height);
    return NULL;
  }
  double aw = p->cols * cell, ah = p->rows * cell;
  double ax = round(left + (p->width - left - right - aw) / 2), ay = round(top);

  /* cells and their values */
  double fs = fmin(tf, cell * 0.38);
  for (size_t k = 0; k < n && p->annotate; k++)
    if (isfinite(p->m[k])) {
      cell_format(buf, sizeof buf, p->m[k], whole, maxabs);
      double w = nn_canvas_text_width(cv, buf, fs);
      if (w > cell * 0.8) fs *= cell * 0.8 / w;
    }
  int annotate = p->annotate && fs >= 6 * s;
  for (int i = 0; i < p->rows; i++)
    for (int j = 0; j < p->cols; j++) {
      double v = p->m[(size_t)i * (size_t)p->cols + (size_t)j];
      if (!isfinite(v)) continue;
      uint32_t c = nn_plot_viridis((v - vmin) / (vmax - vmin));
      double x = ax + j * cell, y = ay + i * cell;
      nn_canvas_color(cv, c, 1);
      nn_canvas_rect(cv, floor(x), floor(y), floor(x + cell) - floor(x), floor(y + cell) - floor(y));
      nn_canvas_fill(cv);
      if (!annotate) continue;
      cell_format(buf, sizeof buf, v, whole, maxabs);
      nn_canvas_color(cv, luminance(c) > 0.45 ? 0x000000 : 0xFFFFFF, 1);
      nn_canvas_text(cv, x + cell / 2, y + cell / 2, buf, fs, 0.5, 0.5, 0);
    }

  /* the frame, ticks and labels */
  double lw = NN_PLOT_AXIS_WIDTH * s;
  nn_canvas_color(cv, 0x000000, 1);
  nn_canvas_line_width(cv, lw);
  nn_canvas_rect(cv, ax, ay, floor(ax + aw) - ax, floor(ay + ah) - ay);
  for (int j = 0; j < p->cols; j += xstride) {
    nn_canvas_move(cv, ax + (j + 0.5) * cell, ay + ah);
    nn_canvas_line(cv, ax + (j + 0.5) * cell, ay + ah + tl);
  }
  for (int i = 0; i < p->rows; i += ystride) {
    nn_canvas_move(cv, ax, ay + (i + 0.5) * cell);
    nn_canvas_line(cv, ax - tl, ay + (i + 0.5) * cell);
  }
  nn_canvas_stroke(cv);
  nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
  for (int j = 0; j < p->cols; j += xstride) {
    const char *t = tick_label(p->xlabels, j, buf, sizeof buf);
    double x = ax + (j + 0.5) * cell, y = ay + ah + tl + 0.4 * tf;
    if (rotate) nn_canvas_text(cv, x + 0.35 * th, y, t, tf, 1, 0, 45);
    else nn_canvas_text(cv, x, y, t, tf, 0.5, 0, 0);
  }
  for (int i = 0; i < p->rows; i += ystride)
    nn_canvas_text(cv, ax - tl - 0.4 * tf, ay + (i + 0.5) * cell,
                   tick_label(p->ylabels, i, buf, sizeof buf), tf, 1, 0.5, 0);
  /* axis labels hug the tick labels (the matrix may be centred in spare room) */
  double xl_y = ay + ah + tl + 0.5 * tf + (rotate ? (xlw + th) * 0.7072 : th) + 0.7 * lf;
  if (p->xlabel && *p->xlabel)
    nn_canvas_text(cv, ax + aw / 2, xl_y, p->xlabel, lf, 0.5, 0, 0);
  if (p->ylabel && *p->ylabel)
    nn_canvas_text(cv, ax - tl - 0.5 * tf - ylw - 0.7 * lf - lh, ay + ah / 2, p->ylabel, lf, 0.5,
                   0, 90);
  if (p->title && *p->title)
    nn_canvas_text(cv, ax + aw / 2, ay - 0.7 * pad, p->title, NN_PLOT_TITLE_FONT * s, 0.5, 1, 0);

  /* the colour bar: one stripe per pixel row, top = vmax */
  double bx = ax + aw + 1.5 * tf, bh = round(ah);
  for (int r = 0; r < (int)bh; r++) {
    nn_canvas_color(cv, nn_plot_viridis(1 - (r + 0.5) / bh), 1);
    nn_canvas_rect(cv, bx, ay + r, bar, 1);
    nn_canvas_fill(cv);
  }
  nn_canvas_color(cv, 0x000000, 1);
  nn_canvas_rect(cv, bx, ay, bar, bh);
  for (int k = 0; k < nct; k++) {
    double y = ay + bh - (cticks[k] - vmin) / (vmax - vmin) * bh;
    nn_canvas_move(cv, bx + bar, y);
    nn_canvas_line(cv, bx + bar + tl, y);
  }
  nn_canvas_stroke(cv);
  nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
  for (int k = 0; k < nct; k++) {
    nn_plot_format(buf, sizeof buf, cticks[k], cstep, fmax(fabs(vmin), fabs(vmax)));
    nn_canvas_text(cv, bx + bar + tl + 0.4 * tf,
                   ay + bh - (cticks[k] - vmin) / (vmax - vmin) * bh, buf, tf, 0, 0.5, 0);
  }
  if (nn_canvas_check(ctx, cv) != 0) { nn_canvas_free(cv); return NULL; }
  return cv;
}

/* ----------------------------------------------------------- save_image */

int nn_plot_save_image(nn_ctx *ctx, const char *path, const float *data, int c, int h, int w,
                       const char *const *text_kv, int ntext) {
  if (c != 1 && c != 3)
    return nn_seterr(ctx, NN_EARG, "plot.save_image: expected 1 or 3 channels (got %d)", c);
  if (h < 1 || w < 1 || h > NN_PNG_MAXSIDE || w > NN_PNG_MAXSIDE)
    return nn_seterr(ctx, NN_EARG, "plot.save_image: bad image size %d x %d", h, w);
  size_t plane = (size_t)h * (size_t)w;
  uint8_t *b = nn_mem_alloc(ctx, plane * (size_t)c, "plot.save_image: the bytes of an image "
                           "of %d x %d", w, h);
  if (!b) return NN_ENOMEM;
  for (int ch = 0; ch < c; ch++)
    for (size_t k = 0; k < plane; k++) {
      float v = data[(size_t)ch * plane + k];
      if (isnan(v)) {
        nn_mem_free(b);
        return nn_seterr(ctx, NN_EARG, "plot.save_image: the image has a NaN pixel");
      }
      float u = v * 255 + 0.5f;      /* torchvision's rounding */
      b[k * (size_t)c + (size_t)ch] = (uint8_t)(u <= 0 ? 0 : u >= 255 ? 255 : u);
    }
  int rc = nn_png_write(ctx, path, b, h, w, c, text_kv, ntext);
  nn_mem_free(b);
  return rc;
}
