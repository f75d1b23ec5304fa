/* Integration tests: the plans plugin in a real broker (loaded with dlopen
 * from the broker config), driven by raw clients: publish -> TaskAssign ->
 * accept -> report -> ledger, every authorization refusal, re-publish,
 * restarts, and the example plan loaded from the config. */
#define _GNU_SOURCE
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#ifndef LD_PLANS_PLUGIN
#error "LD_PLANS_PLUGIN must name the plans plugin"
#endif
#ifndef LD_SOURCE_DIR
#error "LD_SOURCE_DIR must name the source tree"
#endif

#define BGS "mdj.zf.bgs"
#define DCS "mdj.zf.dcs"
#define GXJ "mdj.gxj"
#define FGW "mdj.fgw"
#define KJJ "mdj.kjj"
#define XQZF "mdj.xq.zf"
#define OTHER "mdj.other.bgs"

#define LEAD LIANDONG__V1__TASK_ROLE__LEAD
#define SUPPORT LIANDONG__V1__TASK_ROLE__SUPPORT
#define ASSIGNED LIANDONG__V1__ASSIGN_CHANGE__ASSIGNED
#define UPDATED LIANDONG__V1__ASSIGN_CHANGE__UPDATED
#define UNASSIGNED LIANDONG__V1__ASSIGN_CHANGE__UNASSIGNED
#define S(x) LIANDONG__V1__TASK_STATE__TASK_##x
#define R(x) LIANDONG__V1__REASON_CODE__##x

/* The simulated business clock starts 2025-07-01 09:00 in China. */
#define START "--simulated-clock=2025-07-01T09:00:00+08:00"
#define START_MS 1751331600000LL

/* A principal with a sending connection (send-only) and a receiving one. */
typedef struct actor {
    ldk_identity *id;
    th_raw tx, rx;
    int up;
} actor;

typedef struct fixture {
    th_env env;
    actor bgs, dcs, gxj, fgw, kjj, xqzf, other, admin, audit;
    char config[512];
    const char *heartbeat_ms; /* --heartbeat-ms for start(); NULL: the default */
} fixture;

static actor *all(fixture *f, size_t i)
{
    actor *v[] = {&f->bgs,  &f->dcs,   &f->gxj,   &f->fgw,  &f->kjj,
                  &f->xqzf, &f->other, &f->admin, &f->audit};
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
    f->kjj.id = th_add_identity(&f->env, KJJ, "市科技局", LDK_ROLE_DEPARTMENT);
    f->xqzf.id = th_add_identity(&f->env, XQZF, "各县（市）区政府", LDK_ROLE_DEPARTMENT);
    f->other.id = th_add_identity(&f->env, OTHER, "另一专班", LDK_ROLE_COORDINATOR);
    f->admin.id = th_add_identity(&f->env, "ops.admin", "运维", LDK_ROLE_ADMIN);
    f->audit.id = th_add_identity(&f->env, "ops.audit", "审计", LDK_ROLE_AUDITOR);
    *state = f;
    return 0;
}

static void disconnect(fixture *f)
{
    for (size_t i = 0; all(f, i); i++) {
        actor *a = all(f, i);
        if (a->up) {
            th_raw_close(&a->tx);
            th_raw_close(&a->rx);
            a->up = 0;
        }
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

/* Write the broker config (the plans plugin with plugin_config as its
 * config block, if any) and start the broker. */
static void start(fixture *f, const char *plugin_config)
{
    char text[4096];
    snprintf(text, sizeof text,
             "plugins:\n"
             "  - name: plans\n"
             "    path: %s\n"
             "%s%s%s",
             LD_PLANS_PLUGIN, plugin_config ? "    config:\n      " : "",
             plugin_config ? plugin_config : "", plugin_config ? "\n" : "");
    th_write_file(&f->env, "broker.yaml", text, f->config, sizeof f->config);
    const char *extra[] = {"--config",      f->config,
                           START,           f->heartbeat_ms ? "--heartbeat-ms" : NULL,
                           f->heartbeat_ms, NULL};
    th_broker_start(&f->env, extra);
}

static void up(fixture *f, actor *a)
{
    if (a->up)
        return;
    uint64_t seq = a->tx.seq;
    th_raw_connect(&a->tx, &f->env, a->id, a->id);
    th_body_free(th_raw_hello_send_only(&a->tx));
    if (seq > a->tx.seq)
        a->tx.seq = seq;
    th_raw_connect(&a->rx, &f->env, a->id, a->id);
    th_body_free(th_raw_hello(&a->rx));
    a->up = 1;
}

/* ---- sending ---------------------------------------------------------------- */

static void send_body(fixture *f, actor *a, Liandong__V1__Body *body)
{
    up(f, a);
    th_raw_send_body(&a->tx, a->id, a->id->id, ++a->tx.seq, ldw_now_ms(), body, NULL, NULL, NULL);
}

static void publish(fixture *f, actor *a, const char *file_name, const char *yaml)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__PlanPublish p = LIANDONG__V1__PLAN_PUBLISH__INIT;
    p.file_name = (char *)file_name;
    p.content.data = (uint8_t *)yaml;
    p.content.len = strlen(yaml);
    body.msg_case = LIANDONG__V1__BODY__MSG_PLAN_PUBLISH;
    body.plan_publish = &p;
    send_body(f, a, &body);
}

static void accept_task(fixture *f, actor *a, const char *plan, const char *task)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__TaskAccept m = LIANDONG__V1__TASK_ACCEPT__INIT;
    m.plan = (char *)plan;
    m.task = (char *)task;
    m.note = "收到，立即部署";
    body.msg_case = LIANDONG__V1__BODY__MSG_TASK_ACCEPT;
    body.task_accept = &m;
    send_body(f, a, &body);
}

static void report(fixture *f, actor *a, const char *task, int state, unsigned progress,
                   const char *note)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__StatusReport m = LIANDONG__V1__STATUS_REPORT__INIT;
    m.task = (char *)task;
    m.state = state;
    m.progress = progress;
    m.note = (char *)note;
    body.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    body.status_report = &m;
    send_body(f, a, &body);
}

