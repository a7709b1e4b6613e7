/* main.c -- the nnlua program: command line, scripts, -e, -l, -v, and the
 * REPL when asked for. Shaped like Lua's own lua.c: main creates the state
 * and calls pmain under lua_pcall, so that every error, even one while
 * opening the libraries, is reported as a message and exit status 1.
 *
 *   nnlua [options] [script [args]]
 *
 * The global arg is laid out as stock lua does it: arg[0] is the script,
 * arg[1..n] its arguments, arg[-1..] the options and the program before it.
 * A script that calls os.exit(n) exits with n. */
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "bindings/bindings.h"
#include "host.h"
#include "kernel.h"
#include "sandbox.h"
#include "report.h"

enum {                 /* what collectargs found on the command line */
  HAS_ERROR = 1,       /* bad option: usage and exit status 1 */
  HAS_I = 2,           /* -i */
  HAS_V = 4,           /* -v, --version */
  HAS_E = 8,           /* -e stat */
  HAS_W = 16,          /* -W */
  HAS_HELP = 32,       /* -h, --help */
  HAS_KERNEL = 64,     /* --kernel: the process behind the Jupyter kernel (kernel.c) */
  HAS_REPORT = 128,    /* --report FILE (report.c) */
  HAS_REPORT_DATE = 256  /* --report-date */
};

static void usage(FILE *f) {
  fputs("usage: nnlua [options] [script [args]]\n"
        "Available options are:\n"
        "  -e stat       execute string 'stat'\n"
        "  -i            enter interactive mode after executing 'script'\n"
        "  -l mod        require library 'mod' into global 'mod'\n"
        "  -v, --version show version information (nnlua, Lua, oneDNN, libpng, cairo)\n"
        "  -W            turn warnings on\n"
        "  -h, --help    show this help\n"
        "  --sandbox     run someone else's script safely (with --out, --allow-read,\n"
        "                --max-memory, --max-time, in any order; --sandbox --help)\n"
        "  --report FILE run the script and write FILE (.pdf or .html): source, output, figures\n"
        "  --report-date put today's date in the report\n"
        "  --            stop handling options\n"
        "  -             stop handling options and execute stdin\n"
        "With no arguments: the REPL if stdin is a terminal, else run stdin.\n",
        f);
  fflush(f);
}

static void badoption(const char *opt) {
  if (vm_sandbox_option(opt)) {
    fprintf(stderr, "%s: '%.*s' works only with --sandbox (nnlua --sandbox --help)\n", VM_PROGNAME,
            (int)strcspn(opt, "="), opt);
    fflush(stderr);
    return;
  }
  if (opt[1] == 'e' || opt[1] == 'l' || strcmp(opt, "--report") == 0)
    fprintf(stderr, "%s: '%s' needs argument\n", VM_PROGNAME, opt);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", VM_PROGNAME, opt);
  usage(stderr);
}

/* Flags of the options word a ("-v" -> HAS_V), HAS_ERROR if unknown. */
static int optflag(const char *a) {
  if (strcmp(a, "-i") == 0) return HAS_I;
  if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) return HAS_V;
  if (strcmp(a, "-W") == 0) return HAS_W;
  if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return HAS_HELP;
  if (strcmp(a, "--kernel") == 0) return HAS_KERNEL;
  if (strcmp(a, "--report-date") == 0) return HAS_REPORT_DATE;
  return HAS_ERROR;
}

/* Scans the options. *script gets the index of the script name (argc when
 * there is none); on HAS_ERROR it gets the index of the bad option. "-e x",
 * "-ex", "-l m" and "-lm" are all accepted, as lua does. */
static int collectargs(char **argv, int *script) {
  int flags = 0, i;
  for (i = 1; argv[i] != NULL; i++) {
    const char *a = argv[i];
    *script = i;
    if (a[0] != '-' || strcmp(a, "-") == 0) return flags;   /* the script */
    if (strcmp(a, "--") == 0) { *script = i + 1; return flags; }
    if (a[1] == 'e' || a[1] == 'l') {
      if (a[1] == 'e') flags |= HAS_E;
      if (a[2] == '\0' && argv[++i] == NULL) return flags | HAS_ERROR;
      continue;
    }
    if (strcmp(a, "--report") == 0) {
      flags |= HAS_REPORT;
      if (argv[++i] == NULL) return flags | HAS_ERROR;
      continue;
    }
    int f = optflag(a);
    if (f == HAS_ERROR) return flags | HAS_ERROR;
    flags |= f;
  }
  *script = i;
  return flags;
}

/* Sets the global arg: argv[script] at index 0, the options before it at
 * negative indices, its arguments at 1..n. With no script, argv[0] is at 0. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = vm_docall(L, 0, 0);
  return vm_report(L, status, VM_PROGNAME);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbufferx(L, s, strlen(s), name, "t"));
}

/* -l mod: mod = require "mod" */
static int dolibrary(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = vm_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, name);
  return vm_report(L, status, VM_PROGNAME);
}

