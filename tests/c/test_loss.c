/* test_loss.c -- nn/loss.c: hand-checked values, gradients against central
 * finite differences, large logits, errors, and every case of
 * tests/fixtures/losses.lua (PyTorch's numbers, read with the Lua C API). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/autograd.h"
#include "nn/loss.h"

enum which { W_CE, W_NLL, W_MSE, W_L1, W_BCE, W_BCEL, W_HUBER, W_UNKNOWN };
struct opts { nn_tensor *weight; float smooth, delta; enum nn_reduction red; };

static nn_tensor *mk(nn_ctx *ctx, int ndim, const int64_t *shape, const float *v, int rg) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  if (!t) return NULL;
  memcpy(nn_tensor_data(t), v, (size_t)nn_tensor_numel(t) * sizeof *v);
  t->requires_grad = rg;
  return t;
}

static nn_tensor *run(nn_ctx *ctx, enum which w, nn_tensor *x, nn_tensor *y, const struct opts *o) {
  switch (w) {
  case W_CE: return nn_cross_entropy(ctx, x, y, o->weight, o->smooth, o->red);
  case W_NLL: return nn_nll_loss(ctx, x, y, o->weight, o->red);
  case W_MSE: return nn_mse_loss(ctx, x, y, o->red);
  case W_L1: return nn_l1_loss(ctx, x, y, o->red);
  case W_BCE: return nn_bce_loss(ctx, x, y, o->red);
  case W_BCEL: return nn_bce_with_logits_loss(ctx, x, y, o->red);
  case W_HUBER: return nn_huber_loss(ctx, x, y, o->delta, o->red);
  default: return NULL;
  }
}

/* sum_i gout_i loss_i (gout NULL: the one value), without recording */
static double weighted(nn_ctx *ctx, enum which w, nn_tensor *x, nn_tensor *y, const struct opts *o,
                       const float *gout) {
  int was = ctx->grad_enabled;
  ctx->grad_enabled = 0;
  nn_tensor *out = run(ctx, w, x, y, o);
  ctx->grad_enabled = was;
  if (!out) return NAN;
  double s = 0;
  for (int64_t i = 0; i < nn_tensor_numel(out); i++)
    s += (gout ? gout[i] : 1.0) * nn_tensor_data(out)[i];
  nn_tensor_free(out);
  return s;
}

/* largest |analytic - central difference| of the gradient w.r.t. input wrt (0: x, 1: y) */
static double fd_check(nn_ctx *ctx, enum which w, nn_tensor *x, nn_tensor *y, const struct opts *o,
                       int wrt, const float *gout, double h) {
  nn_tensor *t = wrt ? y : x, *g = NULL;
  t->requires_grad = 1;
  nn_tensor *out = run(ctx, w, x, y, o);
  if (!out) return INFINITY;
  if (gout) g = mk(ctx, out->ndim, out->shape, gout, 0);
  int rc = nn_backward(ctx, out, g, 0);
  nn_tensor_free(out);
  nn_tensor_free(g);
  if (rc || !t->grad) return INFINITY;
  double worst = 0;
  float *d = nn_tensor_data(t);
  for (int64_t i = 0; i < nn_tensor_numel(t); i++) {
    float keep = d[i];
    d[i] = keep + (float)h;
    double up = weighted(ctx, w, x, y, o, gout);
    d[i] = keep - (float)h;
    double down = weighted(ctx, w, x, y, o, gout);
    d[i] = keep;
    double diff = fabs((up - down) / (2 * h) - nn_tensor_data(t->grad)[i]);
    if (diff > worst) worst = diff;
  }
  nn_tensor_free(t->grad);
  t->grad = NULL;
  t->requires_grad = 0;
  return worst;
}

static float value_of(nn_tensor *t) { return t ? nn_tensor_data(t)[0] : NAN; }

/* ---- hand-checked values ---- */