static void query(fixture *f, actor *a, const char *plan, const char *dept, int state, int overdue,
                  int mine)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__LedgerQuery q = LIANDONG__V1__LEDGER_QUERY__INIT;
    q.plan = (char *)plan;
    q.dept = (char *)dept;
    q.state = state;
    q.overdue = overdue;
    q.mine = mine;
    body.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_QUERY;
    body.ledger_query = &q;
    send_body(f, a, &body);
}

static void advance_clock(fixture *f, int64_t by_ms)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__ClockAdvance c = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    c.by_ms = by_ms;
    body.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    body.clock_advance = &c;
    send_body(f, &f->admin, &body);
}

/* ---- answers ------------------------------------------------------------------ */

/* The Ack of a's last message; returns the Ack body (caller frees). */
static Liandong__V1__Body *acked(actor *a)
{
    Liandong__V1__Body *b = th_raw_recv_reply(&a->tx, 10000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_NACK)
        fail_msg("expected an Ack, got Nack %d: %s", b->nack->code, b->nack->text);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    assert_false(b->ack->duplicate);
    return b;
}

static void ok(actor *a)
{
    th_body_free(acked(a));
}

static void refused(actor *a, int code, const char *text_part)
{
    Liandong__V1__Body *b = th_raw_recv_reply(&a->tx, 10000);
    assert_non_null(b);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_ACK)
        fail_msg("expected Nack %d (%s), got an Ack", code, text_part);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_NACK);
    if ((int)b->nack->code != code)
        fail_msg("expected Nack %d, got %d: %s", code, b->nack->code, b->nack->text);
    if (!strstr(b->nack->text, text_part))
        fail_msg("Nack text '%s' does not contain '%s'", b->nack->text, text_part);
    th_body_free(b);
}

/* The LedgerReply in the Ack of a's last LedgerQuery (caller frees the
 * returned Body; the reply is ->ledger_reply). */
static Liandong__V1__Body *ledger_reply(actor *a)
{
    Liandong__V1__Body *ack = acked(a);
    assert_true(ack->ack->reply.len > 0);
    Liandong__V1__Body *r =
        liandong__v1__body__unpack(NULL, ack->ack->reply.len, ack->ack->reply.data);
    assert_non_null(r);
    assert_int_equal(r->msg_case, LIANDONG__V1__BODY__MSG_LEDGER_REPLY);
    th_body_free(ack);
    return r;
}

static Liandong__V1__Body *ask(fixture *f, actor *a, const char *plan, const char *dept, int state,
                               int overdue, int mine)
{
    query(f, a, plan, dept, state, overdue, mine);
    return ledger_reply(a);
}

static const Liandong__V1__LedgerTask *find_task(const Liandong__V1__LedgerReply *r,
                                                 const char *task)
{
    for (size_t i = 0; i < r->n_tasks; i++)
        if (strcmp(r->tasks[i]->task, task) == 0)
            return r->tasks[i];
    return NULL;
}

/* ---- deliveries ---------------------------------------------------------------- */

/* The next Delivery to a (acknowledged), its inner envelope checked against
 * the signer's key: the broker's for the broker's own messages. Returns the
 * inner body (caller frees); the inner sender into sender. */
static Liandong__V1__Body *delivery(fixture *f, actor *a, char *sender, size_t sender_len)
{
    Liandong__V1__Body *b;
    do {
        b = th_raw_recv(&a->rx, 5000); /* checks the outer frame's broker signature */
        if (!b)
            fail_msg("%s: no delivery within 5 s", a->id->id);
    } while (b->msg_case == LIANDONG__V1__BODY__MSG_HELLO_REPLY && (th_body_free(b), 1));
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
    Liandong__V1__Delivery *d = b->delivery;
    ldw_opened o;
    assert_int_equal(ldw_envelope_open(d->envelope.data, d->envelope.len, &o, NULL, 0), LD_OK);
    const ldk_identity *signer = NULL;
    if (strcmp(o.hdr->sender, f->env.broker->id) == 0)
        signer = f->env.broker;
    for (size_t i = 0; !signer && all(f, i); i++)
        if (strcmp(all(f, i)->id->id, o.hdr->sender) == 0)
            signer = all(f, i)->id;
    if (!signer)
        fail_msg("delivery from unknown sender %s", o.hdr->sender);
    assert_int_equal(d->sender_sign_public.len, 32);
    assert_memory_equal(d->sender_sign_public.data, signer->sign_public, 32);
    assert_int_equal(ldw_envelope_verify(&o, signer->sign_public), LD_OK);
    snprintf(sender, sender_len, "%s", o.hdr->sender);
    Liandong__V1__Body *inner = ldw_opened_body(&o);
    assert_non_null(inner);
    ldw_opened_clear(&o);
    th_raw_delivery_ack(&a->rx, d->delivery_id);
    th_body_free(b);
    return inner;
}

typedef struct assign {
    char task[65];
    int role, change;
    size_t n_lead, n_support;
} assign;

/* Receive exactly n TaskAssigns for a, each from the broker. */
static void assigns(fixture *f, actor *a, size_t n, assign *out)
{
    for (size_t i = 0; i < n; i++) {
        char sender[80];
        Liandong__V1__Body *b = delivery(f, a, sender, sizeof sender);
        assert_string_equal(sender, f->env.broker->id);
        if (b->msg_case != LIANDONG__V1__BODY__MSG_TASK_ASSIGN)
            fail_msg("%s: expected a TaskAssign, got message case %d", a->id->id, b->msg_case);
        Liandong__V1__TaskAssign *t = b->task_assign;
        snprintf(out[i].task, sizeof out[i].task, "%s", t->task);
        out[i].role = t->role;
        out[i].change = t->change;
        out[i].n_lead = t->n_lead;
        out[i].n_support = t->n_support;
        th_body_free(b);
    }
}

static void has_assign(const assign *v, size_t n, const char *task, int role, int change)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].task, task) == 0 && v[i].role == role && v[i].change == change)
            return;
    fail_msg("no TaskAssign %s role %d change %d among %zu", task, role, change, n);
}

