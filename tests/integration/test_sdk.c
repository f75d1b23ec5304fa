/* Integration tests of libliandong against a real broker on 127.0.0.1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "liandong/liandong.h"

typedef struct fixture {
    th_env env;
    ldk_identity *gxj, *fgw;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    f->gxj = th_add_identity(&f->env, "mdj.gxj", "市工信局", LDK_ROLE_DEPARTMENT);
    f->fgw = th_add_identity(&f->env, "mdj.fgw", "市发改委", LDK_ROLE_DEPARTMENT);
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

static ld_client *client_only(fixture *f, const char *id, int connect, const char *const *only,
                              size_t n_only)
{
    char path[512], err[512];
    th_secret_path(&f->env, id, path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = f->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = f->env.broker_pub;
    o.resend_interval_ms = 300;
    o.only_types = only;
    o.n_only_types = n_only;
    ld_client *c;
    int rc = ld_client_new(&o, &c, err, sizeof err);
    if (rc != LD_OK)
        fail_msg("ld_client_new: %s", err);
    if (connect && ld_client_connect(c) != LD_OK)
        fail_msg("connect: %s", ld_client_last_error(c));
    return c;
}

static ld_client *client(fixture *f, const char *id, int connect)
{
    return client_only(f, id, connect, NULL, 0);
}

static void test_send_receive_ack(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 1), *b = client(f, "mdj.fgw", 1);
    const char *to[] = {"mdj.fgw"};
    const uint8_t payload[] = {0, 1, 2, 0xff};
    ld_ack ack;
    assert_int_equal(ld_client_send_direct(a, to, 1, "请报送进展", payload, sizeof payload, &ack),
                     LD_OK);
    assert_int_equal(ack.seq, 1);
    assert_int_equal(ack.duplicate, 0);
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 5000, &d), LD_OK);
    assert_string_equal(d->sender, "mdj.gxj");
    assert_string_equal(d->sender_name, "市工信局");
    assert_string_equal(d->type, "direct");
    assert_string_equal(d->text, "请报送进展");
    assert_int_equal(d->payload_len, sizeof payload);
    assert_memory_equal(d->payload, payload, sizeof payload);
    assert_memory_equal(d->envelope_id, ack.envelope_id, 16);
    assert_int_equal(d->n_to, 1);
    assert_string_equal(d->to[0], "mdj.fgw");
    assert_int_equal(ld_client_ack(b, d), LD_OK);
    ld_delivery_destroy(&d);
    assert_null(d);
    assert_int_equal(ld_client_recv(b, 300, &d), LD_ERR_TIMEOUT);

    /* A refusal carries the reason. */
    const char *nobody[] = {"mdj.nobody"};
    assert_int_equal(ld_client_send_direct(a, nobody, 1, "x", NULL, 0, NULL), LD_ERR_REFUSED);
    assert_int_equal(ld_client_last_reason(a), LD_REASON_UNKNOWN_RECIPIENT);
    assert_non_null(strstr(ld_client_last_error(a), "mdj.nobody"));
    /* And the next send works, continuing the sequence. */
    assert_int_equal(ld_client_send_direct(a, to, 1, "y", NULL, 0, &ack), LD_OK);
    assert_int_equal(ack.seq, 2);
    ld_client_destroy(&a);
    ld_client_destroy(&b);
    assert_null(a);
}

static void test_restarted_client_continues_sequence(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 1);
    const char *to[] = {"mdj.fgw"};
    ld_ack ack;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ld_client_send_direct(a, to, 1, "n", NULL, 0, &ack), LD_OK);
    ld_client_destroy(&a);
    a = client(f, "mdj.gxj", 1);
    ld_session_info si;
    assert_int_equal(ld_client_session(a, &si), LD_OK);
    assert_int_equal(si.last_seq, 3);
    assert_string_equal(si.principal, "mdj.gxj");
    assert_string_equal(si.name, "市工信局");
    assert_int_equal(ld_client_send_direct(a, to, 1, "继续", NULL, 0, &ack), LD_OK);
    assert_int_equal(ack.seq, 4);
    ld_client_destroy(&a);
}

