/* test_csv.c -- the CSV reader (nn/io/csv.h): quoting, doubled quotes, line
 * ends inside quotes, \r\n / \n / \r, the BOM, a last line without a line
 * end, blank lines, every error with its line and column (and that it stays),
 * the header's names, lines over 1 MB, messages longer than ctx->err, files
 * that are not regular, and the number rule checked against Lua's own
 * lua_stringtonumber. Files go to a mkdtemp folder removed by each test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lua.h>
#include <lauxlib.h>
#include "check.h"
#include "nn/io/csv.h"

/* ---- helpers ---- */

/* Writes len bytes of s to name in the test's folder and opens a reader on
 * it (NULL, with the message printed, if that fails). */
static nn_csv *open_bytes(nn_ctx *ctx, const char *name, const char *s, size_t len) {
  const char *p = check_tmppath(name);
  if (check_write_file(p, s, len) != 0) return NULL;
  nn_csv *r;
  if (nn_csv_open(ctx, p, &r) != 0) {
    fprintf(stderr, "  %s\n", ctx->err);
    return NULL;
  }
  return r;
}

static nn_csv *open_text(nn_ctx *ctx, const char *s) {
  return open_bytes(ctx, "t.csv", s, strlen(s));
}

static int field_is(const nn_csv_field *f, const char *text, int quoted) {
  size_t n = strlen(text);
  int ok = f->n == n && memcmp(f->p, text, n) == 0 && f->p[n] == '\0' && f->quoted == quoted;
  if (!ok) fprintf(stderr, "  field '%.*s' (quoted %d), expected '%s' (quoted %d)\n",
                   (int)f->n, f->p, f->quoted, text, quoted);
  return ok;
}

/* Reads the next record and checks it is the n fields given (unquoted
 * unless the text starts with '"', which is then dropped) starting on line. */
static void expect_record(nn_ctx *ctx, nn_csv *r, int64_t line, int n, const char *const *want) {
  const nn_csv_field *f;
  int64_t k, ln;
  int rc = nn_csv_next(ctx, r, &f, &k, &ln);
  if (rc != 1) fprintf(stderr, "  rc %d: %s\n", rc, ctx->err);
  CHECK(rc == 1);
  if (rc != 1) return;
  CHECK(ln == line);
  CHECK(k == n);
  for (int i = 0; i < n && i < k; i++)
    CHECK(field_is(&f[i], want[i] + (want[i][0] == '"'), want[i][0] == '"'));
}

static void expect_end(nn_ctx *ctx, nn_csv *r) {
  const nn_csv_field *f;
  int64_t k, ln;
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 0);
  CHECK(k == 0 && f == NULL);
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 0);   /* and stays there */
}

/* Reads records until an error, which must be NN_EIO with msg (FILE standing
 * for the path) in ctx->err and in nn_csv_message, and must come again. */
static void expect_error(nn_ctx *ctx, nn_csv *r, int header, const char *msg) {
  const nn_csv_field *f;
  int64_t k, ln;
  int rc;
  if (header) rc = nn_csv_header(ctx, r, &f, &k);
  else while ((rc = nn_csv_next(ctx, r, &f, &k, &ln)) == 1) {}
  CHECK(rc == NN_EIO);
  char want[1024];
  const char *at = strstr(msg, "FILE");
  snprintf(want, sizeof want, "%.*s%s%s", (int)(at ? at - msg : (long)strlen(msg)), msg,
           at ? check_tmppath("t.csv") : "", at ? at + 4 : "");
  CHECK(check_has(ctx->err, want));
  char full[1024];
  CHECK(nn_csv_message(r, full, sizeof full) == strlen(ctx->err));
  CHECK(strcmp(full, ctx->err) == 0);
  ctx->err[0] = '\0';
  rc = header ? nn_csv_header(ctx, r, &f, &k) : nn_csv_next(ctx, r, &f, &k, &ln);
  CHECK(rc == NN_EIO);
  CHECK(check_has(ctx->err, want));
}

static const nn_csv_field *header(nn_ctx *ctx, nn_csv *r, int64_t *n) {
  const nn_csv_field *f;
  int rc = nn_csv_header(ctx, r, &f, n);
  if (rc) fprintf(stderr, "  %s\n", ctx->err);
  CHECK(rc == 0);
  return f;
}

/* ---- records ---- */

