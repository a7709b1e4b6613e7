/* field.c -- contour lines (marching squares), filled contours and cells of a
 * grid of values (see field.h and plot.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "field.h"
#include "nn/mem.h"

#define CONTOUR_DARK 0x333333u   /* lines over filled bands */

int nn_field_check(nn_ctx *ctx, const nn_plot_field *f) {
  if (f->nx < 2 || f->ny < 2 || !f->z || !f->x || !f->y)
    return nn_seterr(ctx, NN_EARG, "a field needs at least 2 x 2 values (got %d x %d)", f->ny, f->nx);
  for (int j = 0; j < f->nx; j++)
    if (!isfinite(f->x[j]) || (j > 0 && !(f->x[j] > f->x[j - 1])))
      return nn_seterr(ctx, NN_EARG, "x must be finite and strictly increasing (x[%d] = %g)", j + 1,
                       f->x[j]);
  for (int i = 0; i < f->ny; i++)
    if (!isfinite(f->y[i]) || (i > 0 && !(f->y[i] > f->y[i - 1])))
      return nn_seterr(ctx, NN_EARG, "y must be finite and strictly increasing (y[%d] = %g)", i + 1,
                       f->y[i]);
  if (f->mode < NN_FIELD_LINES || f->mode > NN_FIELD_CELLS)
    return nn_seterr(ctx, NN_EARG, "bad field mode %d", f->mode);
  if (f->mode != NN_FIELD_CELLS) {
    int need = f->mode == NN_FIELD_LINES ? 1 : 2;
    if (f->nlevels < need || !f->levels)
      return nn_seterr(ctx, NN_EARG, "%s need at least %d level%s (got %d)",
                       need == 1 ? "contour lines" : "filled contours", need, need == 1 ? "" : "s",
                       f->nlevels);
    for (int k = 0; k < f->nlevels; k++)
      if (!isfinite(f->levels[k]) || (k > 0 && !(f->levels[k] > f->levels[k - 1])) ||
          (f->log && !(f->levels[k] > 0)))
        return nn_seterr(ctx, NN_EARG, "levels must be finite, increasing%s (levels[%d] = %g)",
                         f->log ? " and > 0" : "", k + 1, f->levels[k]);
  }
  return 0;
}

int nn_field_range(const nn_plot_field *f, double *lo, double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  size_t n = (size_t)f->nx * (size_t)f->ny;
  for (size_t k = 0; k < n; k++) {
    double v = f->z[k];
    if (!isfinite(v) || (f->log && !(v > 0))) continue;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
  }
  return *lo <= *hi;
}

uint32_t nn_field_band_color(const nn_plot_field *f, int k) {
  int nb = f->nlevels - 1;
  return nn_plot_viridis(nb > 1 ? (double)k / (nb - 1) : 0.5);
}

uint32_t nn_field_level_color(const nn_plot_field *f, int k) {
  if (f->line_color != NN_PLOT_AUTO) return (uint32_t)f->line_color;
  if (f->mode == NN_FIELD_BOTH) return CONTOUR_DARK;
  return nn_plot_viridis(f->nlevels > 1 ? (double)k / (f->nlevels - 1) : 0.5);
}

