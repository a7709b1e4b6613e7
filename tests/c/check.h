/* check.h -- the tiny test harness of tests/c/.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-6); }
 *
 * TEST registers the function at load time; tests/c/main.c runs them all and
 * prints "c: N passed, N failed". A CHECK failure prints file:line and the
 * expression, counts one failure and lets the test go on.
 */
#ifndef NN_CHECK_H
#define NN_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef void (*check_fn)(void);
void check_register(const char *name, check_fn fn);
void check_report(int ok, const char *file, int line, const char *expr);
const char *check_nnlua(void);   /* absolute path of the binary under test ($NNLUA, else ./nnlua) */
long long check_now_ms(void);    /* monotonic clock, for deadlines */
/* Files for tests: */
int check_write_file(const char *path, const void *b, size_t len);  /* 0, or -1 */
size_t check_read_file(const char *path, void *b, size_t cap);       /* bytes read, 0 on error */
void check_rmtree(const char *dir);              /* removes dir and everything below it */
/* A new empty folder /tmp/nn_<tag>_XXXXXX for the running test, or NULL; its
 * path stays in check_tmpdir() and check_tmppath(name) names a file inside it
 * (a static buffer, until the next call). The test removes it with check_rmtree. */
const char *check_mktmp(const char *tag);
const char *check_tmpdir(void);
const char *check_tmppath(const char *name);
int check_has(const char *s, const char *sub);   /* strstr(s, sub) != NULL; prints both if not */

#define TEST(name)                                                         \
  static void test_##name(void);                                          \
  __attribute__((constructor)) static void register_##name(void) {        \
    check_register(#name, test_##name);                                   \
  }                                                                       \
  static void test_##name(void)

#define CHECK(e) check_report(!!(e), __FILE__, __LINE__, #e)
#define CHECK_NEAR(a, b, tol)                                             \
  do {                                                                    \
    double a_ = (a), b_ = (b);                                            \
    int ok_ = fabs(a_ - b_) <= (tol);                                     \
    if (!ok_) fprintf(stderr, "  %s = %.9g, %s = %.9g\n", #a, a_, #b, b_); \
    check_report(ok_, __FILE__, __LINE__, #a " ~ " #b);                   \
  } while (0)

#endif
