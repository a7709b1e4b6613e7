/* optim.c -- fused optimizer update kernels; see optim.h for the formulas.
 *
 * Every kernel is one loop over the elements of contiguous float arrays. The
 * float operations are those of PyTorch's CPU kernels, in their order, with
 * the Python scalar rounded to float first:
 *   add(b, alpha)      fma(alpha, b, a)
 *   addcmul(value)     fma(value*t1, t2, s)
 *   addcdiv(value)     s + (value*t1)/t2
 *   lerp(end, w)       |w| < 0.5 ? fma(w, e - s, s) : fma(w - 1, e - s, e)
 * PyTorch's x86 kernels are built with FMA (Vectorized fmadd, and contracted
 * scalar tails), so a multiply-add is one rounding there; fmaf does the same
 * here, which makes SGD and Adagrad bit-identical to PyTorch on its fixtures.
 */
#include <math.h>
#include <string.h>
#include <omp.h>
#include "optim.h"
#include "dispatch.h"

/* A parameter this large is updated by every thread, each its own slice: the
 * rules are elementwise, so the bits do not depend on the thread count. A
 * smaller one stays on the calling thread, where waking the others costs more
 * than they save. Each loop below runs over [lo, hi) of restrict pointers
 * passed as arguments, so that it vectorises inside the parallel region too. */
#define OPTIM_PAR_MIN 32768

/* The installed build (Makefile, DIST_OPT) runs on any x86-64-v2 machine,
 * which has no FMA: there each fmaf was a call into libm's exact software
 * version, and Adam's step took ten times as long. So each loop below is
 * NN_DISPATCH (dispatch.h): compiled for x86-64-v2, v3 and v4, the copy for
 * the CPU picked at load time, the same bits on every copy. */
/* this thread's slice [*lo, *hi) of n elements, in blocks of 16 (a cache line) */
static void slice(int64_t n, int64_t *lo, int64_t *hi) {
  int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
  int64_t per = ((n + 15) / 16 + nt - 1) / nt * 16;
  *lo = t * per < n ? t * per : n;
  *hi = (t + 1) * per < n ? (t + 1) * per : n;
}

/* t must be contiguous with p's shape; what names it in the message */
static int checkone(nn_ctx *ctx, const char *fn, const char *what, const nn_tensor *p, const nn_tensor *t) {
  char sa[128], sb[128];
  if (t == NULL) return nn_seterr(ctx, NN_EARG, "%s: missing %s", fn, what);
  if (t->ndim != p->ndim || memcmp(t->shape, p->shape, sizeof(int64_t) * (size_t)p->ndim) != 0)
    return nn_seterr(ctx, NN_EARG, "%s: %s has shape %s but the parameter has shape %s", fn, what,
                     nn_shape_str(t, sa, sizeof sa), nn_shape_str(p, sb, sizeof sb));
  if (!nn_tensor_is_contiguous(t))
    return nn_seterr(ctx, NN_EARG, "%s: %s is not contiguous", fn, what);
  return 0;
}

/* checks p, g and the n state tensors that follow (NULL entries are skipped) */
static int checkall(nn_ctx *ctx, const char *fn, const nn_tensor *p, const nn_tensor *g,
                    int n, const nn_tensor *const *st, const char *const *names) {
  int rc;
  if (p == NULL) return nn_seterr(ctx, NN_EARG, "%s: missing parameter", fn);
  if ((rc = checkone(ctx, fn, "parameter", p, p)) != 0) return rc;
  if ((rc = checkone(ctx, fn, "grad", p, g)) != 0) return rc;
  for (int i = 0; i < n; i++)
    if (st[i] && (rc = checkone(ctx, fn, names[i], p, st[i])) != 0) return rc;
  return 0;
}

static inline float lerpf(float s, float e, float w) {
  return fabsf(w) < 0.5f ? fmaf(w, e - s, s) : fmaf(w - 1.0f, e - s, e);
}

static void touch(nn_tensor *t) { if (t) t->s->version++; }

