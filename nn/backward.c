/* backward.c -- the gradient of every recorded op (PyTorch's formulas).
 * g is d(loss)/d(result); each function sets gin[i] for the inputs that
 * require grad. Everything here uses the plain ops, so nothing is recorded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "iter.h"
#include "node.h"


nn_tensor *nn_reduce_to(nn_ctx *ctx, nn_tensor *g, int ndim, const int64_t *shape) {
  nn_tensor *cur = nn_tensor_retain(g);
  int lead = g->ndim - ndim;
  for (int d = 0; cur && d < g->ndim; d++) {
    int64_t want = d < lead ? 1 : shape[d - lead];
    if (want != 1 || cur->shape[d] == 1) continue;
    nn_tensor *s = nn_reduce(ctx, NN_SUM, cur, d, 1, 0);
    nn_tensor_free(cur);
    cur = s;
  }
  if (!cur) return NULL;
  nn_tensor *out = nn_tensor_reshape(ctx, cur, ndim, shape);
  nn_tensor_free(cur);
  return out;
}

/* x op y for tensors or a scalar, as a new tensor; NULL propagates */
static nn_tensor *bin(nn_ctx *ctx, enum nn_binop op, nn_tensor *x, nn_tensor *y) {
  return x && y ? nn_binary(ctx, op, x, y) : NULL;
}
static nn_tensor *bins(nn_ctx *ctx, enum nn_binop op, nn_tensor *x, float s) {
  return x ? nn_binary_scalar(ctx, op, x, s, 0) : NULL;
}

/* gin[i] = g * factor, summed to input i's shape; factor NULL means 1; consumes factor */
static int give(nn_ctx *ctx, nn_node *n, int i, nn_tensor *g, nn_tensor *factor, int has_factor,
                nn_tensor **gin) {
  nn_tensor *full = has_factor ? bin(ctx, NN_MUL, g, factor) : nn_tensor_retain(g);
  nn_tensor_free(factor);
  if (!full) return NN_ENOMEM;
  gin[i] = nn_reduce_to(ctx, full, n->in[i]->ndim, n->in[i]->shape);
  nn_tensor_free(full);
  return gin[i] ? 0 : NN_ENOMEM;
}

static int back_binary(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0], *b = n->in[1];
  int rc = 0;
  switch ((enum nn_binop)n->kind) {
  case NN_ADD:
    if (nn_ag_need(n->in, 0)) rc = give(ctx, n, 0, g, NULL, 0, gin);
    if (!rc && nn_ag_need(n->in, 1)) rc = give(ctx, n, 1, g, NULL, 0, gin);
    return rc;
  case NN_SUB:
    if (nn_ag_need(n->in, 0)) rc = give(ctx, n, 0, g, NULL, 0, gin);
    if (!rc && nn_ag_need(n->in, 1)) rc = give(ctx, n, 1, g, nn_tensor_full(ctx, 0, NULL, -1.0f), 1, gin);
    return rc;
  case NN_MUL:
    if (nn_ag_need(n->in, 0)) rc = give(ctx, n, 0, g, nn_tensor_retain(b), 1, gin);
    if (!rc && nn_ag_need(n->in, 1)) rc = give(ctx, n, 1, g, nn_tensor_retain(a), 1, gin);
    return rc;
  case NN_DIV:
    if (nn_ag_need(n->in, 0)) rc = give(ctx, n, 0, g, nn_binary_scalar(ctx, NN_DIV, b, 1.0f, 1), 1, gin);
    if (!rc && nn_ag_need(n->in, 1)) {              /* -a / b^2 */
      nn_tensor *b2 = bin(ctx, NN_MUL, b, b), *q = bin(ctx, NN_DIV, a, b2);
      rc = give(ctx, n, 1, g, bins(ctx, NN_MUL, q, -1.0f), 1, gin);
      NN_FREE(b2, q);
    }
    return rc;
  case NN_POW:
    if (nn_ag_need(n->in, 0)) {                     /* b a^(b-1) */
      nn_tensor *bm1 = bins(ctx, NN_SUB, b, 1.0f), *p = bin(ctx, NN_POW, a, bm1);
      rc = give(ctx, n, 0, g, bin(ctx, NN_MUL, p, b), 1, gin);
      NN_FREE(bm1, p);
    }
    if (!rc && nn_ag_need(n->in, 1)) {              /* a^b log a, 0 where a == 0 */
      nn_tensor *la = nn_unary(ctx, NN_LOG, a), *f = bin(ctx, NN_MUL, n->out, la);
      nn_tensor *z = bins(ctx, NN_EQ, a, 0.0f), *fm = f && z ? nn_masked_fill(ctx, f, z, 0.0f) : NULL;
      rc = give(ctx, n, 1, g, fm, 1, gin);
      NN_FREE(la, f, z);
    }
    return rc;
  case NN_MAXIMUM:
  case NN_MINIMUM: {                               /* the larger (smaller) one; ties split */
    enum nn_binop wins = n->kind == NN_MAXIMUM ? NN_GT : NN_LT;
    nn_tensor *w = bin(ctx, wins, a, b), *t = bin(ctx, NN_EQ, a, b), *h = bins(ctx, NN_MUL, t, 0.5f);
    nn_tensor *fa = bin(ctx, NN_ADD, w, h), *fb = fa ? nn_binary_scalar(ctx, NN_SUB, fa, 1.0f, 1) : NULL;
    if (nn_ag_need(n->in, 0)) rc = give(ctx, n, 0, g, nn_tensor_retain(fa), 1, gin);
    if (!rc && nn_ag_need(n->in, 1)) rc = give(ctx, n, 1, g, nn_tensor_retain(fb), 1, gin);
    NN_FREE(w, t, h, fa, fb);
    return rc;
  }
  default:
    return nn_seterr(ctx, NN_EARG, "backward: comparisons have no gradient");
  }
}

