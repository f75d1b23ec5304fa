/* Unit tests: libliandong (the SDK client) without the real broker.
 *
 * Pure parts (duration parsing, UTF-8, the dedup ring, checking deliveries)
 * plus the client against a scripted fake broker in a thread: Hello and
 * sequence numbers, Ack / Nack matching, resends, duplicate deliveries and
 * what gets acknowledged, dropped forgeries, the poll fd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <zmq.h>

#include "../../sdk/ldc.h"
#include "fake_broker.h"
#include "sdk_fixture.h"

/* ---- pure parts ------------------------------------------------------------ */

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"90d", 90LL * 86400000}, {"36h", 36LL * 3600000}, {"15m", 15LL * 60000},
        {"30s", 30000},           {"2w", 14LL * 86400000}, {"45", 45000},
        {"1h30m", 5400000},       {"250ms", 250},          {"0", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        assert_int_equal(ld_duration_parse(ok[i].s, &ms), LD_OK);
        assert_true(ms == ok[i].ms);
    }
    static const char *bad[] = {"",
                                "d",
                                "-5s",
                                "1.5h",
                                "3x",
                                "10 d",
                                "1h30",
                                "h1",
                                "99999999999999999999",
                                "9999999999999999w"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        assert_int_equal(ld_duration_parse(bad[i], &ms), LD_ERR_INVALID);
    }
    int64_t ms;
    assert_int_equal(ld_duration_parse(NULL, &ms), LD_ERR_INVALID);
}