NN_DISPATCH static void sgd_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict b,
                     const float *restrict gr, float wd, float mu, float damp, float nlr,
                     int l2, int mom, int first, int nesterov) {
  for (int64_t i = lo; i < hi; i++) {
    float d = gr[i];
    if (l2) d = fmaf(wd, w[i], d);
    if (mom) {
      float bi;
      if (first) bi = d;
      else bi = fmaf(damp, d, b[i] * mu);
      b[i] = bi;
      d = nesterov ? fmaf(mu, bi, d) : bi;
    }
    w[i] = fmaf(nlr, d, w[i]);
  }
}

int nn_optim_sgd(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *buf,
                 const nn_sgd_opts *o, int first) {
  static const char *const names[] = {"momentum_buffer"};
  const nn_tensor *st[] = {buf};
  int rc = checkall(ctx, "sgd", p, g, 1, st, names);
  if (rc) return rc;
  int mom = o->momentum != 0;
  if (mom && buf == NULL) return nn_seterr(ctx, NN_EARG, "sgd: momentum %g needs a momentum_buffer", o->momentum);
  float *w = nn_tensor_data(p), *b = mom ? nn_tensor_data(buf) : NULL;
  const float *gr = nn_tensor_data(g);
  const float wd = (float)o->weight_decay, mu = (float)o->momentum;
  const float damp = (float)(1 - o->dampening), nlr = (float)(-o->lr);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  const int l2 = o->weight_decay != 0, nesterov = o->nesterov != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    sgd_loop(lo, hi, w, b, gr, wd, mu, damp, nlr, l2, mom, first, nesterov);
  }
  touch(p);
  if (mom) touch(buf);
  return 0;
}

/* The constants of one Adam step, and its loop over n elements. The loop is
 * instantiated for each combination of the options that change its body
 * (flags known at compile time), so each copy vectorises without masks; the
 * pointers do not overlap (restrict: separate tensors of one shape). */
typedef struct {
  float nstep, bc2s, eps, w1, b2, c2, wd, decay;
} adam_k;

static inline __attribute__((always_inline)) void
adam_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict ma, float *restrict va,
          float *restrict vm, const float *restrict gr, adam_k k, int dec, int l2, int ams) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i], wi = w[i];
    if (dec) wi = wi * k.decay;
    if (l2) gi = fmaf(k.wd, wi, gi);
    float mi = lerpf(ma[i], gi, k.w1);
    float vi = va[i] * k.b2;
    vi = fmaf(k.c2 * gi, gi, vi);
    ma[i] = mi; va[i] = vi;
    if (ams) { if (vm[i] > vi) vi = vm[i]; vm[i] = vi; }
    float denom = sqrtf(vi) / k.bc2s + k.eps;
    w[i] = wi + k.nstep * mi / denom;
  }
}

/* the copy of adam_loop for the flags (each copy compiled for each target) */
NN_DISPATCH static void adam_run(int64_t lo, int64_t hi, float *restrict w, float *restrict ma,
                              float *restrict va, float *restrict vm, const float *restrict gr,
                              adam_k k, int dec, int l2, int ams) {
  if (ams) {
    if (dec) adam_loop(lo, hi, w, ma, va, vm, gr, k, 1, 0, 1);
    else if (l2) adam_loop(lo, hi, w, ma, va, vm, gr, k, 0, 1, 1);
    else adam_loop(lo, hi, w, ma, va, vm, gr, k, 0, 0, 1);
  } else {
    if (dec) adam_loop(lo, hi, w, ma, va, NULL, gr, k, 1, 0, 0);
    else if (l2) adam_loop(lo, hi, w, ma, va, NULL, gr, k, 0, 1, 0);
    else adam_loop(lo, hi, w, ma, va, NULL, gr, k, 0, 0, 0);
  }
}

