/* bindings.h -- what the host (vm/) needs from the bindings. */
#ifndef NN_BINDINGS_H
#define NN_BINDINGS_H

#include <lua.h>

#define NNLUA_VERSION "0.1.0"

/* Opens every nnlua module: each becomes a global and package.loaded[name].
 * tensor is loaded now; nn, optim, data, datasets, transforms and plot when
 * their global is first read (a metatable on the global table, init.c) or
 * required. Also replaces getmetatable, setmetatable and debug.getmetatable
 * (see nnlua_materialize_globals). Call after luaL_openlibs and after
 * package.path has the stdlib folder. Raises a Lua error on failure, so call
 * it under lua_pcall. */
int nnlua_openlibs(lua_State *L);

/* require "nnlua" (package.preload.nnlua, set by nnlua_openlibs; and the
 * stock-Lua module nnlua.so): loads every module now (nnlua_materialize_globals)
 * and returns a table of the seven (tensor, nn, optim, data, datasets,
 * transforms, plot), with version and handler (nnlua_msghandler). */
int nnlua_modules(lua_State *L);

/* While the lazy globals' metatable is on the global table: loads every
 * module not loaded yet (require, then rawset in the global table unless the
 * script assigned that name first), removes the metatable and returns 1;
 * otherwise does nothing and returns 0. Raises a Lua error if a module fails
 * to load. Whatever gets or sets the metatable of the global table calls it
 * first, so that a script's own metatable (strict.lua) replaces nothing of
 * ours: the replacements of getmetatable, setmetatable, debug.getmetatable
 * (init.c) and debug.setmetatable (vm/guard.c, which a host must call it from
 * when it replaces debug.setmetatable, whether before or after
 * nnlua_openlibs). */
int nnlua_materialize_globals(lua_State *L);

int luaopen_nn_tensor(lua_State *L);   /* require "nn.tensor" */
int luaopen_nn__C(lua_State *L);      /* require "nn._C": fused layers and losses */
int luaopen_optim__C(lua_State *L);   /* require "optim._C": optimizer kernels */
int luaopen_data__C(lua_State *L);    /* require "data._C": image sets, transform kernels */
int luaopen_plot__C(lua_State *L);    /* require "plot._C": figures, image files */
int luaopen_nnlua__C(lua_State *L);   /* require "nnlua._C": the error handler (errors.c) */

/* The one error boundary (errors.c). As a message handler (lua_pcall's msgh):
 * moves the error's location out of nnlua's stdlib files to the user's line,
 * adds the context of containers it passed through, and appends a traceback
 * of the user's frames. nnlua_errmessage does the same without the traceback.
 * Both take the error object at 1 and return the string. */
int nnlua_msghandler(lua_State *L);
int nnlua_errmessage(lua_State *L);

#endif
