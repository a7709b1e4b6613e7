/* mem.c -- counted memory and the sandbox's question before each allocation;
 * see mem.h. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "mem.h"
#include "nn/io/gate.h"

/* Bytes counted and not released, in the whole process (buffers are freed
 * without a context at hand, and on any thread). */
static _Atomic size_t live;

size_t nn_mem_live_bytes(void) {
  return atomic_load_explicit(&live, memory_order_relaxed);
}

static void count(size_t bytes) { atomic_fetch_add_explicit(&live, bytes, memory_order_relaxed); }

void nn_mem_uncharge(size_t bytes) { atomic_fetch_sub_explicit(&live, bytes, memory_order_relaxed); }

/* The limit's answer for bytes more: one branch when there is no limit. A
 * refusal first lets the host free its garbage (nn_gate_set_reclaim), then
 * asks again: what the script dropped does not count against it. */
static int ask(nn_ctx *ctx, size_t bytes, const char *what, va_list ap) {
  if (nn_gate_memory_limit() == 0 || nn_gate_memory_fits(bytes, nn_mem_live_bytes())) return 0;
  nn_gate_reclaim();
  return nn_gate_vmemory(ctx, bytes, nn_mem_live_bytes(), what, ap);
}

/* The refusals of the system, not the limit: "out of memory (47 MiB asked for
 * <what>)" and "size overflow: ... asked for <what>". */
static int nomem(nn_ctx *ctx, size_t bytes, const char *what, va_list ap) {
  char size[32], asked[256];
  nn_gate_format_size(size, sizeof size, bytes);
  vsnprintf(asked, sizeof asked, what, ap);
  return nn_seterr(ctx, NN_ENOMEM, "out of memory (%s asked for %s)", size, asked);
}

static int overflow(nn_ctx *ctx, size_t n, size_t size, const char *what, va_list ap) {
  char asked[256];
  vsnprintf(asked, sizeof asked, what, ap);
  return nn_seterr(ctx, NN_ENOMEM, "size overflow: %zu x %zu bytes asked for %s", n, size, asked);
}

int nn_mem_check(nn_ctx *ctx, size_t bytes, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  int rc = ask(ctx, bytes, what, ap);
  va_end(ap);
  return rc;
}

int nn_mem_charge(nn_ctx *ctx, size_t bytes, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  int rc = ask(ctx, bytes, what, ap);
  va_end(ap);
  if (rc == 0) count(bytes);
  return rc;
}

/* A block is a header holding its size, then the caller's bytes. */
typedef union header { size_t bytes; max_align_t align; } header;

static void *block(nn_ctx *ctx, void *old, size_t bytes, int zero, const char *what, va_list ap) {
  header *h = old ? (header *)old - 1 : NULL;
  size_t had = h ? h->bytes : 0, more = bytes > had ? bytes - had : 0;
  va_list again;
  va_copy(again, ap);
  header *p = NULL;
  if (bytes > SIZE_MAX - sizeof *h) overflow(ctx, 1, bytes, what, ap);
  else if (more == 0 || ask(ctx, more, what, ap) == 0) {
    p = zero ? calloc(1, sizeof *h + bytes) : realloc(h, sizeof *h + bytes);
    if (!p) nomem(ctx, more ? more : bytes, what, again);
  }
  va_end(again);
  if (!p) return NULL;
  p->bytes = bytes;
  if (bytes > had) count(bytes - had);
  else nn_mem_uncharge(had - bytes);
  return p + 1;
}

void *nn_mem_alloc(nn_ctx *ctx, size_t bytes, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  void *p = block(ctx, NULL, bytes, 0, what, ap);
  va_end(ap);
  return p;
}

int nn_mem_size(nn_ctx *ctx, size_t n, size_t size, size_t *bytes, const char *what, ...) {
  if (!__builtin_mul_overflow(n, size, bytes)) return 0;
  va_list ap;
  va_start(ap, what);
  int rc = overflow(ctx, n, size, what, ap);
  va_end(ap);
  return rc;
}

void *nn_mem_calloc(nn_ctx *ctx, size_t n, size_t size, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  size_t bytes;
  void *p = NULL;
  if (__builtin_mul_overflow(n, size, &bytes)) overflow(ctx, n, size, what, ap);
  else p = block(ctx, NULL, bytes, 1, what, ap);
  va_end(ap);
  return p;
}

void *nn_mem_realloc(nn_ctx *ctx, void *p, size_t bytes, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  void *q = block(ctx, p, bytes, 0, what, ap);
  va_end(ap);
  return q;
}

size_t nn_mem_bytes(const void *p) {
  return p ? ((const header *)p - 1)->bytes : 0;
}

void nn_mem_free(void *p) {
  if (!p) return;
  header *h = (header *)p - 1;
  nn_mem_uncharge(h->bytes);
  free(h);
}
