/* bench_tensor.c -- throughput of the tensor core's hot paths, in one run
 * (make bench-tensor; see bench/README.md).
 *
 * For 1 and 2 threads:
 *   matmul GFLOP/s at 1024^3 and at the MLP's shapes for nn_gemm, for oneDNN's
 *   matmul primitive called directly (created once, executed in a loop, same
 *   strides) and for OpenBLAS's cblas_sgemm; nn_gemm / oneDNN must be >= 0.90;
 *   elementwise add GB/s (nn_binary on 16M floats) against memcpy.
 * Each number is the median of NSAMPLES samples of ~SAMPLE_S seconds, after a
 * warm-up; nn_gemm's and oneDNN's samples are interleaved, so that drift in
 * the machine's speed hits both alike. The bench includes dnnl.h itself: it is
 * the reference nn_gemm is measured against, not part of the core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include "nn/gemm.h"
#include "nn/ops.h"
#include "nn/tensor.h"

#define NSAMPLES 5
#define SAMPLE_S 0.2
#define WARMUP_S 0.05
#include "timing.h"

#define MIN_RATIO 0.90
#define ADD_N (16 * 1024 * 1024)

typedef struct shape {
  const char *name;
  int64_t M, N, K;
  int ta;                 /* A is stored (K, M) and passed transposed, as strides */
} shape;

static const shape shapes[] = {
  {"square  A[1024,1024] . B[1024,1024]", 1024, 1024, 1024, 0},
  {"fwd     x[64,784] . W[784,256]", 64, 256, 784, 0},
  {"fwd     h[64,256] . W[256,10]", 64, 10, 256, 0},
  {"bwd dX  dY[64,256] . W[256,784]", 64, 784, 256, 0},
  {"bwd dW  dY^T[256,64] . X[64,784]", 256, 784, 64, 1},
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static void die(const char *what, int status) {
  fprintf(stderr, "bench_tensor: %s failed (status %d)\n", what, status);
  exit(1);
}

/* ---- the three GEMMs ---- */

typedef struct gemm_run {
  const shape *s;
  const float *A, *B;
  float *C;
  nn_ctx *ctx;                       /* nn_gemm */
  dnnl_primitive_t prim;             /* oneDNN direct */
  dnnl_stream_t stream;
  dnnl_memory_t mem[3];
} gemm_run;

static void call_nn(void *arg) {
  gemm_run *r = arg;
  const shape *s = r->s;
  nn_gemm_operand a = {r->A, 0, s->ta ? 1 : s->K, s->ta ? s->M : 1};
  int rc = nn_gemm(r->ctx, 1, s->M, s->N, s->K, a, (nn_gemm_operand){r->B, 0, s->N, 1},
                   (nn_gemm_out){r->C, 0, s->N, 1}, NULL, 0);
  if (rc) {
    fprintf(stderr, "bench_tensor: %s\n", r->ctx->err);
    exit(1);
  }
}

static void call_blas(void *arg) {
  gemm_run *r = arg;
  const shape *s = r->s;
  cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)s->M,
              (int)s->N, (int)s->K, 1.0f, r->A, s->ta ? (int)s->M : (int)s->K, r->B, (int)s->N,
              0.0f, r->C, (int)s->N);
}

static void call_direct(void *arg) {
  gemm_run *r = arg;
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, r->mem[0]}, {DNNL_ARG_WEIGHTS, r->mem[1]},
                             {DNNL_ARG_DST, r->mem[2]}};
  dnnl_status_t st = dnnl_primitive_execute(r->prim, r->stream, 3, args);
  if (st == dnnl_success) st = dnnl_stream_wait(r->stream);
  if (st != dnnl_success) die("dnnl_primitive_execute", st);
}

static void md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  dnnl_dims_t dims = {rows, cols}, strides = {rs, cs};
  dnnl_status_t st = dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_f32, strides);
  if (st != dnnl_success) die("dnnl_memory_desc_init_by_strides", st);
}

