/* nnlua.h -- embedding nnlua in a C program.
 *
 * nnlua is Lua 5.4 with neural-network modules (tensor, nn, optim, data,
 * datasets, transforms, plot). A C program links libnnlua (pkg-config
 * --cflags --libs nnlua), opens a Lua state with every module, hands data in
 * as tensors, runs scripts and reads tensors back out. This header and Lua's
 * own (lua.h, lauxlib.h) are the whole public interface; nnlua's C core
 * (the headers under nn/) is internal and may change.
 *
 * Conventions. Every function that can fail returns 0 on success and -1 on
 * failure; the failure's message is then kept in the state and read with
 * nnlua_errmsg. Script errors carry the same message and traceback as under
 * the nnlua program (the error at the user's line, a traceback of the user's
 * frames). No function here raises a Lua error or leaves anything on the
 * stack unless it says so. Strings and pointers returned belong to the
 * library: never free them.
 *
 * Threads. nnlua's kernels run on one OpenMP thread pool per process, shared
 * by every state: nnlua_set_num_threads affects all of them (and any other
 * OpenMP code of the program using libgomp). A lua_State itself must be used
 * from one thread at a time, as with any Lua state.
 *
 *   lua_State *L = nnlua_newstate();
 *   if (L == NULL) ...;                       // out of memory, or no stdlib found
 *   int64_t shape[2] = {100, 3};
 *   if (nnlua_pushtensor(L, xs, 2, shape) != 0) ...;
 *   lua_setglobal(L, "X");                    // the script sees X
 *   if (nnlua_dofile(L, "train.lua") != 0) fprintf(stderr, "%s\n", nnlua_errmsg(L));
 *   lua_getglobal(L, "W");
 *   const float *w = nnlua_totensor(L, -1, &ndim, dims);   // no copy
 *   ...
 *   lua_pop(L, 1);
 *   lua_close(L);
 */
#ifndef NNLUA_H
#define NNLUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNLUA_VERSION_STRING "0.1.0"
#define NNLUA_MAXDIM 8                /* the most dimensions a tensor has */

/* The version line: "nnlua 0.1.0 (Lua 5.4.4, oneDNN 2.6.3, libpng ..., cairo ...)". */
const char *nnlua_version(void);

/* A new Lua state with Lua's standard libraries and every nnlua module, set
 * up as the nnlua program sets up its own: the stdlib folder first in
 * package.path, the module globals (nn, optim, ... loaded on first use), the
 * guarded debug library and source-only loading. NULL when memory runs out
 * or nnlua's modules cannot be opened (the stdlib folder was not found: see
 * nnlua_stdlib). Close it with lua_close. */
lua_State *nnlua_newstate(void);

/* Adds every nnlua module to a state the program made itself. Lua's standard
 * libraries must be open already (luaL_openlibs, or at least package, debug,
 * string, table, math, io, os). Puts the stdlib folder first in package.path
 * and guards the debug library as nnlua_newstate does. Returns 0, or -1 with
 * the reason in nnlua_errmsg. Call it once per state. */
int nnlua_open(lua_State *L);

/* The stdlib folder this library uses, or NULL if none was found: the first
 * of <prefix>/share/nnlua/stdlib found from the library file itself (or, for
 * a program linked with libnnlua.a, from the program's file), the stdlib of
 * the source tree it was built in, then the absolute folder named by the
 * environment variable NNLUA_STDLIB. Never the current directory. */
const char *nnlua_stdlib(void);

/* Runs the script file at path (NULL: stdin) as the nnlua program runs one,
 * its folder added to package.path so that it finds modules beside it.
 * Returns 0, or -1 with the error message and traceback in nnlua_errmsg. */
int nnlua_dofile(lua_State *L, const char *path);

/* Runs the Lua source code; name names the chunk in messages ("=(embed)" if
 * NULL). Returns 0, or -1 with the message and traceback in nnlua_errmsg. */
int nnlua_dostring(lua_State *L, const char *code, const char *name);

/* Calls the function below its nargs arguments on top of the stack under
 * nnlua's message handler and leaves nresults results (LUA_MULTRET: all) in
 * their place. Returns 0, or -1 with the stack as before the function was
 * pushed and the message in nnlua_errmsg. */
int nnlua_pcall(lua_State *L, int nargs, int nresults);

/* The message of the last failure of an nnlua_ call on this state, with its
 * traceback when it came from running Lua code; "" if none failed yet. Valid
 * until the next nnlua_ call on the state. */
const char *nnlua_errmsg(lua_State *L);

/* Pushes a new tensor of ndim dimensions (0..NNLUA_MAXDIM; 0 is a scalar)
 * with the given shape, holding a COPY of the product(shape) floats at data
 * (row-major, C order). The caller keeps ownership of data and may free or
 * reuse it at once; the tensor owns its own storage (nnlua keeps every tensor
 * in its own aligned, garbage-collected storage, so caller memory is never
 * adopted). Returns 0, or -1 (bad shape, out of memory) with nothing pushed. */
int nnlua_pushtensor(lua_State *L, const float *data, int ndim, const int64_t *shape);

/* Whether the value at index idx is a live tensor. */
int nnlua_istensor(lua_State *L, int idx);

/* Reads the tensor at index idx WITHOUT copying: returns a pointer to its
 * elements in row-major order and stores its ndim and shape (shape has room
 * for NNLUA_MAXDIM; either may be NULL). NULL when the value is not a live
 * tensor, or when its elements are not contiguous (a transposed or sliced
 * view: use nnlua_copytensor). The memory stays owned by the tensor: the
 * pointer is valid while that tensor value is reachable from Lua (keep it on
 * the stack or in a global) and only until Lua code changes it in place
 * (optimizer steps do). Never free it. */
const float *nnlua_totensor(lua_State *L, int idx, int *ndim, int64_t *shape);

/* Copies the elements of the tensor at index idx, of any layout, into out in
 * row-major order: n must be its element count. The caller owns out.
 * Returns 0, or -1 (not a tensor, n is not its size) with the reason in
 * nnlua_errmsg. */
int nnlua_copytensor(lua_State *L, int idx, float *out, size_t n);

/* Fixes the number of threads of the process's one OpenMP pool (n >= 1), or
 * goes back to the automatic count (n == 0: up to the CPUs, fewer while other
 * programs keep them busy). The same as tensor.set_num_threads in scripts. */
void nnlua_set_num_threads(int n);
int nnlua_get_num_threads(void);

/* The stock-Lua entry point: require "nnlua" from the lua5.4 interpreter
 * (the module nnlua.so) calls it. Adds every module to L, sets the seven
 * globals and returns them in a table. */
int luaopen_nnlua(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
