/* test_plot.c -- the figure core from C: nice ticks and tick labels, the
 * colour maps, the checks of every figure spec, canvas pixels (lines drawn
 * where the data says, text drawn, same pixels every time), saving PNG and SVG
 * atomically, save_image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "nn/plot/plot.h"
#include "nn/io/png.h"
#include "nn/mem.h"

static nn_ctx *ctx;

static nn_ctx *getc_(void) {
  if (!ctx) ctx = nn_ctx_new();
  return ctx;
}

/* ------------------------------------------------------------- ticks */

TEST(plot_ticks_nice_values) {
  double t[64], step;
  int n = nn_plot_ticks(0, 1, 6, 0, t, 64, &step);
  CHECK(n == 6);
  CHECK_NEAR(step, 0.2, 1e-12);
  CHECK(t[0] == 0);
  CHECK_NEAR(t[5], 1.0, 1e-12);
  n = nn_plot_ticks(0.23, 2.31, 11, 0, t, 64, &step);        /* step 0.25 would give 9 */
  CHECK_NEAR(step, 0.25, 1e-12);
  CHECK_NEAR(t[0], 0.25, 1e-12);
  CHECK(n == 9);
  n = nn_plot_ticks(-3.7, 12.2, 5, 0, t, 64, &step);
  CHECK_NEAR(step, 5, 1e-12);
  CHECK(n == 3 && t[0] == 0 && t[1] == 5 && t[2] == 10);
  /* whole numbers only: epochs 1..3 never get 0.5 steps */
  n = nn_plot_ticks(0.9, 3.1, 12, 1, t, 64, &step);
  CHECK(step == 1 && n == 3 && t[0] == 1 && t[2] == 3);
  n = nn_plot_ticks(0, 100, 5, 1, t, 64, &step);
  CHECK(step == 25 && n == 5);
  /* every tick lies in the range; at most maxn of them; -0 is printed as 0 */
  for (int k = 0; k < 200; k++) {
    double lo = -k * 0.37, hi = lo + 0.01 + k * k * 0.11;
    int m = 2 + k % 10;
    n = nn_plot_ticks(lo, hi, m, 0, t, 64, &step);
    CHECK(n >= 1 && n <= m);
    for (int i = 0; i < n; i++) CHECK(t[i] >= lo - 1e-9 && t[i] <= hi + 1e-9);
  }
  CHECK(nn_plot_ticks(1, 1, 5, 0, t, 64, &step) == 0);
  CHECK(nn_plot_ticks(NAN, 1, 5, 0, t, 64, &step) == 0);
}

TEST(plot_tick_labels) {
  char b[32];
  nn_plot_format(b, sizeof b, 0.4, 0.2, 1); CHECK(strcmp(b, "0.4") == 0);
  nn_plot_format(b, sizeof b, 0.75, 0.25, 1); CHECK(strcmp(b, "0.75") == 0);
  nn_plot_format(b, sizeof b, 1, 0.25, 1); CHECK(strcmp(b, "1.00") == 0);
  nn_plot_format(b, sizeof b, 2000, 500, 3000); CHECK(strcmp(b, "2000") == 0);
  nn_plot_format(b, sizeof b, -1e-17, 0.1, 1); CHECK(strcmp(b, "0.0") == 0);
  nn_plot_format(b, sizeof b, 1.5e6, 5e5, 3e6); CHECK(strcmp(b, "1.5e6") == 0);
  nn_plot_format(b, sizeof b, 2e6, 5e5, 3e6); CHECK(strcmp(b, "2.0e6") == 0);
  nn_plot_format(b, sizeof b, 0, 5e5, 3e6); CHECK(strcmp(b, "0") == 0);
  nn_plot_format(b, sizeof b, 1.2e-5, 2e-6, 3e-5); CHECK(strcmp(b, "1.2e-5") == 0);
}

TEST(plot_colours) {
  CHECK(nn_plot_palette(0) == 0x0072B2);
  CHECK(nn_plot_palette(1) == 0xE69F00);
  CHECK(nn_plot_palette(8) == nn_plot_palette(0));
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < i; j++) CHECK(nn_plot_palette(i) != nn_plot_palette(j));
  CHECK(nn_plot_viridis(0) == 0x440154);
  CHECK(nn_plot_viridis(1) == 0xFDE725);
  CHECK(nn_plot_viridis(0.5) == 0x21918C);
  CHECK(nn_plot_viridis(-1) == 0x440154 && nn_plot_viridis(NAN) == 0x440154);
  /* green rises monotonically along viridis */
  for (int k = 1; k <= 100; k++)
    CHECK(((nn_plot_viridis(k / 100.0) >> 8) & 255) >= ((nn_plot_viridis((k - 1) / 100.0) >> 8) & 255));
}

/* ------------------------------------------------------------- lines */

static nn_lines_spec lines_spec(nn_plot_series *s, int n) {
  nn_lines_spec p;
  memset(&p, 0, sizeof p);
  p.width = 800;
  p.height = 600;
  p.series = s;
  p.nseries = n;
  p.legend = NN_LEGEND_NONE;
  p.xlim[0] = p.xlim[1] = p.ylim[0] = p.ylim[1] = NAN;
  return p;
}

