/* Unit tests: the SDK's plan calls (publish, accept, report, ledger query),
 * typed deliveries (TaskAssign from the broker, StatusReport, TaskAccept),
 * and the CLI's display-width helpers.
 *
 * The typed calls run against a scripted fake broker in a thread: what they
 * put on the wire, Ack.reply decoding, a duplicate Ack without a reply (one
 * re-query as a new envelope), refusals.
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
#include <sys/stat.h>
#include <zmq.h>

#include "../../sdk/ldc.h"
#include "fake_broker.h"
#include "sdk_fixture.h"

/* The CLI's width helpers have no dependencies: compile them in. */
#include "../../sdk/cli/width.c"

/* ---- names ------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    static const char *names[] = {"assigned", "accepted", "in_progress", "done", "blocked"};
    for (int i = 1; i <= 5; i++) {
        assert_string_equal(ld_task_state_name(i), names[i - 1]);
        int s = 0;
        assert_int_equal(ld_task_state_parse(names[i - 1], &s), LD_OK);
        assert_int_equal(s, i);
    }
    assert_string_equal(ld_task_state_name(0), "any");
    assert_string_equal(ld_task_state_name(6), "unknown");
    assert_string_equal(ld_task_state_name(-1), "unknown");
    int s = 42;
    assert_int_equal(ld_task_state_parse("In-Progress", &s), LD_OK);
    assert_int_equal(s, LD_TASK_IN_PROGRESS);
    s = 42;
    assert_int_equal(ld_task_state_parse("DONE", &s), LD_OK);
    assert_int_equal(s, LD_TASK_DONE);
    s = 42;
    static const char *bad[] = {"", "any", "progress", "in_progres", "in_progresss", "done "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ld_task_state_parse(bad[i], &s), LD_ERR_INVALID);
    assert_int_equal(s, 42);
    assert_int_equal(ld_task_state_parse(NULL, &s), LD_ERR_INVALID);

    assert_string_equal(ld_task_role_name(LD_TASK_ROLE_LEAD), "lead");
    assert_string_equal(ld_task_role_name(LD_TASK_ROLE_SUPPORT), "support");
    assert_string_equal(ld_task_role_name(0), "unspecified");
    assert_string_equal(ld_assign_change_name(LD_ASSIGN_ASSIGNED), "assigned");
    assert_string_equal(ld_assign_change_name(LD_ASSIGN_UPDATED), "updated");
    assert_string_equal(ld_assign_change_name(LD_ASSIGN_UNASSIGNED), "unassigned");
    assert_string_equal(ld_assign_change_name(7), "unknown");
    assert_string_equal(ld_reason_name(LD_REASON_UNKNOWN_TASK), "UNKNOWN_TASK");
    assert_string_equal(ld_reason_name(LD_REASON_INVALID_PLAN), "INVALID_PLAN");
    /* The enums mirror the wire schema. */
    assert_int_equal(LD_TASK_BLOCKED, LIANDONG__V1__TASK_STATE__TASK_BLOCKED);
    assert_int_equal(LD_TASK_ROLE_SUPPORT, LIANDONG__V1__TASK_ROLE__SUPPORT);
    assert_int_equal(LD_ASSIGN_UNASSIGNED, LIANDONG__V1__ASSIGN_CHANGE__UNASSIGNED);
}

