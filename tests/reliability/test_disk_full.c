/* test_disk_full.c - reliability: a tiny LMDB map fills up. The broker
 * refuses with STORAGE_FULL, keeps serving deliveries (Hello, Delivery,
 * DeliveryAck), loses nothing it stored, accepts again once the recipient's
 * acknowledgements free space, and again after a restart with a bigger map.
 * Run without plugins, and with the plans, escalation and audit plugins
 * (the audit log keeps every envelope, so it fills twice as fast; `liandong
 * audit verify` must pass afterwards). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "liandong/liandong.h"
#include "reliability.h"

#define PAYLOAD 8000
#define MAX_K 4000

typedef struct fx {
    th_env e;
    ld_client *send, *recv;
    unsigned long next_k;
    unsigned char acked[MAX_K];
    unsigned char got[MAX_K];
} fx;

static ld_client *client(th_env *e, const char *id, int send_only)
{
    char path[512], err[512];
    th_secret_path(e, id, path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = e->endpoint;
    o.identity_path = path;
    o.broker_key_path = e->broker_pub;
    o.send_only = send_only;
    o.send_timeout_ms = 5000;
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK)
        fail_msg("client %s: %s", id, err);
    assert_int_equal(ld_client_connect(c), LD_OK);
    return c;
}

/* Send until the broker refuses with STORAGE_FULL; returns how many were
 * Acked on the way. */
static unsigned long fill(fx *f)
{
    static char payload[PAYLOAD];
    const char *to[] = {"recv0"};
    unsigned long n = 0;
    for (;;) {
        assert_true(f->next_k < MAX_K);
        unsigned long k = f->next_k++;
        int m = snprintf(payload, sizeof payload, "%lu:", k);
        memset(payload + m, 'f', sizeof payload - (size_t)m);
        int rc = ld_client_send_direct(f->send, to, 1, NULL, payload, sizeof payload, NULL);
        if (rc == LD_OK) {
            f->acked[k] = 1;
            n++;
            continue;
        }
        assert_int_equal(rc, LD_ERR_REFUSED);
        assert_int_equal(ld_client_last_reason(f->send), LD_REASON_STORAGE_FULL);
        return n;
    }
}

/* Receive everything waiting (until 1.5 s pass without a delivery). */
static unsigned long drain(fx *f, int ack)
{
    unsigned long n = 0;
    ld_delivery *d;
    while (ld_client_recv(f->recv, 1500, &d) == LD_OK) {
        unsigned long k;
        char buf[32] = "";
        memcpy(buf, d->payload, d->payload_len < 31 ? d->payload_len : 31);
        assert_int_equal(sscanf(buf, "%lu:", &k), 1);
        assert_true(k < f->next_k); /* was sent */
        if (!f->got[k])
            n++;
        f->got[k] = 1;
        if (ack)
            assert_int_equal(ld_client_ack(f->recv, d), LD_OK);
        ld_delivery_destroy(&d);
    }
    return n;
}

static void check_all_acked_got(fx *f)
{
    for (unsigned long k = 0; k < f->next_k; k++)
        if (f->acked[k] && !f->got[k])
            fail_msg("message %lu was Acked but never delivered", k);
}

static int send_one(fx *f)
{
    static char payload[PAYLOAD];
    const char *to[] = {"recv0"};
    unsigned long k = f->next_k++;
    int m = snprintf(payload, sizeof payload, "%lu:", k);
    memset(payload + m, 'g', sizeof payload - (size_t)m);
    int rc = ld_client_send_direct(f->send, to, 1, NULL, payload, sizeof payload, NULL);
    if (rc == LD_OK)
        f->acked[k] = 1;
    return rc;
}

