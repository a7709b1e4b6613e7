/* main.c -- runs every TEST registered by the tests/c/test_*.c files.
 * Usage: tests/c/run [name-substring]  */
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
    current = tests[i].name;
    tests[i].fn();
  }
  printf("c: %d passed, %d failed\n", npass, nfail);
  return nfail ? 1 : 0;
}
