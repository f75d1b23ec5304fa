/* crypto.c - part 1, the crypto ceiling: Ed25519 sign + verify pairs per
 * second on all threads, over messages the size of a signed envelope. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"

typedef struct worker {
    pthread_t t;
    size_t len;
    uint64_t until_ns;
    uint64_t pairs;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    uint8_t *m = malloc(w->len);
    if (!m)
        return NULL;
    randombytes_buf(m, w->len);
    uint64_t n = 0;
    while ((n & 15) || bench_now_ns() < w->until_ns) {
        m[n % w->len] ^= 1; /* a different message each time */
        crypto_sign_detached(sig, NULL, m, w->len, sk);
        if (crypto_sign_verify_detached(sig, m, w->len, pk) != 0)
            bench_die("Ed25519 verify failed");
        n++;
    }
    w->pairs = n;
    free(m);
    return NULL;
}

void bench_crypto(const bench_opts *o, crypto_result *r)
{
    int nt = o->threads;
    worker *w = calloc((size_t)nt, sizeof *w);
    if (!w)
        bench_die("out of memory");
    /* "liandong/v1" + header (sender, key id, seq, time, type: ~60 bytes) +
     * body (recipient, payload framing: ~20 bytes) + payload. */
    size_t len = 11 + 60 + 20 + o->payload;
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < nt; i++) {
        w[i].len = len;
        w[i].until_ns = t0 + (uint64_t)(o->seconds * 1e9);
        if (pthread_create(&w[i].t, NULL, run, &w[i]) != 0)
            bench_die("pthread_create failed");
    }
    uint64_t total = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(w[i].t, NULL);
        total += w[i].pairs;
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    r->threads = nt;
    r->pairs_per_s = (double)total / secs;
    free(w);
}
