/* test_png.c -- nn_png_read / nn_png_read_mem / nn_png_write: round trips of
 * gray, gray+alpha, RGB and RGBA; the fixture PNGs of tests/fixtures/png
 * (palette with tRNS, 1/2/4/16-bit gray, 16-bit RGBA, gray+alpha, Adam7
 * interlaced; made by gen_png.py) against the formulas that made them; every
 * kind of bad file (missing, a folder, not a PNG, truncated at every length,
 * flipped bytes, bad CRC, bad zlib data, too large); writing errors (bad
 * arguments, unwritable path, a write failing midway) leaving no temporary
 * file; deterministic bytes and tEXt chunks. Files go to a mkdtemp folder
 * removed at the end of each test; fixtures are read from the repository root. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <limits.h>
#include "check.h"
#include "nn/io/png.h"

#define FIX "tests/fixtures/png/"

/* ---- helpers ---- */

/* Entries of dir other than . and .. */
static int count_entries(const char *dir) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!dp) return -1;
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(dp);
  return n;
}

static int is_empty(const nn_image *im) {
  return im->data == NULL && im->h == 0 && im->w == 0 && im->c == 0;
}

/* Reads p, expecting failure with code and a message naming p and sub. */
static void expect_fail(nn_ctx *ctx, const char *p, int code, const char *sub) {
  nn_image im;
  memset(&im, 0xAB, sizeof im);
  int rc = nn_png_read(ctx, p, &im);
  CHECK(rc == code);
  CHECK(is_empty(&im));
  CHECK(check_has(ctx->err, p));
  if (sub) CHECK(check_has(ctx->err, sub));
  nn_image_free(&im);
}

/* The same from memory, under the name "mem.png". */
static void expect_fail_mem(nn_ctx *ctx, const uint8_t *b, size_t n, int code, const char *sub) {
  nn_image im;
  memset(&im, 0xAB, sizeof im);
  int rc = nn_png_read_mem(ctx, b, n, "mem.png", &im);
  CHECK(rc == code);
  CHECK(is_empty(&im));
  CHECK(check_has(ctx->err, "mem.png"));
  if (sub) CHECK(check_has(ctx->err, sub));
  nn_image_free(&im);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Offset of the first chunk of the given type in a PNG of n bytes, or 0. */
static size_t find_chunk(const uint8_t *b, size_t n, const char *type) {
  for (size_t at = 8; at + 12 <= n; at += 12 + get32(b + at))
    if (memcmp(b + at + 4, type, 4) == 0) return at;
  return 0;
}

/* Recomputes the CRC of the chunk at offset at. */
static void fix_crc(uint8_t *b, size_t at) {
  uint32_t len = get32(b + at);
  put32(b + at + 8 + len, (uint32_t)crc32(0, b + at + 4, len + 4));
}

/* A test image: sample k of pixel (y, x) of c channels. */
static uint8_t sample(int y, int x, int k, int c) {
  return (uint8_t)(y * 31 + x * 7 + k * 50 + c);
}

static uint8_t *make_image(int h, int w, int c) {
  uint8_t *d = malloc((size_t)h * w * c);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) d[((size_t)y * w + x) * c + k] = sample(y, x, k, c);
  return d;
}

/* ---- round trips ---- */

