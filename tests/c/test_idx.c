/* test_idx.c -- nn_idx_read / nn_idx_check_pair: plain and gzip round-trips
 * (gzip found by name and by magic), every kind of bad file (missing, wrong
 * magic, other types, bad ndim and sizes, truncated at every length plain and
 * gzipped, trailing bytes, corrupted gzip), and the real FashionMNIST t10k
 * files when Debian's dataset-fashion-mnist is installed. Files go to a
 * mkdtemp folder that is removed at the end of each test. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "nn/io/idx.h"

/* ---- helpers ---- */

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Builds an IDX image in buf: magic, ndim sizes, then prod(dims) bytes i*7+1.
 * Returns its length. */
static size_t build(uint8_t *buf, uint32_t magic, int ndim, const uint32_t *dims) {
  size_t n = 1, len = 4;
  put32(buf, magic);
  for (int i = 0; i < ndim; i++, len += 4) { put32(buf + len, dims[i]); n *= dims[i]; }
  for (size_t i = 0; i < n; i++) buf[len + i] = (uint8_t)(i * 7 + 1);
  return len + n;
}

static int write_gz(const char *p, const uint8_t *b, size_t len) {
  gzFile g = gzopen(p, "wb9");
  if (!g) return -1;
  int w = len ? gzwrite(g, b, (unsigned)len) : 0;
  return (gzclose(g) == Z_OK && w == (int)len) ? 0 : -1;
}

static int is_empty(const nn_idx *x) {
  return x->data == NULL && x->ndim == 0 && x->n == 0 && x->dims[0] == 0;
}

/* Reads p, expecting failure with code and a message naming p and sub. */
static void expect_fail(nn_ctx *ctx, const char *p, int code, const char *sub) {
  nn_idx x;
  memset(&x, 0xAB, sizeof x);
  int rc = nn_idx_read(ctx, p, &x);
  CHECK(rc == code);
  CHECK(is_empty(&x));
  CHECK(check_has(ctx->err, p));
  if (sub) CHECK(check_has(ctx->err, sub));
  nn_idx_free(&x);
}

/* ---- round-trips ---- */

static void roundtrip(nn_ctx *ctx, const char *name, int gz, int ndim, const uint32_t *dims) {
  uint8_t buf[512];
  size_t len = build(buf, 0x0800u | (uint32_t)ndim, ndim, dims), hl = 4 + 4 * (size_t)ndim;
  const char *p = check_tmppath(name);
  CHECK((gz ? write_gz(p, buf, len) : check_write_file(p, buf, len)) == 0);
  nn_idx x;
  int rc = nn_idx_read(ctx, p, &x);
  if (rc) fprintf(stderr, "  %s\n", ctx->err);
  CHECK(rc == 0);
  CHECK(x.ndim == ndim);
  CHECK(x.n == len - hl);
  for (int i = 0; i < ndim; i++) CHECK(x.dims[i] == (int64_t)dims[i]);
  for (int i = ndim; i < NN_IDX_MAXDIM; i++) CHECK(x.dims[i] == 0);
  CHECK(x.data && memcmp(x.data, buf + hl, x.n) == 0);
  nn_idx_free(&x);
  CHECK(is_empty(&x));
  nn_idx_free(&x);                    /* twice is fine */
  nn_idx_free(NULL);
}

TEST(idx_roundtrip) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("idx")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint32_t img[3] = {2, 3, 4}, lab[1] = {5}, d2[2] = {3, 1}, d4[4] = {2, 1, 3, 2};
  roundtrip(ctx, "img-idx3-ubyte", 0, 3, img);
  roundtrip(ctx, "img-idx3-ubyte.gz", 1, 3, img);
  roundtrip(ctx, "img-gzip-without-suffix", 1, 3, img);   /* found by the 1f 8b magic */
  roundtrip(ctx, "lab-idx1-ubyte", 0, 1, lab);
  roundtrip(ctx, "lab-idx1-ubyte.gz", 1, 1, lab);
  roundtrip(ctx, "d2", 0, 2, d2);
  roundtrip(ctx, "d4.gz", 1, 4, d4);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- bad headers ---- */

