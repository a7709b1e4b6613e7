/* plot.c -- line charts, and the axis helpers every figure shares (see plot.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plot.h"

#define MAXTICKS 64

#define GRID_COLOR 0xB0B0B0u

/* ------------------------------------------------------------- helpers */

double nn_plot_scale(int width, int height) {
  double s = fmin(width / 800.0, height / 600.0);
  return s < 0.75 ? 0.75 : s > 4 ? 4 : s;
}

int nn_plot_check_size(nn_ctx *ctx, const char *what, int width, int height) {
  if (width < NN_PLOT_MINSIDE || width > NN_PLOT_MAXSIDE || height < NN_PLOT_MINSIDE ||
      height > NN_PLOT_MAXSIDE)
    return nn_seterr(ctx, NN_EARG, "%s: width and height must be %d to %d pixels (got %d x %d)",
                     what, NN_PLOT_MINSIDE, NN_PLOT_MAXSIDE, width, height);
  return 0;
}

uint32_t nn_plot_palette(int i) {
  static const uint32_t okabe_ito[] = {0x0072B2, 0xE69F00, 0x009E73, 0xD55E00,
                                       0xCC79A7, 0x56B4E9, 0x000000, 0xF0E442};
  int n = (int)(sizeof okabe_ito / sizeof *okabe_ito);
  return okabe_ito[((i % n) + n) % n];
}

uint32_t nn_plot_viridis(double t) {
  /* matplotlib's viridis sampled at 17 evenly spaced points */
  static const uint32_t v[17] = {0x440154, 0x48186A, 0x472D7B, 0x424086, 0x3B528B, 0x33638D,
                                 0x2C728E, 0x26828E, 0x21918C, 0x1FA088, 0x28AE80, 0x3FBC73,
                                 0x5EC962, 0x84D44B, 0xADDC30, 0xD8E219, 0xFDE725};
  if (!(t > 0)) t = 0;
  if (t > 1) t = 1;
  double f = t * 16;
  int i = (int)f;
  if (i >= 16) return v[16];
  f -= i;
  uint32_t out = 0;
  for (int sh = 16; sh >= 0; sh -= 8) {
    double a = (v[i] >> sh) & 255, b = (v[i + 1] >> sh) & 255;
    out |= (uint32_t)lround(a + (b - a) * f) << sh;
  }
  return out;
}

int nn_plot_ticks(double lo, double hi, int maxn, int integer, double *ticks, int cap,
                  double *step) {
  if (!(hi > lo) || !isfinite(hi - lo)) { *step = 1; return 0; }
  if (maxn < 2) maxn = 2;
  double raw = (hi - lo) / (maxn - 1);
  double mag = pow(10, floor(log10(raw)));
  static const double mult[] = {1, 2, 2.5, 5, 10};
  double st = 10 * mag;
  for (int k = 0; k < 5; k++) {
    double cand = mult[k] * mag;
    if (integer && cand != floor(cand)) continue;
    if (cand >= raw * (1 - 1e-12)) { st = cand; break; }
  }
  if (integer && st < 1) st = 1;
  *step = st;
  double i0 = ceil(lo / st - 1e-9), i1 = floor(hi / st + 1e-9);
  int n = 0;
  for (double i = i0; i <= i1 && n < cap; i++) {
    double v = i * st;
    ticks[n++] = fabs(v) < st * 1e-9 ? 0 : v;
  }
  return n;
}

/* decimals needed to print multiples of step exactly */
static int decimals(double step) {
  int d = 0;
  for (double r = step; d < 10 && fabs(r - nearbyint(r)) > 1e-6 * fmax(1, r); d++) r *= 10;
  return d;
}

void nn_plot_format(char *buf, size_t len, double v, double step, double maxabs) {
  step = fabs(step);
  if (fabs(v) < step * 1e-9) v = 0;
  maxabs = fmax(fmax(fabs(maxabs), fabs(v)), step);
  if (step >= 1e-4 && maxabs < 1e6) {
    snprintf(buf, len, "%.*f", decimals(step), v);
    return;
  }
  /* one exponent for the whole axis: 0.5e6, 1.0e6, 1.5e6 */
  int e = (int)floor(log10(maxabs));
  double p = pow(10, e);
  if (v == 0) snprintf(buf, len, "0");
  else snprintf(buf, len, "%.*fe%d", decimals(step / p), v / p, e);
}

