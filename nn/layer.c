/* layer.c -- linear, leaky_relu, gelu, dropout, batch_norm: forward kernels,
 * their backward next to them, and the recording through nn_ag_record.
 * Backward functions use the plain ops and nn_gemm, so nothing is recorded
 * inside them; each fills gin[i] for the inputs that require grad. */
#include <math.h>
#include <string.h>
#include "layer.h"
#include "dispatch.h"
#include "autograd.h"
#include "gemm.h"
#include "rng.h"

#define PAR_MIN 32768            /* elements before a pointwise loop goes parallel */

/* product of all dims but the last: the rows of x seen as a matrix (1 for 1-d) */
static int64_t lead_rows(const nn_tensor *x) {
  int64_t m = 1;
  for (int d = 0; d < x->ndim - 1; d++) m *= x->shape[d];
  return m;
}

static float at1(const nn_tensor *t, int64_t i) { return nn_tensor_data(t)[i * t->stride[0]]; }

/* ================================================================ linear */

/* x [..., K] as an (M, K) matrix: the tensor holding it (a new reference: x
 * itself for 1-d and 2-d, else a contiguous copy when needed) and its strides */
static nn_tensor *as_matrix(nn_ctx *ctx, nn_tensor *x, int64_t *rs, int64_t *cs) {
  nn_tensor *xc = x->ndim <= 2 ? nn_tensor_retain(x) : nn_tensor_contiguous(ctx, x);
  if (!xc) return NULL;
  int64_t K = x->shape[x->ndim - 1];
  *cs = x->ndim <= 2 ? xc->stride[xc->ndim - 1] : 1;
  *rs = x->ndim == 2 ? xc->stride[0] : K * *cs;
  return xc;
}

/* C (M, N) = A (M, K) B (K, N) (+ bias), C contiguous; zero-size shapes handled */
static int mm(nn_ctx *ctx, int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs,
              const float *b, int64_t brs, int64_t bcs, float *c, const float *bias) {
  if (M == 0 || N == 0) return 0;
  if (K == 0) {                                  /* empty sum: the bias, or zeros */
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) c[i * N + j] = bias ? bias[j] : 0.0f;
    return 0;
  }
  return nn_gemm(ctx, 1, M, N, K, (nn_gemm_operand){a, 0, ars, acs},
                 (nn_gemm_operand){b, 0, brs, bcs}, (nn_gemm_out){c, 0, N, 1}, bias, 0);
}

typedef struct { int has_bias; } linear_params;

/* dX = dY W, dW = dYᵀ X, db = Σ_rows dY.  in: x, w[, b] */
static int linear_back(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                       const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)saved;
  const linear_params *p = params;
  nn_tensor *x = in[0], *w = in[1];
  int64_t N = w->shape[0], K = w->shape[1], M = lead_rows(x), xrs, xcs;
  nn_tensor *gc = nn_tensor_contiguous(ctx, g);
  if (!gc) return NN_ENOMEM;
  const float *gp = nn_tensor_data(gc), *wp = nn_tensor_data(w);
  int rc = 0;
  if (nn_ag_need(in, 0)) {                       /* dX (M, K) = dY (M, N) W (N, K) */
    gin[0] = nn_tensor_empty(ctx, x->ndim, x->shape);
    rc = gin[0] ? mm(ctx, M, K, N, gp, N, 1, wp, w->stride[0], w->stride[1],
                     nn_tensor_data(gin[0]), NULL) : NN_ENOMEM;
  }
  if (!rc && nn_ag_need(in, 1)) {                /* dW (N, K) = dYᵀ (N, M) X (M, K) */
    nn_tensor *xm = as_matrix(ctx, x, &xrs, &xcs);
    gin[1] = xm ? nn_tensor_empty(ctx, 2, w->shape) : NULL;
    rc = gin[1] ? mm(ctx, N, K, M, gp, 1, N, nn_tensor_data(xm), xrs, xcs,
                     nn_tensor_data(gin[1]), NULL) : NN_ENOMEM;
    nn_tensor_free(xm);
  }
  if (!rc && p->has_bias && nn_ag_need(in, 2)) {  /* db (N) = Σ_m dY (m, .) */
    nn_tensor *g2 = nn_tensor_view(ctx, gc, 2, (int64_t[]){M, N});
    gin[2] = g2 ? nn_reduce(ctx, NN_SUM, g2, 0, 0, 0) : NULL;
    nn_tensor_free(g2);
    rc = gin[2] ? 0 : NN_ENOMEM;
  }
  nn_tensor_free(gc);
  return rc;
}