TEST(idx_bad_header) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("idx")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t buf[512] = {0};
  uint32_t d3[3] = {2, 2, 2};
  size_t len;
  nn_idx x;

  expect_fail(ctx, check_tmppath("no-such-file"), NN_EIO, strerror(ENOENT));
  expect_fail(ctx, check_tmpdir(), NN_EIO, NULL);                 /* a folder */

  len = build(buf, 0x12345678u, 0, NULL);
  CHECK(check_write_file(check_tmppath("magic"), buf, len) == 0);
  expect_fail(ctx, check_tmppath("magic"), NN_EIO, "0x12345678");
  CHECK(check_has(ctx->err, "0x00000803"));
  CHECK(write_gz(check_tmppath("magic.gz"), buf, len) == 0);
  expect_fail(ctx, check_tmppath("magic.gz"), NN_EIO, "0x12345678");

  len = build(buf, 0x00000D03u, 3, d3);                   /* float32 */
  CHECK(check_write_file(check_tmppath("float"), buf, len) == 0);
  expect_fail(ctx, check_tmppath("float"), NN_EIO, "0x0d");
  CHECK(check_has(ctx->err, "float32"));
  CHECK(check_has(ctx->err, "uint8"));

  len = build(buf, 0x00000800u, 0, NULL);
  CHECK(check_write_file(check_tmppath("ndim0"), buf, len + 4) == 0);
  expect_fail(ctx, check_tmppath("ndim0"), NN_EIO, "0 dimensions");
  len = build(buf, 0x00000805u, 0, NULL);
  CHECK(check_write_file(check_tmppath("ndim5"), buf, 64) == 0);
  expect_fail(ctx, check_tmppath("ndim5"), NN_EIO, "5 dimensions");

  uint32_t z[3] = {2, 0, 2};
  len = build(buf, 0x00000803u, 3, z);
  CHECK(check_write_file(check_tmppath("dim0"), buf, len) == 0);
  expect_fail(ctx, check_tmppath("dim0"), NN_EIO, "dimension 2 has size 0");

  uint32_t huge[3] = {65536, 65536, 3};                   /* 3 * 2^32 bytes */
  memset(buf, 0, 16);
  put32(buf, 0x00000803u);
  for (int i = 0; i < 3; i++) put32(buf + 4 + 4 * i, huge[i]);
  CHECK(check_write_file(check_tmppath("huge"), buf, 16 + 10) == 0);
  expect_fail(ctx, check_tmppath("huge"), NN_EIO, "too large");
  put32(buf + 4, 0xFFFFFFFFu); put32(buf + 8, 0xFFFFFFFFu); put32(buf + 12, 0xFFFFFFFFu);
  CHECK(check_write_file(check_tmppath("huge2"), buf, 16) == 0);
  expect_fail(ctx, check_tmppath("huge2"), NN_EIO, "too large");

  CHECK(nn_idx_read(ctx, NULL, &x) == NN_EARG && is_empty(&x));
  CHECK(nn_idx_read(ctx, check_tmppath("dim0"), NULL) == NN_EARG);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- truncation, trailing bytes, corrupted gzip ---- */

TEST(idx_truncated) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("idx")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t buf[512], gz[1024];
  uint32_t d3[3] = {3, 2, 5};
  size_t len = build(buf, 0x00000803u, 3, d3);            /* 16 + 30 bytes */
  const char *p = check_tmppath("t");
  int fails = 0;
  for (size_t k = 0; k < len; k++) {
    CHECK(check_write_file(p, buf, k) == 0);
    expect_fail(ctx, p, NN_EIO, "truncated");
    if (k < 16) fails += !check_has(ctx->err, "header");
    else {
      char want[96];
      snprintf(want, sizeof want, "expected 30 bytes, got %zu", k - 16);
      fails += !check_has(ctx->err, want);
    }
  }
  CHECK(fails == 0);
  CHECK(check_write_file(p, buf, 3) == 0);
  expect_fail(ctx, p, NN_EIO, "expected at least 4 bytes, got 3");
  CHECK(check_write_file(p, buf, 9) == 0);
  expect_fail(ctx, p, NN_EIO, "expected 16 bytes, got 9");

  /* gzip of the whole file, cut at every length; and gzip of a cut file */
  const char *pg = check_tmppath("t.gz");
  CHECK(write_gz(pg, buf, len) == 0);
  size_t glen = check_read_file(pg, gz, sizeof gz);
  CHECK(glen > 18);
  for (size_t k = 0; k < glen; k++) {
    CHECK(check_write_file(pg, gz, k) == 0);
    expect_fail(ctx, pg, NN_EIO, NULL);
  }
  for (size_t k = 0; k < len; k++) {
    CHECK(write_gz(pg, buf, k) == 0);
    expect_fail(ctx, pg, NN_EIO, "truncated");
  }
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(idx_trailing_and_corrupt) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("idx")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t buf[512], gz[1024], bad[1024];
  uint32_t d1[1] = {40};
  size_t len = build(buf, 0x00000801u, 1, d1);
  buf[len] = 0;
  CHECK(check_write_file(check_tmppath("tr"), buf, len + 1) == 0);
  expect_fail(ctx, check_tmppath("tr"), NN_EIO, "trailing");
  CHECK(write_gz(check_tmppath("tr.gz"), buf, len + 1) == 0);
  expect_fail(ctx, check_tmppath("tr.gz"), NN_EIO, "trailing");

  const char *pg = check_tmppath("c.gz");
  CHECK(write_gz(pg, buf, len) == 0);
  size_t glen = check_read_file(pg, gz, sizeof gz);
  CHECK(glen > 20);
  /* 2: compression method; 10, 11: deflate body; last 8: CRC32 and size */
  size_t at[] = {2, 10, 11, glen / 2, glen - 8, glen - 5, glen - 1};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    memcpy(bad, gz, glen);
    bad[at[i]] ^= 0x5A;
    CHECK(check_write_file(pg, bad, glen) == 0);
    expect_fail(ctx, pg, NN_EIO, NULL);
  }
  memcpy(bad, gz, glen);
  bad[glen - 8] ^= 1;                                     /* CRC only: zlib says so */
  CHECK(check_write_file(pg, bad, glen) == 0);
  expect_fail(ctx, pg, NN_EIO, "incorrect data check");
  memcpy(bad, gz, glen);
  bad[2] = 7;
  CHECK(check_write_file(pg, bad, glen) == 0);
  expect_fail(ctx, pg, NN_EIO, "unknown compression method");
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- pairs ---- */

