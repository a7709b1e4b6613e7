/* data.c -- in-memory 8-bit image sets: from IDX files or decoded PNG files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "nn/io/idx.h"
#include "nn/io/png.h"
#include "nn/rng.h"
#include "nn/mem.h"

void nn_imageset_free(nn_imageset *s) {
  if (!s) return;
  nn_mem_free(s->pixels);
  nn_mem_free(s->offset);
  nn_mem_free(s->size);
  nn_mem_free(s->labels);
  memset(s, 0, sizeof *s);
}

/* Bytes of the per-image arrays of an image set: offset, size and label. */
#define PER_IMAGE (sizeof(int64_t) + 2 * sizeof(int32_t) + sizeof(int32_t))

/* Allocates the per-image arrays of an n-image set. */
static int alloc_index(nn_ctx *ctx, nn_imageset *s, int64_t n) {
  s->n = n;      /* n + 1 <= max_bytes / PER_IMAGE: no overflow below */
#define WHAT "the index of %lld images", (long long)n
  if (!(s->offset = nn_mem_alloc(ctx, (size_t)(n + 1) * sizeof *s->offset, WHAT)) ||
      !(s->size = nn_mem_alloc(ctx, (size_t)n * 2 * sizeof *s->size, WHAT)) ||
      !(s->labels = nn_mem_alloc(ctx, (size_t)n * sizeof *s->labels, WHAT))) {
#undef WHAT
    nn_imageset_free(s);
    return NN_ENOMEM;
  }
  return 0;
}

static void set_nclasses(nn_imageset *s) {
  s->nclasses = 0;
  for (int64_t i = 0; i < s->n; i++)
    if (s->labels[i] + 1 > s->nclasses) s->nclasses = s->labels[i] + 1;
}

/* The end of every max_bytes message: how to read more. */
static const char *raise_hint(char *buf, size_t len, size_t max) {
  snprintf(buf, len, "the dataset's limit is max_bytes = %zu (%.3g GiB); pass a larger "
           "max_bytes (in bytes) to the dataset to read it", max, (double)max / (1 << 30));
  return buf;
}

int nn_imageset_from_idx(nn_ctx *ctx, const char *images, const char *labels, size_t max_bytes,
                         nn_imageset *out) {
  nn_idx im = {0}, lb = {0};
  char hint[200];
  memset(out, 0, sizeof *out);
  raise_hint(hint, sizeof hint, max_bytes);
  int rc = nn_idx_read_max(ctx, images, max_bytes, hint, &im);
  if (rc == 0) {
    /* the index costs PER_IMAGE bytes an image: counted before the labels are read */
    size_t n = (size_t)im.dims[0], used = im.n;
    if (n + 1 > (max_bytes - used) / PER_IMAGE)
      rc = nn_seterr(ctx, NN_EIO, "%s: %zu images of %zu bytes each, with %zu bytes of index "
                     "per image, take more than max_bytes; %s", images, n, im.n / n,
                     (size_t)PER_IMAGE, hint);
    else rc = nn_idx_read_max(ctx, labels, max_bytes - used - (n + 1) * PER_IMAGE, hint, &lb);
  }
  if (rc == 0) rc = nn_idx_check_pair(ctx, &im, &lb);
  if (rc == 0) rc = alloc_index(ctx, out, im.dims[0]);
  if (rc != 0) {
    nn_idx_free(&im);
    nn_idx_free(&lb);
    return rc;
  }
  int64_t h = im.dims[1], w = im.dims[2];
  out->c = 1;
  out->h = h;
  out->w = w;
  for (int64_t i = 0; i < out->n; i++) {
    out->offset[i] = i * h * w;
    out->size[2 * i] = (int32_t)h;
    out->size[2 * i + 1] = (int32_t)w;
    out->labels[i] = lb.data[i];
  }
  out->offset[out->n] = out->n * h * w;
  out->pixels = im.data;              /* taken over: no copy */
  im.data = NULL;
  nn_idx_free(&lb);
  set_nclasses(out);
  return 0;
}

/* Copies image im (c 1 or 3) into dst with c channels (grey spread to RGB). */
static void put_image(uint8_t *dst, const nn_image *im, int c) {
  size_t px = (size_t)im->h * (size_t)im->w;
  if (im->c == c) { memcpy(dst, im->data, px * (size_t)c); return; }
  for (size_t p = 0; p < px; p++) dst[3 * p] = dst[3 * p + 1] = dst[3 * p + 2] = im->data[p];
}

/* Two passes: the headers first (sizes, channels, the total checked against
 * max_bytes before any image is decoded), then each image decoded and copied
 * into place, so memory peaks at the set plus one image. */
