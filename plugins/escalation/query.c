/* query.c - EscalationQuery: the notices an asker may read, oldest first,
 * answered in the Ack (like LedgerQuery). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc_int.h"

#define REPLY_MAX (900u * 1024u)

typedef Liandong__V1__EscalationNotice notice;

typedef struct plan_acl {
    char plan[LDE_ID_MAX + 1];
    int whole; /* the asker reads the plan's notices */
} plan_acl;

typedef struct scan {
    lde_state *s;
    ld_plugin_txn *txn;
    const ld_plugin_message *m;
    const Liandong__V1__EscalationQuery *q;
    notice **v;
    size_t n, cap;
    plan_acl acl[16];
    size_t n_acl;
    int failed;
} scan;

static int whole_plan(scan *sc, const char *plan, const char *task)
{
    if (sc->m->sender_roles & (LD_ROLE_ADMIN | LD_ROLE_AUDITOR))
        return 1;
    for (size_t i = 0; i < sc->n_acl; i++)
        if (strcmp(sc->acl[i].plan, plan) == 0)
            return sc->acl[i].whole;
    int whole = 0;
    lde_ledger *e;
    if (lde_ledger_get(sc->s, sc->txn, plan, task, &e) == LD_OK) {
        whole = lde_listed(e->coordinators, e->n_coordinators, sc->m->sender) ||
                lde_listed(e->supervision, e->n_supervision, sc->m->sender);
        liandong__v1__ledger_task__free_unpacked(e, NULL);
    }
    plan_acl *a = &sc->acl[sc->n_acl < 16 ? sc->n_acl++ : 15];
    snprintf(a->plan, sizeof a->plan, "%s", plan);
    a->whole = whole;
    return whole;
}

static int mine(scan *sc, const notice *n)
{
    if (lde_listed(n->departments, n->n_departments, sc->m->sender))
        return 1;
    lde_ledger *e;
    int r = 0;
    if (lde_ledger_get(sc->s, sc->txn, n->plan, n->task, &e) == LD_OK) {
        r = lde_listed(e->lead, e->n_lead, sc->m->sender) ||
            lde_listed(e->support, e->n_support, sc->m->sender);
        liandong__v1__ledger_task__free_unpacked(e, NULL);
    }
    return r;
}

static int each(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)key;
    (void)key_len;
    scan *sc = arg;
    notice *n = liandong__v1__escalation_notice__unpack(NULL, val_len, val);
    if (!n)
        return 0;
    const Liandong__V1__EscalationQuery *q = sc->q;
    int keep =
        (!q->plan || !*q->plan || strcmp(q->plan, n->plan) == 0) && n->raised_at_ms >= q->since_ms;
    if (keep)
        keep = q->mine ? mine(sc, n) : (whole_plan(sc, n->plan, n->task) || mine(sc, n));
    if (!keep) {
        liandong__v1__escalation_notice__free_unpacked(n, NULL);
        return 0;
    }
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        notice **nv = realloc(sc->v, cap * sizeof *nv);
        if (!nv) {
            liandong__v1__escalation_notice__free_unpacked(n, NULL);
            sc->failed = 1;
            return 1;
        }
        sc->v = nv;
        sc->cap = cap;
    }
    sc->v[sc->n++] = n;
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const notice *x = *(notice *const *)a, *y = *(notice *const *)b;
    if (x->raised_at_ms != y->raised_at_ms)
        return x->raised_at_ms < y->raised_at_ms ? -1 : 1;
    return strcmp(x->notice_id, y->notice_id);
}

int lde_on_query(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__EscalationQuery *q, ld_plugin_verdict *v)
{
    scan sc = {.s = s, .txn = txn, .m = m, .q = q};
    int rc = s->host->db_scan(s->ctx, txn, s->db_notices, NULL, 0, each, &sc);
    int d = LD_PLUGIN_HANDLED;
    if (rc != LD_OK || sc.failed)
        d = LD_PLUGIN_ERROR;
    else {
        if (sc.n)
            qsort(sc.v, sc.n, sizeof *sc.v, by_time);
        /* Keep the newest that fit in an Ack. */
        size_t first = sc.n, bytes = 0;
        while (first > 0) {
            size_t c = liandong__v1__escalation_notice__get_packed_size(sc.v[first - 1]) + 6;
            if (bytes + c > REPLY_MAX)
                break;
            bytes += c;
            first--;
        }
        Liandong__V1__EscalationReply r = LIANDONG__V1__ESCALATION_REPLY__INIT;
        r.notices = sc.n ? sc.v + first : NULL;
        r.n_notices = sc.n - first;
        r.clock_ms = m->now_ms;
        Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
        b.msg_case = LIANDONG__V1__BODY__MSG_ESCALATION_REPLY;
        b.escalation_reply = &r;
        size_t len = liandong__v1__body__get_packed_size(&b);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            d = LD_PLUGIN_ERROR;
        else {
            liandong__v1__body__pack(&b, buf);
            if (s->host->set_reply(v, buf, len) != LD_OK)
                d = LD_PLUGIN_ERROR;
            free(buf);
        }
    }
    for (size_t i = 0; i < sc.n; i++)
        liandong__v1__escalation_notice__free_unpacked(sc.v[i], NULL);
    free(sc.v);
    return d;
}
