/* test_data_hostile.c -- issue 13 for the data side, from C: transform kernels
 * on empty and degenerate shapes (no division by zero), readers refusing what
 * is not a regular file (FIFO, folder, device-like) without blocking, the
 * image-set byte limit (max_bytes) checked before allocating, the two-pass PNG
 * set, and the int64 randperm matching the float one. Files go to a mkdtemp
 * folder removed at the end of each test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "nn/data/data.h"
#include "nn/io/idx.h"
#include "nn/io/png.h"
#include "nn/rng.h"

static nn_tensor *zeros(nn_ctx *ctx, int nd, int64_t a, int64_t b, int64_t c) {
  int64_t shape[3] = {a, b, c};
  return nn_tensor_zeros(ctx, nd, shape);
}

/* ---- kernels on empty and degenerate shapes ---- */

TEST(transform_empty_shapes) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tf_step tt = {.kind = NN_TF_TOTENSOR}, fl = {.kind = NN_TF_FLATTEN};
  nn_tf_step no = {.kind = NN_TF_NORMALIZE, .nmean = 1, .mean = {0.5f}, .std = {1}};
  nn_tf_step hf = {.kind = NN_TF_HFLIP, .p = 1};
  nn_tf_step *steps[] = {&tt, &no, &fl, &hf};
  int64_t shapes[][3] = {{0, 2, 2}, {2, 0, 2}, {2, 2, 0}, {5, 5, 0}, {0, 0, 0}, {0, 5, 3}};
  for (int s = 0; s < 4; s++)
    for (int k = 0; k < 6; k++) {
      nn_tensor *x = zeros(ctx, 3, shapes[k][0], shapes[k][1], shapes[k][2]);
      nn_tensor *y = nn_tf_apply(ctx, steps[s], &ctx->rng, x);
      CHECK(y != NULL);                   /* no SIGFPE, and an empty result */
      if (y) CHECK(nn_tensor_numel(y) == 0);
      nn_tensor_free(y);
      nn_tensor_free(x);
    }
  nn_tensor *x2 = zeros(ctx, 2, 0, 4, 0);  /* [H, W] with H = 0 */
  for (int s = 0; s < 4; s++) {
    nn_tensor *y = nn_tf_apply(ctx, steps[s], &ctx->rng, x2);
    CHECK(y != NULL);
    nn_tensor_free(y);
  }
  nn_tensor_free(x2);
  nn_ctx_free(ctx);
}

TEST(transform_crop_degenerate) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *empty = zeros(ctx, 3, 1, 0, 4), *small = zeros(ctx, 3, 1, 2, 2);
  /* padding an axis of 0 by repeating its pixels is impossible: an error, not a read */
  for (int mode = NN_PAD_EDGE; mode <= NN_PAD_SYMMETRIC; mode++) {
    nn_tf_step c = {.kind = NN_TF_CROP, .ch = 2, .cw = 2, .pad = {1, 1, 1, 1}, .pad_mode = mode};
    CHECK(nn_tf_apply(ctx, &c, &ctx->rng, empty) == NULL);
    CHECK(check_has(ctx->err, "RandomCrop"));
    nn_tf_step d = {.kind = NN_TF_CROP, .ch = 3, .cw = 3, .pad_if_needed = 1, .pad_mode = mode};
    CHECK(nn_tf_apply(ctx, &d, &ctx->rng, empty) == NULL);
  }
  /* constant padding of an empty axis is fine: all fill */
  nn_tf_step c = {.kind = NN_TF_CROP, .ch = 2, .cw = 2, .pad = {1, 1, 1, 1}, .fill = 7};
  nn_tensor *y = nn_tf_apply(ctx, &c, &ctx->rng, empty);
  CHECK(y != NULL);
  if (y) for (int k = 0; k < 4; k++) CHECK(y->s->data[y->off + k] == 7);
  nn_tensor_free(y);
  /* crop larger than the image, with and without padding */
  nn_tf_step big = {.kind = NN_TF_CROP, .ch = 5, .cw = 5};
  CHECK(nn_tf_apply(ctx, &big, &ctx->rng, small) == NULL && check_has(ctx->err, "larger than"));
  big.pad[0] = big.pad[2] = 1;
  CHECK(nn_tf_apply(ctx, &big, &ctx->rng, small) == NULL && check_has(ctx->err, "[2, 4]"));
  big.pad_if_needed = 1;
  y = nn_tf_apply(ctx, &big, &ctx->rng, small);
  CHECK(y != NULL && y->shape[1] == 5 && y->shape[2] == 5);
  nn_tensor_free(y);
  nn_tensor_free(empty);
  nn_tensor_free(small);
  nn_ctx_free(ctx);
}

