/* fuzz_shape.c -- libFuzzer harness for the shape arithmetic of the tensor
 * core: each input is a small program of views, copies and products over a
 * pool of tensors (shape_one.h), with sizes drawn from edge values. It traps
 * when an accepted tensor reaches outside its storage or holds more than
 * NN_MAXNUMEL elements, or when narrow/expand/empty/view_of accept what the
 * harness's own 128-bit arithmetic refuses (or the reverse). See README.md. */
#include <stdlib.h>
#include "tests/fuzz/shape_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx *ctx;
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  return shape_one(ctx, data, size);
}