/* The next delivery to a is the message type want from sender. */
static void expect_message(fixture *f, actor *a, int want, const char *from)
{
    char sender[80];
    Liandong__V1__Body *b = delivery(f, a, sender, sizeof sender);
    if ((int)b->msg_case != want)
        fail_msg("%s: expected message case %d, got %d", a->id->id, want, b->msg_case);
    assert_string_equal(sender, from);
    th_body_free(b);
}

static void silence(actor *a, int ms)
{
    Liandong__V1__Body *b = th_raw_recv(&a->rx, ms);
    if (b) {
        int c = b->msg_case;
        th_body_free(b);
        fail_msg("%s: expected nothing, got message case %d", a->id->id, c);
    }
}

/* ---- plans ----------------------------------------------------------------------- */

#define PLAN_HEAD                                                                                  \
    "plan:\n"                                                                                      \
    "  id: ir-2022\n"                                                                              \
    "  doc_number: \"牡政发〔2022〕21号\"\n"                                                 \
    "  title: \"牡丹江市加快产业振兴实施方案（2022-2026年）\"\n"                  \
    "  coordinators: [mdj.zf.bgs]\n"                                                               \
    "  supervision: [mdj.zf.dcs]\n"                                                                \
    "tasks:\n"

#define TASK_T1(support)                                                                           \
    "  - id: ir-2.1.1\n"                                                                           \
    "    title: \"拓展数字经济发展新优势\"\n"                                           \
    "    lead: [mdj.gxj]\n"                                                                        \
    "    support: " support "\n"                                                                   \
    "    due: \"2025-12-31\"\n"                                                                    \
    "    targets:\n"                                                                               \
    "      - {year: 2025, text: \"全市数字经济核心增加值占 GDP 比重达到 10% 以上\"}\n"

#define TASK_T2                                                                                    \
    "  - id: ir-2.1.2\n"                                                                           \
    "    title: \"推动产业数字化转型\"\n"                                                 \
    "    lead: [mdj.fgw]\n"                                                                        \
    "    support: [mdj.gxj]\n"                                                                     \
    "    due: \"2026-12-31\"\n"

#define TASK_T3                                                                                    \
    "  - id: ir-3.1\n"                                                                             \
    "    title: \"强化科技创新支撑\"\n"                                                    \
    "    lead: [mdj.kjj]\n"                                                                        \
    "    due: \"2026-12-31\"\n"

#define PLAN_V1 PLAN_HEAD TASK_T1("[mdj.fgw, mdj.kjj]") TASK_T2 TASK_T3

/* ---- tests ------------------------------------------------------------------------ */

static void test_publish_accept_report_ledger(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    up(f, &f->gxj);
    up(f, &f->fgw);
    up(f, &f->kjj);
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);

    /* Each lead and support department gets its TaskAssign, broker-signed. */
    assign g[2], w[2], k[2];
    assigns(f, &f->gxj, 2, g);
    has_assign(g, 2, "ir-2.1.1", LEAD, ASSIGNED);
    has_assign(g, 2, "ir-2.1.2", SUPPORT, ASSIGNED);
    assigns(f, &f->fgw, 2, w);
    has_assign(w, 2, "ir-2.1.1", SUPPORT, ASSIGNED);
    has_assign(w, 2, "ir-2.1.2", LEAD, ASSIGNED);
    assigns(f, &f->kjj, 2, k);
    has_assign(k, 2, "ir-2.1.1", SUPPORT, ASSIGNED);
    has_assign(k, 2, "ir-3.1", LEAD, ASSIGNED);
    assert_int_equal(k[0].n_lead, 1);
    assert_int_equal(k[0].n_support, 2);
    silence(&f->gxj, 200);
    up(f, &f->bgs);
    silence(&f->bgs, 100); /* the coordinator is on no task */

    /* The ledger right after publishing. */
    Liandong__V1__Body *r = ask(f, &f->bgs, "ir-2022", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 3);
    assert_string_equal(r->ledger_reply->tasks[0]->task, "ir-2.1.1"); /* file order */
    assert_int_equal(r->ledger_reply->tasks[0]->state, S(ASSIGNED));
    assert_int_equal(r->ledger_reply->clock_ms, START_MS);
    th_body_free(r);

    /* The lead accepts (plan left empty): the coordinator receives it. */
    accept_task(f, &f->gxj, "", "ir-2.1.1");
    ok(&f->gxj);
    expect_message(f, &f->bgs, LIANDONG__V1__BODY__MSG_TASK_ACCEPT, GXJ);
    /* A support department accepts: the coordinator and the lead receive it. */
    accept_task(f, &f->kjj, "ir-2022", "ir-2.1.1");
    ok(&f->kjj);
    expect_message(f, &f->bgs, LIANDONG__V1__BODY__MSG_TASK_ACCEPT, KJJ);
    expect_message(f, &f->gxj, LIANDONG__V1__BODY__MSG_TASK_ACCEPT, KJJ);
    /* Accepting twice is fine. */
    accept_task(f, &f->gxj, "", "ir-2.1.1");
    ok(&f->gxj);
    expect_message(f, &f->bgs, LIANDONG__V1__BODY__MSG_TASK_ACCEPT, GXJ);

    /* A support report: to the lead and the coordinators. */
    report(f, &f->fgw, "ir-2.1.1", S(IN_PROGRESS), 30, "数据汇总已完成");
    ok(&f->fgw);
    expect_message(f, &f->gxj, LIANDONG__V1__BODY__MSG_STATUS_REPORT, FGW);
    expect_message(f, &f->bgs, LIANDONG__V1__BODY__MSG_STATUS_REPORT, FGW);
    /* The lead's report: to the coordinators only. */
    report(f, &f->gxj, "ir-2.1.1", S(IN_PROGRESS), 45, "第三季度：核心产业增加值占比 8.2%");
    ok(&f->gxj);
    expect_message(f, &f->bgs, LIANDONG__V1__BODY__MSG_STATUS_REPORT, GXJ);
    silence(&f->fgw, 200);
    silence(&f->kjj, 100);

    /* The coordinator's ledger shows state, progress and the reports. */
    r = ask(f, &f->bgs, "ir-2022", "", 0, 0, 0);
    const Liandong__V1__LedgerTask *t = find_task(r->ledger_reply, "ir-2.1.1");
    assert_non_null(t);
    assert_int_equal(t->state, S(IN_PROGRESS));
    assert_int_equal(t->progress, 45);
    assert_int_equal(t->last_report_at_ms, START_MS);
    assert_int_equal(t->n_reports, 2);
    assert_int_equal(t->n_accepted_by, 3);
    assert_string_equal(t->plan_title, "牡丹江市加快产业振兴实施方案（2022-2026年）");
    assert_string_equal(t->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(t->report_every, "quarter");
    assert_int_equal(t->n_targets, 1);
    int seen_lead = 0;
    for (size_t i = 0; i < t->n_reports; i++) {
        if (strcmp(t->reports[i]->dept, GXJ) == 0) {
            seen_lead = 1;
            assert_int_equal(t->reports[i]->progress, 45);
            assert_string_equal(t->reports[i]->note, "第三季度：核心产业增加值占比 8.2%");
        }
    }
    assert_true(seen_lead);
    assert_false(t->overdue);
    th_body_free(r);

    /* Supervision reads all plans it supervises; an auditor reads everything. */
    r = ask(f, &f->dcs, "", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 3);
    th_body_free(r);
    r = ask(f, &f->audit, "ir-2022", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 3);
    th_body_free(r);
    /* A department reads its own tasks with mine. */
    r = ask(f, &f->gxj, "", "", 0, 0, 1);
    assert_int_equal(r->ledger_reply->n_tasks, 2);
    assert_non_null(find_task(r->ledger_reply, "ir-2.1.2"));
    th_body_free(r);
    r = ask(f, &f->gxj, "ir-2022", "", 0, 0, 1);
    assert_int_equal(r->ledger_reply->n_tasks, 2);
    th_body_free(r);
    /* Filters: dept, state. */
    r = ask(f, &f->bgs, "", KJJ, 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 2);
    th_body_free(r);
    r = ask(f, &f->bgs, "", "", S(IN_PROGRESS), 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 1);
    th_body_free(r);
    r = ask(f, &f->bgs, "", "", 0, 1, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 0);
    th_body_free(r);

    /* Past 2025-12-31 in China time: ir-2.1.1 is overdue, the others not. */
    advance_clock(f, 184LL * 86400000); /* 2026-01-01 09:00 +08:00 */
    ok(&f->admin);
    r = ask(f, &f->bgs, "", "", 0, 1, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 1);
    assert_string_equal(r->ledger_reply->tasks[0]->task, "ir-2.1.1");
    assert_true(r->ledger_reply->tasks[0]->overdue);
    th_body_free(r);
    /* Done is never overdue. */
    report(f, &f->gxj, "ir-2.1.1", S(DONE), 100, "");
    ok(&f->gxj);
    r = ask(f, &f->bgs, "", "", 0, 1, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 0);
    th_body_free(r);
    r = ask(f, &f->bgs, "ir-2022", "", S(DONE), 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 1);
    assert_int_equal(r->ledger_reply->tasks[0]->last_report_at_ms, START_MS + 184LL * 86400000);
    th_body_free(r);
}