TEST(loss_values) {
  nn_ctx *ctx = nn_ctx_new();
  struct opts o = {NULL, 0, 1, NN_RED_MEAN};
  int64_t s12[] = {1, 2}, s1[] = {1}, s2[] = {2};
  nn_tensor *z = mk(ctx, 2, s12, (float[]){0, 0}, 0), *t1 = mk(ctx, 1, s1, (float[]){1}, 0);
  nn_tensor *out = nn_cross_entropy(ctx, z, t1, NULL, 0, NN_RED_MEAN);
  CHECK_NEAR(value_of(out), log(2.0), 1e-6);         /* uniform over 2 classes */
  CHECK(out && out->ndim == 0);
  nn_tensor_free(out);
  out = nn_nll_loss(ctx, z, t1, NULL, NN_RED_SUM);
  CHECK_NEAR(value_of(out), 0, 0);
  nn_tensor_free(out);
  nn_tensor *a = mk(ctx, 1, s2, (float[]){1, 2}, 0), *b = mk(ctx, 1, s2, (float[]){3, 5}, 0);
  out = nn_mse_loss(ctx, a, b, NN_RED_MEAN);           /* (4 + 9) / 2 */
  CHECK_NEAR(value_of(out), 6.5, 1e-6);
  nn_tensor_free(out);
  out = nn_l1_loss(ctx, a, b, NN_RED_SUM);             /* 2 + 3 */
  CHECK_NEAR(value_of(out), 5, 1e-6);
  nn_tensor_free(out);
  out = nn_huber_loss(ctx, a, b, 1.0f, NN_RED_NONE);   /* 1 (2 - 0.5), 1 (3 - 0.5) */
  CHECK(out && out->ndim == 1 && out->shape[0] == 2);
  CHECK_NEAR(out ? nn_tensor_data(out)[0] : NAN, 1.5, 1e-6);
  CHECK_NEAR(out ? nn_tensor_data(out)[1] : NAN, 2.5, 1e-6);
  nn_tensor_free(out);
  nn_tensor *p = mk(ctx, 1, s2, (float[]){0.5f, 0.25f}, 0), *y = mk(ctx, 1, s2, (float[]){1, 0}, 0);
  out = nn_bce_loss(ctx, p, y, NN_RED_SUM);            /* -log 0.5 - log 0.75 */
  CHECK_NEAR(value_of(out), -log(0.5) - log(0.75), 1e-6);
  nn_tensor_free(out);
  nn_tensor *zero = mk(ctx, 1, s2, (float[]){0, 1}, 0), *one = mk(ctx, 1, s2, (float[]){1, 0}, 0);
  out = nn_bce_loss(ctx, zero, one, NN_RED_MEAN);      /* log clamped at -100 */
  CHECK_NEAR(value_of(out), 100, 1e-4);
  nn_tensor_free(out);
  out = nn_bce_with_logits_loss(ctx, zero, one, NN_RED_SUM);   /* log 2 + (log(1 + e) - 1 + ... ) */
  CHECK_NEAR(value_of(out), log(2.0) + log1p(exp(1.0)), 1e-6);
  nn_tensor_free(out);
  /* class weights: mean divides by the weights of the targets, 0.5 * 0 ... */
  int64_t s22[] = {2, 2};
  nn_tensor *lp = mk(ctx, 2, s22, (float[]){-1, -2, -3, -4}, 0), *t12 = mk(ctx, 1, s2, (float[]){1, 2}, 0);
  nn_tensor *w = mk(ctx, 1, s2, (float[]){1, 3}, 0);
  out = nn_nll_loss(ctx, lp, t12, w, NN_RED_MEAN);     /* (1 * 1 + 3 * 4) / (1 + 3) */
  CHECK_NEAR(value_of(out), 13.0 / 4, 1e-6);
  nn_tensor_free(out);
  (void)o;
  nn_tensor_free(z); nn_tensor_free(t1); nn_tensor_free(a); nn_tensor_free(b);
  nn_tensor_free(p); nn_tensor_free(y); nn_tensor_free(zero); nn_tensor_free(one);
  nn_tensor_free(lp); nn_tensor_free(t12); nn_tensor_free(w);
  nn_ctx_free(ctx);
}

/* ---- gradients against finite differences ---- */

static const float X12[] = {0.3f, -1.2f, 2.1f, 0.7f, -0.4f, 1.6f, -2.2f, 0.05f, 0.9f, -0.8f, 1.3f, -1.7f};
static const float Y12[] = {-0.6f, 0.4f, 1.1f, 2.0f, 0.8f, -0.3f, -1.5f, 1.2f, 0.1f, 0.6f, -2.0f, -1.1f};
static const float P12[] = {0.2f, 0.7f, 0.45f, 0.9f, 0.1f, 0.6f, 0.35f, 0.8f, 0.55f, 0.25f, 0.05f, 0.95f};
static const float G12[] = {0.5f, -1.0f, 2.0f, 0.25f, 1.5f, -0.75f, 1.0f, 0.3f, -0.2f, 0.8f, 1.1f, -0.6f};

