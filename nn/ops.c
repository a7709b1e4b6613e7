/* ops.c -- elementwise ops with PyTorch broadcasting, fills and copies. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dispatch.h"
#include "ops.h"
#include "iter.h"
#include "rng.h"

/* ---- broadcasting ---- */

int nn_broadcast_shape(nn_ctx *ctx, const char *fn, const nn_tensor *a, const nn_tensor *b,
                       int *ndim, int64_t *shape) {
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < nd; i++) {
    int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char s1[128], s2[128];
      return nn_seterr(ctx, NN_EARG, "%s: shapes %s and %s cannot be broadcast "
                       "(dim %d: %lld vs %lld)", fn, nn_shape_str(a, s1, 128),
                       nn_shape_str(b, s2, 128), i + 1, (long long)sa, (long long)sb);
    }
    shape[i] = sa == 1 ? sb : sa;
  }
  *ndim = nd;
  return nn_shape_check(ctx, fn, nd, shape, NULL, NULL);
}

/* ---- kernels over one row of n elements; st holds the row strides ---- */

typedef void (*kernel)(const void *arg, float **p, const int64_t *st, int64_t n);

/* Runs k over every element of the iteration, in chunks; parallel when large.
 * The split depends only on the shape, never on the thread count. */
static void run(const nn_iter *it, kernel k, const void *arg) {
  const int64_t CH = 1 << 14;
  int64_t per_row = (it->len + CH - 1) / CH, tasks = it->rows * per_row;
  int64_t total = it->rows * it->len;
  int64_t inner[3];
  for (int j = 0; j < it->nops; j++) inner[j] = it->st[j][it->ndim - 1];
  if (total == 0) return;
#pragma omp parallel for schedule(static) if (total >= NN_PAR_MIN && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    float *p[3];
    int64_t r = t / per_row, off = (t % per_row) * CH;
    int64_t n = it->len - off < CH ? it->len - off : CH;
    nn_iter_row(it, r, p);
    for (int j = 0; j < it->nops; j++) p[j] += off * inner[j];
    k(arg, p, inner, n);
  }
}

/* The contiguous loops are NN_DISPATCH (dispatch.h): compiled for each x86-64 level. */
NN_DISPATCH static void binary_contig(enum nn_binop op, float *restrict o, const float *a, const float *b,
                          int64_t n) {
  switch (op) {
  case NN_ADD: for (int64_t i = 0; i < n; i++) o[i] = a[i] + b[i]; break;
  case NN_SUB: for (int64_t i = 0; i < n; i++) o[i] = a[i] - b[i]; break;
  case NN_MUL: for (int64_t i = 0; i < n; i++) o[i] = a[i] * b[i]; break;
  case NN_DIV: for (int64_t i = 0; i < n; i++) o[i] = a[i] / b[i]; break;
  case NN_POW: for (int64_t i = 0; i < n; i++) o[i] = powf(a[i], b[i]); break;
  case NN_MAXIMUM: for (int64_t i = 0; i < n; i++) o[i] = a[i] != a[i] || a[i] > b[i] ? a[i] : b[i]; break;
  case NN_MINIMUM: for (int64_t i = 0; i < n; i++) o[i] = a[i] != a[i] || a[i] < b[i] ? a[i] : b[i]; break;
  case NN_EQ: for (int64_t i = 0; i < n; i++) o[i] = a[i] == b[i]; break;
  case NN_NE: for (int64_t i = 0; i < n; i++) o[i] = a[i] != b[i]; break;
  case NN_LT: for (int64_t i = 0; i < n; i++) o[i] = a[i] < b[i]; break;
  case NN_LE: for (int64_t i = 0; i < n; i++) o[i] = a[i] <= b[i]; break;
  case NN_GT: for (int64_t i = 0; i < n; i++) o[i] = a[i] > b[i]; break;
  case NN_GE: for (int64_t i = 0; i < n; i++) o[i] = a[i] >= b[i]; break;
  }
}

