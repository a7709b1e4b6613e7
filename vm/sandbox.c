/* sandbox.c -- nnlua --sandbox: running someone else's script (docs/sandbox.md).
 *
 *   nnlua --sandbox [--out DIR] [--allow-read PATH]... [--max-memory SIZE]
 *                   [--max-time S] [--report FILE [--report-date]]
 *                   script.lua [args] | a.lua b.lua ... | folder
 *
 * What is built so far, and nothing more is claimed (--help says the same):
 *
 * - The script's own environment. The script, the chunks it loads and the
 *   modules it requires from its folder run with a global table of their own
 *   (sandbox_env.c), not the host's: nnlua's stdlib keeps the real one, with
 *   the real debug, os, io and package it needs, and its private C modules
 *   (nn._C, data._C, ...) stay in the host's package.loaded where the script
 *   cannot look. Inside: no os.execute (but the mkdir -p 'dir' that older
 *   scripts use, done in C inside DIR), io.popen, io.tmpfile, package.loadlib,
 *   C modules or package.cpath, string.dump, debug beyond traceback, binary
 *   chunks, collectgarbage options that stop or tune the collector; os.exit is
 *   an error; os.getenv answers a short list of names; getmetatable of a value
 *   that is not a table (nnlua's userdata, strings) is a protected marker.
 *   require finds nnlua's own modules (none of whose names has a part starting
 *   with '_'), Debian's argparse, and Lua files in the script's folder.
 *
 * - The working directory is DIR (default ./out, made when missing), so
 *   relative paths land there.
 *
 * - One file gate (nn/io/gate.c): writes only under DIR; reads only from the
 *   script's folder, DIR, the dataset folders (/usr/share/datasets,
 *   $NNLUA_DATA) and --allow-read paths. Every opener of nnlua's C code asks it
 *   (atomic writer, input reader, safetensors, folder listing), and so do the
 *   script's io.open, io.lines, io.input, io.output, loadfile, dofile, require,
 *   os.remove and os.rename here.
 *
 * - Limits (see "limits" below): the Lua heap and everything nnlua allocates
 *   for the script (tensor storage, datasets, files being read or written,
 *   figures: nn/mem.c) together under --max-memory, as errors the script may
 *   catch; --max-time of wall clock, then exit status 124.
 *
 * - Several scripts (a folder, or two or more .lua files): each in a child
 *   process with its own output folder, then a table (run_batch).
 *
 * - --report (report.c): checked to lie in DIR before the script runs
 *   (report_path), captured and written by the host after it, in DIR; with
 *   several scripts, one per script in its own folder.
 *
 * - The kernel's walls (walls.c): no_new_privs, Landlock where the kernel has
 *   it (writes only under DIR, reads only where the gate reads and where nnlua
 *   itself reads), a seccomp filter.
 *
 * Not built yet: counting datasets' and figures' memory. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "bindings/bindings.h"
#include "nn/io/gate.h"
#include "nn/tensor.h"
#include "host.h"
#include "report.h"
#include "sandbox.h"
#include "walls.h"

#define DEFAULT_OUT "out"
#define MAXREADS 80           /* the gate's folders (64 at most), stdlib, a font */

typedef struct Opts {
  const char *out;             /* --out */
  const char *allow[64];       /* --allow-read */
  int nallow;
  int script;                  /* argv index of the script */
  size_t max_memory;           /* --max-memory, bytes */
  double max_time;             /* --max-time, seconds */
  const char *report;          /* --report FILE, or NULL */
  int report_date;             /* --report-date */
} Opts;

#define DEFAULT_MEMORY ((size_t)4 << 30)
#define DEFAULT_TIME 3600.0
#define GRACE_SECONDS 2        /* after the time limit, for C code that runs no hook */
#define TIME_STATUS 124        /* exit status at the time limit, as timeout(1) */

