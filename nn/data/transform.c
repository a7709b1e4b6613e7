/* transform.c -- the built-in transforms (ToTensor, Normalize, Flatten,
 * RandomHorizontalFlip, RandomCrop) on one sample, and whole batches of an
 * image set in one call. Both paths run the same kernels: each step first
 * works out its output shape (tf_shape, no randomness), then draws its random
 * numbers (tf_draw), then fills the output (tf_run, pure). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "nn/dispatch.h"
#include "nn/rng.h"
#include "nn/mem.h"

#define MAXND 3
#define PAR_MIN (1 << 15)      /* batch elements below which one thread is faster */
#define PREFETCH_AHEAD 2       /* samples ahead whose bytes a batch prefetches */

typedef struct shp { int nd; int64_t d[MAXND]; } shp;          /* a sample's shape */
typedef struct draw { int64_t i, j; int flip; } draw;           /* one step's random draws */

static const char *const kind_name[] = {"ToTensor", "Normalize", "Flatten",
                                        "RandomHorizontalFlip", "RandomCrop"};

static int64_t numel(const shp *s) {
  int64_t n = 1;
  for (int k = 0; k < s->nd; k++) n *= s->d[k];
  return n;
}

static const char *shapestr(const shp *s, char *buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int k = 0; k < s->nd && used < len; k++)
    used += (size_t)snprintf(buf + used, len - used, k ? ", %lld" : "%lld", (long long)s->d[k]);
  if (used < len) snprintf(buf + used, len - used, "]");
  return buf;
}

static int shape_error(nn_ctx *ctx, const nn_tf_step *st, const shp *in, const char *want) {
  char b[96];
  return nn_seterr(ctx, NN_EARG, "%s: expected %s, got a sample of shape %s",
                   kind_name[st->kind], want, shapestr(in, b, sizeof b));
}

/* Image geometry of a 2-d or 3-d sample (see data.h for the rule). Returns 1 for
 * [H, W, C], 0 for [C, H, W] or [H, W] (c = 1). */
static int geometry(const shp *s, int64_t *c, int64_t *h, int64_t *w) {
  if (s->nd == 2) { *c = 1; *h = s->d[0]; *w = s->d[1]; return 0; }
  int64_t last = s->d[2];
  if ((last == 1 || last == 3 || last == 4) && s->d[0] > 4) {
    *h = s->d[0]; *w = s->d[1]; *c = last; return 1;
  }
  *c = s->d[0]; *h = s->d[1]; *w = s->d[2];
  return 0;
}

/* ---- RandomCrop padding: three stages, as torchvision applies them ---- */

typedef struct padstage { int64_t before, after; } padstage;

/* The padding stages along one axis (0 rows, 1 columns) for an axis of size n:
 * the fixed padding, then (pad_if_needed) the sides grown up to the crop size. */
static int64_t pad_stages(const nn_tf_step *st, int axis, int64_t n, padstage *ps) {
  ps[0].before = st->pad[axis ? 0 : 1];    /* pad is left, top, right, bottom */
  ps[0].after = st->pad[axis ? 2 : 3];
  n += ps[0].before + ps[0].after;
  int64_t want = axis ? st->cw : st->ch;
  ps[1].before = ps[1].after = st->pad_if_needed && n < want ? want - n : 0;
  return n + 2 * ps[1].before;
}

