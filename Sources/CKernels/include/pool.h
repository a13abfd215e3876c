// A small pool of worker threads for parallelChunks. Dispatch's
// concurrentPerform hands its second iteration to a parked worker, which here
// starts about 50 µs late: on a kernel call of 0.2 ms that is most of the gain
// of a second thread. These workers spin for a few milliseconds after a task
// before sleeping, as OpenMP runtimes do, so back-to-back products (layer
// after layer) find them awake.
#ifndef POOL_H
#define POOL_H

// Runs fn(ctx, i) for every i in [0, n): the caller runs i = 0, worker k runs
// i = k + 1, and it returns when all are done. Returns 0, having run nothing,
// when the pool cannot take the task (n < 2, n above the cores or 64, a call
// from inside a task, another caller busy, or no thread could be started):
// the caller then runs the task its own way.
int ck_parallel(int n, void (*fn)(void *ctx, int i), void *ctx);

#endif