static void usage(FILE *f) {
  fputs("usage: nnlua --sandbox [options] script.lua [args]\n"
        "       nnlua --sandbox [options] a.lua b.lua ... | folder\n"
        "Options go before the script, in any order, --sandbox among them.\n"
        "Runs a script someone else wrote; several (two or more .lua files, or the\n"
        ".lua files of a folder) each in a process of its own with DIR/<name>/ as its\n"
        "folder and DIR/<name>.log as its output, then a table. Options:\n"
        "  --out DIR         the only folder it may write, and its working directory\n"
        "                    (default ./out, made when missing)\n"
        "  --allow-read PATH a file or folder it may also read (repeatable); it always\n"
        "                    reads its own folder, DIR and the dataset folders\n"
        "  --max-memory SIZE Lua heap and tensors together (default 4G; K, M, G, T)\n"
        "  --max-time S      wall-clock seconds (default 3600); then exit status 124\n"
        "  --report FILE     also write the run's report (.pdf, .html) in DIR (several\n"
        "                    scripts: DIR/<name>/FILE); --report-date dates it\n"
        "Inside: no os.execute (but mkdir -p 'dir' in DIR), io.popen, C modules, debug\n"
        "(but traceback), binary chunks, string.dump, os.exit (an error); require finds\n"
        "nnlua's modules, argparse and the script's folder only; every file nnlua or\n"
        "the script opens is checked. The kernel then refuses exec, sockets, ptrace\n"
        "(seccomp, x86-64) and files outside those folders (Landlock, where the\n"
        "kernel has it). Not counted in --max-memory: datasets and figures.\n"
        "See docs/sandbox.md.\n", f);
  fflush(f);
}

static int fail(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "%s --sandbox: ", VM_PROGNAME);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return 0;
}

/* "2G", "512M", "2GiB", "1.5g", "1000000" (bytes) -> *out. K, M, G, T are
 * powers of 1024, with or without "iB" or "B". */
static int parsesize(const char *s, size_t *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v > 0)) return 0;
  double mul = 1;
  const char *units = "KMGT";
  const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
  if (u != NULL) {
    for (const char *k = units; k <= u; k++) mul *= 1024;
    end++;
    if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "ib") == 0 ||
        strcmp(end, "b") == 0) end += strlen(end);
  } else if (strcmp(end, "B") == 0) {
    end++;
  }
  if (*end != '\0' || v * mul < 1 << 20 || v * mul > 1e18) return 0;   /* at least 1 MiB */
  *out = (size_t)(v * mul);
  return 1;
}

/* The options that only --sandbox knows, each followed by a value ("--out
 * DIR" or "--out=DIR"). */
static const char *const own[] = {"--out", "--allow-read", "--max-memory", "--max-time", NULL};

int vm_sandbox_option(const char *a) {
  size_t n = strcspn(a, "=");
  for (int k = 0; own[k] != NULL; k++)
    if (strlen(own[k]) == n && strncmp(a, own[k], n) == 0) return a[n] == '=' ? 2 : 1;
  return 0;
}

int vm_sandbox_wanted(char **argv) {
  for (int i = 1; argv[i] != NULL; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) return 0;   /* the script */
    if (strcmp(a, "--sandbox") == 0) return 1;
    int takes = vm_sandbox_option(a) == 1 || strcmp(a, "--report") == 0 || strcmp(a, "-e") == 0 ||
                strcmp(a, "-l") == 0;
    if (takes && argv[++i] == NULL) return 0;
  }
  return 0;
}

/* nnlua's options that do not go with --sandbox (the script runs alone) */
static int host_only(const char *a) {
  static const char *const no[] = {"-i", "-v", "--version", "-W", "--kernel", NULL};
  if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) return 1;
  for (int k = 0; no[k] != NULL; k++)
    if (strcmp(a, no[k]) == 0) return 1;
  return 0;
}

/* The options of the command line, in any order before the script ("--sandbox"
 * among them). Returns 1 and fills o, or 0 after a message (o->script is -1
 * when --help was asked for). */