static void test_authorization_refusals(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* Only a coordinator publishes ... */
    publish(f, &f->gxj, "ir-2022.yaml", PLAN_V1);
    refused(&f->gxj, R(UNAUTHORIZED), "mdj.gxj does not have the coordinator role");
    /* ... and only one the plan lists. */
    publish(f, &f->other, "ir-2022.yaml", PLAN_V1);
    refused(&f->other, R(UNAUTHORIZED),
            "only the plan's coordinators may publish plan ir-2022, and mdj.other.bgs is not "
            "among them (coordinators: mdj.zf.bgs)");
    /* An invalid plan: INVALID_PLAN with file and line. */
    publish(f, &f->bgs, "/home/bgs/plans/bad.yaml",
            PLAN_HEAD "  - id: ir-2.1.1\n    title: x\n    lead: [mdj.gxj]\n"
                      "    due: \"2025-13-01\"\n");
    refused(&f->bgs, R(INVALID_PLAN),
            "bad.yaml:11: task ir-2.1.1: due \"2025-13-01\" is not a date (YYYY-MM-DD)");
    publish(f, &f->bgs, "unknown.yaml",
            PLAN_HEAD "  - id: a\n    title: x\n    lead: [mdj.nobody]\n    due: \"2025-12-31\"\n");
    refused(&f->bgs, R(INVALID_PLAN), "unknown.yaml:10: task a: unknown principal mdj.nobody");
    publish(f, &f->bgs, "", "plan: [\n");
    refused(&f->bgs, R(INVALID_PLAN), "plan:2:");

    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);
    /* A coordinator listed in the new file but not in the stored plan. */
    publish(f, &f->other, "ir-2022.yaml",
            "plan: {id: ir-2022, title: x, coordinators: [mdj.other.bgs]}\ntasks: []\n");
    refused(&f->other, R(UNAUTHORIZED),
            "plan ir-2022 exists and only its coordinators (mdj.zf.bgs) may change it");
    /* Task ids are unique across plans. */
    publish(f, &f->other, "other.yaml",
            "plan: {id: other, title: x, coordinators: [mdj.other.bgs]}\n"
            "tasks:\n  - {id: ir-3.1, title: x, lead: [mdj.kjj], due: \"2025-12-31\"}\n");
    refused(&f->other, R(INVALID_PLAN),
            "other.yaml:3: task ir-3.1: the id is already used by plan ir-2022");

    /* Only a task's departments accept or report on it. */
    accept_task(f, &f->kjj, "", "ir-2.1.2");
    refused(&f->kjj, R(UNAUTHORIZED),
            "only the lead or support departments of ir-2.1.2 (lead mdj.fgw; support mdj.gxj) "
            "may accept it");
    report(f, &f->kjj, "ir-2.1.2", S(IN_PROGRESS), 10, "");
    refused(&f->kjj, R(UNAUTHORIZED), "may report on it");
    accept_task(f, &f->bgs, "", "ir-2.1.2"); /* a coordinator is no department of it */
    refused(&f->bgs, R(UNAUTHORIZED), "only the lead or support departments of ir-2.1.2");
    /* Unknown tasks. */
    accept_task(f, &f->gxj, "", "ir-9.9");
    refused(&f->gxj, R(UNKNOWN_TASK), "there is no task ir-9.9");
    report(f, &f->gxj, "ir-9.9", S(IN_PROGRESS), 10, "");
    refused(&f->gxj, R(UNKNOWN_TASK), "there is no task ir-9.9");
    accept_task(f, &f->gxj, "met-2022", "ir-2.1.1");
    refused(&f->gxj, R(UNKNOWN_TASK), "task ir-2.1.1 is not in plan \"met-2022\"");
    report(f, &f->gxj, "任务", S(IN_PROGRESS), 10, "");
    refused(&f->gxj, R(UNKNOWN_TASK), "there is no task");
    report(f, &f->gxj, "", S(IN_PROGRESS), 10, "");
    refused(&f->gxj, R(MALFORMED), "a StatusReport must name its task");
    /* Bad reports. */
    report(f, &f->gxj, "ir-2.1.1", S(IN_PROGRESS), 150, "");
    refused(&f->gxj, R(MALFORMED), "progress is a percentage from 0 to 100, not 150");
    report(f, &f->gxj, "ir-2.1.1", S(ASSIGNED), 10, "");
    refused(&f->gxj, R(MALFORMED), "not assigned");
    report(f, &f->gxj, "ir-2.1.1", S(IN_PROGRESS), 10, "\xe6\x8b");
    refused(&f->gxj, R(MALFORMED), "the note is not valid UTF-8");
    /* Reading the ledger. */
    query(f, &f->gxj, "ir-2022", "", 0, 0, 0);
    refused(&f->gxj, R(UNAUTHORIZED),
            "only the coordinators (mdj.zf.bgs) and supervision (mdj.zf.dcs) of plan ir-2022");
    query(f, &f->gxj, "", "", 0, 0, 0);
    refused(&f->gxj, R(UNAUTHORIZED), "mdj.gxj may ask for its own tasks with mine");
    query(f, &f->other, "ir-2022", "", 0, 0, 0);
    refused(&f->other, R(UNAUTHORIZED), "may read its ledger");
    query(f, &f->bgs, "met-2022", "", 0, 0, 0);
    refused(&f->bgs, R(UNKNOWN_TASK), "there is no plan met-2022");
    query(f, &f->bgs, "", "MDJ", 0, 0, 0);
    refused(&f->bgs, R(MALFORMED), "not a principal id");
    query(f, &f->bgs, "", "", 42, 0, 0);
    refused(&f->bgs, R(MALFORMED), "state 42 is not a task state");

    /* A coordinator with nothing to coordinate reads an empty ledger. */
    Liandong__V1__Body *r = ask(f, &f->other, "", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 0);
    th_body_free(r);
    /* None of the refused messages changed the ledger. */
    r = ask(f, &f->bgs, "", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r->ledger_reply->tasks[i]->state, S(ASSIGNED));
        assert_int_equal(r->ledger_reply->tasks[i]->n_reports, 0);
        assert_int_equal(r->ledger_reply->tasks[i]->n_accepted_by, 0);
    }
    th_body_free(r);
}

