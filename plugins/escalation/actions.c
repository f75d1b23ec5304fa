/* actions.c - the messages that change clocks: PlanPublish and StatusReport
 * (seen after the plans plugin handled them), ExtensionRequest,
 * ExtensionDecision, TaskPause, SupervisionLetter, LetterAnswer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc_int.h"

static void set_str(char **dst, const char *v)
{
    char *n = strdup(v ? v : "");
    if (!n)
        return;
    if (*dst && *dst != protobuf_c_empty_string)
        free(*dst);
    *dst = n;
}

int lde_on_publish(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                   const Liandong__V1__PlanPublish *p, ld_plugin_verdict *v)
{
    lde_plan_rules *pr;
    char err[512];
    const char *file = p->file_name && *p->file_name ? p->file_name : "plan";
    int rc = lde_plan_rules_parse(file, p->content.data, p->content.len, &pr, err, sizeof err);
    if (rc == LD_ERR_FORMAT) {
        s->host->refuse(v, LDE_REASON(INVALID_PLAN), "%s", err);
        return LD_PLUGIN_REFUSE;
    }
    if (rc != LD_OK)
        return LD_PLUGIN_ERROR;
    char plan[LDE_ID_MAX + 1];
    snprintf(plan, sizeof plan, "%s", pr->plan);
    lde_plan_rules_destroy(&pr);
    rc = lde_rules_store(s, txn, plan, p->content.data, p->content.len);
    if (rc == LD_OK)
        rc = lde_sync_plan(s, txn, plan, m->now_ms);
    return rc == LD_OK ? LD_PLUGIN_PASS : LD_PLUGIN_ERROR;
}

/* Resolve plan (may be "") and task. LD_OK with plan filled, else refused. */
static int resolve(lde_state *s, ld_plugin_txn *txn, const char *plan_in, const char *task,
                   char plan[LDE_ID_MAX + 1], lde_ledger **e, ld_plugin_verdict *v)
{
    *e = NULL;
    if (!task || !*task || strlen(task) > LDE_ID_MAX || (plan_in && strlen(plan_in) > LDE_ID_MAX)) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "the message names no valid task id");
        return LD_ERR_INVALID;
    }
    if (plan_in && *plan_in)
        snprintf(plan, LDE_ID_MAX + 1, "%s", plan_in);
    else if (lde_task_plan(s, txn, task, plan) != LD_OK) {
        s->host->refuse(v, LDE_REASON(UNKNOWN_TASK),
                        "no task %.64s is watched by the escalation "
                        "plugin",
                        task);
        return LD_ERR_NOT_FOUND;
    }
    int rc = lde_ledger_get(s, txn, plan, task, e);
    if (rc != LD_OK) {
        s->host->refuse(v, LDE_REASON(UNKNOWN_TASK), "no task %.64s in plan %.64s", task, plan);
        return LD_ERR_NOT_FOUND;
    }
    if (lde_is_letter(*e)) {
        s->host->refuse(v, LDE_REASON(UNKNOWN_TASK),
                        "%s is a 督办函 about task %s, not a task: name the task", task,
                        (*e)->about);
        liandong__v1__ledger_task__free_unpacked(*e, NULL);
        *e = NULL;
        return LD_ERR_NOT_FOUND;
    }
    return LD_OK;
}

int lde_on_report(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__StatusReport *r)
{
    char plan[LDE_ID_MAX + 1];
    if (!r->task || !*r->task || strlen(r->task) > LDE_ID_MAX)
        return LD_PLUGIN_PASS;
    if (r->plan && *r->plan)
        snprintf(plan, sizeof plan, "%.64s", r->plan);
    else if (lde_task_plan(s, txn, r->task, plan) != LD_OK)
        return LD_PLUGIN_PASS;
    return lde_sync_task(s, txn, plan, r->task, m->sender, m->now_ms) == LD_OK ? LD_PLUGIN_PASS
                                                                               : LD_PLUGIN_ERROR;
}

typedef struct ctx {
    char plan[LDE_ID_MAX + 1];
    lde_ledger *e;
    lde_tclock *t;
    lde_rules r;
    int32_t due;
    char due_s[LDE_DATE_BYTES];
} ctx;

