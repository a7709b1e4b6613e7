/* threads.c -- the one OpenMP pool's thread count, fixed or following how
 * busy the machine is (see threads.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <omp.h>
#include "threads.h"

enum { UNSET, FIXED, AUTO };

/* One pool per process, so one state; only the thread that starts parallel
 * regions (the Lua thread) polls, and never from inside one. */
static struct {
  int mode, max, cur;
  int auto_cur;              /* the automatic mode's last decision */
  int64_t next_ns;           /* monotonic time of the next sample */
  int have;                  /* a previous sample is in prev_* */
  int64_t prev_ns, prev_self_ns, prev_busy_ticks;
} pool;

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void init(void) {
  if (pool.mode != UNSET) return;
  pool.max = omp_get_max_threads();
  pool.cur = pool.auto_cur = pool.max;
  pool.mode = getenv("OMP_NUM_THREADS") ? FIXED : AUTO;
}

void nn_set_num_threads(int n) {
  init();
  pool.mode = FIXED;
  pool.cur = n < 1 ? 1 : n;
  omp_set_num_threads(pool.cur);
}

int nn_get_num_threads(void) {
  init();
  return omp_get_max_threads();
}

void nn_threads_auto(void) {
  init();
  if (pool.mode != AUTO) {
    /* the last decision holds while its sample is recent (a script that
     * fixes the count for a moment and goes back should not start over at
     * the maximum); what others use does not depend on our mode */
    if (!pool.have || clock_ns(CLOCK_MONOTONIC) - pool.prev_ns > (int64_t)NN_THREADS_STALE_MS * 1000000) {
      pool.auto_cur = pool.max;
      pool.have = 0;
      pool.next_ns = 0;
    }
    pool.mode = AUTO;
  }
  pool.cur = pool.auto_cur;
  omp_set_num_threads(pool.cur);
}

int nn_threads_is_auto(void) {
  init();
  return pool.mode == AUTO;
}

int nn_threads_decide(int cur, int max, int ncpu, double others) {
  double free = ncpu - (others > 0 ? others : 0);
  int n = cur;
  if (free < cur - 0.5) n = (int)floor(free + 0.5);
  else if (floor(free + 0.25) > cur) n = (int)floor(free + 0.25);
  if (n > max) n = max;
  return n < 1 ? 1 : n;
}

/* Busy ticks (USER_HZ) summed over the "cpuN" lines of /proc/stat for the
 * CPUs this process may run on, and how many such lines; -1 if unreadable. */
static int64_t busy_ticks(int *ncpu) {
  static char buf[1 << 16];   /* the cpu lines come first; the rest is not needed */
  cpu_set_t mask;
  int have_mask = sched_getaffinity(0, sizeof mask, &mask) == 0;
  int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
  close(fd);
  buf[len] = '\0';
  int64_t total = 0;
  *ncpu = 0;
  char *line = strchr(buf, '\n');               /* skip the "cpu " sum of all CPUs */
  while (line && strncmp(line + 1, "cpu", 3) == 0) {
    char *p = line + 4, *end;
    long id = strtol(p, &end, 10);
    line = strchr(end, '\n');
    if (end == p || id < 0 || (have_mask && (id >= CPU_SETSIZE || !CPU_ISSET((int)id, &mask)))) continue;
    long long v[8] = {0};                         /* user nice system idle iowait irq softirq steal */
    p = end;
    for (int i = 0; i < 8; i++) { v[i] = strtoll(p, &end, 10); p = end; }
    total += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    (*ncpu)++;
  }
  return *ncpu > 0 ? total : -1;
}

void nn_threads_poll(void) {
  if (pool.mode != AUTO) { if (pool.mode == UNSET) init(); if (pool.mode != AUTO) return; }
  if (pool.max <= 1 || omp_in_parallel()) return;
  int64_t now = clock_ns(CLOCK_MONOTONIC);
  if (now < pool.next_ns) return;
  pool.next_ns = now + (int64_t)NN_THREADS_WINDOW_MS * 1000000;
  int ncpu = 0;
  int64_t busy = busy_ticks(&ncpu), self = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  if (busy < 0) { pool.have = 0; return; }
  if (pool.have && now > pool.prev_ns) {
    static long hz;
    if (hz == 0) hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    double busy_ns = (double)(busy - pool.prev_busy_ticks) * 1e9 / (double)hz;
    double others = (busy_ns - (double)(self - pool.prev_self_ns)) / (double)(now - pool.prev_ns);
    int n = nn_threads_decide(pool.cur, pool.max, ncpu, others);
    if (n != pool.cur) { pool.cur = pool.auto_cur = n; omp_set_num_threads(n); }
  }
  pool.have = 1;
  pool.prev_ns = now;
  pool.prev_self_ns = self;
  pool.prev_busy_ticks = busy;
}