static void test_republish(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    up(f, &f->gxj);
    up(f, &f->fgw);
    up(f, &f->kjj);
    up(f, &f->xqzf);
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);
    assign a[4];
    assigns(f, &f->gxj, 2, a);
    assigns(f, &f->fgw, 2, a);
    assigns(f, &f->kjj, 2, a);
    accept_task(f, &f->gxj, "", "ir-2.1.1");
    ok(&f->gxj);
    accept_task(f, &f->kjj, "", "ir-2.1.1");
    ok(&f->kjj);
    report(f, &f->gxj, "ir-2.1.1", S(IN_PROGRESS), 50, "过半");
    ok(&f->gxj);
    report(f, &f->fgw, "ir-2.1.1", S(IN_PROGRESS), 20, "");
    ok(&f->fgw);
    expect_message(f, &f->gxj, LIANDONG__V1__BODY__MSG_TASK_ACCEPT, KJJ);
    expect_message(f, &f->gxj, LIANDONG__V1__BODY__MSG_STATUS_REPORT, FGW);

    /* The identical file again: Ack, nothing changes, nobody is told. */
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);
    silence(&f->gxj, 300);
    silence(&f->fgw, 50);
    silence(&f->kjj, 50);
    silence(&f->xqzf, 50);

    /* v2: ir-2.1.1 loses mdj.kjj and gains mdj.xq.zf; ir-2.1.2 unchanged;
     * ir-3.1 removed. */
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_HEAD TASK_T1("[mdj.fgw, mdj.xq.zf]") TASK_T2);
    ok(&f->bgs);
    assigns(f, &f->gxj, 1, a);
    has_assign(a, 1, "ir-2.1.1", LEAD, UPDATED);
    assigns(f, &f->fgw, 1, a);
    has_assign(a, 1, "ir-2.1.1", SUPPORT, UPDATED);
    assigns(f, &f->xqzf, 1, a);
    has_assign(a, 1, "ir-2.1.1", SUPPORT, ASSIGNED);
    assigns(f, &f->kjj, 2, a);
    has_assign(a, 2, "ir-2.1.1", SUPPORT, UNASSIGNED);
    has_assign(a, 2, "ir-3.1", LEAD, UNASSIGNED);
    silence(&f->gxj, 300); /* nothing about the unchanged ir-2.1.2 */
    silence(&f->fgw, 50);

    /* Reports and state were kept; the removed task left the ledger. */
    Liandong__V1__Body *r = ask(f, &f->bgs, "ir-2022", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 2);
    const Liandong__V1__LedgerTask *t = find_task(r->ledger_reply, "ir-2.1.1");
    assert_int_equal(t->state, S(IN_PROGRESS));
    assert_int_equal(t->progress, 50);
    assert_int_equal(t->n_reports, 2);
    assert_int_equal(t->n_support, 2);
    assert_string_equal(t->support[1], XQZF);
    assert_int_equal(t->n_accepted_by, 2); /* gxj, fgw (by its report); kjj left the task */
    assert_null(find_task(r->ledger_reply, "ir-3.1"));
    th_body_free(r);
    /* The department that lost the task may no longer report on it. */
    report(f, &f->kjj, "ir-2.1.1", S(IN_PROGRESS), 30, "");
    refused(&f->kjj, R(UNAUTHORIZED), "only the lead or support departments of ir-2.1.1");
    accept_task(f, &f->kjj, "", "ir-3.1");
    refused(&f->kjj, R(UNKNOWN_TASK), "there is no task ir-3.1");
    /* The one that gained it may. */
    accept_task(f, &f->xqzf, "", "ir-2.1.1");
    ok(&f->xqzf);
    /* The removed task's id is free for another plan now. */
    publish(f, &f->other, "other.yaml",
            "plan: {id: other, title: x, coordinators: [mdj.other.bgs]}\n"
            "tasks:\n  - {id: ir-3.1, title: x, lead: [mdj.kjj], due: \"2025-12-31\"}\n");
    ok(&f->other);
    assigns(f, &f->kjj, 1, a);
    has_assign(a, 1, "ir-3.1", LEAD, ASSIGNED);
}

