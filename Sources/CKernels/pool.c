#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define relax() _mm_pause()
#else
#define relax() ((void)0)
#endif

enum { max_workers = 63 };
static const long long spin_ns = 5000000;   // how long an idle worker stays awake

typedef struct {
    _Atomic unsigned go;     // bumped by the caller: a new task
    _Atomic unsigned done;   // the worker's copy of go once its part is done
    _Atomic int sleeping;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int part;
} worker;

static worker workers[max_workers];
static int started;
static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;   // one task at a time
static void (*task)(void *, int);
static void *task_ctx;
static _Thread_local int inside;   // on a worker, or a caller running its part

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *run_worker(void *arg) {
    worker *w = arg;
    inside = 1;
    unsigned seen = 0;
    for (;;) {
        long long since = now_ns();
        for (int spins = 1; atomic_load(&w->go) == seen; spins++) {
            relax();
            if (spins % 256 == 0 && now_ns() - since > spin_ns) {
                // Asleep until the next task; the caller signals when it sees the flag.
                pthread_mutex_lock(&w->lock);
                atomic_store(&w->sleeping, 1);
                while (atomic_load(&w->go) == seen) pthread_cond_wait(&w->wake, &w->lock);
                atomic_store(&w->sleeping, 0);
                pthread_mutex_unlock(&w->lock);
            }
        }
        seen = atomic_load(&w->go);
        task(task_ctx, w->part);
        atomic_store(&w->done, seen);
    }
    return NULL;
}

int ck_parallel(int n, void (*fn)(void *ctx, int i), void *ctx) {
    // More threads than cores: spinning workers would take turns on a core, so Dispatch runs it.
    static long cores;
    if (!cores) cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 2 || n - 1 > max_workers || n > cores || inside) return 0;
    if (pthread_mutex_trylock(&callers) != 0) return 0;
    for (; started < n - 1; started++) {
        worker *w = &workers[started];
        w->part = started + 1;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, run_worker, w);
        pthread_attr_destroy(&attributes);
        if (failed) { pthread_mutex_unlock(&callers); return 0; }
    }
    task = fn;
    task_ctx = ctx;
    for (int k = 0; k < n - 1; k++) {
        worker *w = &workers[k];
        atomic_fetch_add(&w->go, 1);
        if (atomic_load(&w->sleeping)) {
            pthread_mutex_lock(&w->lock);
            pthread_cond_signal(&w->wake);
            pthread_mutex_unlock(&w->lock);
        }
    }
    inside = 1;
    fn(ctx, 0);
    inside = 0;
    for (int k = 0; k < n - 1; k++)
        while (atomic_load(&workers[k].done) != atomic_load(&workers[k].go)) relax();
    pthread_mutex_unlock(&callers);
    return 1;
}