TEST(png_roundtrip) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("png")) { CHECK(0); nn_ctx_free(ctx); return; }
  const int h = 5, w = 7, want_c[5] = {0, 1, 1, 3, 3};
  for (int c = 1; c <= 4; c++) {
    uint8_t *d = make_image(h, w, c);
    char name[32];
    snprintf(name, sizeof name, "rt%d.png", c);
    const char *p = check_tmppath(name);
    int rc = nn_png_write(ctx, p, d, h, w, c, NULL, 0);
    if (rc) fprintf(stderr, "  %s\n", ctx->err);
    CHECK(rc == 0);
    nn_image im;
    rc = nn_png_read(ctx, p, &im);
    if (rc) fprintf(stderr, "  %s\n", ctx->err);
    CHECK(rc == 0);
    CHECK(im.h == h && im.w == w && im.c == want_c[c]);
    int bad = 0;
    if (rc == 0)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          for (int k = 0; k < im.c; k++)
            bad += im.data[((size_t)y * w + x) * im.c + k] != sample(y, x, k, c);
    CHECK(bad == 0);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) != 0600);   /* not mkstemp's mode */
    nn_image_free(&im);
    CHECK(is_empty(&im));
    nn_image_free(&im);                                     /* twice is fine */
    free(d);
  }
  nn_image_free(NULL);
  CHECK(count_entries(check_tmpdir()) == 4);                        /* no temporary files left */
  /* overwriting replaces the file */
  uint8_t one = 200, two[2] = {1, 2};
  CHECK(nn_png_write(ctx, check_tmppath("rt1.png"), &one, 1, 1, 1, NULL, 0) == 0);
  nn_image im;
  CHECK(nn_png_read(ctx, check_tmppath("rt1.png"), &im) == 0);
  CHECK(im.h == 1 && im.w == 1 && im.c == 1 && im.data[0] == 200);
  nn_image_free(&im);
  CHECK(nn_png_write(ctx, check_tmppath("rt2.png"), two, 1, 1, 2, NULL, 0) == 0);
  CHECK(nn_png_read(ctx, check_tmppath("rt2.png"), &im) == 0);
  CHECK(im.h == 1 && im.w == 1 && im.c == 1 && im.data[0] == 1);
  nn_image_free(&im);
  CHECK(count_entries(check_tmpdir()) == 4);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- the fixtures of gen_png.py ---- */

typedef struct { int v[3]; } px;
static const int PAL[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};

static px f_pal_trns(int x, int y) {
  const int *p = PAL[(x + y) % 4];
  return (px){{p[0], p[1], p[2]}};
}
static px f_pal4(int x, int y) { int i = (3 * x + y) % 16; return (px){{16 * i, 255 - 16 * i, i}}; }
static px f_gray16(int x, int y) { return (px){{40 * x + 100 * y}}; }
static px f_rgba16(int x, int y) { return (px){{200 * x + 10, 200 * y + 20, 100 * (x + y)}}; }
static px f_gray1(int x, int y) { return (px){{(x + y) % 3 == 0 ? 255 : 0}}; }
static px f_gray2(int x, int y) { return (px){{85 * ((x + y) % 4)}}; }
static px f_gray4(int x, int y) { return (px){{17 * ((3 * x + y) % 16)}}; }
static px f_gray_alpha(int x, int y) { return (px){{50 * x + y}}; }
static px f_rgb_interlaced(int x, int y) { return (px){{25 * x, 35 * y, 13 * (x + y)}}; }
static px f_gray16_interlaced(int x, int y) { return (px){{10 * x + 40 * y}}; }

static const struct {
  const char *file;
  int h, w, c;
  px (*f)(int x, int y);
} fixtures[] = {
  {"pal_trns.png", 3, 4, 3, f_pal_trns},
  {"pal4.png", 2, 5, 3, f_pal4},
  {"gray16.png", 2, 3, 1, f_gray16},
  {"rgba16.png", 2, 2, 3, f_rgba16},
  {"gray1.png", 3, 10, 1, f_gray1},
  {"gray2.png", 2, 5, 1, f_gray2},
  {"gray4.png", 2, 5, 1, f_gray4},
  {"gray_alpha.png", 2, 3, 1, f_gray_alpha},
  {"rgb_interlaced.png", 7, 9, 3, f_rgb_interlaced},
  {"gray16_interlaced.png", 5, 5, 1, f_gray16_interlaced},
};
#define NFIX (int)(sizeof fixtures / sizeof fixtures[0])

