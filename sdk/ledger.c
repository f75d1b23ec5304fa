/* ledger.c - ledger queries and the ld_ledger answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

/* The public struct plus what its pointers point into. */
typedef struct ldc_ledger {
    ld_ledger pub;            /* first member: ld_ledger * casts to ldc_ledger * */
    Liandong__V1__Body *body; /* the unpacked answer; strings point into it */
    ld_dept_report *reports;  /* of all tasks, one array */
    ld_target *targets;       /* of all tasks, one array */
} ldc_ledger;

void ld_ledger_destroy(ld_ledger **lp)
{
    if (!lp || !*lp)
        return;
    ldc_ledger *l = (ldc_ledger *)*lp;
    if (l->body)
        liandong__v1__body__free_unpacked(l->body, NULL);
    free(l->pub.tasks);
    free(l->reports);
    free(l->targets);
    free(l);
    *lp = NULL;
}

static int s_ok(const char *s)
{
    return s && ldc_utf8_valid(s, strlen(s));
}

static int v_ok(char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s_ok(v[i]))
            return 0;
    return 1;
}

static int task_ok(const Liandong__V1__LedgerTask *t)
{
    if (!s_ok(t->plan) || !s_ok(t->task) || !s_ok(t->title) || !s_ok(t->due) ||
        !s_ok(t->report_every) || !s_ok(t->doc_number) || !s_ok(t->plan_title) ||
        !v_ok(t->lead, t->n_lead) || !v_ok(t->support, t->n_support) ||
        !v_ok(t->accepted_by, t->n_accepted_by) || !v_ok(t->coordinators, t->n_coordinators) ||
        !v_ok(t->supervision, t->n_supervision) || !s_ok(t->kind) || !s_ok(t->about) ||
        !s_ok(t->issued_by) || !s_ok(t->plan_due))
        return 0;
    for (size_t i = 0; i < t->n_reports; i++)
        if (!t->reports[i] || !s_ok(t->reports[i]->dept) || !s_ok(t->reports[i]->note))
            return 0;
    for (size_t i = 0; i < t->n_targets; i++)
        if (!t->targets[i] || !s_ok(t->targets[i]->text))
            return 0;
    return 1;
}

static void fill_task(ld_ledger_task *o, const Liandong__V1__LedgerTask *t, ld_dept_report *reps,
                      ld_target *tgts)
{
    o->plan = t->plan;
    o->task = t->task;
    o->title = t->title;
    o->lead = (const char *const *)t->lead;
    o->n_lead = t->n_lead;
    o->support = (const char *const *)t->support;
    o->n_support = t->n_support;
    o->state = (int)t->state;
    o->progress = t->progress;
    o->due = t->due;
    o->last_report_at_ms = t->last_report_at_ms;
    o->overdue = t->overdue ? 1 : 0;
    o->escalation_level = t->escalation_level;
    for (size_t i = 0; i < t->n_reports; i++) {
        const Liandong__V1__DeptReport *r = t->reports[i];
        reps[i].dept = r->dept;
        reps[i].at_ms = r->at_ms;
        reps[i].state = (int)r->state;
        reps[i].progress = r->progress;
        reps[i].note = r->note;
    }
    o->reports = t->n_reports ? reps : NULL;
    o->n_reports = t->n_reports;
    o->accepted_by = (const char *const *)t->accepted_by;
    o->n_accepted_by = t->n_accepted_by;
    o->report_every = t->report_every;
    for (size_t i = 0; i < t->n_targets; i++) {
        tgts[i].year = t->targets[i]->year;
        tgts[i].text = t->targets[i]->text;
    }
    o->targets = t->n_targets ? tgts : NULL;
    o->n_targets = t->n_targets;
    o->doc_number = t->doc_number;
    o->plan_title = t->plan_title;
    o->coordinators = (const char *const *)t->coordinators;
    o->n_coordinators = t->n_coordinators;
    o->supervision = (const char *const *)t->supervision;
    o->n_supervision = t->n_supervision;
    o->kind = strcmp(t->kind, "task") == 0 ? "" : t->kind;
    o->about = t->about;
    o->issued_by = t->issued_by;
    o->plan_due = t->plan_due;
}

