/* bench_memcpy.c -- memcpy speed, the memory-bandwidth yardstick of
 * make bench-data (see bench/README.md).
 *
 *   bench_memcpy [MB]   prints "memcpy <GB/s at 1 thread> <GB/s at 2 threads>"
 *
 * GB/s are bytes copied per second (each byte is read once and written once),
 * the median of 7 copies of MB megabytes (default 188: the floats one epoch of
 * FashionMNIST batches writes) between two buffers touched beforehand. With 2
 * threads each copies one half. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double rate(char *dst, const char *src, size_t n, int threads) {
  double t[RUNS];
  for (int r = 0; r < RUNS; r++) {
    double t0 = now();
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (int k = 0; k < threads; k++) {
      size_t lo = n / (size_t)threads * (size_t)k, hi = k == threads - 1 ? n : lo + n / (size_t)threads;
      memcpy(dst + lo, src + lo, hi - lo);
    }
    t[r] = now() - t0;
  }
  qsort(t, RUNS, sizeof *t, cmp);
  return (double)n / t[RUNS / 2] / 1e9;
}

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 188;
  size_t n = mb << 20;
  char *a = malloc(n), *b = malloc(n);
  if (!a || !b || n == 0) { fprintf(stderr, "bench_memcpy: cannot allocate %zu MB\n", mb); return 1; }
  memset(a, 1, n);
  memset(b, 2, n);
  double one = rate(b, a, n, 1), two = rate(b, a, n, 2);
  printf("memcpy %.3f %.3f\n", one, two);
  free(a);
  free(b);
  return 0;
}
