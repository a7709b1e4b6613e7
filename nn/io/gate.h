/* gate.h -- the one check every file nnlua opens goes through (nnlua --sandbox).
 *
 * Without a policy (the default) every path is allowed and the gate costs one
 * branch. A host that runs someone else's script (vm/sandbox.c) names the
 * folders that may be read and the folders that may be written, once, before
 * the script runs; from then on every opener asks nn_gate_check first:
 * nn_atomic_open (every writer: PNG, GIF, checkpoints, CSV), nn_open_input
 * (every reader: IDX, PNG, CSV), the safetensors reader, the folder listing
 * of the bindings, and the host's own io.open, io.lines, loadfile, dofile,
 * require, os.remove and os.rename.
 *
 * The path is resolved as the kernel would follow it: symbolic links, "..",
 * "/proc/self/..." (realpath of the path, or for a file not there yet of its
 * nearest existing folder, the rest being plain names and no dangling link).
 * A folder written is also readable. The script cannot make symbolic links
 * (the sandbox has no os.execute and Lua cannot), so the answer cannot change
 * between the check and the open except through another process. */
#ifndef NN_GATE_H
#define NN_GATE_H

#include <stdarg.h>
#include <stddef.h>
#include "nn/ctx.h"

enum { NN_GATE_READ = 1, NN_GATE_WRITE = 2 };

/* Adds folder dir (resolved now; it must exist; a file too for NN_GATE_READ
 * alone) to what may be read (NN_GATE_READ) or read and written
 * (NN_GATE_READ | NN_GATE_WRITE), and turns the gate on. Returns 0, or -1 with errno set. */
int nn_gate_allow(const char *dir, int mode);

/* Whether a policy is in force. */
int nn_gate_on(void);

/* 0 when path may be opened for mode (always, with no policy); else -1 with
 * why (n bytes) saying so: "cannot write '/etc/x': --sandbox writes
 * only in /abs/out"; a path that resolves elsewhere shows where in brackets. */
int nn_gate_test(const char *path, int mode, char *why, size_t n);

/* nn_gate_test with the message in ctx->err; returns 0 or NN_EIO. */
int nn_gate_check(nn_ctx *ctx, const char *path, int mode);

/* The folders of mode, as resolved, for messages and the start-up banner:
 * the i-th one or NULL past the end. */
const char *nn_gate_folder(int mode, int i);

/* ---- memory ----
 * The sandbox's limit on what a script holds: every counted allocation of
 * nn/ (tensor storage, dataset images, figures and the rest: nn/mem.h, which
 * asks here before each one) plus what the host counts itself (its Lua heap,
 * through the callback). */

/* Sets the limit in bytes (0: none) and the host's own count. */
void nn_gate_set_memory(size_t limit, size_t (*host_bytes)(void));

/* The limit, 0 when there is none. */
size_t nn_gate_memory_limit(void);

/* What to do when the limit refuses an allocation of nn/mem.h before the
 * refusal stands: fn(ud) frees what it can (a host runs its garbage collector,
 * so tensors, datasets and figures the script dropped give their memory
 * back), then the allocation asks again. Called only on the thread that set
 * it and never from inside itself; NULL (the default): none. */
void nn_gate_set_reclaim(void (*fn)(void *ud), void *ud);

/* Runs the reclaim function if one is set and may run here; 1 if it ran. */
int nn_gate_reclaim(void);

/* Whether bytes more fit under the limit with held bytes counted (1 with no
 * limit); no message. */
int nn_gate_memory_fits(size_t bytes, size_t held);

/* 0 when bytes more fit under the limit with held bytes of counted memory
 * already live (always, with no limit); else NN_ENOMEM with "memory limit of
 * 2 GiB reached (47 MiB asked for <what>, 12 MiB in use; ...)" in ctx->err,
 * what being a printf format formatted only then. */
int nn_gate_memory(nn_ctx *ctx, size_t bytes, size_t held, const char *what, ...)
  __attribute__((format(printf, 4, 5)));
int nn_gate_vmemory(nn_ctx *ctx, size_t bytes, size_t held, const char *what, va_list ap);

/* Writes "2 GiB", "512 MiB", "1.5 GiB" or "300 bytes" for n into buf. */
void nn_gate_format_size(char *buf, size_t len, size_t n);

#endif
