/* test_print.c -- nn_tensor_format against PyTorch's printouts
 * (tests/fixtures/print_cases.txt, made by tests/fixtures/gen_print.py), and
 * non-contiguous views against their contiguous copies.
 *
 * Tensors are built by hand here (no nn/tensor.c): a calloc'd nn_storage and
 * nn_tensor with the strides each test wants. The fixture is read relative to
 * the repo root, or to $NNLUA_ROOT when set. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "nn/tensor.h"

#define FIXTURE "tests/fixtures/print_cases.txt"

/* ---- hand-made tensors ---- */

/* A tensor over a new zeroed storage of nstore elements. */
static nn_tensor *mk(int ndim, const int64_t *shape, const int64_t *stride,
                     size_t off, size_t nstore) {
  nn_storage *s = calloc(1, sizeof *s);
  nn_tensor *t = calloc(1, sizeof *t);
  float *data = calloc(nstore ? nstore : 1, sizeof(float));
  if (!s || !t || !data) { free(s); free(t); free(data); return NULL; }
  s->data = data;
  s->n = nstore;
  s->rc = 1;
  t->s = s;
  t->off = off;
  t->ndim = ndim;
  t->rc = 1;
  for (int d = 0; d < ndim; d++) { t->shape[d] = shape[d]; t->stride[d] = stride[d]; }
  return t;
}

static void drop(nn_tensor *t) {
  if (!t) return;
  free(t->s->data);
  free(t->s);
  free(t);
}

static int64_t numel(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  return n;
}

/* Row-major strides for shape (order 0) or dims reversed, column-major (order 1). */
static void strides_for(int ndim, const int64_t *shape, int order, int64_t *stride) {
  int64_t st = 1;
  for (int i = 0; i < ndim; i++) {
    int d = order ? i : ndim - 1 - i;
    stride[d] = st;
    st *= shape[d] > 0 ? shape[d] : 1;
  }
}

/* Storage offset of the i-th element in row-major order. */
static int64_t offset_of(const nn_tensor *t, int64_t i) {
  int64_t off = (int64_t)t->off;
  for (int d = t->ndim - 1; d >= 0; d--) {
    off += (i % t->shape[d]) * t->stride[d];
    i /= t->shape[d];
  }
  return off;
}

/* A tensor of the given shape holding v (row-major) laid out with order's
 * strides, starting at storage offset off. */
static nn_tensor *from(int ndim, const int64_t *shape, const float *v, int order,
                       size_t off) {
  int64_t stride[NN_MAXDIM] = {0}, n = numel(ndim, shape);
  strides_for(ndim, shape, order, stride);
  nn_tensor *t = mk(ndim, shape, stride, off, off + (size_t)n);
  if (!t) return NULL;
  for (int64_t i = 0; i < n; i++) t->s->data[offset_of(t, i)] = v[i];
  return t;
}

/* A contiguous copy of any view. */
static nn_tensor *copy(const nn_tensor *t) {
  int64_t n = numel(t->ndim, t->shape);
  float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
  if (!v) return NULL;
  for (int64_t i = 0; i < n; i++) v[i] = t->s->data[offset_of(t, i)];
  nn_tensor *c = from(t->ndim, t->shape, v, 0, 0);
  free(v);
  return c;
}

/* ---- comparing printouts ---- */

static int same_text(const char *what, const char *got, const char *want) {
  int ok = got && want && strcmp(got, want) == 0;
  if (!ok)
    fprintf(stderr, "  %s:\n--- got\n%s\n--- expected\n%s\n---\n", what,
            got ? got : "(NULL)", want ? want : "(NULL)");
  return ok;
}

/* The view t prints exactly as its contiguous copy. */
static int same_as_copy(const char *what, const nn_tensor *t) {
  nn_tensor *c = copy(t);
  char *a = nn_tensor_format(t), *b = c ? nn_tensor_format(c) : NULL;
  int ok = same_text(what, a, b);
  free(a);
  free(b);
  drop(c);
  return ok;
}

/* ---- the fixture ---- */

typedef struct {
  char name[96];
  int ndim;
  int64_t shape[NN_MAXDIM];
  float *v;
  char *expect;
} pcase;

static FILE *open_fixture(void) {
  const char *root = getenv("NNLUA_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s%s%s", root ? root : "", root ? "/" : "", FIXTURE);
  FILE *f = fopen(path, "r");
  if (!f) fprintf(stderr, "  cannot open %s (run from the repo root or set NNLUA_ROOT)\n", path);
  return f;
}

