/* test_crash_loop.c - reliability: the broker, with the plans, escalation
 * and audit plugins, is killed with SIGKILL at random moments and restarted
 * while SDK clients send signed Direct messages to two recipients and
 * status reports on their tasks of a plan. Afterwards: every Acked envelope reached every
 * recipient exactly once after de-duplication by envelope id; nothing that
 * was never sent was delivered; each sender's messages arrived in order; the
 * ledger holds each sender's last stored report (the last Acked one, or a
 * later one whose Ack was lost); `liandong audit verify` passes, and the
 * audit log holds every Acked envelope exactly once.
 *
 * Kills: 20 by default (CI), LD_CRASH_KILLS=200 for the long mode. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_core.h"
#include "harness.h"
#include "liandong/liandong.h"
#include "reliability.h"

#define N_SEND 3
#define N_RECV 2
#define MAX_MSGS 200000
/* Every REPORT_EVERY-th attempt of a sender is a status report on its task
 * (plan PLAN_ID, task cl-<i>, note "k=<attempt>"); the others are Directs. */
#define REPORT_EVERY 4
#define PLAN_ID "crash-loop"
#define COORD "coord"

static int is_report(unsigned long k)
{
    return k % REPORT_EVERY == REPORT_EVERY - 1;
}

typedef struct sender {
    pthread_t t;
    th_env *env;
    int i;
    char id[16];
    atomic_int *stop;
    /* attempt k: 1 if Acked; envelope id of the Ack */
    unsigned char *acked;
    uint8_t (*eid)[LD_ENVELOPE_ID_BYTES];
    unsigned long attempts, n_acked, n_timeout, n_other;
} sender;

typedef struct got {
    uint8_t eid[LD_ENVELOPE_ID_BYTES];
    int sender;
    unsigned long k;
} got;

typedef struct recipient {
    pthread_t t;
    th_env *env;
    char id[16];
    atomic_int *stop;
    got *v;
    size_t n, cap;
    atomic_ulong last_ns; /* time of the last delivery */
    unsigned long bad;    /* deliveries we could not read */
} recipient;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* send_timeout_ms 0: 8 s, long enough to outlast a restart. */
static ld_client *client(th_env *e, const char *id, int send_only, int send_timeout_ms)
{
    char path[512], err[512];
    th_secret_path(e, id, path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = e->endpoint;
    o.identity_path = path;
    o.broker_key_path = e->broker_pub;
    o.send_only = send_only;
    o.send_timeout_ms = send_timeout_ms ? send_timeout_ms : 8000;
    o.resend_interval_ms = send_timeout_ms && send_timeout_ms < 900 ? send_timeout_ms / 3 : 300;
    o.connect_timeout_ms = 2000;
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK) {
        fprintf(stderr, "client %s: %s\n", id, err);
        return NULL;
    }
    /* The broker may be down right now: keep trying. */
    for (int i = 0; i < 50 && ld_client_connect(c) != LD_OK; i++)
        ;
    return c;
}

static void *send_main(void *arg)
{
    sender *s = arg;
    /* The last sender gives up after 250 ms, so some of its sends time out
     * across a kill: stored or not, the checks must hold for them too. */
    ld_client *c = client(s->env, s->id, 1, s->i == N_SEND - 1 ? 250 : 0);
    if (!c)
        return NULL;
    const char *to[N_RECV] = {"recv0", "recv1"};
    char payload[64];
    while (!atomic_load(s->stop) && s->attempts < MAX_MSGS) {
        unsigned long k = s->attempts++;
        ld_ack ack;
        int rc;
        if (is_report(k)) {
            char task[16], note[32];
            snprintf(task, sizeof task, "cl-%d", s->i);
            snprintf(note, sizeof note, "k=%lu", k);
            ld_status_report r = {.plan = PLAN_ID,
                                  .task = task,
                                  .state = LD_TASK_IN_PROGRESS,
                                  .progress = (unsigned)(k % 101),
                                  .note = note};
            rc = ld_client_status_report(c, &r, &ack);
        } else {
            int n = snprintf(payload, sizeof payload, "%d:%lu:", s->i, k);
            memset(payload + n, 'x', sizeof payload - (size_t)n);
            rc = ld_client_send_direct(c, to, N_RECV, NULL, payload, sizeof payload, &ack);
        }
        if (rc == LD_OK) {
            s->acked[k] = 1;
            memcpy(s->eid[k], ack.envelope_id, LD_ENVELOPE_ID_BYTES);
            s->n_acked++;
        } else if (rc == LD_ERR_TIMEOUT) {
            s->n_timeout++;
        } else {
            s->n_other++; /* e.g. REFUSED; the message was not stored */
            usleep(20000);
        }
    }
    ld_client_destroy(&c);
    return NULL;
}

