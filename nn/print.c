/* print.c -- PyTorch's str(tensor) for float32 strided tensors.
 *
 * Follows torch/_tensor_str.py with the default print options (precision 4,
 * threshold 1000, edgeitems 3, linewidth 80, sci_mode None):
 *
 *   1. Pick the shown elements: all of them, or when numel > THRESHOLD the
 *      first and last EDGE of every dim longer than 2 * EDGE.
 *   2. Pick one number format for the whole tensor from the shown nonzero
 *      finite values: integer mode ("3."), fixed ("3.1416") or scientific
 *      ("3.1416e+00"), and one column width.
 *   3. Print nested brackets: rows wrap at LINEWIDTH, sub-blocks of a k-d
 *      tensor are separated by k-1 newlines, skipped parts show "...".
 *
 * nnlua adds "shape=[d1, ..., dn]" as a suffix of every tensor with ndim >= 1,
 * placed by PyTorch's suffix rule (same line if it fits in LINEWIDTH, else on
 * a new line under the opening bracket); it replaces PyTorch's size=(...) of
 * empty tensors. 0-d tensors get no shape. Then, as PyTorch does,
 * "grad_fn=<Name>" for a tensor made by a recorded op, or else
 * "requires_grad=true" for one that requires grad (Lua's true for Python's
 * True); placed by the same rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autograd.h"
#include "tensor.h"

#define PRECISION 4
#define THRESHOLD 1000
#define EDGE 3
#define LINEWIDTH 80
#define PREFIX "tensor("
#define INDENT 7                /* strlen(PREFIX) */
#define NUMLEN 64               /* "%.4f" of FLT_MAX is 44 characters */

/* ---- growable string ---- */

typedef struct {
  char *p;
  size_t n, cap;
  int oom;                      /* an allocation failed; p is freed */
} buf;

static void reserve(buf *b, size_t extra) {
  if (b->oom || b->n + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + extra + 1) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) { free(b->p); b->p = NULL; b->oom = 1; return; }
  b->p = p;
  b->cap = cap;
}

static void putn(buf *b, const char *s, size_t n) {
  reserve(b, n);
  if (b->oom) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void putstr(buf *b, const char *s) { putn(b, s, strlen(s)); }

static void putrep(buf *b, char c, size_t n) {
  reserve(b, n);
  if (b->oom) return;
  memset(b->p + b->n, c, n);
  b->n += n;
  b->p[b->n] = '\0';
}

/* ---- which elements are shown ---- */

static int64_t nshown(int64_t n, int summ) {
  return summ && n > 2 * EDGE ? 2 * EDGE : n;
}

static int64_t shown_index(int64_t n, int summ, int64_t k) {   /* k-th shown -> index */
  return summ && n > 2 * EDGE && k >= EDGE ? n - 2 * EDGE + k : k;
}

static int elided(int64_t n, int summ) { return summ && n > 2 * EDGE; }

/* Copies the shown elements of t (from dim d on, at storage offset off) to
 * out[*k...], in print order. */
static void gather(const nn_tensor *t, int d, int64_t off, int summ,
                   float *out, size_t *k) {
  if (d == t->ndim) { out[(*k)++] = t->s->data[off]; return; }
  int64_t n = t->shape[d], m = nshown(n, summ);
  for (int64_t i = 0; i < m; i++)
    gather(t, d + 1, off + shown_index(n, summ, i) * t->stride[d], summ, out, k);
}

/* ---- number format (PyTorch's _Formatter) ---- */

typedef struct {
  int intmode, sci, width;
} fmt;

/* Text of v without padding; returns its length. */
static int numstr(const fmt *f, float v, char *s) {
  if (isnan(v)) return snprintf(s, NUMLEN, "nan");   /* Python drops nan's sign */
  if (isinf(v)) return snprintf(s, NUMLEN, v < 0 ? "-inf" : "inf");
  if (f->sci) return snprintf(s, NUMLEN, "%.*e", PRECISION, (double)v);
  if (f->intmode) return snprintf(s, NUMLEN, "%.0f.", (double)v);
  return snprintf(s, NUMLEN, "%.*f", PRECISION, (double)v);
}

/* Chooses the mode from the nonzero finite values among v[0..n). */
static void fmt_mode(fmt *f, const float *v, size_t n) {
  double lo = INFINITY, hi = 0;
  size_t count = 0;
  f->intmode = 1;
  f->sci = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]) || v[i] == 0) continue;
    double a = fabs((double)v[i]);
    lo = a < lo ? a : lo;
    hi = a > hi ? a : hi;
    if (v[i] != ceilf(v[i])) f->intmode = 0;
    count++;
  }
  if (count == 0) return;
  f->sci = hi / lo > 1000.0 || hi > 1.0e8 || (!f->intmode && lo < 1.0e-4);
}

static void fmt_init(fmt *f, const float *v, size_t n) {
  char s[NUMLEN];
  fmt_mode(f, v, n);
  f->width = 1;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]) || v[i] == 0) continue;
    int len = numstr(f, v[i], s);
    if (len > f->width) f->width = len;
  }
}

/* ---- layout (PyTorch's _tensor_str_with_formatter) ---- */

typedef struct {
  buf b;
  fmt f;
  const float *v;               /* shown values in print order */
  size_t k;                     /* next one */
  const int64_t *shape;
  int ndim, summ;
} printer;

