/* gemm.c -- nn_gemm on oneDNN's matmul primitive, with a primitive cache.
 *
 * The only file that includes dnnl.h. One call is one matmul primitive:
 *   src (batch, M, K), weights (batch, K, N), dst (batch, M, N) as memory
 *   descriptors with the caller's strides (transposes cost nothing); an operand
 *   with batch stride 0 gets batch dim 1, which oneDNN broadcasts; batch 1 uses
 *   2-d descriptors. The bias is matmul's bias input (dims 1 x N, or 1 x 1 x N).
 * Post-ops run after the bias, in this order:
 *   [eltwise relu] then [sum, scale 1]
 * so dst = relu(A B + bias) + dst_old, exactly gemm.h's
 * C = A B (+ bias) (ReLU) (+ C if accumulate). (Sum first would put the old C
 * under the ReLU.)
 *
 * Same bits for any thread count. oneDNN's brgemm kernels sum over K in a fixed
 * order when every operand is dense (row-major, or transposed for A and B),
 * with one exception: for a transposed A with K >= 2048 oneDNN 2.6 splits K
 * over the threads (bwd_w_par_k_blk in brgemm_matmul_utils.cpp). Other layouts
 * (narrowed rows, strided batches, transposed C, zero strides) go to its jit
 * sgemm, which splits K by thread count too, or to its slow reference kernel.
 * So such an operand is first packed into a dense scratch buffer (kept in the
 * cache), and such a C is computed there and then copied or added out.
 * tests/c/test_gemm.c checks 1..4 threads on the layouts that broke.
 *
 * Cache: ctx->gemm holds the CPU engine, a stream, the scratch buffer and
 * CACHE_SIZE primitives, each with its dnnl_memory objects made once; a call
 * only swaps data handles. The key is (batch, M, N, K, the nine strides, bias
 * present, flags, the OpenMP thread count it runs with) of the problem as
 * oneDNN gets it (after packing, and after size-1 dims get canonical strides),
 * since oneDNN picks its blocking for the thread count it sees. Lookup scans
 * a compact array of 64-bit key hashes and compares the key on a match; a full
 * cache evicts the least recently used entry. Data handles are reset only when
 * a pointer changed.
 *
 * Small products (work = batch*M*N*K < SERIAL_WORK = 2^19) run oneDNN on the
 * calling thread alone (omp_set_num_threads(1) around the call, restored
 * after). Measured here with 2 threads: 64x256x10 takes 6-8 us, on one thread
 * 2-3 us; the two break even near 2^20 (64x128x128: 10.6 vs 9.6 us).
 * Tiny products (work < TINY_WORK = 512) skip oneDNN: a plain loop with a
 * double accumulator. Measured: the loop takes 0.07 us at 4x4x4, 0.34 us at
 * 8x8x8, 2.4 us at 16x16x16; a cached one-thread oneDNN call 0.35-0.45 us
 * (more for M = N = 1: 5 us at K = 4096, against 3 us for the loop).
 * Both thresholds depend on the shape only, never on the thread count, so
 * neither choice can change any bits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include "gemm.h"

#define CACHE_SIZE 64
#define TINY_WORK 512       /* multiply-adds; below it the plain loop (see the top) */
#define SERIAL_WORK (1 << 19)   /* multiply-adds; below it oneDNN gets one thread */
#define SPLIT_K 2048        /* transposed A from this K on: oneDNN may split K */
#define KEYLEN 16
#define TILE 32             /* packing copies TILE x TILE blocks */

enum { PACK_A = 1, PACK_B = 2, TMP_C = 4 };

enum { MEM_SRC, MEM_WEI, MEM_DST, MEM_BIAS, NMEM };

typedef struct problem {    /* one nn_gemm call, strides canonicalised */
  int64_t batch, M, N, K;
  nn_gemm_operand a, b;
  nn_gemm_out c;
  const float *bias;
  int flags;
} problem;

