/* floor.c -- the GEMM floor of make bench: the matrix products of one epoch
 * of the MLP and nothing else (see bench/README.md).
 *
 *   floor <threads>
 *
 * One training step of the MLP 784-256-128-10 (batch 64, weights stored
 * [out, in] as nn.Linear stores them) runs 8 products, laid out as
 * nn/layer.c lays them out:
 *   forward, per layer     Y (M, out) = X (M, in) . Wᵀ + b    (Wᵀ as strides, bias fused)
 *   backward, per layer    dX (M, in) = dY (M, out) . W (out, in)    except layer 1:
 *                          the input needs no gradient
 *                          dW (out, in) = dYᵀ (out, M) . X (M, in)   (dYᵀ as strides)
 * 3 forward + 3 dW + 2 dX = 8. An epoch is 781 steps of 64 rows and one of 16
 * (50,000 = 781 * 64 + 16). The ReLUs, the loss, the bias gradients and the
 * optimizer are left out: the floor is what the products alone cost.
 *
 * Once set up it prints "ready"; then commands come on standard input, one a
 * line (bench/bench.lua sends them):
 *   direct [limit]   one epoch of the 8 products on oneDNN's matmul
 *                    primitives, created once and executed in a loop
 *   nn_gemm [limit]  the same products through nn_gemm (nnlua's entry point,
 *                    which runs products under 2^19 multiply-adds on the
 *                    calling thread)
 *             both answer "epoch <seconds> 0 <steps done>"; with a limit in
 *             seconds, the epoch stops early once it has run that long
 *   shapes    answers "shapes" and each product of a 64-row step in order as
 *             MxNxK, with "+b" when the bias is fused
 *   check     runs one step both ways and compares every product with a
 *             double-precision reference; answers
 *             "check <products> <max relative error> <same bits direct vs nn_gemm: 1|0>"
 *   quit      answers "rss <peak resident kB> <threads>" and exits
 * The bench includes dnnl.h itself, as bench_tensor.c does: it is the
 * reference nn_gemm is measured against, not part of the core. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>
#include "nn/gemm.h"

#define NLAYER 3
#define NPROD 8
#define FULL_STEPS 781
#define BATCH 64
#define LAST_BATCH 16                       /* 50,000 - 781 * 64 */

static const int64_t dims[NLAYER + 1] = {784, 256, 128, 10};

/* one product C (M, N) = A (M, K) B (K, N) (+ bias), strides in elements */
typedef struct prod {
  const char *what;
  int64_t M, N, K;
  const float *a; int64_t ars, acs;
  const float *b; int64_t brs, bcs;
  float *c;                                 /* contiguous (M, N) */
  const float *bias;                        /* or NULL */
  dnnl_primitive_t prim;
  dnnl_memory_t mem[4];
} prod;

typedef struct step {
  int M, n;
  prod p[NPROD];
} step;

static float *act[NLAYER + 1], *dact[NLAYER + 1], *w[NLAYER], *dw[NLAYER], *bias[NLAYER];
static dnnl_engine_t eng;
static dnnl_stream_t stream;
static nn_ctx *ctx;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what, int status) {
  fprintf(stderr, "floor: %s failed (status %d)\n", what, status);
  exit(1);
}

static float *floats(size_t n) {
  float *p = malloc(n * sizeof(float));
  if (!p) die("malloc", 0);
  for (size_t i = 0; i < n; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  return p;
}

static void md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  dnnl_dims_t d = {rows, cols}, s = {rs, cs};
  dnnl_status_t st = dnnl_memory_desc_init_by_strides(md, 2, d, dnnl_f32, s);
  if (st != dnnl_success) die("dnnl_memory_desc_init_by_strides", st);
}

