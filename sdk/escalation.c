/* escalation.c - extensions, pauses, supervision letters, escalation
 * queries, and the typed views of notices and letters in deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

static int s_ok(const char *s)
{
    return s && ldc_utf8_valid(s, strlen(s));
}

static int date_ok(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return 1;
}

static int v_ok(char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s_ok(v[i]))
            return 0;
    return 1;
}

static int task_ok(ld_client *c, const char *plan, const char *task)
{
    if (!task || !*task || !s_ok(task) || (plan && !s_ok(plan)))
        return ldc_fail(c, LD_ERR_INVALID, "a task id is required (and plan and task in UTF-8)");
    return LD_OK;
}

static int send(ld_client *c, Liandong__V1__Body *b, ld_ack *ack)
{
    return ldc_send_packed(c, b, ack, NULL, NULL);
}

int ld_client_extension_request(ld_client *c, const char *plan, const char *task, const char *until,
                                const char *reason, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = task_ok(c, plan, task);
    if (rc != LD_OK)
        return rc;
    if (!date_ok(until))
        return ldc_fail(c, LD_ERR_INVALID, "until must be a date YYYY-MM-DD");
    if (!reason || !*reason || !s_ok(reason))
        return ldc_fail(c, LD_ERR_INVALID, "an extension request needs a reason (UTF-8)");
    Liandong__V1__ExtensionRequest m = LIANDONG__V1__EXTENSION_REQUEST__INIT;
    m.plan = (char *)(plan ? plan : "");
    m.task = (char *)task;
    m.until = (char *)until;
    m.reason = (char *)reason;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST;
    b.extension_request = &m;
    return send(c, &b, ack);
}

int ld_client_extension_decide(ld_client *c, const char *plan, const char *task, int approve,
                               const char *until, const char *reason, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = task_ok(c, plan, task);
    if (rc != LD_OK)
        return rc;
    if (until && *until && !date_ok(until))
        return ldc_fail(c, LD_ERR_INVALID, "until must be a date YYYY-MM-DD");
    if ((reason && !s_ok(reason)) || (!approve && (!reason || !*reason)))
        return ldc_fail(c, LD_ERR_INVALID, "a rejection needs a reason (UTF-8)");
    Liandong__V1__ExtensionDecision m = LIANDONG__V1__EXTENSION_DECISION__INIT;
    m.plan = (char *)(plan ? plan : "");
    m.task = (char *)task;
    m.approve = approve != 0;
    m.until = (char *)(until ? until : "");
    m.reason = (char *)(reason ? reason : "");
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_EXTENSION_DECISION;
    b.extension_decision = &m;
    return send(c, &b, ack);
}

int ld_client_task_pause(ld_client *c, const char *plan, const char *task, int resume,
                         const char *reason, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = task_ok(c, plan, task);
    if (rc != LD_OK)
        return rc;
    if ((reason && !s_ok(reason)) || (!resume && (!reason || !*reason)))
        return ldc_fail(c, LD_ERR_INVALID, "a pause needs a reason (UTF-8)");
    Liandong__V1__TaskPause m = LIANDONG__V1__TASK_PAUSE__INIT;
    m.plan = (char *)(plan ? plan : "");
    m.task = (char *)task;
    m.resume = resume != 0;
    m.reason = (char *)(reason ? reason : "");
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_PAUSE;
    b.task_pause = &m;
    return send(c, &b, ack);
}

int ld_client_letter_issue(ld_client *c, const char *plan, const char *task, const char *const *to,
                           size_t n_to, const char *deadline, const char *text, char *letter_id,
                           size_t idlen, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = task_ok(c, plan, task);
    if (rc != LD_OK)
        return rc;
    if (!to || !n_to || !v_ok((char *const *)to, n_to))
        return ldc_fail(c, LD_ERR_INVALID, "a letter needs departments to address");
    if (!date_ok(deadline))
        return ldc_fail(c, LD_ERR_INVALID, "the deadline must be a date YYYY-MM-DD");
    if (!text || !*text || !s_ok(text))
        return ldc_fail(c, LD_ERR_INVALID, "a letter needs a text (UTF-8)");
    Liandong__V1__SupervisionLetter m = LIANDONG__V1__SUPERVISION_LETTER__INIT;
    m.plan = (char *)(plan ? plan : "");
    m.task = (char *)task;
    m.to = (char **)to;
    m.n_to = n_to;
    m.deadline = (char *)deadline;
    m.text = (char *)text;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER;
    b.supervision_letter = &m;
    uint8_t *reply = NULL;
    size_t rlen = 0;
    if ((rc = ldc_send_packed(c, &b, ack, &reply, &rlen)) != LD_OK)
        return rc;
    Liandong__V1__Body *r = reply ? liandong__v1__body__unpack(NULL, rlen, reply) : NULL;
    free(reply);
    if (!r || r->msg_case != LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER ||
        !s_ok(r->supervision_letter->letter_id)) {
        if (r)
            liandong__v1__body__free_unpacked(r, NULL);
        return ldc_fail(c, LD_ERR_PROTOCOL,
                        "the broker stored the letter but sent back no letter id (a resend?)");
    }
    if (letter_id && idlen)
        snprintf(letter_id, idlen, "%s", r->supervision_letter->letter_id);
    liandong__v1__body__free_unpacked(r, NULL);
    return LD_OK;
}

int ld_client_letter_answer(ld_client *c, const char *letter_id, const char *text, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!letter_id || !*letter_id || !s_ok(letter_id))
        return ldc_fail(c, LD_ERR_INVALID, "a letter id is required");
    if (!text || !*text || !s_ok(text))
        return ldc_fail(c, LD_ERR_INVALID, "an answer needs a text (UTF-8)");
    Liandong__V1__LetterAnswer m = LIANDONG__V1__LETTER_ANSWER__INIT;
    m.letter_id = (char *)letter_id;
    m.text = (char *)text;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_LETTER_ANSWER;
    b.letter_answer = &m;
    return send(c, &b, ack);
}

/* ---- notices ---- */

