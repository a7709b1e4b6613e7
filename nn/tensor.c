/* tensor.c -- storage, tensor lifetime, creation, views. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "tensor.h"
#include "ops.h"
#include "rng.h"
#include "autograd.h"

/* Largest storage we accept: 2^40 bytes keeps every size computation exact. */
#define MAX_ELEMS ((int64_t)1 << 38)

/* Large buffers are 2 MB aligned and ask for transparent huge pages: a fresh
 * 64 MB tensor then takes 32 page faults instead of 16384 (measured here:
 * 178 ms -> 33 ms to fault one in). Small ones are cache-line aligned. */
#define HUGE_PAGE ((size_t)2 << 20)

static float *alloc_floats(size_t bytes) {
  size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
  bytes = (bytes + align - 1) & ~(align - 1);
  float *p = aligned_alloc(align, bytes);
  if (p && align == HUGE_PAGE) madvise(p, bytes, MADV_HUGEPAGE);   /* a hint: failure is harmless */
  return p;
}

static nn_storage *storage_new(nn_ctx *ctx, int64_t n) {
  nn_storage *s = malloc(sizeof *s);
  size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
  float *data = s ? alloc_floats(bytes) : NULL;
  if (!data) {
    free(s);
    nn_seterr(ctx, NN_ENOMEM, "out of memory allocating %lld floats", (long long)n);
    return NULL;
  }
  s->data = data;
  s->n = (size_t)n;
  s->rc = 1;
  s->version = 0;
  ctx->alloc_pending += bytes;
  return s;
}

static void storage_release(nn_storage *s) {
  if (s && --s->rc == 0) {
    free(s->data);
    free(s);
  }
}

int64_t nn_tensor_numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

static int check_shape(nn_ctx *ctx, int ndim, const int64_t *shape, int64_t *numel) {
  if (ndim < 0 || ndim > NN_MAXDIM)
    return nn_seterr(ctx, NN_EARG, "tensors have at most %d dims, got %d", NN_MAXDIM, ndim);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return nn_seterr(ctx, NN_EARG, "size %lld of dim %d is negative", (long long)shape[i], i + 1);
    if (shape[i] > 0 && n > MAX_ELEMS / shape[i])
      return nn_seterr(ctx, NN_EARG, "tensor of shape %s is too large",
                       nn_dims_str(ndim, shape, (char[128]){0}, 128));
    n *= shape[i];
  }
  *numel = n;
  return 0;
}

static void contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
  int64_t st = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    stride[i] = st;
    st *= shape[i] > 0 ? shape[i] : 1;
  }
}

static nn_tensor *tensor_on(nn_ctx *ctx, nn_storage *s, int ndim, const int64_t *shape,
                            const int64_t *stride, size_t off) {
  nn_tensor *t = calloc(1, sizeof *t);
  if (!t) {
    nn_seterr(ctx, NN_ENOMEM, "out of memory");
    return NULL;
  }
  t->s = s;
  s->rc++;
  t->off = off;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    t->stride[i] = stride[i];
  }
  t->rc = 1;
  return t;
}

nn_tensor *nn_tensor_empty(nn_ctx *ctx, int ndim, const int64_t *shape) {
  int64_t n = 0, stride[NN_MAXDIM];
  if (check_shape(ctx, ndim, shape, &n)) return NULL;
  nn_storage *s = storage_new(ctx, n);
  if (!s) return NULL;
  contiguous_strides(ndim, shape, stride);
  nn_tensor *t = tensor_on(ctx, s, ndim, shape, stride, 0);
  storage_release(s);
  return t;
}

nn_tensor *nn_tensor_full(nn_ctx *ctx, int ndim, const int64_t *shape, float v) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  if (t) nn_fill_(ctx, t, v);
  return t;
}

nn_tensor *nn_tensor_zeros(nn_ctx *ctx, int ndim, const int64_t *shape) {
  return nn_tensor_full(ctx, ndim, shape, 0.0f);
}

