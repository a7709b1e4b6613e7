/* reduce.c -- sums, means, variances, max/min with indices, softmax.
 *
 * Determinism: a tensor is reduced as [outer, len, inner] (len: the reduced
 * dim). Every output is accumulated in double in a fixed order that depends
 * on the shape only; threads split whole outputs (or, for one long row,
 * fixed-size blocks combined in order), so results are bit-identical for any
 * thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "ops.h"
#include "iter.h"

#define BLOCK 4096   /* elements per partial sum of a long row */

static int norm_dim(nn_ctx *ctx, const char *fn, int dim, const nn_tensor *a) {
  if (dim >= 0 && dim < (a->ndim ? a->ndim : 1)) return 0;
  return nn_seterr(ctx, NN_EARG, "%s: dim %d out of range for a %d-d tensor", fn, dim + 1, a->ndim);
}

static double sum_block(const float *x, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3];
  }
  for (; i < n; i++) s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

/* Sum of a contiguous row in fixed blocks, combined in order. */
static double sum_row(const float *x, int64_t n, int parallel) {
  (void)parallel;                             /* used by OpenMP only */
  int64_t nb = (n + BLOCK - 1) / BLOCK;
  if (nb <= 1) return sum_block(x, n);
  double stackbuf[64], *part = nb <= 64 ? stackbuf : malloc((size_t)nb * sizeof(double));
  if (!part) {                                /* same blocks, one at a time */
    double s = 0;
    for (int64_t b = 0; b < nb; b++) s += sum_block(x + b * BLOCK, b == nb - 1 ? n - b * BLOCK : BLOCK);
    return s;
  }
#pragma omp parallel for schedule(static) if (parallel && n >= NN_PAR_MIN)
  for (int64_t b = 0; b < nb; b++)
    part[b] = sum_block(x + b * BLOCK, b == nb - 1 ? n - b * BLOCK : BLOCK);
  double s = 0;
  for (int64_t b = 0; b < nb; b++) s += part[b];
  if (part != stackbuf) free(part);
  return s;
}

double nn_sum_all(nn_ctx *ctx, const nn_tensor *a) {
  nn_tensor *c = nn_tensor_contiguous(ctx, (nn_tensor *)a);
  double s = c ? sum_row(nn_tensor_data(c), nn_tensor_numel(c), 1) : NAN;
  nn_tensor_free(c);
  return s;
}

/* a contiguous copy (or a itself) with outer/len/inner sizes for reducing dim */
static nn_tensor *as_oli(nn_ctx *ctx, const nn_tensor *a, int dim, int64_t *outer, int64_t *len,
                         int64_t *inner) {
  *outer = *inner = 1;
  *len = a->ndim ? a->shape[dim] : 1;
  for (int i = 0; i < dim; i++) *outer *= a->shape[i];
  for (int i = dim + 1; i < a->ndim; i++) *inner *= a->shape[i];
  return nn_tensor_contiguous(ctx, (nn_tensor *)a);
}

/* The result of reducing a over dim: a's shape without dim (with it as 1 if
 * keepdim); 0-d when dim < 0 (everything). */
static nn_tensor *reduced_out(nn_ctx *ctx, const nn_tensor *a, int dim, int keepdim) {
  if (dim < 0) return nn_tensor_empty(ctx, 0, NULL);
  int64_t shape[NN_MAXDIM];
  int nd = 0;
  for (int i = 0; i < a->ndim; i++) {
    if (i != dim) shape[nd++] = a->shape[i];
    else if (keepdim) shape[nd++] = 1;
  }
  return nn_tensor_empty(ctx, nd, shape);
}

/* The input of a reduction of a over dim, laid out as (outer, len, inner) in
 * *c (owned); dim < 0 reduces everything, a read as one row. 0, or NN_EARG
 * (dim out of range) / NN_ENOMEM with ctx->err set and *c NULL. */
