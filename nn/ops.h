/* ops.h -- tensor operations: elementwise with PyTorch broadcasting,
 * reductions, indexing, matmul, softmax. Dims are 0-based here.
 * Functions returning nn_tensor * return a NEW reference or NULL (ctx->err set);
 * functions returning int give 0 or a negative NN_E* code. In-place ops
 * (suffix _) write into their first argument. None of these record autograd:
 * autograd.c wraps them. */
#ifndef NN_OPS_H
#define NN_OPS_H

#include "tensor.h"

enum nn_binop { NN_ADD, NN_SUB, NN_MUL, NN_DIV, NN_POW, NN_MAXIMUM, NN_MINIMUM,
                NN_EQ, NN_NE, NN_LT, NN_LE, NN_GT, NN_GE };
enum nn_unop { NN_NEG, NN_EXP, NN_LOG, NN_SQRT, NN_ABS, NN_SIGN, NN_RELU,
               NN_SIGMOID, NN_TANH, NN_SIN, NN_COS, NN_TAN,
               NN_FLOOR, NN_ROUND, NN_TRUNC };   /* round: half to even, as PyTorch */
enum nn_redop { NN_SUM, NN_MEAN, NN_MAX, NN_MIN, NN_VAR };

/* broadcast shapes as PyTorch; returns 0 or NN_EARG ("shapes [..] and [..] cannot broadcast") */
int nn_broadcast_shape(nn_ctx *ctx, const char *fn, const nn_tensor *a, const nn_tensor *b,
                       int *ndim, int64_t *shape);

nn_tensor *nn_binary(nn_ctx *ctx, enum nn_binop op, const nn_tensor *a, const nn_tensor *b); /* a op b */
nn_tensor *nn_binary_scalar(nn_ctx *ctx, enum nn_binop op, const nn_tensor *a, float s, int s_left); /* a op s, or s op a */
int nn_binary_(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, const nn_tensor *b);   /* a = a op b; b broadcasts to a */
int nn_binary_scalar_(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, float s);        /* a = a op s */
int nn_axpy_(nn_ctx *ctx, nn_tensor *a, float alpha, const nn_tensor *b);          /* a += alpha * b */
nn_tensor *nn_unary(nn_ctx *ctx, enum nn_unop op, const nn_tensor *a);
nn_tensor *nn_clamp(nn_ctx *ctx, const nn_tensor *a, float lo, float hi);          /* NAN bound: none */
int nn_clamp_(nn_ctx *ctx, nn_tensor *a, float lo, float hi);

int nn_fill_(nn_ctx *ctx, nn_tensor *a, float v);
int nn_copy_(nn_ctx *ctx, nn_tensor *dst, const nn_tensor *src);                  /* src broadcasts to dst */
int nn_uniform_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, float lo, float hi);
int nn_normal_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, float mean, float std);

/* reductions; dim < 0 reduces everything to a 0-d tensor. correction: var's divisor is n - correction. */
nn_tensor *nn_reduce(nn_ctx *ctx, enum nn_redop op, const nn_tensor *a, int dim, int keepdim, int correction);
/* max/min along dim: values and 1-based indices (float), the first occurrence of a tie */
int nn_reduce_arg(nn_ctx *ctx, enum nn_redop op, const nn_tensor *a, int dim, int keepdim,
                  nn_tensor **values, nn_tensor **indices);   /* dim < 0: over all, flat 1-based index */
double nn_sum_all(nn_ctx *ctx, const nn_tensor *a);   /* deterministic blocked sum (same bits for any thread count); NAN if out of memory */
int nn_equal(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, int *result);  /* *result: same shape and values */
int nn_allclose(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, double rtol, double atol, int *result);

/* indexing (indices are 1-based floats in idx) */
nn_tensor *nn_index_select(nn_ctx *ctx, const nn_tensor *a, int dim, const nn_tensor *idx);
nn_tensor *nn_gather(nn_ctx *ctx, const nn_tensor *a, int dim, const nn_tensor *idx);
nn_tensor *nn_masked_fill(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *mask, float v);

/* running sums along dim (double accumulators); reverse: from the end of each line */
nn_tensor *nn_cumsum(nn_ctx *ctx, const nn_tensor *a, int dim, int reverse);
/* p-norm, p = 1, 2 or INFINITY, along dim (dim < 0: of all elements, a 0-d result); double
 * accumulators in one fixed order, so the bits do not depend on the thread count */
nn_tensor *nn_norm(nn_ctx *ctx, const nn_tensor *a, double p, int dim, int keepdim);
/* stable sort along dim (ascending, or descending: equal values keep their order; NaN is the
 * largest): values and 1-based indices (float). k >= 0: only the first k (topk). NN_EARG
 * when the dim is longer than 2^24 (indices would not be exact). Both new references. */
int nn_sort(nn_ctx *ctx, const nn_tensor *a, int dim, int descending, int64_t k,
            nn_tensor **values, nn_tensor **indices);

/* cond != 0 ? a : b, all three broadcast together */
nn_tensor *nn_where(nn_ctx *ctx, const nn_tensor *cond, const nn_tensor *a, const nn_tensor *b);
/* diag: a 1-d a becomes a square matrix with a on diagonal k (k > 0 above the main one);
 * a 2-d a gives its diagonal k as a new 1-d tensor */
nn_tensor *nn_diag(nn_ctx *ctx, const nn_tensor *a, int64_t k);
nn_tensor *nn_diag_embed(nn_ctx *ctx, const nn_tensor *d, int64_t r, int64_t c, int64_t k); /* [r, c] zeros, d on diagonal k */
/* tril (upper 0) / triu (upper 1) of the matrices in the last two dims: a copy with the
 * elements above (below) diagonal k set to 0 */
nn_tensor *nn_tril(nn_ctx *ctx, const nn_tensor *a, int64_t k, int upper);

/* a filled with whole numbers drawn uniformly from [low, high); both within +-2^24 */
int nn_randint_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, int64_t low, int64_t high);
nn_tensor *nn_logspace(nn_ctx *ctx, double start, double end, int64_t n, double base);  /* base^linspace */

/* matmul with torch.matmul's rules: 1-d/2-d/batched with broadcast batch dims */
nn_tensor *nn_matmul(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b);
nn_tensor *nn_softmax(nn_ctx *ctx, const nn_tensor *a, int dim, int take_log);  /* take_log: log_softmax */

#endif