static int linear_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b) {
  char s1[128], s2[128];
  if (w->ndim != 2)
    return nn_seterr(ctx, NN_EARG, "linear: weight must be 2-d [out, in], got shape %s",
                     nn_shape_str(w, s2, sizeof s2));
  if (x->ndim < 1)
    return nn_seterr(ctx, NN_EARG, "linear: input must have at least 1 dimension, got shape %s",
                     nn_shape_str(x, s1, sizeof s1));
  if (x->shape[x->ndim - 1] != w->shape[1])
    return nn_seterr(ctx, NN_EARG, "linear: input of shape %s does not match weight of shape %s "
                     "(%lld vs %lld)", nn_shape_str(x, s1, sizeof s1), nn_shape_str(w, s2, sizeof s2),
                     (long long)x->shape[x->ndim - 1], (long long)w->shape[1]);
  if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
    return nn_seterr(ctx, NN_EARG, "linear: bias of shape %s does not match weight of shape %s "
                     "(expected [%lld])", nn_shape_str(b, s1, sizeof s1),
                     nn_shape_str(w, s2, sizeof s2), (long long)w->shape[0]);
  return 0;
}

nn_tensor *nn_linear(nn_ctx *ctx, nn_tensor *x, nn_tensor *w, nn_tensor *b) {
  if (linear_check(ctx, x, w, b)) return NULL;
  int64_t N = w->shape[0], K = w->shape[1], M = lead_rows(x), xrs, xcs, shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = N;
  nn_tensor *xm = as_matrix(ctx, x, &xrs, &xcs);
  nn_tensor *bc = b ? nn_tensor_contiguous(ctx, b) : NULL;
  nn_tensor *y = xm && (bc || !b) ? nn_tensor_empty(ctx, x->ndim, shape) : NULL;
  int rc = y ? mm(ctx, M, N, K, nn_tensor_data(xm), xrs, xcs, nn_tensor_data(w), w->stride[1],
                  w->stride[0], nn_tensor_data(y), bc ? nn_tensor_data(bc) : NULL) : NN_ENOMEM;
  nn_tensor_free(xm);
  nn_tensor_free(bc);
  if (rc) {
    nn_tensor_free(y);
    return NULL;
  }
  linear_params p = {.has_bias = b != NULL};
  return nn_ag_record(ctx, y, b ? "AddmmBackward0" : "MmBackward0", linear_back,
                      (nn_tensor *[]){x, w, b}, b ? 3 : 2, (nn_tensor *[]){x, w}, 2, &p, sizeof p);
}

/* ================================================================ pointwise */

/* c ? a : b, chosen by the bits: GCC keeps it a select (pand/pblendvb) */
static inline float pick(int c, float a, float b) {
  uint32_t ua, ub, m = -(uint32_t)c, r;
  float f;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  r = (ua & m) | (ub & ~m);
  memcpy(&f, &r, sizeof f);
  return f;
}

/* LeakyReLU over n elements: y = x > 0 ? x : x slope, dx = x > 0 ? dy : dy slope,
 * each written as one product with a factor of 1 or slope (x 1 is x: the same bits).
 * Written with the select on the values, GCC leaves the multiply on one branch and
 * vectorises the loop only with AVX-512's masks; this way on every x86-64 level.
 * NN_DISPATCH (dispatch.h); the threads take blocks of PW_BLOCK. */
