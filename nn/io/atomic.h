/* atomic.h -- files written whole or not at all (DESIGN.md, "Files on disk").
 *
 *   nn_atomic a;
 *   if (nn_atomic_open(ctx, path, &a) != 0) return NN_EIO;
 *   rc = write(a.fd, ...) ...;              // or fdopen(a.fd) and set a.fd = -1 after fclose
 *   return nn_atomic_commit(ctx, &a, rc);   // put the data in place, or drop it
 *
 * What happens depends on what path is (API.md, "Files"):
 *
 *   missing         its parent folders are made (0777 & ~umask), then as below,
 *                   the new file gets 0666 & ~umask (as fopen would give)
 *   a regular file  the data goes to a temporary file in the same folder, which
 *                   commit fsyncs and renames over path: path holds the old or
 *                   the new contents, never a mix. The old file's permission
 *                   bits, and its owner where allowed, carry over.
 *   a symbolic link resolved: the link stays, its target is written as above
 *                   (a dangling link's target is created)
 *   a FIFO or a     written through, never replaced: the data is collected in
 *   character dev.  an anonymous memory file and copied to path by commit,
 *                   without waiting: a FIFO with no reader is an error, and so
 *                   is a device or reader that takes nothing for
 *                   NN_ATOMIC_STALL_MS
 *   a folder, a     refused (NN_EIO): a checkpoint written over a disk or a
 *   block device,   socket is never what was meant
 *   a socket
 *
 * The temporary file is "<name>.nntmpXXXXXX" (a name too long for that
 * becomes "<first bytes>~<hash of the name>.nntmpXXXXXX", so it never needs
 * more bytes than the folder allows). The writer holds an flock on it until
 * commit; every open removes the unlocked ones of the same name, so a writer
 * killed with SIGKILL leaves garbage only until the next save of that path.
 */
#ifndef NN_ATOMIC_H
#define NN_ATOMIC_H

#include "nn/ctx.h"

#define NN_ATOMIC_STALL_MS 30000   /* a FIFO or device that takes no byte for this long fails */

typedef struct nn_atomic {
  const char *path;   /* the destination as given (borrowed) */
  char *tmp;          /* the temporary file's name: non-NULL from a successful open to commit */
  int fd;             /* open for writing; the caller may close it and set -1 */
  /* private to atomic.c */
  int keep;           /* a dup of fd: holds the flock and the data until commit */
  int dirfd;          /* the folder tmp and the final name live in; -1 when writing through */
  char *name;         /* the final name inside dirfd (symlinks resolved) */
} nn_atomic;

/* Prepares the write. Returns 0, or NN_EIO / NN_ENOMEM with a message naming
 * path ("cannot write 'path': reason"); then a->tmp is NULL and nothing needs
 * committing. */
int nn_atomic_open(nn_ctx *ctx, const char *path, nn_atomic *a);

/* Finishes: with rc == 0, puts the data in place (fsync and rename, or the
 * copy to a FIFO/device) and returns 0 or NN_EIO; with rc != 0 (the caller's
 * error, already in ctx->err), drops the data and returns rc. Closes a->fd
 * unless -1 and frees everything either way. */
int nn_atomic_commit(nn_ctx *ctx, nn_atomic *a, int rc);

/* The whole of open, write and commit for data already in memory: len bytes
 * at data become path's contents. Returns 0, or NN_EIO / NN_ENOMEM with the
 * message in ctx->err. */
int nn_atomic_write(nn_ctx *ctx, const char *path, const void *data, size_t len);

#endif