static nn_tensor *scalar_factor(nn_ctx *ctx, nn_node *n) {
  nn_tensor *a = n->in[0];
  float s = n->s;
  switch ((enum nn_binop)n->kind) {
  case NN_ADD: return nn_tensor_full(ctx, 0, NULL, 1.0f);
  case NN_SUB: return nn_tensor_full(ctx, 0, NULL, n->s_left ? -1.0f : 1.0f);
  case NN_MUL: return nn_tensor_full(ctx, 0, NULL, s);
  case NN_DIV:
    if (!n->s_left) return nn_tensor_full(ctx, 0, NULL, 1.0f / s);
    else {                                         /* s / a -> -s / a^2 */
      nn_tensor *a2 = bin(ctx, NN_MUL, a, a), *f = a2 ? nn_binary_scalar(ctx, NN_DIV, a2, -s, 1) : NULL;
      nn_tensor_free(a2);
      return f;
    }
  case NN_POW:
    if (n->s_left) return bins(ctx, NN_MUL, n->out, logf(s));   /* s^a log s */
    if (s == 0.0f) return nn_tensor_zeros(ctx, a->ndim, a->shape);
    else {                                         /* s a^(s-1) */
      nn_tensor *p = bins(ctx, NN_POW, a, s - 1.0f), *f = bins(ctx, NN_MUL, p, s);
      nn_tensor_free(p);
      return f;
    }
  case NN_MAXIMUM:
  case NN_MINIMUM: {
    nn_tensor *w = bins(ctx, n->kind == NN_MAXIMUM ? NN_GT : NN_LT, a, s);
    nn_tensor *t = bins(ctx, NN_EQ, a, s), *h = bins(ctx, NN_MUL, t, 0.5f), *f = bin(ctx, NN_ADD, w, h);
    NN_FREE(w, t, h);
    return f;
  }
  default:
    nn_seterr(ctx, NN_EARG, "backward: comparisons have no gradient");
    return NULL;
  }
}

static nn_tensor *unary_factor(nn_ctx *ctx, nn_node *n) {
  nn_tensor *a = n->in[0], *y = n->out;
  switch ((enum nn_unop)n->kind) {
  case NN_NEG: return nn_tensor_full(ctx, 0, NULL, -1.0f);
  case NN_EXP: return nn_tensor_retain(y);
  case NN_LOG: return nn_binary_scalar(ctx, NN_DIV, a, 1.0f, 1);
  case NN_SQRT: return nn_binary_scalar(ctx, NN_DIV, y, 0.5f, 1);             /* 1 / (2 sqrt a) */
  case NN_ABS: return nn_unary(ctx, NN_SIGN, a);
  case NN_SIGN:
  case NN_FLOOR:
  case NN_ROUND:
  case NN_TRUNC: return nn_tensor_full(ctx, 0, NULL, 0.0f);       /* steps: 0, as PyTorch */
  case NN_SIN: return nn_unary(ctx, NN_COS, a);
  case NN_COS: {                                                              /* -sin a */
    nn_tensor *s = nn_unary(ctx, NN_SIN, a), *f = bins(ctx, NN_MUL, s, -1.0f);
    nn_tensor_free(s);
    return f;
  }
  case NN_TAN: {                                                              /* 1 + y^2 */
    nn_tensor *y2 = bin(ctx, NN_MUL, y, y), *f = bins(ctx, NN_ADD, y2, 1.0f);
    nn_tensor_free(y2);
    return f;
  }
  case NN_RELU: return bins(ctx, NN_GT, y, 0.0f);
  case NN_SIGMOID: {                                                          /* y (1 - y) */
    nn_tensor *r = nn_binary_scalar(ctx, NN_SUB, y, 1.0f, 1), *f = bin(ctx, NN_MUL, y, r);
    nn_tensor_free(r);
    return f;
  }
  case NN_TANH: {                                                             /* 1 - y^2 */
    nn_tensor *y2 = bin(ctx, NN_MUL, y, y), *f = y2 ? nn_binary_scalar(ctx, NN_SUB, y2, 1.0f, 1) : NULL;
    nn_tensor_free(y2);
    return f;
  }
  }
  return NULL;
}

