/* test_tensor.c -- the tensor core from C alone: lifetime, views, broadcasting,
 * reductions, random numbers and error reporting through nn_ctx. */
#include <dirent.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/ops.h"
#include "nn/rng.h"

/* the shape fuzzer's one input (tests/fuzz/shape_one.h); a broken check jumps back here */
static jmp_buf shape_jmp;
#define SHAPE_FAIL() longjmp(shape_jmp, __LINE__)
#include "tests/fuzz/shape_one.h"

static nn_tensor *from(nn_ctx *ctx, int ndim, const int64_t *shape, const float *v) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  memcpy(nn_tensor_data(t), v, (size_t)nn_tensor_numel(t) * sizeof(float));
  return t;
}

TEST(tensor_views_share_storage) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = nn_tensor_zeros(ctx, 2, (int64_t[]){2, 3});
  nn_tensor *t = nn_tensor_transpose(ctx, a, 0, 1);
  CHECK(t->s == a->s && a->s->rc == 2);
  CHECK(!nn_tensor_is_contiguous(t) && nn_tensor_is_contiguous(a));
  nn_tensor_data(t)[1 * t->stride[0] + 0 * t->stride[1]] = 5;   /* t[2][1] is a[1][2] */
  CHECK(nn_tensor_data(a)[1] == 5);
  nn_tensor_free(a);                     /* the view keeps the storage alive */
  CHECK(t->s->rc == 1 && nn_tensor_data(t)[t->stride[0]] == 5);
  nn_tensor_free(t);
  nn_ctx_free(ctx);
}

TEST(tensor_view_rules) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = nn_tensor_zeros(ctx, 2, (int64_t[]){4, 6});
  nn_tensor *v = nn_tensor_view(ctx, a, 3, (int64_t[]){2, -1, 3});
  CHECK(v && v->shape[1] == 4 && v->stride[0] == 12 && v->stride[1] == 3);
  nn_tensor *n = nn_tensor_narrow(ctx, a, 1, 1, 3);            /* columns: strided */
  CHECK(nn_tensor_view(ctx, n, 1, (int64_t[]){12}) == NULL);
  CHECK(strstr(ctx->err, "use reshape") != NULL);
  nn_tensor *r = nn_tensor_reshape(ctx, n, 1, (int64_t[]){12});
  CHECK(r && r->s != a->s);                                     /* a copy */
  nn_tensor *rows = nn_tensor_narrow(ctx, a, 0, 1, 2);
  nn_tensor *rv = nn_tensor_view(ctx, rows, 1, (int64_t[]){12});
  CHECK(rv && rv->s == a->s && rv->off == 6);
  nn_tensor_free(v); nn_tensor_free(n); nn_tensor_free(r); nn_tensor_free(rows); nn_tensor_free(rv);
  nn_tensor_free(a);
  nn_ctx_free(ctx);
}

TEST(tensor_broadcast_add) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = from(ctx, 2, (int64_t[]){2, 1}, (float[]){1, 2});
  nn_tensor *b = from(ctx, 1, (int64_t[]){3}, (float[]){10, 20, 30});
  nn_tensor *c = nn_binary(ctx, NN_ADD, a, b);
  CHECK(c && c->ndim == 2 && c->shape[0] == 2 && c->shape[1] == 3);
  const float want[] = {11, 21, 31, 12, 22, 32};
  CHECK(c && memcmp(nn_tensor_data(c), want, sizeof want) == 0);
  nn_tensor *bad = nn_tensor_zeros(ctx, 1, (int64_t[]){2});
  CHECK(nn_binary(ctx, NN_ADD, c, bad) == NULL);
  CHECK(strcmp(ctx->err, "add: shapes [2, 3] and [2] cannot be broadcast (dim 2: 3 vs 2)") == 0);
  nn_tensor_free(a); nn_tensor_free(b); nn_tensor_free(c); nn_tensor_free(bad);
  nn_ctx_free(ctx);
}