typedef struct entry {
  int64_t key[KEYLEN];
  uint64_t used;            /* tick of the last use */
  dnnl_primitive_t prim;
  dnnl_memory_t mem[NMEM];  /* mem[MEM_BIAS] is NULL without a bias */
  void *ptr[NMEM];          /* their data handles now */
} entry;

struct nn_gemm_cache {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  float *scratch;           /* packed operands; grows, never shrinks */
  size_t scratch_n;         /* floats */
  uint64_t tick;
  uint64_t hash[CACHE_SIZE];   /* of e[i].key; 0: empty slot (a key never hashes to 0) */
  entry e[CACHE_SIZE];
};

/* ---- errors ---- */

static int shape_str(const problem *p, char *buf, size_t len) {
  if (p->batch == 1)
    return snprintf(buf, len, "[%lld, %lld] x [%lld, %lld]", (long long)p->M,
                    (long long)p->K, (long long)p->K, (long long)p->N);
  return snprintf(buf, len, "[%lld, %lld, %lld] x [%lld, %lld, %lld]",
                  (long long)(p->a.bs ? p->batch : 1), (long long)p->M, (long long)p->K,
                  (long long)(p->b.bs ? p->batch : 1), (long long)p->K, (long long)p->N);
}

/* "gemm: oneDNN matmul [64, 784] x [784, 256] failed in dnnl_primitive_create: status 3 (...)" */
static int backend_fail(nn_ctx *ctx, const problem *p, const char *call, dnnl_status_t st) {
  char shape[160];
  shape_str(p, shape, sizeof shape);
  return nn_seterr(ctx, NN_EBACKEND, "gemm: oneDNN matmul %s failed in %s: status %d (%s)",
                   shape, call, (int)st, dnnl_status2str(st));
}

/* ---- strides ---- */

/* A size-1 dim's stride is arbitrary; give it the value that makes the matrix
 * dense row-major if it can be, so that equal problems get equal keys and
 * oneDNN sees a plain layout. */
static void canon_mat(int64_t rows, int64_t cols, int64_t *rs, int64_t *cs) {
  if (cols == 1) *cs = 1;
  if (rows == 1) *rs = *cs == 1 ? cols : 1;
}

static void canonicalise(problem *p) {
  canon_mat(p->M, p->K, &p->a.rs, &p->a.cs);
  canon_mat(p->K, p->N, &p->b.rs, &p->b.cs);
  canon_mat(p->M, p->N, &p->c.rs, &p->c.cs);
  if (p->batch == 1) p->a.bs = p->b.bs = p->c.bs = 0;
}

static int dim_ok(int64_t n, int64_t stride) { return n == 1 || stride != 0; }

static int check_args(nn_ctx *ctx, const problem *p) {
  if (p->batch < 1 || p->M < 1 || p->N < 1 || p->K < 1)
    return nn_seterr(ctx, NN_EARG, "gemm: sizes must be >= 1 (batch %lld, M %lld, N %lld, K %lld)",
                     (long long)p->batch, (long long)p->M, (long long)p->N, (long long)p->K);
  if (!p->a.p || !p->b.p || !p->c.p)
    return nn_seterr(ctx, NN_EARG, "gemm: NULL operand");
  if (p->flags & ~(NN_GEMM_RELU | NN_GEMM_ACCUMULATE))
    return nn_seterr(ctx, NN_EARG, "gemm: unknown flags %#x", (unsigned)p->flags);
  if (!dim_ok(p->M, p->c.rs) || !dim_ok(p->N, p->c.cs) || !dim_ok(p->batch, p->c.bs))
    return nn_seterr(ctx, NN_EARG, "gemm: output strides (%lld, %lld, %lld) must not be 0",
                     (long long)p->c.bs, (long long)p->c.rs, (long long)p->c.cs);
  return 0;
}

/* ---- the plain loop ---- */

