/* data.c -- in-memory 8-bit image sets: from IDX files or decoded PNG files. */
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "idx.h"
#include "png.h"

void nn_imageset_free(nn_imageset *s) {
  if (!s) return;
  free(s->pixels);
  free(s->offset);
  free(s->size);
  free(s->labels);
  memset(s, 0, sizeof *s);
}

/* Allocates the per-image arrays of an n-image set. */
static int alloc_index(nn_ctx *ctx, nn_imageset *s, int64_t n) {
  s->n = n;
  s->offset = malloc((size_t)(n + 1) * sizeof *s->offset);
  s->size = malloc((size_t)n * 2 * sizeof *s->size);
  s->labels = malloc((size_t)n * sizeof *s->labels);
  if (!s->offset || !s->size || !s->labels) {
    nn_imageset_free(s);
    return nn_seterr(ctx, NN_ENOMEM, "out of memory for an index of %lld images", (long long)n);
  }
  return 0;
}

static void set_nclasses(nn_imageset *s) {
  s->nclasses = 0;
  for (int64_t i = 0; i < s->n; i++)
    if (s->labels[i] + 1 > s->nclasses) s->nclasses = s->labels[i] + 1;
}

int nn_imageset_from_idx(nn_ctx *ctx, const char *images, const char *labels, nn_imageset *out) {
  nn_idx im = {0}, lb = {0};
  memset(out, 0, sizeof *out);
  int rc = nn_idx_read(ctx, images, &im);
  if (rc == 0) rc = nn_idx_read(ctx, labels, &lb);
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

int nn_imageset_from_pngs(nn_ctx *ctx, const char *const *paths, const int32_t *labels,
                          int64_t n, nn_imageset *out) {
  memset(out, 0, sizeof *out);
  if (n < 1) return nn_seterr(ctx, NN_EARG, "no images");
  nn_image *ims = calloc((size_t)n, sizeof *ims);
  if (!ims) return nn_seterr(ctx, NN_ENOMEM, "out of memory for %lld images", (long long)n);
  int rc = 0, c = 1;
  int64_t i;
  for (i = 0; i < n && rc == 0; i++) {
    rc = nn_png_read(ctx, paths[i], &ims[i]);
    if (rc == 0 && labels[i] < 0)
      rc = nn_seterr(ctx, NN_EARG, "%s: negative label %d", paths[i], (int)labels[i]);
    if (rc == 0 && ims[i].c == 3) c = 3;
  }
  if (rc == 0) rc = alloc_index(ctx, out, n);
  size_t bytes = 0;
  if (rc == 0) {
    out->c = c;
    out->h = ims[0].h;
    out->w = ims[0].w;
    for (i = 0; i < n; i++) {
      out->offset[i] = (int64_t)bytes;
      out->size[2 * i] = ims[i].h;
      out->size[2 * i + 1] = ims[i].w;
      out->labels[i] = labels[i];
      bytes += (size_t)ims[i].h * (size_t)ims[i].w * (size_t)c;
      if (ims[i].h != out->h || ims[i].w != out->w) out->h = out->w = 0;
    }
    out->offset[n] = (int64_t)bytes;
    out->pixels = malloc(bytes);
    if (!out->pixels) {
      nn_imageset_free(out);
      rc = nn_seterr(ctx, NN_ENOMEM, "out of memory for %zu bytes of images", bytes);
    }
  }
  for (i = 0; i < n; i++) {
    if (rc == 0) put_image(out->pixels + out->offset[i], &ims[i], c);
    nn_image_free(&ims[i]);
  }
  free(ims);
  if (rc == 0) set_nclasses(out);
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