/* ------------------------------------------------------------------ axes */

typedef struct axis {
  double lo, hi;            /* the range shown (log10 of it for a log axis) */
  int log;
  double p0, p1;            /* pixels of lo and hi */
  int nt;                   /* labelled ticks */
  double t[MAXTICKS];       /* their values (not logs) */
  char lab[MAXTICKS][32];
  int nminor;
  double minor[MAXTICKS * 8];
} axis;

static double to_px(const axis *a, double v) {
  double u = a->log ? log10(v) : v;
  return a->p0 + (u - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* the range of data [lo, hi] padded by 5% each side, as matplotlib does */
static void auto_range(double *lo, double *hi) {
  if (*hi - *lo <= fabs(*hi) * 1e-12) {
    double d = *lo == 0 ? 1 : fabs(*lo) * 0.1;
    *lo -= d;
    *hi += d;
    return;
  }
  double m = (*hi - *lo) * 0.05;
  *lo -= m;
  *hi += m;
}

static void linear_ticks(axis *a, int maxn, int integer) {
  double step;
  a->nt = nn_plot_ticks(a->lo, a->hi, maxn, integer, a->t, MAXTICKS, &step);
  double m = a->nt ? fmax(fabs(a->t[0]), fabs(a->t[a->nt - 1])) : 0;
  for (int k = 0; k < a->nt; k++) nn_plot_format(a->lab[k], sizeof a->lab[k], a->t[k], step, m);
}

/* decades, thinned to at most maxn; with fewer than two, 1-2-5 steps, and
 * failing that, linear ticks over the range */
static void log_ticks(axis *a, int maxn) {
  double k0 = ceil(a->lo - 1e-9), k1 = floor(a->hi + 1e-9);
  int stride = 1;
  while ((k1 - k0) / stride + 1 > maxn) stride++;
  a->nt = a->nminor = 0;
  if (k1 - k0 >= 1) {
    for (double k = floor(k0 / stride) * stride; k <= k1 && a->nt < MAXTICKS; k += stride) {
      if (k < k0 || k < -307 || k > 307) continue;        /* 10^k a normal double */
      a->t[a->nt] = pow(10, k);
      if (k >= -4 && k < 6) nn_plot_format(a->lab[a->nt], 32, a->t[a->nt], pow(10, k), 0);
      else snprintf(a->lab[a->nt], 32, "1e%d", (int)k);
      a->nt++;
    }
    if (stride == 1)
      for (double k = k0 - 1; k <= k1; k++)
        for (int m = 2; m <= 9 && a->nminor < MAXTICKS * 8; m++) {
          double u = k + log10(m);
          if (u >= a->lo && u <= a->hi && k >= -307 && k <= 307) a->minor[a->nminor++] = m * pow(10, k);
        }
    return;
  }
  static const int mult[] = {1, 2, 5};
  for (double k = fmax(floor(a->lo), -307); k <= fmin(ceil(a->hi), 307); k++)
    for (int m = 0; m < 3; m++) {
      double u = k + log10(mult[m]);
      if (u >= a->lo - 1e-9 && u <= a->hi + 1e-9 && a->nt < MAXTICKS) {
        a->t[a->nt] = mult[m] * pow(10, k);
        nn_plot_format(a->lab[a->nt], 32, a->t[a->nt], pow(10, k), 0);
        a->nt++;
      }
    }
  if (a->nt >= 2) return;
  double step, lin_lo = pow(10, a->lo), lin_hi = pow(10, a->hi);
  a->nt = nn_plot_ticks(lin_lo, lin_hi, maxn, 0, a->t, MAXTICKS, &step);
  for (int k = 0; k < a->nt; k++) nn_plot_format(a->lab[k], 32, a->t[k], step, lin_hi);
}

static double max_label_width(nn_canvas *cv, const axis *a, double size) {
  double w = 0;
  for (int k = 0; k < a->nt; k++) w = fmax(w, nn_canvas_text_width(cv, a->lab[k], size));
  return w;
}

/* a pixel position for a line of width lw, on the pixel grid when lw is odd */
static double snap(double p, double lw) {
  return ((int)lround(lw) % 2) ? floor(p) + 0.5 : round(p);
}

/* ----------------------------------------------------------- line charts */

static const char *series_name(const nn_plot_series *s, int i, char *buf, size_t len) {
  if (s->label && *s->label) snprintf(buf, len, "series %d ('%s')", i + 1, s->label);
  else snprintf(buf, len, "series %d", i + 1);
  return buf;
}

static int finite_point(const nn_lines_spec *p, const nn_plot_series *s, int64_t k) {
  double x = s->x ? s->x[k] : (double)(k + 1), y = s->y[k];
  return isfinite(x) && isfinite(y) && (!p->logy || y > 0);
}

/* checks the series and finds the range of their finite points */
static int check_series(nn_ctx *ctx, const nn_lines_spec *p, double *xr, double *yr) {
  char name[128];
  if (p->nseries < 1 || !p->series)
    return nn_seterr(ctx, NN_EARG, "plot.lines: series must not be empty");
  xr[0] = yr[0] = INFINITY;
  xr[1] = yr[1] = -INFINITY;
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *s = &p->series[i];
    series_name(s, i, name, sizeof name);
    if (s->n < 1 || !s->y) return nn_seterr(ctx, NN_EARG, "plot.lines: %s is empty", name);
    int64_t nfin = 0;
    for (int64_t k = 0; k < s->n; k++) {
      if (p->logy && s->y[k] <= 0)
        return nn_seterr(ctx, NN_EARG, "plot.lines: %s has y[%lld] = %g; a log-scale y axis needs "
                         "values > 0", name, (long long)k + 1, s->y[k]);
      if (!finite_point(p, s, k)) continue;
      double x = s->x ? s->x[k] : (double)(k + 1);
      xr[0] = fmin(xr[0], x); xr[1] = fmax(xr[1], x);
      yr[0] = fmin(yr[0], s->y[k]); yr[1] = fmax(yr[1], s->y[k]);
      nfin++;
    }
    if (nfin == 0)
      return nn_seterr(ctx, NN_EARG, "plot.lines: %s has no finite value to draw (all NaN or inf)",
                       name);
    if (s->marker < NN_PLOT_AUTO || s->marker > NN_MARK_PLUS ||
        s->dash < NN_PLOT_AUTO || s->dash > NN_DASHDOT || s->color < NN_PLOT_AUTO ||
        s->color > 0xFFFFFF)
      return nn_seterr(ctx, NN_EARG, "plot.lines: %s has a bad colour, dash or marker", name);
  }
  return 0;
}

static int check_lim(nn_ctx *ctx, const char *name, const double *lim, int log) {
  if (isnan(lim[0]) && isnan(lim[1])) return 0;
  if (!isfinite(lim[0]) || !isfinite(lim[1]) || !(lim[1] > lim[0]))
    return nn_seterr(ctx, NN_EARG, "plot.lines: %s must be {lo, hi} with lo < hi (got {%g, %g})",
                     name, lim[0], lim[1]);
  if (log && lim[0] <= 0)
    return nn_seterr(ctx, NN_EARG, "plot.lines: %s must be > 0 on a log-scale axis", name);
  return 0;
}

static void draw_marker(nn_canvas *cv, int kind, double x, double y, double d) {
  double r = d / 2;
  switch (kind) {
  case NN_MARK_CIRCLE: nn_canvas_circle(cv, x, y, r); nn_canvas_fill(cv); break;
  case NN_MARK_SQUARE: nn_canvas_rect(cv, x - r * 0.9, y - r * 0.9, d * 0.9, d * 0.9);
                       nn_canvas_fill(cv); break;
  case NN_MARK_TRIANGLE:
    nn_canvas_move(cv, x, y - r * 1.1); nn_canvas_line(cv, x + r, y + r * 0.75);
    nn_canvas_line(cv, x - r, y + r * 0.75); nn_canvas_close(cv); nn_canvas_fill(cv); break;
  case NN_MARK_DIAMOND:
    nn_canvas_move(cv, x, y - r * 1.15); nn_canvas_line(cv, x + r * 0.8, y);
    nn_canvas_line(cv, x, y + r * 1.15); nn_canvas_line(cv, x - r * 0.8, y);
    nn_canvas_close(cv); nn_canvas_fill(cv); break;
  case NN_MARK_CROSS:
    nn_canvas_move(cv, x - r, y - r); nn_canvas_line(cv, x + r, y + r);
    nn_canvas_move(cv, x - r, y + r); nn_canvas_line(cv, x + r, y - r); nn_canvas_stroke(cv); break;
  case NN_MARK_PLUS:
    nn_canvas_move(cv, x - r, y); nn_canvas_line(cv, x + r, y);
    nn_canvas_move(cv, x, y - r); nn_canvas_line(cv, x, y + r); nn_canvas_stroke(cv); break;
  default: break;
  }
}

typedef struct style { uint32_t color; int dash, marker; } style;

static style series_style(const nn_lines_spec *p, int i) {
  const nn_plot_series *s = &p->series[i];
  style st;
  st.color = s->color == NN_PLOT_AUTO ? nn_plot_palette(i) : (uint32_t)s->color;
  st.dash = s->dash == NN_PLOT_AUTO ? (i / 8) % 4 : s->dash;
  st.marker = s->marker == NN_PLOT_AUTO ? (p->markers ? NN_MARK_CIRCLE + i % 6 : NN_MARK_NONE)
                                        : s->marker;
  return st;
}

/* the pixel rectangle of the plotting area */
typedef struct rect { double x, y, w, h; } rect;

/* how much of the data a legend box at r would cover: points inside it plus
 * segments crossing it */
static double overlap(const nn_lines_spec *p, const axis *ax, const axis *ay, rect r) {
  double bad = 0;
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *s = &p->series[i];
    double px = 0, py = 0;
    int have = 0;
    for (int64_t k = 0; k < s->n; k++) {
      if (!finite_point(p, s, k)) { have = 0; continue; }
      double x = to_px(ax, s->x ? s->x[k] : (double)(k + 1)), y = to_px(ay, s->y[k]);
      if (x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h) bad += 1;
      else if (have) {
        /* a segment crosses the box if it crosses its diagonal band: sample it */
        for (int t = 1; t < 8; t++) {
          double sx = px + (x - px) * t / 8, sy = py + (y - py) * t / 8;
          if (sx >= r.x && sx <= r.x + r.w && sy >= r.y && sy <= r.y + r.h) { bad += 0.5; break; }
        }
      }
      px = x; py = y; have = 1;
    }
  }
  return bad;
}

