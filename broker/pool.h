/* pool.h - a small fixed thread pool for the pipeline's parallel steps
 * (verifying envelopes, sealing answers and deliveries). The calling thread
 * takes part; ldb_pool_run returns when every index is done. */
#ifndef LDB_POOL_H
#define LDB_POOL_H

#include <stddef.h>

typedef struct ldb_pool ldb_pool;

/* A pool of threads threads in all, counting the caller's (threads - 1
 * workers; 0 or 1: none, everything runs on the caller). LD_OK or
 * LD_ERR_NOMEM (a thread could not be started). */
int ldb_pool_new(unsigned threads, ldb_pool **out);
/* Stop and join the workers. Accepts NULL and *p == NULL. */
void ldb_pool_destroy(ldb_pool **p);
/* Threads in all, counting the caller's. */
unsigned ldb_pool_threads(const ldb_pool *p);
/* Call fn(ctx, i) once for each i in [0, n), spread over the workers and the
 * caller, and return when all calls have returned. fn must only touch what
 * index i owns, or read shared data nobody writes meanwhile. Not reentrant:
 * one run at a time, from one thread. */
void ldb_pool_run(ldb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx);
/* ldb_pool_run in two halves: start hands the job to the workers and returns
 * at once, so the caller can do other work meanwhile (anything but another
 * run of this pool); wait takes part in what is left and returns when every
 * index is done. Each start needs its wait. Without workers the whole job
 * runs in wait. p must not be NULL. */
void ldb_pool_start(ldb_pool *p, size_t n, void (*fn)(void *ctx, size_t i), void *ctx);
void ldb_pool_wait(ldb_pool *p);

#endif