#define PW_BLOCK 4096
NN_DISPATCH static void leaky_fwd_run(float *restrict y, const float *restrict x, int64_t n, float slope) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * pick(x[i] > 0.0f, 1.0f, slope);
}
NN_DISPATCH static void leaky_bwd_run(float *restrict dx, const float *restrict dy, const float *restrict x,
                                      int64_t n, float slope) {
  for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * pick(x[i] > 0.0f, 1.0f, slope);
}
static void leaky_fwd(float *y, const float *x, int64_t n, float slope) {
  int64_t blocks = (n + PW_BLOCK - 1) / PW_BLOCK;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t b = 0; b < blocks; b++) {
    int64_t lo = b * PW_BLOCK;
    leaky_fwd_run(y + lo, x + lo, n - lo < PW_BLOCK ? n - lo : PW_BLOCK, slope);
  }
}
static void leaky_bwd(float *dx, const float *dy, const float *x, int64_t n, float slope) {
  int64_t blocks = (n + PW_BLOCK - 1) / PW_BLOCK;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t b = 0; b < blocks; b++) {
    int64_t lo = b * PW_BLOCK;
    leaky_bwd_run(dx + lo, dy + lo, x + lo, n - lo < PW_BLOCK ? n - lo : PW_BLOCK, slope);
  }
}

#define GELU_BETA 0.79788456080286535588   /* √(2/π) */
#define GELU_KAPPA 0.044715

/* tanh_approx 0: x Φ(x); 1: x/2 (1 + tanh(β (x + κ x³))) */
static void gelu_fwd(float *y, const float *x, int64_t n, int tanh_approx) {
#pragma omp parallel for if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    double v = x[i];
    y[i] = (float)(tanh_approx ? 0.5 * v * (1.0 + tanh(GELU_BETA * (v + GELU_KAPPA * v * v * v)))
                               : 0.5 * v * (1.0 + erf(v * M_SQRT1_2)));
  }
}
/* dx = dy (Φ(x) + x φ(x)); tanh form: dy (½(1+t) + ½x (1-t²) β (1 + 3κx²)) */
static void gelu_bwd(float *dx, const float *dy, const float *x, int64_t n, int tanh_approx) {
#pragma omp parallel for if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    double v = x[i], d;
    if (tanh_approx) {
      double t = tanh(GELU_BETA * (v + GELU_KAPPA * v * v * v));
      d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_BETA * (1.0 + 3.0 * GELU_KAPPA * v * v);
    } else {
      d = 0.5 * (1.0 + erf(v * M_SQRT1_2)) + v * exp(-0.5 * v * v) * 0.39894228040143267794;
    }
    dx[i] = (float)(dy[i] * d);
  }
}

enum pw_kind { PW_LEAKY, PW_GELU };
typedef struct {
  enum pw_kind kind;
  float slope;                   /* PW_LEAKY */
  int tanh_approx;               /* PW_GELU */
} pointwise_params;

/* in: x; saved: x */
static int pointwise_back(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                          const void *params, nn_tensor *g, nn_tensor **gin) {
  const pointwise_params *p = params;
  nn_tensor *x = in[0];
  nn_tensor *xc = nn_tensor_contiguous(ctx, saved[0]), *gc = xc ? nn_tensor_contiguous(ctx, g) : NULL;
  gin[0] = gc ? nn_tensor_empty(ctx, x->ndim, x->shape) : NULL;
  if (gin[0]) {
    int64_t n = nn_tensor_numel(x);
    float *dx = nn_tensor_data(gin[0]);
    const float *dy = nn_tensor_data(gc), *xp = nn_tensor_data(xc);
    if (p->kind == PW_LEAKY) leaky_bwd(dx, dy, xp, n, p->slope);
    else gelu_bwd(dx, dy, xp, n, p->tanh_approx);
  }
  nn_tensor_free(xc);
  nn_tensor_free(gc);
  return gin[0] ? 0 : NN_ENOMEM;
}

static nn_tensor *pointwise(nn_ctx *ctx, nn_tensor *x, pointwise_params p, const char *name) {
  nn_tensor *xc = nn_tensor_contiguous(ctx, x);
  nn_tensor *y = xc ? nn_tensor_empty(ctx, x->ndim, x->shape) : NULL;
  if (y) {
    float *yp = nn_tensor_data(y);
    const float *xp = nn_tensor_data(xc);
    if (p.kind == PW_LEAKY) leaky_fwd(yp, xp, nn_tensor_numel(x), p.slope);
    else gelu_fwd(yp, xp, nn_tensor_numel(x), p.tanh_approx);
  }
  nn_tensor_free(xc);
  return nn_ag_record(ctx, y, name, pointwise_back, &x, 1, &x, 1, &p, sizeof p);
}

