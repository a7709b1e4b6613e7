/* test_safetensors.c -- nn_st_save / nn_st_load: round-trips, the other
 * dtypes converted on load, every kind of bad file (truncated at every
 * length, bad header, bad offsets, dtypes, shapes), and the atomic write
 * (a failed save leaves no file and no temporary behind). Files go to a
 * mkdtemp folder that is removed at the end of each test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "nn/io/safetensors.h"

/* ---- helpers ---- */

static char dir[64];

static const char *mkdir_tmp(void) {
  snprintf(dir, sizeof dir, "/tmp/nn_st_XXXXXX");
  return mkdtemp(dir);
}

static int count_files(const char *d) {
  DIR *dp = opendir(d);
  int n = 0;
  struct dirent *e;
  if (!dp) return -1;
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(dp);
  return n;
}

static void rm_tmp(void) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  char p[512];
  if (!dp) return;
  while ((e = readdir(dp))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(dp);
  rmdir(dir);
}

static void put(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(p, 1, n, f);
  fclose(f);
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = malloc((size_t)len + 1);
  *n = p ? fread(p, 1, (size_t)len, f) : 0;
  fclose(f);
  return p;
}

/* A file with JSON header h (no padding) followed by n data bytes (all 0x3f). */
static void put_st(const char *path, const char *h, size_t ndata) {
  size_t hl = strlen(h);
  unsigned char *p = malloc(8 + hl + ndata + 1);
  if (!p) return;
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)((uint64_t)hl >> (8 * i));
  memcpy(p + 8, h, hl);
  memset(p + 8 + hl, 0x3f, ndata);
  put(path, p, 8 + hl + ndata);
  free(p);
}

/* Loads path, expecting failure with an NN_EIO message containing want and the path. */
static int load_fails(nn_ctx *ctx, const char *path, const char *want) {
  ctx->err[0] = '\0';
  nn_st *st = nn_st_load(ctx, path);
  if (st) { nn_st_free(st); fprintf(stderr, "  loaded %s\n", path); return 0; }
  int ok = strstr(ctx->err, path) != NULL && (!want || strstr(ctx->err, want) != NULL);
  if (!ok) fprintf(stderr, "  error '%s' lacks '%s'\n", ctx->err, want ? want : path);
  return ok;
}

static nn_tensor *seq(nn_ctx *ctx, int ndim, const int64_t *shape, float start) {
  nn_tensor *t = nn_tensor_empty(ctx, ndim, shape);
  if (!t) return NULL;
  float *d = nn_tensor_data(t);
  for (int64_t i = 0; i < nn_tensor_numel(t); i++) d[i] = start + 0.5f * (float)i;
  return t;
}

static int same_tensor(const nn_tensor *a, const nn_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; d++) if (a->shape[d] != b->shape[d]) return 0;
  int64_t idx[NN_MAXDIM] = {0}, n = nn_tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {            /* walk both in row-major order */
    if (nn_tensor_get(a, idx) != nn_tensor_get(b, idx)) return 0;
    for (int d = a->ndim - 1; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
  }
  return 1;
}

/* ---- tests ---- */

TEST(st_roundtrip) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(mkdir_tmp() != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  int64_t s23[2] = {2, 3}, s0[1] = {0}, s4[3] = {2, 1, 2};
  nn_tensor *base = seq(ctx, 3, s4, 10);
  nn_tensor *ts[4] = {seq(ctx, 2, s23, 1), seq(ctx, 0, NULL, -3), seq(ctx, 1, s0, 0),
                      nn_tensor_transpose(ctx, base, 0, 2)};   /* non-contiguous (2,1,2) */
  nn_tensor_free(base);
  CHECK(!nn_tensor_is_contiguous(ts[3]));
  const char *names[4] = {"w", "scalar", "empty", "a.b\"q\\"};
  const char *mk[2] = {"format", "k\n"}, *mv[2] = {"pt", "v\"al\\ue"};
  CHECK(nn_st_save(ctx, path, 4, names, ts, 2, mk, mv) == 0);
  CHECK(count_files(dir) == 1);
  struct stat sb;
  mode_t mask = umask(0);
  umask(mask);
  CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~mask));
  size_t n;
  unsigned char *raw = slurp(path, &n);
  CHECK(raw && n > 8 && (8 + (raw[0] | raw[1] << 8)) % 8 == 0);
  free(raw);
  nn_st *st = nn_st_load(ctx, path);
  CHECK(st != NULL);
  if (st) {
    CHECK(st->n == 4);
    for (int i = 0; i < 4 && i < st->n; i++) {
      CHECK(strcmp(st->names[i], names[i]) == 0);
      CHECK(same_tensor(st->ts[i], ts[i]));
      CHECK(nn_tensor_is_contiguous(st->ts[i]));
    }
    CHECK(st->nmeta == 2);
    CHECK(nn_st_meta(st, "k\n") && strcmp(nn_st_meta(st, "k\n"), "v\"al\\ue") == 0);
    CHECK(nn_st_meta(st, "nope") == NULL);
    nn_tensor *mine = st->ts[0];          /* taking a tensor out of st */
    st->ts[0] = NULL;
    nn_st_free(st);
    CHECK(mine->rc == 1);
    nn_tensor_free(mine);
  }
  /* no tensors, no metadata */
  CHECK(nn_st_save(ctx, path, 0, NULL, NULL, 0, NULL, NULL) == 0);
  st = nn_st_load(ctx, path);
  CHECK(st && st->n == 0 && st->nmeta == 0);
  nn_st_free(st);
  for (int i = 0; i < 4; i++) nn_tensor_free(ts[i]);
  rm_tmp();
  nn_ctx_free(ctx);
}