static void run(int plugins)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    th_env_init(&f->e);
    th_add_identity(&f->e, "send0", "send0", LDK_ROLE_DEPARTMENT);
    th_add_identity(&f->e, "recv0", "recv0", LDK_ROLE_DEPARTMENT);
    char config[512];
    if (plugins)
        rel_write_plugins_config(&f->e, NULL, config, sizeof config);
    const char *small[] = {"--map-size-mb", "1", plugins ? "--config" : NULL, config, NULL};
    th_broker_start(&f->e, small);
    f->send = client(&f->e, "send0", 1);

    unsigned long n1 = fill(f);
    fprintf(stderr, "map of 1 MiB full after %lu messages of %d bytes\n", n1, PAYLOAD);
    assert_true(n1 > 10);
    /* Still full for the next one. */
    assert_int_equal(send_one(f), LD_ERR_REFUSED);
    assert_int_equal(ld_client_last_reason(f->send), LD_REASON_STORAGE_FULL);

    /* Deliveries still flow while full; acknowledging frees space. */
    f->recv = client(&f->e, "recv0", 0);
    unsigned long got = drain(f, 1);
    fprintf(stderr, "delivered while full: %lu\n", got);
    check_all_acked_got(f);
    usleep(300000);
    assert_int_equal(send_one(f), LD_OK);
    got = drain(f, 1);
    check_all_acked_got(f);

    /* Fill again; restart with a bigger map; nothing lost; accepted again. */
    unsigned long n2 = fill(f);
    fprintf(stderr, "full again after %lu more\n", n2);
    if (plugins) {
        /* Queries are still answered while full (from the reserve). */
        for (int i = 0; i < 10; i++) {
            ld_ledger *l = NULL;
            assert_int_equal(ld_client_ledger_query(f->send, &(ld_ledger_query){.mine = 1}, &l),
                             LD_OK);
            assert_int_equal(l->n_tasks, 0);
            ld_ledger_destroy(&l);
            ld_escalations *es = NULL;
            assert_int_equal(
                ld_client_escalation_query(f->send, &(ld_escalation_query){.mine = 1}, &es), LD_OK);
            ld_escalations_destroy(&es);
        }
        assert_int_equal(send_one(f), LD_ERR_REFUSED);
        assert_int_equal(ld_client_last_reason(f->send), LD_REASON_STORAGE_FULL);
        /* A flood of queries takes only the first half of the reserve, then
         * they are refused too: Hello and DeliveryAck (below) still fit. */
        int n_queries = 0, refused = 0;
        while (!refused && n_queries < 20000) {
            ld_ledger *l = NULL;
            int rc = ld_client_ledger_query(f->send, &(ld_ledger_query){.mine = 1}, &l);
            ld_ledger_destroy(&l);
            if (rc == LD_ERR_REFUSED) {
                /* By the reserve, not by a map already full. */
                assert_int_equal(ld_client_last_reason(f->send), LD_REASON_STORAGE_FULL);
                fprintf(stderr, "refused: %s\n", ld_client_last_error(f->send));
                assert_non_null(strstr(ld_client_last_error(f->send), "kept for deliveries"));
                refused = 1;
            } else {
                assert_int_equal(rc, LD_OK);
                n_queries++;
            }
        }
        fprintf(stderr, "queries answered while full: %d more, then refused\n", n_queries);
        assert_true(refused);
        /* Hello and DeliveryAck still fit: the queries left them half the
         * reserve, room for many more reconnects than this. */
        for (int i = 0; i < 50; i++) {
            ld_client_destroy(&f->recv);
            f->recv = client(&f->e, "recv0", 0);
        }
        got = drain(f, 1);
        fprintf(stderr, "delivered after the queries: %lu\n", got);
        check_all_acked_got(f);
    }

    ld_client_destroy(&f->recv);
    ld_client_destroy(&f->send);
    th_broker_signal_stop(&f->e, SIGTERM);
    const char *big[] = {"--map-size-mb", "4", plugins ? "--config" : NULL, config, NULL};
    th_broker_start(&f->e, big);
    f->send = client(&f->e, "send0", 1);
    f->recv = client(&f->e, "recv0", 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(send_one(f), LD_OK);
    drain(f, 1);
    check_all_acked_got(f);

    /* And a SIGKILL while full loses nothing either. */
    ld_client_destroy(&f->recv);
    fill(f);
    kill(f->e.pid, SIGKILL);
    th_broker_signal_stop(&f->e, SIGKILL);
    th_broker_start(&f->e, big);
    f->recv = client(&f->e, "recv0", 0);
    drain(f, 1);
    check_all_acked_got(f);

    ld_client_destroy(&f->recv);
    ld_client_destroy(&f->send);
    if (plugins) {
        /* The audit log went through the refusals and the kill intact. */
        th_broker_signal_stop(&f->e, SIGTERM);
        char line[512];
        if (!rel_audit_verify(&f->e, line, sizeof line))
            fail_msg("audit verify failed: %s", line);
    }
    th_env_fini(&f->e);
    free(f);
}

static void disk_full(void **state)
{
    (void)state;
    run(0);
}

static void disk_full_audited(void **state)
{
    (void)state;
    run(1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(disk_full),
                                       cmocka_unit_test(disk_full_audited)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
