/* Integration tests: a real broker on 127.0.0.1, driven by a raw client that
 * can also send malformed and forged envelopes. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"

#define GXJ "mdj.gxj"
#define FGW "mdj.fgw"

typedef struct fixture {
    th_env env;
    ldk_identity *gxj, *fgw, *admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    f->gxj = th_add_identity(&f->env, GXJ, "市工信局", LDK_ROLE_DEPARTMENT);
    f->fgw = th_add_identity(&f->env, FGW, "市发改委", LDK_ROLE_DEPARTMENT);
    f->admin = th_add_identity(&f->env, "ops.admin", "运维", LDK_ROLE_ADMIN);
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

static void expect_ack(th_raw *r, const ldw_envelope_id *id, int duplicate)
{
    Liandong__V1__Body *b = th_raw_recv_reply(r, 5000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
        fail_msg("expected an Ack, got Nack %d: %s", b->nack->code, b->nack->text);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    assert_int_equal(b->ack->envelope_id.len, 16);
    assert_memory_equal(b->ack->envelope_id.data, id->bytes, 16);
    assert_int_equal(b->ack->duplicate, duplicate);
    th_body_free(b);
}

static void expect_nack(th_raw *r, int code)
{
    Liandong__V1__Body *b = th_raw_recv_reply(r, 5000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_ACK)
        fail_msg("expected Nack %d, got an Ack", code);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    if ((int)b->nack->code != code)
        fail_msg("expected Nack %d, got %d: %s", code, b->nack->code, b->nack->text);
    assert_true(strlen(b->nack->text) > 10); /* a sentence for people */
    th_body_free(b);
}

/* Receive the next Delivery; return its inner envelope's Direct text (caller
 * frees) and delivery id. */
static char *expect_delivery(th_raw *r, uint64_t *delivery_id, const ldw_envelope_id *want_id,
                             const ldk_identity *sender)
{
    Liandong__V1__Body *b;
    do {
        b = th_raw_recv(r, 5000);
        assert_non_null(b);
    } while (b->msg_case == LIANDONG__V1__BODY__MSG_HELLO_REPLY && (th_body_free(b), 1));
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
    Liandong__V1__Delivery *d = b->delivery;
    ldw_opened o;
    assert_int_equal(ldw_envelope_open(d->envelope.data, d->envelope.len, &o, NULL, 0), LD_OK);
    if (want_id)
        assert_memory_equal(o.id.bytes, want_id->bytes, 16);
    assert_int_equal(d->sender_sign_public.len, 32);
    assert_memory_equal(d->sender_sign_public.data, sender->sign_public, 32);
    assert_string_equal(d->sender_name, sender->name);
    assert_int_equal(ldw_envelope_verify(&o, sender->sign_public), LD_OK);
    Liandong__V1__Body *inner = ldw_opened_body(&o);
    assert_non_null(inner);
    assert_int_equal(inner->msg_case, LIANDONG__V1__BODY__MSG_DIRECT);
    char *text = strdup(inner->direct->text);
    *delivery_id = d->delivery_id;
    th_body_free(inner);
    ldw_opened_clear(&o);
    th_body_free(b);
    return text;
}

static void expect_silence(th_raw *r, int ms)
{
    Liandong__V1__Body *b = th_raw_recv(r, ms);
    if (b) {
        int c = b->msg_case;
        th_body_free(b);
        fail_msg("expected nothing, got message case %d", c);
    }
}

static void test_direct_online(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a, b;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&a));
    th_body_free(th_raw_hello(&b));
    ldw_envelope_id id;
    th_raw_direct(&a, FGW, "请报送第三季度进展", &id);
    expect_ack(&a, &id, 0);
    uint64_t did;
    char *text = expect_delivery(&b, &did, &id, f->gxj);
    assert_string_equal(text, "请报送第三季度进展");
    free(text);
    th_raw_delivery_ack(&b, did);
    th_raw_close(&b);
    /* A new session finds the mailbox empty. */
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    Liandong__V1__Body *hr = th_raw_hello(&b);
    assert_int_equal(hr->hello_reply->mailbox_size, 0);
    assert_string_equal(hr->hello_reply->principal, FGW);
    assert_string_equal(hr->hello_reply->name, "市发改委");
    th_body_free(hr);
    expect_silence(&b, 300);
    th_raw_close(&a);
    th_raw_close(&b);
}

