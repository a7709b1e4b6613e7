/* atomic.c -- write to a locked temporary file and rename it into place, or
 * write through to a FIFO or character device; see atomic.h for the rules. */
#define _GNU_SOURCE                 /* memfd_create */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic.h"
#include "gate.h"

#define TMPMARK ".nntmp"            /* between the name and the 6 random characters */
#define NRAND 6
#define MAXLINKS 40                 /* as the kernel's ELOOP limit */

static int fail(nn_ctx *ctx, const char *path, const char *why) {
  return nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, why);
}
static int ioerr(nn_ctx *ctx, const char *path) { return fail(ctx, path, strerror(errno)); }

/* ---- where the data goes ---- */

/* dir and base of p: "a/b" -> "a", "b"; "b" -> ".", "b"; "/b" -> "/", "b". Both malloc'd. */
static int split(const char *p, char **dir, char **base) {
  const char *slash = strrchr(p, '/');
  *dir = slash ? strndup(p, slash == p ? 1 : (size_t)(slash - p)) : strdup(".");
  *base = strdup(slash ? slash + 1 : p);
  return *dir && *base ? 0 : -1;
}

/* A missing path that is a dangling symlink: follows it by its text (relative
 * targets from the link's folder) to the name that would be created. */
static char *follow_dangling(const char *path) {
  char *cur = strdup(path), target[PATH_MAX];
  struct stat ls;
  for (int hops = 0; cur && hops <= MAXLINKS; hops++) {
    if (lstat(cur, &ls) != 0 || !S_ISLNK(ls.st_mode)) return cur;
    ssize_t n = readlink(cur, target, sizeof target - 1);
    if (n <= 0) break;
    target[n] = '\0';
    char *next;
    const char *slash = strrchr(cur, '/');
    if (target[0] == '/' || !slash) next = strdup(target);
    else if (asprintf(&next, "%.*s/%s", (int)(slash - cur), cur, target) < 0) next = NULL;
    free(cur);
    cur = next;
  }
  free(cur);
  errno = ELOOP;
  return NULL;
}

/* Makes the folders of dir that are missing (like mkdir -p). */
static int make_dirs(nn_ctx *ctx, const char *path, const char *dir) {
  struct stat st;
  if (stat(dir, &st) == 0) return 0;
  char *d = strdup(dir);
  if (!d) return nn_seterr(ctx, NN_ENOMEM, "cannot write '%s': out of memory", path);
  int rc = 0;
  for (char *s = d + 1; rc == 0; s++) {
    if (*s != '/' && *s != '\0') continue;
    char c = *s;
    *s = '\0';
    if (mkdir(d, 0777) != 0 && errno != EEXIST)
      rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': cannot create folder '%s': %s", path, d,
                     strerror(errno));
    *s = c;
    if (c == '\0') break;
  }
  free(d);
  return rc;
}

/* ---- temporary names ---- */

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* "<name>.nntmp", or "<first bytes of name>~<hash>.nntmp" when the name is too
 * long for NRAND more characters to fit in namemax. */
static char *tmp_prefix(const char *name, long namemax) {
  size_t n = strlen(name), fixed = strlen(TMPMARK) + NRAND;
  char *p;
  if (n + fixed <= (size_t)namemax) {
    if (asprintf(&p, "%s" TMPMARK, name) < 0) return NULL;
  } else {
    long keep = namemax - (long)fixed - 17;
    if (keep < 1) keep = 1;
    if (asprintf(&p, "%.*s~%016llx" TMPMARK, (int)keep, name,
                 (unsigned long long)fnv1a(name)) < 0) return NULL;
  }
  return p;
}

static int is_ours(const char *entry, const char *prefix, size_t plen) {
  if (strlen(entry) != plen + NRAND || strncmp(entry, prefix, plen) != 0) return 0;
  for (int i = 0; i < NRAND; i++) {
    char c = entry[plen + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return 0;
  }
  return 1;
}

/* Removes the temporary files of this name that no writer holds locked: what
 * a killed writer left behind. A running writer holds its lock until its
 * file is renamed or removed, so it is never touched. */
static void remove_stale(int dirfd, const char *prefix) {
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) { if (fd >= 0) close(fd); return; }
  size_t plen = strlen(prefix);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!is_ours(e->d_name, prefix, plen)) continue;
    int t = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (t < 0) continue;
    if (fstat(t, &st) == 0 && S_ISREG(st.st_mode) && flock(t, LOCK_EX | LOCK_NB) == 0)
      unlinkat(dirfd, e->d_name, 0);
    close(t);
  }
  closedir(d);
}

