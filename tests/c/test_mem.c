/* test_mem.c -- nn/mem.c, the counted allocations: the one total (tensor
 * storage included), sizes that overflow, and the --max-memory gate's answer
 * before each allocation, with what asked in the message, for the readers
 * and figures that allocate through it. The limit is process-wide: each test
 * sets it from the bytes live when it starts and sets it back to none. */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "nn/mem.h"
#include "nn/tensor.h"
#include "nn/io/gate.h"
#include "nn/io/png.h"
#include "nn/io/csv.h"
#include "nn/io/idx.h"
#include "nn/plot/canvas.h"

#define MiB ((size_t)1 << 20)

TEST(mem_counts_every_block) {
  nn_ctx *ctx = nn_ctx_new();
  size_t base = nn_mem_live_bytes();
  CHECK(nn_storage_live_bytes() == base);              /* one total */
  char *p = nn_mem_alloc(ctx, 1000, "a test");
  CHECK(p && nn_mem_live_bytes() == base + 1000 && nn_mem_bytes(p) == 1000);
  memset(p, 7, 1000);
  char *q = nn_mem_realloc(ctx, p, 5000, "a test");
  CHECK(q && nn_mem_live_bytes() == base + 5000 && q[999] == 7);
  q = nn_mem_realloc(ctx, q, 10, "a test");            /* shrinking gives back */
  CHECK(q && nn_mem_live_bytes() == base + 10 && q[9] == 7);
  nn_mem_free(q);
  CHECK(nn_mem_live_bytes() == base);
  int *z = nn_mem_calloc(ctx, 100, sizeof *z, "a test");
  int zero = 1;
  for (int k = 0; z && k < 100; k++) zero &= z[k] == 0;
  CHECK(z && zero && nn_mem_live_bytes() == base + 100 * sizeof *z);
  nn_mem_free(z);
  void *none = nn_mem_alloc(ctx, 0, "nothing");
  CHECK(none != NULL && nn_mem_live_bytes() == base);
  nn_mem_free(none);
  nn_mem_free(NULL);
  int64_t shape[2] = {100, 10};
  nn_tensor *t = nn_tensor_empty(ctx, 2, shape);       /* storage is in the same total */
  CHECK(t && nn_mem_live_bytes() == base + 4000);
  nn_tensor_free(t);
  CHECK(nn_mem_live_bytes() == base);
  CHECK(nn_mem_charge(ctx, 12345, "cairo's pixels") == 0 && nn_mem_live_bytes() == base + 12345);
  nn_mem_uncharge(12345);
  CHECK(nn_mem_live_bytes() == base);
  nn_ctx_free(ctx);
}

TEST(mem_sizes_that_overflow) {
  nn_ctx *ctx = nn_ctx_new();
  size_t base = nn_mem_live_bytes(), bytes = 0;
  CHECK(nn_mem_calloc(ctx, SIZE_MAX / 2, 4, "the rows of %s", "x.csv") == NULL);
  CHECK(check_has(ctx->err, "size overflow") && check_has(ctx->err, "the rows of x.csv"));
  CHECK(nn_mem_alloc(ctx, SIZE_MAX - 4, "a block") == NULL && check_has(ctx->err, "size overflow"));
  CHECK(nn_mem_size(ctx, SIZE_MAX / 3, 4, &bytes, "the fields") == NN_ENOMEM);
  CHECK(check_has(ctx->err, "the fields"));
  CHECK(nn_mem_size(ctx, 3, 4, &bytes, "the fields") == 0 && bytes == 12);
  char *p = nn_mem_alloc(ctx, 16, "a block");
  CHECK(p && nn_mem_realloc(ctx, p, SIZE_MAX, "more") == NULL);   /* p is still the caller's */
  CHECK(nn_mem_bytes(p) == 16);
  nn_mem_free(p);
  CHECK(nn_mem_live_bytes() == base);
  nn_ctx_free(ctx);
}

TEST(mem_limit_refuses_with_what_asked) {
  nn_ctx *ctx = nn_ctx_new();
  size_t base = nn_mem_live_bytes();
  nn_gate_set_memory(base + 2 * MiB, NULL);
  char *a = nn_mem_alloc(ctx, MiB, "the first");
  CHECK(a != NULL);
  CHECK(nn_mem_alloc(ctx, 2 * MiB, "the images of %s", "train.idx") == NULL);
  CHECK(check_has(ctx->err, "memory limit of ") && check_has(ctx->err, "2 MiB asked for the "
        "images of train.idx") && check_has(ctx->err, "1 MiB in use") &&
        check_has(ctx->err, "--max-memory"));
  CHECK(nn_mem_live_bytes() == base + MiB);            /* nothing counted for a refusal */
  a[MiB - 1] = 9;
  CHECK(nn_mem_realloc(ctx, a, 3 * MiB, "more") == NULL && a[MiB - 1] == 9);
  CHECK(nn_mem_check(ctx, 2 * MiB, "a check") == NN_ENOMEM && check_has(ctx->err, "a check"));
  CHECK(nn_mem_check(ctx, MiB / 2, "a check") == 0 && nn_mem_live_bytes() == base + MiB);
  CHECK(nn_mem_charge(ctx, 2 * MiB, "a surface") == NN_ENOMEM && nn_mem_live_bytes() == base + MiB);
  int64_t shape[1] = {(int64_t)MiB};                  /* 4 MiB of floats */
  CHECK(nn_tensor_empty(ctx, 1, shape) == NULL && check_has(ctx->err, "asked for a tensor"));
  a = nn_mem_realloc(ctx, a, MiB / 2, "less");         /* shrinking is always allowed */
  CHECK(a && nn_mem_live_bytes() == base + MiB / 2);
  nn_mem_free(a);
  nn_gate_set_memory(0, NULL);
  CHECK(nn_mem_live_bytes() == base);
  nn_ctx_free(ctx);
}

