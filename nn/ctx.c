/* ctx.c -- the per-state core context. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "ctx.h"
#include "rng.h"

nn_ctx *nn_ctx_new(void) {
  nn_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  nn_rng_seed(&ctx->rng, 0);
  ctx->grad_enabled = 1;
  return ctx;
}

void nn_ctx_free(nn_ctx *ctx) {
  if (!ctx) return;
  if (ctx->gemm_free) ctx->gemm_free(ctx->gemm);   /* the GEMM cache: see ctx.h */
  free(ctx);
}

int nn_seterr(nn_ctx *ctx, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
  va_end(ap);
  return code;
}
