/* safetensors.c -- safetensors writer (atomic: temp file, fsync, rename) and
 * validating reader. See safetensors.h for the format. cjson/cJSON.h is
 * included here alone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "atomic.h"
#include "gate.h"
#include "nn/mem.h"
#include "safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define MAXEXACT 9007199254740992.0   /* 2^53: JSON numbers above it are not exact */
#define JSON_BYTES 40                 /* cJSON's heap per header byte at most: an item of
                                         64 bytes (+16 of malloc's) per 2 of "[0,0,...]" */

/* ---- a growable string ---- */

typedef struct { char *p; size_t n, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t len) {
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + len + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void sb_cat(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k > 0) sb_add(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* s as a JSON string: quotes, backslashes and control bytes escaped, other
 * bytes (UTF-8) as they are. */
static void sb_json(sbuf *b, const char *s) {
  sb_add(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { sb_add(b, "\\", 1); sb_add(b, s, 1); }
    else if (c < 0x20) sb_printf(b, "\\u%04x", c);
    else sb_add(b, s, 1);
  }
  sb_add(b, "\"", 1);
}

/* ---- writing ---- */

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names must be non-empty, distinct and not "__metadata__"; tensors (the
 * first nt) non-NULL. */
static int check_names(nn_ctx *ctx, const char *path, int n, const char *const *names,
                       int nt, nn_tensor *const *ts) {
  for (int i = 0; i < n; i++) {
    if (!names[i] || !names[i][0] || strcmp(names[i], "__metadata__") == 0 || (i < nt && !ts[i]))
      return nn_seterr(ctx, NN_EARG, "%s: tensor %d has an empty or reserved name '%s'",
                       path, i + 1, names[i] ? names[i] : "(null)");
  }
  if (n < 2) return 0;
  const char **sorted = malloc((size_t)n * sizeof *sorted);
  if (!sorted) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  memcpy(sorted, names, (size_t)n * sizeof *sorted);
  qsort(sorted, (size_t)n, sizeof *sorted, cmpstr);
  int rc = 0;
  for (int i = 1; i < n && rc == 0; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0)
      rc = nn_seterr(ctx, NN_EARG, "%s: two tensors are named '%s'", path, sorted[i]);
  free(sorted);
  return rc;
}

/* The JSON header, padded with spaces so that 8 + its length is a multiple of 8. */
static int build_header(nn_ctx *ctx, const char *path, sbuf *h, int n, const char *const *names,
                        nn_tensor *const *ts, int na, const nn_st_array *as, int nmeta,
                        const char *const *mkeys, const char *const *mvals) {
  uint64_t off = 0;
  sb_add(h, "{", 1);
  if (nmeta > 0) {
    sb_cat(h, "\"__metadata__\":{");
    for (int i = 0; i < nmeta; i++) {
      if (i) sb_add(h, ",", 1);
      sb_json(h, mkeys[i]);
      sb_add(h, ":", 1);
      sb_json(h, mvals[i]);
    }
    sb_add(h, "}", 1);
  }
  for (int i = 0; i < n; i++) {
    const nn_tensor *t = ts[i];
    uint64_t bytes = (uint64_t)nn_tensor_numel(t) * sizeof(float);
    if (nmeta > 0 || i) sb_add(h, ",", 1);
    sb_json(h, names[i]);
    sb_cat(h, ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) sb_printf(h, d ? ",%lld" : "%lld", (long long)t->shape[d]);
    sb_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
              (unsigned long long)(off + bytes));
    off += bytes;
  }
  for (int i = 0; i < na; i++) {
    uint64_t bytes = (uint64_t)as[i].n * 8;
    if (nmeta > 0 || n || i) sb_add(h, ",", 1);
    sb_json(h, as[i].name);
    sb_printf(h, ":{\"dtype\":\"%s\",\"shape\":[%lld],", as[i].isint ? "I64" : "F64",
              (long long)as[i].n);
    sb_printf(h, "\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
              (unsigned long long)(off + bytes));
    off += bytes;
  }
  sb_add(h, "}", 1);
  while (!h->oom && h->n % 8) sb_add(h, " ", 1);
  if (h->oom) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory for the header", path);
  if (h->n > NN_ST_MAXHEADER)
    return nn_seterr(ctx, NN_EARG, "%s: the header would be %zu bytes, over the %d that "
                     "safetensors readers accept (NN_ST_MAXHEADER): too many keys or too long "
                     "ones (a table of numbers saves compactly when its keys are 1..n and its "
                     "values all integers or all floats); the file was not touched",
                     path, h->n, NN_ST_MAXHEADER);
  return 0;
}

static int write_all(int fd, const void *p, size_t len) {
  const char *c = p;
  while (len > 0) {
    ssize_t k = write(fd, c, len);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    c += k;
    len -= (size_t)k;
  }
  return 0;
}

/* Writes header and data to fd; on failure ctx->err is set. */
static int write_body(nn_ctx *ctx, const char *path, int fd, const sbuf *h, int n,
                      nn_tensor *const *ts, int na, const nn_st_array *as) {
  unsigned char len8[8];
  uint64_t hl = h->n;
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hl >> (8 * i));
  if (write_all(fd, len8, 8) || write_all(fd, h->p, h->n))
    return nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
  for (int i = 0; i < n; i++) {
    nn_tensor *c = nn_tensor_contiguous(ctx, ts[i]);
    if (!c) return NN_ENOMEM;
    int bad = write_all(fd, nn_tensor_data(c), (size_t)nn_tensor_numel(c) * sizeof(float));
    nn_tensor_free(c);
    if (bad) return nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
  }
  for (int i = 0; i < na; i++)
    if (write_all(fd, as[i].data, (size_t)as[i].n * 8))
      return nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
  return 0;
}

int nn_st_save_arrays(nn_ctx *ctx, const char *path, int n, const char *const *names,
                      nn_tensor *const *ts, int na, const nn_st_array *as, int nmeta,
                      const char *const *mkeys, const char *const *mvals) {
  if (n < 0 || na < 0 || n > INT_MAX - na || (na && !as))
    return nn_seterr(ctx, NN_EARG, "%s: bad tensor or array count", path);
  const char **all = malloc(((size_t)n + (size_t)na + 1) * sizeof *all);
  if (!all) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  for (int i = 0; i < n; i++) all[i] = names[i];
  for (int i = 0; i < na; i++) all[n + i] = as[i].name;
  int rc = check_names(ctx, path, n + na, all, n, ts);
  free(all);
  for (int i = 0; i < na && !rc; i++)
    if (as[i].n < 0 || (uint64_t)as[i].n > UINT64_MAX / 16 || (as[i].n && !as[i].data))
      rc = nn_seterr(ctx, NN_EARG, "%s: array '%s' has a bad length", path, as[i].name);
  if (rc) return rc;
  sbuf h = {0};
  rc = build_header(ctx, path, &h, n, names, ts, na, as, nmeta, mkeys, mvals);
  if (rc) { free(h.p); return rc; }
  nn_atomic a;
  if ((rc = nn_atomic_open(ctx, path, &a)) != 0) { free(h.p); return rc; }
  rc = nn_atomic_commit(ctx, &a, write_body(ctx, path, a.fd, &h, n, ts, na, as));
  free(h.p);
  return rc;
}

int nn_st_save(nn_ctx *ctx, const char *path, int n, const char *const *names,
               nn_tensor *const *ts, int nmeta, const char *const *mkeys,
               const char *const *mvals) {
  return nn_st_save_arrays(ctx, path, n, names, ts, 0, NULL, nmeta, mkeys, mvals);
}

/* ---- reading ---- */

enum dtype { DT_F32, DT_F64, DT_F16, DT_BF16, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8, DT_BOOL };
static const struct { const char *name; int size; } dtypes[] = {
  {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
  {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1},
};
#define NDTYPES (int)(sizeof dtypes / sizeof dtypes[0])

typedef struct {        /* one header entry, validated */
  const char *name;     /* borrowed from the cJSON tree */
  int dtype, ndim;
  int64_t shape[NN_MAXDIM];
  uint64_t begin, end;
} entry;

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);            /* inf, nan */
  else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);   /* normal */
  else if (man == 0) bits = sign;                                        /* zero */
  else {                                                                 /* subnormal */
    exp = 113;
    while (!(man & 0x400)) { man <<= 1; exp--; }
    bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Whether the value v of a conversion is one float32 cannot stand for: a whole
 * number it does not hold exactly (past 2^24), or a finite F64 beyond its
 * range (it would become an infinity). Rounding a fraction is what converting
 * to float32 means, and is not counted. */
static int lost_int(int64_t v, float f) {
  if (f >= 0x1p63f) return 1;                /* INT64_MAX rounds up to 2^63, past int64 */
  return (int64_t)f != v;                    /* f >= -2^63 = INT64_MIN: the cast is exact */
}

/* Converts n values of dtype from src (unaligned little-endian bytes) to
 * float32. Returns 0, or 1 + the index of the first value float32 cannot
 * stand for (lost_int; an F64 beyond float32's range), with it in *what. */
static int64_t convert(float *dst, const unsigned char *src, int64_t n, int dtype, long double *what) {
  int64_t lost = 0;
  for (int64_t i = 0; i < n; i++) {
    const unsigned char *p = src + i * dtypes[dtype].size;
    int bad = 0;
    long double orig = 0;
    switch (dtype) {
    case DT_F32: memcpy(&dst[i], p, 4); break;
    case DT_F64: { double v; memcpy(&v, p, 8); dst[i] = (float)v;
                   bad = isfinite(v) && !isfinite(dst[i]); orig = v; break; }
    case DT_F16: { uint16_t v; memcpy(&v, p, 2); dst[i] = half_to_float(v); break; }
    case DT_BF16: { uint16_t v; memcpy(&v, p, 2); uint32_t b = (uint32_t)v << 16;
                    memcpy(&dst[i], &b, 4); break; }
    case DT_I64: { int64_t v; memcpy(&v, p, 8); dst[i] = (float)v;
                   bad = lost_int(v, dst[i]); orig = (long double)v; break; }
    case DT_I32: { int32_t v; memcpy(&v, p, 4); dst[i] = (float)v;
                   bad = lost_int(v, dst[i]); orig = (long double)v; break; }
    case DT_I16: { int16_t v; memcpy(&v, p, 2); dst[i] = (float)v; break; }
    case DT_I8: dst[i] = (float)(int8_t)p[0]; break;
    case DT_U8: dst[i] = (float)p[0]; break;
    case DT_BOOL: dst[i] = p[0] ? 1.0f : 0.0f; break;
    }
    if (bad && !lost) { lost = i + 1; *what = orig; }
  }
  return lost;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int getuint(const cJSON *j, uint64_t *out) {
  if (!cJSON_IsNumber(j)) return -1;
  double v = j->valuedouble;
  if (!(v >= 0 && v <= MAXEXACT) || v != (double)(uint64_t)v) return -1;
  *out = (uint64_t)v;
  return 0;
}

/* Validates one tensor entry (everything but overlaps) against the data size. */
static int parse_entry(nn_ctx *ctx, const char *path, const cJSON *j, uint64_t datalen, entry *e) {
  const char *nm = j->string;
  e->name = nm;
  if (!cJSON_IsObject(j))
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': entry is not a JSON object", path, nm);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
  const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
  if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': needs \"dtype\" (a string), \"shape\" and "
                     "\"data_offsets\" (arrays)", path, nm);
  e->dtype = -1;
  for (int k = 0; k < NDTYPES; k++)
    if (strcmp(dt->valuestring, dtypes[k].name) == 0) e->dtype = k;
  if (e->dtype < 0)
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': unsupported dtype '%.40s' (nnlua reads "
                     "F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)", path, nm, dt->valuestring);
  int nd = cJSON_GetArraySize(sh);
  if (nd > NN_MAXDIM)
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': %d dimensions (at most %d)", path, nm,
                     nd, NN_MAXDIM);
  e->ndim = nd;
  /* span: the product of the sizes with 0 counted as 1, so that the strides
   * of an empty tensor ([0, 2^40, 2^40]) cannot overflow either */
  uint64_t numel = 1, span = 1, v;
  for (int d = 0; d < nd; d++) {
    if (getuint(cJSON_GetArrayItem(sh, d), &v))
      return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': shape entry %d is not a whole number >= 0",
                       path, nm, d + 1);
    e->shape[d] = (int64_t)v;
    if (v > 1 && span > (uint64_t)NN_MAXNUMEL / v)     /* the tensor core's limit (tensor.h) */
      return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': shape too large (more than 2^38 "
                       "elements, counting empty dimensions as 1)", path, nm);
    span *= v > 1 ? v : 1;
    numel *= v;
  }
  if (cJSON_GetArraySize(of) != 2 || getuint(cJSON_GetArrayItem(of, 0), &e->begin) ||
      getuint(cJSON_GetArrayItem(of, 1), &e->end) || e->begin > e->end)
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': data_offsets must be [begin, end] with "
                     "0 <= begin <= end", path, nm);
  if (e->end > datalen)
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': data_offsets [%llu, %llu] outside the data "
                     "(%llu bytes)", path, nm, (unsigned long long)e->begin,
                     (unsigned long long)e->end, (unsigned long long)datalen);
  uint64_t need = numel * (uint64_t)dtypes[e->dtype].size;
  if (e->end - e->begin != need) {
    char buf[160];
    return nn_seterr(ctx, NN_EIO, "%s: tensor '%s': shape %s of %s needs %llu bytes but "
                     "data_offsets [%llu, %llu] hold %llu", path, nm,
                     nn_dims_str(nd, e->shape, buf, sizeof buf), dtypes[e->dtype].name,
                     (unsigned long long)need, (unsigned long long)e->begin,
                     (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
  }
  return 0;
}

static int cmpbegin(const void *a, const void *b) {
  const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}
static int cmpname(const void *a, const void *b) {
  return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

/* No two non-empty tensors share a byte, no two share a name. */
static int check_layout(nn_ctx *ctx, const char *path, entry *es, int n) {
  if (n < 2) return 0;
  entry **p = malloc((size_t)n * sizeof *p);
  if (!p) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  for (int i = 0; i < n; i++) p[i] = &es[i];
  int rc = 0;
  qsort(p, (size_t)n, sizeof *p, cmpname);
  for (int i = 1; i < n && !rc; i++)
    if (strcmp(p[i - 1]->name, p[i]->name) == 0)
      rc = nn_seterr(ctx, NN_EIO, "%s: tensor '%s' appears twice in the header", path, p[i]->name);
  qsort(p, (size_t)n, sizeof *p, cmpbegin);
  const entry *last = NULL;
  for (int i = 0; i < n && !rc; i++) {
    if (p[i]->begin == p[i]->end) continue;
    if (last && p[i]->begin < last->end)
      rc = nn_seterr(ctx, NN_EIO, "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap",
                     path, last->name, (unsigned long long)last->begin,
                     (unsigned long long)last->end, p[i]->name,
                     (unsigned long long)p[i]->begin, (unsigned long long)p[i]->end);
    last = p[i];
  }
  free(p);
  return rc;
}

/* Reads the 8-byte length and the header text; returns a malloc'd NUL-terminated copy. */
static char *read_header(nn_ctx *ctx, const char *path, FILE *f, uint64_t *hlen, uint64_t *datalen) {
  struct stat st;
  unsigned char len8[8];
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    nn_seterr(ctx, NN_EIO, "cannot read '%s': not a regular file", path);
    return NULL;
  }
  uint64_t size = (uint64_t)st.st_size, n = 0;
  if (size < 8 || fread(len8, 1, 8, f) != 8) {
    nn_seterr(ctx, NN_EIO, "%s: not a safetensors file (%llu bytes, too short for the 8-byte "
              "header length)", path, (unsigned long long)size);
    return NULL;
  }
  for (int i = 7; i >= 0; i--) n = n << 8 | len8[i];
  if (n > NN_ST_MAXHEADER && n <= size - 8) {
    nn_seterr(ctx, NN_EIO, "%s: the header is %llu bytes, over the %d that safetensors readers "
              "accept (NN_ST_MAXHEADER)", path, (unsigned long long)n, NN_ST_MAXHEADER);
    return NULL;
  }
  if (n > size - 8 || n < 2) {
    nn_seterr(ctx, NN_EIO, "%s: not a safetensors file (header length %llu, file size %llu)",
              path, (unsigned long long)n, (unsigned long long)size);
    return NULL;
  }
  char *h = nn_mem_alloc(ctx, n + 1, "the header of %s", path);   /* n <= the file's size */
  if (!h) return NULL;
  if (fread(h, 1, n, f) != n) {
    nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path, ferror(f) ? strerror(errno) : "truncated");
    nn_mem_free(h);
    return NULL;
  }
  h[n] = '\0';
  *hlen = n;
  *datalen = size - 8 - n;
  return h;
}