nn_tensor *nn_tensor_retain(nn_tensor *t) {
  t->rc++;
  return t;
}

/* Tensors whose last reference is being dropped. A long autograd tape is a
 * chain tensor -> node -> input tensor -> node ..., so freeing it recursively
 * could overflow the C stack: the references go on this worklist instead. */
typedef struct dropping { nn_tensor **v; size_t n, cap; } dropping;

static void drop_later(void *ud, nn_tensor *t) {
  dropping *d = ud;
  if (!t) return;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    nn_tensor **v = realloc(d->v, cap * sizeof *v);
    if (!v) {                           /* no memory for the list: release it right away */
      nn_tensor_free(t);
      return;
    }
    d->v = v;
    d->cap = cap;
  }
  d->v[d->n++] = t;
}

void nn_tensor_free(nn_tensor *t) {
  dropping d = {0};
  while (t) {
    if (--t->rc == 0) {
      storage_release(t->s);
      drop_later(&d, t->grad);
      nn_node_free_into(t->node, drop_later, &d);
      free(t);
    }
    t = d.n ? d.v[--d.n] : NULL;
  }
  free(d.v);
}

nn_tensor *nn_tensor_view_of(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape,
                             const int64_t *stride, size_t off) {
  return tensor_on(ctx, t->s, ndim, shape, stride, off);
}

int nn_tensor_is_contiguous(const nn_tensor *t) {
  int64_t st = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] == 1) continue;
    if (t->shape[i] == 0) return 1;
    if (t->stride[i] != st) return 0;
    st *= t->shape[i];
  }
  return 1;
}

const char *nn_dims_str(int ndim, const int64_t *shape, char *buf, size_t len) {
  size_t k = 0;
  k += (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndim && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (k < len) snprintf(buf + k, len - k, "]");
  return buf;
}

const char *nn_shape_str(const nn_tensor *t, char *buf, size_t len) {
  return nn_dims_str(t->ndim, t->shape, buf, len);
}

float nn_tensor_get(const nn_tensor *t, const int64_t *idx) {
  const float *p = nn_tensor_data(t);
  for (int i = 0; i < t->ndim; i++) p += idx[i] * t->stride[i];
  return *p;
}

/* ---- creation ---- */

nn_tensor *nn_tensor_eye(nn_ctx *ctx, int64_t n, int64_t m) {
  nn_tensor *t = nn_tensor_zeros(ctx, 2, (int64_t[]){n, m});
  if (!t) return NULL;
  float *d = nn_tensor_data(t);
  for (int64_t i = 0; i < n && i < m; i++) d[i * m + i] = 1.0f;
  return t;
}

nn_tensor *nn_tensor_arange(nn_ctx *ctx, double start, double stop, double step) {
  if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step)) {
    nn_seterr(ctx, NN_EARG, "arange: step must be nonzero and bounds finite");
    return NULL;
  }
  double len = ceil((stop - start) / step);
  if ((stop - start) / step < 0) len = 0;
  if (len > (double)MAX_ELEMS) {
    nn_seterr(ctx, NN_EARG, "arange: %g elements is too many", len);
    return NULL;
  }
  nn_tensor *t = nn_tensor_empty(ctx, 1, (int64_t[]){(int64_t)len});
  if (!t) return NULL;
  float *d = nn_tensor_data(t);
  for (int64_t i = 0; i < t->shape[0]; i++) d[i] = (float)(start + (double)i * step);
  return t;
}