static void ctx_free(ctx *c)
{
    if (c->e)
        liandong__v1__ledger_task__free_unpacked(c->e, NULL);
    if (c->t)
        liandong__escalation__v1__task_clock__free_unpacked(c->t, NULL);
}

/* Load the task, its clock and rules; refuse when not watched. */
static int load(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task, ctx *c,
                ld_plugin_verdict *v)
{
    memset(c, 0, sizeof *c);
    if (resolve(s, txn, plan, task, c->plan, &c->e, v) != LD_OK)
        return LD_PLUGIN_REFUSE;
    int tracked;
    lde_rules_for(s, txn, c->plan, task, &c->r, &tracked);
    int rc = lde_clock_get(s, txn, c->plan, task, &c->t);
    if (rc != LD_OK || !tracked || lde_clock_due(c->t, &c->due) != LD_OK) {
        s->host->refuse(v, LDE_REASON(UNKNOWN_TASK),
                        "task %.64s has no escalation rules or no due date: its clock is not "
                        "watched",
                        task);
        return LD_PLUGIN_REFUSE;
    }
    lde_day_format(c->due, c->due_s);
    return LD_OK;
}

static int deliver_to(lde_state *s, ld_plugin_verdict *v, char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = s->host->add_recipient(v, ids[i]);
        if (rc != LD_OK && rc != LD_ERR_NOT_FOUND)
            return rc;
    }
    return LD_OK;
}

/* The latest date an extension may reach from the due date in force. */
static int32_t ext_limit(lde_state *s, const ctx *c)
{
    int32_t lim;
    int unv = 0, prov = 0;
    if (!c->r.ext_max.unit)
        return c->due;
    lde_dur_apply(s->cal, NULL, c->due, &c->r.ext_max, 0, &lim, &unv, &prov);
    return lim;
}

/* Check an extension to until: LD_OK, or refused. */
static int ext_check(lde_state *s, const ctx *c, const char *until, int32_t *u,
                     ld_plugin_verdict *v)
{
    if (lde_day_parse(until, u) != LD_OK) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "until must be a date YYYY-MM-DD");
        return LD_PLUGIN_REFUSE;
    }
    if (*u <= c->due) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "until %s is not after the due date %s", until,
                        c->due_s);
        return LD_PLUGIN_REFUSE;
    }
    uint32_t maxc = c->r.has_ext_count ? c->r.ext_max_count : 1;
    if (c->t->ext_count >= maxc) {
        s->host->refuse(v, LDE_REASON(LIMIT_EXCEEDED),
                        "task %s had %u extension%s already; the rules allow %u", c->t->task,
                        c->t->ext_count, c->t->ext_count == 1 ? "" : "s", maxc);
        return LD_PLUGIN_REFUSE;
    }
    int32_t lim = ext_limit(s, c);
    if (*u > lim) {
        char ls[LDE_DATE_BYTES], ds[32];
        lde_day_format(lim, ls);
        lde_dur_format(&c->r.ext_max, ds, sizeof ds);
        s->host->refuse(v, LDE_REASON(LIMIT_EXCEEDED),
                        "an extension of task %s may reach %s at most (%s after the due date %s)",
                        c->t->task, ls, ds, c->due_s);
        return LD_PLUGIN_REFUSE;
    }
    return LD_OK;
}

int lde_on_ext_request(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                       const Liandong__V1__ExtensionRequest *q, ld_plugin_verdict *v)
{
    ctx c;
    int d = load(s, txn, q->plan, q->task, &c, v);
    if (d != LD_OK)
        goto out;
    d = LD_PLUGIN_REFUSE;
    if (!lde_listed(c.e->lead, c.e->n_lead, m->sender)) {
        s->host->refuse(v, LDE_REASON(UNAUTHORIZED),
                        "only a lead department of task %s may ask for an extension; %s is %s",
                        q->task, m->sender,
                        lde_listed(c.e->support, c.e->n_support, m->sender)
                            ? "a support department"
                            : "not a department of the task");
        goto out;
    }
    if (m->now_ms >= lde_day_end_ms(c.due)) {
        s->host->refuse(v, LDE_REASON(LIMIT_EXCEEDED),
                        "task %s was due on %s: an extension must be asked for before the due date",
                        q->task, c.due_s);
        goto out;
    }
    if (!q->reason || !*q->reason) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "an extension request needs a reason");
        goto out;
    }
    int32_t u;
    if ((d = ext_check(s, &c, q->until, &u, v)) != LD_OK)
        goto out;
    set_str(&c.t->ext_until, q->until);
    set_str(&c.t->ext_reason, q->reason);
    set_str(&c.t->ext_by, m->sender);
    int rc = lde_clock_put(s, txn, c.t);
    if (rc == LD_OK)
        rc = deliver_to(s, v, c.e->coordinators, c.e->n_coordinators);
    d = rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
