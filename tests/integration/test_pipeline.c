/* Integration tests of the SDK's pipelined sends (ld_client_submit_*,
 * ld_client_wait_result) against a real broker on 127.0.0.1. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "liandong/liandong.h"

typedef struct fixture {
    th_env env;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    th_add_identity(&f->env, "mdj.gxj", "市工信局", LDK_ROLE_DEPARTMENT);
    th_add_identity(&f->env, "mdj.fgw", "市发改委", LDK_ROLE_DEPARTMENT);
    th_broker_start(&f->env, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_env_fini(&f->env);
    free(f);
    return 0;
}

static ld_client *client(fixture *f, const char *id, int window)
{
    char path[512], err[512];
    th_secret_path(&f->env, id, path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = f->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = f->env.broker_pub;
    o.resend_interval_ms = 500;
    o.send_timeout_ms = 30000;
    o.send_window = window;
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK)
        fail_msg("ld_client_new: %s", err);
    if (ld_client_connect(c) != LD_OK)
        fail_msg("connect: %s", ld_client_last_error(c));
    return c;
}

static void submit_text(ld_client *c, const char *to, const char *text, ld_submission *sub)
{
    const char *t[] = {to};
    int rc = ld_client_submit_direct(c, t, 1, text, NULL, 0, sub);
    if (rc != LD_OK)
        fail_msg("submit '%s': %s: %s", text, ld_strerror(rc), ld_client_last_error(c));
}

static void wait_ok(ld_client *c, uint64_t seq)
{
    ld_send_result r;
    int rc = ld_client_wait_result(c, 20000, &r);
    if (rc != LD_OK)
        fail_msg("wait_result: %s: %s", ld_strerror(rc), ld_client_last_error(c));
    if (r.status != LD_OK)
        fail_msg("seq %llu: %s: %s", (unsigned long long)r.seq, ld_strerror(r.status), r.text);
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.ack.seq, seq);
}

/* Receive until n distinct texts "m<i>" (i < n) have come; each must come
 * once, then nothing more. */
static void receive_all_once(ld_client *b, int n)
{
    char *seen = calloc((size_t)n, 1);
    int got = 0;
    while (got < n) {
        ld_delivery *d;
        int rc = ld_client_recv(b, 20000, &d);
        if (rc != LD_OK)
            fail_msg("received %d of %d: %s", got, n, ld_client_last_error(b));
        int i = -1;
        if (sscanf(d->text, "m%d", &i) != 1 || i < 0 || i >= n)
            fail_msg("unexpected delivery '%s'", d->text);
        if (seen[i])
            fail_msg("'%s' delivered twice", d->text);
        seen[i] = 1;
        got++;
        assert_int_equal(ld_client_ack(b, d), LD_OK);
        ld_delivery_destroy(&d);
    }
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 500, &d), LD_ERR_TIMEOUT);
    free(seen);
}

/* Many submissions through a small window: every one acknowledged, in
 * order, with consecutive sequence numbers; each delivered once. */
static void test_submit_many_in_order(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 16), *b = client(f, "mdj.fgw", 0);
    enum { N = 300 };
    uint64_t next_result = 1;
    for (int i = 0; i < N; i++) {
        if (ld_client_in_flight(a) == 16)
            wait_ok(a, next_result++);
        char text[32];
        snprintf(text, sizeof text, "m%d", i);
        ld_submission s;
        submit_text(a, "mdj.fgw", text, &s);
        assert_int_equal(s.seq, (uint64_t)i + 1);
    }
    while (ld_client_in_flight(a))
        wait_ok(a, next_result++);
    assert_int_equal(next_result, N + 1);
    ld_send_result r;
    assert_int_equal(ld_client_wait_result(a, 0, &r), LD_ERR_NOT_FOUND);
    receive_all_once(b, N);
    ld_client_destroy(&a);
    ld_client_destroy(&b);
}

/* A refusal in the middle of a window is reported for its own sequence
 * number; the others are acknowledged; the refused number is not reused
 * because later ones were in flight. */
