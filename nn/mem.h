/* mem.h -- counted memory: the one path for buffers that the script's input
 * sizes (tensor storage, dataset images, decoded PNGs, CSV text, figure
 * operations and the pixels cairo draws into, GIF frames, checkpoint buffers).
 *
 * Every counted byte is in one process-wide total (nn_mem_live_bytes, which
 * nn_storage_live_bytes returns too), and under nnlua --sandbox --max-memory
 * every allocation first asks nn_gate_memory whether it fits beside that
 * total and the host's Lua heap: a refusal is NN_ENOMEM with "memory limit of
 * 300 MiB reached (47 MiB asked for <what>, 12 MiB in use; ...)" in ctx->err.
 * With no limit (the default) the check is one branch and the count one
 * relaxed atomic add.
 *
 * Two forms:
 * - nn_mem_alloc / nn_mem_realloc / nn_mem_free: malloc'd blocks that know
 *   their own size (a 16-byte header before the pointer returned), so a free
 *   needs no size. Never pass such a block to free() or realloc(), nor a
 *   malloc'd one to nn_mem_free.
 * - nn_mem_charge / nn_mem_uncharge: for memory someone else allocates
 *   (aligned tensor storage, cairo's image surfaces): charge before, uncharge
 *   the same bytes when it is freed.
 *
 * `what` is a printf format naming what asked ("the images of %s"); it is
 * formatted only when the allocation is refused or fails.
 */
#ifndef NN_MEM_H
#define NN_MEM_H

#include <stddef.h>
#include "ctx.h"

/* Bytes counted and not yet released, process-wide (any thread). */
size_t nn_mem_live_bytes(void);

/* 0 when bytes more would fit under the limit now (always, with no limit);
 * else NN_ENOMEM with ctx->err set. Counts nothing. */
int nn_mem_check(nn_ctx *ctx, size_t bytes, const char *what, ...)
  __attribute__((format(printf, 3, 4)));

/* Counts bytes held from now on, if they fit: 0, or NN_ENOMEM with ctx->err
 * set and nothing counted. Release with nn_mem_uncharge(bytes). */
int nn_mem_charge(nn_ctx *ctx, size_t bytes, const char *what, ...)
  __attribute__((format(printf, 3, 4)));
void nn_mem_uncharge(size_t bytes);

/* A counted block of bytes (0 is fine: a block of none), or NULL with
 * ctx->err set (limit, or out of memory). Release with nn_mem_free. */
void *nn_mem_alloc(nn_ctx *ctx, size_t bytes, const char *what, ...)
  __attribute__((format(printf, 3, 4)));
/* The same for n elements of size bytes, zeroed; n * size overflow-checked. */
void *nn_mem_calloc(nn_ctx *ctx, size_t n, size_t size, const char *what, ...)
  __attribute__((format(printf, 4, 5)));
/* Resizes counted block p (NULL: a new one) to bytes, keeping its contents;
 * only growth is checked against the limit. NULL with ctx->err set on failure,
 * p then untouched and still owned by the caller. */
void *nn_mem_realloc(nn_ctx *ctx, void *p, size_t bytes, const char *what, ...)
  __attribute__((format(printf, 4, 5)));
/* n * size into *bytes: 0, or NN_ENOMEM with ctx->err naming what when the
 * product overflows size_t. */
int nn_mem_size(nn_ctx *ctx, size_t n, size_t size, size_t *bytes, const char *what, ...)
  __attribute__((format(printf, 5, 6)));
/* The size of counted block p (0 for NULL). */
size_t nn_mem_bytes(const void *p);
void nn_mem_free(void *p);            /* NULL is fine */

#endif