static int parse(int argc, char **argv, Opts *o) {
  memset(o, 0, sizeof *o);
  o->out = DEFAULT_OUT;
  o->max_memory = DEFAULT_MEMORY;
  o->max_time = DEFAULT_TIME;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { o->script = -1; return 0; }
    if (strcmp(a, "--") == 0) { i++; break; }
    if (a[0] != '-' || a[1] == '\0') break;
    if (strcmp(a, "--sandbox") == 0) continue;
    if (host_only(a))
      return fail("'%s' cannot be used with --sandbox%s (nnlua --sandbox --help)", a, "");
    const char *val = NULL;
    size_t n = strcspn(a, "=");
    if (a[n] == '=') val = a + n + 1;
    if (strncmp(a, "--out", n) == 0 && n == 5) {
      if (val == NULL && (val = argv[++i]) == NULL) return fail("'%s' needs a folder%s", a, "");
      if (val[0] == '\0') return fail("'%s' needs a folder%s", a, "");
      o->out = val;
    } else if (strncmp(a, "--allow-read", n) == 0 && n == 12) {
      if (val == NULL && (val = argv[++i]) == NULL) return fail("'%s' needs a path%s", a, "");
      if (o->nallow == 64) return fail("too many %s options%s", a, "");
      o->allow[o->nallow++] = val;
    } else if (strncmp(a, "--max-memory", n) == 0 && n == 12) {
      if (val == NULL && (val = argv[++i]) == NULL) return fail("'%s' needs a size%s", a, "");
      if (!parsesize(val, &o->max_memory))
        return fail("--max-memory: '%s' is not a size (say 2G, 512M, 2GiB)%s", val, "");
    } else if (strncmp(a, "--report", n) == 0 && n == 8) {
      if (val == NULL && (val = argv[++i]) == NULL) return fail("'%s' needs a file name%s", a, "");
      if (val[0] == '\0') return fail("'%s' needs a file name%s", a, "");
      o->report = val;
    } else if (strcmp(a, "--report-date") == 0) {
      o->report_date = 1;
    } else if (strncmp(a, "--max-time", n) == 0 && n == 10) {
      if (val == NULL && (val = argv[++i]) == NULL) return fail("'%s' needs seconds%s", a, "");
      char *end;
      double t = strtod(val, &end);
      if (end == val || *end != '\0' || !(t > 0) || t > 1e7)
        return fail("--max-time: '%s' is not a number of seconds (0 < s <= 1e7)%s", val, "");
      o->max_time = t;
    } else {
      return fail("unrecognized option '%s'%s (nnlua --sandbox --help)", a, "");
    }
  }
  if (i >= argc) return fail("no script given%s%s (nnlua --sandbox --help)", "", "");
  if (o->report_date && o->report == NULL) return fail("--report-date needs --report%s%s", "", "");
  if (strcmp(argv[i], "-") == 0) return fail("the script must be a file, not stdin%s%s", "", "");
  o->script = i;
  return 1;
}

/* mkdir -p path (modes 0777 & ~umask). Returns 0 or -1 with errno. */
static int makedirs(const char *path) {
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  for (char *p = buf + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
      *p = c;
      if (c == '\0') break;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
  return 0;
}

/* ---- limits ----
 * Memory: the Lua heap through an allocator that counts it, and what nnlua
 * allocates (tensor storage, datasets, files, figures) through nn/mem.c, which
 * asks nn_gate_memory before each allocation; the two together stay under the
 * limit. A refusal is a Lua error the script may catch: "not enough memory"
 * from Lua's heap (Lua's own message, fixed), or "memory limit of 2 GiB
 * reached (...)" from nnlua, after a collection (reclaim) did not make room.
 * Time: SIGALRM at the deadline installs a count hook that raises "time
 * limit ... reached" again and again until the script has ended (pcall
 * cannot keep it alive); C code runs no hook, so GRACE_SECONDS later a
 * second SIGALRM ends the process. */
static struct {
  size_t lua_bytes;              /* the Lua heap now */
  size_t limit;                  /* --max-memory */
  int memory_hit;                /* the allocator refused for the limit */
  volatile sig_atomic_t timed_out;
  lua_State *L;
  double max_time;
} lim;

static size_t host_bytes(void) { return lim.lua_bytes; }

/* Run by nn/mem.c when the limit refuses one of nnlua's allocations, before the
 * refusal stands: what the script dropped (tensors, datasets, figures) still
 * counts until the collector frees it, so collect, then the allocation asks
 * again. Without it a loop that drops a large tensor each time would be
 * refused on every later try while holding nothing. */
static void reclaim(void *ud) { lua_gc((lua_State *)ud, LUA_GCCOLLECT); }

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    free(ptr);
    lim.lua_bytes -= osize < lim.lua_bytes ? osize : lim.lua_bytes;
    return NULL;
  }
  if (nsize > osize) {
    size_t more = nsize - osize, used = lim.lua_bytes + nn_storage_live_bytes();
    if (more > lim.limit || used > lim.limit - more) {
      lim.memory_hit = 1;
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (p != NULL) lim.lua_bytes = lim.lua_bytes - (osize < lim.lua_bytes ? osize : lim.lua_bytes) + nsize;
  return p;
}

static void time_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "time limit reached (--max-time)");
}

