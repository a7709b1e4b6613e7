/* infile.h -- opening a file that nnlua reads: regular files only.
 *
 * A FIFO given as a file would block open() until some writer appears, a
 * device may never end (or rewind a tape on open), and a directory fails later
 * with an unclear message. So inputs are checked before and after opening:
 * stat() first (nothing is opened that is not a regular file), then open()
 * with O_NONBLOCK (a FIFO swapped in meanwhile does not block), fstat() of
 * what was really opened, and O_NONBLOCK cleared again.
 *
 * Kept in a header (static inline) so that every reader, and the fuzz
 * harnesses that compile single core files, can use it without a new object
 * file. */
#ifndef NN_INFILE_H
#define NN_INFILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nn/ctx.h"
#include "nn/io/gate.h"

/* What st is, for messages: "a directory", "a FIFO", ... */
static inline const char *nn_file_kind(const struct stat *st) {
  if (S_ISDIR(st->st_mode)) return "a directory";
  if (S_ISFIFO(st->st_mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(st->st_mode)) return "a character device";
  if (S_ISBLK(st->st_mode)) return "a block device";
  if (S_ISSOCK(st->st_mode)) return "a socket";
  return "not a regular file";
}

/* Opens path for reading. Returns 0 with *fd open (blocking, close-on-exec),
 * or NN_EIO with ctx->err naming path: missing, unreadable, or not a regular
 * file ("cannot read 'p': it is a FIFO (named pipe), not a regular file"). */
static inline int nn_open_input(nn_ctx *ctx, const char *path, int *fd) {
  struct stat st;
  *fd = -1;
  if (nn_gate_check(ctx, path, NN_GATE_READ) != 0) return NN_EIO;   /* --sandbox */
  if (stat(path, &st) != 0)
    return nn_seterr(ctx, NN_EIO, "cannot open '%s': %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return nn_seterr(ctx, NN_EIO, "cannot read '%s': it is %s, not a regular file", path,
                     nn_file_kind(&st));
  int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (f < 0) return nn_seterr(ctx, NN_EIO, "cannot open '%s': %s", path, strerror(errno));
  int flags;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode) || (flags = fcntl(f, F_GETFL)) < 0 ||
      fcntl(f, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    int e = errno;
    int reg = S_ISREG(st.st_mode);
    close(f);
    if (!reg)
      return nn_seterr(ctx, NN_EIO, "cannot read '%s': it is %s, not a regular file", path,
                       nn_file_kind(&st));
    return nn_seterr(ctx, NN_EIO, "cannot open '%s': %s", path, strerror(e));
  }
  *fd = f;
  return 0;
}

#endif