static void test_offline_recipient_across_restart(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    ldw_envelope_id id1, id2;
    th_raw_direct(&a, FGW, "第一条", &id1);
    expect_ack(&a, &id1, 0);
    th_raw_direct(&a, FGW, "第二条", &id2);
    expect_ack(&a, &id2, 0);
    th_raw_close(&a);
    assert_int_equal(WEXITSTATUS(th_broker_signal_stop(&f->env, SIGTERM)), 0);
    th_broker_start(&f->env, NULL);

    th_raw b;
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    Liandong__V1__Body *hr = th_raw_hello(&b);
    assert_int_equal(hr->hello_reply->mailbox_size, 2);
    th_body_free(hr);
    uint64_t d1, d2;
    char *t1 = expect_delivery(&b, &d1, &id1, f->gxj);
    char *t2 = expect_delivery(&b, &d2, &id2, f->gxj); /* in mailbox order */
    assert_string_equal(t1, "第一条");
    assert_string_equal(t2, "第二条");
    assert_true(d1 < d2);
    free(t1);
    free(t2);
    /* Not acknowledged: a new session gets both again. */
    th_raw_close(&b);
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b));
    uint64_t e1, e2;
    free(expect_delivery(&b, &e1, &id1, f->gxj));
    free(expect_delivery(&b, &e2, &id2, f->gxj));
    assert_int_equal(e1, d1);
    assert_int_equal(e2, d2);
    th_raw_close(&b);
}

static void test_sigkill_after_ack(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    ldw_envelope_id id;
    th_raw_direct(&a, FGW, "落实秸秆还田任务", &id);
    expect_ack(&a, &id, 0);
    int st = th_broker_signal_stop(&f->env, SIGKILL);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    th_raw_close(&a);
    th_broker_start(&f->env, NULL);
    th_raw b;
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b));
    uint64_t did;
    char *t = expect_delivery(&b, &did, &id, f->gxj);
    assert_string_equal(t, "落实秸秆还田任务");
    free(t);
    th_raw_close(&b);
}