static void draw_legend(nn_canvas *cv, const nn_lines_spec *p, const axis *ax, const axis *ay,
                        rect area, double s) {
  int n = 0;
  double tw = 0, fs = NN_PLOT_LEGEND_FONT * s;
  for (int i = 0; i < p->nseries; i++)
    if (p->series[i].label && *p->series[i].label) {
      n++;
      tw = fmax(tw, nn_canvas_text_width(cv, p->series[i].label, fs));
    }
  if (n == 0 || p->legend == NN_LEGEND_NONE) return;
  double pad = 0.6 * fs, handle = 2.2 * fs, gap = 0.6 * fs, row = 1.45 * fs, off = 0.7 * fs;
  rect box = {0, 0, pad + handle + gap + tw + pad, 2 * pad * 0.8 + n * row - (row - fs)};
  rect cand[4];
  int order[4] = {NN_LEGEND_UPPER_RIGHT, NN_LEGEND_UPPER_LEFT, NN_LEGEND_LOWER_LEFT,
                  NN_LEGEND_LOWER_RIGHT};
  for (int c = 0; c < 4; c++) {
    int right = order[c] == NN_LEGEND_UPPER_RIGHT || order[c] == NN_LEGEND_LOWER_RIGHT;
    int upper = order[c] == NN_LEGEND_UPPER_RIGHT || order[c] == NN_LEGEND_UPPER_LEFT;
    cand[c] = box;
    cand[c].x = right ? area.x + area.w - off - box.w : area.x + off;
    cand[c].y = upper ? area.y + off : area.y + area.h - off - box.h;
  }
  int pick = 0;
  if (p->legend == NN_LEGEND_BEST) {
    double best = INFINITY;
    for (int c = 0; c < 4; c++) {
      double b = overlap(p, ax, ay, cand[c]);
      if (b < best) { best = b; pick = c; }
    }
  } else {
    for (int c = 0; c < 4; c++) if (order[c] == p->legend) pick = c;
  }
  box = cand[pick];
  nn_canvas_round_rect(cv, box.x, box.y, box.w, box.h, 0.3 * fs);
  nn_canvas_color(cv, 0xFFFFFF, 0.85);
  nn_canvas_fill(cv);
  nn_canvas_round_rect(cv, box.x, box.y, box.w, box.h, 0.3 * fs);
  nn_canvas_color(cv, 0xCCCCCC, 1);
  nn_canvas_line_width(cv, NN_PLOT_AXIS_WIDTH * s);
  nn_canvas_dash(cv, NN_SOLID);
  nn_canvas_stroke(cv);
  double y = box.y + pad * 0.8 + fs / 2;
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *se = &p->series[i];
    if (!se->label || !*se->label) continue;
    style st = series_style(p, i);
    double x = box.x + pad;
    nn_canvas_color(cv, st.color, 1);
    nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s);
    nn_canvas_dash(cv, st.dash);
    nn_canvas_move(cv, x, y);
    nn_canvas_line(cv, x + handle, y);
    nn_canvas_stroke(cv);
    nn_canvas_dash(cv, NN_SOLID);
    draw_marker(cv, st.marker, x + handle / 2, y, NN_PLOT_MARKER * s);
    nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
    nn_canvas_text(cv, x + handle + gap, y, se->label, fs, 0, 0.5, 0);
    y += row;
  }
}

