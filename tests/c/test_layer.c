/* test_layer.c -- nn/layer.c: forward values on hand-checked inputs, PyTorch's
 * numbers from tests/fixtures/layers.lua (made by gen_layers.py), gradients
 * against central finite differences, grad_fn names, and the error paths. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/autograd.h"
#include "nn/layer.h"
#include "nn/rng.h"

/* ---------------------------------------------------------------- helpers */

static nn_tensor *make(nn_ctx *ctx, int ndim, const int64_t *shape, const float *v, int grad) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  memcpy(nn_tensor_data(t), v, (size_t)nn_tensor_numel(t) * sizeof(float));
  t->requires_grad = grad;
  return t;
}

static nn_tensor *randt(nn_ctx *ctx, nn_rng *r, int ndim, const int64_t *shape, int grad) {
  nn_tensor *t = nn_tensor_randn(ctx, r, ndim, shape);
  t->requires_grad = grad;
  return t;
}

/* largest |a - b| / (atol + rtol |b|) over the elements, a and b of one shape; 1e30 if not.
 * Prints the largest difference when over, or always with NN_TEST_VERBOSE set. */
static double excess(nn_ctx *ctx, nn_tensor *a, nn_tensor *b, double rtol, double atol) {
  if (!a || !b || a->ndim != b->ndim ||
      memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim)) return 1e30;
  nn_tensor *ac = nn_tensor_contiguous(ctx, a), *bc = nn_tensor_contiguous(ctx, b);
  double worst = 0, wdiff = 0;
  for (int64_t i = 0; i < nn_tensor_numel(a); i++) {
    double d = fabs((double)nn_tensor_data(ac)[i] - nn_tensor_data(bc)[i]);
    double e = d / (atol + rtol * fabs(nn_tensor_data(bc)[i]));
    if (e > worst) { worst = e; wdiff = d; }
  }
  if (worst > 1 || getenv("NN_TEST_VERBOSE"))
    fprintf(stderr, "  largest difference %.9g (%.3g of the tolerance)\n", wdiff, worst);
  nn_tensor_free(ac);
  nn_tensor_free(bc);
  return worst;
}
#define CHECK_CLOSE(ctx, a, b, rtol, atol) CHECK(excess(ctx, a, b, rtol, atol) <= 1)

/* ---- the PyTorch fixture: lines  ["name"] = {shape = {..}, data = {..}}, */

static char *fixture;

