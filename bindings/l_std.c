/* l_std.c -- what nnlua adds to Lua's own libraries: os.monotime, and print
 * and writes that step around a status line (the DataLoader's progress bar).
 *
 * The status line is the last line on stderr, redrawn in place after "\r".
 * Anything else written to that terminal while it is shown would be glued to
 * its end ("... ETA 0:33loss: 2.299227"). So print, io.write and the write
 * method of files are wrapped: while a status line is shown, output to its
 * terminal (stderr, or stdout when stdout is the same file as stderr) first
 * clears the line, then the original writes, then the status line is drawn
 * again below the new text, as tqdm's write does. Output that does not end
 * with "\n" leaves a partial line on the terminal: the status line then stays
 * hidden until a later write ends that line, so the two never share a line.
 * Output elsewhere (a file, a stdout redirected away from the terminal), and
 * all output while no status line is shown, goes straight to the original.
 *
 * A wrapper calls the original C function directly, inside its own call
 * frame: the original sees the same arguments and the same caller, so its
 * errors read exactly as before ("bad argument #1 to 'write'" at the user's
 * line, also for io.stdout:write), __tostring and __name work as before, and
 * it returns what it returns. Only a C function without upvalues can be
 * called so (all of Lua 5.4's are); anything else is left unwrapped.
 *
 * data.progress draws through package.loaded["nnlua.statusline"]:
 *   show(text)    text becomes the status line and is drawn (after "\r")
 *   finish(text)  draws text a last time, ends its line, forgets the status line
 *   close()       ends the line of a status line left on screen, forgets it
 *
 * nnlua --report: while nnlua_setreport has set a report, the same wrappers
 * also hand what goes to stdout to it (capture_*, below).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <lauxlib.h>
#include "l_std.h"
#include "nn/plot/report.h"

#define MODNAME "nnlua.statusline"
#define CLEARLINE "\r\033[K"          /* to column 0, erase to the end of the line */
#define ERASEREST "\033[K"

/* The status line of one Lua state: upvalue 1 of every function here; its
 * user value 1 is the text (a string) while shown is set. */
typedef struct Status {
  int shown;        /* a status line is active */
  int onscreen;     /* its text is on the terminal now */
  int partial;      /* output left a line without its "\n"; the text waits */
  int sameout;      /* stdout is the file stderr is: print reaches the line */
} Status;

/* ---- os.monotime ------------------------------------------------------ */

/* os.monotime() -> seconds (a float) on the monotonic clock, for wall-clock
 * timing: unlike os.clock it counts waiting, not CPU time summed over threads. */
