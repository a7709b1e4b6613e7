/* fuzz_safetensors.c -- libFuzzer harness for the safetensors reader
 * (header length, JSON, dtypes, shapes, offsets, __metadata__). nn_st_load
 * takes a path, so each input is written to one memfd and read back as
 * /proc/self/fd/N. It traps when the contract of safetensors.h is broken:
 * a success gives n named contiguous tensors whose bytes can all be read and
 * F64/I64 bytes whose count matches, a failure NULL, NN_EIO or NN_ENOMEM and a
 * message naming the path. What loads is saved again (nn_st_save_arrays, into
 * a private folder) and must load back the same: whatever the writer accepts,
 * the reader reads. See README.md. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "nn/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bits(const nn_tensor *a, const nn_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; d++) if (a->shape[d] != b->shape[d]) return 0;
  int64_t n = nn_tensor_numel(a);
  return n == 0 || memcmp(nn_tensor_data((nn_tensor *)a), nn_tensor_data((nn_tensor *)b),
                          (size_t)n * sizeof(float)) == 0;
}

/* Saves st's float tensors again and loads them back: same names, same bits. */
static void roundtrip(nn_ctx *ctx, const nn_st *st, const char *dir) {
  char path[128];
  snprintf(path, sizeof path, "%s/rt.safetensors", dir);
  int rc = nn_st_save(ctx, path, st->n, (const char *const *)st->names, st->ts, st->nmeta,
                      (const char *const *)st->mkeys, (const char *const *)st->mvals);
  if (rc != 0) {
    if (rc != NN_EARG && rc != NN_ENOMEM) __builtin_trap();  /* a name the writer refuses */
    return;
  }
  nn_st *back = nn_st_load(ctx, path);
  if (!back || back->n != st->n || back->nmeta != st->nmeta) __builtin_trap();
  for (int i = 0; i < st->n; i++)
    if (strcmp(back->names[i], st->names[i]) != 0 || !same_bits(back->ts[i], st->ts[i]))
      __builtin_trap();
  for (int i = 0; i < st->nmeta; i++) {
    const char *v = nn_st_meta(back, st->mkeys[i]);
    if (!v || strcmp(v, nn_st_meta(st, st->mkeys[i])) != 0) __builtin_trap();
  }
  nn_st_free(back);
  unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx *ctx;
  static int fd = -1;
  static char path[64], dir[64];
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  if (fd < 0) {
    if ((fd = memfd_create("fuzz_safetensors", 0)) < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    snprintf(dir, sizeof dir, "/tmp/fuzz_st_XXXXXX");
    if (!mkdtemp(dir)) abort();
  }
  if (ftruncate(fd, 0) != 0) abort();
  if (size && pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  ctx->err[0] = '\0';
  nn_st *st = nn_st_load(ctx, path);
  if (!st) {
    if (!strstr(ctx->err, path)) __builtin_trap();
    return 0;
  }
  if (st->n < 0 || st->nmeta < 0 || (st->n && (!st->names || !st->ts || !st->raw))) __builtin_trap();
  float sum = 0;
  for (int i = 0; i < st->n; i++) {
    const nn_tensor *t = st->ts[i];
    if (!st->names[i] || !t || t->ndim < 0 || t->ndim > NN_MAXDIM) __builtin_trap();
    if (strcmp(st->names[i], "__metadata__") == 0) __builtin_trap();
    int64_t n = nn_tensor_numel(t), m = 1;
    for (int d = 0; d < t->ndim; d++) {
      if (t->shape[d] < 0) __builtin_trap();
      m *= t->shape[d];
    }
    if (m != n) __builtin_trap();
    const float *p = nn_tensor_data((nn_tensor *)t);
    for (int64_t k = 0; k < n; k++) sum += p[k];                  /* every element readable */
    if (st->raw[i]) {                                             /* F64 / I64 kept exact */
      if (st->rawint[i] != 0 && st->rawint[i] != 1) __builtin_trap();
      const unsigned char *r = st->raw[i];
      unsigned x = 0;
      for (int64_t k = 0; k < n * 8; k++) x += r[k];
      sum += (float)x;
    }
  }
  for (int i = 0; i < st->nmeta; i++)
    if (!st->mkeys[i] || !st->mvals[i] || !nn_st_meta(st, st->mkeys[i])) __builtin_trap();
  volatile float sink = sum;
  (void)sink;
  roundtrip(ctx, st, dir);
  nn_st_free(st);
  return 0;
}