/* ---- display width -------------------------------------------------------------- */

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(ld_cli_width(""), 0);
    assert_int_equal(ld_cli_width("ir-2.1.1"), 8);
    assert_int_equal(ld_cli_width("拓展数字经济"), 12);
    assert_int_equal(ld_cli_width("（2022-2026年）"), 2 + 9 + 2 + 2);
    assert_int_equal(ld_cli_width("牡政发〔2022〕21号"), 2 * 3 + 2 + 4 + 2 + 2 + 2);
    assert_int_equal(ld_cli_width("e\xcc\x81"), 1);        /* e + combining acute */
    assert_int_equal(ld_cli_width("\xe2\x80\xa6"), 1);     /* … */
    assert_int_equal(ld_cli_width("\xf0\x9f\x98\x80"), 2); /* emoji */
    assert_int_equal(ld_cli_width("\xff\xfe"), 2);         /* bad bytes: one each */
    assert_int_equal(ld_cli_width("Ωй\u05d0\u0e01"), 4);   /* Greek, Cyrillic, Hebrew, Thai */
    assert_int_equal(ld_cli_width("\xcd\xb8"), 1);         /* unassigned U+0378 */
    assert_int_equal(ld_cli_width("\xef\xbc\xa1\xef\xbd\xa1"), 3); /* Ａ (full), ｡ (half) */

    char *t = ld_cli_truncate("拓展数字经济发展新优势", 30);
    assert_string_equal(t, "拓展数字经济发展新优势"); /* 22 columns: fits */
    free(t);
    t = ld_cli_truncate("拓展数字经济发展新优势", 10);
    assert_string_equal(t, "拓展数字…"); /* 8 + 1 columns: a fifth 汉字 would not fit */
    assert_true(ld_cli_width(t) <= 10);
    free(t);
    t = ld_cli_truncate("ab拓展", 4);
    assert_string_equal(t, "ab…");
    free(t);
    t = ld_cli_truncate("abcdef", 4);
    assert_string_equal(t, "abc…");
    assert_int_equal(ld_cli_width(t), 4);
    free(t);
    t = ld_cli_truncate("e\xcc\x81"
                        "abc",
                        2); /* the mark stays with its letter */
    assert_string_equal(t, "e\xcc\x81\xe2\x80\xa6");
    free(t);
    t = ld_cli_truncate("拓展", 1);
    assert_string_equal(t, "\xe2\x80\xa6");
    free(t);
    t = ld_cli_truncate("拓展", 0);
    assert_string_equal(t, "");
    free(t);

    t = ld_cli_cell("a\tb\nc\x1b[31m\xc2\x85");
    assert_string_equal(t, "a b c\xef\xbf\xbd[31m\xef\xbf\xbd");
    free(t);

    /* A table: every column starts at the same display column in every row. */
    char buf[1024];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ld_cli_table tb;
    ld_cli_table_init(&tb, 3);
    const char *cells[] = {"TASK",
                           "TITLE",
                           "STATE",
                           "ir-2.1.1",
                           "拓展数字经济发展新优势",
                           "accepted",
                           "ir-3.4",
                           "推进园区提档升级（开发区）",
                           "done"};
    for (int i = 0; i < 9; i++)
        ld_cli_table_add(&tb, cells[i], i % 3 == 1 ? 20 : 0);
    assert_int_equal(ld_cli_table_print(f, &tb), 0);
    ld_cli_table_free(&tb);
    fclose(f);
    assert_string_equal(buf, "TASK      TITLE                STATE\n"
                             "ir-2.1.1  拓展数字经济发展新…  accepted\n"
                             "ir-3.4    推进园区提档升级（…  done\n");
}

/* ---- keys, a fake broker -------------------------------------------------------------- */

static sdk_keys keys; /* the client is "mdj.gxj"; "mdj.fgw" a support department */

static int setup(void **state)
{
    (void)state;
    return sdk_keys_init(&keys, "ld-sdk-plans", "mdj.gxj", "市工信局", LDK_ROLE_DEPARTMENT);
}

static int teardown(void **state)
{
    (void)state;
    return sdk_keys_fini(&keys);
}

/* A Body{ledger_reply} with two tasks, packed (caller frees). */
static uint8_t *ledger_reply_bytes(size_t *len, const char *title2)
{
    char *lead1[] = {"mdj.gxj"}, *support1[] = {"mdj.fgw", "mdj.kjj"};
    char *lead2[] = {"mdj.zf.bgs"}, *support2[] = {"mdj.kfq"};
    char *accepted[] = {"mdj.gxj"}, *coord[] = {"mdj.zf.bgs"}, *sup[] = {"mdj.zf.dcs"};
    Liandong__V1__Target tg = LIANDONG__V1__TARGET__INIT;
    tg.year = 2025;
    tg.text = "全市数字经济核心增加值占 GDP 比重达到 10% 以上";
    Liandong__V1__Target *tgs[] = {&tg};
    Liandong__V1__DeptReport r1 = LIANDONG__V1__DEPT_REPORT__INIT, r2 = r1;
    r1.dept = "mdj.gxj";
    r1.at_ms = 1656637200000;
    r1.state = LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS;
    r1.progress = 10;
    r1.note = "已完成调研";
    r2.dept = "mdj.fgw";
    r2.at_ms = 1656637300000;
    r2.state = LIANDONG__V1__TASK_STATE__TASK_ACCEPTED;
    Liandong__V1__DeptReport *reps[] = {&r1, &r2};
    Liandong__V1__LedgerTask t1 = LIANDONG__V1__LEDGER_TASK__INIT, t2 = t1;
    t1.plan = t2.plan = "ir-2022";
    t1.task = "ir-2.1.1";
    t1.title = "拓展数字经济发展新优势";
    t1.n_lead = 1, t1.lead = lead1;
    t1.n_support = 2, t1.support = support1;
    t1.state = LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS;
    t1.progress = 10;
    t1.due = "2025-12-31";
    t1.last_report_at_ms = 1656637300000;
    t1.n_reports = 2, t1.reports = reps;
    t1.n_accepted_by = 1, t1.accepted_by = accepted;
    t1.report_every = "quarter";
    t1.n_targets = 1, t1.targets = tgs;
    t1.doc_number = t2.doc_number = "牡政发〔2022〕21号";
    t1.plan_title = t2.plan_title = "牡丹江市加快产业振兴实施方案（2022-2026年）";
    t1.n_coordinators = 1, t1.coordinators = coord;
    t1.n_supervision = 1, t1.supervision = sup;
    t2.task = "ir-3.4";
    t2.title = (char *)title2;
    t2.n_lead = 1, t2.lead = lead2;
    t2.n_support = 1, t2.support = support2;
    t2.state = LIANDONG__V1__TASK_STATE__TASK_ASSIGNED;
    t2.due = "2026-12-31";
    t2.overdue = 1;
    t2.escalation_level = 2;
    Liandong__V1__LedgerTask *ts[] = {&t1, &t2};
    Liandong__V1__LedgerReply lr = LIANDONG__V1__LEDGER_REPLY__INIT;
    lr.n_tasks = 2, lr.tasks = ts;
    lr.clock_ms = 1656640000000;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_REPLY;
    b.ledger_reply = &lr;
    *len = liandong__v1__body__get_packed_size(&b);
    uint8_t *buf = malloc(*len);
    liandong__v1__body__pack(&b, buf);
    return buf;
}