static int os_monotime(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* ---- the status line -------------------------------------------------- */

static Status *getstatus(lua_State *L) {
  return (Status *)lua_touserdata(L, lua_upvalueindex(1));
}

/* Whether streams a and b write to the same file (a terminal seen twice). */
static int samefile(FILE *a, FILE *b) {
  struct stat sa, sb;
  return fstat(fileno(a), &sa) == 0 && fstat(fileno(b), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Writes the status text after "\r", erasing what the line held beyond it. */
static void draw(lua_State *L, Status *s) {
  size_t n;
  luaL_checkstack(L, 1, NULL);
  lua_getiuservalue(L, lua_upvalueindex(1), 1);
  const char *text = lua_tolstring(L, -1, &n);
  if (s->sameout) fflush(stdout);     /* what print left in the buffer comes first */
  fputc('\r', stderr);
  if (text != NULL) fwrite(text, 1, n, stderr);
  fputs(ERASEREST, stderr);
  fflush(stderr);
  lua_pop(L, 1);
  s->onscreen = 1;
}

static void forget(lua_State *L, Status *s) {
  lua_pushnil(L);
  lua_setiuservalue(L, lua_upvalueindex(1), 1);
  s->shown = s->onscreen = s->partial = 0;
}

/* Sets the status text to argument 1; true when the status line is new. */
static int settext(lua_State *L, Status *s) {
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_setiuservalue(L, lua_upvalueindex(1), 1);
  int fresh = !s->shown;
  if (fresh) s->sameout = samefile(stdout, stderr);
  s->shown = 1;
  return fresh;
}

/* statusline.show(text) */
static int st_show(lua_State *L) {
  Status *s = getstatus(L);
  settext(L, s);
  if (!s->partial) draw(L, s);
  return 0;
}

/* statusline.finish(text) */
static int st_finish(lua_State *L) {
  Status *s = getstatus(L);
  settext(L, s);
  if (s->partial) fputc('\n', stderr);   /* keep the unfinished line */
  draw(L, s);
  fputc('\n', stderr);
  fflush(stderr);
  forget(L, s);
  return 0;
}

/* statusline.close() */
static int st_close(lua_State *L) {
  Status *s = getstatus(L);
  if (s->onscreen) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  forget(L, s);
  return 0;
}

/* ---- the wrappers ----------------------------------------------------- */

/* Upvalues of a wrapper: 1 the Status, 2 the original, 3 (io.write only)
 * the original io.output. */
static lua_CFunction original(lua_State *L) {
  return lua_tocfunction(L, lua_upvalueindex(2));
}

/* Whether output to f lands on the status line's terminal line. */
static int covers(const Status *s, FILE *f) {
  return s->shown && f != NULL && (f == stderr || (f == stdout && s->sameout));
}

/* How the text of the arguments from first to the top ends: 1 with "\n",
 * 0 without (a number never ends with one), -1 when they write nothing. */
static int endsline(lua_State *L, int first) {
  for (int i = lua_gettop(L); i >= first; i--) {
    if (lua_type(L, i) == LUA_TNUMBER) return 0;
    if (lua_type(L, i) != LUA_TSTRING) return -1;   /* the original raises */
    size_t n;
    const char *p = lua_tolstring(L, i, &n);
    if (n > 0) return p[n - 1] == '\n';
  }
  return -1;
}

/* Clears the line, runs the original, flushes f and draws the line again
 * unless the output left a partial line. If the original raises, the line
 * stays cleared until the next show. */
static int around(lua_State *L, Status *s, FILE *f, int ends) {
  lua_CFunction orig = original(L);
  if (s->sameout) fflush(stdout);
  if (s->onscreen) {
    fputs(CLEARLINE, stderr);
    fflush(stderr);
    s->onscreen = 0;
  }
  int nres = orig(L);
  fflush(f);
  if (ends >= 0) s->partial = !ends;
  if (!s->partial) draw(L, s);
  return nres;
}

/* ---- nnlua --report: what goes to stdout is also kept ---------------- */

static const char reportkey = 0;      /* registry[&reportkey]: the report, light userdata */

void nnlua_setreport(lua_State *L, struct nn_report *r) {
  if (r) lua_pushlightuserdata(L, r);
  else lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &reportkey);
}

struct nn_report *nnlua_getreport(lua_State *L) {
  luaL_checkstack(L, 1, NULL);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &reportkey);
  struct nn_report *r = (struct nn_report *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return r;
}

/* print's line: the arguments through luaL_tolstring (__tostring, __name),
 * tab-separated, as print writes them. It becomes the one argument, so the
 * original prints exactly the bytes kept (and calls __tostring once). */
static void capture_print(lua_State *L, nn_report *r) {
  int n = lua_gettop(L);
  luaL_checkstack(L, 2 * n + 1, "too many arguments to print");
  for (int i = 1; i <= n; i++) {
    if (i > 1) lua_pushliteral(L, "\t");
    luaL_tolstring(L, i, NULL);
  }
  lua_concat(L, n > 0 ? 2 * n - 1 : 0);
  size_t len;
  const char *line = lua_tolstring(L, -1, &len);
  nn_report_output(r, line, len);
  nn_report_output(r, "\n", 1);
  lua_insert(L, 1);
  lua_settop(L, 1);
}

/* the arguments from first on as a write to stdout writes them (numbers in
 * LUA_INTEGER_FMT / LUA_NUMBER_FMT, as liolib's g_write); nothing when one
 * is neither a string nor a number (the original raises) */
static void capture_write(lua_State *L, nn_report *r, int first) {
  int n = lua_gettop(L);
  for (int i = first; i <= n; i++)
    if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER) return;
  for (int i = first; i <= n; i++) {
    char num[64];
    size_t len;
    const char *p = num;
    if (lua_type(L, i) == LUA_TSTRING) p = lua_tolstring(L, i, &len);
    else if (lua_isinteger(L, i))
      len = (size_t)snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, i));
    else
      len = (size_t)snprintf(num, sizeof num, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, i));
    if (len >= sizeof num && p == num) len = sizeof num - 1;
    nn_report_output(r, p, len);
  }
}