static void test_resend_acked_and_delivered_once(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a, b;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    const char *to[] = {FGW, FGW}; /* a repeated recipient gets one copy */
    ldw_envelope_id id;
    uint8_t *bytes;
    size_t len;
    th_raw_direct_seq(&a, to, 2, "重发测试", NULL, 0, 1, &id, &bytes, &len);
    expect_ack(&a, &id, 0);
    th_raw_send_bytes(&a, bytes, len); /* the client lost its Ack and resends */
    expect_ack(&a, &id, 1);
    free(bytes);
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    Liandong__V1__Body *hr = th_raw_hello(&b);
    assert_int_equal(hr->hello_reply->mailbox_size, 1);
    th_body_free(hr);
    uint64_t did;
    free(expect_delivery(&b, &did, &id, f->gxj));
    expect_silence(&b, 300);
    th_raw_close(&a);
    th_raw_close(&b);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    ldw_envelope_id id;

    /* Random bytes. */
    uint8_t junk[300];
    randombytes_buf(junk, sizeof junk);
    junk[0] = 0xff; /* not a valid protobuf tag */
    th_raw_send_bytes(&a, junk, sizeof junk);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__MALFORMED);

    /* Two frames. */
    assert_true(zmq_send(a.sock, "a", 1, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(a.sock, "b", 1, 0) >= 0);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__MALFORMED);

    /* Oversized frame: limit 1 MiB by default. */
    size_t big = 1024 * 1024 + 100;
    uint8_t *huge = calloc(1, big);
    th_raw_send_bytes(&a, huge, big);
    free(huge);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__TOO_LARGE);

    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {FGW};
    d.n_to = 1;
    d.to = to;
    d.text = "x";
    body.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    body.direct = &d;

    /* Signed as someone else than the CURVE identity. */
    th_raw_send_body(&a, f->fgw, FGW, 1, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__SENDER_MISMATCH);

    /* Bad signature: our sender and key id, signed with another key. */
    ldk_identity *forger;
    char err[LDK_ERR_MAX];
    assert_int_equal(
        ldk_identity_generate(GXJ, "伪造", LDK_ROLE_DEPARTMENT, &forger, err, sizeof err), LD_OK);
    memcpy(forger->key_id, f->gxj->key_id, sizeof forger->key_id);
    th_raw_send_body(&a, forger, GXJ, 1, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__BAD_SIGNATURE);
    /* Unknown key id for a known sender. */
    memcpy(forger->key_id, "00000000000000ff", 17);
    th_raw_send_body(&a, forger, GXJ, 1, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__UNKNOWN_SENDER);
    ldk_identity_destroy(&forger);

    /* Accepted seq 5, then a different envelope with seq 5 and with seq 4. */
    th_raw_send_body(&a, f->gxj, GXJ, 5, ldw_now_ms(), &body, &id, NULL, NULL);
    expect_ack(&a, &id, 0);
    d.text = "y";
    th_raw_send_body(&a, f->gxj, GXJ, 5, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__REPLAY);
    th_raw_send_body(&a, f->gxj, GXJ, 4, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__REPLAY);

    /* Clock skew: ten minutes late. */
    th_raw_send_body(&a, f->gxj, GXJ, 6, ldw_now_ms() - 600000, &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__CLOCK_SKEW);

    /* Unknown recipient: nothing stored, so seq 6 is still free afterwards. */
    char *nobody[] = {"mdj.nobody"};
    d.to = nobody;
    th_raw_send_body(&a, f->gxj, GXJ, 6, ldw_now_ms(), &body, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__UNKNOWN_RECIPIENT);
    d.to = to;

    /* ClockAdvance: not an admin; then an admin on a wall-clock broker. */
    Liandong__V1__Body cb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    ca.by_ms = 86400000;
    cb.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    cb.clock_advance = &ca;
    th_raw_send_body(&a, f->gxj, GXJ, 6, ldw_now_ms(), &cb, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__UNAUTHORIZED);
    th_raw adm;
    th_raw_connect(&adm, &f->env, f->admin, f->admin);
    th_body_free(th_raw_hello(&adm));
    th_raw_send_body(&adm, f->admin, f->admin->id, 1, ldw_now_ms(), &cb, NULL, NULL, NULL);
    expect_nack(&adm, LIANDONG__V1__REASON_CODE__UNSUPPORTED);
    th_raw_close(&adm);

    /* A message type only the broker sends. */
    Liandong__V1__Body ab = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Ack ack = LIANDONG__V1__ACK__INIT;
    ab.msg_case = LIANDONG__V1__BODY__MSG_ACK;
    ab.ack = &ack;
    th_raw_send_body(&a, f->gxj, GXJ, 6, ldw_now_ms(), &ab, NULL, NULL, NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__UNSUPPORTED);

    /* After all that, the broker still serves a good client. */
    th_raw_send_body(&a, f->gxj, GXJ, 6, ldw_now_ms(), &body, &id, NULL, NULL);
    expect_ack(&a, &id, 0);
    th_raw b;
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b));
    uint64_t did;
    free(expect_delivery(&b, &did, NULL, f->gxj));
    free(expect_delivery(&b, &did, &id, f->gxj));
    th_raw_close(&b);
    th_raw_close(&a);
}

static void test_revoked_key_after_sighup(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    ldw_envelope_id id;
    th_raw_direct(&a, FGW, "撤销前", &id);
    expect_ack(&a, &id, 0);

    char err[LDK_ERR_MAX];
    ldk_roster *r;
    assert_int_equal(ldk_roster_load(f->env.roster, &r, err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_revoke(r, GXJ, (int64_t)time(NULL), err, sizeof err), LD_OK);
    assert_int_equal(ldk_roster_save(r, f->env.roster, err, sizeof err), LD_OK);
    ldk_roster_destroy(&r);
    th_broker_reload(&f->env);

    /* The open session's next message is refused... */
    th_raw_direct(&a, FGW, "撤销后", NULL);
    expect_nack(&a, LIANDONG__V1__REASON_CODE__KEY_REVOKED);
    th_raw_close(&a);
    /* ...and a new connection with the revoked key gets no session at all. */
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    Liandong__V1__Body hb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Hello h = LIANDONG__V1__HELLO__INIT;
    hb.msg_case = LIANDONG__V1__BODY__MSG_HELLO;
    hb.hello = &h;
    th_raw_send_body(&a, f->gxj, GXJ, 0, ldw_now_ms(), &hb, NULL, NULL, NULL);
    expect_silence(&a, 1000);
    th_raw_close(&a);
    /* Others are unaffected. */
    th_raw b;
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b));
    th_raw_direct(&b, FGW, "自己", &id);
    expect_ack(&b, &id, 0);
    th_raw_close(&b);
}