static void check_ledger(const ld_ledger *l)
{
    assert_true(l->clock_ms == 1656640000000);
    assert_int_equal(l->n_tasks, 2);
    const ld_ledger_task *t = &l->tasks[0];
    assert_string_equal(t->plan, "ir-2022");
    assert_string_equal(t->task, "ir-2.1.1");
    assert_string_equal(t->title, "拓展数字经济发展新优势");
    assert_int_equal(t->n_lead, 1);
    assert_string_equal(t->lead[0], "mdj.gxj");
    assert_int_equal(t->n_support, 2);
    assert_string_equal(t->support[1], "mdj.kjj");
    assert_int_equal(t->state, LD_TASK_IN_PROGRESS);
    assert_int_equal(t->progress, 10);
    assert_string_equal(t->due, "2025-12-31");
    assert_true(t->last_report_at_ms == 1656637300000);
    assert_int_equal(t->overdue, 0);
    assert_int_equal(t->n_reports, 2);
    assert_string_equal(t->reports[0].dept, "mdj.gxj");
    assert_string_equal(t->reports[0].note, "已完成调研");
    assert_int_equal(t->reports[0].state, LD_TASK_IN_PROGRESS);
    assert_int_equal(t->reports[1].state, LD_TASK_ACCEPTED);
    assert_string_equal(t->reports[1].note, "");
    assert_int_equal(t->n_accepted_by, 1);
    assert_string_equal(t->report_every, "quarter");
    assert_int_equal(t->n_targets, 1);
    assert_int_equal(t->targets[0].year, 2025);
    assert_string_equal(t->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(t->plan_title, "牡丹江市加快产业振兴实施方案（2022-2026年）");
    assert_string_equal(t->coordinators[0], "mdj.zf.bgs");
    assert_string_equal(t->supervision[0], "mdj.zf.dcs");
    t = &l->tasks[1];
    assert_string_equal(t->task, "ir-3.4");
    assert_int_equal(t->state, LD_TASK_ASSIGNED);
    assert_int_equal(t->overdue, 1);
    assert_int_equal(t->escalation_level, 2);
    assert_int_equal(t->n_reports, 0);
    assert_null(t->reports);
    assert_int_equal(t->n_targets, 0);
    assert_string_equal(t->report_every, "");
    assert_int_equal(t->last_report_at_ms, 0);
}

static void test_ledger_decode(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = ledger_reply_bytes(&len, "推进园区提档升级");
    ld_ledger *l;
    char err[256];
    assert_int_equal(ldc_ledger_from_reply(buf, len, &l, err, sizeof err), LD_OK);
    check_ledger(l);
    ld_ledger_destroy(&l);
    assert_null(l);
    ld_ledger_destroy(&l);
    ld_ledger_destroy(NULL);
    free(buf);

    /* Not UTF-8 in a title. */
    buf = ledger_reply_bytes(&len, "\xe6\x8e");
    assert_int_equal(ldc_ledger_from_reply(buf, len, &l, err, sizeof err), LD_ERR_PROTOCOL);
    assert_null(l);
    assert_non_null(strstr(err, "UTF-8"));
    free(buf);
    /* Not a Body; another message. */
    assert_int_equal(ldc_ledger_from_reply((const uint8_t *)"\xff\xff", 2, &l, err, sizeof err),
                     LD_ERR_PROTOCOL);
    Liandong__V1__Ack a = LIANDONG__V1__ACK__INIT;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_ACK;
    b.ack = &a;
    uint8_t tmp[64];
    len = liandong__v1__body__pack(&b, tmp);
    assert_int_equal(ldc_ledger_from_reply(tmp, len, &l, err, sizeof err), LD_ERR_PROTOCOL);
    assert_non_null(strstr(err, "'ack'"));
    /* An empty ledger is a ledger. */
    Liandong__V1__LedgerReply lr = LIANDONG__V1__LEDGER_REPLY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_REPLY;
    b.ledger_reply = &lr;
    len = liandong__v1__body__pack(&b, tmp);
    assert_int_equal(ldc_ledger_from_reply(tmp, len, &l, err, sizeof err), LD_OK);
    assert_int_equal(l->n_tasks, 0);
    ld_ledger_destroy(&l);
}

/* A TaskAssign for mdj.gxj, as the broker emits it: signed by the broker key,
 * sender = the broker's id. sk signs (keys.broker->sign_secret normally). */
static uint8_t *assign_envelope(const char *task, const uint8_t *sk, const char *kid, size_t *len)
{
    char *lead[] = {"mdj.gxj"}, *support[] = {"mdj.fgw", "mdj.kjj"};
    Liandong__V1__Target tg = LIANDONG__V1__TARGET__INIT;
    tg.year = 2025;
    tg.text = "全市数字经济核心增加值占 GDP 比重达到 10% 以上";
    Liandong__V1__Target *tgs[] = {&tg};
    Liandong__V1__TaskAssign ta = LIANDONG__V1__TASK_ASSIGN__INIT;
    ta.plan = "ir-2022";
    ta.task = (char *)task;
    ta.title = "拓展数字经济发展新优势";
    ta.role = LIANDONG__V1__TASK_ROLE__LEAD;
    ta.n_lead = 1, ta.lead = lead;
    ta.n_support = 2, ta.support = support;
    ta.due = "2025-12-31";
    ta.report_every = "quarter";
    ta.n_targets = 1, ta.targets = tgs;
    ta.doc_number = "牡政发〔2022〕21号";
    ta.plan_title = "牡丹江市加快产业振兴实施方案（2022-2026年）";
    ta.change = LIANDONG__V1__ASSIGN_CHANGE__ASSIGNED;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_ASSIGN;
    b.task_assign = &ta;
    ldw_header_fields h = {.sender = "broker", .key_id = kid, .seq = 3, .sent_at_ms = 1};
    uint8_t *env;
    if (ldw_envelope_seal_body(&h, &b, sk, &env, len, NULL) != LD_OK)
        abort();
    return env;
}

/* A StatusReport from mdj.fgw (a support department), signed by it. */
static uint8_t *report_envelope(size_t *len)
{
    uint8_t dg[32];
    memset(dg, 0xab, sizeof dg);
    ProtobufCBinaryData dgs[] = {{sizeof dg, dg}};
    Liandong__V1__StatusReport sr = LIANDONG__V1__STATUS_REPORT__INIT;
    sr.task = "ir-2.1.1";
    sr.state = LIANDONG__V1__TASK_STATE__TASK_BLOCKED;
    sr.progress = 35;
    sr.note = "资金未到位";
    sr.n_attachment_digests = 1, sr.attachment_digests = dgs;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    b.status_report = &sr;
    ldw_header_fields h = {
        .sender = "mdj.fgw", .key_id = keys.other_kid, .seq = 4, .sent_at_ms = 1};
    uint8_t *env;
    if (ldw_envelope_seal_body(&h, &b, keys.other_sk, &env, len, NULL) != LD_OK)
        abort();
    return env;
}

static void test_delivery_views(void **state)
{
    (void)state;
    size_t len;
    uint8_t *env = assign_envelope("ir-2.1.1", keys.broker->sign_secret, keys.broker->key_id, &len);
    Liandong__V1__Delivery dm = LIANDONG__V1__DELIVERY__INIT;
    dm.delivery_id = 9;
    dm.envelope.data = env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = keys.broker->sign_public;
    dm.sender_sign_public.len = 32;
    dm.sender_name = "Liandong broker";
    ldc_delivery *d;
    char err[256];
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_OK);
    ld_delivery *p = &d->pub;
    assert_string_equal(p->type, "task_assign");
    assert_string_equal(p->sender, "broker");
    assert_null(p->text);
    assert_null(p->report);
    assert_null(p->accept);
    const ld_task_assign *a = p->assign;
    assert_non_null(a);
    assert_string_equal(a->plan, "ir-2022");
    assert_string_equal(a->task, "ir-2.1.1");
    assert_string_equal(a->title, "拓展数字经济发展新优势");
    assert_int_equal(a->role, LD_TASK_ROLE_LEAD);
    assert_int_equal(a->change, LD_ASSIGN_ASSIGNED);
    assert_int_equal(a->n_lead, 1);
    assert_string_equal(a->lead[0], "mdj.gxj");
    assert_int_equal(a->n_support, 2);
    assert_string_equal(a->support[1], "mdj.kjj");
    assert_string_equal(a->due, "2025-12-31");
    assert_string_equal(a->report_every, "quarter");
    assert_int_equal(a->n_targets, 1);
    assert_int_equal(a->targets[0].year, 2025);
    assert_non_null(strstr(a->targets[0].text, "10%"));
    assert_string_equal(a->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(a->plan_title, "牡丹江市加快产业振兴实施方案（2022-2026年）");
    ld_delivery_destroy(&p);
    free(env);

    env = report_envelope(&len);
    dm.envelope.data = env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = keys.other_pk;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_OK);
    p = &d->pub;
    assert_string_equal(p->type, "status_report");
    assert_null(p->assign);
    assert_non_null(p->report);
    assert_string_equal(p->report->plan, "");
    assert_string_equal(p->report->task, "ir-2.1.1");
    assert_int_equal(p->report->state, LD_TASK_BLOCKED);
    assert_int_equal(p->report->progress, 35);
    assert_string_equal(p->report->note, "资金未到位");
    assert_int_equal(p->report->n_attachment_digests, 1);
    assert_int_equal(p->report->attachment_digests[0].len, 32);
    assert_int_equal(p->report->attachment_digests[0].data[31], 0xab);
    ld_delivery_destroy(&p);
    free(env);

    /* A TaskAccept whose note is not UTF-8 is dropped. */
    Liandong__V1__TaskAccept ta = LIANDONG__V1__TASK_ACCEPT__INIT;
    ta.task = "ir-2.1.1";
    ta.note = "\xe5\x90";
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_ACCEPT;
    b.task_accept = &ta;
    ldw_header_fields h = {
        .sender = "mdj.fgw", .key_id = keys.other_kid, .seq = 5, .sent_at_ms = 1};
    assert_int_equal(ldw_envelope_seal_body(&h, &b, keys.other_sk, &env, &len, NULL), LD_OK);
    dm.envelope.data = env;
    dm.envelope.len = len;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_ERR_PROTOCOL);
    assert_non_null(strstr(err, "task_accept"));
    free(env);
    ta.note = "已收到";
    assert_int_equal(ldw_envelope_seal_body(&h, &b, keys.other_sk, &env, &len, NULL), LD_OK);
    dm.envelope.data = env;
    dm.envelope.len = len;
    assert_int_equal(ldc_delivery_new(&dm, &d, err, sizeof err), LD_OK);
    p = &d->pub;
    assert_string_equal(p->type, "task_accept");
    assert_string_equal(p->accept->task, "ir-2.1.1");
    assert_string_equal(p->accept->note, "已收到");
    ld_delivery_destroy(&p);
    free(env);
}