static int check_pads(nn_ctx *ctx, const nn_tf_step *st, int64_t n, const padstage *ps,
                      const char *axis) {
  static const char *const mode_name[] = {"'constant'", "'edge'", "'reflect'", "'symmetric'"};
  for (int k = 0; k < 2; k++) {
    int64_t most = ps[k].before > ps[k].after ? ps[k].before : ps[k].after;
    if (most == 0) continue;                  /* no padding at this stage: nothing to check */
    if (st->pad_mode != NN_PAD_CONSTANT && n == 0)
      return nn_seterr(ctx, NN_EARG, "RandomCrop: cannot pad an image %s of 0 in %s mode "
                       "(it has no pixels to repeat); use padding_mode = 'constant'", axis,
                       mode_name[st->pad_mode]);
    if ((st->pad_mode == NN_PAD_REFLECT && most >= n) ||
        (st->pad_mode == NN_PAD_SYMMETRIC && most > n))
      return nn_seterr(ctx, NN_EARG, "RandomCrop: padding %lld is too large for %s mode on an "
                       "image %s of %lld", (long long)most,
                       st->pad_mode == NN_PAD_REFLECT ? "'reflect'" : "'symmetric'", axis,
                       (long long)n);
    n += ps[k].before + ps[k].after;
  }
  return 0;
}

/* Maps q, a coordinate after padding an axis of size n by (before, after), to the
 * coordinate before padding, or -1 for the constant fill. */
static int64_t unpad(int64_t q, int64_t n, int64_t before, int mode) {
  q -= before;
  if (q >= 0 && q < n) return q;
  switch (mode) {
    case NN_PAD_EDGE: return q < 0 ? 0 : n - 1;
    case NN_PAD_REFLECT: return q < 0 ? -q : 2 * (n - 1) - q;
    case NN_PAD_SYMMETRIC: return q < 0 ? -q - 1 : 2 * n - 1 - q;
    default: return -1;
  }
}

/* The source index along one axis of size n for each of the len outputs from
 * offset start on (after both padding stages), -1 for fill. */
static void axis_map(const nn_tf_step *st, int axis, int64_t n, int64_t start, int64_t len,
                     int64_t *map) {
  padstage ps[2];
  pad_stages(st, axis, n, ps);
  int64_t n1 = n + ps[0].before + ps[0].after;
  for (int64_t k = 0; k < len; k++) {
    int64_t q = unpad(start + k, n1, ps[1].before, st->pad_mode);
    map[k] = q < 0 ? -1 : unpad(q, n, ps[0].before, st->pad_mode);
  }
}

/* ---- the three phases of a step ---- */

static int tf_shape(nn_ctx *ctx, const nn_tf_step *st, const shp *in, shp *out) {
  int64_t c, h, w;
  *out = *in;
  switch (st->kind) {
    case NN_TF_TOTENSOR:
      if (in->nd == 2) { out->nd = 3; out->d[0] = 1; out->d[1] = in->d[0]; out->d[2] = in->d[1]; }
      else if (in->nd == 3) { out->d[0] = in->d[2]; out->d[1] = in->d[0]; out->d[2] = in->d[1]; }
      else return shape_error(ctx, st, in, "an image [H, W] or [H, W, C]");
      return 0;
    case NN_TF_NORMALIZE:
      if (in->nd != 2 && in->nd != 3) return shape_error(ctx, st, in, "[C, H, W] or [H, W]");
      c = in->nd == 2 ? 1 : in->d[0];
      if (st->nmean != 1 && st->nmean != c) {
        char b[96];
        return nn_seterr(ctx, NN_EARG, "Normalize: %d means and stds for %lld channels "
                         "(sample of shape %s)", st->nmean, (long long)c, shapestr(in, b, sizeof b));
      }
      return 0;
    case NN_TF_FLATTEN:
      out->nd = 1;
      out->d[0] = numel(in);
      return 0;
    case NN_TF_HFLIP:
      if (in->nd != 2 && in->nd != 3) return shape_error(ctx, st, in, "[H, W] or [C, H, W]");
      return 0;
    case NN_TF_CROP: {
      if (in->nd != 2 && in->nd != 3) return shape_error(ctx, st, in, "[H, W] or [C, H, W]");
      int hwc = geometry(in, &c, &h, &w);
      padstage rows[2], cols[2];
      int64_t ph = pad_stages(st, 0, h, rows), pw = pad_stages(st, 1, w, cols);
      int rc = check_pads(ctx, st, h, rows, "height");
      if (rc == 0) rc = check_pads(ctx, st, w, cols, "width");
      if (rc != 0) return rc;
      if (ph < st->ch || pw < st->cw)
        return nn_seterr(ctx, NN_EARG, "RandomCrop: crop size [%lld, %lld] is larger than the "
                         "padded image [%lld, %lld]", (long long)st->ch, (long long)st->cw,
                         (long long)ph, (long long)pw);
      int ih = hwc ? 0 : in->nd - 2;
      out->d[ih] = st->ch;
      out->d[ih + 1] = st->cw;
      return 0;
    }
  }
  return nn_seterr(ctx, NN_EARG, "unknown transform %d", st->kind);
}

