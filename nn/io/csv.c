/* csv.c -- the CSV reader (csv.h): the whole file in one buffer, records
 * parsed in place, and the number rule of data.read_csv. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "csv.h"
#include "infile.h"
#include "nn/mem.h"

/* What went wrong; the text is made by nn_csv_message alone. */
enum csv_err {
  E_NONE, E_EMPTY, E_COLUMNS, E_NONAME, E_REPEAT, E_UNCLOSED, E_AFTERQUOTE, E_COUNT, E_NOMEM
};

struct nn_csv {
  char *path;             /* a copy, for messages */
  char *buf;              /* the file (len bytes), then a NUL of ours */
  size_t len;
  char *p, *end;          /* the text not read yet; end = buf + len */
  int64_t line;           /* the line p is on, 1-based */
  nn_csv_field *f;        /* the fields of the last record: cap of them */
  int64_t cap;
  nn_csv_field *names;    /* the header's fields, ncols of them (0: not read yet) */
  int64_t ncols;
  struct {
    int kind, code;       /* enum csv_err; the NN_E* code returned */
    int64_t line, a, b;   /* the line; numbers the message shows (columns, counts) */
    const char *name;     /* a repeated name (inside buf) */
    char why[400];        /* E_NOMEM: nn/mem.h's message (the limit, or no memory) */
  } err;
};

size_t nn_csv_message(const nn_csv *r, char *buf, size_t cap) {
  const char *p = r->path;
  long long line = r->err.line, a = r->err.a, b = r->err.b;
  int k;
  switch (r->err.kind) {
    case E_EMPTY:
      k = snprintf(buf, cap, "'%s' is empty: a CSV file starts with a header line naming its "
                   "columns", p);
      break;
    case E_COLUMNS:
      k = snprintf(buf, cap, "'%s' line %lld: too many columns", p, line);
      break;
    case E_NONAME:
      k = snprintf(buf, cap, "'%s' line %lld: column %lld of the header has no name", p, line, a);
      break;
    case E_REPEAT:
      k = snprintf(buf, cap, "'%s' line %lld: column %lld repeats the name '%s' of column %lld",
                   p, line, a, r->err.name, b);
      break;
    case E_UNCLOSED:
      k = snprintf(buf, cap, "'%s' line %lld: the quoted field that starts here (column %lld) is "
                   "never closed: it runs to the end of the file", p, line, a);
      break;
    case E_AFTERQUOTE:
      k = snprintf(buf, cap, "'%s' line %lld, column %lld: text after the closing quote of a "
                   "quoted field (a quote inside a quoted field is written twice: \"\")", p,
                   line, a);
      break;
    case E_COUNT:
      k = snprintf(buf, cap, "'%s' line %lld has %lld field%s but the header has %lld", p, line,
                   a, a == 1 ? "" : "s", b);
      break;
    case E_NOMEM:
      k = snprintf(buf, cap, "'%s' line %lld: %s", p, line, r->err.why);
      break;
    default:
      if (cap) buf[0] = '\0';
      return 0;
  }
  return k < 0 ? 0 : (size_t)k;
}

/* Records the error in r and its message in ctx->err; returns its code. */
static int fail(nn_ctx *ctx, nn_csv *r, int kind, int64_t line, int64_t a, int64_t b) {
  if (kind == E_NOMEM) snprintf(r->err.why, sizeof r->err.why, "%.399s", ctx->err);   /* nn_mem_* */
  r->err.kind = kind;
  r->err.code = kind == E_NOMEM ? NN_ENOMEM : NN_EIO;
  r->err.line = line;
  r->err.a = a;
  r->err.b = b;
  nn_csv_message(r, ctx->err, sizeof ctx->err);
  return r->err.code;
}

/* The error already recorded, again. */
static int again(nn_ctx *ctx, const nn_csv *r) {
  nn_csv_message(r, ctx->err, sizeof ctx->err);
  return r->err.code;
}

