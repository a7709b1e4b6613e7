/* atomic.c -- write to a temporary file, then rename it into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"

int nn_atomic_open(nn_ctx *ctx, const char *path, nn_atomic *a) {
  size_t plen = strlen(path);
  a->path = path;
  a->fd = -1;
  if (!(a->tmp = malloc(plen + 11))) return nn_seterr(ctx, NN_ENOMEM, "%s: out of memory", path);
  memcpy(a->tmp, path, plen);
  memcpy(a->tmp + plen, ".tmpXXXXXX", 11);
  if ((a->fd = mkstemp(a->tmp)) < 0) {
    int rc = nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
    free(a->tmp);
    a->tmp = NULL;
    return rc;
  }
  mode_t mask = umask(0);                  /* mkstemp makes 0600; give the usual 0666 & ~umask */
  umask(mask);
  fchmod(a->fd, 0666 & ~mask);
  return 0;
}

/* fsyncs the folder holding path, so that the rename itself is durable. */
static void sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir) return;
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) { fsync(fd); close(fd); }
  free(dir);
}

static int ioerr(nn_ctx *ctx, const char *path) {
  return nn_seterr(ctx, NN_EIO, "cannot write '%s': %s", path, strerror(errno));
}

int nn_atomic_commit(nn_ctx *ctx, nn_atomic *a, int rc) {
  if (a->fd >= 0) {
    if (rc == 0 && fsync(a->fd) != 0) rc = ioerr(ctx, a->path);
    if (close(a->fd) != 0 && rc == 0) rc = ioerr(ctx, a->path);
    a->fd = -1;
  }
  if (rc == 0 && rename(a->tmp, a->path) != 0) rc = ioerr(ctx, a->path);
  if (rc) unlink(a->tmp);
  else sync_dir(a->path);
  free(a->tmp);
  a->tmp = NULL;
  return rc;
}