TEST(loss_grad_fd_elementwise) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s34[] = {3, 4};
  enum which ws[] = {W_MSE, W_L1, W_BCE, W_BCEL, W_HUBER};
  enum nn_reduction reds[] = {NN_RED_MEAN, NN_RED_SUM, NN_RED_NONE};
  for (size_t i = 0; i < sizeof ws / sizeof *ws; i++)
    for (size_t r = 0; r < 3; r++) {
      struct opts o = {NULL, 0, 0.8f, reds[r]};
      nn_tensor *x = mk(ctx, 2, s34, ws[i] == W_BCE ? P12 : X12, 0);
      nn_tensor *y = mk(ctx, 2, s34, ws[i] == W_BCE || ws[i] == W_BCEL ? P12 : Y12, 0);
      const float *g = reds[r] == NN_RED_NONE ? G12 : NULL;
      double dx = fd_check(ctx, ws[i], x, y, &o, 0, g, 1e-3);
      double dy = fd_check(ctx, ws[i], x, y, &o, 1, g, 1e-3);
      if (dx > 2e-3 || dy > 2e-3) fprintf(stderr, "  loss %d reduction %d: dx %g dy %g\n", ws[i], reds[r], dx, dy);
      CHECK(dx <= 2e-3);
      CHECK(dy <= 2e-3);
      nn_tensor_free(x);
      nn_tensor_free(y);
    }
  nn_ctx_free(ctx);
}

TEST(loss_grad_fd_classes) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s34[] = {3, 4}, s3[] = {3}, s4[] = {4};
  float probs[12];
  for (int i = 0; i < 12; i++) probs[i] = P12[i] / (P12[i / 4 * 4] + P12[i / 4 * 4 + 1] +
                                                     P12[i / 4 * 4 + 2] + P12[i / 4 * 4 + 3]);
  nn_tensor *w = mk(ctx, 1, s4, (float[]){0.5f, 2.0f, 1.0f, 1.5f}, 0);
  enum nn_reduction reds[] = {NN_RED_MEAN, NN_RED_SUM, NN_RED_NONE};
  const float G3[] = {0.7f, -1.3f, 2.0f};
  for (size_t r = 0; r < 3; r++)
    for (int variant = 0; variant < 4; variant++) {      /* plain, weight, smoothing, both */
      struct opts o = {variant & 1 ? w : NULL, variant & 2 ? 0.1f : 0, 1, reds[r]};
      nn_tensor *x = mk(ctx, 2, s34, X12, 0), *t = mk(ctx, 1, s3, (float[]){2, 4, 1}, 0);
      nn_tensor *y = mk(ctx, 2, s34, probs, 0);
      const float *g = reds[r] == NN_RED_NONE ? G3 : NULL;
      double ce = fd_check(ctx, W_CE, x, t, &o, 0, g, 1e-3);
      double cep = fd_check(ctx, W_CE, x, y, &o, 0, g, 1e-3);
      double cey = fd_check(ctx, W_CE, x, y, &o, 1, g, 1e-3);
      o.smooth = 0;
      double nll = fd_check(ctx, W_NLL, x, t, &o, 0, g, 1e-3);
      if (ce > 2e-3 || cep > 2e-3 || cey > 2e-3 || nll > 2e-3)
        fprintf(stderr, "  reduction %d variant %d: ce %g ce-probs %g ce-target %g nll %g\n",
                reds[r], variant, ce, cep, cey, nll);
      CHECK(ce <= 2e-3 && cep <= 2e-3 && cey <= 2e-3 && nll <= 2e-3);
      nn_tensor_free(x); nn_tensor_free(t); nn_tensor_free(y);
    }
  nn_tensor_free(w);
  nn_ctx_free(ctx);
}

