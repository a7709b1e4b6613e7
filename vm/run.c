/* run.c -- calling Lua code the way the host always does: under nnlua's
 * message handler (bindings/errors.c), with Ctrl-C turned into an "interrupted!"
 * error, and with errors printed to stderr. */
#include <signal.h>
#include <stdio.h>
#include <lauxlib.h>
#include "bindings/bindings.h"
#include "nn/plot/canvas.h"
#include "nn/gemm.h"
#include "nn/io/png.h"
#include "host.h"

/* The state a SIGINT handler has to stop. A signal handler receives nothing
 * but the signal number, so this one static is unavoidable (lua.c does the
 * same). Only vm_docall sets it, and only while a call runs. */
static lua_State *running;

/* Count hook installed by the SIGINT handler: the next time the interpreter
 * checks hooks, the running code raises an error. */
static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Installs handler for sig (no SA_RESTART); the old action goes to *old
 * unless old is NULL. */
static void setsignal(int sig, void (*handler)(int), struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, old);
}

/* Only does what is safe in a handler: lua_sethook is documented as such.
 * The default action comes back first, so a second Ctrl-C kills a process
 * stuck in C code. */
static void on_sigint(int sig) {
  setsignal(sig, SIG_DFL, NULL);
  lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

int vm_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;      /* where the function is */
  lua_pushcfunction(L, nnlua_msghandler);
  lua_insert(L, base);
  struct sigaction old;
  running = L;
  setsignal(SIGINT, on_sigint, &old);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);       /* the REPL has its own between calls */
  if (lua_gethook(L) == stop_hook)      /* Ctrl-C came after the call ended */
    lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);
  return status;
}

int vm_report(lua_State *L, int status, const char *prefix) {
  if (status == LUA_OK) return status;
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "(error object is not a string)";
  fflush(stdout);
  if (prefix != NULL) fprintf(stderr, "%s: ", prefix);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
  lua_pop(L, 1);
  return status;
}

const char *vm_pushversion(lua_State *L) {
  return lua_pushfstring(L, "nnlua %s (%s, %s, libpng %s, cairo %s)", NNLUA_VERSION,
                         LUA_RELEASE, nn_gemm_version(), nn_png_version(), nn_canvas_version());
}