/* Runs the -e and -l options in command-line order; 0 if one failed. */
static int runargs(lua_State *L, char **argv, int script) {
  for (int i = 1; i < script; i++) {
    char opt = argv[i][1];
    if (argv[i][0] != '-' || (opt != 'e' && opt != 'l')) continue;
    const char *extra = argv[i][2] != '\0' ? argv[i] + 2 : argv[++i];
    int status = opt == 'e' ? dostring(L, extra, "=(command line)")
                            : dolibrary(L, extra);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* Runs the script argv[0] ("-" is stdin unless it came after "--") with
 * argv[1..] as its arguments, which the chunk also gets as "...". With keep
 * (-i), its top-level locals are kept for the REPL, which then starts even
 * after an error (as python -i does; the exit status is still 1). */
static int runscript(lua_State *L, char **argv, int keep) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  int status = luaL_loadfilex(L, fname, "t");     /* source only: guard.c */
  if (status == LUA_OK) {
    int n = 0;
    while (argv[n + 1] != NULL) n++;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[i]);
    status = keep ? vm_docall_keeplocals(L, n) : vm_docall(L, n, 0);
  }
  return vm_report(L, status, VM_PROGNAME);
}

/* The standard libraries, the stdlib folder and the folder of script (NULL
 * for none) in package.path, then every nnlua module, then a warning for each
 * student's file that one of them shadows. LUA_PATH and LUA_PATH_5_4 are
 * honoured by luaL_openlibs; LUA_INIT is deliberately not run. */
static int openlibs(lua_State *L, const char *script) {
  luaL_openlibs(L);
  vm_guard(L);
  vm_setpath(L, script);
  lua_pushcfunction(L, nnlua_openlibs);
  int status = vm_report(L, vm_docall(L, 0, 0), VM_PROGNAME);
  if (status == LUA_OK) vm_warnshadowed(L, script);
  return status;
}

/* The script file of the command line, or NULL when there is none or it is
 * stdin ("-", unless it came after "--"). */
static const char *scriptfile(char **argv, int argc, int script) {
  if (script >= argc) return NULL;
  if (strcmp(argv[script], "-") == 0 && strcmp(argv[script - 1], "--") != 0) return NULL;
  return argv[script];
}

static void printversion(lua_State *L) {
  puts(vm_pushversion(L));
  fflush(stdout);
  lua_pop(L, 1);
}

/* Everything main does, under lua_pcall. Returns true on success. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = argc;
  int flags = collectargs(argv, &script);
  luaL_checkversion(L);
  if (flags & HAS_ERROR) { badoption(argv[script]); return 0; }
  if (flags & HAS_HELP) { usage(stdout); lua_pushboolean(L, 1); return 1; }
  if ((flags & (HAS_REPORT | HAS_REPORT_DATE)) && (!(flags & HAS_REPORT) ||
      scriptfile(argv, argc, script) == NULL)) {
    fprintf(stderr, "%s: %s\n", VM_PROGNAME, flags & HAS_REPORT ? "--report needs a script file"
                                                                : "--report-date needs --report");
    usage(stderr);
    return 0;
  }
  if (flags & HAS_V) printversion(L);
  if (openlibs(L, scriptfile(argv, argc, script)) != LUA_OK) return 0;
  if (flags & HAS_KERNEL) { lua_pushboolean(L, vm_kernel(L)); return 1; }
  createargtable(L, argv, argc, script);
  if (flags & HAS_W) lua_warning(L, "@on", 0);
  if (!runargs(L, argv, script)) return 0;
  int failed = script < argc &&
               ((flags & HAS_REPORT) ? vm_report_script(L, argv + script, vm_report_path(argv, script),
                                                        (flags & HAS_REPORT_DATE) != 0)
                                     : runscript(L, argv + script, flags & HAS_I)) != LUA_OK;
  if (failed && !(flags & HAS_I)) return 0;
  if (flags & HAS_I) {            /* after an error too, to look at it (python -i) */
    vm_repl(L);
  } else if (script == argc && !(flags & (HAS_E | HAS_V))) {
    if (isatty(STDIN_FILENO)) vm_repl(L);
    else if (dochunk(L, luaL_loadfilex(L, NULL, "t")) != LUA_OK) return 0;
  }
  lua_pushboolean(L, !failed);
  return 1;
}

int main(int argc, char **argv) {
  /* Tensor storage comes and goes in blocks of up to a few MB (batches,
   * activations), freed by the garbage collector in bunches. Keep such blocks
   * in malloc's heap for reuse instead of mmap'ing each and handing freed tops
   * back to the kernel: that cost a page fault per 4 KB written, every batch. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (vm_sandbox_wanted(argv)) return vm_sandbox_main(argc, argv);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", VM_PROGNAME);
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  vm_report(L, status, VM_PROGNAME);
  lua_close(L);
  return (status == LUA_OK && ok) ? EXIT_SUCCESS : EXIT_FAILURE;
}