TEST(loss_large_logits) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s23[] = {2, 3}, s2[] = {2};
  nn_tensor *x = mk(ctx, 2, s23, (float[]){1e4f, -1e4f, 0, 3e4f, 3e4f, -5e4f}, 1);
  nn_tensor *t = mk(ctx, 1, s2, (float[]){2, 1}, 0);
  nn_tensor *out = nn_cross_entropy(ctx, x, t, NULL, 0.1f, NN_RED_MEAN);
  CHECK(out && isfinite(value_of(out)));
  /* row 1: (0.9 * 2e4 + 0.1 / 3 * (0 + 2e4 + 1e4)); row 2: 0.9 log 2 + 0.1 / 3 (3 log 2 + 8e4) */
  double want = (0.9 * 2e4 + 0.1 / 3 * 3e4 + 0.9 * log(2.0) + 0.1 / 3 * (3 * log(2.0) + 8e4)) / 2;
  CHECK_NEAR(value_of(out), want, 1e-2);
  CHECK(out && nn_backward(ctx, out, NULL, 0) == 0);
  int finite = x->grad != NULL;
  for (int i = 0; finite && i < 6; i++) finite = isfinite(nn_tensor_data(x->grad)[i]);
  CHECK(finite);
  if (x->grad) {                                      /* row 1: (0.1/3 + 0.9 [k=1] ... ) */
    CHECK_NEAR(nn_tensor_data(x->grad)[0], (1 - 0.1 / 3) / 2, 1e-6);
    CHECK_NEAR(nn_tensor_data(x->grad)[1], (0 - 0.9 - 0.1 / 3) / 2, 1e-6);
    CHECK_NEAR(nn_tensor_data(x->grad)[3], (0.5 - 0.9 - 0.1 / 3) / 2, 1e-6);
  }
  nn_tensor_free(out);
  nn_tensor *y = mk(ctx, 2, s23, (float[]){1, 0, 1, 0.5f, 0, 1}, 0);
  out = nn_bce_with_logits_loss(ctx, x, y, NN_RED_SUM);
  CHECK(out && isfinite(value_of(out)));
  nn_tensor_free(out);
  nn_tensor_free(x); nn_tensor_free(t); nn_tensor_free(y);
  nn_ctx_free(ctx);
}

/* loss of x against y with reduction red, and x's gradient in g[0..n) (NULL: none) */
static double loss_and_grad(nn_ctx *ctx, enum which w, int ndim, const int64_t *shape,
                            const float *xv, nn_tensor *y, const struct opts *o, float *g) {
  nn_tensor *x = mk(ctx, ndim, shape, xv, 1);
  nn_tensor *out = x ? run(ctx, w, x, y, o) : NULL;
  double v = out ? value_of(out) : NAN;
  if (out && nn_backward(ctx, out, NULL, 0) == 0 && x->grad && g)
    memcpy(g, nn_tensor_data(x->grad), (size_t)nn_tensor_numel(x) * sizeof *g);
  else if (g) g[0] = NAN;
  nn_tensor_free(out);
  nn_tensor_free(x);
  return v;
}

/* Logits so large that m + log(sum) rounds the log away (issue 13): the
 * fused kernel keeps lse - z_k = (m - z_k) + log(sum). */