TEST(st_dtypes_converted) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(mkdir_tmp() != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/d.safetensors", dir);
  /* values 1.5, -2 (ints: 1, -2; u8/bool: 1, 0xfe) in each dtype */
  double f64[2] = {1.5, -2};
  uint16_t f16[2] = {0x3e00, 0xc000}, bf16[2] = {0x3fc0, 0xc000}, f16sub[1] = {0x0001};
  int64_t i64[2] = {1, -2};
  int32_t i32[2] = {1, -2};
  int16_t i16[2] = {1, -2};
  int8_t i8[2] = {1, -2};
  uint8_t u8[2] = {1, 0xfe}, b8[2] = {0, 7};
  unsigned char data[256];
  size_t off = 0;
#define ADD(a) (memcpy(data + off, a, sizeof a), off += sizeof a)
  ADD(f64); ADD(f16); ADD(bf16); ADD(i64); ADD(i32); ADD(i16); ADD(i8); ADD(u8); ADD(b8); ADD(f16sub);
#undef ADD
  const char *h = "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                  "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
                  "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]},"
                  "\"d\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]},"
                  "\"e\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[40,48]},"
                  "\"f\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[48,52]},"
                  "\"g\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[52,54]},"
                  "\"h\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[54,56]},"
                  "\"i\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[56,58]},"
                  "\"j\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[58,60]}}";
  size_t hl = strlen(h);
  unsigned char file[1024];
  for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)hl >> (8 * i));
  memcpy(file + 8, h, hl);
  memcpy(file + 8 + hl, data, off);
  put(path, file, 8 + hl + off);
  nn_st *st = nn_st_load(ctx, path);
  CHECK(st && st->n == 10);
  if (st && st->n == 10) {
    float want[9][2] = {{1.5f, -2}, {1.5f, -2}, {1.5f, -2}, {1, -2}, {1, -2}, {1, -2}, {1, -2},
                        {1, 254}, {0, 1}};
    for (int i = 0; i < 9; i++) {
      CHECK(st->ts[i]->ndim == 1 && st->ts[i]->shape[0] == 2);
      CHECK_NEAR(nn_tensor_data(st->ts[i])[0], want[i][0], 0);
      CHECK_NEAR(nn_tensor_data(st->ts[i])[1], want[i][1], 0);
    }
    CHECK_NEAR(nn_tensor_data(st->ts[9])[0], 5.9604644775390625e-08, 0);   /* f16 subnormal */
  }
  nn_st_free(st);
  rm_tmp();
  nn_ctx_free(ctx);
}

TEST(st_truncated_every_length) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(mkdir_tmp() != NULL);
  char path[128], cut[128];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
  int64_t s[2] = {2, 2};
  nn_tensor *ts[2] = {seq(ctx, 2, s, 1), seq(ctx, 1, s, 5)};
  const char *names[2] = {"x", "y"}, *mk[1] = {"m"}, *mv[1] = {"v"};
  CHECK(nn_st_save(ctx, path, 2, names, ts, 1, mk, mv) == 0);
  size_t n;
  unsigned char *raw = slurp(path, &n);
  CHECK(raw != NULL);
  int fails = 0;
  for (size_t len = 0; raw && len < n; len++) {
    put(cut, raw, len);
    fails += load_fails(ctx, cut, NULL);
  }
  CHECK(raw && fails == (int)n);
  free(raw);
  for (int i = 0; i < 2; i++) nn_tensor_free(ts[i]);
  rm_tmp();
  nn_ctx_free(ctx);
}