static int reduce_input(nn_ctx *ctx, const char *fn, const nn_tensor *a, int dim, nn_tensor **c,
                        int64_t *outer, int64_t *len, int64_t *inner) {
  *c = NULL;
  if (dim >= 0) {
    if (norm_dim(ctx, fn, dim, a)) return NN_EARG;
    *c = as_oli(ctx, a, dim, outer, len, inner);
    return *c ? 0 : NN_ENOMEM;
  }
  nn_tensor *flat = nn_tensor_reshape(ctx, a, 1, (int64_t[]){nn_tensor_numel(a)});
  if (flat) *c = as_oli(ctx, flat, 0, outer, len, inner);
  nn_tensor_free(flat);
  return *c ? 0 : NN_ENOMEM;
}

/* out[j] = sum over l of x[l, j] (or the mean / variance, over denom), for j < inner:
 * one o of reduce_oli, the columns in blocks of 256 summed in double, each in
 * the order of l. NN_DISPATCH: the bias gradient of every Linear layer. */
NN_DISPATCH static void reduce_cols(enum nn_redop op, const float *restrict x, float *restrict out,
                                    int64_t len, int64_t inner, double denom) {
  double acc[256], mean[256];
  for (int64_t j0 = 0; j0 < inner; j0 += 256) {
    int64_t nj = inner - j0 < 256 ? inner - j0 : 256;
    const float *base = x + j0;
    memset(acc, 0, sizeof acc);
    for (int64_t l = 0; l < len; l++)
      for (int64_t j = 0; j < nj; j++) acc[j] += base[l * inner + j];
    if (op == NN_VAR) {
      for (int64_t j = 0; j < nj; j++) mean[j] = acc[j] / (double)len, acc[j] = 0;
      for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < nj; j++) {
          double d = base[l * inner + j] - mean[j];
          acc[j] += d * d;
        }
    }
    for (int64_t j = 0; j < nj; j++) out[j0 + j] = (float)(acc[j] / denom);
  }
}

/* out[o, j] = sum over l of x[o, l, j] (or the mean / variance) */
static void reduce_oli(enum nn_redop op, const float *x, float *out, int64_t outer, int64_t len,
                       int64_t inner, int correction) {
  /* var divides by max(0, len - correction), as PyTorch (0 gives inf or nan) */
  double denom = op == NN_MEAN ? (double)len
                 : op == NN_VAR ? (len > correction ? (double)len - correction : 0.0) : 1.0;
  int par = outer * len * inner >= NN_PAR_MIN;
  (void)par;                                  /* used by OpenMP only */
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      const float *r = x + o * len;
      double s = sum_row(r, len, outer == 1);
      if (op == NN_VAR) {
        double m = s / (double)len, q = 0;
        for (int64_t l = 0; l < len; l++) q += ((double)r[l] - m) * ((double)r[l] - m);
        s = q;
      }
      out[o] = (float)(s / denom);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t o = 0; o < outer; o++)
    reduce_cols(op, x + o * len * inner, out + o * inner, len, inner, denom);
}

static const char *redop_name(enum nn_redop op) {
  static const char *names[] = {"sum", "mean", "max", "min", "var"};
  return names[op];
}

nn_tensor *nn_reduce(nn_ctx *ctx, enum nn_redop op, const nn_tensor *a, int dim, int keepdim,
                     int correction) {
  if (op == NN_MAX || op == NN_MIN) {
    nn_tensor *v = NULL, *ix = NULL;
    nn_reduce_arg(ctx, op, a, dim, keepdim, &v, &ix);
    nn_tensor_free(ix);
    return v;
  }
  int64_t outer, len, inner;
  nn_tensor *c;
  if (reduce_input(ctx, redop_name(op), a, dim, &c, &outer, &len, &inner)) return NULL;
  nn_tensor *out = reduced_out(ctx, a, dim, keepdim);
  /* an empty result has nothing to compute: outer alone may be 2^38 when inner is 0 */
  if (out && nn_tensor_numel(out) > 0)
    reduce_oli(op, nn_tensor_data(c), nn_tensor_data(out), outer, len, inner, correction);
  nn_tensor_free(c);
  return out;
}

