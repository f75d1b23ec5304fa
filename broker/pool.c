/* pool.c - see pool.h.
 *
 * One job at a time. The caller publishes it under the mutex with a new
 * generation number and wakes the workers; everyone (the caller included)
 * claims indexes from `next`, which holds the generation in its high 32 bits
 * and the next index in its low 32 bits, so a worker that wakes late, after
 * its job is finished and another has started, claims nothing of the new
 * job with the old job's function. The caller returns as soon as every
 * index is done (`done` == n): it never waits for a worker that has not
 * been scheduled yet, which matters when the cores are busy. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "liandong/error.h"

struct ldb_pool {
    pthread_mutex_t mu;
    pthread_cond_t start; /* a new job, or stop */
    pthread_cond_t done;  /* the job's last index is done */
    pthread_t *workers;
    unsigned n_workers;
    int stop;
    uint32_t gen; /* job number (wraps) */
    /* The current job, written under mu before gen changes. */
    void (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t n;
    atomic_uint_fast64_t next; /* gen << 32 | next index */
    atomic_size_t n_done;      /* indexes of the current job done */
    /* The caller's view of the job it started (caller's thread only). */
    void (*cur_fn)(void *ctx, size_t i);
    void *cur_ctx;
    size_t cur_n;
    uint32_t cur_gen; /* 0: the workers were not asked */
};

/* Claim and run indexes of job gen until none are left. */
static void work(ldb_pool *p, uint32_t gen, void (*fn)(void *, size_t), void *ctx, size_t n)
{
    for (;;) {
        uint_fast64_t v = atomic_load(&p->next);
        do {
            if ((uint32_t)(v >> 32) != gen || (v & 0xffffffffu) >= n)
                return;
        } while (!atomic_compare_exchange_weak(&p->next, &v, v + 1));
        fn(ctx, (size_t)(v & 0xffffffffu));
        if (atomic_fetch_add(&p->n_done, 1) + 1 == n) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *arg)
{
    ldb_pool *p = arg;
    uint32_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        void (*fn)(void *, size_t) = p->fn;
        void *ctx = p->ctx;
        size_t n = p->n;
        pthread_mutex_unlock(&p->mu);
        work(p, seen, fn, ctx, n);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int ldb_pool_new(unsigned threads, ldb_pool **out)
{
    *out = NULL;
    ldb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return LD_ERR_NOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->n_done, 0);
    unsigned want = threads > 1 ? threads - 1 : 0;
    if (want) {
        p->workers = calloc(want, sizeof *p->workers);
        if (!p->workers) {
            ldb_pool_destroy(&p);
            return LD_ERR_NOMEM;
        }
    }
    for (unsigned i = 0; i < want; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
            ldb_pool_destroy(&p);
            return LD_ERR_NOMEM;
        }
        p->n_workers++;
    }
    *out = p;
    return LD_OK;
}

void ldb_pool_destroy(ldb_pool **pp)
{
    if (!pp || !*pp)
        return;
    ldb_pool *p = *pp;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_workers; i++)
        pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->start);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}

unsigned ldb_pool_threads(const ldb_pool *p)
{
    return p ? p->n_workers + 1 : 1;
}

void ldb_pool_start(ldb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
    p->cur_fn = fn;
    p->cur_ctx = ctx;
    p->cur_n = n;
    p->cur_gen = 0;
    if (!p->n_workers || n < 1 || n > UINT32_MAX)
        return; /* the caller does it all in ldb_pool_wait */
    pthread_mutex_lock(&p->mu);
    uint32_t gen = ++p->gen;
    if (gen == 0)
        gen = ++p->gen; /* 0 is what a new worker has seen */
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->n_done, 0);
    atomic_store(&p->next, (uint_fast64_t)gen << 32);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    p->cur_gen = gen;
}

void ldb_pool_wait(ldb_pool *p)
{
    size_t n = p->cur_n;
    if (!p->cur_gen) {
        for (size_t i = 0; i < n; i++)
            p->cur_fn(p->cur_ctx, i);
    } else {
        work(p, p->cur_gen, p->cur_fn, p->cur_ctx, n);
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->n_done) < n)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    p->cur_n = 0;
}

void ldb_pool_run(ldb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
    if (!p || !p->n_workers || n < 2 || n > UINT32_MAX) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, i);
        return;
    }
    ldb_pool_start(p, n, fn, ctx);
    ldb_pool_wait(p);
}
