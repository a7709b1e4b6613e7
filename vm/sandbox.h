/* sandbox.h -- nnlua --sandbox (sandbox.c, docs/sandbox.md). */
#ifndef NN_VM_SANDBOX_H
#define NN_VM_SANDBOX_H

#include <stddef.h>

/* The whole program when vm_sandbox_wanted(argv): options, the output folder,
 * the file gate, the script's environment, the run. Returns the exit status. */
int vm_sandbox_main(int argc, char **argv);

/* Whether "--sandbox" is among the options before the script (argv is
 * NULL-terminated; the script is the first word that is not an option or an
 * option's value, or follows "--"). */
int vm_sandbox_wanted(char **argv);

/* Whether a is one of the options only --sandbox knows (--out, --allow-read,
 * --max-memory, --max-time): 1 when its value is the next word, 2 when it
 * is in a ("--out=DIR"), 0 when a is not one of them. */
int vm_sandbox_option(const char *a);

/* The Lua chunk (sandbox_env.c, vm_sandbox_env_len bytes) that builds the
 * script's global table. Arguments: the gate function, the script's folder,
 * DIR, the script's arg table, the system's package.path and mkdirs; returns
 * the table. */
extern const char vm_sandbox_env[];
extern const size_t vm_sandbox_env_len;

#endif
