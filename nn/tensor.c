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
#include "mem.h"

/* Large buffers are 2 MB aligned and ask for transparent huge pages: a fresh
 * 64 MB tensor then takes 32 page faults instead of 16384 (measured here:
 * 178 ms -> 33 ms to fault one in). Small ones are cache-line aligned. */
#define HUGE_PAGE ((size_t)2 << 20)

/* Storage is counted with the other buffers the script's input sizes
 * (nn/mem.h), in one process-wide total that nnlua --sandbox limits. */
size_t nn_storage_live_bytes(void) { return nn_mem_live_bytes(); }

static size_t storage_bytes(size_t n) {
  return (n > 0 ? n : 1) * sizeof(float);
}

static float *alloc_floats(size_t bytes) {
  size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
  bytes = (bytes + align - 1) & ~(align - 1);
  float *p = aligned_alloc(align, bytes);
  if (p && align == HUGE_PAGE) madvise(p, bytes, MADV_HUGEPAGE);   /* a hint: failure is harmless */
  return p;
}

static nn_storage *storage_new(nn_ctx *ctx, int64_t n) {
  size_t bytes = storage_bytes((size_t)n);
  if (nn_mem_charge(ctx, bytes, "a tensor") != 0) return NULL;   /* nnlua --sandbox --max-memory */
  nn_storage *s = malloc(sizeof *s);
  float *data = s ? alloc_floats(bytes) : NULL;
  if (!data) {
    nn_mem_uncharge(bytes);
    free(s);
    nn_seterr(ctx, NN_ENOMEM, "out of memory allocating %lld floats", (long long)n);
    return NULL;
  }
  s->data = data;
  s->n = (size_t)n;
  s->rc = 1;
  s->version = 0;
  return s;
}

static void storage_release(nn_storage *s) {
  if (s && --s->rc == 0) {
    nn_mem_uncharge(storage_bytes(s->n));
    free(s->data);
    free(s);
  }
}

/* ---- size arithmetic: the one place where sizes are multiplied and added ---- */

int nn_size_mul(int64_t a, int64_t b, int64_t *r) {
  int64_t p;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &p) || p > NN_MAXNUMEL) return -1;
  *r = p;
  return 0;
}

int nn_size_add(int64_t a, int64_t b, int64_t *r) {
  int64_t p;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &p) || p > NN_MAXNUMEL) return -1;
  *r = p;
  return 0;
}

static const char *prefix(const char *fn, char *buf, size_t len) {
  if (!fn) return "";
  snprintf(buf, len, "%s: ", fn);
  return buf;
}

int nn_shape_check(nn_ctx *ctx, const char *fn, int ndim, const int64_t *shape,
                   int64_t *numel, int64_t *stride) {
  char pf[48], sb[NN_SHAPESTR];
  if (ndim < 0 || ndim > NN_MAXDIM)
    return nn_seterr(ctx, NN_EARG, "%stensors have at most %d dims, got %d", prefix(fn, pf, sizeof pf),
                     NN_MAXDIM, ndim);
  int64_t span = 1;
  int zero = 0;
  for (int i = 0; i < ndim; i++) zero |= shape[i] == 0;
  for (int i = ndim - 1; i >= 0; i--) {
    if (shape[i] < 0)
      return nn_seterr(ctx, NN_EARG, "%ssize %lld of dim %d is negative (shape %s)",
                       prefix(fn, pf, sizeof pf), (long long)shape[i], i + 1,
                       nn_dims_str(ndim, shape, sb, sizeof sb));
    if (stride) stride[i] = span;
    if (nn_size_mul(span, shape[i] ? shape[i] : 1, &span))
      return nn_seterr(ctx, NN_EARG, "%sshape %s is too large: a tensor holds at most %lld "
                       "elements%s", prefix(fn, pf, sizeof pf),
                       nn_dims_str(ndim, shape, sb, sizeof sb), (long long)NN_MAXNUMEL,
                       zero ? " (its sizes other than 0 must multiply to at most that too)" : "");
  }
  if (numel) *numel = zero ? 0 : span;
  return 0;
}

int64_t nn_tensor_numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];   /* cannot overflow: see NN_MAXNUMEL */
  return n;
}

