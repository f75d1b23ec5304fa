/* ledger.c - the task ledger's rules; see ledger.h. */
#include "ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liandong/error.h"
#include "text.h"

#define ROLE_LEAD LIANDONG__V1__TASK_ROLE__LEAD
#define ROLE_SUPPORT LIANDONG__V1__TASK_ROLE__SUPPORT

void ldp_buf_free(ldp_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static const char *str(const char *s)
{
    return s ? s : "";
}

static int has(char *const *v, size_t n, const char *who)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp(v[i], who) == 0)
            return 1;
    return 0;
}

int ldp_entry_role(const ldp_entry *t, const char *who)
{
    if (!t || !who || !*who)
        return 0;
    if (has(t->lead, t->n_lead, who))
        return ROLE_LEAD;
    if (has(t->support, t->n_support, who))
        return ROLE_SUPPORT;
    return 0;
}

int ldp_entry_is_coordinator(const ldp_entry *t, const char *who)
{
    return t && who && has(t->coordinators, t->n_coordinators, who);
}

int ldp_entry_is_supervision(const ldp_entry *t, const char *who)
{
    return t && who && has(t->supervision, t->n_supervision, who);
}

static int pack_entry(const ldp_entry *e, ldp_buf *out)
{
    out->len = liandong__v1__ledger_task__get_packed_size(e);
    out->data = malloc(out->len ? out->len : 1);
    if (!out->data) {
        out->len = 0;
        return LD_ERR_NOMEM;
    }
    liandong__v1__ledger_task__pack(e, out->data);
    return LD_OK;
}

int ldp_entry_build(const ldp_plan *plan, const ldp_task *task, const ldp_entry *old, ldp_buf *out)
{
    out->data = NULL;
    out->len = 0;
    ldp_entry e = LIANDONG__V1__LEDGER_TASK__INIT;
    Liandong__V1__Target *tv = NULL, **tp = NULL;
    char **acc = NULL;
    int rc = LD_ERR_NOMEM;
    if (task->n_targets) {
        tv = calloc(task->n_targets, sizeof *tv);
        tp = calloc(task->n_targets, sizeof *tp);
        if (!tv || !tp)
            goto out;
        for (size_t i = 0; i < task->n_targets; i++) {
            liandong__v1__target__init(&tv[i]);
            tv[i].year = task->targets[i].year;
            tv[i].text = task->targets[i].text;
            tp[i] = &tv[i];
        }
    }
    e.plan = plan->id;
    e.task = task->id;
    e.title = task->title;
    e.n_lead = task->lead.n;
    e.lead = task->lead.v;
    e.n_support = task->support.n;
    e.support = task->support.v;
    e.due = task->due;
    e.plan_due = task->due;
    e.report_every = task->report_every;
    e.n_targets = task->n_targets;
    e.targets = tp;
    e.doc_number = plan->doc_number;
    e.plan_title = plan->title;
    e.n_coordinators = plan->coordinators.n;
    e.coordinators = plan->coordinators.v;
    e.n_supervision = plan->supervision.n;
    e.supervision = plan->supervision.v;
    e.state = LIANDONG__V1__TASK_STATE__TASK_ASSIGNED;
    if (old) {
        if (old->state != LIANDONG__V1__TASK_STATE__TASK_STATE_UNSPECIFIED)
            e.state = old->state;
        e.progress = old->progress;
        e.last_report_at_ms = old->last_report_at_ms;
        e.escalation_level = old->escalation_level;
        /* The date in force stays while the plan's own date is unchanged. */
        if (old->plan_due && old->due && *old->due && strcmp(old->plan_due, task->due) == 0)
            e.due = old->due;
        e.n_reports = old->n_reports;
        e.reports = old->reports;
        if (old->n_accepted_by) {
            acc = calloc(old->n_accepted_by, sizeof *acc);
            if (!acc)
                goto out;
            for (size_t i = 0; i < old->n_accepted_by; i++) {
                const char *d = old->accepted_by[i];
                if (d && (ldp_strv_has(&task->lead, d) || ldp_strv_has(&task->support, d)))
                    acc[e.n_accepted_by++] = (char *)d;
            }
            e.accepted_by = acc;
        }
    }
    rc = pack_entry(&e, out);
out:
    free(tv);
    free(tp);
    free(acc);
    return rc;
}

static int strv_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(str(a[i]), str(b[i])) != 0)
            return 0;
    return 1;
}

