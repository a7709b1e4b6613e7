/* optim.h -- the update rules of the optimizers, one fused kernel per rule.
 *
 * Each kernel updates the parameter p and its state tensors in ONE pass, in
 * place, with no temporaries: plain loops over contiguous float arrays. The
 * formulas and the order of the float32 operations are PyTorch 2.x's
 * single-tensor (foreach=False) implementations, so results agree to float32
 * rounding. Scalar hyper-parameters are doubles, as Python floats are; derived
 * scalars (step sizes, bias corrections) are computed in double and rounded to
 * float where PyTorch hands them to a float kernel.
 *
 * p, g and every state tensor must be contiguous and of p's shape, else the
 * kernel returns NN_EARG with the message in ctx->err and changes nothing.
 * Writes bypass autograd (no-grad semantics) and bump p->s->version so that
 * autograd notices the in-place change. g is never written. "step" is the
 * 1-based count of updates of this parameter, this one included.
 */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "tensor.h"

typedef struct nn_sgd_opts {
  double lr, momentum, dampening, weight_decay;
  int nesterov;
} nn_sgd_opts;

typedef struct nn_adam_opts {
  double lr, beta1, beta2, eps, weight_decay;
  int amsgrad;
  int decoupled;          /* AdamW: p *= 1 - lr*wd instead of g += wd*p */
  int bias_correction;    /* 1 as in PyTorch; 0 drops both corrections (the course's worked step) */
} nn_adam_opts;

typedef struct nn_rmsprop_opts {
  double lr, alpha, eps, weight_decay, momentum;
  int centered;
} nn_rmsprop_opts;

typedef struct nn_adagrad_opts { double lr, lr_decay, weight_decay, eps; } nn_adagrad_opts;
typedef struct nn_adadelta_opts { double lr, rho, eps, weight_decay; } nn_adadelta_opts;
typedef struct nn_adamax_opts { double lr, beta1, beta2, eps, weight_decay; } nn_adamax_opts;
typedef struct nn_nadam_opts { double lr, beta1, beta2, eps, weight_decay, momentum_decay; } nn_nadam_opts;

/* g' = g + wd p; first: buf = g', else buf = momentum buf + (1-dampening) g';
 * d = nesterov ? g' + momentum buf : buf; p -= lr d. buf may be NULL when momentum == 0. */
int nn_optim_sgd(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *buf,
                 const nn_sgd_opts *o, int first);

/* g' = g + wd p (AdamW: p *= 1 - lr wd); m = lerp(m, g', 1-b1); v = b2 v + (1-b2) g'^2;
 * vmax = max(vmax, v) if amsgrad (vmax may be NULL otherwise);
 * p -= lr/(1-b1^t) m / (sqrt(v or vmax)/sqrt(1-b2^t) + eps). */
int nn_optim_adam(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v,
                  nn_tensor *vmax, int64_t step, const nn_adam_opts *o);

/* sq = a sq + (1-a) g'^2; centered: ga = lerp(ga, g', 1-a), avg = sqrt(sq - ga^2) + eps,
 * else avg = sqrt(sq) + eps; momentum > 0: buf = mom buf + g'/avg, p -= lr buf;
 * else p -= lr g'/avg. ga may be NULL unless centered, buf unless momentum > 0. */
int nn_optim_rmsprop(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sq,
                     nn_tensor *ga, nn_tensor *buf, const nn_rmsprop_opts *o);

/* sum += g'^2; p -= lr/(1+(t-1) lr_decay) g' / (sqrt(sum) + eps). */
int nn_optim_adagrad(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sum,
                     int64_t step, const nn_adagrad_opts *o);

/* sq = rho sq + (1-rho) g'^2; d = sqrt(acc+eps)/sqrt(sq+eps) g';
 * acc = rho acc + (1-rho) d^2; p -= lr d. */
int nn_optim_adadelta(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sq,
                      nn_tensor *acc, const nn_adadelta_opts *o);

/* m = lerp(m, g', 1-b1); u = max(b2 u, |g'| + eps); p -= lr/(1-b1^t) m/u. */
int nn_optim_adamax(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *u,
                    int64_t step, const nn_adamax_opts *o);

/* mu_t = b1 (1 - 0.5 0.96^(t psi)); *mu_product *= mu_t (in float32, as PyTorch's
 * 0-d state tensor); m = lerp(m, g', 1-b1); v = b2 v + (1-b2) g'^2;
 * d = sqrt(v/(1-b2^t)) + eps; p -= lr (1-mu_t)/(1-prod) g'/d + lr mu_{t+1}/(1-prod mu_{t+1}) m/d.
 * *mu_product is read and written (start it at 1). */
int nn_optim_nadam(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v,
                   int64_t step, double *mu_product, const nn_nadam_opts *o);

#endif