static void test_utf8(void **state)
{
    (void)state;
    const char *good = "请于周五前报送进展 ok\n\t😀";
    assert_true(ldc_utf8_valid(good, strlen(good)));
    assert_true(ldc_utf8_valid("", 0));
    assert_false(ldc_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(ldc_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(ldc_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(ldc_utf8_valid("\xe4\xbd", 2));         /* truncated */
    assert_false(ldc_utf8_valid("a\0b", 3));             /* NUL */
    assert_false(ldc_utf8_valid("\xff", 1));
}

static void test_dedup(void **state)
{
    (void)state;
    ldc_dedup d;
    assert_int_equal(ldc_dedup_init(&d), LD_OK);
    uint8_t id[LD_ENVELOPE_ID_BYTES] = {0};
    assert_null(ldc_dedup_find(&d, id));
    for (uint32_t i = 0; i < LD_DEDUP_WINDOW + 10; i++) {
        memcpy(id, &i, sizeof i);
        ldc_token *t = ldc_token_new();
        ldc_dedup_entry *e = ldc_dedup_insert(&d, id, 1000 + i, t);
        assert_ptr_equal(e->token, t);
        ldc_token_unref(t); /* the ring keeps its own reference */
    }
    /* The 10 oldest were evicted; the rest are found with their delivery ids. */
    for (uint32_t i = 0; i < LD_DEDUP_WINDOW + 10; i++) {
        memcpy(id, &i, sizeof i);
        ldc_dedup_entry *e = ldc_dedup_find(&d, id);
        if (i < 10) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->delivery_id, 1000 + i);
            assert_int_equal(atomic_load(&e->token->state), LDC_HELD);
        }
    }
    ldc_dedup_fini(&d);
}

/* The index agrees with a plain search of the last LD_DEDUP_WINDOW ids, for
 * random ids and for ids that all hash to a few slots near the end of the
 * table (long runs that wrap around), through many evictions. */
static void test_dedup_index(void **state)
{
    (void)state;
    enum { N = 3 * LD_DEDUP_WINDOW };
    uint8_t(*ids)[LD_ENVELOPE_ID_BYTES] = calloc(N, LD_ENVELOPE_ID_BYTES);
    assert_non_null(ids);
    for (int kind = 0; kind < 2; kind++) {
        ldc_dedup d;
        assert_int_equal(ldc_dedup_init(&d), LD_OK);
        randombytes_buf(ids, (size_t)N * LD_ENVELOPE_ID_BYTES);
        for (int i = 0; i < N; i++) {
            if (kind == 1) { /* home: one of the last 3 slots */
                uint64_t h = LDC_DEDUP_SLOTS - 1 - (uint64_t)(i % 3);
                memcpy(ids[i], &h, sizeof h);
            }
            assert_null(ldc_dedup_find(&d, ids[i]));
            ldc_dedup_insert(&d, ids[i], (uint64_t)i, NULL);
            if (i % 97 == 0 || i == N - 1) {
                for (int k = 0; k <= i; k++) {
                    ldc_dedup_entry *e = ldc_dedup_find(&d, ids[k]);
                    if (k > i - LD_DEDUP_WINDOW) {
                        assert_non_null(e);
                        assert_int_equal(e->delivery_id, k);
                    } else {
                        assert_null(e);
                    }
                }
            }
        }
        ldc_dedup_fini(&d);
    }
    free(ids);
}

/* ---- keys and envelopes for the scenarios -------------------------------- */

static sdk_keys keys; /* the client is "mdj.gxj"; "mdj.fgw" a third principal */

static int setup(void **state)
{
    (void)state;
    return sdk_keys_init(&keys, "ld-sdk-test", "mdj.gxj", "牡丹江市工业和信息化局",
                         LDK_ROLE_DEPARTMENT);
}

static int teardown(void **state)
{
    (void)state;
    return sdk_keys_fini(&keys);
}

/* A direct message from mdj.fgw to mdj.gxj, signed with sk (keys.other_sk normally). */
static void seal_inner(const char *text, uint64_t seq, const uint8_t *sk, uint8_t **out,
                       size_t *len, ldw_envelope_id *id)
{
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {"mdj.gxj", "mdj.czj"};
    d.n_to = 2;
    d.to = to;
    d.text = (char *)text;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b.direct = &d;
    ldw_header_fields h = {
        .sender = "mdj.fgw", .key_id = keys.other_kid, .seq = seq, .sent_at_ms = 1656637200000};
    if (ldw_envelope_seal_body(&h, &b, sk, out, len, id) != LD_OK)
        abort();
}

static void test_delivery_check(void **state)
{
    (void)state;
    uint8_t *env;
    size_t len;
    ldw_envelope_id id;
    seal_inner("请于周五前报送进展", 7, keys.other_sk, &env, &len, &id);
    Liandong__V1__Delivery dm = LIANDONG__V1__DELIVERY__INIT;
    dm.delivery_id = 12;
    dm.envelope.data = env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = keys.other_pk;
    dm.sender_sign_public.len = sizeof keys.other_pk;
    dm.sender_name = "牡丹江市发展和改革委员会";
    dm.stored_at_ms = 1656637201000;

    ldc_delivery *d;
    char err[256];
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_OK);
    ld_delivery *p = &d->pub;
    assert_int_equal(p->delivery_id, 12);
    assert_memory_equal(p->envelope_id, id.bytes, LD_ENVELOPE_ID_BYTES);
    assert_string_equal(p->sender, "mdj.fgw");
    assert_string_equal(p->sender_name, "牡丹江市发展和改革委员会");
    assert_string_equal(p->key_id, keys.other_kid);
    assert_string_equal(p->type, "direct");
    assert_string_equal(p->text, "请于周五前报送进展");
    assert_int_equal(p->n_to, 2);
    assert_string_equal(p->to[1], "mdj.czj");
    assert_int_equal(p->seq, 7);
    assert_true(p->stored_at_ms == 1656637201000);
    assert_int_equal(p->envelope_len, len);
    ld_delivery_destroy(&p);
    assert_null(p);

    /* The broker names a different key than the one that signed. */
    uint8_t pk2[32], sk2[64];
    crypto_sign_keypair(pk2, sk2);
    dm.sender_sign_public.data = pk2;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_ERR_CRYPTO);
    assert_non_null(strstr(err, "names key"));
    dm.sender_sign_public.len = 31;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_ERR_PROTOCOL);
    dm.sender_sign_public.data = keys.other_pk;
    dm.sender_sign_public.len = 32;

    /* Flip one body byte: the signature no longer verifies. */
    Liandong__V1__Envelope *e = liandong__v1__envelope__unpack(NULL, len, env);
    assert_non_null(e);
    e->body.data[e->body.len - 1] ^= 1;
    uint8_t forged[1024];
    size_t flen = liandong__v1__envelope__pack(e, forged);
    liandong__v1__envelope__free_unpacked(e, NULL);
    dm.envelope.data = forged;
    dm.envelope.len = flen;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_ERR_CRYPTO);
    assert_non_null(strstr(err, "does not verify"));

    /* Garbage envelope. */
    dm.envelope.data = (uint8_t *)"nope";
    dm.envelope.len = 4;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_ERR_PROTOCOL);
    free(env);

    /* A body type this library does not know (field 99) is delivered as "unknown". */
    uint8_t body[] = {0x9a, 0x06, 0x02, 'h', 'i'}; /* field 99, length-delimited */
    ldw_header_fields h = {
        .sender = "mdj.fgw", .key_id = keys.other_kid, .seq = 8, .sent_at_ms = 1};
    assert_int_equal(ldw_envelope_seal(&h, body, sizeof body, keys.other_sk, &env, &len, &id),
                     LD_OK);
    dm.envelope.data = env;
    dm.envelope.len = len;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_OK);
    assert_string_equal(d->pub.type, "unknown");
    assert_null(d->pub.text);
    assert_int_equal(d->pub.body_len, sizeof body);
    p = &d->pub;
    ld_delivery_destroy(&p);
    free(env);
}

