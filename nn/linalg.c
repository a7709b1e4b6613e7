/* linalg.c -- matmul with torch.matmul's rules on top of the one GEMM entry point. */
#include <string.h>
#include "ops.h"
#include "gemm.h"

typedef struct mat {        /* an operand seen as [batch..., rows, cols] */
  const nn_tensor *t;
  int nb;                   /* batch dims */
  int64_t bshape[NN_MAXDIM], bstride[NN_MAXDIM];
  int64_t rows, cols, rs, cs;
} mat;

/* 1-d a is a row [1, K]; 1-d b is a column [K, 1]. A size-1 dim with stride 0
 * gets stride 1 (its stride addresses nothing); a longer dim keeps its stride,
 * 0 included, so that needs_copy sees an expanded operand. */
static void as_mat(const nn_tensor *t, int is_b, mat *m) {
  m->t = t;
  if (t->ndim == 1) {
    m->nb = 0;
    int64_t n = t->shape[0], s = t->stride[0];
    m->rows = is_b ? n : 1;
    m->cols = is_b ? 1 : n;
    m->rs = is_b ? s : s * n;             /* at most twice the storage: no overflow */
    m->cs = is_b ? s * n : s;
  } else {
    m->nb = t->ndim - 2;
    for (int i = 0; i < m->nb; i++) {
      m->bshape[i] = t->shape[i];
      m->bstride[i] = t->stride[i];
    }
    m->rows = t->shape[t->ndim - 2];
    m->cols = t->shape[t->ndim - 1];
    m->rs = t->stride[t->ndim - 2];
    m->cs = t->stride[t->ndim - 1];
  }
  if (m->rows <= 1 && m->rs == 0) m->rs = 1;
  if (m->cols <= 1 && m->cs == 0) m->cs = 1;
}

/* oneDNN wants a unit stride in one of the two matrix dims and no zero strides */
static int needs_copy(const mat *m) {
  int64_t rs = m->rows > 1 ? m->rs : 1, cs = m->cols > 1 ? m->cs : 1;
  return rs == 0 || cs == 0 || (rs != 1 && cs != 1);
}

static int shapes_error(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const char *why,
                        int64_t x, int64_t y) {
  char s1[128], s2[128];
  return nn_seterr(ctx, NN_EARG, "matmul: shapes %s and %s %s (%lld vs %lld)",
                   nn_shape_str(a, s1, 128), nn_shape_str(b, s2, 128), why, (long long)x, (long long)y);
}