static void tf_draw(const nn_tf_step *st, nn_rng *r, const shp *in, draw *dr) {
  if (st->rng) r = st->rng;
  dr->i = dr->j = 0;
  dr->flip = 0;
  if (st->kind == NN_TF_HFLIP) {
    dr->flip = nn_rng_uniformf(r) < st->p;
  } else if (st->kind == NN_TF_CROP) {
    int64_t c, h, w;
    padstage ps[2];
    geometry(in, &c, &h, &w);
    int64_t ph = pad_stages(st, 0, h, ps), pw = pad_stages(st, 1, w, ps);
    if (ph == st->ch && pw == st->cw) return;         /* torchvision draws nothing then */
    dr->i = (int64_t)nn_rng_below(r, (uint64_t)(ph - st->ch + 1));
    dr->j = (int64_t)nn_rng_below(r, (uint64_t)(pw - st->cw + 1));
  }
}

/* The pointwise formulas, shared by tf_run and the batch lookup tables. */
static inline float totensor1(float v) { return v / 255.0f; }
static inline float normalize1(float v, float m, float s) { return (v - m) / s; }

static void run_flip(const shp *in, const float *x, float *y) {
  int64_t c, h, w;
  int hwc = geometry(in, &c, &h, &w);
  if (hwc) {
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++)
        memcpy(y + (i * w + j) * c, x + (i * w + (w - 1 - j)) * c, (size_t)c * sizeof *y);
    return;
  }
  for (int64_t row = 0; row < c * h; row++)
    for (int64_t j = 0; j < w; j++) y[row * w + j] = x[row * w + (w - 1 - j)];
}

static void run_crop(const nn_tf_step *st, const draw *dr, const shp *in, const float *x,
                     float *y, int64_t *map) {
  int64_t c, h, w;
  int hwc = geometry(in, &c, &h, &w);
  int64_t *rows = map, *cols = map + st->ch;
  axis_map(st, 0, h, dr->i, st->ch, rows);
  axis_map(st, 1, w, dr->j, st->cw, cols);
  int64_t sp = hwc ? c : 1, sr = w * sp, sc = hwc ? 1 : h * w;   /* strides of x */
  int64_t op = hwc ? c : 1, orow = st->cw * op, oc = hwc ? 1 : st->ch * st->cw;
  for (int64_t k = 0; k < c; k++)
    for (int64_t i = 0; i < st->ch; i++)
      for (int64_t j = 0; j < st->cw; j++) {
        float v = rows[i] < 0 || cols[j] < 0 ? st->fill : x[k * sc + rows[i] * sr + cols[j] * sp];
        y[k * oc + i * orow + j * op] = v;
      }
}