static void test_restart_keeps_ledger(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    up(f, &f->gxj);
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);
    assign a[2];
    assigns(f, &f->gxj, 2, a);
    accept_task(f, &f->gxj, "", "ir-2.1.1");
    ok(&f->gxj);
    report(f, &f->gxj, "ir-2.1.1", S(IN_PROGRESS), 60, "已完成过半");
    ok(&f->gxj);

    /* SIGKILL in the middle: what was acknowledged is there after restart. */
    int st = th_broker_signal_stop(&f->env, SIGKILL);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    disconnect(f);
    const char *extra[] = {"--config", f->config, START, NULL};
    th_broker_start(&f->env, extra);
    Liandong__V1__Body *r = ask(f, &f->bgs, "ir-2022", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 3);
    const Liandong__V1__LedgerTask *t = find_task(r->ledger_reply, "ir-2.1.1");
    assert_int_equal(t->state, S(IN_PROGRESS));
    assert_int_equal(t->progress, 60);
    assert_int_equal(t->n_reports, 1);
    th_body_free(r);
    /* The offline support department finds its assignment in its mailbox. */
    up(f, &f->kjj);
    assigns(f, &f->kjj, 2, a);
    has_assign(a, 2, "ir-2.1.1", SUPPORT, ASSIGNED);
    /* The index survived too: reports and accepts keep working. */
    report(f, &f->kjj, "ir-2.1.1", S(IN_PROGRESS), 10, "");
    ok(&f->kjj);
    report(f, &f->gxj, "ir-2.1.1", S(DONE), 100, "完成");
    ok(&f->gxj);
    r = ask(f, &f->dcs, "ir-2022", "", S(DONE), 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 1);
    assert_int_equal(r->ledger_reply->tasks[0]->n_reports, 2);
    th_body_free(r);
}

static void add_id(char ***v, size_t *n, const char *id, size_t len)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 127 ? len : 127), id);
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], buf) == 0)
            return;
    *v = realloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = strdup(buf);
}

/* Every principal id a plan file names: block list items ("- mdj.gxj") and
 * flow lists ("coordinators: [mdj.zf.bgs]"). */
static size_t ids_in_file(const char *path, char ***out)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    regex_t item, flow, word;
    assert_int_equal(regcomp(&item, "^[ ]+- ([a-z0-9._-]+)[ ]*(#.*)?$", REG_EXTENDED), 0);
    assert_int_equal(regcomp(&flow,
                             "^[ ]*(lead|support|coordinators|supervision):[ ]*\\[([^]]*)\\]",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&word, "[a-z0-9._-]+", REG_EXTENDED), 0);
    char line[4096];
    char **v = NULL;
    size_t n = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = 0;
        regmatch_t m[3];
        if (regexec(&item, line, 3, m, 0) == 0) {
            add_id(&v, &n, line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        } else if (regexec(&flow, line, 3, m, 0) == 0) {
            line[m[2].rm_eo] = 0;
            const char *p = line + m[2].rm_so;
            while (regexec(&word, p, 1, m, 0) == 0) {
                add_id(&v, &n, p + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
                p += m[0].rm_eo;
            }
        }
    }
    regfree(&item);
    regfree(&flow);
    regfree(&word);
    fclose(fp);
    *out = v;
    return n;
}

static void test_config_loads_example_plan(void **state)
{
    fixture *f = *state;
    const char *path = LD_SOURCE_DIR "/examples/plans/ir-2022.yaml";
    char **ids;
    size_t n = ids_in_file(path, &ids);
    assert_true(n > 30);
    th_add_roster_ids(&f->env, (const char *const *)ids, n, LDK_ROLE_DEPARTMENT);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);

    char conf[600];
    snprintf(conf, sizeof conf, "{plans: [\"%s\"], report_default: year}", path);
    start(f, conf);
    Liandong__V1__Body *r = ask(f, &f->bgs, "ir-2022", "", 0, 0, 0);
    Liandong__V1__LedgerReply *lr = r->ledger_reply;
    assert_int_equal(lr->n_tasks, 28);
    assert_string_equal(lr->tasks[0]->task, "ir-2.1.1");
    assert_int_equal(lr->tasks[0]->n_support, 15);
    const Liandong__V1__LedgerTask *t = find_task(lr, "ir-3.4");
    assert_non_null(t);
    assert_string_equal(t->lead[0], BGS); /* the coordinator leads the lead-less task */
    size_t gxj_tasks = 0;
    for (size_t i = 0; i < lr->n_tasks; i++) {
        assert_int_equal(lr->tasks[i]->state, S(ASSIGNED));
        assert_string_equal(lr->tasks[i]->report_every, "quarter"); /* the file says so */
        for (size_t j = 0; j < lr->tasks[i]->n_lead; j++)
            gxj_tasks += strcmp(lr->tasks[i]->lead[j], GXJ) == 0;
        for (size_t j = 0; j < lr->tasks[i]->n_support; j++)
            gxj_tasks += strcmp(lr->tasks[i]->support[j], GXJ) == 0;
    }
    th_body_free(r);
    assert_true(gxj_tasks > 1);

    /* The departments' assignments are in their mailboxes. */
    assign *a = calloc(gxj_tasks, sizeof *a);
    up(f, &f->gxj);
    assigns(f, &f->gxj, gxj_tasks, a);
    has_assign(a, gxj_tasks, "ir-2.1.1", LEAD, ASSIGNED);
    free(a);
    silence(&f->gxj, 300);

    /* A restart with the same config sends nothing again. */
    disconnect(f);
    assert_int_equal(WEXITSTATUS(th_broker_signal_stop(&f->env, SIGTERM)), 0);
    const char *extra[] = {"--config", f->config, START, NULL};
    th_broker_start(&f->env, extra);
    th_raw rx;
    th_raw_connect(&rx, &f->env, f->gxj.id, f->gxj.id);
    Liandong__V1__Body *hr = th_raw_hello(&rx);
    assert_int_equal(hr->hello_reply->mailbox_size, 0);
    th_body_free(hr);
    th_raw_close(&rx);
    r = ask(f, &f->dcs, "", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 28);
    th_body_free(r);
    /* The supervision office reads it; a department asks for its own. */
    r = ask(f, &f->gxj, "", "", 0, 0, 1);
    assert_int_equal(r->ledger_reply->n_tasks, gxj_tasks);
    th_body_free(r);
}

