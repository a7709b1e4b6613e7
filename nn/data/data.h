/* data.h -- the numeric side of datasets and transforms: in-memory sets of
 * 8-bit images with integer labels (from IDX files or PNG files), the built-in
 * per-sample transforms, and whole batches assembled in C in one call.
 *
 * Sample layouts. A raw image is [H, W] (one channel) or [H, W, C] (C = 3), its
 * values the pixel bytes 0..255 as floats. ToTensor turns it into [C, H, W]
 * scaled to [0, 1]. The geometric transforms (flip, crop) work on [H, W],
 * [C, H, W] and [H, W, C]; a 3-d sample is read as [H, W, C] when its last size
 * is 1, 3 or 4 and its first is larger than 4 (a raw colour image), else as
 * [C, H, W]. The rule depends on the shape alone, so a transform gives the same
 * result whether it runs per sample (nn_tf_apply) or in a batch
 * (nn_imageset_batch): both call the same kernels, and random draws happen
 * sample by sample, step by step, in the same order.
 */
#ifndef NN_DATA_H
#define NN_DATA_H

#include "nn/tensor.h"

#define NN_TF_MAXC 16      /* Normalize: at most this many channels */
#define NN_TF_MAXSTEPS 32  /* steps in one pipeline */
#define NN_DATA_MAXBYTES ((size_t)1 << 30)   /* default limit of one image set's memory */

typedef struct nn_imageset {
  int64_t n;           /* images */
  int c;               /* channels stored per pixel: 1 or 3 */
  int64_t h, w;        /* size of every image, or 0 when sizes differ */
  uint8_t *pixels;     /* images back to back, each H×W×C row-major */
  int64_t *offset;     /* byte offset of each image, n + 1 entries */
  int32_t *size;       /* height and width of each image, 2n entries */
  int32_t *labels;     /* n labels, 0-based (the four arrays owned, counted: nn/mem.h) */
  int32_t nclasses;    /* largest label + 1 */
} nn_imageset;

/* Limits. A set may take at most max_bytes of memory in all: its pixels plus
 * 20 bytes of index per image (NN_DATA_MAXBYTES is the datasets' default).
 * The readers check it before allocating (IDX: from the headers; PNG: from
 * every file's header, before decoding any), so a small file that decodes
 * to gigabytes costs nothing. The message names the file at which the limit
 * was crossed and says to pass a larger max_bytes. Each file also has the
 * readers' fixed limits (idx.h, png.h). The arrays are counted (nn/mem.h), so
 * under nnlua --sandbox --max-memory a set that does not fit is refused before
 * its pixels are read, the message naming what asked. */

/* Reads an IDX image file [N, H, W] and an IDX label file [N] (plain or gzip)
 * into *out, which the caller then owns (release with nn_imageset_free).
 * Returns 0 or an NN_E* code with ctx->err naming the file; *out zeroed then. */
int nn_imageset_from_idx(nn_ctx *ctx, const char *images, const char *labels, size_t max_bytes,
                         nn_imageset *out);

/* Decodes n PNG files (paths[i] with 0-based label labels[i]) into *out. Greyscale
 * images stay one channel when all are greyscale; otherwise every image becomes
 * RGB. Alpha is dropped. Returns 0 or an NN_E* code naming the bad file. */
int nn_imageset_from_pngs(nn_ctx *ctx, const char *const *paths, const int32_t *labels,
                          int64_t n, size_t max_bytes, nn_imageset *out);

void nn_imageset_free(nn_imageset *s);    /* frees the arrays and zeroes *s; safe twice */

/* Raw image i (0-based) as a new float tensor [H, W] or [H, W, C] of 0..255. */
nn_tensor *nn_imageset_raw(nn_ctx *ctx, const nn_imageset *s, int64_t i);

/* x[0..n) = 1..n shuffled: the same permutation as nn_rng_randperm (and so
 * tensor.randperm) draws from the same generator state, as exact integers. */
void nn_index_randperm(nn_rng *r, int64_t *x, int64_t n);

/* ---- transforms ---- */

enum nn_tf_kind { NN_TF_TOTENSOR, NN_TF_NORMALIZE, NN_TF_FLATTEN, NN_TF_HFLIP, NN_TF_CROP };
enum nn_tf_pad { NN_PAD_CONSTANT, NN_PAD_EDGE, NN_PAD_REFLECT, NN_PAD_SYMMETRIC };

typedef struct nn_tf_step {
  int kind;                         /* enum nn_tf_kind */
  int nmean;                        /* NORMALIZE: channels given (1 applies to all) */
  float mean[NN_TF_MAXC], std[NN_TF_MAXC];
  float p;                          /* HFLIP: probability */
  int64_t ch, cw;                   /* CROP: output height and width */
  int64_t pad[4];                   /* CROP: left, top, right, bottom */
  int pad_mode;                     /* CROP: enum nn_tf_pad */
  int pad_if_needed;                /* CROP: pad sides up to the crop size */
  float fill;                       /* CROP: value of constant padding */
  nn_rng *rng;                      /* random steps: own generator, or NULL for the caller's */
} nn_tf_step;

/* Checks a step's own parameters (std != 0, sizes >= 1, ...). Returns 0 or NN_EARG. */
int nn_tf_check(nn_ctx *ctx, const nn_tf_step *st);

/* Applies one step to one sample x (any layout the step accepts), drawing its
 * random numbers from r. Returns a new tensor, or NULL with ctx->err set (for
 * shapes the step does not accept, naming the shape). */
nn_tensor *nn_tf_apply(nn_ctx *ctx, const nn_tf_step *st, nn_rng *r, const nn_tensor *x);

/* Asks the CPU to start loading the bytes of images idx[0..n-1] (0-based,
 * out-of-range entries skipped) into its caches: a hint, no effect on any
 * result. The DataLoader calls it with the next batch's indices, so that the
 * bytes of shuffled images come from cache instead of memory while the
 * training step in between runs. */
void nn_imageset_prefetch(const nn_imageset *s, const int64_t *idx, int64_t n);

/* Assembles the batch of images idx[0..b) (0-based) of s, each passed through
 * steps[0..nsteps) (none: the raw images), into *x = [b, ...sample shape] and
 * *y = [b] labels + 1 (y may be NULL). Random draws go sample by sample, step by
 * step, as nn_tf_apply would take them. Every sample must come out the same
 * shape (else an error naming both). Returns 0 or an NN_E* code; *x and *y are
 * new references, NULL on failure. */
int nn_imageset_batch(nn_ctx *ctx, const nn_imageset *s, const int64_t *idx, int64_t b,
                      const nn_tf_step *steps, int nsteps, nn_rng *r,
                      nn_tensor **x, nn_tensor **y);

#endif