static float binary_one(enum nn_binop op, float x, float y) {
  switch (op) {
  case NN_ADD: return x + y;
  case NN_SUB: return x - y;
  case NN_MUL: return x * y;
  case NN_DIV: return x / y;
  case NN_POW: return powf(x, y);
  case NN_MAXIMUM: return x != x || x > y ? x : y;
  case NN_MINIMUM: return x != x || x < y ? x : y;
  case NN_EQ: return x == y;
  case NN_NE: return x != y;
  case NN_LT: return x < y;
  case NN_LE: return x <= y;
  case NN_GT: return x > y;
  case NN_GE: return x >= y;
  }
  return 0;
}

/* o[i] = a[i] op s (or s op a[i] when s_left): the scalar forms vectorise too. */
NN_DISPATCH static void binary_scalar_contig(enum nn_binop op, float *o, const float *a, float s, int s_left,
                                 int64_t n) {
  if (s_left) {
    for (int64_t i = 0; i < n; i++) o[i] = binary_one(op, s, a[i]);
    return;
  }
  switch (op) {
  case NN_ADD: for (int64_t i = 0; i < n; i++) o[i] = a[i] + s; break;
  case NN_SUB: for (int64_t i = 0; i < n; i++) o[i] = a[i] - s; break;
  case NN_MUL: for (int64_t i = 0; i < n; i++) o[i] = a[i] * s; break;
  case NN_DIV: for (int64_t i = 0; i < n; i++) o[i] = a[i] / s; break;
  default: for (int64_t i = 0; i < n; i++) o[i] = binary_one(op, a[i], s); break;
  }
}

static void k_binary(const void *arg, float **p, const int64_t *st, int64_t n) {
  enum nn_binop op = *(const enum nn_binop *)arg;
  if (st[0] == 1 && st[1] == 1 && st[2] == 1) binary_contig(op, p[0], p[1], p[2], n);
  else if (st[0] == 1 && st[1] == 1 && st[2] == 0) binary_scalar_contig(op, p[0], p[1], *p[2], 0, n);
  else if (st[0] == 1 && st[1] == 0 && st[2] == 1) binary_scalar_contig(op, p[0], p[2], *p[1], 1, n);
  else
    for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = binary_one(op, p[1][i * st[1]], p[2][i * st[2]]);
}

struct scalar_arg { enum nn_binop op; float s; int s_left; };

static void k_binary_scalar(const void *arg, float **p, const int64_t *st, int64_t n) {
  const struct scalar_arg *a = arg;
  if (st[0] == 1 && st[1] == 1) binary_scalar_contig(a->op, p[0], p[1], a->s, a->s_left, n);
  else if (a->s_left)
    for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = binary_one(a->op, a->s, p[1][i * st[1]]);
  else
    for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = binary_one(a->op, p[1][i * st[1]], a->s);
}

static const char *binop_name(enum nn_binop op) {
  static const char *names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                "eq", "ne", "lt", "le", "gt", "ge"};
  return names[op];
}

/* Runs a 3-operand kernel with out, a, b all viewed at out's shape. */
static int run3(nn_ctx *ctx, nn_tensor *out, const nn_tensor *a, const nn_tensor *b,
                kernel k, const void *arg) {
  nn_tensor *ea = nn_tensor_expand(ctx, a, out->ndim, out->shape);
  nn_tensor *eb = ea ? nn_tensor_expand(ctx, b, out->ndim, out->shape) : NULL;
  if (eb) {
    nn_iter it;
    nn_iter_init(&it, 3, (nn_tensor *[]){out, ea, eb});
    run(&it, k, arg);
  }
  nn_tensor_free(ea);
  nn_tensor_free(eb);
  return eb ? 0 : NN_EARG;
}

static int run2(nn_ctx *ctx, nn_tensor *out, const nn_tensor *a, kernel k, const void *arg) {
  nn_tensor *ea = nn_tensor_expand(ctx, a, out->ndim, out->shape);
  if (!ea) return NN_EARG;
  nn_iter it;
  nn_iter_init(&it, 2, (nn_tensor *[]){out, ea});
  run(&it, k, arg);
  nn_tensor_free(ea);
  return 0;
}

