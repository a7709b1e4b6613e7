/* node.h -- internal: the autograd tape node shared by autograd.c and backward.c. */
#ifndef NN_NODE_H
#define NN_NODE_H

#include <stddef.h>
#include "autograd.h"

enum nn_op {
  NN_OP_BINARY, NN_OP_SCALAR, NN_OP_AXPY, NN_OP_UNARY, NN_OP_CLAMP,
  NN_OP_REDUCE, NN_OP_REDUCE_ARG, NN_OP_MATMUL, NN_OP_SOFTMAX,
  NN_OP_INDEX_SELECT, NN_OP_GATHER, NN_OP_MASKED_FILL, NN_OP_CAT,
  NN_OP_RESHAPE, NN_OP_PERMUTE, NN_OP_EXPAND, NN_OP_NARROW, NN_OP_SELECT, NN_OP_STEP, NN_OP_COPY,
  NN_OP_CUSTOM
};

struct nn_node {
  enum nn_op op;
  int kind;                  /* the nn_binop / nn_unop / nn_redop, or take_log for softmax */
  int nin;
  nn_tensor **in;            /* inputs (owned references); NULL once released */
  uint64_t *in_version;      /* storage versions of inputs whose values backward reads */
  unsigned saves_in;         /* bit i: backward reads input i's values */
  nn_tensor *out;            /* a history-free view of the result, when backward reads it */
  uint64_t out_version;
  nn_tensor *aux;            /* indices or mask, when backward needs them */
  float s, lo, hi;           /* scalar operand, clamp bounds */
  int s_left, dim, keepdim, correction;
  int64_t start;             /* narrow start / select index */
  int perm[NN_MAXDIM];
  nn_backward_fn custom;     /* NN_OP_CUSTOM: its backward, name, saved tensors and settings */
  const char *name;
  nn_tensor *saved[NN_AG_SAVED];
  uint64_t saved_version[NN_AG_SAVED];
  union { max_align_t align; unsigned char bytes[NN_AG_PARAMS_SIZE]; } params;  /* the op's struct */
  nn_tensor *gout;           /* gradient of the result, summed during backward */
  uint64_t mark;             /* visit stamp of the current backward */
  int released;              /* the tape behind it was freed by a backward */
};

/* backward.c: gradients of the inputs of n from g = d(loss)/d(result), of the
 * result's shape. gin[i] is set (a new reference) for inputs that require grad. */
int nn_node_backward(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin);
/* sum g down to shape (undoing broadcasting); a new reference */
nn_tensor *nn_reduce_to(nn_ctx *ctx, nn_tensor *g, int ndim, const int64_t *shape);
const char *nn_node_name(const nn_node *n);

#endif
