/* repl.c -- the interactive loop of nnlua (-i, or no arguments on a terminal).
 *
 * Each input is first tried as an expression (returned) so that expressions print
 * their values, then as a statement; a statement whose syntax error ends at
 * "<eof>" is incomplete and reads more lines with the ">> " prompt. Results
 * are printed tab-separated through the global tostring, so values with a
 * __tostring metamethod (tensors, modules) print as they like. Errors print
 * their message and traceback and the loop goes on.
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
} Repl;

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

/* ---- terminal and history -------------------------------------------- */

/* Sets libedit up and loads the history file. */
static void tty_open(Repl *r) {
  const char *home = getenv("HOME");
  setlocale(LC_CTYPE, "");             /* UTF-8 editing, as GNU readline does */
  rl_readline_name = "nnlua";
  rl_catch_signals = 0;                /* SIGINT is ours: catch_sigint */
  rl_getc_function = getc_interruptible;
  rl_initialize();
  rl_bind_key('\t', rl_insert);        /* pasted code keeps its tabs */
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

/* Tries the line on top as an expression whose values are returned. On
 * success pushes the function and returns LUA_OK; otherwise pushes nothing.
 * The values pass through a function, so that a call in the line is not a
 * tail call: the line's frame stays on the stack and an error inside the
 * call is reported at "stdin:1:" (bindings/errors.c). */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *code = lua_pushfstring(L, "return (function(...) return ... end)(%s);", line);
  int status = luaL_loadbufferx(L, code, strlen(code), CHUNKNAME, "t");
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
    int status = luaL_loadbufferx(L, code, n, CHUNKNAME, "t");
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
  int status = addreturn(L);
  if (status != LUA_OK) status = multiline(L, r);
  if (status == CANCELLED) { lua_pop(L, 1); return status; }
  history_add(r, lua_tostring(L, -2));
  lua_remove(L, -2);                   /* the text */
  return status;
}

/* ---- printing --------------------------------------------------------- */

/* lua_CFunction: writes its arguments, each through the global tostring
 * (luaL_tolstring if a script removed it), separated by tabs, then a newline. */
static int printvalues(lua_State *L) {
  int n = lua_gettop(L);
  int global = lua_getglobal(L, "tostring") == LUA_TFUNCTION;
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
static void printresults(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushcfunction(L, printvalues);
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

void vm_repl(lua_State *L) {
  Repl r = { isatty(STDIN_FILENO), NULL };
  int base = lua_gettop(L), status;
  struct sigaction old;
  if (r.tty) { banner(); tty_open(&r); catch_sigint(&old); }
  while ((status = loadline(L, &r)) != -1) {
    if (status == CANCELLED) continue;
    if (status == LUA_OK) status = vm_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) printresults(L, base);
    else vm_report(L, status, NULL);
    lua_settop(L, base);
  }
  if (r.tty) {
    sigaction(SIGINT, &old, NULL);
    fputc('\n', stdout);
    fflush(stdout);
  }
  free(r.histfile);
}