/* PyTorch fills the first half from start and the second half from the end. */
nn_tensor *nn_tensor_linspace(nn_ctx *ctx, double start, double stop, int64_t n) {
  if (n < 0) {
    nn_seterr(ctx, NN_EARG, "linspace: number of steps must be non-negative, got %lld", (long long)n);
    return NULL;
  }
  nn_tensor *t = nn_tensor_empty(ctx, 1, &n);
  if (!t) return NULL;
  float *d = nn_tensor_data(t);
  double step = n > 1 ? (stop - start) / (double)(n - 1) : 0;
  int64_t half = n == 1 ? 1 : n / 2;
  for (int64_t i = 0; i < n; i++)
    d[i] = (float)(i < half ? start + step * (double)i : stop - step * (double)(n - 1 - i));
  return t;
}

nn_tensor *nn_tensor_rand(nn_ctx *ctx, nn_rng *r, int ndim, const int64_t *shape) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  if (t) nn_rng_fill_uniform(r, nn_tensor_data(t), (size_t)nn_tensor_numel(t), 0.0f, 1.0f);
  return t;
}

nn_tensor *nn_tensor_randn(nn_ctx *ctx, nn_rng *r, int ndim, const int64_t *shape) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  if (t) nn_rng_fill_normal(r, nn_tensor_data(t), (size_t)nn_tensor_numel(t), 0.0f, 1.0f);
  return t;
}

nn_tensor *nn_tensor_randperm(nn_ctx *ctx, nn_rng *r, int64_t n) {
  if (n < 0 || n > (1 << 24)) {
    nn_seterr(ctx, NN_EARG, "randperm: n must be in 0..16777216 (exact in float32), got %lld",
              (long long)n);
    return NULL;
  }
  nn_tensor *t = nn_tensor_empty(ctx, 1, &n);
  if (t) nn_rng_randperm(r, nn_tensor_data(t), (size_t)n);
  return t;
}

static int check_cat(nn_ctx *ctx, const char *fn, nn_tensor *const *ts, int n, int dim) {
  if (n < 1) return nn_seterr(ctx, NN_EARG, "%s: expected a non-empty list of tensors", fn);
  const nn_tensor *a = ts[0];
  if (dim < 0 || dim >= a->ndim)
    return nn_seterr(ctx, NN_EARG, "%s: dim %d out of range for %d-d tensors", fn, dim + 1, a->ndim);
  for (int k = 1; k < n; k++) {
    const nn_tensor *b = ts[k];
    int bad = b->ndim != a->ndim;
    for (int i = 0; !bad && i < a->ndim; i++) bad = i != dim && a->shape[i] != b->shape[i];
    if (bad) {
      char sa[128], sb[128];
      return nn_seterr(ctx, NN_EARG, "%s: tensor 1 has shape %s but tensor %d has shape %s "
                       "(sizes must match except in dim %d)", fn, nn_shape_str(a, sa, 128),
                       k + 1, nn_shape_str(b, sb, 128), dim + 1);
    }
  }
  return 0;
}

nn_tensor *nn_tensor_cat(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim) {
  if (check_cat(ctx, "cat", ts, n, dim)) return NULL;
  int64_t shape[NN_MAXDIM];
  memcpy(shape, ts[0]->shape, sizeof shape);
  shape[dim] = 0;
  for (int k = 0; k < n; k++) shape[dim] += ts[k]->shape[dim];
  nn_tensor *out = nn_tensor_empty(ctx, ts[0]->ndim, shape);
  int64_t at = 0;
  for (int k = 0; out && k < n; k++) {
    nn_tensor *part = nn_tensor_narrow(ctx, out, dim, at, ts[k]->shape[dim]);
    int rc = part ? nn_copy_(ctx, part, ts[k]) : -1;
    nn_tensor_free(part);
    if (rc) {
      nn_tensor_free(out);
      return NULL;
    }
    at += ts[k]->shape[dim];
  }
  return out;
}