TEST(loss_huge_logits_exact) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s12[] = {1, 2}, s14[] = {1, 4}, s13[] = {1, 3}, s1[] = {1};
  nn_tensor *t1 = mk(ctx, 1, s1, (float[]){1}, 0), *t2 = mk(ctx, 1, s1, (float[]){2}, 0);
  struct opts o = {NULL, 0, 1, NN_RED_MEAN};
  float g[4];
  CHECK_NEAR(loss_and_grad(ctx, W_CE, 2, s12, (float[]){1e20f, 1e20f}, t1, &o, g), log(2.0), 1e-6);
  CHECK_NEAR(g[0], -0.5, 1e-6);
  CHECK_NEAR(g[1], 0.5, 1e-6);
  CHECK_NEAR(loss_and_grad(ctx, W_CE, 2, s14, (float[]){1e16f, 1e16f, 1e16f, 1e16f}, t2, &o, g),
             log(4.0), 1e-6);
  CHECK_NEAR(g[1], -0.75, 1e-6);
  CHECK_NEAR(g[3], 0.25, 1e-6);
  CHECK_NEAR(loss_and_grad(ctx, W_CE, 2, s12, (float[]){-1e20f, -1e20f}, t1, &o, g), log(2.0), 1e-6);
  /* label smoothing 0.2: coefficients 0.9 and 0.1, loss (0.9 + 0.1) log 2 */
  o.smooth = 0.2f;
  CHECK_NEAR(loss_and_grad(ctx, W_CE, 2, s12, (float[]){1e20f, 1e20f}, t1, &o, g), log(2.0), 1e-6);
  CHECK_NEAR(g[0], -0.4, 1e-6);
  CHECK_NEAR(g[1], 0.4, 1e-6);
  o.smooth = 0;
  /* probabilities as targets: grad softmax - p; and the target's grad -log softmax */
  nn_tensor *p = mk(ctx, 2, s12, (float[]){0.3f, 0.7f}, 1);
  nn_tensor *x = mk(ctx, 2, s12, (float[]){1e20f, 1e20f}, 1);
  nn_tensor *out = nn_cross_entropy(ctx, x, p, NULL, 0, NN_RED_SUM);
  CHECK_NEAR(value_of(out), log(2.0), 1e-6);
  CHECK(out && nn_backward(ctx, out, NULL, 0) == 0 && x->grad && p->grad);
  if (x->grad && p->grad) {
    CHECK_NEAR(nn_tensor_data(x->grad)[0], 0.2, 1e-6);
    CHECK_NEAR(nn_tensor_data(p->grad)[1], log(2.0), 1e-6);
  }
  nn_tensor_free(out); nn_tensor_free(x); nn_tensor_free(p);
  /* class weights: the weighted mean divides by the target's weight */
  o.weight = mk(ctx, 1, (int64_t[]){3}, (float[]){2, 1, 5}, 0);
  CHECK_NEAR(loss_and_grad(ctx, W_CE, 2, s13, (float[]){1e20f, 1e20f, -1e20f}, t1, &o, g), log(2.0), 1e-6);
  CHECK_NEAR(g[0], -0.5, 1e-6);
  CHECK_NEAR(g[2], 0, 1e-12);
  nn_tensor_free(o.weight);
  o.weight = NULL;
  /* the composite: nll_loss(log_softmax) agrees */
  nn_tensor *z = mk(ctx, 2, s14, (float[]){1e16f, 1e16f, 1e16f, 1e16f}, 0);
  nn_tensor *lz = nn_ag_softmax(ctx, z, 1, 1);
  out = lz ? nn_nll_loss(ctx, lz, t2, NULL, NN_RED_MEAN) : NULL;
  CHECK_NEAR(value_of(out), log(4.0), 1e-6);
  nn_tensor_free(out); nn_tensor_free(lz); nn_tensor_free(z);
  /* BCE with logits of +-1e20: 0 when right, 1e20 when wrong, 5e19 for y = 0.5 */
  nn_tensor *y = mk(ctx, 1, (int64_t[]){4}, (float[]){1, 0, 0.5f, 0}, 0);
  o.red = NN_RED_NONE;
  x = mk(ctx, 1, (int64_t[]){4}, (float[]){1e20f, -1e20f, 1e20f, 1e20f}, 1);
  out = nn_bce_with_logits_loss(ctx, x, y, NN_RED_NONE);
  CHECK(out != NULL);
  if (out) {
    CHECK_NEAR(nn_tensor_data(out)[0], 0, 1e-6);
    CHECK_NEAR(nn_tensor_data(out)[1], 0, 1e-6);
    CHECK_NEAR(nn_tensor_data(out)[2] / 5e19, 1, 1e-6);
    CHECK_NEAR(nn_tensor_data(out)[3] / 1e20, 1, 1e-6);
  }
  nn_tensor_free(out);
  out = nn_bce_with_logits_loss(ctx, x, y, NN_RED_SUM);
  CHECK(out && nn_backward(ctx, out, NULL, 0) == 0 && x->grad);
  if (x->grad) {               /* sigmoid(x) - y */
    CHECK_NEAR(nn_tensor_data(x->grad)[0], 0, 1e-6);
    CHECK_NEAR(nn_tensor_data(x->grad)[1], 0, 1e-6);
    CHECK_NEAR(nn_tensor_data(x->grad)[2], 0.5, 1e-6);
    CHECK_NEAR(nn_tensor_data(x->grad)[3], 1, 1e-6);
  }
  nn_tensor_free(out); nn_tensor_free(x);
  /* Huber and MSE of huge differences: exact where float can hold them */
  nn_tensor *y0 = mk(ctx, 1, s1, (float[]){0}, 0);
  o.red = NN_RED_SUM;
  o.delta = 1;
  CHECK_NEAR(loss_and_grad(ctx, W_HUBER, 1, s1, (float[]){1e20f}, y0, &o, g) / 1e20, 1, 1e-6);
  CHECK_NEAR(g[0], 1, 1e-12);
  CHECK_NEAR(loss_and_grad(ctx, W_MSE, 1, s1, (float[]){1e18f}, y0, &o, g) / 1e36, 1, 1e-6);
  CHECK_NEAR(g[0] / 2e18, 1, 1e-6);
  CHECK(isinf(loss_and_grad(ctx, W_MSE, 1, s1, (float[]){1e20f}, y0, &o, g)));   /* 1e40 > FLT_MAX */
  CHECK_NEAR(loss_and_grad(ctx, W_L1, 1, s1, (float[]){-3e38f}, y0, &o, g) / 3e38, 1, 1e-6);
  CHECK_NEAR(g[0], -1, 1e-12);
  nn_tensor_free(y0); nn_tensor_free(y); nn_tensor_free(t1); nn_tensor_free(t2);
  nn_ctx_free(ctx);
}

