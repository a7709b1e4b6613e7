/* gif.c -- animated GIFs through giflib (see gif.h). */
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gif.h"
#include "nn/io/atomic.h"
#include "nn/mem.h"

/* ------------------------------------------------------------- palette */

/* A set of at most 256 exact colours (open addressing; 0xFFFFFFFF empty). */
#define EXACT_SLOTS 1024

typedef struct exact {
  uint32_t key[EXACT_SLOTS];
  int n;                    /* colours seen; > 256: too many */
} exact;

static int exact_find(const exact *e, uint32_t c) {
  uint32_t h = (c * 2654435761u) >> 22;     /* 10 bits */
  while (e->key[h] != 0xFFFFFFFFu && e->key[h] != c) h = (h + 1) & (EXACT_SLOTS - 1);
  return (int)h;
}

static void exact_add(exact *e, uint32_t c) {
  if (e->n > 256) return;
  int h = exact_find(e, c);
  if (e->key[h] == c) return;
  e->key[h] = c;
  e->n++;
}

#define BINS 32768          /* 5 bits per channel */

typedef struct hist {
  uint64_t count[BINS];
  uint64_t sum[BINS][3];    /* of the 8-bit values, for the means */
} hist;

static int bin_of(const uint8_t *p) { return (p[0] >> 3) << 10 | (p[1] >> 3) << 5 | (p[2] >> 3); }

typedef struct box { int lo[3], hi[3]; uint64_t n; } box;   /* bins lo..hi per channel */

/* shrinks b to the bins it holds and counts them */
static void box_fit(const hist *hs, box *b) {
  int lo[3] = {31, 31, 31}, hi[3] = {0, 0, 0};
  uint64_t n = 0;
  for (int r = b->lo[0]; r <= b->hi[0]; r++)
    for (int g = b->lo[1]; g <= b->hi[1]; g++)
      for (int c = b->lo[2]; c <= b->hi[2]; c++) {
        uint64_t k = hs->count[r << 10 | g << 5 | c];
        if (!k) continue;
        n += k;
        int v[3] = {r, g, c};
        for (int d = 0; d < 3; d++) {
          if (v[d] < lo[d]) lo[d] = v[d];
          if (v[d] > hi[d]) hi[d] = v[d];
        }
      }
  b->n = n;
  if (n) { memcpy(b->lo, lo, sizeof lo); memcpy(b->hi, hi, sizeof hi); }
}

/* splits the box with the most pixels (that can split) at the median of its
 * longest side; 0 when none can */
static int box_split(const hist *hs, box *boxes, int *nb) {
  int pick = -1;
  for (int k = 0; k < *nb; k++) {
    box *b = &boxes[k];
    int can = b->hi[0] > b->lo[0] || b->hi[1] > b->lo[1] || b->hi[2] > b->lo[2];
    if (can && (pick < 0 || b->n > boxes[pick].n)) pick = k;
  }
  if (pick < 0) return 0;
  box *b = &boxes[pick];
  int d = 0;
  for (int k = 1; k < 3; k++) if (b->hi[k] - b->lo[k] > b->hi[d] - b->lo[d]) d = k;
  uint64_t acc = 0;
  int cut = b->lo[d];
  for (int v = b->lo[d]; v < b->hi[d]; v++) {   /* the plane where half the pixels are below */
    box slab = *b;
    slab.lo[d] = slab.hi[d] = v;
    box_fit(hs, &slab);
    acc += slab.n;
    cut = v;
    if (acc * 2 >= b->n) break;
  }
  box a = *b, c = *b;
  a.hi[d] = cut;
  c.lo[d] = cut + 1;
  box_fit(hs, &a);
  box_fit(hs, &c);
  *b = a;
  boxes[(*nb)++] = c;
  return 1;
}

typedef struct palette {
  int n;
  uint8_t rgb[256][3];
  int exact;                /* exact colours: map through ex; else through bin */
  exact ex;                 /* exact colour -> slot; slot -> index in idx */
  uint8_t idx[EXACT_SLOTS];
  uint8_t bin[BINS];        /* 5-bit bin -> palette index */
} palette;

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void palette_exact(palette *pl) {
  uint32_t cols[256];
  int n = 0;
  for (int k = 0; k < EXACT_SLOTS; k++) if (pl->ex.key[k] != 0xFFFFFFFFu) cols[n++] = pl->ex.key[k];
  qsort(cols, (size_t)n, sizeof *cols, cmp_u32);      /* the same palette whatever the order */
  for (int k = 0; k < n; k++) {
    pl->rgb[k][0] = (uint8_t)(cols[k] >> 16);
    pl->rgb[k][1] = (uint8_t)(cols[k] >> 8);
    pl->rgb[k][2] = (uint8_t)cols[k];
    pl->idx[exact_find(&pl->ex, cols[k])] = (uint8_t)k;
  }
  pl->n = n;
  pl->exact = 1;
}

