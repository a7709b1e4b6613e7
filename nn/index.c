/* index.c -- index_select, gather, masked_fill. Indices are 1-based floats. */
#include <math.h>
#include <string.h>
#include "ops.h"

/* Checks that v is a whole number in 1..size; returns its 0-based value or -1. */
static int64_t check_index(nn_ctx *ctx, const char *fn, float v, int dim, int64_t size) {
  if (v != floorf(v) || v < 1 || v > (float)size) {
    nn_seterr(ctx, NN_EARG, "%s: index %g is out of range for dim %d of size %lld (indices are 1-based)",
              fn, v, dim + 1, (long long)size);
    return -1;
  }
  return (int64_t)v - 1;
}

nn_tensor *nn_index_select(nn_ctx *ctx, const nn_tensor *a, int dim, const nn_tensor *idx) {
  if (dim < 0 || dim >= a->ndim) {
    nn_seterr(ctx, NN_EARG, "index_select: dim %d out of range for a %d-d tensor", dim + 1, a->ndim);
    return NULL;
  }
  if (idx->ndim > 1) {
    char s[128];
    nn_seterr(ctx, NN_EARG, "index_select: index must be 1-d, got shape %s", nn_shape_str(idx, s, 128));
    return NULL;
  }
  int64_t n = nn_tensor_numel(idx), shape[NN_MAXDIM];
  memcpy(shape, a->shape, sizeof shape);
  shape[dim] = n;
  if (nn_shape_check(ctx, "index_select", a->ndim, shape, NULL, NULL)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, a->ndim, shape);
  for (int64_t i = 0; out && i < n; i++) {
    float v = idx->ndim ? nn_tensor_data(idx)[i * idx->stride[0]] : nn_tensor_data(idx)[0];
    int64_t k = check_index(ctx, "index_select", v, dim, a->shape[dim]);
    nn_tensor *src = k >= 0 ? nn_tensor_select(ctx, a, dim, k) : NULL;
    nn_tensor *dst = src ? nn_tensor_select(ctx, out, dim, i) : NULL;
    int rc = dst ? nn_copy_(ctx, dst, src) : -1;
    nn_tensor_free(src);
    nn_tensor_free(dst);
    if (rc) {
      nn_tensor_free(out);
      out = NULL;
    }
  }
  return out;
}

static int check_gather(nn_ctx *ctx, const nn_tensor *a, int dim, const nn_tensor *idx) {
  char s1[128], s2[128];
  if (dim < 0 || dim >= a->ndim)
    return nn_seterr(ctx, NN_EARG, "gather: dim %d out of range for a %d-d tensor", dim + 1, a->ndim);
  if (idx->ndim != a->ndim)
    return nn_seterr(ctx, NN_EARG, "gather: index of shape %s must have as many dims as input %s",
                     nn_shape_str(idx, s1, 128), nn_shape_str(a, s2, 128));
  for (int i = 0; i < a->ndim; i++)
    if (i != dim && idx->shape[i] > a->shape[i])
      return nn_seterr(ctx, NN_EARG, "gather: index of shape %s is larger than input %s in dim %d",
                       nn_shape_str(idx, s1, 128), nn_shape_str(a, s2, 128), i + 1);
  return 0;
}

/* out[i][j] = a[idx[i][j]][j] for dim 1 (and likewise for other dims) */
nn_tensor *nn_gather(nn_ctx *ctx, const nn_tensor *a, int dim, const nn_tensor *idx) {
  if (check_gather(ctx, a, dim, idx)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, idx->ndim, idx->shape);
  if (!out) return NULL;
  int64_t n = nn_tensor_numel(out), pos[NN_MAXDIM] = {0};
  float *o = nn_tensor_data(out);
  const float *src = nn_tensor_data(a), *ix = nn_tensor_data(idx);
  for (int64_t e = 0; e < n; e++) {
    int64_t ioff = 0, aoff = 0;
    for (int d = 0; d < a->ndim; d++) {
      ioff += pos[d] * idx->stride[d];
      if (d != dim) aoff += pos[d] * a->stride[d];
    }
    int64_t k = check_index(ctx, "gather", ix[ioff], dim, a->shape[dim]);
    if (k < 0) {
      nn_tensor_free(out);
      return NULL;
    }
    o[e] = src[aoff + k * a->stride[dim]];
    for (int d = a->ndim - 1; d >= 0 && ++pos[d] == idx->shape[d]; d--) pos[d] = 0;
  }
  return out;
}

nn_tensor *nn_masked_fill(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *mask, float v) {
  nn_tensor *m = nn_tensor_expand(ctx, mask, a->ndim, a->shape);
  if (!m) {
    char s1[128], s2[128];
    nn_seterr(ctx, NN_EARG, "masked_fill: mask of shape %s cannot be broadcast to %s",
              nn_shape_str(mask, s1, 128), nn_shape_str(a, s2, 128));
    return NULL;
  }
  nn_tensor *mc = nn_tensor_clone(ctx, m);
  nn_tensor *out = mc ? nn_tensor_clone(ctx, a) : NULL;
  if (out) {
    float *o = nn_tensor_data(out);
    const float *k = nn_tensor_data(mc);
    for (int64_t i = 0, n = nn_tensor_numel(out); i < n; i++)
      if (k[i] != 0) o[i] = v;
  }
  nn_tensor_free(m);
  nn_tensor_free(mc);
  return out;
}