/* Parses "case <name> <ndim> <dims...>"; returns 0 if the line is not one. */
static int parse_header(const char *line, pcase *c) {
  int pos = 0;
  if (sscanf(line, "case %95s %d%n", c->name, &c->ndim, &pos) != 2) return 0;
  if (c->ndim < 0 || c->ndim > NN_MAXDIM) return 0;
  const char *p = line + pos;
  for (int d = 0; d < c->ndim; d++) {
    char *end;
    c->shape[d] = strtoll(p, &end, 10);
    if (end == p) return 0;
    p = end;
  }
  return 1;
}

static int parse_values(const char *line, pcase *c) {
  int64_t n = numel(c->ndim, c->shape);
  c->v = malloc((size_t)(n ? n : 1) * sizeof *c->v);
  if (!c->v) return 0;
  const char *p = line;
  for (int64_t i = 0; i < n; i++) {
    char *end;
    c->v[i] = strtof(p, &end);
    if (end == p) return 0;
    p = end;
  }
  return 1;
}

/* Joins the lines up to "@end" with '\n' (no trailing newline). */
static int read_expect(FILE *f, char **line, size_t *cap, pcase *c) {
  size_t len = 0;
  c->expect = NULL;
  ssize_t got;
  while ((got = getline(line, cap, f)) > 0) {
    if ((*line)[got - 1] == '\n') (*line)[--got] = '\0';
    if (strcmp(*line, "@end") == 0) return c->expect != NULL;
    char *e = realloc(c->expect, len + (size_t)got + 2);
    if (!e) return 0;
    c->expect = e;
    if (len) e[len++] = '\n';
    memcpy(e + len, *line, (size_t)got + 1);
    len += (size_t)got;
  }
  return 0;
}

/* Reads the next case; returns 1, or 0 at the end, or -1 on a malformed file. */
static int next_case(FILE *f, char **line, size_t *cap, pcase *c) {
  memset(c, 0, sizeof *c);
  ssize_t got;
  while ((got = getline(line, cap, f)) > 0 && strncmp(*line, "case ", 5) != 0) {}
  if (got <= 0) return 0;
  if (!parse_header(*line, c)) return -1;
  if (getline(line, cap, f) < 0 || !parse_values(*line, c)) return -1;
  return read_expect(f, line, cap, c) ? 1 : -1;
}

/* One case, laid out contiguously and column-major at an offset. */
static void check_case(const pcase *c) {
  char what[160];
  for (int order = 0; order < 2; order++) {
    nn_tensor *t = from(c->ndim, c->shape, c->v, order, order ? 5 : 0);
    char *s = t ? nn_tensor_format(t) : NULL;
    snprintf(what, sizeof what, "case %s (%s)", c->name,
             order ? "column-major, offset 5" : "contiguous");
    CHECK(same_text(what, s, c->expect));
    free(s);
    drop(t);
  }
}

TEST(print_fixture_cases) {
  FILE *f = open_fixture();
  CHECK(f != NULL);
  if (!f) return;
  char *line = NULL;
  size_t cap = 0;
  int ncases = 0, r;
  pcase c;
  while ((r = next_case(f, &line, &cap, &c)) == 1) {
    check_case(&c);
    ncases++;
    free(c.v);
    free(c.expect);
  }
  CHECK(r == 0);                       /* the whole file parsed */
  free(c.v);
  free(c.expect);
  free(line);
  fclose(f);
  CHECK(ncases >= 40);
}

/* ---- views ---- */

/* A rows x cols contiguous tensor with values i * scale (i = 0, 1, ...). */
static nn_tensor *ramp(int64_t rows, int64_t cols, float scale) {
  int64_t shape[2] = {rows, cols}, stride[2] = {cols, 1};
  nn_tensor *t = mk(2, shape, stride, 0, (size_t)(rows * cols));
  if (t)
    for (int64_t i = 0; i < rows * cols; i++) t->s->data[i] = (float)i * scale;
  return t;
}

/* Swaps the two dims of a 2-d tensor in place: a transposed view. */
static void transpose(nn_tensor *t) {
  int64_t sh = t->shape[0], st = t->stride[0];
  t->shape[0] = t->shape[1]; t->stride[0] = t->stride[1];
  t->shape[1] = sh; t->stride[1] = st;
}

TEST(print_transposed_view) {
  nn_tensor *a = ramp(5, 7, 0.37f), *b = ramp(40, 50, 1.0f);
  CHECK(a && b);
  if (!a || !b) { drop(a); drop(b); return; }
  transpose(a);
  transpose(b);                        /* summarised: 2000 elements */
  CHECK(same_as_copy("transposed [7, 5]", a));
  CHECK(same_as_copy("transposed [50, 40]", b));
  char *s = nn_tensor_format(a);
  CHECK(s && strncmp(s, "tensor([[ 0.0000,  2.5900,", 26) == 0);
  free(s);
  drop(a);
  drop(b);
}