/* core.last: the last stored-message body. */
typedef struct fake {
    fake_broker core; /* first: the callbacks get &core */
    int push_assigns; /* after the first Hello: a TaskAssign, a forged one */
    /* what it does with LedgerQuery: */
    enum { Q_REPLY, Q_DUP_FIRST, Q_NO_REPLY, Q_ALWAYS_DUP, Q_NACK } qmode;
    /* what it saw */
    int queries;
    uint64_t query_seqs[4];
} fake;

static fake fb;

static int fake_on(fake_broker *core, zmq_msg_t *rid, ldw_opened *o, Liandong__V1__Body *b)
{
    fake *f = (fake *)core;
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_HELLO:
        fake_broker_hello_reply(core, rid, o, "市工信局");
        if (f->core.hellos == 1 && f->push_assigns) {
            size_t n;
            uint8_t *env =
                assign_envelope("ir-2.1.1", keys.broker->sign_secret, keys.broker->key_id, &n);
            fake_broker_push(core, rid, 1, env, n, keys.broker->sign_public);
            free(env);
            /* Claims to be the broker, signed with another key the Delivery
             * vouches for (key ids match): must be dropped all the same. */
            env = assign_envelope("ir-9.9", keys.other_sk, keys.other_kid, &n);
            fake_broker_push(core, rid, 2, env, n, keys.other_pk);
            free(env);
            env = report_envelope(&n);
            fake_broker_push(core, rid, 3, env, n, keys.other_pk);
            free(env);
        }
        return 0;
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH:
        if (strcmp(b->plan_publish->file_name, "bad.yaml") == 0) {
            fake_broker_nack(core, rid, &o->id, o->hdr->seq,
                             LIANDONG__V1__REASON_CODE__INVALID_PLAN,
                             "bad.yaml:3: task ir-1 has no lead department");
            return 1;
        }
        /* fall through */
    case LIANDONG__V1__BODY__MSG_TASK_ACCEPT:
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT: fake_broker_ack(core, rid, o, 0, NULL, 0); return 1;
    case LIANDONG__V1__BODY__MSG_LEDGER_QUERY: {
        if (f->queries < 4)
            f->query_seqs[f->queries] = o->hdr->seq;
        f->queries++;
        size_t n;
        uint8_t *reply = ledger_reply_bytes(&n, "推进园区提档升级");
        switch (f->qmode) {
        case Q_REPLY: fake_broker_ack(core, rid, o, 0, reply, n); break;
        case Q_DUP_FIRST:
            if (f->queries == 1)
                fake_broker_ack(core, rid, o, 1, NULL, 0);
            else
                fake_broker_ack(core, rid, o, 0, reply, n);
            break;
        case Q_NO_REPLY: fake_broker_ack(core, rid, o, 0, NULL, 0); break;
        case Q_ALWAYS_DUP: fake_broker_ack(core, rid, o, 1, NULL, 0); break;
        case Q_NACK:
            fake_broker_nack(core, rid, &o->id, o->hdr->seq,
                             LIANDONG__V1__REASON_CODE__UNAUTHORIZED,
                             "only the plan's coordinators and supervision read its ledger");
            break;
        }
        free(reply);
        return 1;
    }
    default: return 0;
    }
}

