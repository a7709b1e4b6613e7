/* repl.c -- the interactive loop of nnlua (-i, or no arguments on a terminal).
 *
 * Each input is first tried as an expression (returned) so that expressions print
 * their values, then as a statement; a statement whose syntax error ends at
 * "<eof>" is incomplete and reads more lines with the ">> " prompt. Errors
 * print their message and traceback and the loop goes on.
 *
 * The Lua half is a session of stdlib/nnlua/repl.lua: inputs are compiled
 * through it, so that top-level locals last from line to line (it rewrites
 * them into fields of the session's environment, keeping line numbers);
 * results are printed through its show (tables as constructors, classes and
 * nnlua's functions by name, the rest through __tostring), tab-separated;
 * Tab asks it for completions, and `help` is one of its names. Without the
 * stdlib the loop works as plain lua's. vm_docall_keeplocals runs the script
 * of "nnlua -i script.lua" with a return hook that keeps its main chunk's
 * locals for the session.
 *
 * On a terminal, lines come from libedit's readline API with history kept in
 * $HOME/.nnlua_history (last HISTMAX entries, rewritten after every input; a
 * missing $HOME or an unwritable file just means no history). Ctrl-C at the
 * prompt drops the line being typed, Ctrl-C while a statement runs raises
 * "interrupted!" in it (run.c), Ctrl-D ends the session. When stdin is not a
 * terminal, lines are read with getline and no prompt or banner is written,
 * so the output holds nothing but results. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <editline/readline.h>
#include <lauxlib.h>
#include "bindings/bindings.h"
#include "nn/gemm.h"
#include "host.h"

#define HISTMAX 1000                   /* entries kept in the history file */
#define HISTNAME "/.nnlua_history"
#define PROMPT1 "> "
#define PROMPT2 ">> "
#define EOFMARK "<eof>"                /* how the parser ends an incomplete chunk */
#define CHUNKNAME "=stdin"
#define CANCELLED (-2)                 /* loadline: Ctrl-C dropped the input */

typedef struct Repl {
  int tty;                             /* stdin is a terminal: libedit, prompts */
  char *histfile;                      /* malloc'd path, or NULL for no history */
  int session;                         /* registry ref of the nnlua.repl session, or LUA_NOREF */
  int show;                            /* registry ref of nnlua.repl.show, or LUA_NOREF */
} Repl;

/* Registry keys (their addresses): the main chunk of a script run by
 * vm_docall_keeplocals, and the table of its top-level locals. */
static const char CHUNK_KEY = 'c';
static const char LOCALS_KEY = 'l';

/* The session the completion callback works for. libedit's callbacks take
 * no user data, hence statics; set while vm_repl runs on a terminal. */
static lua_State *completing_L;
static Repl *completing_r;

/* Set by SIGINT while the prompt waits for input. Signal handlers get no
 * argument, hence a static. */
static volatile sig_atomic_t prompt_interrupted;

