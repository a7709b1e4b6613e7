/* test_repl.c -- the nnlua REPL, driven through a real pseudo-terminal.
 *
 * forkpty() gives the child a terminal, so nnlua takes its terminal path
 * (libedit, prompts, history in $HOME, which points to a fresh folder).
 * Every expectation waits for text with a deadline, so a broken REPL fails
 * the CHECK instead of hanging the run; a child left over is killed. The
 * terminal turns "\n" into "\r\n": '\r' is dropped from what is read. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define BUFMAX 65536
#define WAIT_MS 10000                   /* per expectation; generous for ASan */

typedef struct Pty {
  pid_t pid;                            /* 0: no child */
  int fd;                               /* master side */
  size_t n, mark;                       /* bytes in buf; search starts at mark */
  int broken;                           /* an expectation failed: fail the rest fast */
  char buf[BUFMAX];
} Pty;

static Pty P;



/* Starts nnlua on a new terminal with HOME=home and up to two arguments
 * (opt2 is ignored when opt is NULL). */
static int start2(const char *home, const char *opt, const char *opt2) {
  struct winsize ws = { 24, 80, 0, 0 };
  memset(&P, 0, sizeof P);
  P.pid = forkpty(&P.fd, NULL, NULL, &ws);
  if (P.pid < 0) { P.pid = 0; return 0; }
  if (P.pid == 0) {
    setenv("HOME", home, 1);
    setenv("TERM", "xterm", 1);
    execl(check_nnlua(), check_nnlua(), opt, opt2, (char *)NULL);
    _exit(127);
  }
  return 1;
}

/* Starts nnlua on a new terminal with HOME=home and one optional option. */
static int start(const char *home, const char *opt) {
  return start2(home, opt, NULL);
}

/* Reads what the terminal has within ms milliseconds, without '\r'.
 * Returns 0 once the child side is gone. */
static int readsome(int ms) {
  struct pollfd p = { P.fd, POLLIN, 0 };
  if (poll(&p, 1, ms < 0 ? 0 : ms) <= 0) return 1;
  char tmp[4096];
  ssize_t k = read(P.fd, tmp, sizeof tmp);
  if (k <= 0) return errno == EINTR;
  for (ssize_t i = 0; i < k && P.n < BUFMAX - 1; i++)
    if (tmp[i] != '\r') P.buf[P.n++] = tmp[i];
  P.buf[P.n] = '\0';
  return 1;
}

/* Waits until s appears after the mark; the mark then moves past it. After
 * one miss the session is out of step, so later expectations fail at once. */
static int expect(const char *s) {
  long long end = check_now_ms() + WAIT_MS;
  if (P.broken) return 0;
  for (;;) {
    char *hit = strstr(P.buf + P.mark, s);
    if (hit != NULL) { P.mark = (size_t)(hit - P.buf) + strlen(s); return 1; }
    if (check_now_ms() >= end || !readsome((int)(end - check_now_ms()))) break;
  }
  fprintf(stderr, "  expected \"%s\" after: \"%s\"\n", s, P.buf + P.mark);
  P.broken = 1;
  return 0;
}

static void send(const char *s) {
  size_t left = strlen(s);
  while (left > 0) {
    ssize_t k = write(P.fd, s, left);
    if (k < 0 && errno != EINTR) return;
    if (k > 0) { s += k; left -= (size_t)k; }
  }
}

/* Waits until the terminal leaves canonical mode, which libedit does when it
 * starts reading a line. It draws the prompt first, so input sent on seeing
 * the prompt alone could still meet a cooked terminal, where a Ctrl-D would
 * turn into a NUL byte. The master side shares the terminal's settings. */
static int atprompt(void) {
  long long end = check_now_ms() + WAIT_MS;
  struct termios t;
  while (!P.broken && tcgetattr(P.fd, &t) == 0) {
    if (!(t.c_lflag & ICANON)) return 1;
    if (check_now_ms() >= end) break;
    readsome(5);
  }
  if (!P.broken) fprintf(stderr, "  the terminal never left canonical mode\n");
  P.broken = 1;
  return 0;
}

