/* main.c -- runs every TEST registered by the tests/c/test_*.c files.
 * Usage: tests/c/run [name-substring]  */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"

#define MAXTESTS 1024
static struct { const char *name; check_fn fn; } tests[MAXTESTS];
static int ntests, npass, nfail;
static const char *current;

void check_register(const char *name, check_fn fn) {
  if (ntests < MAXTESTS) { tests[ntests].name = name; tests[ntests].fn = fn; ntests++; }
}

void check_report(int ok, const char *file, int line, const char *expr) {
  if (ok) { npass++; return; }
  nfail++;
  fprintf(stderr, "FAIL %s (%s:%d): %s\n", current, file, line, expr);
}

const char *check_nnlua(void) {
  static char path[PATH_MAX];
  const char *env = getenv("NNLUA");
  if (env == NULL || env[0] == '\0') env = "./nnlua";
  if (path[0] == '\0' && realpath(env, path) == NULL)
    snprintf(path, sizeof path, "%s", env);
  return path;
}

long long check_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
    current = tests[i].name;
    tests[i].fn();
  }
  printf("c: %d passed, %d failed\n", npass, nfail);
  return nfail ? 1 : 0;
}
