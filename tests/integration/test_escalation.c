/* Integration tests: the escalation plugin in a real broker (loaded with
 * dlopen after the plans plugin), driven by raw clients over the simulated
 * clock: the ladder over months with broker restarts (every notice once, in
 * order, to the right principals; an offline supervision office gets them
 * on connect), extensions, pauses, supervision letters, the refusals, and the
 * fire regulation's limits through a plan file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#ifndef LD_PLANS_PLUGIN
#error "LD_PLANS_PLUGIN must name the plans plugin"
#endif
#ifndef LD_ESCALATION_PLUGIN
#error "LD_ESCALATION_PLUGIN must name the escalation plugin"
#endif

#define BGS "mdj.zf.bgs"
#define DCS "mdj.zf.dcs"
#define GXJ "mdj.gxj"
#define FGW "mdj.fgw"
#define R(x) LIANDONG__V1__REASON_CODE__##x
#define DAY_MS 86400000LL

typedef struct actor {
    ldk_identity *id;
    th_raw tx, rx;
    int up;
} actor;

typedef struct fixture {
    th_env env;
    actor bgs, dcs, gxj, fgw, admin;
    char config[512];
} fixture;

static actor *all(fixture *f, size_t i)
{
    actor *v[] = {&f->bgs, &f->dcs, &f->gxj, &f->fgw, &f->admin};
    return i < sizeof v / sizeof v[0] ? v[i] : NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    th_env_init(&f->env);
    f->bgs.id = th_add_identity(&f->env, BGS, "牡丹江市人民政府办公室",
                                LDK_ROLE_COORDINATOR | LDK_ROLE_DEPARTMENT);
    f->dcs.id = th_add_identity(&f->env, DCS, "市政府督查室", LDK_ROLE_SUPERVISION);
    f->gxj.id = th_add_identity(&f->env, GXJ, "市工信局", LDK_ROLE_DEPARTMENT);
    f->fgw.id = th_add_identity(&f->env, FGW, "市发改委", LDK_ROLE_DEPARTMENT);
    f->admin.id = th_add_identity(&f->env, "ops.admin", "运维", LDK_ROLE_ADMIN);
    *state = f;
    return 0;
}

static void disconnect(fixture *f)
{
    for (size_t i = 0; all(f, i); i++)
        if (all(f, i)->up) {
            th_raw_close(&all(f, i)->tx);
            th_raw_close(&all(f, i)->rx);
            all(f, i)->up = 0;
        }
}

static int teardown(void **state)
{
    fixture *f = *state;
    disconnect(f);
    th_env_fini(&f->env);
    free(f);
    return 0;
}

/* Start the broker with both plugins; plans_config: the plans plugin's
 * config block (flow style), or NULL. */
static void start_with(fixture *f, const char *clock, const char *plans_config)
{
    char text[4096];
    snprintf(text, sizeof text,
             "plugins:\n"
             "  - name: plans\n"
             "    path: %s\n"
             "%s%s%s"
             "  - name: escalation\n"
             "    path: %s\n",
             LD_PLANS_PLUGIN, plans_config ? "    config: " : "", plans_config ? plans_config : "",
             plans_config ? "\n" : "", LD_ESCALATION_PLUGIN);
    th_write_file(&f->env, "broker.yaml", text, f->config, sizeof f->config);
    const char *extra[] = {"--config", f->config, clock, NULL};
    th_broker_start(&f->env, extra);
}

static void start(fixture *f, const char *clock)
{
    start_with(f, clock, NULL);
}

static void restart(fixture *f, const char *clock)
{
    disconnect(f);
    th_broker_signal_stop(&f->env, SIGTERM);
    start(f, clock);
}

/* Connect a's sending side; with rx, also its receiving side (Hello: the
 * mailbox comes). */
static void up(fixture *f, actor *a, int rx)
{
    if (a->up)
        return;
    uint64_t seq = a->tx.seq;
    th_raw_connect(&a->tx, &f->env, a->id, a->id);
    th_body_free(th_raw_hello_send_only(&a->tx));
    if (seq > a->tx.seq)
        a->tx.seq = seq;
    if (rx) {
        th_raw_connect(&a->rx, &f->env, a->id, a->id);
        th_body_free(th_raw_hello(&a->rx));
    }
    a->up = 1 + rx;
}

static void send_body(fixture *f, actor *a, Liandong__V1__Body *body)
{
    if (!a->up)
        up(f, a, 0);
    th_raw_send_body(&a->tx, a->id, a->id->id, ++a->tx.seq, ldw_now_ms(), body, NULL, NULL, NULL);
}