static void on_alarm(int sig) {
  (void)sig;
  if (!lim.timed_out) {
    lim.timed_out = 1;
    lua_sethook(lim.L, time_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1000);
    alarm(GRACE_SECONDS);
    return;
  }
  static const char msg[] = "nnlua --sandbox: time limit reached and the script is in C code; "
                            "stopped\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
  _exit(TIME_STATUS);
}

static void start_clock(lua_State *L, double seconds) {
  lim.L = L;
  lim.max_time = seconds;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = (time_t)seconds;
  it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
  if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0) it.it_value.tv_usec = 1;
  setitimer(ITIMER_REAL, &it, NULL);
}

/* mkdirs(path) -> true | nil, message: makedirs for the Lua side. */
static int l_mkdirs(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (makedirs(path) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", path, strerror(errno));
  return 2;
}

/* gate(path, mode) -> true | nil, message: nn_gate_test for the Lua side,
 * mode "r" or "w". */
static int l_gate(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *mode = luaL_checkstring(L, 2);
  char why[768];
  if (nn_gate_test(path, mode[0] == 'w' ? NN_GATE_WRITE : NN_GATE_READ, why, sizeof why) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  luaL_pushfail(L);
  lua_pushstring(L, why);
  return 2;
}


/* os.tmpname of the sandbox (host's and script's): a new empty file in DIR,
 * not in /tmp. Upvalue 1: DIR. */
static int l_tmpname(lua_State *L) {
  const char *dir = lua_tostring(L, lua_upvalueindex(1));
  char *name = (char *)lua_pushfstring(L, "%s/lua_XXXXXX", dir);
  int fd = mkstemp(name);
  if (fd < 0) return luaL_error(L, "os.tmpname: cannot make a file in %s: %s", dir, strerror(errno));
  close(fd);
  return 1;
}

/* Pushes the script at path compiled (Lua source only, a first line
 * starting with '#' skipped as lua does), named "@shown"; or an error
 * message, returning LUA_ERRFILE. */
static int loadscript(lua_State *L, const char *path, const char *shown) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    lua_pushfstring(L, "cannot open %s: %s", shown, strerror(errno));
    return LUA_ERRFILE;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0) luaL_addlstring(&b, buf, k);
  int bad = ferror(f);
  fclose(f);
  luaL_pushresult(&b);
  if (bad) {
    lua_pop(L, 1);
    lua_pushfstring(L, "cannot read %s", shown);
    return LUA_ERRFILE;
  }
  size_t len;
  const char *src = lua_tolstring(L, -1, &len);
  if (len > 0 && src[0] == '#') {               /* keep the newline: line numbers stay */
    const char *nl = memchr(src, '\n', len);
    len -= nl ? (size_t)(nl - src) : len;
    src = nl ? nl : src + len;
  }
  lua_pushfstring(L, "@%s", shown);
  int st = luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t");
  lua_remove(L, -2);                            /* the name */
  lua_remove(L, -2);                            /* the source */
  return st == LUA_OK ? LUA_OK : LUA_ERRFILE;
}

/* The real package: nnlua's stdlib folder only, no C searchers, no cpath.
 * Pushes package.path as it was. */
static void restrict_package(lua_State *L) {
  lua_getglobal(L, LUA_LOADLIBNAME);
  lua_getfield(L, -1, "path");
  lua_insert(L, -2);
  vm_pushstdlib(L);
  if (lua_isnil(L, -1)) lua_pushliteral(L, "");
  else lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_tostring(L, -1), lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  if (lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
  }
  lua_pop(L, 2);
}

/* Everything the sandbox does in the state, under lua_pcall. Upvalues none;
 * arguments: argv (light userdata), argc, script index, DIR, script folder,
 * the script's real path, the report's path (nil: no --report), and whether
 * the report is dated. */
