/* test_host.c -- the nnlua host around a script, through the real binary:
 * package.path and require next to the script, the warning for a student's
 * file that one of nnlua's modules shadows, and the progress bar with print
 * in a real terminal (tmux; `make deps` installs it, and a missing tmux fails
 * the test instead of skipping it).
 *
 * Every process runs with a deadline, in a fresh folder under /tmp that the
 * test removes; tmux runs its own server on a socket in that folder, so no
 * other tmux session is touched. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define OUTMAX 65536
#define DEADLINE_MS 30000               /* per process; generous for ASan builds */

typedef struct Proc {
  int status;                           /* exit status, 128+signal, -1 on timeout or no start */
  size_t nout, nerr;
  char out[OUTMAX], err[OUTMAX];        /* NUL-terminated, truncated if longer */
} Proc;

static Proc P;                          /* the last run (large: not on the stack) */
static char dir[64];                    /* the current test's folder */

/* Makes the test folder; returns 0 on failure. */
static int newdir(void) {
  snprintf(dir, sizeof dir, "/tmp/nnlua_host_XXXXXX");
  return mkdtemp(dir) != NULL;
}

/* Writes text to dir/name, making the folders on the way. */
static void put(const char *name, const char *text) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    mkdir(path, 0755);
    *p = '/';
  }
  CHECK(check_write_file(path, text, strlen(text)) == 0);
}

/* Appends what fd has to buf; returns 0 at end of file. */
static int drain(int fd, char *buf, size_t *n) {
  char tmp[4096];
  ssize_t k = read(fd, tmp, sizeof tmp);
  if (k < 0) return errno == EINTR || errno == EAGAIN;
  size_t take = (size_t)k < OUTMAX - 1 - *n ? (size_t)k : OUTMAX - 1 - *n;
  memcpy(buf + *n, tmp, take);
  *n += take;
  buf[*n] = '\0';
  return k > 0;
}

/* Runs argv (argv[0] looked up in PATH) in folder cwd (NULL: dir) with
 * stdin from /dev/null and each "NAME=value" of env set ("NAME=" unsets).
 * Fills P; returns P.status (127: could not be started). */
static int run(const char *const *argv, const char *const *env, const char *cwd) {
  int out[2], err[2];
  memset(&P, 0, sizeof P);
  P.status = -1;
  if (pipe(out) != 0) return -1;
  if (pipe(err) != 0) { close(out[0]); close(out[1]); return -1; }
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0); dup2(out[1], 1); dup2(err[1], 2);
    close(in); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
    for (; env != NULL && *env != NULL; env++) {
      char name[256];
      const char *eq = strchr(*env, '=');
      snprintf(name, sizeof name, "%.*s", (int)(eq - *env), *env);
      if (eq[1] == '\0') unsetenv(name); else setenv(name, eq + 1, 1);
    }
    if (chdir(cwd != NULL ? cwd : dir) != 0) _exit(126);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(out[1]); close(err[1]);
  int fo = out[0], fe = err[0];
  long long end = check_now_ms() + DEADLINE_MS;
  while (pid > 0 && (fo >= 0 || fe >= 0)) {
    struct pollfd p[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
    long long wait = end - check_now_ms();
    if (wait <= 0 || poll(p, 2, (int)wait) < 0) break;
    if (p[0].revents && !drain(fo, P.out, &P.nout)) { close(fo); fo = -1; }
    if (p[1].revents && !drain(fe, P.err, &P.nerr)) { close(fe); fe = -1; }
  }
  int done = fo < 0 && fe < 0;
  if (fo >= 0) close(fo);
  if (fe >= 0) close(fe);
  if (pid < 0) return -1;
  if (!done) kill(pid, SIGKILL);
  int ws = 0;
  waitpid(pid, &ws, 0);
  P.status = !done ? -1 : WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  if (P.status != 0 && getenv("NNLUA_TEST_VERBOSE"))
    fprintf(stderr, "  [%s: status %d]\n  stdout: %s\n  stderr: %s\n", argv[0], P.status, P.out, P.err);
  return P.status;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOENV ARGS("LUA_PATH=", "LUA_PATH_5_4=", "NNLUA_PROGRESS=")

/* Runs nnlua with up to 3 arguments (the first NULL ends them) in folder cwd. */
static int nnlua(const char *cwd, const char *a1, const char *a2, const char *a3) {
  return run(ARGS(check_nnlua(), a1, a2, a3), NOENV, cwd);
}

static int count(const char *s, const char *sub) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub)) n++;
  return n;
}