static void test_unknown_curve_key_gets_no_session(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    ldk_identity *stranger;
    char err[LDK_ERR_MAX];
    assert_int_equal(ldk_identity_generate("x.stranger", "陌生人", LDK_ROLE_DEPARTMENT, &stranger,
                                           err, sizeof err),
                     LD_OK);
    th_raw s;
    th_raw_connect(&s, &f->env, stranger, stranger);
    Liandong__V1__Body hb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Hello h = LIANDONG__V1__HELLO__INIT;
    hb.msg_case = LIANDONG__V1__BODY__MSG_HELLO;
    hb.hello = &h;
    th_raw_send_body(&s, stranger, "x.stranger", 0, ldw_now_ms(), &hb, NULL, NULL, NULL);
    expect_silence(&s, 1000);
    th_raw_close(&s);
    ldk_identity_destroy(&stranger);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    ldw_envelope_id id;
    th_raw_direct(&a, FGW, "仍在服务", &id);
    expect_ack(&a, &id, 0);
    th_raw_close(&a);
}

static void test_sequence_continues_after_hello(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    Liandong__V1__Body *hr = th_raw_hello(&a);
    assert_int_equal(hr->hello_reply->last_seq, 0);
    th_body_free(hr);
    ldw_envelope_id id;
    for (int i = 0; i < 3; i++) {
        th_raw_direct(&a, FGW, "n", &id);
        expect_ack(&a, &id, 0);
    }
    th_raw_close(&a);
    th_broker_signal_stop(&f->env, SIGKILL);
    th_broker_start(&f->env, NULL);
    th_raw_connect(&a, &f->env, f->gxj, f->gxj); /* a restarted client: seq unknown */
    hr = th_raw_hello(&a);
    assert_int_equal(hr->hello_reply->last_seq, 3);
    th_body_free(hr);
    assert_int_equal(a.seq, 3);
    th_raw_direct(&a, FGW, "继续", &id);
    expect_ack(&a, &id, 0);
    th_raw_close(&a);
}

static void test_storage_full_keeps_serving(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--map-size-mb", "2", "--max-message-bytes", "262144", NULL};
    th_broker_start(&f->env, extra);
    th_raw a;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {FGW};
    d.n_to = 1;
    d.to = to;
    d.text = "附件";
    d.payload.len = 200000;
    d.payload.data = malloc(d.payload.len);
    body.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    body.direct = &d;
    int stored = 0, full = 0;
    for (int i = 0; i < 40 && !full; i++) {
        randombytes_buf(d.payload.data, d.payload.len);
        ldw_envelope_id id;
        th_raw_send_body(&a, f->gxj, GXJ, ++a.seq, ldw_now_ms(), &body, &id, NULL, NULL);
        Liandong__V1__Body *rb = th_raw_recv_reply(&a, 5000);
        assert_non_null(rb);
        if (rb->msg_case == LIANDONG__V1__BODY__MSG_ACK) {
            stored++;
        } else {
            assert_int_equal(rb->nack->code, LIANDONG__V1__REASON_CODE__STORAGE_FULL);
            full = 1;
            a.seq--; /* not accepted: the number is free again */
        }
        th_body_free(rb);
    }
    assert_true(full);
    assert_true(stored > 0);
    /* Reads go on: the recipient gets and acknowledges everything stored. */
    th_raw b;
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    Liandong__V1__Body *hr = th_raw_hello(&b);
    assert_int_equal((int)hr->hello_reply->mailbox_size, stored);
    th_body_free(hr);
    for (int i = 0; i < stored; i++) {
        uint64_t did;
        free(expect_delivery(&b, &did, NULL, f->gxj));
        th_raw_delivery_ack(&b, did);
    }
    /* Space is free again: the next message is accepted. */
    usleep(300000);
    ldw_envelope_id id;
    th_raw_send_body(&a, f->gxj, GXJ, ++a.seq, ldw_now_ms(), &body, &id, NULL, NULL);
    expect_ack(&a, &id, 0);
    free(d.payload.data);
    th_raw_close(&a);
    th_raw_close(&b);
}