nn_tensor *nn_tensor_stack(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim) {
  if (n < 1) {
    nn_seterr(ctx, NN_EARG, "stack: expected a non-empty list of tensors");
    return NULL;
  }
  if (dim < 0 || dim > ts[0]->ndim || ts[0]->ndim >= NN_MAXDIM) {
    nn_seterr(ctx, NN_EARG, "stack: dim %d out of range for %d-d tensors", dim + 1, ts[0]->ndim);
    return NULL;
  }
  for (int k = 1; k < n; k++) {
    const nn_tensor *a = ts[0], *b = ts[k];
    int same = a->ndim == b->ndim;
    for (int i = 0; same && i < a->ndim; i++) same = a->shape[i] == b->shape[i];
    if (!same) {
      char sa[128], sb[128];
      nn_seterr(ctx, NN_EARG, "stack: tensor 1 has shape %s but tensor %d has shape %s",
                nn_shape_str(a, sa, 128), k + 1, nn_shape_str(b, sb, 128));
      return NULL;
    }
  }
  nn_tensor **us = calloc((size_t)n, sizeof *us);
  nn_tensor *out = NULL;
  int k = 0;
  if (!us) nn_seterr(ctx, NN_ENOMEM, "out of memory");
  for (; us && k < n; k++)
    if (!(us[k] = nn_tensor_unsqueeze(ctx, ts[k], dim))) break;
  if (us && k == n) out = nn_tensor_cat(ctx, us, n, dim);
  for (int i = 0; us && i < k; i++) nn_tensor_free(us[i]);
  free(us);
  return out;
}

/* ---- views ---- */

static int check_dim(nn_ctx *ctx, const char *fn, int dim, int ndim) {
  if (dim >= 0 && dim < ndim) return 0;
  return nn_seterr(ctx, NN_EARG, "%s: dim %d out of range for a %d-d tensor", fn, dim + 1, ndim);
}

/* Strides for viewing t as newshape without copying, or -1 if impossible
 * (PyTorch's rule: only dims that are contiguous with each other may be merged). */
static int view_strides(const nn_tensor *t, int nd, const int64_t *ns, int64_t *nst) {
  if (nn_tensor_numel(t) == 0 || t->ndim == 0) {
    contiguous_strides(nd, ns, nst);
    return 0;
  }
  int vd = nd - 1;
  int64_t chunk = 1, base = t->ndim ? t->stride[t->ndim - 1] : 1;
  for (int td = t->ndim - 1; td >= 0; td--) {
    chunk *= t->shape[td];
    if (td == 0 || (t->shape[td - 1] != 1 && t->stride[td - 1] != chunk * base)) {
      int64_t view_chunk = 1;
      while (vd >= 0 && (view_chunk < chunk || ns[vd] == 1)) {
        nst[vd] = view_chunk * base;
        view_chunk *= ns[vd];
        vd--;
      }
      if (view_chunk != chunk) return -1;
      if (td > 0) {
        chunk = 1;
        base = t->stride[td - 1];
      }
    }
  }
  return vd == -1 ? 0 : -1;
}

static int infer_shape(nn_ctx *ctx, const char *fn, const nn_tensor *t, int nd,
                       const int64_t *in, int64_t *out) {
  int64_t known = 1, n = nn_tensor_numel(t);
  int infer = -1;
  char sa[128], sb[128];
  if (nd < 0 || nd > NN_MAXDIM)
    return nn_seterr(ctx, NN_EARG, "%s: at most %d dims, got %d", fn, NN_MAXDIM, nd);
  for (int i = 0; i < nd; i++) {
    out[i] = in[i];
    if (in[i] == -1 && infer < 0) infer = i;
    else if (in[i] < 0)
      return nn_seterr(ctx, NN_EARG, "%s: invalid size %lld in shape %s", fn, (long long)in[i],
                       nn_dims_str(nd, in, sb, 128));
    else known *= in[i];
  }
  if (infer >= 0 && known > 0 && n % known == 0) out[infer] = n / known;
  if ((infer >= 0 && (known == 0 || n % known)) || (infer < 0 && known != n))
    return nn_seterr(ctx, NN_EARG, "%s: shape %s is invalid for a tensor of shape %s (%lld elements)",
                     fn, nn_dims_str(nd, in, sb, 128), nn_shape_str(t, sa, 128), (long long)n);
  return 0;
}