static void palette_cut(palette *pl, const hist *hs) {
  box boxes[256];
  int nb = 1;
  box all = {{0, 0, 0}, {31, 31, 31}, 0};
  box_fit(hs, &all);
  boxes[0] = all;
  while (nb < 256 && box_split(hs, boxes, &nb)) {}
  for (int k = 0; k < nb; k++) {
    uint64_t s[3] = {0, 0, 0}, n = 0;
    const box *b = &boxes[k];
    for (int r = b->lo[0]; r <= b->hi[0]; r++)
      for (int g = b->lo[1]; g <= b->hi[1]; g++)
        for (int c = b->lo[2]; c <= b->hi[2]; c++) {
          int i = r << 10 | g << 5 | c;
          n += hs->count[i];
          for (int d = 0; d < 3; d++) s[d] += hs->sum[i][d];
        }
    for (int d = 0; d < 3; d++) pl->rgb[k][d] = (uint8_t)(n ? (s[d] + n / 2) / n : 0);
  }
  pl->n = nb;
  pl->exact = 0;
  for (int i = 0; i < BINS; i++) {   /* each bin: the entry nearest its mean (or centre) */
    double m[3];
    for (int d = 0; d < 3; d++)
      m[d] = hs->count[i] ? (double)hs->sum[i][d] / hs->count[i]
                          : (((i >> (10 - 5 * d)) & 31) << 3) + 4;
    int best = 0;
    double bd = 1e300;
    for (int k = 0; k < nb; k++) {
      double dr = m[0] - pl->rgb[k][0], dg = m[1] - pl->rgb[k][1], db = m[2] - pl->rgb[k][2];
      double dist = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
      if (dist < bd) { bd = dist; best = k; }
    }
    pl->bin[i] = (uint8_t)best;
  }
}

static uint8_t palette_index(const palette *pl, const uint8_t *p) {
  if (pl->exact) return pl->idx[exact_find(&pl->ex, (uint32_t)p[0] << 16 | p[1] << 8 | p[2])];
  return pl->bin[bin_of(p)];
}

/* ---------------------------------------------------------------- write */

/* the file, gathered in memory (counted: nn/mem.h) */
typedef struct buf {
  uint8_t *p;
  size_t n, cap;
  int err;                  /* the buffer could not grow ... */
  char why[300];            /* ... and why (giflib's own error comes after) */
  nn_ctx *ctx;
} buf;

static int put_bytes(GifFileType *g, const GifByteType *data, int n) {
  buf *b = g->UserData;
  if (b->err || n < 0) return 0;
  if (b->n + (size_t)n > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + (size_t)n) cap *= 2;
    uint8_t *q = nn_mem_realloc(b->ctx, b->p, cap, "an animated GIF of %zu bytes so far", b->n);
    if (!q) {
      snprintf(b->why, sizeof b->why, "%.299s", b->ctx->err);
      b->err = 1;
      return 0;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, (size_t)n);
  b->n += (size_t)n;
  return n;
}

static int gif_fail(nn_ctx *ctx, const char *path, int code) {
  return nn_seterr(ctx, NN_EIO, "cannot write '%s': giflib: %s", path,
                   GifErrorString(code) ? GifErrorString(code) : "error");
}

/* the colours of every frame: exact if 256 or fewer, else median cut */
static int make_palette(nn_ctx *ctx, nn_canvas *const *frames, int n, palette *pl) {
  hist *hs = calloc(1, sizeof *hs);
  if (!hs) return nn_seterr(ctx, NN_ENOMEM, "plot.animate: out of memory");
  memset(pl->ex.key, 0xFF, sizeof pl->ex.key);
  pl->ex.n = 0;
  int w = nn_canvas_width(frames[0]), h = nn_canvas_height(frames[0]);
  for (int f = 0; f < n; f++) {
    uint8_t *px = nn_canvas_pixels(ctx, frames[f]);
    if (!px) { free(hs); return NN_ENOMEM; }     /* nn_canvas_pixels says why */
    for (size_t k = 0; k < (size_t)w * h; k++) {
      const uint8_t *p = px + 3 * k;
      int i = bin_of(p);
      hs->count[i]++;
      for (int d = 0; d < 3; d++) hs->sum[i][d] += p[d];
      exact_add(&pl->ex, (uint32_t)p[0] << 16 | p[1] << 8 | p[2]);
    }
    nn_mem_free(px);
  }
  if (pl->ex.n <= 256) palette_exact(pl);
  else palette_cut(pl, hs);
  free(hs);
  return 0;
}

