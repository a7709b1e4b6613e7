/* test_gemm.c -- nn_gemm against a double-precision triple loop: layouts as
 * strides (transposed, narrowed, batched, broadcast, zero, negative), bias,
 * ReLU, accumulate, tiny shapes, the MLP's shapes, the primitive cache, errors,
 * and the same bits for 1 to 4 threads, including the layouts on which oneDNN
 * alone would not give them. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/gemm.h"

typedef struct gcase {
  int64_t batch, M, N, K;
  int ta, tb, tc;         /* operand stored transposed (column-major) */
  int64_t pad;            /* extra elements per row (or column) of every operand */
  int bcast_a, bcast_b;   /* batch stride 0 */
  int bias, flags;
} gcase;

typedef struct buf {      /* one operand: storage and strides */
  float *p;
  int64_t n, bs, rs, cs;
} buf;

static uint64_t lcg = 42;
static float urand(void) {       /* uniform in [-1, 1) */
  lcg = lcg * 6364136223846793005u + 1442695040888963407u;
  return (float)((lcg >> 40) * (1.0 / (1 << 23))) - 1.0f;
}

/* batch x (rows, cols), transposed or not, rows padded; random contents (padding too) */
static buf make_buf(int64_t batch, int64_t rows, int64_t cols, int trans, int64_t pad, int bcast) {
  buf b;
  int64_t ld = (trans ? rows : cols) + pad, outer = trans ? cols : rows;
  b.rs = trans ? 1 : ld;
  b.cs = trans ? ld : 1;
  b.bs = bcast ? 0 : ld * outer + pad;
  b.n = (bcast ? 1 : batch) * (ld * outer + pad);
  b.p = malloc((size_t)b.n * sizeof(float));
  for (int64_t i = 0; i < b.n; i++) b.p[i] = urand();
  return b;
}

static float at(const buf *b, int64_t n, int64_t i, int64_t j) {
  return b->p[n * b->bs + i * b->rs + j * b->cs];
}

/* element o of C's storage is outside the matrix */
static int is_padding(const gcase *g, const buf *C, int64_t o) {
  int64_t q = o % C->bs, ld = g->tc ? C->cs : C->rs;
  return q % ld >= (g->tc ? g->M : g->N) || q / ld >= (g->tc ? g->N : g->M);
}

/* largest |c - ref| / tol over C; also checks that padding was left alone */
static double compare(const gcase *g, const buf *A, const buf *B, const buf *C, const float *c0,
                      const float *bias) {
  double worst = 0;
  for (int64_t n = 0; n < g->batch; n++)
    for (int64_t i = 0; i < g->M; i++)
      for (int64_t j = 0; j < g->N; j++) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < g->K; k++) {
          double t = (double)at(A, n, i, k) * at(B, n, k, j);
          s += t;
          mag += fabs(t);
        }
        if (bias) { s += bias[j]; mag += fabs(bias[j]); }
        if ((g->flags & NN_GEMM_RELU) && s < 0) s = 0;
        int64_t o = n * C->bs + i * C->rs + j * C->cs;
        if (g->flags & NN_GEMM_ACCUMULATE) { s += c0[o]; mag += fabs(c0[o]); }
        double tol = 1e-6 + mag * 2.5e-7 * (double)(g->K + 2);
        double r = fabs(C->p[o] - s) / tol;
        if (r > worst) worst = r;
      }
  for (int64_t o = 0; o < C->n; o++)
    if (is_padding(g, C, o) && C->p[o] != c0[o]) worst = 1e9;
  return worst;
}

static int run_case(nn_ctx *ctx, const gcase *g) {
  buf A = make_buf(g->batch, g->M, g->K, g->ta, g->pad, g->bcast_a);
  buf B = make_buf(g->batch, g->K, g->N, g->tb, g->pad, g->bcast_b);
  buf C = make_buf(g->batch, g->M, g->N, g->tc, g->pad, 0);
  float *c0 = malloc((size_t)C.n * sizeof(float)), *bias = NULL;
  memcpy(c0, C.p, (size_t)C.n * sizeof(float));
  if (g->bias) {
    bias = malloc((size_t)g->N * sizeof(float));
    for (int64_t j = 0; j < g->N; j++) bias[j] = urand();
  }
  int rc = nn_gemm(ctx, g->batch, g->M, g->N, g->K, (nn_gemm_operand){A.p, A.bs, A.rs, A.cs},
                   (nn_gemm_operand){B.p, B.bs, B.rs, B.cs}, (nn_gemm_out){C.p, C.bs, C.rs, C.cs},
                   bias, g->flags);
  double worst = rc ? 1e9 : compare(g, &A, &B, &C, c0, bias);
  if (rc || worst > 1)
    fprintf(stderr, "  gemm case batch %lld M %lld N %lld K %lld ta %d tb %d tc %d pad %lld "
            "bcast %d%d bias %d flags %d: rc %d, error/tol %g (%s)\n", (long long)g->batch,
            (long long)g->M, (long long)g->N, (long long)g->K, g->ta, g->tb, g->tc,
            (long long)g->pad, g->bcast_a, g->bcast_b, g->bias, g->flags, rc, worst,
            rc ? ctx->err : "");
  free(A.p); free(B.p); free(C.p); free(c0); free(bias);
  return rc == 0 && worst <= 1;
}

