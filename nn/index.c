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