static void test_config_errors_stop_the_broker(void **state)
{
    fixture *f = *state;
    char plan[512], conf[1024], cfg[512], err[2048];
    th_write_file(&f->env, "bad.yaml",
                  PLAN_HEAD
                  "  - id: a\n    title: x\n    lead: [mdj.gxj]\n    due: \"2025-02-29\"\n",
                  plan, sizeof plan);
    snprintf(conf, sizeof conf,
             "plugins:\n  - name: plans\n    path: %s\n    config: {plans: [%s]}\n",
             LD_PLANS_PLUGIN, plan);
    th_write_file(&f->env, "broker.yaml", conf, cfg, sizeof cfg);
    const char *extra[] = {"--config", cfg, NULL};
    int st = th_broker_start_fails(&f->env, extra, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    if (!strstr(err, "bad.yaml:11: task a: due \"2025-02-29\" is not a date"))
        fail_msg("stderr does not name file:line: %s", err);

    snprintf(conf, sizeof conf,
             "plugins:\n  - name: plans\n    path: %s\n    config: {plans: [%s/nope.yaml]}\n",
             LD_PLANS_PLUGIN, f->env.dir);
    th_write_file(&f->env, "broker.yaml", conf, cfg, sizeof cfg);
    st = th_broker_start_fails(&f->env, extra, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    if (!strstr(err, "nope.yaml: cannot open the plan file"))
        fail_msg("stderr: %s", err);

    snprintf(conf, sizeof conf,
             "plugins:\n  - name: plans\n    path: %s\n    config: {plan: [x.yaml]}\n",
             LD_PLANS_PLUGIN);
    th_write_file(&f->env, "broker.yaml", conf, cfg, sizeof cfg);
    st = th_broker_start_fails(&f->env, extra, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    if (!strstr(err, "unknown setting 'plan'"))
        fail_msg("stderr: %s", err);
}

/* A reply that would not fit in an Ack is refused with TOO_LARGE. */
static void test_large_ledger_reply(void **state)
{
    fixture *f = *state;
    /* Two plans of 200 tasks with ~3.6 KB titles: ~720 KB of ledger each. */
    size_t cap = 1000000;
    char *yaml = malloc(cap);
    char title[3700];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = 0;
    char paths[2][512];
    for (int p = 0; p < 2; p++) {
        size_t o = (size_t)snprintf(yaml, cap,
                                    "plan: {id: big%d, title: x, coordinators: "
                                    "[mdj.zf.bgs]}\ntasks:\n",
                                    p);
        for (int i = 0; i < 200; i++)
            o += (size_t)snprintf(yaml + o, cap - o,
                                  "  - {id: big%d.%d, title: %s, lead: [mdj.gxj], "
                                  "due: \"2026-12-31\"}\n",
                                  p, i, title);
        assert_true(o < cap - 1);
        char name[32];
        snprintf(name, sizeof name, "big%d.yaml", p);
        th_write_file(&f->env, name, yaml, paths[p], sizeof paths[p]);
    }
    free(yaml);
    char conf[1200];
    snprintf(conf, sizeof conf, "{plans: [\"%s\", \"%s\"]}", paths[0], paths[1]);
    start(f, conf);
    query(f, &f->bgs, "", "", 0, 0, 0);
    refused(&f->bgs, R(TOO_LARGE), "narrow the query");
    Liandong__V1__Body *r = ask(f, &f->bgs, "big1", "", 0, 0, 0);
    assert_int_equal(r->ledger_reply->n_tasks, 200);
    th_body_free(r);
}

/* A connection whose Hello asks only for TaskAssigns gets them although
 * more unread Directs than the broker's delivery window (2,048) wait before
 * them in the mailbox; the Directs stay there for the next connection
 * without a filter, and the TaskAssigns are not delivered twice. */
static void test_hello_only_bodies(void **state)
{
    fixture *f = *state;
    enum { N_DIRECT = 2100 };
    start(f, NULL);
    up(f, &f->fgw);
    for (int i = 0; i < N_DIRECT; i++)
        th_raw_direct(&f->fgw.tx, GXJ, "请阅", NULL);
    for (int i = 0; i < N_DIRECT; i++) {
        Liandong__V1__Body *b = th_raw_recv_reply(&f->fgw.tx, 10000);
        assert_non_null(b);
        assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
        th_body_free(b);
    }
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);

    actor *g = &f->gxj;
    const uint32_t only[] = {LIANDONG__V1__BODY__MSG_TASK_ASSIGN};
    th_raw_connect(&g->rx, &f->env, g->id, g->id);
    Liandong__V1__Body *hr = th_raw_hello_only(&g->rx, 1, 0, only, 1);
    assert_int_equal(hr->hello_reply->mailbox_size, N_DIRECT + 2);
    th_body_free(hr);
    assign a[2];
    assigns(f, g, 2, a);
    has_assign(a, 2, "ir-2.1.1", LEAD, ASSIGNED);
    has_assign(a, 2, "ir-2.1.2", SUPPORT, ASSIGNED);
    silence(g, 300);
    /* A Direct sent now does not come to the filtered connection either. */
    th_raw_direct(&f->fgw.tx, GXJ, "新消息", NULL);
    Liandong__V1__Body *b = th_raw_recv_reply(&f->fgw.tx, 5000);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(b);
    silence(g, 300);
    th_raw_close(&g->rx);

    /* A connection without a filter gets the Directs, and only them. */
    th_raw_connect(&g->rx, &f->env, g->id, g->id);
    hr = th_raw_hello(&g->rx);
    assert_int_equal(hr->hello_reply->mailbox_size, N_DIRECT + 1);
    th_body_free(hr);
    for (int i = 0; i < N_DIRECT + 1; i++)
        expect_message(f, g, LIANDONG__V1__BODY__MSG_DIRECT, FGW);
    silence(g, 300);
    th_raw_close(&g->rx);
}

/* Two connections of one principal at once: one asking only for
 * TaskAssigns, one for everything. Each gets its share; when the filtered
 * one is found gone, the other takes TaskAssigns too. */
static void test_filtered_and_unfiltered_together(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    actor *g = &f->gxj;
    th_raw_connect(&g->rx, &f->env, g->id, g->id);
    th_body_free(th_raw_hello(&g->rx));
    actor fl = {.id = g->id};
    const uint32_t only[] = {LIANDONG__V1__BODY__MSG_TASK_ASSIGN};
    th_raw_connect(&fl.rx, &f->env, g->id, g->id);
    th_body_free(th_raw_hello_only(&fl.rx, 1, 0, only, 1));

    up(f, &f->fgw);
    th_raw_direct(&f->fgw.tx, GXJ, "请阅", NULL);
    Liandong__V1__Body *b = th_raw_recv_reply(&f->fgw.tx, 5000);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
    th_body_free(b);
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_V1);
    ok(&f->bgs);

    /* The filtered connection gets the TaskAssigns (and does not
     * acknowledge them); the other one the rest. */
    for (int i = 0; i < 2; i++) {
        b = th_raw_recv(&fl.rx, 5000);
        assert_non_null(b);
        assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_DELIVERY);
        ldw_opened o;
        assert_int_equal(
            ldw_envelope_open(b->delivery->envelope.data, b->delivery->envelope.len, &o, NULL, 0),
            LD_OK);
        assert_string_equal(o.hdr->sender, f->env.broker->id);
        ldw_opened_clear(&o);
        th_body_free(b);
    }
    silence(&fl, 300);
    expect_message(f, g, LIANDONG__V1__BODY__MSG_DIRECT, FGW);
    silence(g, 300);

    /* The filtered connection goes; the next TaskAssign finds it gone, and
     * the other connection starts over: the two it left unacknowledged and
     * the new one. */
    th_raw_close(&fl.rx);
    publish(f, &f->bgs, "ir-2022.yaml", PLAN_HEAD TASK_T1("[mdj.fgw]") TASK_T2 TASK_T3);
    ok(&f->bgs);
    assign a[3];
    assigns(f, g, 3, a);
    has_assign(a, 3, "ir-2.1.1", LEAD, ASSIGNED);
    has_assign(a, 3, "ir-2.1.2", SUPPORT, ASSIGNED);
    has_assign(a, 3, "ir-2.1.1", LEAD, UPDATED);
    silence(g, 300);
    th_raw_close(&g->rx);
}

