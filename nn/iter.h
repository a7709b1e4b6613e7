/* iter.h -- internal: walking up to three same-shape strided operands.
 * Not part of the public API (nnlua.h does not include it). */
#ifndef NN_ITER_H
#define NN_ITER_H

#include "tensor.h"

typedef struct nn_iter {
  int nops, ndim;
  int64_t shape[NN_MAXDIM];          /* coalesced; innermost last */
  int64_t st[3][NN_MAXDIM];
  float *base[3];
  int64_t rows, len;                 /* rows of the inner dim, and its length */
} nn_iter;

/* Operands must already have t[0]'s shape (broadcast views have stride 0).
 * Coalesces dims; size-1 dims dropped. */
void nn_iter_init(nn_iter *it, int nops, nn_tensor *const *t);
/* Pointers to the start of row r for each operand. */
void nn_iter_row(const nn_iter *it, int64_t r, float **p);

/* Elementwise loops go parallel above this many elements. */
#define NN_PAR_MIN (1 << 16)

#endif