static void tiny_gemm(const problem *p) {
  for (int64_t b = 0; b < p->batch; b++) {
    const float *A = p->a.p + b * p->a.bs, *B = p->b.p + b * p->b.bs;
    float *C = p->c.p + b * p->c.bs;
    for (int64_t i = 0; i < p->M; i++)
      for (int64_t j = 0; j < p->N; j++) {
        double s = 0;
        for (int64_t k = 0; k < p->K; k++)
          s += (double)A[i * p->a.rs + k * p->a.cs] * B[k * p->b.rs + j * p->b.cs];
        float v = (float)s;
        if (p->bias) v += p->bias[j];
        if ((p->flags & NN_GEMM_RELU) && v < 0) v = 0;
        float *out = &C[i * p->c.rs + j * p->c.cs];
        *out = (p->flags & NN_GEMM_ACCUMULATE) ? *out + v : v;
      }
  }
}

/* ---- layouts oneDNN gets ---- */

static int dense_batch(int64_t batch, int64_t bs, int64_t size) {
  return batch == 1 || bs == 0 || bs == size;
}

/* the operands to pack (PACK_A, PACK_B) and whether C goes through scratch (TMP_C) */
static int needs(const problem *p) {
  int64_t M = p->M, N = p->N, K = p->K;
  int a_ok = dense_batch(p->batch, p->a.bs, M * K) &&
             ((p->a.rs == K && p->a.cs == 1) || (p->a.rs == 1 && p->a.cs == M && K < SPLIT_K));
  int b_ok = dense_batch(p->batch, p->b.bs, K * N) &&
             ((p->b.rs == N && p->b.cs == 1) || (p->b.rs == 1 && p->b.cs == K));
  int c_ok = (p->batch == 1 || p->c.bs == M * N) && p->c.rs == N && p->c.cs == 1;
  return (a_ok ? 0 : PACK_A) | (b_ok ? 0 : PACK_B) | (c_ok ? 0 : TMP_C);
}

static size_t round16(int64_t n) { return (size_t)(n + 15) / 16 * 16; }   /* 64-byte steps */

static size_t scratch_need(const problem *p, int need) {
  size_t n = 0;
  if (need & PACK_A) n += round16((p->a.bs ? p->batch : 1) * p->M * p->K);
  if (need & PACK_B) n += round16((p->b.bs ? p->batch : 1) * p->K * p->N);
  if (need & TMP_C) n += round16(p->batch * p->M * p->N);
  return n;
}

/* q = p with the operands in need moved to dense row-major places in scratch */
static void present(const problem *p, int need, float *scratch, problem *q) {
  int64_t M = p->M, N = p->N, K = p->K, nb = p->batch;
  *q = *p;
  if (need & PACK_A) {
    q->a = (nn_gemm_operand){scratch, p->a.bs ? M * K : 0, K, 1};
    scratch += round16((p->a.bs ? nb : 1) * M * K);
  }
  if (need & PACK_B) {
    q->b = (nn_gemm_operand){scratch, p->b.bs ? K * N : 0, N, 1};
    scratch += round16((p->b.bs ? nb : 1) * K * N);
  }
  if (need & TMP_C) {
    q->c = (nn_gemm_out){scratch, nb > 1 ? M * N : 0, N, 1};
    q->flags &= ~NN_GEMM_ACCUMULATE;
  }
}

/* dst (rows, cols) at (drs, dcs) = or += src at (srs, scs), in TILE x TILE blocks */
static void copy_mat(float *dst, int64_t drs, int64_t dcs, const float *src, int64_t srs,
                     int64_t scs, int64_t rows, int64_t cols, int add) {
  for (int64_t i0 = 0; i0 < rows; i0 += TILE)
    for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
      int64_t i1 = i0 + TILE < rows ? i0 + TILE : rows, j1 = j0 + TILE < cols ? j0 + TILE : cols;
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) {
          float v = src[i * srs + j * scs];
          dst[i * drs + j * dcs] = add ? dst[i * drs + j * dcs] + v : v;
        }
    }
}

