/* fuzz_idx.c -- libFuzzer harness for the IDX reader. nn_idx_read takes a
 * path, so each input is written to one memfd (memfd_create) and read back as
 * /proc/self/fd/N: no files on disk, and zlib sees plain and gzip inputs as it
 * would from a file. It traps when the contract of idx.h is broken: a success
 * gives 1..4 dims whose product is n (every byte is read), a failure an empty
 * result and a message naming the path. See README.md. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "nn/io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx *ctx;
  static int fd = -1;
  static char path[64];
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  if (fd < 0) {
    if ((fd = memfd_create("fuzz_idx", 0)) < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  if (size && pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  nn_idx x;
  int rc = nn_idx_read(ctx, path, &x);
  if (rc == 0) {
    if (!x.data || x.ndim < 1 || x.ndim > NN_IDX_MAXDIM) __builtin_trap();
    size_t n = 1;
    for (int i = 0; i < NN_IDX_MAXDIM; i++) {
      if (i < x.ndim ? x.dims[i] < 1 : x.dims[i] != 0) __builtin_trap();
      if (i < x.ndim) n *= (size_t)x.dims[i];
    }
    if (n != x.n) __builtin_trap();
    unsigned sum = 0;
    for (size_t i = 0; i < x.n; i++) sum += x.data[i];
    volatile unsigned sink = sum;
    (void)sink;
  } else {
    if (rc != NN_EIO && rc != NN_ENOMEM) __builtin_trap();
    if (x.data || x.ndim || x.n || x.dims[0]) __builtin_trap();
    if (!strstr(ctx->err, path)) __builtin_trap();
  }
  nn_idx_free(&x);
  return 0;
}