TEST(st_bad_files) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(mkdir_tmp() != NULL);
  char p[128];
  snprintf(p, sizeof p, "%s/bad.safetensors", dir);
  CHECK(load_fails(ctx, p, "No such file"));
  CHECK(load_fails(ctx, dir, "not a regular file"));
  put(p, "", 0);
  CHECK(load_fails(ctx, p, "too short"));
  unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
  put(p, huge, sizeof huge);
  CHECK(load_fails(ctx, p, "header length 18446744073709551615"));
  unsigned char past[12] = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' '};
  put(p, past, sizeof past);
  CHECK(load_fails(ctx, p, "header length 100, file size 12"));
  static const struct { const char *h; size_t ndata; const char *want; } cases[] = {
    {"garbage!", 0, "not valid JSON"},
    {"{\"a\":", 0, "not valid JSON"},
    {"{} xx", 0, "unexpected bytes"},
    {"[1, 2]", 0, "not a JSON object"},
    {"{\"a\": 5}", 0, "'a': entry is not a JSON object"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs \"dtype\""},
    {"{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "needs \"dtype\""},
    {"{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unsupported dtype 'F8_E4M3'"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape entry 1"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape entry 1"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,4]}}", 4, "shape entry 1"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "9 dimensions"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
     "too large"},
    /* empty, but its strides would overflow (issue 13) */
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0,1099511627776,1099511627776],\"data_offsets\":[0,0]}}", 0,
     "too large"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "needs 8 bytes"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 8, "0 <= begin <= end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8, "data_offsets must be"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, "data_offsets must be"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 8, "outside the data"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1e300,1e300]}}", 8, "data_offsets must be"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "appears twice"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "metadata 'k' is not a string"},
    {"{\"__metadata__\":[\"k\"]}", 0, "is not a JSON object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    put_st(p, cases[i].h, cases[i].ndata);
    int ok = load_fails(ctx, p, cases[i].want);
    if (!ok) fprintf(stderr, "  case %zu: %s\n", i, cases[i].h);
    CHECK(ok);
  }
  /* accepted: unpadded header, holes, empty tensors at any offset, null metadata */
  put_st(p, "{\"__metadata__\":null,\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
            "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[6,6]}}", 8);
  nn_st *st = nn_st_load(ctx, p);
  CHECK(st && st->n == 2 && st->ts[1]->shape[1] == 5);
  nn_st_free(st);
  rm_tmp();
  nn_ctx_free(ctx);
}

TEST(st_save_errors_leave_nothing) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(mkdir_tmp() != NULL);
  char p[128], q[128];
  int64_t s[1] = {3};
  nn_tensor *ts[2] = {seq(ctx, 1, s, 0), seq(ctx, 1, s, 1)};
  const char *names[2] = {"x", "y"}, *dup[2] = {"x", "x"}, *meta[2] = {"x", "__metadata__"};
  snprintf(p, sizeof p, "%s/ok.safetensors", dir);
  CHECK(nn_st_save(ctx, p, 2, names, ts, 0, NULL, NULL) == 0);
  /* bad names: refused, the existing file untouched, no temporary left */
  CHECK(nn_st_save(ctx, p, 2, dup, ts, 0, NULL, NULL) == NN_EARG && strstr(ctx->err, "'x'"));
  CHECK(nn_st_save(ctx, p, 2, meta, ts, 0, NULL, NULL) == NN_EARG);
  nn_st *st = nn_st_load(ctx, p);
  CHECK(st && st->n == 2 && strcmp(st->names[1], "y") == 0);
  nn_st_free(st);
  /* a missing folder is made; a file used as a folder is an error */
  snprintf(q, sizeof q, "%s/missing/x.safetensors", dir);
  CHECK(nn_st_save(ctx, q, 2, names, ts, 0, NULL, NULL) == 0);
  st = nn_st_load(ctx, q);
  CHECK(st && st->n == 2);
  nn_st_free(st);
  unlink(q);
  snprintf(q, sizeof q, "%s/missing", dir);
  CHECK(rmdir(q) == 0);
  snprintf(q, sizeof q, "%s/ok.safetensors/x", dir);
  CHECK(nn_st_save(ctx, q, 2, names, ts, 0, NULL, NULL) == NN_EIO);
  CHECK(strstr(ctx->err, "ok.safetensors' is not a folder") != NULL);
  /* a folder where the file should be: refused, nothing left in it */
  snprintf(q, sizeof q, "%s/sub", dir);
  CHECK(mkdir(q, 0700) == 0);
  snprintf(q, sizeof q, "%s/sub/inner", dir);
  CHECK(mkdir(q, 0700) == 0);
  CHECK(nn_st_save(ctx, q, 2, names, ts, 0, NULL, NULL) == NN_EIO);
  CHECK(strstr(ctx->err, "it is a folder") != NULL);
  snprintf(q, sizeof q, "%s/sub", dir);
  CHECK(count_files(q) == 1);
  snprintf(q, sizeof q, "%s/sub/inner", dir);
  rmdir(q);
  snprintf(q, sizeof q, "%s/sub", dir);
  rmdir(q);
  CHECK(count_files(dir) == 1);
  for (int i = 0; i < 2; i++) nn_tensor_free(ts[i]);
  rm_tmp();
  nn_ctx_free(ctx);
}