static int encode(nn_ctx *ctx, const char *path, nn_canvas *const *frames, int n, int delay_cs,
                  int last_cs, int loop, const palette *pl, buf *out) {
  int w = nn_canvas_width(frames[0]), h = nn_canvas_height(frames[0]), err = 0;
  GifFileType *g = EGifOpen(out, put_bytes, &err);
  if (!g) return gif_fail(ctx, path, err);
  ColorMapObject *cm = GifMakeMapObject(256, NULL);
  uint8_t *line = malloc((size_t)w);
  int rc = cm && line ? 0 : nn_seterr(ctx, NN_ENOMEM, "plot.animate: out of memory");
  if (rc == 0) {
    for (int k = 0; k < 256; k++) {
      int j = k < pl->n ? k : 0;
      cm->Colors[k].Red = pl->rgb[j][0];
      cm->Colors[k].Green = pl->rgb[j][1];
      cm->Colors[k].Blue = pl->rgb[j][2];
    }
    EGifSetGifVersion(g, true);
    if (EGifPutScreenDesc(g, w, h, 8, 0, cm) == GIF_ERROR) rc = gif_fail(ctx, path, g->Error);
  }
  if (rc == 0 && loop >= 0) {      /* the NETSCAPE2.0 extension: how often to play */
    GifByteType app[11], rep[3] = {1, (GifByteType)(loop & 255), (GifByteType)(loop >> 8 & 255)};
    memcpy(app, "NETSCAPE2.0", 11);
    if (EGifPutExtensionLeader(g, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(g, 11, app) == GIF_ERROR || EGifPutExtensionBlock(g, 3, rep) == GIF_ERROR ||
        EGifPutExtensionTrailer(g) == GIF_ERROR)
      rc = gif_fail(ctx, path, g->Error);
  }
  for (int f = 0; rc == 0 && f < n; f++) {
    uint8_t *px = nn_canvas_pixels(ctx, frames[f]);
    if (!px) { rc = NN_ENOMEM; break; }
    GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, f == n - 1 ? last_cs : delay_cs,
                                NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t len = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, (int)len, ext) == GIF_ERROR ||
        EGifPutImageDesc(g, 0, 0, w, h, false, NULL) == GIF_ERROR)
      rc = gif_fail(ctx, path, g->Error);
    for (int r = 0; rc == 0 && r < h; r++) {
      for (int x = 0; x < w; x++) line[x] = palette_index(pl, px + 3 * ((size_t)r * w + x));
      if (EGifPutLine(g, line, w) == GIF_ERROR) rc = gif_fail(ctx, path, g->Error);
    }
    nn_mem_free(px);
  }
  if (EGifCloseFile(g, &err) == GIF_ERROR && rc == 0) rc = gif_fail(ctx, path, err);
  if (out->err) rc = nn_seterr(ctx, NN_ENOMEM, "plot.animate: %s", out->why);
  GifFreeMapObject(cm);
  free(line);
  return rc;
}

int nn_gif_write(nn_ctx *ctx, const char *path, nn_canvas *const *frames, int n, int delay_cs,
                 int last_cs, int loop) {
  if (n < 1 || n > NN_GIF_MAXFRAMES || !frames)
    return nn_seterr(ctx, NN_EARG, "plot.animate: 1 to %d frames (got %d)", NN_GIF_MAXFRAMES, n);
  if (delay_cs < 0 || delay_cs > 65535 || last_cs < 0 || last_cs > 65535 || loop < -1 || loop > 65535)
    return nn_seterr(ctx, NN_EARG, "plot.animate: bad delay or loop count");
  int w = nn_canvas_width(frames[0]), h = nn_canvas_height(frames[0]);
  if (w > 65535 || h > 65535)
    return nn_seterr(ctx, NN_EARG, "plot.animate: frames too large for a GIF");
  for (int f = 1; f < n; f++)
    if (nn_canvas_width(frames[f]) != w || nn_canvas_height(frames[f]) != h)
      return nn_seterr(ctx, NN_EARG, "plot.animate: frame %d is %d x %d but frame 1 is %d x %d; "
                       "give every figure the same width and height", f + 1,
                       nn_canvas_width(frames[f]), nn_canvas_height(frames[f]), w, h);
  palette *pl = malloc(sizeof *pl);
  if (!pl) return nn_seterr(ctx, NN_ENOMEM, "plot.animate: out of memory");
  buf out = {.ctx = ctx};
  int rc = make_palette(ctx, frames, n, pl);
  if (rc == 0) rc = encode(ctx, path, frames, n, delay_cs, last_cs, loop, pl, &out);
  free(pl);
  if (rc != 0) { nn_mem_free(out.p); return rc; }
  rc = nn_atomic_write(ctx, path, out.p, out.n);
  nn_mem_free(out.p);
  return rc;
}