/* index of the max (or min) of n values at stride st; NaN wins, first occurrence */
static int64_t arg_row(enum nn_redop op, const float *x, int64_t n, int64_t st) {
  int64_t best = 0;
  float bv = x[0];
  if (bv != bv) return 0;
  for (int64_t l = 1; l < n; l++) {
    float v = x[l * st];
    if (v != v) return l;
    if (op == NN_MAX ? v > bv : v < bv) bv = v, best = l;
  }
  return best;
}

int nn_reduce_arg(nn_ctx *ctx, enum nn_redop op, const nn_tensor *a, int dim, int keepdim,
                  nn_tensor **values, nn_tensor **indices) {
  const char *fn = op == NN_MAX ? "max" : "min";
  *values = *indices = NULL;
  if (nn_tensor_numel(a) == 0)
    return nn_seterr(ctx, NN_EARG, "%s: cannot reduce an empty tensor", fn);
  int64_t outer, len, inner;
  nn_tensor *c;
  int rc = reduce_input(ctx, fn, a, dim, &c, &outer, &len, &inner);
  if (rc) return rc;
  *values = reduced_out(ctx, a, dim, keepdim);
  *indices = reduced_out(ctx, a, dim, keepdim);
  int ok = *values && *indices;
  if (ok) {
    const float *x = nn_tensor_data(c);
    float *v = nn_tensor_data(*values), *ix = nn_tensor_data(*indices);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t j = 0; j < inner; j++) {
        const float *r = x + o * len * inner + j;
        int64_t k = arg_row(op, r, len, inner);
        v[o * inner + j] = r[k * inner];
        ix[o * inner + j] = (float)(k + 1);
      }
  } else {
    nn_tensor_free(*values);
    nn_tensor_free(*indices);
    *values = *indices = NULL;
  }
  nn_tensor_free(c);
  return ok ? 0 : NN_ENOMEM;
}

int nn_equal(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, int *result) {
  *result = 0;
  if (a->ndim != b->ndim) return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  nn_tensor *eq = nn_binary(ctx, NN_EQ, a, b);
  if (!eq) return NN_ENOMEM;
  int64_t n = nn_tensor_numel(eq);
  const float *d = nn_tensor_data(eq);
  int same = 1;
  for (int64_t i = 0; same && i < n; i++) same = d[i] != 0;
  nn_tensor_free(eq);
  *result = same;
  return 0;
}

int nn_allclose(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, double rtol, double atol,
                int *result) {
  int nd;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(ctx, "allclose", a, b, &nd, shape)) return NN_EARG;
  nn_tensor *ea = nn_tensor_expand(ctx, a, nd, shape);
  nn_tensor *eb = ea ? nn_tensor_expand(ctx, b, nd, shape) : NULL;
  nn_tensor *ca = eb ? nn_tensor_contiguous(ctx, ea) : NULL;
  nn_tensor *cb = ca ? nn_tensor_contiguous(ctx, eb) : NULL;
  if (cb) {
    const float *x = nn_tensor_data(ca), *y = nn_tensor_data(cb);
    int close = 1;
    for (int64_t i = 0, n = nn_tensor_numel(ca); close && i < n; i++) {
      double u = x[i], v = y[i];
      close = u == v || fabs(u - v) <= atol + rtol * fabs(v);   /* equal infinities pass, NaN fails */
    }
    *result = close;
  }
  nn_tensor_free(ea); nn_tensor_free(eb); nn_tensor_free(ca); nn_tensor_free(cb);
  return cb ? 0 : NN_ENOMEM;
}

