/* plot.c -- line charts, and the axis helpers every figure shares (see plot.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "field.h"

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

/* ---------------------------------------------------------------- axes */

static const char *series_name(const nn_plot_series *s, int i, char *buf, size_t len) {
  if (s->label && *s->label) snprintf(buf, len, "series %d ('%s')", i + 1, s->label);
  else snprintf(buf, len, "series %d", i + 1);
  return buf;
}

static int finite_point(const nn_lines_spec *p, const nn_plot_series *s, int64_t k) {
  double x = s->x ? s->x[k] : (double)(k + 1), y = s->y[k];
  return isfinite(x) && isfinite(y) && (!p->logy || y > 0);
}

static void grow(double *r, double v) {
  if (v < r[0]) r[0] = v;
  if (v > r[1]) r[1] = v;
}

/* the figure's function name in messages */
static const char *fname(const nn_lines_spec *p) {
  static const char *const names[] = {"plot.lines", "plot.contour", "plot.scatter", "plot.bar",
                                      "plot.hist", "plot.heatmap"};
  for (size_t k = 0; p->kind && k < sizeof names / sizeof *names; k++)
    if (strcmp(p->kind, names[k] + 5) == 0) return names[k];
  return p->field ? "plot.contour" : p->nbars > 0 && p->nseries == 0 ? "plot.bar" : "plot.lines";
}

/* checks the series and finds the range of their finite points */
static int check_series(nn_ctx *ctx, const nn_lines_spec *p, double *xr, double *yr) {
  char name[128];
  const char *fn = fname(p);
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *s = &p->series[i];
    series_name(s, i, name, sizeof name);
    if (s->n < 1 || !s->y) return nn_seterr(ctx, NN_EARG, "%s: %s is empty", fn, name);
    int64_t nfin = 0;
    for (int64_t k = 0; k < s->n; k++) {
      if (p->logy && s->y[k] <= 0)
        return nn_seterr(ctx, NN_EARG, "%s: %s has y[%lld] = %g; a log-scale y axis needs "
                         "values > 0", fn, name, (long long)k + 1, s->y[k]);
      if (!finite_point(p, s, k)) continue;
      grow(xr, s->x ? s->x[k] : (double)(k + 1));
      grow(yr, s->y[k]);
      nfin++;
    }
    if (nfin == 0)
      return nn_seterr(ctx, NN_EARG, "%s: %s has no finite value to draw (all NaN or inf)", fn,
                       name);
    if (s->marker < NN_PLOT_AUTO || s->marker > NN_MARK_STAR ||
        s->dash < NN_PLOT_AUTO || s->dash > NN_DASH_NONE || s->color < NN_PLOT_AUTO ||
        s->color > 0xFFFFFF || s->start_marker < 0 || s->start_marker > NN_MARK_STAR ||
        s->end_marker < 0 || s->end_marker > NN_MARK_STAR || !(s->marker_size >= 0) ||
        s->marker_size > 200)
      return nn_seterr(ctx, NN_EARG, "%s: %s has a bad colour, dash, marker or marker size", fn,
                       name);
  }
  return 0;
}

static int check_bars(nn_ctx *ctx, const nn_lines_spec *p, double *xr, double *yr, int *sticky) {
  for (int i = 0; i < p->nbars; i++) {
    const nn_plot_bars *b = &p->bars[i];
    if (b->n < 1 || !b->x || !b->h)
      return nn_seterr(ctx, NN_EARG, "plot.bar: bar group %d is empty", i + 1);
    if (!(b->width > 0) || !isfinite(b->width) || !isfinite(b->bottom) ||
        b->color < NN_PLOT_AUTO || b->color > 0xFFFFFF)
      return nn_seterr(ctx, NN_EARG, "plot.bar: bar group %d has a bad width, bottom or colour",
                       i + 1);
    if (p->logy && !(b->bottom > 0))
      return nn_seterr(ctx, NN_EARG, "plot.bar: bars on a log-scale y axis need bottom > 0");
    grow(yr, b->bottom);
    for (int64_t k = 0; k < b->n; k++) {
      if (!isfinite(b->x[k]) || !isfinite(b->h[k]))
        return nn_seterr(ctx, NN_EARG, "plot.bar: bar %lld of group %d is not finite (x %g, "
                         "height %g)", (long long)k + 1, i + 1, b->x[k], b->h[k]);
      if (p->logy && !(b->h[k] > 0))
        return nn_seterr(ctx, NN_EARG, "plot.bar: bar %lld has height %g; a log-scale y axis "
                         "needs values > 0", (long long)k + 1, b->h[k]);
      grow(xr, b->x[k] - b->width / 2);
      grow(xr, b->x[k] + b->width / 2);
      grow(yr, b->h[k]);
      if (b->h[k] < b->bottom) *sticky = 0;
    }
  }
  return 0;
}