static void fake_start(fake *f, int push_assigns)
{
    memset(f, 0, sizeof *f);
    f->push_assigns = push_assigns;
    fake_broker_start(&f->core, keys.broker, keys.client->sign_public, fake_on, NULL);
}

/* The body the fake broker saw last (the caller holds fb.core.mu). */
static const Liandong__V1__Body *seen(void)
{
    return fb.core.last;
}

/* ---- typed sends ------------------------------------------------------------------- */

static void test_sends(void **state)
{
    (void)state;
    fake_start(&fb, 0);
    ld_client *c = sdk_client_connected(&keys, fb.core.endpoint);
    ld_ack ack;

    /* publish */
    const char yaml[] = "plan:\n  id: ir-2022\n  title: \"牡丹江市加快产业振兴实施方案\"\n";
    assert_int_equal(ld_client_plan_publish(c, "ir-2022.yaml", yaml, sizeof yaml - 1, &ack), LD_OK);
    assert_int_equal(ack.seq, 1);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(seen()->msg_case, LIANDONG__V1__BODY__MSG_PLAN_PUBLISH);
    assert_string_equal(seen()->plan_publish->file_name, "ir-2022.yaml");
    assert_int_equal(seen()->plan_publish->content.len, sizeof yaml - 1);
    assert_memory_equal(seen()->plan_publish->content.data, yaml, sizeof yaml - 1);
    pthread_mutex_unlock(&fb.core.mu);

    /* a refusal with its reason and sentence; the sequence number is reused */
    assert_int_equal(ld_client_plan_publish(c, "bad.yaml", yaml, sizeof yaml - 1, &ack),
                     LD_ERR_REFUSED);
    assert_int_equal(ld_client_last_reason(c), LD_REASON_INVALID_PLAN);
    assert_string_equal(ld_client_last_error(c), "bad.yaml:3: task ir-1 has no lead department");

    /* the file variant: the base name goes on the wire */
    char path[256];
    snprintf(path, sizeof path, "%s/ir-2022.yaml", keys.dir);
    FILE *f = fopen(path, "w");
    fputs(yaml, f);
    fclose(f);
    assert_int_equal(ld_client_plan_publish_file(c, path, &ack), LD_OK);
    assert_int_equal(ack.seq, 2);
    pthread_mutex_lock(&fb.core.mu);
    assert_string_equal(seen()->plan_publish->file_name, "ir-2022.yaml");
    pthread_mutex_unlock(&fb.core.mu);

    /* accept, plan left out */
    assert_int_equal(ld_client_task_accept(c, NULL, "ir-2.1.1", "已收到", &ack), LD_OK);
    assert_int_equal(ack.seq, 3);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(seen()->msg_case, LIANDONG__V1__BODY__MSG_TASK_ACCEPT);
    assert_string_equal(seen()->task_accept->plan, "");
    assert_string_equal(seen()->task_accept->task, "ir-2.1.1");
    assert_string_equal(seen()->task_accept->note, "已收到");
    pthread_mutex_unlock(&fb.core.mu);

    /* report */
    uint8_t dg[32] = {1, 2, 3};
    ld_bytes dgs[] = {{dg, sizeof dg}};
    ld_status_report r = {.plan = "ir-2022",
                          .task = "ir-2.1.1",
                          .state = LD_TASK_IN_PROGRESS,
                          .progress = 40,
                          .note = "已完成调研，正在编制方案",
                          .attachment_digests = dgs,
                          .n_attachment_digests = 1};
    assert_int_equal(ld_client_status_report(c, &r, NULL), LD_OK);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(seen()->msg_case, LIANDONG__V1__BODY__MSG_STATUS_REPORT);
    const Liandong__V1__StatusReport *sr = seen()->status_report;
    assert_string_equal(sr->plan, "ir-2022");
    assert_string_equal(sr->task, "ir-2.1.1");
    assert_int_equal(sr->state, LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS);
    assert_int_equal(sr->progress, 40);
    assert_string_equal(sr->note, "已完成调研，正在编制方案");
    assert_int_equal(sr->n_attachment_digests, 1);
    assert_memory_equal(sr->attachment_digests[0].data, dg, sizeof dg);
    pthread_mutex_unlock(&fb.core.mu);

    /* argument checks, before anything is sent */
    ld_status_report bad = r;
    bad.state = 0;
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    bad.state = 6;
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    bad = r;
    bad.progress = 101;
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    assert_non_null(strstr(ld_client_last_error(c), "101"));
    bad = r;
    bad.task = "";
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    bad = r;
    bad.note = "\xe5";
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    bad = r;
    ld_bytes empty[] = {{NULL, 0}};
    bad.attachment_digests = empty;
    assert_int_equal(ld_client_status_report(c, &bad, NULL), LD_ERR_INVALID);
    assert_int_equal(ld_client_status_report(c, NULL, NULL), LD_ERR_INVALID);
    assert_int_equal(ld_client_task_accept(c, NULL, NULL, NULL, NULL), LD_ERR_INVALID);
    assert_int_equal(ld_client_task_accept(c, "\xff", "ir-2.1.1", NULL, NULL), LD_ERR_INVALID);
    assert_int_equal(ld_client_plan_publish(c, "x.yaml", "", 0, NULL), LD_ERR_INVALID);
    assert_int_equal(ld_client_plan_publish(c, "x.yaml", "a: 1\nb: \xe5\n", 10, NULL),
                     LD_ERR_INVALID);
    assert_string_equal(ld_client_last_error(c), "x.yaml:2: the plan file is not valid UTF-8");

    /* plan files: missing, a directory, empty, too large, not UTF-8 */
    char p2[256];
    snprintf(p2, sizeof p2, "%s/missing.yaml", keys.dir);
    assert_int_equal(ld_client_plan_publish_file(c, p2, NULL), LD_ERR_NOT_FOUND);
    assert_non_null(strstr(ld_client_last_error(c), p2));
    assert_int_equal(ld_client_plan_publish_file(c, keys.dir, NULL), LD_ERR_IO);
    snprintf(p2, sizeof p2, "%s/empty.yaml", keys.dir);
    fclose(fopen(p2, "w"));
    assert_int_equal(ld_client_plan_publish_file(c, p2, NULL), LD_ERR_INVALID);
    assert_non_null(strstr(ld_client_last_error(c), "empty"));
    snprintf(p2, sizeof p2, "%s/big.yaml", keys.dir);
    f = fopen(p2, "w");
    for (int i = 0; i <= LD_PLAN_FILE_MAX_BYTES / 16; i++)
        fputs("# 0123456789abc\n", f);
    fclose(f);
    assert_int_equal(ld_client_plan_publish_file(c, p2, NULL), LD_ERR_INVALID);
    assert_non_null(strstr(ld_client_last_error(c), "1048576"));
    snprintf(p2, sizeof p2, "%s/latin1.yaml", keys.dir);
    f = fopen(p2, "w");
    fputs("plan:\n  id: x\n  title: \"caf\xe9\"\n", f);
    fclose(f);
    assert_int_equal(ld_client_plan_publish_file(c, p2, NULL), LD_ERR_FORMAT);
    char want[300];
    snprintf(want, sizeof want, "%s:3: not valid UTF-8", p2);
    assert_non_null(strstr(ld_client_last_error(c), want));

    /* the failed checks used no sequence number */
    assert_int_equal(ld_client_task_accept(c, "ir-2022", "ir-2.1.1", NULL, &ack), LD_OK);
    assert_int_equal(ack.seq, 5);

    ld_client_destroy(&c);
    fake_broker_stop(&fb.core);
}