/* Parses the header text into entries and metadata strings of st. */
static int parse_header(nn_ctx *ctx, const char *path, const char *h, uint64_t hlen,
                        uint64_t datalen, cJSON **rootp, entry **esp, nn_st *st) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(h, hlen, &end, 0);
  *rootp = root;
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    long pos = at && at >= h && at <= h + hlen ? (long)(at - h) : -1;
    return nn_seterr(ctx, NN_EIO, "%s: header is not valid JSON (near byte %ld of %llu)", path,
                     pos, (unsigned long long)hlen);
  }
  for (; end && end < h + hlen; end++)
    if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r' && *end != '\0')
      return nn_seterr(ctx, NN_EIO, "%s: unexpected bytes after the JSON header", path);
  if (!cJSON_IsObject(root))
    return nn_seterr(ctx, NN_EIO, "%s: header is not a JSON object", path);
  int total = cJSON_GetArraySize(root), n = 0;
  entry *es = calloc((size_t)total + 1, sizeof *es);
  *esp = es;
  if (!es) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  const cJSON *meta = NULL, *j;
  cJSON_ArrayForEach(j, root) {
    if (strcmp(j->string, "__metadata__") == 0) { meta = j; continue; }
    int rc = parse_entry(ctx, path, j, datalen, &es[n]);
    if (rc) return rc;
    n++;
  }
  st->n = n;
  if (meta && !cJSON_IsObject(meta) && !cJSON_IsNull(meta))
    return nn_seterr(ctx, NN_EIO, "%s: \"__metadata__\" is not a JSON object", path);
  int nm = meta ? cJSON_GetArraySize(meta) : 0;
  st->mkeys = calloc((size_t)nm + 1, sizeof *st->mkeys);
  st->mvals = calloc((size_t)nm + 1, sizeof *st->mvals);
  if (!st->mkeys || !st->mvals) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  if (nm == 0) return 0;
  cJSON_ArrayForEach(j, meta) {
    if (!cJSON_IsString(j))
      return nn_seterr(ctx, NN_EIO, "%s: metadata '%s' is not a string", path, j->string);
    st->mkeys[st->nmeta] = strdup(j->string);
    st->mvals[st->nmeta] = strdup(j->valuestring);
    st->nmeta++;
    if (!st->mkeys[st->nmeta - 1] || !st->mvals[st->nmeta - 1])
      return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  }
  return 0;
}