TEST(loss_autograd_names) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s22[] = {2, 2}, s2[] = {2};
  nn_tensor *x = mk(ctx, 2, s22, (float[]){0.1f, 0.2f, 0.3f, 0.4f}, 1);
  nn_tensor *y = mk(ctx, 2, s22, (float[]){0.5f, 0.6f, 0.7f, 0.8f}, 0);
  nn_tensor *t = mk(ctx, 1, s2, (float[]){1, 2}, 0);
  struct { nn_tensor *out; const char *name; } cases[] = {
    {nn_cross_entropy(ctx, x, t, NULL, 0, NN_RED_MEAN), "CrossEntropyLossBackward0"},
    {nn_nll_loss(ctx, x, t, NULL, NN_RED_MEAN), "NllLossBackward0"},
    {nn_mse_loss(ctx, x, y, NN_RED_MEAN), "MseLossBackward0"},
    {nn_l1_loss(ctx, x, y, NN_RED_MEAN), "L1LossBackward0"},
    {nn_bce_loss(ctx, x, y, NN_RED_MEAN), "BinaryCrossEntropyBackward0"},
    {nn_bce_with_logits_loss(ctx, x, y, NN_RED_MEAN), "BinaryCrossEntropyWithLogitsBackward0"},
    {nn_huber_loss(ctx, x, y, 1, NN_RED_MEAN), "HuberLossBackward0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *name = cases[i].out ? nn_grad_fn_name(cases[i].out) : NULL;
    CHECK(name && strcmp(name, cases[i].name) == 0);
    nn_tensor_free(cases[i].out);
  }
  ctx->grad_enabled = 0;                               /* no_grad: nothing recorded */
  nn_tensor *out = nn_mse_loss(ctx, x, y, NN_RED_MEAN);
  CHECK(out && out->node == NULL && !out->requires_grad);
  nn_tensor_free(out);
  nn_tensor_free(x); nn_tensor_free(y); nn_tensor_free(t);
  nn_ctx_free(ctx);
}

/* ---- errors ---- */

static int fails_with(nn_ctx *ctx, nn_tensor *out, const char *want) {
  int ok = out == NULL && strstr(ctx->err, want) != NULL;
  if (!ok) fprintf(stderr, "  expected an error containing \"%s\", got %s\n", want, out ? "a result" : ctx->err);
  nn_tensor_free(out);
  return ok;
}