static const char *fixture_text(void) {
  if (fixture) return fixture;
  FILE *f = fopen("tests/fixtures/layers.lua", "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  fixture = malloc((size_t)n + 1);
  size_t got = fread(fixture, 1, (size_t)n, f);
  fixture[got] = '\0';
  fclose(f);
  return fixture;
}

/* the fixture tensor called name (requires_grad as given), or NULL after a failed CHECK */
static nn_tensor *fx(nn_ctx *ctx, const char *name, int grad) {
  const char *text = fixture_text();
  char key[64];
  snprintf(key, sizeof key, "[\"%s\"] = {shape = {", name);
  const char *p = text ? strstr(text, key) : NULL;
  CHECK(p != NULL);
  if (!p) {
    fprintf(stderr, "  fixture entry %s missing (run from the repository root)\n", name);
    return NULL;
  }
  p += strlen(key);
  int64_t shape[NN_MAXDIM];
  int ndim = 0;
  while (*p != '}') {
    char *end;
    shape[ndim++] = strtoll(p, &end, 10);
    p = end + (*end == ',' ? 2 : 0);
  }
  p = strstr(p, "data = {") + strlen("data = {");
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  for (int64_t i = 0; i < nn_tensor_numel(t); i++) {
    char *end;
    nn_tensor_data(t)[i] = strtof(p, &end);
    p = end + 2;
  }
  t->requires_grad = grad;
  return t;
}

/* ---- finite differences */

/* the function under test: in[] are its tensors; returns a new reference */
typedef nn_tensor *(*layer_fn)(nn_ctx *ctx, nn_tensor **in, const float *args);

static nn_rng fd_rng;            /* dropout reseeds from this before every call */

/* sum(f(in) * r) in double */
static double loss(nn_ctx *ctx, layer_fn f, nn_tensor **in, const float *args, nn_tensor *r) {
  nn_tensor *y = f(ctx, in, args), *yc = nn_tensor_contiguous(ctx, y);
  double s = 0;
  for (int64_t i = 0; i < nn_tensor_numel(yc); i++) s += (double)nn_tensor_data(yc)[i] * nn_tensor_data(r)[i];
  nn_tensor_free(yc);
  nn_tensor_free(y);
  return s;
}

/* The gradients nn_backward gives for the loss sum(f(in) * r) against central
 * differences (step h) for every element of every input that requires grad;
 * inputs must be contiguous or plain views (perturbed through their strides).
 * Returns the largest |analytic - numeric| / (1e-3 + 1e-2 |numeric|). */
static double fd_check(nn_ctx *ctx, layer_fn f, nn_tensor **in, int nin, const float *args,
                       float h) {
  nn_tensor *y = f(ctx, in, args);
  if (!y) return 1e30;
  nn_rng r0 = ctx->rng;
  nn_tensor *r = nn_tensor_randn(ctx, &r0, y->ndim, y->shape);
  for (int i = 0; i < nin; i++) {
    if (!in[i]) continue;
    nn_tensor_free(in[i]->grad);
    in[i]->grad = NULL;
  }
  int rc = nn_backward(ctx, y, r, 0);
  nn_tensor_free(y);
  if (rc) return 1e30;
  double worst = 0;
  ctx->grad_enabled = 0;
  for (int i = 0; i < nin; i++) {
    nn_tensor *t = in[i];
    if (!t || !t->requires_grad) continue;
    nn_tensor *g = nn_tensor_contiguous(ctx, t->grad);
    for (int64_t j = 0; j < nn_tensor_numel(t); j++) {
      int64_t off = 0, rest = j;               /* element j in row-major order */
      for (int d = t->ndim - 1; d >= 0; d--) {
        off += rest % t->shape[d] * t->stride[d];
        rest /= t->shape[d];
      }
      float *p = nn_tensor_data(t) + off, v = *p;
      *p = v + h;
      double lp = loss(ctx, f, in, args, r);
      *p = v - h;
      double lm = loss(ctx, f, in, args, r);
      *p = v;
      double num = (lp - lm) / (2.0 * h), an = nn_tensor_data(g)[j];
      double e = fabs(an - num) / (1e-3 + 1e-2 * fabs(num));
      if (e > 1) fprintf(stderr, "  input %d element %lld: backward %.6g, numeric %.6g\n", i,
                         (long long)j, an, num);
      if (e > worst) worst = e;
    }
    nn_tensor_free(g);
  }
  ctx->grad_enabled = 1;
  nn_tensor_free(r);
  if (getenv("NN_TEST_VERBOSE")) fprintf(stderr, "  finite differences: %.3g of the tolerance\n", worst);
  return worst;
}

static void free_all(nn_tensor *const *ts, int n) {
  for (int i = 0; i < n; i++) nn_tensor_free(ts[i]);
}

/* ================================================================ linear */

static nn_tensor *f_linear(nn_ctx *ctx, nn_tensor **in, const float *args) {
  return nn_linear(ctx, in[0], in[1], args[0] != 0.0f ? in[2] : NULL);
}

TEST(layer_linear_forward) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = make(ctx, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6}, 0);
  nn_tensor *w = make(ctx, 2, (int64_t[]){2, 3}, (float[]){1, 0, -1, 0.5f, 0.5f, 0.5f}, 1);
  nn_tensor *b = make(ctx, 1, (int64_t[]){2}, (float[]){10, 20}, 1);
  nn_tensor *y = nn_linear(ctx, x, w, b);
  CHECK(y && y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2);
  CHECK_NEAR(nn_tensor_data(y)[0], 8, 1e-6);      /* 1 - 3 + 10 */
  CHECK_NEAR(nn_tensor_data(y)[1], 23, 1e-6);     /* 3 + 20 */
  CHECK_NEAR(nn_tensor_data(y)[2], 8, 1e-6);      /* 4 - 6 + 10 */
  CHECK_NEAR(nn_tensor_data(y)[3], 27.5, 1e-6);
  CHECK(strcmp(nn_grad_fn_name(y), "AddmmBackward0") == 0);
  nn_tensor *y0 = nn_linear(ctx, x, w, NULL);
  CHECK(y0 && strcmp(nn_grad_fn_name(y0), "MmBackward0") == 0);
  CHECK_NEAR(nn_tensor_data(y0)[3], 7.5, 1e-6);
  nn_tensor *x1 = nn_tensor_select(ctx, x, 0, 1);  /* 1-d [3] -> [2] */
  nn_tensor *y1 = nn_linear(ctx, x1, w, b);
  CHECK(y1 && y1->ndim == 1 && y1->shape[0] == 2);
  CHECK_NEAR(nn_tensor_data(y1)[0], 8, 1e-6);
  CHECK_NEAR(nn_tensor_data(y1)[1], 27.5, 1e-6);
  nn_tensor *xt = nn_tensor_transpose(ctx, x, 0, 1);  /* [3, 2] with strides (1, 3): x's columns */
  nn_tensor *wt = make(ctx, 2, (int64_t[]){1, 2}, (float[]){1, -1}, 0);
  nn_tensor *yt = nn_linear(ctx, xt, wt, NULL);
  CHECK(yt && yt->shape[0] == 3 && yt->shape[1] == 1);
  CHECK_NEAR(nn_tensor_data(yt)[0], -3, 1e-6);
  CHECK_NEAR(nn_tensor_data(yt)[2], -3, 1e-6);
  ctx->grad_enabled = 0;                          /* no recording with grad off */
  nn_tensor *yn = nn_linear(ctx, x, w, b);
  CHECK(yn && !yn->node && !yn->requires_grad);
  ctx->grad_enabled = 1;
  free_all((nn_tensor *[]){x, w, b, y, y0, x1, y1, xt, wt, yt, yn}, 11);
  nn_ctx_free(ctx);
}