static void test_nack_in_the_middle(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 8);
    ld_submission s1, s2, s3;
    submit_text(a, "mdj.fgw", "m0", &s1);
    submit_text(a, "mdj.nobody", "m1", &s2);
    submit_text(a, "mdj.fgw", "m2", &s3);
    assert_int_equal(ld_client_in_flight(a), 3);
    wait_ok(a, 1);
    ld_send_result r;
    assert_int_equal(ld_client_wait_result(a, 20000, &r), LD_OK);
    assert_int_equal(r.status, LD_ERR_REFUSED);
    assert_int_equal(r.seq, 2);
    assert_memory_equal(r.envelope_id, s2.envelope_id, LD_ENVELOPE_ID_BYTES);
    assert_int_equal(r.reason, LD_REASON_UNKNOWN_RECIPIENT);
    assert_non_null(strstr(r.text, "mdj.nobody"));
    wait_ok(a, 3);
    ld_submission s4;
    submit_text(a, "mdj.fgw", "m3", &s4);
    assert_int_equal(s4.seq, 4);
    wait_ok(a, 4);

    /* A refusal of the last one sealed gives its number back. */
    submit_text(a, "mdj.nobody", "x", &s4);
    assert_int_equal(s4.seq, 5);
    assert_int_equal(ld_client_wait_result(a, 20000, &r), LD_OK);
    assert_int_equal(r.status, LD_ERR_REFUSED);
    submit_text(a, "mdj.fgw", "m4", &s4);
    assert_int_equal(s4.seq, 5);
    wait_ok(a, 5);
    ld_client_destroy(&a);
}

/* A full window is refused with a clear error and sends nothing. */
static void test_window_full(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 4);
    for (int i = 0; i < 4; i++)
        submit_text(a, "mdj.fgw", "m", NULL);
    const char *to[] = {"mdj.fgw"};
    assert_int_equal(ld_client_submit_direct(a, to, 1, "too many", NULL, 0, NULL),
                     LD_ERR_WINDOW_FULL);
    assert_non_null(strstr(ld_client_last_error(a), "send window is full"));
    assert_int_equal(ld_client_in_flight(a), 4);
    /* A blocking send still works and leaves the submissions' results. */
    ld_ack ack;
    assert_int_equal(ld_client_send_direct(a, to, 1, "blocking", NULL, 0, &ack), LD_OK);
    assert_int_equal(ack.seq, 5);
    for (uint64_t s = 1; s <= 4; s++)
        wait_ok(a, s);
    ld_send_result r;
    assert_int_equal(ld_client_wait_result(a, 100, &r), LD_ERR_NOT_FOUND);
    ld_client_destroy(&a);

    /* A window out of range is refused at creation. */
    char path[512], err[512] = "";
    th_secret_path(&f->env, "mdj.gxj", path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = f->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = f->env.broker_pub;
    o.send_window = LD_SEND_WINDOW_MAX + 1;
    ld_client *c = NULL;
    assert_int_equal(ld_client_new(&o, &c, err, sizeof err), LD_ERR_INVALID);
    assert_non_null(strstr(err, "send_window"));
}

/* The broker is killed with a window in flight and started again: every
 * submission is answered exactly once, with an Ack, and each message is
 * delivered once to the application. */
static void test_broker_restart_mid_window(void **state)
{
    fixture *f = *state;
    enum { N = 200, W = 64 };
    ld_client *a = client(f, "mdj.gxj", W), *b = client(f, "mdj.fgw", 0);
    uint64_t next_result = 1;
    int i = 0;
    for (; i < W - 1; i++) {
        char text[32];
        snprintf(text, sizeof text, "m%d", i);
        submit_text(a, "mdj.fgw", text, NULL);
    }
    /* Some may be stored, some acknowledged, some not yet received. */
    usleep(20000);
    th_broker_signal_stop(&f->env, SIGKILL);
    /* A submission while the broker is down waits for the reconnect. */
    char text[32];
    snprintf(text, sizeof text, "m%d", i++);
    submit_text(a, "mdj.fgw", text, NULL);
    th_broker_start(&f->env, NULL);
    for (; i < N; i++) {
        if (ld_client_in_flight(a) == W)
            wait_ok(a, next_result++);
        snprintf(text, sizeof text, "m%d", i);
        submit_text(a, "mdj.fgw", text, NULL);
    }
    while (ld_client_in_flight(a))
        wait_ok(a, next_result++);
    assert_int_equal(next_result, N + 1);
    receive_all_once(b, N);
    ld_client_destroy(&a);
    ld_client_destroy(&b);
    /* The broker stored each sequence number once, the last one N. */
    a = client(f, "mdj.gxj", 0);
    ld_session_info si;
    assert_int_equal(ld_client_session(a, &si), LD_OK);
    assert_int_equal(si.last_seq, N);
    ld_client_destroy(&a);
    b = client(f, "mdj.fgw", 0);
    assert_int_equal(ld_client_session(b, &si), LD_OK);
    assert_int_equal(si.mailbox_size, 0);
    ld_client_destroy(&b);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_many_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broker_restart_mid_window, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