/* softmax / log_softmax along dim, with the max subtracted for stability */
nn_tensor *nn_softmax(nn_ctx *ctx, const nn_tensor *a, int dim, int take_log) {
  const char *fn = take_log ? "log_softmax" : "softmax";
  if (norm_dim(ctx, fn, dim, a)) return NULL;
  int64_t outer, len, inner;
  nn_tensor *c = as_oli(ctx, a, dim, &outer, &len, &inner);
  nn_tensor *out = c ? nn_tensor_empty(ctx, a->ndim, a->shape) : NULL;
  if (!out || nn_tensor_numel(out) == 0) {     /* empty: outer * inner may still be 2^38 */
    nn_tensor_free(c);
    return out;
  }
  const float *x = nn_tensor_data(c);
  float *y = nn_tensor_data(out);
#pragma omp parallel for schedule(static) if (outer * len * inner >= NN_PAR_MIN)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const float *r = x + o * len * inner + j;
      float *w = y + o * len * inner + j;
      float m = -INFINITY;
      for (int64_t l = 0; l < len; l++) m = r[l * inner] > m ? r[l * inner] : m;
      if (m == -INFINITY) m = 0;            /* all -inf: exp gives 0s, as PyTorch (NaN after division) */
      double s = 0;
      for (int64_t l = 0; l < len; l++) s += exp((double)(r[l * inner] - m));
      float lse = (float)log(s);
      for (int64_t l = 0; l < len; l++) {
        float z = r[l * inner] - m;
        w[l * inner] = take_log ? z - lse : (float)(exp((double)z) / s);
      }
    }
  nn_tensor_free(c);
  return out;
}

/* ---- cumsum ---- */

/* running sums along dim in double, each stored as float (as PyTorch's CPU kernel);
 * reverse: from the end (the gradient of cumsum). Lines are independent. */
nn_tensor *nn_cumsum(nn_ctx *ctx, const nn_tensor *a, int dim, int reverse) {
  if (norm_dim(ctx, "cumsum", dim, a)) return NULL;
  int64_t outer, len, inner;
  nn_tensor *c = as_oli(ctx, a, dim, &outer, &len, &inner);
  nn_tensor *out = c ? nn_tensor_empty(ctx, a->ndim, a->shape) : NULL;
  if (out && nn_tensor_numel(out) > 0) {
    const float *x = nn_tensor_data(c);
    float *y = nn_tensor_data(out);
#pragma omp parallel for schedule(static) if (outer * len * inner >= NN_PAR_MIN && outer > 1)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t j = 0; j < inner; j++) {
        double s = 0;
        for (int64_t t = 0; t < len; t++) {
          int64_t l = reverse ? len - 1 - t : t, at = (o * len + l) * inner + j;
          s += x[at];
          y[at] = (float)s;
        }
      }
  }
  nn_tensor_free(c);
  return out;
}

/* ---- norm ---- */

/* the p-norm (1, 2 or inf) of n values at stride st, in double, in one fixed order */
static double norm_row(const float *x, int64_t n, int64_t st, double p) {
  double s = 0;
  if (p == 1) for (int64_t l = 0; l < n; l++) s += fabs((double)x[l * st]);
  else if (p == 2) for (int64_t l = 0; l < n; l++) s += (double)x[l * st] * x[l * st];
  else
    for (int64_t l = 0; l < n; l++) {
      double v = fabs((double)x[l * st]);
      if (v != v) return v;                          /* NaN wins, as in PyTorch */
      if (v > s) s = v;
    }
  return p == 2 ? sqrt(s) : s;
}

nn_tensor *nn_norm(nn_ctx *ctx, const nn_tensor *a, double p, int dim, int keepdim) {
  if (p != 1 && p != 2 && p != INFINITY) {
    nn_seterr(ctx, NN_EARG, "norm: p must be 1, 2 or inf (math.huge), got %g", p);
    return NULL;
  }
  int64_t outer, len, inner;
  nn_tensor *c;
  if (reduce_input(ctx, "norm", a, dim, &c, &outer, &len, &inner)) return NULL;
  nn_tensor *out = reduced_out(ctx, a, dim, keepdim);
  if (out && nn_tensor_numel(out) > 0) {
    const float *x = nn_tensor_data(c);
    float *y = nn_tensor_data(out);
#pragma omp parallel for schedule(static) if (outer * len * inner >= NN_PAR_MIN && outer * inner > 1)
    for (int64_t e = 0; e < outer * inner; e++) {
      int64_t o = e / inner, j = e % inner;
      y[e] = (float)norm_row(x + o * len * inner + j, len, inner, p);
    }
  }
  nn_tensor_free(c);
  return out;
}