TEST(tensor_large_elementwise_parallel_path) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t n = 1 << 20;
  nn_tensor *a = nn_tensor_full(ctx, 1, &n, 1.5f);
  nn_tensor *b = nn_tensor_full(ctx, 1, &n, 2.0f);
  nn_tensor *c = nn_binary(ctx, NN_MUL, a, b);
  int ok = 1;
  for (int64_t i = 0; i < n; i++) ok &= nn_tensor_data(c)[i] == 3.0f;
  CHECK(ok);
  CHECK_NEAR(nn_sum_all(ctx, c), 3.0 * (double)n, 0);
  nn_tensor_free(a); nn_tensor_free(b); nn_tensor_free(c);
  nn_ctx_free(ctx);
}

TEST(tensor_reductions) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = from(ctx, 2, (int64_t[]){2, 3}, (float[]){1, 7, 3, 9, 2, 9});
  nn_tensor *s = nn_reduce(ctx, NN_SUM, a, 0, 0, 0);
  CHECK(s->ndim == 1 && nn_tensor_data(s)[0] == 10 && nn_tensor_data(s)[2] == 12);
  nn_tensor *v, *ix;
  CHECK(nn_reduce_arg(ctx, NN_MAX, a, 1, 1, &v, &ix) == 0);
  CHECK(v->ndim == 2 && v->shape[1] == 1);
  CHECK(nn_tensor_data(v)[1] == 9 && nn_tensor_data(ix)[1] == 1);   /* first occurrence, 1-based */
  nn_tensor *var = nn_reduce(ctx, NN_VAR, a, -1, 0, 1);
  CHECK(var->ndim == 0);
  CHECK_NEAR(nn_tensor_data(var)[0], 389.0 / 30.0, 1e-5);   /* sum of squares 64.83 over 5 */
  CHECK(nn_reduce(ctx, NN_SUM, a, 2, 0, 0) == NULL && strstr(ctx->err, "dim 3 out of range"));
  nn_tensor_free(a); nn_tensor_free(s); nn_tensor_free(v); nn_tensor_free(ix); nn_tensor_free(var);
  nn_ctx_free(ctx);
}

TEST(rng_is_pinned) {
  /* xoshiro256** from splitmix64(42): pins the algorithm so streams never change silently */
  nn_rng r;
  nn_rng_seed(&r, 42);
  uint64_t first = nn_rng_next(&r);
  nn_rng_seed(&r, 42);
  CHECK(nn_rng_next(&r) == first);
  nn_rng r2;
  nn_rng_seed(&r2, 43);
  CHECK(nn_rng_next(&r2) != first);
  /* splitmix64 of 0 starts with 0xe220a8397b1dcdaf (published reference value) */
  uint64_t x = 0, z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  CHECK((z ^ (z >> 31)) == 0xe220a8397b1dcdafULL);
  nn_rng_seed(&r, 0);
  CHECK(r.s[0] == 0xe220a8397b1dcdafULL);
  int below_ok = 1;
  for (int i = 0; i < 10000; i++) below_ok &= nn_rng_below(&r, 7) < 7;
  CHECK(below_ok);
  float p[10];
  nn_rng_randperm(&r, p, 10);
  float sum = 0;
  for (int i = 0; i < 10; i++) sum += p[i];
  CHECK(sum == 55);
}

TEST(errors_never_crash) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(nn_tensor_empty(ctx, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == NULL);
  CHECK(strstr(ctx->err, "at most 8 dims") != NULL);
  CHECK(nn_tensor_empty(ctx, 1, (int64_t[]){-1}) == NULL);
  CHECK(nn_tensor_empty(ctx, 3, (int64_t[]){1 << 20, 1 << 20, 1 << 20}) == NULL);
  CHECK(strstr(ctx->err, "too large") != NULL);
  nn_tensor *a = nn_tensor_zeros(ctx, 2, (int64_t[]){2, 3});
  CHECK(nn_tensor_select(ctx, a, 0, 2) == NULL && strstr(ctx->err, "index 3 is out of range"));
  CHECK(nn_tensor_transpose(ctx, a, 0, 2) == NULL);
  CHECK(nn_tensor_expand(ctx, a, 2, (int64_t[]){3, 3}) == NULL);
  nn_tensor *b = nn_tensor_zeros(ctx, 2, (int64_t[]){4, 2});
  CHECK(nn_matmul(ctx, a, b) == NULL);
  CHECK(strcmp(ctx->err, "matmul: shapes [2, 3] and [4, 2] do not match (3 vs 4)") == 0);
  nn_tensor_free(a); nn_tensor_free(b);
  nn_ctx_free(ctx);
}