static Liandong__V1__Body *acked(actor *a)
{
    Liandong__V1__Body *b = th_raw_recv_reply(&a->tx, 10000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
        fail_msg("%s: expected an Ack, got Nack %d: %s", a->id->id, b->nack->code, b->nack->text);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    return b;
}

static void ok(actor *a)
{
    th_body_free(acked(a));
}

static void refused(actor *a, int code, const char *part)
{
    Liandong__V1__Body *b = th_raw_recv_reply(&a->tx, 10000);
    assert_non_null(b);
    if (b->msg_case != LIANDONG__V1__BODY__MSG_NACK)
        fail_msg("%s: expected Nack %d (%s), got an Ack", a->id->id, code, part);
    if ((int)b->nack->code != code || !strstr(b->nack->text, part))
        fail_msg("%s: expected Nack %d with '%s', got %d: %s", a->id->id, code, part, b->nack->code,
                 b->nack->text);
    printf("# refused as expected: %s\n", b->nack->text);
    th_body_free(b);
}

static void publish(fixture *f, const char *yaml)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__PlanPublish p = LIANDONG__V1__PLAN_PUBLISH__INIT;
    p.file_name = "plan.yaml";
    p.content.data = (uint8_t *)yaml;
    p.content.len = strlen(yaml);
    body.msg_case = LIANDONG__V1__BODY__MSG_PLAN_PUBLISH;
    body.plan_publish = &p;
    send_body(f, &f->bgs, &body);
    ok(&f->bgs);
}

static void advance_days(fixture *f, int days)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance c = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    c.by_ms = days * DAY_MS;
    body.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    body.clock_advance = &c;
    send_body(f, &f->admin, &body);
    ok(&f->admin);
    /* on_tick runs right after the clock moved; give it a moment. */
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

typedef struct got {
    char reason[32], task[65], due[16], id[256];
    uint32_t level;
    int64_t raised;
} got;

/* Drain a's deliveries (connecting its receiving side), keeping the
 * escalation notices, until none comes for 1.5 s. Returns how many. */
static size_t notices(fixture *f, actor *a, got *out, size_t max)
{
    if (a->up < 2) {
        if (a->up) {
            th_raw_close(&a->tx);
            a->up = 0;
        }
        up(f, a, 1);
    }
    size_t n = 0;
    for (;;) {
        Liandong__V1__Body *b = th_raw_recv(&a->rx, 1500);
        if (!b)
            return n;
        if (b->msg_case != LIANDONG__V1__BODY__MSG_DELIVERY) {
            th_body_free(b);
            continue;
        }
        ldw_opened o;
        assert_int_equal(
            ldw_envelope_open(b->delivery->envelope.data, b->delivery->envelope.len, &o, NULL, 0),
            LD_OK);
        Liandong__V1__Body *in = ldw_opened_body(&o);
        if (in && in->msg_case == LIANDONG__V1__BODY__MSG_ESCALATION_NOTICE) {
            assert_string_equal(o.hdr->sender, f->env.broker->id);
            assert_int_equal(ldw_envelope_verify(&o, f->env.broker->sign_public), LD_OK);
            const Liandong__V1__EscalationNotice *e = in->escalation_notice;
            if (n < max) {
                snprintf(out[n].reason, sizeof out[n].reason, "%s", e->reason);
                snprintf(out[n].task, sizeof out[n].task, "%s", e->task);
                snprintf(out[n].due, sizeof out[n].due, "%s", e->due);
                snprintf(out[n].id, sizeof out[n].id, "%s", e->notice_id);
                out[n].level = e->level;
                out[n].raised = e->raised_at_ms;
            }
            n++;
        }
        if (in)
            th_body_free(in);
        th_raw_delivery_ack(&a->rx, b->delivery->delivery_id);
        ldw_opened_clear(&o);
        th_body_free(b);
    }
}

static void no_duplicates(const got *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(g[i].id, g[j].id) == 0)
                fail_msg("notice %s delivered twice", g[i].id);
    for (size_t i = 1; i < n; i++)
        assert_true(g[i - 1].raised <= g[i].raised);
}