static int check_lim(nn_ctx *ctx, const char *fn, const char *name, const double *lim, int log) {
  if (isnan(lim[0]) && isnan(lim[1])) return 0;
  if (!isfinite(lim[0]) || !isfinite(lim[1]) || !(lim[1] > lim[0]))
    return nn_seterr(ctx, NN_EARG, "%s: %s must be {lo, hi} with lo < hi (got {%g, %g})", fn,
                     name, lim[0], lim[1]);
  if (log && lim[0] <= 0)
    return nn_seterr(ctx, NN_EARG, "%s: %s must be > 0 on a log-scale axis", fn, name);
  return 0;
}

int nn_plot_ranges(nn_ctx *ctx, const nn_lines_spec *p, double *xr, double *yr) {
  const char *fn = fname(p);
  double dx[2] = {INFINITY, -INFINITY}, dy[2] = {INFINITY, -INFINITY};
  int sticky = p->nbars > 0;         /* bars stand on the bottom of the axes */
  if (p->nseries < 1 && p->nbars < 1 && !p->field)
    return nn_seterr(ctx, NN_EARG, "%s: series must not be empty", fn);
  if ((p->nseries > 0 && !p->series) || (p->nbars > 0 && !p->bars) || (p->ntexts > 0 && !p->texts))
    return nn_seterr(ctx, NN_EARG, "%s: missing data", fn);
  if (check_series(ctx, p, dx, dy) != 0 || check_bars(ctx, p, dx, dy, &sticky) != 0 ||
      check_lim(ctx, fn, "xlim", p->xlim, 0) != 0 || check_lim(ctx, fn, "ylim", p->ylim, p->logy) != 0)
    return NN_EARG;
  if (p->equal && p->logy)
    return nn_seterr(ctx, NN_EARG, "%s: equal aspect needs linear axes (not logy)", fn);
  for (int k = 0; k < p->ntexts; k++)
    if (!isfinite(p->texts[k].x) || !isfinite(p->texts[k].y) || !p->texts[k].text)
      return nn_seterr(ctx, NN_EARG, "%s: text %d needs finite x and y and a string", fn, k + 1);
  int tightx = 0, tighty = 0;
  if (p->field) {               /* the field fills the axes; paths over it may leave them */
    const nn_plot_field *f = p->field;
    if (nn_field_check(ctx, f) != 0) {
      char msg[sizeof ctx->err];
      snprintf(msg, sizeof msg, "%s", ctx->err);
      return nn_seterr(ctx, NN_EARG, "%s: %s", fn, msg);
    }
    if (p->logy) return nn_seterr(ctx, NN_EARG, "%s: a field needs a linear y axis", fn);
    double lo, hi;
    if (!nn_field_range(f, &lo, &hi))
      return nn_seterr(ctx, NN_EARG, "%s: the values have no finite%s number", fn,
                       f->log ? " positive" : "");
    int cells = f->mode == NN_FIELD_CELLS, nx = f->nx, ny = f->ny;
    /* cells reach half a step beyond the first and last centres */
    dx[0] = f->x[0] - (cells ? (f->x[1] - f->x[0]) / 2 : 0);
    dx[1] = f->x[nx - 1] + (cells ? (f->x[nx - 1] - f->x[nx - 2]) / 2 : 0);
    dy[0] = f->y[0] - (cells ? (f->y[1] - f->y[0]) / 2 : 0);
    dy[1] = f->y[ny - 1] + (cells ? (f->y[ny - 1] - f->y[ny - 2]) / 2 : 0);
    tightx = tighty = 1;
  }
  if (!isnan(p->xlim[0])) { xr[0] = p->xlim[0]; xr[1] = p->xlim[1]; }
  else {
    xr[0] = dx[0]; xr[1] = dx[1];
    if (!tightx) auto_range(&xr[0], &xr[1]);
  }
  if (!isnan(p->ylim[0])) { yr[0] = p->ylim[0]; yr[1] = p->ylim[1]; }
  else if (p->logy) {
    double lo = log10(dy[0]), hi = log10(dy[1]);
    auto_range(&lo, &hi);
    if (sticky) lo = log10(dy[0]);
    yr[0] = pow(10, fmax(lo, -307)); yr[1] = pow(10, fmin(hi, 307.5));   /* normal doubles */
  } else {
    yr[0] = dy[0]; yr[1] = dy[1];
    if (!tighty) {
      auto_range(&yr[0], &yr[1]);
      if (sticky) {
        double b = p->bars[0].bottom;
        for (int i = 1; i < p->nbars; i++) b = fmin(b, p->bars[i].bottom);
        if (b >= dy[0]) yr[0] = b;
      }
    }
  }
  if (!isfinite(xr[1] - xr[0]) || !isfinite(yr[1] - yr[0]) || !(xr[1] > xr[0]) || !(yr[1] > yr[0]))
    return nn_seterr(ctx, NN_EARG, "%s: values too large to plot (beyond +-1e307)", fn);
  return 0;
}