/* An accepted envelope id is remembered dedup_retention_days (business
 * clock): a resend within is acknowledged as a duplicate, one after is
 * refused REPLAY by the sequence check. */
static void test_dedup_retention(void **state)
{
    fixture *f = *state;
    char cfg[512];
    th_write_file(&f->env, "broker.yaml", "dedup_retention_days: 30\n", cfg, sizeof cfg);
    const char *extra[] = {"--config", cfg, "--simulated-clock=2022-07-01T09:00:00+08:00", NULL};
    th_broker_start(&f->env, extra);
    th_raw a, adm;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    th_raw_connect(&adm, &f->env, f->admin, f->admin);
    th_body_free(th_raw_hello(&adm));
    const char *to[] = {FGW};
    ldw_envelope_id id;
    uint8_t *bytes;
    size_t len;
    th_raw_direct_seq(&a, to, 1, "去重保留期", NULL, 0, 1, &id, &bytes, &len);
    expect_ack(&a, &id, 0);
    Liandong__V1__Body cb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    cb.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    cb.clock_advance = &ca;
    static const int64_t days[] = {29, 2}; /* 29 days later: kept; 31: forgotten */
    for (int k = 0; k < 2; k++) {
        ca.by_ms = days[k] * 86400000LL;
        th_raw_send_body(&adm, f->admin, f->admin->id, ++adm.seq, ldw_now_ms(), &cb, NULL, NULL,
                         NULL);
        Liandong__V1__Body *rb = th_raw_recv_reply(&adm, 5000);
        assert_non_null(rb);
        assert_int_equal(rb->msg_case, LIANDONG__V1__BODY__MSG_ACK);
        th_body_free(rb);
        th_raw_send_bytes(&a, bytes, len); /* the same envelope again */
        if (k == 0)
            expect_ack(&a, &id, 1);
        else
            expect_nack(&a, LIANDONG__V1__REASON_CODE__REPLAY);
    }
    free(bytes);
    th_raw_close(&a);
    th_raw_close(&adm);
}

static void test_simulated_clock(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--simulated-clock=2022-07-01T09:00:00+08:00", NULL};
    th_broker_start(&f->env, extra);
    const int64_t start = 1656637200000LL; /* 2022-07-01T01:00:00Z */
    th_raw adm;
    th_raw_connect(&adm, &f->env, f->admin, f->admin);
    Liandong__V1__Body *hr = th_raw_hello(&adm);
    assert_true(hr->hello_reply->simulated_clock);
    assert_int_equal(hr->hello_reply->clock_ms, start);
    th_body_free(hr);
    Liandong__V1__Body cb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    ca.by_ms = 90LL * 86400000;
    cb.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    cb.clock_advance = &ca;
    th_raw_send_body(&adm, f->admin, f->admin->id, ++adm.seq, ldw_now_ms(), &cb, NULL, NULL, NULL);
    Liandong__V1__Body *rb = th_raw_recv_reply(&adm, 5000);
    assert_non_null(rb);
    assert_int_equal(rb->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    assert_int_equal(rb->ack->clock_ms, start + ca.by_ms);
    th_body_free(rb);
    ca.by_ms = -1;
    th_raw_send_body(&adm, f->admin, f->admin->id, ++adm.seq, ldw_now_ms(), &cb, NULL, NULL, NULL);
    expect_nack(&adm, LIANDONG__V1__REASON_CODE__MALFORMED);
    th_raw_close(&adm);
    /* The clock survives a restart. */
    th_broker_signal_stop(&f->env, SIGKILL);
    th_broker_start(&f->env, extra);
    th_raw_connect(&adm, &f->env, f->admin, f->admin);
    hr = th_raw_hello(&adm);
    assert_int_equal(hr->hello_reply->clock_ms, start + 90LL * 86400000);
    th_body_free(hr);
    th_raw_close(&adm);
}

/* Several connections of one principal: send-only ones get no deliveries;
 * the newest receiving one is served, and when it is gone the previous one
 * takes over with everything not yet acknowledged. */
static void test_several_connections_of_one_principal(void **state)
{
    fixture *f = *state;
    th_broker_start(&f->env, NULL);
    th_raw a, b1, b2, b3;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_body_free(th_raw_hello(&a));
    th_raw_connect(&b1, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b1));
    th_raw_connect(&b2, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello_send_only(&b2));

    ldw_envelope_id id1, id2;
    th_raw_direct(&a, FGW, "一", &id1);
    expect_ack(&a, &id1, 0);
    uint64_t d1;
    free(expect_delivery(&b1, &d1, &id1, f->gxj));
    expect_silence(&b2, 300);

    /* A newer receiving connection takes the mailbox (id1 is unacknowledged). */
    th_raw_connect(&b3, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello(&b3));
    uint64_t d;
    free(expect_delivery(&b3, &d, &id1, f->gxj));
    assert_int_equal(d, d1);
    th_raw_close(&b3);
    usleep(200000); /* let the broker's connection notice the close */

    /* The next message finds b3 gone and falls back to b1, from the start. */
    th_raw_direct(&a, FGW, "二", &id2);
    expect_ack(&a, &id2, 0);
    free(expect_delivery(&b1, &d, &id1, f->gxj));
    free(expect_delivery(&b1, &d, &id2, f->gxj));
    expect_silence(&b2, 300);
    th_raw_close(&a);
    th_raw_close(&b1);
    th_raw_close(&b2);
}