/* ---- ledger queries -------------------------------------------------------------------- */

static void test_ledger_query(void **state)
{
    (void)state;
    fake_start(&fb, 0);
    ld_client *c = sdk_client_connected(&keys, fb.core.endpoint);
    ld_ledger *l = (ld_ledger *)&fb; /* must be overwritten */

    /* The answer in Ack.reply; the query's fields on the wire. */
    ld_ledger_query q = {
        .plan = "ir-2022", .dept = "mdj.gxj", .state = LD_TASK_DONE, .overdue = 1, .mine = 1};
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_OK);
    check_ledger(l);
    ld_ledger_destroy(&l);
    pthread_mutex_lock(&fb.core.mu);
    const Liandong__V1__LedgerQuery *lq = seen()->ledger_query;
    assert_string_equal(lq->plan, "ir-2022");
    assert_string_equal(lq->dept, "mdj.gxj");
    assert_int_equal(lq->state, LIANDONG__V1__TASK_STATE__TASK_DONE);
    assert_true(lq->overdue && lq->mine);
    assert_int_equal(fb.queries, 1);
    pthread_mutex_unlock(&fb.core.mu);
    assert_int_equal(ld_client_ledger_query(c, NULL, &l), LD_OK); /* everything */
    ld_ledger_destroy(&l);
    pthread_mutex_lock(&fb.core.mu);
    assert_string_equal(seen()->ledger_query->plan, "");
    assert_false(seen()->ledger_query->mine);
    pthread_mutex_unlock(&fb.core.mu);

    /* A duplicate Ack without the answer: asked once more, as a new envelope. */
    pthread_mutex_lock(&fb.core.mu);
    fb.qmode = Q_DUP_FIRST;
    fb.queries = 0;
    pthread_mutex_unlock(&fb.core.mu);
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_OK);
    check_ledger(l);
    ld_ledger_destroy(&l);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.queries, 2);
    assert_true(fb.query_seqs[1] == fb.query_seqs[0] + 1);
    pthread_mutex_unlock(&fb.core.mu);

    /* Only duplicates: asked twice, then LD_ERR_PROTOCOL. */
    pthread_mutex_lock(&fb.core.mu);
    fb.qmode = Q_ALWAYS_DUP;
    fb.queries = 0;
    pthread_mutex_unlock(&fb.core.mu);
    l = (ld_ledger *)&fb;
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_ERR_PROTOCOL);
    assert_null(l);
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.queries, 2);
    pthread_mutex_unlock(&fb.core.mu);

    /* An Ack without an answer (no plans plugin?). */
    pthread_mutex_lock(&fb.core.mu);
    fb.qmode = Q_NO_REPLY;
    fb.queries = 0;
    pthread_mutex_unlock(&fb.core.mu);
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_ERR_PROTOCOL);
    assert_non_null(strstr(ld_client_last_error(c), "plans plugin"));
    pthread_mutex_lock(&fb.core.mu);
    assert_int_equal(fb.queries, 1);
    fb.qmode = Q_NACK;
    pthread_mutex_unlock(&fb.core.mu);

    /* A refusal. */
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_ERR_REFUSED);
    assert_int_equal(ld_client_last_reason(c), LD_REASON_UNAUTHORIZED);
    assert_null(l);

    q.state = 9;
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_ERR_INVALID);
    q.state = 0;
    q.plan = "\xc0\xaf";
    assert_int_equal(ld_client_ledger_query(c, &q, &l), LD_ERR_INVALID);
    assert_int_equal(ld_client_ledger_query(c, NULL, NULL), LD_ERR_INVALID);

    ld_client_destroy(&c);
    fake_broker_stop(&fb.core);
}