int nn_csv_open(nn_ctx *ctx, const char *path, nn_csv **out) {
  if (!out) return nn_seterr(ctx, NN_EARG, "nn_csv_open: out is NULL");
  *out = NULL;
  if (!path) return nn_seterr(ctx, NN_EARG, "nn_csv_open: path is NULL");
  struct stat st;
  size_t size = 0;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
    if ((uint64_t)st.st_size >= SIZE_MAX / 2)
      return nn_seterr(ctx, NN_EIO, "'%s' is too large to read (%lld bytes)", path,
                       (long long)st.st_size);
    size = (size_t)st.st_size;        /* what is read: a file that grew since is an error */
  }
  int fd;
  if (nn_open_input(ctx, path, &fd) != 0) return NN_EIO;
  nn_csv *r = calloc(1, sizeof *r);
  if (r && !(r->path = strdup(path))) {
    free(r);
    r = NULL;
  }
  if (!r) {
    close(fd);
    return nn_seterr(ctx, NN_ENOMEM, "not enough memory to read '%s'", path);
  }
  if (!(r->buf = nn_mem_alloc(ctx, size + 1, "the text of %s", path))) {
    close(fd);
    nn_csv_close(r);
    return NN_ENOMEM;
  }
  size_t got = 0;
  int err = 0, grew = 0;
  while (got < size) {
    ssize_t k = read(fd, r->buf + got, size - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) { err = errno; break; }
    if (k == 0) break;                /* it shrank: what is there is the file */
    got += (size_t)k;
  }
  if (!err && got == size) {          /* the file must have ended there */
    char extra;
    ssize_t k;
    while ((k = read(fd, &extra, 1)) < 0 && errno == EINTR) {}
    if (k < 0) err = errno;
    grew = k > 0;
  }
  close(fd);
  if (err || grew) {
    nn_csv_close(r);
    if (err) return nn_seterr(ctx, NN_EIO, "cannot read '%s': %s", path, strerror(err));
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': it grew while it was read", path);
  }
  r->buf[got] = '\0';
  r->len = got;
  r->p = r->buf;
  r->end = r->buf + got;
  r->line = 1;
  if (got >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) r->p += 3;   /* a UTF-8 BOM */
  *out = r;
  return 0;
}

void nn_csv_close(nn_csv *r) {
  if (!r) return;
  free(r->path);
  nn_mem_free(r->buf);
  nn_mem_free(r->f);
  nn_mem_free(r->names);
  free(r);
}

size_t nn_csv_bytes(const nn_csv *r) {
  return r->len + 1 + (size_t)(r->cap + r->ncols) * sizeof(nn_csv_field);
}

int64_t nn_csv_records_left(const nn_csv *r) {
  int64_t n = 1;
  for (const char *p = r->p; p < r->end; p++)
    if (*p == '\n' || (*p == '\r' && !(p + 1 < r->end && p[1] == '\n'))) n++;
  return n;
}

/* Makes room for one more field of the record on line. */
static int grow(nn_ctx *ctx, nn_csv *r, int64_t line) {
  int64_t cap = r->cap ? 2 * r->cap : 16;   /* cap <= 2 (len + 1): fields take a byte each */
  size_t bytes;
  nn_csv_field *f = NULL;
  if (nn_mem_size(ctx, (size_t)cap, sizeof *f, &bytes, "the fields of a line of %s", r->path) == 0)
    f = nn_mem_realloc(ctx, r->f, bytes, "the fields of a line of %s (%lld of them)", r->path,
                       (long long)cap);
  if (!f) return fail(ctx, r, E_NOMEM, line, cap, 0);
  r->f = f;
  r->cap = cap;
  return 0;
}

/* Reads the next record into r->f: 1 with *n fields and *line the line it
 * starts on, 0 at the end of the file, or an error. Blank lines are skipped
 * when skip_blank, else they are a record of one empty field. Quoted fields
 * are unquoted in place (the text only moves left), and each field gets a NUL
 * after its text, over its closing quote or its separator, once that was read. */
