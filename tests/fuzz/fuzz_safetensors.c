/* fuzz_safetensors.c -- libFuzzer harness for the safetensors reader.
 * nn_st_load takes a path, so each input is written to one memfd and read
 * back as /proc/self/fd/N, as fuzz_idx.c does. It traps when the contract of
 * safetensors.h is broken: a success gives n named contiguous float32 tensors
 * whose every element is read (ASan sees a short buffer) and metadata strings;
 * a failure gives NULL and a message naming the file. See README.md. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "nn/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Found by this harness, reported (issue 13) for safetensors.c, which is not
 * this harness's to change: a header shape that nn_tensor_empty refuses
 * ([0, 2^40, 2^40]: a size-0 dim with others past 2^38) fails without naming
 * the file, because read_tensors passes on nn_tensor_empty's message. Until
 * parse_entry checks shapes with nn_shape_check, that one message is let
 * through so that the fuzzer can go on. */
#define KNOWN_UNNAMED "is too large: a tensor holds at most"

static void check_tensor(const nn_tensor *t) {
  if (!t || t->rc < 1 || t->ndim < 0 || t->ndim > NN_MAXDIM || !nn_tensor_is_contiguous(t))
    __builtin_trap();
  __int128 n = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] < 0) __builtin_trap();
    n *= t->shape[i];
  }
  if (n > NN_MAXNUMEL || n != nn_tensor_numel(t) || t->off + (size_t)n > t->s->n) __builtin_trap();
  const float *d = nn_tensor_data(t);
  float sum = 0;
  for (int64_t i = 0; i < (int64_t)n; i++) sum += d[i];
  volatile float sink = sum;
  (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx *ctx;
  static int fd = -1;
  static char path[64];
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  if (fd < 0) {
    if ((fd = memfd_create("fuzz_safetensors", 0)) < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  if (size && pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  ctx->err[0] = '\0';
  nn_st *st = nn_st_load(ctx, path);
  if (st) {
    if (st->n < 0 || st->nmeta < 0 || (st->n && (!st->names || !st->ts))) __builtin_trap();
    for (int i = 0; i < st->n; i++) {
      if (!st->names[i]) __builtin_trap();
      check_tensor(st->ts[i]);
    }
    for (int i = 0; i < st->nmeta; i++) {
      if (!st->mkeys[i] || !st->mvals[i]) __builtin_trap();
      if (nn_st_meta(st, st->mkeys[i]) == NULL) __builtin_trap();
    }
    nn_st_free(st);
  } else if (!strstr(ctx->err, path) && !strstr(ctx->err, KNOWN_UNNAMED)) {
    __builtin_trap();
  }
  return 0;
}
