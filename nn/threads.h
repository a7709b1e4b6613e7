/* threads.h -- how many threads the one OpenMP pool runs.
 *
 * Two modes. Fixed: nn_set_num_threads(n), or OMP_NUM_THREADS in the
 * environment at start-up, and the count never changes by itself. Automatic
 * (the default otherwise): up to as many threads as OpenMP would start (the
 * CPUs this process may run on), fewer while other programs keep those CPUs
 * busy.
 *
 * Why. Every parallel region ends at a barrier where the threads that finish
 * first spin until the last one arrives. When another program holds one of
 * the CPUs, the thread that waits for it spins away its time slice, region
 * after region: measured here with a compiler running beside a training
 * epoch of the course MLP, 2 threads took 4-14 s where 1 thread took 0.7 s
 * (and 0.45 s on 2 threads with the machine to itself). PyTorch's OpenMP pool
 * does the same. So the pool counts how busy the machine is without us and
 * gives up the threads it cannot have.
 *
 * How. nn_threads_poll is called before parallel work (each GEMM, each
 * optimizer update, each batch assembled). It reads the monotonic clock and
 * returns unless NN_THREADS_WINDOW_MS have passed since the last sample; then
 * it samples the busy time of our CPUs from /proc/stat (user, nice, system,
 * irq, softirq, and steal: time a hypervisor gave to another machine) and
 * this process's CPU time, and takes the difference over the window as what
 * the others used: `others`, in CPUs. nn_threads_decide turns that into a
 * count (with hysteresis, so that it does not flip on noise). The count
 * changes only between parallel regions, on the calling thread, and results
 * are the same bits at any count (DESIGN.md, "Threads"), so adapting never
 * changes a number. Without /proc/stat the count stays at the maximum. */
#ifndef NN_THREADS_H
#define NN_THREADS_H

#define NN_THREADS_WINDOW_MS 200
#define NN_THREADS_STALE_MS 2000   /* an automatic decision older than this is dropped */

void nn_set_num_threads(int n);    /* fixed mode, n threads (n < 1 counts as 1) */
int nn_get_num_threads(void);      /* the count parallel regions use now */
/* Back to the automatic mode: at the count it last decided if its last
 * sample is under NN_THREADS_STALE_MS old, else at the maximum. */
void nn_threads_auto(void);
int nn_threads_is_auto(void);
void nn_threads_poll(void);        /* cheap unless a window has passed; main thread only */

/* The count for the next window, from the current count cur (at most max)
 * on ncpu CPUs of which other programs used `others` (in CPUs) over the last
 * window. With free = ncpu - others: fewer, round(free), when free < cur - 0.5
 * (on 2 CPUs at 2 threads: others above 0.5); more, floor(free + 0.25), when
 * that is above cur (on 2 CPUs at 1 thread: others at most 0.25); else cur.
 * Always 1..max. */
int nn_threads_decide(int cur, int max, int ncpu, double others);

#endif