/* ------------------------------------------------------------ styles */

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
  case NN_MARK_STAR:
    for (int k = 0; k < 10; k++) {
      double a = -M_PI / 2 + k * M_PI / 5, rr = (k % 2 ? 0.45 : 1.25) * r;
      if (k == 0) nn_canvas_move(cv, x + rr * cos(a), y + rr * sin(a));
      else nn_canvas_line(cv, x + rr * cos(a), y + rr * sin(a));
    }
    nn_canvas_close(cv); nn_canvas_fill(cv); break;
  default: break;
  }
}

typedef struct style { uint32_t color; int dash, marker; } style;

/* Styles of the series, then of the bar groups. Colours given are never
 * handed out by the palette: automatic colours take the palette's other
 * entries in turn, and only automatic colours change dash when they wrap. */
static style *assign_styles(const nn_lines_spec *p) {
  int n = p->nseries + p->nbars;
  style *st = malloc((size_t)(n ? n : 1) * sizeof *st);
  if (!st) return NULL;
  uint32_t avail[8];
  int navail = 0;
  for (int c = 0; c < 8; c++) {
    uint32_t col = nn_plot_palette(c);
    int taken = 0;
    for (int i = 0; i < p->nseries && !taken; i++) taken = p->series[i].color == (int64_t)col;
    for (int i = 0; i < p->nbars && !taken; i++) taken = p->bars[i].color == (int64_t)col;
    if (!taken) avail[navail++] = col;
  }
  if (navail == 0)
    for (int c = 0; c < 8; c++) avail[navail++] = nn_plot_palette(c);
  int j = 0;                    /* automatic colours handed out so far */
  for (int i = 0; i < n; i++) {
    int64_t color = i < p->nseries ? p->series[i].color : p->bars[i - p->nseries].color;
    int auto_c = color == NN_PLOT_AUTO;
    st[i].color = auto_c ? avail[j % navail] : (uint32_t)color;
    st[i].dash = NN_SOLID;
    st[i].marker = NN_MARK_NONE;
    if (i < p->nseries) {
      const nn_plot_series *s = &p->series[i];
      st[i].dash = s->dash != NN_PLOT_AUTO ? s->dash : auto_c ? (j / navail) % 4 : NN_SOLID;
      st[i].marker = s->marker != NN_PLOT_AUTO ? s->marker
                   : p->markers ? NN_MARK_CIRCLE + i % 6
                   : st[i].dash == NN_DASH_NONE ? NN_MARK_CIRCLE : NN_MARK_NONE;
    }
    if (auto_c) j++;
  }
  return st;
}

/* the pixel rectangle of the plotting area */
typedef struct rect { double x, y, w, h; } rect;

/* how much of the data a legend box at r would cover: points inside it plus
 * segments crossing it, and bars under it */
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
  for (int i = 0; i < p->nbars; i++)
    for (int64_t k = 0; k < p->bars[i].n; k++) {
      double x = to_px(ax, p->bars[i].x[k]), y = to_px(ay, p->bars[i].h[k]);
      if (x >= r.x && x <= r.x + r.w && y <= r.y + r.h) bad += 1;
    }
  return bad;
}

static const char *entry_label(const nn_lines_spec *p, int i) {
  const char *l = i < p->nseries ? p->series[i].label : p->bars[i - p->nseries].label;
  return l && *l ? l : NULL;
}