static void *restart_later(void *arg)
{
    fixture *f = arg;
    usleep(800000);
    th_broker_start(&f->env, NULL);
    return NULL;
}

/* The broker dies; a send waits, the client reconnects by itself, says Hello
 * again and resends; the recipient's open session also resumes. */
static void test_reconnect_and_resend(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 1), *b = client(f, "mdj.fgw", 1);
    th_broker_signal_stop(&f->env, SIGKILL);
    pthread_t t;
    pthread_create(&t, NULL, restart_later, f);
    const char *to[] = {"mdj.fgw"};
    ld_ack ack;
    int rc = ld_client_send_direct(a, to, 1, "断线重连", NULL, 0, &ack);
    pthread_join(t, NULL);
    if (rc != LD_OK)
        fail_msg("send across a restart: %s", ld_client_last_error(a));
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 8000, &d), LD_OK);
    assert_string_equal(d->text, "断线重连");
    assert_memory_equal(d->envelope_id, ack.envelope_id, 16);
    assert_int_equal(ld_client_ack(b, d), LD_OK);
    ld_delivery_destroy(&d);
    ld_client_destroy(&a);
    ld_client_destroy(&b);
}

/* A delivery that comes again (not acknowledged before a restart) is given to
 * the application once, and acknowledged so it leaves the mailbox. */
static void test_duplicate_delivery_dropped(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 1), *b = client(f, "mdj.fgw", 1);
    const char *to[] = {"mdj.fgw"};
    assert_int_equal(ld_client_send_direct(a, to, 1, "只处理一次", NULL, 0, NULL), LD_OK);
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 5000, &d), LD_OK);
    ld_delivery_destroy(&d); /* processed, but the ack is lost: */
    th_broker_signal_stop(&f->env, SIGKILL);
    th_broker_start(&f->env, NULL);
    /* b reconnects, says Hello, the broker sends the entry again. */
    assert_int_equal(ld_client_recv(b, 3000, &d), LD_ERR_TIMEOUT);
    ld_client_destroy(&b);
    /* The SDK acknowledged the duplicate: the mailbox is empty. */
    b = client(f, "mdj.fgw", 1);
    ld_session_info si;
    assert_int_equal(ld_client_session(b, &si), LD_OK);
    assert_int_equal(si.mailbox_size, 0);
    ld_client_destroy(&a);
    ld_client_destroy(&b);
}

static void test_bad_identity_file(void **state)
{
    fixture *f = *state;
    char path[512], err[512] = "";
    th_secret_path(&f->env, "mdj.gxj", path, sizeof path);
    assert_int_equal(chmod(path, 0644), 0);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = f->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = f->env.broker_pub;
    ld_client *c = NULL;
    assert_int_equal(ld_client_new(&o, &c, err, sizeof err), LD_ERR_PERMISSION);
    assert_null(c);
    assert_non_null(strstr(err, path));
    assert_int_equal(chmod(path, 0600), 0);
}

/* options.only_types reaches the broker: a client taking only TaskAssigns
 * gets no Direct, which waits for a client without the filter. Bad lists are
 * refused by ld_client_new. */