/* packs the operands of p that q has moved to scratch */
static void pack(const problem *p, const problem *q, int need) {
  int64_t M = p->M, N = p->N, K = p->K;
  for (int64_t b = 0; b < (p->a.bs ? p->batch : 1) && (need & PACK_A); b++)
    copy_mat((float *)q->a.p + b * M * K, K, 1, p->a.p + b * p->a.bs, p->a.rs, p->a.cs, M, K, 0);
  for (int64_t b = 0; b < (p->b.bs ? p->batch : 1) && (need & PACK_B); b++)
    copy_mat((float *)q->b.p + b * K * N, N, 1, p->b.p + b * p->b.bs, p->b.rs, p->b.cs, K, N, 0);
}

/* C = or += the dense result in q's scratch */
static void unpack(const problem *p, const problem *q) {
  int add = p->flags & NN_GEMM_ACCUMULATE;
  for (int64_t b = 0; b < p->batch; b++)
    copy_mat(p->c.p + b * p->c.bs, p->c.rs, p->c.cs, q->c.p + b * p->M * p->N, p->N, 1,
             p->M, p->N, add);
}

/* ---- cache ---- */

static void make_key(const problem *p, int64_t *key, uint64_t *hash) {
  int64_t k[KEYLEN] = {p->batch, p->M, p->N, p->K, p->a.bs, p->a.rs, p->a.cs,
                       p->b.bs, p->b.rs, p->b.cs, p->c.bs, p->c.rs, p->c.cs,
                       p->bias != NULL, p->flags, omp_get_max_threads()};
  uint64_t h = 0;
  for (int i = 0; i < KEYLEN; i++)        /* independent products: no serial chain */
    h += (uint64_t)k[i] * (0x9e3779b97f4a7c15u * (uint64_t)(2 * i + 1));
  h ^= h >> 31;
  memcpy(key, k, sizeof k);
  *hash = h | 1;
}

static void entry_free(entry *e) {
  if (e->prim) dnnl_primitive_destroy(e->prim);
  for (int i = 0; i < NMEM; i++)
    if (e->mem[i]) dnnl_memory_destroy(e->mem[i]);
  memset(e, 0, sizeof *e);
}

/* ctx->gemm_free: nn_ctx_free calls it (ctx.h). NULL is fine. */
static void cache_free(nn_gemm_cache *cache) {
  if (!cache) return;
  for (int i = 0; i < CACHE_SIZE; i++) entry_free(&cache->e[i]);
  free(cache->scratch);
  if (cache->stream) dnnl_stream_destroy(cache->stream);
  if (cache->eng) dnnl_engine_destroy(cache->eng);
  free(cache);
}

static int cache_get(nn_ctx *ctx, const problem *p, nn_gemm_cache **out) {
  if (ctx->gemm) { *out = ctx->gemm; return 0; }
  nn_gemm_cache *cache = calloc(1, sizeof *cache);
  if (!cache) return nn_seterr(ctx, NN_ENOMEM, "gemm: out of memory for the primitive cache");
  dnnl_set_verbose(0);
  dnnl_status_t st = dnnl_engine_create(&cache->eng, dnnl_cpu, 0);
  if (st == dnnl_success)
    st = dnnl_stream_create(&cache->stream, cache->eng, dnnl_stream_default_flags);
  if (st != dnnl_success) {
    cache_free(cache);
    return backend_fail(ctx, p, "dnnl_engine_create/dnnl_stream_create", st);
  }
  *out = ctx->gemm = cache;
  ctx->gemm_free = cache_free;
  return 0;
}

static int scratch_get(nn_ctx *ctx, nn_gemm_cache *cache, size_t n) {
  if (n <= cache->scratch_n) return 0;
  free(cache->scratch);
  cache->scratch = aligned_alloc(64, n * sizeof(float));   /* n is a multiple of 16 */
  cache->scratch_n = cache->scratch ? n : 0;
  if (!cache->scratch)
    return nn_seterr(ctx, NN_ENOMEM, "gemm: out of memory for %zu bytes of packed operands",
                     n * sizeof(float));
  return 0;
}