/* ---- require next to the script ---------------------------------------- */

TEST(host_require_next_to_the_script) {
  if (!newdir()) { CHECK(!"mkdtemp"); return; }
  put("proj/main.lua", "local h = require 'helpers'\nprint(h.name, (require 'sub.mod'))\n"
                       "print(require('plot') == plot, require('nn') == nn)\n");
  put("proj/helpers.lua", "return {name = 'proj helpers'}\n");
  put("proj/sub/mod.lua", "return 'proj sub.mod'\n");
  put("helpers.lua", "return {name = 'cwd helpers'}\n");   /* the script's folder wins */
  const char *want = "proj helpers\tproj sub.mod\ntrue\ttrue\n";
  CHECK(nnlua(NULL, "proj/main.lua", NULL, NULL) == 0);
  CHECK(strcmp(P.out, want) == 0 && P.nerr == 0);
  char abs[PATH_MAX];
  snprintf(abs, sizeof abs, "%s/proj/main.lua", dir);
  CHECK(nnlua("/", abs, NULL, NULL) == 0);                   /* from anywhere */
  CHECK(strcmp(P.out, want) == 0 && P.nerr == 0);
  char proj[PATH_MAX];
  snprintf(proj, sizeof proj, "%s/proj", dir);
  CHECK(nnlua(proj, "main.lua", NULL, NULL) == 0);          /* from inside, as before */
  CHECK(strcmp(P.out, want) == 0 && P.nerr == 0);
  /* -e and stdin: the script's folder is the current one */
  CHECK(nnlua(NULL, "-e", "print(require('helpers').name)", NULL) == 0);
  CHECK(strcmp(P.out, "cwd helpers\n") == 0);
  CHECK(nnlua(NULL, "-e", "print(package.path:find('proj', 1, true))", NULL) == 0);
  CHECK(strcmp(P.out, "nil\n") == 0);
  check_rmtree(dir);
}

TEST(host_package_path_order) {
  if (!newdir()) { CHECK(!"mkdtemp"); return; }
  put("proj/main.lua", "print(package.path)\nprint(package.cpath)\n");
  CHECK(nnlua(NULL, "proj/main.lua", NULL, NULL) == 0);
  /* the stdlib, the script's folder, then Lua's defaults ending with ./ */
  char *nl = strchr(P.out, '\n');
  CHECK(nl != NULL);
  if (nl == NULL) { check_rmtree(dir); return; }
  *nl = '\0';
  const char *path = P.out, *cpath = nl + 1;
  const char *lib = strstr(path, "/stdlib/?.lua;");
  CHECK(lib != NULL && strchr(path, ';') == lib + strlen("/stdlib/?.lua"));
  CHECK(check_has(path, "/stdlib/?/init.lua;proj/?.lua;proj/?/init.lua;/"));
  CHECK(count(path, "proj/") == 2 && count(path, "./?.lua") == 1 && count(path, "/stdlib/") == 2);
  size_t k = strlen(path), tail = strlen(";./?.lua;./?/init.lua");
  CHECK(k > tail && strcmp(path + k - tail, ";./?.lua;./?/init.lua") == 0);
  CHECK(strstr(cpath, "proj") == NULL);                     /* no native code from there */
  /* LUA_PATH comes after the script's folder; a script in . puts ./ first, once */
  put("main.lua", "print(package.path)\n");
  CHECK(run(ARGS(check_nnlua(), "main.lua"), ARGS("LUA_PATH=/custom/?.lua;;", "NNLUA_PROGRESS="), NULL) == 0);
  CHECK(check_has(P.out, "/stdlib/?/init.lua;./?.lua;./?/init.lua;/custom/?.lua;/"));
  CHECK(count(P.out, "./?.lua") == 1 && count(P.out, "/custom/") == 1);
  check_rmtree(dir);
}

/* ---- files that nnlua's modules shadow ---------------------------------- */

