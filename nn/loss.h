/* loss.h -- loss functions with PyTorch's formulas, each one fused op with its
 * own backward (recorded through nn_ag_record when an input requires grad).
 *
 * Every function returns a NEW reference (release with nn_tensor_free) or NULL
 * with ctx->err set. NN_RED_MEAN and NN_RED_SUM give a 0-d tensor; NN_RED_NONE
 * gives the per-sample (classification) or per-element (regression) losses.
 * Class targets are float tensors of whole numbers 1..C (1-based, as in Lua).
 * Gradients: logits/input always; probability targets and the regression
 * targets too; class indices and weights get none (as in PyTorch).
 */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include "tensor.h"

enum nn_reduction { NN_RED_MEAN, NN_RED_SUM, NN_RED_NONE };

/* logits z [N, C] (or [C]); target t [N] of classes 1..C (or 0-d), or probabilities y of z's shape;
 * weight w [C] or NULL; e = label_smoothing in [0, 1]. With lse_n = log sum_c exp z_nc:
 *   classes: l_n = (1-e) w_t (lse_n - z_nt) + (e/C) sum_c w_c (lse_n - z_nc); mean = sum l_n / sum_n w_{t_n}
 *   probs:   l_n = sum_c w_c ((1-e) y_nc + e/C) (lse_n - z_nc);               mean = sum l_n / N
 * grad: dz_nc = s_n (A_n softmax(z_n)_c - a_nc), a the coefficients of (lse - z) above, A_n = sum_c a_nc */
nn_tensor *nn_cross_entropy(nn_ctx *ctx, nn_tensor *logits, nn_tensor *target, nn_tensor *weight,
                            float label_smoothing, enum nn_reduction red);
/* logp x [N, C] (or [C]), target t [N] 1..C (or 0-d), weight w [C] or NULL:
 *   l_n = -w_t x_nt; mean = sum l_n / sum_n w_{t_n} */
nn_tensor *nn_nll_loss(nn_ctx *ctx, nn_tensor *logp, nn_tensor *target, nn_tensor *weight,
                       enum nn_reduction red);

/* The regression losses: x and y of the same shape; mean divides by numel. */
nn_tensor *nn_mse_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red);  /* (x - y)^2 */
nn_tensor *nn_l1_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red);   /* |x - y| */
/* -(y max(log x, -100) + (1 - y) max(log(1 - x), -100)); x in [0, 1] (else NN_EARG) */
nn_tensor *nn_bce_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red);
/* -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) = max(x, 0) - x y + log(1 + exp(-|x|)) */
nn_tensor *nn_bce_with_logits_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, enum nn_reduction red);
/* d = x - y: 0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta); delta > 0 */
nn_tensor *nn_huber_loss(nn_ctx *ctx, nn_tensor *x, nn_tensor *y, float delta, enum nn_reduction red);

#endif