static void on_prompt_sigint(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* libedit's character source (rl_getc_function): one character, decoded
 * from the locale's multibyte encoding as libedit's own reader does, except
 * that a Ctrl-C ends the line at once (pushline then drops that line). */
static int getc_interruptible(FILE *f) {
  mbstate_t st;
  memset(&st, 0, sizeof st);
  for (;;) {
    char c;
    if (prompt_interrupted) return '\n';
    ssize_t n = read(fileno(f), &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) return EOF;
    if (n < 0) continue;                /* EINTR: Ctrl-C is checked above */
    wchar_t wc;
    size_t k = mbrtowc(&wc, &c, 1, &st);
    if (k == (size_t)-2) continue;     /* inside a multibyte character */
    return k == (size_t)-1 ? (unsigned char)c : (int)wc;
  }
}

/* ---- completion ------------------------------------------------------- */

#define MAXMATCHES 4096
static char *matches[MAXMATCHES + 1];  /* the candidates of the Tab being handled */
static int nmatches;

/* rl_compentry_func_t: the candidates one by one (state 0 starts over). */
static char *nextmatch(const char *text, int state) {
  static int i;
  (void)text;
  if (state == 0) i = 0;
  return i < nmatches ? strdup(matches[i++]) : NULL;
}

static void clearmatches(void) {
  for (int i = 0; i < nmatches; i++) free(matches[i]);
  nmatches = 0;
}

/* Fills matches with session:complete(text); nothing on any error. */
static void collect(lua_State *L, Repl *r, const char *text) {
  int top = lua_gettop(L);
  clearmatches();
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->session);
  lua_getfield(L, -1, "complete");
  lua_insert(L, -2);
  lua_pushstring(L, text);
  if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n && nmatches < MAXMATCHES; i++) {
      if (lua_rawgeti(L, -1, i) == LUA_TSTRING) {
        char *m = strdup(lua_tostring(L, -1));
        if (m != NULL) matches[nmatches++] = m;
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
}

/* rl_attempted_completion_function. Tab with nothing typed before the cursor
 * (or only blanks) inserts a tab, so pasted code keeps its indentation;
 * otherwise the word before the cursor is completed through the session
 * (names, a.b.c fields, x:method), never with file names. */
static char **attempt(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;
  int blank = text[0] == '\0';
  for (int i = 0; blank && i < start; i++)
    if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t') blank = 0;
  if (blank) {
    clearmatches();
    matches[nmatches++] = strdup("\t");
    if (matches[0] == NULL) nmatches = 0;
  } else {
    collect(completing_L, completing_r, text);
  }
  if (nmatches == 0) return NULL;
  return rl_completion_matches(text, nextmatch);
}

/* Tab completes; '.', ':', '[' and ']' are part of a word ("tensor.ra",
 * "x:su", "seq[1].we"). */
static void setcompletion(Repl *r) {
  if (r->session == LUA_NOREF) {
    rl_bind_key('\t', rl_insert);      /* no session: pasted code keeps its tabs */
    return;
  }
  static char breaks[] = " \t\n\"\\'`@$><=;|&{}(),+-*/%^~#";
  rl_basic_word_break_characters = breaks;
  rl_completer_word_break_characters = breaks;
  rl_completion_append_character = '\0';
  rl_attempted_completion_function = attempt;
}

/* ---- terminal and history -------------------------------------------- */

/* Sets libedit up and loads the history file. */
static void tty_open(Repl *r) {
  const char *home = getenv("HOME");
  setlocale(LC_CTYPE, "");             /* UTF-8 editing, as GNU readline does */
  rl_readline_name = "nnlua";
  rl_catch_signals = 0;                /* SIGINT is ours: catch_sigint */
  rl_getc_function = getc_interruptible;
  rl_initialize();
  setcompletion(r);
  using_history();
  stifle_history(HISTMAX);
  if (home == NULL || home[0] == '\0') return;
  size_t n = strlen(home) + sizeof HISTNAME;
  r->histfile = malloc(n);
  if (r->histfile == NULL) return;
  snprintf(r->histfile, n, "%s%s", home, HISTNAME);
  read_history(r->histfile);           /* no file yet is fine */
}

/* Adds a non-empty input to the history and saves the file at once, so the
 * history survives a session that is killed. Write errors are ignored. */
static void history_add(Repl *r, const char *line) {
  if (!r->tty || line[0] == '\0') return;
  add_history(line);
  if (r->histfile != NULL) write_history(r->histfile);
}

/* ---- reading ---------------------------------------------------------- */

/* The prompt: _PROMPT or _PROMPT2 if the script set them, as in lua. */
static const char *getprompt(lua_State *L, int first) {
  int t = lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
  const char *p = (t == LUA_TSTRING) ? lua_tostring(L, -1) : NULL;
  if (p == NULL) { lua_pop(L, 1); lua_pushstring(L, first ? PROMPT1 : PROMPT2); }
  return lua_tostring(L, -1);          /* kept on the stack while in use */
}

/* One line from a terminal through libedit: a malloc'd string, or NULL at
 * end of input. After a Ctrl-C, prompt_interrupted is set and the line
 * returned is whatever had been typed. */
static char *readtty(const char *prompt) {
  prompt_interrupted = 0;
  return readline(prompt);
}

/* One line from a pipe or file, without its newline; NULL at end of input. */
static char *readpipe(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n < 0) { free(line); return NULL; }
  if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
  return line;
}

/* Pushes the next line and returns 1. Returns 0 at end of input and -1 when
 * Ctrl-C dropped the line, with nothing pushed. */
static int pushline(lua_State *L, Repl *r, int first) {
  char *line;
  if (r->tty) {
    line = readtty(getprompt(L, first));
    lua_pop(L, 1);
    if (prompt_interrupted) { free(line); return -1; }
  } else {
    line = readpipe();
  }
  if (line == NULL) return 0;
  if (first && line[0] == '=')         /* "=x" means "return x", as in lua */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return 1;
}

/* ---- compiling -------------------------------------------------------- */

/* Compiles code[0..n) as the chunk "stdin": through the session (REPL
 * locals, nnlua.repl) when there is one, else plainly. Pushes the function
 * or the message; returns LUA_OK or LUA_ERRSYNTAX. */