/* What every tensor keeps to: a valid shape, strides in 0..NN_MAXNUMEL, an
 * offset within the storage and, when it has elements, its last element
 * inside the storage too. Views are made only through here. */
static int check_layout(nn_ctx *ctx, const char *fn, const nn_storage *s, int ndim,
                        const int64_t *shape, const int64_t *stride, size_t off) {
  int64_t numel, last = (int64_t)off, step;
  if (nn_shape_check(ctx, fn, ndim, shape, &numel, NULL)) return NN_EARG;
  int bad = off > (size_t)NN_MAXNUMEL;
  for (int i = 0; !bad && i < ndim; i++) {
    bad = stride[i] < 0 || stride[i] > NN_MAXNUMEL;
    if (!bad && numel > 0)             /* an empty view addresses nothing */
      bad = nn_size_mul(shape[i] - 1, stride[i], &step) || nn_size_add(last, step, &last);
  }
  if (!bad && numel > 0 && (uint64_t)last >= s->n) bad = 1;
  if (bad) {
    char pf[48], sa[NN_SHAPESTR], sb[NN_SHAPESTR];
    return nn_seterr(ctx, NN_EARG, "%sa view of shape %s with strides %s at offset %zu does not "
                     "fit in its storage of %zu elements", prefix(fn, pf, sizeof pf),
                     nn_dims_str(ndim, shape, sa, sizeof sa), nn_dims_str(ndim, stride, sb, sizeof sb),
                     off, s->n);
  }
  return 0;
}