/* the matmul primitive for r->s at the current thread count, on r's buffers */
static void direct_make(gemm_run *r, dnnl_engine_t eng) {
  const shape *s = r->s;
  dnnl_memory_desc_t md[3];
  dnnl_matmul_desc_t desc;
  dnnl_primitive_desc_t pd;
  void *ptr[3] = {(void *)r->A, (void *)r->B, r->C};
  md2(&md[0], s->M, s->K, s->ta ? 1 : s->K, s->ta ? s->M : 1);
  md2(&md[1], s->K, s->N, s->N, 1);
  md2(&md[2], s->M, s->N, s->N, 1);
  dnnl_status_t st = dnnl_matmul_desc_init(&desc, &md[0], &md[1], NULL, &md[2]);
  if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&r->prim, pd);
  if (st != dnnl_success) die("creating the oneDNN matmul", st);
  dnnl_primitive_desc_destroy(pd);
  for (int i = 0; i < 3; i++)
    if ((st = dnnl_memory_create(&r->mem[i], &md[i], eng, ptr[i])) != dnnl_success)
      die("dnnl_memory_create", st);
}

static void direct_free(gemm_run *r) {
  dnnl_primitive_destroy(r->prim);
  for (int i = 0; i < 3; i++) dnnl_memory_destroy(r->mem[i]);
}

