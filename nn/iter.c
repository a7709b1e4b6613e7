/* iter.c -- coalescing strided iteration shared by the elementwise ops. */
#include "iter.h"

void nn_iter_init(nn_iter *it, int nops, nn_tensor *const *t) {
  it->nops = nops;
  int nd = 0;
  for (int i = 0; i < t[0]->ndim; i++) {       /* drop size-1 dims */
    if (t[0]->shape[i] == 1) continue;
    it->shape[nd] = t[0]->shape[i];
    for (int k = 0; k < nops; k++) it->st[k][nd] = t[k]->stride[i];
    nd++;
  }
  int out = 0;                                  /* merge d into the previous kept dim when flat */
  for (int d = 0; d < nd; d++) {
    int merge = out > 0;
    for (int k = 0; merge && k < nops; k++)
      merge = it->st[k][out - 1] == it->st[k][d] * it->shape[d];
    if (merge) {
      it->shape[out - 1] *= it->shape[d];
      for (int k = 0; k < nops; k++) it->st[k][out - 1] = it->st[k][d];
    } else {
      it->shape[out] = it->shape[d];
      for (int k = 0; k < nops; k++) it->st[k][out] = it->st[k][d];
      out++;
    }
  }
  if (out == 0) {                               /* scalar or all size-1 */
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->st[k][0] = 1;
    out = 1;
  }
  for (int i = 0; i < t[0]->ndim; i++)
    if (t[0]->shape[i] == 0) it->shape[0] = 0;
  it->ndim = out;
  for (int k = 0; k < nops; k++) it->base[k] = nn_tensor_data(t[k]);
  it->len = it->shape[out - 1];
  it->rows = 1;
  for (int d = 0; d < out - 1; d++) it->rows *= it->shape[d];
}

void nn_iter_row(const nn_iter *it, int64_t r, float **p) {
  for (int k = 0; k < it->nops; k++) p[k] = it->base[k];
  for (int d = it->ndim - 2; d >= 0 && r > 0; d--) {
    int64_t i = r % it->shape[d];
    r /= it->shape[d];
    for (int k = 0; k < it->nops; k++) p[k] += i * it->st[k][d];
  }
}
