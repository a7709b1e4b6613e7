/* sandbox.h -- nnlua --sandbox (sandbox.c, docs/sandbox.md). */
#ifndef NN_VM_SANDBOX_H
#define NN_VM_SANDBOX_H

/* The whole program when argv[1] is "--sandbox": options, the output folder,
 * the file gate, the script's environment, the run. Returns the exit status. */
int vm_sandbox_main(int argc, char **argv);

#endif