static void putval(printer *p) {
  char s[NUMLEN];
  int len = numstr(&p->f, p->v[p->k++], s);
  if (len < p->f.width) putrep(&p->b, ' ', (size_t)(p->f.width - len));
  putn(&p->b, s, (size_t)len);
}

/* Separator before item i of a row: ", " or a line break every per_line items. */
static void rowsep(printer *p, int64_t i, int64_t per_line, int indent) {
  if (i == 0) return;
  if (i % per_line) { putstr(&p->b, ", "); return; }
  putstr(&p->b, ",\n");
  putrep(&p->b, ' ', (size_t)indent + 1);
}

/* Last dim: items are the values plus " ..." after the first EDGE if elided. */
static void vector(printer *p, int64_t n, int indent) {
  int64_t per_line = (LINEWIDTH - indent) / (p->f.width + 2);
  if (per_line < 1) per_line = 1;
  int gap = elided(n, p->summ);
  int64_t items = nshown(n, p->summ) + gap;
  putn(&p->b, "[", 1);
  for (int64_t i = 0; i < items; i++) {
    rowsep(p, i, per_line, indent);
    if (gap && i == EDGE) putstr(&p->b, " ...");
    else putval(p);
  }
  putn(&p->b, "]", 1);
}

/* Dims d.. of the tensor; blocks of a k-d slice are separated by k-1 newlines. */
static void block(printer *p, int d, int indent) {
  int64_t n = p->shape[d];
  if (d == p->ndim - 1) { vector(p, n, indent); return; }
  int gap = elided(n, p->summ);
  int64_t items = nshown(n, p->summ) + gap;
  putn(&p->b, "[", 1);
  for (int64_t i = 0; i < items; i++) {
    if (i > 0) {
      putn(&p->b, ",", 1);
      putrep(&p->b, '\n', (size_t)(p->ndim - d - 1));
      putrep(&p->b, ' ', (size_t)indent + 1);
    }
    if (gap && i == EDGE) putstr(&p->b, "...");
    else block(p, d + 1, indent + 1);
  }
  putn(&p->b, "]", 1);
}

/* ---- whole printout ---- */

/* Appends ", suffix" to the printout, or ",\n" and the indent before it,
 * by PyTorch's _add_suffixes rule; *last is its count of the last line (two
 * more characters than the line has), updated here. */
static void suffix(buf *b, const char *s, size_t *last) {
  size_t len = strlen(s);
  if (*last + len + 2 > LINEWIDTH) {
    putstr(b, ",\n");
    putrep(b, ' ', INDENT);
    *last = INDENT + len;
  } else {
    putstr(b, ", ");
    *last += len + 2;
  }
  putn(b, s, len);
}

/* The suffixes: "shape=[2, 3]" for ndim >= 1, then "grad_fn=<MulBackward0>"
 * for a tensor made by a recorded op, or else "requires_grad=true" for a leaf
 * that requires grad (PyTorch's order and rule; true in Lua's spelling). */
static void suffixes(buf *b, const nn_tensor *t) {
  char s[32 + NN_MAXDIM * 24];
  if (b->oom) return;
  const char *nl = strrchr(b->p, '\n');
  size_t last = b->n - (nl ? (size_t)(nl - b->p) + 1 : 0) + 2;
  if (t->ndim > 0) {
    size_t len = (size_t)snprintf(s, 32, "shape=[");
    for (int d = 0; d < t->ndim; d++)
      len += (size_t)snprintf(s + len, sizeof s - len, "%s%lld", d ? ", " : "",
                              (long long)t->shape[d]);
    snprintf(s + len, sizeof s - len, "]");
    suffix(b, s, &last);
  }
  const char *fn = nn_grad_fn_name(t);
  if (fn != NULL) {
    snprintf(s, sizeof s, "grad_fn=<%s>", fn);
    suffix(b, s, &last);
  } else if (t->requires_grad) {
    suffix(b, "requires_grad=true", &last);
  }
}

static size_t count_shown(const nn_tensor *t, int summ) {
  size_t m = 1;
  for (int d = 0; d < t->ndim; d++) m *= (size_t)nshown(t->shape[d], summ);
  return m;
}

static int64_t numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}

/* Prints the values of a tensor with numel > 0 into p->b. */
static void body(printer *p, const nn_tensor *t) {
  size_t m = count_shown(t, p->summ), k = 0;
  float *v = malloc(m * sizeof *v);
  if (!v) { free(p->b.p); p->b.p = NULL; p->b.oom = 1; return; }
  gather(t, 0, (int64_t)t->off, p->summ, v, &k);
  fmt_init(&p->f, v, m);
  p->v = v;
  if (t->ndim == 0) putval(p);
  else block(p, 0, INDENT);
  free(v);
}

char *nn_tensor_format(const nn_tensor *t) {
  printer p = {0};
  int64_t n = numel(t);
  p.shape = t->shape;
  p.ndim = t->ndim;
  p.summ = n > THRESHOLD;
  putstr(&p.b, PREFIX);
  if (n == 0) putstr(&p.b, "[]");
  else body(&p, t);
  suffixes(&p.b, t);
  putstr(&p.b, ")");
  return p.b.oom ? NULL : p.b.p;
}
