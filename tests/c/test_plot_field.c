/* test_plot_field.c -- contour levels, histogram counts, contours read back
 * from a canvas's pixels, and GIF frames from C. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/plot/plot.h"
#include "nn/plot/gif.h"
#include "nn/mem.h"

static nn_ctx *fctx(void) {
  static nn_ctx *c;
  if (!c) c = nn_ctx_new();
  return c;
}

TEST(plot_levels_nice_and_log) {
  double lv[64];
  int n = nn_plot_levels(0.3, 9.7, 10, 0, lv, 64);
  CHECK(n >= 5 && lv[0] <= 0.3 && lv[n - 1] >= 9.7);
  for (int k = 1; k < n; k++) CHECK_NEAR(lv[k] - lv[k - 1], lv[1] - lv[0], 1e-12);
  n = nn_plot_levels(1, 1e4, 5, 1, lv, 64);
  CHECK(n == 5);
  for (int k = 0; k < 5; k++) CHECK_NEAR(lv[k], pow(10, k), 1e-9 * pow(10, k));
  CHECK(nn_plot_levels(0, 10, 5, 1, lv, 64) == 0);        /* log needs lo > 0 */
  CHECK(nn_plot_levels(NAN, 10, 5, 0, lv, 64) == 0);
  CHECK(nn_plot_levels(2, 2, 5, 0, lv, 64) == 1 && lv[0] == 2);
}

TEST(plot_histogram_counts) {
  double x[] = {0, 0.1, 0.99999, 1, 1.5, 2.999, 3, -0.1, 3.1, NAN, INFINITY};
  double c[3];
  nn_plot_histogram(x, 11, 0, 3, 3, c);
  CHECK(c[0] == 3 && c[1] == 2 && c[2] == 2);
  /* each value lands in the bin whose edges lo + k w (as doubles) hold it, even
   * where the division is one off: 0.3 / 0.1 is 2.9999..., and 0.3 is below the
   * edge 3 * 0.1 = 0.30000000000000004, as numpy's edges say too */
  double y[] = {0.1, 0.2, 0.3, 0.7};
  double d[10];
  nn_plot_histogram(y, 4, 0, 1, 10, d);
  CHECK(d[1] == 1 && d[2] == 2 && d[3] == 0);
  for (int k = 0; k < 4; k++) {
    int b = 0;
    while (b < 9 && y[k] >= (b + 1) * 0.1) b++;
    CHECK(d[b] >= 1);
  }
}

/* a 400 x 400 figure of z = x over [0, 10]^2 with red contour lines at
 * 2.5, 5, 7.5: the lines are vertical, at those x */
TEST(plot_contour_lines_where_the_levels_are) {
  double xs[11], z[11 * 11], levels[3] = {2.5, 5, 7.5};
  for (int k = 0; k < 11; k++) xs[k] = k;
  for (int i = 0; i < 11; i++)
    for (int j = 0; j < 11; j++) z[i * 11 + j] = j;
  nn_plot_field f;
  memset(&f, 0, sizeof f);
  f.z = z; f.x = xs; f.y = xs; f.nx = f.ny = 11;
  f.mode = NN_FIELD_LINES; f.levels = levels; f.nlevels = 3;
  f.line_color = 0xFF0000; f.vmin = f.vmax = NAN;
  nn_lines_spec p;
  memset(&p, 0, sizeof p);
  p.width = p.height = 400;
  p.legend = NN_LEGEND_NONE;
  p.xlim[0] = p.xlim[1] = p.ylim[0] = p.ylim[1] = NAN;
  p.field = &f;
  nn_canvas *cv = nn_plot_lines(fctx(), &p);
  CHECK(cv != NULL);
  if (!cv) return;
  uint8_t *px = nn_canvas_pixels(fctx(), cv);
  CHECK(px != NULL);
  /* along the middle row: red columns, three runs */
  int row = 200, runs = 0, prev = 0, first = -1, last = -1;
  for (int x = 0; x < 400; x++) {
    const uint8_t *q = px + 3 * (row * 400 + x);
    int red = q[0] > 200 && q[1] < 120 && q[2] < 120;
    if (red && !prev) { runs++; if (first < 0) first = x; last = x; }
    prev = red;
  }
  CHECK(runs == 3);
  CHECK(first > 60 && last < 360);
  /* the gif of this canvas decodes to the same pixels (few colours: exact) */
  const char *dir = check_mktmp("gif");
  nn_canvas *frames[2] = {cv, cv};
  CHECK(nn_gif_write(fctx(), check_tmppath("a.gif"), frames, 2, 10, 50, 0) == 0);
  nn_gif g;
  CHECK(nn_gif_read(fctx(), check_tmppath("a.gif"), &g) == 0);
  CHECK(g.n == 2 && g.w == 400 && g.h == 400 && g.delay_cs[1] == 50 && g.loop == 0);
  CHECK(memcmp(g.rgb, px, 400 * 400 * 3) == 0 && memcmp(g.rgb + 400 * 400 * 3, px, 400 * 400 * 3) == 0);
  nn_gif_free(&g);
  nn_mem_free(px);
  nn_canvas_free(cv);
  if (dir) check_rmtree(dir);
}

TEST(plot_field_bad_input) {
  double xs[3] = {0, 1, 1}, z[9] = {0};
  nn_plot_field f;
  memset(&f, 0, sizeof f);
  f.z = z; f.x = xs; f.y = xs; f.nx = f.ny = 3; f.mode = NN_FIELD_CELLS;
  nn_lines_spec p;
  memset(&p, 0, sizeof p);
  p.width = p.height = 400;
  p.xlim[0] = p.xlim[1] = p.ylim[0] = p.ylim[1] = NAN;
  p.field = &f;
  CHECK(nn_plot_lines(fctx(), &p) == NULL && check_has(fctx()->err, "strictly increasing"));
  xs[2] = 2;
  f.mode = NN_FIELD_FILLED;
  CHECK(nn_plot_lines(fctx(), &p) == NULL && check_has(fctx()->err, "need at least 2 levels"));
  nn_canvas *none[1] = {NULL};
  CHECK(nn_gif_write(fctx(), "/tmp/x.gif", none, 0, 10, 10, 0) != 0);
}
