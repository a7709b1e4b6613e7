/* gate.c -- resolving a path and checking it against the sandbox's folders;
 * see gate.h. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gate.h"

#define MAXROOTS 64

/* The policy: set by the host before the script runs, read-only afterwards
 * (one per process, as the process is what is sandboxed). */
static struct {
  int on;
  int n;
  char *dir[MAXROOTS];
  int mode[MAXROOTS];
} gate;

int nn_gate_allow(const char *dir, int mode) {
  struct stat st;
  if (gate.n == MAXROOTS) { errno = E2BIG; return -1; }
  char *real = realpath(dir, NULL);
  if (real == NULL) return -1;
  if (stat(real, &st) != 0 || ((mode & NN_GATE_WRITE) && !S_ISDIR(st.st_mode))) {
    free(real);
    errno = ENOTDIR;
    return -1;
  }
  gate.dir[gate.n] = real;
  gate.mode[gate.n++] = mode;
  gate.on = 1;
  return 0;
}

int nn_gate_on(void) { return gate.on; }

const char *nn_gate_folder(int mode, int i) {
  for (int k = 0; k < gate.n; k++)
    if ((gate.mode[k] & mode) == mode && i-- == 0) return gate.dir[k];
  return NULL;
}

/* Whether the resolved path p is root or inside it. */
static int inside(const char *root, const char *p) {
  size_t n = strlen(root);
  if (n == 1) return p[0] == '/';                       /* "/" holds everything */
  return strncmp(root, p, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* The path as the kernel would follow it, malloc'd; NULL with *why on
 * failure. A path that does not exist yet resolves through its nearest
 * existing folder: what follows must be plain names (no "..", no link). */
static char *resolve(const char *path, const char **why) {
  char *real = realpath(path, NULL);
  if (real != NULL) return real;
  if (errno != ENOENT) { *why = strerror(errno); return NULL; }
  size_t len = strlen(path);
  char *head = malloc(len + 3);
  if (head == NULL) { *why = strerror(ENOMEM); return NULL; }
  if (path[0] == '/') memcpy(head, path, len + 1);
  else { head[0] = '.'; head[1] = '/'; memcpy(head + 2, path, len + 1); }
  char *rest = NULL;                                     /* the missing tail, in head */
  for (;;) {
    char *slash = strrchr(head, '/');
    while (slash != NULL && slash > head && slash[1] == '\0') {   /* trailing slashes */
      *slash = '\0';
      slash = strrchr(head, '/');
    }
    if (slash == NULL) { free(head); *why = "no such folder"; return NULL; }
    struct stat ls;
    const char *last = slash + 1;
    if (strcmp(last, "..") == 0 || strcmp(last, ".") == 0 ||
        (lstat(head, &ls) == 0 && S_ISLNK(ls.st_mode))) {
      free(head);
      *why = "it leads through a symbolic link or '..' that does not exist yet";
      return NULL;
    }
    if (rest != NULL) rest[-1] = '/';                    /* rejoin the tail */
    rest = slash + 1;
    *slash = '\0';
    real = realpath(slash == head ? "/" : head, NULL);
    if (real != NULL) break;
    if (errno != ENOENT) { free(head); *why = strerror(errno); return NULL; }
  }
  size_t a = strlen(real), b = strlen(rest);
  char *out = malloc(a + b + 2);
  if (out == NULL) { free(real); free(head); *why = strerror(ENOMEM); return NULL; }
  memcpy(out, real, a);
  size_t k = a;
  if (a > 1) out[k++] = '/';
  memcpy(out + k, rest, b + 1);
  free(real);
  free(head);
  return out;
}

int nn_gate_test(const char *path, int mode, char *why, size_t n) {
  if (!gate.on) return 0;
  const char *verb = (mode & NN_GATE_WRITE) ? "write" : "read";
  const char *reason = NULL;
  char *real = resolve(path, &reason);
  if (real == NULL) {
    snprintf(why, n, "cannot %s '%s': %s", verb, path, reason);
    return -1;
  }
  for (int k = 0; k < gate.n; k++) {
    if ((gate.mode[k] & mode) == mode && inside(gate.dir[k], real)) {
      free(real);
      return 0;
    }
  }
  char list[1024] = "";
  size_t used = 0;
  for (int i = 0; nn_gate_folder(mode, i) != NULL && used < sizeof list; i++) {
    int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", nn_gate_folder(mode, i));
    if (k < 0) break;
    used += (size_t)k;
  }
  int moved = strcmp(real, path) != 0;
  snprintf(why, n, "cannot %s '%s'%s%s%s: --sandbox %ss only in %s", verb, path,
           moved ? " (" : "", moved ? real : "", moved ? ")" : "", verb,
           list[0] ? list : "(no folder)");
  free(real);
  return -1;
}

int nn_gate_check(nn_ctx *ctx, const char *path, int mode) {
  if (!gate.on) return 0;
  char why[sizeof ctx->err];
  if (nn_gate_test(path, mode, why, sizeof why) == 0) return 0;
  return nn_seterr(ctx, NN_EIO, "%s", why);
}

/* ---- memory ---- */

static size_t mem_limit;
static size_t (*mem_host)(void);

void nn_gate_set_memory(size_t limit, size_t (*host_bytes)(void)) {
  mem_limit = limit;
  mem_host = host_bytes;
}

size_t nn_gate_memory_limit(void) { return mem_limit; }

static struct {
  void (*fn)(void *ud);
  void *ud;
  pthread_t owner;               /* the thread that set it: the only one it runs on */
  int running;
} reclaim;

void nn_gate_set_reclaim(void (*fn)(void *ud), void *ud) {
  reclaim.fn = fn;
  reclaim.ud = ud;
  reclaim.owner = pthread_self();
}

int nn_gate_reclaim(void) {
  if (!reclaim.fn || reclaim.running || !pthread_equal(pthread_self(), reclaim.owner)) return 0;
  reclaim.running = 1;
  reclaim.fn(reclaim.ud);
  reclaim.running = 0;
  return 1;
}

int nn_gate_memory_fits(size_t bytes, size_t held) {
  if (mem_limit == 0) return 1;
  size_t used = held + (mem_host ? mem_host() : 0);
  return bytes <= mem_limit && used <= mem_limit - bytes;
}

void nn_gate_format_size(char *buf, size_t len, size_t n) {
  static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) { snprintf(buf, len, "%zu bytes", n); return; }
  double v = (double)n / 1024;
  int u = 0;
  while (v >= 1024 && u < 5) { v /= 1024; u++; }
  if (v == (double)(long long)v) snprintf(buf, len, "%lld %s", (long long)v, unit[u]);
  else snprintf(buf, len, "%.1f %s", v, unit[u]);
}

int nn_gate_vmemory(nn_ctx *ctx, size_t bytes, size_t held, const char *what, va_list ap) {
  if (nn_gate_memory_fits(bytes, held)) return 0;
  size_t used = held + (mem_host ? mem_host() : 0);
  char lim[32], ask[32], inuse[32], asked[256];
  nn_gate_format_size(lim, sizeof lim, mem_limit);
  nn_gate_format_size(ask, sizeof ask, bytes);
  nn_gate_format_size(inuse, sizeof inuse, used);
  vsnprintf(asked, sizeof asked, what, ap);
  return nn_seterr(ctx, NN_ENOMEM, "memory limit of %s reached (%s asked for %s, %s in use; "
                   "--max-memory sets the limit)", lim, ask, asked, inuse);
}

int nn_gate_memory(nn_ctx *ctx, size_t bytes, size_t held, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  int rc = nn_gate_vmemory(ctx, bytes, held, what, ap);
  va_end(ap);
  return rc;
}
