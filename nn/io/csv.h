/* csv.h -- read CSV files (RFC 4180) record by record, for data.read_csv and
 * datasets.CSV (bindings/l_data.c turns the records into Lua values).
 *
 * Format: records are lines of fields separated by commas; a line ends with
 * \r\n, \n or a lone \r, and the last one may have no line end. A field that
 * starts with a quote is quoted: it runs to the next lone quote and may hold
 * commas, line ends and doubled quotes ("" is one quote); text between its
 * closing quote and the next comma or line end is an error. A quote inside
 * an unquoted field is kept as it is. A UTF-8 byte order mark at the start of
 * the file is skipped. Fields are bytes: no encoding is checked.
 *
 * The whole file is read into memory at nn_csv_open, and fields are pointers
 * into that copy (quotes removed in place), each followed by a NUL byte of
 * its own (a field may hold NUL bytes too: its length is n). Only regular
 * files are read: a FIFO, device or folder is refused by name without being
 * waited on (nn/io/infile.h).
 *
 * Errors go to ctx->err as "'path' line L...: what", and the same message,
 * whatever its length, comes from nn_csv_message (ctx->err holds at most
 * NN_ERRLEN - 1 bytes of it). After an error, nn_csv_header and nn_csv_next
 * give the same error again.
 */
#ifndef NN_CSV_H
#define NN_CSV_H

#include "nn/ctx.h"

/* One field of a record. */
typedef struct nn_csv_field {
  const char *p;     /* n bytes, then a NUL; inside the reader (borrowed: valid
                        until nn_csv_close; p[0..n] is never written again) */
  size_t n;
  int64_t line;      /* the line it starts on, 1-based */
  int quoted;        /* 1 if it was written in quotes */
} nn_csv_field;

typedef struct nn_csv nn_csv;   /* a reader: the file's bytes and where it is in them */

/* Reads the whole regular file at path into a new reader (*out; release with
 * nn_csv_close), which keeps a copy of path for its messages. Returns 0, or
 * NN_EIO (missing, unreadable, not a regular file, too large, grown while
 * read), NN_ENOMEM or NN_EARG (a NULL argument) with ctx->err naming path
 * and *out NULL. */
int nn_csv_open(nn_ctx *ctx, const char *path, nn_csv **out);

/* Reads the header: the first record that is not a blank line. *names (n of
 * them, *n >= 1, at most INT32_MAX) stay valid until nn_csv_close. Every name
 * must be non-empty and distinct (bytes compared). Afterwards nn_csv_next
 * checks that every record has *n fields, and a blank line is a record of
 * one empty field when *n is 1 (else it is skipped). Returns 0, or NN_EIO
 * ("'p' is empty: ...", a column without a name, a repeated name, a quoting
 * error) or NN_ENOMEM. Call it once, before nn_csv_next. */
int nn_csv_header(nn_ctx *ctx, nn_csv *r, const nn_csv_field **names, int64_t *n);

/* Reads the next record: *fields (*n of them, *n >= 1) valid until the next
 * call or nn_csv_close; *line the line it starts on. Returns 1, 0 at the end
 * of the file (*n = 0), or NN_EIO (a quoted field never closed, text after a
 * closing quote, a record whose field count is not the header's) or
 * NN_ENOMEM. Blank lines are skipped (but see nn_csv_header). */
int nn_csv_next(nn_ctx *ctx, nn_csv *r, const nn_csv_field **fields, int64_t *n,
                int64_t *line);

/* At least the number of records still to come (the line ends left + 1), to
 * size an output before reading them. */
int64_t nn_csv_records_left(const nn_csv *r);

/* Bytes the reader holds (the file's copy and the field array). */
size_t nn_csv_bytes(const nn_csv *r);

/* The message of r's last error, whole, into buf (cap bytes, NUL-terminated,
 * cut to fit; buf may be NULL when cap is 0). Returns its length, as
 * snprintf does; 0 when there was no error. */
size_t nn_csv_message(const nn_csv *r, char *buf, size_t cap);

/* Frees r; NULL is fine. */
void nn_csv_close(nn_csv *r);

/* What a field's text is as a number. */
enum nn_csv_num { NN_CSV_TEXT = 0, NN_CSV_INT = 1, NN_CSV_FLOAT = 2 };

/* Reads s[0..n), which must be followed by a NUL at s[n] (as fields are), as
 * a number: what Lua's tonumber reads in decimal (an integer when it is
 * written as one and fits in int64_t, else a double), never hex (an 'x' or 'X'
 * anywhere makes it text), spaces around allowed; or inf, infinity, nan in
 * any case with an optional sign (a double). A NUL inside makes it text.
 * Returns NN_CSV_INT (*i set), NN_CSV_FLOAT (*d set) or NN_CSV_TEXT.
 * stdlib/data/csv.lua's numeric() is the same rule: change both together. */
int nn_csv_number(const char *s, size_t n, int64_t *i, double *d);

#endif