/* ----------------------------------------------------------------- read */

void nn_gif_free(nn_gif *g) {
  nn_mem_free(g->rgb);
  free(g->delay_cs);
  memset(g, 0, sizeof *g);
}

int nn_gif_read(nn_ctx *ctx, const char *path, nn_gif *out) {
  memset(out, 0, sizeof *out);
  int err = 0;
  GifFileType *g = DGifOpenFileName(path, &err);
  if (!g) return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path, GifErrorString(err));
  if (DGifSlurp(g) == GIF_ERROR) {
    int e = g->Error;
    DGifCloseFile(g, &err);
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path, GifErrorString(e));
  }
  int w = g->SWidth, h = g->SHeight, n = g->ImageCount;
  if (w < 1 || h < 1 || n < 1 || (size_t)w * h > (size_t)1 << 26 || n > NN_GIF_MAXFRAMES ||
      (size_t)w * h * 3 * (size_t)n > (size_t)1 << 31) {
    DGifCloseFile(g, &err);
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': %d frames of %d x %d is empty or too big", path,
                     n, w, h);
  }
  size_t plane = (size_t)w * h * 3;
  out->rgb = nn_mem_alloc(ctx, plane * (size_t)n, "the %d frames of %s", n, path);
  uint8_t *cur = out->rgb ? nn_mem_calloc(ctx, plane, 1, "a frame of %s", path) : NULL;
  out->delay_cs = cur ? calloc((size_t)n, sizeof *out->delay_cs) : NULL;
  if (!out->delay_cs) {           /* nn_mem_* said why, or: */
    if (cur) nn_seterr(ctx, NN_ENOMEM, "cannot read '%s': out of memory", path);
    nn_mem_free(cur);
    DGifCloseFile(g, &err);
    nn_gif_free(out);
    return NN_ENOMEM;
  }
  out->w = w;
  out->h = h;
  out->n = n;
  out->loop = -1;
  /* the loop count, if any: giflib keeps the extensions before a frame with it */
  for (int f = -1; f < n; f++) {
    ExtensionBlock *eb = f < 0 ? g->ExtensionBlocks : g->SavedImages[f].ExtensionBlocks;
    int ne = f < 0 ? g->ExtensionBlockCount : g->SavedImages[f].ExtensionBlockCount;
    for (int k = 0; k + 1 < ne; k++)
      if (eb[k].Function == APPLICATION_EXT_FUNC_CODE && eb[k].ByteCount == 11 &&
          memcmp(eb[k].Bytes, "NETSCAPE2.0", 11) == 0 && eb[k + 1].ByteCount >= 3)
        out->loop = eb[k + 1].Bytes[1] | eb[k + 1].Bytes[2] << 8;
  }
  int rc = 0;
  for (int f = 0; f < n && rc == 0; f++) {
    SavedImage *im = &g->SavedImages[f];
    GraphicsControlBlock gcb = {DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
    DGifSavedExtensionToGCB(g, f, &gcb);
    out->delay_cs[f] = gcb.DelayTime;
    ColorMapObject *cm = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : g->SColorMap;
    int l = im->ImageDesc.Left, t = im->ImageDesc.Top, iw = im->ImageDesc.Width, ih = im->ImageDesc.Height;
    if (!cm || l < 0 || t < 0 || iw < 0 || ih < 0 || l + iw > w || t + ih > h) {
      rc = nn_seterr(ctx, NN_EIO, "cannot read '%s': frame %d lies outside the image or has no "
                     "colours", path, f + 1);
      break;
    }
    for (int r = 0; r < ih; r++)
      for (int x = 0; x < iw; x++) {
        int c = im->RasterBits[(size_t)r * iw + x];
        if (c == gcb.TransparentColor || c >= cm->ColorCount) continue;
        uint8_t *p = cur + 3 * ((size_t)(t + r) * w + (l + x));
        p[0] = cm->Colors[c].Red;
        p[1] = cm->Colors[c].Green;
        p[2] = cm->Colors[c].Blue;
      }
    memcpy(out->rgb + plane * (size_t)f, cur, plane);
  }
  nn_mem_free(cur);
  DGifCloseFile(g, &err);
  if (rc != 0) nn_gif_free(out);
  return rc;
}