static void draw_legend(nn_canvas *cv, const nn_lines_spec *p, const style *sty, const axis *ax,
                        const axis *ay, rect area, double s) {
  int n = 0, total = p->nseries + p->nbars;
  double tw = 0, fs = NN_PLOT_LEGEND_FONT * s;
  for (int i = 0; i < total; i++)
    if (entry_label(p, i)) {
      n++;
      tw = fmax(tw, nn_canvas_text_width(cv, entry_label(p, i), fs));
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
  for (int i = 0; i < total; i++) {
    const char *label = entry_label(p, i);
    if (!label) continue;
    style st = sty[i];
    double x = box.x + pad;
    nn_canvas_color(cv, st.color, 1);
    if (i >= p->nseries) {                   /* a bar group: a filled square */
      nn_canvas_rect(cv, x + handle / 2 - 0.45 * fs, y - 0.45 * fs, 0.9 * fs, 0.9 * fs);
      nn_canvas_fill(cv);
    } else {
      const nn_plot_series *se = &p->series[i];
      double ms = (se->marker_size > 0 ? se->marker_size : NN_PLOT_MARKER) * s;
      nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s);
      if (st.dash != NN_DASH_NONE) {
        nn_canvas_dash(cv, st.dash);
        nn_canvas_move(cv, x, y);
        nn_canvas_line(cv, x + handle, y);
        nn_canvas_stroke(cv);
      }
      nn_canvas_dash(cv, NN_SOLID);
      draw_marker(cv, st.marker, x + handle / 2, y, fmin(ms, 1.2 * fs));
    }
    nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
    nn_canvas_text(cv, x + handle + gap, y, label, fs, 0, 0.5, 0);
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

static void draw_series(nn_canvas *cv, const nn_lines_spec *p, int i, style st, const axis *ax,
                        const axis *ay, double s) {
  const nn_plot_series *se = &p->series[i];
  double ms = (se->marker_size > 0 ? se->marker_size : NN_PLOT_MARKER) * s;
  nn_canvas_color(cv, st.color, 1);
  nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s);
  if (st.dash != NN_DASH_NONE) {
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
  }
  nn_canvas_dash(cv, NN_SOLID);
  nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s * 0.8);
  int64_t first = -1, last = -1;
  for (int64_t k = 0; k < se->n; k++) {
    if (!finite_point(p, se, k)) continue;
    if (first < 0) first = k;
    last = k;
    if (st.marker != NN_MARK_NONE)
      draw_marker(cv, st.marker, to_px(ax, se->x ? se->x[k] : (double)(k + 1)),
                  to_px(ay, se->y[k]), ms);
  }
  /* start and end markers: bigger, with a white rim so they read over the line */
  int64_t ends[2] = {first, last};
  int kinds[2] = {se->start_marker, se->end_marker};
  for (int e = 0; e < 2; e++) {
    if (kinds[e] == NN_MARK_NONE || ends[e] < 0) continue;
    double x = to_px(ax, se->x ? se->x[ends[e]] : (double)(ends[e] + 1)), y = to_px(ay, se->y[ends[e]]);
    double d = fmax(ms, NN_PLOT_MARKER * s) * 1.6;
    nn_canvas_color(cv, 0xFFFFFF, 1);
    nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s * 2.2);
    if (kinds[e] == NN_MARK_CROSS || kinds[e] == NN_MARK_PLUS) draw_marker(cv, kinds[e], x, y, d);
    else draw_marker(cv, kinds[e], x, y, d + 2.5 * s);
    nn_canvas_color(cv, st.color, 1);
    nn_canvas_line_width(cv, NN_PLOT_LINE_WIDTH * s);
    draw_marker(cv, kinds[e], x, y, d);
  }
}

static void draw_bars(nn_canvas *cv, const nn_lines_spec *p, const style *sty, const axis *ax,
                      const axis *ay, double s) {
  for (int i = 0; i < p->nbars; i++) {
    const nn_plot_bars *b = &p->bars[i];
    double y0 = to_px(ay, b->bottom);
    for (int64_t k = 0; k < b->n; k++) {
      double x0 = to_px(ax, b->x[k] - b->width / 2), x1 = to_px(ax, b->x[k] + b->width / 2);
      double y1 = to_px(ay, b->h[k]);
      nn_canvas_color(cv, sty[p->nseries + i].color, 1);
      nn_canvas_rect(cv, x0, fmin(y0, y1), x1 - x0, fabs(y1 - y0));
      nn_canvas_fill(cv);
      if (x1 - x0 >= 6 * s) {      /* a thin white edge keeps neighbouring bars apart */
        nn_canvas_color(cv, 0xFFFFFF, 1);
        nn_canvas_line_width(cv, 0.8 * s);
        nn_canvas_rect(cv, x0, fmin(y0, y1), x1 - x0, fabs(y1 - y0));
        nn_canvas_stroke(cv);
      }
    }
  }
}

static int all_integer_x(const nn_lines_spec *p) {
  for (int i = 0; i < p->nseries; i++) {
    const nn_plot_series *s = &p->series[i];
    if (!s->x) continue;
    for (int64_t k = 0; k < s->n; k++)
      if (isfinite(s->x[k]) && s->x[k] != floor(s->x[k])) return 0;
  }
  for (int i = 0; i < p->nbars; i++)
    for (int64_t k = 0; k < p->bars[i].n; k++)
      if (p->bars[i].x[k] != floor(p->bars[i].x[k])) return 0;
  return !p->field;
}

/* ------------------------------------------------------------ colour bar */

typedef struct cbar {
  int on;
  axis a;
  double lo, hi;            /* its value range (not logs) */
  double w, room;           /* the bar's width; all it takes right of the area */
} cbar;