static int check_fixture(const nn_image *im, int i) {
  int bad = 0;
  if (im->h != fixtures[i].h || im->w != fixtures[i].w || im->c != fixtures[i].c) {
    fprintf(stderr, "  %s: got %dx%dx%d\n", fixtures[i].file, im->h, im->w, im->c);
    return 0;
  }
  for (int y = 0; y < im->h; y++)
    for (int x = 0; x < im->w; x++) {
      px want = fixtures[i].f(x, y);
      for (int k = 0; k < im->c; k++) {
        int got = im->data[((size_t)y * im->w + x) * im->c + k];
        if (got != want.v[k] && bad++ < 3)
          fprintf(stderr, "  %s (%d, %d)[%d]: got %d, want %d\n", fixtures[i].file, y, x, k,
                  got, want.v[k]);
      }
    }
  return bad == 0;
}

TEST(png_fixtures) {
  nn_ctx *ctx = nn_ctx_new();
  for (int i = 0; i < NFIX; i++) {
    char p[128];
    uint8_t buf[4096];
    snprintf(p, sizeof p, FIX "%s", fixtures[i].file);
    nn_image im;
    int rc = nn_png_read(ctx, p, &im);
    if (rc) fprintf(stderr, "  %s\n", ctx->err);
    CHECK(rc == 0);
    CHECK(check_fixture(&im, i));
    nn_image_free(&im);
    size_t n = check_read_file(p, buf, sizeof buf);                   /* the same from memory */
    CHECK(n > 8 && n < sizeof buf);
    rc = nn_png_read_mem(ctx, buf, n, p, &im);
    CHECK(rc == 0);
    CHECK(check_fixture(&im, i));
    nn_image_free(&im);
  }
  nn_ctx_free(ctx);
}

/* ---- bad files ---- */

