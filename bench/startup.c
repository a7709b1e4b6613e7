/* startup.c -- start-up time of commands, for make bench (see bench/README.md).
 *
 *   startup <runs> -- cmd1 args... -- cmd2 args... [-- ...]
 *
 * Runs each command once untimed (to warm the page cache), then <runs> times,
 * the commands taking turns, so that drift in the machine's speed hits all
 * alike. Each run is fork + execvp + wait4 timed on the monotonic clock, with
 * no shell in between; the command's standard output and error go to
 * /dev/null. A command that cannot start or exits non-zero is reported and
 * the program exits 1. Prints, for each command in order:
 *   startup <median ms> <min ms> <max ms> <peak RSS kB of the child>
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "timing.h"

#define MAXCMD 8


/* one run of argv: seconds, and the child's peak RSS in kB; exits on failure */
static double run(char **argv, long *rss_kb) {
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) { perror("startup: fork"); exit(1); }
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) { dup2(null, 1); dup2(null, 2); }
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) { perror("startup: wait4"); exit(1); }
  double t = now() - t0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "startup: %s failed (status %d)\n", argv[0], status);
    exit(1);
  }
  *rss_kb = ru.ru_maxrss;
  return t;
}

int main(int argc, char **argv) {
  int runs = argc > 2 ? atoi(argv[1]) : 0;
  char **cmd[MAXCMD];
  int ncmd = 0;
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--") == 0) {
      argv[i] = NULL;                        /* ends the previous command's argv */
      if (i + 1 < argc && ncmd < MAXCMD) cmd[ncmd++] = &argv[i + 1];
    }
  if (runs < 1 || ncmd == 0) {
    fprintf(stderr, "usage: startup <runs> -- cmd args... [-- cmd args...]\n");
    return 2;
  }
  double *t = malloc(sizeof(double) * (size_t)(runs * ncmd));
  long rss[MAXCMD] = {0}, kb;
  if (!t) return 1;
  for (int c = 0; c < ncmd; c++) run(cmd[c], &kb);
  for (int r = 0; r < runs; r++)
    for (int c = 0; c < ncmd; c++) {
      t[c * runs + r] = run(cmd[c], &kb);
      if (kb > rss[c]) rss[c] = kb;
    }
  for (int c = 0; c < ncmd; c++) {
    double *s = t + c * runs;
    qsort(s, (size_t)runs, sizeof *s, cmp_double);
    double med = (s[(runs - 1) / 2] + s[runs / 2]) / 2;
    printf("startup %.2f %.2f %.2f %ld\n", med * 1e3, s[0] * 1e3, s[runs - 1] * 1e3, rss[c]);
  }
  free(t);
  return 0;
}
