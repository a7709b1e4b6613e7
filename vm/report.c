/* report.c -- nnlua --report run.pdf|run.html script.lua [args]: runs the
 * script as usual and writes the hand-in report of the run (docs/report.md;
 * the layout is nn/plot/report.c).
 *
 * What the report gets, and from where:
 *   printed output  print, io.write, io.stdout:write (bindings/l_std.c)
 *   figures         every fig:save, plot.save_image, plot.animate (its last
 *                   frame), in order, under the path saved to (bindings/l_plot.c)
 *   seeds           tensor.manual_seed, tensor.Generator(seed) and
 *                   Generator:manual_seed, wrapped here
 *   the error       the message and traceback of a failing script
 * A script that calls os.exit gets its report written first (os.exit is
 * wrapped too). The report is written once, through nn/io/atomic.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <lauxlib.h>
#include "bindings/bindings.h"
#include "bindings/l_std.h"
#include "nn/plot/report.h"
#include "host.h"
#include "report.h"

#define RUN_MT "nnlua.report.run"

/* One report run: a userdata, so that an error anywhere frees it (__gc). */
typedef struct Run {
  nn_report *r;
  char *source;               /* the script's text */
  size_t srclen;
  char **argv;                /* the script's name, then its arguments */
  const char *out;            /* the report's path */
  int dated;                  /* --report-date */
  int written;                /* the report is written (os.exit came first) */
} Run;

static int run_gc(lua_State *L) {
  Run *run = (Run *)luaL_checkudata(L, 1, RUN_MT);
  nnlua_setreport(L, NULL);
  nn_report_free(run->r);
  run->r = NULL;
  free(run->source);
  run->source = NULL;
  return 0;
}

/* "Linux 6.1.0 x86_64, Intel(R) Xeon(R) ... (2 CPUs)" */
static void machine(char *buf, size_t len) {
  struct utsname u;
  char model[160] = "";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      char *colon = strchr(line, ':');
      if (strncmp(line, "model name", 10) != 0 || !colon) continue;
      snprintf(model, sizeof model, ", %s", colon + 2);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
    fclose(f);
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (uname(&u) != 0) strcpy(u.sysname, "?"), u.release[0] = u.machine[0] = '\0';
  snprintf(buf, len, "%s %s %s%s (%ld CPU%s)", u.sysname, u.release, u.machine, model, ncpu,
           ncpu == 1 ? "" : "s");
}

/* Writes the report; error is the failure's text or NULL. Prints where it
 * went (or why not) to stderr; returns 1 when written. */
static int write_report(lua_State *L, Run *run, const char *error) {
  if (run->written || !run->r) return 1;
  run->written = 1;
  char mach[512], cmd[1024] = "";
  machine(mach, sizeof mach);
  size_t k = 0;
  for (char **a = run->argv; *a && k + 2 < sizeof cmd; a++)
    k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s%s", a == run->argv ? "" : " ", *a);
  if (k >= sizeof cmd) strcpy(cmd + sizeof cmd - 5, "...");
  const char *version = vm_pushversion(L);
  const char *info[] = {"command", cmd, "versions", version, "machine", mach};
  nn_report_doc doc = {
    .script = run->argv[0], .source = run->source, .source_len = run->srclen,
    .info = info, .ninfo = 3, .error = error,
    .date = run->dated ? (int64_t)time(NULL) : -1, .creator = "nnlua " NNLUA_VERSION
  };
  nn_ctx *ctx = nn_ctx_new();
  int rc = ctx ? nn_report_write(ctx, run->r, &doc, run->out) : NN_ENOMEM;
  fflush(stdout);
  if (rc == 0) fprintf(stderr, "%s: report written to %s\n", VM_PROGNAME, run->out);
  else fprintf(stderr, "%s: --report: %s\n", VM_PROGNAME, ctx ? ctx->err : "out of memory");
  fflush(stderr);
  nn_ctx_free(ctx);
  lua_pop(L, 1);
  return rc == 0;
}

/* ---- seeds and os.exit ------------------------------------------------ */

enum { W_MANUAL_SEED, W_GENERATOR, W_GEN_SEED, W_EXIT };

/* The wrapper of a seeding function or os.exit: upvalue 1 the Run, 2 the
 * original, 3 which (W_*). It checks the seed as the original does (same
 * message, from a frame called by the same name), notes it, and calls the
 * original with the same arguments. */