static int compile(lua_State *L, Repl *r, const char *code, size_t n) {
  if (r->session == LUA_NOREF) return luaL_loadbufferx(L, code, n, CHUNKNAME, "t");
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->session);
  lua_getfield(L, -1, "load");
  lua_insert(L, -2);                   /* load, session */
  lua_pushlstring(L, code, n);
  lua_pushliteral(L, CHUNKNAME);
  if (lua_pcall(L, 3, 2, 0) != LUA_OK) return LUA_ERRSYNTAX;   /* the message */
  if (!lua_isnil(L, -2)) { lua_pop(L, 1); return LUA_OK; }
  lua_remove(L, -2);
  if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushliteral(L, "cannot compile the input"); }
  return LUA_ERRSYNTAX;
}

/* Tries the line on top as an expression whose values are returned. On
 * success pushes the function and returns LUA_OK; otherwise pushes nothing.
 * The values pass through a function, so that a call in the line is not a
 * tail call: the line's frame stays on the stack and an error inside the
 * call is reported at "stdin:1:" (bindings/errors.c). */
static int addreturn(lua_State *L, Repl *r) {
  const char *line = lua_tostring(L, -1);
  const char *code = lua_pushfstring(L, "return (function(...) return ... end)(%s);", line);
  int status = compile(L, r, code, strlen(code));
  lua_remove(L, -2);                   /* the "return" text */
  if (status != LUA_OK) lua_pop(L, 1);
  return status;
}

/* Is the message on top a syntax error that ends at the end of the input? */
static int incomplete(lua_State *L, int status) {
  size_t n, m = sizeof EOFMARK - 1;
  const char *msg = lua_tolstring(L, -1, &n);
  return status == LUA_ERRSYNTAX && msg != NULL && n >= m &&
         strcmp(msg + n - m, EOFMARK) == 0;
}

/* Compiles the text on top as a statement, reading more lines while it is
 * incomplete. Leaves the whole text and, above it, the function or the
 * error message; only the text if Ctrl-C cancelled (returns CANCELLED). */
static int multiline(lua_State *L, Repl *r) {
  for (;;) {
    size_t n;
    const char *code = lua_tolstring(L, -1, &n);
    int status = compile(L, r, code, n);
    if (!incomplete(L, status)) return status;
    int got = pushline(L, r, 0);
    if (got == 0) return status;       /* end of input: report the error */
    if (got < 0) { lua_pop(L, 1); return CANCELLED; }   /* leave the text */
    lua_remove(L, -2);                 /* the error message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);                  /* text .. "\n" .. new line */
  }
}

/* Reads and compiles one input. Returns -1 at end of input, CANCELLED after
 * a Ctrl-C (nothing pushed), else a status with the function or the error
 * message on top. */
static int loadline(lua_State *L, Repl *r) {
  int got = pushline(L, r, 1);
  if (got <= 0) return got == 0 ? -1 : CANCELLED;
  int status = addreturn(L, r);
  if (status != LUA_OK) status = multiline(L, r);
  if (status == CANCELLED) { lua_pop(L, 1); return status; }
  history_add(r, lua_tostring(L, -2));
  lua_remove(L, -2);                   /* the text */
  return status;
}

/* ---- printing --------------------------------------------------------- */

/* lua_CFunction: writes its arguments separated by tabs, then a newline;
 * each through its upvalue (nnlua.repl.show: tables as constructors) if it
 * is a function, else through the global tostring (luaL_tolstring if a
 * script removed it). */
static int printvalues(lua_State *L) {
  int n = lua_gettop(L);
  int global = lua_type(L, lua_upvalueindex(1)) == LUA_TFUNCTION;
  if (global) lua_pushvalue(L, lua_upvalueindex(1));
  else global = lua_getglobal(L, "tostring") == LUA_TFUNCTION;
  for (int i = 1; i <= n; i++) {
    size_t len;
    if (global) {
      lua_pushvalue(L, n + 1);
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
    } else {
      luaL_tolstring(L, i, NULL);
    }
    const char *s = lua_tolstring(L, -1, &len);
    if (s == NULL) return luaL_error(L, "'tostring' must return a string to be printed");
    if (i > 1) fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}

/* Prints the values above base, if any, and removes them. */
static void printresults(lua_State *L, Repl *r, int base) {
  int n = lua_gettop(L) - base;
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->show);   /* nil for LUA_NOREF */
    lua_pushcclosure(L, printvalues, 1);
    lua_insert(L, base + 1);
    vm_report(L, vm_docall(L, n, 0), NULL);
  }
  lua_settop(L, base);
}

static void banner(void) {
  printf("nnlua %s (%s, %s)  -- type an expression; Ctrl-D exits\n",
         NNLUA_VERSION, LUA_RELEASE, nn_gemm_version());
  fflush(stdout);
}

/* On a terminal, SIGINT only sets prompt_interrupted for the whole session
 * (no SA_RESTART, so a waiting read sees EINTR); vm_docall swaps in its own
 * handler while a statement runs. */
