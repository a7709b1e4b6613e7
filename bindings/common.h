/* common.h -- helpers shared by the bindings files: the context upvalue,
 * userdata lifetimes, argument, option and path checking. Each userdata
 * type has a header of its own for the other files (l_tensor.h,
 * l_generator.h). */
#ifndef NN_BINDINGS_COMMON_H
#define NN_BINDINGS_COMMON_H

#include <lua.h>
#include <lauxlib.h>
#include "nn/tensor.h"

/* Userdata lifetimes. Every nnlua userdata type is a struct whose first
 * member is `const char *tname`, its metatable's name, set by lnn_newudata.
 * The name is one array, defined by the type's file (lnn_tensor_mt in
 * l_tensor.c), so that its address is the type's tag:
 * lnn_testudata accepts a userdata only when its metatable is the registry's,
 * its size is the type's and its tname matches, so a metatable swapped in the
 * registry (debug.getregistry()["nn.Tensor"] = ...) or given to a foreign
 * userdata never makes one type pass for another.
 *
 * Resources are released in one of two ways:
 *  - by the finalizer: a __gc that the collector itself runs (lua_getinfo
 *    reports it as metamethod "__gc") meets an object nothing refers to, so
 *    no running C function can hold it; it frees.
 *  - by a close (a <close> variable, coroutine.close, fig:close(), or __gc /
 *    __close called as a plain function): the handle is closed at once (its
 *    pointer field becomes NULL, and every check says "freed" or "closed"),
 *    but the memory moves to the userdata's `held` field and is released now
 *    only when lnn_releasable says no C function can be using it; otherwise
 *    it is released by the finalizer.
 * The rule that makes this airtight, for every C function of nnlua: a
 * pointer taken from a userdata (or a string, or anything the collector
 * owns) is used only while that value sits in the function's own stack
 * slots, never after popping it or while only a table holds it. The host
 * (vm/guard.c) keeps scripts from changing C stack slots and C upvalues. */
typedef struct LContext { const char *tname; nn_ctx *ctx; } LContext;

/* The nn_ctx of this Lua state: upvalue 1 of every binding. */
#define getctx(L) (((LContext *)lua_touserdata(L, lua_upvalueindex(1)))->ctx)

/* Pushes a new zeroed userdata of size bytes (a struct starting with
 * const char *tname) with tname set and the registry's metatable tname
 * (raises if that registry entry is not a table). tname is the type's array. */
void *lnn_newudata(lua_State *L, size_t size, const char *tname);
/* The userdata at arg if it is a genuine tname, else NULL. */
void *lnn_testudata(lua_State *L, int arg, const char *tname);
/* lnn_testudata or a "bad argument" error naming tname. */
void *lnn_checkudata(lua_State *L, int arg, const char *tname);
/* For a __gc/__close function (the userdata at 1): 1 if the resources of
 * the userdata may be released now, 0 if they must wait for its finalizer
 * (see above). */
int lnn_releasable(lua_State *L);
/* Whether the running C function was called by the collector as a finalizer
 * (lua_getinfo names it metamethod "__gc"; no call a script makes does). */
int lnn_finalizing(lua_State *L);

void lnn_pushctx(lua_State *L);            /* pushes the state's context userdata, creating it once */
void lnn_setfuncs(lua_State *L, const luaL_Reg *l);   /* luaL_setfuncs with the context as upvalue */
/* lnn_setfuncs for the methods of a type, into the table on top, each also
 * recorded (in the registry) as a method whose self is named receiver ("x"):
 * when its argument 1 fails lnn_checkself or lnn_checktensor (x.sum(), x.view(2, 3))
 * the error says "sum: call it as x:sum(...) with a colon; ...", and when a later
 * one fails lnn_checktensor or lnn_checkfloat in a call through a field
 * (x.matmul(y): y became self) the usual error adds the same advice. */
void lnn_setmethods(lua_State *L, const luaL_Reg *l, const char *receiver);
/* The userdata of type tname at argument 1 of a method (see lnn_setmethods);
 * in any other function a plain "bad argument #1" error. */
void *lnn_checkself(lua_State *L, const char *tname);
/* Raises "bad argument #arg (tname expected, got ...)", with the advice of
 * lnn_setmethods when the running function is a method called with '.'. */
int lnn_typeerror(lua_State *L, int arg, const char *tname);

/* Makes the collector take a step once the bytes nnlua holds (tensor storage,
 * datasets, figures: nn_storage_live_bytes, counted by nn/mem.c) have grown by
 * GC_STEP_BYTES since its last step (common.c); called after allocating. */
void lnn_gcaccount(lua_State *L, nn_ctx *ctx);
int lnn_error(lua_State *L);                            /* raises ctx->err */

int64_t lnn_checksize(lua_State *L, int arg);           /* a whole number >= 0 */
/* Checks that the table at idx (raw: a proxy's __index is not asked) has no
 * key but the integers 1..n: a hole ({[1] = 1, [3] = 3}, whose # may be 1) or
 * another key raises "bad argument #arg (what is not a list: it has key K but
 * length n (holes are not allowed))". */
void lnn_checklist(lua_State *L, int idx, int arg, lua_Integer n, const char *what);
float lnn_checkfloat(lua_State *L, int arg);          /* a number, or a boolean as 1 or 0 */
/* Checks that the table at arg has only the given keys; raises "fn: unknown option 'k'". */
void lnn_checkopts(lua_State *L, int arg, const char *fn, const char *const *keys);

/* A file path at arg: a non-empty string (not a number) without NUL bytes
 * (C would see a shorter name); the error shows the NULs as \0. */
const char *lnn_checkpath(lua_State *L, int arg);

#endif