/* broadcast batch dims of A and B; fills out shape and per-operand batch strides */
static int batch_broadcast(nn_ctx *ctx, const mat *A, const mat *B, int *nb, int64_t *shape,
                           int64_t *sa, int64_t *sb) {
  int n = A->nb > B->nb ? A->nb : B->nb;
  for (int i = 0; i < n; i++) {
    int ia = i - (n - A->nb), ib = i - (n - B->nb);
    int64_t da = ia >= 0 ? A->bshape[ia] : 1, db = ib >= 0 ? B->bshape[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return shapes_error(ctx, A->t, B->t, "have batch dims that cannot be broadcast", da, db);
    shape[i] = da == 1 ? db : da;
    sa[i] = da == 1 ? 0 : A->bstride[ia];
    sb[i] = db == 1 ? 0 : B->bstride[ib];
  }
  *nb = n;
  return 0;
}

/* The result's shape [batch..., M, N] (M or N left out for a 1-d operand). */
static int out_shape(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, int nb,
                     const int64_t *bshape, int64_t M, int64_t N, int64_t *shape, int *ndim) {
  int nd = 0;
  if (nb + (a->ndim > 1) + (b->ndim > 1) > NN_MAXDIM)
    return nn_seterr(ctx, NN_EARG, "matmul: result would have more than %d dims", NN_MAXDIM);
  for (int i = 0; i < nb; i++) shape[nd++] = bshape[i];
  if (a->ndim > 1) shape[nd++] = M;
  if (b->ndim > 1) shape[nd++] = N;
  *ndim = nd;
  return nn_shape_check(ctx, "matmul", nd, shape, NULL, NULL);
}

static nn_tensor *alloc_out(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, int nb,
                            const int64_t *bshape, int64_t M, int64_t N) {
  int64_t shape[NN_MAXDIM];
  int nd;
  if (out_shape(ctx, a, b, nb, bshape, M, N, shape, &nd)) return NULL;
  return nn_tensor_zeros(ctx, nd, shape);
}

/* Checks that a and b can be multiplied and the result made, before any copy. */
static int check_shapes(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b) {
  mat A, B;
  int nb, nd;
  int64_t bshape[NN_MAXDIM], sa[NN_MAXDIM], sb[NN_MAXDIM], shape[NN_MAXDIM];
  as_mat(a, 0, &A);
  as_mat(b, 1, &B);
  if (A.cols != B.rows) return shapes_error(ctx, a, b, "do not match", A.cols, B.rows);
  if (batch_broadcast(ctx, &A, &B, &nb, bshape, sa, sb)) return NN_EARG;
  return out_shape(ctx, a, b, nb, bshape, A.rows, B.cols, shape, &nd);
}

/* Runs the GEMMs over the batch: the batch dims are merged where strides allow,
 * the last merged dim goes to nn_gemm in one call, the rest is looped here. */
static int run_batches(nn_ctx *ctx, const mat *A, const mat *B, float *C, int nb,
                       const int64_t *bshape, const int64_t *sa, const int64_t *sb) {
  int64_t M = A->rows, K = A->cols, N = B->cols, shape[NN_MAXDIM], st[3][NN_MAXDIM];
  int nd = 0;
  int64_t cstride = M * N;
  for (int i = nb - 1; i >= 0; i--) {             /* C's contiguous batch strides, innermost first */
    st[2][i] = cstride;
    cstride *= bshape[i];
  }
  for (int i = 0; i < nb; i++) {                  /* merge dims that are flat in all three */
    if (bshape[i] == 1) continue;
    if (nd > 0 && st[0][nd - 1] == sa[i] * bshape[i] && st[1][nd - 1] == sb[i] * bshape[i] &&
        st[2][nd - 1] == st[2][i] * bshape[i]) {
      shape[nd - 1] *= bshape[i];
      st[0][nd - 1] = sa[i]; st[1][nd - 1] = sb[i]; st[2][nd - 1] = st[2][i];
    } else {
      shape[nd] = bshape[i];
      st[0][nd] = sa[i]; st[1][nd] = sb[i]; st[2][nd] = st[2][i];
      nd++;
    }
  }
  int64_t inner = nd ? shape[nd - 1] : 1, outer = 1;
  for (int i = 0; i < nd - 1; i++) outer *= shape[i];
  const float *pa = nn_tensor_data(A->t), *pb = nn_tensor_data(B->t);
  for (int64_t o = 0; o < outer; o++) {
    int64_t oa = 0, ob = 0, oc = 0, r = o;
    for (int d = nd - 2; d >= 0; d--) {
      int64_t i = r % shape[d];
      r /= shape[d];
      oa += i * st[0][d]; ob += i * st[1][d]; oc += i * st[2][d];
    }
    nn_gemm_operand ga = {pa + oa, nd ? st[0][nd - 1] : 0, A->rs, A->cs};
    nn_gemm_operand gb = {pb + ob, nd ? st[1][nd - 1] : 0, B->rs, B->cs};
    nn_gemm_out gc = {C + oc, nd ? st[2][nd - 1] : 0, N, 1};
    int rc = nn_gemm(ctx, inner, M, N, K, ga, gb, gc, NULL, 0);
    if (rc) return rc;
  }
  return 0;
}

static nn_tensor *matmul_mats(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b) {
  mat A, B;
  int nb = 0;
  int64_t bshape[NN_MAXDIM], sa[NN_MAXDIM], sb[NN_MAXDIM];
  as_mat(a, 0, &A);
  as_mat(b, 1, &B);
  if (A.cols != B.rows) {
    shapes_error(ctx, a, b, "do not match", A.cols, B.rows);
    return NULL;
  }
  if (batch_broadcast(ctx, &A, &B, &nb, bshape, sa, sb)) return NULL;
  nn_tensor *out = alloc_out(ctx, a, b, nb, bshape, A.rows, B.cols);
  if (!out || nn_tensor_numel(out) == 0 || A.cols == 0) return out;
  if (run_batches(ctx, &A, &B, nn_tensor_data(out), nb, bshape, sa, sb)) {
    nn_tensor_free(out);
    return NULL;
  }
  return out;
}

nn_tensor *nn_matmul(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b) {
  if (a->ndim == 0 || b->ndim == 0) {
    char s1[128], s2[128];
    nn_seterr(ctx, NN_EARG, "matmul: both arguments need at least 1 dim, got shapes %s and %s",
              nn_shape_str(a, s1, 128), nn_shape_str(b, s2, 128));
    return NULL;
  }
  if (check_shapes(ctx, a, b)) return NULL;
  mat A, B;
  as_mat(a, 0, &A);
  as_mat(b, 1, &B);
  nn_tensor *ca = needs_copy(&A) ? nn_tensor_clone(ctx, a) : nn_tensor_retain((nn_tensor *)a);
  nn_tensor *cb = needs_copy(&B) ? nn_tensor_clone(ctx, b) : nn_tensor_retain((nn_tensor *)b);
  nn_tensor *out = ca && cb ? matmul_mats(ctx, ca, cb) : NULL;
  nn_tensor_free(ca);
  nn_tensor_free(cb);
  return out;
}
