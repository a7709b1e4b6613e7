/* shape_one.h -- one input of the shape-arithmetic fuzzer, shared by
 * fuzz_shape.c (libFuzzer) and tests/c/test_tensor.c (which replays the
 * committed seeds, tests/fuzz/corpus/shape, in make test).
 *
 * An input is a small program. Byte 0 and the next ones give a base tensor
 * (up to 4 dims of 0..4); then each op is an opcode, a destination slot, one
 * or two source slots of a pool of 4 tensors, and its arguments: dims
 * (-2..8), counts of dims (0..9) and sizes, which are small (-1..10), one of
 * the edge values of SPECIAL (2^62 + 1, INT64_MAX, NN_MAXNUMEL + 1, ...) or 8
 * raw bytes. The ops are the core's view/reshape/narrow/expand/permute/
 * transpose/squeeze/unsqueeze/select/flatten, cat/stack, index_select,
 * matmul, broadcasting add, contiguous, sum, empty and view_of.
 *
 * What it checks, with its own 128-bit arithmetic: every tensor an op accepts
 * has sizes >= 0, at most NN_MAXNUMEL elements and every element offset
 * inside its storage (and small ones are read in full, for ASan); narrow,
 * expand, empty and view_of are accepted exactly when the arithmetic says
 * they should be; view keeps the element count; a refusal leaves a message.
 * Ops whose result would need more than BUDGET elements of new memory but is
 * within the limit are skipped (the point is the arithmetic, not malloc).
 * SHAPE_FAIL() reports a broken check: a trap in the fuzzer. */
#ifndef NN_SHAPE_ONE_H
#define NN_SHAPE_ONE_H

#include <stdint.h>
#include <string.h>
#include "nn/ops.h"

#ifndef SHAPE_FAIL
#define SHAPE_FAIL() __builtin_trap()
#endif

#define SHAPE_POOL 4
#define SHAPE_BUDGET ((int64_t)1 << 16)
#define SHAPE_MAXOPS 64

typedef __int128 i128;

typedef struct { const uint8_t *p; size_t n; } shape_in;

static unsigned shape_u8(shape_in *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static const int64_t SHAPE_SPECIAL[] = {
  0, 1, 2, 3, 4, 7, 16, 64, (int64_t)1 << 19, ((int64_t)1 << 19) + 1, (int64_t)1 << 20,
  ((int64_t)1 << 31) - 1, (int64_t)1 << 31, (int64_t)1 << 32, ((int64_t)1 << 32) + 2,
  NN_MAXNUMEL / 2 + 1, NN_MAXNUMEL - 1, NN_MAXNUMEL, NN_MAXNUMEL + 1, (int64_t)1 << 40,
  (int64_t)1 << 62, ((int64_t)1 << 62) + 1, INT64_MAX, INT64_MIN, INT64_MIN + 1, -2,
  -((int64_t)1 << 40), 291028859863088071, 543804029693342783, 4348471222203600969,
};
#define SHAPE_NSPECIAL (int)(sizeof SHAPE_SPECIAL / sizeof SHAPE_SPECIAL[0])

static int64_t shape_size(shape_in *in) {
  unsigned k = shape_u8(in);
  if (k < 0xC0) return (int64_t)(k % 12) - 1;
  if (k < 0xFF) return SHAPE_SPECIAL[(k - 0xC0) % SHAPE_NSPECIAL];
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)shape_u8(in) << (8 * i);
  int64_t r;
  memcpy(&r, &v, sizeof r);
  return r;
}

static int shape_dim(shape_in *in) { return (int)(shape_u8(in) % 11) - 2; }
static int shape_count(shape_in *in) { return (int)(shape_u8(in) % 10); }

static int shape_sizes(shape_in *in, int64_t *s) {
  int nd = shape_count(in);
  for (int i = 0; i < nd; i++) s[i] = shape_size(in);
  return nd;
}