/* ---- sort, topk ---- */

typedef struct { float v; int64_t i; } keyed;

/* a before b: smaller first (larger when desc); NaN counts as the largest, as in PyTorch */
static int before(const keyed *a, const keyed *b, int desc) {
  int an = a->v != a->v, bn = b->v != b->v;
  if (an || bn) return desc ? an && !bn : bn && !an;
  return desc ? a->v > b->v : a->v < b->v;
}

/* stable merge sort of x[0..n) using tmp[0..n) */
static void merge_sort(keyed *x, keyed *tmp, int64_t n, int desc) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = before(&x[j], &x[i], desc) ? x[j++] : x[i++];
      while (i < mid) tmp[k++] = x[i++];
      while (j < hi) tmp[k++] = x[j++];
    }
    memcpy(x, tmp, (size_t)n * sizeof *x);
  }
}

int nn_sort(nn_ctx *ctx, const nn_tensor *a, int dim, int desc, int64_t k,
            nn_tensor **values, nn_tensor **indices) {
  const char *fn = k < 0 ? "sort" : "topk";
  *values = *indices = NULL;
  if (norm_dim(ctx, fn, dim, a)) return NN_EARG;
  int64_t len = a->ndim ? a->shape[dim] : 1;
  if (len > ((int64_t)1 << 24))
    return nn_seterr(ctx, NN_EARG, "%s: dim %d has %lld elements; 1-based indices above 2^24 are not "
                     "exact in float32", fn, dim + 1, (long long)len);
  if (k > len)
    return nn_seterr(ctx, NN_EARG, "topk: k = %lld is larger than dim %d of size %lld", (long long)k,
                     dim + 1, (long long)len);
  int64_t outer, inner, shape[NN_MAXDIM];
  memcpy(shape, a->shape, sizeof shape);
  if (a->ndim == 0 && k == 0)
    return nn_seterr(ctx, NN_EARG, "topk: k must be 1 for a 0-d tensor, got 0");
  if (a->ndim && k >= 0) shape[dim] = k;
  nn_tensor *c = as_oli(ctx, a, dim, &outer, &len, &inner);
  keyed *buf = c ? malloc(2 * (size_t)(len ? len : 1) * sizeof *buf) : NULL;
  *values = buf ? nn_tensor_empty(ctx, a->ndim, shape) : NULL;
  *indices = *values ? nn_tensor_empty(ctx, a->ndim, shape) : NULL;
  if (!*indices) {
    if (c && !buf) nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", fn);
    free(buf);
    NN_FREE(c, *values);
    *values = NULL;
    return NN_ENOMEM;
  }
  int64_t kk = k < 0 ? len : k;
  const float *x = nn_tensor_data(c);
  float *v = nn_tensor_data(*values), *ix = nn_tensor_data(*indices);
  for (int64_t o = 0; o < outer && kk > 0 && nn_tensor_numel(c) > 0; o++)
    for (int64_t j = 0; j < inner; j++) {
      for (int64_t l = 0; l < len; l++) buf[l] = (keyed){x[(o * len + l) * inner + j], l};
      merge_sort(buf, buf + len, len, desc);
      for (int64_t l = 0; l < kk; l++) {
        v[(o * kk + l) * inner + j] = buf[l].v;
        ix[(o * kk + l) * inner + j] = (float)(buf[l].i + 1);
      }
    }
  free(buf);
  nn_tensor_free(c);
  return 0;
}
