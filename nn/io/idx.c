/* idx.c -- the IDX reader (MNIST/FashionMNIST files), plain or gzip via zlib. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "idx.h"
#include "infile.h"
#include "nn/mem.h"

#define IDX_UINT8 0x08
#define IDX_CHUNK (1u << 30)          /* gzread takes an unsigned and returns an int */
#define IDX_FIRST ((size_t)1 << 24)   /* first data buffer; grows by doubling */

static const char *typename(int t) {
  switch (t) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

/* zlib's message for gz without its "path: " prefix. */
static const char *zmsg(gzFile gz, const char *path, int *code) {
  const char *m = gzerror(gz, code);
  size_t lp = strlen(path);
  if (!m) return "unknown zlib error";
  if (strncmp(m, path, lp) == 0 && m[lp] == ':' && m[lp + 1] == ' ') m += lp + 2;
  return m;
}

/* Reads up to len bytes into buf; *got is how many came. Returns 0 (all read,
 * or a clean end of input) or NN_EIO with ctx->err set for a read or zlib
 * error (corrupted or truncated gzip). */
static int readn(nn_ctx *ctx, gzFile gz, const char *path, uint8_t *buf, size_t len,
                 size_t *got) {
  *got = 0;
  while (*got < len) {
    size_t want = len - *got;
    int r = gzread(gz, buf + *got, want > IDX_CHUNK ? IDX_CHUNK : (unsigned)want);
    if (r > 0) { *got += (size_t)r; continue; }
    int code;
    const char *m = zmsg(gz, path, &code);
    if (code == Z_ERRNO)
      return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path, m);
    if (r < 0 || (code != Z_OK && code != Z_BUF_ERROR))
      return nn_seterr(ctx, NN_EIO, "%s: corrupted gzip data: %s", path, m);
    break;                            /* end of input; Z_BUF_ERROR: gzip ended early */
  }
  return 0;
}

/* Parses the 4-byte magic; returns ndim, or an error code. */
static int parse_magic(nn_ctx *ctx, const char *path, const uint8_t *h) {
  uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  if (h[0] != 0 || h[1] != 0)
    return nn_seterr(ctx, NN_EIO, "%s: not an IDX file: magic 0x%08x, expected 0x00000803 "
                     "(uint8 images) or 0x00000801 (uint8 labels)", path, (unsigned)magic);
  if (h[2] != IDX_UINT8)
    return nn_seterr(ctx, NN_EIO, "%s: IDX element type 0x%02x (%s, magic 0x%08x) is not "
                     "supported; only 0x08 (uint8) is", path, h[2], typename(h[2]),
                     (unsigned)magic);
  if (h[3] < 1 || h[3] > NN_IDX_MAXDIM)
    return nn_seterr(ctx, NN_EIO, "%s: IDX file has %d dimensions (magic 0x%08x); "
                     "expected 1 to %d", path, h[3], (unsigned)magic, NN_IDX_MAXDIM);
  return h[3];
}

/* Decodes ndim big-endian sizes into x->dims and x->n, refusing more than max
 * bytes of data (hint, if not NULL, says how to allow more). */
static int parse_dims(nn_ctx *ctx, const char *path, const uint8_t *h, int ndim, size_t max,
                      const char *hint, nn_idx *x) {
  uint64_t total = 1;
  size_t limit = max < NN_IDX_MAXBYTES ? max : NN_IDX_MAXBYTES;
  for (int i = 0; i < ndim; i++) {
    const uint8_t *p = h + 4 * i;
    uint32_t d = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (d == 0)
      return nn_seterr(ctx, NN_EIO, "%s: IDX dimension %d has size 0", path, i + 1);
    x->dims[i] = d;
    total *= d;                       /* no overflow: checked against 2^33 each step */
    if (total > limit) {
      char dims[64];
      size_t used = 0;
      for (int k = 0; k <= i && used < sizeof dims; k++)
        used += (size_t)snprintf(dims + used, sizeof dims - used, k ? ", %u" : "%u",
                                 (unsigned)x->dims[k]);
      if (limit == NN_IDX_MAXBYTES)
        return nn_seterr(ctx, NN_EIO, "%s: IDX data too large: sizes [%s%s] make more than "
                         "%llu bytes, nnlua's fixed limit for one IDX file", path, dims,
                         i + 1 < ndim ? ", ..." : "", (unsigned long long)NN_IDX_MAXBYTES);
      return nn_seterr(ctx, NN_EIO, "%s: IDX data too large: sizes [%s%s] make more than the "
                       "%zu bytes allowed%s%s", path, dims, i + 1 < ndim ? ", ..." : "", limit,
                       hint ? "; " : "", hint ? hint : "");
    }
  }
  x->ndim = ndim;
  x->n = (size_t)total;
  return 0;
}

/* Reads the x->n data bytes into x->data, growing the buffer as bytes arrive
 * (IDX_FIRST, then doubling up to x->n), so that a 16-byte file whose header
 * declares gigabytes costs one small buffer, not the declared size. *got is
 * how many came. */
