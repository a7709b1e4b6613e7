/* fuzz_csv.c -- libFuzzer harness for the CSV reader (nn/io/csv.h). Each input
 * is written to a memfd and read as /proc/self/fd/N, like fuzz_idx. It traps
 * when the contract of csv.h breaks:
 *  - with a header: the names are non-empty and distinct, every record has
 *    as many fields, records and fields start on lines that never go back,
 *    every field has its NUL after its n bytes, nn_csv_records_left was not
 *    too small; a failure is NN_EIO (or NN_ENOMEM) with a message naming the
 *    input, the same text from nn_csv_message, and the same error again;
 *  - every field's nn_csv_number agrees with Lua's own lua_stringtonumber
 *    (the rule data.read_csv promises; Lua is linked only here, not in nn/);
 *  - without a header: the records written back with every field quoted read
 *    back as the same fields (whatever parses, writes and reads back).
 * See README.md. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include "nn/io/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nn_ctx *ctx;
static lua_State *L;

/* A memfd holding b, and its /proc path in path. */
static int memfile(int *fd, char *path, size_t cap, const void *b, size_t len) {
  if (*fd < 0) {
    if ((*fd = memfd_create("fuzz_csv", 0)) < 0) abort();
    snprintf(path, cap, "/proc/self/fd/%d", *fd);
  }
  if (ftruncate(*fd, 0) != 0) abort();
  if (len && pwrite(*fd, b, len, 0) != (ssize_t)len) abort();
  return 0;
}

/* The field's number as nn_csv_number reads it, against tonumber. */
static void check_number(const nn_csv_field *f) {
  int64_t i = 0;
  double d = 0;
  int kind = nn_csv_number(f->p, f->n, &i, &d);
  if (kind != NN_CSV_TEXT && kind != NN_CSV_INT && kind != NN_CSV_FLOAT) __builtin_trap();
  int hex = memchr(f->p, 'x', f->n) || memchr(f->p, 'X', f->n);
  size_t used = hex || memchr(f->p, '\0', f->n) ? 0 : lua_stringtonumber(L, f->p);
  if (used == f->n + 1) {
    if (lua_isinteger(L, -1)) {
      if (kind != NN_CSV_INT || i != lua_tointeger(L, -1)) __builtin_trap();
    } else {
      double v = lua_tonumber(L, -1);
      if (kind != NN_CSV_FLOAT || memcmp(&d, &v, sizeof d) != 0) __builtin_trap();
    }
    lua_pop(L, 1);
  } else if (used != 0) {
    __builtin_trap();                 /* no NUL inside: all of it or nothing */
  } else if (kind == NN_CSV_INT || (kind == NN_CSV_FLOAT && !isinf(d) && !isnan(d))) {
    __builtin_trap();                 /* beyond tonumber only inf, infinity and nan */
  }
}

/* A failure: the code, the message (naming path), and the same error again. */
static void check_failure(nn_csv *r, int rc, const char *path, int header) {
  if (rc != NN_EIO && rc != NN_ENOMEM) __builtin_trap();
  if (!strstr(ctx->err, path)) __builtin_trap();
  size_t n = nn_csv_message(r, NULL, 0);
  if (n < NN_ERRLEN - 1 ? n != strlen(ctx->err) : strlen(ctx->err) != NN_ERRLEN - 1) __builtin_trap();
  char *m = malloc(n + 1);
  if (!m || nn_csv_message(r, m, n + 1) != n || strncmp(m, ctx->err, NN_ERRLEN - 1) != 0)
    __builtin_trap();
  ctx->err[0] = '\0';
  const nn_csv_field *f;
  int64_t k, line;
  int again = header ? nn_csv_header(ctx, r, &f, &k) : nn_csv_next(ctx, r, &f, &k, &line);
  if (again != rc || strncmp(m, ctx->err, NN_ERRLEN - 1) != 0 || f || k) __builtin_trap();
  free(m);
}

static void check_field(const nn_csv_field *f, int64_t line, size_t size) {
  if (f->n > size || f->p[f->n] != '\0' || f->line < line) __builtin_trap();
  if (f->quoted != 0 && f->quoted != 1) __builtin_trap();
  check_number(f);
}

