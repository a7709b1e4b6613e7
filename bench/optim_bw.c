/* optim_bw.c -- every optimizer's update against memcpy, for make bench
 * (see bench/README.md).
 *
 * For each update rule of nn/optim.h, with PyTorch's default options (SGD:
 * lr 0.1, momentum 0.9, the workload), on one parameter of N = 2^20
 * floats (4 MiB): one step's GB/s, counting the bytes the rule must read and
 * write (each array once: the parameter, its gradient, its state), against
 * memcpy moving the same number of bytes over buffers of the same size (the
 * rule's arrays, 4 MiB each, copied one into the next in a ring; a memcpy
 * counts its bytes read and written, like the rule). Both are timed as the
 * median of NSAMPLES interleaved samples (timing.h), on one thread: the
 * kernels are serial loops, so memcpy is too. The ratio rule / memcpy is the
 * goal's figure (at least 0.5). The rules update their arrays in place, so
 * each cache line they write was read first anyway; memcpy writes to another
 * buffer and pays a read for ownership of each line it writes, so a rule can
 * beat memcpy (ratio above 1) at the same counted bytes.
 *
 * Check: 3 steps from the same start at 1 and at 2 threads
 * (nn_set_num_threads) must leave the same bits in the parameter and every
 * state array, and must change the parameter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/optim.h"

#define NSAMPLES 5
#define SAMPLE_S 0.1
#define WARMUP_S 0.03
#include "timing.h"

#define N ((int64_t)1 << 20)
#define MAXST 3

typedef struct rule rule;
struct rule {
  const char *name, *traffic;              /* traffic: what one step reads and writes */
  int nst;                                 /* state arrays */
  int arrays;                              /* arrays read or written, each counted once per direction: */
  int moved;                               /*   reads + writes */
  int (*step)(rule *r);
  nn_ctx *ctx;
  nn_tensor *p, *g, *st[MAXST];
  int64_t t;                               /* steps done */
  double mu_product;                       /* NAdam */
};

