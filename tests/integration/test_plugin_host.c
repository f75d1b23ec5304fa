/* Integration tests of the plugin host: real plugins loaded with dlopen by a
 * real broker, refusals at start-up, and the host table at work. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PLUGIN(name) LD_TEST_PLUGIN_DIR "/" name ".so"

typedef struct fixture {
    th_env env;
    ldk_identity *a, *b, *c, *admin;
    char config[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    f->a = th_add_identity(&f->env, "mdj.gxj", "市工信局", LDK_ROLE_DEPARTMENT);
    f->b = th_add_identity(&f->env, "mdj.fgw", "市发改委", LDK_ROLE_DEPARTMENT);
    f->c = th_add_identity(&f->env, "mdj.zf.bgs", "牡丹江市人民政府办公室", LDK_ROLE_COORDINATOR);
    f->admin = th_add_identity(&f->env, "ops.admin", "运维", LDK_ROLE_ADMIN);
    snprintf(f->config, sizeof f->config, "%s/broker.yaml", f->env.dir);
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

static void write_config(fixture *f, const char *plugins_yaml)
{
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fprintf(fp, "# test broker\ntick_ms: 50\nplugins:\n%s", plugins_yaml);
    fclose(fp);
}

/* Run the broker with the config; it must exit 1 within 10 s. Returns its
 * stderr (caller frees). */
