/* Unit tests: the task ledger's rules (plans plugin): entries built from a
 * plan, acceptance, status reports by lead and support departments,
 * progress bounds, overdue, and the re-publish diff (gained, lost, updated,
 * unchanged, removed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"
#include "liandong/error.h"
#include "plan.h"

#define LEAD LIANDONG__V1__TASK_ROLE__LEAD
#define SUPPORT LIANDONG__V1__TASK_ROLE__SUPPORT
#define ASSIGNED LIANDONG__V1__ASSIGN_CHANGE__ASSIGNED
#define UPDATED LIANDONG__V1__ASSIGN_CHANGE__UPDATED
#define UNASSIGNED LIANDONG__V1__ASSIGN_CHANGE__UNASSIGNED
#define S(x) LIANDONG__V1__TASK_STATE__TASK_##x

/* 2025-07-01T09:00:00+08:00 */
#define JULY_1 1751331600000LL

static ldp_plan *plan_of(const char *yaml)
{
    ldp_parse_opts o = {.file_name = "t.yaml"};
    ldp_plan *p;
    char err[512];
    if (ldp_plan_parse(&o, yaml, strlen(yaml), &p, err, sizeof err) != LD_OK)
        fail_msg("test plan refused: %s", err);
    return p;
}

static const ldp_task *task_of(const ldp_plan *p, const char *id)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        if (strcmp(p->tasks[i].id, id) == 0)
            return &p->tasks[i];
    fail_msg("no task %s", id);
    return NULL;
}

static ldp_entry *unpack(const ldp_buf *b)
{
    ldp_entry *e = liandong__v1__ledger_task__unpack(NULL, b->len, b->data);
    assert_non_null(e);
    return e;
}

static void entry_free(ldp_entry *e)
{
    if (e)
        liandong__v1__ledger_task__free_unpacked(e, NULL);
}

/* The entry of task id in plan p, built on old. */
static ldp_entry *build(const ldp_plan *p, const char *id, const ldp_entry *old)
{
    ldp_buf b;
    assert_int_equal(ldp_entry_build(p, task_of(p, id), old, &b), LD_OK);
    ldp_entry *e = unpack(&b);
    ldp_buf_free(&b);
    return e;
}

/* Apply an operation's output: the new entry replaces *e. */
static void replace(ldp_entry **e, ldp_buf *b)
{
    ldp_entry *n = unpack(b);
    ldp_buf_free(b);
    entry_free(*e);
    *e = n;
}

static void accept(ldp_entry **e, const char *dept, int want_changed)
{
    ldp_buf b;
    int changed = -1;
    assert_int_equal(ldp_entry_accept(*e, dept, &b, &changed), LD_OK);
    assert_int_equal(changed, want_changed);
    if (changed)
        replace(e, &b);
    else
        assert_null(b.data);
}

static void report(ldp_entry **e, const char *dept, int state, unsigned progress, const char *note,
                   int64_t at)
{
    Liandong__V1__StatusReport r = LIANDONG__V1__STATUS_REPORT__INIT;
    r.task = (*e)->task;
    r.state = state;
    r.progress = progress;
    r.note = (char *)note;
    ldp_buf b;
    char why[200] = "";
    if (ldp_entry_report(*e, dept, &r, at, &b, why, sizeof why) != LD_OK)
        fail_msg("report refused: %s", why);
    replace(e, &b);
}

static void report_refused(const ldp_entry *e, int state, unsigned progress, const char *note,
                           const char *want)
{
    Liandong__V1__StatusReport r = LIANDONG__V1__STATUS_REPORT__INIT;
    r.state = state;
    r.progress = progress;
    r.note = (char *)note;
    ldp_buf b;
    char why[200] = "";
    assert_int_equal(ldp_entry_report(e, "mdj.gxj", &r, JULY_1, &b, why, sizeof why),
                     LD_ERR_INVALID);
    assert_null(b.data);
    if (!strstr(why, want))
        fail_msg("'%s' does not contain '%s'", why, want);
}

static const Liandong__V1__DeptReport *report_of(const ldp_entry *e, const char *dept)
{
    for (size_t i = 0; i < e->n_reports; i++)
        if (strcmp(e->reports[i]->dept, dept) == 0)
            return e->reports[i];
    return NULL;
}