nn_tensor *nn_binary(nn_ctx *ctx, enum nn_binop op, const nn_tensor *a, const nn_tensor *b) {
  int nd;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(ctx, binop_name(op), a, b, &nd, shape)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, nd, shape);
  if (out && run3(ctx, out, a, b, k_binary, &op)) {
    nn_tensor_free(out);
    return NULL;
  }
  return out;
}

/* pow with a few exponents done exactly the way PyTorch does them */
static int pow_special(nn_ctx *ctx, nn_tensor *out, const nn_tensor *a, float s) {
  struct scalar_arg sq = {NN_MUL, 0, 0};
  if (s == 1.0f) return nn_copy_(ctx, out, a);
  if (s == 2.0f) return run3(ctx, out, a, a, k_binary, &sq.op);
  if (s == 0.5f) {
    if (nn_copy_(ctx, out, a)) return NN_EARG;
    float *d = nn_tensor_data(out);
    for (int64_t i = 0, n = nn_tensor_numel(out); i < n; i++) d[i] = sqrtf(d[i]);
    return 0;
  }
  return 1;
}

nn_tensor *nn_binary_scalar(nn_ctx *ctx, enum nn_binop op, const nn_tensor *a, float s, int s_left) {
  nn_tensor *out = nn_tensor_empty(ctx, a->ndim, a->shape);
  if (!out) return NULL;
  int rc = 1;
  if (op == NN_POW && !s_left) rc = pow_special(ctx, out, a, s);
  if (rc == 1) {
    struct scalar_arg arg = {op, s, s_left};
    rc = run2(ctx, out, a, k_binary_scalar, &arg);
  }
  if (rc) {
    nn_tensor_free(out);
    return NULL;
  }
  return out;
}

/* When b shares a's storage, b is copied first so that no element is read after it was written. */
static nn_tensor *unaliased(nn_ctx *ctx, const nn_tensor *dst, const nn_tensor *src) {
  if (dst->s != src->s) return nn_tensor_retain((nn_tensor *)src);
  return nn_tensor_clone(ctx, src);
}

/* An expanded tensor has elements that share memory: writing them in place
 * would add into one spot several times, so it is refused (as PyTorch does). */
static int check_writable(nn_ctx *ctx, const char *fn, const nn_tensor *a) {
  for (int d = 0; d < a->ndim; d++)
    if (a->stride[d] == 0 && a->shape[d] > 1)
      return nn_seterr(ctx, NN_EARG, "%s: several elements of this tensor share memory (it comes "
                       "from expand); clone() it before changing it in place", fn);
  return 0;
}

static int check_inplace_shape(nn_ctx *ctx, const char *fn, const nn_tensor *a, const nn_tensor *b) {
  if (check_writable(ctx, fn, a)) return NN_EARG;
  int nd;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(ctx, fn, a, b, &nd, shape)) return NN_EARG;
  int same = nd == a->ndim;
  for (int i = 0; same && i < nd; i++) same = shape[i] == a->shape[i];
  if (!same) {
    char s1[128], s2[128];
    return nn_seterr(ctx, NN_EARG, "%s: the result of shape %s does not fit in-place into shape %s",
                     fn, nn_dims_str(nd, shape, s1, 128), nn_shape_str(a, s2, 128));
  }
  return 0;
}

int nn_binary_(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, const nn_tensor *b) {
  char fn[32];
  snprintf(fn, sizeof fn, "%s_", binop_name(op));
  if (check_inplace_shape(ctx, fn, a, b)) return NN_EARG;
  nn_tensor *bb = unaliased(ctx, a, b);
  if (!bb) return NN_ENOMEM;
  int rc = run3(ctx, a, a, bb, k_binary, &op);
  nn_tensor_free(bb);
  a->s->version++;
  return rc;
}

int nn_binary_scalar_(nn_ctx *ctx, enum nn_binop op, nn_tensor *a, float s) {
  struct scalar_arg arg = {op, s, 0};
  if (check_writable(ctx, "in-place op", a)) return NN_EARG;
  a->s->version++;
  return run2(ctx, a, a, k_binary_scalar, &arg);
}