/* Fills y (shape out) from x (shape in). map: scratch of ch + cw entries. */
static void tf_run(const nn_tf_step *st, const draw *dr, const shp *in, const float *x,
                   float *y, int64_t *map) {
  int64_t n = numel(in);
  switch (st->kind) {
    case NN_TF_TOTENSOR:
      if (n == 0) return;                                  /* some size is 0: nothing to move */
      if (in->nd == 2 || in->d[2] == 1) {
        for (int64_t k = 0; k < n; k++) y[k] = totensor1(x[k]);
      } else {
        int64_t c = in->d[2], hw = n / c;
        for (int64_t p = 0; p < hw; p++)
          for (int64_t k = 0; k < c; k++) y[k * hw + p] = totensor1(x[p * c + k]);
      }
      return;
    case NN_TF_NORMALIZE: {
      if (n == 0) return;                                  /* zero channels, height or width */
      int64_t c = in->nd == 2 ? 1 : in->d[0], hw = n / c;
      for (int64_t k = 0; k < c; k++) {
        float m = st->mean[st->nmean == 1 ? 0 : k], s = st->std[st->nmean == 1 ? 0 : k];
        for (int64_t p = 0; p < hw; p++) y[k * hw + p] = normalize1(x[k * hw + p], m, s);
      }
      return;
    }
    case NN_TF_FLATTEN:
      memcpy(y, x, (size_t)n * sizeof *y);
      return;
    case NN_TF_HFLIP:
      if (dr->flip) run_flip(in, x, y);
      else memcpy(y, x, (size_t)n * sizeof *y);
      return;
    case NN_TF_CROP:
      run_crop(st, dr, in, x, y, map);
      return;
  }
}

int nn_tf_check(nn_ctx *ctx, const nn_tf_step *st) {
  switch (st->kind) {
    case NN_TF_TOTENSOR: case NN_TF_FLATTEN: return 0;
    case NN_TF_NORMALIZE:
      if (st->nmean < 1 || st->nmean > NN_TF_MAXC)
        return nn_seterr(ctx, NN_EARG, "Normalize: %d channels given; expected 1 to %d",
                         st->nmean, NN_TF_MAXC);
      for (int k = 0; k < st->nmean; k++)
        if (!(st->std[k] != 0) || !isfinite(st->std[k]) || !isfinite(st->mean[k]))
          return nn_seterr(ctx, NN_EARG, "Normalize: std[%d] = %g, mean[%d] = %g: std must be "
                           "non-zero and both finite float32 numbers", k + 1, st->std[k], k + 1,
                           st->mean[k]);
      return 0;
    case NN_TF_HFLIP:
      if (!(st->p >= 0 && st->p <= 1))
        return nn_seterr(ctx, NN_EARG, "RandomHorizontalFlip: p = %g is not in [0, 1]", st->p);
      return 0;
    case NN_TF_CROP:
      if (st->ch < 1 || st->cw < 1 || st->ch > (1 << 20) || st->cw > (1 << 20))
        return nn_seterr(ctx, NN_EARG, "RandomCrop: size [%lld, %lld] must be 1 to %d",
                         (long long)st->ch, (long long)st->cw, 1 << 20);
      for (int k = 0; k < 4; k++)
        if (st->pad[k] < 0 || st->pad[k] > (1 << 20))
          return nn_seterr(ctx, NN_EARG, "RandomCrop: padding %lld must be 0 to %d",
                           (long long)st->pad[k], 1 << 20);
      if (st->pad_mode < NN_PAD_CONSTANT || st->pad_mode > NN_PAD_SYMMETRIC)
        return nn_seterr(ctx, NN_EARG, "RandomCrop: unknown padding mode %d", st->pad_mode);
      return 0;
  }
  return nn_seterr(ctx, NN_EARG, "unknown transform %d", st->kind);
}

static int to_shp(nn_ctx *ctx, const nn_tf_step *st, const nn_tensor *x, shp *s) {
  if (x->ndim < 1 || (x->ndim > MAXND && st->kind != NN_TF_FLATTEN))
    return nn_seterr(ctx, NN_EARG, "%s: expected a sample of 1 to 3 dimensions, got %d",
                     kind_name[st->kind], x->ndim);
  s->nd = x->ndim > MAXND ? 1 : x->ndim;
  s->d[0] = 1;
  if (x->ndim > MAXND) for (int k = 0; k < x->ndim; k++) s->d[0] *= x->shape[k];
  else for (int k = 0; k < x->ndim; k++) s->d[k] = x->shape[k];
  return 0;
}

/* ToTensor divides by 255: its input must be a raw image, whole numbers 0..255.
 * An image already in [0, 1] (ToTensor twice, or a dataset that converts by
 * itself) would come out 255 times too dark without a word. Datasets' own
 * images are bytes and take the batch path, which needs no check. */