TEST(host_warns_about_shadowed_files) {
  if (!newdir()) { CHECK(!"mkdtemp"); return; }
  put("proj/main.lua", "print(require('plot') == plot, require('nn') == nn, require('tensor') == tensor)\n");
  put("proj/plot.lua", "return 'student plot'\n");
  put("proj/nn/init.lua", "return 'student nn'\n");
  put("proj/data/train.csv", "x,y\n");          /* a data folder is no module: no warning */
  put("proj/my_plot.lua", "return 'fine'\n");
  put("tensor.lua", "return 'student tensor'\n");
  CHECK(nnlua(NULL, "proj/main.lua", NULL, NULL) == 0);
  CHECK(strcmp(P.out, "true\ttrue\ttrue\n") == 0);
  CHECK(count(P.err, "\n") == 3 && count(P.err, "nnlua: warning: ") == 3);
  CHECK(check_has(P.err, "require \"plot\" loads nnlua's own plot ("));
  CHECK(check_has(P.err, "/stdlib/plot/init.lua), not proj/plot.lua; rename proj/plot.lua (to my_plot.lua, say)"));
  CHECK(check_has(P.err, "/stdlib/nn/init.lua), not proj/nn/init.lua; rename the folder proj/nn (to my_nn, say)"));
  CHECK(check_has(P.err, "nnlua's own tensor (built in), not tensor.lua; rename tensor.lua"));
  /* no word of the data folder (the checkout's own path may hold "data": look for the names) */
  CHECK(strstr(P.err, "proj/data") == NULL && strstr(P.err, "\"data\"") == NULL &&
        strstr(P.err, "my_plot.lua (") == NULL);
  /* the same file seen as the script's folder and as . is named once */
  char proj[PATH_MAX];
  snprintf(proj, sizeof proj, "%s/proj", dir);
  CHECK(nnlua(proj, "main.lua", NULL, NULL) == 0);
  CHECK(count(P.err, "nnlua: warning: ") == 2 && count(P.err, "not plot.lua") == 1);
  /* -e looks in the current directory */
  CHECK(nnlua(NULL, "-e", "print(1)", NULL) == 0);
  CHECK(count(P.err, "nnlua: warning: ") == 1 && check_has(P.err, "not tensor.lua"));
  /* nothing to say about a clean folder */
  CHECK(nnlua("/", "-e", "print(1)", NULL) == 0 && P.nerr == 0);
  check_rmtree(dir);
}

/* ---- the progress bar and print in a real terminal ---------------------- */

/* The script: a loader of 40 batches that prints every few batches (also a
 * line written in two parts), stops at batch 20 until the file "go" exists
 * (after making "paused"), and prints a line after the loop. */
static const char *BAR_SCRIPT =
  "local ds = data.TensorDataset(tensor.randn(40, 3), tensor.randn(40, 1))\n"
  "local i = 0\n"
  "for x, y in data.DataLoader(ds, {batch_size = 1}):iter() do\n"
  "  i = i + 1\n"
  "  if i % 5 == 0 then print(string.format('batch %d loss: %.4f', i, 1 / i)) end\n"
  "  if i % 8 == 0 then io.write('io.write at ', i, '\\n') end\n"
  "  if i == 12 then io.stdout:write('partial ') io.write('line ', i, '\\n') end\n"
  "  if i == 14 then io.stderr:write('to stderr\\n') end\n"
  "  if i == 20 then\n"
  "    io.open('paused', 'w'):close()\n"
  "    while not os.rename('go', 'went') do os.execute('sleep 0.05') end\n"
  "  end\n"
  "end\n"
  "print('after the loop')\n";

static const char *const MID[] = {
  "batch 5 loss: 0.2000", "io.write at 8", "batch 10 loss: 0.1000", "partial line 12",
  "to stderr", "batch 15 loss: 0.0667", "io.write at 16", "batch 20 loss: 0.0500", NULL
};
static const char *const END[] = {
  "io.write at 24", "batch 25 loss: 0.0400", "batch 30 loss: 0.0333", "io.write at 32",
  "batch 35 loss: 0.0286", "batch 40 loss: 0.0250", "io.write at 40", NULL
};

static char sock[PATH_MAX];

static int tmux(const char *a1, const char *a2, const char *a3) {
  return run(ARGS("tmux", "-S", sock, "-f", "/dev/null", a1, a2, a3), NULL, NULL);
}

/* Captures the pane into P.out; splits it into its non-empty lines (right
 * spaces dropped), at most max; returns how many. */