/* the matmul primitive of p on its buffers, at the current thread count */
static void make_direct(prod *p) {
  dnnl_memory_desc_t md[4];
  dnnl_matmul_desc_t desc;
  dnnl_primitive_desc_t pd;
  md2(&md[0], p->M, p->K, p->ars, p->acs);
  md2(&md[1], p->K, p->N, p->brs, p->bcs);
  md2(&md[2], p->M, p->N, p->N, 1);
  if (p->bias) md2(&md[3], 1, p->N, p->N, 1);
  dnnl_status_t st = dnnl_matmul_desc_init(&desc, &md[0], &md[1], p->bias ? &md[3] : NULL, &md[2]);
  if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&p->prim, pd);
  if (st != dnnl_success) die("creating a oneDNN matmul", st);
  dnnl_primitive_desc_destroy(pd);
  void *ptr[4] = {(void *)p->a, (void *)p->b, p->c, (void *)p->bias};
  for (int i = 0; i < (p->bias ? 4 : 3); i++)
    if ((st = dnnl_memory_create(&p->mem[i], &md[i], eng, ptr[i])) != dnnl_success)
      die("dnnl_memory_create", st);
}

static void run_direct(prod *p) {
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, p->mem[0]}, {DNNL_ARG_WEIGHTS, p->mem[1]},
                             {DNNL_ARG_DST, p->mem[2]}, {DNNL_ARG_BIAS, p->mem[3]}};
  dnnl_status_t st = dnnl_primitive_execute(p->prim, stream, p->bias ? 4 : 3, args);
  if (st == dnnl_success) st = dnnl_stream_wait(stream);
  if (st != dnnl_success) die("dnnl_primitive_execute", st);
}

static void run_nn(prod *p) {
  int rc = nn_gemm(ctx, 1, p->M, p->N, p->K, (nn_gemm_operand){p->a, 0, p->ars, p->acs},
                   (nn_gemm_operand){p->b, 0, p->brs, p->bcs}, (nn_gemm_out){p->c, 0, p->N, 1},
                   p->bias, 0);
  if (rc) {
    fprintf(stderr, "floor: nn_gemm: %s\n", ctx->err);
    exit(1);
  }
}

/* the 8 products of a step of M rows, in the order a step runs them */
static void make_step(step *s, int M) {
  int n = 0;
  s->M = M;
  for (int l = 0; l < NLAYER; l++) {          /* act[l+1] (M, out) = act[l] (M, in) . w[l]ᵀ + b */
    int64_t in = dims[l], out = dims[l + 1];
    s->p[n++] = (prod){"forward", M, out, in, act[l], in, 1, w[l], 1, in, act[l + 1], bias[l],
                       NULL, {NULL}};
  }
  for (int l = NLAYER - 1; l >= 0; l--) {     /* in nn/layer.c's order: dX, then dW */
    int64_t in = dims[l], out = dims[l + 1];
    /* dact[l] (M, in) = dact[l+1] (M, out) . w[l] (out, in) */
    if (l > 0)
      s->p[n++] = (prod){"dX", M, in, out, dact[l + 1], out, 1, w[l], in, 1, dact[l], NULL,
                         NULL, {NULL}};
    /* dw[l] (out, in) = dact[l+1]ᵀ (out, M) . act[l] (M, in) */
    s->p[n++] = (prod){"dW", out, in, M, dact[l + 1], 1, out, act[l], in, 1, dw[l], NULL,
                       NULL, {NULL}};
  }
  if (n != NPROD) die("counting the products of a step", n);
  s->n = n;
  for (int i = 0; i < n; i++) make_direct(&s->p[i]);
}

static void run_step(step *s, int direct) {
  for (int i = 0; i < s->n; i++) direct ? run_direct(&s->p[i]) : run_nn(&s->p[i]);
}

/* one epoch, or the steps done before limit seconds; returns the steps done */
static int epoch(step *full, step *last, int direct, double limit, double *sec) {
  double t0 = now();
  int k = 0;
  while (k < FULL_STEPS && now() - t0 <= limit) run_step(full, direct), k++;
  if (k == FULL_STEPS) run_step(last, direct), k++;
  *sec = now() - t0;
  return k;
}

