/* pool.c: persistent pthreads woken per parallel loop by a generation counter. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    rl_pool *pool;
    int index;
} worker_arg;

struct rl_pool {
    int n_threads;
    pthread_t *threads;
    worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    /* the current loop, published under mu */
    uint64_t generation;
    int shutdown;
    int active;  /* ranges in this loop */
    int pending; /* workers still running */
    int64_t n, chunk;
    rl_pool_fn fn;
    void *ctx;
};

static void run_range(rl_pool *p, int index)
{
    int64_t begin = (int64_t)index * p->chunk, end = begin + p->chunk;
    if (end > p->n) end = p->n;
    if (begin < end) p->fn(p->ctx, begin, end, index);
}

static void *worker_main(void *v)
{
    worker_arg *a = v;
    rl_pool *p = a->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->shutdown) break;
        seen = p->generation;
        if (a->index >= p->active) continue; /* not needed for this loop */
        pthread_mutex_unlock(&p->mu);
        run_range(p, a->index);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int rl_pool_create(int threads, rl_pool **out, rl_err *err)
{
    *out = NULL;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > 256) threads = 256;
    rl_pool *p = calloc(1, sizeof *p);
    if (!p) return rl_fail(err, "cpu engine: out of host memory for the thread pool");
    p->n_threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    p->args = calloc((size_t)threads, sizeof *p->args);
    if (!p->threads || !p->args) {
        rl_pool_destroy(p);
        return rl_fail(err, "cpu engine: out of host memory for the thread pool");
    }
    /* Thread 0 is the caller; workers are 1..threads-1. */
    for (int i = 1; i < threads; i++) {
        p->args[i] = (worker_arg){p, i};
        int rc = pthread_create(&p->threads[i], NULL, worker_main, &p->args[i]);
        if (rc) {
            p->n_threads = i; /* join only the ones that started */
            rl_pool_destroy(p);
            return rl_fail(err, "cpu engine: pthread_create failed (%s); try --threads 1", strerror(rc));
        }
    }
    *out = p;
    return 0;
}

void rl_pool_destroy(rl_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++)
        if (p->threads) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->args);
    free(p);
}

int rl_pool_threads(const rl_pool *p) { return p->n_threads; }

void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_pool_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t units = (n + grain - 1) / grain;
    int active = units < p->n_threads ? (int)units : p->n_threads;
    int64_t units_per = (units + active - 1) / active;
    if (active <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->chunk = units_per * grain;
    p->fn = fn;
    p->ctx = ctx;
    p->active = active;
    p->pending = active - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_range(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