TEST(png_bad_files) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("png")) { CHECK(0); nn_ctx_free(ctx); return; }
  nn_image im;

  expect_fail(ctx, check_tmppath("no-such-file.png"), NN_EIO, strerror(ENOENT));
  CHECK(check_has(ctx->err, "cannot open"));
  expect_fail(ctx, check_tmpdir(), NN_EIO, "it is a directory, not a regular file");     /* a folder */

  const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";
  CHECK(check_write_file(check_tmppath("gif.png"), gif, sizeof gif - 1) == 0);
  expect_fail(ctx, check_tmppath("gif.png"), NN_EIO, "not a PNG file");
  CHECK(check_has(ctx->err, "47 49 46 38 39 61 01 00"));
  CHECK(check_has(ctx->err, "GIF89a"));
  CHECK(check_has(ctx->err, "89 50 4e 47"));
  CHECK(check_write_file(check_tmppath("ab.png"), (const uint8_t *)"ab", 2) == 0);
  expect_fail(ctx, check_tmppath("ab.png"), NN_EIO, "starts with bytes 61 62 (");
  CHECK(check_write_file(check_tmppath("empty.png"), gif, 0) == 0);
  expect_fail(ctx, check_tmppath("empty.png"), NN_EIO, "empty");
  expect_fail_mem(ctx, gif, 6, NN_EIO, "not a PNG file");
  expect_fail_mem(ctx, NULL, 0, NN_EIO, "empty");

  /* a header claiming a huge image: refused before anything is allocated */
  uint8_t b[4096];
  size_t n = check_read_file(FIX "gray16.png", b, sizeof b);
  CHECK(n > 33);
  uint32_t sizes[][2] = {{70000, 1}, {1, 65537}, {65536, 65536}, {0x7fffffff, 0x7fffffff}};
  for (int i = 0; i < 4; i++) {
    put32(b + 16, sizes[i][0]);
    put32(b + 20, sizes[i][1]);
    fix_crc(b, 8);
    expect_fail_mem(ctx, b, n, NN_EIO, "image too large");
  }
  put32(b + 16, 0);                                       /* width 0: libpng's own check */
  fix_crc(b, 8);
  expect_fail_mem(ctx, b, n, NN_EIO, "bad PNG data");
  CHECK(check_has(ctx->err, "width"));

  /* a bad CRC, in the header and in the image data */
  n = check_read_file(FIX "rgb_interlaced.png", b, sizeof b);
  b[20] ^= 1;
  CHECK(check_write_file(check_tmppath("crc.png"), b, n) == 0);
  expect_fail(ctx, check_tmppath("crc.png"), NN_EIO, "CRC");
  b[20] ^= 1;
  size_t idat = find_chunk(b, n, "IDAT");
  CHECK(idat > 0);
  b[idat + 8 + get32(b + idat) + 2] ^= 0x10;               /* in the CRC itself */
  expect_fail_mem(ctx, b, n, NN_EIO, "CRC");
  b[idat + 8 + get32(b + idat) + 2] ^= 0x10;

  /* bad zlib data with a right CRC */
  b[idat + 8] = 0x78 + 1;                                  /* zlib header check fails */
  fix_crc(b, idat);
  expect_fail_mem(ctx, b, n, NN_EIO, "bad PNG data");
  CHECK(check_has(ctx->err, "IDAT"));
  check_read_file(FIX "rgb_interlaced.png", b, sizeof b);
  memset(b + idat + 8 + 2, 0xFF, 12);                      /* bad deflate blocks */
  fix_crc(b, idat);
  expect_fail_mem(ctx, b, n, NN_EIO, "IDAT");

  /* found by fuzz_png: a tEXt chunk declaring 1.6 GB in a file of 41 bytes (libpng
   * would malloc the declared length first; png.c has it skip such chunks) */
  static const uint8_t text_bomb[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x04\0\0\0\x03"
                                     "\x08\x03\0\0\0\x83*^\xf4" "cHRMtEXt";
  expect_fail_mem(ctx, text_bomb, sizeof text_bomb - 1, NN_EIO, "truncated PNG");

  CHECK(nn_png_read(ctx, NULL, &im) == NN_EARG && is_empty(&im));
  CHECK(nn_png_read(ctx, FIX "gray1.png", NULL) == NN_EARG);
  CHECK(nn_png_read_mem(ctx, NULL, 10, NULL, &im) == NN_EARG && is_empty(&im));
  CHECK(nn_png_read_mem(ctx, gif, 6, NULL, &im) == NN_EIO && check_has(ctx->err, "<memory>"));
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* Truncated at every length: an error naming the file, never a crash or leak. */
static int truncations(nn_ctx *ctx, const uint8_t *b, size_t n, const char *file) {
  int fails = 0;
  for (size_t k = 0; k < n; k++) {
    nn_image im;
    memset(&im, 0xAB, sizeof im);
    int rc = file ? (check_write_file(file, b, k), nn_png_read(ctx, file, &im))
                  : nn_png_read_mem(ctx, b, k, "mem.png", &im);
    int ok = rc == NN_EIO && is_empty(&im) && check_has(ctx->err, file ? file : "mem.png") &&
             check_has(ctx->err, k ? "truncated PNG" : "empty");
    if (!ok && fails++ < 3) fprintf(stderr, "  truncated at %zu: rc %d: %s\n", k, rc, ctx->err);
    nn_image_free(&im);
  }
  return fails == 0;
}

TEST(png_truncated) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("png")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t b[4096];
  size_t n = check_read_file(FIX "rgb_interlaced.png", b, sizeof b);
  CHECK(n > 100);
  CHECK(truncations(ctx, b, n, NULL));
  CHECK(truncations(ctx, b, n, check_tmppath("t.png")));
  n = check_read_file(FIX "pal_trns.png", b, sizeof b);
  CHECK(truncations(ctx, b, n, NULL));
  /* one written by nn_png_write, with text chunks */
  uint8_t *d = make_image(3, 4, 4);
  const char *kv[] = {"Title", "truncated"};
  CHECK(nn_png_write(ctx, check_tmppath("w.png"), d, 3, 4, 4, kv, 1) == 0);
  n = check_read_file(check_tmppath("w.png"), b, sizeof b);
  CHECK(truncations(ctx, b, n, NULL));
  free(d);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* Each byte of IDAT flipped (with the CRC fixed, so zlib sees it): an error
 * or a valid image of the right size, never a crash. */
TEST(png_flipped_bytes) {
  nn_ctx *ctx = nn_ctx_new();
  const char *files[] = {FIX "rgb_interlaced.png", FIX "gray1.png", FIX "pal4.png"};
  int bad = 0, errors = 0, images = 0;
  for (int f = 0; f < 3; f++) {
    uint8_t orig[4096], b[4096];
    size_t n = check_read_file(files[f], orig, sizeof orig), idat = find_chunk(orig, n, "IDAT");
    CHECK(idat > 0);
    uint32_t len = get32(orig + idat);
    for (uint32_t i = 0; i < len; i++)
      for (int fix = 0; fix < 2; fix++) {
        memcpy(b, orig, n);
        b[idat + 8 + i] ^= (uint8_t)(0x01 << (i % 8)) | 0x80;
        if (fix) fix_crc(b, idat);
        nn_image im;
        int rc = nn_png_read_mem(ctx, b, n, "flip.png", &im);
        if (rc == 0) {
          images++;
          bad += !(im.data && im.h > 0 && im.w > 0 && (im.c == 1 || im.c == 3));
        } else {
          errors++;
          bad += !(rc == NN_EIO && is_empty(&im) && strstr(ctx->err, "flip.png"));
        }
        nn_image_free(&im);
      }
  }
  CHECK(bad == 0);
  CHECK(errors > 0);
  nn_ctx_free(ctx);
}

/* ---- writing ---- */

/* Writes to p expecting failure with code and sub in the message; nothing may
 * be left in the (empty) test folder. */
static void expect_write_fail(nn_ctx *ctx, const char *p, const uint8_t *d, int h, int w,
                              int c, const char *const *kv, int ntext, int code,
                              const char *sub) {
  int rc = nn_png_write(ctx, p, d, h, w, c, kv, ntext);
  CHECK(rc == code);
  if (p) CHECK(check_has(ctx->err, p));
  if (sub) CHECK(check_has(ctx->err, sub));
  CHECK(count_entries(check_tmpdir()) == 0);
}

TEST(png_write_errors) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("png")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t *d = make_image(64, 64, 3);
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", check_tmppath("x.png"));
  /* a missing folder is made (API.md, "Files"); one that cannot be made is an error */
  char longdir[512];
  snprintf(longdir, sizeof longdir, "%s/%0300d/x.png", check_tmpdir(), 0);
  expect_write_fail(ctx, longdir, d, 2, 2, 3, NULL, 0, NN_EIO, strerror(ENAMETOOLONG));
  CHECK(check_has(ctx->err, "cannot write"));
  expect_write_fail(ctx, p, d, 2, 2, 5, NULL, 0, NN_EARG, "5 channels");
  expect_write_fail(ctx, p, d, 2, 2, 0, NULL, 0, NN_EARG, "0 channels");
  expect_write_fail(ctx, p, d, 0, 2, 3, NULL, 0, NN_EARG, "0x2");
  expect_write_fail(ctx, p, d, 2, -1, 3, NULL, 0, NN_EARG, "2x-1");
  expect_write_fail(ctx, p, d, 70000, 1, 1, NULL, 0, NN_EARG, "70000x1");
  expect_write_fail(ctx, p, d, 40000, 40000, 1, NULL, 0, NN_EARG, "40000x40000");
  expect_write_fail(ctx, p, NULL, 2, 2, 3, NULL, 0, NN_EARG, "data is NULL");
  expect_write_fail(ctx, p, d, 2, 2, 3, NULL, 1, NN_EARG, "text");
  expect_write_fail(ctx, p, d, 2, 2, 3, NULL, -1, NN_EARG, "text");
  const char *empty[] = {"", "v"}, *nullv[] = {"k", NULL};
  const char *long_key[] = {"0123456789012345678901234567890123456789"
                            "0123456789012345678901234567890123456789", "v"};
  const char *blank[] = {"   ", "v"};
  expect_write_fail(ctx, p, d, 2, 2, 3, empty, 1, NN_EARG, "0 characters");
  expect_write_fail(ctx, p, d, 2, 2, 3, long_key, 1, NN_EARG, "80 characters");
  expect_write_fail(ctx, p, d, 2, 2, 3, nullv, 1, NN_EARG, "NULL value");
  expect_write_fail(ctx, p, d, 2, 2, 3, blank, 1, NN_EARG, "keyword");   /* libpng refuses it */
  CHECK(nn_png_write(ctx, NULL, d, 2, 2, 3, NULL, 0) == NN_EARG);

  if (geteuid() != 0) {                                   /* root writes anywhere */
    CHECK(mkdir(check_tmppath("ro"), 0555) == 0);
    CHECK(nn_png_write(ctx, check_tmppath("ro/x.png"), d, 2, 2, 3, NULL, 0) == NN_EIO);
    CHECK(check_has(ctx->err, "ro/x.png") && check_has(ctx->err, strerror(EACCES)));
    CHECK(count_entries(check_tmppath("ro")) == 0);
    rmdir(check_tmppath("ro"));
  }

  /* a write failing midway (file size limit): an error, and no file at all */
  uint32_t r = 1;
  for (int i = 0; i < 64 * 64 * 3; i++) d[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 24);
  struct rlimit old, lim;
  void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
  CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
  lim = old;
  lim.rlim_cur = 1000;
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  int rc = nn_png_write(ctx, p, d, 64, 64, 3, NULL, 0);   /* 12 KB of noise */
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, oldsig);
  CHECK(rc == NN_EIO);
  CHECK(check_has(ctx->err, p) && check_has(ctx->err, strerror(EFBIG)));
  CHECK(count_entries(check_tmpdir()) == 0);
  free(d);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