/* The pen draws one series: stretches between gaps, a dot for a lone point,
 * and strokes every STROKE_SEGMENTS segments (cairo's stroker slows down badly
 * on one long self-crossing path). Points are thinned per pixel column, as
 * M4 does: of the points falling in one column in a row, the first, the
 * lowest, the highest and the last are kept, which draws the same picture. */
#define STROKE_SEGMENTS 256

typedef struct pt { int64_t k; double x, y; } pt;

typedef struct pen {
  nn_canvas *cv;
  double dot;               /* radius of a lone point */
  int run, seg;             /* points in this stretch; segments not yet stroked */
  double lx, ly;            /* the last point drawn */
  int nb;                   /* points in the column being gathered */
  double col;               /* its pixel column */
  pt first, lo, hi, last;
} pen;

static void pen_draw(pen *pn, double x, double y) {
  if (pn->run == 0) {
    nn_canvas_move(pn->cv, x, y);
  } else {
    nn_canvas_line(pn->cv, x, y);
    if (++pn->seg == STROKE_SEGMENTS) {
      nn_canvas_stroke(pn->cv);
      nn_canvas_move(pn->cv, x, y);
      pn->seg = 0;
    }
  }
  pn->run++;
  pn->lx = x;
  pn->ly = y;
}

/* draws the gathered column's points in their order, each once */
static void pen_flush(pen *pn) {
  pt v[4] = {pn->first, pn->lo, pn->hi, pn->last};
  int n = 4;
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && v[b].k < v[b - 1].k; b--) { pt t = v[b]; v[b] = v[b - 1]; v[b - 1] = t; }
  for (int a = 0; a < n; a++)
    if (a == 0 || v[a].k != v[a - 1].k) pen_draw(pn, v[a].x, v[a].y);
  pn->nb = 0;
}