static nn_tensor *clamp_factor(nn_ctx *ctx, nn_node *n) {      /* 1 where lo <= a <= hi */
  nn_tensor *a = n->in[0];
  nn_tensor *f = nn_tensor_full(ctx, a->ndim, a->shape, 1.0f);
  nn_tensor *lo = f && !isnan(n->lo) ? bins(ctx, NN_GE, a, n->lo) : NULL;
  nn_tensor *hi = f && !isnan(n->hi) ? bins(ctx, NN_LE, a, n->hi) : NULL;
  if (lo) nn_binary_(ctx, NN_MUL, f, lo);
  if (hi) nn_binary_(ctx, NN_MUL, f, hi);
  NN_FREE(lo, hi);
  return f;
}

/* g of a reduced shape, expanded back over the reduced dim (a new contiguous tensor) */
static nn_tensor *spread(nn_ctx *ctx, nn_tensor *g, const nn_tensor *a, int dim, int keepdim) {
  nn_tensor *u = dim >= 0 && !keepdim && a->ndim > 0 ? nn_tensor_unsqueeze(ctx, g, dim) : nn_tensor_retain(g);
  nn_tensor *e = u ? nn_tensor_expand(ctx, u, a->ndim, a->shape) : NULL;
  nn_tensor *c = e ? nn_tensor_clone(ctx, e) : NULL;
  NN_FREE(u, e);
  return c;
}

static int back_reduce(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0];
  int64_t len = n->dim < 0 ? nn_tensor_numel(a) : (a->ndim ? a->shape[n->dim] : 1);
  nn_tensor *gs = spread(ctx, g, a, n->dim, n->keepdim), *f = NULL;
  switch ((enum nn_redop)n->kind) {
  case NN_SUM: f = nn_tensor_full(ctx, 0, NULL, 1.0f); break;
  case NN_MEAN: f = nn_tensor_full(ctx, 0, NULL, 1.0f / (float)len); break;
  case NN_VAR: {                                          /* 2 (a - mean) / (n - correction) */
    nn_tensor *m = nn_reduce(ctx, NN_MEAN, a, n->dim, 1, 0);
    nn_tensor *d = bin(ctx, NN_SUB, a, m);                /* m broadcasts, 0-d included */
    f = bins(ctx, NN_MUL, d, 2.0f / (float)(len - n->correction));
    NN_FREE(m, d);
    break;
  }
  case NN_MAX:
  case NN_MIN: {                                          /* spread over the elements equal to it */
    nn_tensor *eq = bins(ctx, NN_EQ, a, nn_tensor_data(n->out)[0]);
    float cnt = eq ? (float)nn_sum_all(ctx, eq) : 1.0f;
    f = bins(ctx, NN_DIV, eq, cnt);
    nn_tensor_free(eq);
    break;
  }
  }
  gin[0] = bin(ctx, NN_MUL, gs, f);
  NN_FREE(gs, f);
  return gin[0] ? 0 : NN_ENOMEM;
}

/* values of max/min along dim: the gradient goes to the chosen index */
static int back_reduce_arg(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0];
  nn_tensor *gi = spread(ctx, g, a, n->dim, n->keepdim), *ix = spread(ctx, n->aux, a, n->dim, n->keepdim);
  nn_tensor *pos = gi && ix ? nn_tensor_empty(ctx, a->ndim, a->shape) : NULL;
  if (pos) {                                       /* pos[..., l, ...] = l + 1 along dim */
    int64_t outer = 1, len = a->shape[n->dim], inner = 1;
    for (int i = 0; i < n->dim; i++) outer *= a->shape[i];
    for (int i = n->dim + 1; i < a->ndim; i++) inner *= a->shape[i];
    float *p = nn_tensor_data(pos);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < inner; j++) p[(o * len + l) * inner + j] = (float)(l + 1);
  }
  nn_tensor *hit = bin(ctx, NN_EQ, pos, ix);
  gin[0] = bin(ctx, NN_MUL, gi, hit);
  NN_FREE(gi, ix, pos, hit);
  return gin[0] ? 0 : NN_ENOMEM;
}