int ldc_ledger_from_reply(const uint8_t *reply, size_t len, ld_ledger **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, len, reply);
    if (!b) {
        snprintf(err, errlen, "the broker's answer to the ledger query does not parse");
        return LD_ERR_PROTOCOL;
    }
    if (b->msg_case != LIANDONG__V1__BODY__MSG_LEDGER_REPLY) {
        snprintf(err, errlen, "the broker answered the ledger query with a '%s', not a ledger",
                 ldw_body_name(b->msg_case));
        liandong__v1__body__free_unpacked(b, NULL);
        return LD_ERR_PROTOCOL;
    }
    const Liandong__V1__LedgerReply *r = b->ledger_reply;
    size_t n_rep = 0, n_tgt = 0;
    for (size_t i = 0; i < r->n_tasks; i++) {
        if (!r->tasks[i] || !task_ok(r->tasks[i])) {
            snprintf(err, errlen, "the broker's ledger has text that is not UTF-8 (task %zu)", i);
            liandong__v1__body__free_unpacked(b, NULL);
            return LD_ERR_PROTOCOL;
        }
        n_rep += r->tasks[i]->n_reports;
        n_tgt += r->tasks[i]->n_targets;
    }
    ldc_ledger *l = calloc(1, sizeof *l);
    if (!l) {
        liandong__v1__body__free_unpacked(b, NULL);
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    l->body = b;
    l->pub.clock_ms = r->clock_ms;
    l->pub.n_tasks = r->n_tasks;
    l->pub.tasks = r->n_tasks ? calloc(r->n_tasks, sizeof *l->pub.tasks) : NULL;
    l->reports = n_rep ? calloc(n_rep, sizeof *l->reports) : NULL;
    l->targets = n_tgt ? calloc(n_tgt, sizeof *l->targets) : NULL;
    if ((r->n_tasks && !l->pub.tasks) || (n_rep && !l->reports) || (n_tgt && !l->targets)) {
        ld_ledger *p = &l->pub;
        ld_ledger_destroy(&p);
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    size_t ri = 0, ti = 0;
    for (size_t i = 0; i < r->n_tasks; i++) {
        fill_task(&l->pub.tasks[i], r->tasks[i], l->reports + ri, l->targets + ti);
        ri += r->tasks[i]->n_reports;
        ti += r->tasks[i]->n_targets;
    }
    *out = &l->pub;
    return LD_OK;
}

int ld_client_ledger_query(ld_client *c, const ld_ledger_query *q, ld_ledger **out)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!out)
        return ldc_fail(c, LD_ERR_INVALID, "ld_client_ledger_query needs an out pointer");
    *out = NULL;
    ld_ledger_query none = {0};
    if (!q)
        q = &none;
    if ((q->plan && !ldc_utf8_valid(q->plan, strlen(q->plan))) ||
        (q->dept && !ldc_utf8_valid(q->dept, strlen(q->dept))))
        return ldc_fail(c, LD_ERR_INVALID, "the plan or department id is not valid UTF-8");
    if (q->state < LD_TASK_STATE_ANY || q->state > LD_TASK_BLOCKED)
        return ldc_fail(c, LD_ERR_INVALID, "state %d is not a task state", q->state);

    Liandong__V1__LedgerQuery lq = LIANDONG__V1__LEDGER_QUERY__INIT;
    lq.plan = (char *)(q->plan ? q->plan : "");
    lq.dept = (char *)(q->dept ? q->dept : "");
    lq.state = (Liandong__V1__TaskState)q->state;
    lq.overdue = q->overdue != 0;
    lq.mine = q->mine != 0;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_QUERY;
    b.ledger_query = &lq;

    uint8_t *reply;
    size_t reply_len;
    int rc = ldc_query(c, &b, "ledger query", "plans", &reply, &reply_len);
    if (rc != LD_OK)
        return rc;
    char err[LDC_ERR_MAX - 32];
    rc = ldc_ledger_from_reply(reply, reply_len, out, err, sizeof err);
    free(reply);
    return rc == LD_OK ? LD_OK : ldc_fail(c, rc, "%s", err);
}