TEST(layer_linear_torch) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = fx(ctx, "lin.x", 1), *w = fx(ctx, "lin.w", 1), *b = fx(ctx, "lin.b", 1);
  nn_tensor *r = fx(ctx, "lin.r", 0), *y = nn_linear(ctx, x, w, b);
  nn_tensor *ey = fx(ctx, "lin.y", 0), *edx = fx(ctx, "lin.dx", 0), *edw = fx(ctx, "lin.dw", 0),
            *edb = fx(ctx, "lin.db", 0);
  CHECK_CLOSE(ctx, y, ey, 1e-5, 1e-5);
  CHECK(nn_backward(ctx, y, r, 0) == 0);
  CHECK_CLOSE(ctx, x->grad, edx, 1e-5, 1e-5);
  CHECK_CLOSE(ctx, w->grad, edw, 1e-5, 1e-5);
  CHECK_CLOSE(ctx, b->grad, edb, 1e-5, 1e-5);
  free_all((nn_tensor *[]){x, w, b, r, y, ey, edx, edw, edb}, 9);

  x = fx(ctx, "lin3.x", 1), w = fx(ctx, "lin3.w", 1), r = fx(ctx, "lin3.r", 0);
  y = nn_linear(ctx, x, w, NULL);
  ey = fx(ctx, "lin3.y", 0), edx = fx(ctx, "lin3.dx", 0), edw = fx(ctx, "lin3.dw", 0);
  CHECK_CLOSE(ctx, y, ey, 1e-5, 1e-5);
  CHECK(nn_backward(ctx, y, r, 0) == 0);
  CHECK_CLOSE(ctx, x->grad, edx, 1e-5, 1e-5);
  CHECK_CLOSE(ctx, w->grad, edw, 1e-5, 1e-5);
  free_all((nn_tensor *[]){x, w, r, y, ey, edx, edw}, 7);
  nn_ctx_free(ctx);
}

TEST(layer_linear_grad) {
  nn_ctx *ctx = nn_ctx_new();
  nn_rng r;
  nn_rng_seed(&r, 1);
  nn_tensor *in[3] = {randt(ctx, &r, 2, (int64_t[]){4, 3}, 1), randt(ctx, &r, 2, (int64_t[]){5, 3}, 1),
                      randt(ctx, &r, 1, (int64_t[]){5}, 1)};
  CHECK(fd_check(ctx, f_linear, in, 3, (float[]){1}, 1e-2f) <= 1);
  CHECK(fd_check(ctx, f_linear, in, 2, (float[]){0}, 1e-2f) <= 1);
  free_all(in, 3);
  /* transposed operands (strided views), 3-d and 1-d inputs */
  nn_tensor *xs = randt(ctx, &r, 2, (int64_t[]){3, 4}, 0), *ws = randt(ctx, &r, 2, (int64_t[]){3, 5}, 0);
  nn_tensor *tv[3] = {nn_tensor_transpose(ctx, xs, 0, 1), nn_tensor_transpose(ctx, ws, 0, 1),
                      randt(ctx, &r, 1, (int64_t[]){5}, 1)};
  tv[0]->requires_grad = tv[1]->requires_grad = 1;
  CHECK(fd_check(ctx, f_linear, tv, 3, (float[]){1}, 1e-2f) <= 1);
  nn_tensor *x3[3] = {randt(ctx, &r, 3, (int64_t[]){2, 3, 4}, 1), randt(ctx, &r, 2, (int64_t[]){2, 4}, 1),
                      randt(ctx, &r, 1, (int64_t[]){2}, 1)};
  CHECK(fd_check(ctx, f_linear, x3, 3, (float[]){1}, 1e-2f) <= 1);
  nn_tensor *x1[3] = {randt(ctx, &r, 1, (int64_t[]){4}, 1), nn_tensor_retain(x3[1]), nn_tensor_retain(x3[2])};
  CHECK(fd_check(ctx, f_linear, x1, 3, (float[]){1}, 1e-2f) <= 1);
  /* only the weight requires grad */
  x3[0]->requires_grad = 0;
  CHECK(fd_check(ctx, f_linear, x3, 2, (float[]){0}, 1e-2f) <= 1);
  free_all((nn_tensor *[]){xs, ws}, 2);
  free_all(tv, 3);
  free_all(x3, 3);
  free_all(x1, 3);
  nn_ctx_free(ctx);
}