/* The last two dims swapped (a 1-d tensor stays as it is). */
static nn_tensor *mT(nn_ctx *ctx, nn_tensor *t) {
  return t->ndim < 2 ? nn_tensor_retain(t) : nn_tensor_transpose(ctx, t, t->ndim - 2, t->ndim - 1);
}

/* 1-d operands become matrices: a [K] -> [1, K], b [K] -> [K, 1]; g gets the dims back */
static nn_tensor *as_matrix(nn_ctx *ctx, nn_tensor *t, int is_b) {
  if (t->ndim != 1) return nn_tensor_retain(t);
  return nn_tensor_unsqueeze(ctx, t, is_b ? 1 : 0);
}

static int back_matmul(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0], *b = n->in[1];
  nn_tensor *A = as_matrix(ctx, a, 0), *B = as_matrix(ctx, b, 1), *G = nn_tensor_retain(g);
  if (a->ndim == 1 && G) { nn_tensor *u = nn_tensor_unsqueeze(ctx, G, G->ndim - (b->ndim == 1 ? 0 : 1)); nn_tensor_free(G); G = u; }
  if (b->ndim == 1 && G) { nn_tensor *u = nn_tensor_unsqueeze(ctx, G, G->ndim); nn_tensor_free(G); G = u; }
  int rc = A && B && G ? 0 : NN_ENOMEM;
  if (!rc && nn_ag_need(n->in, 0)) {                 /* dA = G B^T */
    nn_tensor *bt = mT(ctx, B), *ga = bt ? nn_matmul(ctx, G, bt) : NULL;
    gin[0] = ga ? nn_reduce_to(ctx, ga, a->ndim, a->shape) : NULL;
    NN_FREE(bt, ga);
    rc = gin[0] ? 0 : NN_ENOMEM;
  }
  if (!rc && nn_ag_need(n->in, 1)) {                 /* dB = A^T G */
    nn_tensor *at = mT(ctx, A), *gb = at ? nn_matmul(ctx, at, G) : NULL;
    nn_tensor *gq = gb && b->ndim == 1 ? nn_tensor_squeeze(ctx, gb, gb->ndim - 1) : NULL;
    gin[1] = gb ? nn_reduce_to(ctx, gq ? gq : gb, b->ndim, b->shape) : NULL;
    NN_FREE(at, gb, gq);
    rc = gin[1] ? 0 : NN_ENOMEM;
  }
  NN_FREE(A, B, G);
  return rc;
}

static int back_softmax(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *y = n->out;
  if (n->kind) {                                    /* log_softmax: g - exp(y) sum(g) */
    nn_tensor *s = nn_reduce(ctx, NN_SUM, g, n->dim, 1, 0), *p = nn_unary(ctx, NN_EXP, y);
    nn_tensor *ps = bin(ctx, NN_MUL, p, s);
    gin[0] = bin(ctx, NN_SUB, g, ps);
    NN_FREE(s, p, ps);
  } else {                                          /* softmax: y (g - sum(g y)) */
    nn_tensor *gy = bin(ctx, NN_MUL, g, y), *s = gy ? nn_reduce(ctx, NN_SUM, gy, n->dim, 1, 0) : NULL;
    nn_tensor *d = bin(ctx, NN_SUB, g, s);
    gin[0] = bin(ctx, NN_MUL, y, d);
    NN_FREE(gy, s, d);
  }
  return gin[0] ? 0 : NN_ENOMEM;
}

/* gz[..., idx[e] - 1 (along dim), ...] += g[e] for every element e of g (idx of g's shape,
 * 1-based, already checked): the gradient of gather, sort and topk */
static int scatter_add(nn_ctx *ctx, nn_tensor *gz, int dim, nn_tensor *idx, nn_tensor *g) {
  nn_tensor *gc = nn_tensor_contiguous(ctx, g), *ix = gc ? nn_tensor_contiguous(ctx, idx) : NULL;
  if (ix) {
    int64_t cnt = nn_tensor_numel(gc), pos[NN_MAXDIM] = {0};
    float *o = nn_tensor_data(gz);
    for (int64_t e = 0; e < cnt; e++) {
      int64_t off = 0;
      for (int d = 0; d < gz->ndim; d++)
        off += (d == dim ? (int64_t)nn_tensor_data(ix)[e] - 1 : pos[d]) * gz->stride[d];
      o[off] += nn_tensor_data(gc)[e];
      for (int d = gz->ndim - 1; d >= 0 && ++pos[d] == gc->shape[d]; d--) pos[d] = 0;
    }
  }
  NN_FREE(gc, ix);
  return ix ? 0 : NN_ENOMEM;
}