static void catch_sigint(struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = on_prompt_sigint;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old);
}

/* ---- the session ------------------------------------------------------ */

/* lua_CFunction: () -> session, show. A new nnlua.repl session, holding the
 * top-level locals of the script vm_docall_keeplocals ran, if any. */
static int opensession(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "nnlua.repl");
  lua_call(L, 1, 1);                   /* repl */
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);                   /* repl, session */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &LOCALS_KEY) == LUA_TTABLE) {
    lua_getfield(L, -2, "keep");
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
  lua_getfield(L, -2, "show");         /* repl, session, show */
  return 2;
}

/* Opens the session; without the stdlib (or on any error) the REPL works as
 * plain lua's: no locals across lines, no completion, tostring printing. */
static void session_open(lua_State *L, Repl *r) {
  r->session = r->show = LUA_NOREF;
  lua_pushcfunction(L, opensession);
  if (lua_pcall(L, 0, 2, 0) != LUA_OK) { lua_pop(L, 1); return; }
  r->show = luaL_ref(L, LUA_REGISTRYINDEX);
  r->session = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Keeps the active locals of the function at ar in the registry
 * (LOCALS_KEY) as name -> value; a later local of the same name wins, as it
 * shadows the earlier one. */
static void savelocals(lua_State *L, lua_Debug *ar) {
  lua_newtable(L);
  const char *name;
  for (int i = 1; (name = lua_getlocal(L, ar, i)) != NULL; i++) {
    if (name[0] == '(') lua_pop(L, 1);             /* temporaries, varargs */
    else lua_setfield(L, -2, name);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &LOCALS_KEY);
}

/* Whether the function at ar is the script's main chunk (CHUNK_KEY). */
static int ischunk(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "f", ar)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &CHUNK_KEY);
  int chunk = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return chunk;
}

/* Return hook of vm_docall_keeplocals: the main chunk's locals as it
 * returns. */
static void keep_hook(lua_State *L, lua_Debug *ar) {
  if (ar->event == LUA_HOOKRET && ischunk(L, ar)) savelocals(L, ar);
}

/* Message handler of the script under vm_docall_keeplocals: keeps the main
 * chunk's locals as they were where the error happened (its frame is still
 * on the stack), then hands the message to nnlua_msghandler. */
static int keep_msghandler(lua_State *L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++)
    if (ischunk(L, &ar)) { savelocals(L, &ar); break; }
  lua_pushcfunction(L, nnlua_msghandler);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* lua_CFunction: (chunk, args...) -> true, nil | false, message. Runs the
 * chunk under keep_msghandler, so that its locals are kept on an error too;
 * the message comes back as a value, already through nnlua_msghandler. */
static int keep_run(lua_State *L) {
  int n = lua_gettop(L) - 1;
  lua_pushcfunction(L, keep_msghandler);
  lua_insert(L, 1);
  int status = lua_pcall(L, n, 0, 1);
  lua_pushboolean(L, status == LUA_OK);
  if (status == LUA_OK) lua_pushnil(L);
  else lua_insert(L, -2);
  return 2;
}

int vm_docall_keeplocals(lua_State *L, int narg) {
  lua_pushvalue(L, -narg - 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &CHUNK_KEY);
  lua_pushcfunction(L, keep_run);
  lua_insert(L, -narg - 2);
  lua_sethook(L, keep_hook, LUA_MASKRET, 0);
  int status = vm_docall(L, narg + 1, 2);
  if (lua_gethook(L) == keep_hook) lua_sethook(L, NULL, 0, 0);
  if (status == LUA_OK) {
    if (lua_toboolean(L, -2)) lua_pop(L, 2);
    else { lua_remove(L, -2); status = LUA_ERRRUN; }
  }
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &CHUNK_KEY);
  return status;
}

void vm_repl(lua_State *L) {
  Repl r = { isatty(STDIN_FILENO), NULL, LUA_NOREF, LUA_NOREF };
  int base = lua_gettop(L), status;
  struct sigaction old;
  session_open(L, &r);
  completing_L = L;
  completing_r = &r;
  if (r.tty) { banner(); tty_open(&r); catch_sigint(&old); }
  while ((status = loadline(L, &r)) != -1) {
    if (status == CANCELLED) continue;
    if (status == LUA_OK) status = vm_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) printresults(L, &r, base);
    else vm_report(L, status, NULL);
    lua_settop(L, base);
  }
  if (r.tty) {
    sigaction(SIGINT, &old, NULL);
    fputc('\n', stdout);
    fflush(stdout);
  }
  clearmatches();
  completing_L = NULL;
  completing_r = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, r.session);
  luaL_unref(L, LUA_REGISTRYINDEX, r.show);
  free(r.histfile);
}