/* a * b for a, b >= 0, saturated at 2^80 (past any limit, and no overflow) */
static i128 shape_mul(i128 a, int64_t b) {
  const i128 cap = (i128)1 << 80;
  if (a == 0 || b == 0) return 0;
  return a > cap / b ? cap : a * b;
}

/* the element count of a shape (saturated at 2^80), or -1 if a size is negative */
static i128 shape_numel128(int nd, const int64_t *s) {
  i128 n = 1;
  for (int i = 0; i < nd; i++) {
    if (s[i] < 0) return -1;
    n = shape_mul(n, s[i]);
  }
  return n;
}

/* what nn_shape_check accepts: 0..8 dims, sizes >= 0, product of max(size, 1) <= NN_MAXNUMEL */
static int shape_valid(int nd, const int64_t *s) {
  if (nd < 0 || nd > NN_MAXDIM) return 0;
  i128 span = 1;
  for (int i = 0; i < nd; i++) {
    if (s[i] < 0) return 0;
    span *= s[i] ? s[i] : 1;
    if (span > NN_MAXNUMEL) return 0;
  }
  return 1;
}

/* Every element of t inside its storage, sizes and count in range; small ones are read. */
static void shape_check_tensor(const nn_tensor *t) {
  if (t->rc < 1 || t->ndim < 0 || t->ndim > NN_MAXDIM || t->s->rc < 1) SHAPE_FAIL();
  i128 n = 1, last = (i128)t->off;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] < 0 || t->stride[i] < 0 || t->stride[i] > NN_MAXNUMEL) SHAPE_FAIL();
    n = shape_mul(n, t->shape[i]);
    if (t->shape[i] > 0) last += (i128)(t->shape[i] - 1) * t->stride[i];
  }
  if (n > NN_MAXNUMEL || n != nn_tensor_numel(t) || t->off > t->s->n) SHAPE_FAIL();
  if (n == 0) return;
  if (last >= (i128)t->s->n) SHAPE_FAIL();
  if (n > SHAPE_BUDGET) return;
  int64_t idx[NN_MAXDIM] = {0};
  float sum = 0;
  for (int64_t e = 0; e < (int64_t)n; e++) {
    sum += nn_tensor_get(t, idx);
    for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
  }
  volatile float sink = sum;
  (void)sink;
}

static void shape_result(nn_ctx *ctx, nn_tensor **pool, int dst, nn_tensor *r) {
  if (!r) {
    if (!ctx->err[0]) SHAPE_FAIL();
    return;
  }
  shape_check_tensor(r);
  nn_tensor_free(pool[dst]);
  pool[dst] = r;
}

/* result must be accepted exactly when want says so */
static void shape_expect(nn_ctx *ctx, nn_tensor **pool, int dst, nn_tensor *r, int want) {
  if (!!r != !!want) SHAPE_FAIL();
  shape_result(ctx, pool, dst, r);
}

static int shape_small(const nn_tensor *t) { return nn_tensor_numel(t) <= SHAPE_BUDGET; }

/* would infer_shape accept this shape for a tensor of n elements? */
static int shape_reshape_ok(int64_t n, int nd, const int64_t *s) {
  if (nd > NN_MAXDIM) return 0;
  int infer = -1;
  int64_t out[NN_MAXDIM];
  i128 known = 1;
  for (int i = 0; i < nd; i++) {
    out[i] = s[i];
    if (s[i] == -1 && infer < 0) infer = i;
    else if (s[i] < 0) return 0;
    else known = shape_mul(known, s[i]);
  }
  if (infer >= 0) {
    if (known == 0 || n % known) return 0;
    out[infer] = (int64_t)(n / known);
  } else if (known != n) {
    return 0;
  }
  return shape_valid(nd, out);
}

static void shape_op_expand(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *t, shape_in *in) {
  int64_t s[10], ns[NN_MAXDIM];
  int nd = shape_sizes(in, s), want = nd >= t->ndim && nd <= NN_MAXDIM, lead = nd - t->ndim;
  for (int i = 0; want && i < nd; i++) {
    int64_t have = i < lead ? 1 : t->shape[i - lead];
    ns[i] = s[i] == -1 && i >= lead ? have : s[i];
    want = ns[i] >= 0 && (have == 1 || have == ns[i]);
  }
  want = want && shape_valid(nd, ns);
  shape_expect(ctx, pool, dst, nn_tensor_expand(ctx, t, nd, s), want);
}

