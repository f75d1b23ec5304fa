/* load.c - see load.h. */
#include "load.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sender {
    pthread_t t;
    struct load_senders *s;
    int i;
    void *h;
    uint8_t *buf;
    bench_lat ack;
    unsigned long sent, failed;
} sender;

struct load_senders {
    const load_ops *ops;
    const load_pipe_ops *pipe; /* NULL: one send at a time */
    int window;
    int n;
    size_t payload;
    sender *v;
    load_phase *p;
    uint64_t t0, until;
    atomic_ulong budget; /* messages still allowed when p->max is set */
};

void load_sink_record(load_sink *s, const uint8_t *payload, size_t len)
{
    load_stamp st;
    if (len < sizeof st)
        return;
    memcpy(&st, payload, sizeof st);
    if (st.phase >= LOAD_MAX_PHASES)
        return;
    uint64_t now = bench_now_ns();
    bench_lat_add(&s->deliv[st.phase], now > st.sched_ns ? now - st.sched_ns : 0);
    atomic_fetch_add(&s->delivered[st.phase], 1);
}

int load_sink_wait(load_sink *s, int phase, unsigned long n, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 10; i++) {
        if (atomic_load(&s->delivered[phase]) >= n)
            return 1;
        usleep(10000);
    }
    return atomic_load(&s->delivered[phase]) >= n;
}

load_senders *load_open(const load_ops *ops, int n, size_t payload)
{
    load_senders *s = calloc(1, sizeof *s);
    if (!s || !(s->v = calloc((size_t)n, sizeof *s->v)))
        bench_die("out of memory");
    s->ops = ops;
    s->n = n;
    s->payload = payload < sizeof(load_stamp) ? sizeof(load_stamp) : payload;
    for (int i = 0; i < n; i++) {
        s->v[i].s = s;
        s->v[i].i = i;
        s->v[i].h = ops->open(ops->ctx, i);
        s->v[i].buf = malloc(s->payload);
        if (!s->v[i].h || !s->v[i].buf)
            bench_die("sender %d did not open", i);
        for (size_t k = 0; k < s->payload; k++)
            s->v[i].buf[k] = (uint8_t)('a' + (k + (size_t)i) % 26);
    }
    return s;
}

/* Take one message from the budget of a phase with p->max. 0: none left. */
static int take_budget(load_senders *s)
{
    unsigned long b = atomic_load(&s->budget);
    do {
        if (!b)
            return 0;
    } while (!atomic_compare_exchange_weak(&s->budget, &b, b - 1));
    return 1;
}

/* Collect one answer (the oldest submission's); its latency counts from its
 * scheduled time. Returns what pipe->collect did. */
static int collect_one(sender *me, uint64_t *sched, int window, int *head, int *n, int timeout_ms)
{
    int rc = me->s->pipe->collect(me->h, timeout_ms);
    if (rc == 0)
        return 0;
    if (rc > 0) {
        bench_lat_add(&me->ack, bench_now_ns() - sched[*head]);
        me->sent++;
    } else {
        me->failed++;
    }
    *head = (*head + 1) % window;
    (*n)--;
    return rc;
}

/* The pipelined variant of run(): up to s->window submissions in flight. */
static void run_windowed(sender *me)
{
    load_senders *s = me->s;
    load_phase *p = s->p;
    int w = s->window, head = 0, n = 0;
    uint64_t *sched = calloc((size_t)w, sizeof *sched);
    if (!sched)
        bench_die("out of memory");
    double period = p->rate > 0 ? (double)s->n / p->rate * 1e9 : 0;
    uint64_t next = s->t0 + (uint64_t)(period * me->i / s->n);
    for (;;) {
        uint64_t now = bench_now_ns();
        if (now >= s->until || (period > 0 && next >= s->until))
            break;
        if (n == w) {
            collect_one(me, sched, w, &head, &n, 1000);
            continue;
        }
        uint64_t at = now;
        if (period > 0) {
            if (next > now) {
                uint64_t gap_ms = (next - now) / 1000000;
                if (n > 0 && gap_ms > 0)
                    collect_one(me, sched, w, &head, &n, (int)gap_ms);
                else
                    bench_sleep_until_ns(next);
                continue;
            }
            at = next;
            next += (uint64_t)period;
        }
        if (p->max && !take_budget(s))
            break;
        load_stamp st = {at, (uint32_t)p->phase, (uint32_t)me->i};
        memcpy(me->buf, &st, sizeof st);
        if (s->pipe->submit(me->h, me->buf, s->payload) != 0) {
            me->failed++;
            continue;
        }
        sched[(head + n) % w] = at;
        n++;
    }
    while (n > 0) /* the answers still due */
        if (collect_one(me, sched, w, &head, &n, 30000) == 0)
            bench_die("sender %d: no answer within 30 s", me->i);
    free(sched);
}

static void *run(void *arg)
{
    sender *me = arg;
    load_senders *s = me->s;
    load_phase *p = s->p;
    if (s->pipe && s->window > 1) {
        run_windowed(me);
        return NULL;
    }
    /* Fixed rate: this sender's share, offset so the senders interleave. */
    double period = p->rate > 0 ? (double)s->n / p->rate * 1e9 : 0;
    uint64_t next = s->t0 + (uint64_t)(period * me->i / s->n);
    for (;;) {
        uint64_t now = bench_now_ns();
        if (now >= s->until)
            break;
        if (p->max && !take_budget(s))
            return NULL;
        uint64_t sched = now;
        if (period > 0) {
            if (next >= s->until)
                break;
            if (next > now)
                bench_sleep_until_ns(next);
            sched = next;
            next += (uint64_t)period;
        }
        load_stamp st = {sched, (uint32_t)p->phase, (uint32_t)me->i};
        memcpy(me->buf, &st, sizeof st);
        if (s->ops->send(me->h, me->buf, s->payload) == 0) {
            bench_lat_add(&me->ack, bench_now_ns() - sched);
            me->sent++;
        } else {
            me->failed++;
        }
    }
    return NULL;
}

void load_set_window(load_senders *s, const load_pipe_ops *pipe, int window)
{
    s->pipe = window > 1 ? pipe : NULL;
    s->window = window;
}

void load_run(load_senders *s, load_phase *p)
{
    s->p = p;
    s->t0 = bench_now_ns();
    s->until = s->t0 + (uint64_t)(p->seconds * 1e9);
    atomic_store(&s->budget, p->max);
    for (int i = 0; i < s->n; i++) {
        bench_lat_free(&s->v[i].ack);
        s->v[i].sent = s->v[i].failed = 0;
        if (pthread_create(&s->v[i].t, NULL, run, &s->v[i]) != 0)
            bench_die("pthread_create failed");
    }
    p->sent = p->failed = 0;
    for (int i = 0; i < s->n; i++) {
        pthread_join(s->v[i].t, NULL);
        p->sent += s->v[i].sent;
        p->failed += s->v[i].failed;
        bench_lat_merge(&p->ack, &s->v[i].ack);
    }
    p->elapsed_s = (double)(bench_now_ns() - s->t0) / 1e9;
}

void load_close(load_senders **sp)
{
    load_senders *s = *sp;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        s->ops->close(s->v[i].h);
        free(s->v[i].buf);
        bench_lat_free(&s->v[i].ack);
    }
    free(s->v);
    free(s);
    *sp = NULL;
}