static int w_hook(lua_State *L) {
  Run *run = (Run *)lua_touserdata(L, lua_upvalueindex(1));
  int which = (int)lua_tointeger(L, lua_upvalueindex(3)), isint, n = lua_gettop(L);
  char call[96] = "";         /* the seeding call, as the report lists it */
  lua_Integer s;
  switch (which) {
  case W_MANUAL_SEED:
    s = lua_tointegerx(L, 1, &isint);
    if (!isint) luaL_argerror(L, 1, "seed must be an integer");
    snprintf(call, sizeof call, "tensor.manual_seed(" LUA_INTEGER_FMT ")", (LUAI_UACINT)s);
    break;
  case W_GENERATOR:
    if (lua_isnoneornil(L, 1)) {
      snprintf(call, sizeof call, "tensor.Generator() (seed 0)");
      break;
    }
    s = lua_tointegerx(L, 1, &isint);
    if (!isint) luaL_argerror(L, 1, "seed must be an integer");
    snprintf(call, sizeof call, "tensor.Generator(" LUA_INTEGER_FMT ")", (LUAI_UACINT)s);
    break;
  case W_GEN_SEED:
    if (!luaL_testudata(L, 1, "nn.Generator")) break;    /* the original raises */
    s = lua_tointegerx(L, 2, &isint);
    if (!isint) luaL_argerror(L, 2, "seed must be an integer");
    snprintf(call, sizeof call, "Generator:manual_seed(" LUA_INTEGER_FMT ")", (LUAI_UACINT)s);
    break;
  case W_EXIT: {
    int ok = lua_isnoneornil(L, 1) || (lua_isboolean(L, 1) ? lua_toboolean(L, 1)
                                                           : lua_tointeger(L, 1) == 0);
    const char *err = ok ? NULL : lua_pushfstring(L, "the script called os.exit(%s)",
                                                  luaL_tolstring(L, 1, NULL));
    write_report(L, run, err);
    break;
  }
  }
  if (*call && run->r) {
    lua_Debug ar;                           /* where: "tensor.manual_seed(42) at train.lua:3" */
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
      lua_pushfstring(L, "%s at %s:%d", call, ar.short_src, ar.currentline);
    else
      lua_pushstring(L, call);
    nn_report_seed(run->r, lua_tostring(L, -1));
  }
  lua_settop(L, n);                         /* the arguments as they came */
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* t[name] = w_hook over the original t[name] (t at index t), if it is a function */
static void hook(lua_State *L, int run, int t, const char *name, int which) {
  if (lua_getfield(L, t, name) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return;
  }
  lua_pushvalue(L, run);
  lua_insert(L, -2);
  lua_pushinteger(L, which);
  lua_pushcclosure(L, w_hook, 3);
  lua_setfield(L, t, name);
}

static void hook_all(lua_State *L, int run) {
  int top = lua_gettop(L);
  if (lua_getglobal(L, "tensor") == LUA_TTABLE) {
    hook(L, run, top + 1, "manual_seed", W_MANUAL_SEED);
    hook(L, run, top + 1, "Generator", W_GENERATOR);
  }
  lua_settop(L, top);
  if (luaL_getmetatable(L, "nn.Generator") == LUA_TTABLE &&
      lua_getfield(L, top + 1, "__index") == LUA_TTABLE)
    hook(L, run, top + 2, "manual_seed", W_GEN_SEED);
  lua_settop(L, top);
  if (lua_getglobal(L, "os") == LUA_TTABLE) hook(L, run, top + 1, "exit", W_EXIT);
  lua_settop(L, top);
}

/* ---- the run ---------------------------------------------------------- */

static char *readall(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 14, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    char *b = realloc(buf, cap *= 2);
    if (!b) free(buf);
    buf = b;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

const char *vm_report_path(char **argv, int script) {
  for (int i = 1; i + 1 < script; i++)
    if (strcmp(argv[i], "--report") == 0) return argv[i + 1];
    else if (strcmp(argv[i], "--") == 0) break;
  return NULL;
}

int vm_report_begin(lua_State *L, char **argv, const char *file, const char *out, int dated) {
  Run *run = (Run *)lua_newuserdatauv(L, sizeof *run, 0);
  memset(run, 0, sizeof *run);
  if (luaL_newmetatable(L, RUN_MT)) {
    lua_pushcfunction(L, run_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  int runidx = lua_gettop(L);
  run->argv = argv;
  run->out = out;
  run->dated = dated;
  nn_ctx *ctx = nn_ctx_new();
  run->r = ctx ? nn_report_new(ctx) : NULL;
  nn_ctx_free(ctx);
  if (!run->r) {
    lua_pop(L, 1);
    lua_pushliteral(L, "--report: out of memory");
    vm_report(L, LUA_ERRMEM, VM_PROGNAME);
    return 0;
  }
  nnlua_setreport(L, run->r);
  hook_all(L, runidx);
  run->source = readall(file, &run->srclen);      /* a script that does not compile too */
  if (!run->source) run->srclen = 0;
  return runidx;
}

int vm_report_end(lua_State *L, int runidx, int status) {
  Run *run = (Run *)luaL_checkudata(L, runidx, RUN_MT);
  nnlua_setreport(L, NULL);
  int written;
  if (status == LUA_OK) {
    written = write_report(L, run, NULL);
  } else {
    const char *msg = lua_tostring(L, -1);
    written = write_report(L, run, msg ? msg : "(error object is not a string)");
    vm_report(L, status, VM_PROGNAME);
  }
  lua_pushcfunction(L, run_gc);
  lua_pushvalue(L, runidx);
  lua_call(L, 1, 0);
  lua_settop(L, runidx - 1);
  return status == LUA_OK && !written ? LUA_ERRRUN : status;
}

int vm_report_script(lua_State *L, char **argv, const char *out, int dated) {
  int runidx = vm_report_begin(L, argv, argv[0], out, dated);
  if (runidx == 0) return LUA_ERRMEM;
  int status = luaL_loadfilex(L, argv[0], "t");      /* source only: guard.c */
  if (status == LUA_OK) {
    int n = 0;
    while (argv[n + 1] != NULL) n++;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[i]);
    status = vm_docall(L, n, 0);
  }
  return vm_report_end(L, runidx, status);
}
