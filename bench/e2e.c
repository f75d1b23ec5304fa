/* e2e.c - part 3, Liandong end to end: N department clients (the SDK, one
 * message in flight each, as ld_client_send_direct works) send signed
 * Direct messages through the real broker (its default durable LMDB sync,
 * the plans plugin loaded) to a recipient that receives and acknowledges. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "liandong/liandong.h"
#include "load.h"

#define RECIPIENT "recv00"

typedef struct e2e {
    bench_env env;
    pthread_t recip_t;
    load_sink sink;
    ld_client *recip;
} e2e;

static ld_client *client(e2e *x, const char *id, int send_only)
{
    char path[512], err[512];
    bench_env_secret(&x->env, id, path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = x->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = x->env.broker_pub;
    o.send_only = send_only;
    o.client_name = "liandong-bench";
    o.send_timeout_ms = 30000;
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK)
        bench_die("client %s: %s", id, err);
    if (ld_client_connect(c) != LD_OK)
        bench_die("client %s: %s", id, ld_client_last_error(c));
    return c;
}

static void *recip_main(void *arg)
{
    e2e *x = arg;
    while (!atomic_load(&x->sink.stop)) {
        ld_delivery *d;
        if (ld_client_recv(x->recip, 100, &d) != LD_OK)
            continue;
        if (d->payload)
            load_sink_record(&x->sink, d->payload, d->payload_len);
        ld_client_ack(x->recip, d);
        ld_delivery_destroy(&d);
    }
    return NULL;
}

static void *s_open(void *ctx, int i)
{
    char id[16];
    snprintf(id, sizeof id, "dept%02d", i);
    return client(ctx, id, 1);
}

static int s_send(void *h, const uint8_t *p, size_t len)
{
    static const char *const to[] = {RECIPIENT};
    return ld_client_send_direct(h, to, 1, NULL, p, len, NULL) == LD_OK ? 0 : -1;
}

static void s_close(void *h)
{
    ld_client *c = h;
    ld_client_destroy(&c);
}

static void pct3(bench_lat *l, double out[3])
{
    double pc[3] = {50, 99, 99.9};
    for (int j = 0; j < 3; j++)
        out[j] = bench_lat_pct_us(l, pc[j]);
}

/* Closed loop until total messages have gone through; then the RSS once the
 * recipient has them all. */
static long run_to(const bench_opts *o, e2e *x, load_senders *s, int phase, unsigned long *total,
                   unsigned long target, long *n_out)
{
    if (*total < target) {
        load_phase p = {.phase = phase, .seconds = 1e6, .max = target - *total};
        load_run(s, &p);
        *total += p.sent;
        if (!load_sink_wait(&x->sink, phase, p.sent, 60000))
            bench_note(o, "e2e: not every message of phase %d was delivered in 60 s", phase);
        bench_note(o, "e2e: %lu messages in %.1f s (%.0f/s)", p.sent, p.elapsed_s,
                   (double)p.sent / p.elapsed_s);
        bench_lat_free(&p.ack);
        bench_lat_free(&x->sink.deliv[phase]);
    }
    *n_out = (long)*total;
    bench_sleep_until_ns(bench_now_ns() + 500000000ull);
    return bench_rss_kib(x->env.pid);
}

static long idle_rss(const bench_opts *o)
{
    bench_env env;
    bench_env_init(&env);
    bench_env_add(&env, "p", 100, NULL);
    bench_env_start(&env, o);
    e2e x;
    memset(&x, 0, sizeof x);
    x.env = env;
    ld_client *c[100];
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%02d", i);
        c[i] = client(&x, id, 0);
    }
    bench_sleep_until_ns(bench_now_ns() + 1000000000ull);
    long rss = bench_rss_kib(env.pid);
    for (int i = 0; i < 100; i++)
        ld_client_destroy(&c[i]);
    bench_env_fini(&env);
    return rss;
}

void bench_e2e(const bench_opts *o, const double *rates, int n_rates, e2e_result *r)
{
    e2e *x = calloc(1, sizeof *x);
    if (!x)
        bench_die("out of memory");
    bench_env_init(&x->env);
    bench_env_add(&x->env, "dept", o->clients, NULL);
    bench_env_add(&x->env, "recv", 1, NULL);
    bench_env_start(&x->env, o);
    r->rss_start_kib = bench_rss_kib(x->env.pid);
    x->recip = client(x, RECIPIENT, 0);
    if (pthread_create(&x->recip_t, NULL, recip_main, x) != 0)
        bench_die("pthread_create failed");

    load_ops ops = {s_open, s_send, s_close, x};
    load_senders *s = load_open(&ops, o->clients, o->payload);
    unsigned long total = 0;
    load_phase warm = {.phase = 0, .seconds = 0.3};
    load_run(s, &warm);
    total += warm.sent;
    load_phase sat = {.phase = 1, .seconds = o->seconds};
    load_run(s, &sat);
    total += sat.sent;
    r->msgs_per_s = (double)sat.sent / sat.elapsed_s;
    pct3(&sat.ack, r->ack_us);
    if (sat.failed)
        bench_note(o, "e2e: %lu sends failed", sat.failed);
    for (int k = 0; k < n_rates && k < 2; k++) {
        load_phase p = {.phase = 2 + k, .rate = rates[k], .seconds = o->rate_seconds};
        load_run(s, &p);
        total += p.sent;
        lat_result *l = &r->lat[k];
        l->rate = rates[k];
        l->achieved = (double)p.sent / p.elapsed_s;
        l->reached = l->achieved >= 0.95 * rates[k];
        load_sink_wait(&x->sink, p.phase, p.sent, 30000);
        pct3(&p.ack, l->ack_us);
        pct3(&x->sink.deliv[p.phase], l->deliv_us);
        bench_lat_free(&p.ack);
    }
    unsigned long n100k = o->smoke ? 2000 : 100000;
    r->rss_100k_kib = run_to(o, x, s, 4, &total, n100k, &r->n_100k);
    if (o->longmode)
        r->rss_1m_kib = run_to(o, x, s, 5, &total, 1000000, &r->n_1m);
    bench_lat_free(&warm.ack);
    bench_lat_free(&sat.ack);
    load_close(&s);
    atomic_store(&x->sink.stop, 1);
    pthread_join(x->recip_t, NULL);
    ld_client_destroy(&x->recip);
    for (int i = 0; i < LOAD_MAX_PHASES; i++)
        bench_lat_free(&x->sink.deliv[i]);
    bench_env_fini(&x->env);
    free(x);
    r->rss_idle100_kib = idle_rss(o);
}