static void shape_op_narrow(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *t, shape_in *in) {
  int d = shape_dim(in);
  int64_t start = shape_size(in), len = shape_size(in);
  int want = d >= 0 && d < t->ndim && start >= 0 && len >= 0 &&
             (i128)start + len <= (d >= 0 && d < t->ndim ? t->shape[d] : 0);
  shape_expect(ctx, pool, dst, nn_tensor_narrow(ctx, t, d, start, len), want);
}

static void shape_op_empty(nn_ctx *ctx, nn_tensor **pool, int dst, shape_in *in) {
  int64_t s[10];
  int nd = shape_sizes(in, s), valid = shape_valid(nd, s);
  if (valid && shape_numel128(nd, s) > SHAPE_BUDGET) return;
  shape_expect(ctx, pool, dst, nn_tensor_empty(ctx, nd, s), valid);
}

/* a view of t's storage with arbitrary sizes, strides and offset */
static void shape_op_view_of(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *t, shape_in *in) {
  int64_t s[10], st[10];
  int nd = shape_sizes(in, s);
  for (int i = 0; i < nd; i++) st[i] = shape_size(in);
  int64_t off64 = shape_size(in);
  size_t off = (size_t)off64;
  if (nd > NN_MAXDIM) return;
  int want = shape_valid(nd, s) && off <= (size_t)NN_MAXNUMEL;
  i128 last = (i128)off;
  for (int i = 0; want && i < nd; i++) {
    want = st[i] >= 0 && st[i] <= NN_MAXNUMEL;
    if (want && s[i] > 0) last += (i128)(s[i] - 1) * st[i];
  }
  if (want && shape_numel128(nd, s) > 0) want = last < (i128)t->s->n;
  shape_expect(ctx, pool, dst, nn_tensor_view_of(ctx, t, nd, s, st, off), want);
}

static void shape_op_cat(nn_ctx *ctx, nn_tensor **pool, int dst, shape_in *in, int stack) {
  int n = 1 + (int)(shape_u8(in) % 4), d = shape_dim(in);
  nn_tensor *ts[4];
  i128 total = 0;
  for (int k = 0; k < n; k++) {
    ts[k] = pool[shape_u8(in) % SHAPE_POOL];
    total += nn_tensor_numel(ts[k]);
  }
  /* the result holds every input's elements; nothing is made before the shapes are checked */
  if (total > SHAPE_BUDGET) {
    int64_t sum = 0, t0 = ts[0]->ndim;
    int over = !stack && d >= 0 && d < t0;
    for (int k = 0; over && k < n; k++) {
      over = ts[k]->ndim == t0;
      for (int i = 0; over && i < t0; i++) over = i == d || ts[k]->shape[i] == ts[0]->shape[i];
      sum += ts[k]->shape[d];
    }
    if (!over) return;
    int64_t s[NN_MAXDIM];
    memcpy(s, ts[0]->shape, sizeof s);
    s[d] = sum;
    if (shape_valid((int)t0, s)) return;       /* only the refusal of a too large result is cheap */
  }
  nn_tensor *r = stack ? nn_tensor_stack(ctx, ts, n, d) : nn_tensor_cat(ctx, ts, n, d);
  shape_result(ctx, pool, dst, r);
}