TEST(layer_linear_errors) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = nn_tensor_zeros(ctx, 2, (int64_t[]){64, 784});
  nn_tensor *w = nn_tensor_zeros(ctx, 2, (int64_t[]){256, 748});
  nn_tensor *w2 = nn_tensor_zeros(ctx, 2, (int64_t[]){256, 784});
  nn_tensor *b = nn_tensor_zeros(ctx, 1, (int64_t[]){255});
  nn_tensor *w1 = nn_tensor_zeros(ctx, 1, (int64_t[]){784});
  CHECK(nn_linear(ctx, x, w, NULL) == NULL);
  CHECK(strcmp(ctx->err, "linear: input of shape [64, 784] does not match weight of shape "
                         "[256, 748] (784 vs 748)") == 0);
  CHECK(nn_linear(ctx, x, w2, b) == NULL);
  CHECK(strcmp(ctx->err, "linear: bias of shape [255] does not match weight of shape [256, 784] "
                         "(expected [256])") == 0);
  CHECK(nn_linear(ctx, x, w1, NULL) == NULL);
  CHECK(strstr(ctx->err, "weight must be 2-d") != NULL);
  nn_tensor *s = nn_tensor_zeros(ctx, 0, NULL);
  CHECK(nn_linear(ctx, s, w2, NULL) == NULL);
  CHECK(strstr(ctx->err, "at least 1 dimension") != NULL);
  /* empty batch and empty features */
  nn_tensor *x0 = nn_tensor_zeros(ctx, 2, (int64_t[]){0, 784}), *y0 = nn_linear(ctx, x0, w2, NULL);
  CHECK(y0 && y0->shape[0] == 0 && y0->shape[1] == 256);
  nn_tensor *xk = nn_tensor_zeros(ctx, 2, (int64_t[]){2, 0}), *wk = nn_tensor_zeros(ctx, 2, (int64_t[]){3, 0});
  nn_tensor *bk = nn_tensor_full(ctx, 1, (int64_t[]){3}, 7.0f), *yk = nn_linear(ctx, xk, wk, bk);
  CHECK(yk && yk->shape[0] == 2 && yk->shape[1] == 3 && nn_tensor_data(yk)[5] == 7.0f);
  free_all((nn_tensor *[]){x, w, w2, b, w1, s, x0, y0, xk, wk, bk, yk}, 12);
  nn_ctx_free(ctx);
}

/* ================================================================ leaky_relu, gelu */

static nn_tensor *f_leaky(nn_ctx *ctx, nn_tensor **in, const float *args) {
  return nn_leaky_relu(ctx, in[0], args[0]);
}
static nn_tensor *f_gelu(nn_ctx *ctx, nn_tensor **in, const float *args) {
  return nn_gelu(ctx, in[0], args[0] != 0.0f);
}

/* fixture case: y = f(x), gradients of sum(y * r) */
static void pointwise_torch(nn_ctx *ctx, const char *c, layer_fn f, const float *args) {
  char n[5][32];
  const char *what[5] = {"x", "r", "y", "dx", ""};
  for (int i = 0; i < 4; i++) snprintf(n[i], sizeof n[i], "%s.%s", c, what[i]);
  nn_tensor *x = fx(ctx, n[0], 1), *r = fx(ctx, n[1], 0), *ey = fx(ctx, n[2], 0), *edx = fx(ctx, n[3], 0);
  nn_tensor *y = f(ctx, &x, args);
  CHECK_CLOSE(ctx, y, ey, 1e-5, 1e-6);
  CHECK(nn_backward(ctx, y, r, 0) == 0);
  CHECK_CLOSE(ctx, x->grad, edx, 1e-5, 1e-6);
  free_all((nn_tensor *[]){x, r, ey, edx, y}, 5);
}

