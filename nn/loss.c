/* loss.c -- the losses of loss.h: forward loops over contiguous data (double
 * accumulators) and their backward functions, recorded with nn_ag_record.
 * Backward reads the contiguous inputs saved by forward and writes plain new
 * tensors, so nothing is recorded inside a backward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "autograd.h"
#include "loss.h"

/* What each loss's backward needs (nn_ag_record copies it into the node).
 * denom: the divisor of the mean, the sum of the targets' weights (or N)
 * rounded to float; count: the number of elements, the divisor of the mean. */
typedef struct { enum nn_reduction red; float denom, label_smoothing; int probs; } ce_params;
typedef struct { enum nn_reduction red; float denom; } nll_params;
typedef struct { enum nn_reduction red; int64_t count; float delta; } elem_params;  /* delta: huber */

static nn_tensor *contig(nn_ctx *ctx, nn_tensor *t) {
  return t ? nn_tensor_contiguous(ctx, t) : NULL;
}

/* the result: 0-d holding v for mean/sum, else per-element of ndim/shape (filled by the caller) */
static nn_tensor *result(nn_ctx *ctx, enum nn_reduction red, int ndim, const int64_t *shape) {
  if (red == NN_RED_NONE) return nn_tensor_empty(ctx, ndim, shape);
  return nn_tensor_empty(ctx, 0, NULL);
}

/* scale of sample/element i in backward: g_i for none, g / denom for mean, g for sum */
static double scale_of(const float *g, enum nn_reduction red, double denom, int64_t i) {
  switch (red) {
  case NN_RED_NONE: return g[i];
  case NN_RED_MEAN: return (double)g[0] / denom;
  default: return g[0];
  }
}

static int check_red(nn_ctx *ctx, const char *fn, enum nn_reduction red) {
  if (red == NN_RED_MEAN || red == NN_RED_SUM || red == NN_RED_NONE) return 0;
  return nn_seterr(ctx, NN_EARG, "%s: unknown reduction %d", fn, (int)red);
}

/* ---- classification: shapes, targets, weights ---- */

/* Checks x [N, C] or [C] with class targets [N] or 0-d (probs: x's shape); sets n, c. */
static int class_shapes(nn_ctx *ctx, const char *fn, const nn_tensor *x, const nn_tensor *t,
                        const nn_tensor *w, int probs, int64_t *n, int64_t *c) {
  char sx[128], st[128], sw[128];
  if (x->ndim == 2 || x->ndim == 1) {
    *n = x->ndim == 2 ? x->shape[0] : 1;
    *c = x->shape[x->ndim - 1];
    int ok = probs > 0 ? t->ndim == x->ndim && t->shape[0] == x->shape[0] &&
                     (x->ndim == 1 || t->shape[1] == x->shape[1])
                   : t->ndim == x->ndim - 1 && (t->ndim == 0 || t->shape[0] == *n);
    if (ok && (!w || (w->ndim == 1 && w->shape[0] == *c))) return 0;
    if (ok)
      return nn_seterr(ctx, NN_EARG, "%s: weight %s should be [%lld], one per class", fn,
                       nn_shape_str(w, sw, sizeof sw), (long long)*c);
  }
  return nn_seterr(ctx, NN_EARG, "%s: input %s and target %s do not match (expected input [N, C] "
                   "with target [N] of class indices 1..C%s)", fn, nn_shape_str(x, sx, sizeof sx),
                   nn_shape_str(t, st, sizeof st),
                   probs < 0 ? "" : ", or [N, C] of class probabilities");
}

/* Every target a whole number 1..c. */
static int check_targets(nn_ctx *ctx, const char *fn, const float *t, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; i++) {
    float v = t[i];
    if (v != floorf(v))
      return nn_seterr(ctx, NN_EARG, "%s: target %g is not a whole number (class indices are 1..%lld)",
                       fn, v, (long long)c);
    if (!(v >= 1 && v <= (float)c))
      return nn_seterr(ctx, NN_EARG, "%s: target %g is out of range for %lld classes (targets are "
                       "1-based)", fn, v, (long long)c);
  }
  return 0;
}