/* Sends s once libedit is reading. */
static void type(const char *s) {
  if (atprompt()) send(s);
}

/* Waits for the child to exit; returns its status, or -1 after killing it
 * at the deadline. */
static int finish(void) {
  long long end = check_now_ms() + WAIT_MS;
  int ws = 0, st = -1;
  while (P.pid > 0) {
    pid_t r = waitpid(P.pid, &ws, WNOHANG);
    if (r == P.pid) { st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws); break; }
    if (check_now_ms() >= end) { kill(P.pid, SIGKILL); waitpid(P.pid, &ws, 0); break; }
    readsome(20);
  }
  if (P.pid > 0) close(P.fd);
  if (st != 0) fprintf(stderr, "  exit status %d, terminal: \"%s\"\n", st, P.buf);
  P.pid = 0;
  return st;
}

static int file_has(const char *path, const char *s) {
  static char text[BUFMAX];
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return strstr(text, s) != NULL;
}

/* Types one line at the prompt and waits for the output wanted. */
static int line(const char *in, const char *want) {
  type(in);
  return expect(want);
}

TEST(repl_session_and_history) {
  char home[] = "/tmp/nnlua_repl_XXXXXX", hist[PATH_MAX];
  CHECK(mkdtemp(home) != NULL);
  snprintf(hist, sizeof hist, "%s/.nnlua_history", home);
  CHECK(start(home, NULL));                       /* no args on a terminal */
  CHECK(expect("nnlua 0.1.0 (Lua 5.4"));
  CHECK(expect("Ctrl-D exits\n> "));
  CHECK(line("1+1\n", "\n2\n> "));
  CHECK(line("function f(x)\n", ">> "));
  CHECK(line(" return x*2\n", ">> "));
  CHECK(line("end\n", "> "));
  CHECK(line("f(21)\n", "\n42\n> "));
  CHECK(line("error(\"boom\")\n", "boom"));
  CHECK(expect("traceback"));
  CHECK(line("3*3\n", "\n9\n> "));
  CHECK(line("x = nil + 1\n", "attempt to perform arithmetic on a nil value"));
  CHECK(line("1, 'two', nil\n", "\n1\ttwo\tnil\n> "));
  CHECK(line("print('hist' .. 6*7)\n", "\nhist42\n> "));
  type("\x04");
  CHECK(finish() == 0);
  CHECK(file_has(hist, "f(21)"));
  CHECK(file_has(hist, "hist"));

  CHECK(start(home, "-i"));                       /* the history survived */
  CHECK(expect("> "));
  type("\x1b[A");                                 /* up arrow: last command */
  CHECK(line("\r", "\nhist42\n> "));
  type("\x04");
  CHECK(finish() == 0);
  unlink(hist);
  rmdir(home);
}

TEST(repl_ctrl_c) {
  char home[] = "/tmp/nnlua_repl_XXXXXX";
  CHECK(mkdtemp(home) != NULL);
  CHECK(start(home, "-i"));
  CHECK(expect("> "));
  CHECK(line("io.write('spin\\n') io.flush() while true do end\n", "\nspin\n"));
  send("\x03");                                   /* Ctrl-C while running */
  CHECK(expect("interrupted!"));
  CHECK(expect("> "));
  CHECK(line("5*5\n", "\n25\n> "));
  CHECK(line("abc", "abc"));
  type("\x03");                                   /* Ctrl-C at the prompt */
  CHECK(expect("> "));
  CHECK(line("6*7\n", "\n42\n> "));               /* "abc" was dropped */
  CHECK(line("for i = 1,\n", ">> "));
  type("\x03");                                   /* drops the unfinished input */
  CHECK(expect("> "));
  CHECK(line("7*7\n", "\n49\n> "));
  type("\x04");
  CHECK(finish() == 0);
  char hist[PATH_MAX];
  snprintf(hist, sizeof hist, "%s/.nnlua_history", home);
  unlink(hist);
  rmdir(home);
}