static int readdata(nn_ctx *ctx, gzFile gz, const char *path, nn_idx *x, size_t *got) {
  size_t cap = 0, have = 0, step;
  *got = 0;
  /* under a memory limit, the whole declared size must fit before any is read */
  int rc = nn_mem_check(ctx, x->n, "the data of %s", path);
  if (rc) return rc;
  while (have < x->n) {
    if (have == cap) {
      cap = cap == 0 ? IDX_FIRST : 2 * cap;
      if (cap > x->n) cap = x->n;
      uint8_t *p = nn_mem_realloc(ctx, x->data, cap, "the data of %s", path);
      if (!p) return NN_ENOMEM;
      x->data = p;
    }
    rc = readn(ctx, gz, path, x->data + have, cap - have, &step);
    if (rc) return rc;
    have += step;
    if (have < cap) break;            /* the input ended */
  }
  *got = have;
  return 0;
}

/* The body of nn_idx_read once gz is open; fills *x or returns an error. */
static int readidx(nn_ctx *ctx, gzFile gz, const char *path, size_t max, const char *hint,
                   nn_idx *x) {
  uint8_t h[4 * NN_IDX_MAXDIM], extra;
  size_t got;
  int rc, ndim;
  if ((rc = readn(ctx, gz, path, h, 4, &got))) return rc;
  if (got < 4)
    return nn_seterr(ctx, NN_EIO, "%s: truncated IDX header: expected at least 4 bytes, "
                     "got %zu", path, got);
  if ((ndim = parse_magic(ctx, path, h)) < 0) return ndim;
  if ((rc = readn(ctx, gz, path, h, 4 * (size_t)ndim, &got))) return rc;
  if (got < 4 * (size_t)ndim)
    return nn_seterr(ctx, NN_EIO, "%s: truncated IDX header: expected %d bytes, got %zu",
                     path, 4 + 4 * ndim, 4 + got);
  if ((rc = parse_dims(ctx, path, h, ndim, max, hint, x))) return rc;
  if ((rc = readdata(ctx, gz, path, x, &got))) return rc;
  if (got < x->n)
    return nn_seterr(ctx, NN_EIO, "%s: truncated IDX data: expected %zu bytes, got %zu",
                     path, x->n, got);
  if ((rc = readn(ctx, gz, path, &extra, 1, &got))) return rc;
  if (got)
    return nn_seterr(ctx, NN_EIO, "%s: trailing bytes after the %zu bytes of IDX data",
                     path, x->n);
  int code;
  const char *m = zmsg(gz, path, &code);
  if (code == Z_BUF_ERROR)            /* all data came, but the gzip trailer is missing */
    return nn_seterr(ctx, NN_EIO, "%s: truncated gzip stream: %s", path, m);
  return 0;
}

int nn_idx_read_max(nn_ctx *ctx, const char *path, size_t max, const char *hint,
                    nn_idx *out) {
  if (!out) return nn_seterr(ctx, NN_EARG, "nn_idx_read: out is NULL");
  memset(out, 0, sizeof *out);
  if (!path) return nn_seterr(ctx, NN_EARG, "nn_idx_read: path is NULL");
  int fd, rc = nn_open_input(ctx, path, &fd);
  if (rc) return rc;
  errno = 0;
  gzFile gz = gzdopen(fd, "rb");      /* owns fd from here on */
  if (!gz) {
    close(fd);
    return nn_seterr(ctx, NN_ENOMEM, "cannot open '%s': out of memory", path);
  }
  rc = readidx(ctx, gz, path, max, hint, out);
  gzclose_r(gz);
  if (rc) nn_idx_free(out);
  return rc;
}

int nn_idx_read(nn_ctx *ctx, const char *path, nn_idx *out) {
  return nn_idx_read_max(ctx, path, NN_IDX_MAXBYTES, NULL, out);
}

void nn_idx_free(nn_idx *x) {
  if (!x) return;
  nn_mem_free(x->data);
  memset(x, 0, sizeof *x);
}

int nn_idx_check_pair(nn_ctx *ctx, const nn_idx *images, const nn_idx *labels) {
  if (!images || !labels) return nn_seterr(ctx, NN_EARG, "nn_idx_check_pair: NULL argument");
  if (images->ndim != 3)
    return nn_seterr(ctx, NN_EARG, "IDX images must be 3-d [N, rows, cols], got %d-d "
                     "(labels have %lld entries)", images->ndim,
                     labels->ndim >= 1 ? (long long)labels->dims[0] : 0LL);
  if (labels->ndim != 1)
    return nn_seterr(ctx, NN_EARG, "IDX labels must be 1-d [N], got %d-d (images have "
                     "%lld)", labels->ndim, (long long)images->dims[0]);
  if (images->dims[0] != labels->dims[0])
    return nn_seterr(ctx, NN_EARG, "IDX images and labels differ in count: %lld images, "
                     "%lld labels", (long long)images->dims[0], (long long)labels->dims[0]);
  return 0;
}
