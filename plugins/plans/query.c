/* query.c - LedgerQuery: who may read what, the filters, the reply that
 * travels back in the sender's Ack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"

#define REASON(x) LIANDONG__V1__REASON_CODE__##x
#define READ_ALL_ROLES (LD_ROLE_ADMIN | LD_ROLE_AUDITOR)

typedef struct answer {
    ldp_entry **v;
    size_t n, cap;
    size_t bytes; /* packed size of the reply so far */
} answer;

static void answer_clear(answer *a)
{
    for (size_t i = 0; i < a->n; i++)
        liandong__v1__ledger_task__free_unpacked(a->v[i], NULL);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* May sender read all of plan r? */
static int may_read(const ld_plugin_message *m, const ldp_record *r)
{
    return (m->sender_roles & READ_ALL_ROLES) ||
           ldp_listed(r->coordinators, r->n_coordinators, m->sender) ||
           ldp_listed(r->supervision, r->n_supervision, m->sender);
}

/* Bytes a LedgerTask adds to a LedgerReply: tag, length, message. */
static size_t entry_cost(const ldp_entry *e)
{
    return liandong__v1__ledger_task__get_packed_size(e) + 1 + 5;
}

enum { KEPT = 0, FULL = 1, FAILED = 2 };

/* Keep e (taken) in a if it passes the query's filters. */
static int consider(const ld_plugin_message *m, const Liandong__V1__LedgerQuery *q, int whole,
                    ldp_entry *e, answer *a)
{
    e->overdue = ldp_entry_overdue(e, m->now_ms);
    int keep = (whole || ldp_entry_role(e, m->sender)) &&
               (!q->dept || !*q->dept || ldp_entry_role(e, q->dept)) &&
               (!q->state || (int)e->state == (int)q->state) && (!q->overdue || e->overdue);
    if (!keep) {
        liandong__v1__ledger_task__free_unpacked(e, NULL);
        return KEPT;
    }
    a->bytes += entry_cost(e);
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        ldp_entry **nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) {
            liandong__v1__ledger_task__free_unpacked(e, NULL);
            return FAILED;
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = e;
    return a->bytes > LDP_REPLY_MAX ? FULL : KEPT;
}

typedef struct letter_scan {
    const ld_plugin_message *m;
    const Liandong__V1__LedgerQuery *q;
    int whole;
    answer *a;
    int st;
} letter_scan;

static int take_letter(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)key;
    (void)key_len;
    letter_scan *ls = arg;
    ldp_entry *e = liandong__v1__ledger_task__unpack(NULL, val_len, val);
    if (!e)
        return 0; /* not readable: not a letter this can show */
    if (!ldp_entry_is_letter(e)) {
        liandong__v1__ledger_task__free_unpacked(e, NULL);
        return 0;
    }
    ls->st = consider(ls->m, ls->q, ls->whole, e, ls->a);
    return ls->st != KEPT;
}

/* The tasks of plan r, then its 督办函 (ledger rows the escalation plugin
 * writes), that pass the query's filters, into a. */
static int scan_plan(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                     const Liandong__V1__LedgerQuery *q, const ldp_record *r, answer *a)
{
    int whole = may_read(m, r) && !q->mine;
    for (size_t i = 0; i < r->n_tasks; i++) {
        ldp_entry *e;
        int rc = ldp_entry_get(s, txn, r->id, r->tasks[i], &e);
        if (rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT)
            continue; /* logged by ldp_entry_get, or gone */
        if (rc != LD_OK)
            return FAILED;
        int st = consider(m, q, whole, e, a);
        if (st != KEPT)
            return st;
    }
    letter_scan ls = {m, q, whole, a, KEPT};
    if (s->host->ledger_scan(s->ctx, txn, r->id, take_letter, &ls) != LD_OK)
        return FAILED;
    return ls.st;
}

static int reply(ldp_state *s, const ld_plugin_message *m, answer *a, ld_plugin_verdict *v)
{
    Liandong__V1__LedgerReply lr = LIANDONG__V1__LEDGER_REPLY__INIT;
    lr.n_tasks = a->n;
    lr.tasks = a->v;
    lr.clock_ms = m->now_ms;
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    body.msg_case = LIANDONG__V1__BODY__MSG_LEDGER_REPLY;
    body.ledger_reply = &lr;
    size_t len = liandong__v1__body__get_packed_size(&body);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return LD_PLUGIN_ERROR;
    liandong__v1__body__pack(&body, buf);
    int rc = s->host->set_reply(v, buf, len);
    free(buf);
    return rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
}