static void shape_op_index_select(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *t, shape_in *in) {
  int d = shape_dim(in), n = (int)(shape_u8(in) % 6);
  float v[6];
  for (int i = 0; i < n; i++) {
    int64_t x = shape_size(in);
    v[i] = (float)x;
  }
  if (shape_u8(in) & 1) v[0] = 0.0f / 0.0f;
  nn_tensor *idx = nn_tensor_empty(ctx, 1, (int64_t[]){n});
  if (!idx) SHAPE_FAIL();
  memcpy(nn_tensor_data(idx), v, (size_t)n * sizeof(float));
  if (d >= 0 && d < t->ndim) {
    int64_t s[NN_MAXDIM];
    memcpy(s, t->shape, sizeof s);
    s[d] = n;
    if (shape_valid(t->ndim, s) && shape_numel128(t->ndim, s) > SHAPE_BUDGET) {
      nn_tensor_free(idx);
      return;
    }
  }
  shape_result(ctx, pool, dst, nn_index_select(ctx, t, d, idx));
  nn_tensor_free(idx);
}

/* matmul's result shape by torch.matmul's rules, or 0 if they refuse it */
static int shape_matmul_out(const nn_tensor *a, const nn_tensor *b, int64_t *out, int *nd) {
  if (a->ndim == 0 || b->ndim == 0) return 0;
  int64_t K1 = a->shape[a->ndim - 1], K2 = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  if (K1 != K2) return 0;
  int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0, n = na > nb ? na : nb;
  int k = 0;
  for (int i = 0; i < n; i++) {
    int ia = i - (n - na), ib = i - (n - nb);
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1) return 0;
    out[k++] = da == 1 ? db : da;
  }
  if (k + (a->ndim > 1) + (b->ndim > 1) > NN_MAXDIM) return 0;
  if (a->ndim > 1) out[k++] = a->shape[a->ndim - 2];
  if (b->ndim > 1) out[k++] = b->shape[b->ndim - 1];
  *nd = k;
  return shape_valid(k, out);
}

static void shape_op_matmul(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *a,
                            const nn_tensor *b) {
  int64_t out[NN_MAXDIM];
  int nd = 0, ok = shape_matmul_out(a, b, out, &nd);
  /* an accepted product may copy its operands and makes its result: keep them small */
  if (ok && (!shape_small(a) || !shape_small(b) || shape_numel128(nd, out) > SHAPE_BUDGET ||
             (i128)nn_tensor_numel(a) * (nn_tensor_numel(b) + 1) > 64 * SHAPE_BUDGET))
    return;
  nn_tensor *r = nn_matmul(ctx, a, b);
  if (!ok && r) SHAPE_FAIL();
  shape_result(ctx, pool, dst, r);
}

static void shape_op_add(nn_ctx *ctx, nn_tensor **pool, int dst, const nn_tensor *a, const nn_tensor *b) {
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim, ok = 1;
  int64_t s[NN_MAXDIM];
  for (int i = 0; i < nd; i++) {
    int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
    int64_t x = ia >= 0 ? a->shape[ia] : 1, y = ib >= 0 ? b->shape[ib] : 1;
    if (x != y && x != 1 && y != 1) ok = 0;
    s[i] = x == 1 ? y : x;
  }
  ok = ok && shape_valid(nd, s);
  if (ok && shape_numel128(nd, s) > SHAPE_BUDGET) return;
  shape_expect(ctx, pool, dst, nn_binary(ctx, NN_ADD, a, b), ok);
}

