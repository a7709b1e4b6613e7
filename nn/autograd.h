/* autograd.h -- reverse-mode automatic differentiation on a tape.
 *
 * The nn_ag_* functions compute what the ops.h/tensor.h functions compute and,
 * when gradient mode is on (ctx->grad_enabled) and an input requires grad,
 * record a node on the result (t->node, owned by the result). A node holds
 * references to its inputs and to what its backward needs, with the storage
 * versions it saw, so an in-place change in between is caught. nn_backward
 * walks the nodes from a root in reverse topological order, accumulates
 * gradients into the .grad of leaves that require grad, and frees the tape
 * unless asked to keep it. Returns and errors as in ops.h.
 */
#ifndef NN_AUTOGRAD_H
#define NN_AUTOGRAD_H

#include "ops.h"

/* Frees n (NULL is fine) and hands each tensor reference it held to drop(ud, t);
 * nn_tensor_free uses it to release a long tape without recursing. */
void nn_node_free_into(nn_node *n, void (*drop)(void *ud, nn_tensor *t), void *ud);
const char *nn_grad_fn_name(const nn_tensor *t);      /* "MulBackward0", or NULL for a leaf */

/* root: a tensor that requires grad; grad: d(out)/d(root) of root's shape, or
 * NULL for a one-element root (ones). retain: keep the tape for another pass. */
int nn_backward(nn_ctx *ctx, nn_tensor *root, const nn_tensor *grad, int retain);
/* 0, or NN_EARG when grad mode is on and t requires grad ("fn: ... in place") */
int nn_check_inplace(nn_ctx *ctx, const char *fn, const nn_tensor *t);
/* a new tensor on t's storage with no history and requires_grad off */
nn_tensor *nn_detach(nn_ctx *ctx, const nn_tensor *t);

nn_tensor *nn_ag_binary(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, nn_tensor *b);
nn_tensor *nn_ag_binary_scalar(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, float s, int s_left);
nn_tensor *nn_ag_axpy(nn_ctx *ctx, nn_tensor *a, float alpha, nn_tensor *b);   /* a + alpha b */
nn_tensor *nn_ag_unary(nn_ctx *ctx, enum nn_unop op, nn_tensor *a);
nn_tensor *nn_ag_clamp(nn_ctx *ctx, nn_tensor *a, float lo, float hi);
nn_tensor *nn_ag_reduce(nn_ctx *ctx, enum nn_redop op, nn_tensor *a, int dim, int keepdim, int correction);
int nn_ag_reduce_arg(nn_ctx *ctx, enum nn_redop op, nn_tensor *a, int dim, int keepdim,
                     nn_tensor **values, nn_tensor **indices);
nn_tensor *nn_ag_matmul(nn_ctx *ctx, nn_tensor *a, nn_tensor *b);
nn_tensor *nn_ag_softmax(nn_ctx *ctx, nn_tensor *a, int dim, int take_log);
nn_tensor *nn_ag_index_select(nn_ctx *ctx, nn_tensor *a, int dim, nn_tensor *idx);
nn_tensor *nn_ag_gather(nn_ctx *ctx, nn_tensor *a, int dim, nn_tensor *idx);
nn_tensor *nn_ag_masked_fill(nn_ctx *ctx, nn_tensor *a, nn_tensor *mask, float v);
nn_tensor *nn_ag_cat(nn_ctx *ctx, nn_tensor *const *ts, int n, int dim);

/* Ops recorded with a backward of their own (nn_ag_record), defined next to it
 * in backward.c; each saves what its backward reads, so an in-place change in
 * between is caught. */
nn_tensor *nn_ag_where(nn_ctx *ctx, nn_tensor *cond, nn_tensor *a, nn_tensor *b);
nn_tensor *nn_ag_cumsum(nn_ctx *ctx, nn_tensor *a, int dim);
nn_tensor *nn_ag_norm(nn_ctx *ctx, nn_tensor *a, double p, int dim, int keepdim);
int nn_ag_sort(nn_ctx *ctx, nn_tensor *a, int dim, int descending, int64_t k,
               nn_tensor **values, nn_tensor **indices);    /* k >= 0: topk */
nn_tensor *nn_ag_diag(nn_ctx *ctx, nn_tensor *a, int64_t k);
nn_tensor *nn_ag_tril(nn_ctx *ctx, nn_tensor *a, int64_t k, int upper);

/* Ops defined outside this file (layers, losses) record themselves with a
 * backward function of their own. in: the op's inputs (gin[i] is wanted for
 * those that require grad); saved: tensors backward reads (their versions are
 * checked); params, size: the op's own struct of settings (such as
 * `typedef struct { int has_bias; } linear_params;`), at most NN_AG_PARAMS_SIZE
 * bytes, copied into the node (aligned for any type) and handed to backward,
 * which casts it back to its struct; NULL and 0 when there are none.
 * Returns out, or NULL (out freed). */
#define NN_AG_SAVED 4
#define NN_AG_PARAMS_SIZE 64
typedef int (*nn_backward_fn)(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                              const void *params, nn_tensor *g, nn_tensor **gin);
nn_tensor *nn_ag_record(nn_ctx *ctx, nn_tensor *out, const char *name, nn_backward_fn fn,
                        nn_tensor *const *in, int nin, nn_tensor *const *saved, int nsaved,
                        const void *params, size_t size);
int nn_ag_wants_grad(nn_ctx *ctx, nn_tensor *const *ts, int n);   /* grad mode on and any requires grad */
/* in a backward function: whether input i of the node wants a gradient (gin[i]) */
static inline int nn_ag_need(nn_tensor *const *in, int i) { return in[i]->requires_grad; }

/* Views and copies: out was made from a by a tensor.h function (out may be
 * NULL: passed through). Records how to send the gradient back to a. */
nn_tensor *nn_ag_reshaped(nn_ctx *ctx, nn_tensor *out, nn_tensor *a);     /* view, reshape, flatten, (un)squeeze */
nn_tensor *nn_ag_permuted(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, const int *perm);
nn_tensor *nn_ag_expanded(nn_ctx *ctx, nn_tensor *out, nn_tensor *a);
nn_tensor *nn_ag_narrowed(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t start);
nn_tensor *nn_ag_selected(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t i);
nn_tensor *nn_ag_stepped(nn_ctx *ctx, nn_tensor *out, nn_tensor *a, int dim, int64_t step);
nn_tensor *nn_ag_copied(nn_ctx *ctx, nn_tensor *out, nn_tensor *a);      /* clone, contiguous */

#endif