/* zeros of a's shape with g added at the positions the op read */
static int back_index(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0], *gz = nn_tensor_zeros(ctx, a->ndim, a->shape);
  nn_tensor *gc = gz ? nn_tensor_contiguous(ctx, g) : NULL, *ix = gc ? nn_tensor_contiguous(ctx, n->aux) : NULL;
  int rc = ix ? 0 : NN_ENOMEM;
  if (!rc && n->op == NN_OP_INDEX_SELECT) {
    for (int64_t k = 0; k < ix->shape[0] && !rc; k++) {
      nn_tensor *dst = nn_tensor_select(ctx, gz, n->dim, (int64_t)nn_tensor_data(ix)[k] - 1);
      nn_tensor *src = dst ? nn_tensor_select(ctx, gc, n->dim, k) : NULL;
      rc = src ? nn_axpy_(ctx, dst, 1.0f, src) : NN_ENOMEM;
      NN_FREE(dst, src);
    }
  } else if (!rc) {                                 /* gather: scatter-add */
    rc = scatter_add(ctx, gz, n->dim, ix, gc);
  }
  NN_FREE(gc, ix);
  if (rc) {
    nn_tensor_free(gz);
    return rc;
  }
  gin[0] = gz;
  return 0;
}

static int back_cat(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  int64_t at = 0;
  for (int i = 0; i < n->nin; i++) {
    int64_t len = n->in[i]->shape[n->dim];
    if (nn_ag_need(n->in, i)) {
      nn_tensor *v = nn_tensor_narrow(ctx, g, n->dim, at, len);
      gin[i] = v ? nn_tensor_clone(ctx, v) : NULL;
      nn_tensor_free(v);
      if (!gin[i]) return NN_ENOMEM;
    }
    at += len;
  }
  return 0;
}

static int back_view(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *a = n->in[0];
  switch (n->op) {
  case NN_OP_RESHAPE: gin[0] = nn_tensor_reshape(ctx, g, a->ndim, a->shape); break;
  case NN_OP_EXPAND: gin[0] = nn_reduce_to(ctx, g, a->ndim, a->shape); break;
  case NN_OP_COPY: gin[0] = nn_tensor_retain(g); break;
  case NN_OP_PERMUTE: {
    int inv[NN_MAXDIM];
    for (int i = 0; i < a->ndim; i++) inv[n->perm[i]] = i;
    gin[0] = nn_tensor_permute(ctx, g, inv);
    break;
  }
  default: {                                        /* narrow, select, step: zeros with g in place */
    nn_tensor *z = nn_tensor_zeros(ctx, a->ndim, a->shape), *part = NULL;
    if (z) part = n->op == NN_OP_NARROW ? nn_tensor_narrow(ctx, z, n->dim, n->start, g->shape[n->dim])
                : n->op == NN_OP_STEP ? nn_tensor_step(ctx, z, n->dim, n->start)
                                      : nn_tensor_select(ctx, z, n->dim, n->start);
    if (!part || nn_copy_(ctx, part, g)) {
      NN_FREE(z, part);
      return NN_ENOMEM;
    }
    nn_tensor_free(part);
    gin[0] = z;
  }
  }
  return gin[0] ? 0 : NN_ENOMEM;
}

/* dx = g * (y > 0) over n elements. The mask is an int made a float (1 or 0),
 * so that GCC keeps the product whole: written y > 0 ? 1.0f : 0.0f, it
 * becomes y > 0 ? g : g * 0, a multiply on one branch only, which it does
 * not vectorise without AVX-512's masked multiply (it may trap). */
NN_DISPATCH static void relu_grad(float *restrict dx, const float *restrict g, const float *restrict y,
                                  int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    int32_t pos = y[i] > 0.0f;
    dx[i] = g[i] * (float)pos;
  }
}

/* ReLU in one pass where y and g are contiguous and of one shape: dx = g * (y > 0),
 * the same product, in the same order, as give() with unary_factor's mask; in
 * blocks of RELU_BLOCK, the threads taking whole blocks when it is large. */