/* largest |C - ref| / max |ref| over the products of s, ref in double */
static double check_step(step *s) {
  double worst = 0;
  for (int i = 0; i < s->n; i++) {
    const prod *p = &s->p[i];
    double err = 0, big = 0;
    for (int64_t r = 0; r < p->M; r++)
      for (int64_t c = 0; c < p->N; c++) {
        double acc = p->bias ? p->bias[c] : 0;
        for (int64_t k = 0; k < p->K; k++)
          acc += (double)p->a[r * p->ars + k * p->acs] * (double)p->b[k * p->brs + c * p->bcs];
        err = fmax(err, fabs(acc - p->c[r * p->N + c]));
        big = fmax(big, fabs(acc));
      }
    worst = fmax(worst, err / (big > 0 ? big : 1));
  }
  return worst;
}

/* runs s both ways from the same inputs: relative error against double, and same bits */
static void check(step *s) {
  size_t outsz[NPROD];
  float *saved[NPROD];
  run_step(s, 1);
  double e1 = check_step(s);
  for (int i = 0; i < s->n; i++) {
    outsz[i] = (size_t)(s->p[i].M * s->p[i].N) * sizeof(float);
    saved[i] = malloc(outsz[i]);
    if (!saved[i]) die("malloc", 0);
    memcpy(saved[i], s->p[i].c, outsz[i]);
  }
  run_step(s, 0);
  double e2 = check_step(s);
  int same = 1;
  for (int i = 0; i < s->n; i++) {
    same &= memcmp(saved[i], s->p[i].c, outsz[i]) == 0;
    free(saved[i]);
  }
  printf("check %d %.3g %d\n", s->n, fmax(e1, e2), same);
}

static long peak_rss_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 0;
  if (threads < 1) {
    fprintf(stderr, "usage: floor <threads>\n");
    return 2;
  }
  ctx = nn_ctx_new();
  if (!ctx) die("nn_ctx_new", 0);
  nn_set_num_threads(threads);               /* before any primitive is made */
  dnnl_status_t st = dnnl_engine_create(&eng, dnnl_cpu, 0);
  if (st == dnnl_success) st = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags);
  if (st != dnnl_success) die("setting up oneDNN", st);
  srand(1);
  for (int l = 0; l <= NLAYER; l++) {
    act[l] = floats((size_t)(BATCH * dims[l]));
    dact[l] = floats((size_t)(BATCH * dims[l]));
  }
  for (int l = 0; l < NLAYER; l++) {
    w[l] = floats((size_t)(dims[l] * dims[l + 1]));
    dw[l] = floats((size_t)(dims[l] * dims[l + 1]));
    bias[l] = floats((size_t)dims[l + 1]);
  }
  step full, last;
  make_step(&full, BATCH);
  make_step(&last, LAST_BATCH);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  char line[128], cmd[16];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    double limit = INFINITY, sec;
    int n = sscanf(line, "%15s %lf", cmd, &limit);
    if (n >= 1 && (strcmp(cmd, "direct") == 0 || strcmp(cmd, "nn_gemm") == 0)) {
      int steps = epoch(&full, &last, cmd[0] == 'd', limit, &sec);
      printf("epoch %.6f 0 %d\n", sec, steps);
    } else if (strcmp(line, "check") == 0) {
      check(&full);
    } else if (strcmp(line, "shapes") == 0) {
      printf("shapes");
      for (int i = 0; i < full.n; i++)
        printf(" %ldx%ldx%ld%s", (long)full.p[i].M, (long)full.p[i].N, (long)full.p[i].K,
               full.p[i].bias ? "+b" : "");
      printf("\n");
    } else if (strcmp(line, "quit") == 0) {
      printf("rss %ld %d\n", peak_rss_kb(), nn_get_num_threads());
      break;
    } else {
      fprintf(stderr, "floor: unknown command \"%s\"\n", line);
      return 1;
    }
  }
  return 0;
}