/* Protocol 2: envelopes that arrive together are answered in one Answers
 * frame (in the order sent, a refusal in its place) and delivered in one
 * Deliveries frame; a protocol 1 connection gets one frame per answer and
 * per delivery. th_raw_recv checks each frame's broker signature. */
static void batches(fixture *f, unsigned protocol)
{
    enum { N = 12, BAD = 5 };
    th_broker_start(&f->env, NULL);
    th_raw a, b;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello_protocol(&a, protocol, 1));
    th_body_free(th_raw_hello_protocol(&b, protocol, 0));
    ldw_envelope_id ids[N];
    /* Stopped, the broker finds them all waiting when it goes on. */
    assert_int_equal(kill(f->env.pid, SIGSTOP), 0);
    const char *to[] = {FGW};
    for (int i = 0; i < N; i++) {
        char text[32];
        snprintf(text, sizeof text, "第%d条", i);
        /* BAD reuses seq 1: REPLAY. */
        th_raw_direct_seq(&a, to, 1, text, NULL, 0, i == BAD ? 1 : (uint64_t)i + 1, &ids[i], NULL,
                          NULL);
    }
    usleep(200 * 1000);
    assert_int_equal(kill(f->env.pid, SIGCONT), 0);

    int got = 0, frames = 0, largest = 0;
    while (got < N) {
        Liandong__V1__Body *r = th_raw_recv(&a, 5000);
        assert_non_null(r);
        frames++;
        Liandong__V1__Answer one = LIANDONG__V1__ANSWER__INIT, *onep = &one;
        Liandong__V1__Answer **v = &onep;
        size_t n = 1;
        if (r->msg_case == LIANDONG__V1__BODY__MSG_ANSWERS) {
            assert_int_equal(protocol, 2);
            v = r->answers->answers;
            n = r->answers->n_answers;
            assert_true(n >= 2); /* one answer goes as a plain Ack or Nack */
        } else if (r->msg_case == LIANDONG__V1__BODY__MSG_ACK) {
            one.answer_case = LIANDONG__V1__ANSWER__ANSWER_ACK;
            one.ack = r->ack;
        } else {
            assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_NACK);
            one.answer_case = LIANDONG__V1__ANSWER__ANSWER_NACK;
            one.nack = r->nack;
        }
        if ((int)n > largest)
            largest = (int)n;
        for (size_t k = 0; k < n; k++, got++) {
            assert_true(got < N);
            if (got == BAD) {
                assert_int_equal(v[k]->answer_case, LIANDONG__V1__ANSWER__ANSWER_NACK);
                assert_int_equal(v[k]->nack->code, LIANDONG__V1__REASON_CODE__REPLAY);
                assert_memory_equal(v[k]->nack->envelope_id.data, ids[got].bytes, 16);
            } else {
                assert_int_equal(v[k]->answer_case, LIANDONG__V1__ANSWER__ANSWER_ACK);
                assert_memory_equal(v[k]->ack->envelope_id.data, ids[got].bytes, 16);
                assert_int_equal(v[k]->ack->seq, got + 1);
            }
        }
        th_body_free(r);
    }
    if (protocol == 2)
        assert_true(largest >= 2 && frames < N);
    else
        assert_int_equal(frames, N);

    /* The recipient: every accepted one, in order, each delivery id once. */
    int delivered = 0;
    frames = 0;
    largest = 0;
    uint64_t last_id = 0;
    while (delivered < N - 1) {
        Liandong__V1__Body *r = th_raw_recv(&b, 5000);
        assert_non_null(r);
        frames++;
        Liandong__V1__Delivery **v = &r->delivery;
        size_t n = 1;
        if (r->msg_case == LIANDONG__V1__BODY__MSG_DELIVERIES) {
            assert_int_equal(protocol, 2);
            v = r->deliveries->deliveries;
            n = r->deliveries->n_deliveries;
            assert_true(n >= 2);
        } else {
            assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
        }
        if ((int)n > largest)
            largest = (int)n;
        for (size_t k = 0; k < n; k++, delivered++) {
            int want = delivered < BAD ? delivered : delivered + 1;
            ldw_opened o;
            assert_int_equal(
                ldw_envelope_open(v[k]->envelope.data, v[k]->envelope.len, &o, NULL, 0), LD_OK);
            assert_memory_equal(o.id.bytes, ids[want].bytes, 16);
            assert_int_equal(ldw_envelope_verify(&o, f->gxj->sign_public), LD_OK);
            assert_memory_equal(v[k]->sender_sign_public.data, f->gxj->sign_public, 32);
            assert_string_equal(v[k]->sender_name, "市工信局");
            ldw_opened_clear(&o);
            assert_true(v[k]->delivery_id > last_id);
            last_id = v[k]->delivery_id;
            th_raw_delivery_ack(&b, last_id);
        }
        th_body_free(r);
    }
    if (protocol == 2)
        assert_true(largest >= 2 && frames < N - 1);
    else
        assert_int_equal(frames, N - 1);
    expect_silence(&b, 300);
    th_raw_close(&a);
    th_raw_close(&b);
}