/* ---- size arithmetic at the edges (issue 13: shape arithmetic overflows) ---- */

TEST(size_mul_add_edges) {
  const int64_t M = NN_MAXNUMEL;
  int64_t r = -7;
  CHECK(nn_size_mul(0, INT64_MAX, &r) == 0 && r == 0);
  CHECK(nn_size_mul(INT64_MAX, 0, &r) == 0 && r == 0);
  CHECK(nn_size_mul(1, M, &r) == 0 && r == M);
  CHECK(nn_size_mul((int64_t)1 << 19, (int64_t)1 << 19, &r) == 0 && r == M);
  r = -7;
  CHECK(nn_size_mul(M, 2, &r) == -1 && r == -7);             /* just over: r untouched */
  CHECK(nn_size_mul(M + 1, 1, &r) == -1);
  CHECK(nn_size_mul(((int64_t)1 << 19) + 1, (int64_t)1 << 19, &r) == -1);
  CHECK(nn_size_mul(INT64_MAX, INT64_MAX, &r) == -1);
  CHECK(nn_size_mul(INT64_MAX, 2, &r) == -1);
  CHECK(nn_size_mul((int64_t)1 << 32, (int64_t)1 << 32, &r) == -1);   /* 2^64 wraps to 0 */
  CHECK(nn_size_mul(-1, -1, &r) == -1 && nn_size_mul(-1, 0, &r) == -1);
  CHECK(nn_size_mul(INT64_MIN, -1, &r) == -1);
  CHECK(nn_size_add(M - 1, 1, &r) == 0 && r == M);
  CHECK(nn_size_add(M, 0, &r) == 0 && r == M);
  r = -7;
  CHECK(nn_size_add(M, 1, &r) == -1 && r == -7);
  CHECK(nn_size_add(INT64_MAX, 1, &r) == -1);
  CHECK(nn_size_add(INT64_MAX, INT64_MAX, &r) == -1);
  CHECK(nn_size_add(-1, 2, &r) == -1 && nn_size_add(2, INT64_MIN, &r) == -1);
}

TEST(shape_check_edges) {
  nn_ctx *ctx = nn_ctx_new();
  int64_t n = -1, st[NN_MAXDIM];
  CHECK(nn_shape_check(ctx, "f", 0, NULL, &n, st) == 0 && n == 1);
  CHECK(nn_shape_check(ctx, "f", 3, (int64_t[]){2, 3, 4}, &n, st) == 0 && n == 24);
  CHECK(st[0] == 12 && st[1] == 4 && st[2] == 1);
  CHECK(nn_shape_check(ctx, "f", 3, (int64_t[]){2, 0, 4}, &n, st) == 0 && n == 0);
  CHECK(st[0] == 4 && st[1] == 4 && st[2] == 1);              /* a 0 counts as 1 in strides */
  CHECK(nn_shape_check(ctx, "f", 1, (int64_t[]){NN_MAXNUMEL}, &n, NULL) == 0 && n == NN_MAXNUMEL);
  CHECK(nn_shape_check(ctx, "f", 1, (int64_t[]){NN_MAXNUMEL + 1}, &n, NULL) == NN_EARG);
  CHECK(check_has(ctx->err, "f: shape [274877906945] is too large: a tensor holds at most 274877906944 elements"));
  CHECK(nn_shape_check(ctx, "f", 2, (int64_t[]){INT64_MAX, INT64_MAX}, &n, NULL) == NN_EARG);
  CHECK(check_has(ctx->err, "[9223372036854775807, 9223372036854775807]"));
  /* zero-size dims with huge others: the strides would overflow */
  CHECK(nn_shape_check(ctx, "f", 3, (int64_t[]){0, (int64_t)1 << 40, (int64_t)1 << 40}, &n, st) == NN_EARG);
  CHECK(check_has(ctx->err, "sizes other than 0 must multiply to at most that too"));
  CHECK(nn_shape_check(ctx, "f", 2, (int64_t[]){INT64_MAX, 0}, &n, NULL) == NN_EARG);
  CHECK(nn_shape_check(ctx, "f", 2, (int64_t[]){0, NN_MAXNUMEL}, &n, NULL) == 0 && n == 0);
  CHECK(nn_shape_check(ctx, "f", 2, (int64_t[]){3, -1}, &n, NULL) == NN_EARG);
  CHECK(check_has(ctx->err, "f: size -1 of dim 2 is negative (shape [3, -1])"));
  CHECK(nn_shape_check(ctx, "f", 2, (int64_t[]){0, INT64_MIN}, &n, NULL) == NN_EARG);
  CHECK(nn_shape_check(ctx, "f", 9, (int64_t[9]){0}, &n, NULL) == NN_EARG);
  CHECK(nn_shape_check(ctx, "f", -1, NULL, &n, NULL) == NN_EARG);
  CHECK(nn_shape_check(ctx, NULL, 1, (int64_t[]){-2}, &n, NULL) == NN_EARG);
  CHECK(strncmp(ctx->err, "size -2", 7) == 0);                /* no "fn: " without fn */
  /* 8 dims of the largest int64: the message keeps every digit */
  int64_t big[8];
  for (int i = 0; i < 8; i++) big[i] = INT64_MIN;
  CHECK(nn_shape_check(ctx, "f", 8, big, &n, NULL) == NN_EARG);
  CHECK(check_has(ctx->err, "-9223372036854775808]"));
  nn_ctx_free(ctx);
}