out:
    ctx_free(&c);
    return d;
}

int lde_on_ext_decision(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                        const Liandong__V1__ExtensionDecision *q, ld_plugin_verdict *v)
{
    ctx c;
    int d = load(s, txn, q->plan, q->task, &c, v);
    if (d != LD_OK)
        goto out;
    d = LD_PLUGIN_REFUSE;
    if (!lde_listed(c.e->coordinators, c.e->n_coordinators, m->sender)) {
        s->host->refuse(v, LDE_REASON(UNAUTHORIZED),
                        "only a coordinator of plan %s decides extensions; %s is not one", c.plan,
                        m->sender);
        goto out;
    }
    if (!c.t->ext_until || !*c.t->ext_until) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "no extension request is pending for task %s",
                        q->task);
        goto out;
    }
    char text[512], suffix[64];
    const char *until = q->until && *q->until ? q->until : c.t->ext_until;
    if (q->approve) {
        int32_t u;
        if ((d = ext_check(s, &c, until, &u, v)) != LD_OK)
            goto out;
        c.t->ext_days += u - c.due;
        c.t->ext_count++;
        lde_clock_restart(c.t, m->now_ms);
        snprintf(text, sizeof text, "extension of %s approved by %s: due %s (was %s)", q->task,
                 m->sender, until, c.due_s);
    } else {
        if (!q->reason || !*q->reason) {
            s->host->refuse(v, LDE_REASON(MALFORMED), "a rejection needs a reason");
            goto out;
        }
        snprintf(text, sizeof text, "extension of %s to %s rejected by %s: %.300s", q->task,
                 c.t->ext_until, m->sender, q->reason);
    }
    char requester[LDE_ID_MAX + 1];
    snprintf(requester, sizeof requester, "%s", c.t->ext_by ? c.t->ext_by : "");
    set_str(&c.t->ext_until, "");
    set_str(&c.t->ext_reason, "");
    set_str(&c.t->ext_by, "");
    c.t->decisions++;
    char due_now[LDE_DATE_BYTES];
    int32_t nd;
    lde_clock_due(c.t, &nd);
    lde_day_format(nd, due_now);
    snprintf(suffix, sizeof suffix, "%u", c.t->decisions);
    lde_names to = {0};
    lde_names_mask(&to, c.e, LDE_TO_LEAD | LDE_TO_COORDINATORS | LDE_TO_SUPERVISION);
    lde_names_add(&to, requester);
    lde_notice_in n = {.plan = c.plan,
                       .task = q->task,
                       .reason = "extension_decided",
                       .due = due_now,
                       .raised_ms = m->now_ms,
                       .colour = lde_clock_colour(s->cal, &c.r, c.t, m->now_ms),
                       .text = text,
                       .departments = c.e->lead,
                       .n_departments = c.e->n_lead,
                       .id_suffix = suffix};
    int rc = lde_notice_raise(s, txn, &n, to.v, to.n);
    lde_names_free(&to);
    if (rc == LD_OK) /* also writes the date in force into the ledger */
        rc = lde_reschedule(s, txn, c.t, &c.r);
    if (rc == LD_OK)
        rc = deliver_to(s, v, c.e->lead, c.e->n_lead);
    d = rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
out:
    ctx_free(&c);
    return d;
}