TEST(transform_normalize_values) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tf_step no = {.kind = NN_TF_NORMALIZE, .nmean = 1, .mean = {0}, .std = {0}};
  CHECK(nn_tf_check(ctx, &no) == NN_EARG && check_has(ctx->err, "std[1] = 0"));
  no.std[0] = INFINITY;
  CHECK(nn_tf_check(ctx, &no) == NN_EARG);
  no.std[0] = 1;
  no.mean[0] = -INFINITY;
  CHECK(nn_tf_check(ctx, &no) == NN_EARG);
  no.mean[0] = NAN;
  CHECK(nn_tf_check(ctx, &no) == NN_EARG);
  nn_ctx_free(ctx);
}

/* ---- regular files only ---- */

TEST(readers_refuse_fifo_and_folder) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("dh")) { CHECK(0); nn_ctx_free(ctx); return; }
  char fifo[320];
  snprintf(fifo, sizeof fifo, "%s", check_tmppath("b.png"));
  CHECK(mkfifo(fifo, 0600) == 0);
  long long t0 = check_now_ms();
  nn_image im;
  CHECK(nn_png_read(ctx, fifo, &im) == NN_EIO);            /* returns at once: no writer awaited */
  CHECK(check_has(ctx->err, fifo) && check_has(ctx->err, "FIFO"));
  CHECK(nn_png_info(ctx, fifo, &im) == NN_EIO && check_has(ctx->err, "not a regular file"));
  nn_idx x;
  CHECK(nn_idx_read(ctx, fifo, &x) == NN_EIO && check_has(ctx->err, "FIFO"));
  CHECK(x.data == NULL && x.n == 0);
  CHECK(nn_idx_read(ctx, check_tmpdir(), &x) == NN_EIO && check_has(ctx->err, "a directory"));
  CHECK(nn_png_read(ctx, check_tmpdir(), &im) == NN_EIO && check_has(ctx->err, "a directory"));
  nn_imageset s;
  CHECK(nn_imageset_from_idx(ctx, fifo, fifo, NN_DATA_MAXBYTES, &s) == NN_EIO);
  const char *paths[1] = {fifo};
  int32_t labels[1] = {0};
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 1, NN_DATA_MAXBYTES, &s) == NN_EIO);
  CHECK(check_has(ctx->err, "b.png"));
  CHECK(check_now_ms() - t0 < 5000);
  char link[320];                               /* a link to the FIFO: the same */
  snprintf(link, sizeof link, "%s", check_tmppath("link.png"));
  CHECK(symlink(fifo, link) == 0);
  CHECK(nn_png_read(ctx, link, &im) == NN_EIO && check_has(ctx->err, "FIFO"));
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- limits ---- */

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* an IDX file: header only (the data would be absent), gzip */
static int write_idx_header(const char *p, int ndim, const uint32_t *dims, size_t data) {
  uint8_t h[4 + 16];
  put32(h, 0x800u | (uint32_t)ndim);
  for (int i = 0; i < ndim; i++) put32(h + 4 + 4 * i, dims[i]);
  gzFile g = gzopen(p, "wb1");
  if (!g) return -1;
  gzwrite(g, h, (unsigned)(4 + 4 * ndim));
  uint8_t zero[4096] = {0};
  for (size_t k = 0; k < data; k += sizeof zero)
    gzwrite(g, zero, (unsigned)(data - k < sizeof zero ? data - k : sizeof zero));
  return gzclose(g) == Z_OK ? 0 : -1;
}