static nn_plot_series series(const double *x, const double *y, int64_t n) {
  nn_plot_series s = {NULL, x, y, n, NN_PLOT_AUTO, NN_PLOT_AUTO, NN_PLOT_AUTO, 0, 0, 0};
  return s;
}

/* pixel (x, y) of an RGB image w wide */
static uint32_t px_at(const uint8_t *px, int w, int x, int y) {
  const uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* the frame of the plotting area: dark columns and rows over a third of the image */
static void find_frame(const uint8_t *px, int w, int h, int *l, int *r, int *t, int *b) {
  *l = *r = *t = *b = -1;
  for (int x = 0; x < w; x++) {
    int n = 0;
    for (int y = 0; y < h; y++) n += px_at(px, w, x, y) < 0x202020 && px[((size_t)y * w + x) * 3] < 0x20;
    if (n > h / 3) { if (*l < 0) *l = x; *r = x; }
  }
  for (int y = 0; y < h; y++) {
    int n = 0;
    for (int x = 0; x < w; x++) n += px[((size_t)y * w + x) * 3] < 0x20 && px[((size_t)y * w + x) * 3 + 2] < 0x20;
    if (n > w / 3) { if (*t < 0) *t = y; *b = y; }
  }
}

static int colour_near(const uint8_t *px, int w, int x, int y, uint32_t c) {
  for (int dy = -2; dy <= 2; dy++)
    for (int dx = -2; dx <= 2; dx++) {
      uint32_t v = px_at(px, w, x + dx, y + dy);
      int ok = 1;
      for (int sh = 0; sh <= 16; sh += 8) ok &= abs((int)((v >> sh) & 255) - (int)((c >> sh) & 255)) < 30;
      if (ok) return 1;
    }
  return 0;
}

TEST(plot_lines_draws_the_data) {
  nn_ctx *c = getc_();
  double x[2] = {0, 10}, y[2] = {0, 10};
  nn_plot_series s = series(x, y, 2);
  nn_lines_spec p = lines_spec(&s, 1);
  p.xlim[0] = p.ylim[0] = 0;
  p.xlim[1] = p.ylim[1] = 10;
  nn_canvas *cv = nn_plot_lines(c, &p);
  CHECK(cv != NULL);
  if (!cv) return;
  uint8_t *px = nn_canvas_pixels(c, cv);
  CHECK(px != NULL);
  int l, r, t, b;
  find_frame(px, 800, 600, &l, &r, &t, &b);
  CHECK(l > 20 && r < 790 && t > 0 && b < 590 && r - l > 500);
  for (int k = 1; k < 10; k++) {
    int xx = l + (r - l) * k / 10, yy = b - (b - t) * k / 10;
    CHECK(colour_near(px, 800, xx, yy, 0x0072B2));
    if (k != 5) CHECK(!colour_near(px, 800, xx, b - (b - t) * (10 - k) / 10, 0x0072B2));
  }
  /* the same spec draws the same pixels */
  nn_canvas *cv2 = nn_plot_lines(c, &p);
  uint8_t *px2 = nn_canvas_pixels(c, cv2);
  CHECK(px2 && memcmp(px, px2, 800 * 600 * 3) == 0);
  /* a title puts text above the area (the top y tick label reaches up a little: skip it) */
  int dark = 0;
  for (int yy = 0; yy < t - 2; yy++)
    for (int xx = l + 5; xx < 800; xx++) dark += px_at(px, 800, xx, yy) < 0x808080;
  CHECK(dark == 0);
  p.title = "A title";
  nn_canvas *cv3 = nn_plot_lines(c, &p);
  uint8_t *px3 = nn_canvas_pixels(c, cv3);
  int l3, r3, t3, b3;
  find_frame(px3, 800, 600, &l3, &r3, &t3, &b3);
  dark = 0;
  for (int yy = 0; yy < t3 - 2; yy++)
    for (int xx = l3 + 5; xx < 800; xx++) dark += px_at(px3, 800, xx, yy) < 0x808080;
  CHECK(dark > 50);
  nn_mem_free(px); nn_mem_free(px2); nn_mem_free(px3);
  nn_canvas_free(cv); nn_canvas_free(cv2); nn_canvas_free(cv3);
}

TEST(plot_lines_bad_specs) {
  nn_ctx *c = getc_();
  double y[3] = {1, 2, 3}, nan3[3] = {NAN, NAN, INFINITY}, neg[3] = {1, -1, 2};
  nn_plot_series s = series(NULL, y, 3);
  nn_lines_spec p = lines_spec(&s, 0);
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "series must not be empty"));
  p = lines_spec(&s, 1);
  p.width = 50;
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "width and height"));
  s = series(NULL, y, 0);
  p = lines_spec(&s, 1);
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "series 1 is empty"));
  s = series(NULL, nan3, 3);
  s.label = "val";
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "series 1 ('val') has no finite value"));
  s = series(NULL, neg, 3);
  p.logy = 1;
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "y[2] = -1"));
  s = series(NULL, y, 3);
  p.logy = 0;
  p.ylim[0] = 2; p.ylim[1] = 1;
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "ylim"));
  p = lines_spec(&s, 1);
  s.marker = 99;
  CHECK(nn_plot_lines(c, &p) == NULL && check_has(c->err, "marker"));
}