/* the slot holding key, or -1 */
static int cache_find(const nn_gemm_cache *cache, const int64_t *key, uint64_t hash) {
  for (int i = 0; i < CACHE_SIZE; i++)
    if (cache->hash[i] == hash && memcmp(cache->e[i].key, key, KEYLEN * sizeof *key) == 0)
      return i;
  return -1;
}

/* the slot to fill: an empty one, else the least recently used */
static int cache_victim(const nn_gemm_cache *cache) {
  int v = 0;
  for (int i = 0; i < CACHE_SIZE; i++) {
    if (!cache->hash[i]) return i;
    if (cache->e[i].used < cache->e[v].used) v = i;
  }
  return v;
}

/* ---- primitive creation ---- */

/* rows x cols matrix, batch dim 1 when bs == 0; 2-d when batch == 1 */
static dnnl_status_t mat_md(dnnl_memory_desc_t *md, int64_t batch, int64_t rows, int64_t cols,
                            int64_t bs, int64_t rs, int64_t cs) {
  if (batch == 1) {
    dnnl_dims_t dims = {rows, cols}, strides = {rs, cs};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_f32, strides);
  }
  int64_t span = rs * rows > cs * cols ? rs * rows : cs * cols;
  dnnl_dims_t dims = {bs ? batch : 1, rows, cols}, strides = {bs ? bs : span, rs, cs};
  return dnnl_memory_desc_init_by_strides(md, 3, dims, dnnl_f32, strides);
}

static dnnl_status_t make_mds(const problem *p, dnnl_memory_desc_t md[NMEM]) {
  dnnl_status_t st = mat_md(&md[MEM_SRC], p->batch, p->M, p->K, p->a.bs, p->a.rs, p->a.cs);
  if (st == dnnl_success)
    st = mat_md(&md[MEM_WEI], p->batch, p->K, p->N, p->b.bs, p->b.rs, p->b.cs);
  if (st == dnnl_success)
    st = mat_md(&md[MEM_DST], p->batch, p->M, p->N, p->c.bs, p->c.rs, p->c.cs);
  if (st == dnnl_success && p->bias)
    st = mat_md(&md[MEM_BIAS], p->batch, 1, p->N, 0, p->N, 1);
  return st;
}

/* post-ops: relu, then sum (see the top of the file) */
static dnnl_status_t make_attr(int flags, dnnl_primitive_attr_t *attr) {
  dnnl_post_ops_t po = NULL;
  dnnl_status_t st = dnnl_primitive_attr_create(attr);
  if (st == dnnl_success) st = dnnl_post_ops_create(&po);
  if (st == dnnl_success && (flags & NN_GEMM_RELU))
    st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
  if (st == dnnl_success && (flags & NN_GEMM_ACCUMULATE))
    st = dnnl_post_ops_append_sum(po, 1.0f);
  if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, po);
  if (po) dnnl_post_ops_destroy(po);
  return st;
}

static dnnl_status_t make_prim(dnnl_engine_t eng, const problem *p, const dnnl_memory_desc_t *md,
                               dnnl_primitive_t *prim, const char **call) {
  dnnl_matmul_desc_t desc;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t st;
  *call = "dnnl_matmul_desc_init";
  st = dnnl_matmul_desc_init(&desc, &md[MEM_SRC], &md[MEM_WEI],
                             p->bias ? &md[MEM_BIAS] : NULL, &md[MEM_DST]);
  if (st == dnnl_success) {
    *call = "dnnl_primitive_attr_set_post_ops";
    st = make_attr(p->flags, &attr);
  }
  if (st == dnnl_success) {
    *call = "dnnl_primitive_desc_create";
    st = dnnl_primitive_desc_create(&pd, &desc, attr, eng, NULL);
  }
  if (st == dnnl_success) {
    *call = "dnnl_primitive_create";
    st = dnnl_primitive_create(prim, pd);
  }
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return st;
}

