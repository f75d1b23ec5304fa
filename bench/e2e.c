/* e2e.c - part 3, Liandong end to end: N department clients (the SDK, with
 * up to --window messages in flight each through ld_client_submit_direct;
 * --window 1: ld_client_send_direct, one at a time) send signed Direct
 * messages through the real broker (its default durable LMDB sync, the
 * plugins of --plugins loaded: plans, escalation and audit by default) to a
 * recipient that receives and acknowledges. */
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
    int window; /* submissions in flight per client */
    /* RSS phases: senders wait while more than BACKLOG_MAX sent messages are
     * not delivered yet, so the figure is the broker's memory, not a mailbox
     * backlog of a recipient that cannot keep up (LMDB pages count in RSS). */
    atomic_int throttle;
    atomic_ulong sent; /* accepted sends and submissions, all phases */
} e2e;

#define BACKLOG_MAX 2000

static e2e *the_e2e; /* for the send callbacks, which only get the client */

static unsigned long delivered_all(e2e *x)
{
    unsigned long n = 0;
    for (int i = 0; i < LOAD_MAX_PHASES; i++)
        n += atomic_load(&x->sink.delivered[i]);
    return n;
}

static void wait_for_recipient(void)
{
    e2e *x = the_e2e;
    if (!atomic_load(&x->throttle))
        return;
    for (int i = 0; i < 60000 && atomic_load(&x->sent) > delivered_all(x) + BACKLOG_MAX; i++)
        bench_sleep_until_ns(bench_now_ns() + 1000000ull);
}

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
    o.send_window = x->window > 1 ? x->window : 0;
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
    wait_for_recipient();
    if (ld_client_send_direct(h, to, 1, NULL, p, len, NULL) != LD_OK)
        return -1;
    atomic_fetch_add(&the_e2e->sent, 1);
    return 0;
}

static int s_submit(void *h, const uint8_t *p, size_t len)
{
    static const char *const to[] = {RECIPIENT};
    wait_for_recipient();
    if (ld_client_submit_direct(h, to, 1, NULL, p, len, NULL) != LD_OK)
        return -1;
    atomic_fetch_add(&the_e2e->sent, 1);
    return 0;
}

static int s_collect(void *h, int timeout_ms)
{
    ld_send_result r;
    int rc = ld_client_wait_result(h, timeout_ms, &r);
    if (rc == LD_ERR_TIMEOUT)
        return 0;
    if (rc != LD_OK)
        bench_die("collecting a result: %s", ld_client_last_error(h));
    return r.status == LD_OK ? 1 : -1;
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
                   unsigned long target, long *n_out, long *anon_out)
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
    *anon_out = bench_rss_anon_kib(x->env.pid);
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
    the_e2e = x;
    bench_env_init(&x->env);
    bench_env_add(&x->env, "dept", o->clients, NULL);
    bench_env_add(&x->env, "recv", 1, NULL);
    bench_env_start(&x->env, o);
    r->rss_start_kib = bench_rss_kib(x->env.pid);
    x->recip = client(x, RECIPIENT, 0);
    if (pthread_create(&x->recip_t, NULL, recip_main, x) != 0)
        bench_die("pthread_create failed");

    x->window = o->window;
    load_ops ops = {s_open, s_send, s_close, x};
    load_senders *s = load_open(&ops, o->clients, o->payload);
    load_pipe_ops pipe = {s_submit, s_collect};
    load_set_window(s, &pipe, o->window);
    unsigned long total = 0;
    load_phase warm = {.phase = 0, .seconds = 0.3};
    load_run(s, &warm);
    total += warm.sent;
    load_phase sat = {.phase = 1, .seconds = o->seconds};
    load_run(s, &sat);
    total += sat.sent;
    r->msgs_per_s = (double)sat.sent / sat.elapsed_s;
    r->delivered_per_s = (double)atomic_load(&x->sink.delivered[1]) / sat.elapsed_s;
    pct3(&sat.ack, r->ack_us);
    if (sat.failed)
        bench_note(o, "e2e: %lu sends failed", sat.failed);
    /* Let the recipient catch up, so the next phases start empty. */
    if (!load_sink_wait(&x->sink, 1, sat.sent, 60000))
        bench_note(o, "e2e: not every message of the saturation phase was delivered in 60 s");
    /* The same with each client waiting for its Ack, the peers' shape. */
    load_phase w1 = {.phase = 6, .seconds = o->seconds};
    if (o->window > 1) {
        load_set_window(s, &pipe, 1);
        load_run(s, &w1);
        total += w1.sent;
        load_set_window(s, &pipe, o->window);
        r->w1_msgs_per_s = (double)w1.sent / w1.elapsed_s;
        pct3(&w1.ack, r->w1_ack_us);
        if (!load_sink_wait(&x->sink, 6, w1.sent, 60000))
            bench_note(o, "e2e: not every message of the window-1 phase was delivered in 60 s");
    } else {
        r->w1_msgs_per_s = r->msgs_per_s;
        memcpy(r->w1_ack_us, r->ack_us, sizeof r->w1_ack_us);
    }
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
    atomic_store(&x->throttle, 1);
    r->rss_100k_kib = run_to(o, x, s, 4, &total, n100k, &r->n_100k, &r->anon_100k_kib);
    if (o->longmode)
        r->rss_1m_kib = run_to(o, x, s, 5, &total, 1000000, &r->n_1m, &r->anon_1m_kib);
    bench_lat_free(&warm.ack);
    bench_lat_free(&sat.ack);
    bench_lat_free(&w1.ack);
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