static void *recv_main(void *arg)
{
    recipient *r = arg;
    ld_client *c = client(r->env, r->id, 0, 0);
    if (!c)
        return NULL;
    while (!atomic_load(r->stop)) {
        ld_delivery *d;
        int rc = ld_client_recv(c, 100, &d);
        if (rc == LD_ERR_TIMEOUT)
            continue;
        if (rc != LD_OK) {
            usleep(10000);
            continue;
        }
        int si;
        unsigned long k;
        char buf[65] = "";
        if (d->payload && d->payload_len < sizeof buf)
            memcpy(buf, d->payload, d->payload_len);
        if (sscanf(buf, "%d:%lu:", &si, &k) == 2 && si >= 0 && si < N_SEND) {
            if (r->n == r->cap) {
                r->cap = r->cap ? 2 * r->cap : 4096;
                r->v = realloc(r->v, r->cap * sizeof *r->v);
            }
            got *g = &r->v[r->n++];
            memcpy(g->eid, d->envelope_id, LD_ENVELOPE_ID_BYTES);
            g->sender = si;
            g->k = k;
        } else {
            r->bad++;
        }
        atomic_store(&r->last_ns, now_ns());
        ld_client_ack(c, d);
        ld_delivery_destroy(&d);
    }
    ld_client_destroy(&c);
    return NULL;
}

/* The plan: task cl-<i> led by send<i>. Published before the kills. */
static void publish_plan(th_env *e)
{
    char plan[1024];
    int n = snprintf(plan, sizeof plan,
                     "plan:\n  id: " PLAN_ID "\n  title: \"崩溃恢复\"\n"
                     "  coordinators: [" COORD "]\n  supervision: [dcs]\ntasks:\n");
    for (int i = 0; i < N_SEND; i++)
        n += snprintf(plan + n, sizeof plan - (size_t)n,
                      "  - {id: cl-%d, title: \"任务%d\", lead: [send%d], due: \"2030-12-31\"}\n",
                      i, i, i);
    ld_client *c = client(e, COORD, 1, 0);
    assert_non_null(c);
    int rc = ld_client_plan_publish(c, PLAN_ID ".yaml", plan, strlen(plan), NULL);
    if (rc != LD_OK)
        fail_msg("publishing the plan: %s", ld_client_last_error(c));
    ld_client_destroy(&c);
}

/* The ledger holds, for each sender, the last report the broker stored: the
 * last Acked one, or a later attempt whose Ack was lost (timed out). */
static void check_ledger(th_env *e, const sender *s)
{
    ld_client *c = client(e, COORD, 1, 0);
    assert_non_null(c);
    ld_ledger_query q = {.plan = PLAN_ID};
    ld_ledger *l = NULL;
    int rc = ld_client_ledger_query(c, &q, &l);
    if (rc != LD_OK)
        fail_msg("ledger query: %s", ld_client_last_error(c));
    assert_int_equal(l->n_tasks, N_SEND);
    for (int i = 0; i < N_SEND; i++) {
        char task[16];
        snprintf(task, sizeof task, "cl-%d", i);
        long last_acked = -1;
        for (unsigned long k = 0; k < s[i].attempts; k++)
            if (is_report(k) && s[i].acked[k])
                last_acked = (long)k;
        const ld_ledger_task *t = NULL;
        for (size_t j = 0; j < l->n_tasks; j++)
            if (strcmp(l->tasks[j].task, task) == 0)
                t = &l->tasks[j];
        assert_non_null(t);
        const ld_dept_report *rep = NULL;
        for (size_t j = 0; j < t->n_reports; j++)
            if (strcmp(t->reports[j].dept, s[i].id) == 0)
                rep = &t->reports[j];
        fprintf(stderr, "%s: ledger %s: %s, last Acked report k=%ld\n", s[i].id, task,
                rep ? rep->note : "no report", last_acked);
        if (!rep) {
            if (last_acked >= 0)
                fail_msg("%s: the ledger has no report although k=%ld was Acked", task, last_acked);
            continue;
        }
        unsigned long k;
        if (sscanf(rep->note, "k=%lu", &k) != 1 || !is_report(k) || k >= s[i].attempts)
            fail_msg("%s: the ledger's report \"%s\" was never sent", task, rep->note);
        if ((long)k < last_acked)
            fail_msg("%s: the ledger has report k=%lu, older than the Acked k=%ld", task, k,
                     last_acked);
        if ((long)k > last_acked && s[i].acked[k])
            fail_msg("%s: the ledger has k=%lu, Acked, yet last_acked is %ld", task, k, last_acked);
        assert_int_equal(rep->state, LD_TASK_IN_PROGRESS);
        assert_int_equal(rep->progress, k % 101);
        assert_int_equal(t->progress, k % 101); /* the sender leads the task */
    }
    ld_ledger_destroy(&l);
    ld_client_destroy(&c);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, LD_ENVELOPE_ID_BYTES);
}