nn_tensor *nn_leaky_relu(nn_ctx *ctx, nn_tensor *x, float slope) {
  return pointwise(ctx, x, (pointwise_params){.kind = PW_LEAKY, .slope = slope}, "LeakyReluBackward0");
}

nn_tensor *nn_gelu(nn_ctx *ctx, nn_tensor *x, int tanh_approx) {
  return pointwise(ctx, x, (pointwise_params){.kind = PW_GELU, .tanh_approx = tanh_approx != 0},
                   "GeluBackward0");
}

/* ================================================================ dropout */

/* dx = dy m / (1 - p) (the scale is in the saved mask).  saved: mask */
static int dropout_back(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                        const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)in; (void)params;
  gin[0] = nn_binary(ctx, NN_MUL, g, saved[0]);
  return gin[0] ? 0 : NN_ENOMEM;
}

nn_tensor *nn_dropout(nn_ctx *ctx, nn_rng *r, nn_tensor *x, float p, int training) {
  if (!(p >= 0.0f && p <= 1.0f)) {
    nn_seterr(ctx, NN_EARG, "dropout: probability has to be between 0 and 1, but got %g", (double)p);
    return NULL;
  }
  if (!training || p == 0.0f) return nn_tensor_retain(x);
  if (!r) r = &ctx->rng;
  nn_tensor *xc = nn_tensor_contiguous(ctx, x);
  nn_tensor *mask = xc ? nn_tensor_empty(ctx, x->ndim, x->shape) : NULL;
  nn_tensor *y = mask ? nn_tensor_empty(ctx, x->ndim, x->shape) : NULL;
  if (y) {
    int64_t n = nn_tensor_numel(x);
    float q = 1.0f - p, scale = p < 1.0f ? 1.0f / q : 0.0f;
    float *m = nn_tensor_data(mask), *yp = nn_tensor_data(y);
    const float *xp = nn_tensor_data(xc);
    for (int64_t i = 0; i < n; i++) {            /* serial: the rng stream is in element order */
      m[i] = nn_rng_uniformf(r) < q ? scale : 0.0f;
      yp[i] = xp[i] * m[i];
    }
  }
  nn_tensor_free(xc);
  nn_tensor *out = nn_ag_record(ctx, y, "NativeDropoutBackward0", dropout_back, &x, 1, &mask, 1, NULL, 0);
  nn_tensor_free(mask);
  return out;
}

/* ================================================================ batch_norm */

/* x [N, C] or [N, C, L] contiguous: element (n, c, l) at (n C + c) L + l */
typedef struct bn_dims { int64_t N, C, L; } bn_dims;

static bn_dims bn_shape(const nn_tensor *x) {
  return (bn_dims){x->shape[0], x->shape[1], x->ndim == 3 ? x->shape[2] : 1};
}

/* mean[c], biased var[c] over n and l, in double */
static void bn_stats(const float *x, bn_dims d, int64_t c, double *mean, double *var) {
  double s = 0, ss = 0, cnt = (double)(d.N * d.L);
  for (int64_t n = 0; n < d.N; n++)
    for (int64_t l = 0; l < d.L; l++) s += x[(n * d.C + c) * d.L + l];
  *mean = s / cnt;
  for (int64_t n = 0; n < d.N; n++)
    for (int64_t l = 0; l < d.L; l++) {
      double v = x[(n * d.C + c) * d.L + l] - *mean;
      ss += v * v;
    }
  *var = ss / cnt;
}

/* y = (x - mean) invstd w + b */
static void bn_fwd(float *y, const float *x, bn_dims d, const float *mean, const float *invstd,
                   const nn_tensor *w, const nn_tensor *b) {
#pragma omp parallel for if (d.N * d.C * d.L > PAR_MIN)
  for (int64_t c = 0; c < d.C; c++) {
    float sc = invstd[c] * (w ? at1(w, c) : 1.0f), sh = b ? at1(b, c) : 0.0f;
    for (int64_t n = 0; n < d.N; n++)
      for (int64_t l = 0; l < d.L; l++) {
        int64_t i = (n * d.C + c) * d.L + l;
        y[i] = (x[i] - mean[c]) * sc + sh;
      }
  }
}