int nn_imageset_from_pngs(nn_ctx *ctx, const char *const *paths, const int32_t *labels,
                          int64_t n, size_t max_bytes, nn_imageset *out) {
  memset(out, 0, sizeof *out);
  if (n < 1) return nn_seterr(ctx, NN_EARG, "no images");
  if (!paths || !labels) return nn_seterr(ctx, NN_EARG, "nn_imageset_from_pngs: NULL argument");
  char hint[200];
  raise_hint(hint, sizeof hint, max_bytes);
  if ((uint64_t)n + 1 > max_bytes / PER_IMAGE)
    return nn_seterr(ctx, NN_EIO, "%lld image files, with %zu bytes of index per image, take "
                     "more than max_bytes; %s", (long long)n, (size_t)PER_IMAGE, hint);
  int rc = alloc_index(ctx, out, n), c = 1;
  int64_t i;
  /* pass 1: headers; the pixel bytes each image takes as grey (c = 1), then as RGB */
  size_t grey = 0, rgb = 0, index = (size_t)(n + 1) * PER_IMAGE;
  for (i = 0; i < n && rc == 0; i++) {
    nn_image info;
    if (labels[i] < 0) {
      rc = nn_seterr(ctx, NN_EARG, "%s: negative label %d", paths[i], (int)labels[i]);
      break;
    }
    rc = nn_png_info(ctx, paths[i], &info);
    if (rc != 0) break;
    if (info.c == 3) c = 3;
    size_t px = (size_t)info.h * (size_t)info.w;      /* each at most NN_PNG_MAXBYTES */
    grey += px;
    rgb += 3 * px;
    if ((c == 1 ? grey : rgb) > max_bytes - index)
      rc = nn_seterr(ctx, NN_EIO, "%s: the images up to this one (%lld of %lld files) decode to "
                     "%zu bytes, with the index more than max_bytes; %s", paths[i],
                     (long long)i + 1, (long long)n, (c == 1 ? grey : rgb) + index, hint);
    out->size[2 * i] = info.h;
    out->size[2 * i + 1] = info.w;
    out->labels[i] = labels[i];
  }
  size_t bytes = c == 1 ? grey : rgb;
  if (rc == 0) {
    out->c = c;
    out->h = out->size[0];
    out->w = out->size[1];
    size_t at = 0;
    for (i = 0; i < n; i++) {
      out->offset[i] = (int64_t)at;
      at += (size_t)out->size[2 * i] * (size_t)out->size[2 * i + 1] * (size_t)c;
      if (out->size[2 * i] != out->h || out->size[2 * i + 1] != out->w) out->h = out->w = 0;
    }
    out->offset[n] = (int64_t)at;
    out->pixels = nn_mem_alloc(ctx, bytes, "the images of %lld PNG files (%s, ...)", (long long)n,
                               paths[0]);
    if (!out->pixels) rc = NN_ENOMEM;
  }
  /* pass 2: decode each into place; a file that changed in between is an error */
  for (i = 0; i < n && rc == 0; i++) {
    nn_image im;
    rc = nn_png_read(ctx, paths[i], &im);
    if (rc == 0 && (im.h != out->size[2 * i] || im.w != out->size[2 * i + 1] ||
                    (c == 1 && im.c != 1)))
      rc = nn_seterr(ctx, NN_EIO, "%s: the file changed while the dataset was read (%dx%d "
                     "with %d channels, then %dx%d with %d)", paths[i], (int)out->size[2 * i + 1],
                     (int)out->size[2 * i], c, im.w, im.h, im.c);
    if (rc == 0) put_image(out->pixels + out->offset[i], &im, c);
    nn_image_free(&im);
  }
  if (rc != 0) nn_imageset_free(out);
  else set_nclasses(out);
  return rc;
}

nn_tensor *nn_imageset_raw(nn_ctx *ctx, const nn_imageset *s, int64_t i) {
  if (i < 0 || i >= s->n) {
    nn_seterr(ctx, NN_EARG, "image %lld out of range 1..%lld", (long long)i + 1, (long long)s->n);
    return NULL;
  }
  int64_t shape[3] = {s->size[2 * i], s->size[2 * i + 1], s->c};
  nn_tensor *t = nn_tensor_empty(ctx, s->c == 1 ? 2 : 3, shape);
  if (!t) return NULL;
  const uint8_t *src = s->pixels + s->offset[i];
  float *d = t->s->data + t->off;
  size_t len = (size_t)(s->offset[i + 1] - s->offset[i]);
  for (size_t k = 0; k < len; k++) d[k] = src[k];
  return t;
}

void nn_index_randperm(nn_rng *r, int64_t *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = i + 1;
  for (int64_t i = n; i > 1; i--) {              /* the draws of nn_rng_randperm, in order */
    int64_t j = (int64_t)nn_rng_below(r, (uint64_t)i);
    int64_t t = x[i - 1]; x[i - 1] = x[j]; x[j] = t;
  }
}