uint32_t nn_field_value_color(const nn_plot_field *f, double v, double lo, double hi) {
  if (f->log) { v = log10(v); lo = log10(lo); hi = log10(hi); }
  return nn_plot_viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

/* ------------------------------------------------------ marching squares */

/* Grid edges are numbered: the horizontal edge from (i, j) to (i, j + 1) is
 * 2 (i nx + j), the vertical one from (i, j) to (i + 1, j) is 2 (i nx + j) + 1.
 * A contour crosses an edge at one point, computed from the edge alone, so the
 * two cells sharing it agree and segments chain into polylines. */
typedef struct march {
  const nn_plot_field *f;
  nn_field_map m;
  double level;
  int64_t *seg;             /* 2 edge numbers per segment */
  int64_t nseg, cap;
  int64_t *at;              /* per edge, 2 segments touching it (-1: none) */
  int64_t *chain;           /* scratch for one polyline: 2 nseg + 2 edges */
  char *used;               /* seg, at, chain and used are counted (nn/mem.h) with ctx */
  nn_ctx *ctx;
} march;

static void edge_point(const march *mc, int64_t e, double *px, double *py) {
  const nn_plot_field *f = mc->f;
  int64_t v = e / 2;
  int i = (int)(v / f->nx), j = (int)(v % f->nx);
  int i2 = (e & 1) ? i + 1 : i, j2 = (e & 1) ? j : j + 1;
  double za = f->z[(size_t)i * f->nx + j], zb = f->z[(size_t)i2 * f->nx + j2];
  double t = (mc->level - za) / (zb - za);
  double x = f->x[j] + t * (f->x[j2] - f->x[j]), y = f->y[i] + t * (f->y[i2] - f->y[i]);
  *px = mc->m.xa + mc->m.xb * x;
  *py = mc->m.ya + mc->m.yb * y;
}

static int add_seg(march *mc, int64_t a, int64_t b) {
  if (mc->nseg == mc->cap) {
    int64_t cap = mc->cap ? mc->cap * 2 : 1024;
    int64_t *p = nn_mem_realloc(mc->ctx, mc->seg, (size_t)cap * 2 * sizeof *p,   /* < 4 nedge */
                                "contour: %lld segments", (long long)cap);
    if (!p) return -1;
    mc->seg = p;
    mc->cap = cap;
  }
  mc->seg[2 * mc->nseg] = a;
  mc->seg[2 * mc->nseg + 1] = b;
  mc->nseg++;
  return 0;
}

/* the segments of one level, cell by cell */
static int march_cells(march *mc) {
  const nn_plot_field *f = mc->f;
  int nx = f->nx;
  double c = mc->level;
  mc->nseg = 0;
  for (int i = 0; i + 1 < f->ny; i++)
    for (int j = 0; j + 1 < nx; j++) {
      double za = f->z[(size_t)i * nx + j], zb = f->z[(size_t)i * nx + j + 1];
      double zc = f->z[(size_t)(i + 1) * nx + j + 1], zd = f->z[(size_t)(i + 1) * nx + j];
      if (!isfinite(za) || !isfinite(zb) || !isfinite(zc) || !isfinite(zd)) continue;
      int a = za >= c, b = zb >= c, cc = zc >= c, d = zd >= c;
      int64_t base = (int64_t)i * nx + j;
      int64_t e0 = 2 * base, e1 = 2 * (base + 1) + 1, e2 = 2 * (base + nx), e3 = 2 * base + 1;
      int64_t cut[4];
      int n = 0;
      if (a != b) cut[n++] = e0;
      if (b != cc) cut[n++] = e1;
      if (cc != d) cut[n++] = e2;
      if (d != a) cut[n++] = e3;
      if (n == 2) {
        if (add_seg(mc, cut[0], cut[1]) != 0) return -1;
      } else if (n == 4) {       /* a saddle: cut off the corners unlike the centre */
        int centre = (za + zb + zc + zd) / 4 >= c;
        if (a != centre) { if (add_seg(mc, e3, e0) != 0 || add_seg(mc, e1, e2) != 0) return -1; }
        else { if (add_seg(mc, e0, e1) != 0 || add_seg(mc, e2, e3) != 0) return -1; }
      }
    }
  return 0;
}

/* the unused segment other than s touching edge e, or -1 */
static int64_t next_seg(const march *mc, int64_t e, int64_t s) {
  for (int k = 0; k < 2; k++) {
    int64_t t = mc->at[2 * e + k];
    if (t >= 0 && t != s && !mc->used[t]) return t;
  }
  return -1;
}

/* chains the segments into polylines and strokes them */
static void march_draw(march *mc, nn_canvas *cv) {
  int64_t nedge = 2 * (int64_t)mc->f->nx * mc->f->ny;
  for (int64_t k = 0; k < 2 * nedge; k++) mc->at[k] = -1;
  memset(mc->used, 0, (size_t)mc->nseg);
  for (int64_t s = 0; s < mc->nseg; s++)
    for (int end = 0; end < 2; end++) {
      int64_t e = mc->seg[2 * s + end];
      if (mc->at[2 * e] < 0) mc->at[2 * e] = s;
      else mc->at[2 * e + 1] = s;
    }
  int64_t mid = mc->nseg + 1;   /* the chain grows both ways from the middle */
  for (int64_t s = 0; s < mc->nseg; s++) {
    if (mc->used[s]) continue;
    mc->used[s] = 1;
    int64_t lo = mid, hi = mid + 1;
    mc->chain[lo] = mc->seg[2 * s];
    mc->chain[hi] = mc->seg[2 * s + 1];
    for (int64_t t = s, e = mc->chain[hi]; (t = next_seg(mc, e, t)) >= 0;) {
      mc->used[t] = 1;
      e = mc->seg[2 * t] == e ? mc->seg[2 * t + 1] : mc->seg[2 * t];
      mc->chain[++hi] = e;
    }
    for (int64_t t = s, e = mc->chain[lo]; (t = next_seg(mc, e, t)) >= 0;) {
      mc->used[t] = 1;
      e = mc->seg[2 * t] == e ? mc->seg[2 * t + 1] : mc->seg[2 * t];
      mc->chain[--lo] = e;
    }
    double x, y;
    edge_point(mc, mc->chain[lo], &x, &y);
    nn_canvas_move(cv, x, y);
    int64_t last = hi;
    if (hi - lo > 2 && mc->chain[hi] == mc->chain[lo]) last = hi - 1;   /* a closed loop */
    for (int64_t k = lo + 1; k <= last; k++) {
      edge_point(mc, mc->chain[k], &x, &y);
      nn_canvas_line(cv, x, y);
    }
    if (last != hi) nn_canvas_close(cv);
    nn_canvas_stroke(cv);
  }
}

static int draw_lines(nn_ctx *ctx, nn_canvas *cv, const nn_plot_field *f, nn_field_map m, double s) {
  march mc;
  memset(&mc, 0, sizeof mc);
  mc.f = f;
  mc.m = m;
  mc.ctx = ctx;
  int64_t nedge = 2 * (int64_t)f->nx * f->ny;      /* nx, ny < 2^31: no overflow */
  mc.at = nn_mem_alloc(ctx, (size_t)nedge * 2 * sizeof *mc.at, "contour: the edges of a %d x %d "
                       "grid", f->nx, f->ny);
  int rc = mc.at ? 0 : -1;
  nn_canvas_line_width(cv, (f->mode == NN_FIELD_BOTH ? 0.8 : 1.4) * s);
  nn_canvas_dash(cv, NN_SOLID);
  for (int k = 0; rc == 0 && k < f->nlevels; k++) {
    mc.level = f->levels[k];
    if (march_cells(&mc) != 0) { rc = -1; break; }
    nn_mem_free(mc.chain);
    nn_mem_free(mc.used);
    mc.used = NULL;
    mc.chain = nn_mem_alloc(ctx, (size_t)(2 * mc.nseg + 3) * sizeof *mc.chain,
                            "contour: %lld segments", (long long)mc.nseg);
    if (mc.chain) mc.used = nn_mem_alloc(ctx, (size_t)mc.nseg + 1, "contour: %lld segments",
                                         (long long)mc.nseg);
    if (!mc.chain || !mc.used) { rc = -1; break; }
    nn_canvas_color(cv, nn_field_level_color(f, k), f->mode == NN_FIELD_BOTH ? 0.7 : 1);
    march_draw(&mc, cv);
  }
  nn_mem_free(mc.seg);
  nn_mem_free(mc.at);
  nn_mem_free(mc.chain);
  nn_mem_free(mc.used);
  return rc == 0 ? 0 : NN_ENOMEM;                /* nn_mem_* said why */
}

/* ----------------------------------------------------------- filled bands */

/* Band k is painted as the region z >= levels[k], lowest first, so each band
 * covers the ones below without a seam (band 0 covers every finite value, and
 * values above the last level keep the top band's colour); the region is each cell's rectangle
 * clipped where z (linear along the edges, as the contour lines) falls below
 * the level. Runs of whole cells in a row are one rectangle. All polygons go
 * round the same way (a, b, c, d), so one fill of the path is their union. */
typedef struct vtx { double x, y, z; } vtx;

static void poly_add(nn_canvas *cv, nn_field_map m, const vtx *v, int n) {
  for (int k = 0; k < n; k++) {
    double px = m.xa + m.xb * v[k].x, py = m.ya + m.yb * v[k].y;
    if (k == 0) nn_canvas_move(cv, px, py);
    else nn_canvas_line(cv, px, py);
  }
  nn_canvas_close(cv);
}

static void fill_level(nn_canvas *cv, const nn_plot_field *f, nn_field_map m, double c) {
  /* c = -inf: every finite cell (values below the first level take band 0) */
  int nx = f->nx;
  for (int i = 0; i + 1 < f->ny; i++) {
    int run = -1;             /* first column of a run of whole cells */
    for (int j = 0; j < nx; j++) {
      int whole = 0, part = 0;
      double z[4] = {0, 0, 0, 0};
      if (j + 1 < nx) {
        z[0] = f->z[(size_t)i * nx + j];
        z[1] = f->z[(size_t)i * nx + j + 1];
        z[2] = f->z[(size_t)(i + 1) * nx + j + 1];
        z[3] = f->z[(size_t)(i + 1) * nx + j];
        int fin = isfinite(z[0]) && isfinite(z[1]) && isfinite(z[2]) && isfinite(z[3]);
        int in = fin ? (z[0] >= c) + (z[1] >= c) + (z[2] >= c) + (z[3] >= c) : 0;
        whole = in == 4;
        part = in > 0 && in < 4;
      }
      if (!whole && run >= 0) {   /* end of a run: columns run .. j - 1 */
        vtx r[4] = {{f->x[run], f->y[i], 0}, {f->x[j], f->y[i], 0},
                    {f->x[j], f->y[i + 1], 0}, {f->x[run], f->y[i + 1], 0}};
        poly_add(cv, m, r, 4);
        run = -1;
      }
      if (whole && run < 0) run = j;
      if (!part) continue;
      vtx q[4] = {{f->x[j], f->y[i], z[0]}, {f->x[j + 1], f->y[i], z[1]},
                  {f->x[j + 1], f->y[i + 1], z[2]}, {f->x[j], f->y[i + 1], z[3]}};
      vtx out[8];
      int n = 0;
      for (int k = 0; k < 4; k++) {           /* Sutherland-Hodgman against z >= c */
        const vtx *p = &q[k], *r = &q[(k + 1) % 4];
        int pin = p->z >= c, rin = r->z >= c;
        if (pin) out[n++] = *p;
        if (pin != rin) {
          double t = (c - p->z) / (r->z - p->z);
          vtx v = {p->x + t * (r->x - p->x), p->y + t * (r->y - p->y), c};
          out[n++] = v;
        }
      }
      if (n >= 3) poly_add(cv, m, out, n);
    }
  }
}

static void draw_cells(nn_canvas *cv, const nn_plot_field *f, nn_field_map m) {
  double lo = f->vmin, hi = f->vmax;
  if (isnan(lo) || isnan(hi)) {
    double dlo, dhi;
    if (!nn_field_range(f, &dlo, &dhi)) return;
    if (isnan(lo)) lo = dlo;
    if (isnan(hi)) hi = dhi;
  }
  for (int i = 0; i < f->ny; i++) {
    double y0 = i > 0 ? (f->y[i - 1] + f->y[i]) / 2 : f->y[0] - (f->y[1] - f->y[0]) / 2;
    double y1 = i + 1 < f->ny ? (f->y[i] + f->y[i + 1]) / 2
                              : f->y[i] + (f->y[i] - f->y[i - 1]) / 2;
    double py0 = round(m.ya + m.yb * y0), py1 = round(m.ya + m.yb * y1);
    for (int j = 0; j < f->nx; j++) {
      double v = f->z[(size_t)i * f->nx + j];
      if (!isfinite(v) || (f->log && !(v > 0))) continue;
      double x0 = j > 0 ? (f->x[j - 1] + f->x[j]) / 2 : f->x[0] - (f->x[1] - f->x[0]) / 2;
      double x1 = j + 1 < f->nx ? (f->x[j] + f->x[j + 1]) / 2
                                : f->x[j] + (f->x[j] - f->x[j - 1]) / 2;
      double px0 = round(m.xa + m.xb * x0), px1 = round(m.xa + m.xb * x1);
      nn_canvas_color(cv, nn_field_value_color(f, fmin(fmax(v, lo), hi), lo, hi), 1);
      nn_canvas_rect(cv, fmin(px0, px1), fmin(py0, py1), fabs(px1 - px0), fabs(py1 - py0));
      nn_canvas_fill(cv);
    }
  }
}

int nn_field_draw(nn_ctx *ctx, nn_canvas *cv, const nn_plot_field *f, nn_field_map m, double s) {
  if (f->mode == NN_FIELD_CELLS) {
    draw_cells(cv, f, m);
    return 0;
  }
  if (f->mode != NN_FIELD_LINES)
    for (int k = 0; k + 1 < f->nlevels; k++) {
      nn_canvas_color(cv, nn_field_band_color(f, k), 1);
      fill_level(cv, f, m, k == 0 ? -INFINITY : f->levels[k]);
      nn_canvas_fill(cv);
    }
  if (f->mode != NN_FIELD_FILLED) return draw_lines(ctx, cv, f, m, s);
  return 0;
}

/* ------------------------------------------------------------- helpers */

int nn_plot_levels(double lo, double hi, int n, int log, double *levels, int cap) {
  if (!(hi >= lo) || !isfinite(lo) || !isfinite(hi) || cap < 1 || n < 1) return 0;
  if (log) {
    if (!(lo > 0)) return 0;
    if (hi == lo || n == 1) { levels[0] = lo; return 1; }
    double a = log10(lo), b = log10(hi);
    int m = n < cap ? n : cap;
    for (int k = 0; k < m; k++) levels[k] = pow(10, a + (b - a) * k / (m - 1));
    levels[0] = lo;
    levels[m - 1] = hi;
    return m;
  }
  if (hi == lo) { levels[0] = lo; return 1; }
  /* nice steps: the levels cover [lo, hi], from the step below lo to the one above hi */
  double t[256], step;
  int k = nn_plot_ticks(lo, hi, n, 0, t, 256, &step);
  if (k < 1) return 0;
  int out = 0;
  if (t[0] > lo && out < cap) levels[out++] = t[0] - step;
  for (int i = 0; i < k && out < cap; i++) levels[out++] = t[i];
  if (t[k - 1] < hi && out < cap) levels[out++] = t[k - 1] + step;
  return out;
}

void nn_plot_histogram(const double *x, int64_t n, double lo, double hi, int nbins,
                       double *counts) {
  for (int b = 0; b < nbins; b++) counts[b] = 0;
  if (!(hi > lo) || nbins < 1) return;
  double w = (hi - lo) / nbins;
  for (int64_t k = 0; k < n; k++) {
    double v = x[k];
    if (!isfinite(v) || v < lo || v > hi) continue;
    int b = (int)floor((v - lo) / w);
    if (b >= nbins) b = nbins - 1;
    if (b < 0) b = 0;
    /* the float division may put an edge value one bin off: check the edges */
    if (b > 0 && v < lo + b * w) b--;
    else if (b + 1 < nbins && v >= lo + (b + 1) * w) b++;
    counts[b] += 1;
  }
}