static nn_tensor *tensor_on(nn_ctx *ctx, const char *fn, nn_storage *s, int ndim,
                            const int64_t *shape, const int64_t *stride, size_t off) {
  if (check_layout(ctx, fn, s, ndim, shape, stride, off)) return NULL;
  nn_tensor *t = calloc(1, sizeof *t);
  if (!t) {
    nn_seterr(ctx, NN_ENOMEM, "out of memory");
    return NULL;
  }
  t->s = s;
  s->rc++;
  t->off = off <= s->n ? off : s->n;    /* an empty view past the end points at the end */
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
  if (nn_shape_check(ctx, NULL, ndim, shape, &n, stride)) return NULL;
  nn_storage *s = storage_new(ctx, n);
  if (!s) return NULL;
  nn_tensor *t = tensor_on(ctx, NULL, s, ndim, shape, stride, 0);
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
  return tensor_on(ctx, "view", t->s, ndim, shape, stride, off);
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
  if (len > (double)NN_MAXNUMEL) {
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
  if (nn_shape_check(ctx, "linspace", 1, &n, NULL, NULL)) return NULL;
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
  for (int k = 0; k < n; k++)
    if (nn_size_add(shape[dim], ts[k]->shape[dim], &shape[dim])) {
      nn_seterr(ctx, NN_EARG, "cat: the %d tensors are too large together: more than %lld "
                "elements along dim %d", n, (long long)NN_MAXNUMEL, dim + 1);
      return NULL;
    }
  if (nn_shape_check(ctx, "cat", ts[0]->ndim, shape, NULL, NULL)) return NULL;
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

/* i + 1 for a message about a 0-based index, without overflowing at INT64_MAX */
static long long one_based(int64_t i) {
  return i < INT64_MAX ? (long long)i + 1 : (long long)i;
}

/* The stride PyTorch gives a size-1 dim: size * stride of the dim after it.
 * When that would exceed NN_MAXNUMEL, 1: the stride of a size-1 dim never
 * addresses an element. */
static int64_t unit_stride(int64_t size, int64_t stride) {
  int64_t r;
  return nn_size_mul(size, stride, &r) ? 1 : r;
}

/* Strides for viewing t as the (valid) shape ns without copying, or -1 if
 * impossible (PyTorch's rule: only dims that are contiguous with each other
 * may be merged). */
static int view_strides(nn_ctx *ctx, const nn_tensor *t, int nd, const int64_t *ns, int64_t *nst) {
  if (nn_tensor_numel(t) == 0 || t->ndim == 0) return nn_shape_check(ctx, "view", nd, ns, NULL, nst);
  int vd = nd - 1;
  int64_t chunk = 1, base = t->stride[t->ndim - 1];
  for (int td = t->ndim - 1; td >= 0; td--) {
    chunk *= t->shape[td];                       /* a product of t's sizes: at most its numel */
    if (td == 0 || (t->shape[td - 1] != 1 && t->stride[td - 1] != chunk * base)) {
      int64_t view_chunk = 1;
      while (vd >= 0 && (view_chunk < chunk || ns[vd] == 1)) {
        if (ns[vd] == 1) nst[vd] = unit_stride(view_chunk, base);
        else if (nn_size_mul(view_chunk, base, &nst[vd])) return -1;
        view_chunk *= ns[vd];                    /* a product of ns's sizes: at most numel */
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

/* out = in with a -1 replaced by what makes its product t's numel; NN_EARG
 * unless that is possible and out is a valid shape. */
static int infer_shape(nn_ctx *ctx, const char *fn, const nn_tensor *t, int nd,
                       const int64_t *in, int64_t *out) {
  int64_t known = 1, n = nn_tensor_numel(t);
  int infer = -1, zero = 0, over = 0;
  char sa[NN_SHAPESTR], sb[NN_SHAPESTR];
  if (nd < 0 || nd > NN_MAXDIM)
    return nn_seterr(ctx, NN_EARG, "%s: at most %d dims, got %d", fn, NN_MAXDIM, nd);
  for (int i = 0; i < nd; i++) {
    out[i] = in[i];
    if (in[i] == -1 && infer < 0) infer = i;
    else if (in[i] < 0)
      return nn_seterr(ctx, NN_EARG, "%s: invalid size %lld in shape %s", fn, (long long)in[i],
                       nn_dims_str(nd, in, sb, sizeof sb));
    else if (in[i] == 0) zero = 1;
    else if (!over) over = nn_size_mul(known, in[i], &known) != 0;
  }
  if (zero) known = 0, over = 0;                /* the product is 0 whatever the others are */
  int ok = over ? 0 : infer >= 0 ? known > 0 && n % known == 0 : known == n;
  if (!ok)
    return nn_seterr(ctx, NN_EARG, "%s: shape %s is invalid for a tensor of shape %s (%lld elements)",
                     fn, nn_dims_str(nd, in, sb, sizeof sb), nn_shape_str(t, sa, sizeof sa),
                     (long long)n);
  if (infer >= 0) out[infer] = n / known;
  return nn_shape_check(ctx, fn, nd, out, NULL, NULL);
}

nn_tensor *nn_tensor_view(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  if (infer_shape(ctx, "view", t, ndim, shape, ns)) return NULL;
  if (view_strides(ctx, t, ndim, ns, nst)) {
    char sa[NN_SHAPESTR], sb[NN_SHAPESTR];
    nn_seterr(ctx, NN_EARG, "view: a tensor of shape %s with these strides cannot be viewed as %s "
              "without a copy; use reshape", nn_shape_str(t, sa, sizeof sa),
              nn_dims_str(ndim, ns, sb, sizeof sb));
    return NULL;
  }
  return tensor_on(ctx, "view", t->s, ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_reshape(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  if (infer_shape(ctx, "reshape", t, ndim, shape, ns)) return NULL;
  if (view_strides(ctx, t, ndim, ns, nst) == 0)
    return tensor_on(ctx, "reshape", t->s, ndim, ns, nst, t->off);
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
  for (int i = start; i <= end; i++) ns[nd] *= t->shape[i];   /* at most t's numel */
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
  return tensor_on(ctx, "transpose", t->s, t->ndim, ns, nst, t->off);
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
  return tensor_on(ctx, "permute", t->s, t->ndim, ns, nst, t->off);
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
  return tensor_on(ctx, "squeeze", t->s, nd, ns, nst, t->off);
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
      nst[i] = dim < t->ndim ? unit_stride(t->shape[dim], t->stride[dim]) : 1;
    } else {
      ns[i] = t->shape[j];
      nst[i] = t->stride[j++];
    }
  }
  return tensor_on(ctx, "unsqueeze", t->s, t->ndim + 1, ns, nst, t->off);
}

/* t->off + i * t->stride[dim], for i inside dim (or one past it) */
static int offset_at(nn_ctx *ctx, const char *fn, const nn_tensor *t, int dim, int64_t i, size_t *off) {
  int64_t o;
  if (nn_size_mul(i, t->stride[dim], &o) || nn_size_add((int64_t)t->off, o, &o))
    return nn_seterr(ctx, NN_EARG, "%s: offset of index %lld of dim %d is too large", fn,
                     one_based(i), dim + 1);
  *off = (size_t)o;
  return 0;
}

nn_tensor *nn_tensor_narrow(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t start, int64_t len) {
  if (check_dim(ctx, "narrow", dim, t->ndim)) return NULL;
  int64_t size = t->shape[dim];
  if (start < 0 || len < 0 || start > size || len > size - start) {
    nn_seterr(ctx, NN_EARG, "narrow: start %lld and length %lld are out of range for dim %d of size %lld",
              one_based(start), (long long)len, dim + 1, (long long)size);
    return NULL;
  }
  int64_t ns[NN_MAXDIM];
  size_t off = 0;
  if (offset_at(ctx, "narrow", t, dim, start, &off)) return NULL;
  memcpy(ns, t->shape, sizeof ns);
  ns[dim] = len;
  return tensor_on(ctx, "narrow", t->s, t->ndim, ns, t->stride, off);
}

nn_tensor *nn_tensor_step(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t step) {
  if (check_dim(ctx, "slice", dim, t->ndim)) return NULL;
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  if (step < 1) {
    nn_seterr(ctx, NN_EARG, "slice: step %lld must be >= 1", (long long)step);
    return NULL;
  }
  memcpy(ns, t->shape, sizeof ns);
  memcpy(nst, t->stride, sizeof nst);
  ns[dim] = t->shape[dim] == 0 ? 0 : (t->shape[dim] - 1) / step + 1;
  if (ns[dim] > 1 && nn_size_mul(t->stride[dim], step, &nst[dim])) {
    nn_seterr(ctx, NN_EARG, "slice: step %lld is too large for dim %d", (long long)step, dim + 1);
    return NULL;
  }
  return tensor_on(ctx, "slice", t->s, t->ndim, ns, nst, t->off);
}

nn_tensor *nn_tensor_select(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t i) {
  if (check_dim(ctx, "select", dim, t->ndim)) return NULL;
  if (i < 0 || i >= t->shape[dim]) {
    nn_seterr(ctx, NN_EARG, "index %lld is out of range for dim %d of size %lld",
              one_based(i), dim + 1, (long long)t->shape[dim]);
    return NULL;
  }
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  size_t off = 0;
  int nd = 0;
  if (offset_at(ctx, "select", t, dim, i, &off)) return NULL;
  for (int k = 0; k < t->ndim; k++) {
    if (k == dim) continue;
    ns[nd] = t->shape[k];
    nst[nd++] = t->stride[k];
  }
  return tensor_on(ctx, "select", t->s, nd, ns, nst, off);
}

nn_tensor *nn_tensor_expand(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape) {
  char sa[NN_SHAPESTR], sb[NN_SHAPESTR];
  if (ndim < t->ndim || ndim > NN_MAXDIM) {
    nn_seterr(ctx, NN_EARG, "expand: cannot expand shape %s to %s", nn_shape_str(t, sa, sizeof sa),
              nn_dims_str(ndim < 0 ? 0 : ndim > NN_MAXDIM ? NN_MAXDIM : ndim, shape, sb, sizeof sb));
    return NULL;
  }
  int64_t ns[NN_MAXDIM], nst[NN_MAXDIM];
  int lead = ndim - t->ndim;
  for (int i = 0; i < ndim; i++) {
    int64_t have = i < lead ? 1 : t->shape[i - lead];
    int64_t want = shape[i] == -1 && i >= lead ? have : shape[i];
    if (want < 0 || (have != 1 && have != want)) {
      nn_seterr(ctx, NN_EARG, "expand: cannot expand shape %s to %s (dim %d: %lld vs %lld)",
                nn_shape_str(t, sa, sizeof sa), nn_dims_str(ndim, shape, sb, sizeof sb), i + 1,
                (long long)have, (long long)shape[i]);
      return NULL;
    }
    ns[i] = want;
    nst[i] = i < lead || (have == 1 && want != 1) ? 0 : t->stride[i - lead];
  }
  if (nn_shape_check(ctx, "expand", ndim, ns, NULL, NULL)) return NULL;
  return tensor_on(ctx, "expand", t->s, ndim, ns, nst, t->off);
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
