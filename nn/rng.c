/* rng.c -- xoshiro256** seeded with splitmix64; Box-Muller normals.
 * Reference: D. Blackman, S. Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021. Integer arithmetic only up to the final
 * conversion, so streams are identical on every machine. */
#include <math.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* splitmix64 is a bijection of its counter, so at most one of the four
 * words can be 0: no seed gives the all-zero state. */
void nn_rng_seed(nn_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  r->seed = seed;
}

int nn_rng_set_state(nn_rng *r, const unsigned char *b) {
  uint64_t s[4];
  for (int i = 0; i < 4; i++) {
    s[i] = 0;
    for (int k = 7; k >= 0; k--) s[i] = (s[i] << 8) | b[i * 8 + k];
  }
  if ((s[0] | s[1] | s[2] | s[3]) == 0) return -1;   /* xoshiro's one fixed point */
  for (int i = 0; i < 4; i++) r->s[i] = s[i];
  return 0;
}

void nn_rng_get_state(const nn_rng *r, unsigned char *b) {
  for (int i = 0; i < 32; i++) b[i] = (unsigned char)(r->s[i / 8] >> (8 * (i % 8)));
}

uint64_t nn_rng_next(nn_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double nn_rng_uniform(nn_rng *r) { return (double)(nn_rng_next(r) >> 11) * 0x1.0p-53; }
float nn_rng_uniformf(nn_rng *r) { return (float)(nn_rng_next(r) >> 40) * 0x1.0p-24f; }

/* Lemire's multiply-and-reject method: unbiased, usually one draw. */
uint64_t nn_rng_below(nn_rng *r, uint64_t n) {
  unsigned __int128 m = (unsigned __int128)nn_rng_next(r) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t thresh = -n % n;
    while (lo < thresh) {
      m = (unsigned __int128)nn_rng_next(r) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

void nn_rng_fill_uniform(nn_rng *r, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) {
    float v = lo + (hi - lo) * nn_rng_uniformf(r);
    x[i] = v < hi ? v : lo;   /* rounding may reach hi when hi - lo is large */
  }
}

/* Box-Muller on (0, 1] x [0, 1): both outputs of each pair are used. */
void nn_rng_fill_normal(nn_rng *r, float *x, size_t n, float mean, float std) {
  for (size_t i = 0; i < n; i += 2) {
    double u1 = 1.0 - nn_rng_uniform(r), u2 = nn_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
    x[i] = (float)(mean + std * rad * cos(th));
    if (i + 1 < n) x[i + 1] = (float)(mean + std * rad * sin(th));
  }
}

void nn_rng_randperm(nn_rng *r, float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = (float)(i + 1);
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)nn_rng_below(r, i);
    float t = x[i - 1]; x[i - 1] = x[j]; x[j] = t;
  }
}