TEST(layer_leaky_relu) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = make(ctx, 1, (int64_t[]){4}, (float[]){-2, -0.5f, 0, 3}, 1);
  nn_tensor *y = nn_leaky_relu(ctx, x, 0.1f);
  CHECK_NEAR(nn_tensor_data(y)[0], -0.2, 1e-7);
  CHECK_NEAR(nn_tensor_data(y)[1], -0.05, 1e-7);
  CHECK(nn_tensor_data(y)[2] == 0.0f && nn_tensor_data(y)[3] == 3.0f);
  CHECK(strcmp(nn_grad_fn_name(y), "LeakyReluBackward0") == 0);
  pointwise_torch(ctx, "leaky", f_leaky, (float[]){0.2f});
  nn_rng r;
  nn_rng_seed(&r, 2);
  nn_tensor *xs = randt(ctx, &r, 2, (int64_t[]){3, 5}, 1);
  for (int64_t i = 0; i < 15; i++)                /* keep clear of the kink */
    if (fabsf(nn_tensor_data(xs)[i]) < 0.05f) nn_tensor_data(xs)[i] = 0.5f;
  CHECK(fd_check(ctx, f_leaky, &xs, 1, (float[]){0.01f}, 1e-2f) <= 1);
  nn_tensor *xt = nn_tensor_transpose(ctx, xs, 0, 1);  /* strided input */
  xt->requires_grad = 1;
  CHECK(fd_check(ctx, f_leaky, &xt, 1, (float[]){-0.3f}, 1e-2f) <= 1);
  free_all((nn_tensor *[]){x, y, xs, xt}, 4);
  nn_ctx_free(ctx);
}

TEST(layer_gelu) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = make(ctx, 1, (int64_t[]){3}, (float[]){1, -1, 0}, 1);
  nn_tensor *y = nn_gelu(ctx, x, 0), *yt = nn_gelu(ctx, x, 1);
  CHECK_NEAR(nn_tensor_data(y)[0], 0.8413447461, 1e-6);      /* Φ(1) */
  CHECK_NEAR(nn_tensor_data(y)[1], -0.1586552539, 1e-6);
  CHECK(nn_tensor_data(y)[2] == 0.0f);
  CHECK_NEAR(nn_tensor_data(yt)[0], 0.8411919906, 1e-6);     /* ½(1 + tanh(√(2/π) 1.044715)) */
  CHECK_NEAR(nn_tensor_data(yt)[1], -0.1588080094, 1e-6);
  CHECK(strcmp(nn_grad_fn_name(y), "GeluBackward0") == 0);
  pointwise_torch(ctx, "gelu", f_gelu, (float[]){0});
  pointwise_torch(ctx, "gelut", f_gelu, (float[]){1});
  nn_rng r;
  nn_rng_seed(&r, 3);
  nn_tensor *xs = randt(ctx, &r, 2, (int64_t[]){4, 5}, 1);
  CHECK(fd_check(ctx, f_gelu, &xs, 1, (float[]){0}, 1e-2f) <= 1);
  CHECK(fd_check(ctx, f_gelu, &xs, 1, (float[]){1}, 1e-2f) <= 1);
  free_all((nn_tensor *[]){x, y, yt, xs}, 4);
  nn_ctx_free(ctx);
}

/* ================================================================ dropout */

static nn_tensor *f_dropout(nn_ctx *ctx, nn_tensor **in, const float *args) {
  nn_rng r = fd_rng;                               /* the same mask every call */
  return nn_dropout(ctx, &r, in[0], args[0], 1);
}