/* ---- a scripted fake broker ------------------------------------------------ */

/* core counts Hellos and notes DeliveryAck ids. */
typedef struct fake {
    fake_broker core; /* first: the callbacks get &core */
    /* what it saw */
    int directs; /* Direct frames received (resends included) */
    uint64_t last_direct_seq;
    /* what it does */
    uint64_t hello_last_seq;
    int64_t push_at; /* push `late` delivery at this monotonic ms, 0 never */
} fake;

static fake fb;

static void fake_delivery(fake *f, zmq_msg_t *rid, uint64_t delivery_id, const char *text,
                          uint64_t seq, const uint8_t *inner_sk, const uint8_t *broker_sk)
{
    uint8_t *env;
    size_t len;
    ldw_envelope_id id;
    seal_inner(text, seq, inner_sk, &env, &len, &id);
    Liandong__V1__Delivery dm = LIANDONG__V1__DELIVERY__INIT;
    dm.delivery_id = delivery_id;
    dm.envelope.data = env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = keys.other_pk;
    dm.sender_sign_public.len = sizeof keys.other_pk;
    dm.sender_name = "牡丹江市发展和改革委员会";
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY;
    b.delivery = &dm;
    fake_broker_send(&f->core, rid, &b, broker_sk);
    free(env);
}

static void fake_deliveries_d1(fake *f, zmq_msg_t *rid)
{
    uint8_t *env;
    size_t len;
    ldw_envelope_id id;
    seal_inner("第一条", 1, keys.other_sk, &env, &len, &id);
    Liandong__V1__Delivery dm[3], *dp[3];
    const uint64_t ids[3] = {1, 1, 5};
    for (int i = 0; i < 3; i++) {
        liandong__v1__delivery__init(&dm[i]);
        dm[i].delivery_id = ids[i];
        dm[i].envelope.data = env;
        dm[i].envelope.len = len;
        dm[i].sender_sign_public.data = keys.other_pk;
        dm[i].sender_sign_public.len = sizeof keys.other_pk;
        dm[i].sender_name = "牡丹江市发展和改革委员会";
        dp[i] = &dm[i];
    }
    Liandong__V1__Deliveries ds = LIANDONG__V1__DELIVERIES__INIT;
    ds.n_deliveries = 3;
    ds.deliveries = dp;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERIES;
    b.deliveries = &ds;
    fake_broker_send(&f->core, rid, &b, keys.broker->sign_secret);
    free(env);
}