static const char plan_ladder[] =
    "plan:\n"
    "  id: esc-2025\n"
    "  title: \"督办测试\"\n"
    "  coordinators: [mdj.zf.bgs]\n"
    "  supervision: [mdj.zf.dcs]\n"
    "escalation:\n"
    "  calendar: cn\n"
    "  warn_before: 10 working days\n"
    "  remind_every: 5 working days\n"
    "  report_every: quarter\n"
    "  ladder:\n"
    "    - {level: 1, name: \"督导\", after: 0 days,  notify: [supervision, lead, coordinators]}\n"
    "    - {level: 2, name: \"约谈\", after: 15 working days, notify: [supervision, "
    "coordinators]}\n"
    "    - {level: 3, name: \"问责\", after: 30 days, notify: [supervision]}\n"
    "  extension: {max: 60 days, max_count: 1}\n"
    "tasks:\n"
    "  - id: esc-1\n"
    "    title: \"推进数字经济\"\n"
    "    lead: [mdj.gxj]\n"
    "    support: [mdj.fgw]\n"
    "    due: \"2025-09-30\"\n";

/* 2025-07-01 09:00 China. */
#define START_2025 "--simulated-clock=2025-07-01T09:00:00+08:00"

/* What the supervision office of plan_ladder gets by 11-13 (it was
 * offline): 督导, no_report, 约谈, 问责 about esc-1, in order. Returns 4. */
static size_t supervision_ladder(fixture *f, got g[64])
{
    size_t n = notices(f, &f->dcs, g, 64);
    static const struct {
        const char *reason;
        uint32_t level;
    } want[] = {{"overdue", 1}, {"no_report", 1}, {"overdue", 2}, {"overdue", 3}};
    if (n != sizeof want / sizeof want[0]) {
        for (size_t i = 0; i < n && i < 64; i++)
            printf("# dcs got %s\n", g[i].id);
        fail_msg("supervision got %zu notices, want 4", n);
    }
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(g[i].reason, want[i].reason);
        assert_int_equal(g[i].level, want[i].level);
        assert_string_equal(g[i].task, "esc-1");
    }
    assert_string_equal(g[0].id, "esc-2025/esc-1/overdue/1/2025-09-30");
    return n;
}

static void test_ladder_with_restarts(void **state)
{
    fixture *f = *state;
    start(f, START_2025);
    publish(f, plan_ladder);
    advance_days(f, 45); /* 08-15: nothing due yet */
    restart(f, START_2025);
    advance_days(f, 70); /* 10-24: due_soon, 督导, no_report, two reminders */
    restart(f, START_2025);
    advance_days(f, 20); /* 11-13: 约谈, 问责, two more reminders */

    /* The supervision office was offline all along. */
    got g[64];
    size_t n = supervision_ladder(f, g);
    /* 约谈 raised at the end of 2025-10-28 China = 10-28T16:00Z. */
    assert_int_equal(g[2].raised, 1761667200000LL);
    no_duplicates(g, n);

    /* The lead: due_soon, 督导, no_report (level 1 names the lead), reminders
     * after 5, 10, 20 and 25 working days (15 falls on 约谈: not repeated). */
    n = notices(f, &f->gxj, g, 64);
    const char *lead_want[] = {"due_soon", "overdue",  "no_report", "reminder",
                               "reminder", "reminder", "reminder"};
    if (n != 7) {
        for (size_t i = 0; i < n && i < 64; i++)
            printf("# gxj got %s\n", g[i].id);
        fail_msg("the lead got %zu notices, want 7", n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(g[i].reason, lead_want[i]);
    no_duplicates(g, n);
    /* The support department is named by no rule. */
    assert_int_equal(notices(f, &f->fgw, g, 64), 0);

    /* Another restart raises nothing again. */
    restart(f, START_2025);
    advance_days(f, 1);
    assert_int_equal(notices(f, &f->dcs, g, 64), 0);

    /* The ledger shows the level. */
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__LedgerQuery q = LIANDONG__V1__LEDGER_QUERY__INIT;
    q.plan = "esc-2025";
    body.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_QUERY;
    body.ledger_query = &q;
    send_body(f, &f->bgs, &body);
    Liandong__V1__Body *a = acked(&f->bgs);
    Liandong__V1__Body *r = liandong__v1__body__unpack(NULL, a->ack->reply.len, a->ack->reply.data);
    assert_non_null(r);
    assert_int_equal(r->ledger_reply->n_tasks, 1);
    assert_int_equal(r->ledger_reply->tasks[0]->escalation_level, 3);
    th_body_free(r);
    th_body_free(a);

    /* Rectification: the lead reports done; the ladder stops. */
    Liandong__V1__StatusReport sr = LIANDONG__V1__STATUS_REPORT__INIT;
    sr.task = "esc-1";
    sr.state = LIANDONG__V1__TASK_STATE__TASK_DONE;
    sr.progress = 100;
    body.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    body.status_report = &sr;
    send_body(f, &f->gxj, &body);
    ok(&f->gxj);
    advance_days(f, 30);
    n = notices(f, &f->dcs, g, 64);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].reason, "rectified");
}