int ldp_entry_assign_differs(const ldp_entry *a, const ldp_entry *b)
{
    if (strcmp(str(a->title), str(b->title)) || strcmp(str(a->due), str(b->due)) ||
        strcmp(str(a->report_every), str(b->report_every)) ||
        strcmp(str(a->doc_number), str(b->doc_number)) ||
        strcmp(str(a->plan_title), str(b->plan_title)) ||
        !strv_equal(a->lead, a->n_lead, b->lead, b->n_lead) ||
        !strv_equal(a->support, a->n_support, b->support, b->n_support) ||
        a->n_targets != b->n_targets)
        return 1;
    for (size_t i = 0; i < a->n_targets; i++) {
        const Liandong__V1__Target *x = a->targets[i], *y = b->targets[i];
        if (!x || !y)
            return x != y;
        if (x->year != y->year || strcmp(str(x->text), str(y->text)))
            return 1;
    }
    return 0;
}

static int notice_add(ldp_notice *v, size_t *n, const char *dept, int role, int change)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i].dept, dept) == 0)
            return 0;
    v[*n].dept = dept;
    v[*n].role = role;
    v[*n].change = change;
    (*n)++;
    return 1;
}

int ldp_entry_notices(const ldp_entry *old, const ldp_entry *new_, ldp_notice **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap =
        (old ? old->n_lead + old->n_support : 0) + (new_ ? new_->n_lead + new_->n_support : 0);
    if (!cap)
        return LD_OK;
    ldp_notice *v = calloc(cap, sizeof *v);
    if (!v)
        return LD_ERR_NOMEM;
    size_t k = 0;
    int differs = old && new_ && ldp_entry_assign_differs(old, new_);
    /* Departments of the new version: gained or kept. notice_add skips a
     * department seen before (support after lead). */
    for (int pass = 0; new_ && pass < 2; pass++) {
        char **list = pass ? new_->support : new_->lead;
        size_t len = pass ? new_->n_support : new_->n_lead;
        int role = pass ? ROLE_SUPPORT : ROLE_LEAD;
        for (size_t i = 0; i < len; i++) {
            const char *d = list[i];
            if (!d || !*d || ldp_entry_role(new_, d) != role)
                continue;
            int before = ldp_entry_role(old, d);
            if (!before)
                notice_add(v, &k, d, role, LIANDONG__V1__ASSIGN_CHANGE__ASSIGNED);
            else if (differs || before != role)
                notice_add(v, &k, d, role, LIANDONG__V1__ASSIGN_CHANGE__UPDATED);
        }
    }
    /* Departments of the old version only: lost it. */
    for (int pass = 0; old && pass < 2; pass++) {
        char **list = pass ? old->support : old->lead;
        size_t len = pass ? old->n_support : old->n_lead;
        for (size_t i = 0; i < len; i++) {
            const char *d = list[i];
            if (!d || !*d || ldp_entry_role(new_, d))
                continue;
            notice_add(v, &k, d, ldp_entry_role(old, d), LIANDONG__V1__ASSIGN_CHANGE__UNASSIGNED);
        }
    }
    if (!k) {
        free(v);
        return LD_OK;
    }
    *out = v;
    *n = k;
    return LD_OK;
}

int ldp_assign_pack(const ldp_entry *t, int role, int change, ldp_buf *out)
{
    out->data = NULL;
    out->len = 0;
    Liandong__V1__TaskAssign a = LIANDONG__V1__TASK_ASSIGN__INIT;
    a.plan = (char *)str(t->plan);
    a.task = (char *)str(t->task);
    a.title = (char *)str(t->title);
    a.role = role;
    a.n_lead = t->n_lead;
    a.lead = t->lead;
    a.n_support = t->n_support;
    a.support = t->support;
    a.due = (char *)str(t->due);
    a.report_every = (char *)str(t->report_every);
    a.n_targets = t->n_targets;
    a.targets = t->targets;
    a.doc_number = (char *)str(t->doc_number);
    a.plan_title = (char *)str(t->plan_title);
    a.change = change;
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    body.msg_case = LIANDONG__V1__BODY__MSG_TASK_ASSIGN;
    body.task_assign = &a;
    out->len = liandong__v1__body__get_packed_size(&body);
    out->data = malloc(out->len);
    if (!out->data) {
        out->len = 0;
        return LD_ERR_NOMEM;
    }
    liandong__v1__body__pack(&body, out->data);
    return LD_OK;
}

/* accepted_by plus dept (when missing): a new pointer array in *acc. */
static int accepted_with(const ldp_entry *t, const char *dept, ldp_entry *e, char ***acc)
{
    *acc = NULL;
    if (has(t->accepted_by, t->n_accepted_by, dept))
        return LD_OK;
    *acc = malloc((t->n_accepted_by + 1) * sizeof **acc);
    if (!*acc)
        return LD_ERR_NOMEM;
    if (t->n_accepted_by)
        memcpy(*acc, t->accepted_by, t->n_accepted_by * sizeof **acc);
    (*acc)[t->n_accepted_by] = (char *)dept;
    e->accepted_by = *acc;
    e->n_accepted_by = t->n_accepted_by + 1;
    return LD_OK;
}

