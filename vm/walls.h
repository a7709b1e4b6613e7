/* walls.h -- the kernel's walls of nnlua --sandbox (walls.c): no_new_privs,
 * Landlock where the kernel has it, and a seccomp filter. */
#ifndef NN_VM_WALLS_H
#define NN_VM_WALLS_H

#include <stddef.h>

typedef struct vm_walls {
  const char *write;           /* the one folder that may be written (and read), or NULL */
  const char *const *read;     /* files and folders that may be read */
  int nread;
} vm_walls;

/* Puts the walls up for good, for this thread and those it starts later:
 * call it while the process has one thread. Files may then be written only
 * under w->write, and read only there, in w->read and in what nnlua itself
 * needs (libraries, fonts, /proc/self, ...); exec, sockets and ptrace fail.
 * What went up is written to desc (n bytes) for the start-up line:
 * "seccomp + Landlock ABI 7", "seccomp + no Landlock (the kernel has none)".
 * NNLUA_SANDBOX_NO_SECCOMP or NNLUA_SANDBOX_NO_LANDLOCK, set and not empty,
 * leave that part out (to measure its cost, or to show what it stops);
 * NNLUA_SANDBOX_LANDLOCK_ABI=n uses the rules of Landlock ABI n when the
 * kernel's is newer (to test what an older kernel gets). */
void vm_walls_up(const vm_walls *w, char *desc, size_t n);

#endif