static int psandbox(lua_State *L) {
  char **argv = lua_touserdata(L, 1);
  int argc = (int)lua_tointeger(L, 2);
  int script = (int)lua_tointeger(L, 3);
  const char *outdir = lua_tostring(L, 4);
  const char *scriptdir = lua_tostring(L, 5);
  const char *scriptpath = lua_tostring(L, 6);
  const char *report = lua_tostring(L, 7);
  int dated = lua_toboolean(L, 8);
  luaL_checkversion(L);
  luaL_openlibs(L);
  vm_guard(L);
  restrict_package(L);
  int syspath = lua_gettop(L);
  lua_getglobal(L, "os");
  lua_pushvalue(L, 4);
  lua_pushcclosure(L, l_tmpname, 1);
  lua_setfield(L, -2, "tmpname");
  lua_pop(L, 1);
  lua_pushcfunction(L, nnlua_openlibs);
  if (vm_report(L, vm_docall(L, 0, 0), VM_PROGNAME) != LUA_OK) return 0;
  /* --report: the host's capture of output, seeds and figures (report.c);
   * the source is read here by the host, the report written in DIR */
  int runidx = 0;
  if (report != NULL && (runidx = vm_report_begin(L, argv + script, scriptpath, report, dated)) == 0)
    return 0;
  /* arg as stock lua lays it out */
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  int argt = lua_gettop(L);
  if (luaL_loadbufferx(L, vm_sandbox_env, vm_sandbox_env_len, "=(sandbox)", "t") != LUA_OK)
    return lua_error(L);
  lua_pushcfunction(L, l_gate);
  lua_pushstring(L, scriptdir);
  lua_pushstring(L, outdir);
  lua_pushvalue(L, argt);
  lua_pushvalue(L, syspath);
  lua_pushcfunction(L, l_mkdirs);
  lua_call(L, 6, 1);
  int env = lua_gettop(L);
  /* the script itself, named as given, with the script's environment */
  int st = loadscript(L, scriptpath, argv[script]);
  if (st == LUA_OK) {
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);                   /* its _ENV */
    int n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_pushstring(L, argv[script + i]);
    st = vm_docall(L, n, 0);
    if (lim.timed_out) lua_sethook(L, NULL, 0, 0);
  }
  st = runidx ? vm_report_end(L, runidx, st) : vm_report(L, st, VM_PROGNAME);
  if (st != LUA_OK) return 0;
  lua_pushboolean(L, 1);
  return 1;
}

/* Whether path has a ".." part ("../a", "a/../b", ".."). */
static int has_dotdot(const char *path) {
  for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) return 1;
  return 0;
}

/* --report FILE under --sandbox, checked before the script runs (the gate is
 * set and the working directory is DIR): a relative FILE is in DIR, an
 * absolute one must be inside DIR; no "..", no symbolic link leading out, not
 * a folder. Writes its absolute path to buf; 0 after a message. The writer
 * asks the gate again when it writes (nn_atomic_open). */
static int report_path(const char *file, const char *outreal, char *buf, size_t n) {
  char why[768];
  struct stat st;
  if (has_dotdot(file))
    return fail("--report '%s': a path with '..' is refused under --sandbox (the report is "
                "written in the output folder, %s)", file, outreal);
  if (nn_gate_test(file, NN_GATE_WRITE, why, sizeof why) != 0) return fail("--report: %s%s", why, "");
  if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) return fail("--report '%s': it is a folder%s", file, "");
  if ((size_t)snprintf(buf, n, "%s%s%s", file[0] == '/' ? "" : outreal, file[0] == '/' ? "" : "/",
                       file) >= n)
    return fail("--report '%s': the path is too long%s", file, "");
  return 1;
}

/* Runs the script argv[o.script] with argv[o.script + 1 ..] as its arguments;
 * returns the exit status. */