static char *broker_must_fail(fixture *f)
{
    char errpath[600];
    snprintf(errpath, sizeof errpath, "%s/broker.err", f->env.dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(LD_BROKER_BIN, LD_BROKER_BIN, "--config", f->config, "--listen", "tcp://127.0.0.1:*",
              "--data-dir", f->env.data, "--roster", f->env.roster, "--key", f->env.broker_secret,
              "--ready-file", f->env.ready, "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    for (int i = 0; i < 1000 && waitpid(pid, &st, WNOHANG) != pid; i++)
        usleep(10000);
    if (!WIFEXITED(st)) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        fail_msg("the broker did not stop");
    }
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_int_equal(access(f->env.ready, F_OK), -1); /* it never served */
    FILE *fp = fopen(errpath, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, fp);
    fclose(fp);
    buf[n] = 0;
    /* One clear line. */
    assert_non_null(strchr(buf, '\n'));
    assert_null(strchr(strchr(buf, '\n') + 1, '\n'));
    return buf;
}

static void expect_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void test_missing_plugin_stops_broker(void **state)
{
    fixture *f = *state;
    write_config(f, "  - {name: plans, path: /nonexistent/plans.so}\n");
    char *err = broker_must_fail(f);
    expect_contains(err, "/nonexistent/plans.so");
    expect_contains(err, "cannot load");
    free(err);
}

static void test_no_symbol_stops_broker(void **state)
{
    fixture *f = *state;
    write_config(f, "  - {name: x, path: " PLUGIN("no_symbol") "}\n");
    char *err = broker_must_fail(f);
    expect_contains(err, PLUGIN("no_symbol"));
    expect_contains(err, "does not export the symbol ld_plugin_entry");
    free(err);
}

static void test_wrong_abi_stops_broker(void **state)
{
    fixture *f = *state;
    write_config(f, "  - {name: x, path: " PLUGIN("bad_abi") "}\n");
    char *err = broker_must_fail(f);
    expect_contains(err, PLUGIN("bad_abi"));
    expect_contains(err, "plugin ABI 999");
    expect_contains(err, "speaks ABI 1");
    free(err);
}

static void test_init_failure_stops_broker(void **state)
{
    fixture *f = *state;
    /* A good plugin first: nothing may start half-way. */
    write_config(f, "  - {name: recorder, path: " PLUGIN(
                        "recorder") "}\n"
                                    "  - name: failing\n"
                                    "    path: " PLUGIN("init_fails") "\n"
                                                                      "    config:\n"
                                                                      "      reason: 测试\n");
    char *err = broker_must_fail(f);
    expect_contains(err, PLUGIN("init_fails"));
    expect_contains(err, "init failed: the test plugin refuses to start");
    expect_contains(err, "reason: 测试"); /* its config block reached init intact */
    free(err);
}

static void send_direct(th_raw *r, const char *to, const char *text, ldw_envelope_id *id)
{
    th_raw_direct(r, to, text, id);
}

/* Returns the Ack's reply text (caller frees) or fails on a Nack. */
static char *expect_ack_reply(th_raw *r)
{
    Liandong__V1__Body *b = th_raw_recv_reply(r, 5000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
        fail_msg("Nack %d: %s", b->nack->code, b->nack->text);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    assert_true(b->ack->reply.len > 0);
    Liandong__V1__Body *rb =
        liandong__v1__body__unpack(NULL, b->ack->reply.len, b->ack->reply.data);
    assert_non_null(rb);
    assert_int_equal(rb->msg_case, LIANDONG__V1__BODY__MSG_DIRECT);
    char *text = strdup(rb->direct->text);
    th_body_free(rb);
    th_body_free(b);
    return text;
}

static void expect_nack_code(th_raw *r, int code, const char *text_part)
{
    Liandong__V1__Body *b = th_raw_recv_reply(r, 5000);
    assert_non_null(b);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    assert_int_equal(b->nack->code, code);
    if (text_part)
        expect_contains(b->nack->text, text_part);
    th_body_free(b);
}

/* The next delivery's inner Direct text and the inner sender (caller frees). */
static char *next_delivery(th_raw *r, char *sender, size_t sender_len)
{
    Liandong__V1__Body *b;
    while ((b = th_raw_recv(r, 5000)) && b->msg_case != LIANDONG__V1__BODY__MSG_DELIVERY)
        th_body_free(b);
    assert_non_null(b);
    ldw_opened o;
    assert_int_equal(
        ldw_envelope_open(b->delivery->envelope.data, b->delivery->envelope.len, &o, NULL, 0),
        LD_OK);
    assert_int_equal(b->delivery->sender_sign_public.len, 32);
    assert_int_equal(ldw_envelope_verify(&o, b->delivery->sender_sign_public.data), LD_OK);
    snprintf(sender, sender_len, "%s", o.hdr->sender);
    Liandong__V1__Body *inner = ldw_opened_body(&o);
    assert_non_null(inner);
    assert_int_equal(inner->msg_case, LIANDONG__V1__BODY__MSG_DIRECT);
    char *text = strdup(inner->direct->text);
    uint64_t did = b->delivery->delivery_id;
    th_body_free(inner);
    ldw_opened_clear(&o);
    th_body_free(b);
    th_raw_delivery_ack(r, did);
    return text;
}

static void test_recorder_plugin(void **state)
{
    fixture *f = *state;
    write_config(
        f, "  - name: recorder\n"
           "    path: " PLUGIN(
               "recorder") "\n"
                           "    config: {copy_to: mdj.zf.bgs, notify_after_ms: 1700000000000}\n");
    const char *extra[] = {"--config", f->config, "--simulated-clock=2023-01-01", NULL};
    th_broker_start(&f->env, extra);
    th_raw a, b, c;
    th_raw_connect(&a, &f->env, f->a, f->a);
    th_body_free(th_raw_hello(&a));

    /* Accepted: the reply counts what the plugin saw (Hello and this one). */
    ldw_envelope_id id;
    send_direct(&a, "mdj.fgw", "第一条", &id);
    char *counts = expect_ack_reply(&a);
    assert_string_equal(counts, "message=2 refused=0 tick=0");
    free(counts);

    /* Refused by the plugin: its write in that transaction is discarded, and
     * on_refused records the refusal. */
    send_direct(&a, "mdj.fgw", "refuse-me", NULL);
    expect_nack_code(&a, LIANDONG__V1__REASON_CODE__UNAUTHORIZED, "recorder plugin refuses");
    send_direct(&a, "mdj.fgw", "fail-me", NULL);
    expect_nack_code(&a, LIANDONG__V1__REASON_CODE__INTERNAL, NULL);
    /* Refused by the broker (replay): recorded too. */
    Liandong__V1__Body rb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct rd = LIANDONG__V1__DIRECT__INIT;
    char *rto[] = {"mdj.fgw"};
    rd.n_to = 1;
    rd.to = rto;
    rd.text = "replayed";
    rb.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    rb.direct = &rd;
    th_raw_send_body(&a, f->a, "mdj.gxj", 1, ldw_now_ms(), &rb, NULL, NULL, NULL);
    expect_nack_code(&a, LIANDONG__V1__REASON_CODE__REPLAY, NULL);
    send_direct(&a, "mdj.fgw", "第二条", &id);
    counts = expect_ack_reply(&a);
    assert_string_equal(counts, "message=3 refused=3 tick=0");
    free(counts);

    /* Delivered to the recipient and, added by the plugin, to the copy. */
    char sender[80];
    th_raw_connect(&b, &f->env, f->b, f->b);
    th_body_free(th_raw_hello(&b));
    char *t = next_delivery(&b, sender, sizeof sender);
    assert_string_equal(t, "第一条");
    free(t);
    t = next_delivery(&b, sender, sizeof sender);
    assert_string_equal(t, "第二条");
    free(t);
    th_raw_connect(&c, &f->env, f->c, f->c);
    th_body_free(th_raw_hello(&c));
    t = next_delivery(&c, sender, sizeof sender);
    assert_string_equal(t, "第一条");
    assert_string_equal(sender, "mdj.gxj");
    free(t);
    t = next_delivery(&c, sender, sizeof sender);
    assert_string_equal(t, "第二条");
    free(t);

    /* The clock passes the plugin's mark: on_tick emits a broker-signed
     * message into the copy's mailbox. */
    th_raw adm;
    th_raw_connect(&adm, &f->env, f->admin, f->admin);
    th_body_free(th_raw_hello(&adm));
    Liandong__V1__Body cb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    ca.by_ms = 365LL * 86400000;
    cb.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    cb.clock_advance = &ca;
    th_raw_send_body(&adm, f->admin, "ops.admin", 1, ldw_now_ms(), &cb, NULL, NULL, NULL);
    Liandong__V1__Body *ab = th_raw_recv_reply(&adm, 5000);
    assert_non_null(ab);
    assert_int_equal(ab->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(ab);
    t = next_delivery(&c, sender, sizeof sender);
    assert_string_equal(t, "clock passed 1700000000000");
    assert_string_equal(sender, "broker"); /* signed by the broker, verified above */
    free(t);

    /* A restart keeps the plugin's database. */
    th_raw_close(&a);
    th_broker_signal_stop(&f->env, SIGKILL);
    th_broker_start(&f->env, extra);
    th_raw_connect(&a, &f->env, f->a, f->a);
    th_body_free(th_raw_hello(&a));
    send_direct(&a, "mdj.fgw", "重启后", &id);
    counts = expect_ack_reply(&a);
    /* Hello, 2nd Direct, b's and c's Hellos and acks ... all counted: at least
     * the 3 before plus this Hello and message, and the tick. */
    long long m = 0, r = 0, tk = 0;
    assert_int_equal(sscanf(counts, "message=%lld refused=%lld tick=%lld", &m, &r, &tk), 3);
    assert_true(m >= 5);
    assert_int_equal(r, 3);
    assert_int_equal(tk, 1);
    free(counts);
    th_raw_close(&a);
    th_raw_close(&b);
    th_raw_close(&c);
    th_raw_close(&adm);
}

/* On the wall clock, on_tick runs every tick_ms however busy the broker
 * is: the clock moving between two messages is no reason to tick (only a
 * simulated clock's move is). */
static void test_tick_paced_on_the_wall_clock(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fprintf(fp, "tick_ms: 500\nplugins:\n  - name: recorder\n    path: %s\n", PLUGIN("recorder"));
    fclose(fp);
    const char *extra[] = {"--config", f->config, NULL};
    th_broker_start(&f->env, extra);
    th_raw a;
    th_raw_connect(&a, &f->env, f->a, f->a);
    th_body_free(th_raw_hello(&a));
    int64_t t0 = ldw_now_ms();
    int sent = 0;
    while (ldw_now_ms() - t0 < 1500) {
        send_direct(&a, "mdj.fgw", "第一条", NULL);
        free(expect_ack_reply(&a));
        sent++;
    }
    send_direct(&a, "mdj.fgw", "tick-calls?", NULL);
    char *reply = expect_ack_reply(&a);
    long long calls = -1, elapsed = ldw_now_ms() - t0;
    assert_int_equal(sscanf(reply, "tick_calls=%lld", &calls), 1);
    fprintf(stderr, "%d messages in %lld ms, on_tick called %lld times\n", sent, elapsed, calls);
    assert_true(sent > 10);
    assert_true(calls >= 1 && calls <= elapsed / 500 + 2);
    free(reply);
    th_raw_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_plugin_stops_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_symbol_stops_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_abi_stops_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_failure_stops_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recorder_plugin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_paced_on_the_wall_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
