/* test_threads.c -- nn/threads.c: the automatic thread count's decision rule,
 * and the real thing: busy programs beside us take the pool down to one
 * thread, and a fixed count never moves. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "nn/threads.h"

TEST(threads_decide) {
  static const struct { int cur, max, ncpu; double others; int want; } rows[] = {
    {2, 2, 2, 0.0, 2},   {2, 2, 2, 0.5, 2},   {2, 2, 2, 0.51, 1},  {2, 2, 2, 1.0, 1},
    {2, 2, 2, 2.0, 1},   {2, 2, 2, 7.0, 1},   /* never below 1 */
    {1, 2, 2, 0.25, 2},  {1, 2, 2, 0.3, 1},   {1, 2, 2, 0.0, 2},   {1, 2, 2, -0.1, 2},
    {1, 1, 2, 0.0, 1},   /* never above max */
    {8, 8, 8, 0.2, 8},   {8, 8, 8, 2.6, 5},   {5, 8, 8, 2.6, 5},   {5, 8, 8, 1.0, 7},
    {5, 8, 8, 1.8, 6},   {4, 4, 8, 0.0, 4},   {4, 4, 8, 4.2, 4},   {4, 4, 8, 4.6, 3},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int got = nn_threads_decide(rows[i].cur, rows[i].max, rows[i].ncpu, rows[i].others);
    if (got != rows[i].want)
      fprintf(stderr, "  decide(cur %d, max %d, ncpu %d, others %.2f) = %d, want %d\n", rows[i].cur,
              rows[i].max, rows[i].ncpu, rows[i].others, got, rows[i].want);
    CHECK(got == rows[i].want);
  }
}

static void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* polls every 20 ms for up to ms; returns the thread count at the end */
static int poll_for(int ms, int stop_at) {
  long long end = check_now_ms() + ms;
  while (check_now_ms() < end && nn_get_num_threads() != stop_at) { nn_threads_poll(); nap_ms(20); }
  return nn_get_num_threads();
}

TEST(threads_auto_gives_way_to_busy_programs) {
  int saved = nn_get_num_threads();
  nn_threads_auto();
  CHECK(nn_threads_is_auto());
  int max = nn_get_num_threads();
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (max >= 2 && ncpu >= 2 && ncpu <= 16) {
    /* one spinning child per CPU: the others use about all of them */
    pid_t kids[16];
    int n = 0;
    for (long i = 0; i < ncpu; i++) {
      pid_t k = fork();
      if (k == 0) { for (volatile unsigned long x = 0;; x++) {} }
      if (k > 0) kids[n++] = k;
    }
    CHECK(n == ncpu);
    CHECK(poll_for(3000, 1) == 1);
    /* a fixed count stays whatever the machine does */
    nn_set_num_threads(2);
    CHECK(!nn_threads_is_auto());
    poll_for(3 * NN_THREADS_WINDOW_MS, -1);
    CHECK(nn_get_num_threads() == 2);
    /* back to automatic at once: the last decision still holds */
    nn_threads_auto();
    CHECK(nn_threads_is_auto());
    CHECK(nn_get_num_threads() == 1);
    for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
    /* after NN_THREADS_STALE_MS at a fixed count, it starts at the maximum again */
    nn_set_num_threads(1);
    nap_ms(NN_THREADS_STALE_MS + 100);
    nn_threads_auto();
    CHECK(nn_get_num_threads() == max);
  } else {
    fprintf(stderr, "  threads_auto: %d threads on %ld CPUs, the busy case is not run\n", max, ncpu);
  }
  nn_set_num_threads(saved);
}