typedef struct audit_tally {
    uint8_t (*ids)[LD_ENVELOPE_ID_BYTES]; /* every Acked envelope id, sorted */
    unsigned *found;                      /* ACCEPTED records of each */
    size_t n;
} audit_tally;

static int on_record(void *arg, const lda_record *r, const uint8_t *h)
{
    audit_tally *t = arg;
    (void)h;
    if (r->kind != LDA_KIND_ACCEPTED || !r->envelope_len)
        return 0;
    ldw_opened o;
    memset(&o, 0, sizeof o);
    if (ldw_envelope_open(r->envelope, r->envelope_len, &o, NULL, 0) == LD_OK) {
        uint8_t(*hit)[LD_ENVELOPE_ID_BYTES] =
            bsearch(o.id.bytes, t->ids, t->n, sizeof *t->ids, cmp_id);
        if (hit)
            t->found[hit - t->ids]++;
    }
    ldw_opened_clear(&o);
    return 0;
}

/* After the broker stopped: `liandong audit verify` passes, and the log
 * has each Acked envelope as accepted exactly once. */
static void check_audit(th_env *e, const sender *s)
{
    char line[1024];
    if (!rel_audit_verify(e, line, sizeof line))
        fail_msg("audit verify failed: %s", line);

    audit_tally t = {0};
    for (int i = 0; i < N_SEND; i++)
        t.n += s[i].n_acked;
    t.ids = calloc(t.n, sizeof *t.ids);
    t.found = calloc(t.n, sizeof *t.found);
    assert_non_null(t.ids);
    assert_non_null(t.found);
    size_t n = 0;
    for (int i = 0; i < N_SEND; i++)
        for (unsigned long k = 0; k < s[i].attempts; k++)
            if (s[i].acked[k])
                memcpy(t.ids[n++], s[i].eid[k], LD_ENVELOPE_ID_BYTES);
    assert_int_equal(n, t.n);
    qsort(t.ids, t.n, sizeof *t.ids, cmp_id);
    lda_store *st_;
    char err[256];
    if (lda_store_open(e->data, 0, &st_, err, sizeof err) != LD_OK)
        fail_msg("opening the audit log: %s", err);
    lda_query all = {0};
    assert_int_equal(lda_query_run(lda_store_kv(st_), &all, on_record, &t, NULL), LD_OK);
    lda_store_close(&st_);
    for (size_t i = 0; i < t.n; i++)
        if (t.found[i] != 1)
            fail_msg("an Acked envelope is in the audit log %u times", t.found[i]);
    fprintf(stderr, "audit log: each of %zu Acked envelopes accepted once\n", t.n);
    free(t.ids);
    free(t.found);
}