static double wt(const float *w, int64_t k) { return w ? w[k] : 1.0; }

/* ---- cross entropy (fused log-softmax + NLL) ---- */

/* log sum exp of row z[0..c) as m + ls, m the row's max: lse - z_k is then
 * (m - z_k) + ls, exact for huge logits, where m + ls would round ls away
 * (1e20 + log 2 == 1e20 in double). ls is inf/nan for infinite maxima. */
typedef struct { double m, ls; } lse_t;

static lse_t row_lse(const float *z, int64_t c) {
  double m = -INFINITY, s = 0;
  for (int64_t k = 0; k < c; k++) if (z[k] > m) m = z[k];
  if (m == -INFINITY || m == INFINITY) return (lse_t){m, 0};
  for (int64_t k = 0; k < c; k++) s += exp(z[k] - m);
  return (lse_t){m, log(s)};
}

/* lse - z (= -log softmax of z) */
static double lse_minus(lse_t l, double z) { return (l.m - z) + l.ls; }

/* coefficient a_k of (lse - z_k) in the loss of a row: see loss.h */
static double ce_coef(const float *w, const float *t, int64_t row, int64_t k, int64_t c, int probs,
                      double e) {
  if (probs) return wt(w, k) * ((1 - e) * t[row * c + k] + e / (double)c);
  int64_t cls = (int64_t)t[row] - 1;
  return (k == cls ? (1 - e) * wt(w, cls) : 0.0) + e / (double)c * wt(w, k);
}

static int ce_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                       const void *params, nn_tensor *g, nn_tensor **gin) {
  const ce_params *p = params;
  nn_tensor *x = saved[0], *t = saved[1], *wv = saved[2], *gc = contig(ctx, g);
  int probs = p->probs;
  double e = p->label_smoothing;
  int64_t c = x->shape[x->ndim - 1], n = nn_tensor_numel(x) / (c ? c : 1);
  if (!gc) return NN_ENOMEM;
  const float *xd = nn_tensor_data(x), *td = nn_tensor_data(t), *gd = nn_tensor_data(gc);
  const float *w = wv ? nn_tensor_data(wv) : NULL;
  int rc = 0;
  if (nn_ag_need(in, 0)) {
    gin[0] = nn_tensor_empty(ctx, x->ndim, x->shape);
    if (!gin[0]) rc = NN_ENOMEM;
    for (int64_t i = 0; !rc && i < n; i++) {
      const float *z = xd + i * c;
      float *dz = nn_tensor_data(gin[0]) + i * c;
      lse_t lse = row_lse(z, c);
      double s = scale_of(gd, p->red, p->denom, i), a_sum = 0;
      for (int64_t k = 0; k < c; k++) a_sum += ce_coef(w, td, i, k, c, probs, e);
      for (int64_t k = 0; k < c; k++)
        dz[k] = (float)(s * (a_sum * exp(-lse_minus(lse, z[k])) - ce_coef(w, td, i, k, c, probs, e)));
    }
  }
  if (!rc && probs && nn_ag_need(in, 1)) {     /* dl/dy_k = -(1-e) w_k log softmax_k */
    gin[1] = nn_tensor_empty(ctx, t->ndim, t->shape);
    if (!gin[1]) rc = NN_ENOMEM;
    for (int64_t i = 0; !rc && i < n; i++) {
      const float *z = xd + i * c;
      lse_t lse = row_lse(z, c);
      double s = scale_of(gd, p->red, p->denom, i);
      for (int64_t k = 0; k < c; k++)
        nn_tensor_data(gin[1])[i * c + k] = (float)(s * (1 - e) * wt(w, k) * lse_minus(lse, z[k]));
    }
  }
  nn_tensor_free(gc);
  return rc;
}

