/* test_optim.c -- nn/optim.c: one step of every kernel against the formula
 * computed in double, the course's worked Adam step, SGD's first momentum
 * step, NAdam's float32 mu_product, version bumps, and the error paths
 * (shapes, contiguity, missing state). PyTorch's numbers over 50 steps are
 * checked from Lua (tests/lua/test_optim.lua). */
#include <string.h>
#include "check.h"
#include "nn/optim.h"

static nn_tensor *vec(nn_ctx *ctx, int n, const float *v) {
  int64_t shape[1] = {n};
  nn_tensor *t = nn_tensor_empty(ctx, 1, shape);
  memcpy(nn_tensor_data(t), v, sizeof(float) * (size_t)n);
  return t;
}

static float at(const nn_tensor *t, int i) { return nn_tensor_data(t)[i]; }

/* the course sheet: m = 0.5, v = 0.2, g = 2, b1 = 0.9, b2 = 0.99, lr = 0.01,
 * no bias correction => m = 0.65, v = 0.238, dw = -0.01332 */
TEST(optim_adam_worked_step) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *w = vec(ctx, 1, (float[]){1}), *g = vec(ctx, 1, (float[]){2});
  nn_tensor *m = vec(ctx, 1, (float[]){0.5f}), *v = vec(ctx, 1, (float[]){0.2f});
  nn_adam_opts o = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .bias_correction = 0};
  uint64_t ver = w->s->version;
  CHECK(nn_optim_adam(ctx, w, g, m, v, NULL, 1, &o) == 0);
  CHECK_NEAR(at(m, 0), 0.65, 1e-6);
  CHECK_NEAR(at(v, 0), 0.238, 1e-6);
  CHECK_NEAR(at(w, 0) - 1.0, -0.01332, 1e-5);
  CHECK_NEAR(at(w, 0) - 1.0, -0.01 * 0.65 / (sqrt(0.238) + 1e-8), 1e-7);
  CHECK(w->s->version == ver + 1);
  /* with bias correction (step 1): m^ = 6.5, v^ = 23.8 */
  float w0 = at(w, 0);
  nn_tensor_data(m)[0] = 0.5f; nn_tensor_data(v)[0] = 0.2f;
  o.bias_correction = 1;
  CHECK(nn_optim_adam(ctx, w, g, m, v, NULL, 1, &o) == 0);
  CHECK_NEAR(at(w, 0) - w0, -0.01 * 6.5 / (sqrt(23.8) + 1e-8), 1e-6);
  nn_tensor_free(w); nn_tensor_free(g); nn_tensor_free(m); nn_tensor_free(v);
  nn_ctx_free(ctx);
}

TEST(optim_adam_amsgrad_adamw) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *w = vec(ctx, 2, (float[]){1, -2}), *g = vec(ctx, 2, (float[]){0.1f, 0.3f});
  nn_tensor *m = vec(ctx, 2, (float[]){0, 0}), *v = vec(ctx, 2, (float[]){0, 0});
  nn_tensor *vm = vec(ctx, 2, (float[]){0.5f, 0});
  nn_adam_opts o = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.5,
                    .amsgrad = 1, .decoupled = 1, .bias_correction = 1};
  CHECK(nn_optim_adam(ctx, w, g, m, v, vm, 1, &o) == 0);
  CHECK_NEAR(at(vm, 0), 0.5, 0);                     /* the max kept the larger */
  CHECK_NEAR(at(vm, 1), 0.001 * 0.09, 1e-9);
  /* element 1: p = -2 (1 - 0.05); m^ = 0.3, v^ = 0.09 => step 0.1 * 0.3 / 0.3 */
  CHECK_NEAR(at(w, 1), -2 * 0.95 - 0.1, 1e-6);
  /* element 0: vmax^ = 0.5 / 0.001 */
  CHECK_NEAR(at(w, 0), 0.95 - 0.1 * 0.1 / (sqrt(500.0) + 1e-8), 1e-6);
  o.amsgrad = 1;
  CHECK(nn_optim_adam(ctx, w, g, m, v, NULL, 2, &o) == NN_EARG);
  nn_tensor_free(w); nn_tensor_free(g); nn_tensor_free(m); nn_tensor_free(v); nn_tensor_free(vm);
  nn_ctx_free(ctx);
}