int nn_optim_adam(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v,
                  nn_tensor *vmax, int64_t step, const nn_adam_opts *o) {
  static const char *const names[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  const char *fn = o->decoupled ? "adamw" : "adam";
  const nn_tensor *st[] = {m, v, vmax};
  int rc = checkall(ctx, fn, p, g, 3, st, names);
  if (rc) return rc;
  if (!m || !v || (o->amsgrad && !vmax)) return nn_seterr(ctx, NN_EARG, "%s: missing state tensor", fn);
  if (step < 1) return nn_seterr(ctx, NN_EARG, "%s: step must be >= 1, got %lld", fn, (long long)step);
  double bc1 = 1, bc2 = 1;
  if (o->bias_correction) { bc1 = 1 - pow(o->beta1, (double)step); bc2 = 1 - pow(o->beta2, (double)step); }
  adam_k k = {
    .nstep = (float)(-(o->lr / bc1)), .bc2s = (float)sqrt(bc2), .eps = (float)o->eps,
    .w1 = (float)(1 - o->beta1), .b2 = (float)o->beta2, .c2 = (float)(1 - o->beta2),
    .wd = (float)o->weight_decay, .decay = (float)(1 - o->lr * o->weight_decay),
  };
  const int l2 = !o->decoupled && o->weight_decay != 0, dec = o->decoupled && o->weight_decay != 0;
  float *w = nn_tensor_data(p), *ma = nn_tensor_data(m), *va = nn_tensor_data(v);
  float *vm = o->amsgrad ? nn_tensor_data(vmax) : NULL;
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    adam_run(lo, hi, w, ma, va, vm, gr, k, dec, l2, o->amsgrad != 0);
  }
  touch(p); touch(m); touch(v); if (vm) touch(vmax);
  return 0;
}

typedef struct { float a, c, eps, wd, mu, nlr; } rmsprop_k;

static inline __attribute__((always_inline)) void
rmsprop_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict s, float *restrict gav,
             float *restrict b, const float *restrict gr, rmsprop_k k, int l2, int centered, int mom) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i];
    if (l2) gi = fmaf(k.wd, w[i], gi);
    float si = s[i] * k.a;
    si = fmaf(k.c * gi, gi, si);
    s[i] = si;
    float avg;
    if (centered) {
      float gi_avg = lerpf(gav[i], gi, k.c);
      gav[i] = gi_avg;
      avg = sqrtf(fmaf(-1.0f * gi_avg, gi_avg, si));
    } else {
      avg = sqrtf(si);
    }
    avg = avg + k.eps;
    if (mom) {
      float bi = b[i] * k.mu;
      bi = bi + gi / avg;
      b[i] = bi;
      w[i] = fmaf(k.nlr, bi, w[i]);
    } else {
      w[i] = w[i] + k.nlr * gi / avg;
    }
  }
}

/* the copy of rmsprop_loop for the flags l2 << 2 | centered << 1 | momentum */
NN_DISPATCH static void rmsprop_run(int64_t lo, int64_t hi, float *restrict w, float *restrict s,
                                 float *restrict gav, float *restrict b, const float *restrict gr,
                                 rmsprop_k k, int flags) {
  switch (flags) {                      /* one specialised copy of the loop per case */
  case 0: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 0, 0, 0); break;
  case 1: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 0, 0, 1); break;
  case 2: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 0, 1, 0); break;
  case 3: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 0, 1, 1); break;
  case 4: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 1, 0, 0); break;
  case 5: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 1, 0, 1); break;
  case 6: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 1, 1, 0); break;
  default: rmsprop_loop(lo, hi, w, s, gav, b, gr, k, 1, 1, 1); break;
  }
}

int nn_optim_rmsprop(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sq,
                     nn_tensor *ga, nn_tensor *buf, const nn_rmsprop_opts *o) {
  static const char *const names[] = {"square_avg", "grad_avg", "momentum_buffer"};
  const nn_tensor *st[] = {sq, ga, buf};
  int rc = checkall(ctx, "rmsprop", p, g, 3, st, names);
  if (rc) return rc;
  int mom = o->momentum > 0;
  if (!sq || (o->centered && !ga) || (mom && !buf))
    return nn_seterr(ctx, NN_EARG, "rmsprop: missing state tensor");
  rmsprop_k k = {.a = (float)o->alpha, .c = (float)(1 - o->alpha), .eps = (float)o->eps,
                 .wd = (float)o->weight_decay, .mu = (float)o->momentum, .nlr = (float)(-o->lr)};
  float *w = nn_tensor_data(p), *s = nn_tensor_data(sq);
  float *gav = o->centered ? nn_tensor_data(ga) : NULL, *b = mom ? nn_tensor_data(buf) : NULL;
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  int l2 = o->weight_decay != 0, c = o->centered != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    rmsprop_run(lo, hi, w, s, gav, b, gr, k, l2 << 2 | c << 1 | mom);
  }
  touch(p); touch(sq); if (gav) touch(ga); if (b) touch(buf);
  return 0;
}