static int fake_on(fake_broker *core, zmq_msg_t *rid, ldw_opened *o, Liandong__V1__Body *b)
{
    fake *f = (fake *)core;
    Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
    if (b->msg_case == LIANDONG__V1__BODY__MSG_HELLO) {
        Liandong__V1__HelloReply hr = LIANDONG__V1__HELLO_REPLY__INIT;
        hr.last_seq = f->hello_last_seq;
        hr.principal = o->hdr->sender;
        hr.name = "牡丹江市工业和信息化局";
        hr.clock_ms = 1656637200000;
        hr.simulated_clock = 1;
        hr.protocol = 1;
        r.msg_case = LIANDONG__V1__BODY__MSG_HELLO_REPLY;
        r.hello_reply = &hr;
        fake_broker_send(&f->core, rid, &r, keys.broker->sign_secret);
        if (f->core.hellos == 1) {
            /* The mailbox: one Deliveries frame (protocol 2) of d1, d1
             * again (same delivery), d1's envelope as a second mailbox
             * entry; then a forged broker signature, a forged sender
             * signature, then d2. */
            fake_deliveries_d1(f, rid);
            uint8_t pk[32], sk[64];
            crypto_sign_keypair(pk, sk);
            fake_delivery(f, rid, 6, "forged broker", 2, keys.other_sk, sk);
            fake_delivery(f, rid, 7, "forged sender", 3, sk, keys.broker->sign_secret);
            fake_delivery(f, rid, 2, "第二条", 4, keys.other_sk, keys.broker->sign_secret);
        }
    } else if (b->msg_case == LIANDONG__V1__BODY__MSG_DIRECT) {
        f->directs++;
        f->last_direct_seq = o->hdr->seq;
        const char *t = b->direct->text;
        if (strcmp(t, "ignore") == 0) {
            /* no answer: the client resends */
        } else if (strcmp(t, "nack") == 0 || strcmp(t, "anon") == 0) {
            /* "anon": no envelope id */
            fake_broker_nack(core, rid, t[0] == 'n' ? &o->id : NULL, o->hdr->seq,
                             LIANDONG__V1__REASON_CODE__UNKNOWN_RECIPIENT,
                             "recipient 'nobody' is not in the roster");
        } else {
            /* One Answers frame (protocol 2): a stray Ack for someone
             * else's envelope first, which must be ignored, then ours. */
            uint8_t other[16] = {1, 2, 3};
            Liandong__V1__Ack a[2] = {LIANDONG__V1__ACK__INIT, LIANDONG__V1__ACK__INIT};
            a[0].envelope_id.data = other;
            a[0].envelope_id.len = sizeof other;
            a[0].seq = 1;
            a[1].envelope_id.data = o->id.bytes;
            a[1].envelope_id.len = sizeof o->id.bytes;
            a[1].seq = o->hdr->seq;
            a[1].duplicate = f->directs > 1 && strcmp(t, "again") == 0;
            a[1].clock_ms = 1656637200000 + 1000;
            Liandong__V1__Answer an[2] = {LIANDONG__V1__ANSWER__INIT, LIANDONG__V1__ANSWER__INIT};
            Liandong__V1__Answer *ap[2] = {&an[0], &an[1]};
            for (int i = 0; i < 2; i++) {
                an[i].answer_case = LIANDONG__V1__ANSWER__ANSWER_ACK;
                an[i].ack = &a[i];
            }
            Liandong__V1__Answers as = LIANDONG__V1__ANSWERS__INIT;
            as.n_answers = 2;
            as.answers = ap;
            r.msg_case = LIANDONG__V1__BODY__MSG_ANSWERS;
            r.answers = &as;
            fake_broker_send(&f->core, rid, &r, keys.broker->sign_secret);
            if (strcmp(t, "push later") == 0)
                f->push_at = ldc_mono_ms() + 300;
            if (strcmp(t, "redeliver") == 0)
                fake_delivery(f, rid, 1, "第一条", 1, keys.other_sk, keys.broker->sign_secret);
        }
    }
    return 0;
}

/* The delayed delivery (push_at), to the last client heard from. */
static void on_tick(fake_broker *core, zmq_msg_t *last_rid)
{
    fake *f = (fake *)core;
    pthread_mutex_lock(&f->core.mu);
    int push = f->push_at && ldc_mono_ms() >= f->push_at;
    if (push)
        f->push_at = 0;
    pthread_mutex_unlock(&f->core.mu);
    if (push)
        fake_delivery(f, last_rid, 3, "稍后到达", 9, keys.other_sk, keys.broker->sign_secret);
}