static int run_cases(const gcase *cases, int n) {
  nn_ctx *ctx = nn_ctx_new();
  int ok = 1;
  for (int i = 0; i < n; i++) ok &= run_case(ctx, &cases[i]);
  nn_ctx_free(ctx);
  return ok;
}

#define NCASES(a) ((int)(sizeof(a) / sizeof(a)[0]))

TEST(gemm_layouts) {
  static const gcase cases[] = {
    {1, 64, 48, 40, 0, 0, 0, 0, 0, 0, 0, 0},       /* plain */
    {1, 64, 48, 40, 1, 0, 0, 0, 0, 0, 0, 0},       /* A transposed */
    {1, 64, 48, 40, 0, 1, 0, 0, 0, 0, 0, 0},       /* B transposed */
    {1, 64, 48, 40, 1, 1, 0, 0, 0, 0, 0, 0},       /* both */
    {1, 64, 48, 40, 0, 0, 1, 0, 0, 0, 0, 0},       /* C transposed */
    {1, 64, 48, 40, 1, 1, 1, 0, 0, 0, 0, 0},
    {1, 64, 48, 40, 0, 0, 0, 7, 0, 0, 0, 0},       /* narrowed: row stride > cols */
    {1, 64, 48, 40, 1, 1, 1, 3, 0, 0, 0, 0},
  };
  CHECK(run_cases(cases, NCASES(cases)));
}

TEST(gemm_batched) {
  static const gcase cases[] = {
    {5, 32, 24, 16, 0, 0, 0, 0, 0, 0, 0, 0},
    {5, 32, 24, 16, 1, 1, 0, 2, 0, 0, 0, 0},       /* strided batches */
    {5, 32, 24, 16, 0, 0, 0, 0, 1, 0, 0, 0},       /* A broadcast */
    {5, 32, 24, 16, 0, 1, 0, 0, 0, 1, 0, 0},       /* B broadcast */
    {5, 32, 24, 16, 0, 0, 1, 0, 0, 1, 0, 0},
    {5, 32, 24, 16, 0, 0, 0, 0, 0, 1, 1, NN_GEMM_RELU},
    {3, 2, 3, 4, 1, 0, 0, 1, 0, 1, 1, NN_GEMM_ACCUMULATE},   /* tiny loop */
  };
  CHECK(run_cases(cases, NCASES(cases)));
}

TEST(gemm_post_ops) {
  static const gcase cases[] = {
    {1, 64, 48, 40, 0, 0, 0, 0, 0, 0, 1, 0},
    {1, 64, 48, 40, 0, 0, 0, 0, 0, 0, 0, NN_GEMM_RELU},
    {1, 64, 48, 40, 0, 0, 0, 0, 0, 0, 1, NN_GEMM_RELU},
    {1, 64, 48, 40, 1, 0, 0, 0, 0, 0, 0, NN_GEMM_ACCUMULATE},
    {1, 64, 48, 40, 0, 1, 0, 0, 0, 0, 1, NN_GEMM_ACCUMULATE},
    {1, 64, 48, 40, 0, 0, 0, 0, 0, 0, 1, NN_GEMM_RELU | NN_GEMM_ACCUMULATE},
    {1, 64, 48, 40, 0, 0, 1, 0, 0, 0, 1, NN_GEMM_RELU},    /* C transposed with bias */
    {1, 64, 48, 40, 0, 0, 1, 0, 0, 0, 0, NN_GEMM_RELU | NN_GEMM_ACCUMULATE},
    {1, 3, 4, 5, 0, 0, 0, 0, 0, 0, 1, NN_GEMM_RELU | NN_GEMM_ACCUMULATE},  /* tiny loop */
    {1, 3, 4, 5, 1, 1, 1, 1, 0, 0, 1, NN_GEMM_RELU},
  };
  CHECK(run_cases(cases, NCASES(cases)));
}

