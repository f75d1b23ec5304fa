/* harness.c - see harness.h. Failures end the current cmocka test. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>
#include <sodium.h>

#include "brokerkit.h"

#ifndef LD_BROKER_BIN
#error "LD_BROKER_BIN must name the broker binary"
#endif

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Environments not yet finished: a failed test skips th_env_fini, and its
 * broker would outlive the test (and keep ctest waiting on its output). */
static th_env *live[32];

static void kill_leftover_brokers(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        if (live[i] && live[i]->pid > 0) {
            kill(live[i]->pid, SIGKILL);
            waitpid(live[i]->pid, NULL, 0);
            live[i]->pid = 0;
        }
    }
}

static void track(th_env *e, int add)
{
    static int registered;
    if (!registered && atexit(kill_leftover_brokers) == 0)
        registered = 1;
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        if (add ? live[i] == NULL : live[i] == e) {
            live[i] = add ? e : NULL;
            return;
        }
    }
}

void th_env_init(th_env *e)
{
    memset(e, 0, sizeof *e);
    track(e, 1);
    assert_true(sodium_init() >= 0);
    snprintf(e->dir, sizeof e->dir, "/tmp/liandong-test-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->keys, sizeof e->keys, "%s/keys", e->dir);
    snprintf(e->data, sizeof e->data, "%s/data", e->dir);
    snprintf(e->roster, sizeof e->roster, "%s/roster", e->dir);
    snprintf(e->ready, sizeof e->ready, "%s/ready", e->dir);
    snprintf(e->broker_secret, sizeof e->broker_secret, "%s/broker.secret", e->keys);
    snprintf(e->broker_pub, sizeof e->broker_pub, "%s/broker.pub", e->keys);
    char err[LDK_ERR_MAX];
    if (ldbk_broker_keys(e->keys, e->broker_secret, e->broker_pub, e->roster, &e->broker, err,
                         sizeof err) != 0)
        fail_msg("broker keys: %s", err);
    e->zctx = zmq_ctx_new();
    assert_non_null(e->zctx);
}

void th_env_fini(th_env *e)
{
    track(e, 0);
    if (e->pid > 0)
        th_broker_signal_stop(e, SIGTERM);
    for (size_t i = 0; i < e->n_ids; i++)
        ldk_identity_destroy(&e->ids[i]);
    ldk_identity_destroy(&e->broker);
    /* A failed test may leave sockets open; zmq_ctx_term would wait for them. */
    for (size_t i = 0; i < sizeof e->socks / sizeof e->socks[0]; i++)
        if (e->socks[i])
            zmq_close(e->socks[i]);
    if (e->zctx)
        zmq_ctx_term(e->zctx);
    if (ldbk_remove_dir(e->dir) != 0)
        fprintf(stderr, "could not remove %s\n", e->dir);
}

void th_secret_path(const th_env *e, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.secret", e->keys, id);
}

ldk_identity *th_add_identity(th_env *e, const char *id, const char *name, unsigned roles)
{
    assert_true(e->n_ids < TH_MAX_IDS);
    char err[LDK_ERR_MAX], path[512];
    ldk_identity *ident;
    assert_int_equal(ldk_identity_generate(id, name, roles, &ident, err, sizeof err), LD_OK);
    th_secret_path(e, id, path, sizeof path);
    assert_int_equal(ldk_identity_save_secret(ident, path, err, sizeof err), LD_OK);
    snprintf(path, sizeof path, "%s/%s.pub", e->keys, id);
    assert_int_equal(ldk_identity_save_public(ident, path, err, sizeof err), LD_OK);
    ldk_roster *r;
    assert_int_equal(ldk_roster_load(e->roster, &r, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_add(r, ident, (int64_t)time(NULL), err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_save(r, e->roster, err, sizeof err), LD_OK);
    ldk_roster_destroy(&r);
    e->ids[e->n_ids++] = ident;
    return ident;
}

/* The broker's usual arguments in e, extra appended. */
static ldbk_start start_args(th_env *e, const char *const *extra)
{
    return (ldbk_start){.bin = LD_BROKER_BIN,
                        .listen = e->endpoint,
                        .data = e->data,
                        .roster = e->roster,
                        .key = e->broker_secret,
                        .ready = e->ready,
                        .extra = extra};
}

void th_broker_start(th_env *e, const char *const *extra)
{
    ldbk_start s = start_args(e, extra);
    s.log_level = getenv("LD_TEST_LOG") ? getenv("LD_TEST_LOG") : "warn";
    char err[512];
    if (ldbk_start_broker(&s, &e->pid, e->endpoint, sizeof e->endpoint, 10000, err, sizeof err))
        fail_msg("%s", err);
}

int th_broker_signal_stop(th_env *e, int sig)
{
    assert_true(e->pid > 0);
    int st;
    if (ldbk_stop(&e->pid, sig, 10000, &st) != 0)
        fail_msg("broker did not stop within 10 s of signal %d", sig);
    return st;
}

void th_broker_reload(th_env *e)
{
    assert_true(e->pid > 0);
    kill(e->pid, SIGHUP);
    /* The broker handles the flag within one poll period (200 ms). */
    sleep_ms(600);
}

void th_raw_connect(th_raw *r, th_env *e, ldk_identity *id, ldk_identity *curve_id)
{
    memset(r, 0, sizeof *r);
    r->env = e;
    r->id = id;
    r->sock = zmq_socket(e->zctx, ZMQ_DEALER);
    assert_non_null(r->sock);
    int linger = 0;
    zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_setsockopt(r->sock, ZMQ_CURVE_SERVERKEY, e->broker->curve_public, 40), 0);
    assert_int_equal(zmq_setsockopt(r->sock, ZMQ_CURVE_PUBLICKEY, curve_id->curve_public, 40), 0);
    assert_int_equal(zmq_setsockopt(r->sock, ZMQ_CURVE_SECRETKEY, curve_id->curve_secret, 40), 0);
    assert_int_equal(zmq_connect(r->sock, e->endpoint), 0);
    for (size_t i = 0; i < sizeof e->socks / sizeof e->socks[0]; i++) {
        if (!e->socks[i]) {
            e->socks[i] = r->sock;
            break;
        }
    }
}

void th_raw_close(th_raw *r)
{
    if (!r->sock)
        return;
    for (size_t i = 0; i < sizeof r->env->socks / sizeof r->env->socks[0]; i++)
        if (r->env->socks[i] == r->sock)
            r->env->socks[i] = NULL;
    zmq_close(r->sock);
    r->sock = NULL;
}

void th_raw_send_bytes(th_raw *r, const void *buf, size_t len)
{
    assert_true(zmq_send(r->sock, buf, len, 0) >= 0);
}

void th_raw_send_body(th_raw *r, const ldk_identity *signer, const char *sender, uint64_t seq,
                      int64_t sent_at_ms, const Liandong__V1__Body *body, ldw_envelope_id *id_out,
                      uint8_t **bytes_out, size_t *len_out)
{
    ldw_header_fields h = {
        .sender = sender, .key_id = signer->key_id, .seq = seq, .sent_at_ms = sent_at_ms};
    uint8_t *buf;
    size_t len;
    assert_int_equal(ldw_envelope_seal_body(&h, body, signer->sign_secret, &buf, &len, id_out),
                     LD_OK);
    th_raw_send_bytes(r, buf, len);
    if (bytes_out) {
        *bytes_out = buf;
        *len_out = len;
    } else {
        free(buf);
    }
}

void th_raw_direct_seq(th_raw *r, const char *const *to, size_t n_to, const char *text,
                       const void *payload, size_t payload_len, uint64_t seq,
                       ldw_envelope_id *id_out, uint8_t **bytes_out, size_t *len_out)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    d.n_to = n_to;
    d.to = (char **)to;
    d.text = (char *)text;
    d.payload.data = (uint8_t *)payload;
    d.payload.len = payload_len;
    body.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    body.direct = &d;
    th_raw_send_body(r, r->id, r->id->id, seq, ldw_now_ms(), &body, id_out, bytes_out, len_out);
}

void th_raw_direct(th_raw *r, const char *to, const char *text, ldw_envelope_id *id_out)
{
    th_raw_direct_seq(r, &to, 1, text, NULL, 0, ++r->seq, id_out, NULL, NULL);
}

Liandong__V1__Body *th_raw_hello_protocol(th_raw *r, unsigned protocol, int send_only)
{
    return th_raw_hello_only(r, protocol, send_only, NULL, 0);
}

Liandong__V1__Body *th_raw_hello_only(th_raw *r, unsigned protocol, int send_only,
                                      const uint32_t *only, size_t n_only)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Hello h = LIANDONG__V1__HELLO__INIT;
    h.client = "liandong-tests";
    h.protocol = protocol;
    h.send_only = send_only;
    h.only_bodies = (uint32_t *)only;
    h.n_only_bodies = n_only;
    body.msg_case = LIANDONG__V1__BODY__MSG_HELLO;
    body.hello = &h;
    th_raw_send_body(r, r->id, r->id->id, 0, ldw_now_ms(), &body, NULL, NULL, NULL);
    for (;;) {
        Liandong__V1__Body *b = th_raw_recv(r, 5000);
        if (!b)
            fail_msg("no HelloReply within 5 s");
        if (b->msg_case == LIANDONG__V1__BODY__MSG_HELLO_REPLY) {
            if (b->hello_reply->last_seq > r->seq)
                r->seq = b->hello_reply->last_seq;
            return b;
        }
        if (b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
            fail_msg("Hello refused: %s", b->nack->text);
        th_body_free(b);
    }
}

Liandong__V1__Body *th_raw_hello(th_raw *r)
{
    return th_raw_hello_protocol(r, 1, 0);
}

Liandong__V1__Body *th_raw_hello_send_only(th_raw *r)
{
    return th_raw_hello_protocol(r, 1, 1);
}

Liandong__V1__Body *th_raw_recv(th_raw *r, int timeout_ms)
{
    zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    assert_true(zmq_msg_recv(&m, r->sock, 0) >= 0);
    ldw_opened o;
    char err[200];
    assert_int_equal(ldw_envelope_open(zmq_msg_data(&m), zmq_msg_size(&m), &o, err, sizeof err),
                     LD_OK);
    assert_string_equal(o.hdr->sender, r->env->broker->id);
    assert_int_equal(ldw_envelope_verify(&o, r->env->broker->sign_public), LD_OK);
    Liandong__V1__Body *b = ldw_opened_body(&o);
    assert_non_null(b);
    ldw_opened_clear(&o);
    zmq_msg_close(&m);
    return b;
}

Liandong__V1__Body *th_raw_recv_reply(th_raw *r, int timeout_ms)
{
    for (;;) {
        Liandong__V1__Body *b = th_raw_recv(r, timeout_ms);
        if (!b || b->msg_case == LIANDONG__V1__BODY__MSG_ACK ||
            b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
            return b;
        th_body_free(b);
    }
}

void th_raw_delivery_ack(th_raw *r, uint64_t delivery_id)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__DeliveryAck a = LIANDONG__V1__DELIVERY_ACK__INIT;
    a.n_delivery_ids = 1;
    a.delivery_ids = &delivery_id;
    body.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY_ACK;
    body.delivery_ack = &a;
    th_raw_send_body(r, r->id, r->id->id, 0, ldw_now_ms(), &body, NULL, NULL, NULL);
}

void th_body_free(Liandong__V1__Body *b)
{
    if (b)
        liandong__v1__body__free_unpacked(b, NULL);
}

/* ---- added for the plans plugin tests ---- */

void th_add_roster_ids(th_env *e, const char *const *ids, size_t n, unsigned roles)
{
    char err[LDK_ERR_MAX];
    ldk_roster *r;
    assert_int_equal(ldk_roster_load(e->roster, &r, err, sizeof err), LD_OK);
    for (size_t i = 0; i < n; i++) {
        if (ldk_roster_find_any(r, ids[i]))
            continue;
        ldk_identity *ident;
        assert_int_equal(ldk_identity_generate(ids[i], ids[i], roles, &ident, err, sizeof err),
                         LD_OK);
        assert_int_equal(ldk_roster_add(r, ident, (int64_t)time(NULL), err, sizeof err), LD_OK);
        ldk_identity_destroy(&ident);
    }
    assert_int_equal(ldk_roster_save(r, e->roster, err, sizeof err), LD_OK);
    ldk_roster_destroy(&r);
}

void th_write_file(th_env *e, const char *name, const char *text, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", e->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

int th_broker_start_fails(th_env *e, const char *const *extra, char *err, size_t errlen)
{
    char errpath[400];
    snprintf(errpath, sizeof errpath, "%s/broker-stderr", e->dir);
    ldbk_start s = start_args(e, extra);
    s.stderr_file = errpath;
    char why[512];
    pid_t pid;
    if (ldbk_spawn(&s, &pid, why, sizeof why) != 0)
        fail_msg("%s", why);
    int st;
    if (ldbk_stop(&pid, 0, 10000, &st) != 0)
        fail_msg("the broker started although it should have refused to");
    FILE *f = fopen(errpath, "r");
    size_t got = f ? fread(err, 1, errlen ? errlen - 1 : 0, f) : 0;
    if (f)
        fclose(f);
    if (errlen)
        err[got] = 0;
    return st;
}