static void random_chars(char *out) {
  static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char r[NRAND];
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_sec;
    for (int i = 0; i < NRAND; i++) { r[i] = (unsigned char)x; x = x * 6364136223846793005ull + 1; }
  }
  for (int i = 0; i < NRAND; i++) out[i] = abc[r[i] % 62];
  out[NRAND] = '\0';
}

/* Creates and locks a new temporary file in a->dirfd; sets a->tmp and a->fd. */
static int make_tmp(nn_ctx *ctx, nn_atomic *a, const char *prefix, int mode) {
  size_t plen = strlen(prefix);
  if (!(a->tmp = malloc(plen + NRAND + 1)))
    return nn_seterr(ctx, NN_ENOMEM, "cannot write '%s': out of memory", a->path);
  memcpy(a->tmp, prefix, plen);
  for (int tries = 0; tries < 100; tries++) {
    random_chars(a->tmp + plen);
    int fd = openat(a->dirfd, a->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) break;
    int r;
    while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {}
    struct stat st;
    if (r == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0) { a->fd = fd; return 0; }
    close(fd);                       /* removed by another writer's cleanup before we locked it */
  }
  int rc = ioerr(ctx, a->path);
  free(a->tmp);
  a->tmp = NULL;
  return rc;
}

/* ---- open ---- */

/* path is an existing FIFO or character device: collect the data in memory. */
static int open_through(nn_ctx *ctx, nn_atomic *a) {
  if ((a->fd = memfd_create("nnlua-write", MFD_CLOEXEC)) < 0) return ioerr(ctx, a->path);
  if (!(a->tmp = strdup(a->path))) {
    close(a->fd);
    a->fd = -1;
    return nn_seterr(ctx, NN_ENOMEM, "cannot write '%s': out of memory", a->path);
  }
  return 0;
}

/* The file to replace (or create): target; existing says whether it exists, st what it is. */
static int open_replace(nn_ctx *ctx, nn_atomic *a, const char *target, int existing,
                        const struct stat *st) {
  char *dir = NULL, *base = NULL, *prefix = NULL;
  int rc = 0;
  if (split(target, &dir, &base) != 0)
    rc = nn_seterr(ctx, NN_ENOMEM, "cannot write '%s': out of memory", a->path);
  else if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    rc = fail(ctx, a->path, "the path names a folder, not a file");
  if (!rc) rc = make_dirs(ctx, a->path, dir);
  if (!rc && (a->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    rc = errno == ENOTDIR ? nn_seterr(ctx, NN_EIO, "cannot write '%s': '%s' is not a folder",
                                      a->path, dir) : ioerr(ctx, a->path);
  long namemax = rc ? 0 : fpathconf(a->dirfd, _PC_NAME_MAX);
  if (namemax <= 0) namemax = NAME_MAX;
  if (!rc && strlen(base) > (size_t)namemax)
    rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': the file name is %zu bytes, longer than the "
                   "folder allows (%ld)", a->path, strlen(base), namemax);
  if (!rc && !(prefix = tmp_prefix(base, namemax)))
    rc = nn_seterr(ctx, NN_ENOMEM, "cannot write '%s': out of memory", a->path);
  if (!rc) {
    remove_stale(a->dirfd, prefix);
    rc = make_tmp(ctx, a, prefix, existing ? 0600 : 0666);
  }
  if (!rc && existing) {            /* the old file's owner (where allowed) and mode */
    if ((st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(a->fd, st->st_uid, st->st_gid)) {}
    if (fchmod(a->fd, st->st_mode & 01777)) {}
  }
  if (!rc && (a->keep = dup(a->fd)) < 0) rc = ioerr(ctx, a->path);
  if (!rc) { a->name = base; base = NULL; }
  free(dir);
  free(base);
  free(prefix);
  return rc;
}

static void drop(nn_atomic *a) {
  if (a->fd >= 0) close(a->fd);
  if (a->keep >= 0) close(a->keep);
  if (a->tmp && a->dirfd >= 0) unlinkat(a->dirfd, a->tmp, 0);
  if (a->dirfd >= 0) close(a->dirfd);
  free(a->tmp);
  free(a->name);
  a->fd = a->keep = a->dirfd = -1;
  a->tmp = a->name = NULL;
}

int nn_atomic_open(nn_ctx *ctx, const char *path, nn_atomic *a) {
  memset(a, 0, sizeof *a);
  a->path = path;
  a->fd = a->keep = a->dirfd = -1;
  if (!path[0]) return fail(ctx, path, "empty path");
  if (nn_gate_check(ctx, path, NN_GATE_WRITE) != 0) return NN_EIO;   /* --sandbox */
  struct stat st, ls;
  char *target;
  int existing = stat(path, &st) == 0;
  if (existing) {
    if (S_ISDIR(st.st_mode)) return fail(ctx, path, "it is a folder");
    if (S_ISBLK(st.st_mode))
      return fail(ctx, path, "it is a block device (nnlua writes files, FIFOs and character "
                  "devices, never over a disk)");
    if (S_ISSOCK(st.st_mode)) return fail(ctx, path, "it is a socket");
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
      int rc = open_through(ctx, a);
      if (rc == 0 && (a->keep = dup(a->fd)) < 0) { rc = ioerr(ctx, path); drop(a); }
      return rc;
    }
    if (!S_ISREG(st.st_mode)) return fail(ctx, path, "it is not a regular file");
    int link = lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode);
    target = link ? realpath(path, NULL) : strdup(path);
  } else {
    if (errno != ENOENT && errno != ENOTDIR) return ioerr(ctx, path);
    target = follow_dangling(path);
  }
  if (!target) return ioerr(ctx, path);
  int rc = open_replace(ctx, a, target, existing, &st);
  free(target);
  if (rc) drop(a);
  return rc;
}