static int check_query(ldp_state *s, const Liandong__V1__LedgerQuery *q, ld_plugin_verdict *v)
{
    char shown[80];
    if (q->plan && *q->plan && !ldp_id_valid(q->plan)) {
        ldp_quote(q->plan, 64, shown, sizeof shown);
        s->host->refuse(v, REASON(UNKNOWN_TASK), "there is no plan \"%s\" (not a plan id)", shown);
        return LD_PLUGIN_REFUSE;
    }
    if (q->dept && *q->dept && !ldp_id_valid(q->dept)) {
        ldp_quote(q->dept, 64, shown, sizeof shown);
        s->host->refuse(v, REASON(MALFORMED), "dept \"%s\" is not a principal id", shown);
        return LD_PLUGIN_REFUSE;
    }
    if (q->state > LIANDONG__V1__TASK_STATE__TASK_BLOCKED || (int)q->state < 0) {
        s->host->refuse(v, REASON(MALFORMED),
                        "state %d is not a task state (assigned, accepted, in_progress, done, "
                        "blocked, or unspecified for any)",
                        (int)q->state);
        return LD_PLUGIN_REFUSE;
    }
    return LD_PLUGIN_HANDLED;
}

int ldp_on_query(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__LedgerQuery *q, ld_plugin_verdict *v)
{
    const ld_host *h = s->host;
    int d = check_query(s, q, v);
    if (d != LD_PLUGIN_HANDLED)
        return d;
    ldp_record **recs = NULL;
    size_t n = 0;
    int rc;
    if (q->plan && *q->plan) {
        ldp_record *one;
        rc = ldp_record_get(s, txn, q->plan, &one);
        if (rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT) {
            h->refuse(v, REASON(UNKNOWN_TASK), "there is no plan %s", q->plan);
            return LD_PLUGIN_REFUSE;
        }
        if (rc != LD_OK)
            return LD_PLUGIN_ERROR;
        if (!q->mine && !may_read(m, one)) {
            char c[160], sv[160];
            ldp_join(one->coordinators, one->n_coordinators, c, sizeof c);
            ldp_join(one->supervision, one->n_supervision, sv, sizeof sv);
            h->refuse(v, REASON(UNAUTHORIZED),
                      "only the coordinators (%s) and supervision (%s) of plan %s, auditors and "
                      "admins may read its ledger; a department asks for its own tasks with mine",
                      c, sv, q->plan);
            liandong__plans__v1__plan_record__free_unpacked(one, NULL);
            return LD_PLUGIN_REFUSE;
        }
        if (!(recs = malloc(sizeof *recs))) {
            liandong__plans__v1__plan_record__free_unpacked(one, NULL);
            return LD_PLUGIN_ERROR;
        }
        recs[0] = one;
        n = 1;
    } else {
        rc = ldp_records_all(s, txn, &recs, &n);
        if (rc != LD_OK)
            return LD_PLUGIN_ERROR;
        int any = q->mine ||
                  (m->sender_roles & (READ_ALL_ROLES | LD_ROLE_COORDINATOR | LD_ROLE_SUPERVISION));
        for (size_t i = 0; !any && i < n; i++)
            any = may_read(m, recs[i]);
        if (!any) {
            h->refuse(v, REASON(UNAUTHORIZED),
                      "only a plan's coordinators and supervision, auditors and admins may read "
                      "the ledger; %s may ask for its own tasks with mine",
                      m->sender);
            ldp_records_free(recs, n);
            return LD_PLUGIN_REFUSE;
        }
    }
    answer a = {0};
    int st = KEPT;
    for (size_t i = 0; i < n && st == KEPT; i++)
        if (q->mine || may_read(m, recs[i]))
            st = scan_plan(s, txn, m, q, recs[i], &a);
    ldp_records_free(recs, n);
    if (st == FULL) {
        h->refuse(v, REASON(TOO_LARGE),
                  "the answer would exceed %u KiB (more than %zu tasks); narrow the query by "
                  "plan, dept, state or overdue",
                  LDP_REPLY_MAX / 1024, a.n - 1);
        d = LD_PLUGIN_REFUSE;
    } else {
        d = st == KEPT ? reply(s, m, &a, v) : LD_PLUGIN_ERROR;
    }
    answer_clear(&a);
    return d;
}