/* the readers and figures ask before they allocate what the input sizes */
TEST(mem_limit_readers_and_figures) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("mem") != NULL);
  static char text[300000];
  memset(text, 'x', sizeof text);
  memcpy(text, "a,b\n", 4);
  CHECK(check_write_file(check_tmppath("big.csv"), text, sizeof text) == 0);
  uint8_t grey[64 * 64] = {0};
  CHECK(nn_png_write(ctx, check_tmppath("g.png"), grey, 64, 64, 1, NULL, 0) == 0);
  static const uint8_t idx[] = {0, 0, 8, 3, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 1, 0};  /* 4096 x 256 x 256 */
  CHECK(check_write_file(check_tmppath("x.idx"), idx, sizeof idx) == 0);
  nn_canvas *cv = nn_canvas_new(ctx, 1000, 1000);
  CHECK(cv != NULL);
  size_t base = nn_mem_live_bytes();
  nn_gate_set_memory(base + 100000, NULL);
  nn_csv *r = NULL;
  CHECK(nn_csv_open(ctx, check_tmppath("big.csv"), &r) == NN_ENOMEM && r == NULL);
  CHECK(check_has(ctx->err, "memory limit of") && check_has(ctx->err, "the text of ") &&
        check_has(ctx->err, "big.csv"));
  nn_image im;
  CHECK(nn_png_read(ctx, check_tmppath("g.png"), &im) == 0 && im.w == 64);   /* 4 KiB fit */
  nn_image_free(&im);
  nn_idx x;                                            /* 256 MiB declared: refused before reading */
  CHECK(nn_idx_read(ctx, check_tmppath("x.idx"), &x) == NN_ENOMEM && x.data == NULL);
  CHECK(check_has(ctx->err, "256 MiB asked for the data of ") && check_has(ctx->err, "x.idx"));
  CHECK(nn_canvas_save(ctx, cv, check_tmppath("f.png"), NULL, 0) == NN_ENOMEM);
  CHECK(check_has(ctx->err, "asked for the pixels of a figure of 1000 x 1000"));
  for (int k = 0; k < 10000; k++) nn_canvas_line(cv, k, k);   /* 640 KB of drawing */
  CHECK(nn_canvas_check(ctx, cv) == NN_ENOMEM);
  CHECK(check_has(ctx->err, "figure: memory limit of") && check_has(ctx->err, "the drawing of a figure"));
  nn_gate_set_memory(0, NULL);
  CHECK(nn_mem_live_bytes() <= base + 100000);
  nn_canvas_free(cv);
  nn_gate_set_memory(nn_mem_live_bytes() + 1000, NULL);
  CHECK(nn_png_read(ctx, check_tmppath("g.png"), &im) == NN_ENOMEM && im.data == NULL);
  CHECK(check_has(ctx->err, "4 KiB asked for the pixels of ") && check_has(ctx->err, "g.png"));
  nn_gate_set_memory(0, NULL);
  CHECK(nn_csv_open(ctx, check_tmppath("big.csv"), &r) == 0);   /* no limit: all there again */
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* the host's reclaim function (nn_gate_set_reclaim): run once on a refusal, then
 * the allocation asks again; never from inside itself */
static void *garbage;
static int reclaims;

static void free_garbage(void *ud) {
  reclaims++;
  CHECK(nn_mem_alloc(ud, 4 * MiB, "inside the reclaim") == NULL);   /* refused, not reclaimed again */
  nn_mem_free(garbage);
  garbage = NULL;
}

TEST(mem_limit_reclaims_garbage_first) {
  nn_ctx *ctx = nn_ctx_new();
  size_t base = nn_mem_live_bytes();
  nn_gate_set_memory(base + 2 * MiB, NULL);
  nn_gate_set_reclaim(free_garbage, ctx);
  garbage = nn_mem_alloc(ctx, MiB + MiB / 2, "garbage");
  reclaims = 0;
  char *p = nn_mem_alloc(ctx, MiB, "a block");        /* fits once the garbage is freed */
  CHECK(p != NULL && reclaims == 1 && garbage == NULL);
  CHECK(nn_mem_alloc(ctx, 2 * MiB, "too much") == NULL && reclaims == 2);
  CHECK(check_has(ctx->err, "2 MiB asked for too much"));
  char *q = nn_mem_alloc(ctx, MiB / 2, "a small one");  /* fits: no reclaim */
  CHECK(q != NULL && reclaims == 2);
  nn_gate_set_reclaim(NULL, NULL);
  CHECK(nn_mem_alloc(ctx, 2 * MiB, "too much") == NULL && reclaims == 2);
  nn_gate_set_memory(0, NULL);
  nn_mem_free(p);
  nn_mem_free(q);
  CHECK(nn_mem_live_bytes() == base);
  nn_ctx_free(ctx);
}
