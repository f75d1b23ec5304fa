/* Unit tests: the SDK's audit query (ld_client_audit_query, ld_audit_page)
 * and the Checkpoint delivery view, against a scripted fake broker in a
 * thread (the pattern of test_sdk_plans.c): the query as it goes on the
 * wire, Ack.reply decoding and paging, a refusal, a Checkpoint from the
 * broker (kept), one whose signature does not verify (dropped) and one from
 * another principal (no view).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "../../sdk/ldc.h"
#include "fake_broker.h"

static char tmpdir[64];
static char client_secret[128], broker_pub[128];
static ldk_identity *broker_ident, *client_ident;
static uint8_t other_pk[32], other_sk[64]; /* "mdj.fgw" */
static char other_kid[LDK_KEY_ID_LEN + 1];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    strcpy(tmpdir, "/tmp/ld-sdk-audit-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    char err[LDK_ERR_MAX];
    if (ldk_identity_generate("broker", "Liandong broker", 0, &broker_ident, err, sizeof err) ||
        ldk_identity_generate("mdj.sjj", "市审计局", LDK_ROLE_AUDITOR, &client_ident, err,
                              sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(client_secret, sizeof client_secret, "%s/mdj.sjj.secret", tmpdir);
    snprintf(broker_pub, sizeof broker_pub, "%s/broker.pub", tmpdir);
    if (ldk_identity_save_secret(client_ident, client_secret, err, sizeof err) ||
        ldk_identity_save_public(broker_ident, broker_pub, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(other_pk, other_sk, seed);
    uint8_t kid[8];
    crypto_generichash(kid, sizeof kid, other_pk, sizeof other_pk, NULL, 0);
    sodium_bin2hex(other_kid, sizeof other_kid, kid, sizeof kid);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ldk_identity_destroy(&broker_ident);
    ldk_identity_destroy(&client_ident);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- answers and checkpoints ---------------------------------------------------- */

/* Page 1 (after_index 0): records 3 and 7, next_index 8. Page 2: record 9,
 * next_index 0. Packed Body{audit_reply} (caller frees). */
static uint8_t *audit_reply_bytes(uint64_t after, size_t *len)
{
    static uint8_t env[] = {1, 2, 3, 4};
    static uint8_t h3[32], h7[32], h9[32];
    memset(h3, 3, 32);
    memset(h7, 7, 32);
    memset(h9, 9, 32);
    char *to[] = {"mdj.gxj"};
    Liandong__V1__AuditRecord r3 = LIANDONG__V1__AUDIT_RECORD__INIT, r7 = r3, r9 = r3;
    r3.index = 3, r3.at_ms = 1656640000000, r3.sender = "mdj.zf.bgs", r3.key_id = "00aa";
    r3.type = "plan_publish", r3.envelope.data = env, r3.envelope.len = sizeof env;
    r3.hash.data = h3, r3.hash.len = 32;
    r7.index = 7, r7.at_ms = 1656640001000, r7.sender = "broker", r7.type = "task_assign";
    r7.task = "ir-2.1.1", r7.recipients = to, r7.n_recipients = 1;
    r7.hash.data = h7, r7.hash.len = 32;
    r9.index = 9, r9.sender = "mdj.gxj", r9.type = "status_report", r9.task = "ir-2.1.1";
    r9.verdict = LIANDONG__V1__REASON_CODE__UNAUTHORIZED, r9.verdict_text = "不是该任务的部门";
    r9.hash.data = h9, r9.hash.len = 32;
    Liandong__V1__AuditRecord *p1[] = {&r3, &r7}, *p2[] = {&r9};
    Liandong__V1__AuditReply ar = LIANDONG__V1__AUDIT_REPLY__INIT;
    if (after == 0)
        ar.records = p1, ar.n_records = 2, ar.next_index = 8;
    else
        ar.records = p2, ar.n_records = 1, ar.next_index = 0;
    ar.log_size = 12;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_REPLY;
    b.audit_reply = &ar;
    *len = liandong__v1__body__get_packed_size(&b);
    uint8_t *buf = malloc(*len);
    liandong__v1__body__pack(&b, buf);
    return buf;
}

static uint8_t cp_root[32], cp_head[32];

/* A Checkpoint envelope sealed by sender (key sk / kid); the Checkpoint
 * signature by cp_sk (corrupted if bad). */
static uint8_t *checkpoint_envelope(const char *sender, const uint8_t *sk, const char *kid,
                                    const uint8_t *cp_sk, int bad, size_t *len)
{
    memset(cp_root, 0x5a, 32);
    memset(cp_head, 0xa5, 32);
    uint8_t msg[22 + 8 + 32 + 8], sig[64];
    memcpy(msg, "liandong/checkpoint/v1", 22);
    uint64_t size = 12, at = 1656640002000;
    for (int i = 0; i < 8; i++) {
        msg[22 + i] = (uint8_t)(size >> (56 - 8 * i));
        msg[22 + 8 + 32 + i] = (uint8_t)(at >> (56 - 8 * i));
    }
    memcpy(msg + 30, cp_root, 32);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, cp_sk);
    if (bad)
        sig[0] ^= 1;
    Liandong__V1__Checkpoint cp = LIANDONG__V1__CHECKPOINT__INIT;
    cp.size = size;
    cp.root.data = cp_root, cp.root.len = 32;
    cp.at_ms = (int64_t)at;
    cp.signature.data = sig, cp.signature.len = 64;
    cp.key_id = broker_ident->key_id;
    cp.head_hash.data = cp_head, cp.head_hash.len = 32;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_CHECKPOINT;
    b.checkpoint = &cp;
    ldw_header_fields h = {.sender = sender, .key_id = kid, .seq = 5, .sent_at_ms = 1};
    uint8_t *env;
    if (ldw_envelope_seal_body(&h, &b, sk, &env, len, NULL) != LD_OK)
        abort();
    return env;
}

/* ---- a fake broker -------------------------------------------------------------------- */

typedef struct fake {
    fake_broker core; /* first: the callbacks get &core */
    int push;         /* after the first Hello: three Checkpoints */
    int nack;         /* refuse AuditQuery */
    int hellos, queries;
    Liandong__V1__Body *last; /* the last AuditQuery body */
    uint64_t acked[8];
    int n_acked;
} fake;

static fake fb;

static void fake_push(fake *f, zmq_msg_t *rid, uint64_t did, uint8_t *env, size_t len,
                      const uint8_t *pk)
{
    Liandong__V1__Delivery dm = LIANDONG__V1__DELIVERY__INIT;
    dm.delivery_id = did;
    dm.envelope.data = env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = (uint8_t *)pk;
    dm.sender_sign_public.len = 32;
    dm.sender_name = "Liandong broker";
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY;
    b.delivery = &dm;
    fake_broker_send(&f->core, rid, &b, NULL);
    free(env);
}

static void fake_on(fake *f, zmq_msg_t *rid, const uint8_t *data, size_t len)
{
    ldw_opened o;
    if (ldw_envelope_open(data, len, &o, NULL, 0) != LD_OK)
        return;
    FAKE_CHECK(ldw_envelope_verify(&o, client_ident->sign_public) == LD_OK);
    Liandong__V1__Body *b = ldw_opened_body(&o);
    FAKE_CHECK(b != NULL);
    pthread_mutex_lock(&f->core.mu);
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_HELLO: {
        f->hellos++;
        Liandong__V1__HelloReply hr = LIANDONG__V1__HELLO_REPLY__INIT;
        hr.principal = o.hdr->sender;
        hr.name = "市审计局";
        hr.protocol = 1;
        Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
        r.msg_case = LIANDONG__V1__BODY__MSG_HELLO_REPLY;
        r.hello_reply = &hr;
        fake_broker_send(&f->core, rid, &r, NULL);
        if (f->hellos == 1 && f->push) {
            const uint8_t *bsk = broker_ident->sign_secret;
            const char *bkid = broker_ident->key_id;
            size_t n;
            uint8_t *env = checkpoint_envelope("broker", bsk, bkid, bsk, 0, &n);
            fake_push(f, rid, 1, env, n, broker_ident->sign_public);
            env = checkpoint_envelope("broker", bsk, bkid, bsk, 1, &n); /* bad signature */
            fake_push(f, rid, 2, env, n, broker_ident->sign_public);
            env = checkpoint_envelope("mdj.fgw", other_sk, other_kid, bsk, 0, &n);
            fake_push(f, rid, 3, env, n, other_pk);
        }
        break;
    }
    case LIANDONG__V1__BODY__MSG_DELIVERY_ACK:
        for (size_t i = 0; i < b->delivery_ack->n_delivery_ids && f->n_acked < 8; i++)
            f->acked[f->n_acked++] = b->delivery_ack->delivery_ids[i];
        break;
    case LIANDONG__V1__BODY__MSG_AUDIT_QUERY: {
        f->queries++;
        if (f->nack) {
            Liandong__V1__Nack nk = LIANDONG__V1__NACK__INIT;
            nk.envelope_id.data = o.id.bytes;
            nk.envelope_id.len = sizeof o.id.bytes;
            nk.seq = o.hdr->seq;
            nk.code = LIANDONG__V1__REASON_CODE__UNAUTHORIZED;
            nk.text = "only principals with the auditor or supervision role may query the "
                      "audit log";
            Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
            r.msg_case = LIANDONG__V1__BODY__MSG_NACK;
            r.nack = &nk;
            fake_broker_send(&f->core, rid, &r, NULL);
        } else {
            size_t n;
            uint8_t *reply = audit_reply_bytes(b->audit_query->after_index, &n);
            Liandong__V1__Ack a = LIANDONG__V1__ACK__INIT;
            a.envelope_id.data = o.id.bytes;
            a.envelope_id.len = sizeof o.id.bytes;
            a.seq = o.hdr->seq;
            a.clock_ms = 1656640000000;
            a.reply.data = reply;
            a.reply.len = n;
            Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
            r.msg_case = LIANDONG__V1__BODY__MSG_ACK;
            r.ack = &a;
            fake_broker_send(&f->core, rid, &r, NULL);
            free(reply);
        }
        if (f->last)
            liandong__v1__body__free_unpacked(f->last, NULL);
        f->last = b;
        b = NULL;
        break;
    }
    default: break;
    }
    pthread_mutex_unlock(&f->core.mu);
    if (b)
        liandong__v1__body__free_unpacked(b, NULL);
    ldw_opened_clear(&o);
}

static void on_message(fake_broker *core, zmq_msg_t *rid, const uint8_t *data, size_t len)
{
    fake_on((fake *)core, rid, data, len);
}

static void fake_start(fake *f, int push)
{
    memset(f, 0, sizeof *f);
    f->push = push;
    fake_broker_start(&f->core, broker_ident, on_message, NULL);
}

static void fake_stop(fake *f)
{
    fake_broker_stop(&f->core);
    if (f->last)
        liandong__v1__body__free_unpacked(f->last, NULL);
}

static ld_client *connected_client(void)
{
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = fb.core.endpoint;
    o.identity_path = client_secret;
    o.broker_key_path = broker_pub;
    o.send_timeout_ms = 3000;
    o.resend_interval_ms = 100;
    o.connect_timeout_ms = 3000;
    ld_client *c = NULL;
    char err[512];
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK)
        fail_msg("ld_client_new: %s", err);
    if (ld_client_connect(c) != LD_OK)
        fail_msg("ld_client_connect: %s", ld_client_last_error(c));
    return c;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_query(void **state)
{
    (void)state;
    fake_start(&fb, 0);
    ld_client *c = connected_client();
    ld_audit_page *p = (ld_audit_page *)&fb; /* must be overwritten */

    ld_audit_query q = {.task = "ir-2.1.1",
                        .dept = "mdj.gxj",
                        .type = "status_report",
                        .since_ms = 1000,
                        .until_ms = 2000,
                        .verdict = "refused",
                        .limit = 50};
    assert_int_equal(ld_client_audit_query(c, &q, &p), LD_OK);
    pthread_mutex_lock(&fb.core.mu);
    const Liandong__V1__AuditQuery *aq = fb.last->audit_query;
    assert_string_equal(aq->task, "ir-2.1.1");
    assert_string_equal(aq->dept, "mdj.gxj");
    assert_string_equal(aq->type, "status_report");
    assert_int_equal(aq->since_ms, 1000);
    assert_int_equal(aq->until_ms, 2000);
    assert_string_equal(aq->verdict, "refused");
    assert_int_equal(aq->limit, 50);
    assert_int_equal(aq->after_index, 0);
    pthread_mutex_unlock(&fb.core.mu);

    /* page 1 */
    assert_int_equal(p->n_records, 2);
    assert_int_equal(p->next_index, 8);
    assert_int_equal(p->log_size, 12);
    const ld_audit_record *r = &p->records[0];
    assert_int_equal(r->index, 3);
    assert_int_equal(r->at_ms, 1656640000000);
    assert_string_equal(r->sender, "mdj.zf.bgs");
    assert_string_equal(r->key_id, "00aa");
    assert_string_equal(r->type, "plan_publish");
    assert_int_equal(r->envelope_len, 4);
    assert_int_equal(r->envelope[3], 4);
    assert_int_equal(r->verdict, 0);
    assert_string_equal(r->verdict_text, "");
    assert_string_equal(r->task, "");
    assert_int_equal(r->n_recipients, 0);
    uint8_t h[32];
    memset(h, 3, 32);
    assert_memory_equal(r->hash, h, 32);
    r = &p->records[1];
    assert_int_equal(r->index, 7);
    assert_string_equal(r->task, "ir-2.1.1");
    assert_int_equal(r->n_recipients, 1);
    assert_string_equal(r->recipients[0], "mdj.gxj");
    assert_null(r->envelope);

    /* page 2, from next_index */
    q.after_index = p->next_index;
    ld_audit_page_destroy(&p);
    assert_null(p);
    assert_int_equal(ld_client_audit_query(c, &q, &p), LD_OK);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.last->audit_query->after_index, 8);
    pthread_mutex_unlock(&fb.core.mu);
    assert_int_equal(p->n_records, 1);
    assert_int_equal(p->next_index, 0);
    assert_int_equal(p->records[0].index, 9);
    assert_int_equal(p->records[0].verdict, LD_REASON_UNAUTHORIZED);
    assert_string_equal(p->records[0].verdict_text, "不是该任务的部门");
    ld_audit_page_destroy(&p);
    ld_audit_page_destroy(&p); /* NULL is fine */
    ld_audit_page_destroy(NULL);

    /* NULL query: everything, empty strings on the wire */
    assert_int_equal(ld_client_audit_query(c, NULL, &p), LD_OK);
    ld_audit_page_destroy(&p);
    pthread_mutex_lock(&fb.core.mu);
    assert_string_equal(fb.last->audit_query->task, "");
    assert_string_equal(fb.last->audit_query->verdict, "");
    assert_int_equal(fb.queries, 3);
    fb.nack = 1;
    pthread_mutex_unlock(&fb.core.mu);

    /* a refusal */
    p = (ld_audit_page *)&fb;
    assert_int_equal(ld_client_audit_query(c, &q, &p), LD_ERR_REFUSED);
    assert_null(p);
    assert_int_equal(ld_client_last_reason(c), LD_REASON_UNAUTHORIZED);
    assert_non_null(strstr(ld_client_last_error(c), "auditor or supervision"));

    /* argument checks, nothing sent */
    ld_audit_query bad = {.verdict = "maybe"};
    assert_int_equal(ld_client_audit_query(c, &bad, &p), LD_ERR_INVALID);
    bad = (ld_audit_query){.task = "\xc0\xaf"};
    assert_int_equal(ld_client_audit_query(c, &bad, &p), LD_ERR_INVALID);
    bad = (ld_audit_query){.since_ms = -1};
    assert_int_equal(ld_client_audit_query(c, &bad, &p), LD_ERR_INVALID);
    assert_int_equal(ld_client_audit_query(c, NULL, NULL), LD_ERR_INVALID);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.queries, 4);
    pthread_mutex_unlock(&fb.core.mu);

    ld_client_destroy(&c);
    fake_stop(&fb);
}

static void test_reply_decode(void **state)
{
    (void)state;
    char err[256];
    ld_audit_page *p;
    /* a ledger answer is not an audit answer */
    Liandong__V1__LedgerReply lr = LIANDONG__V1__LEDGER_REPLY__INIT;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_REPLY;
    b.ledger_reply = &lr;
    uint8_t buf[64];
    size_t n = liandong__v1__body__pack(&b, buf);
    assert_int_equal(ldc_audit_page_from_reply(buf, n, &p, err, sizeof err), LD_ERR_PROTOCOL);
    assert_null(p);
    /* a short hash */
    Liandong__V1__AuditRecord r = LIANDONG__V1__AUDIT_RECORD__INIT;
    uint8_t h[31] = {0};
    r.hash.data = h;
    r.hash.len = sizeof h;
    Liandong__V1__AuditRecord *rs[] = {&r};
    Liandong__V1__AuditReply ar = LIANDONG__V1__AUDIT_REPLY__INIT;
    ar.records = rs;
    ar.n_records = 1;
    b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_REPLY;
    b.audit_reply = &ar;
    n = liandong__v1__body__pack(&b, buf);
    assert_int_equal(ldc_audit_page_from_reply(buf, n, &p, err, sizeof err), LD_ERR_PROTOCOL);
    assert_non_null(strstr(err, "31 bytes"));
    /* text not UTF-8 */
    uint8_t h32[32] = {0};
    r.hash.data = h32;
    r.hash.len = 32;
    r.sender = "\xff";
    n = liandong__v1__body__pack(&b, buf);
    assert_int_equal(ldc_audit_page_from_reply(buf, n, &p, err, sizeof err), LD_ERR_PROTOCOL);
    assert_int_equal(ldc_audit_page_from_reply((const uint8_t *)"\xff\xff", 2, &p, err, sizeof err),
                     LD_ERR_PROTOCOL);
}

static void test_checkpoint_delivery(void **state)
{
    (void)state;
    fake_start(&fb, 1);
    ld_client *c = connected_client();
    ld_delivery *d;
    assert_int_equal(ld_client_recv(c, 2000, &d), LD_OK);
    assert_string_equal(d->type, "checkpoint");
    assert_int_equal(d->from_broker, 1);
    assert_int_equal(d->delivery_id, 1);
    assert_null(d->assign);
    const ld_checkpoint *cp = d->checkpoint;
    assert_non_null(cp);
    assert_int_equal(cp->size, 12);
    assert_int_equal(cp->at_ms, 1656640002000);
    assert_memory_equal(cp->root, cp_root, 32);
    assert_memory_equal(cp->head_hash, cp_head, 32);
    assert_string_equal(cp->key_id, broker_ident->key_id);
    assert_int_equal(ldc_checkpoint_verify(cp, broker_ident->sign_public), LD_OK);
    assert_int_equal(ldc_checkpoint_verify(cp, other_pk), LD_ERR_CRYPTO);
    assert_int_equal(ld_client_ack(c, d), LD_OK);
    ld_delivery_destroy(&d);

    /* The one with a bad checkpoint signature was dropped; the one from
     * another principal comes without the view. */
    assert_int_equal(ld_client_recv(c, 2000, &d), LD_OK);
    assert_int_equal(d->delivery_id, 3);
    assert_string_equal(d->type, "checkpoint");
    assert_int_equal(d->from_broker, 0);
    assert_null(d->checkpoint);
    assert_int_equal(ld_client_ack(c, d), LD_OK);
    ld_delivery_destroy(&d);
    assert_int_equal(ld_client_recv(c, 200, &d), LD_ERR_TIMEOUT);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&fb.core.mu);
        int n = fb.n_acked;
        pthread_mutex_unlock(&fb.core.mu);
        if (n >= 2)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.n_acked, 2);
    assert_int_equal(fb.acked[0], 1);
    assert_int_equal(fb.acked[1], 3);
    pthread_mutex_unlock(&fb.core.mu);
    ld_client_destroy(&c);
    fake_stop(&fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_reply_decode),
        cmocka_unit_test(test_checkpoint_delivery),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