static void k_axpy(const void *arg, float **p, const int64_t *st, int64_t n) {
  float alpha = *(const float *)arg;
  if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
    float *restrict o = p[0];
    const float *b = p[2];
    for (int64_t i = 0; i < n; i++) o[i] += alpha * b[i];
  } else {
    for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = p[1][i * st[1]] + alpha * p[2][i * st[2]];
  }
}

int nn_axpy_(nn_ctx *ctx, nn_tensor *a, float alpha, const nn_tensor *b) {
  if (check_inplace_shape(ctx, "add_", a, b)) return NN_EARG;
  nn_tensor *bb = unaliased(ctx, a, b);
  if (!bb) return NN_ENOMEM;
  int rc = run3(ctx, a, a, bb, k_axpy, &alpha);
  nn_tensor_free(bb);
  a->s->version++;
  return rc;
}

/* ---- unary ---- */

static float unary_one(enum nn_unop op, float x) {
  switch (op) {
  case NN_NEG: return -x;
  case NN_EXP: return expf(x);
  case NN_LOG: return logf(x);
  case NN_SQRT: return sqrtf(x);
  case NN_ABS: return fabsf(x);
  case NN_SIGN: return (float)((x > 0) - (x < 0));
  case NN_RELU: return x < 0 ? 0.0f : x;
  case NN_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case NN_TANH: return tanhf(x);
  case NN_SIN: return sinf(x);
  case NN_COS: return cosf(x);
  case NN_TAN: return tanf(x);
  case NN_FLOOR: return floorf(x);
  case NN_ROUND: return nearbyintf(x);     /* the default rounding mode: half to even */
  case NN_TRUNC: return truncf(x);
  }
  return 0;
}

NN_DISPATCH static void unary_contig(enum nn_unop op, float *restrict o, const float *a, int64_t n) {
  switch (op) {
  case NN_NEG: for (int64_t i = 0; i < n; i++) o[i] = -a[i]; break;
  case NN_ABS: for (int64_t i = 0; i < n; i++) o[i] = fabsf(a[i]); break;
  case NN_SQRT: for (int64_t i = 0; i < n; i++) o[i] = sqrtf(a[i]); break;
  case NN_RELU: for (int64_t i = 0; i < n; i++) o[i] = a[i] < 0 ? 0.0f : a[i]; break;
  default: for (int64_t i = 0; i < n; i++) o[i] = unary_one(op, a[i]); break;
  }
}

static void k_unary(const void *arg, float **p, const int64_t *st, int64_t n) {
  enum nn_unop op = *(const enum nn_unop *)arg;
  if (st[0] == 1 && st[1] == 1) unary_contig(op, p[0], p[1], n);
  else for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = unary_one(op, p[1][i * st[1]]);
}

nn_tensor *nn_unary(nn_ctx *ctx, enum nn_unop op, const nn_tensor *a) {
  nn_tensor *out = nn_tensor_empty(ctx, a->ndim, a->shape);
  if (out) run2(ctx, out, a, k_unary, &op);
  return out;
}

struct clamp_arg { float lo, hi; };

static void k_clamp(const void *arg, float **p, const int64_t *st, int64_t n) {
  const struct clamp_arg *c = arg;
  float lo = c->lo, hi = c->hi;
  for (int64_t i = 0; i < n; i++) {
    float v = p[1][i * st[1]];
    v = v < lo ? lo : v;      /* NaN bounds compare false: no bound; NaN values stay NaN */
    p[0][i * st[0]] = v > hi ? hi : v;
  }
}

int nn_clamp_(nn_ctx *ctx, nn_tensor *a, float lo, float hi) {
  struct clamp_arg c = {lo, hi};
  if (check_writable(ctx, "clamp_", a)) return NN_EARG;
  a->s->version++;
  return run2(ctx, a, a, k_clamp, &c);
}

