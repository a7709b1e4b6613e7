/* kernel.c -- nnlua --kernel: the host's part of the Jupyter kernel. The loop
 * that reads requests is Lua (stdlib/nnlua/kernel.lua); this file gives it
 * run(f, ...), which calls a cell as the host calls a script (vm_docall:
 * nnlua's message handler, and SIGINT raising "interrupted!" in the running
 * code). The loop itself runs with SIGINT ignored, so an interrupt that
 * arrives just after a cell ended (the notebook's stop button pressed late)
 * leaves the session alone, and the next cell gets a fresh handler however
 * many interrupts came before. */
#include <signal.h>
#include <lauxlib.h>
#include "bindings/bindings.h"
#include "host.h"
#include "kernel.h"

/* run(f, ...) -> true, f's results... | false, message */
static int k_run(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int status = vm_docall(L, lua_gettop(L) - 1, LUA_MULTRET);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

/* require("nnlua.kernel").main(k_run), under the message handler only */
static int k_main(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "nnlua.kernel");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "main");
  lua_pushcfunction(L, k_run);
  lua_call(L, 1, 0);
  return 0;
}

int vm_kernel(lua_State *L) {
  struct sigaction ign, old;
  ign.sa_handler = SIG_IGN;
  ign.sa_flags = 0;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old);
  lua_pushcfunction(L, nnlua_msghandler);
  lua_pushcfunction(L, k_main);
  int status = lua_pcall(L, 0, 0, -2);
  lua_remove(L, status == LUA_OK ? -1 : -2);      /* the handler */
  sigaction(SIGINT, &old, NULL);
  return vm_report(L, status, VM_PROGNAME) == LUA_OK;
}