TEST(optim_sgd_momentum_nesterov) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *w = vec(ctx, 2, (float[]){1, 2}), *g = vec(ctx, 2, (float[]){1, -1});
  nn_tensor *buf = vec(ctx, 2, (float[]){99, 99});
  nn_sgd_opts o = {.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .weight_decay = 0.1, .nesterov = 0};
  CHECK(nn_optim_sgd(ctx, w, g, buf, &o, 1) == 0);   /* first: buf = g + wd p (no dampening) */
  CHECK_NEAR(at(buf, 0), 1.1, 1e-6);
  CHECK_NEAR(at(buf, 1), -0.8, 1e-6);
  CHECK_NEAR(at(w, 0), 1 - 0.11, 1e-6);
  CHECK_NEAR(at(w, 1), 2 + 0.08, 1e-6);
  double p0 = at(w, 0), d0 = 1 + 0.1 * p0, b0 = 0.9 * 1.1 + 0.5 * d0;
  CHECK(nn_optim_sgd(ctx, w, g, buf, &o, 0) == 0);
  CHECK_NEAR(at(buf, 0), b0, 1e-6);
  CHECK_NEAR(at(w, 0), p0 - 0.1 * b0, 1e-6);
  o.nesterov = 1; o.dampening = 0; o.weight_decay = 0;
  p0 = at(w, 0); b0 = 0.9 * at(buf, 0) + 1;
  CHECK(nn_optim_sgd(ctx, w, g, buf, &o, 0) == 0);
  CHECK_NEAR(at(w, 0), p0 - 0.1 * (1 + 0.9 * b0), 1e-6);
  o.momentum = 0;                                     /* plain SGD needs no buffer */
  p0 = at(w, 0);
  CHECK(nn_optim_sgd(ctx, w, g, NULL, &o, 0) == 0);
  CHECK_NEAR(at(w, 0), p0 - 0.1, 1e-6);
  o.momentum = 0.9;
  CHECK(nn_optim_sgd(ctx, w, g, NULL, &o, 0) == NN_EARG);
  nn_tensor_free(w); nn_tensor_free(g); nn_tensor_free(buf);
  nn_ctx_free(ctx);
}

TEST(optim_rmsprop_adagrad_adadelta_adamax) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *w = vec(ctx, 1, (float[]){1}), *g = vec(ctx, 1, (float[]){2});
  nn_tensor *a = vec(ctx, 1, (float[]){0}), *b = vec(ctx, 1, (float[]){0}), *c = vec(ctx, 1, (float[]){0});
  /* RMSprop centered with momentum: sq = 0.04, ga = 0.2, avg = sqrt(0.04 - 0.04) + eps */
  nn_rmsprop_opts r = {.lr = 0.01, .alpha = 0.99, .eps = 1e-2, .momentum = 0.9, .centered = 1};
  CHECK(nn_optim_rmsprop(ctx, w, g, a, b, c, &r) == 0);
  CHECK_NEAR(at(a, 0), 0.04, 1e-7);
  CHECK_NEAR(at(b, 0), 0.02, 1e-7);
  double avg = sqrt(0.04 - 0.02 * 0.02) + 1e-2;
  CHECK_NEAR(at(c, 0), 2 / avg, 1e-4);
  CHECK_NEAR(at(w, 0), 1 - 0.01 * 2 / avg, 1e-6);
  /* Adagrad with lr_decay at step 3: clr = lr / (1 + 2 lr_decay) */
  nn_tensor_data(w)[0] = 1; nn_tensor_data(a)[0] = 0.5f;
  nn_adagrad_opts ag = {.lr = 0.1, .lr_decay = 0.5, .eps = 1e-10};
  CHECK(nn_optim_adagrad(ctx, w, g, a, 3, &ag) == 0);
  CHECK_NEAR(at(a, 0), 4.5, 1e-6);
  CHECK_NEAR(at(w, 0), 1 - 0.05 * 2 / sqrt(4.5), 1e-6);
  /* Adadelta from zero state */
  nn_tensor_data(w)[0] = 1; nn_tensor_data(a)[0] = 0; nn_tensor_data(b)[0] = 0;
  nn_adadelta_opts ad = {.lr = 1, .rho = 0.9, .eps = 1e-6};
  CHECK(nn_optim_adadelta(ctx, w, g, a, b, &ad) == 0);
  double d = sqrt(1e-6) / sqrt(0.4 + 1e-6) * 2;
  CHECK_NEAR(at(a, 0), 0.4, 1e-7);
  CHECK_NEAR(at(b, 0), 0.1 * d * d, 1e-10);
  CHECK_NEAR(at(w, 0), 1 - d, 1e-7);
  /* Adamax step 1: m = 0.2, u = |g| + eps, p -= lr/0.1 * 0.2/2 */
  nn_tensor_data(w)[0] = 1; nn_tensor_data(a)[0] = 0; nn_tensor_data(b)[0] = 0;
  nn_adamax_opts ax = {.lr = 0.002, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  CHECK(nn_optim_adamax(ctx, w, g, a, b, 1, &ax) == 0);
  CHECK_NEAR(at(b, 0), 2, 1e-6);
  CHECK_NEAR(at(w, 0), 1 - 0.002, 1e-6);
  nn_tensor_free(w); nn_tensor_free(g); nn_tensor_free(a); nn_tensor_free(b); nn_tensor_free(c);
  nn_ctx_free(ctx);
}