NN_DISPATCH static void adagrad_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict s,
                         const float *restrict gr, float nclr, float wd, float eps, int l2) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i];
    if (l2) gi = fmaf(wd, w[i], gi);
    float si = fmaf(1.0f * gi, gi, s[i]);
    s[i] = si;
    float sd = sqrtf(si) + eps;
    w[i] = w[i] + nclr * gi / sd;
  }
}

int nn_optim_adagrad(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sum,
                     int64_t step, const nn_adagrad_opts *o) {
  static const char *const names[] = {"sum"};
  const nn_tensor *st[] = {sum};
  int rc = checkall(ctx, "adagrad", p, g, 1, st, names);
  if (rc) return rc;
  if (!sum) return nn_seterr(ctx, NN_EARG, "adagrad: missing state tensor");
  if (step < 1) return nn_seterr(ctx, NN_EARG, "adagrad: step must be >= 1, got %lld", (long long)step);
  const float nclr = (float)(-(o->lr / (1 + (double)(step - 1) * o->lr_decay)));
  const float wd = (float)o->weight_decay, eps = (float)o->eps;
  float *w = nn_tensor_data(p), *s = nn_tensor_data(sum);
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  const int l2 = o->weight_decay != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    adagrad_loop(lo, hi, w, s, gr, nclr, wd, eps, l2);
  }
  touch(p); touch(sum);
  return 0;
}

NN_DISPATCH static void adadelta_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict s,
                          float *restrict ac, const float *restrict gr, float rho, float c, float eps,
                          float wd, float nlr, int l2) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i];
    if (l2) gi = fmaf(wd, w[i], gi);
    float si = s[i] * rho;
    si = fmaf(c * gi, gi, si);
    s[i] = si;
    float sd = sqrtf(si + eps);
    float d = sqrtf(ac[i] + eps);
    d = d / sd;
    d = d * gi;
    float ai = ac[i] * rho;
    ac[i] = fmaf(c * d, d, ai);
    w[i] = fmaf(nlr, d, w[i]);
  }
}

int nn_optim_adadelta(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *sq,
                      nn_tensor *acc, const nn_adadelta_opts *o) {
  static const char *const names[] = {"square_avg", "acc_delta"};
  const nn_tensor *st[] = {sq, acc};
  int rc = checkall(ctx, "adadelta", p, g, 2, st, names);
  if (rc) return rc;
  if (!sq || !acc) return nn_seterr(ctx, NN_EARG, "adadelta: missing state tensor");
  const float rho = (float)o->rho, c = (float)(1 - o->rho), eps = (float)o->eps;
  const float wd = (float)o->weight_decay, nlr = (float)(-o->lr);
  float *w = nn_tensor_data(p), *s = nn_tensor_data(sq), *ac = nn_tensor_data(acc);
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  const int l2 = o->weight_decay != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    adadelta_loop(lo, hi, w, s, ac, gr, rho, c, eps, wd, nlr, l2);
  }
  touch(p); touch(sq); touch(acc);
  return 0;
}

NN_DISPATCH static void adamax_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict ma,
                        float *restrict ua, const float *restrict gr, float nclr, float w1, float b2,
                        float eps, float wd, int l2) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i];
    if (l2) gi = fmaf(wd, w[i], gi);
    float mi = lerpf(ma[i], gi, w1);
    ma[i] = mi;
    float ui = ua[i] * b2, ab = fabsf(gi) + eps;
    ui = (ui != ui || ui > ab) ? ui : ab;     /* torch.maximum propagates NaN */
    ua[i] = ui;
    w[i] = w[i] + nclr * mi / ui;
  }
}

