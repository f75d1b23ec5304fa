/* tasks.c - TaskAccept and StatusReport: who may send them, what they
 * change in the ledger, who receives them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"

#define REASON(x) LIANDONG__V1__REASON_CODE__##x

typedef struct letter_find {
    const char *id;
    char about[LDP_ID_MAX + 1];
    int found;
} letter_find;

static int find_letter(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    letter_find *lf = arg;
    const char *k = key, *nul = memchr(k, 0, key_len);
    size_t il = strlen(lf->id);
    if (!nul || (size_t)(k + key_len - (nul + 1)) != il || memcmp(nul + 1, lf->id, il) != 0)
        return 0;
    ldp_entry *e = liandong__v1__ledger_task__unpack(NULL, val_len, val);
    if (e && ldp_entry_is_letter(e)) {
        snprintf(lf->about, sizeof lf->about, "%s", e->about ? e->about : "");
        lf->found = 1;
    }
    if (e)
        liandong__v1__ledger_task__free_unpacked(e, NULL);
    return lf->found;
}

/* Find the task a message names. LD_PLUGIN_HANDLED with *out (caller frees)
 * and plan_id filled, or the decision (refusal made) to return. */
static int find_task(ldp_state *s, ld_plugin_txn *txn, ld_plugin_verdict *v, const char *what,
                     const char *plan, const char *task, char *plan_id, ldp_entry **out)
{
    const ld_host *h = s->host;
    char shown[80];
    *out = NULL;
    if (!task || !*task) {
        h->refuse(v, REASON(MALFORMED), "a %s must name its task", what);
        return LD_PLUGIN_REFUSE;
    }
    ldp_quote(task, 64, shown, sizeof shown);
    if (!ldp_id_valid(task)) {
        h->refuse(v, REASON(UNKNOWN_TASK), "there is no task \"%s\" (not a task id)", shown);
        return LD_PLUGIN_REFUSE;
    }
    int rc = ldp_index_get(s, txn, task, plan_id);
    if (rc == LD_ERR_NOT_FOUND) {
        /* A 督办函's row (the escalation plugin's) is not a task: say so. */
        letter_find lf = {task, "", 0};
        if (h->ledger_scan(s->ctx, txn, NULL, find_letter, &lf) == LD_OK && lf.found)
            h->refuse(v, REASON(UNKNOWN_TASK),
                      "%s is a 督办函 about task %s, not a task: answer it with a LetterAnswer "
                      "(liandong letter answer %s)",
                      task, lf.about, task);
        else
            h->refuse(v, REASON(UNKNOWN_TASK), "there is no task %s in the ledger", task);
        return LD_PLUGIN_REFUSE;
    }
    if (rc != LD_OK)
        return LD_PLUGIN_ERROR;
    if (plan && *plan && strcmp(plan, plan_id) != 0) {
        char p[80];
        ldp_quote(plan, 64, p, sizeof p);
        h->refuse(v, REASON(UNKNOWN_TASK), "task %s is not in plan \"%s\"; it belongs to plan %s",
                  task, p, plan_id);
        return LD_PLUGIN_REFUSE;
    }
    rc = ldp_entry_get(s, txn, plan_id, task, out);
    if (rc == LD_ERR_NOT_FOUND) {
        LDP_LOG(s, LD_LOG_ERROR, "task %s is indexed under plan %s but not in the ledger", task,
                plan_id);
        h->refuse(v, REASON(UNKNOWN_TASK), "there is no task %s in the ledger", task);
        return LD_PLUGIN_REFUSE;
    }
    return rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
}

static void departments(const ldp_entry *t, char *out, size_t outlen)
{
    char lead[160], support[160];
    ldp_join(t->lead, t->n_lead, lead, sizeof lead);
    ldp_join(t->support, t->n_support, support, sizeof support);
    snprintf(out, outlen, "lead %s; support %s", lead, t->n_support ? support : "none");
}

static int add(ldp_state *s, ld_plugin_verdict *v, const char *who, const char *sender)
{
    if (!who || !*who || strcmp(who, sender) == 0)
        return LD_OK;
    int rc = s->host->add_recipient(v, who);
    if (rc == LD_ERR_NOT_FOUND) {
        LDP_LOG(s, LD_LOG_WARN, "%s is not in the roster and does not receive this message", who);
        return LD_OK;
    }
    return rc;
}

/* The coordinators, and for a support department's message the leads too. */
static int route(ldp_state *s, ld_plugin_verdict *v, const ldp_entry *t, const char *sender,
                 int role)
{
    int rc = LD_OK;
    for (size_t i = 0; i < t->n_coordinators && rc == LD_OK; i++)
        rc = add(s, v, t->coordinators[i], sender);
    for (size_t i = 0; role == LIANDONG__V1__TASK_ROLE__SUPPORT && i < t->n_lead && rc == LD_OK;
         i++)
        rc = add(s, v, t->lead[i], sender);
    return rc == LD_OK ? LD_PLUGIN_HANDLED : LD_PLUGIN_ERROR;
}

static int not_on_task(ldp_state *s, ld_plugin_verdict *v, const ldp_entry *t, const char *verb,
                       const char *sender)
{
    char who[360];
    departments(t, who, sizeof who);
    s->host->refuse(v, REASON(UNAUTHORIZED),
                    "only the lead or support departments of %s (%s) may %s it; %s is neither",
                    t->task, who, verb, sender);
    return LD_PLUGIN_REFUSE;
}

int ldp_on_accept(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__TaskAccept *a, ld_plugin_verdict *v)
{
    char plan_id[LDP_ID_MAX + 1];
    ldp_entry *t;
    int d = find_task(s, txn, v, "TaskAccept", a->plan, a->task, plan_id, &t);
    if (d != LD_PLUGIN_HANDLED)
        return d;
    int role = ldp_entry_role(t, m->sender);
    if (!role) {
        d = not_on_task(s, v, t, "accept", m->sender);
        goto out;
    }
    ldp_buf nb;
    int changed;
    int rc = ldp_entry_accept(t, m->sender, &nb, &changed);
    if (rc == LD_OK && changed)
        rc = s->host->ledger_put(s->ctx, txn, plan_id, t->task, nb.data, nb.len);
    ldp_buf_free(&nb);
    d = rc == LD_OK ? route(s, v, t, m->sender, role) : LD_PLUGIN_ERROR;
out:
    liandong__v1__ledger_task__free_unpacked(t, NULL);
    return d;
}

int ldp_on_report(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__StatusReport *r, ld_plugin_verdict *v)
{
    char plan_id[LDP_ID_MAX + 1];
    ldp_entry *t;
    int d = find_task(s, txn, v, "StatusReport", r->plan, r->task, plan_id, &t);
    if (d != LD_PLUGIN_HANDLED)
        return d;
    int role = ldp_entry_role(t, m->sender);
    if (!role) {
        d = not_on_task(s, v, t, "report on", m->sender);
        goto out;
    }
    ldp_buf nb;
    char why[200];
    int rc = ldp_entry_report(t, m->sender, r, m->now_ms, &nb, why, sizeof why);
    if (rc == LD_ERR_INVALID) {
        s->host->refuse(v, REASON(MALFORMED), "%s", why);
        d = LD_PLUGIN_REFUSE;
        goto out;
    }
    if (rc == LD_OK)
        rc = s->host->ledger_put(s->ctx, txn, plan_id, t->task, nb.data, nb.len);
    ldp_buf_free(&nb);
    d = rc == LD_OK ? route(s, v, t, m->sender, role) : LD_PLUGIN_ERROR;
out:
    liandong__v1__ledger_task__free_unpacked(t, NULL);
    return d;
}