static int notice_ok(const Liandong__V1__EscalationNotice *n)
{
    return n && s_ok(n->notice_id) && s_ok(n->plan) && s_ok(n->task) && s_ok(n->level_name) &&
           s_ok(n->reason) && s_ok(n->due) && s_ok(n->text) && s_ok(n->colour) &&
           s_ok(n->letter_id) && s_ok(n->period_end) && v_ok(n->departments, n->n_departments);
}

static void fill_notice(ld_escalation_notice *o, const Liandong__V1__EscalationNotice *n)
{
    o->notice_id = n->notice_id;
    o->plan = n->plan;
    o->task = n->task;
    o->level = n->level;
    o->level_name = n->level_name;
    o->reason = n->reason;
    o->departments = (const char *const *)n->departments;
    o->n_departments = n->n_departments;
    o->due = n->due;
    o->raised_at_ms = n->raised_at_ms;
    o->text = n->text;
    o->colour = n->colour;
    o->letter_id = n->letter_id;
    o->calendar_unverified = n->calendar_unverified;
    o->period_end = n->period_end;
}

int ldc_delivery_escalation_view(ldc_delivery *d, char *err, size_t errlen)
{
    if (!d->body)
        return LD_OK;
    if (d->body->msg_case == LIANDONG__V1__BODY__MSG_ESCALATION_NOTICE) {
        if (!notice_ok(d->body->escalation_notice)) {
            snprintf(err, errlen, "has text that is not UTF-8");
            return LD_ERR_PROTOCOL;
        }
        fill_notice(&d->notice, d->body->escalation_notice);
        d->pub.notice = &d->notice;
    } else if (d->body->msg_case == LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER) {
        const Liandong__V1__SupervisionLetter *l = d->body->supervision_letter;
        if (!l || !s_ok(l->letter_id) || !s_ok(l->plan) || !s_ok(l->task) || !s_ok(l->deadline) ||
            !s_ok(l->text) || !v_ok(l->to, l->n_to)) {
            snprintf(err, errlen, "has text that is not UTF-8");
            return LD_ERR_PROTOCOL;
        }
        d->letter = (ld_supervision_letter_info){
            l->letter_id, l->plan,     l->task, (const char *const *)l->to,
            l->n_to,      l->deadline, l->text};
        d->pub.letter = &d->letter;
    }
    return LD_OK;
}

typedef struct ldc_escalations {
    ld_escalations pub;
    Liandong__V1__Body *body;
} ldc_escalations;

void ld_escalations_destroy(ld_escalations **ep)
{
    if (!ep || !*ep)
        return;
    ldc_escalations *e = (ldc_escalations *)*ep;
    if (e->body)
        liandong__v1__body__free_unpacked(e->body, NULL);
    free(e->pub.notices);
    free(e);
    *ep = NULL;
}

int ld_client_escalation_query(ld_client *c, const ld_escalation_query *q, ld_escalations **out)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!out)
        return ldc_fail(c, LD_ERR_INVALID, "ld_client_escalation_query needs an out pointer");
    *out = NULL;
    ld_escalation_query none = {0};
    if (!q)
        q = &none;
    if (q->plan && !s_ok(q->plan))
        return ldc_fail(c, LD_ERR_INVALID, "the plan id is not valid UTF-8");
    Liandong__V1__EscalationQuery m = LIANDONG__V1__ESCALATION_QUERY__INIT;
    m.plan = (char *)(q->plan ? q->plan : "");
    m.mine = q->mine != 0;
    m.since_ms = q->since_ms;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_ESCALATION_QUERY;
    b.escalation_query = &m;
    uint8_t *reply;
    size_t rlen;
    int rc = ldc_query(c, &b, "escalation query", "escalation", &reply, &rlen);
    if (rc != LD_OK)
        return rc;
    Liandong__V1__Body *r = liandong__v1__body__unpack(NULL, rlen, reply);
    free(reply);
    if (!r || r->msg_case != LIANDONG__V1__BODY__MSG_ESCALATION_REPLY) {
        if (r)
            liandong__v1__body__free_unpacked(r, NULL);
        return ldc_fail(c, LD_ERR_PROTOCOL, "the broker's answer is not an EscalationReply");
    }
    const Liandong__V1__EscalationReply *er = r->escalation_reply;
    for (size_t i = 0; i < er->n_notices; i++)
        if (!notice_ok(er->notices[i])) {
            liandong__v1__body__free_unpacked(r, NULL);
            return ldc_fail(c, LD_ERR_PROTOCOL, "the broker's notices are not UTF-8");
        }
    ldc_escalations *e = calloc(1, sizeof *e);
    ld_escalation_notice *v = er->n_notices ? calloc(er->n_notices, sizeof *v) : NULL;
    if (!e || (er->n_notices && !v)) {
        free(e);
        free(v);
        liandong__v1__body__free_unpacked(r, NULL);
        return ldc_fail(c, LD_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < er->n_notices; i++)
        fill_notice(&v[i], er->notices[i]);
    e->body = r;
    e->pub.clock_ms = er->clock_ms;
    e->pub.n_notices = er->n_notices;
    e->pub.notices = v;
    *out = &e->pub;
    return LD_OK;
}