#define RELU_BLOCK 4096
static int back_relu(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *y = n->out;
  if (!nn_tensor_is_contiguous(y) || !nn_tensor_is_contiguous(g) || y->ndim != g->ndim ||
      memcmp(y->shape, g->shape, (size_t)y->ndim * sizeof y->shape[0]) != 0)
    return give(ctx, n, 0, g, unary_factor(ctx, n), 1, gin);
  gin[0] = nn_tensor_empty(ctx, y->ndim, y->shape);
  if (!gin[0]) return NN_ENOMEM;
  const float *yp = nn_tensor_data(y), *gp = nn_tensor_data(g);
  float *dx = nn_tensor_data(gin[0]);
  int64_t count = nn_tensor_numel(y), blocks = (count + RELU_BLOCK - 1) / RELU_BLOCK;
#pragma omp parallel for schedule(static) if (count > NN_PAR_MIN)
  for (int64_t b = 0; b < blocks; b++) {
    int64_t lo = b * RELU_BLOCK, len = count - lo < RELU_BLOCK ? count - lo : RELU_BLOCK;
    relu_grad(dx + lo, gp + lo, yp + lo, len);
  }
  return 0;
}

/* ---- ops recorded with a backward of their own (nn_ag_record) ---- */

/* where: the gradient goes to a where cond holds, to b elsewhere; saved: cond */
static int where_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                          const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)params;
  nn_tensor *zero = nn_tensor_zeros(ctx, 0, NULL);
  int rc = zero ? 0 : NN_ENOMEM;
  for (int i = 0; i < 2 && !rc; i++) {
    if (!nn_ag_need(in, i)) continue;
    nn_tensor *full = i == 0 ? nn_where(ctx, saved[0], g, zero) : nn_where(ctx, saved[0], zero, g);
    gin[i] = full ? nn_reduce_to(ctx, full, in[i]->ndim, in[i]->shape) : NULL;
    nn_tensor_free(full);
    rc = gin[i] ? 0 : NN_ENOMEM;
  }
  nn_tensor_free(zero);
  return rc;
}

nn_tensor *nn_ag_where(nn_ctx *ctx, nn_tensor *cond, nn_tensor *a, nn_tensor *b) {
  return nn_ag_record(ctx, nn_where(ctx, cond, a, b), "WhereBackward0", where_backward,
                      (nn_tensor *[]){a, b}, 2, &cond, 1, NULL, 0);
}

typedef struct { int dim; } cumsum_params;

/* cumsum: each input element feeds every later sum, so its gradient is the sum of g from its place to the end */
static int cumsum_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                           const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)in, (void)saved;
  gin[0] = nn_cumsum(ctx, g, ((const cumsum_params *)params)->dim, 1);
  return gin[0] ? 0 : NN_ENOMEM;
}

nn_tensor *nn_ag_cumsum(nn_ctx *ctx, nn_tensor *a, int dim) {
  cumsum_params p = {dim};
  return nn_ag_record(ctx, nn_cumsum(ctx, a, dim, 0), "CumsumBackward0", cumsum_backward,
                      &a, 1, NULL, 0, &p, sizeof p);
}

typedef struct { double p; int dim, keepdim; } norm_params;

/* norm: p = 1: sign(a); p = 2: a / norm (0 where the norm is 0); inf: sign(a) on the
 * elements where |a| is the norm, shared among ties (PyTorch's formulas). saved: a, the norm */
static int norm_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                         const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)in;
  const norm_params *np = params;
  nn_tensor *a = saved[0], *f = NULL;
  nn_tensor *gs = spread(ctx, g, a, np->dim, np->keepdim), *ys = spread(ctx, saved[1], a, np->dim, np->keepdim);
  if (!gs || !ys) {
  } else if (np->p == 1) {
    f = nn_unary(ctx, NN_SIGN, a);
  } else if (np->p == 2) {
    nn_tensor *q = bin(ctx, NN_DIV, a, ys), *z = bins(ctx, NN_EQ, ys, 0.0f);
    f = q && z ? nn_masked_fill(ctx, q, z, 0.0f) : NULL;
    NN_FREE(q, z);
  } else {
    nn_tensor *abs = nn_unary(ctx, NN_ABS, a), *hit = bin(ctx, NN_EQ, abs, ys), *nan = bin(ctx, NN_NE, abs, abs);
    nn_tensor *mask = bin(ctx, NN_ADD, hit, nan);
    nn_tensor *cnt = mask ? nn_reduce(ctx, NN_SUM, mask, np->dim, 1, 0) : NULL;
    nn_tensor *s = nn_unary(ctx, NN_SIGN, a), *sm = bin(ctx, NN_MUL, s, mask);
    f = bin(ctx, NN_DIV, sm, cnt);
    NN_FREE(abs, hit, nan, mask, cnt, s, sm);
  }
  gin[0] = bin(ctx, NN_MUL, gs, f);
  NN_FREE(gs, ys, f);
  return gin[0] ? 0 : NN_ENOMEM;
}