/* ---- diag, tril, triu ---- */

/* k brought within +-(NN_MAXNUMEL + 1): a diagonal that far out is empty in any matrix,
 * and -k, i0 and j0 below cannot overflow */
static int64_t diag_clamp(int64_t k) {
  return k > NN_MAXNUMEL ? NN_MAXNUMEL + 1 : k < -NN_MAXNUMEL ? -NN_MAXNUMEL - 1 : k;
}

/* the length of diagonal k of an r x c matrix */
static int64_t diag_len(int64_t r, int64_t c, int64_t k) {
  k = diag_clamp(k);
  int64_t n = k >= 0 ? (k > c ? 0 : (r < c - k ? r : c - k)) : (-k > r ? 0 : (r + k < c ? r + k : c));
  return n > 0 ? n : 0;
}

nn_tensor *nn_diag(nn_ctx *ctx, const nn_tensor *a, int64_t k) {
  char s[NN_SHAPESTR];
  if (a->ndim != 1 && a->ndim != 2) {
    nn_seterr(ctx, NN_EARG, "diag: expected a 1-d or 2-d tensor, got shape %s", nn_shape_str(a, s, sizeof s));
    return NULL;
  }
  if (a->ndim == 2) {                               /* the diagonal, as a new 1-d tensor */
    k = diag_clamp(k);
    int64_t n = diag_len(a->shape[0], a->shape[1], k);
    nn_tensor *out = nn_tensor_empty(ctx, 1, &n);
    if (!out) return NULL;
    int64_t i0 = k >= 0 ? 0 : -k, j0 = k >= 0 ? k : 0;
    const float *x = nn_tensor_data(a);
    for (int64_t i = 0; i < n; i++)
      nn_tensor_data(out)[i] = x[(i0 + i) * a->stride[0] + (j0 + i) * a->stride[1]];
    return out;
  }
  int64_t n = a->shape[0], m;
  if (k < -NN_MAXNUMEL || k > NN_MAXNUMEL || nn_size_add(n, k < 0 ? -k : k, &m) ||
      nn_shape_check(ctx, "diag", 2, (int64_t[]){m, m}, NULL, NULL)) {
    nn_seterr(ctx, NN_EARG, "diag: a diagonal of %lld elements at offset %lld needs a matrix larger "
              "than a tensor can be", (long long)n, (long long)k);
    return NULL;
  }
  nn_tensor *out = nn_tensor_zeros(ctx, 2, (int64_t[]){m, m});
  if (!out) return NULL;
  int64_t i0 = k >= 0 ? 0 : -k, j0 = k >= 0 ? k : 0;
  for (int64_t i = 0; i < n; i++)
    nn_tensor_data(out)[(i0 + i) * m + j0 + i] = nn_tensor_data(a)[i * a->stride[0]];
  return out;
}

/* zeros of shape [r, c] with the 1-d d on diagonal k (the gradient of diag of a matrix) */
nn_tensor *nn_diag_embed(nn_ctx *ctx, const nn_tensor *d, int64_t r, int64_t c, int64_t k) {
  nn_tensor *out = nn_tensor_zeros(ctx, 2, (int64_t[]){r, c});
  if (!out) return NULL;
  k = diag_clamp(k);
  int64_t n = diag_len(r, c, k), i0 = k >= 0 ? 0 : -k, j0 = k >= 0 ? k : 0;
  for (int64_t i = 0; i < n; i++)
    nn_tensor_data(out)[(i0 + i) * c + j0 + i] = nn_tensor_data(d)[i * d->stride[0]];
  return out;
}

nn_tensor *nn_tril(nn_ctx *ctx, const nn_tensor *a, int64_t k, int upper) {
  if (a->ndim < 2) {
    char s[NN_SHAPESTR];
    nn_seterr(ctx, NN_EARG, "%s: expected a tensor of 2 or more dims (matrices in the last two), got shape %s",
              upper ? "triu" : "tril", nn_shape_str(a, s, sizeof s));
    return NULL;
  }
  nn_tensor *out = nn_tensor_clone(ctx, a);
  if (!out) return NULL;
  int64_t r = a->shape[a->ndim - 2], c = a->shape[a->ndim - 1], count = nn_tensor_numel(out);
  float *o = nn_tensor_data(out);
  for (int64_t b = 0; r * c > 0 && b < count / (r * c); b++)
    for (int64_t i = 0; i < r; i++)
      for (int64_t j = 0; j < c; j++)       /* tril keeps j - i <= k, triu keeps j - i >= k */
        if (upper ? j - i < k : j - i > k) o[(b * r + i) * c + j] = 0.0f;
  return out;
}
