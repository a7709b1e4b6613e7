/* ctx.h -- the per-state core context: error buffer, RNG, threads, caches.
 *
 * One nn_ctx per Lua state (the bindings keep it as upvalue 1). Every core
 * function that can fail takes it first and reports through it: functions
 * returning int give 0 or a negative NN_E* code, functions returning a pointer
 * give NULL; either way the message is in ctx->err. The core never exits.
 *
 * The GEMM cache is freed through a hook, so that ctx.c does not depend on
 * gemm.c (and oneDNN): nn_gemm creates ctx->gemm on first use and sets
 * ctx->gemm_free beside it; nn_ctx_free calls ctx->gemm_free(ctx->gemm) when
 * it is set. A program that never multiplies matrices (the PNG and IDX
 * fuzzers) links ctx.c without gemm.c.
 */
#ifndef NN_CTX_H
#define NN_CTX_H

#include <stddef.h>
#include <stdint.h>
#include "threads.h"   /* nn_set_num_threads and the rest of the one OpenMP pool */

enum nn_err {
  NN_OK = 0,
  NN_EARG = -1,    /* bad argument: shape, dim, index, value */
  NN_ENOMEM = -2,  /* allocation failed */
  NN_EIO = -3,     /* file missing, unreadable, truncated, unwritable */
  NN_EBACKEND = -4 /* oneDNN or another library refused */
};

#define NN_ERRLEN 512

/* xoshiro256** state; see rng.h */
typedef struct nn_rng { uint64_t s[4]; uint64_t seed; } nn_rng;

typedef struct nn_gemm_cache nn_gemm_cache;   /* opaque, gemm.c */

typedef struct nn_ctx {
  char err[NN_ERRLEN];     /* message of the last failure */
  nn_rng rng;              /* the default generator */
  int grad_enabled;        /* 0 inside tensor.no_grad */
  uint64_t ag_stamp;       /* counts backward passes; marks visited tape nodes */
  size_t gc_live_base;     /* nn_storage_live_bytes() after the bindings last stepped the
                              collector, or the lowest since */
  nn_gemm_cache *gemm;     /* oneDNN engine, stream, primitive cache (lazy, gemm.c) */
  void (*gemm_free)(nn_gemm_cache *gemm);  /* set by gemm.c with gemm; nn_ctx_free calls it */
} nn_ctx;

nn_ctx *nn_ctx_new(void);                 /* returns a new context, or NULL; free with nn_ctx_free */
void nn_ctx_free(nn_ctx *ctx);            /* NULL is fine */
int nn_seterr(nn_ctx *ctx, int code, const char *fmt, ...)  /* formats ctx->err; returns code */
  __attribute__((format(printf, 3, 4)));


#endif
