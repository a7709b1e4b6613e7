/* tensor.h -- float32 strided tensors over refcounted storage.
 *
 * A tensor is a view: storage + offset + shape + strides (in elements). Views
 * share storage (nn_storage.rc counts the tensors that use it); a tensor itself
 * is refcounted too (nn_tensor.rc), because Lua userdata, autograd tape nodes
 * and .grad fields may all hold one. Every function that returns a tensor
 * returns a NEW reference (release with nn_tensor_free) or NULL with ctx->err
 * set. Dimensions here are 0-based; the bindings convert from Lua's 1-based.
 */
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include "ctx.h"

#define NN_MAXDIM 8

/* The largest tensor: 2^38 elements (1 TiB of float32). Every size, element
 * count, stride and element offset of every tensor stays within it, so that
 * sums and products of two of them never overflow int64_t or size_t. */
#define NN_MAXNUMEL ((int64_t)1 << 38)
#define NN_SHAPESTR 192   /* buffer for nn_dims_str: 8 dims of any int64 */

typedef struct nn_storage {
  float *data;
  size_t n;         /* elements */
  int rc;           /* tensors that share it */
  uint64_t version; /* bumped by every in-place change; autograd checks it */
} nn_storage;

typedef struct nn_node nn_node;       /* autograd tape node (node.h) */

typedef struct nn_tensor {
  nn_storage *s;
  size_t off;                         /* first element, in elements */
  int ndim;                           /* 0 for a scalar */
  int64_t shape[NN_MAXDIM];
  int64_t stride[NN_MAXDIM];
  int rc;                             /* references to this struct */
  /* autograd (filled in by autograd.c) */
  int requires_grad;
  struct nn_tensor *grad;             /* accumulated gradient, or NULL (owned reference) */
  nn_node *node;                      /* op that produced it, or NULL for leaves (owned) */
} nn_tensor;

/* ---- size arithmetic ----
 * Every product and sum of sizes, counts, strides and offsets computed from
 * what a user gave goes through these three; products of the sizes of a
 * tensor that exists need no check (see NN_MAXNUMEL). nn_size_mul and
 * nn_size_add fail when an operand is negative or the result would exceed
 * NN_MAXNUMEL (then *r is left alone). */
int nn_size_mul(int64_t a, int64_t b, int64_t *r);   /* *r = a * b; 0 or -1 */
int nn_size_add(int64_t a, int64_t b, int64_t *r);   /* *r = a + b; 0 or -1 */
/* Checks a shape: 0..NN_MAXDIM dims, sizes >= 0, and the product of the sizes
 * with each 0 counted as 1 (the span of its contiguous strides) at most
 * NN_MAXNUMEL. Sets *numel (may be NULL) and, unless stride is NULL, the
 * contiguous strides. Returns 0, or NN_EARG with ctx->err "fn: shape [..] ..."
 * (fn may be NULL). */
int nn_shape_check(nn_ctx *ctx, const char *fn, int ndim, const int64_t *shape,
                   int64_t *numel, int64_t *stride);

/* ---- lifetime ---- */
nn_tensor *nn_tensor_empty(nn_ctx *ctx, int ndim, const int64_t *shape);   /* uninitialised, contiguous */
nn_tensor *nn_tensor_zeros(nn_ctx *ctx, int ndim, const int64_t *shape);
nn_tensor *nn_tensor_full(nn_ctx *ctx, int ndim, const int64_t *shape, float v);
nn_tensor *nn_tensor_retain(nn_tensor *t);        /* rc++; returns t */
void nn_tensor_free(nn_tensor *t);                /* rc--; frees at 0; NULL is fine */
size_t nn_storage_live_bytes(void);   /* counted bytes alive, process-wide: storage and the rest of nn/mem.h */
/* NN_FREE(a, b, c): nn_tensor_free on each (NULL entries are fine) */
#define NN_FREE(...) do { nn_tensor *nn_fr_[] = {__VA_ARGS__}; \
  for (size_t nn_k_ = 0; nn_k_ < sizeof nn_fr_ / sizeof *nn_fr_; nn_k_++) nn_tensor_free(nn_fr_[nn_k_]); } while (0)