/* ---- receiving assignments ------------------------------------------------------------ */

static void test_recv_assign(void **state)
{
    (void)state;
    fake_start(&fb, 1);
    ld_client *c = sdk_client_connected(&keys, fb.core.endpoint);
    ld_delivery *d;
    assert_int_equal(ld_client_recv(c, 2000, &d), LD_OK);
    assert_string_equal(d->type, "task_assign");
    assert_string_equal(d->sender, "broker");
    assert_int_equal(d->from_broker, 1);
    assert_non_null(d->assign);
    assert_string_equal(d->assign->task, "ir-2.1.1");
    assert_int_equal(d->assign->role, LD_TASK_ROLE_LEAD);
    assert_int_equal(d->assign->change, LD_ASSIGN_ASSIGNED);
    assert_int_equal(ld_client_ack(c, d), LD_OK);
    ld_delivery_destroy(&d);

    /* The forged "broker" TaskAssign was dropped (and not acknowledged); the
     * department's report comes next, not from the broker. */
    assert_int_equal(ld_client_recv(c, 2000, &d), LD_OK);
    assert_string_equal(d->type, "status_report");
    assert_string_equal(d->sender, "mdj.fgw");
    assert_int_equal(d->from_broker, 0);
    assert_null(d->assign);
    assert_int_equal(d->report->state, LD_TASK_BLOCKED);
    assert_int_equal(ld_client_ack(c, d), LD_OK);
    ld_delivery_destroy(&d);
    assert_int_equal(ld_client_recv(c, 200, &d), LD_ERR_TIMEOUT);
    /* The drop was noted; the forged delivery (2) was never acknowledged. */
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
        cmocka_unit_test(test_names),         cmocka_unit_test(test_width),
        cmocka_unit_test(test_ledger_decode), cmocka_unit_test(test_delivery_views),
        cmocka_unit_test(test_sends),         cmocka_unit_test(test_ledger_query),
        cmocka_unit_test(test_recv_assign),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