static int accepted(const ldp_entry *e, const char *dept)
{
    for (size_t i = 0; i < e->n_accepted_by; i++)
        if (strcmp(e->accepted_by[i], dept) == 0)
            return 1;
    return 0;
}

#define PLAN_V1                                                                                    \
    "plan:\n"                                                                                      \
    "  id: ir-2022\n"                                                                              \
    "  doc_number: \"牡政发〔2022〕21号\"\n"                                                 \
    "  title: \"加快产业振兴实施方案\"\n"                                                \
    "  coordinators: [mdj.zf.bgs]\n"                                                               \
    "  supervision: [mdj.zf.dcs]\n"                                                                \
    "tasks:\n"                                                                                     \
    "  - id: a\n"                                                                                  \
    "    title: \"拓展数字经济发展新优势\"\n"                                           \
    "    lead: [mdj.gxj]\n"                                                                        \
    "    support: [mdj.fgw, mdj.kjj]\n"                                                            \
    "    due: \"2025-12-31\"\n"                                                                    \
    "    targets: [{year: 2025, text: \"达到10%以上\"}]\n"                                     \
    "  - id: b\n"                                                                                  \
    "    title: \"稳定\"\n"                                                                      \
    "    lead: [mdj.gxj]\n"                                                                        \
    "    support: [mdj.fgw]\n"                                                                     \
    "    due: \"2026-12-31\"\n"                                                                    \
    "  - id: c\n"                                                                                  \
    "    title: \"旧标题\"\n"                                                                   \
    "    lead: [mdj.nyncj]\n"                                                                      \
    "    support: [mdj.xq.zf]\n"                                                                   \
    "    due: \"2026-12-31\"\n"                                                                    \
    "  - id: d\n"                                                                                  \
    "    title: \"将被删除\"\n"                                                                \
    "    lead: [mdj.jtj]\n"                                                                        \
    "    support: [mdj.fgw]\n"                                                                     \
    "    due: \"2026-12-31\"\n"

/* ---- building entries --------------------------------------------------------- */

static void test_build_new_entry(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);
    assert_string_equal(e->plan, "ir-2022");
    assert_string_equal(e->task, "a");
    assert_string_equal(e->title, "拓展数字经济发展新优势");
    assert_int_equal(e->n_lead, 1);
    assert_int_equal(e->n_support, 2);
    assert_int_equal(e->state, S(ASSIGNED));
    assert_int_equal(e->progress, 0);
    assert_string_equal(e->due, "2025-12-31");
    assert_string_equal(e->report_every, "quarter");
    assert_int_equal(e->n_targets, 1);
    assert_int_equal(e->targets[0]->year, 2025);
    assert_string_equal(e->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(e->plan_title, "加快产业振兴实施方案");
    assert_string_equal(e->coordinators[0], "mdj.zf.bgs");
    assert_string_equal(e->supervision[0], "mdj.zf.dcs");
    assert_int_equal(e->last_report_at_ms, 0);
    assert_int_equal(e->n_reports, 0);
    assert_int_equal(e->n_accepted_by, 0);
    assert_false(e->overdue);
    assert_int_equal(ldp_entry_role(e, "mdj.gxj"), LEAD);
    assert_int_equal(ldp_entry_role(e, "mdj.kjj"), SUPPORT);
    assert_int_equal(ldp_entry_role(e, "mdj.zf.bgs"), 0);
    assert_int_equal(ldp_entry_role(e, ""), 0);
    assert_true(ldp_entry_is_coordinator(e, "mdj.zf.bgs"));
    assert_false(ldp_entry_is_coordinator(e, "mdj.zf.dcs"));
    assert_true(ldp_entry_is_supervision(e, "mdj.zf.dcs"));
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_assign_message(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);
    ldp_buf b;
    assert_int_equal(ldp_assign_pack(e, SUPPORT, UPDATED, &b), LD_OK);
    Liandong__V1__Body *body = liandong__v1__body__unpack(NULL, b.len, b.data);
    assert_non_null(body);
    assert_int_equal(body->msg_case, LIANDONG__V1__BODY__MSG_TASK_ASSIGN);
    Liandong__V1__TaskAssign *a = body->task_assign;
    assert_string_equal(a->plan, "ir-2022");
    assert_string_equal(a->task, "a");
    assert_int_equal(a->role, SUPPORT);
    assert_int_equal(a->change, UPDATED);
    assert_int_equal(a->n_support, 2);
    assert_string_equal(a->due, "2025-12-31");
    assert_string_equal(a->report_every, "quarter");
    assert_int_equal(a->n_targets, 1);
    assert_string_equal(a->targets[0]->text, "达到10%以上");
    assert_string_equal(a->doc_number, "牡政发〔2022〕21号");
    assert_string_equal(a->plan_title, "加快产业振兴实施方案");
    liandong__v1__body__free_unpacked(body, NULL);
    ldp_buf_free(&b);
    entry_free(e);
    ldp_plan_destroy(&p);
}