/* A plan the plans plugin loads from its own config: the escalation plugin
 * takes its rules from the plan file the plans plugin shares (no `plans:`
 * of its own, no default rules), also after a restart. */
static void test_rules_from_plans_config(void **state)
{
    fixture *f = *state;
    char path[512], cfg[700];
    th_write_file(&f->env, "esc-2025.yaml", plan_ladder, path, sizeof path);
    snprintf(cfg, sizeof cfg, "{plans: [\"%s\"]}", path);
    start_with(f, START_2025, cfg);
    advance_days(f, 115); /* 10-24 */
    disconnect(f);
    th_broker_signal_stop(&f->env, SIGTERM);
    start_with(f, START_2025, cfg);
    advance_days(f, 20); /* 11-13 */
    got g[64];
    supervision_ladder(f, g);
}

static void ext_request(fixture *f, actor *a, const char *task, const char *until)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ExtensionRequest m = LIANDONG__V1__EXTENSION_REQUEST__INIT;
    m.task = (char *)task;
    m.until = (char *)until;
    m.reason = "资金未到位";
    body.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST;
    body.extension_request = &m;
    send_body(f, a, &body);
}

static void ext_decide(fixture *f, actor *a, const char *task, int approve)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ExtensionDecision m = LIANDONG__V1__EXTENSION_DECISION__INIT;
    m.task = (char *)task;
    m.approve = approve;
    m.reason = approve ? "" : "理由不充分";
    body.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_DECISION;
    body.extension_decision = &m;
    send_body(f, a, &body);
}

static void pause_task(fixture *f, actor *a, const char *task, int resume)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__TaskPause m = LIANDONG__V1__TASK_PAUSE__INIT;
    m.task = (char *)task;
    m.resume = resume;
    m.reason = "技术鉴定";
    body.msg_case = LIANDONG__V1__BODY__MSG_TASK_PAUSE;
    body.task_pause = &m;
    send_body(f, a, &body);
}

static void letter(fixture *f, actor *a, const char *task, const char *deadline)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__SupervisionLetter m = LIANDONG__V1__SUPERVISION_LETTER__INIT;
    char *to[] = {GXJ};
    m.task = (char *)task;
    m.to = to;
    m.n_to = 1;
    m.deadline = (char *)deadline;
    m.text = "请限期整改";
    body.msg_case = LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER;
    body.supervision_letter = &m;
    send_body(f, a, &body);
}

/* The ledger of esc-2025 as the coordinator reads it (caller frees), and
 * in *row the row of task (a task or a letter id), which must be there. */
static Liandong__V1__Body *ledger_row(fixture *f, const char *task, Liandong__V1__LedgerTask **row)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__LedgerQuery q = LIANDONG__V1__LEDGER_QUERY__INIT;
    q.plan = "esc-2025";
    body.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_QUERY;
    body.ledger_query = &q;
    send_body(f, &f->bgs, &body);
    Liandong__V1__Body *a = acked(&f->bgs);
    Liandong__V1__Body *r = liandong__v1__body__unpack(NULL, a->ack->reply.len, a->ack->reply.data);
    assert_non_null(r);
    th_body_free(a);
    *row = NULL;
    for (size_t i = 0; i < r->ledger_reply->n_tasks; i++)
        if (strcmp(r->ledger_reply->tasks[i]->task, task) == 0)
            *row = r->ledger_reply->tasks[i];
    if (!*row)
        fail_msg("%s is not in the ledger", task);
    return r;
}

/* The due date the ledger shows for a task of esc-2025 (caller frees). */
static char *ledger_due(fixture *f, const char *task)
{
    Liandong__V1__LedgerTask *t;
    Liandong__V1__Body *r = ledger_row(f, task, &t);
    char *due = strdup(t->due);
    th_body_free(r);
    return due;
}

static void answer_letter(fixture *f, actor *a, const char *id, const char *text)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__LetterAnswer m = LIANDONG__V1__LETTER_ANSWER__INIT;
    m.letter_id = (char *)id;
    m.text = (char *)text;
    body.msg_case = LIANDONG__V1__BODY__MSG_LETTER_ANSWER;
    body.letter_answer = &m;
    send_body(f, a, &body);
}