static int record(nn_ctx *ctx, nn_csv *r, int skip_blank, int64_t *n, int64_t *line) {
  char *p = r->p, *end = r->end;
  *n = 0;
  while (skip_blank && p < end && (*p == '\n' || *p == '\r')) {
    if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
    p++;
    r->line++;
  }
  r->p = p;
  if (p == end) return 0;
  *line = r->line;
  int64_t k = 0;
  for (;;) {
    char *start = p, *w;
    int64_t fline = r->line;
    int quoted = *p == '"';
    if (quoted) {
      p++;
      w = start;
      for (;;) {
        if (p == end) return fail(ctx, r, E_UNCLOSED, fline, k + 1, 0);
        if (*p == '"') {
          if (p + 1 < end && p[1] == '"') { *w++ = '"'; p += 2; continue; }
          p++;
          break;
        }
        if (*p == '\n' || (*p == '\r' && !(p + 1 < end && p[1] == '\n'))) r->line++;
        *w++ = *p++;
      }
      if (p < end && *p != ',' && *p != '\n' && *p != '\r')
        return fail(ctx, r, E_AFTERQUOTE, r->line, k + 1, 0);
    } else {
      while (p < end && *p != ',' && *p != '\n' && *p != '\r') p++;
      w = p;
    }
    if (k == r->cap && grow(ctx, r, *line) != 0) return r->err.code;
    r->f[k++] = (nn_csv_field){start, (size_t)(w - start), fline, quoted};
    char sep = p < end ? *p : '\0';
    *w = '\0';                        /* w <= p, and *p is in sep; at the end, the NUL of ours */
    if (sep == ',') { p++; continue; }
    if (p < end) {                    /* the line end: \r\n, \n or a lone \r */
      if (sep == '\r' && p + 1 < end && p[1] == '\n') p++;
      p++;
      r->line++;
    }
    break;
  }
  r->p = p;
  *n = k;
  return 1;
}

/* Orders fields by their bytes, then by their place in the array. */
static int cmpname(const void *a, const void *b) {
  const nn_csv_field *x = *(const nn_csv_field *const *)a, *y = *(const nn_csv_field *const *)b;
  int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
  if (c != 0) return c;
  if (x->n != y->n) return x->n < y->n ? -1 : 1;
  return x < y ? -1 : x > y;
}

/* The first column (0-based) whose name an earlier column has, and that
 * earlier column, in *first; -1 when the names are distinct (or on no
 * memory: NN_ENOMEM returned). Sorted, not compared in pairs: a header may
 * have a million columns. */
static int first_repeat(nn_ctx *ctx, nn_csv *r, int64_t line, int64_t *rep, int64_t *first) {
  int64_t n = r->ncols;
  *rep = -1;
  const nn_csv_field **s = nn_mem_alloc(ctx, (size_t)n * sizeof *s,   /* n <= INT32_MAX */
                                        "sorting the %lld column names of %s", (long long)n,
                                        r->path);
  if (!s) return fail(ctx, r, E_NOMEM, line, n, 0);
  for (int64_t k = 0; k < n; k++) s[k] = &r->names[k];
  qsort(s, (size_t)n, sizeof *s, cmpname);
  for (int64_t k = 1; k < n; k++) {   /* in a run of equal names, the first two are the repeat */
    const nn_csv_field *a = s[k - 1], *b = s[k];
    int same = a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
    int runstart = k == 1 || !(s[k - 2]->n == a->n && memcmp(s[k - 2]->p, a->p, a->n) == 0);
    if (same && runstart && (*rep < 0 || b - r->names < *rep)) {
      *rep = b - r->names;
      *first = a - r->names;
    }
  }
  nn_mem_free(s);
  return 0;
}

int nn_csv_header(nn_ctx *ctx, nn_csv *r, const nn_csv_field **names, int64_t *n) {
  *names = NULL;
  *n = 0;
  if (r->err.kind) return again(ctx, r);
  if (r->names)
    return nn_seterr(ctx, NN_EARG, "nn_csv_header: the header of '%s' was read already",
                     r->path);
  int64_t k, line;
  int rc = record(ctx, r, 1, &k, &line);
  if (rc < 0) return rc;
  if (rc == 0) return fail(ctx, r, E_EMPTY, 0, 0, 0);
  if (k > INT32_MAX) return fail(ctx, r, E_COLUMNS, line, 0, 0);
  nn_csv_field *copy = nn_mem_alloc(ctx, (size_t)k * sizeof *copy, "the %lld column names of %s",
                                    (long long)k, r->path);
  if (!copy) return fail(ctx, r, E_NOMEM, line, k, 0);
  memcpy(copy, r->f, (size_t)k * sizeof *copy);
  r->names = copy;
  r->ncols = k;
  int64_t empty = -1, rep, first = 0;
  for (int64_t c = 0; c < k && empty < 0; c++)
    if (copy[c].n == 0) empty = c;
  if (first_repeat(ctx, r, line, &rep, &first) != 0) return r->err.code;
  if (empty >= 0 && (rep < 0 || empty < rep)) return fail(ctx, r, E_NONAME, line, empty + 1, 0);
  if (rep >= 0) {
    r->err.name = copy[rep].p;
    return fail(ctx, r, E_REPEAT, line, rep + 1, first + 1);
  }
  *names = copy;
  *n = k;
  return 0;
}