nn_tensor *nn_clamp(nn_ctx *ctx, const nn_tensor *a, float lo, float hi) {
  struct clamp_arg c = {lo, hi};
  nn_tensor *out = nn_tensor_empty(ctx, a->ndim, a->shape);
  if (out) run2(ctx, out, a, k_clamp, &c);
  return out;
}

/* ---- fills and copies ---- */

static void k_fill(const void *arg, float **p, const int64_t *st, int64_t n) {
  float v = *(const float *)arg;
  if (st[0] == 1) for (int64_t i = 0; i < n; i++) p[0][i] = v;
  else for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = v;
}

int nn_fill_(nn_ctx *ctx, nn_tensor *a, float v) {
  (void)ctx;
  nn_iter it;
  nn_iter_init(&it, 1, (nn_tensor *[]){a});
  run(&it, k_fill, &v);
  a->s->version++;
  return 0;
}

static void k_copy(const void *arg, float **p, const int64_t *st, int64_t n) {
  (void)arg;
  if (st[0] == 1 && st[1] == 1) memcpy(p[0], p[1], (size_t)n * sizeof(float));
  else for (int64_t i = 0; i < n; i++) p[0][i * st[0]] = p[1][i * st[1]];
}

int nn_copy_(nn_ctx *ctx, nn_tensor *dst, const nn_tensor *src) {
  if (check_inplace_shape(ctx, "copy_", dst, src)) return NN_EARG;
  nn_tensor *s = unaliased(ctx, dst, src);
  if (!s) return NN_ENOMEM;
  int rc = run2(ctx, dst, s, k_copy, NULL);
  nn_tensor_free(s);
  dst->s->version++;
  return rc;
}

/* The farthest a normal sample gets from the mean, in stds: Box-Muller's
 * radius sqrt(-2 ln u) with u >= 2^-53 is below 8.58. */
#define NN_NORMAL_MAXDEV 8.6

/* Random fills draw in row-major order of the tensor, whatever its strides.
 * A tensor that cannot be written (expanded) is refused before the generator
 * moves. (A contiguous one, written directly, never is expanded.) */
static int random_fill(nn_ctx *ctx, nn_rng *r, nn_tensor *a, float x, float y, int normal) {
  if (check_writable(ctx, normal ? "normal_" : "uniform_", a)) return NN_EARG;
  nn_tensor *tmp = nn_tensor_empty(ctx, a->ndim, a->shape);
  if (!tmp) return NN_ENOMEM;
  size_t n = (size_t)nn_tensor_numel(a);
  if (normal) nn_rng_fill_normal(r, nn_tensor_data(tmp), n, x, y);
  else nn_rng_fill_uniform(r, nn_tensor_data(tmp), n, x, y);
  int rc = nn_copy_(ctx, a, tmp);
  nn_tensor_free(tmp);
  return rc;
}

int nn_uniform_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, float lo, float hi) {
  if (!isfinite(lo) || !isfinite(hi))
    return nn_seterr(ctx, NN_EARG, "uniform_: a and b must be finite, got %g and %g", lo, hi);
  if (!(lo <= hi)) return nn_seterr(ctx, NN_EARG, "uniform_: expected a <= b, got %g and %g", lo, hi);
  if (!isfinite(hi - lo))
    return nn_seterr(ctx, NN_EARG, "uniform_: the range b - a = %g - (%g) overflows float32 "
                     "(largest %g)", hi, lo, FLT_MAX);
  if (nn_tensor_is_contiguous(a)) {
    nn_rng_fill_uniform(r, nn_tensor_data(a), (size_t)nn_tensor_numel(a), lo, hi);
    a->s->version++;
    return 0;
  }
  return random_fill(ctx, r, a, lo, hi, 0);
}

