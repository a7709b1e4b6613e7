/* gemm.h -- the one matrix-multiply entry point. Every product in nnlua goes
 * through nn_gemm; the backend (oneDNN's matmul primitive) lives in gemm.c
 * alone, which is the only file that includes dnnl.h.
 *
 * For b in [0, batch):  C_b = A_b B_b (+ bias) (ReLU)  (+ C_b if accumulate)
 *   A_b (M, K) at a + b*a.bs, element (i, k) at a + b*a.bs + i*a.rs + k*a.cs
 *   B_b (K, N) likewise with b.bs, b.rs, b.cs
 *   C_b (M, N) likewise with c.bs, c.rs, c.cs
 *   bias (N) or NULL, added to every row
 * Strides are in elements. A batch stride of 0 broadcasts that operand over
 * the batch. Transposed or strided views are passed as strides, never copied
 * by the caller. C must not overlap A, B or bias. Results for a given call do
 * not depend on the thread count (gemm.c says how).
 */
#ifndef NN_GEMM_H
#define NN_GEMM_H

#include "ctx.h"

typedef struct nn_gemm_operand {
  const float *p;
  int64_t bs, rs, cs;    /* batch, row and column strides, in elements */
} nn_gemm_operand;

typedef struct nn_gemm_out {
  float *p;
  int64_t bs, rs, cs;
} nn_gemm_out;

enum nn_gemm_flags {
  NN_GEMM_RELU = 1,        /* apply max(0, .) after the bias */
  NN_GEMM_ACCUMULATE = 2   /* C += result instead of C = result */
};

/* Returns 0, or NN_EBACKEND / NN_ENOMEM with ctx->err set. M, N, K >= 1, batch >= 1.
 * Creates oneDNN primitives on first use of a shape/stride/flag combination and
 * caches them in ctx->gemm, freed with the ctx through ctx->gemm_free (ctx.h). */
int nn_gemm(nn_ctx *ctx, int64_t batch, int64_t M, int64_t N, int64_t K,
            nn_gemm_operand a, nn_gemm_operand b, nn_gemm_out c,
            const float *bias, int flags);

const char *nn_gemm_version(void);               /* "oneDNN 2.6.x" (static string) */

#endif