nn_tensor *nn_cross_entropy(nn_ctx *ctx, nn_tensor *logits, nn_tensor *target, nn_tensor *weight,
                            float label_smoothing, enum nn_reduction red) {
  const char *fn = "cross_entropy";
  int probs = target->ndim == logits->ndim;
  int64_t n, c;
  if (check_red(ctx, fn, red) || class_shapes(ctx, fn, logits, target, weight, probs, &n, &c))
    return NULL;
  if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f)) {
    nn_seterr(ctx, NN_EARG, "%s: label_smoothing must be between 0 and 1 (got %g)", fn,
              (double)label_smoothing);
    return NULL;
  }
  nn_tensor *x = contig(ctx, logits), *t = contig(ctx, target), *wv = contig(ctx, weight), *out = NULL;
  if (!x || !t || (weight && !wv)) goto done;
  const float *xd = nn_tensor_data(x), *td = nn_tensor_data(t), *w = wv ? nn_tensor_data(wv) : NULL;
  if (!probs && check_targets(ctx, fn, td, n, c)) goto done;
  out = result(ctx, red, target->ndim - probs, target->shape);
  if (!out) goto done;
  double e = label_smoothing, total = 0, denom = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *z = xd + i * c;
    lse_t lse = row_lse(z, c);
    double l = 0;
    for (int64_t k = 0; k < c; k++) {
      double a = ce_coef(w, td, i, k, c, probs, e);
      if (a != 0) l += a * lse_minus(lse, z[k]);
    }
    if (red == NN_RED_NONE) nn_tensor_data(out)[i] = (float)l;
    total += l;
    denom += probs ? 1.0 : wt(w, (int64_t)td[i] - 1);
  }
  if (red == NN_RED_MEAN) total /= denom;
  if (red != NN_RED_NONE) nn_tensor_data(out)[0] = (float)total;
  ce_params p = {red, (float)denom, label_smoothing, probs};
  out = nn_ag_record(ctx, out, "CrossEntropyLossBackward0", ce_backward,
                     (nn_tensor *[]){logits, target}, probs ? 2 : 1,
                     (nn_tensor *[]){x, t, wv}, 3, &p, sizeof p);
done:
  NN_FREE(x, t, wv);
  return out;
}

/* ---- negative log likelihood ---- */

static int nll_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                        const void *params, nn_tensor *g, nn_tensor **gin) {
  const nll_params *p = params;
  nn_tensor *x = saved[0], *t = saved[1], *wv = saved[2], *gc;
  if (!nn_ag_need(in, 0)) return 0;
  int64_t c = x->shape[x->ndim - 1], n = nn_tensor_numel(x) / (c ? c : 1);
  gc = contig(ctx, g);
  gin[0] = nn_tensor_zeros(ctx, x->ndim, x->shape);
  if (!gc || !gin[0]) { nn_tensor_free(gc); return NN_ENOMEM; }
  const float *td = nn_tensor_data(t), *gd = nn_tensor_data(gc), *w = wv ? nn_tensor_data(wv) : NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t cls = (int64_t)td[i] - 1;
    nn_tensor_data(gin[0])[i * c + cls] = (float)(-scale_of(gd, p->red, p->denom, i) * wt(w, cls));
  }
  nn_tensor_free(gc);
  return 0;
}