/* Every element of t lies inside its storage (the invariant tensor_on keeps). */
static int inside(const nn_tensor *t) {
  __int128 last = (__int128)t->off, n = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] < 0 || t->stride[i] < 0) return 0;
    n *= t->shape[i];
    if (t->shape[i] > 0) last += (__int128)(t->shape[i] - 1) * t->stride[i];
  }
  return n <= NN_MAXNUMEL && (n == 0 || last < (__int128)t->s->n);
}

TEST(shape_overflows_refused) {
  nn_ctx *ctx = nn_ctx_new();
  const int64_t P62 = (int64_t)1 << 62;
  nn_tensor *a = nn_tensor_zeros(ctx, 1, (int64_t[]){10});
  nn_tensor *one = nn_tensor_full(ctx, 1, (int64_t[]){1}, 1.0f);
  nn_tensor *five = nn_tensor_full(ctx, 0, NULL, 5.0f);
  /* view whose sizes multiply to 1 modulo 2^64 */
  CHECK(nn_tensor_view(ctx, five, 3, (int64_t[]){291028859863088071, 543804029693342783,
                                                   4348471222203600969}) == NULL);
  CHECK(check_has(ctx->err, "view: shape [291028859863088071, 543804029693342783, 4348471222203600969] is invalid"));
  CHECK(nn_tensor_reshape(ctx, five, 2, (int64_t[]){P62, 4}) == NULL);
  CHECK(nn_tensor_view(ctx, five, 2, (int64_t[]){-1, 0}) == NULL);
  /* an empty tensor viewed with huge sizes: the product is 0 but the strides overflow */
  nn_tensor *e = nn_tensor_zeros(ctx, 1, (int64_t[]){0});
  CHECK(nn_tensor_view(ctx, e, 3, (int64_t[]){0, (int64_t)1 << 40, (int64_t)1 << 40}) == NULL);
  CHECK(check_has(ctx->err, "view: shape [0, 1099511627776, 1099511627776] is too large"));
  CHECK(nn_tensor_view(ctx, e, 2, (int64_t[]){INT64_MAX, 0}) == NULL);
  nn_tensor *e2 = nn_tensor_view(ctx, e, 3, (int64_t[]){0, 1 << 19, 1 << 19});
  CHECK(e2 && inside(e2));
  /* narrow: start + length overflows */
  CHECK(nn_tensor_narrow(ctx, a, 0, P62, P62) == NULL);
  CHECK(check_has(ctx->err, "narrow: start 4611686018427387905 and length 4611686018427387904 are out of range for dim 1 of size 10"));
  CHECK(nn_tensor_narrow(ctx, a, 0, INT64_MAX, INT64_MAX) == NULL);
  CHECK(check_has(ctx->err, "start 9223372036854775807"));
  CHECK(nn_tensor_narrow(ctx, a, 0, 3, INT64_MAX) == NULL);
  CHECK(nn_tensor_narrow(ctx, a, 0, 11, 0) == NULL);
  nn_tensor *end = nn_tensor_narrow(ctx, a, 0, 10, 0);           /* empty, at the end */
  CHECK(end && end->shape[0] == 0 && inside(end));
  /* expand: the element count overflows (sum gave 4) */
  CHECK(nn_tensor_expand(ctx, one, 2, (int64_t[]){P62 + 1, 4}) == NULL);
  CHECK(check_has(ctx->err, "expand: shape [4611686018427387905, 4] is too large"));
  CHECK(nn_tensor_expand(ctx, one, 3, (int64_t[]){0, (int64_t)1 << 40, (int64_t)1 << 40}) == NULL);
  nn_tensor *big = nn_tensor_expand(ctx, one, 2, (int64_t[]){(int64_t)1 << 19, (int64_t)1 << 19});
  CHECK(big && nn_tensor_numel(big) == NN_MAXNUMEL && inside(big));
  CHECK(nn_tensor_expand(ctx, one, 2, (int64_t[]){((int64_t)1 << 19) + 1, (int64_t)1 << 19}) == NULL);
  /* broadcasting, matmul and index_select of views that are cheap but huge */
  nn_tensor *col = nn_tensor_expand(ctx, one, 2, (int64_t[]){(int64_t)1 << 20, 1});
  nn_tensor *row = nn_tensor_expand(ctx, one, 2, (int64_t[]){1, (int64_t)1 << 20});
  CHECK(col && row && nn_binary(ctx, NN_ADD, col, row) == NULL);
  CHECK(check_has(ctx->err, "add: shape [1048576, 1048576] is too large"));
  CHECK(nn_matmul(ctx, col, row) == NULL && check_has(ctx->err, "matmul: shape [1048576, 1048576] is too large"));
  nn_tensor *idx = nn_tensor_full(ctx, 1, (int64_t[]){1 << 20}, 1.0f);
  CHECK(nn_index_select(ctx, row, 0, idx) == NULL && check_has(ctx->err, "index_select: shape [1048576, 1048576]"));
  /* cat: sizes add up past the limit */
  nn_tensor *half = nn_tensor_expand(ctx, one, 1, (int64_t[]){NN_MAXNUMEL / 2 + 1});
  CHECK(nn_tensor_cat(ctx, (nn_tensor *[]){half, half}, 2, 0) == NULL);
  CHECK(check_has(ctx->err, "cat: the 2 tensors are too large together"));
  /* unsqueeze of a view whose size * stride is past the limit still gives a valid view */
  nn_tensor *u = nn_tensor_unsqueeze(ctx, big, 0);
  CHECK(u && u->ndim == 3 && inside(u));
  /* view_of refuses a layout outside the storage */
  CHECK(nn_tensor_view_of(ctx, a, 1, (int64_t[]){11}, (int64_t[]){1}, 0) == NULL);
  CHECK(check_has(ctx->err, "view: a view of shape [11] with strides [1] at offset 0 does not fit in its storage of 10 elements"));
  CHECK(nn_tensor_view_of(ctx, a, 1, (int64_t[]){2}, (int64_t[]){9}, 1) == NULL);
  CHECK(nn_tensor_view_of(ctx, a, 1, (int64_t[]){2}, (int64_t[]){-1}, 5) == NULL);
  CHECK(nn_tensor_view_of(ctx, a, 1, (int64_t[]){2}, (int64_t[]){INT64_MAX}, 0) == NULL);
  CHECK(nn_tensor_view_of(ctx, a, 2, (int64_t[]){P62, P62}, (int64_t[]){0, 0}, 0) == NULL);
  nn_tensor *ok = nn_tensor_view_of(ctx, a, 1, (int64_t[]){2}, (int64_t[]){9}, 0);
  CHECK(ok && inside(ok));
  nn_tensor *ts[] = {e2, end, big, u, ok};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) nn_tensor_free(ts[i]);
  nn_tensor *ts2[] = {a, one, five, e, col, row, idx, half};
  for (size_t i = 0; i < sizeof ts2 / sizeof *ts2; i++) nn_tensor_free(ts2[i]);
  nn_ctx_free(ctx);
}