static void shape_op(nn_ctx *ctx, nn_tensor **pool, shape_in *in) {
  unsigned op = shape_u8(in) % 19;
  int dst = (int)(shape_u8(in) % SHAPE_POOL);
  nn_tensor *t = pool[shape_u8(in) % SHAPE_POOL];
  int64_t s[10];
  int nd, d;
  ctx->err[0] = '\0';
  switch (op) {
  case 0: case 1: {                                   /* view, reshape */
    nd = shape_sizes(in, s);
    int ok = shape_reshape_ok(nn_tensor_numel(t), nd, s);
    nn_tensor *r;
    if (op == 0 || (ok && !shape_small(t))) r = nn_tensor_view(ctx, t, nd, s);
    else r = nn_tensor_reshape(ctx, t, nd, s);
    if (r && (!ok || nn_tensor_numel(r) != nn_tensor_numel(t))) SHAPE_FAIL();
    if (!r && ok && op == 1 && shape_small(t)) SHAPE_FAIL();   /* reshape can always copy */
    shape_result(ctx, pool, dst, r);
    break;
  }
  case 2: shape_op_narrow(ctx, pool, dst, t, in); break;
  case 3: shape_op_expand(ctx, pool, dst, t, in); break;
  case 4: {                                           /* permute */
    int perm[NN_MAXDIM];
    for (int i = 0; i < t->ndim; i++) perm[i] = shape_dim(in);
    shape_result(ctx, pool, dst, nn_tensor_permute(ctx, t, perm));
    break;
  }
  case 5: d = shape_dim(in); shape_result(ctx, pool, dst, nn_tensor_transpose(ctx, t, d, shape_dim(in))); break;
  case 6: shape_result(ctx, pool, dst, nn_tensor_squeeze(ctx, t, shape_dim(in))); break;
  case 7: shape_result(ctx, pool, dst, nn_tensor_unsqueeze(ctx, t, shape_dim(in))); break;
  case 8: d = shape_dim(in); shape_result(ctx, pool, dst, nn_tensor_select(ctx, t, d, shape_size(in))); break;
  case 9:                                             /* flatten: may copy */
    d = shape_dim(in);
    if (shape_small(t)) shape_result(ctx, pool, dst, nn_tensor_flatten(ctx, t, d, shape_dim(in)));
    break;
  case 10: shape_op_cat(ctx, pool, dst, in, 0); break;
  case 11: shape_op_cat(ctx, pool, dst, in, 1); break;
  case 12: shape_op_index_select(ctx, pool, dst, t, in); break;
  case 13: shape_op_matmul(ctx, pool, dst, t, pool[shape_u8(in) % SHAPE_POOL]); break;
  case 14: shape_op_add(ctx, pool, dst, t, pool[shape_u8(in) % SHAPE_POOL]); break;
  case 15:                                            /* contiguous copy */
    if (shape_small(t)) shape_result(ctx, pool, dst, nn_tensor_contiguous(ctx, t));
    break;
  case 16: {                                          /* sum over a dim, or all */
    d = shape_dim(in);
    i128 out = 1;                                     /* over an empty dim: the others */
    for (int i = 0; i < t->ndim; i++) out = i == d ? out : shape_mul(out, t->shape[i]);
    if (shape_small(t) && out <= SHAPE_BUDGET)
      shape_result(ctx, pool, dst, nn_reduce(ctx, NN_SUM, t, d, d & 1, 0));
    break;
  }
  case 17: shape_op_empty(ctx, pool, dst, in); break;
  case 18: shape_op_view_of(ctx, pool, dst, t, in); break;
  }
}

/* Runs one input; returns 0 (broken checks call SHAPE_FAIL). */
static int shape_one(nn_ctx *ctx, const uint8_t *data, size_t size) {
  shape_in in = {data, size};
  nn_tensor *pool[SHAPE_POOL];
  int64_t s[NN_MAXDIM];
  int nd = (int)(shape_u8(&in) % 5);
  for (int i = 0; i < nd; i++) s[i] = shape_u8(&in) % 5;
  pool[0] = nn_tensor_arange(ctx, 1, 1 + (double)shape_numel128(nd, s), 1);
  nn_tensor *v = pool[0] ? nn_tensor_view(ctx, pool[0], nd, s) : NULL;
  if (!v) SHAPE_FAIL();
  nn_tensor_free(pool[0]);
  pool[0] = v;
  pool[1] = nn_tensor_full(ctx, 1, (int64_t[]){1}, 1.0f);
  pool[2] = nn_tensor_arange(ctx, 1, 7, 1);
  pool[3] = nn_tensor_full(ctx, 0, NULL, 5.0f);
  for (int k = 1; k < SHAPE_POOL; k++)
    if (!pool[k]) SHAPE_FAIL();
  for (int k = 0; k < SHAPE_MAXOPS && in.n; k++) shape_op(ctx, pool, &in);
  for (int k = 0; k < SHAPE_POOL; k++) nn_tensor_free(pool[k]);
  return 0;
}

#endif
