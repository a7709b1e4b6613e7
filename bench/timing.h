/* timing.h -- the timing helpers of the C benches (bench_tensor.c, optim_bw.c):
 * a monotonic clock, and medians of interleaved samples.
 *
 * time_calls(n, f, arg, sec) gives, for each of n functions, the median
 * seconds per call of f[i](arg[i]) over NSAMPLES samples of about SAMPLE_S
 * seconds each, after a warm-up of WARMUP_S. The samples of the n functions
 * are interleaved (f0, f1, ..., f0, f1, ...), so that drift in the machine's
 * speed (other jobs, frequency) hits all alike. Define NSAMPLES, SAMPLE_S and
 * WARMUP_S before including this file to change them. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

#ifndef NSAMPLES
#define NSAMPLES 5
#endif
#ifndef SAMPLE_S
#define SAMPLE_S 0.2
#endif
#ifndef WARMUP_S
#define WARMUP_S 0.05
#endif
#define MAX_TIMED 4                      /* functions timed together */

typedef void (*call_fn)(void *arg);

static inline double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* calls of f(arg) that take about SAMPLE_S seconds, after WARMUP_S of warm-up */
static inline long calibrate(call_fn f, void *arg) {
  int calls = 0;
  double t0 = now(), t;
  do { f(arg); calls++; } while ((t = now() - t0) < WARMUP_S || calls < 3);
  return (long)(SAMPLE_S / (t / calls)) + 1;
}

/* median seconds per call of each f[i](arg[i]), i < n <= MAX_TIMED; samples interleaved */
static inline void time_calls(int n, const call_fn *f, void *const *arg, double *sec) {
  long reps[MAX_TIMED];
  double s[MAX_TIMED][NSAMPLES];
  for (int i = 0; i < n; i++) reps[i] = calibrate(f[i], arg[i]);
  for (int k = 0; k < NSAMPLES; k++)
    for (int i = 0; i < n; i++) {
      double t0 = now();
      for (long j = 0; j < reps[i]; j++) f[i](arg[i]);
      s[i][k] = (now() - t0) / (double)reps[i];
    }
  for (int i = 0; i < n; i++) {
    qsort(s[i], NSAMPLES, sizeof s[i][0], cmp_double);
    sec[i] = s[i][NSAMPLES / 2];
  }
}

#endif