static int sgd(rule *r) {
  nn_sgd_opts o = {.lr = 0.1, .momentum = 0.9};
  return nn_optim_sgd(r->ctx, r->p, r->g, r->st[0], &o, r->t == 1);
}
static int adam(rule *r) {
  nn_adam_opts o = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .bias_correction = 1};
  return nn_optim_adam(r->ctx, r->p, r->g, r->st[0], r->st[1], NULL, r->t, &o);
}
static int adamw(rule *r) {
  nn_adam_opts o = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-2,
                    .decoupled = 1, .bias_correction = 1};
  return nn_optim_adam(r->ctx, r->p, r->g, r->st[0], r->st[1], NULL, r->t, &o);
}
static int rmsprop(rule *r) {
  nn_rmsprop_opts o = {.lr = 1e-2, .alpha = 0.99, .eps = 1e-8};
  return nn_optim_rmsprop(r->ctx, r->p, r->g, r->st[0], NULL, NULL, &o);
}
static int adagrad(rule *r) {
  nn_adagrad_opts o = {.lr = 1e-2, .eps = 1e-10};
  return nn_optim_adagrad(r->ctx, r->p, r->g, r->st[0], r->t, &o);
}
static int adadelta(rule *r) {
  nn_adadelta_opts o = {.lr = 1.0, .rho = 0.9, .eps = 1e-6};
  return nn_optim_adadelta(r->ctx, r->p, r->g, r->st[0], r->st[1], &o);
}
static int adamax(rule *r) {
  nn_adamax_opts o = {.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  return nn_optim_adamax(r->ctx, r->p, r->g, r->st[0], r->st[1], r->t, &o);
}
static int nadam(rule *r) {
  nn_nadam_opts o = {.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum_decay = 4e-3};
  return nn_optim_nadam(r->ctx, r->p, r->g, r->st[0], r->st[1], r->t, &r->mu_product, &o);
}

/* reads and writes per element, from the loops of nn/optim.c with these options */
static rule rules[] = {
  {.name = "SGD momentum", .traffic = "reads p g buf, writes p buf", .nst = 1, .arrays = 3, .moved = 5, .step = sgd},
  {.name = "Adam", .traffic = "reads p g m v, writes p m v", .nst = 2, .arrays = 4, .moved = 7, .step = adam},
  {.name = "AdamW", .traffic = "reads p g m v, writes p m v", .nst = 2, .arrays = 4, .moved = 7, .step = adamw},
  {.name = "RMSprop", .traffic = "reads p g sq, writes p sq", .nst = 1, .arrays = 3, .moved = 5, .step = rmsprop},
  {.name = "Adagrad", .traffic = "reads p g sum, writes p sum", .nst = 1, .arrays = 3, .moved = 5, .step = adagrad},
  {.name = "Adadelta", .traffic = "reads p g sq acc, writes p sq acc", .nst = 2, .arrays = 4, .moved = 7, .step = adadelta},
  {.name = "Adamax", .traffic = "reads p g m u, writes p m u", .nst = 2, .arrays = 4, .moved = 7, .step = adamax},
  {.name = "NAdam", .traffic = "reads p g m v, writes p m v", .nst = 2, .arrays = 4, .moved = 7, .step = nadam},
};
#define NRULES ((int)(sizeof rules / sizeof rules[0]))

static void die(const char *what, const char *why) {
  fprintf(stderr, "optim_bw: %s: %s\n", what, why);
  exit(1);
}

static void fill(nn_tensor *t, unsigned seed, float lo, float hi) {
  float *d = nn_tensor_data(t);
  srand(seed);
  for (int64_t i = 0; i < N; i++) d[i] = lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
}

/* the parameter, its gradient and zeroed state, as before the first step */
static void reset(rule *r) {
  fill(r->p, 1, -0.5f, 0.5f);
  fill(r->g, 2, -0.5f, 0.5f);
  for (int i = 0; i < r->nst; i++) memset(nn_tensor_data(r->st[i]), 0, (size_t)N * sizeof(float));
  r->t = 0;
  r->mu_product = 1;
}

static void call_rule(void *arg) {
  rule *r = arg;
  r->t++;
  if (r->step(r)) die(r->name, r->ctx->err);
}

/* memcpy over the rule's arrays in a ring until the rule's bytes have moved */
typedef struct ring {
  float *buf[MAXST + 2];
  int k, moved;                            /* arrays; reads + writes of the rule, in arrays */
} ring;

static void call_ring(void *arg) {
  ring *g = arg;
  int i = 0, left = g->moved;              /* a copy moves 2 arrays' worth: one read, one write */
  for (; left >= 2; left -= 2, i++) memcpy(g->buf[(i + 1) % g->k], g->buf[i % g->k], (size_t)N * sizeof(float));
  if (left) memcpy(g->buf[(i + 1) % g->k], g->buf[i % g->k], (size_t)N / 2 * sizeof(float));
}

/* 3 steps from the start at 1 and at 2 threads: same bits, and p moved */
static int same_bits(rule *r) {
  int n = 1 + r->nst;
  float *snap[MAXST + 1];
  nn_tensor *arr[MAXST + 1] = {r->p, r->st[0], r->st[1], r->st[2]};
  float p0 = 0;
  int ok = 1;
  for (int threads = 1; threads <= 2; threads++) {
    nn_set_num_threads(threads);
    reset(r);
    p0 = nn_tensor_data(r->p)[12345];
    for (int s = 0; s < 3; s++) call_rule(r);
    for (int i = 0; i < n; i++) {
      size_t bytes = (size_t)N * sizeof(float);
      if (threads == 1) {
        if (!(snap[i] = malloc(bytes))) die("malloc", "out of memory");
        memcpy(snap[i], nn_tensor_data(arr[i]), bytes);
      } else {
        ok &= memcmp(snap[i], nn_tensor_data(arr[i]), bytes) == 0;
        free(snap[i]);
      }
    }
  }
  return ok && nn_tensor_data(r->p)[12345] != p0;
}

int main(void) {
  nn_ctx *ctx = nn_ctx_new();
  if (!ctx) die("nn_ctx_new", "failed");
  int64_t shape[1] = {N};
  float *pool[MAXST + 2];
  for (int i = 0; i < MAXST + 2; i++) {
    if (!(pool[i] = malloc((size_t)N * sizeof(float)))) die("malloc", "out of memory");
    memset(pool[i], 0, (size_t)N * sizeof(float));
  }
  printf("%-15s %-34s %8s %8s %8s %8s  %s\n", "rule, 1M params", "traffic per element",
         "MB/step", "GB/s", "memcpy", "ratio", "same bits 1 vs 2 threads");
  double worst = 1e9;
  for (int i = 0; i < NRULES; i++) {
    rule *r = &rules[i];
    r->ctx = ctx;
    r->p = nn_tensor_empty(ctx, 1, shape);
    r->g = nn_tensor_empty(ctx, 1, shape);
    for (int s = 0; s < r->nst; s++) r->st[s] = nn_tensor_empty(ctx, 1, shape);
    for (int s = r->nst; s < MAXST; s++) r->st[s] = NULL;
    if (!r->p || !r->g || (r->nst > 1 && !r->st[1]) || !r->st[0]) die("allocating", ctx->err);
    ring g = {{pool[0], pool[1], pool[2], pool[3], pool[4]}, r->arrays, r->moved};
    double bytes = (double)r->moved * (double)N * sizeof(float), sec[2];
    const call_fn f[2] = {call_rule, call_ring};
    void *const arg[2] = {r, &g};
    nn_set_num_threads(1);
    reset(r);
    time_calls(2, f, arg, sec);
    int same = same_bits(r);
    double ratio = sec[1] / sec[0];
    if (ratio < worst) worst = ratio;
    printf("%-15s %-34s %8.1f %8.1f %8.1f %8.2f  %s\n", r->name, r->traffic, bytes / 1e6,
           bytes / sec[0] * 1e-9, bytes / sec[1] * 1e-9, ratio, same ? "yes" : "NO");
    nn_tensor_free(r->p);
    nn_tensor_free(r->g);
    for (int s = 0; s < r->nst; s++) nn_tensor_free(r->st[s]);
  }
  printf("lowest rule / memcpy ratio: %.2f (goal >= 0.50)\n", worst);
  for (int i = 0; i < MAXST + 2; i++) free(pool[i]);
  nn_ctx_free(ctx);
  return 0;
}