/* ---- accept and report ---------------------------------------------------------- */

static void test_accept(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);
    /* A support department's accept records it, the state stays. */
    accept(&e, "mdj.fgw", 1);
    assert_int_equal(e->state, S(ASSIGNED));
    assert_true(accepted(e, "mdj.fgw"));
    /* The lead's accept moves assigned -> accepted. */
    accept(&e, "mdj.gxj", 1);
    assert_int_equal(e->state, S(ACCEPTED));
    assert_int_equal(e->n_accepted_by, 2);
    /* Twice is fine and changes nothing. */
    accept(&e, "mdj.gxj", 0);
    accept(&e, "mdj.fgw", 0);
    assert_int_equal(e->n_accepted_by, 2);
    /* A late accept does not move the state back. */
    report(&e, "mdj.gxj", S(IN_PROGRESS), 30, "", JULY_1);
    accept(&e, "mdj.kjj", 1);
    assert_int_equal(e->state, S(IN_PROGRESS));
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_reports_by_lead_and_support(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);
    /* A support report: its DeptReport and last_report_at_ms only, and an
     * implicit accept; the task's state and progress stay. */
    report(&e, "mdj.fgw", S(IN_PROGRESS), 50, "配合完成数据汇总", JULY_1);
    assert_int_equal(e->state, S(ASSIGNED));
    assert_int_equal(e->progress, 0);
    assert_int_equal(e->last_report_at_ms, JULY_1);
    assert_true(accepted(e, "mdj.fgw"));
    const Liandong__V1__DeptReport *r = report_of(e, "mdj.fgw");
    assert_non_null(r);
    assert_int_equal(r->state, S(IN_PROGRESS));
    assert_int_equal(r->progress, 50);
    assert_string_equal(r->note, "配合完成数据汇总");
    assert_int_equal(r->at_ms, JULY_1);
    /* A lead report without an accept first: implicit accept, state and
     * progress set. */
    report(&e, "mdj.gxj", S(IN_PROGRESS), 40, "第三季度进展", JULY_1 + 1000);
    assert_int_equal(e->state, S(IN_PROGRESS));
    assert_int_equal(e->progress, 40);
    assert_int_equal(e->last_report_at_ms, JULY_1 + 1000);
    assert_true(accepted(e, "mdj.gxj"));
    assert_int_equal(e->n_reports, 2);
    /* A department's new report replaces its previous one, in place. */
    report(&e, "mdj.fgw", S(DONE), 100, "", JULY_1 + 2000);
    assert_int_equal(e->n_reports, 2);
    assert_string_equal(e->reports[0]->dept, "mdj.fgw");
    assert_int_equal(e->reports[0]->state, S(DONE));
    assert_int_equal(e->state, S(IN_PROGRESS)); /* still the lead's */
    /* The lead's last report sets the state, also to blocked and back. */
    report(&e, "mdj.gxj", S(BLOCKED), 40, "资金未到位", JULY_1 + 3000);
    assert_int_equal(e->state, S(BLOCKED));
    report(&e, "mdj.gxj", S(DONE), 100, "", JULY_1 + 4000);
    assert_int_equal(e->state, S(DONE));
    assert_int_equal(e->progress, 100);
    assert_int_equal(e->n_accepted_by, 2);
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_report_lead_and_support_counts_as_lead(void **state)
{
    (void)state;
    ldp_plan *p = plan_of("plan: {id: p, title: x, coordinators: [c]}\n"
                          "tasks:\n  - {id: a, title: x, lead: [d1], support: [d2, d1], "
                          "due: \"2025-12-31\"}\n");
    ldp_entry *e = build(p, "a", NULL);
    assert_int_equal(ldp_entry_role(e, "d1"), LEAD);
    report(&e, "d1", S(IN_PROGRESS), 10, "", JULY_1);
    assert_int_equal(e->state, S(IN_PROGRESS));
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_report_bounds(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);
    report_refused(e, S(IN_PROGRESS), 101, "", "progress is a percentage from 0 to 100, not 101");
    report_refused(e, S(IN_PROGRESS), 4000000000u, "", "not 4000000000");
    report_refused(e, S(ASSIGNED), 10, "",
                   "state must be accepted, in_progress, done or blocked, "
                   "not assigned");
    report_refused(e, S(STATE_UNSPECIFIED), 10, "", "not unspecified");
    report_refused(e, 99, 10, "", "not the unknown state 99");
    report_refused(e, S(DONE), 100, "\xff\xfe", "the note is not valid UTF-8");
    char *long_note = malloc(LDP_NOTE_MAX + 2);
    memset(long_note, 'x', LDP_NOTE_MAX + 1);
    long_note[LDP_NOTE_MAX + 1] = 0;
    report_refused(e, S(DONE), 100, long_note, "the note is 4097 bytes");
    long_note[LDP_NOTE_MAX] = 0;
    report(&e, "mdj.gxj", S(DONE), 100, long_note, JULY_1); /* exactly the limit */
    free(long_note);
    /* 0 and 100 are fine. */
    report(&e, "mdj.gxj", S(ACCEPTED), 0, NULL, JULY_1);
    assert_int_equal(e->progress, 0);
    assert_string_equal(report_of(e, "mdj.gxj")->note, "");
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_overdue(void **state)
{
    (void)state;
    ldp_plan *p = plan_of(PLAN_V1);
    ldp_entry *e = build(p, "a", NULL);          /* due 2025-12-31 */
    const int64_t last_second = 1767196799000LL; /* 2025-12-31T23:59:59+08:00 */
    const int64_t next_day = 1767196800000LL;    /* 2026-01-01T00:00:00+08:00 */
    assert_false(ldp_entry_overdue(e, JULY_1));
    assert_false(ldp_entry_overdue(e, last_second));
    assert_true(ldp_entry_overdue(e, next_day));
    report(&e, "mdj.gxj", S(BLOCKED), 90, "", next_day);
    assert_true(ldp_entry_overdue(e, next_day));
    report(&e, "mdj.gxj", S(DONE), 100, "", next_day);
    assert_false(ldp_entry_overdue(e, next_day));
    assert_false(ldp_entry_overdue(NULL, next_day));
    entry_free(e);
    ldp_plan_destroy(&p);
}

/* ---- re-publish ------------------------------------------------------------------ */

static void expect_notice(const ldp_notice *v, size_t n, const char *dept, int role, int change)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].dept, dept) == 0) {
            if (v[i].role != role || v[i].change != change)
                fail_msg("%s: role %d change %d, expected role %d change %d", dept, v[i].role,
                         v[i].change, role, change);
            return;
        }
    }
    fail_msg("no notice for %s", dept);
}