static void pen_point(pen *pn, int64_t k, double x, double y) {
  double col = floor(x);
  if (pn->nb > 0 && col != pn->col) pen_flush(pn);
  pt p = {k, x, y};
  if (pn->nb == 0) { pn->first = pn->lo = pn->hi = p; pn->col = col; }
  if (y < pn->lo.y) pn->lo = p;
  if (y > pn->hi.y) pn->hi = p;
  pn->last = p;
  pn->nb++;
}

/* ends the stretch at a gap */
static void pen_gap(pen *pn) {
  if (pn->nb > 0) pen_flush(pn);
  if (pn->run == 1) {
    nn_canvas_circle(pn->cv, pn->lx, pn->ly, pn->dot);
    nn_canvas_fill(pn->cv);
  } else if (pn->run > 1) {
    nn_canvas_stroke(pn->cv);
  }
  pn->run = pn->seg = 0;
}

static void draw_series(nn_canvas *cv, const nn_lines_spec *p, int i, const axis *ax,
                        const axis *ay, double s) {
  const nn_plot_series *se = &p->series[i];
  style st = series_style(p, i);
  nn_canvas_color(cv, st.color, 1);
  nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s);
  nn_canvas_dash(cv, st.dash);
  pen pn;
  memset(&pn, 0, sizeof pn);
  pn.cv = cv;
  pn.dot = NN_PLOT_LINE_WIDTH * s * 0.9;
  for (int64_t k = 0; k < se->n; k++) {
    if (!finite_point(p, se, k)) { pen_gap(&pn); continue; }
    pen_point(&pn, k, to_px(ax, se->x ? se->x[k] : (double)(k + 1)), to_px(ay, se->y[k]));
  }
  pen_gap(&pn);
  if (st.marker == NN_MARK_NONE) return;
  nn_canvas_dash(cv, NN_SOLID);
  nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s * 0.8);
  for (int64_t k = 0; k < se->n; k++)
    if (finite_point(p, se, k))
      draw_marker(cv, st.marker, to_px(ax, se->x ? se->x[k] : (double)(k + 1)),
                  to_px(ay, se->y[k]), NN_PLOT_MARKER * s);
}