TEST(gemm_tiny_shapes) {
  static const gcase cases[] = {
    {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0},
    {1, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, NN_GEMM_ACCUMULATE},
    {1, 1, 300, 200, 0, 0, 0, 0, 0, 0, 1, 0},      /* M = 1 */
    {1, 1, 300, 200, 1, 1, 0, 0, 0, 0, 0, 0},
    {1, 300, 1, 200, 0, 0, 0, 0, 0, 0, 1, 0},      /* N = 1 */
    {1, 300, 1, 200, 0, 1, 1, 1, 0, 0, 0, NN_GEMM_RELU},
    {1, 300, 1, 200, 1, 0, 1, 0, 0, 0, 1, NN_GEMM_ACCUMULATE},   /* C a dense column */
    {1, 300, 200, 1, 0, 0, 0, 0, 0, 0, 1, 0},      /* K = 1 */
    {1, 300, 200, 1, 1, 1, 0, 3, 0, 0, 0, NN_GEMM_ACCUMULATE},
    {4, 1, 1, 2000, 0, 0, 0, 0, 0, 1, 0, 0},
    {1, 1, 1, 5000, 1, 0, 0, 0, 0, 0, 0, 0},
  };
  CHECK(run_cases(cases, NCASES(cases)));
}

TEST(gemm_mlp_shapes) {
  static const gcase cases[] = {
    {1, 64, 256, 784, 0, 0, 0, 0, 0, 0, 1, NN_GEMM_RELU},  /* forward */
    {1, 64, 10, 256, 0, 0, 0, 0, 0, 0, 1, 0},
    {1, 64, 256, 784, 0, 1, 0, 0, 0, 0, 1, 0},             /* x W^T, W (256, 784) */
    {1, 64, 784, 256, 0, 0, 0, 0, 0, 0, 0, 0},             /* dX = dY W */
    {1, 784, 256, 64, 1, 0, 0, 0, 0, 0, 0, 0},             /* dW = X^T dY */
    {1, 256, 784, 64, 1, 0, 0, 0, 0, 0, 0, NN_GEMM_ACCUMULATE},  /* dW += dY^T X */
    {1, 10, 256, 64, 1, 0, 0, 0, 0, 0, 0, 0},
  };
  CHECK(run_cases(cases, NCASES(cases)));
}

/* A expanded along its rows (stride 0), B with its rows reversed (stride < 0):
 * no oneDNN layout, so both are packed first */
TEST(gemm_zero_and_negative_strides) {
  nn_ctx *ctx = nn_ctx_new();
  float a[40], b[40 * 30], c[20 * 30];
  for (int i = 0; i < 40; i++) a[i] = urand();
  for (int i = 0; i < 40 * 30; i++) b[i] = urand();
  int rc = nn_gemm(ctx, 1, 20, 30, 40, (nn_gemm_operand){a, 0, 0, 1},
                   (nn_gemm_operand){b + 39 * 30, 0, -30, 1}, (nn_gemm_out){c, 0, 30, 1}, NULL, 0);
  CHECK(rc == 0);
  double worst = 0;
  for (int i = 0; i < 20; i++)
    for (int j = 0; j < 30; j++) {
      double s = 0;
      for (int k = 0; k < 40; k++) s += (double)a[k] * b[(39 - k) * 30 + j];
      if (fabs(c[i * 30 + j] - s) > worst) worst = fabs(c[i * 30 + j] - s);
    }
  CHECK(worst < 1e-5);
  nn_ctx_free(ctx);
}

/* The same shapes again with new data, and more shapes than the cache holds,
 * then the first ones again: the cached primitives must follow the new pointers. */
TEST(gemm_cache_reuse) {
  gcase cases[80];
  for (int i = 0; i < 80; i++)
    cases[i] = (gcase){1 + i % 3, 16 + i % 40, 24, 32, i % 2, 0, 0, 0, 0, 0, i % 5 == 0,
                       i % 7 == 0 ? NN_GEMM_ACCUMULATE : 0};
  nn_ctx *ctx = nn_ctx_new();
  int ok = 1;
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < 80; i++) ok &= run_case(ctx, &cases[round == 2 ? 79 - i : i]);
  CHECK(ok);
  nn_ctx_free(ctx);
}

TEST(gemm_errors) {
  nn_ctx *ctx = nn_ctx_new();
  float x[64] = {0};
  nn_gemm_operand a = {x, 0, 4, 1};
  CHECK(nn_gemm(ctx, 1, 0, 4, 4, a, a, (nn_gemm_out){x, 0, 4, 1}, NULL, 0) == NN_EARG);
  CHECK(strstr(ctx->err, "gemm: sizes must be >= 1") != NULL);
  CHECK(nn_gemm(ctx, 2, 4, 4, 4, a, a, (nn_gemm_out){x, 0, 4, 1}, NULL, 0) == NN_EARG);
  CHECK(strstr(ctx->err, "output strides") != NULL);
  CHECK(nn_gemm(ctx, 1, 4, 4, 4, a, (nn_gemm_operand){NULL, 0, 4, 1},
                (nn_gemm_out){x, 0, 4, 1}, NULL, 0) == NN_EARG);
  CHECK(nn_gemm(ctx, 1, 4, 4, 4, a, a, (nn_gemm_out){x, 0, 4, 1}, NULL, 8) == NN_EARG);
  CHECK(strcmp(ctx->err, "gemm: unknown flags 0x8") == 0);
  CHECK(strncmp(nn_gemm_version(), "oneDNN 2.", 9) == 0);
  nn_ctx_free(ctx);
}