static void test_new_and_removed_tasks(void **state)
{
    (void)state;
    ldp_plan *p = plan_of("plan: {id: p, title: x, coordinators: [c]}\n"
                          "tasks:\n  - {id: a, title: x, lead: [d1, d2], support: [d3, d1], "
                          "due: \"2025-12-31\"}\n");
    ldp_entry *e = build(p, "a", NULL);
    ldp_notice *v;
    size_t n;
    /* New: every department ASSIGNED once; d1 (lead and support) as lead. */
    assert_int_equal(ldp_entry_notices(NULL, e, &v, &n), LD_OK);
    assert_int_equal(n, 3);
    expect_notice(v, n, "d1", LEAD, ASSIGNED);
    expect_notice(v, n, "d2", LEAD, ASSIGNED);
    expect_notice(v, n, "d3", SUPPORT, ASSIGNED);
    assert_string_equal(v[0].dept, "d1"); /* leads first */
    free(v);
    /* Removed: every department UNASSIGNED with the role it had. */
    assert_int_equal(ldp_entry_notices(e, NULL, &v, &n), LD_OK);
    assert_int_equal(n, 3);
    expect_notice(v, n, "d1", LEAD, UNASSIGNED);
    expect_notice(v, n, "d3", SUPPORT, UNASSIGNED);
    free(v);
    /* Unchanged: nothing. */
    ldp_entry *same = build(p, "a", e);
    assert_int_equal(ldp_entry_notices(e, same, &v, &n), LD_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    entry_free(same);
    entry_free(e);
    ldp_plan_destroy(&p);
}

static void test_republish_diff(void **state)
{
    (void)state;
    ldp_plan *v1 = plan_of(PLAN_V1);
    /* v2: a's support list changes (kjj lost, xq.zf gained), b is
     * unchanged, c's title changes and its support becomes lead, d is gone. */
    const char *yaml2 = "plan:\n"
                        "  id: ir-2022\n"
                        "  doc_number: \"牡政发〔2022〕21号\"\n"
                        "  title: \"加快产业振兴实施方案\"\n"
                        "  coordinators: [mdj.zf.bgs]\n"
                        "  supervision: [mdj.zf.dcs]\n"
                        "tasks:\n"
                        "  - id: a\n"
                        "    title: \"拓展数字经济发展新优势\"\n"
                        "    lead: [mdj.gxj]\n"
                        "    support: [mdj.fgw, mdj.xq.zf]\n"
                        "    due: \"2025-12-31\"\n"
                        "    targets: [{year: 2025, text: \"达到10%以上\"}]\n"
                        "  - id: b\n"
                        "    title: \"稳定\"\n"
                        "    lead: [mdj.gxj]\n"
                        "    support: [mdj.fgw]\n"
                        "    due: \"2026-12-31\"\n"
                        "  - id: c\n"
                        "    title: \"新标题\"\n"
                        "    lead: [mdj.nyncj, mdj.xq.zf]\n"
                        "    due: \"2026-12-31\"\n";
    ldp_plan *v2 = plan_of(yaml2);

    /* Task a, with history: accepted by all three, reports by lead and kjj. */
    ldp_entry *a1 = build(v1, "a", NULL);
    accept(&a1, "mdj.kjj", 1);
    report(&a1, "mdj.gxj", S(IN_PROGRESS), 60, "过半", JULY_1);
    report(&a1, "mdj.kjj", S(IN_PROGRESS), 20, "", JULY_1 + 5);
    a1->escalation_level = 2; /* owned by the escalation plugin: kept */
    ldp_entry *a2 = build(v2, "a", a1);
    assert_int_equal(a2->state, S(IN_PROGRESS));
    assert_int_equal(a2->progress, 60);
    assert_int_equal(a2->last_report_at_ms, JULY_1 + 5);
    assert_int_equal(a2->escalation_level, 2);
    assert_int_equal(a2->n_reports, 2); /* reports are history: kept */
    assert_non_null(report_of(a2, "mdj.kjj"));
    assert_true(accepted(a2, "mdj.gxj"));
    assert_false(accepted(a2, "mdj.kjj")); /* no longer on the task */
    assert_int_equal(a2->n_support, 2);
    ldp_notice *v;
    size_t n;
    assert_int_equal(ldp_entry_notices(a1, a2, &v, &n), LD_OK);
    assert_int_equal(n, 4);
    expect_notice(v, n, "mdj.gxj", LEAD, UPDATED); /* kept a changed task */
    expect_notice(v, n, "mdj.fgw", SUPPORT, UPDATED);
    expect_notice(v, n, "mdj.xq.zf", SUPPORT, ASSIGNED); /* gained */
    expect_notice(v, n, "mdj.kjj", SUPPORT, UNASSIGNED); /* lost */
    free(v);

    /* Task b: identical bytes, no notices. */
    ldp_entry *b1 = build(v1, "b", NULL);
    report(&b1, "mdj.fgw", S(IN_PROGRESS), 10, "", JULY_1);
    ldp_buf bb1, bb2;
    assert_int_equal(ldp_entry_build(v1, task_of(v1, "b"), b1, &bb1), LD_OK);
    assert_int_equal(ldp_entry_build(v2, task_of(v2, "b"), b1, &bb2), LD_OK);
    assert_int_equal(bb1.len, bb2.len);
    assert_memory_equal(bb1.data, bb2.data, bb1.len);
    ldp_entry *b2 = unpack(&bb2);
    assert_int_equal(ldp_entry_notices(b1, b2, &v, &n), LD_OK);
    assert_int_equal(n, 0);
    assert_false(ldp_entry_assign_differs(b1, b2));
    ldp_buf_free(&bb1);
    ldp_buf_free(&bb2);

    /* Task c: title changed; xq.zf moved from support to lead. */
    ldp_entry *c1 = build(v1, "c", NULL);
    ldp_entry *c2 = build(v2, "c", c1);
    assert_true(ldp_entry_assign_differs(c1, c2));
    assert_int_equal(ldp_entry_notices(c1, c2, &v, &n), LD_OK);
    assert_int_equal(n, 2);
    expect_notice(v, n, "mdj.nyncj", LEAD, UPDATED);
    expect_notice(v, n, "mdj.xq.zf", LEAD, UPDATED);
    free(v);

    /* Only the role changes: still UPDATED for that department. */
    const char *yaml3 =
        "plan: {id: p, title: x, coordinators: [c]}\n"
        "tasks: [{id: t, title: x, lead: [d1], support: [d2], due: \"2025-12-31\"}]\n";
    const char *yaml4 =
        "plan: {id: p, title: x, coordinators: [c]}\n"
        "tasks: [{id: t, title: x, lead: [d1, d2], support: [], due: \"2025-12-31\"}]\n";
    ldp_plan *v3 = plan_of(yaml3), *v4 = plan_of(yaml4);
    ldp_entry *t3 = build(v3, "t", NULL), *t4 = build(v4, "t", t3);
    assert_int_equal(ldp_entry_notices(t3, t4, &v, &n), LD_OK);
    assert_int_equal(n, 2);
    expect_notice(v, n, "d2", LEAD, UPDATED);
    free(v);

    /* A change only the ledger sees (coordinators): stored, no notices. */
    const char *yaml5 =
        "plan: {id: p, title: x, coordinators: [c, c2]}\n"
        "tasks: [{id: t, title: x, lead: [d1], support: [d2], due: \"2025-12-31\"}]\n";
    ldp_plan *v5 = plan_of(yaml5);
    ldp_entry *t5 = build(v5, "t", t3);
    assert_int_equal(t5->n_coordinators, 2);
    assert_int_equal(ldp_entry_notices(t3, t5, &v, &n), LD_OK);
    assert_int_equal(n, 0);

    entry_free(t3);
    entry_free(t4);
    entry_free(t5);
    entry_free(a1);
    entry_free(a2);
    entry_free(b1);
    entry_free(b2);
    entry_free(c1);
    entry_free(c2);
    ldp_plan_destroy(&v1);
    ldp_plan_destroy(&v2);
    ldp_plan_destroy(&v3);
    ldp_plan_destroy(&v4);
    ldp_plan_destroy(&v5);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(ldp_state_name(S(ASSIGNED)), "assigned");
    assert_string_equal(ldp_state_name(S(IN_PROGRESS)), "in_progress");
    assert_string_equal(ldp_state_name(S(BLOCKED)), "blocked");
    assert_string_equal(ldp_state_name(-1), "unspecified");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_new_entry),
        cmocka_unit_test(test_assign_message),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_reports_by_lead_and_support),
        cmocka_unit_test(test_report_lead_and_support_counts_as_lead),
        cmocka_unit_test(test_report_bounds),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_new_and_removed_tasks),
        cmocka_unit_test(test_republish_diff),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