static int pane(char **lines, int max) {
  if (run(ARGS("tmux", "-S", sock, "capture-pane", "-p", "-J"), NULL, NULL) != 0) return 0;
  int n = 0;
  for (char *s = strtok(P.out, "\n"); s != NULL && n < max; s = strtok(NULL, "\n")) {
    size_t k = strlen(s);
    while (k > 0 && s[k - 1] == ' ') s[--k] = '\0';
    if (k > 0) lines[n++] = s;
  }
  return n;
}

static int exists(const char *name) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

/* Whether line is the bar: "20/40 [=====>....]  50%  ... samples/s  ETA 0:00",
 * or with final set the finished one ("40/40 [===...===] 100% ... 0:00"). */
static int isbar(const char *line, int final) {
  int done = 0, total = 0, pct = 0, used = 0;
  if (sscanf(line, "%d/%d [%*[=>.]] %d%%%n", &done, &total, &pct, &used) != 3 || total != 40)
    return 0;
  int eta = strstr(line + used, "samples/s  ETA ") != NULL;
  return final ? done == 40 && pct == 100 && !eta && strstr(line + used, "samples/s  0:") != NULL
               : done < 40 && eta;
}

/* Checks lines[0..] against want, then a bar line (final or not) last or
 * just before the tail tail[0..]. Prints the pane when it does not match. */
static int screen_is(char **lines, int n, const char *const *want, int final, const char *const *tail) {
  int i = 0, ok = 1;
  for (; want[i] != NULL; i++) ok = ok && i < n && strcmp(lines[i], want[i]) == 0;
  ok = ok && i < n && isbar(lines[i], final);
  i++;
  for (int k = 0; tail != NULL && tail[k] != NULL; k++, i++) ok = ok && i < n && strcmp(lines[i], tail[k]) == 0;
  ok = ok && i == n;
  if (!ok) {
    fprintf(stderr, "  pane (%d lines):\n", n);
    for (int k = 0; k < n; k++) fprintf(stderr, "  |%s|\n", lines[k]);
  }
  return ok;
}

TEST(host_progress_bar_and_print_in_a_terminal) {
  if (run(ARGS("tmux", "-V"), NULL, "/") != 0) {
    fprintf(stderr, "  tmux not found: it runs the terminal test of the progress bar; "
                    "`make deps` installs it (apt-get install tmux)\n");
    CHECK(!"tmux is installed");
    return;
  }
  if (!newdir()) { CHECK(!"mkdtemp"); return; }
  snprintf(sock, sizeof sock, "%s/tmux.sock", dir);
  put("bar.lua", BAR_SCRIPT);
  char cmd[PATH_MAX + 256];
  snprintf(cmd, sizeof cmd, "NNLUA_PROGRESS=1 '%s' bar.lua; echo \"EXIT=$?\"; exec sleep 300",
           check_nnlua());
  CHECK(run(ARGS("tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30",
                 "-c", dir, "sh", "-c", cmd), NULL, NULL) == 0);
  char *lines[64];
  int n = 0, ok = 0;
  /* halfway: the printed lines alone, the live bar last */
  long long end = check_now_ms() + DEADLINE_MS;
  while (!exists("paused") && check_now_ms() < end) usleep(20000);
  CHECK(exists("paused"));
  for (end = check_now_ms() + 5000; !ok && check_now_ms() < end; usleep(50000)) {
    n = pane(lines, 64);
    ok = n == 9 && isbar(lines[8], 0);
  }
  CHECK(screen_is(lines, n, MID, 0, NULL));
  /* at the end: every line alone, the finished bar, then what came after */
  put("go", "");
  static const char *const after[] = { "after the loop", "EXIT=0", NULL };
  ok = 0;
  for (end = check_now_ms() + DEADLINE_MS; !ok && check_now_ms() < end; usleep(50000)) {
    n = pane(lines, 64);
    ok = n > 0 && strncmp(lines[n - 1], "EXIT=", 5) == 0;
  }
  CHECK(ok);
  static const char *want[32];
  int w = 0;
  for (int k = 0; MID[k] != NULL; k++) want[w++] = MID[k];
  for (int k = 0; END[k] != NULL; k++) want[w++] = END[k];
  want[w] = NULL;
  CHECK(screen_is(lines, n, want, 1, after));
  tmux("kill-server", NULL, NULL);
  check_rmtree(dir);
}