static float *random_floats(size_t n) {
  float *p = malloc(n * sizeof(float));
  if (!p) die("malloc", 0);
  for (size_t i = 0; i < n; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  return p;
}

/* one line: the three GFLOP/s, the ratio, and whether nn_gemm's bits equal oneDNN's */
static int bench_shape(nn_ctx *ctx, dnnl_engine_t eng, dnnl_stream_t stream, const shape *s) {
  size_t na = (size_t)(s->M * s->K), nb = (size_t)(s->K * s->N), nc = (size_t)(s->M * s->N);
  float *A = random_floats(na), *B = random_floats(nb);
  float *C[3] = {calloc(nc, 4), calloc(nc, 4), calloc(nc, 4)};
  gemm_run r[3];
  for (int i = 0; i < 3; i++) r[i] = (gemm_run){s, A, B, C[i], ctx, NULL, stream, {NULL}};
  direct_make(&r[1], eng);
  const call_fn f[3] = {call_nn, call_direct, call_blas};
  void *const arg[3] = {&r[0], &r[1], &r[2]};
  double sec[3], flop = 2.0 * (double)s->M * (double)s->N * (double)s->K;
  time_calls(2, f, arg, sec);                 /* nn_gemm and oneDNN interleaved */
  time_calls(1, f + 2, arg + 2, sec + 2);     /* OpenBLAS apart: its threads spin after a call */
  nanosleep(&(struct timespec){0, 300000000}, NULL);   /* and stop spinning within ~0.1 s */
  double ratio = sec[1] / sec[0];
  int same = memcmp(C[0], C[1], nc * sizeof(float)) == 0;
  printf("  %-36s %8.1f %8.1f %8.1f   %5.3f %s  %s\n", s->name, flop / sec[0] * 1e-9,
         flop / sec[1] * 1e-9, flop / sec[2] * 1e-9, ratio, ratio >= MIN_RATIO ? "PASS" : "FAIL",
         same ? "yes" : "NO");
  direct_free(&r[1]);
  free(A); free(B);
  for (int i = 0; i < 3; i++) free(C[i]);
  return ratio >= MIN_RATIO;
}

/* ---- elementwise add against memcpy ---- */

typedef struct add_run {
  nn_ctx *ctx;
  nn_tensor *a, *b;
  float *dst, *src;
} add_run;

static void call_add(void *arg) {
  add_run *r = arg;
  nn_tensor *c = nn_binary(r->ctx, NN_ADD, r->a, r->b);
  if (!c) {
    fprintf(stderr, "bench_tensor: %s\n", r->ctx->err);
    exit(1);
  }
  nn_tensor_free(c);
}

static void call_add_(void *arg) {
  add_run *r = arg;
  if (nn_binary_(r->ctx, NN_ADD, r->a, r->b)) {
    fprintf(stderr, "bench_tensor: %s\n", r->ctx->err);
    exit(1);
  }
}

/* the same bytes in one slice per thread of the pool, as the add splits them */
static void call_memcpy(void *arg) {
  add_run *r = arg;
  int nt = nn_get_num_threads();
  size_t slice = (ADD_N + (size_t)nt - 1) / (size_t)nt;
#pragma omp parallel for num_threads(nt) if (nt > 1)
  for (int t = 0; t < nt; t++) {
    size_t lo = (size_t)t * slice, hi = lo + slice < ADD_N ? lo + slice : ADD_N;
    memcpy(r->dst + lo, r->src + lo, (hi - lo) * sizeof(float));
  }
}

/* nn_binary allocates its 64 MB result each call (fresh pages every time), so
 * it is timed apart from the in-place add and memcpy, which reuse memory */
static void bench_add(add_run *r) {
  const call_fn f[3] = {call_add_, call_memcpy, call_add};
  void *const arg[3] = {r, r, r};
  double sec[3], bytes = (double)ADD_N * sizeof(float);
  time_calls(2, f, arg, sec);
  time_calls(1, f + 2, arg + 2, sec + 2);
  double add_ = 3 * bytes / sec[0] * 1e-9, copy = 2 * bytes / sec[1] * 1e-9;
  double add = 3 * bytes / sec[2] * 1e-9;
  printf("  add, 16M floats, GB/s:  nn_binary %.1f (%.2f of memcpy),  in place nn_binary_ %.1f "
         "(%.2f),  memcpy %.1f\n", add, add / copy, add_, add_ / copy, copy);
}

int main(void) {
  nn_ctx *ctx = nn_ctx_new();
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  dnnl_status_t st = dnnl_engine_create(&eng, dnnl_cpu, 0);
  if (st == dnnl_success) st = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags);
  if (!ctx || st != dnnl_success) die("setting up", st);
  int64_t n = ADD_N;
  add_run ar = {ctx, nn_tensor_full(ctx, 1, &n, 1.0f), nn_tensor_full(ctx, 1, &n, 2.0f),
                malloc((size_t)n * 4), random_floats((size_t)n)};
  if (!ar.a || !ar.b || !ar.dst) die("allocating the add operands", 0);
  memset(ar.dst, 0, (size_t)n * 4);
  printf("nn_gemm on %s; GFLOP/s, median of %d samples of ~%.1f s\n", nn_gemm_version(),
         NSAMPLES, SAMPLE_S);
  int fails = 0;
  for (int threads = 1; threads <= 2; threads++) {
    nn_set_num_threads(threads);
    openblas_set_num_threads(threads);
    printf("\n%d thread%s\n  %-36s %8s %8s %8s   %5s      %s\n", threads, threads > 1 ? "s" : "",
           "matmul", "nn_gemm", "oneDNN", "OpenBLAS", "nn/oneDNN", "same bits");
    for (int i = 0; i < NSHAPES; i++) fails += !bench_shape(ctx, eng, stream, &shapes[i]);
    bench_add(&ar);
  }
  printf("\n%s: nn_gemm at %.0f%% or more of oneDNN-direct's speed on %d of %d lines\n",
         fails ? "FAIL" : "PASS", MIN_RATIO * 100, 2 * NSHAPES - fails, 2 * NSHAPES);
  nn_tensor_free(ar.a); nn_tensor_free(ar.b); free(ar.dst); free(ar.src);
  dnnl_stream_destroy(stream);
  dnnl_engine_destroy(eng);
  nn_ctx_free(ctx);
  return 0;
}
