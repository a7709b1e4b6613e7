/* main.c -- runs every TEST registered by the tests/c/test_*.c files.
 * Usage: tests/c/run [name-substring]  */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

int check_write_file(const char *path, const void *b, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

size_t check_read_file(const char *path, void *b, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(b, 1, cap, f);
  fclose(f);
  return n;
}

static char tmpdir[64], tmppath[320];

const char *check_mktmp(const char *tag) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/nn_%s_XXXXXX", tag);
  return mkdtemp(tmpdir);
}

const char *check_tmpdir(void) { return tmpdir; }

const char *check_tmppath(const char *name) {
  snprintf(tmppath, sizeof tmppath, "%s/%s", tmpdir, name);
  return tmppath;
}

void check_rmtree(const char *dir) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  char p[PATH_MAX];
  if (!dp) return;
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      if (unlink(p) != 0 && errno == EISDIR) check_rmtree(p);
    }
  closedir(dp);
  rmdir(dir);
}

int check_has(const char *s, const char *sub) {
  if (strstr(s, sub)) return 1;
  fprintf(stderr, "  message '%s' lacks '%s'\n", s, sub);
  return 0;
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