int nn_csv_next(nn_ctx *ctx, nn_csv *r, const nn_csv_field **fields, int64_t *n,
                int64_t *line) {
  *fields = NULL;
  *n = 0;
  *line = 0;
  if (r->err.kind) return again(ctx, r);
  int64_t k, ln;
  int rc = record(ctx, r, r->ncols != 1, &k, &ln);
  if (rc <= 0) return rc;
  if (r->ncols && k != r->ncols) return fail(ctx, r, E_COUNT, ln, k, r->ncols);
  *fields = r->f;
  *n = k;
  *line = ln;
  return 1;
}

/* ---- numbers ---- */

static int lspace(char c) {           /* Lua's lisspace: \t \n \v \f \r and the space */
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* inf, infinity, nan in any case with an optional sign, spaces around. */
static int special(const char *s, size_t n, double *d) {
  size_t a = 0, b = n;
  while (a < b && lspace(s[a])) a++;
  while (b > a && lspace(s[b - 1])) b--;
  int neg = a < b && s[a] == '-';
  if (a < b && (s[a] == '-' || s[a] == '+')) a++;
  size_t m = b - a;
  if (m != 3 && m != 8) return NN_CSV_TEXT;
  char w[9];
  for (size_t k = 0; k < m; k++) w[k] = (char)(s[a + k] | 0x20);   /* ASCII lower case */
  w[m] = '\0';
  if (strcmp(w, "inf") == 0 || strcmp(w, "infinity") == 0) {
    *d = neg ? -HUGE_VAL : HUGE_VAL;
    return NN_CSV_FLOAT;
  }
  if (strcmp(w, "nan") == 0) {
    *d = NAN;
    return NN_CSV_FLOAT;
  }
  return NN_CSV_TEXT;
}

/* The rest follows Lua 5.4's luaO_str2num (lobject.c): first as an integer
 * (l_str2int: decimal digits that fit), then as a float (l_str2d: strtod,
 * refused when the first of '.', 'n', 'N' is an 'n', which keeps out strtod's
 * inf and nan). Lua's retry with the locale's decimal point is the same
 * attempt again here: nnlua never changes LC_NUMERIC from "C". */
int nn_csv_number(const char *s, size_t n, int64_t *i, double *d) {
  if (n == 0 || memchr(s, 'x', n) || memchr(s, 'X', n)) return NN_CSV_TEXT;
  if (memchr(s, '\0', n)) return special(s, n, d);   /* tonumber would see a prefix only */
  const char *q = s;
  while (lspace(*q)) q++;
  int neg = *q == '-';
  if (*q == '-' || *q == '+') q++;
  uint64_t a = 0;
  int digits = 0, fits = 1;
  for (; *q >= '0' && *q <= '9'; q++, digits++) {
    unsigned dg = (unsigned)(*q - '0');
    if (a >= (uint64_t)INT64_MAX / 10 && (a > (uint64_t)INT64_MAX / 10 || dg > 7u + (unsigned)neg)) {
      fits = 0;
      break;
    }
    a = a * 10 + dg;
  }
  if (fits) {
    while (lspace(*q)) q++;
    if (digits && *q == '\0') {
      *i = !neg ? (int64_t)a : a == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)a;
      return NN_CSV_INT;
    }
  }
  const char *mode = strpbrk(s, ".nN");
  if (!mode || *mode == '.') {
    char *e;
    double v = strtod(s, &e);
    if (e != s) {
      while (lspace(*e)) e++;
      if (*e == '\0') {
        *d = v;
        return NN_CSV_FLOAT;
      }
    }
  }
  return special(s, n, d);
}