nn_tensor *nn_nll_loss(nn_ctx *ctx, nn_tensor *logp, nn_tensor *target, nn_tensor *weight,
                       enum nn_reduction red) {
  const char *fn = "nll_loss";
  int64_t n, c;
  if (check_red(ctx, fn, red) || class_shapes(ctx, fn, logp, target, weight, -1, &n, &c)) return NULL;
  nn_tensor *x = contig(ctx, logp), *t = contig(ctx, target), *wv = contig(ctx, weight), *out = NULL;
  if (!x || !t || (weight && !wv)) goto done;
  const float *xd = nn_tensor_data(x), *td = nn_tensor_data(t), *w = wv ? nn_tensor_data(wv) : NULL;
  if (check_targets(ctx, fn, td, n, c)) goto done;
  out = result(ctx, red, target->ndim, target->shape);
  if (!out) goto done;
  double total = 0, denom = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t cls = (int64_t)td[i] - 1;
    double l = -wt(w, cls) * xd[i * c + cls];
    if (red == NN_RED_NONE) nn_tensor_data(out)[i] = (float)l;
    total += l;
    denom += wt(w, cls);
  }
  if (red == NN_RED_MEAN) total /= denom;
  if (red != NN_RED_NONE) nn_tensor_data(out)[0] = (float)total;
  nll_params p = {red, (float)denom};
  out = nn_ag_record(ctx, out, "NllLossBackward0", nll_backward, &logp, 1,
                     (nn_tensor *[]){x, t, wv}, 3, &p, sizeof p);
done:
  NN_FREE(x, t, wv);
  return out;
}

/* ---- elementwise losses ---- */

enum kind { K_MSE, K_L1, K_BCE, K_BCE_LOGITS, K_HUBER };

static double clamped_log(double v) { return v > 0 ? fmax(log(v), -100.0) : -100.0; }

static double elem_loss(enum kind k, double x, double y, double delta) {
  double d = x - y;
  switch (k) {
  case K_MSE: return d * d;
  case K_L1: return fabs(d);
  case K_BCE: return -(y * clamped_log(x) + (1 - y) * clamped_log(1 - x));
  case K_BCE_LOGITS: return fmax(x, 0) - x * y + log1p(exp(-fabs(x)));
  default: return fabs(d) < delta ? 0.5 * d * d : delta * (fabs(d) - 0.5 * delta);
  }
}

/* d loss / dx (which_y 0) or d loss / dy (which_y 1) */
static double elem_grad(enum kind k, double x, double y, double delta, int which_y) {
  double d = x - y, dx;
  switch (k) {
  case K_MSE: dx = 2 * d; break;
  case K_L1: dx = (d > 0) - (d < 0); break;
  case K_BCE:
    if (which_y) return clamped_log(1 - x) - clamped_log(x);
    return (x - y) / fmax((1 - x) * x, 1e-12);       /* PyTorch's EPSILON */
  case K_BCE_LOGITS:
    if (which_y) return -x;
    return (x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))) - y;
  default: dx = d < -delta ? -delta : d > delta ? delta : d; break;
  }
  return which_y ? -dx : dx;
}

static int elem_backward(nn_ctx *ctx, enum kind k, nn_tensor *const *in, nn_tensor *const *saved,
                         const elem_params *p, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *x = saved[0], *y = saved[1], *gc = contig(ctx, g);
  if (!gc) return NN_ENOMEM;
  int64_t n = nn_tensor_numel(x);
  const float *xd = nn_tensor_data(x), *yd = nn_tensor_data(y), *gd = nn_tensor_data(gc);
  int rc = 0;
  for (int i = 0; i < 2 && !rc; i++) {
    if (!nn_ag_need(in, i)) continue;
    gin[i] = nn_tensor_empty(ctx, x->ndim, x->shape);
    if (!gin[i]) { rc = NN_ENOMEM; break; }
    float *o = nn_tensor_data(gin[i]);
    for (int64_t j = 0; j < n; j++)
      o[j] = (float)(scale_of(gd, p->red, (double)p->count, j) *
                     elem_grad(k, xd[j], yd[j], p->delta, i));
  }
  nn_tensor_free(gc);
  return rc;
}

static int mse_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                        const void *params, nn_tensor *g, nn_tensor **gin) {
  return elem_backward(ctx, K_MSE, in, saved, params, g, gin);
}
static int l1_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                       const void *params, nn_tensor *g, nn_tensor **gin) {
  return elem_backward(ctx, K_L1, in, saved, params, g, gin);
}
static int bce_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                        const void *params, nn_tensor *g, nn_tensor **gin) {
  return elem_backward(ctx, K_BCE, in, saved, params, g, gin);
}
static int bce_logits_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                               const void *params, nn_tensor *g, nn_tensor **gin) {
  return elem_backward(ctx, K_BCE_LOGITS, in, saved, params, g, gin);
}
static int huber_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                          const void *params, nn_tensor *g, nn_tensor **gin) {
  return elem_backward(ctx, K_HUBER, in, saved, params, g, gin);
}