TEST(idx_check_pair) {
  nn_ctx *ctx = nn_ctx_new();
  nn_idx img = {NULL, 3, {10, 28, 28, 0}, 7840}, lab = {NULL, 1, {10, 0, 0, 0}, 10};
  CHECK(nn_idx_check_pair(ctx, &img, &lab) == 0);
  lab.dims[0] = 9;
  CHECK(nn_idx_check_pair(ctx, &img, &lab) == NN_EARG);
  CHECK(check_has(ctx->err, "10 images") && check_has(ctx->err, "9 labels"));
  CHECK(nn_idx_check_pair(ctx, &lab, &lab) == NN_EARG);
  CHECK(check_has(ctx->err, "3-d") && check_has(ctx->err, "got 1-d"));
  CHECK(nn_idx_check_pair(ctx, &img, &img) == NN_EARG);
  CHECK(check_has(ctx->err, "1-d") && check_has(ctx->err, "got 3-d"));
  CHECK(nn_idx_check_pair(ctx, NULL, &lab) == NN_EARG);
  nn_ctx_free(ctx);
}

/* ---- the real dataset ---- */

#define FMNIST "/usr/share/datasets/fashion-mnist"

TEST(idx_fashion_mnist) {
  if (access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) != 0 ||
      access(FMNIST "/t10k-labels-idx1-ubyte.gz", R_OK) != 0) {
    printf("  note: %s t10k files not found (dataset-fashion-mnist); skipped\n", FMNIST);
    return;
  }
  nn_ctx *ctx = nn_ctx_new();
  nn_idx img, lab;
  int ri = nn_idx_read(ctx, FMNIST "/t10k-images-idx3-ubyte.gz", &img);
  if (ri) fprintf(stderr, "  %s\n", ctx->err);
  int rl = nn_idx_read(ctx, FMNIST "/t10k-labels-idx1-ubyte.gz", &lab);
  if (rl) fprintf(stderr, "  %s\n", ctx->err);
  CHECK(ri == 0 && rl == 0);
  if (ri == 0 && rl == 0) {
    CHECK(img.ndim == 3 && img.dims[0] == 10000 && img.dims[1] == 28 && img.dims[2] == 28);
    CHECK(img.n == 10000u * 28 * 28);
    CHECK(lab.ndim == 1 && lab.dims[0] == 10000 && lab.n == 10000);
    CHECK(nn_idx_check_pair(ctx, &img, &lab) == 0);
    int count[10] = {0}, bad = 0;
    for (size_t i = 0; i < lab.n; i++) {
      if (lab.data[i] > 9) bad++;
      else count[lab.data[i]]++;
    }
    CHECK(bad == 0);
    for (int c = 0; c < 10; c++) CHECK(count[c] == 1000);   /* t10k is balanced */
    uint8_t mx = 0;
    for (size_t i = 0; i < img.n; i++) if (img.data[i] > mx) mx = img.data[i];
    CHECK(mx == 255);
  }
  nn_idx_free(&img);
  nn_idx_free(&lab);
  nn_ctx_free(ctx);
}

/* A 16-byte file declaring 2 x 65536 x 65536 bytes (found by fuzz_idx) fails as
 * truncated after reading into a small buffer, not after allocating 8 GiB;
 * under ASan an 8 GiB malloc would exceed the default allocation limit. */
TEST(idx_huge_declared_size) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("idx") != NULL);
  const uint8_t bomb[16] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0};
  const char *p = check_tmppath("bomb.idx");
  CHECK(check_write_file(p, bomb, sizeof bomb) == 0);
  nn_idx x;
  CHECK(nn_idx_read(ctx, p, &x) == NN_EIO);
  CHECK(strstr(ctx->err, "truncated IDX data: expected 8589934592 bytes, got 0") != NULL);
  CHECK(x.data == NULL && x.n == 0);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}