TEST(tensor_empty_huge_zero_dims) {
  /* a safetensors header with shape [0, 2^40, 2^40] reaches this */
  nn_ctx *ctx = nn_ctx_new();
  CHECK(nn_tensor_empty(ctx, 3, (int64_t[]){0, (int64_t)1 << 40, (int64_t)1 << 40}) == NULL);
  CHECK(check_has(ctx->err, "shape [0, 1099511627776, 1099511627776] is too large"));
  nn_tensor *t = nn_tensor_empty(ctx, 3, (int64_t[]){0, 1 << 19, 1 << 19});
  CHECK(t && nn_tensor_numel(t) == 0 && t->stride[0] == NN_MAXNUMEL && inside(t));
  nn_tensor *f = t ? nn_tensor_flatten(ctx, t, 0, 2) : NULL;
  CHECK(f && f->ndim == 1 && f->shape[0] == 0);
  nn_tensor *c = t ? nn_tensor_clone(ctx, t) : NULL;
  CHECK(c && nn_tensor_numel(c) == 0);
  nn_tensor_free(t); nn_tensor_free(f); nn_tensor_free(c);
  nn_ctx_free(ctx);
}

TEST(random_fill_bounds) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = nn_tensor_zeros(ctx, 1, (int64_t[]){4});
  CHECK(nn_uniform_(ctx, &ctx->rng, a, -INFINITY, INFINITY) == NN_EARG);
  CHECK(check_has(ctx->err, "uniform_: a and b must be finite, got -inf and inf"));
  CHECK(nn_uniform_(ctx, &ctx->rng, a, NAN, 1) == NN_EARG);
  CHECK(nn_uniform_(ctx, &ctx->rng, a, -3e38f, 3e38f) == NN_EARG);
  CHECK(check_has(ctx->err, "overflows float32"));
  CHECK(nn_uniform_(ctx, &ctx->rng, a, -1e38f, 1e38f) == 0);
  int finite = 1;
  for (int i = 0; i < 4; i++) finite &= isfinite(nn_tensor_data(a)[i]);
  CHECK(finite);
  CHECK(nn_normal_(ctx, &ctx->rng, a, 0, INFINITY) == NN_EARG);
  CHECK(nn_normal_(ctx, &ctx->rng, a, -INFINITY, 1) == NN_EARG);
  CHECK(nn_normal_(ctx, &ctx->rng, a, 0, 1e38f) == NN_EARG);
  CHECK(check_has(ctx->err, "beyond float32"));
  CHECK(nn_normal_(ctx, &ctx->rng, a, 0, 1e37f) == 0);
  nn_tensor_free(a);
  nn_ctx_free(ctx);
}