/* Read with a header, checking every record. */
static void with_header(const char *path, size_t size) {
  nn_csv *r;
  if (nn_csv_open(ctx, path, &r) != 0) __builtin_trap();
  const nn_csv_field *names, *f;
  int64_t ncols, n, line, last = 0, records = 0;
  int rc = nn_csv_header(ctx, r, &names, &ncols);
  if (rc != 0) {
    if (names || ncols) __builtin_trap();
    check_failure(r, rc, path, 1);
    nn_csv_close(r);
    return;
  }
  if (ncols < 1 || !names) __builtin_trap();
  for (int64_t a = 0; a < ncols; a++) {
    if (names[a].n == 0) __builtin_trap();
    check_field(&names[a], 1, size);
    for (int64_t b = a + 1; b < ncols && b < a + 64; b++)
      if (names[a].n == names[b].n && memcmp(names[a].p, names[b].p, names[a].n) == 0) __builtin_trap();
  }
  int64_t left = nn_csv_records_left(r);
  while ((rc = nn_csv_next(ctx, r, &f, &n, &line)) == 1) {
    if (n != ncols || line < last || line < 1) __builtin_trap();
    last = line;
    for (int64_t k = 0; k < n; k++) {
      check_field(&f[k], line, size);
      if (k > 0 && f[k].line < f[k - 1].line) __builtin_trap();
    }
    records++;
  }
  if (records > left) __builtin_trap();
  if (rc < 0) check_failure(r, rc, path, 0);
  else if (rc != 0 || f || n) __builtin_trap();
  nn_csv_close(r);
}

static void put(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    *cap = (*len + n + 1) * 2;
    if (!(*b = realloc(*b, *cap))) abort();
  }
  memcpy(*b + *len, s, n);
  *len += n;
}

/* Without a header: every record, written back quoted, reads back the same. */
static void round_trip(const char *path) {
  static int fd2 = -1;
  static char path2[64];
  nn_csv *r;
  if (nn_csv_open(ctx, path, &r) != 0) __builtin_trap();
  char *b = NULL;
  size_t len = 0, cap = 0;
  const nn_csv_field *f;
  int64_t n, line;
  int rc;
  while ((rc = nn_csv_next(ctx, r, &f, &n, &line)) == 1) {
    for (int64_t k = 0; k < n; k++) {
      put(&b, &len, &cap, k ? ",\"" : "\"", k ? 2 : 1);
      for (size_t j = 0; j < f[k].n; j++)
        put(&b, &len, &cap, f[k].p[j] == '"' ? "\"\"" : &f[k].p[j], f[k].p[j] == '"' ? 2 : 1);
      put(&b, &len, &cap, "\"", 1);
    }
    put(&b, &len, &cap, "\n", 1);
  }
  nn_csv_close(r);
  if (rc != 0) { free(b); return; }   /* errors: checked by with_header */
  memfile(&fd2, path2, sizeof path2, b, len);
  nn_csv *a, *c;
  if (nn_csv_open(ctx, path, &a) != 0 || nn_csv_open(ctx, path2, &c) != 0) __builtin_trap();
  const nn_csv_field *g;
  int64_t m, line2;
  for (;;) {
    int ra = nn_csv_next(ctx, a, &f, &n, &line), rb = nn_csv_next(ctx, c, &g, &m, &line2);
    if (ra != rb || n != m) __builtin_trap();
    if (ra != 1) break;
    for (int64_t k = 0; k < n; k++)
      if (f[k].n != g[k].n || memcmp(f[k].p, g[k].p, f[k].n) != 0 || !g[k].quoted) __builtin_trap();
  }
  nn_csv_close(a);
  nn_csv_close(c);
  free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (!ctx && !(ctx = nn_ctx_new())) abort();
  if (!L && !(L = luaL_newstate())) abort();
  memfile(&fd, path, sizeof path, data, size);
  with_header(path, size);
  round_trip(path);
  return 0;
}