TEST(loss_errors) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t s210[] = {2, 10}, s2[] = {2}, s3[] = {3}, s23[] = {2, 3}, s32[] = {3, 2};
  float zeros[20] = {0};
  nn_tensor *x = mk(ctx, 2, s210, zeros, 1);
  nn_tensor *t11 = mk(ctx, 1, s2, (float[]){1, 11}, 0), *t0 = mk(ctx, 1, s2, (float[]){0, 1}, 0);
  nn_tensor *t25 = mk(ctx, 1, s2, (float[]){2.5f, 1}, 0), *t3 = mk(ctx, 1, s3, (float[]){1, 2, 3}, 0);
  nn_tensor *tn = mk(ctx, 1, s2, (float[]){NAN, 1}, 0);
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t11, NULL, 0, NN_RED_MEAN),
                   "cross_entropy: target 11 is out of range for 10 classes (targets are 1-based)"));
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t0, NULL, 0, NN_RED_MEAN),
                   "cross_entropy: target 0 is out of range for 10 classes (targets are 1-based)"));
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t25, NULL, 0, NN_RED_MEAN),
                   "cross_entropy: target 2.5 is not a whole number"));
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, tn, NULL, 0, NN_RED_MEAN), "cross_entropy: target nan"));
  CHECK(fails_with(ctx, nn_nll_loss(ctx, x, t11, NULL, NN_RED_SUM),
                   "nll_loss: target 11 is out of range for 10 classes"));
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t3, NULL, 0, NN_RED_MEAN),
                   "cross_entropy: input [2, 10] and target [3] do not match"));
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t0, t3, 0, NN_RED_MEAN),
                   "cross_entropy: weight [3] should be [10], one per class"));
  nn_tensor *t12 = mk(ctx, 1, s2, (float[]){1, 2}, 0);
  CHECK(fails_with(ctx, nn_cross_entropy(ctx, x, t12, NULL, 1.5f, NN_RED_MEAN),
                   "cross_entropy: label_smoothing must be between 0 and 1 (got 1.5)"));
  nn_tensor *a = mk(ctx, 2, s23, zeros, 0), *b = mk(ctx, 2, s32, zeros, 0);
  CHECK(fails_with(ctx, nn_mse_loss(ctx, a, b, NN_RED_MEAN),
                   "mse_loss: input [2, 3] and target [3, 2] must have the same shape"));
  CHECK(fails_with(ctx, nn_huber_loss(ctx, a, b, 1, NN_RED_MEAN), "huber_loss: input [2, 3] and target [3, 2]"));
  CHECK(fails_with(ctx, nn_huber_loss(ctx, a, a, 0, NN_RED_MEAN), "huber_loss: delta must be greater than 0"));
  nn_tensor *p = mk(ctx, 1, s2, (float[]){0.5f, 1.5f}, 0);
  CHECK(fails_with(ctx, nn_bce_loss(ctx, p, t12, NN_RED_MEAN),
                   "binary_cross_entropy: input values must be between 0 and 1 (got 1.5 at element 2"));
  nn_tensor_free(x); nn_tensor_free(t11); nn_tensor_free(t0); nn_tensor_free(t25);
  nn_tensor_free(t3); nn_tensor_free(tn); nn_tensor_free(t12); nn_tensor_free(a);
  nn_tensor_free(b); nn_tensor_free(p);
  nn_ctx_free(ctx);
}

/* ---- PyTorch's numbers: tests/fixtures/losses.lua ---- */