TEST(layer_dropout) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t n = 10000;
  nn_tensor *x = nn_tensor_full(ctx, 1, &n, 1.0f);
  x->requires_grad = 1;
  nn_rng r, r2;
  nn_rng_seed(&r, 7);
  r2 = r;
  nn_tensor *y = nn_dropout(ctx, &r, x, 0.25f, 1), *y2 = nn_dropout(ctx, &r2, x, 0.25f, 1);
  CHECK(y && strcmp(nn_grad_fn_name(y), "NativeDropoutBackward0") == 0);
  int64_t kept = 0, bad = 0;
  for (int64_t i = 0; i < n; i++) {
    float v = nn_tensor_data(y)[i];
    kept += v != 0.0f;
    bad += v != 0.0f && fabsf(v - 1.0f / 0.75f) > 1e-6f;
  }
  CHECK(bad == 0);
  CHECK(kept > 7300 && kept < 7700);                  /* 7500 ± 5 σ */
  int same = 1;
  for (int64_t i = 0; i < n; i++) same &= nn_tensor_data(y)[i] == nn_tensor_data(y2)[i];
  CHECK(same);                                        /* same generator state, same mask */
  nn_tensor *gy = nn_tensor_full(ctx, 1, &n, 2.0f);
  CHECK(nn_backward(ctx, y2, gy, 0) == 0);            /* dx = 2 m / (1 - p) */
  int gok = 1;
  for (int64_t i = 0; i < n; i++) gok &= nn_tensor_data(x->grad)[i] == 2.0f * nn_tensor_data(y)[i];
  CHECK(gok);
  /* eval and p = 0: x itself; p = 1: zeros */
  nn_tensor *ye = nn_dropout(ctx, &r, x, 0.5f, 0), *y0 = nn_dropout(ctx, &r, x, 0.0f, 1);
  CHECK(ye == x && y0 == x);
  nn_tensor *y1 = nn_dropout(ctx, NULL, x, 1.0f, 1);
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += fabsf(nn_tensor_data(y1)[i]);
  CHECK(s == 0);
  /* errors */
  CHECK(nn_dropout(ctx, &r, x, -0.1f, 1) == NULL);
  CHECK(strcmp(ctx->err, "dropout: probability has to be between 0 and 1, but got -0.1") == 0);
  CHECK(nn_dropout(ctx, &r, x, 1.5f, 0) == NULL);
  CHECK(nn_dropout(ctx, &r, x, NAN, 1) == NULL);
  /* finite differences through a fixed mask */
  nn_rng_seed(&fd_rng, 11);
  nn_tensor *xs = randt(ctx, &r, 2, (int64_t[]){4, 5}, 1);
  CHECK(fd_check(ctx, f_dropout, &xs, 1, (float[]){0.4f}, 1e-2f) <= 1);
  free_all((nn_tensor *[]){x, y, y2, gy, ye, y0, y1, xs}, 8);
  nn_ctx_free(ctx);
}

/* ================================================================ batch_norm */

/* in: x, running_mean, running_var, weight, bias (any NULL but x); args: training, momentum, eps */
static nn_tensor *f_bn(nn_ctx *ctx, nn_tensor **in, const float *args) {
  return nn_batch_norm(ctx, in[0], in[1], in[2], in[3], in[4], args[0] != 0.0f, args[1], args[2]);
}

/* the fixture case c: forward, gradients and (training) the running stats */
static void bn_torch(nn_ctx *ctx, const char *c, int training, int affine, int running) {
  char k[16][32];
  const char *what[] = {"x", "rm", "rv", "w", "b", "r", "y", "dx", "dw", "db", "rm1", "rv1"};
  for (int i = 0; i < 12; i++) snprintf(k[i], sizeof k[i], "%s.%s", c, what[i]);
  nn_tensor *in[5] = {fx(ctx, k[0], 1), running ? fx(ctx, k[1], 0) : NULL,
                      running ? fx(ctx, k[2], 0) : NULL, affine ? fx(ctx, k[3], 1) : NULL,
                      affine ? fx(ctx, k[4], 1) : NULL};
  nn_tensor *r = fx(ctx, k[5], 0), *ey = fx(ctx, k[6], 0), *edx = fx(ctx, k[7], 0);
  nn_tensor *y = f_bn(ctx, in, (float[]){(float)training, 0.1f, 1e-5f});
  CHECK(y && strcmp(nn_grad_fn_name(y), "NativeBatchNormBackward0") == 0);
  CHECK_CLOSE(ctx, y, ey, 1e-5, 1e-5);
  CHECK(nn_backward(ctx, y, r, 0) == 0);
  CHECK_CLOSE(ctx, in[0]->grad, edx, 1e-4, 1e-5);
  if (affine) {
    nn_tensor *edw = fx(ctx, k[8], 0), *edb = fx(ctx, k[9], 0);
    CHECK_CLOSE(ctx, in[3]->grad, edw, 1e-5, 1e-5);
    CHECK_CLOSE(ctx, in[4]->grad, edb, 1e-5, 1e-5);
    free_all((nn_tensor *[]){edw, edb}, 2);
  }
  if (running && training) {
    nn_tensor *erm = fx(ctx, k[10], 0), *erv = fx(ctx, k[11], 0);
    CHECK_CLOSE(ctx, in[1], erm, 1e-6, 1e-6);
    CHECK_CLOSE(ctx, in[2], erv, 1e-6, 1e-6);
    free_all((nn_tensor *[]){erm, erv}, 2);
  }
  free_all(in, 5);
  free_all((nn_tensor *[]){r, ey, edx, y}, 4);
}