/* Reads each entry's bytes and makes its float32 tensor. */
static int read_tensors(nn_ctx *ctx, const char *path, FILE *f, uint64_t base,
                        const entry *es, nn_st *st) {
  st->names = calloc((size_t)st->n + 1, sizeof *st->names);
  st->ts = calloc((size_t)st->n + 1, sizeof *st->ts);
  st->raw = calloc((size_t)st->n + 1, sizeof *st->raw);
  st->rawint = calloc((size_t)st->n + 1, sizeof *st->rawint);
  st->lost = calloc((size_t)st->n + 1, sizeof *st->lost);
  st->lostval = calloc((size_t)st->n + 1, sizeof *st->lostval);
  if (!st->names || !st->ts || !st->raw || !st->rawint || !st->lost || !st->lostval)
    return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  for (int i = 0; i < st->n; i++) {
    const entry *e = &es[i];
    st->names[i] = strdup(e->name);
    if (!st->names[i]) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
    nn_tensor *t = nn_tensor_empty(ctx, e->ndim, e->shape);
    if (!t) return NN_ENOMEM;
    st->ts[i] = t;
    size_t bytes = (size_t)(e->end - e->begin);
    if (bytes == 0) continue;
    int same = e->dtype == DT_F32;
    unsigned char *buf = same ? (unsigned char *)nn_tensor_data(t)
                              : nn_mem_alloc(ctx, bytes, "the data of '%s' in %s", e->name, path);
    if (!buf) return NN_ENOMEM;
    int bad = fseeko(f, (off_t)(base + e->begin), SEEK_SET) != 0 || fread(buf, 1, bytes, f) != bytes;
    if (!bad && !same)
      st->lost[i] = convert(nn_tensor_data(t), buf, nn_tensor_numel(t), e->dtype, &st->lostval[i]);
    if (!bad && (e->dtype == DT_F64 || e->dtype == DT_I64)) {   /* kept exact (nn_st.raw) */
      st->raw[i] = buf;
      st->rawint[i] = e->dtype == DT_I64;
    } else if (!same) nn_mem_free(buf);
    if (bad)
      return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path,
                       ferror(f) ? strerror(errno) : "truncated");
  }
  return 0;
}