nn_tensor *nn_tensor_view(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  if (infer_shape(ctx, "view", t, ndim, shape, ns)) return NULL;
  if (view_strides(t, ndim, ns, nst)) {
    char sa[128], sb[128];
    nn_seterr(ctx, NN_EARG, "view: a tensor of shape %s with these strides cannot be viewed as %s "
              "without a copy; use reshape", nn_shape_str(t, sa, 128), nn_dims_str(ndim, ns, sb, 128));
    return NULL;
  }
  return tensor_on(ctx, t->s, ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_reshape(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  if (infer_shape(ctx, "reshape", t, ndim, shape, ns)) return NULL;
  if (view_strides(t, ndim, ns, nst) == 0) return tensor_on(ctx, t->s, ndim, ns, nst, t->off);
  nn_tensor *c = nn_tensor_clone(ctx, t);
  if (!c) return NULL;
  nn_tensor *v = nn_tensor_view(ctx, c, ndim, ns);
  nn_tensor_free(c);
  return v;
}

nn_tensor *nn_tensor_flatten(nn_ctx *ctx, const nn_tensor *t, int start, int end) {
  if (t->ndim == 0) return nn_tensor_reshape(ctx, t, 1, (int64_t[]){1});
  if (check_dim(ctx, "flatten", start, t->ndim) || check_dim(ctx, "flatten", end, t->ndim))
    return NULL;
  if (start > end) {
    nn_seterr(ctx, NN_EARG, "flatten: start_dim %d comes after end_dim %d", start + 1, end + 1);
    return NULL;
  }
  int64_t ns[NN_MAXDIM];
  int nd = 0;
  for (int i = 0; i < start; i++) ns[nd++] = t->shape[i];
  ns[nd] = 1;
  for (int i = start; i <= end; i++) ns[nd] *= t->shape[i];
  nd++;
  for (int i = end + 1; i < t->ndim; i++) ns[nd++] = t->shape[i];
  return nn_tensor_reshape(ctx, t, nd, ns);
}

nn_tensor *nn_tensor_transpose(nn_ctx *ctx, const nn_tensor *t, int d1, int d2) {
  if (check_dim(ctx, "transpose", d1, t->ndim) || check_dim(ctx, "transpose", d2, t->ndim))
    return NULL;
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  memcpy(ns, t->shape, sizeof ns);
  memcpy(nst, t->stride, sizeof nst);
  ns[d1] = t->shape[d2]; ns[d2] = t->shape[d1];
  nst[d1] = t->stride[d2]; nst[d2] = t->stride[d1];
  return tensor_on(ctx, t->s, t->ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_permute(nn_ctx *ctx, const nn_tensor *t, const int *perm) {
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  int seen[NN_MAXDIM] = {0};
  for (int i = 0; i < t->ndim; i++) {
    if (check_dim(ctx, "permute", perm[i], t->ndim)) return NULL;
    if (seen[perm[i]]++) {
      nn_seterr(ctx, NN_EARG, "permute: dim %d appears twice", perm[i] + 1);
      return NULL;
    }
    ns[i] = t->shape[perm[i]];
    nst[i] = t->stride[perm[i]];
  }
  return tensor_on(ctx, t->s, t->ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_squeeze(nn_ctx *ctx, const nn_tensor *t, int dim) {
  if (dim >= 0 && check_dim(ctx, "squeeze", dim, t->ndim)) return NULL;
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  int nd = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 1 && (dim < 0 || dim == i)) continue;
    ns[nd] = t->shape[i];
    nst[nd++] = t->stride[i];
  }
  return tensor_on(ctx, t->s, nd, ns, nst, t->off);
}

nn_tensor *nn_tensor_unsqueeze(nn_ctx *ctx, const nn_tensor *t, int dim) {
  if (t->ndim >= NN_MAXDIM) {
    nn_seterr(ctx, NN_EARG, "unsqueeze: tensor already has %d dims", NN_MAXDIM);
    return NULL;
  }
  if (check_dim(ctx, "unsqueeze", dim, t->ndim + 1)) return NULL;
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  for (int i = 0, j = 0; i <= t->ndim; i++) {
    if (i == dim) {
      ns[i] = 1;
      nst[i] = dim < t->ndim ? t->shape[dim] * t->stride[dim] : 1;
    } else {
      ns[i] = t->shape[j];
      nst[i] = t->stride[j++];
    }
  }
  return tensor_on(ctx, t->s, t->ndim + 1, ns, nst, t->off);
}

nn_tensor *nn_tensor_narrow(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t start, int64_t len) {
  if (check_dim(ctx, "narrow", dim, t->ndim)) return NULL;
  if (start < 0 || len < 0 || start + len > t->shape[dim]) {
    nn_seterr(ctx, NN_EARG, "narrow: start %lld and length %lld are out of range for dim %d of size %lld",
              (long long)start + 1, (long long)len, dim + 1, (long long)t->shape[dim]);
    return NULL;
  }
  int64_t ns[NN_MAXDIM];
  memcpy(ns, t->shape, sizeof ns);
  ns[dim] = len;
  return tensor_on(ctx, t->s, t->ndim, ns, t->stride, t->off + (size_t)(start * t->stride[dim]));
}

nn_tensor *nn_tensor_select(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t i) {
  if (check_dim(ctx, "select", dim, t->ndim)) return NULL;
  if (i < 0 || i >= t->shape[dim]) {
    nn_seterr(ctx, NN_EARG, "index %lld is out of range for dim %d of size %lld",
              (long long)i + 1, dim + 1, (long long)t->shape[dim]);
    return NULL;
  }
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  int nd = 0;
  for (int k = 0; k < t->ndim; k++) {
    if (k == dim) continue;
    ns[nd] = t->shape[k];
    nst[nd++] = t->stride[k];
  }
  return tensor_on(ctx, t->s, nd, ns, nst, t->off + (size_t)(i * t->stride[dim]));
}

nn_tensor *nn_tensor_expand(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  char sa[128], sb[128];
  if (ndim < t->ndim || ndim > NN_MAXDIM) {
    nn_seterr(ctx, NN_EARG, "expand: cannot expand shape %s to %s", nn_shape_str(t, sa, 128),
              nn_dims_str(ndim, shape, sb, 128));
    return NULL;
  }
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  int lead = ndim - t->ndim;
  for (int i = 0; i < ndim; i++) {
    int64_t have = i < lead ? 1 : t->shape[i - lead];
    int64_t want = shape[i] == -1 && i >= lead ? have : shape[i];
    if (want < 0 || (have != 1 && have != want)) {
      nn_seterr(ctx, NN_EARG, "expand: cannot expand shape %s to %s (dim %d: %lld vs %lld)",
                nn_shape_str(t, sa, 128), nn_dims_str(ndim, shape, sb, 128), i + 1,
                (long long)have, (long long)shape[i]);
      return NULL;
    }
    ns[i] = want;
    nst[i] = i < lead || (have == 1 && want != 1) ? 0 : t->stride[i - lead];
  }
  return tensor_on(ctx, t->s, ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_clone(nn_ctx *ctx, const nn_tensor *t) {
  nn_tensor *c = nn_tensor_empty(ctx, t->ndim, t->shape);
  if (c && nn_copy_(ctx, c, t)) {
    nn_tensor_free(c);
    return NULL;
  }
  return c;
}

nn_tensor *nn_tensor_contiguous(nn_ctx *ctx, nn_tensor *t) {
  if (nn_tensor_is_contiguous(t)) return nn_tensor_retain(t);
  return nn_tensor_clone(ctx, t);
}
