/* layer.h -- the numeric core of the nn layers: linear, leaky_relu, gelu,
 * dropout, batch_norm. Each computes its result with plain loops or nn_gemm
 * and, when gradient mode is on and an input requires grad, records itself
 * through nn_ag_record with a backward of its own (PyTorch's formulas and
 * grad_fn names). Every function returns a NEW reference (release with
 * nn_tensor_free) or NULL with ctx->err set; inputs are never modified, except
 * batch_norm's running statistics. NULL optional tensors mean "none".
 */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include "tensor.h"

/* x [..., in], w [out, in], b [out] or NULL -> y [..., out] = x wᵀ + b (one nn_gemm);
 * x may be 1-d [in] -> y [out]. grad_fn AddmmBackward0 (MmBackward0 without b). */
nn_tensor *nn_linear(nn_ctx *ctx, nn_tensor *x, nn_tensor *w, nn_tensor *b);

/* y = x > 0 ? x : slope x, any shape. grad_fn LeakyReluBackward0. */
nn_tensor *nn_leaky_relu(nn_ctx *ctx, nn_tensor *x, float slope);

/* tanh_approx 0: y = x/2 (1 + erf(x/√2));
 * tanh_approx 1: y = x/2 (1 + tanh(√(2/π) (x + 0.044715 x³))). grad_fn GeluBackward0. */
nn_tensor *nn_gelu(nn_ctx *ctx, nn_tensor *x, int tanh_approx);

/* training, 0 < p < 1: y = x m / (1 - p), m_i ~ Bernoulli(1 - p) drawn from r
 * (ctx->rng if NULL), one uniform per element in order; p = 1: zeros.
 * Not training, or p = 0: returns x itself (retained). p outside [0, 1]: NN_EARG.
 * grad_fn NativeDropoutBackward0. */
nn_tensor *nn_dropout(nn_ctx *ctx, nn_rng *r, nn_tensor *x, float p, int training);

/* x [N, C] or [N, C, L]; per channel c: y = (x - μ_c) / √(σ²_c + eps) w_c + b_c.
 * training: μ, σ² (biased) over N (and L); then, with no autograd,
 *   running_mean = (1 - momentum) running_mean + momentum μ,
 *   running_var  = (1 - momentum) running_var  + momentum σ² n/(n-1).
 * eval: μ, σ² are running_mean, running_var (required then).
 * running_*, weight, bias: [C] or NULL. grad_fn NativeBatchNormBackward0. */
nn_tensor *nn_batch_norm(nn_ctx *ctx, nn_tensor *x, nn_tensor *running_mean, nn_tensor *running_var,
                         nn_tensor *weight, nn_tensor *bias, int training, float momentum, float eps);

#endif