/* The delivery window also counts bytes: a recipient that reads but does
 * not acknowledge gets envelopes up to 8 MiB in flight, then nothing until
 * it acknowledges; each DeliveryAck makes room for what fits again. */
static void test_delivery_window_bytes(void **state)
{
    fixture *f = *state;
    enum { N = 30, PAYLOAD = 500000 };
    th_broker_start(&f->env, NULL);
    th_raw a, b;
    th_raw_connect(&a, &f->env, f->gxj, f->gxj);
    th_raw_connect(&b, &f->env, f->fgw, f->fgw);
    th_body_free(th_raw_hello_send_only(&a));
    th_body_free(th_raw_hello(&b));
    uint8_t *payload = calloc(1, PAYLOAD);
    assert_non_null(payload);
    size_t env_len = 0;
    const char *to[] = {FGW};
    for (int i = 0; i < N; i++) {
        ldw_envelope_id id;
        uint8_t *bytes;
        th_raw_direct_seq(&a, to, 1, "附件", payload, PAYLOAD, ++a.seq, &id, &bytes, &env_len);
        free(bytes);
        expect_ack(&a, &id, 0);
    }
    free(payload);
    const size_t fit = (8u * 1024 * 1024) / env_len; /* all envelopes have one length */
    uint64_t ids[N];
    size_t got = 0;
    for (Liandong__V1__Body *r; (r = th_raw_recv(&b, 1000)) != NULL; th_body_free(r)) {
        assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
        assert_true(got < N);
        ids[got++] = r->delivery->delivery_id;
    }
    assert_int_equal(got, fit);
    /* Acknowledging one makes room for exactly one more. */
    th_raw_delivery_ack(&b, ids[0]);
    Liandong__V1__Body *r = th_raw_recv(&b, 3000);
    assert_non_null(r);
    assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
    assert_true(r->delivery->delivery_id > ids[got - 1]);
    th_body_free(r);
    expect_silence(&b, 500);
    th_raw_close(&a);
    th_raw_close(&b);
}

static void test_protocol2_batches(void **state)
{
    batches(*state, 2);
}

static void test_protocol1_one_per_frame(void **state)
{
    batches(*state, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_direct_online, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_recipient_across_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_after_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_acked_and_delivered_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_key_after_sighup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_curve_key_gets_no_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_continues_after_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_full_keeps_serving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulated_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_connections_of_one_principal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol2_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_window_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol1_one_per_frame, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