/* ---- commit ---- */

/* Copies the collected data to the FIFO or device at a->path without waiting
 * for a reader, and with SIGPIPE held back (a reader that leaves is an error,
 * not the end of the process). */
static int copy_out(nn_ctx *ctx, nn_atomic *a) {
  int out = open(a->path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (out < 0)
    return errno == ENXIO ? fail(ctx, a->path, "a FIFO with no reader (nnlua does not wait for one)")
                          : ioerr(ctx, a->path);
  struct stat st;
  if (fstat(out, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
    close(out);
    return fail(ctx, a->path, "it changed while being written (no longer a FIFO or device)");
  }
  sigset_t pipe, old, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  sigpending(&pending);
  int had = sigismember(&pending, SIGPIPE), rc = 0;
  char buf[65536];
  off_t at = 0;
  for (;;) {
    ssize_t n = pread(a->keep, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { rc = ioerr(ctx, a->path); break; }
    if (n == 0) break;
    for (ssize_t k = 0; k < n && !rc;) {
      ssize_t w = write(out, buf + k, (size_t)(n - k));
      if (w > 0) { k += w; continue; }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        struct pollfd p = {.fd = out, .events = POLLOUT};
        int r = poll(&p, 1, NN_ATOMIC_STALL_MS);
        if (r == 0) rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': it took no data for %d s",
                                   a->path, NN_ATOMIC_STALL_MS / 1000);
        continue;
      }
      rc = errno == EPIPE ? fail(ctx, a->path, "the FIFO's reader went away before the end")
                          : ioerr(ctx, a->path);
    }
    if (rc) break;
    at += n;
  }
  if (close(out) != 0 && rc == 0 && errno != EINTR) rc = ioerr(ctx, a->path);
  sigpending(&pending);
  if (!had && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

int nn_atomic_commit(nn_ctx *ctx, nn_atomic *a, int rc) {
  if (!a->tmp) return rc;
  if (a->fd >= 0) {
    if (close(a->fd) != 0 && rc == 0) rc = ioerr(ctx, a->path);
    a->fd = -1;
  }
  if (a->dirfd < 0) {                                    /* a FIFO or device */
    if (rc == 0) rc = copy_out(ctx, a);
  } else {
    if (rc == 0 && fsync(a->keep) != 0) rc = ioerr(ctx, a->path);
    if (rc == 0 && renameat(a->dirfd, a->tmp, a->dirfd, a->name) != 0) rc = ioerr(ctx, a->path);
    if (rc == 0) {
      fsync(a->dirfd);                                   /* the rename itself is durable */
      free(a->tmp);
      a->tmp = NULL;                                     /* nothing left to remove */
    }
  }
  drop(a);
  return rc;
}

int nn_atomic_write(nn_ctx *ctx, const char *path, const void *data, size_t len) {
  nn_atomic a;
  int rc = nn_atomic_open(ctx, path, &a);
  if (rc != 0) return rc;
  const char *p = data;
  while (len > 0) {
    ssize_t k = write(a.fd, p, len);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(k < 0 ? errno : EIO));
      break;
    }
    p += k;
    len -= (size_t)k;
  }
  return nn_atomic_commit(ctx, &a, rc);
}