static int check_bytes(nn_ctx *ctx, const float *v, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    if (!(v[k] >= 0 && v[k] <= 255 && v[k] == floorf(v[k])))
      return nn_seterr(ctx, NN_EARG, "ToTensor: expected a raw image of whole numbers 0..255, got %g "
                       "at element %lld (an image already in [0, 1] needs no ToTensor)", v[k],
                       (long long)k + 1);
  return 0;
}

nn_tensor *nn_tf_apply(nn_ctx *ctx, const nn_tf_step *st, nn_rng *r, const nn_tensor *x) {
  shp in, out;
  draw dr;
  if (nn_tf_check(ctx, st) != 0 || to_shp(ctx, st, x, &in) != 0 || tf_shape(ctx, st, &in, &out) != 0)
    return NULL;
  nn_tensor *xc = nn_tensor_contiguous(ctx, (nn_tensor *)x);
  nn_tensor *y = xc ? nn_tensor_empty(ctx, out.nd, out.d) : NULL;
  int64_t *map = malloc((size_t)(st->ch + st->cw + 1) * sizeof *map);
  if (!y || !map) {
    if (xc && y && !map) nn_seterr(ctx, NN_ENOMEM, "out of memory");
    nn_tensor_free(xc);
    nn_tensor_free(y);
    free(map);
    return NULL;
  }
  if (st->kind == NN_TF_TOTENSOR && check_bytes(ctx, xc->s->data + xc->off, numel(&in)) != 0) {
    nn_tensor_free(xc);
    nn_tensor_free(y);
    free(map);
    return NULL;
  }
  tf_draw(st, r, &in, &dr);
  tf_run(st, &dr, &in, xc->s->data + xc->off, y->s->data + y->off, map);
  nn_tensor_free(xc);
  free(map);
  return y;
}

/* ---- batches ---- */

/* Shapes of one sample through the pipeline: shapes[0] raw, shapes[k+1] after
 * step k. Returns 0 or an error naming the step. */
static int chain(nn_ctx *ctx, const nn_imageset *s, int64_t i, const nn_tf_step *steps,
                 int nsteps, shp *shapes) {
  shapes[0].nd = s->c == 1 ? 2 : 3;
  shapes[0].d[0] = s->size[2 * i];
  shapes[0].d[1] = s->size[2 * i + 1];
  shapes[0].d[2] = s->c;
  for (int k = 0; k < nsteps; k++)
    if (tf_shape(ctx, &steps[k], &shapes[k], &shapes[k + 1]) != 0) return NN_EARG;
  return 0;
}

static int same_shape(const shp *a, const shp *b) {
  if (a->nd != b->nd) return 0;
  for (int k = 0; k < a->nd; k++) if (a->d[k] != b->d[k]) return 0;
  return 1;
}

/* Whether the pipeline is [ToTensor [Normalize...]] [Flatten]: pointwise per
 * channel, so each output is a table lookup of its input byte. */
static int pointwise(const nn_tf_step *steps, int nsteps) {
  int k = 0;
  if (k < nsteps && steps[k].kind == NN_TF_TOTENSOR) {
    k++;
    while (k < nsteps && steps[k].kind == NN_TF_NORMALIZE) k++;
  }
  if (k < nsteps && steps[k].kind == NN_TF_FLATTEN) k++;
  return k == nsteps;
}

/* Pointwise pipelines, one sample at a time, in place in the batch: the bytes
 * as floats (channels made planar by ToTensor), then each step as one
 * vectorised pass over the sample while it is in L1. Ordinary stores: the
 * batch's memory was freed a few batches ago and is still in cache, and the
 * training step reads the batch next. (Writing through an L1 buffer with
 * non-temporal stores was 4-8% slower.) The same float operations in the same
 * order as tf_run, so the same bits. NN_DISPATCH (nn/dispatch.h): the
 * installed build runs these passes with the CPU's widest vectors too. */
