/* png.h -- read and write PNG files through libpng (png.c is the only file
 * that includes libpng's png.h).
 *
 * Reading decodes every PNG kind to 8 bits per sample: gray of 1, 2, 4, 8 or
 * 16 bits and gray+alpha give c = 1; palette (tRNS included), RGB and RGBA,
 * 8 or 16 bits, give c = 3. Alpha is dropped (not composited), 16-bit samples
 * are scaled to 8 bits (v * 255 / 65535, rounded), interlaced images are
 * de-interlaced; ancillary chunks other than tRNS (gamma, colour space, text,
 * ...) are skipped unread. Images wider or taller than NN_PNG_MAXSIDE, or of
 * more than NN_PNG_MAXBYTES decoded bytes, are refused ("image too large")
 * before anything is allocated for them.
 * Only regular files are read: a FIFO, device or folder is refused by name
 * without being waited on (nn/io/infile.h).
 * A bad file (missing, not a PNG, truncated, bad CRC, bad zlib data, bad
 * header) gives NN_EIO with a message naming the file; *out is then left
 * empty (all zero), never half-filled. libpng prints nothing.
 *
 * Writing produces 8-bit gray, gray+alpha, RGB or RGBA, not interlaced, with
 * optional tEXt chunks and no tIME chunk, so the same input gives the same
 * bytes. The file is written to "<path>.tmpXXXXXX" in the same folder,
 * fsync'd and renamed over path: a failure never leaves a half-written file
 * nor the temporary one.
 */
#ifndef NN_PNG_H
#define NN_PNG_H

#include "nn/ctx.h"

#define NN_PNG_MAXSIDE (1 << 16)               /* largest width or height read or written */
#define NN_PNG_MAXBYTES ((size_t)1 << 28)      /* largest h * w * c read or written */

/* An 8-bit image, row-major [h, w, c]: pixel (y, x) channel k is at
 * data[(y * w + x) * c + k]. */
typedef struct nn_image {
  uint8_t *data;          /* h * w * c bytes (owned; counted: nn/mem.h) */
  int h, w, c;            /* height, width, channels (1 gray or 3 RGB when read) */
} nn_image;

const char *nn_png_version(void);    /* libpng's version string, e.g. "1.6.39" */

/* Reads the PNG file at path into *out, which the caller then owns: release
 * with nn_image_free. Returns 0, or NN_EIO (missing, unreadable or bad file),
 * NN_EARG (NULL argument) or NN_ENOMEM with ctx->err set and *out zeroed. */
int nn_png_read(nn_ctx *ctx, const char *path, nn_image *out);

/* Reads only the header of the PNG file at path: out->h, w and c as
 * nn_png_read would give them (the same size limits apply), out->data NULL.
 * The rest of the file is not checked. Returns 0 or an NN_E* code as nn_png_read. */
int nn_png_info(nn_ctx *ctx, const char *path, nn_image *out);

/* The same from the n bytes at buf (borrowed); name stands for the file in
 * messages (NULL: "<memory>"). */
int nn_png_read_mem(nn_ctx *ctx, const void *buf, size_t n, const char *name,
                    nn_image *out);

/* Frees im->data and zeroes *im; safe to call twice; NULL is fine. */
void nn_image_free(nn_image *im);

/* Writes the 8-bit image data [h, w, c] (row-major, borrowed) to path
 * atomically: c = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. ntext tEXt chunks come
 * from text_kv[2*i] (keyword: 1 to 79 Latin-1 characters) and text_kv[2*i+1]
 * (value). Returns 0, or NN_EARG (bad size, channels or keyword), NN_EIO
 * (message names path and the reason) or NN_ENOMEM. */
int nn_png_write(nn_ctx *ctx, const char *path, const uint8_t *data, int h, int w, int c,
                 const char *const *text_kv, int ntext);

#endif