static int entry_make(nn_ctx *ctx, nn_gemm_cache *cache, const problem *p, entry *e) {
  dnnl_memory_desc_t md[NMEM];
  const char *call = "dnnl_memory_desc_init_by_strides";
  dnnl_status_t st = make_mds(p, md);
  if (st == dnnl_success) st = make_prim(cache->eng, p, md, &e->prim, &call);
  for (int i = 0; i < NMEM && st == dnnl_success; i++) {
    if (i == MEM_BIAS && !p->bias) break;
    call = "dnnl_memory_create";
    st = dnnl_memory_create(&e->mem[i], &md[i], cache->eng, DNNL_MEMORY_NONE);
  }
  if (st != dnnl_success) {
    entry_free(e);
    return backend_fail(ctx, p, call, st);
  }
  return 0;
}

/* ---- execution ---- */

static int entry_run(nn_ctx *ctx, nn_gemm_cache *cache, entry *e, const problem *p) {
  void *ptr[NMEM] = {(void *)p->a.p, (void *)p->b.p, p->c.p, (void *)p->bias};
  int arg[NMEM] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_BIAS};
  dnnl_exec_arg_t args[NMEM];
  int nargs = p->bias ? NMEM : NMEM - 1;
  dnnl_status_t st = dnnl_success;
  for (int i = 0; i < nargs && st == dnnl_success; i++) {
    if (e->ptr[i] != ptr[i]) {
      st = dnnl_memory_set_data_handle(e->mem[i], ptr[i]);
      e->ptr[i] = st == dnnl_success ? ptr[i] : NULL;
    }
    args[i].arg = arg[i];
    args[i].memory = e->mem[i];
  }
  if (st != dnnl_success) return backend_fail(ctx, p, "dnnl_memory_set_data_handle", st);
  st = dnnl_primitive_execute(e->prim, cache->stream, nargs, args);
  if (st == dnnl_success) st = dnnl_stream_wait(cache->stream);
  if (st != dnnl_success) return backend_fail(ctx, p, "dnnl_primitive_execute", st);
  return 0;
}

static int cached_run(nn_ctx *ctx, nn_gemm_cache *cache, const problem *p) {
  int64_t key[KEYLEN];
  uint64_t hash;
  make_key(p, key, &hash);
  int i = cache_find(cache, key, hash);
  if (i < 0) {
    i = cache_victim(cache);
    entry_free(&cache->e[i]);
    cache->hash[i] = 0;
    int rc = entry_make(ctx, cache, p, &cache->e[i]);
    if (rc) return rc;
    memcpy(cache->e[i].key, key, sizeof key);
    cache->hash[i] = hash;
  }
  cache->e[i].used = ++cache->tick;
  return entry_run(ctx, cache, &cache->e[i], p);
}

static int onednn_gemm(nn_ctx *ctx, const problem *p) {
  nn_gemm_cache *cache = NULL;
  problem q;
  int need = needs(p), rc = cache_get(ctx, p, &cache);
  if (!rc && need) rc = scratch_get(ctx, cache, scratch_need(p, need));
  if (rc) return rc;
  present(p, need, cache->scratch, &q);
  pack(p, &q, need);
  nn_threads_poll();
  int nt = omp_get_max_threads();
  int serial = nt > 1 && (double)p->batch * p->M * p->N * p->K < SERIAL_WORK;
  if (serial) omp_set_num_threads(1);
  rc = cached_run(ctx, cache, &q);
  if (serial) omp_set_num_threads(nt);
  if (!rc && (need & TMP_C)) unpack(p, &q);
  return rc;
}

int nn_gemm(nn_ctx *ctx, int64_t batch, int64_t M, int64_t N, int64_t K,
            nn_gemm_operand a, nn_gemm_operand b, nn_gemm_out c,
            const float *bias, int flags) {
  problem p = {batch, M, N, K, a, b, c, bias, flags};
  int rc = check_args(ctx, &p);
  if (rc) return rc;
  canonicalise(&p);
  if ((double)batch * M * N * K < TINY_WORK) {
    tiny_gemm(&p);
    return 0;
  }
  return onednn_gemm(ctx, &p);
}

const char *nn_gemm_version(void) {
  static char buf[64];
  if (!buf[0]) {
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
  }
  return buf;
}
