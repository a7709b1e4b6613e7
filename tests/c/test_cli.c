/* test_cli.c -- the nnlua command line, run as a real process.
 *
 * The binary is $NNLUA (default ./nnlua), made absolute first so the tests
 * can run it from another folder. Each run goes through fork/exec with pipes
 * for stdin, stdout and stderr (no shell, so no quoting surprises) and a
 * deadline, after which the child is killed and the run counts as failed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define OUTMAX 65536
#define DEADLINE_MS 30000               /* per run; generous for ASan builds */

typedef struct Run {
  int status;                           /* exit status, 128+signal, -1 on timeout */
  size_t nout, nerr;
  char out[OUTMAX], err[OUTMAX];        /* NUL-terminated, truncated if longer */
} Run;

static Run R;                           /* the last run (large: not on the stack) */
static char tmpdir[64];                 /* scripts of the current test */
static char made[16][PATH_MAX];
static int nmade;



/* Writes a script into the test folder; returns its path (static buffer). */
static const char *script(const char *name, const char *text) {
  static char path[PATH_MAX];
  if (tmpdir[0] == '\0') {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnlua_cli_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) return "/nonexistent";
  }
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL) return "/nonexistent";
  fputs(text, f);
  fclose(f);
  if (nmade < 16) snprintf(made[nmade++], PATH_MAX, "%s", path);
  return path;
}

/* Removes the scripts and their folder; each test calls it last. */
static void cleanup(void) {
  while (nmade > 0) unlink(made[--nmade]);
  if (tmpdir[0] != '\0') rmdir(tmpdir);
  tmpdir[0] = '\0';
}

static void child(int in[2], int out[2], int err[2], char **argv, const char *cwd) {
  dup2(in[0], 0);
  dup2(out[1], 1);
  dup2(err[1], 2);
  for (int i = 0; i < 2; i++) { close(in[i]); close(out[i]); close(err[i]); }
  if (cwd != NULL && chdir(cwd) != 0) _exit(126);
  execv(argv[0], argv);
  _exit(127);
}

/* Appends what fd has to buf; returns 0 at end of file. */
static int drain(int fd, char *buf, size_t *n) {
  char tmp[4096];
  ssize_t k = read(fd, tmp, sizeof tmp);
  if (k < 0) return errno == EINTR || errno == EAGAIN;
  size_t room = OUTMAX - 1 - *n;
  size_t take = (size_t)k < room ? (size_t)k : room;
  memcpy(buf + *n, tmp, take);
  *n += take;
  buf[*n] = '\0';
  return k > 0;
}

/* Feeds input to the child and collects its output until both output pipes
 * close or the deadline passes. Closes the three fds. Returns 0 on timeout. */
static int pump(int infd, int outfd, int errfd, const char *input) {
  size_t left = input ? strlen(input) : 0;
  long long end = check_now_ms() + DEADLINE_MS;
  if (left == 0) { close(infd); infd = -1; }
  while (outfd >= 0 || errfd >= 0) {
    struct pollfd p[3] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 }, { infd, POLLOUT, 0 } };
    long long wait = end - check_now_ms();
    if (wait <= 0 || poll(p, 3, (int)wait) < 0) break;
    if (p[0].revents && !drain(outfd, R.out, &R.nout)) { close(outfd); outfd = -1; }
    if (p[1].revents && !drain(errfd, R.err, &R.nerr)) { close(errfd); errfd = -1; }
    if (infd >= 0 && p[2].revents) {
      ssize_t k = write(infd, input, left);
      if (k > 0) { input += k; left -= (size_t)k; }
      if (k < 0 || left == 0) { close(infd); infd = -1; }
    }
  }
  int done = outfd < 0 && errfd < 0;
  if (infd >= 0) close(infd);
  if (outfd >= 0) close(outfd);
  if (errfd >= 0) close(errfd);
  return done;
}

/* Runs nnlua with the NULL-terminated args, input on stdin, in folder cwd
 * (NULL: this one). Fills R; returns R.status. */
