/* host.h -- what the files of the nnlua host (vm/) share: running a chunk
 * under a traceback handler, printing errors, the stdlib path and the REPL.
 * main.c holds main() and the command line; run.c, path.c and repl.c the rest. */
#ifndef NN_VM_HOST_H
#define NN_VM_HOST_H

#include <stddef.h>
#include <lua.h>

#define VM_PROGNAME "nnlua"          /* prefix of error messages: "nnlua: ..." */

/* Calls the function found below its narg arguments on top of the stack, with
 * nnlua's message handler (nnlua_msghandler: the error at the user's line, a
 * traceback of the user's frames; __tostring for error objects). Ctrl-C while it runs raises "interrupted!".
 * Returns a Lua status; nres results, or the error message, are left on top. */
int vm_docall(lua_State *L, int narg, int nres);

/* When status is not LUA_OK, prints the string on top of the stack to stderr,
 * after "prefix: " unless prefix is NULL, and pops it. Returns status. */
int vm_report(lua_State *L, int status, const char *prefix);

/* Sets package.path to <stdlib>/?.lua;<stdlib>/?/init.lua, then the same two
 * templates for the folder of script (skipped when script is NULL: -e, stdin,
 * the REPL), then package.path as it was; each template once, at its first
 * place. <stdlib> is the stdlib folder found from the binary's own path
 * (never the current directory), left out when no such folder exists. */
void vm_setpath(lua_State *L, const char *script);

/* Pushes nnlua's stdlib folder (as vm_setpath finds it), or nil. */
void vm_pushstdlib(lua_State *L);
/* vm_setpath with the stdlib folder given (NULL: none) instead of the one
 * found from the binary's path: for a library, whose binary is someone else's. */
void vm_setpath_stdlib(lua_State *L, const char *stdlib, const char *script);

/* Finds the stdlib folder of an installed or built nnlua from the path of
 * one of its files (a library): in each of the five folders above it,
 * <folder>/share/nnlua/stdlib (make install), <folder>/share/lua/5.4/nnlua/stdlib
 * (a luarocks tree) then <folder>/stdlib (a source tree), the first that holds
 * nnlua/errors.lua. Writes it to out (size bytes) and returns 1, or 0. */
int vm_stdlib_near(const char *file, char *out, size_t size);

/* Prints a warning to stderr for each file in the folder of script (if not
 * NULL) or in the current directory that require would have loaded for one
 * of nnlua's modules (X.lua or X/init.lua, X from the stdlib folder and the
 * modules in package.loaded): nnlua's own wins. Call after nnlua_openlibs. */
void vm_warnshadowed(lua_State *L, const char *script);

/* Replaces debug.getlocal, setlocal, setupvalue and setmetatable (in
 * package.loaded.debug, which is the global debug) with versions that keep
 * scripts out of C frames, C upvalues and userdata metatables (guard.c).
 * debug.setmetatable on the global table calls nnlua_materialize_globals
 * first, so this may come before or after nnlua_openlibs. */
void vm_guard(lua_State *L);

/* Pushes the one-line version string:
 * "nnlua 0.1.0 (Lua 5.4.4, oneDNN 2.6.3, libpng 1.6.39, cairo 1.16.0)". */
const char *vm_pushversion(lua_State *L);

/* vm_docall(L, narg, 0) for a script's main chunk (below its narg
 * arguments) under nnlua -i: the chunk's top-level locals, as they are when
 * it returns or where it raised an error, become locals of the REPL that
 * vm_repl starts next. Returns a status, with the message on top on error. */
int vm_docall_keeplocals(lua_State *L, int narg);

/* Reads, evaluates and prints until end of input on stdin; errors are printed
 * and the session goes on. Uses libedit and ~/.nnlua_history when stdin is a
 * terminal, plain lines without prompts otherwise. */
void vm_repl(lua_State *L);

#endif
