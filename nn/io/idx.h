/* idx.h -- read IDX files, the format of MNIST and FashionMNIST.
 *
 * Format (http://yann.lecun.com/exdb/mnist/): a 4-byte big-endian magic
 * 0x0000TTDD (TT the element type, DD the number of dimensions), then DD
 * big-endian uint32 sizes, then the elements in row-major order. nnlua reads
 * type 0x08 (uint8) with 1..4 dimensions: images are 0x00000803 [N, rows, cols],
 * labels 0x00000801 [N]. Files may be plain or gzip-compressed (any name;
 * gzip is recognised by its 1f 8b magic), read through zlib.
 *
 * Reading is one pass into a buffer that grows as data arrives (16 MB, then
 * doubling, capped at the declared size), so a short file that declares a huge
 * size fails as truncated without allocating that size. The buffer is counted
 * (nn/mem.h): under nnlua --sandbox --max-memory the declared size must fit
 * under the limit before any data is read. A bad file
 * (missing, wrong magic, other element type, bad dimensions, more than
 * NN_IDX_MAXBYTES of data, truncated, trailing bytes, corrupted gzip) gives an
 * error whose message names the path and shows the values; *out is then left
 * empty (all zero), never half-filled. Only regular files are read: a FIFO,
 * device or folder is refused by name without being waited on (infile.h).
 */
#ifndef NN_IDX_H
#define NN_IDX_H

#include "nn/ctx.h"

#define NN_IDX_MAXDIM 4
#define NN_IDX_MAXBYTES ((size_t)1 << 33)   /* larger data is refused as absurd */

typedef struct nn_idx {
  uint8_t *data;                  /* n bytes, row-major (owned; counted: nn/mem.h) */
  int ndim;                       /* 1..NN_IDX_MAXDIM */
  int64_t dims[NN_IDX_MAXDIM];    /* sizes, each >= 1; unused entries 0 */
  size_t n;                       /* bytes of data: the product of dims */
} nn_idx;

/* Reads the IDX file at path (plain or gzip) into *out, which the caller then
 * owns: release with nn_idx_free. Returns 0, or NN_EIO (unreadable or bad
 * file), NN_EARG (NULL argument) or NN_ENOMEM with ctx->err set and *out zeroed. */
int nn_idx_read(nn_ctx *ctx, const char *path, nn_idx *out);

/* The same, refusing files of more than max bytes of data (as well as more
 * than NN_IDX_MAXBYTES) when the header says so, before reading the data; the
 * message then ends with "; " hint when hint is not NULL (how to allow more). */
int nn_idx_read_max(nn_ctx *ctx, const char *path, size_t max, const char *hint,
                    nn_idx *out);

/* Frees x->data and zeroes *x; safe to call twice; NULL is fine. */
void nn_idx_free(nn_idx *x);

/* Checks that images is 3-d [N, rows, cols] and labels 1-d [N] with the same N.
 * Borrows both. Returns 0, or NN_EARG with a message naming both shapes. */
int nn_idx_check_pair(nn_ctx *ctx, const nn_idx *images, const nn_idx *labels);

#endif