static void cbar_layout(nn_canvas *cv, const nn_lines_spec *p, cbar *cb, double s, double plot_h) {
  const nn_plot_field *f = p->field;
  memset(cb, 0, sizeof *cb);
  if (!f || !f->colorbar) return;
  double tf = NN_PLOT_TICK_FONT * s, lf = NN_PLOT_LABEL_FONT * s;
  if (f->mode == NN_FIELD_CELLS) {
    double lo, hi;
    nn_field_range(f, &lo, &hi);
    cb->lo = isnan(f->vmin) ? lo : f->vmin;
    cb->hi = isnan(f->vmax) ? hi : f->vmax;
  } else {
    cb->lo = f->levels[0];
    cb->hi = f->levels[f->nlevels - 1];
  }
  if (!(cb->hi > cb->lo)) {
    if (f->log) { cb->lo /= 2; cb->hi *= 2; }
    else { cb->lo -= 0.5; cb->hi += 0.5; }
  }
  cb->on = 1;
  cb->a.log = f->log;
  cb->a.lo = f->log ? log10(cb->lo) : cb->lo;
  cb->a.hi = f->log ? log10(cb->hi) : cb->hi;
  int maxn = (int)(plot_h / (3.0 * tf)) + 1;
  if (cb->a.log) log_ticks(&cb->a, maxn < 2 ? 2 : maxn);
  else linear_ticks(&cb->a, maxn, 0);
  cb->w = 1.4 * tf;
  cb->room = 1.2 * tf + cb->w + NN_PLOT_TICK_LEN * s + 0.4 * tf + max_label_width(cv, &cb->a, tf) +
             (f->colorbar_label && *f->colorbar_label ? 0.7 * lf + nn_canvas_text_height(cv, lf) : 0);
}

static void cbar_draw(nn_canvas *cv, const nn_lines_spec *p, cbar *cb, rect area, double s) {
  const nn_plot_field *f = p->field;
  double tf = NN_PLOT_TICK_FONT * s, lf = NN_PLOT_LABEL_FONT * s, tl = NN_PLOT_TICK_LEN * s;
  double bx = round(area.x + area.w + 1.2 * tf), by = area.y, bh = area.h;
  cb->a.p0 = by + bh;
  cb->a.p1 = by;
  if (f->mode == NN_FIELD_CELLS) {
    for (int r = 0; r < (int)bh; r++) {
      double t = 1 - (r + 0.5) / bh;
      nn_canvas_color(cv, nn_plot_viridis(t), 1);
      nn_canvas_rect(cv, bx, by + r, cb->w, 1);
      nn_canvas_fill(cv);
    }
  } else if (f->mode == NN_FIELD_LINES) {
    nn_canvas_line_width(cv, 2 * s);
    for (int k = 0; k < f->nlevels; k++) {
      double y = to_px(&cb->a, f->levels[k]);
      nn_canvas_color(cv, nn_field_level_color(f, k), 1);
      nn_canvas_move(cv, bx, y);
      nn_canvas_line(cv, bx + cb->w, y);
      nn_canvas_stroke(cv);
    }
  } else {
    for (int k = 0; k + 1 < f->nlevels; k++) {
      double y0 = to_px(&cb->a, f->levels[k]), y1 = to_px(&cb->a, f->levels[k + 1]);
      nn_canvas_color(cv, nn_field_band_color(f, k), 1);
      nn_canvas_rect(cv, bx, y1, cb->w, y0 - y1);
      nn_canvas_fill(cv);
    }
  }
  nn_canvas_color(cv, 0x000000, 1);
  nn_canvas_line_width(cv, NN_PLOT_AXIS_WIDTH * s);
  nn_canvas_rect(cv, bx, by, cb->w, bh);
  for (int k = 0; k < cb->a.nt; k++) {
    double y = to_px(&cb->a, cb->a.t[k]);
    nn_canvas_move(cv, bx + cb->w, y);
    nn_canvas_line(cv, bx + cb->w + tl, y);
  }
  nn_canvas_stroke(cv);
  nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
  double lw = max_label_width(cv, &cb->a, tf);
  for (int k = 0; k < cb->a.nt; k++)
    nn_canvas_text(cv, bx + cb->w + tl + 0.4 * tf, to_px(&cb->a, cb->a.t[k]), cb->a.lab[k], tf, 0,
                   0.5, 0);
  if (f->colorbar_label && *f->colorbar_label)
    nn_canvas_text(cv, bx + cb->w + tl + 0.4 * tf + lw + 0.7 * lf, by + bh / 2, f->colorbar_label,
                   lf, 0.5, 1, 90);
}

/* ----------------------------------------------------------------- axes */