TEST(csv_quoting) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  nn_csv *r = open_text(ctx, "a,\"b,c\",\"say \"\"hi\"\"\",\"\",,\"\"\"\"\nab\"c,\"x\"\n");
  CHECK(r != NULL);
  expect_record(ctx, r, 1, 6, (const char *[]){"a", "\"b,c", "\"say \"hi\"", "\"", "", "\"\""});
  expect_record(ctx, r, 2, 2, (const char *[]){"ab\"c", "\"x"});   /* a stray quote is kept */
  expect_end(ctx, r);
  nn_csv_close(r);
  nn_csv_close(NULL);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_newlines_in_quotes_and_line_numbers) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  /* lines: 1 | 2-3 (\n inside) | 4-5 (\r\n inside) | 6-7 (lone \r inside) | 8 */
  nn_csv *r = open_text(ctx, "h1,h2\n\"two\nlines\",1\n\"cr\r\nlf\",2\n\"lone\rcr\",3\nend,4\n");
  CHECK(r != NULL);
  int64_t n;
  header(ctx, r, &n);
  CHECK(n == 2);
  expect_record(ctx, r, 2, 2, (const char *[]){"\"two\nlines", "1"});
  expect_record(ctx, r, 4, 2, (const char *[]){"\"cr\r\nlf", "2"});
  expect_record(ctx, r, 6, 2, (const char *[]){"\"lone\rcr", "3"});
  expect_record(ctx, r, 8, 2, (const char *[]){"end", "4"});
  expect_end(ctx, r);
  nn_csv_close(r);
  /* each field knows its own line: the second starts after the first's line end */
  r = open_text(ctx, "\"a\nb\",c\n");
  const nn_csv_field *f;
  int64_t k, ln;
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 1);
  CHECK(k == 2 && ln == 1 && f[0].line == 1 && f[1].line == 2);
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_line_ends_bom_last_line) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  const char *texts[] = {"a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4\r",
                         "\xEF\xBB\xBF" "a,b\n1,2\n3,4", "a,b\r\n1,2\n3,4\r"};
  for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
    nn_csv *r = open_text(ctx, texts[t]);
    CHECK(r != NULL);
    if (!r) continue;
    int64_t n;
    const nn_csv_field *h = header(ctx, r, &n);
    CHECK(n == 2 && field_is(&h[0], "a", 0) && field_is(&h[1], "b", 0));
    CHECK(nn_csv_records_left(r) >= 2);
    expect_record(ctx, r, 2, 2, (const char *[]){"1", "2"});
    expect_record(ctx, r, 3, 2, (const char *[]){"3", "4"});
    expect_end(ctx, r);
    nn_csv_close(r);
  }
  /* a BOM is skipped at the start of the file only */
  nn_csv *r = open_text(ctx, "x\n\xEF\xBB\xBF" "y\n");
  expect_record(ctx, r, 1, 1, (const char *[]){"x"});
  expect_record(ctx, r, 2, 1, (const char *[]){"\xEF\xBB\xBF" "y"});
  nn_csv_close(r);
  /* a header alone, with or without a line end: no records */
  r = open_text(ctx, "a,b");
  int64_t n;
  header(ctx, r, &n);
  expect_end(ctx, r);
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_blank_lines) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  nn_csv *r = open_text(ctx, "\n\r\n\ra,b\n1,2\n\n\r\n3,4\n\n");
  int64_t n;
  header(ctx, r, &n);
  expect_record(ctx, r, 5, 2, (const char *[]){"1", "2"});   /* the header is on line 4 */
  expect_record(ctx, r, 8, 2, (const char *[]){"3", "4"});
  expect_end(ctx, r);
  nn_csv_close(r);
  /* with one column a blank line is a record of one empty field */
  r = open_text(ctx, "\nx\n1\n\n2\n");
  header(ctx, r, &n);
  CHECK(n == 1);
  expect_record(ctx, r, 3, 1, (const char *[]){"1"});
  expect_record(ctx, r, 4, 1, (const char *[]){""});
  expect_record(ctx, r, 5, 1, (const char *[]){"2"});
  expect_end(ctx, r);
  nn_csv_close(r);
  /* without a header, blank lines are skipped and any count goes */
  r = open_text(ctx, "1\n\n1,2,3\n");
  expect_record(ctx, r, 1, 1, (const char *[]){"1"});
  expect_record(ctx, r, 3, 3, (const char *[]){"1", "2", "3"});
  expect_end(ctx, r);
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- errors ---- */