nn_tensor *nn_ag_norm(nn_ctx *ctx, nn_tensor *a, double p, int dim, int keepdim) {
  nn_tensor *out = nn_norm(ctx, a, p, dim, keepdim);
  if (!out || !nn_ag_wants_grad(ctx, &a, 1)) return out;
  norm_params np = {p, dim, keepdim};
  nn_tensor *y = nn_detach(ctx, out);               /* the result without its node: no cycle */
  if (!y) {
    nn_tensor_free(out);
    return NULL;
  }
  out = nn_ag_record(ctx, out, "LinalgVectorNormBackward0", norm_backward, &a, 1,
                     (nn_tensor *[]){a, y}, 2, &np, sizeof np);
  nn_tensor_free(y);
  return out;
}

typedef struct { int dim; } sort_params;

/* sort, topk: g goes back to the places the values came from; saved: the indices */
static int sort_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                         const void *params, nn_tensor *g, nn_tensor **gin) {
  nn_tensor *gz = nn_tensor_zeros(ctx, in[0]->ndim, in[0]->shape);
  int rc = gz ? scatter_add(ctx, gz, ((const sort_params *)params)->dim, saved[0], g) : NN_ENOMEM;
  if (rc) nn_tensor_free(gz);
  else gin[0] = gz;
  return rc;
}

int nn_ag_sort(nn_ctx *ctx, nn_tensor *a, int dim, int descending, int64_t k,
               nn_tensor **values, nn_tensor **indices) {
  int rc = nn_sort(ctx, a, dim, descending, k, values, indices);
  if (rc || !nn_ag_wants_grad(ctx, &a, 1)) return rc;
  sort_params p = {dim};
  *values = nn_ag_record(ctx, *values, k < 0 ? "SortBackward0" : "TopkBackward0", sort_backward,
                         &a, 1, indices, 1, &p, sizeof p);
  if (*values) return 0;
  nn_tensor_free(*indices);
  *indices = NULL;
  return NN_ENOMEM;
}

typedef struct { int64_t k, rows, cols; int from_matrix; } diag_params;

/* diag of a vector: the gradient is g's diagonal k; diag of a matrix: g put back on diagonal k */
static int diag_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                         const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)in, (void)saved;
  const diag_params *p = params;
  gin[0] = p->from_matrix ? nn_diag_embed(ctx, g, p->rows, p->cols, p->k) : nn_diag(ctx, g, p->k);
  return gin[0] ? 0 : NN_ENOMEM;
}

nn_tensor *nn_ag_diag(nn_ctx *ctx, nn_tensor *a, int64_t k) {
  diag_params p = {k, a->ndim == 2 ? a->shape[0] : 0, a->ndim == 2 ? a->shape[1] : 0, a->ndim == 2};
  return nn_ag_record(ctx, nn_diag(ctx, a, k), "DiagBackward0", diag_backward, &a, 1, NULL, 0, &p, sizeof p);
}

typedef struct { int64_t k; int upper; } tril_params;

/* tril, triu: the same triangle of g */
static int tril_backward(nn_ctx *ctx, nn_tensor *const *in, nn_tensor *const *saved,
                         const void *params, nn_tensor *g, nn_tensor **gin) {
  (void)in, (void)saved;
  const tril_params *p = params;
  gin[0] = nn_tril(ctx, g, p->k, p->upper);
  return gin[0] ? 0 : NN_ENOMEM;
}

nn_tensor *nn_ag_tril(nn_ctx *ctx, nn_tensor *a, int64_t k, int upper) {
  tril_params p = {k, upper};
  return nn_ag_record(ctx, nn_tril(ctx, a, k, upper), upper ? "TriuBackward0" : "TrilBackward0",
                      tril_backward, &a, 1, NULL, 0, &p, sizeof p);
}