static void fake_start(fake *f, uint64_t hello_last_seq)
{
    memset(f, 0, sizeof *f);
    f->hello_last_seq = hello_last_seq;
    fake_broker_start(&f->core, keys.broker, keys.client->sign_public, fake_on, on_tick);
}

static void test_client_new_errors(void **state)
{
    (void)state;
    ld_client_options o;
    ld_client_options_init(&o);
    ld_client *c = (ld_client *)&o;
    char err[512] = "";
    assert_int_equal(ld_client_new(&o, &c, err, sizeof err), LD_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(err, "endpoint"));
    o.endpoint = "tcp://127.0.0.1:1";
    o.identity_path = "/nonexistent/x.secret";
    o.broker_key_path = keys.broker_pub;
    assert_int_equal(ld_client_new(&o, &c, err, sizeof err), LD_ERR_NOT_FOUND);
    o.identity_path = keys.client_secret;
    o.send_timeout_ms = -1;
    assert_int_equal(ld_client_new(&o, &c, err, sizeof err), LD_ERR_INVALID);
    ld_client_destroy(NULL);
    ld_client_destroy(&c);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = "tcp://127.0.0.1:1";
    o.identity_path = keys.client_secret;
    o.broker_key_path = keys.broker_pub;
    o.connect_timeout_ms = 300;
    ld_client *c;
    assert_int_equal(ld_client_new(&o, &c, NULL, 0), LD_OK);
    assert_int_equal(ld_client_connect(c), LD_ERR_TIMEOUT);
    const char *e = ld_client_last_error(c);
    assert_non_null(strstr(e, "did not answer within 300 ms"));
    assert_non_null(strstr(e, "roster"));
    /* Nothing may be sent before a session exists. */
    const char *to[] = {"mdj.fgw"};
    assert_int_equal(ld_client_send_direct(c, to, 1, "x", NULL, 0, NULL), LD_ERR_INVALID);
    ld_client_destroy(&c);
}