TEST(imageset_idx_limits) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("dh")) { CHECK(0); nn_ctx_free(ctx); return; }
  char im[320], lb[320];
  snprintf(im, sizeof im, "%s", check_tmppath("im.gz"));
  snprintf(lb, sizeof lb, "%s", check_tmppath("lb.gz"));
  /* a 4 GiB declaration: refused from the header, before any data is read */
  uint32_t bomb[3] = {65536, 256, 256};
  CHECK(write_idx_header(im, 3, bomb, 0) == 0);
  uint32_t n1[1] = {65536};
  CHECK(write_idx_header(lb, 1, n1, 65536) == 0);
  nn_imageset s;
  CHECK(nn_imageset_from_idx(ctx, im, lb, NN_DATA_MAXBYTES, &s) == NN_EIO);
  CHECK(check_has(ctx->err, im) && check_has(ctx->err, "max_bytes = 1073741824"));
  CHECK(check_has(ctx->err, "pass a larger max_bytes"));
  CHECK(s.pixels == NULL && s.n == 0);
  /* many tiny images: the index (20 bytes an image) counts too */
  uint32_t tiny[3] = {1000, 1, 1};
  CHECK(write_idx_header(im, 3, tiny, 1000) == 0);
  uint32_t n2[1] = {1000};
  CHECK(write_idx_header(lb, 1, n2, 1000) == 0);
  CHECK(nn_imageset_from_idx(ctx, im, lb, 10000, &s) == NN_EIO && check_has(ctx->err, "index"));
  CHECK(nn_imageset_from_idx(ctx, im, lb, 1000 + 1001 * 20 + 1000, &s) == 0);
  CHECK(s.n == 1000);
  nn_imageset_free(&s);
  CHECK(nn_imageset_from_idx(ctx, im, lb, 1000 + 1001 * 20 + 999, &s) == NN_EIO);
  CHECK(check_has(ctx->err, lb));                          /* the labels crossed it */
  CHECK(nn_imageset_from_idx(ctx, im, lb, 1, &s) == NN_EIO);   /* tiny limits: no wrap-around */
  CHECK(nn_imageset_from_idx(ctx, im, lb, 1000, &s) == NN_EIO);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(imageset_png_limits) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("dh")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t px[64 * 64 * 3];
  for (size_t k = 0; k < sizeof px; k++) px[k] = (uint8_t)(k * 13);
  char p[3][320];
  snprintf(p[0], sizeof p[0], "%s", check_tmppath("a.png"));
  snprintf(p[1], sizeof p[1], "%s", check_tmppath("b.png"));
  snprintf(p[2], sizeof p[2], "%s", check_tmppath("c.png"));
  CHECK(nn_png_write(ctx, p[0], px, 64, 64, 1, NULL, 0) == 0);   /* grey */
  CHECK(nn_png_write(ctx, p[1], px, 64, 64, 3, NULL, 0) == 0);   /* RGB: all become RGB */
  CHECK(nn_png_write(ctx, p[2], px, 32, 64, 1, NULL, 0) == 0);
  nn_image info;
  CHECK(nn_png_info(ctx, p[1], &info) == 0 && info.h == 64 && info.w == 64 && info.c == 3);
  CHECK(info.data == NULL);
  const char *paths[3] = {p[0], p[1], p[2]};
  int32_t labels[3] = {0, 1, 1};
  size_t need = (64 * 64 + 64 * 64 + 32 * 64) * 3 + 4 * 20;
  nn_imageset s;
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 3, need, &s) == 0);
  CHECK(s.c == 3 && s.n == 3 && s.h == 0 && (size_t)s.offset[3] == need - 80);
  if (s.pixels) CHECK(s.pixels[0] == 0 && s.pixels[1] == 0 && s.pixels[3] == 13);   /* grey spread */
  nn_imageset_free(&s);
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 3, need - 1, &s) == NN_EIO);
  CHECK(check_has(ctx->err, "c.png") && check_has(ctx->err, "max_bytes"));
  CHECK(s.pixels == NULL && s.n == 0);
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 3, 10, &s) == NN_EIO);   /* below the index */
  CHECK(nn_imageset_from_pngs(ctx, paths, labels, 2, 64 * 64 * 3, &s) == NN_EIO);
  CHECK(check_has(ctx->err, "b.png"));                    /* the RGB one crossed it */
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- exact indices ---- */

TEST(index_randperm_matches_float) {
  nn_rng a, b;
  nn_rng_seed(&a, 42);
  nn_rng_seed(&b, 42);
  int64_t n = 1000;
  int64_t *x = malloc((size_t)n * sizeof *x);
  float *f = malloc((size_t)n * sizeof *f);
  nn_index_randperm(&a, x, n);
  nn_rng_randperm(&b, f, (size_t)n);
  int same = 1, seen = 0;
  for (int64_t k = 0; k < n; k++) { same &= x[k] == (int64_t)f[k]; seen += x[k] >= 1 && x[k] <= n; }
  CHECK(same && seen == n);
  free(x);
  free(f);
}