int nn_node_backward(nn_ctx *ctx, nn_node *n, nn_tensor *g, nn_tensor **gin) {
  switch (n->op) {
  case NN_OP_BINARY: return back_binary(ctx, n, g, gin);
  case NN_OP_SCALAR: return give(ctx, n, 0, g, scalar_factor(ctx, n), 1, gin);
  case NN_OP_UNARY:
    if (n->kind == NN_RELU) return back_relu(ctx, n, g, gin);
    return give(ctx, n, 0, g, unary_factor(ctx, n), 1, gin);
  case NN_OP_CLAMP: return give(ctx, n, 0, g, clamp_factor(ctx, n), 1, gin);
  case NN_OP_AXPY: {
    int rc = nn_ag_need(n->in, 0) ? give(ctx, n, 0, g, NULL, 0, gin) : 0;
    if (!rc && nn_ag_need(n->in, 1)) rc = give(ctx, n, 1, g, nn_tensor_full(ctx, 0, NULL, n->s), 1, gin);
    return rc;
  }
  case NN_OP_REDUCE: return back_reduce(ctx, n, g, gin);
  case NN_OP_REDUCE_ARG: return back_reduce_arg(ctx, n, g, gin);
  case NN_OP_MATMUL: return back_matmul(ctx, n, g, gin);
  case NN_OP_SOFTMAX: return back_softmax(ctx, n, g, gin);
  case NN_OP_INDEX_SELECT:
  case NN_OP_GATHER: return back_index(ctx, n, g, gin);
  case NN_OP_MASKED_FILL: {
    gin[0] = nn_masked_fill(ctx, g, n->aux, 0.0f);
    return gin[0] ? 0 : NN_ENOMEM;
  }
  case NN_OP_CAT: return back_cat(ctx, n, g, gin);
  case NN_OP_CUSTOM: return n->custom(ctx, n->in, n->saved, n->params.bytes, g, gin);
  default: return back_view(ctx, n, g, gin);
  }
}

const char *nn_node_name(const nn_node *n) {
  static const char *binary[] = {"AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0",
                                 "PowBackward1", "MaximumBackward0", "MinimumBackward0"};
  static const char *scalar[] = {"AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0",
                                 "PowBackward0", "MaximumBackward0", "MinimumBackward0"};
  static const char *unary[] = {"NegBackward0", "ExpBackward0", "LogBackward0", "SqrtBackward0",
                                "AbsBackward0", "SignBackward0", "ReluBackward0",
                                "SigmoidBackward0", "TanhBackward0", "SinBackward0", "CosBackward0",
                                "TanBackward0", "FloorBackward0", "RoundBackward0", "TruncBackward0"};
  static const char *reduce[] = {"SumBackward", "MeanBackward", "MaxBackward", "MinBackward", "VarBackward"};
  switch (n->op) {
  case NN_OP_BINARY: return n->kind < 7 ? binary[n->kind] : "CompareBackward0";
  case NN_OP_SCALAR:                       /* PyTorch's names for x op number and number op x */
    if (n->s_left && n->kind == NN_SUB) return "RsubBackward1";
    if (n->s_left && n->kind == NN_POW) return "PowBackward2";
    return n->kind < 7 ? scalar[n->kind] : "CompareBackward0";
  case NN_OP_AXPY: return n->s < 0 ? "SubBackward0" : "AddBackward0";
  case NN_OP_UNARY: return unary[n->kind];
  case NN_OP_CLAMP: return "ClampBackward1";
  case NN_OP_REDUCE: return n->dim < 0 ? (n->kind == NN_SUM ? "SumBackward0" : n->kind == NN_MEAN ? "MeanBackward0" :
                                          n->kind == NN_VAR ? "VarBackward0" : n->kind == NN_MAX ? "MaxBackward1" : "MinBackward1")
                                       : (n->kind == NN_SUM ? "SumBackward1" : n->kind == NN_MEAN ? "MeanBackward1" : reduce[n->kind]);
  case NN_OP_REDUCE_ARG: return n->kind == NN_MAX ? "MaxBackward0" : "MinBackward0";
  case NN_OP_MATMUL: return "MmBackward0";
  case NN_OP_SOFTMAX: return n->kind ? "LogSoftmaxBackward0" : "SoftmaxBackward0";
  case NN_OP_INDEX_SELECT: return "IndexSelectBackward0";
  case NN_OP_GATHER: return "GatherBackward0";
  case NN_OP_MASKED_FILL: return "MaskedFillBackward0";
  case NN_OP_CAT: return "CatBackward0";
  case NN_OP_RESHAPE: return "ViewBackward0";
  case NN_OP_PERMUTE: return "PermuteBackward0";
  case NN_OP_EXPAND: return "ExpandBackward0";
  case NN_OP_NARROW: return "NarrowBackward0";
  case NN_OP_SELECT: return "SelectBackward0";
  case NN_OP_STEP: return "SliceBackward0";
  case NN_OP_COPY: return "CloneBackward0";
  case NN_OP_CUSTOM: return n->name;
  }
  return "Backward";
}