static const struct {
  const char *fn, *grad_name;
  nn_backward_fn back;
} kinds[] = {
  [K_MSE] = {"mse_loss", "MseLossBackward0", mse_backward},
  [K_L1] = {"l1_loss", "L1LossBackward0", l1_backward},
  [K_BCE] = {"binary_cross_entropy", "BinaryCrossEntropyBackward0", bce_backward},
  [K_BCE_LOGITS] = {"binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
                    bce_logits_backward},
  [K_HUBER] = {"huber_loss", "HuberLossBackward0", huber_backward},
};

static int same_shape(const nn_tensor *a, const nn_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; d++) if (a->shape[d] != b->shape[d]) return 0;
  return 1;
}

static nn_tensor *elementwise(nn_ctx *ctx, enum kind k, nn_tensor *input, nn_tensor *target,
                              float delta, enum nn_reduction red) {
  const char *fn = kinds[k].fn;
  char sa[128], sb[128];
  if (check_red(ctx, fn, red)) return NULL;
  if (!same_shape(input, target)) {
    nn_seterr(ctx, NN_EARG, "%s: input %s and target %s must have the same shape", fn,
              nn_shape_str(input, sa, sizeof sa), nn_shape_str(target, sb, sizeof sb));
    return NULL;
  }
  nn_tensor *x = contig(ctx, input), *y = contig(ctx, target), *out = NULL;
  if (!x || !y) goto done;
  int64_t n = nn_tensor_numel(x);
  const float *xd = nn_tensor_data(x), *yd = nn_tensor_data(y);
  for (int64_t j = 0; k == K_BCE && j < n; j++)
    if (!(xd[j] >= 0.0f && xd[j] <= 1.0f)) {
      nn_seterr(ctx, NN_EARG, "%s: input values must be between 0 and 1 (got %g at element %lld; "
                "use binary_cross_entropy_with_logits for raw scores)", fn, xd[j], (long long)j + 1);
      goto done;
    }
  out = result(ctx, red, x->ndim, x->shape);
  if (!out) goto done;
  double total = 0;
  for (int64_t j = 0; j < n; j++) {
    double l = elem_loss(k, xd[j], yd[j], delta);
    if (red == NN_RED_NONE) nn_tensor_data(out)[j] = (float)l;
    total += l;
  }
  if (red == NN_RED_MEAN) total /= (double)n;
  if (red != NN_RED_NONE) nn_tensor_data(out)[0] = (float)total;
  elem_params p = {red, n, delta};
  out = nn_ag_record(ctx, out, kinds[k].grad_name, kinds[k].back, (nn_tensor *[]){input, target}, 2,
                     (nn_tensor *[]){x, y}, 2, &p, sizeof p);
done:
  NN_FREE(x, y);
  return out;
}

nn_tensor *nn_mse_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red) {
  return elementwise(ctx, K_MSE, x, y, 0, red);
}
nn_tensor *nn_l1_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red) {
  return elementwise(ctx, K_L1, x, y, 0, red);
}
nn_tensor *nn_bce_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red) {
  return elementwise(ctx, K_BCE, x, y, 0, red);
}
nn_tensor *nn_bce_with_logits_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red) {
  return elementwise(ctx, K_BCE_LOGITS, x, y, 0, red);
}
nn_tensor *nn_huber_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, float delta, enum nn_reduction red) {
  if (!(delta > 0.0f)) {
    nn_seterr(ctx, NN_EARG, "huber_loss: delta must be greater than 0 (got %g)", (double)delta);
    return NULL;
  }
  return elementwise(ctx, K_HUBER, x, y, delta, red);
}
