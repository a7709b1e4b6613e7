/* dispatch.h -- NN_DISPATCH: a hot loop compiled once per x86-64 level, the copy
 * for the CPU picked when the program is loaded.
 *
 * What is installed (Makefile, DIST_OPT) is built for x86-64-v2: SSE4.2, no
 * AVX, no FMA. There each fmaf is a call into libm's exact software version,
 * loops run four floats at a time, and a select such as y > 0 ? g : g * 0 is
 * not vectorised at all (the multiply may trap, and SSE has no masked one). A
 * function marked NN_DISPATCH is compiled three times, for x86-64-v2, v3
 * (AVX2 + FMA) and v4 (AVX-512), and the dynamic loader picks one copy for
 * the CPU (GCC's target_clones: an ifunc, resolved once per program).
 *
 * Every copy computes the same bits. The copies differ only in how they are
 * vectorised, and vectorising an elementwise loop changes no result; the
 * build contracts no a * b + c into an FMA by itself (-std=c11 implies
 * -ffp-contract=off), so an FMA is there only where the source calls fmaf,
 * which rounds once on every copy; and nothing here is built with
 * -ffast-math, so no sum is reordered for wider vectors. The tests compare
 * the installed build with the native one bit for bit (test_install.lua).
 *
 * Where to put it: on a function whose own loop is the hot part, a loop over
 * a slice of contiguous floats (restrict pointers passed in); never on tiny or
 * cold functions (each call goes through the ifunc, and each copy is code).
 * GCC outlines an OpenMP region into its own function before it clones, so
 * the region would run the x86-64-v2 code: keep the parallel loop outside and
 * call the dispatched function from inside it, one slice or one row a call.
 *
 * A build whose target already has AVX2 and FMA (make's -march=native on any
 * recent CPU, the ASan build, clang for the fuzzers) gets one plain copy:
 * NN_DISPATCH is then empty. */
#ifndef NN_DISPATCH_H
#define NN_DISPATCH_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !(defined(__AVX2__) && defined(__FMA__))
#define NN_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_DISPATCH
#endif

#endif