/* x̂ = (x - mean) invstd; dw = Σ dy x̂, db = Σ dy; training (PyTorch's formula):
 * dx = w invstd (dy - Σdy/n - x̂ Σ(dy x̂)/n); eval: dx = w invstd dy.  dx/dw/db may be NULL. */
static void bn_bwd(float *dx, float *dw, float *db, const float *dy, const float *x, bn_dims d,
                   const float *mean, const float *invstd, const nn_tensor *w, int training) {
  double cnt = (double)(d.N * d.L);
#pragma omp parallel for if (d.N * d.C * d.L > PAR_MIN)
  for (int64_t c = 0; c < d.C; c++) {
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < d.N; n++)
      for (int64_t l = 0; l < d.L; l++) {
        int64_t i = (n * d.C + c) * d.L + l;
        sg += dy[i];
        sgx += (double)dy[i] * (x[i] - mean[c]) * invstd[c];
      }
    if (dw) dw[c] = (float)sgx;
    if (db) db[c] = (float)sg;
    if (!dx) continue;
    double k = invstd[c] * (w ? at1(w, c) : 1.0f), mg = training ? sg / cnt : 0, mgx = training ? sgx / cnt : 0;
    for (int64_t n = 0; n < d.N; n++)
      for (int64_t l = 0; l < d.L; l++) {
        int64_t i = (n * d.C + c) * d.L + l;
        dx[i] = (float)(k * (dy[i] - mg - (x[i] - mean[c]) * invstd[c] * mgx));
      }
  }
}

typedef struct { int training, has_weight, has_bias; } bn_params;

/* in: x[, weight][, bias]; saved: x, mean, invstd, weight */
static int bn_back(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                   const void *params, nn_tensor *g, nn_tensor **gin) {
  const bn_params *p = params;
  int iw = p->has_weight ? 1 : -1, ib = p->has_bias ? 1 + p->has_weight : -1;
  nn_tensor *x = in[0];
  bn_dims d = bn_shape(x);
  nn_tensor *xc = nn_tensor_contiguous(ctx, saved[0]), *gc = xc ? nn_tensor_contiguous(ctx, g) : NULL;
  int rc = gc ? 0 : NN_ENOMEM;
  if (!rc && nn_ag_need(in, 0) && !(gin[0] = nn_tensor_empty(ctx, x->ndim, x->shape))) rc = NN_ENOMEM;
  if (!rc && iw > 0 && nn_ag_need(in, iw) && !(gin[iw] = nn_tensor_empty(ctx, 1, &d.C))) rc = NN_ENOMEM;
  if (!rc && ib > 0 && nn_ag_need(in, ib) && !(gin[ib] = nn_tensor_empty(ctx, 1, &d.C))) rc = NN_ENOMEM;
  if (!rc)
    bn_bwd(gin[0] ? nn_tensor_data(gin[0]) : NULL, iw > 0 && gin[iw] ? nn_tensor_data(gin[iw]) : NULL,
           ib > 0 && gin[ib] ? nn_tensor_data(gin[ib]) : NULL, nn_tensor_data(gc), nn_tensor_data(xc),
           d, nn_tensor_data(saved[1]), nn_tensor_data(saved[2]), saved[3], p->training);
  nn_tensor_free(xc);
  nn_tensor_free(gc);
  return rc;
}

static int bn_check_param(nn_ctx *ctx, const char *what, const nn_tensor *t, const nn_tensor *x) {
  char s1[128], s2[128];
  if (t && (t->ndim != 1 || t->shape[0] != x->shape[1]))
    return nn_seterr(ctx, NN_EARG, "batch_norm: %s of shape %s does not match input of shape %s "
                     "(expected [%lld])", what, nn_shape_str(t, s1, sizeof s1),
                     nn_shape_str(x, s2, sizeof s2), (long long)x->shape[1]);
  return 0;
}