/* The deliveries in the next frame on a raw protocol 2 connection (0: an
 * empty Deliveries frame, the broker's probe); fails if none comes. */
static size_t raw_deliveries(th_raw *r, int timeout_ms)
{
    Liandong__V1__Body *b = th_raw_recv(r, timeout_ms);
    if (!b)
        fail_msg("nothing within %d ms", timeout_ms);
    size_t n = 0;
    if (b->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY)
        n = 1;
    else if (b->msg_case == LIANDONG__V1__BODY__MSG_DELIVERIES)
        n = b->deliveries->n_deliveries;
    else
        fail_msg("expected deliveries, got message case %d", b->msg_case);
    th_body_free(b);
    return n;
}

/* A filtered connection goes with deliveries unacknowledged, and nothing
 * new comes for it: the broker's probe finds it gone, and the principal's
 * other connection gets them, without waiting for another message. */
static void test_gone_connection_found_by_probe(void **state)
{
    fixture *f = *state;
    f->heartbeat_ms = "200";
    start(f, NULL);
    actor *g = &f->gxj;
    th_raw_connect(&g->rx, &f->env, g->id, g->id);
    th_body_free(th_raw_hello(&g->rx));
    actor fl = {.id = g->id};
    const uint32_t only[] = {LIANDONG__V1__BODY__MSG_DIRECT};
    th_raw_connect(&fl.rx, &f->env, g->id, g->id);
    th_body_free(th_raw_hello_only(&fl.rx, 2, 0, only, 1));

    up(f, &f->fgw);
    for (int i = 0; i < 2; i++) {
        th_raw_direct(&f->fgw.tx, GXJ, i ? "第二条" : "第一条", NULL);
        Liandong__V1__Body *b = th_raw_recv_reply(&f->fgw.tx, 5000);
        assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_ACK);
        th_body_free(b);
    }
    size_t got = 0;
    while (got < 2)
        got += raw_deliveries(&fl.rx, 5000); /* not acknowledged */
    assert_int_equal(got, 2);
    /* Silent with deliveries out: probed (an empty Deliveries frame) and,
     * as it is still there, kept: the other connection gets nothing. */
    assert_int_equal(raw_deliveries(&fl.rx, 2000), 0);
    silence(g, 300);

    /* Gone: the next probe finds out; the other connection gets both. */
    th_raw_close(&fl.rx);
    expect_message(f, g, LIANDONG__V1__BODY__MSG_DIRECT, FGW);
    expect_message(f, g, LIANDONG__V1__BODY__MSG_DIRECT, FGW);
    silence(g, 300);
    th_raw_close(&g->rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_accept_report_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorization_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_republish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_loads_example_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors_stop_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_ledger_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_only_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filtered_and_unfiltered_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_connection_found_by_probe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