/* {shape = {...}, data = {...}} at the top of L's stack -> a new tensor (NULL for false) */
static nn_tensor *read_tensor(lua_State *L, nn_ctx *ctx, int rg) {
  if (!lua_istable(L, -1)) return NULL;
  int64_t shape[NN_MAXDIM];
  lua_getfield(L, -1, "shape");
  int nd = (int)luaL_len(L, -1);
  for (int d = 0; d < nd; d++) {
    lua_geti(L, -1, d + 1);
    shape[d] = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  nn_tensor *t = nn_tensor_empty(ctx, nd, shape);
  lua_getfield(L, -1, "data");
  for (int64_t i = 0; t && i < nn_tensor_numel(t); i++) {
    lua_geti(L, -1, i + 1);
    nn_tensor_data(t)[i] = (float)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (t) t->requires_grad = rg;
  return t;
}

static enum which which_of(const char *fn) {
  static const char *names[] = {"cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
                                "binary_cross_entropy_with_logits", "huber_loss"};
  for (int i = 0; i < W_UNKNOWN; i++) if (strcmp(fn, names[i]) == 0) return (enum which)i;
  return W_UNKNOWN;
}

static double largest_abs;   /* |got - want| / max(1, |want|) over every fixture value, for the report */

/* largest |got - want| - rtol |want| over the elements (<= atol passes); INFINITY if shapes differ */
static double excess(const nn_tensor *got, const nn_tensor *want, double rtol) {
  if (!got || !want || got->ndim != want->ndim) return INFINITY;
  for (int d = 0; d < got->ndim; d++) if (got->shape[d] != want->shape[d]) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < nn_tensor_numel(want); i++) {
    double g = nn_tensor_data(got)[i], w = nn_tensor_data(want)[i];
    double e = fabs(g - w) - rtol * fabs(w);
    if (fabs(g - w) / fmax(1, fabs(w)) > largest_abs) largest_abs = fabs(g - w) / fmax(1, fabs(w));
    if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
  }
  return worst;
}

/* runs the case at the top of L's stack; returns the largest excess over rtol (compare with atol) */
static double run_case(lua_State *L, nn_ctx *ctx, const char **name, double *atol) {
  lua_getfield(L, -1, "name");
  *name = lua_tostring(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, -1, "fn");
  enum which w = which_of(lua_tostring(L, -1));
  lua_pop(L, 1);
  double rtol = (lua_getfield(L, -1, "rtol"), lua_tonumber(L, -1));
  *atol = (lua_getfield(L, -2, "atol"), lua_tonumber(L, -1));
  lua_pop(L, 2);
  lua_getfield(L, -1, "grads");
  lua_geti(L, -1, 2);
  int target_grad = lua_istable(L, -1);
  nn_tensor *want_gy = read_tensor(L, ctx, 0);
  lua_pop(L, 1);
  lua_geti(L, -1, 1);
  nn_tensor *want_gx = read_tensor(L, ctx, 0);
  lua_pop(L, 2);
  lua_getfield(L, -1, "inputs");
  lua_geti(L, -1, 1);
  nn_tensor *x = read_tensor(L, ctx, 1);
  lua_geti(L, -2, 2);
  nn_tensor *y = read_tensor(L, ctx, target_grad);
  lua_pop(L, 3);
  struct opts o = {NULL, 0, 1, NN_RED_MEAN};
  lua_getfield(L, -1, "opts");
  lua_getfield(L, -1, "weight");
  o.weight = read_tensor(L, ctx, 0);
  lua_getfield(L, -2, "label_smoothing");
  o.smooth = (float)lua_tonumber(L, -1);
  lua_getfield(L, -3, "delta");
  if (lua_isnumber(L, -1)) o.delta = (float)lua_tonumber(L, -1);
  lua_getfield(L, -4, "reduction");
  const char *red = lua_tostring(L, -1);
  o.red = !red || !strcmp(red, "mean") ? NN_RED_MEAN : !strcmp(red, "sum") ? NN_RED_SUM : NN_RED_NONE;
  lua_pop(L, 5);
  lua_getfield(L, -1, "grad_out");
  nn_tensor *gout = read_tensor(L, ctx, 0);
  lua_getfield(L, -2, "expected");
  nn_tensor *want = read_tensor(L, ctx, 0);
  lua_pop(L, 2);

  nn_tensor *out = run(ctx, w, x, y, &o);
  double worst = excess(out, want, rtol);
  if (!out) fprintf(stderr, "  %s: %s\n", *name, ctx->err);
  if (out && nn_backward(ctx, out, gout, 0) == 0) {
    double ex = excess(x->grad, want_gx, rtol);
    if (ex > worst) worst = ex;
    if (target_grad && (ex = excess(y->grad, want_gy, rtol)) > worst) worst = ex;
  } else {
    worst = INFINITY;
  }
  nn_tensor_free(out); nn_tensor_free(x); nn_tensor_free(y); nn_tensor_free(o.weight);
  nn_tensor_free(gout); nn_tensor_free(want); nn_tensor_free(want_gx); nn_tensor_free(want_gy);
  return worst;
}

TEST(loss_pytorch_fixtures) {
  lua_State *L = luaL_newstate();
  nn_ctx *ctx = nn_ctx_new();
  if (luaL_loadfile(L, "tests/fixtures/losses.lua") || lua_pcall(L, 0, 1, 0)) {
    fprintf(stderr, "  %s\n", lua_tostring(L, -1));
    CHECK(!"tests/fixtures/losses.lua loads");
  } else {
    int n = (int)luaL_len(L, -1), bad = 0;
    largest_abs = 0;
    for (int i = 1; i <= n; i++) {
      const char *name;
      double atol;
      lua_geti(L, -1, i);
      double e = run_case(L, ctx, &name, &atol);
      if (!(e <= atol)) {
        fprintf(stderr, "  fixture \"%s\": difference exceeds tolerance by %g\n", name, e);
        bad++;
      }
      lua_pop(L, 1);
    }
    printf("loss: %d PyTorch cases, largest difference %.3g (relative above 1)\n", n, largest_abs);
    CHECK(n >= 40);
    CHECK(bad == 0);
  }
  lua_close(L);
  nn_ctx_free(ctx);
}
