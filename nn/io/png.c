/* png.c -- PNG files through libpng: a reader to 8-bit gray or RGB, and an
 * atomic writer (temp file, fsync, rename). The only file including <png.h>.
 *
 * libpng reports errors by longjmp to the setjmp in its png_struct. Each
 * setjmp sits in a small function (decode, encode) that reads none of its own
 * locals after a longjmp (it just returns 1): whatever must survive one (the
 * output buffer, row pointers, the message, the read position) lives in a
 * pngio struct of the caller, reached through a pointer, which is still valid
 * after the longjmp, so the caller frees it and nothing leaks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <png.h>
#include "atomic.h"
#include "infile.h"
#include "png.h"
#include "nn/mem.h"

const char *nn_png_version(void) { return png_get_libpng_ver(NULL); }

/* ---- errors: libpng's messages are kept, never printed ---- */

typedef struct pngio {
  const char *name;          /* the path or name for messages */
  FILE *fp;                  /* the file read or written, or NULL ... */
  const uint8_t *buf;        /* ... the bytes read from memory */
  size_t n, pos;             /* bytes of buf; bytes read so far (file or memory) */
  int truncated;             /* the input ended inside the PNG */
  int ioerr;                 /* errno of a failed read or write, or 0 */
  char msg[200];             /* libpng's error message */
  char warn[120];            /* its last warning, which may explain the error */
  nn_ctx *ctx;               /* for the counted pixel buffer (nn/mem.h) */
  int memerr;                /* that buffer was refused: the message is in ctx->err */
  uint8_t *data;             /* the decoded image (counted, owned until handed over) */
  png_bytep *rows;           /* row pointers into data */
  int toolarge;              /* refused by size; msg holds the details */
  int header_only;           /* stop after the header: size and channels only */
} pngio;