int lde_on_pause(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__TaskPause *p, ld_plugin_verdict *v)
{
    ctx c;
    int d = load(s, txn, p->plan, p->task, &c, v);
    if (d != LD_OK)
        goto out;
    d = LD_PLUGIN_REFUSE;
    if (!lde_listed(c.e->coordinators, c.e->n_coordinators, m->sender)) {
        s->host->refuse(v, LDE_REASON(UNAUTHORIZED),
                        "only a coordinator of plan %s pauses or resumes a task's clock; %s is not "
                        "one",
                        c.plan, m->sender);
        goto out;
    }
    if (!p->resume) {
        if (c.t->paused) {
            s->host->refuse(v, LDE_REASON(MALFORMED), "task %s is paused already", p->task);
            goto out;
        }
        if (!p->reason || !*p->reason) {
            s->host->refuse(v, LDE_REASON(MALFORMED), "a pause needs a reason");
            goto out;
        }
        c.t->paused = 1;
        c.t->paused_at_ms = m->now_ms;
        set_str(&c.t->pause_reason, p->reason);
    } else {
        if (!c.t->paused) {
            s->host->refuse(v, LDE_REASON(MALFORMED), "task %s is not paused", p->task);
            goto out;
        }
        int32_t days = lde_day_of_ms(m->now_ms) - lde_day_of_ms(c.t->paused_at_ms);
        c.t->pause_days += days > 0 ? days : 0;
        c.t->paused = 0;
        c.t->epoch_ms = m->now_ms;
    }
    /* Also writes the date in force (moved by the paused days) into the ledger. */
    int rc = lde_reschedule(s, txn, c.t, &c.r);
    if (rc == LD_OK)
        rc = deliver_to(s, v, c.e->lead, c.e->n_lead);
    d = rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
out:
    ctx_free(&c);
    return d;
}

static int emit_letter(lde_state *s, ld_plugin_txn *txn, const lde_letter *l, const char *to,
                       uint8_t **packed, size_t *plen)
{
    if (!*packed) {
        Liandong__V1__SupervisionLetter w = LIANDONG__V1__SUPERVISION_LETTER__INIT;
        w.letter_id = l->id;
        w.plan = l->plan;
        w.task = l->task;
        w.to = l->to;
        w.n_to = l->n_to;
        w.deadline = l->deadline;
        w.text = l->text;
        Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
        b.msg_case = LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER;
        b.supervision_letter = &w;
        *plen = liandong__v1__body__get_packed_size(&b);
        if (!(*packed = malloc(*plen)))
            return LD_ERR_NOMEM;
        liandong__v1__body__pack(&b, *packed);
    }
    if (!to)
        return LD_OK;
    int rc = s->host->emit(s->ctx, txn, to, *packed, *plen);
    return rc == LD_ERR_NOT_FOUND ? LD_OK : rc;
}

int lde_on_letter(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__SupervisionLetter *q, ld_plugin_verdict *v)
{
    char plan[LDE_ID_MAX + 1];
    lde_ledger *e;
    if (resolve(s, txn, q->plan, q->task, plan, &e, v) != LD_OK)
        return LD_PLUGIN_REFUSE;
    int d = LD_PLUGIN_REFUSE;
    uint8_t *packed = NULL;
    size_t plen = 0;
    lde_letter l = LIANDONG__ESCALATION__V1__LETTER__INIT;
    if (!(m->sender_roles & LD_ROLE_SUPERVISION) ||
        (e->n_supervision && !lde_listed(e->supervision, e->n_supervision, m->sender))) {
        s->host->refuse(v, LDE_REASON(UNAUTHORIZED),
                        "only the supervision office of plan %s issues a 督办函; %s is not it",
                        plan, m->sender);
        goto out;
    }
    int32_t dl;
    if (lde_day_parse(q->deadline, &dl) != LD_OK || lde_day_end_ms(dl) <= m->now_ms) {
        s->host->refuse(v, LDE_REASON(MALFORMED),
                        "the deadline must be a date YYYY-MM-DD, today or later");
        goto out;
    }
    if (!q->n_to || !q->text || !*q->text) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "a 督办函 needs departments (to) and a text");
        goto out;
    }
    for (size_t i = 0; i < q->n_to; i++) {
        ld_principal_info pi;
        if (!q->to[i] || s->host->principal(s->ctx, q->to[i], &pi) != LD_OK) {
            s->host->refuse(v, LDE_REASON(UNKNOWN_RECIPIENT), "%.64s is not in the roster",
                            q->to[i] ? q->to[i] : "");
            goto out;
        }
    }
    /* The letter id: a counter, skipping ids a plan uses for a task. */
    uint64_t seq = 0;
    const void *val;
    size_t len;
    if (s->host->db_get(s->ctx, txn, s->db_meta, "letter_seq", 10, &val, &len) == LD_OK && len == 8)
        memcpy(&seq, val, 8);
    char id[LDE_ID_MAX + 1];
    do
        snprintf(id, sizeof id, "dbh-%llu", (unsigned long long)++seq);
    while (s->host->ledger_get(s->ctx, txn, plan, id, &val, &len) == LD_OK);
    int rc = s->host->db_put(s->ctx, txn, s->db_meta, "letter_seq", 10, &seq, 8);
    l.id = id;
    l.plan = plan;
    l.task = q->task;
    l.to = q->to;
    l.n_to = q->n_to;
    l.deadline = q->deadline;
    l.text = q->text;
    l.issued_by = (char *)m->sender;
    l.issued_at_ms = m->now_ms;
    l.index_ms = lde_day_end_ms(dl);
    if (rc == LD_OK)
        rc = lde_letter_put(s, txn, &l);
    if (rc == LD_OK)
        rc = lde_index_move(s, txn, 'l', id, NULL, 0, l.index_ms);
    if (rc == LD_OK) /* the letter is tracked in the ledger as a row of its own */
        rc = lde_letter_row(s, txn, &l, NULL, NULL, m->now_ms, 0);
    lde_names to = {0};
    for (size_t i = 0; i < q->n_to; i++)
        lde_names_add(&to, q->to[i]);
    lde_names_mask(&to, e, LDE_TO_COORDINATORS | LDE_TO_SUPERVISION);
    for (size_t i = 0; rc == LD_OK && i < to.n; i++)
        rc = emit_letter(s, txn, &l, to.v[i], &packed, &plen);
    lde_names_free(&to);
    if (rc == LD_OK && (rc = emit_letter(s, txn, &l, NULL, &packed, &plen)) == LD_OK)
        rc = s->host->set_reply(v, packed, plen);
    d = rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