static void crash_loop(void **state)
{
    (void)state;
    int kills = getenv("LD_CRASH_KILLS") ? atoi(getenv("LD_CRASH_KILLS")) : 20;
    unsigned seed =
        getenv("LD_CRASH_SEED") ? (unsigned)atoi(getenv("LD_CRASH_SEED")) : (unsigned)time(NULL);
    fprintf(stderr, "crash loop: %d kills, seed %u\n", kills, seed);
    srand(seed);
    th_env e;
    th_env_init(&e);
    sender s[N_SEND];
    recipient r[N_RECV];
    atomic_int stop_send = 0, stop_recv = 0;
    memset(s, 0, sizeof s);
    memset(r, 0, sizeof r);
    for (int i = 0; i < N_SEND; i++) {
        snprintf(s[i].id, sizeof s[i].id, "send%d", i);
        th_add_identity(&e, s[i].id, s[i].id, LDK_ROLE_DEPARTMENT);
    }
    for (int i = 0; i < N_RECV; i++) {
        snprintf(r[i].id, sizeof r[i].id, "recv%d", i);
        th_add_identity(&e, r[i].id, r[i].id, LDK_ROLE_DEPARTMENT);
    }
    th_add_identity(&e, COORD, "办公室", LDK_ROLE_COORDINATOR);
    th_add_identity(&e, "dcs", "督查室", LDK_ROLE_SUPERVISION);
    char config[512];
    rel_write_plugins_config(&e, "{checkpoint_records: 1000, checkpoint_seconds: 1}", config,
                             sizeof config);
    const char *extra[] = {"--config", config, NULL};
    th_broker_start(&e, extra);
    publish_plan(&e);
    for (int i = 0; i < N_RECV; i++) {
        r[i].env = &e;
        r[i].stop = &stop_recv;
        assert_int_equal(pthread_create(&r[i].t, NULL, recv_main, &r[i]), 0);
    }
    for (int i = 0; i < N_SEND; i++) {
        s[i].env = &e;
        s[i].i = i;
        s[i].stop = &stop_send;
        s[i].acked = calloc(MAX_MSGS, 1);
        s[i].eid = calloc(MAX_MSGS, LD_ENVELOPE_ID_BYTES);
        assert_non_null(s[i].acked);
        assert_non_null(s[i].eid);
        assert_int_equal(pthread_create(&s[i].t, NULL, send_main, &s[i]), 0);
    }
    for (int k = 0; k < kills; k++) {
        usleep((useconds_t)(50000 + rand() % 450000)); /* 50-500 ms of load */
        kill(e.pid, SIGKILL);
        int st;
        waitpid(e.pid, &st, 0);
        e.pid = 0;
        if (rand() % 4 == 0)
            usleep((useconds_t)(rand() % 300000)); /* sometimes stay down a while */
        th_broker_start(&e, extra);
    }
    usleep(500000);
    atomic_store(&stop_send, 1);
    for (int i = 0; i < N_SEND; i++)
        pthread_join(s[i].t, NULL);
    /* Let the recipients drain: until 3 s pass without a delivery. */
    for (int i = 0; i < 600; i++) {
        uint64_t last = 0;
        for (int j = 0; j < N_RECV; j++)
            if (atomic_load(&r[j].last_ns) > last)
                last = atomic_load(&r[j].last_ns);
        if (now_ns() - last > 3000000000ull)
            break;
        usleep(100000);
    }
    atomic_store(&stop_recv, 1);
    for (int i = 0; i < N_RECV; i++)
        pthread_join(r[i].t, NULL);

    unsigned long acked = 0;
    for (int i = 0; i < N_SEND; i++) {
        fprintf(stderr, "%s: %lu sent, %lu acked, %lu timed out, %lu other errors\n", s[i].id,
                s[i].attempts, s[i].n_acked, s[i].n_timeout, s[i].n_other);
        acked += s[i].n_acked;
    }
    assert_true(acked > 0);
    for (int j = 0; j < N_RECV; j++) {
        fprintf(stderr, "%s: %zu deliveries (with duplicates)\n", r[j].id, r[j].n);
        assert_int_equal(r[j].bad, 0);
        /* First occurrence of each (sender, k), by envelope id. */
        for (int i = 0; i < N_SEND; i++) {
            unsigned char *seen = calloc(MAX_MSGS, 1);
            uint8_t(*seen_eid)[LD_ENVELOPE_ID_BYTES] = calloc(MAX_MSGS, LD_ENVELOPE_ID_BYTES);
            long last_k = -1;
            for (size_t g = 0; g < r[j].n; g++) {
                got *x = &r[j].v[g];
                if (x->sender != i)
                    continue;
                /* Nothing delivered that was never sent. */
                if (x->k >= s[i].attempts)
                    fail_msg("%s got %d:%lu which was never sent", r[j].id, i, x->k);
                if (seen[x->k]) {
                    /* A duplicate must be the same envelope (dropped by id). */
                    if (memcmp(seen_eid[x->k], x->eid, LD_ENVELOPE_ID_BYTES) != 0)
                        fail_msg("%s got %d:%lu in two different envelopes", r[j].id, i, x->k);
                    continue;
                }
                seen[x->k] = 1;
                memcpy(seen_eid[x->k], x->eid, LD_ENVELOPE_ID_BYTES);
                if ((long)x->k <= last_k)
                    fail_msg("%s got %d:%lu after %d:%ld: out of order", r[j].id, i, x->k, i,
                             last_k);
                last_k = (long)x->k;
                if (s[i].acked[x->k] && memcmp(s[i].eid[x->k], x->eid, LD_ENVELOPE_ID_BYTES) != 0)
                    fail_msg("%s got %d:%lu with an envelope id other than the Acked one", r[j].id,
                             i, x->k);
            }
            for (unsigned long k = 0; k < s[i].attempts; k++)
                if (s[i].acked[k] && !is_report(k) && !seen[k])
                    fail_msg("%s never got %d:%lu although it was Acked", r[j].id, i, k);
            free(seen);
            free(seen_eid);
        }
        free(r[j].v);
    }
    check_ledger(&e, s);
    th_broker_signal_stop(&e, SIGTERM);
    check_audit(&e, s);
    for (int i = 0; i < N_SEND; i++) {
        free(s[i].acked);
        free(s[i].eid);
    }
    th_env_fini(&e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(crash_loop)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