static int bn_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *rm, const nn_tensor *rv,
                    const nn_tensor *w, const nn_tensor *b, int training, float eps) {
  char s[128];
  if (x->ndim != 2 && x->ndim != 3)
    return nn_seterr(ctx, NN_EARG, "batch_norm: expected a 2-d or 3-d input ([N, C] or [N, C, L]), "
                     "got shape %s", nn_shape_str(x, s, sizeof s));
  if (bn_check_param(ctx, "running_mean", rm, x) || bn_check_param(ctx, "running_var", rv, x) ||
      bn_check_param(ctx, "weight", w, x) || bn_check_param(ctx, "bias", b, x))
    return NN_EARG;
  if (!training && (!rm || !rv))
    return nn_seterr(ctx, NN_EARG, "batch_norm: running_mean and running_var are required in eval mode");
  if (training && x->shape[0] * (x->ndim == 3 ? x->shape[2] : 1) <= 1)
    return nn_seterr(ctx, NN_EARG, "batch_norm: expected more than 1 value per channel when "
                     "training, got input of shape %s", nn_shape_str(x, s, sizeof s));
  if (!(eps >= 0.0f))
    return nn_seterr(ctx, NN_EARG, "batch_norm: eps must be >= 0, got %g", (double)eps);
  return 0;
}

/* batch statistics into mean/invstd, and the running update */
static void bn_train_stats(const float *x, bn_dims d, float *mean, float *invstd, nn_tensor *rm,
                           nn_tensor *rv, float momentum, float eps) {
  double cnt = (double)(d.N * d.L);
  for (int64_t c = 0; c < d.C; c++) {
    double mu, var;
    bn_stats(x, d, c, &mu, &var);
    mean[c] = (float)mu;
    invstd[c] = (float)(1.0 / sqrt(var + eps));
    if (rm) {
      float *p = nn_tensor_data(rm) + c * rm->stride[0];
      *p = (1.0f - momentum) * *p + momentum * (float)mu;
    }
    if (rv) {
      float *p = nn_tensor_data(rv) + c * rv->stride[0];
      *p = (1.0f - momentum) * *p + momentum * (float)(var * cnt / (cnt - 1.0));
    }
  }
  if (rm) rm->s->version++;
  if (rv) rv->s->version++;
}

nn_tensor *nn_batch_norm(nn_ctx *ctx, nn_tensor *x, nn_tensor *running_mean, nn_tensor *running_var,
                         nn_tensor *weight, nn_tensor *bias, int training, float momentum, float eps) {
  if (bn_check(ctx, x, running_mean, running_var, weight, bias, training, eps)) return NULL;
  bn_dims d = bn_shape(x);
  nn_tensor *xc = nn_tensor_contiguous(ctx, x);
  nn_tensor *mean = xc ? nn_tensor_empty(ctx, 1, &d.C) : NULL;
  nn_tensor *invstd = mean ? nn_tensor_empty(ctx, 1, &d.C) : NULL;
  nn_tensor *y = invstd ? nn_tensor_empty(ctx, x->ndim, x->shape) : NULL;
  if (y) {
    float *mp = nn_tensor_data(mean), *ip = nn_tensor_data(invstd);
    if (training) {
      bn_train_stats(nn_tensor_data(xc), d, mp, ip, running_mean, running_var, momentum, eps);
    } else {
      for (int64_t c = 0; c < d.C; c++) {
        mp[c] = at1(running_mean, c);
        ip[c] = (float)(1.0 / sqrt((double)at1(running_var, c) + eps));
      }
    }
    bn_fwd(nn_tensor_data(y), nn_tensor_data(xc), d, mp, ip, weight, bias);
  }
  nn_tensor *in[3] = {x}, *saved[4] = {x, mean, invstd, weight};
  int nin = 1;
  if (weight) in[nin++] = weight;
  if (bias) in[nin++] = bias;
  bn_params p = {.training = training != 0, .has_weight = weight != NULL, .has_bias = bias != NULL};
  nn_tensor *out = nn_ag_record(ctx, y, "NativeBatchNormBackward0", bn_back, in, nin, saved, 4,
                                &p, sizeof p);
  nn_tensor_free(xc);
  nn_tensor_free(mean);
  nn_tensor_free(invstd);
  return out;
}
