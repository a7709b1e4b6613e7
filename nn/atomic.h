/* atomic.h -- files written whole or not at all (DESIGN.md, "Files on disk").
 *
 *   nn_atomic a;
 *   if (nn_atomic_open(ctx, path, &a) != 0) return NN_EIO;
 *   rc = write(a.fd, ...) ...;              // or fdopen(a.fd) and set a.fd = -1 after fclose
 *   return nn_atomic_commit(ctx, &a, rc);   // rename into place, or remove the temp file
 *
 * The data goes to "<path>.tmpXXXXXX" in the same folder (so the rename is
 * atomic), with the mode a new file gets (0666 & ~umask); commit fsyncs it,
 * renames it over path and fsyncs the folder. On any failure the temporary
 * file is removed and path is untouched. */
#ifndef NN_ATOMIC_H
#define NN_ATOMIC_H

#include "ctx.h"

typedef struct nn_atomic {
  const char *path;   /* the destination (borrowed) */
  char *tmp;          /* the temporary file's name (owned until commit) */
  int fd;             /* open on tmp; -1 once the caller has closed it */
} nn_atomic;

/* Creates the temporary file. Returns 0, or NN_EIO / NN_ENOMEM with a message
 * naming path ("cannot write 'path': reason"). */
int nn_atomic_open(nn_ctx *ctx, const char *path, nn_atomic *a);

/* Finishes: with rc == 0, fsyncs and closes a->fd (unless -1), renames the
 * file into place and returns 0 or NN_EIO; with rc != 0 (the caller's error,
 * already in ctx->err), closes and removes the temporary file and returns rc.
 * Frees a->tmp either way. */
int nn_atomic_commit(nn_ctx *ctx, nn_atomic *a, int rc);

#endif