static void test_extension_pause_letter_refusals(void **state)
{
    fixture *f = *state;
    start(f, START_2025);
    publish(f, plan_ladder);
    /* Refusals. */
    ext_request(f, &f->fgw, "esc-1", "2025-10-30");
    refused(&f->fgw, R(UNAUTHORIZED), "mdj.fgw is a support department");
    ext_request(f, &f->gxj, "esc-1", "2025-11-30"); /* 61 days */
    refused(&f->gxj, R(LIMIT_EXCEEDED), "may reach 2025-11-29 at most");
    ext_request(f, &f->gxj, "esc-1", "2025-11-29");
    ok(&f->gxj);
    ext_decide(f, &f->gxj, "esc-1", 1);
    refused(&f->gxj, R(UNAUTHORIZED), "only a coordinator of plan esc-2025 decides");
    ext_decide(f, &f->bgs, "esc-1", 1);
    ok(&f->bgs);
    ext_request(f, &f->gxj, "esc-1", "2025-12-10");
    refused(&f->gxj, R(LIMIT_EXCEEDED), "had 1 extension already");
    letter(f, &f->bgs, "esc-1", "2025-07-10");
    refused(&f->bgs, R(UNAUTHORIZED), "only the supervision office of plan esc-2025");
    pause_task(f, &f->gxj, "esc-1", 0);
    refused(&f->gxj, R(UNAUTHORIZED), "only a coordinator");

    got g[64];
    size_t n = notices(f, &f->gxj, g, 64);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].reason, "extension_decided");
    assert_string_equal(g[0].due, "2025-11-29");
    /* The ledger shows the due date in force, also after the lead's next
     * report (the plans plugin rewrites the entry). */
    char *due = ledger_due(f, "esc-1");
    assert_string_equal(due, "2025-11-29");
    free(due);
    Liandong__V1__Body rb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__StatusReport sr = LIANDONG__V1__STATUS_REPORT__INIT;
    sr.task = "esc-1";
    sr.state = LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS;
    sr.progress = 50;
    rb.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    rb.status_report = &sr;
    send_body(f, &f->gxj, &rb);
    ok(&f->gxj);
    due = ledger_due(f, "esc-1");
    assert_string_equal(due, "2025-11-29");
    free(due);

    /* A pause of 10 days moves the due date by 10 days. */
    pause_task(f, &f->bgs, "esc-1", 0);
    ok(&f->bgs);
    advance_days(f, 10);
    pause_task(f, &f->bgs, "esc-1", 1);
    ok(&f->bgs);
    due = ledger_due(f, "esc-1");
    assert_string_equal(due, "2025-12-09");
    free(due);

    /* A 督办函, unanswered past its deadline. */
    letter(f, &f->dcs, "esc-1", "2025-07-20");
    Liandong__V1__Body *a = acked(&f->dcs);
    Liandong__V1__Body *r = liandong__v1__body__unpack(NULL, a->ack->reply.len, a->ack->reply.data);
    assert_non_null(r);
    assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER);
    assert_string_equal(r->supervision_letter->letter_id, "dbh-1");
    th_body_free(r);
    th_body_free(a);
    /* The letter is a ledger row of its own, with its deadline as due date. */
    Liandong__V1__LedgerTask *row;
    r = ledger_row(f, "dbh-1", &row);
    assert_string_equal(row->kind, "letter");
    assert_string_equal(row->about, "esc-1");
    assert_string_equal(row->issued_by, DCS);
    assert_string_equal(row->title, "督办函：请限期整改");
    assert_int_equal(row->n_lead, 1);
    assert_string_equal(row->lead[0], GXJ);
    assert_string_equal(row->due, "2025-07-20");
    assert_int_equal(row->state, LIANDONG__V1__TASK_STATE__TASK_ASSIGNED);
    assert_int_equal(row->escalation_level, 0);
    assert_false(row->overdue);
    assert_string_equal(row->plan_title, "督办测试");
    th_body_free(r);
    /* The plan published again keeps the letter's row and the due date in
     * force (extended, then moved by the pause). */
    publish(f, plan_ladder);
    r = ledger_row(f, "dbh-1", &row);
    th_body_free(r);
    due = ledger_due(f, "esc-1");
    assert_string_equal(due, "2025-12-09");
    free(due);
    /* A letter is not a task: extensions and reports name the task. */
    ext_request(f, &f->gxj, "dbh-1", "2025-12-30");
    refused(&f->gxj, R(UNKNOWN_TASK), "dbh-1");
    Liandong__V1__Body lb = LIANDONG__V1__BODY__INIT;
    Liandong__V1__StatusReport lr = LIANDONG__V1__STATUS_REPORT__INIT;
    lr.task = "dbh-1";
    lr.state = LIANDONG__V1__TASK_STATE__TASK_DONE;
    lr.progress = 100;
    lb.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    lb.status_report = &lr;
    send_body(f, &f->gxj, &lb);
    refused(&f->gxj, R(UNKNOWN_TASK), "dbh-1 is a 督办函 about task esc-1, not a task: answer it");

    advance_days(f, 10); /* 07-21 */
    n = notices(f, &f->dcs, g, 64);
    size_t k = 0;
    while (k < n && strcmp(g[k].reason, "letter_overdue") != 0)
        k++;
    assert_true(k < n);
    assert_int_equal(g[k].level, 1);
    assert_string_equal(g[k].due, "2025-07-20");
    r = ledger_row(f, "dbh-1", &row);
    assert_int_equal(row->escalation_level, 1);
    assert_true(row->overdue);
    th_body_free(r);

    /* A second letter, answered in time: done in the ledger, no notice. */
    letter(f, &f->dcs, "esc-1", "2025-08-01");
    th_body_free(acked(&f->dcs));
    answer_letter(f, &f->fgw, "dbh-2", "不是我");
    refused(&f->fgw, R(UNAUTHORIZED), "addressed to other departments");
    answer_letter(f, &f->gxj, "dbh-2", "已整改完毕");
    ok(&f->gxj);
    r = ledger_row(f, "dbh-2", &row);
    assert_int_equal(row->state, LIANDONG__V1__TASK_STATE__TASK_DONE);
    assert_int_equal(row->progress, 100);
    assert_int_equal(row->n_reports, 1);
    assert_string_equal(row->reports[0]->dept, GXJ);
    assert_string_equal(row->reports[0]->note, "已整改完毕");
    assert_false(row->overdue);
    th_body_free(r);
    advance_days(f, 20); /* 08-10: past dbh-2's deadline, answered */
    n = notices(f, &f->dcs, g, 64);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(g[i].reason, "letter_overdue");

    /* due_soon for the due date in force: 2025-11-29 + 10 paused days. */
    advance_days(f, 110); /* 11-28 */
    n = notices(f, &f->gxj, g, 64);
    k = 0;
    while (k < n && strcmp(g[k].reason, "due_soon") != 0)
        k++;
    assert_true(k < n);
    assert_string_equal(g[k].due, "2025-12-09");
}