TEST(layer_batch_norm_torch) {
  nn_ctx *ctx = nn_ctx_new();
  bn_torch(ctx, "bn", 1, 1, 1);
  bn_torch(ctx, "bne", 0, 1, 1);
  bn_torch(ctx, "bn3", 1, 1, 1);
  bn_torch(ctx, "bnnw", 1, 0, 0);
  nn_ctx_free(ctx);
}

TEST(layer_batch_norm) {
  nn_ctx *ctx = nn_ctx_new();
  /* one channel of 1, 2, 3: mean 2, biased var 2/3, unbiased var 1 */
  nn_tensor *x = make(ctx, 2, (int64_t[]){3, 1}, (float[]){1, 2, 3}, 0);
  nn_tensor *rm = nn_tensor_zeros(ctx, 1, (int64_t[]){1}), *rv = nn_tensor_full(ctx, 1, (int64_t[]){1}, 1.0f);
  uint64_t v0 = rm->s->version;
  nn_tensor *y = nn_batch_norm(ctx, x, rm, rv, NULL, NULL, 1, 0.5f, 0.0f);
  CHECK(y && !y->node);                                /* nothing requires grad */
  CHECK_NEAR(nn_tensor_data(y)[0], -1.224744871, 1e-6);  /* -1 / √(2/3) */
  CHECK_NEAR(nn_tensor_data(y)[1], 0, 1e-7);
  CHECK_NEAR(nn_tensor_data(rm)[0], 1.0, 1e-7);        /* ½ 0 + ½ 2 */
  CHECK_NEAR(nn_tensor_data(rv)[0], 1.0, 1e-7);        /* ½ 1 + ½ 1 */
  CHECK(rm->s->version != v0);
  nn_tensor *ye = nn_batch_norm(ctx, x, rm, rv, NULL, NULL, 0, 0.5f, 0.0f);
  CHECK_NEAR(nn_tensor_data(ye)[2], 2.0, 1e-7);        /* (3 - 1) / 1 */
  CHECK_NEAR(nn_tensor_data(rm)[0], 1.0, 1e-7);        /* eval leaves them */

  /* finite differences: training (2-d and 3-d), eval, without weight */
  nn_rng r;
  nn_rng_seed(&r, 5);
  nn_tensor *in[5] = {randt(ctx, &r, 2, (int64_t[]){6, 3}, 1), nn_tensor_zeros(ctx, 1, (int64_t[]){3}),
                      nn_tensor_full(ctx, 1, (int64_t[]){3}, 1.0f), randt(ctx, &r, 1, (int64_t[]){3}, 1),
                      randt(ctx, &r, 1, (int64_t[]){3}, 1)};
  CHECK(fd_check(ctx, f_bn, in, 5, (float[]){1, 0.1f, 1e-5f}, 1e-2f) <= 1);
  CHECK(fd_check(ctx, f_bn, in, 5, (float[]){0, 0.1f, 1e-5f}, 1e-2f) <= 1);
  nn_tensor *in3[5] = {randt(ctx, &r, 3, (int64_t[]){2, 3, 4}, 1), NULL, NULL,
                       nn_tensor_retain(in[3]), nn_tensor_retain(in[4])};
  CHECK(fd_check(ctx, f_bn, in3, 5, (float[]){1, 0.1f, 1e-5f}, 1e-2f) <= 1);
  nn_tensor *innw[5] = {nn_tensor_retain(in[0]), NULL, NULL, NULL, nn_tensor_retain(in[4])};
  CHECK(fd_check(ctx, f_bn, innw, 5, (float[]){1, 0.1f, 1e-5f}, 1e-2f) <= 1);

  /* errors */
  nn_tensor *x1 = nn_tensor_zeros(ctx, 1, (int64_t[]){3}), *w2 = nn_tensor_zeros(ctx, 1, (int64_t[]){2});
  nn_tensor *one = nn_tensor_zeros(ctx, 2, (int64_t[]){1, 3});
  CHECK(nn_batch_norm(ctx, x1, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f) == NULL);
  CHECK(strstr(ctx->err, "batch_norm: expected a 2-d or 3-d input") && strstr(ctx->err, "[3]"));
  CHECK(nn_batch_norm(ctx, in[0], NULL, NULL, w2, NULL, 1, 0.1f, 1e-5f) == NULL);
  CHECK(strcmp(ctx->err, "batch_norm: weight of shape [2] does not match input of shape [6, 3] "
                         "(expected [3])") == 0);
  CHECK(nn_batch_norm(ctx, one, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f) == NULL);
  CHECK(strstr(ctx->err, "more than 1 value per channel") && strstr(ctx->err, "[1, 3]"));
  nn_tensor *ok = nn_batch_norm(ctx, one, in[1], in[2], NULL, NULL, 0, 0.1f, 1e-5f);
  CHECK(ok != NULL);                                   /* eval with one sample is fine */
  CHECK(nn_batch_norm(ctx, in[0], NULL, NULL, NULL, NULL, 0, 0.1f, 1e-5f) == NULL);
  CHECK(strstr(ctx->err, "required in eval mode") != NULL);
  free_all((nn_tensor *[]){x, rm, rv, y, ye, x1, w2, one, ok}, 9);
  free_all(in, 5);
  free_all(in3, 5);
  free_all(innw, 5);
  nn_ctx_free(ctx);
}

