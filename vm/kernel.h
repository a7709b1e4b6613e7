/* kernel.h -- nnlua --kernel, the process behind the Jupyter kernel
 * (jupyter/nnlua_kernel.py starts it; stdlib/nnlua/kernel.lua is its loop). */
#ifndef NN_VM_KERNEL_H
#define NN_VM_KERNEL_H

#include <lua.h>

/* Runs nnlua.kernel's loop until its request pipe closes, with SIGINT ignored
 * between cells and raising "interrupted!" in a running cell. Errors are
 * printed to stderr. Returns 1 when the loop ended normally, else 0. */
int vm_kernel(lua_State *L);

#endif