/* NAdam (2.x): mu_product is kept in float32 and the next product is prod * mu_{t+1} */
TEST(optim_nadam_mu_product) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *w = vec(ctx, 1, (float[]){1}), *g = vec(ctx, 1, (float[]){2});
  nn_tensor *m = vec(ctx, 1, (float[]){0}), *v = vec(ctx, 1, (float[]){0});
  nn_nadam_opts o = {.lr = 0.002, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum_decay = 4e-3};
  double prod = 1;
  CHECK(nn_optim_nadam(ctx, w, g, m, v, 1, &prod, &o) == 0);
  double mu1 = 0.9 * (1 - 0.5 * pow(0.96, 0.004)), mu2 = 0.9 * (1 - 0.5 * pow(0.96, 0.008));
  CHECK(prod == (double)(float)mu1);
  double denom = sqrt(0.004 / 0.001) + 1e-8;
  double want = 1 - 0.002 * (1 - mu1) / (1 - prod) * 2 / denom - 0.002 * mu2 / (1 - prod * mu2) * 0.2 / denom;
  CHECK_NEAR(at(w, 0), want, 1e-6);
  nn_tensor_free(w); nn_tensor_free(g); nn_tensor_free(m); nn_tensor_free(v);
  nn_ctx_free(ctx);
}

TEST(optim_errors) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s34[2] = {3, 4}, s43[2] = {4, 3}, s5[1] = {5};
  nn_tensor *w = nn_tensor_zeros(ctx, 2, s34), *g = nn_tensor_zeros(ctx, 2, s34);
  nn_tensor *g43 = nn_tensor_zeros(ctx, 2, s43), *gt = nn_tensor_transpose(ctx, g43, 0, 1);
  nn_tensor *g5 = nn_tensor_zeros(ctx, 1, s5), *m = nn_tensor_zeros(ctx, 2, s34);
  nn_sgd_opts o = {.lr = 0.1};
  uint64_t ver = w->s->version;
  CHECK(nn_optim_sgd(ctx, w, g5, NULL, &o, 0) == NN_EARG);
  CHECK(strcmp(ctx->err, "sgd: grad has shape [5] but the parameter has shape [3, 4]") == 0);
  CHECK(nn_optim_sgd(ctx, w, gt, NULL, &o, 0) == NN_EARG);
  CHECK(strcmp(ctx->err, "sgd: grad is not contiguous") == 0);
  CHECK(nn_optim_sgd(ctx, gt, gt, NULL, &o, 0) == NN_EARG);
  CHECK(strcmp(ctx->err, "sgd: parameter is not contiguous") == 0);
  nn_adam_opts ao = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.9, .bias_correction = 1};
  CHECK(nn_optim_adam(ctx, w, g, m, g43, NULL, 1, &ao) == NN_EARG);
  CHECK(strcmp(ctx->err, "adam: exp_avg_sq has shape [4, 3] but the parameter has shape [3, 4]") == 0);
  CHECK(nn_optim_adam(ctx, w, g, m, m, NULL, 0, &ao) == NN_EARG);
  CHECK(strstr(ctx->err, "step must be >= 1") != NULL);
  CHECK(nn_optim_adam(ctx, w, g, NULL, m, NULL, 1, &ao) == NN_EARG);
  double prod = 1;
  nn_nadam_opts no = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.9};
  CHECK(nn_optim_nadam(ctx, w, g, m, gt, 1, &prod, &no) == NN_EARG);
  CHECK(strcmp(ctx->err, "nadam: exp_avg_sq is not contiguous") == 0);
  CHECK(prod == 1);
  CHECK(w->s->version == ver);                       /* nothing changed */
  nn_tensor *ts[] = {w, g, g43, gt, g5, m};
  for (int i = 0; i < 6; i++) nn_tensor_free(ts[i]);
  nn_ctx_free(ctx);
}