nn_tensor *nn_tensor_view_of(nn_ctx *ctx, const nn_tensor *t, int ndim,
                             const int64_t *shape, const int64_t *stride, size_t off);
                                                  /* new tensor on t's storage; NULL
                                                   * (NN_EARG) unless the shape is valid and
                                                   * every element inside the storage */

/* ---- inspection ---- */
static inline float *nn_tensor_data(const nn_tensor *t) { return t->s->data + t->off; }
int64_t nn_tensor_numel(const nn_tensor *t);      /* at most NN_MAXNUMEL */
int nn_tensor_is_contiguous(const nn_tensor *t);
const char *nn_shape_str(const nn_tensor *t, char *buf, size_t len);   /* "[2, 3]" */
const char *nn_dims_str(int ndim, const int64_t *shape, char *buf, size_t len);
float nn_tensor_get(const nn_tensor *t, const int64_t *idx);          /* idx 0-based, in range */

/* ---- creation ---- */
nn_tensor *nn_tensor_eye(nn_ctx *ctx, int64_t n, int64_t m);
nn_tensor *nn_tensor_arange(nn_ctx *ctx, double start, double stop, double step);
nn_tensor *nn_tensor_linspace(nn_ctx *ctx, double start, double stop, int64_t n);
nn_tensor *nn_tensor_rand(nn_ctx *ctx, nn_rng *r, int ndim, const int64_t *shape);
nn_tensor *nn_tensor_randn(nn_ctx *ctx, nn_rng *r, int ndim, const int64_t *shape);
nn_tensor *nn_tensor_randperm(nn_ctx *ctx, nn_rng *r, int64_t n);   /* values 1..n */
nn_tensor *nn_tensor_cat(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim);
nn_tensor *nn_tensor_stack(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim);

/* ---- views (share storage) ---- */
nn_tensor *nn_tensor_view(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape);  /* -1 infers one dim */
nn_tensor *nn_tensor_reshape(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape); /* view if possible, else copy */
nn_tensor *nn_tensor_flatten(nn_ctx *ctx, const nn_tensor *t, int start, int end);
nn_tensor *nn_tensor_transpose(nn_ctx *ctx, const nn_tensor *t, int d1, int d2);
nn_tensor *nn_tensor_permute(nn_ctx *ctx, const nn_tensor *t, const int *perm);
nn_tensor *nn_tensor_squeeze(nn_ctx *ctx, const nn_tensor *t, int dim);      /* dim -1: all size-1 dims */
nn_tensor *nn_tensor_unsqueeze(nn_ctx *ctx, const nn_tensor *t, int dim);
nn_tensor *nn_tensor_narrow(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t start, int64_t len);
nn_tensor *nn_tensor_select(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t i);  /* drops dim */
/* every step-th element of dim, from the first (a view; step >= 1) */
nn_tensor *nn_tensor_step(nn_ctx *ctx, const nn_tensor *t, int dim, int64_t step);
nn_tensor *nn_tensor_expand(nn_ctx *ctx, const nn_tensor *t, int ndim, const int64_t *shape); /* -1 keeps */
nn_tensor *nn_tensor_contiguous(nn_ctx *ctx, nn_tensor *t);  /* t itself retained if contiguous */
nn_tensor *nn_tensor_clone(nn_ctx *ctx, const nn_tensor *t);

/* ---- printing (print.c) ---- */
/* PyTorch-style printout: "tensor([[1., 2.],\n        [3., 4.]])" with
 * PyTorch's number formatting, column alignment and "..." summarisation
 * (over 1000 elements: first and last 3 per dim). Returns a malloc'd string
 * (free with free()) or NULL on allocation failure. */
char *nn_tensor_format(const nn_tensor *t);

#endif