static void axis_ticks(nn_canvas *cv, const nn_lines_spec *p, axis *ax, axis *ay, double plot_w,
                       double plot_h, double tf) {
  int ymax = (int)(plot_h / (3.0 * tf)) + 1;
  if (ay->log) log_ticks(ay, ymax < 2 ? 2 : ymax);
  else linear_ticks(ay, ymax, 0);
  if (p->xticklabels && p->nxticks > 0) {     /* names at 1, 2, ...: every k-th if crowded */
    double w = 0;
    for (int k = 0; k < p->nxticks; k++)
      w = fmax(w, nn_canvas_text_width(cv, p->xticklabels[k] ? p->xticklabels[k] : "", tf));
    double per = plot_w / (ax->hi - ax->lo);
    int stride = 1;
    while (stride < p->nxticks && stride * per < w + tf) stride++;
    ax->nt = 0;
    for (int k = 0; k < p->nxticks && ax->nt < MAXTICKS; k += stride) {
      ax->t[ax->nt] = k + 1;
      snprintf(ax->lab[ax->nt], sizeof ax->lab[0], "%s", p->xticklabels[k] ? p->xticklabels[k] : "");
      ax->nt++;
    }
    return;
  }
  int integer = all_integer_x(p) && isnan(p->xlim[0]);
  for (int maxn = 12; maxn >= 2; maxn--) {
    linear_ticks(ax, maxn, integer);
    if (ax->nt * (max_label_width(cv, ax, tf) + 1.5 * tf) <= plot_w) break;
  }
}

/* Draws the axes of p in the rectangle out of cv, with sizes times s. */
static int draw_axes(nn_ctx *ctx, nn_canvas *cv, const nn_lines_spec *p, rect out, double s) {
  const char *fn = fname(p);
  double xr[2], yr[2];
  if (nn_plot_ranges(ctx, p, xr, yr) != 0) return NN_EARG;
  double tf = NN_PLOT_TICK_FONT * s, lf = NN_PLOT_LABEL_FONT * s, pad = NN_PLOT_PAD * s,
         tl = NN_PLOT_TICK_LEN * s;
  axis *ax = calloc(1, sizeof *ax), *ay = calloc(1, sizeof *ay);
  cbar *cb = calloc(1, sizeof *cb);
  style *sty = assign_styles(p);
  if (!ax || !ay || !cb || !sty) {
    free(ax); free(ay); free(cb); free(sty);
    return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", fn);
  }
  ax->lo = xr[0]; ax->hi = xr[1];
  ay->log = p->logy;
  ay->lo = p->logy ? log10(yr[0]) : yr[0];
  ay->hi = p->logy ? log10(yr[1]) : yr[1];

  /* layout: y ticks first (their labels set the left margin), then x ticks */
  double th = nn_canvas_text_height(cv, tf), lh = nn_canvas_text_height(cv, lf);
  double top = pad + (p->title && *p->title ? nn_canvas_text_height(cv, NN_PLOT_TITLE_FONT * s) + pad
                                            : th / 2);
  double bottom = pad + tl + (p->hide_xticklabels ? 0 : 0.6 * tf + th) +
                  (p->xlabel && *p->xlabel ? 0.7 * lf + lh : 0);
  double plot_h = out.h - top - bottom;
  cbar_layout(cv, p, cb, s, plot_h);
  axis_ticks(cv, p, ax, ay, out.w / 2, plot_h, tf);
  double left = pad + (p->ylabel && *p->ylabel ? lh + 0.7 * lf : 0) +
                (p->hide_yticklabels ? 0 : max_label_width(cv, ay, tf) + 0.5 * tf) + tl;
  double right = pad + (cb->on ? cb->room : 1.2 * tf);
  double plot_w = out.w - left - right;
  if (plot_w < 20 * s || plot_h < 20 * s) {
    free(ax); free(ay); free(cb); free(sty);
    return nn_seterr(ctx, NN_EARG, "%s: a %.0f x %.0f figure is too small for its labels", fn,
                     out.w, out.h);
  }
  rect area = {round(out.x + left), round(out.y + top), round(plot_w), round(plot_h)};
  if (p->equal) {               /* shrink one side so that a unit is as long in x as in y */
    double ux = (ax->hi - ax->lo) / area.w, uy = (ay->hi - ay->lo) / area.h;
    if (ux > uy) {
      double h = round((ay->hi - ay->lo) / ux);
      area.y += round((area.h - h) / 2);
      area.h = h;
    } else {
      double w = round((ax->hi - ax->lo) / uy);
      area.x += round((area.w - w) / 2);
      area.w = w;
    }
  }
  axis_ticks(cv, p, ax, ay, area.w, area.h, tf);
  ax->p0 = area.x; ax->p1 = area.x + area.w;
  ay->p0 = area.y + area.h; ay->p1 = area.y;

  /* field, grid, then data (clipped to the area), then frame, ticks and text */
  double aw = NN_PLOT_AXIS_WIDTH * s;
  int rc = 0;
  nn_canvas_clip(cv, area.x, area.y, area.w, area.h);
  if (p->field) {
    nn_field_map m = {ax->p0 - ax->lo * area.w / (ax->hi - ax->lo), area.w / (ax->hi - ax->lo),
                      ay->p0 + ay->lo * area.h / (ay->hi - ay->lo), -area.h / (ay->hi - ay->lo)};
    rc = nn_field_draw(ctx, cv, p->field, m, s);
  }
  nn_canvas_unclip(cv);
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
  draw_bars(cv, p, sty, ax, ay, s);
  for (int i = 0; i < p->nseries; i++) draw_series(cv, p, i, sty[i], ax, ay, s);
  for (int k = 0; k < p->ntexts; k++) {
    const nn_plot_text *t = &p->texts[k];
    if (p->logy && !(t->y > 0)) continue;
    double size = (t->size > 0 ? t->size : NN_PLOT_TICK_FONT) * s;
    nn_canvas_color(cv, t->color == NN_PLOT_AUTO ? NN_PLOT_TEXT_COLOR : (uint32_t)t->color, 1);
    nn_canvas_text(cv, to_px(ax, t->x), to_px(ay, t->y), t->text, size, t->halign, 0.5, 0);
  }
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
  for (int k = 0; k < ax->nt && !p->hide_xticklabels; k++)
    nn_canvas_text(cv, to_px(ax, ax->t[k]), area.y + area.h + tl + 0.5 * tf, ax->lab[k], tf,
                   0.5, 0, 0);
  for (int k = 0; k < ay->nt && !p->hide_yticklabels; k++)
    nn_canvas_text(cv, area.x - tl - 0.4 * tf, to_px(ay, ay->t[k]), ay->lab[k], tf, 1, 0.5, 0);
  /* axis labels hug the tick labels (an equal-aspect area may be centred in spare room) */
  if (p->xlabel && *p->xlabel)
    nn_canvas_text(cv, area.x + area.w / 2, area.y + area.h + bottom - pad, p->xlabel, lf, 0.5, 1, 0);
  if (p->ylabel && *p->ylabel)
    nn_canvas_text(cv, area.x - (left - pad), area.y + area.h / 2, p->ylabel, lf, 0.5, 0, 90);
  if (p->title && *p->title)
    nn_canvas_text(cv, area.x + area.w / 2, area.y - 0.7 * pad, p->title, NN_PLOT_TITLE_FONT * s,
                   0.5, 1, 0);
  if (cb->on) cbar_draw(cv, p, cb, area, s);
  draw_legend(cv, p, sty, ax, ay, area, s);
  free(ax);
  free(ay);
  free(cb);
  free(sty);
  return rc;
}