static void test_session(void **state)
{
    (void)state;
    fake_start(&fb, 41);
    ld_client *c = sdk_client(&keys, fb.core.endpoint, 2000);
    assert_int_equal(ld_client_connect(c), LD_OK);
    ld_session_info s;
    assert_int_equal(ld_client_session(c, &s), LD_OK);
    assert_string_equal(s.principal, "mdj.gxj");
    assert_int_equal(s.last_seq, 41);
    assert_int_equal(s.simulated_clock, 1);
    assert_string_equal(ld_client_principal(c), "mdj.gxj");

    /* Mailbox: d1 once (its repeat dropped, its second mailbox entry
     * acknowledged by the client itself), both forgeries dropped, then d2. */
    ld_delivery *d1, *d;
    assert_int_equal(ld_client_recv(c, 2000, &d1), LD_OK);
    assert_int_equal(d1->delivery_id, 1);
    assert_string_equal(d1->text, "第一条");
    assert_int_equal(ld_client_recv(c, 2000, &d), LD_OK);
    assert_int_equal(d->delivery_id, 2);
    assert_string_equal(d->text, "第二条");
    assert_int_equal(ld_client_ack(c, d), LD_OK);
    ld_delivery_destroy(&d);
    assert_int_equal(ld_client_recv(c, 100, &d), LD_ERR_TIMEOUT);
    assert_null(d);
    assert_non_null(strstr(ld_client_last_error(c), "no delivery"));
    assert_int_equal(fake_broker_wait_acks(&fb.core, 2), 2);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.core.acked[0] + fb.core.acked[1], 5 + 2); /* {5, 2} in either order */
    pthread_mutex_unlock(&fb.core.mu);

    /* d1 comes again while we still hold it: dropped, not acknowledged. */
    const char *to[] = {"mdj.fgw"};
    ld_ack a;
    assert_int_equal(ld_client_send_direct(c, to, 1, "redeliver", NULL, 0, &a), LD_OK);
    assert_int_equal(a.seq, 42); /* above the broker's last_seq */
    assert_int_equal(ld_client_recv(c, 200, &d), LD_ERR_TIMEOUT);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.core.n_acked, 2);
    pthread_mutex_unlock(&fb.core.mu);
    /* Destroyed without an ack (processed, ack lost): the next copy is acked. */
    ld_delivery_destroy(&d1);
    assert_int_equal(ld_client_send_direct(c, to, 1, "redeliver", NULL, 0, &a), LD_OK);
    assert_int_equal(ld_client_recv(c, 200, &d), LD_ERR_TIMEOUT);
    assert_int_equal(fake_broker_wait_acks(&fb.core, 3), 3);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.core.acked[2], 1);
    pthread_mutex_unlock(&fb.core.mu);

    /* Stray Acks are ignored. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "收到", NULL, 0, &a), LD_OK);
    assert_int_equal(a.seq, 44);
    assert_int_equal(a.duplicate, 0);
    assert_true(a.clock_ms == 1656637201000);

    /* Nack: the broker's reason and sentence. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "nack", NULL, 0, &a), LD_ERR_REFUSED);
    assert_int_equal(ld_client_last_reason(c), LD_REASON_UNKNOWN_RECIPIENT);
    assert_string_equal(ld_client_last_error(c), "recipient 'nobody' is not in the roster");
    assert_string_equal(ld_reason_name(ld_client_last_reason(c)), "UNKNOWN_RECIPIENT");
    /* A Nack with no envelope id refuses the send in flight. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "anon", NULL, 0, &a), LD_ERR_REFUSED);
    /* Refused means not stored: the number is used again. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "after", NULL, 0, &a), LD_OK);
    assert_int_equal(a.seq, 45);

    /* No answer: resent unchanged every 100 ms until the timeout. */
    pthread_mutex_lock(&fb.core.mu);
    int before = fb.directs;
    pthread_mutex_unlock(&fb.core.mu);
    ld_client_destroy(&c);
    c = sdk_client(&keys, fb.core.endpoint, 450);
    assert_int_equal(ld_client_connect(c), LD_OK);
    assert_int_equal(ld_client_send_direct(c, to, 1, "ignore", NULL, 0, &a), LD_ERR_TIMEOUT);
    assert_non_null(strstr(ld_client_last_error(c), "may or may not"));
    pthread_mutex_lock(&fb.core.mu);
    assert_true(fb.directs - before >= 3);
    assert_int_equal(fb.core.hellos, 2);
    pthread_mutex_unlock(&fb.core.mu);
    /* The number stays used: the next send goes above it. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "next", NULL, 0, &a), LD_OK);
    assert_int_equal(a.seq, 43);

    /* Bad arguments never reach the broker. */
    const char *bad_to[] = {"Not An Id"};
    assert_int_equal(ld_client_send_direct(c, bad_to, 1, "x", NULL, 0, &a), LD_ERR_INVALID);
    assert_int_equal(ld_client_send_direct(c, to, 1, "\xff", NULL, 0, &a), LD_ERR_INVALID);
    assert_int_equal(ld_client_send_direct(c, to, 0, "x", NULL, 0, &a), LD_ERR_INVALID);
    assert_int_equal(ld_client_clock_advance(c, 0, NULL), LD_ERR_INVALID);
    uint8_t hello_body[] = {0x0a, 0x00}; /* Body{hello{}} */
    assert_int_equal(ld_client_send_body(c, hello_body, sizeof hello_body, &a), LD_ERR_INVALID);

    /* The poll fd fires for a delivery pushed later. */
    assert_int_equal(ld_client_send_direct(c, to, 1, "push later", NULL, 0, &a), LD_OK);
    int fd;
    assert_int_equal(ld_client_fd(c, &fd), LD_OK);
    d = NULL;
    for (int i = 0; i < 20 && !d; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) > 0)
            while (ld_client_recv(c, 0, &d) == LD_OK && d->delivery_id != 3)
                ld_delivery_destroy(&d);
    }
    assert_non_null(d);
    assert_string_equal(d->text, "稍后到达");
    ld_delivery_destroy(&d);
    ld_client_destroy(&c);
    fake_broker_stop(&fb.core);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_dedup),           cmocka_unit_test(test_dedup_index),
        cmocka_unit_test(test_delivery_check),  cmocka_unit_test(test_client_new_errors),
        cmocka_unit_test(test_connect_timeout), cmocka_unit_test(test_session),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