TEST(csv_errors_name_file_line_column) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  struct { const char *text; int header; const char *msg; } cases[] = {
    {"", 1, "'FILE' is empty: a CSV file starts with a header line naming its columns"},
    {"\n\r\n\r", 1, "'FILE' is empty"},
    {"a,b\n1,2\n3,\"open\n\n", 0, "'FILE' line 3: the quoted field that starts here (column 2) "
     "is never closed: it runs to the end of the file"},
    {"\"a\nb", 1, "'FILE' line 1: the quoted field that starts here (column 1) is never closed"},
    {"a,b\n1,\"x\"y\n", 0, "'FILE' line 2, column 2: text after the closing quote of a quoted "
     "field (a quote inside a quoted field is written twice: \"\")"},
    {"a,b\n\"1\n2\"x,3\n", 0, "'FILE' line 3, column 1: text after the closing quote"},
    {"a,b\n1,2\n3\n", 0, "'FILE' line 3 has 1 field but the header has 2"},
    {"a,b\n1,2,3\n", 0, "'FILE' line 2 has 3 fields but the header has 2"},
    {"a,b\n1,\"x\ny\"\n4,5,6\n", 0, "'FILE' line 4 has 3 fields but the header has 2"},
    {"a,b,a\n", 1, "'FILE' line 1: column 3 repeats the name 'a' of column 1"},
    {"\na,,c\n", 1, "'FILE' line 2: column 2 of the header has no name"},
    {"a,\"\"\n", 1, "'FILE' line 1: column 2 of the header has no name"},
    {"b,a,a,,b\n", 1, "'FILE' line 1: column 3 repeats the name 'a' of column 2"},
    {"a,a,,\n", 1, "column 2 repeats the name 'a' of column 1"},
    {",a,a\n", 1, "column 1 of the header has no name"},
    {"x,y,z,\"y\",x\n", 1, "column 4 repeats the name 'y' of column 2"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    nn_csv *r = open_text(ctx, cases[c].text);
    CHECK(r != NULL);
    if (!r) continue;
    if (!cases[c].header) {
      int64_t n;
      header(ctx, r, &n);
    }
    expect_error(ctx, r, cases[c].header, cases[c].msg);
    nn_csv_close(r);
  }
  /* names are bytes: "a" and "a\0" differ, and so do "a" and "A" */
  nn_csv *r = open_bytes(ctx, "t.csv", "a,a\0,A\n", 7);
  int64_t n;
  header(ctx, r, &n);
  CHECK(n == 3);
  nn_csv_close(r);
  /* the header is read once */
  r = open_text(ctx, "a\n1\n");
  header(ctx, r, &n);
  const nn_csv_field *f;
  CHECK(nn_csv_header(ctx, r, &f, &n) == NN_EARG);
  CHECK(check_has(ctx->err, "read already"));
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_message_longer_than_ctx_err) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  size_t len = 2 * 700 + 4;
  char *s = malloc(len + 1);
  memcpy(s, "a,", 2);
  memset(s + 2, 'n', 700);
  s[702] = ',';
  memset(s + 703, 'n', 700);
  s[1403] = '\n';
  nn_csv *r = open_bytes(ctx, "t.csv", s, len);
  const nn_csv_field *f;
  int64_t n;
  CHECK(nn_csv_header(ctx, r, &f, &n) == NN_EIO);
  CHECK(strlen(ctx->err) == NN_ERRLEN - 1);           /* cut to fit */
  size_t full = nn_csv_message(r, NULL, 0);
  CHECK(full > 700 + strlen(check_tmppath("t.csv")) + 40);
  char *m = malloc(full + 1);
  CHECK(nn_csv_message(r, m, full + 1) == full && strlen(m) == full);
  CHECK(strncmp(m, ctx->err, NN_ERRLEN - 1) == 0);
  CHECK(check_has(m, "column 3 repeats the name 'nnnn"));
  CHECK(strcmp(m + full - strlen("' of column 2"), "' of column 2") == 0);
  free(m);
  nn_csv_close(r);
  free(s);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_files_that_are_not_regular) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  nn_csv *r = (nn_csv *)1;
  CHECK(nn_csv_open(ctx, check_tmppath("missing.csv"), &r) == NN_EIO && r == NULL);
  CHECK(check_has(ctx->err, "cannot open '") && check_has(ctx->err, "No such file or directory"));
  CHECK(nn_csv_open(ctx, check_tmpdir(), &r) == NN_EIO && r == NULL);
  CHECK(check_has(ctx->err, "it is a directory, not a regular file"));
  const char *fifo = check_tmppath("p.csv");
  CHECK(mkfifo(fifo, 0600) == 0);
  long long t0 = check_now_ms();
  CHECK(nn_csv_open(ctx, fifo, &r) == NN_EIO && r == NULL);
  CHECK(check_has(ctx->err, "it is a FIFO (named pipe), not a regular file"));
  CHECK(check_now_ms() - t0 < 5000);
  CHECK(nn_csv_open(ctx, NULL, &r) == NN_EARG);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- sizes ---- */