/* an in-place change of a saved input between forward and backward is caught */
TEST(layer_saved_version) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *x = make(ctx, 1, (int64_t[]){2}, (float[]){1, -1}, 1);
  nn_tensor *xd = nn_detach(ctx, x);
  nn_tensor *y = nn_gelu(ctx, x, 0);
  CHECK(nn_fill_(ctx, xd, 3.0f) == 0);
  nn_tensor *g = nn_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f);
  CHECK(nn_backward(ctx, y, g, 0) != 0);
  CHECK(strstr(ctx->err, "modified in place") != NULL);
  free_all((nn_tensor *[]){x, xd, y, g}, 4);
  nn_ctx_free(ctx);
}

/* the parallel loops (over PAR_MIN elements) give the same bits for 1 and 4 threads */
TEST(layer_threads) {
  nn_ctx *ctx = nn_ctx_new();
  nn_rng r;
  nn_rng_seed(&r, 9);
  nn_tensor *x = randt(ctx, &r, 3, (int64_t[]){64, 8, 100}, 1), *w = randt(ctx, &r, 1, (int64_t[]){8}, 1);
  nn_tensor *g = randt(ctx, &r, 3, (int64_t[]){64, 8, 100}, 0);
  nn_tensor *out[2][3];
  int saved = nn_get_num_threads();
  for (int k = 0; k < 2; k++) {
    nn_set_num_threads(k ? 4 : 1);
    nn_tensor *y = nn_batch_norm(ctx, x, NULL, NULL, w, NULL, 1, 0.1f, 1e-5f), *z = nn_gelu(ctx, y, 0);
    CHECK(nn_backward(ctx, z, g, 0) == 0);
    out[k][0] = z;
    out[k][1] = x->grad;
    out[k][2] = w->grad;
    x->grad = w->grad = NULL;
    nn_tensor_free(y);
  }
  nn_set_num_threads(saved);
  for (int i = 0; i < 3; i++) {
    int same = 0;
    CHECK(nn_equal(ctx, out[0][i], out[1][i], &same) == 0 && same);
    nn_tensor_free(out[0][i]);
    nn_tensor_free(out[1][i]);
  }
  free_all((nn_tensor *[]){x, w, g}, 3);
  nn_ctx_free(ctx);
}

/* an op's settings are copied into its node: NN_AG_PARAMS_SIZE bytes at most,
 * checked, and what backward reads is what the forward passed */
static int settings_seen;
static int read_settings(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                         const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)saved;
  const unsigned char *p = params;
  settings_seen = p[0] == 7 && p[NN_AG_PARAMS_SIZE - 1] == 9;
  gin[0] = nn_tensor_retain(g);
  (void)ctx; (void)in;
  return 0;
}

TEST(autograd_settings_size) {
  nn_ctx *ctx = nn_ctx_new();
  unsigned char big[NN_AG_PARAMS_SIZE + 1] = {7};
  big[NN_AG_PARAMS_SIZE - 1] = 9;
  nn_tensor *x = nn_tensor_zeros(ctx, 1, (int64_t[]){3});
  x->requires_grad = 1;
  nn_tensor *y = nn_ag_record(ctx, nn_tensor_zeros(ctx, 1, (int64_t[]){3}), "TooBig", read_settings,
                              (nn_tensor *[]){x}, 1, NULL, 0, big, sizeof big);
  CHECK(y == NULL);
  CHECK(check_has(ctx->err, "too large settings"));
  y = nn_ag_record(ctx, nn_tensor_zeros(ctx, 1, (int64_t[]){3}), "Fits", read_settings,
                   (nn_tensor *[]){x}, 1, NULL, 0, big, NN_AG_PARAMS_SIZE);
  CHECK(y != NULL);
  nn_tensor *ones = nn_tensor_full(ctx, 1, (int64_t[]){3}, 1.0f);
  CHECK(y && nn_backward(ctx, y, ones, 0) == 0);
  CHECK(settings_seen);
  NN_FREE(ones, y, x);
  nn_ctx_free(ctx);
}