static void on_error(png_structp png, png_const_charp msg) {
  pngio *io = png_get_error_ptr(png);
  if (io->msg[0] == '\0') snprintf(io->msg, sizeof io->msg, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  pngio *io = png_get_error_ptr(png);   /* kept to explain an error that may follow */
  snprintf(io->warn, sizeof io->warn, "%s", msg ? msg : "");
}

/* ---- reading ---- */

static void read_fn(png_structp png, png_bytep dst, size_t len) {
  pngio *io = png_get_io_ptr(png);
  size_t got;
  if (io->fp) {
    got = fread(dst, 1, len, io->fp);
    if (got < len && ferror(io->fp)) io->ioerr = errno ? errno : EIO;
  } else {
    got = io->n - io->pos < len ? io->n - io->pos : len;
    memcpy(dst, io->buf + io->pos, got);
  }
  io->pos += got;
  if (got < len) {
    io->truncated = !io->ioerr;
    png_error(png, io->ioerr ? "read error" : "unexpected end of data");
  }
}

/* Reads the 8-byte signature (len bytes of it are in sig). Returns 0 or an error. */
static int check_sig(nn_ctx *ctx, pngio *io, const uint8_t *sig, size_t len) {
  static const uint8_t want[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len == 8 && memcmp(sig, want, 8) == 0) return 0;
  if (io->ioerr)
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", io->name, strerror(io->ioerr));
  if (len == 0) return nn_seterr(ctx, NN_EIO, "%s: not a PNG file: it is empty", io->name);
  if (memcmp(sig, want, len) == 0)
    return nn_seterr(ctx, NN_EIO, "%s: truncated PNG: the data ends after %zu bytes, "
                     "inside the signature", io->name, len);
  char hex[8 * 3 + 1], txt[8 + 1];
  for (size_t i = 0; i < len; i++) {
    snprintf(hex + (i ? 3 * i - 1 : 0), 4, "%s%02x", i ? " " : "", sig[i]);
    txt[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '.';
  }
  txt[len] = '\0';
  return nn_seterr(ctx, NN_EIO, "%s: not a PNG file: it starts with bytes %s (\"%s\"), "
                   "expected 89 50 4e 47 0d 0a 1a 0a (\"\\x89PNG\\r\\n\\x1a\\n\")",
                   io->name, hex, txt);
}

/* Sets up the transformations to 8-bit gray or RGB, then reads the whole
 * image into io->data. Returns 1 on a libpng error (message in io->msg) or a
 * refused size, 0 on success. */
static int decode(png_structp png, png_infop info, pngio *io, nn_image *im) {
  if (setjmp(png_jmpbuf(png))) return 1;
  png_set_sig_bytes(png, 8);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);   /* the size check below is ours */
  /* Skip every ancillary chunk but tRNS unread (text, ICC profiles, ...): none is
   * used, and libpng would otherwise malloc a text chunk's declared length
   * (up to 2 GB) before finding out that the file is shorter. */
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int ct = png_get_color_type(png, info), c = (ct & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  if (w > NN_PNG_MAXSIDE || h > NN_PNG_MAXSIDE || (size_t)w * h * c > NN_PNG_MAXBYTES) {
    snprintf(io->msg, sizeof io->msg, "image too large: %lux%lu with %d channel%s (nnlua "
             "reads PNG images of at most %d pixels per side and %zu bytes decoded, a fixed "
             "limit)", (unsigned long)w, (unsigned long)h, c, c > 1 ? "s" : "", NN_PNG_MAXSIDE,
             NN_PNG_MAXBYTES);
    io->toolarge = 1;
    return 1;
  }
  if (io->header_only) {
    im->h = (int)h;
    im->w = (int)w;
    im->c = c;
    return 0;
  }
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY) png_set_expand_gray_1_2_4_to_8(png);
  png_set_scale_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)w * c || png_get_bit_depth(png, info) != 8) {
    snprintf(io->msg, sizeof io->msg, "unexpected decoded row of %zu bytes at %d bits "
             "(expected %lu)", png_get_rowbytes(png, info), png_get_bit_depth(png, info),
             (unsigned long)w * c);
    return 1;
  }
  io->data = nn_mem_alloc(io->ctx, (size_t)w * h * c, "the pixels of %s", io->name);
  if (!io->data) {
    io->memerr = 1;
    png_error(png, "out of memory");
  }
  io->rows = malloc(h * sizeof *io->rows);
  if (!io->rows) {
    snprintf(io->msg, sizeof io->msg, "out of memory for %lux%lu pixels of %d bytes",
             (unsigned long)w, (unsigned long)h, c);
    png_error(png, io->msg);
  }
  for (png_uint_32 y = 0; y < h; y++) io->rows[y] = io->data + (size_t)y * w * c;
  png_read_image(png, io->rows);
  png_read_end(png, NULL);         /* to IEND: checks the last CRCs and a truncated end */
  im->h = (int)h;
  im->w = (int)w;
  im->c = c;
  return 0;
}

/* The message of a failed decode. */
static int read_error(nn_ctx *ctx, const pngio *io) {
  if (io->ioerr)
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", io->name, strerror(io->ioerr));
  if (io->truncated)
    return nn_seterr(ctx, NN_EIO, "%s: truncated PNG: the data ends after %zu bytes",
                     io->name, io->pos);
  if (io->toolarge) return nn_seterr(ctx, NN_EIO, "%s: %s", io->name, io->msg);
  if (io->memerr) return NN_ENOMEM;                   /* nn_mem_alloc's message */
  if (strstr(io->msg, "memory"))
    return nn_seterr(ctx, NN_ENOMEM, "%s: %s", io->name, io->msg);
  if (io->warn[0])
    return nn_seterr(ctx, NN_EIO, "%s: bad PNG data: %s (after libpng's warning: %s)",
                     io->name, io->msg, io->warn);
  return nn_seterr(ctx, NN_EIO, "%s: bad PNG data: %s", io->name, io->msg);
}