/* A DataLoader loop draws its progress bar when stderr is a terminal. */
TEST(progress_bar_on_a_terminal) {
  char home[] = "/tmp/nnlua_repl_XXXXXX", script[PATH_MAX];
  CHECK(mkdtemp(home) != NULL);
  snprintf(script, sizeof script, "%s/loop.lua", home);
  FILE *f = fopen(script, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("local ds = data.TensorDataset(tensor.zeros(300))\n"
        "for x in data.DataLoader(ds, {batch_size = 100}):iter() do end\n"
        "for x in data.DataLoader(ds, {batch_size = 100, progress = false}):iter() do end\n"
        "print('finished')\n", f);
  fclose(f);
  unsetenv("NNLUA_PROGRESS");
  CHECK(start(home, script));
  CHECK(expect("3/3 [=============================="));
  CHECK(expect("samples/s"));
  CHECK(expect("\nfinished\n"));
  CHECK(finish() == 0);
  int bars = 0;                                   /* one loop drew a bar, not two */
  for (const char *p = P.buf; (p = strstr(p, "] 100%")) != NULL; p++) bars++;
  CHECK(bars == 1);
  unlink(script);
  rmdir(home);
}

/* Values print as Lua would write them: tables as constructors, classes and
 * nnlua's functions by name; top-level locals last from line to line. */
TEST(repl_values_and_locals) {
  char home[] = "/tmp/nnlua_repl_XXXXXX";
  CHECK(mkdtemp(home) != NULL);
  CHECK(start(home, "-i"));
  CHECK(expect("> "));
  CHECK(line("tensor.zeros(64, 1, 28, 28).shape\n", "\n{64, 1, 28, 28}\n> "));
  CHECK(line("{3, 'a', {x = 1, [\"y z\"] = true}, k = false}\n",
             "\n{3, \"a\", {x = 1, [\"y z\"] = true}, k = false}\n> "));
  CHECK(line("local t = {} t.self = t\n", "> "));
  CHECK(line("t\n", "\n{self = <cycle>}\n> "));
  CHECK(line("optim.SGD\n", "\n<class optim.SGD>\n> "));
  CHECK(line("local y = 5\n", "> "));
  CHECK(line("y * 2\n", "\n10\n> "));
  CHECK(line("local a, b <const> = 1, 2\n", "> "));
  CHECK(line("a + b\n", "\n3\n> "));
  CHECK(line("local function fact(n) if n < 2 then return 1 end return n * fact(n - 1) end\n", "> "));
  CHECK(line("fact(5)\n", "\n120\n> "));
  CHECK(line("do local inner = 1 end\n", "> "));
  CHECK(line("inner\n", "\nnil\n> "));               /* a block's locals stay in it */
  CHECK(line("local print = 7\n", "> "));
  CHECK(line("print\n", "\n7\n> "));                  /* a REPL local shadows the global */
  CHECK(line("help(tensor.randn)\n", "\ntensor.randn(size..., [generator]) -> Tensor\n"));
  CHECK(expect("Example:"));
  CHECK(expect("> "));
  CHECK(line("help()\n", "optim.lr_scheduler"));
  CHECK(expect("> "));
  CHECK(line("local w = tensor.ones(2):requires_grad_()\n", "> "));
  CHECK(line("w * 2\n", "grad_fn=<MulBackward0>)\n> "));
  CHECK(line("z = 1 + nil\n", "stdin:1: attempt to perform arithmetic"));
  CHECK(line("local q = 1\n", "> "));
  CHECK(line("q = q + nil\n", "stdin:1: attempt to perform arithmetic"));
  type("\x04");
  CHECK(finish() == 0);
  rmdir(home);
}

/* Tab completes globals, module fields, a module's children and methods. */
TEST(repl_tab_completion) {
  char home[] = "/tmp/nnlua_repl_XXXXXX", hist[PATH_MAX];
  CHECK(mkdtemp(home) != NULL);
  CHECK(start(home, "-i"));
  CHECK(expect("> "));
  CHECK(line("tensor.randp\t", "erm"));
  CHECK(line("(3):numel()\n", "\n3\n> "));
  CHECK(line("local x = tensor.zeros(2, 3)\n", "> "));
  CHECK(line("x:nu\t", "mel"));
  CHECK(line("()\n", "\n6\n> "));
  CHECK(line("x:su\t\t", "x:sub"));                   /* two Tabs list the choices */
  CHECK(expect("x:sum"));
  CHECK(line("m()\n", "\ntensor(0.)\n> "));
  CHECK(line("local model = nn.Sequential(nn.Linear(2, 3))\n", "> "));
  CHECK(line("model[1].out_f\t", "eatures"));
  CHECK(line("\n", "\n3\n> "));
  CHECK(line("local net = nn.Module:extend('Net')\n", "> "));
  CHECK(line("function net:init() self.fc1 = nn.Linear(2, 2) end\n", "> "));
  CHECK(line("local m = net()\n", "> "));
  CHECK(line("m.fc\t", "1"));
  CHECK(line(".wei\t", "ght"));
  CHECK(line(".sh\t", "ape"));
  CHECK(line("\n", "\n{2, 2}\n> "));
  CHECK(line("prin\t", "t"));
  CHECK(line("(1)\n", "\n1\n> "));
  CHECK(line("\tfor i = 1, 2 do end\n", "> "));        /* Tab at the start indents */
  type("\x04");
  CHECK(finish() == 0);
  snprintf(hist, sizeof hist, "%s/.nnlua_history", home);
  unlink(hist);
  rmdir(home);
}

/* nnlua -i script.lua: the script's top-level locals are there afterwards. */
TEST(repl_after_script_keeps_locals) {
  char home[] = "/tmp/nnlua_repl_XXXXXX", script[PATH_MAX];
  CHECK(mkdtemp(home) != NULL);
  snprintf(script, sizeof script, "%s/train.lua", home);
  FILE *f = fopen(script, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("local acc = 0.25\n"
        "local model = nn.Linear(4, 3)\n"
        "local acc = acc * 2\n"                 /* the later acc wins */
        "do local hidden = 1 end\n"
        "epochs = 3\n", f);
  fclose(f);
  CHECK(start2(home, "-i", script));
  CHECK(expect("> "));
  CHECK(line("acc\n", "\n0.5\n> "));
  CHECK(line("model.weight.shape\n", "\n{3, 4}\n> "));
  CHECK(line("epochs\n", "\n3\n> "));
  CHECK(line("hidden\n", "\nnil\n> "));
  CHECK(line("acc = acc + 1\n", "> "));
  CHECK(line("acc\n", "\n1.5\n> "));
  type("\x04");
  CHECK(finish() == 0);
  char hist[PATH_MAX];
  snprintf(hist, sizeof hist, "%s/.nnlua_history", home);
  unlink(hist);
  unlink(script);
  rmdir(home);
}

/* nnlua -i script.lua whose script fails: the error, then the REPL with the
 * locals the script had made by then (as python -i); exit status 1. */
TEST(repl_after_failed_script) {
  char home[] = "/tmp/nnlua_repl_XXXXXX", script[PATH_MAX];
  CHECK(mkdtemp(home) != NULL);
  snprintf(script, sizeof script, "%s/bad.lua", home);
  FILE *f = fopen(script, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("local loss = 2.5\n"
        "local model = nn.Linear(2, 2)\n"
        "model(tensor.zeros(1, 3))\n"
        "local later = 1\n", f);
  fclose(f);
  CHECK(start2(home, "-i", script));
  CHECK(expect("bad.lua:3: Linear(2, 2): input of shape [1, 3]"));
  CHECK(expect("> "));
  CHECK(line("loss\n", "\n2.5\n> "));
  CHECK(line("model.in_features\n", "\n2\n> "));
  CHECK(line("later\n", "\nnil\n> "));
  type("\x04");
  CHECK(finish() == 1);
  char hist[PATH_MAX];
  snprintf(hist, sizeof hist, "%s/.nnlua_history", home);
  unlink(hist);
  unlink(script);
  rmdir(home);
}