static int run(const char *const *args, const char *input, const char *cwd) {
  char *argv[64];
  int n = 0, in[2], out[2], err[2];
  argv[n++] = (char *)check_nnlua();
  while (*args != NULL && n < 63) argv[n++] = (char *)*args++;
  argv[n] = NULL;
  memset(&R, 0, sizeof R);
  if (pipe(in) || pipe(out) || pipe(err)) return R.status = -1;
  void (*oldpipe)(int) = signal(SIGPIPE, SIG_IGN);   /* child may not read stdin */
  pid_t pid = fork();
  if (pid == 0) child(in, out, err, argv, cwd);
  close(in[0]); close(out[1]); close(err[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  int done = pump(in[1], out[0], err[0], input);
  if (!done) kill(pid, SIGKILL);
  int ws = 0;
  waitpid(pid, &ws, 0);
  signal(SIGPIPE, oldpipe);
  R.status = !done ? -1 : WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  if (R.status != 0 && getenv("NNLUA_TEST_VERBOSE"))
    fprintf(stderr, "  [status %d]\n  stdout: %s\n  stderr: %s\n", R.status, R.out, R.err);
  return R.status;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int has(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

TEST(cli_script_args) {
  const char *s = script("args.lua",
      "io.write(select('#', ...), '|', table.concat({...}, ','), '\\n')\n"
      "for i = -3, #arg do io.write(i, '=', tostring(arg[i]), '\\n') end\n");
  char want[2 * PATH_MAX + 256];
  snprintf(want, sizeof want, "2|a b,c'd \"e\"\n-3=%s\n-2=-e\n-1=x=1\n0=%s\n1=a b\n2=c'd \"e\"\n",
           check_nnlua(), s);
  CHECK(run(ARGS("-e", "x=1", s, "a b", "c'd \"e\""), NULL, NULL) == 0);
  CHECK(strcmp(R.out, want) == 0);
  CHECK(run(ARGS(s), NULL, NULL) == 0);
  CHECK(has(R.out, "0|\n") && has(R.out, "-1=") && has(R.out, "0="));
  cleanup();
}

TEST(cli_e) {
  CHECK(run(ARGS("-e", "print(1+1)", "-e", "print(2+2)"), NULL, NULL) == 0);
  CHECK(strcmp(R.out, "2\n4\n") == 0);
  const char *s = script("usex.lua", "print('X is', X)\n");
  CHECK(run(ARGS("-e", "X = 5", s), NULL, NULL) == 0);
  CHECK(strcmp(R.out, "X is\t5\n") == 0);
  CHECK(run(ARGS("-eprint('joined')"), NULL, NULL) == 0);
  CHECK(strcmp(R.out, "joined\n") == 0);
  CHECK(run(ARGS("-e", "error('in e')"), NULL, NULL) == 1);
  CHECK(has(R.err, "nnlua: ") && has(R.err, "in e") && has(R.err, "traceback"));
  cleanup();
}

TEST(cli_stdin) {
  CHECK(run(ARGS("-", "x", "y"), "print('from stdin', ...)\n", NULL) == 0);
  CHECK(strcmp(R.out, "from stdin\tx\ty\n") == 0);
  CHECK(run(ARGS(NULL), "print(40 + 2)\n", NULL) == 0);     /* no args, stdin a pipe */
  CHECK(strcmp(R.out, "42\n") == 0);
  CHECK(run(ARGS("-"), "error('piped')\n", NULL) == 1);
  CHECK(has(R.err, "stdin:1: piped"));
}

TEST(cli_version) {
  const char *opts[] = { "-v", "--version" };
  for (int i = 0; i < 2; i++) {
    CHECK(run(ARGS(opts[i]), NULL, NULL) == 0);
    CHECK(has(R.out, "nnlua") && has(R.out, "Lua 5.4") && has(R.out, "oneDNN") &&
          has(R.out, "libpng") && has(R.out, "cairo"));
    CHECK(R.nout > 0 && strchr(R.out, '\n') == R.out + R.nout - 1);   /* one line */
  }
}

TEST(cli_help_and_bad_options) {
  CHECK(run(ARGS("--help"), NULL, NULL) == 0);
  CHECK(has(R.out, "usage: nnlua") && has(R.out, "-e") && has(R.out, "-i"));
  CHECK(run(ARGS("-x"), NULL, NULL) == 1);
  CHECK(has(R.err, "'-x'") && has(R.err, "usage: nnlua") && R.nout == 0);
  CHECK(run(ARGS("--frobnicate", "script.lua"), NULL, NULL) == 1);
  CHECK(has(R.err, "usage: nnlua"));
  CHECK(run(ARGS("-e"), NULL, NULL) == 1);
  CHECK(has(R.err, "'-e' needs argument"));
}

TEST(cli_runtime_error) {
  const char *s = script("boom.lua", "local x = 1\n\nerror('boom here')\n");
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  CHECK(has(R.err, "nnlua: ") && has(R.err, "boom.lua:3: boom here"));
  CHECK(has(R.err, "stack traceback"));
  s = script("obj.lua", "error(setmetatable({}, {__tostring = function() return 'custom obj' end}))\n");
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  CHECK(has(R.err, "nnlua: custom obj") && has(R.err, "traceback"));
  s = script("tbl.lua", "error({})\n");
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  CHECK(has(R.err, "error object is a table value"));
  cleanup();
}

/* The one error boundary: a mistake caught inside nnlua's stdlib is reported at
 * the script's line, with the script's frames and none of stdlib's. */
TEST(cli_error_points_at_the_script) {
  const char *s = script("mlp.lua",
      "local MLP = nn.Module:extend('MLP')\n"
      "function MLP:init() self.fc1 = nn.Linear(784, 10) end\n"
      "function MLP:forward(x)\n"
      "  local y = self.fc1(x)\n"
      "  return y\n"
      "end\n"
      "local function train(m) local out = m(tensor.zeros(64, 748)); return out end\n"
      "train(MLP())\n");
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  CHECK(has(R.err, "mlp.lua:4: Linear(784, 10): input of shape [64, 748]"));
  CHECK(has(R.err, "stack traceback:\n"));
  CHECK(has(R.err, "mlp.lua:4: in method 'forward'"));
  CHECK(has(R.err, "mlp.lua:7: in local 'train'"));
  CHECK(has(R.err, "mlp.lua:8: in main chunk"));
  CHECK(!has(R.err, "stdlib/") && !has(R.err, "[C]") && !has(R.err, "errors.lua"));
  setenv("NNLUA_TRACEBACK", "full", 1);               /* every frame, for work on nnlua */
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  unsetenv("NNLUA_TRACEBACK");
  CHECK(has(R.err, "stdlib/nn/Linear.lua") && has(R.err, "mlp.lua:4: Linear(784, 10)"));
  CHECK(run(ARGS("-e", "nn.Sequential(nn.Linear(2, 2))(tensor.zeros(3))"), NULL, NULL) == 1);
  CHECK(has(R.err, "(command line):1: Sequential: child 1 (Linear): Linear(2, 2): input of shape [3]"));
  cleanup();
}

/* A binary chunk is refused as the script itself, as it is by load (vm/guard.c). */
TEST(cli_binary_script_refused) {
  const char *gen = script("gen.lua", "local f = io.open(arg[1], 'wb') f:write(string.dump(function() print('ran') end)) f:close()\n");
  char out[PATH_MAX];
  snprintf(out, sizeof out, "%s.luac", gen);
  CHECK(run(ARGS(gen, out), NULL, NULL) == 0);
  CHECK(run(ARGS(out), NULL, NULL) == 1);
  CHECK(has(R.err, "attempt to load a binary chunk") && !has(R.out, "ran"));
  unlink(out);
  cleanup();
}

/* The REPL uses the same handler: the error is at stdin's line, and it goes on. */
TEST(cli_repl_error_points_at_the_input) {
  CHECK(run(ARGS("-i"), "nn.Linear(2, 2)(tensor.zeros(1, 3))\nprint('still here')\n", NULL) == 0);
  CHECK(has(R.err, "stdin:1: Linear(2, 2): input of shape [1, 3]"));
  CHECK(!has(R.err, "stdlib/"));
  CHECK(has(R.out, "still here"));
}

TEST(cli_exit_codes) {
  const char *s = script("exit3.lua", "io.write('before')\nos.exit(3)\nprint('after')\n");
  CHECK(run(ARGS(s), NULL, NULL) == 3);
  CHECK(strcmp(R.out, "before") == 0);
  CHECK(run(ARGS("-e", "os.exit(true)"), NULL, NULL) == 0);
  CHECK(run(ARGS("-e", "os.exit(false)"), NULL, NULL) == 1);
  cleanup();
}

TEST(cli_syntax_error) {
  const char *s = script("syntax.lua", "local a = 1\nlocal b = = 2\n");
  CHECK(run(ARGS(s), NULL, NULL) == 1);
  CHECK(has(R.err, "nnlua: ") && has(R.err, "syntax.lua:2:"));
  CHECK(R.nout == 0);
  cleanup();
}

TEST(cli_missing_script) {
  CHECK(run(ARGS("/nonexistent/nosuch.lua"), NULL, NULL) == 1);
  CHECK(has(R.err, "cannot open /nonexistent/nosuch.lua"));
  CHECK(has(R.err, "No such file"));
}

/* The stdlib folder and the modules come from the binary's location, not
 * from the current folder. */
TEST(cli_modules_from_other_cwd) {
  const char *code =
      "local t = require 'tensor'\n"
      "assert(type(t) == 'table' and t == tensor, 'require tensor')\n"
      "print((package.path:match('^([^;]*)/%?%.lua;')))\n";
  CHECK(run(ARGS("-e", code), NULL, "/") == 0);
  char *nl = strchr(R.out, '\n');
  if (nl != NULL) *nl = '\0';
  size_t n = strlen(R.out);
  struct stat st;
  CHECK(R.out[0] == '/');
  CHECK(n > 7 && strcmp(R.out + n - 7, "/stdlib") == 0);
  CHECK(stat(R.out, &st) == 0 && S_ISDIR(st.st_mode));
  CHECK(run(ARGS("-e", "print(tensor ~= nil)"), NULL, "/tmp") == 0);
  CHECK(strcmp(R.out, "true\n") == 0);
}