static const char plan_fire[] =
    "plan:\n"
    "  id: fire-2023\n"
    "  title: \"较大火灾事故调查（示例）\"\n"
    "  coordinators: [mdj.zf.bgs]\n"
    "  supervision: [mdj.zf.dcs]\n"
    "escalation:\n"
    "  short_limits_in_working_days: 15\n"
    "  warn_before: 2 working days\n"
    "  report_every: none\n"
    "  ladder:\n"
    "    - {level: 1, name: \"督导\", after: 0 days, notify: [supervision, lead]}\n"
    "tasks:\n"
    "  - id: fire-team\n"
    "    title: \"组成调查组\"\n"
    "    lead: [mdj.gxj]\n"
    "    due: \"2023-12-31\"\n"
    "    escalation: {from: \"2023-09-25\", limit: 5 days}\n"
    "  - id: fire-report\n"
    "    title: \"提交调查报告\"\n"
    "    lead: [mdj.gxj]\n"
    "    due: \"2023-12-31\"\n"
    "    escalation: {from: \"2023-09-25\", limit: 60 days}\n";

static void test_fire_limits(void **state)
{
    fixture *f = *state;
    start(f, "--simulated-clock=2023-09-25T10:00:00+08:00");
    publish(f, plan_fire);
    advance_days(f, 70); /* 2023-12-04 */
    got g[16];
    size_t n = notices(f, &f->dcs, g, 16);
    assert_int_equal(n, 2);
    /* 5 days = 5 working days across 中秋节、国庆节 (art. 43). */
    assert_string_equal(g[0].id, "fire-2023/fire-team/overdue/1/2023-10-08");
    /* 60 days = natural days. */
    assert_string_equal(g[1].id, "fire-2023/fire-report/overdue/1/2023-11-24");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ladder_with_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_from_plans_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extension_pause_letter_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