/* ------------------------------------------------- grid, heatmap, files */

TEST(plot_grid_and_heatmap_bad_specs) {
  nn_ctx *c = getc_();
  float img[2 * 4 * 4] = {0};
  nn_grid_spec g = {800, 600, NULL, img, 2, 1, 4, 4, NULL, 1, 1, NULL, NULL, 0, 1};
  CHECK(nn_plot_image_grid(c, &g) == NULL && check_has(c->err, "cannot hold 2 images"));
  g.rows = 2; g.c = 2;
  CHECK(nn_plot_image_grid(c, &g) == NULL && check_has(c->err, "1 or 3 channels"));
  g.c = 1; g.hi = 0;
  CHECK(nn_plot_image_grid(c, &g) == NULL && check_has(c->err, "lo < hi"));
  g.hi = 1;
  img[5] = NAN;
  CHECK(nn_plot_image_grid(c, &g) == NULL && check_has(c->err, "image 1 has a NaN"));
  img[5] = 0;
  nn_canvas *cv = nn_plot_image_grid(c, &g);
  CHECK(cv != NULL);
  nn_canvas_free(cv);
  double m[4] = {NAN, NAN, NAN, NAN};
  nn_heatmap_spec h = {800, 600, NULL, NULL, NULL, m, 2, 2, NULL, NULL, 1};
  CHECK(nn_plot_heatmap(c, &h) == NULL && check_has(c->err, "no finite value"));
  h.rows = 0;
  CHECK(nn_plot_heatmap(c, &h) == NULL && check_has(c->err, "empty"));
  m[0] = 1; h.rows = 2;
  cv = nn_plot_heatmap(c, &h);        /* one finite value: drawn, NaN cells left blank */
  CHECK(cv != NULL);
  nn_canvas_free(cv);
}

TEST(plot_save_png_svg_atomic) {
  nn_ctx *c = getc_();
  char dir[] = "/tmp/nn_plot_XXXXXX", path[256];
  if (!mkdtemp(dir)) { CHECK(0); return; }
  double y[3] = {3, 1, 2};
  nn_plot_series s = series(NULL, y, 3);
  nn_lines_spec p = lines_spec(&s, 1);
  nn_canvas *cv = nn_plot_lines(c, &p);
  const char *kv[2] = {"Software", "test"};
  snprintf(path, sizeof path, "%s/f.png", dir);
  CHECK(nn_canvas_save(c, cv, path, kv, 1) == 0);
  nn_image im;
  CHECK(nn_png_read(c, path, &im) == 0 && im.w == 800 && im.h == 600 && im.c == 3);
  uint8_t *px = nn_canvas_pixels(c, cv);
  CHECK(px && im.data && memcmp(px, im.data, 800 * 600 * 3) == 0);
  nn_mem_free(px);
  nn_image_free(&im);
  static char buf[1 << 20];
  size_t n = check_read_file(path, buf, sizeof buf);
  int found = 0;
  for (size_t k = 0; k + 12 <= n; k++) found |= memcmp(buf + k, "tEXtSoftware", 12) == 0;
  CHECK(n > 1000 && found);
  snprintf(path, sizeof path, "%s/f.svg", dir);
  CHECK(nn_canvas_save(c, cv, path, NULL, 0) == 0);
  n = check_read_file(path, buf, sizeof buf - 1);
  buf[n] = 0;
  CHECK(n > 100 && strstr(buf, "<svg") != NULL);
  snprintf(path, sizeof path, "%s/f.png/f.png", dir);     /* a folder that is a file */
  CHECK(nn_canvas_save(c, cv, path, NULL, 0) == NN_EIO && check_has(c->err, "cannot write"));
  snprintf(path, sizeof path, "%s/f.png/f.svg", dir);
  CHECK(nn_canvas_save(c, cv, path, NULL, 0) == NN_EIO && check_has(c->err, "cannot write"));
  nn_canvas_free(cv);
  /* save_image: values clamped and rounded like torchvision */
  float g[6] = {0, 0.5f, 1, -1, 2, 0.25f};
  snprintf(path, sizeof path, "%s/g.png", dir);
  CHECK(nn_plot_save_image(c, path, g, 1, 2, 3, NULL, 0) == 0);
  CHECK(nn_png_read(c, path, &im) == 0 && im.c == 1 && im.h == 2 && im.w == 3);
  uint8_t want[6] = {0, 128, 255, 0, 255, 64};
  CHECK(im.data && memcmp(im.data, want, 6) == 0);
  nn_image_free(&im);
  CHECK(nn_plot_save_image(c, path, g, 2, 1, 3, NULL, 0) == NN_EARG);
  g[1] = NAN;
  CHECK(nn_plot_save_image(c, path, g, 1, 2, 3, NULL, 0) == NN_EARG && check_has(c->err, "NaN"));
  check_rmtree(dir);
}