/* case g with n threads into a fresh copy of the C buffer c0; returns it (malloc'd) */
static float *product(nn_ctx *ctx, const gcase *g, int n, const buf *A, const buf *B,
                      const buf *C, const float *bias) {
  float *out = malloc((size_t)C->n * sizeof(float));
  memcpy(out, C->p, (size_t)C->n * sizeof(float));
  nn_set_num_threads(n);
  int rc = nn_gemm(ctx, g->batch, g->M, g->N, g->K, (nn_gemm_operand){A->p, A->bs, A->rs, A->cs},
                   (nn_gemm_operand){B->p, B->bs, B->rs, B->cs},
                   (nn_gemm_out){out, C->bs, C->rs, C->cs}, bias, g->flags);
  CHECK(rc == 0);
  return out;
}

/* the same bits for 1 to 4 threads */
static int same_bits(const gcase *g) {
  nn_ctx *ctx = nn_ctx_new();
  buf A = make_buf(g->batch, g->M, g->K, g->ta, g->pad, g->bcast_a);
  buf B = make_buf(g->batch, g->K, g->N, g->tb, g->pad, g->bcast_b);
  buf C = make_buf(g->batch, g->M, g->N, g->tc, g->pad, 0);
  float bias[1024];
  for (int64_t j = 0; j < g->N && j < 1024; j++) bias[j] = urand();
  int saved = nn_get_num_threads(), same = 1;
  float *ref = product(ctx, g, 1, &A, &B, &C, g->bias ? bias : NULL);
  for (int n = 2; n <= 4; n++) {
    float *out = product(ctx, g, n, &A, &B, &C, g->bias ? bias : NULL);
    if (memcmp(out, ref, (size_t)C.n * sizeof(float)) != 0) {
      fprintf(stderr, "  gemm batch %lld M %lld N %lld K %lld ta %d tc %d pad %lld: %d threads "
              "differ from 1\n", (long long)g->batch, (long long)g->M, (long long)g->N,
              (long long)g->K, g->ta, g->tc, (long long)g->pad, n);
      same = 0;
    }
    free(out);
  }
  nn_set_num_threads(saved);
  free(A.p); free(B.p); free(C.p); free(ref);
  nn_ctx_free(ctx);
  return same;
}

/* Includes the layouts on which oneDNN alone splits K by thread count:
 * transposed A with K >= 2048, narrowed rows, strided batches. */
TEST(gemm_same_bits_any_thread_count) {
  static const gcase cases[] = {
    {1, 1024, 1024, 1024, 0, 0, 0, 0, 0, 0, 0, 0},
    {1, 64, 256, 784, 0, 0, 0, 0, 0, 0, 1, NN_GEMM_RELU},
    {1, 64, 784, 256, 0, 0, 0, 0, 0, 0, 0, 0},
    {1, 256, 784, 64, 1, 0, 0, 0, 0, 0, 0, NN_GEMM_ACCUMULATE},
    {1, 64, 10, 256, 0, 1, 0, 0, 0, 0, 1, 0},
    {1, 64, 64, 4096, 1, 0, 0, 0, 0, 0, 0, 0},
    {1, 256, 64, 8192, 1, 1, 0, 0, 0, 0, 0, NN_GEMM_ACCUMULATE},
    {1, 16, 16, 16384, 0, 0, 0, 8, 0, 0, 0, 0},
    {1, 1, 64, 4096, 0, 0, 0, 8, 0, 0, 0, 0},
    {1, 64, 128, 1024, 0, 0, 1, 8, 0, 0, 0, 0},
    {4, 64, 64, 4096, 1, 0, 0, 0, 0, 0, 0, 0},
    {16, 8, 8, 512, 0, 0, 0, 8, 0, 1, 0, NN_GEMM_ACCUMULATE},
    {1, 1, 4096, 4096, 0, 0, 0, 0, 0, 0, 0, 0},
    {1, 4, 2, 100000, 0, 0, 0, 0, 0, 0, 0, 0},
  };
  for (int i = 0; i < NCASES(cases); i++) CHECK(same_bits(&cases[i]));
}