static void test_only_types(void **state)
{
    fixture *f = *state;
    ld_client *a = client(f, "mdj.gxj", 1);
    const char *to[] = {"mdj.fgw"};
    assert_int_equal(ld_client_send_direct(a, to, 1, "只给任务", NULL, 0, NULL), LD_OK);
    const char *only[] = {"task_assign"};
    ld_client *b = client_only(f, "mdj.fgw", 1, only, 1);
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 500, &d), LD_ERR_TIMEOUT);
    ld_client_destroy(&b);
    b = client(f, "mdj.fgw", 1);
    assert_int_equal(ld_client_recv(b, 5000, &d), LD_OK);
    assert_string_equal(d->text, "只给任务");
    ld_delivery_destroy(&d);
    ld_client_destroy(&b);
    ld_client_destroy(&a);

    char path[512], err[512] = "";
    th_secret_path(&f->env, "mdj.fgw", path, sizeof path);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = f->env.endpoint;
    o.identity_path = path;
    o.broker_key_path = f->env.broker_pub;
    const char *bad[] = {"escalation_notice", "notices"};
    o.only_types = bad;
    o.n_only_types = 2;
    assert_int_equal(ld_client_new(&o, &b, err, sizeof err), LD_ERR_INVALID);
    assert_null(b);
    assert_non_null(strstr(err, "\"notices\" is not a message type"));
    o.n_only_types = 1;
    o.send_only = 1;
    assert_int_equal(ld_client_new(&o, &b, err, sizeof err), LD_ERR_INVALID);
    assert_non_null(strstr(err, "send_only"));
    o.send_only = 0;
    assert_int_equal(ld_client_new(&o, &b, err, sizeof err), LD_OK);
    ld_client_destroy(&b);
}

/* A receiving connection whose process stops (the TCP connection stays
 * open, nothing answers): the broker's heartbeat drops it, its probe finds
 * it gone, and the principal's other connection gets what it left
 * unacknowledged. The stopped client is a child process, so that SIGSTOP
 * halts its ZeroMQ threads too. */
static void test_stopped_connection_dropped(void **state)
{
    fixture *f = *state;
    th_broker_signal_stop(&f->env, SIGTERM);
    const char *hb[] = {"--heartbeat-ms", "200", NULL};
    th_broker_start(&f->env, hb);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* No cmocka here: any failure is an exit the parent notices. */
        close(ready[0]);
        char path[512];
        th_secret_path(&f->env, "mdj.fgw", path, sizeof path);
        ld_client_options o;
        ld_client_options_init(&o);
        o.endpoint = f->env.endpoint;
        o.identity_path = path;
        o.broker_key_path = f->env.broker_pub;
        const char *only[] = {"direct"};
        o.only_types = only;
        o.n_only_types = 1;
        ld_client *c;
        ld_delivery *d;
        if (ld_client_new(&o, &c, NULL, 0) != LD_OK || ld_client_connect(c) != LD_OK)
            _exit(1);
        for (int i = 0; i < 2; i++) {
            if (ld_client_recv(c, 10000, &d) != LD_OK)
                _exit(2);
            ld_delivery_destroy(&d); /* not acknowledged */
        }
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(ready[1]);
    ld_client *a = client(f, "mdj.gxj", 1);
    const char *to[] = {"mdj.fgw"};
    assert_int_equal(ld_client_send_direct(a, to, 1, "第一条", NULL, 0, NULL), LD_OK);
    assert_int_equal(ld_client_send_direct(a, to, 1, "第二条", NULL, 0, NULL), LD_OK);
    struct pollfd p = {ready[0], POLLIN, 0};
    char byte = 0;
    int ok = poll(&p, 1, 15000) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (!ok) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        fail_msg("the child client did not get its two deliveries");
    }
    /* While the child runs, its connection has the Directs. */
    ld_client *b = client(f, "mdj.fgw", 1);
    ld_delivery *d;
    assert_int_equal(ld_client_recv(b, 700, &d), LD_ERR_TIMEOUT);
    kill(child, SIGSTOP);
    for (int i = 0; i < 2; i++) {
        int rc = ld_client_recv(b, 5000, &d);
        if (rc != LD_OK) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            fail_msg("delivery %d did not move to the other connection: %s", i + 1,
                     ld_strerror(rc));
        }
        assert_string_equal(d->text, i ? "第二条" : "第一条");
        assert_int_equal(ld_client_ack(b, d), LD_OK);
        ld_delivery_destroy(&d);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ld_client_destroy(&b);
    ld_client_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_receive_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restarted_client_continues_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_and_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_delivery_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_identity_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_connection_dropped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