TEST(csv_long_lines) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  /* a 3 MB quoted field full of doubled quotes and commas, then 400,000 fields on one line */
  size_t big = 3u << 20, nf = 400000;
  size_t len = 2 + 1 + 2 * big + 1 + 1 + 2 * nf + 4;
  char *s = malloc(len), *w = s;
  memcpy(w, "h\n\"", 3);
  w += 3;
  for (size_t i = 0; i < big; i++) {
    if (i % 3 == 0) { *w++ = '"'; *w++ = '"'; }
    else *w++ = i % 3 == 1 ? ',' : 'x';
  }
  memcpy(w, "\"\n", 2);
  w += 2;
  for (size_t i = 0; i < nf; i++) { *w++ = (char)('0' + i % 10); *w++ = i + 1 < nf ? ',' : '\n'; }
  nn_csv *r = open_bytes(ctx, "t.csv", s, (size_t)(w - s));
  CHECK(r != NULL);
  int64_t n;
  header(ctx, r, &n);
  CHECK(n == 1);
  const nn_csv_field *f;
  int64_t k, ln;
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 1);
  CHECK(k == 1 && f[0].quoted && f[0].n == big && f[0].p[big] == '\0');
  int ok = 1;
  for (size_t i = 0; i < big && ok; i++)
    ok = f[0].p[i] == (i % 3 == 0 ? '"' : i % 3 == 1 ? ',' : 'x');
  CHECK(ok);
  nn_csv_close(r);
  /* the same bytes without a header: the wide line is one record */
  r = open_bytes(ctx, "t.csv", s, (size_t)(w - s));
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 1 && k == 1);
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 1 && k == 1);
  CHECK(nn_csv_next(ctx, r, &f, &k, &ln) == 1);
  CHECK(k == (int64_t)nf && ln == 3);
  ok = 1;
  for (size_t i = 0; i < nf && ok; i++) ok = f[i].n == 1 && f[i].p[0] == '0' + (char)(i % 10);
  CHECK(ok);
  CHECK(nn_csv_bytes(r) > (size_t)(w - s));
  expect_end(ctx, r);
  nn_csv_close(r);
  /* a header of 200,000 columns whose last one repeats the first: found, and quickly */
  w = s;
  for (size_t i = 0; i < 200000; i++) w += sprintf(w, "c%zu,", i);
  w += sprintf(w, "c0\n");
  r = open_bytes(ctx, "t.csv", s, (size_t)(w - s));
  long long t0 = check_now_ms();
  CHECK(nn_csv_header(ctx, r, &f, &k) == NN_EIO);
  CHECK(check_has(ctx->err, "line 1: column 200001 repeats the name 'c0' of column 1"));
  CHECK(check_now_ms() - t0 < 5000);
  nn_csv_close(r);
  free(s);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

TEST(csv_empty_file) {
  nn_ctx *ctx = nn_ctx_new();
  CHECK(check_mktmp("csv") != NULL);
  nn_csv *r = open_text(ctx, "");
  CHECK(r != NULL);
  CHECK(nn_csv_records_left(r) == 1);
  expect_end(ctx, r);
  nn_csv_close(r);
  r = open_text(ctx, "");
  expect_error(ctx, r, 1, "'FILE' is empty");
  nn_csv_close(r);
  r = open_text(ctx, "\xEF\xBB\xBF");            /* a BOM alone */
  expect_error(ctx, r, 1, "'FILE' is empty");
  nn_csv_close(r);
  check_rmtree(check_tmpdir());
  nn_ctx_free(ctx);
}

/* ---- numbers ---- */

static int num(const char *s, int64_t *i, double *d) {
  return nn_csv_number(s, strlen(s), i, d);
}