static int run_one(int argc, char **argv, Opts o) {
  const char *script = argv[o.script];
  char *real = realpath(script, NULL);
  struct stat st;
  if (real == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
    fail("cannot open script '%s': %s", script, real ? "not a regular file" : strerror(errno));
    free(real);
    return EXIT_FAILURE;
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", real);
  char *slash = strrchr(dir, '/');
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  for (int i = 0; i < o.nallow; i++) {
    if (nn_gate_allow(o.allow[i], NN_GATE_READ) != 0) {
      fail("--allow-read '%s': %s", o.allow[i], strerror(errno));
      free(real);
      return EXIT_FAILURE;
    }
  }
  if (makedirs(o.out) != 0 || nn_gate_allow(o.out, NN_GATE_READ | NN_GATE_WRITE) != 0) {
    fail("--out '%s': %s", o.out, strerror(errno));
    free(real);
    return EXIT_FAILURE;
  }
  nn_gate_allow(dir, NN_GATE_READ);
  nn_gate_allow("/usr/share/datasets", NN_GATE_READ);   /* Debian's datasets, when there */
  const char *data = getenv("NNLUA_DATA");
  if (data != NULL && data[0] != '\0') nn_gate_allow(data, NN_GATE_READ);
  const char *outreal = nn_gate_folder(NN_GATE_WRITE, 0);
  if (chdir(outreal) != 0) {
    fail("cannot enter '%s': %s", outreal, strerror(errno));
    free(real);
    return EXIT_FAILURE;
  }
  char reportfile[PATH_MAX];
  if (o.report != NULL && !report_path(o.report, outreal, reportfile, sizeof reportfile)) {
    free(real);
    return EXIT_FAILURE;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    free(real);
    fprintf(stderr, "%s: cannot create state: not enough memory\n", VM_PROGNAME);
    return EXIT_FAILURE;
  }
  /* the kernel's walls (walls.c): what the gate reads, and what nnlua reads
   * while the script runs: its stdlib (modules load on first use), a font
   * set with NNLUA_FONT */
  const char *reads[MAXREADS];
  int nread = 0;
  for (const char *f; nread < MAXREADS - 2 && (f = nn_gate_folder(NN_GATE_READ, nread)) != NULL; )
    reads[nread++] = f;
  vm_pushstdlib(L);
  if (lua_isstring(L, -1)) reads[nread++] = lua_tostring(L, -1);     /* kept on the stack */
  const char *font = getenv("NNLUA_FONT");
  if (font != NULL && font[0] != '\0') reads[nread++] = font;
  vm_walls walls = {outreal, reads, nread};
  char kfilter[256];
  vm_walls_up(&walls, kfilter, sizeof kfilter);
  lua_pop(L, 1);
  char memtext[32];
  nn_gate_format_size(memtext, sizeof memtext, o.max_memory);
  fprintf(stderr, "%s --sandbox: %s writes in %s; limits: memory %s, time %g s; kernel filter: %s\n",
          VM_PROGNAME, script, outreal, memtext, o.max_time, kfilter);
  fflush(stderr);
  /* main() keeps freed blocks of up to 32 MB in malloc's heap for speed; under a
   * memory limit that heap would hold pages the counts no longer see: blocks
   * of 4 MB and more go back to the kernel when freed, and so do freed tops */
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  lim.limit = o.max_memory;
  lim.lua_bytes = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
  lua_setallocf(L, limited_alloc, NULL);
  nn_gate_set_memory(o.max_memory, host_bytes);
  nn_gate_set_reclaim(reclaim, L);
  start_clock(L, o.max_time);
  lua_pushcfunction(L, psandbox);
  lua_pushlightuserdata(L, argv);
  lua_pushinteger(L, argc);
  lua_pushinteger(L, o.script);
  lua_pushstring(L, outreal);
  lua_pushstring(L, dir);
  lua_pushstring(L, real);
  free(real);
  lua_pushstring(L, o.report != NULL ? reportfile : NULL);
  lua_pushboolean(L, o.report_date);
  int status = lua_pcall(L, 8, 1, 0);
  int ok = lua_toboolean(L, -1);
  vm_report(L, status, VM_PROGNAME);
  setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);
  lua_sethook(L, NULL, 0, 0);
  int timed_out = lim.timed_out;
  if (timed_out) {
    fprintf(stderr, "%s --sandbox: time limit of %g s reached; the script was stopped\n",
            VM_PROGNAME, o.max_time);
  } else if (lim.memory_hit && !(status == LUA_OK && ok)) {
    fprintf(stderr, "%s --sandbox: memory limit of %s reached (Lua's \"not enough memory\")\n",
            VM_PROGNAME, memtext);
  }
  lua_close(L);
  if (timed_out) return TIME_STATUS;
  return (status == LUA_OK && ok) ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- several scripts ----
 * nnlua --sandbox [options] a.lua b.lua ... | folder: each script in a child
 * process of its own (a crash, a loop or a memory hog ends only that one),
 * one after the other, with DIR/<name>/ as its output folder and DIR/<name>.log
 * holding what it printed; then a table. */

typedef struct Job {
  const char *path;            /* as given, or folder/name */
  char name[256];              /* its output folder's name in DIR */
  int status;                  /* wait status */
  double seconds;
  long rss_kb;
  int files;
  char last[96];               /* its last line printed */
} Job;

static int endswith(const char *s, const char *tail) {
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

static int isregular(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int namecmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files under path, counted (links not followed). */
static int countfiles(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    struct stat st;
    if (lstat(sub, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) n += countfiles(sub);
    else if (S_ISREG(st.st_mode)) n++;
  }
  closedir(d);
  return n;
}

/* The last non-empty line of file path, at most n - 1 bytes of it. */
static void lastline(const char *path, char *out, size_t n) {
  out[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL) return;
  char buf[4096];
  long size = (fseek(f, 0, SEEK_END) == 0) ? ftell(f) : 0;
  long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
  fseek(f, from, SEEK_SET);
  size_t k = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[k] = '\0';
  while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r' || buf[k - 1] == ' ')) buf[--k] = '\0';
  /* skip a traceback: its lines start with a tab, after "stack traceback:" */
  char *line = buf;
  for (;;) {
    char *nl = strrchr(buf, '\n');
    line = nl ? nl + 1 : buf;
    if (nl == NULL || (line[0] != '\t' && strcmp(line, "stack traceback:") != 0)) break;
    *nl = '\0';
  }
  size_t len = strlen(line) < n - 1 ? strlen(line) : n - 1;
  memcpy(out, line, len);
  out[len] = '\0';
  for (char *c = out; *c; c++)
    if ((unsigned char)*c < ' ') *c = ' ';
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs job j in a child; fills its status, time, memory, files and last line. */
static void run_job(Job *j, const Opts *o, const char *outdir, char *self) {
  char sub[PATH_MAX], log[PATH_MAX];
  snprintf(sub, sizeof sub, "%s/%s", outdir, j->name);
  snprintf(log, sizeof log, "%s/%s.log", outdir, j->name);
  double t0 = now();
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    char *args[] = {self, "--sandbox", (char *)j->path, NULL};
    Opts one = *o;
    one.out = sub;
    one.script = 2;
    _exit(run_one(3, args, one));
  }
  j->status = -1;
  if (pid < 0) {
    snprintf(j->last, sizeof j->last, "cannot start: %s", strerror(errno));
    return;
  }
  /* the child stops itself at --max-time; this is for a child that cannot */
  double deadline = t0 + o->max_time + GRACE_SECONDS + 10;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  int status = 0;
  for (;;) {
    pid_t w = wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (now() > deadline) kill(pid, SIGKILL);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  j->status = status;
  j->seconds = now() - t0;
  j->rss_kb = ru.ru_maxrss;
  j->files = countfiles(sub);
  lastline(log, j->last, sizeof j->last);
}

static void describe(const Job *j, char *buf, size_t n) {
  if (j->status == -1) snprintf(buf, n, "not run");
  else if (WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0) snprintf(buf, n, "ok");
  else if (WIFEXITED(j->status) && WEXITSTATUS(j->status) == TIME_STATUS) snprintf(buf, n, "time limit");
  else if (WIFEXITED(j->status)) snprintf(buf, n, "exit %d", WEXITSTATUS(j->status));
  else if (WIFSIGNALED(j->status)) snprintf(buf, n, "signal %d", WTERMSIG(j->status));
  else snprintf(buf, n, "?");
}

/* The scripts of the command line: the .lua files of a folder (sorted), or
 * the files given. Returns how many, with *paths malloc'd (strings too). */
static int collect(int argc, char **argv, int first, char ***paths) {
  int n = 0, cap = 16;
  char **p = malloc((size_t)cap * sizeof *p);
  for (int i = first; i < argc && p != NULL; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *e;
      int from = n;
      while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !endswith(e->d_name, ".lua")) continue;
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", argv[i], e->d_name);
        if (!isregular(full)) continue;
        if (n == cap) p = realloc(p, (size_t)(cap *= 2) * sizeof *p);
        if (p == NULL) break;
        p[n++] = strdup(full);
      }
      if (d != NULL) closedir(d);
      if (p != NULL) qsort(p + from, (size_t)(n - from), sizeof *p, namecmp);
    } else {
      if (n == cap) p = realloc(p, (size_t)(cap *= 2) * sizeof *p);
      if (p == NULL) break;
      p[n++] = strdup(argv[i]);
    }
  }
  *paths = p;
  return p == NULL ? -1 : n;
}

static int run_batch(int argc, char **argv, Opts o) {
  if (o.report != NULL && (o.report[0] == '/' || has_dotdot(o.report))) {
    fail("--report '%s': with several scripts, give a file name relative to the output folder: "
         "each script's report is written in its own folder, DIR/<name>/%s", o.report, "");
    return EXIT_FAILURE;
  }
  char **paths;
  int n = collect(argc, argv, o.script, &paths);
  if (n <= 0) {
    fail("no .lua scripts found in '%s'%s", argv[o.script], "");
    free(paths);
    return EXIT_FAILURE;
  }
  if (makedirs(o.out) != 0) {
    fail("--out '%s': %s", o.out, strerror(errno));
    return EXIT_FAILURE;
  }
  char *outdir = realpath(o.out, NULL);
  Job *jobs = calloc((size_t)n, sizeof *jobs);
  if (outdir == NULL || jobs == NULL) {
    fail("--out '%s': %s", o.out, strerror(errno));
    return EXIT_FAILURE;
  }
  char memtext[32];
  nn_gate_format_size(memtext, sizeof memtext, o.max_memory);
  fprintf(stderr, "%s --sandbox: %d scripts, each in a process of its own writing in %s/<name>/ "
          "(its output in <name>.log%s%s); limits each: memory %s, time %g s\n", VM_PROGNAME, n,
          outdir, o.report ? ", its report in <name>/" : "", o.report ? o.report : "", memtext,
          o.max_time);
  for (int i = 0; i < n; i++) {
    Job *j = &jobs[i];
    j->path = paths[i];
    const char *base = strrchr(paths[i], '/');
    base = base ? base + 1 : paths[i];
    snprintf(j->name, sizeof j->name, "%.*s", (int)(strlen(base) - (endswith(base, ".lua") ? 4 : 0)), base);
    for (int k = 0, again = 1; again; ) {      /* two a.lua from different folders: a, a-2 */
      again = 0;
      for (int m = 0; m < i; m++) {
        if (strcmp(jobs[m].name, j->name) == 0) {
          snprintf(j->name, sizeof j->name, "%.*s-%d", (int)(strlen(base) - (endswith(base, ".lua") ? 4 : 0)), base, (k++) + 2);
          again = 1;
          break;
        }
      }
    }
    fprintf(stderr, "[%d/%d] %s\n", i + 1, n, j->path);
    run_job(j, &o, outdir, argv[0]);
  }
  size_t w = 6;
  for (int i = 0; i < n; i++) if (strlen(jobs[i].path) > w) w = strlen(jobs[i].path);
  if (w > 40) w = 40;
  printf("%-*s  %-10s  %8s  %9s  %5s  %s\n", (int)w, "script", "status", "time", "peak mem", "files", "last line");
  int failed = 0;
  for (int i = 0; i < n; i++) {
    char st[32], mem[32];
    describe(&jobs[i], st, sizeof st);
    nn_gate_format_size(mem, sizeof mem, (size_t)jobs[i].rss_kb * 1024);
    if (strcmp(st, "ok") != 0) failed++;
    printf("%-*s  %-10s  %6.1f s  %9s  %5d  %s\n", (int)w, jobs[i].path, st, jobs[i].seconds, mem,
           jobs[i].files, jobs[i].last);
    free(paths[i]);
  }
  printf("%d of %d ran to the end; outputs in %s\n", n - failed, n, outdir);
  fflush(stdout);
  free(paths);
  free(jobs);
  free(outdir);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Several scripts: two or more arguments that are all .lua files, or a folder. */
static int isbatch(int argc, char **argv, int first) {
  struct stat st;
  if (first == argc - 1) return stat(argv[first], &st) == 0 && S_ISDIR(st.st_mode);
  for (int i = first; i < argc; i++)
    if (!endswith(argv[i], ".lua") || !isregular(argv[i])) return 0;
  return 1;
}

int vm_sandbox_main(int argc, char **argv) {
  Opts o;
  if (!parse(argc, argv, &o)) {
    if (o.script == -1) { usage(stdout); return EXIT_SUCCESS; }
    return EXIT_FAILURE;
  }
  if (isbatch(argc, argv, o.script)) return run_batch(argc, argv, o);
  return run_one(argc, argv, o);
}