/* The body of both readers once the signature is checked. */
static int read_png(nn_ctx *ctx, pngio *io, nn_image *out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
    return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory for libpng", io->name);
  }
  png_set_read_fn(png, io, read_fn);
  io->ctx = ctx;
  nn_image im = {0};
  int bad = decode(png, info, io, &im);
  png_destroy_read_struct(&png, &info, NULL);
  free(io->rows);
  io->rows = NULL;
  if (bad) {
    nn_mem_free(io->data);
    io->data = NULL;
    return read_error(ctx, io);
  }
  im.data = io->data;
  io->data = NULL;
  *out = im;
  return 0;
}

int nn_png_read_mem(nn_ctx *ctx, const void *buf, size_t n, const char *name,
                    nn_image *out) {
  if (!out) return nn_seterr(ctx, NN_EARG, "nn_png_read_mem: out is NULL");
  memset(out, 0, sizeof *out);
  if (!buf && n) return nn_seterr(ctx, NN_EARG, "nn_png_read_mem: buf is NULL");
  pngio io = {0};
  io.name = name ? name : "<memory>";
  io.buf = buf;
  io.n = n;
  io.pos = n < 8 ? n : 8;
  int rc = check_sig(ctx, &io, buf, io.pos);
  return rc ? rc : read_png(ctx, &io, out);
}

/* The body of nn_png_read and nn_png_info. */
static int read_file(nn_ctx *ctx, const char *path, nn_image *out, int header_only,
                     const char *fn) {
  if (!out) return nn_seterr(ctx, NN_EARG, "%s: out is NULL", fn);
  memset(out, 0, sizeof *out);
  if (!path) return nn_seterr(ctx, NN_EARG, "%s: path is NULL", fn);
  pngio io = {0};
  io.name = path;
  io.header_only = header_only;
  int fd, rc = nn_open_input(ctx, path, &fd);
  if (rc) return rc;
  if (!(io.fp = fdopen(fd, "rb"))) {
    close(fd);
    return nn_seterr(ctx, NN_EIO, "cannot open '%s': %s", path, strerror(errno));
  }
  uint8_t sig[8];
  errno = 0;
  io.pos = fread(sig, 1, 8, io.fp);
  if (io.pos < 8 && ferror(io.fp)) io.ioerr = errno ? errno : EIO;
  rc = check_sig(ctx, &io, sig, io.pos);
  if (rc == 0) rc = read_png(ctx, &io, out);
  fclose(io.fp);
  return rc;
}

int nn_png_read(nn_ctx *ctx, const char *path, nn_image *out) {
  return read_file(ctx, path, out, 0, "nn_png_read");
}

int nn_png_info(nn_ctx *ctx, const char *path, nn_image *out) {
  return read_file(ctx, path, out, 1, "nn_png_info");
}

void nn_image_free(nn_image *im) {
  if (!im) return;
  nn_mem_free(im->data);
  memset(im, 0, sizeof *im);
}

/* ---- writing ---- */

static void write_fn(png_structp png, png_bytep src, size_t len) {
  pngio *io = png_get_io_ptr(png);
  errno = 0;
  if (fwrite(src, 1, len, io->fp) != len) {
    io->ioerr = errno ? errno : EIO;
    png_error(png, "write error");
  }
}

static void flush_fn(png_structp png) { (void)png; }   /* fflush and fsync come at the end */

/* Writes the image through libpng to io->fp. Returns 1 on a libpng error
 * (message in io->msg or errno in io->ioerr), 0 on success. */
static int encode(png_structp png, png_infop info, const uint8_t *data, int h, int w, int c,
                  png_textp text, int ntext, png_bytep *rows) {
  static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                               PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  if (setjmp(png_jmpbuf(png))) return 1;
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, types[c], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (ntext > 0) png_set_text(png, info, text, ntext);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) rows[y] = (png_bytep)(data + (size_t)y * w * c);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  return 0;
}

