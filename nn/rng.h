/* rng.h -- seeded random numbers: xoshiro256** (Blackman & Vigna, 2018),
 * seeded through splitmix64. Same seed -> same numbers on every machine.
 * Uniform floats take the top 24 bits; normals use Box-Muller in double. */
#ifndef NN_RNG_H
#define NN_RNG_H

#include "ctx.h"

void nn_rng_seed(nn_rng *r, uint64_t seed);          /* resets the stream */
/* The 32-byte state, little-endian words. set_state refuses (returns -1,
 * r unchanged) the all-zero state, which xoshiro256** never leaves. */
int nn_rng_set_state(nn_rng *r, const unsigned char *b);
void nn_rng_get_state(const nn_rng *r, unsigned char *b);
uint64_t nn_rng_next(nn_rng *r);                     /* 64 random bits */
double nn_rng_uniform(nn_rng *r);                    /* [0, 1), 53 bits */
float nn_rng_uniformf(nn_rng *r);                    /* [0, 1), 24 bits */
uint64_t nn_rng_below(nn_rng *r, uint64_t n);        /* uniform in [0, n), unbiased; n >= 1 */
void nn_rng_fill_uniform(nn_rng *r, float *x, size_t n, float lo, float hi);  /* x[i] in [lo, hi) */
void nn_rng_fill_normal(nn_rng *r, float *x, size_t n, float mean, float std); /* Box-Muller pairs */
void nn_rng_randperm(nn_rng *r, float *x, size_t n);  /* 1..n shuffled (Fisher-Yates) */

#endif