static int all_integer_x(const nn_lines_spec *p) {
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *s = &p->series[i];
    if (!s->x) continue;
    for (int64_t k = 0; k < s->n; k++)
      if (isfinite(s->x[k]) && s->x[k] != floor(s->x[k])) return 0;
  }
  return 1;
}

nn_canvas *nn_plot_lines(nn_ctx *ctx, const nn_lines_spec *p) {
  double xr[2] = {0, 0}, yr[2] = {0, 0};
  if (nn_plot_check_size(ctx, "plot.lines", p->width, p->height) != 0 ||
      check_series(ctx, p, xr, yr) != 0 || check_lim(ctx, "xlim", p->xlim, 0) != 0 ||
      check_lim(ctx, "ylim", p->ylim, p->logy) != 0)
    return NULL;
  nn_canvas *cv = nn_canvas_new(ctx, p->width, p->height);
  if (!cv) return NULL;
  double s = nn_plot_scale(p->width, p->height);
  double tf = NN_PLOT_TICK_FONT * s, lf = NN_PLOT_LABEL_FONT * s, pad = NN_PLOT_PAD * s, tl = NN_PLOT_TICK_LEN * s;
  axis *ax = calloc(1, sizeof *ax), *ay = calloc(1, sizeof *ay);
  if (!ax || !ay) {
    free(ax); free(ay); nn_canvas_free(cv);
    nn_seterr(ctx, NN_ENOMEM, "plot.lines: out of memory");
    return NULL;
  }

  /* ranges */
  if (!isnan(p->xlim[0])) { ax->lo = p->xlim[0]; ax->hi = p->xlim[1]; }
  else { ax->lo = xr[0]; ax->hi = xr[1]; auto_range(&ax->lo, &ax->hi); }
  ay->log = p->logy;
  if (!isnan(p->ylim[0])) { ay->lo = p->ylim[0]; ay->hi = p->ylim[1]; }
  else { ay->lo = yr[0]; ay->hi = yr[1]; }
  if (ay->log) { ay->lo = log10(ay->lo); ay->hi = log10(ay->hi); }
  if (isnan(p->ylim[0])) auto_range(&ay->lo, &ay->hi);
  if (!isfinite(ax->hi - ax->lo) || !isfinite(ay->hi - ay->lo)) {
    free(ax); free(ay); nn_canvas_free(cv);
    nn_seterr(ctx, NN_EARG, "plot.lines: values too large to plot (beyond +-1e307)");
    return NULL;
  }

  /* layout: y ticks first (their labels set the left margin), then x ticks */
  double th = nn_canvas_text_height(cv, tf), lh = nn_canvas_text_height(cv, lf);
  double top = pad + (p->title && *p->title ? nn_canvas_text_height(cv, NN_PLOT_TITLE_FONT * s) + pad
                                            : th / 2);
  double bottom = pad + tl + 0.6 * tf + th + (p->xlabel && *p->xlabel ? 0.7 * lf + lh : 0);
  double plot_h = p->height - top - bottom;
  int ymax = (int)(plot_h / (3.0 * tf)) + 1;
  if (ay->log) log_ticks(ay, ymax < 2 ? 2 : ymax);
  else linear_ticks(ay, ymax, 0);
  double left = pad + (p->ylabel && *p->ylabel ? lh + 0.7 * lf : 0) +
                max_label_width(cv, ay, tf) + 0.5 * tf + tl;
  double right = pad + 1.2 * tf;
  double plot_w = p->width - left - right;
  int integer = all_integer_x(p) && isnan(p->xlim[0]);
  for (int maxn = 12; maxn >= 2; maxn--) {
    linear_ticks(ax, maxn, integer);
    if (ax->nt * (max_label_width(cv, ax, tf) + 1.5 * tf) <= plot_w) break;
  }
  if (plot_w < 20 * s || plot_h < 20 * s) {
    free(ax); free(ay); nn_canvas_free(cv);
    nn_seterr(ctx, NN_EARG, "plot.lines: a %d x %d figure is too small for its labels", p->width,
              p->height);
    return NULL;
  }
  rect area = {round(left), round(top), round(plot_w), round(plot_h)};
  ax->p0 = area.x; ax->p1 = area.x + area.w;
  ay->p0 = area.y + area.h; ay->p1 = area.y;

  /* grid, then data (clipped to the area), then frame, ticks and text */
  double aw = NN_PLOT_AXIS_WIDTH * s;
  if (p->grid) {
    nn_canvas_color(cv, GRID_COLOR, 0.6);
    nn_canvas_line_width(cv, aw);
    nn_canvas_dash(cv, NN_SOLID);
    for (int k = 0; k < ax->nt; k++) {
      double x = snap(to_px(ax, ax->t[k]), aw);
      nn_canvas_move(cv, x, area.y); nn_canvas_line(cv, x, area.y + area.h);
    }
    for (int k = 0; k < ay->nt; k++) {
      double y = snap(to_px(ay, ay->t[k]), aw);
      nn_canvas_move(cv, area.x, y); nn_canvas_line(cv, area.x + area.w, y);
    }
    nn_canvas_stroke(cv);
  }
  nn_canvas_clip(cv, area.x, area.y, area.w, area.h);
  for (int i = 0; i < p->nseries; i++) draw_series(cv, p, i, ax, ay, s);
  nn_canvas_unclip(cv);

  nn_canvas_color(cv, 0x000000, 1);
  nn_canvas_line_width(cv, aw);
  nn_canvas_dash(cv, NN_SOLID);
  double x0 = snap(area.x, aw), y0 = snap(area.y, aw);
  nn_canvas_rect(cv, x0, y0, snap(area.x + area.w, aw) - x0, snap(area.y + area.h, aw) - y0);
  for (int k = 0; k < ax->nt; k++) {
    double x = snap(to_px(ax, ax->t[k]), aw);
    nn_canvas_move(cv, x, area.y + area.h); nn_canvas_line(cv, x, area.y + area.h + tl);
  }
  for (int k = 0; k < ay->nt; k++) {
    double y = snap(to_px(ay, ay->t[k]), aw);
    nn_canvas_move(cv, area.x, y); nn_canvas_line(cv, area.x - tl, y);
  }
  for (int k = 0; k < ay->nminor; k++) {
    double y = snap(to_px(ay, ay->minor[k]), aw);
    nn_canvas_move(cv, area.x, y); nn_canvas_line(cv, area.x - tl * 0.55, y);
  }
  nn_canvas_stroke(cv);

  nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
  for (int k = 0; k < ax->nt; k++)
    nn_canvas_text(cv, to_px(ax, ax->t[k]), area.y + area.h + tl + 0.5 * tf, ax->lab[k], tf,
                   0.5, 0, 0);
  for (int k = 0; k < ay->nt; k++)
    nn_canvas_text(cv, area.x - tl - 0.4 * tf, to_px(ay, ay->t[k]), ay->lab[k], tf, 1, 0.5, 0);
  if (p->xlabel && *p->xlabel)
    nn_canvas_text(cv, area.x + area.w / 2, p->height - pad, p->xlabel, lf, 0.5, 1, 0);
  if (p->ylabel && *p->ylabel)
    nn_canvas_text(cv, pad, area.y + area.h / 2, p->ylabel, lf, 0.5, 0, 90);
  if (p->title && *p->title)
    nn_canvas_text(cv, area.x + area.w / 2, area.y - 0.7 * pad, p->title, NN_PLOT_TITLE_FONT * s,
                   0.5, 1, 0);
  draw_legend(cv, p, ax, ay, area, s);
  free(ax);
  free(ay);
  if (nn_canvas_check(ctx, cv) != 0) { nn_canvas_free(cv); return NULL; }
  return cv;
}