/* Checks the arguments of nn_png_write; returns 0 or NN_EARG. */
static int check_write(nn_ctx *ctx, const char *path, const uint8_t *data, int h, int w,
                       int c, const char *const *kv, int ntext) {
  if (!path) return nn_seterr(ctx, NN_EARG, "nn_png_write: path is NULL");
  if (!data) return nn_seterr(ctx, NN_EARG, "%s: cannot write a PNG: data is NULL", path);
  if (c < 1 || c > 4)
    return nn_seterr(ctx, NN_EARG, "%s: cannot write a PNG of %d channels; expected 1 "
                     "(gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)", path, c);
  if (h < 1 || w < 1 || h > NN_PNG_MAXSIDE || w > NN_PNG_MAXSIDE ||
      (size_t)h * w * c > NN_PNG_MAXBYTES)
    return nn_seterr(ctx, NN_EARG, "%s: cannot write a PNG of %dx%d with %d channels: "
                     "sides must be 1 to %d and the image at most %zu bytes", path, h, w,
                     c, NN_PNG_MAXSIDE, NN_PNG_MAXBYTES);
  if (ntext < 0 || (ntext > 0 && !kv))
    return nn_seterr(ctx, NN_EARG, "%s: bad text chunks: %d pairs at %p", path, ntext,
                     (const void *)kv);
  for (int i = 0; i < ntext; i++) {
    const char *k = kv[2 * i], *v = kv[2 * i + 1];
    size_t kl = k ? strlen(k) : 0;
    if (!k || !v)
      return nn_seterr(ctx, NN_EARG, "%s: text chunk %d has a NULL %s", path, i + 1,
                       k ? "value" : "keyword");
    if (kl < 1 || kl > 79)
      return nn_seterr(ctx, NN_EARG, "%s: text keyword '%.90s' has %zu characters; PNG "
                       "allows 1 to 79", path, k, kl);
  }
  return 0;
}

/* Writes the open temporary file io->fp (then closes it). Returns 0 or an error. */
static int write_file(nn_ctx *ctx, pngio *io, const uint8_t *data, int h, int w, int c,
                      const char *const *kv, int ntext) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, io, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  png_textp text = calloc(ntext > 0 ? (size_t)ntext : 1, sizeof *text);
  png_bytep *rows = malloc((size_t)h * sizeof *rows);
  int rc = 0;
  if (!info || !text || !rows) {
    rc = nn_seterr(ctx, NN_ENOMEM, "%s: out of memory for libpng", io->name);
  } else {
    for (int i = 0; i < ntext; i++) {
      text[i].compression = PNG_TEXT_COMPRESSION_NONE;
      text[i].key = (png_charp)kv[2 * i];
      text[i].text = (png_charp)kv[2 * i + 1];
    }
    png_set_write_fn(png, io, write_fn, flush_fn);
    if (encode(png, info, data, h, w, c, text, ntext, rows)) {
      if (io->ioerr)
        rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", io->name, strerror(io->ioerr));
      else if (strstr(io->msg, "memory"))
        rc = nn_seterr(ctx, NN_ENOMEM, "%s: %s", io->name, io->msg);
      else
        rc = nn_seterr(ctx, NN_EARG, "cannot write '%s': libpng: %s", io->name, io->msg);
    }
  }
  png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
  free(text);
  free(rows);
  if (rc == 0 && (fflush(io->fp) != 0 || fsync(fileno(io->fp)) != 0))
    rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", io->name, strerror(errno));
  if (fclose(io->fp) != 0 && rc == 0)
    rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", io->name, strerror(errno));
  io->fp = NULL;
  return rc;
}

int nn_png_write(nn_ctx *ctx, const char *path, const uint8_t *data, int h, int w, int c,
                 const char *const *text_kv, int ntext) {
  int rc = check_write(ctx, path, data, h, w, c, text_kv, ntext);
  if (rc) return rc;
  nn_atomic a;
  if ((rc = nn_atomic_open(ctx, path, &a)) != 0) return rc;
  pngio io = {0};
  io.name = path;
  if (!(io.fp = fdopen(a.fd, "wb"))) {
    rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
  } else {
    a.fd = -1;                               /* write_file fsyncs and closes the stream */
    rc = write_file(ctx, &io, data, h, w, c, text_kv, ntext);
  }
  return nn_atomic_commit(ctx, &a, rc);
}