nn_canvas *nn_plot_lines(nn_ctx *ctx, const nn_lines_spec *p) {
  if (nn_plot_check_size(ctx, fname(p), p->width, p->height) != 0) return NULL;
  double xr[2], yr[2];
  if (nn_plot_ranges(ctx, p, xr, yr) != 0) return NULL;   /* errors before any allocation */
  nn_canvas *cv = nn_canvas_new(ctx, p->width, p->height);
  if (!cv) return NULL;
  rect out = {0, 0, p->width, p->height};
  if (draw_axes(ctx, cv, p, out, nn_plot_scale(p->width, p->height)) != 0 ||
      nn_canvas_check(ctx, cv) != 0) {
    nn_canvas_free(cv);
    return NULL;
  }
  return cv;
}

/* ------------------------------------------------------------- subplots */

static int has_axes(const nn_lines_spec *a) { return a->nseries > 0 || a->nbars > 0 || a->field; }

nn_canvas *nn_plot_subplots(nn_ctx *ctx, const nn_subplots_spec *g) {
  if (nn_plot_check_size(ctx, "plot.subplots", g->width, g->height) != 0) return NULL;
  if (g->rows < 1 || g->cols < 1 || g->rows > 16 || g->cols > 16 || !g->axes) {
    nn_seterr(ctx, NN_EARG, "plot.subplots: rows and cols must be 1 to 16 (got %d x %d)", g->rows,
              g->cols);
    return NULL;
  }
  int n = g->rows * g->cols;
  nn_lines_spec *ax = malloc((size_t)n * sizeof *ax);
  if (!ax) { nn_seterr(ctx, NN_ENOMEM, "plot.subplots: out of memory"); return NULL; }
  memcpy(ax, g->axes, (size_t)n * sizeof *ax);
  /* shared axes: every cell shows the union of the ranges; inner tick labels go */
  double ux[2] = {INFINITY, -INFINITY}, uy[2] = {INFINITY, -INFINITY};
  int logy = -1, bad = 0;
  for (int k = 0; k < n && !bad; k++) {
    if (!has_axes(&ax[k])) continue;
    double xr[2], yr[2];
    if (nn_plot_ranges(ctx, &ax[k], xr, yr) != 0) {
      char msg[sizeof ctx->err];
      snprintf(msg, sizeof msg, "%s", ctx->err);
      nn_seterr(ctx, NN_EARG, "plot.subplots: cell %d: %s", k + 1, msg);
      bad = 1;
      break;
    }
    grow(ux, xr[0]); grow(ux, xr[1]); grow(uy, yr[0]); grow(uy, yr[1]);
    if (g->sharey && logy >= 0 && logy != ax[k].logy) {
      nn_seterr(ctx, NN_EARG, "plot.subplots: sharey needs every cell on the same y scale (logy)");
      bad = 1;
    }
    logy = ax[k].logy;
  }
  if (bad) { free(ax); return NULL; }
  for (int k = 0; k < n; k++) {
    if (!has_axes(&ax[k])) continue;
    int r = k / g->cols, c = k % g->cols;
    if (g->sharex) {
      ax[k].xlim[0] = ux[0]; ax[k].xlim[1] = ux[1];
      int below = 0;          /* a cell with axes below this one shows the labels instead */
      for (int r2 = r + 1; r2 < g->rows; r2++) below |= has_axes(&ax[r2 * g->cols + c]);
      ax[k].hide_xticklabels = below;
      if (below) ax[k].xlabel = NULL;     /* the bottom cell names the shared axis */
    }
    if (g->sharey) {
      ax[k].ylim[0] = uy[0]; ax[k].ylim[1] = uy[1];
      ax[k].hide_yticklabels = c > 0;
      if (c > 0) ax[k].ylabel = NULL;
    }
  }
  nn_canvas *cv = nn_canvas_new(ctx, g->width, g->height);
  if (!cv) { free(ax); return NULL; }
  double s0 = nn_plot_scale(g->width, g->height), pad = NN_PLOT_PAD * s0;
  double top = 0;
  if (g->title && *g->title) {
    top = pad + nn_canvas_text_height(cv, NN_PLOT_TITLE_FONT * s0);
    nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
    nn_canvas_text(cv, g->width / 2.0, pad, g->title, NN_PLOT_TITLE_FONT * s0, 0.5, 0, 0);
  }
  double cw = (double)g->width / g->cols, ch = (g->height - top) / g->rows;
  double s = nn_plot_scale((int)cw, (int)ch);
  int rc = 0;
  for (int k = 0; k < n && rc == 0; k++) {
    rect out = {floor((k % g->cols) * cw), floor(top + (k / g->cols) * ch), floor(cw), floor(ch)};
    if (has_axes(&ax[k])) {
      rc = draw_axes(ctx, cv, &ax[k], out, s);
      if (rc != 0) {
        char msg[sizeof ctx->err];
        snprintf(msg, sizeof msg, "%s", ctx->err);
        nn_seterr(ctx, rc, "plot.subplots: cell %d: %s", k + 1, msg);
      }
    } else if (g->images && g->images[k].data) {
      const nn_plot_imagecell *im = &g->images[k];
      double tf = NN_PLOT_TITLE_FONT * s, cp = NN_PLOT_PAD * s;
      double t = ax[k].title && *ax[k].title ? nn_canvas_text_height(cv, tf) + cp : 0;
      double sc = fmin((out.w - 2 * cp) / im->w, (out.h - 2 * cp - t) / im->h);
      if (sc >= 1) sc = floor(sc);
      if (!(sc * im->w >= 1 && sc * im->h >= 1)) {
        rc = nn_seterr(ctx, NN_EARG, "plot.subplots: cell %d is too small for its image", k + 1);
        break;
      }
      double iw = sc * im->w, ih = sc * im->h;
      double x = round(out.x + (out.w - iw) / 2), y = round(out.y + t + (out.h - t - ih) / 2);
      rc = nn_canvas_image(ctx, cv, x, y, im->data, im->h, im->w, im->c, sc);
      if (t > 0) {
        nn_canvas_color(cv, NN_PLOT_TEXT_COLOR, 1);
        nn_canvas_text(cv, x + iw / 2, y - 0.7 * cp, ax[k].title, tf, 0.5, 1, 0);
      }
    }
  }
  free(ax);
  if (rc != 0 || nn_canvas_check(ctx, cv) != 0) { nn_canvas_free(cv); return NULL; }
  return cv;
}