TEST(print_narrowed_view) {
  nn_tensor *a = ramp(6, 8, -1.5f);
  CHECK(a != NULL);
  if (!a) return;
  a->off = 1 * 8 + 2;                  /* rows 2..5, cols 3..5 (1-based) */
  a->shape[0] = 4;
  a->shape[1] = 3;
  CHECK(same_as_copy("narrowed [4, 3] at offset 10", a));
  char *s = nn_tensor_format(a);
  CHECK(same_text("narrowed", s, "tensor([[-15.0000, -16.5000, -18.0000],\n"
                                 "        [-27.0000, -28.5000, -30.0000],\n"
                                 "        [-39.0000, -40.5000, -42.0000],\n"
                                 "        [-51.0000, -52.5000, -54.0000]], shape=[4, 3])"));
  free(s);
  a->ndim = 1;                         /* one column as a 1-d view: stride 8 */
  a->shape[0] = 6;
  a->stride[0] = 8;
  a->off = 3;
  CHECK(same_as_copy("column 4 as [6]", a));
  drop(a);
}

TEST(print_expanded_view) {
  int64_t shape[3] = {400, 2, 3}, stride[3] = {0, 3, 1};   /* [2, 3] expanded */
  nn_tensor *t = mk(3, shape, stride, 0, 6);
  CHECK(t != NULL);
  if (!t) return;
  for (int i = 0; i < 6; i++) t->s->data[i] = (float)(i - 2) / 4;
  CHECK(same_as_copy("stride-0 [400, 2, 3]", t));
  drop(t);
}

TEST(print_scalar_view) {
  int64_t none[1] = {0};
  nn_tensor *t = mk(0, none, none, 3, 4);
  CHECK(t != NULL);
  if (!t) return;
  t->s->data[3] = 42;
  char *s = nn_tensor_format(t);
  CHECK(same_text("0-d at offset 3", s, "tensor(42.)"));
  free(s);
  drop(t);
}

TEST(print_negative_nan) {              /* 0/0 on x86 has the sign bit set */
  int64_t shape[1] = {3}, stride[1] = {1};
  nn_tensor *t = mk(1, shape, stride, 0, 3);
  CHECK(t != NULL);
  if (!t) return;
  t->s->data[0] = copysignf(NAN, -1.0f);
  t->s->data[1] = 0.25f;
  t->s->data[2] = copysignf(NAN, 1.0f);
  char *s = nn_tensor_format(t);
  CHECK(same_text("-nan", s, "tensor([   nan, 0.2500,    nan], shape=[3])"));
  free(s);
  drop(t);
}

/* A leaf that requires grad says so after the shape, as PyTorch's
 * requires_grad=True, and moves to a new line by the same rule as the shape. */
TEST(print_requires_grad) {
  int64_t shape[1] = {2}, stride[1] = {1}, none[1] = {0};
  nn_tensor *t = mk(1, shape, stride, 0, 2);
  CHECK(t != NULL);
  if (!t) return;
  t->s->data[0] = 1;
  t->s->data[1] = -0.5f;
  t->requires_grad = 1;
  char *s = nn_tensor_format(t);
  CHECK(same_text("leaf", s, "tensor([ 1.0000, -0.5000], shape=[2], requires_grad=true)"));
  free(s);
  drop(t);
  nn_tensor *z = mk(0, none, none, 0, 1);
  CHECK(z != NULL);
  if (!z) return;
  z->requires_grad = 1;
  s = nn_tensor_format(z);
  CHECK(same_text("0-d leaf", s, "tensor(0., requires_grad=true)"));
  free(s);
  drop(z);
  int64_t wide[1] = {10};
  nn_tensor *w = mk(1, wide, stride, 0, 10);
  CHECK(w != NULL);
  if (!w) return;
  for (int i = 0; i < 10; i++) w->s->data[i] = 1.5f + (float)i * 1000;
  w->requires_grad = 1;
  s = nn_tensor_format(w);
  CHECK(same_text("wrapped", s, "tensor([1.5000e+00, 1.0015e+03, 2.0015e+03, 3.0015e+03, 4.0015e+03, 5.0015e+03,\n"
                                "        6.0015e+03, 7.0015e+03, 8.0015e+03, 9.0015e+03], shape=[10],\n"
                                "       requires_grad=true)"));
  free(s);
  drop(w);
}