int nn_normal_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, float mean, float std) {
  if (!isfinite(mean) || !isfinite(std))
    return nn_seterr(ctx, NN_EARG, "normal_: mean and std must be finite, got %g and %g", mean, std);
  if (!(std >= 0)) return nn_seterr(ctx, NN_EARG, "normal_: std must be >= 0, got %g", std);
  if (fabs(mean) + NN_NORMAL_MAXDEV * (double)std > FLT_MAX)   /* a sample could be +-inf */
    return nn_seterr(ctx, NN_EARG, "normal_: mean %g and std %g give samples beyond float32's "
                     "largest number %g", mean, std, FLT_MAX);
  if (nn_tensor_is_contiguous(a)) {
    nn_rng_fill_normal(r, nn_tensor_data(a), (size_t)nn_tensor_numel(a), mean, std);
    a->s->version++;
    return 0;
  }
  return random_fill(ctx, r, a, mean, std, 1);
}

/* ---- random whole numbers, logspace ---- */

int nn_randint_(nn_ctx *ctx, nn_rng *r, nn_tensor *a, int64_t low, int64_t high) {
  if (check_writable(ctx, "randint", a)) return NN_EARG;
  const int64_t lim = (int64_t)1 << 24;               /* float32 holds every whole number up to 2^24 */
  if (low < -lim || high > lim + 1 || low >= high)
    return nn_seterr(ctx, NN_EARG, "randint: expected low < high with every value in -2^24..2^24 "
                     "(exact in float32), got low %lld and high %lld", (long long)low, (long long)high);
  nn_tensor *tmp = nn_tensor_empty(ctx, a->ndim, a->shape);
  if (!tmp) return NN_ENOMEM;
  float *p = nn_tensor_data(tmp);
  for (int64_t i = 0, n = nn_tensor_numel(tmp); i < n; i++)
    p[i] = (float)(low + (int64_t)nn_rng_below(r, (uint64_t)(high - low)));
  int rc = nn_copy_(ctx, a, tmp);
  nn_tensor_free(tmp);
  return rc;
}

/* base ^ linspace(start, end, n), each half computed from its own end as PyTorch does */
nn_tensor *nn_logspace(nn_ctx *ctx, double start, double end, int64_t n, double base) {
  if (n < 0) {
    nn_seterr(ctx, NN_EARG, "logspace: steps must be >= 0, got %lld", (long long)n);
    return NULL;
  }
  if (!isfinite(start) || !isfinite(end) || !isfinite(base)) {
    nn_seterr(ctx, NN_EARG, "logspace: start, end and base must be finite, got %g, %g and %g", start, end, base);
    return NULL;
  }
  if (nn_shape_check(ctx, "logspace", 1, &n, NULL, NULL)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, 1, &n);
  if (!out) return NULL;
  float *p = nn_tensor_data(out);
  double step = n > 1 ? (end - start) / (double)(n - 1) : 0.0;
  int64_t half = n / 2;
  for (int64_t i = 0; i < n; i++)
    p[i] = (float)(i < half || n == 1 ? pow(base, start + step * (double)i) : pow(base, end - step * (double)(n - 1 - i)));
  return out;
}

/* ---- where ---- */

static void k_where(const void *arg, float **p, const int64_t *st, int64_t n) {
  (void)arg;                                       /* p: out (holds b), cond, a */
  for (int64_t i = 0; i < n; i++)
    if (p[1][i * st[1]] != 0.0f) p[0][i * st[0]] = p[2][i * st[2]];
}

nn_tensor *nn_where(nn_ctx *ctx, const nn_tensor *cond, const nn_tensor *a, const nn_tensor *b) {
  int nd, nd2;
  int64_t s1[NN_MAXDIM], shape[NN_MAXDIM];
  if (nn_broadcast_shape(ctx, "where", cond, a, &nd, s1)) return NULL;
  nn_tensor ca = {.ndim = nd};                          /* the shape of cond and a together */
  memcpy(ca.shape, s1, sizeof s1);
  if (nn_broadcast_shape(ctx, "where", &ca, b, &nd2, shape)) return NULL;
  nn_tensor *out = nn_tensor_empty(ctx, nd2, shape);
  if (out && (nn_copy_(ctx, out, b) || run3(ctx, out, cond, a, k_where, NULL))) {
    nn_tensor_free(out);
    return NULL;
  }
  return out;
}