NN_DISPATCH static void sample_pointwise(const uint8_t *restrict src, float *restrict dst, int nc, int planar,
                             int64_t per, const nn_tf_step *steps, int nsteps) {
  int64_t hw = per / nc;
  if (nc == 1 || !planar) {
    for (int64_t p = 0; p < per; p++) dst[p] = (float)src[p];
  } else {
    for (int c = 0; c < nc; c++)
      for (int64_t p = 0; p < hw; p++) dst[c * hw + p] = (float)src[p * nc + c];
  }
  for (int j = 0; j < nsteps; j++) {
    const nn_tf_step *st = &steps[j];
    if (st->kind == NN_TF_TOTENSOR) {
      for (int64_t p = 0; p < per; p++) dst[p] = totensor1(dst[p]);
    } else if (st->kind == NN_TF_NORMALIZE) {
      for (int c = 0; c < nc; c++) {
        float m = st->mean[st->nmean == 1 ? 0 : c], sd = st->std[st->nmean == 1 ? 0 : c];
        float *plane = dst + c * hw;
        for (int64_t p = 0; p < hw; p++) plane[p] = normalize1(plane[p], m, sd);
      }
    }
  }
}

void nn_imageset_prefetch(const nn_imageset *s, const int64_t *idx, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    if (idx[k] < 0 || idx[k] >= s->n) continue;
    const uint8_t *p = s->pixels + s->offset[idx[k]], *end = s->pixels + s->offset[idx[k] + 1];
    for (; p < end; p += 64) __builtin_prefetch(p);
  }
}

static void batch_pointwise(const nn_imageset *s, const int64_t *idx, int64_t b,
                            const nn_tf_step *steps, int nsteps, float *x, int64_t per) {
  int nc = s->c, planar = nsteps > 0 && steps[0].kind == NN_TF_TOTENSOR;
  nn_threads_poll();
  #pragma omp parallel for schedule(static) if (b * per >= PAR_MIN)
  for (int64_t k = 0; k < b; k++) {
    if (k + PREFETCH_AHEAD < b) {       /* shuffled samples: fetch the next ones' bytes early */
      const uint8_t *next = s->pixels + s->offset[idx[k + PREFETCH_AHEAD]];
      for (int64_t p = 0; p < per; p += 64) __builtin_prefetch(next + p);
    }
    sample_pointwise(s->pixels + s->offset[idx[k]], x + k * per, nc, planar, per, steps, nsteps);
  }
}

/* Sample by sample through scratch buffers: draws first (in order), then runs. */
static int batch_general(nn_ctx *ctx, const nn_imageset *s, const int64_t *idx, int64_t b,
                         const nn_tf_step *steps, int nsteps, nn_rng *r, float *x, int64_t per) {
  shp shapes[NN_TF_MAXSTEPS + 1];
  draw dr[NN_TF_MAXSTEPS];
  int64_t most = 1, maxmap = 1;
  for (int k = 0; k < nsteps; k++)
    if (steps[k].kind == NN_TF_CROP && steps[k].ch + steps[k].cw > maxmap)
      maxmap = steps[k].ch + steps[k].cw;
  float *buf[2] = {NULL, NULL};
  int64_t *map = nn_mem_alloc(ctx, (size_t)maxmap * sizeof *map, "a crop of %lld pixels per side",
                              (long long)maxmap);
  int rc = map ? 0 : NN_ENOMEM;
  for (int64_t n = 0; n < b && rc == 0; n++) {
    chain(ctx, s, idx[n], steps, nsteps, shapes);     /* checked by the caller */
    int64_t need = 1;
    for (int k = 0; k <= nsteps; k++) if (numel(&shapes[k]) > need) need = numel(&shapes[k]);
    if (need > most || !buf[0]) {
      most = need > most ? need : most;
      for (int t = 0; t < 2 && rc == 0; t++) {
        float *p = nn_mem_realloc(ctx, buf[t], (size_t)most * sizeof *p, "transforming a sample "
                                  "of %lld values", (long long)most);
        if (!p) rc = NN_ENOMEM;
        else buf[t] = p;
      }
      if (rc != 0) break;
    }
    const uint8_t *src = s->pixels + s->offset[idx[n]];
    int64_t len = numel(&shapes[0]);
    for (int64_t p = 0; p < len; p++) buf[0][p] = src[p];
    for (int k = 0; k < nsteps; k++) tf_draw(&steps[k], r, &shapes[k], &dr[k]);
    int cur = 0;
    for (int k = 0; k < nsteps; k++, cur ^= 1)
      tf_run(&steps[k], &dr[k], &shapes[k], buf[cur], buf[cur ^ 1], map);
    memcpy(x + n * per, buf[cur], (size_t)per * sizeof *x);
  }
  nn_mem_free(buf[0]);
  nn_mem_free(buf[1]);
  nn_mem_free(map);
  return rc;
}