/* the FILE of the io.output() file, or NULL (upvalue 3 is io.output) */
static FILE *output_file(lua_State *L) {
  luaL_checkstack(L, 1, NULL);
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_call(L, 0, 1);
  luaL_Stream *p = (luaL_Stream *)luaL_testudata(L, -1, LUA_FILEHANDLE);
  FILE *f = p != NULL && p->closef != NULL ? p->f : NULL;
  lua_pop(L, 1);
  return f;
}

static int w_print(lua_State *L) {
  Status *s = getstatus(L);
  nn_report *r = nnlua_getreport(L);
  if (r) capture_print(L, r);
  if (!covers(s, stdout)) return original(L)(L);
  return around(L, s, stdout, 1);
}

/* io.write writes to io.output(), whatever file that is now. */
static int w_iowrite(lua_State *L) {
  Status *s = getstatus(L);
  nn_report *r = nnlua_getreport(L);
  if (!s->shown && !r) return original(L)(L);
  FILE *f = output_file(L);
  if (r && f == stdout) capture_write(L, r, 1);
  if (!covers(s, f)) return original(L)(L);
  return around(L, s, f, endsline(L, 1));
}

/* file:write, for every file; only io.stdout and io.stderr matter. */
static int w_fwrite(lua_State *L) {
  Status *s = getstatus(L);
  nn_report *r = nnlua_getreport(L);
  if (!s->shown && !r) return original(L)(L);
  luaL_Stream *p = (luaL_Stream *)luaL_testudata(L, 1, LUA_FILEHANDLE);
  FILE *f = p != NULL && p->closef != NULL ? p->f : NULL;
  if (r && f == stdout) capture_write(L, r, 2);
  if (!covers(s, f)) return original(L)(L);
  return around(L, s, f, endsline(L, 2));
}

/* Replaces t[name] (t at index t) by the wrapper w with upvalues the Status
 * (at index st), the original and, if extra is not 0, the value at extra. */
static void wrap(lua_State *L, int st, int t, const char *name, lua_CFunction w, int extra) {
  int base = lua_gettop(L);
  lua_getfield(L, t, name);
  if (lua_tocfunction(L, -1) == NULL || lua_getupvalue(L, -1, 1) != NULL) {
    lua_settop(L, base);                /* not a plain C function: leave it */
    return;
  }
  lua_pushvalue(L, st);
  lua_insert(L, -2);
  if (extra != 0) lua_pushvalue(L, extra);
  lua_pushcclosure(L, w, extra != 0 ? 3 : 2);
  lua_setfield(L, t, name);
}

void nnlua_openstd(lua_State *L) {
  int top = lua_gettop(L);
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, os_monotime);
    lua_setfield(L, -2, "monotime");
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);      /* top+2 */
  if (lua_getfield(L, top + 2, MODNAME) != LUA_TNIL) {           /* done before */
    lua_settop(L, top);
    return;
  }
  Status *s = (Status *)lua_newuserdatauv(L, sizeof *s, 1);      /* top+4 */
  memset(s, 0, sizeof *s);
  int st = top + 4;
  static const luaL_Reg funcs[] = {
    {"show", st_show}, {"finish", st_finish}, {"close", st_close}, {NULL, NULL}
  };
  luaL_newlibtable(L, funcs);
  lua_pushvalue(L, st);
  luaL_setfuncs(L, funcs, 1);
  lua_setfield(L, top + 2, MODNAME);
  lua_pushglobaltable(L);                                         /* top+5 */
  wrap(L, st, top + 5, "print", w_print, 0);
  if (lua_getfield(L, top + 5, "io") == LUA_TTABLE) {             /* top+6 */
    lua_getfield(L, top + 6, "output");                           /* top+7 */
    if (lua_isfunction(L, top + 7)) wrap(L, st, top + 6, "write", w_iowrite, top + 7);
  }
  lua_settop(L, st);
  if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TTABLE &&       /* top+5 */
      lua_getfield(L, top + 5, "__index") == LUA_TTABLE)          /* top+6 */
    wrap(L, st, top + 6, "write", w_fwrite, 0);
  lua_settop(L, top);
}