/* Opens path for reading without blocking on a FIFO or device: only a regular
 * file is read (read_header checks). */
static FILE *open_input(nn_ctx *ctx, const char *path) {
  if (nn_gate_check(ctx, path, NN_GATE_READ) != 0) return NULL;   /* --sandbox */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  FILE *f = NULL;
  if (fd >= 0) {
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    f = fdopen(fd, "rb");
    if (!f) close(fd);
  }
  if (!f) nn_seterr(ctx, NN_EIO, "cannot open '%s': %s", path, strerror(errno));
  return f;
}

nn_st *nn_st_load(nn_ctx *ctx, const char *path) {
  FILE *f = open_input(ctx, path);
  if (!f) return NULL;
  uint64_t hlen = 0, datalen = 0;
  cJSON *root = NULL;
  entry *es = NULL;
  nn_st *st = calloc(1, sizeof *st);
  char *h = read_header(ctx, path, f, &hlen, &datalen);
  int rc = !st ? nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path) : !h ? NN_EIO : 0;
  /* cJSON's tree is not counted item by item: charged at its most, JSON_BYTES
   * a byte of header, while it lives */
  size_t tree = (size_t)hlen * JSON_BYTES;
  int charged = !rc && (rc = nn_mem_charge(ctx, tree, "the parsed header of %s", path)) == 0;
  if (!rc) rc = parse_header(ctx, path, h, hlen, datalen, &root, &es, st);
  if (!rc) rc = check_layout(ctx, path, es, st->n);
  if (!rc) rc = read_tensors(ctx, path, f, 8 + hlen, es, st);
  if (rc && st) {
    if (!st->names) st->n = 0;   /* entries were counted but no tensor made yet */
    nn_st_free(st);
    st = NULL;
  }
  free(es);
  cJSON_Delete(root);
  if (charged) nn_mem_uncharge(tree);
  nn_mem_free(h);
  fclose(f);
  return st;
}

void nn_st_free(nn_st *st) {
  if (!st) return;
  for (int i = 0; st->names && i < st->n; i++) free(st->names[i]);
  for (int i = 0; st->ts && i < st->n; i++) nn_tensor_free(st->ts[i]);
  for (int i = 0; st->raw && i < st->n; i++) nn_mem_free(st->raw[i]);
  free(st->raw);
  free(st->rawint);
  free(st->lost);
  free(st->lostval);
  for (int i = 0; i < st->nmeta; i++) { free(st->mkeys[i]); free(st->mvals[i]); }
  free(st->names);
  free(st->ts);
  free(st->mkeys);
  free(st->mvals);
  free(st);
}

const char *nn_st_meta(const nn_st *st, const char *k) {
  for (int i = 0; i < st->nmeta; i++)
    if (st->mkeys[i] && strcmp(st->mkeys[i], k) == 0) return st->mvals[i];
  return NULL;
}