int nn_imageset_batch(nn_ctx *ctx, const nn_imageset *s, const int64_t *idx, int64_t b,
                      const nn_tf_step *steps, int nsteps, nn_rng *r,
                      nn_tensor **x, nn_tensor **y) {
  *x = NULL;
  if (y) *y = NULL;
  if (b < 1) return nn_seterr(ctx, NN_EARG, "empty batch");
  if (nsteps < 0 || nsteps > NN_TF_MAXSTEPS)
    return nn_seterr(ctx, NN_EARG, "%d transforms; at most %d", nsteps, NN_TF_MAXSTEPS);
  for (int k = 0; k < nsteps; k++) if (nn_tf_check(ctx, &steps[k]) != 0) return NN_EARG;
  for (int64_t n = 0; n < b; n++)
    if (idx[n] < 0 || idx[n] >= s->n)
      return nn_seterr(ctx, NN_EARG, "index %lld out of range 1..%lld", (long long)idx[n] + 1,
                       (long long)s->n);
  shp first[NN_TF_MAXSTEPS + 1], other[NN_TF_MAXSTEPS + 1];
  if (chain(ctx, s, idx[0], steps, nsteps, first) != 0) return NN_EARG;
  if (s->h == 0)                                      /* sizes differ: check every sample */
    for (int64_t n = 1; n < b; n++) {
      if (chain(ctx, s, idx[n], steps, nsteps, other) != 0) return NN_EARG;
      if (!same_shape(&other[nsteps], &first[nsteps])) {
        char b1[96], b2[96];
        return nn_seterr(ctx, NN_EARG, "cannot batch samples of different shapes: image %lld "
                         "gives %s, image %lld gives %s (crop or resize them to one size)",
                         (long long)idx[0] + 1, shapestr(&first[nsteps], b1, sizeof b1),
                         (long long)idx[n] + 1, shapestr(&other[nsteps], b2, sizeof b2));
      }
    }
  const shp *o = &first[nsteps];
  int64_t shape[MAXND + 1] = {b};
  for (int k = 0; k < o->nd; k++) shape[k + 1] = o->d[k];
  nn_tensor *tx = nn_tensor_empty(ctx, o->nd + 1, shape);
  nn_tensor *ty = tx && y ? nn_tensor_empty(ctx, 1, shape) : NULL;
  if (!tx || (y && !ty)) { nn_tensor_free(tx); return NN_ENOMEM; }
  int64_t per = numel(o);
  int rc = 0;
  if (pointwise(steps, nsteps)) batch_pointwise(s, idx, b, steps, nsteps, tx->s->data + tx->off, per);
  else rc = batch_general(ctx, s, idx, b, steps, nsteps, r, tx->s->data + tx->off, per);
  if (rc != 0) { nn_tensor_free(tx); nn_tensor_free(ty); return rc; }
  if (ty) {
    float *d = ty->s->data + ty->off;
    for (int64_t n = 0; n < b; n++) d[n] = (float)s->labels[idx[n]] + 1;
  }
  *x = tx;
  if (y) *y = ty;
  return 0;
}