static int contains(const uint8_t *b, size_t n, const void *s, size_t len) {
  for (size_t i = 0; i + len <= n; i++)
    if (memcmp(b + i, s, len) == 0) return 1;
  return 0;
}

TEST(png_deterministic_text) {
  nn_ctx *ctx = nn_ctx_new();
  if (!check_mktmp("png")) { CHECK(0); nn_ctx_free(ctx); return; }
  uint8_t *d = make_image(9, 11, 4);
  const char *kv[] = {"Title", "loss curve", "Software", "nnlua", "Comment", ""};
  uint8_t a[8192], b[8192];
  CHECK(nn_png_write(ctx, check_tmppath("a.png"), d, 9, 11, 4, kv, 3) == 0);
  CHECK(nn_png_write(ctx, check_tmppath("b.png"), d, 9, 11, 4, kv, 3) == 0);
  size_t na = check_read_file(check_tmppath("a.png"), a, sizeof a), nb = check_read_file(check_tmppath("b.png"), b, sizeof b);
  CHECK(na > 0 && na == nb && memcmp(a, b, na) == 0);
  CHECK(contains(a, na, "tEXtTitle\0loss curve", 20));
  CHECK(contains(a, na, "tEXtSoftware\0nnlua", 18));
  CHECK(contains(a, na, "tEXtComment\0", 12));
  CHECK(!contains(a, na, "tIME", 4));
  CHECK(find_chunk(a, na, "tEXt") > 0 && find_chunk(a, na, "tEXt") < find_chunk(a, na, "IDAT"));
  nn_image im;
  CHECK(nn_png_read(ctx, check_tmppath("a.png"), &im) == 0);       /* text chunks are skipped */
  CHECK(im.h == 9 && im.w == 11 && im.c == 3);
  nn_image_free(&im);
  CHECK(count_entries(check_tmpdir()) == 2);
  free(d);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}
