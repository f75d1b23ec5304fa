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
#include <zmq.h>

#include "../../sdk/ldc.h"
#include "fake_broker.h"
#include "sdk_fixture.h"

static sdk_keys keys; /* the client is the auditor "mdj.sjj"; "mdj.fgw" another principal */

static int setup(void **state)
{
    (void)state;
    return sdk_keys_init(&keys, "ld-sdk-audit", "mdj.sjj", "市审计局", LDK_ROLE_AUDITOR);
}

static int teardown(void **state)
{
    (void)state;
    return sdk_keys_fini(&keys);
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
    cp.key_id = keys.broker->key_id;
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

/* core.last: the last AuditQuery body. */
typedef struct fake {
    fake_broker core; /* first: the callbacks get &core */
    int push;         /* after the first Hello: three Checkpoints */
    int nack;         /* refuse AuditQuery */
    int queries;
} fake;

static fake fb;

static int fake_on(fake_broker *core, zmq_msg_t *rid, ldw_opened *o, Liandong__V1__Body *b)
{
    fake *f = (fake *)core;
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_HELLO:
        fake_broker_hello_reply(core, rid, o, "市审计局");
        if (f->core.hellos == 1 && f->push) {
            const uint8_t *bsk = keys.broker->sign_secret;
            const char *bkid = keys.broker->key_id;
            size_t n;
            uint8_t *env = checkpoint_envelope("broker", bsk, bkid, bsk, 0, &n);
            fake_broker_push(core, rid, 1, env, n, keys.broker->sign_public);
            free(env);
            env = checkpoint_envelope("broker", bsk, bkid, bsk, 1, &n); /* bad signature */
            fake_broker_push(core, rid, 2, env, n, keys.broker->sign_public);
            free(env);
            env = checkpoint_envelope("mdj.fgw", keys.other_sk, keys.other_kid, bsk, 0, &n);
            fake_broker_push(core, rid, 3, env, n, keys.other_pk);
            free(env);
        }
        return 0;
    case LIANDONG__V1__BODY__MSG_AUDIT_QUERY:
        f->queries++;
        if (f->nack) {
            fake_broker_nack(core, rid, &o->id, o->hdr->seq,
                             LIANDONG__V1__REASON_CODE__UNAUTHORIZED,
                             "only principals with the auditor or supervision role may query "
                             "the audit log");
        } else {
            size_t n;
            uint8_t *reply = audit_reply_bytes(b->audit_query->after_index, &n);
            fake_broker_ack(core, rid, o, 0, reply, n);
            free(reply);
        }
        return 1;
    default: return 0;
    }
}

static void fake_start(fake *f, int push)
{
    memset(f, 0, sizeof *f);
    f->push = push;
    fake_broker_start(&f->core, keys.broker, keys.client->sign_public, fake_on, NULL);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_query(void **state)
{
    (void)state;
    fake_start(&fb, 0);
    ld_client *c = sdk_client_connected(&keys, fb.core.endpoint);
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
    const Liandong__V1__AuditQuery *aq = fb.core.last->audit_query;
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
    assert_int_equal(fb.core.last->audit_query->after_index, 8);
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
    assert_string_equal(fb.core.last->audit_query->task, "");
    assert_string_equal(fb.core.last->audit_query->verdict, "");
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
    fake_broker_stop(&fb.core);
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
    ld_client *c = sdk_client_connected(&keys, fb.core.endpoint);
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
    assert_string_equal(cp->key_id, keys.broker->key_id);
    assert_int_equal(ldc_checkpoint_verify(cp, keys.broker->sign_public), LD_OK);
    assert_int_equal(ldc_checkpoint_verify(cp, keys.other_pk), LD_ERR_CRYPTO);
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
    fake_broker_wait_acks(&fb.core, 2);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.core.n_acked, 2);
    assert_int_equal(fb.core.acked[0], 1);
    assert_int_equal(fb.core.acked[1], 3);
    pthread_mutex_unlock(&fb.core.mu);
    ld_client_destroy(&c);
    fake_broker_stop(&fb.core);
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