int ldp_entry_accept(const ldp_entry *t, const char *dept, ldp_buf *out, int *changed)
{
    out->data = NULL;
    out->len = 0;
    *changed = 0;
    ldp_entry e = *t;
    char **acc;
    if (accepted_with(t, dept, &e, &acc) != LD_OK)
        return LD_ERR_NOMEM;
    if (ldp_entry_role(t, dept) == ROLE_LEAD &&
        (t->state == LIANDONG__V1__TASK_STATE__TASK_ASSIGNED ||
         t->state == LIANDONG__V1__TASK_STATE__TASK_STATE_UNSPECIFIED))
        e.state = LIANDONG__V1__TASK_STATE__TASK_ACCEPTED;
    if (!acc && e.state == t->state)
        return LD_OK;
    *changed = 1;
    int rc = pack_entry(&e, out);
    free(acc);
    return rc;
}

static int bad(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (whylen)
        vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return LD_ERR_INVALID;
}

int ldp_entry_report(const ldp_entry *t, const char *dept, const Liandong__V1__StatusReport *r,
                     int64_t now_ms, ldp_buf *out, char *why, size_t whylen)
{
    out->data = NULL;
    out->len = 0;
    switch (r->state) {
    case LIANDONG__V1__TASK_STATE__TASK_ACCEPTED:
    case LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS:
    case LIANDONG__V1__TASK_STATE__TASK_DONE:
    case LIANDONG__V1__TASK_STATE__TASK_BLOCKED: break;
    case LIANDONG__V1__TASK_STATE__TASK_ASSIGNED:
    case LIANDONG__V1__TASK_STATE__TASK_STATE_UNSPECIFIED:
        return bad(why, whylen,
                   "a status report's state must be accepted, in_progress, done or blocked, "
                   "not %s",
                   ldp_state_name(r->state));
    default:
        return bad(why, whylen,
                   "a status report's state must be accepted, in_progress, done or blocked, "
                   "not the unknown state %d",
                   (int)r->state);
    }
    if (r->progress > 100)
        return bad(why, whylen, "progress is a percentage from 0 to 100, not %u", r->progress);
    const char *note = str(r->note);
    size_t note_len = strlen(note);
    if (note_len > LDP_NOTE_MAX)
        return bad(why, whylen, "the note is %zu bytes; at most %d are kept", note_len,
                   LDP_NOTE_MAX);
    if (!ldp_utf8_valid(note, note_len))
        return bad(why, whylen, "the note is not valid UTF-8");

    ldp_entry e = *t;
    Liandong__V1__DeptReport mine = LIANDONG__V1__DEPT_REPORT__INIT;
    mine.dept = (char *)dept;
    mine.at_ms = now_ms;
    mine.state = r->state;
    mine.progress = r->progress;
    mine.note = (char *)note;
    Liandong__V1__DeptReport **reps = malloc((t->n_reports + 1) * sizeof *reps);
    if (!reps)
        return LD_ERR_NOMEM;
    size_t n = 0;
    int found = 0;
    for (size_t i = 0; i < t->n_reports; i++) {
        if (!t->reports[i])
            continue;
        if (strcmp(str(t->reports[i]->dept), dept) != 0) {
            reps[n++] = t->reports[i];
        } else if (!found) {
            reps[n++] = &mine; /* in place of the department's previous report */
            found = 1;
        }
    }
    if (!found)
        reps[n++] = &mine;
    e.reports = reps;
    e.n_reports = n;
    e.last_report_at_ms = now_ms;
    if (ldp_entry_role(t, dept) == ROLE_LEAD) {
        e.state = r->state;
        e.progress = r->progress;
    }
    char **acc;
    int rc = accepted_with(t, dept, &e, &acc);
    if (rc == LD_OK)
        rc = pack_entry(&e, out);
    free(acc);
    free(reps);
    return rc;
}

int ldp_entry_overdue(const ldp_entry *t, int64_t now_ms)
{
    if (!t || t->state == LIANDONG__V1__TASK_STATE__TASK_DONE || !ldp_date_valid(t->due))
        return 0;
    char today[LDP_DATE_BYTES];
    ldp_date_china(now_ms, today);
    return strcmp(t->due, today) < 0;
}

int ldp_entry_is_letter(const ldp_entry *t)
{
    return t && t->kind && strcmp(t->kind, "letter") == 0;
}

const char *ldp_state_name(int state)
{
    switch (state) {
    case LIANDONG__V1__TASK_STATE__TASK_ASSIGNED: return "assigned";
    case LIANDONG__V1__TASK_STATE__TASK_ACCEPTED: return "accepted";
    case LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS: return "in_progress";
    case LIANDONG__V1__TASK_STATE__TASK_DONE: return "done";
    case LIANDONG__V1__TASK_STATE__TASK_BLOCKED: return "blocked";
    default: return "unspecified";
    }
}