TEST(var_correction_divisor) {
  /* PyTorch divides by max(0, n - correction): past n the variance is inf, never negative */
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = from(ctx, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  nn_tensor *v5 = nn_reduce(ctx, NN_VAR, a, -1, 0, 5);
  nn_tensor *v0 = nn_reduce(ctx, NN_VAR, a, 0, 0, 0);
  nn_tensor *vm = nn_reduce(ctx, NN_VAR, a, -1, 0, -1);
  CHECK(v5 && isinf(nn_tensor_data(v5)[0]) && nn_tensor_data(v5)[0] > 0);
  CHECK(v0 && fabsf(nn_tensor_data(v0)[0] - 2.0f / 3) < 1e-6);
  CHECK(vm && fabsf(nn_tensor_data(vm)[0] - 0.5f) < 1e-6);
  nn_tensor_free(a); nn_tensor_free(v5); nn_tensor_free(v0); nn_tensor_free(vm);
  nn_ctx_free(ctx);
}

/* The committed seeds of the shape fuzzer, through the fuzzer's own checks. */
TEST(shape_fuzz_corpus_replays) {
  const char *dir = "tests/fuzz/corpus/shape";
  DIR *dp = opendir(dir);
  CHECK(dp != NULL);
  if (!dp) return;
  struct dirent *e;
  int files = 0;
  while ((e = readdir(dp))) {
    if (e->d_name[0] == '.') continue;
    char path[512];
    static uint8_t buf[1 << 16];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t n = check_read_file(path, buf, sizeof buf);
    CHECK(n > 0);
    nn_ctx *ctx = nn_ctx_new();
    int (*volatile run)(nn_ctx *, const uint8_t *, size_t) = shape_one;  /* not inlined past setjmp */
    volatile int line = setjmp(shape_jmp);
    if (line == 0) run(ctx, buf, n);
    else fprintf(stderr, "  %s: check at shape_one.h:%d broken\n", path, line);
    CHECK(line == 0);
    nn_ctx_free(ctx);
    files++;
  }
  closedir(dp);
  CHECK(files >= 9);
}

TEST(tensor_sort_norm_cumsum_where_diag) {
  nn_ctx *ctx = nn_ctx_new();
  nn_tensor *a = from(ctx, 1, (int64_t[]){5}, (float[]){2, 1, 2, 1, 2}), *v, *ix;
  CHECK(nn_sort(ctx, a, 0, 1, -1, &v, &ix) == 0);           /* descending, stable */
  const float want_ix[] = {1, 3, 5, 2, 4};
  for (int i = 0; i < 5; i++) CHECK(nn_tensor_data(ix)[i] == want_ix[i]);
  NN_FREE(v, ix);
  CHECK(nn_sort(ctx, a, 0, 0, 6, &v, &ix) == NN_EARG && strstr(ctx->err, "topk: k = 6"));
  nn_tensor *one = nn_tensor_zeros(ctx, 1, (int64_t[]){1});
  nn_tensor *wide = nn_tensor_expand(ctx, one, 1, (int64_t[]){((int64_t)1 << 24) + 1});
  CHECK(nn_sort(ctx, wide, 0, 0, -1, &v, &ix) == NN_EARG && strstr(ctx->err, "above 2^24") && !v && !ix);
  nn_tensor *m = from(ctx, 2, (int64_t[]){2, 2}, (float[]){3, -4, 0, 0});
  nn_tensor *n2 = nn_norm(ctx, m, 2, -1, 0), *n1 = nn_norm(ctx, m, 1, 1, 0), *ni = nn_norm(ctx, m, INFINITY, 0, 1);
  CHECK(n2->ndim == 0 && nn_tensor_data(n2)[0] == 5);
  CHECK(nn_tensor_data(n1)[0] == 7 && nn_tensor_data(n1)[1] == 0);
  CHECK(ni->ndim == 2 && nn_tensor_data(ni)[0] == 3 && nn_tensor_data(ni)[1] == 4);
  CHECK(!nn_norm(ctx, m, 3, -1, 0) && strstr(ctx->err, "norm: p must be 1, 2 or inf"));
  nn_tensor *c = nn_cumsum(ctx, m, 1, 0), *cr = nn_cumsum(ctx, m, 1, 1);
  CHECK(nn_tensor_data(c)[1] == -1 && nn_tensor_data(cr)[0] == -1 && nn_tensor_data(cr)[1] == -4);
  nn_tensor *cond = from(ctx, 1, (int64_t[]){2}, (float[]){1, 0}), *zero = nn_tensor_zeros(ctx, 0, NULL);
  nn_tensor *w = nn_where(ctx, cond, m, zero);
  CHECK(nn_tensor_data(w)[0] == 3 && nn_tensor_data(w)[1] == 0 && nn_tensor_data(w)[2] == 0);
  nn_tensor *d = nn_diag(ctx, m, 0), *dd = nn_diag(ctx, d, -1), *t = nn_tril(ctx, m, -1, 0);
  CHECK(d->shape[0] == 2 && nn_tensor_data(d)[0] == 3 && dd->shape[0] == 3 && nn_tensor_data(dd)[3] == 3);
  CHECK(nn_tensor_data(t)[0] == 0 && nn_tensor_data(t)[2] == 0 && nn_tensor_data(t)[1] == 0);
  CHECK(!nn_diag(ctx, d, NN_MAXNUMEL) && strstr(ctx->err, "diag: a diagonal of 2 elements"));
  CHECK(nn_randint_(ctx, &ctx->rng, a, 3, 3) == NN_EARG && strstr(ctx->err, "randint: expected low < high"));
  CHECK(!nn_logspace(ctx, 0, 1, -1, 10) && strstr(ctx->err, "logspace: steps must be >= 0"));
  NN_FREE(a, one, wide, m, n2, n1, ni, c, cr, cond, zero, w, d, dd, t);
  nn_ctx_free(ctx);
}