out:
    free(packed);
    liandong__v1__ledger_task__free_unpacked(e, NULL);
    return d;
}

int lde_on_answer(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__LetterAnswer *a, ld_plugin_verdict *v)
{
    lde_letter *l;
    if (!a->letter_id || !*a->letter_id || strlen(a->letter_id) > LDE_ID_MAX ||
        lde_letter_get(s, txn, a->letter_id, &l) != LD_OK) {
        s->host->refuse(v, LDE_REASON(UNKNOWN_TASK), "no 督办函 %.64s", a->letter_id);
        return LD_PLUGIN_REFUSE;
    }
    int d = LD_PLUGIN_REFUSE;
    if (!lde_listed(l->to, l->n_to, m->sender)) {
        s->host->refuse(v, LDE_REASON(UNAUTHORIZED),
                        "督办函 %s is addressed to other departments; %s may not answer it", l->id,
                        m->sender);
        goto out;
    }
    if (!a->text || !*a->text) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "an answer needs a text");
        goto out;
    }
    if (!lde_listed(l->answered_by, l->n_answered_by, m->sender)) {
        char **nv = realloc(l->answered_by, (l->n_answered_by + 1) * sizeof *nv);
        if (!nv) {
            d = LD_PLUGIN_ERROR;
            goto out;
        }
        l->answered_by = nv;
        if (!(nv[l->n_answered_by] = strdup(m->sender))) {
            d = LD_PLUGIN_ERROR;
            goto out;
        }
        l->n_answered_by++;
    }
    size_t open = 0;
    for (size_t i = 0; i < l->n_to; i++)
        open += !lde_listed(l->answered_by, l->n_answered_by, l->to[i]);
    if (!open && !l->answered_at_ms) {
        l->answered_at_ms = m->now_ms;
        if (l->index_ms && lde_index_move(s, txn, 'l', l->id, NULL, l->index_ms, 0) == LD_OK)
            l->index_ms = 0;
    }
    int rc = lde_letter_put(s, txn, l);
    if (rc == LD_OK)
        rc = lde_letter_row(s, txn, l, m->sender, a->text, m->now_ms, 0);
    if (rc == LD_OK)
        rc = s->host->add_recipient(v, l->issued_by);
    if (rc == LD_ERR_NOT_FOUND)
        rc = LD_OK;
    d = rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
out:
    liandong__escalation__v1__letter__free_unpacked(l, NULL);
    return d;
}