int nn_optim_adamax(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *u,
                    int64_t step, const nn_adamax_opts *o) {
  static const char *const names[] = {"exp_avg", "exp_inf"};
  const nn_tensor *st[] = {m, u};
  int rc = checkall(ctx, "adamax", p, g, 2, st, names);
  if (rc) return rc;
  if (!m || !u) return nn_seterr(ctx, NN_EARG, "adamax: missing state tensor");
  if (step < 1) return nn_seterr(ctx, NN_EARG, "adamax: step must be >= 1, got %lld", (long long)step);
  const float nclr = (float)(-(o->lr / (1 - pow(o->beta1, (double)step))));
  const float w1 = (float)(1 - o->beta1), b2 = (float)o->beta2, eps = (float)o->eps;
  const float wd = (float)o->weight_decay;
  float *w = nn_tensor_data(p), *ma = nn_tensor_data(m), *ua = nn_tensor_data(u);
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  const int l2 = o->weight_decay != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    adamax_loop(lo, hi, w, ma, ua, gr, nclr, w1, b2, eps, wd, l2);
  }
  touch(p); touch(m); touch(u);
  return 0;
}

NN_DISPATCH static void nadam_loop(int64_t lo, int64_t hi, float *restrict w, float *restrict ma, float *restrict va,
                       const float *restrict gr, float c1, float c2, float w1, float b2, float cb2,
                       float bc2f, float eps, float wd, int l2) {
  for (int64_t i = lo; i < hi; i++) {
    float gi = gr[i];
    if (l2) gi = fmaf(wd, w[i], gi);
    float mi = lerpf(ma[i], gi, w1);
    float vi = va[i] * b2;
    vi = fmaf(cb2 * gi, gi, vi);
    ma[i] = mi; va[i] = vi;
    float d = sqrtf(vi / bc2f) + eps;
    float wi = w[i] + c1 * gi / d;
    w[i] = wi + c2 * mi / d;
  }
}

int nn_optim_nadam(nn_ctx *ctx, nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v,
                   int64_t step, double *mu_product, const nn_nadam_opts *o) {
  static const char *const names[] = {"exp_avg", "exp_avg_sq"};
  const nn_tensor *st[] = {m, v};
  int rc = checkall(ctx, "nadam", p, g, 2, st, names);
  if (rc) return rc;
  if (!m || !v || !mu_product) return nn_seterr(ctx, NN_EARG, "nadam: missing state");
  if (step < 1) return nn_seterr(ctx, NN_EARG, "nadam: step must be >= 1, got %lld", (long long)step);
  double t = (double)step;
  double bc2 = 1 - pow(o->beta2, t);
  double mu = o->beta1 * (1. - 0.5 * pow(0.96, t * o->momentum_decay));
  double mu_next = o->beta1 * (1. - 0.5 * pow(0.96, (t + 1) * o->momentum_decay));
  double prod = (double)((float)*mu_product * (float)mu);     /* a float32 0-d tensor in PyTorch */
  double prod_next = prod * mu_next;
  const float c1 = (float)(-o->lr * (1. - mu) / (1. - prod));
  const float c2 = (float)((-o->lr * mu_next) / (1. - prod_next));
  const float w1 = (float)(1 - o->beta1), b2 = (float)o->beta2, cb2 = (float)(1 - o->beta2);
  const float bc2f = (float)bc2, eps = (float)o->eps, wd = (float)o->weight_decay;
  float *w = nn_tensor_data(p), *ma = nn_tensor_data(m), *va = nn_tensor_data(v);
  const float *gr = nn_tensor_data(g);
  int64_t n = nn_tensor_numel(p);
  nn_threads_poll();
  const int l2 = o->weight_decay != 0;
#pragma omp parallel if (n >= OPTIM_PAR_MIN)
  {
    int64_t lo, hi;
    slice(n, &lo, &hi);
    nadam_loop(lo, hi, w, ma, va, gr, c1, c2, w1, b2, cb2, bc2f, eps, wd, l2);
  }
  *mu_product = prod;
  touch(p); touch(m); touch(v);
  return 0;
}
