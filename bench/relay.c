/* relay.c - part 2, the transport ceiling: a bare ZeroMQ ROUTER relay with
 * CURVE (no signatures, no storage). DEALER senders -> ROUTER -> DEALER
 * recipient; the relay answers each message with an ack, and the recipient
 * answers each delivery with a delivery ack, as Liandong's protocol does. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bench.h"
#include "load.h"

typedef struct relay {
    void *ctx;
    char endpoint[128];
    char server_pub[41], server_sec[41];
    pthread_t relay_t, recip_t;
    atomic_int stop;
    load_sink sink;
} relay;

static void *curve_dealer(relay *r)
{
    char pub[41], sec[41];
    zmq_curve_keypair(pub, sec);
    void *s = zmq_socket(r->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, r->server_pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    if (zmq_connect(s, r->endpoint) != 0)
        bench_die("relay connect: %s", zmq_strerror(zmq_errno()));
    return s;
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    void *router = zmq_socket(r->ctx, ZMQ_ROUTER);
    int one = 1, linger = 0;
    zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, r->server_sec, 40);
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (zmq_bind(router, "tcp://127.0.0.1:*") != 0)
        bench_die("relay bind: %s", zmq_strerror(zmq_errno()));
    size_t len = sizeof r->endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, r->endpoint, &len);
    uint8_t recip[256];
    size_t recip_len = 0;
    uint8_t rid[256];
    static const char ack[24] = "ack";
    while (!atomic_load(&r->stop)) {
        zmq_pollitem_t it = {router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        int n = zmq_recv(router, rid, sizeof rid, 0);
        if (n < 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, router, 0);
        size_t ml = zmq_msg_size(&m);
        const char *d = zmq_msg_data(&m);
        if (ml == 5 && memcmp(d, "hello", 5) == 0) {
            memcpy(recip, rid, (size_t)n);
            recip_len = (size_t)n;
        } else if (ml > 8 && recip_len) {
            /* Forward, then acknowledge to the sender. */
            zmq_send(router, recip, recip_len, ZMQ_SNDMORE);
            zmq_msg_send(&m, router, 0);
            zmq_send(router, rid, (size_t)n, ZMQ_SNDMORE);
            zmq_send(router, ack, sizeof ack, 0);
        } /* else: a delivery ack, nothing to do */
        zmq_msg_close(&m);
    }
    zmq_close(router);
    return NULL;
}

static void *recip_main(void *arg)
{
    relay *r = arg;
    void *s = curve_dealer(r);
    zmq_send(s, "hello", 5, 0);
    uint8_t buf[1 << 16];
    while (!atomic_load(&r->sink.stop)) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n <= 0)
            continue;
        load_sink_record(&r->sink, buf, (size_t)n);
        zmq_send(s, buf, 8, 0); /* delivery ack */
    }
    zmq_close(s);
    return NULL;
}

static void *s_open(void *ctx, int i)
{
    (void)i;
    return curve_dealer(ctx);
}

static int s_send(void *h, const uint8_t *p, size_t len)
{
    if (zmq_send(h, p, len, 0) < 0)
        return -1;
    zmq_pollitem_t it = {h, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 10000) <= 0)
        return -1;
    char ack[64];
    return zmq_recv(h, ack, sizeof ack, 0) > 0 ? 0 : -1;
}

static void s_close(void *h)
{
    zmq_close(h);
}

void bench_relay(const bench_opts *o, const double *rates, int n_rates, relay_result *res)
{
    relay *r = calloc(1, sizeof *r);
    if (!r)
        bench_die("out of memory");
    r->ctx = zmq_ctx_new();
    zmq_curve_keypair(r->server_pub, r->server_sec);
    if (pthread_create(&r->relay_t, NULL, relay_main, r) != 0)
        bench_die("pthread_create failed");
    for (int i = 0; i < 500 && !r->endpoint[0]; i++)
        bench_sleep_until_ns(bench_now_ns() + 10000000);
    if (!r->endpoint[0])
        bench_die("the relay did not bind");
    pthread_create(&r->recip_t, NULL, recip_main, r);
    bench_sleep_until_ns(bench_now_ns() + 200000000); /* the recipient's hello */

    load_ops ops = {s_open, s_send, s_close, r};
    load_senders *s = load_open(&ops, o->clients, o->payload);
    /* Warm up (CURVE handshakes), then saturate. */
    load_phase warm = {.phase = 0, .seconds = 0.2};
    load_run(s, &warm);
    load_phase sat = {.phase = 1, .seconds = o->seconds};
    load_run(s, &sat);
    res->msgs_per_s = (double)sat.sent / sat.elapsed_s;
    bench_note(o, "relay: %lu messages in %.2f s", sat.sent, sat.elapsed_s);
    for (int k = 0; k < n_rates && k < 2; k++) {
        load_phase p = {.phase = 2 + k, .rate = rates[k], .seconds = o->rate_seconds};
        load_run(s, &p);
        lat_result *l = &res->lat[k];
        l->rate = rates[k];
        l->achieved = (double)p.sent / p.elapsed_s;
        l->reached = l->achieved >= 0.95 * rates[k];
        load_sink_wait(&r->sink, p.phase, p.sent, 5000);
        double pc[3] = {50, 99, 99.9};
        for (int j = 0; j < 3; j++) {
            l->ack_us[j] = bench_lat_pct_us(&p.ack, pc[j]);
            l->deliv_us[j] = bench_lat_pct_us(&r->sink.deliv[p.phase], pc[j]);
        }
        bench_lat_free(&p.ack);
    }
    bench_lat_free(&warm.ack);
    bench_lat_free(&sat.ack);
    load_close(&s);
    atomic_store(&r->sink.stop, 1);
    pthread_join(r->recip_t, NULL);
    atomic_store(&r->stop, 1);
    pthread_join(r->relay_t, NULL);
    for (int i = 0; i < LOAD_MAX_PHASES; i++)
        bench_lat_free(&r->sink.deliv[i]);
    zmq_ctx_term(r->ctx);
    free(r);
}