TEST(csv_numbers_accepted_and_refused) {
  int64_t i;
  double d;
  struct { const char *s; int64_t v; } ints[] = {
    {"1", 1}, {"-7", -7}, {"+5", 5}, {" 7 ", 7}, {"\t42\n", 42}, {"007", 7}, {"-0", 0},
    {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN},
  };
  for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
    i = 0;
    CHECK(num(ints[k].s, &i, &d) == NN_CSV_INT);
    CHECK(i == ints[k].v);
  }
  struct { const char *s; double v; } floats[] = {
    {"-2.5", -2.5}, {"1e3", 1000}, {".5", 0.5}, {"3.", 3}, {"1E-2", 0.01}, {" 2.5 ", 2.5},
    {"9223372036854775808", 9223372036854775808.0}, {"-9223372036854775809", -9223372036854775808.0},
    {"1e39", 1e39}, {"1e999", HUGE_VAL}, {"inf", HUGE_VAL}, {"-Infinity", -HUGE_VAL},
    {"+INF", HUGE_VAL}, {" iNfInItY\t", HUGE_VAL},
  };
  for (size_t k = 0; k < sizeof floats / sizeof *floats; k++) {
    d = 0;
    CHECK(num(floats[k].s, &i, &d) == NN_CSV_FLOAT);
    CHECK(d == floats[k].v);
  }
  const char *nans[] = {"nan", "NaN", "-nan", "+NAN", "nan "};
  for (size_t k = 0; k < sizeof nans / sizeof *nans; k++) {
    d = 0;
    CHECK(num(nans[k], &i, &d) == NN_CSV_FLOAT && isnan(d));
  }
  const char *text[] = {"", " ", "-", "+", ".", "e5", "1e", "1_0", "abc", "--1", "1.5.2", "0x10",
                        "0X1p4", "1x", "infin", "in f", "nan(1)", "1 2", "1,5", "+-1", "inf inf",
                        "0b1", "１"};
  for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
    int kind = num(text[k], &i, &d);
    if (kind != NN_CSV_TEXT) fprintf(stderr, "  '%s' read as a number\n", text[k]);
    CHECK(kind == NN_CSV_TEXT);
  }
  /* a NUL inside is text, whatever follows; the length counts, not the NUL */
  CHECK(nn_csv_number("1\0", 2, &i, &d) == NN_CSV_TEXT);
  char buf[4] = "12";                             /* the first byte alone, NUL after it */
  buf[1] = '\0';
  CHECK(nn_csv_number(buf, 1, &i, &d) == NN_CSV_INT && i == 1);
  /* long numerals: tonumber reads them, so does the rule */
  char longnum[2100];
  memset(longnum, ' ', 1000);
  memset(longnum + 1000, '0', 1000);
  strcpy(longnum + 2000, "12.5   ");
  CHECK(num(longnum, &i, &d) == NN_CSV_FLOAT && d == 12.5);
  strcpy(longnum + 2000, "12");
  CHECK(num(longnum, &i, &d) == NN_CSV_INT && i == 12);
}

/* Lua's tonumber is the reference: for strings made of number pieces, the rule
 * agrees with lua_stringtonumber wherever that reads a number (and the string
 * has no 'x'), and where it does not, the rule gives text or inf/nan only. */
TEST(csv_numbers_agree_with_lua) {
  static const char *pieces[] = {"0", "1", "7", "8", "9", ".", "e", "E", "-", "+", " ", "\t", "\v",
                                 "\r", "n", "N", "i", "inf", "nan", "a", "922337203685477580",
                                 "9223372036854775807", "_", "p", "x", ",", "\"", "INFINITY"};
  const int npieces = (int)(sizeof pieces / sizeof *pieces);
  lua_State *L = luaL_newstate();
  CHECK(L != NULL);
  if (!L) return;
  uint64_t rng = 12345;
  int agree = 0, numbers = 0, bad = 0;
  for (int t = 0; t < 200000; t++) {
    char s[200] = "";
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    int np = (int)(rng >> 60) % 7;
    for (int k = 0; k < np; k++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      strcat(s, pieces[(rng >> 33) % (uint64_t)npieces]);
    }
    size_t n = strlen(s);
    int64_t i = 0;
    double d = 0;
    int kind = nn_csv_number(s, n, &i, &d);
    size_t used = strchr(s, 'x') || strchr(s, 'X') ? 0 : lua_stringtonumber(L, s);
    int ok;
    if (used == n + 1) {
      numbers++;
      if (lua_isinteger(L, -1)) ok = kind == NN_CSV_INT && i == lua_tointeger(L, -1);
      else ok = kind == NN_CSV_FLOAT && memcmp(&d, &(double){lua_tonumber(L, -1)}, sizeof d) == 0;
      lua_pop(L, 1);
    } else {
      ok = kind == NN_CSV_TEXT || (kind == NN_CSV_FLOAT && (isinf(d) || isnan(d)));
    }
    if (ok) agree++;
    else if (bad++ < 5) fprintf(stderr, "  '%s': rule %d, tonumber %s\n", s, kind, used ? "a number" : "no");
  }
  CHECK(bad == 0);
  CHECK(numbers > 10000);
  CHECK(agree == 200000);
  lua_close(L);
}
