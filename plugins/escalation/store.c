/* store.c - the plugin's databases, the ledger, notices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc_int.h"

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t fnv64(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* "plan\0task" into k; returns its length. */
static size_t pair_key(char *k, size_t klen, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 1 > klen)
        return 0;
    memcpy(k, a, la);
    k[la] = 0;
    memcpy(k + la + 1, b, lb);
    return la + 1 + lb;
}

int lde_listed(char *const *v, size_t n, const char *who)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp(v[i], who) == 0)
            return 1;
    return 0;
}

int lde_names_add(lde_names *a, const char *id)
{
    if (!id || !*id || lde_listed(a->v, a->n, id))
        return LD_OK;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        char **nv = realloc(a->v, cap * sizeof *nv);
        if (!nv)
            return LD_ERR_NOMEM;
        a->v = nv;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup(id)))
        return LD_ERR_NOMEM;
    a->n++;
    return LD_OK;
}

void lde_names_mask(lde_names *a, const lde_ledger *e, unsigned mask)
{
    if (mask & LDE_TO_SUPERVISION)
        for (size_t i = 0; i < e->n_supervision; i++)
            lde_names_add(a, e->supervision[i]);
    if (mask & LDE_TO_LEAD)
        for (size_t i = 0; i < e->n_lead; i++)
            lde_names_add(a, e->lead[i]);
    if (mask & LDE_TO_COORDINATORS)
        for (size_t i = 0; i < e->n_coordinators; i++)
            lde_names_add(a, e->coordinators[i]);
    if (mask & LDE_TO_SUPPORT)
        for (size_t i = 0; i < e->n_support; i++)
            lde_names_add(a, e->support[i]);
}

void lde_names_free(lde_names *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* ---- rules ---- */

int lde_rules_store(lde_state *s, ld_plugin_txn *txn, const char *plan, const void *content,
                    size_t len)
{
    uint8_t *buf = malloc(len + 8);
    if (!buf)
        return LD_ERR_NOMEM;
    be64(buf, fnv64(content, len));
    memcpy(buf + 8, content, len);
    int rc = s->host->db_put(s->ctx, txn, s->db_rules, plan, strlen(plan), buf, len + 8);
    free(buf);
    return rc;
}

static const lde_plan_rules *plan_rules(lde_state *s, ld_plugin_txn *txn, const char *plan)
{
    const void *val;
    size_t len;
    if (s->host->db_get(s->ctx, txn, s->db_rules, plan, strlen(plan), &val, &len) != LD_OK ||
        len < 8)
        return NULL;
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = (h << 8) | ((const uint8_t *)val)[i];
    for (size_t i = 0; i < LDE_CACHE; i++)
        if (s->cache[i].pr && s->cache[i].hash == h && strcmp(s->cache[i].plan, plan) == 0)
            return s->cache[i].pr;
    lde_plan_rules *pr;
    char err[512];
    if (lde_plan_rules_parse(plan, (const uint8_t *)val + 8, len - 8, &pr, err, sizeof err) !=
        LD_OK) {
        LDE_LOG(s, LD_LOG_WARN, "stored rules of plan %s do not parse: %s", plan, err);
        return NULL;
    }
    lde_cached *c = &s->cache[s->cache_next++ % LDE_CACHE];
    lde_plan_rules_destroy(&c->pr);
    snprintf(c->plan, sizeof c->plan, "%s", plan);
    c->hash = h;
    c->pr = pr;
    return pr;
}

int lde_rules_for(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  lde_rules *out, int *tracked)
{
    *out = s->cfg.deflt;
    *tracked = s->cfg.has_default;
    const lde_plan_rules *pr = plan_rules(s, txn, plan);
    if (pr && pr->has_section) {
        lde_rules_merge(out, &pr->r);
        *tracked = 1;
    }
    const lde_rules *tr = pr ? lde_plan_rules_task(pr, task) : NULL;
    if (tr) {
        lde_rules_merge(out, tr);
        *tracked = 1;
    }
    return LD_OK;
}

/* ---- the ledger ---- */

int lde_ledger_get(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                   lde_ledger **out)
{
    const void *val;
    size_t len;
    int rc = s->host->ledger_get(s->ctx, txn, plan, task, &val, &len);
    if (rc != LD_OK)
        return rc;
    *out = liandong__v1__ledger_task__unpack(NULL, len, val);
    if (!*out) {
        LDE_LOG(s, LD_LOG_WARN, "ledger entry %s/%s does not unpack", plan, task);
        return LD_ERR_FORMAT;
    }
    return LD_OK;
}

int lde_ledger_update(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                      const uint32_t *level, const char *due)
{
    lde_ledger *e;
    int rc = lde_ledger_get(s, txn, plan, task, &e);
    if (rc != LD_OK)
        return rc == LD_ERR_NOT_FOUND ? LD_OK : rc;
    if ((level && e->escalation_level != *level) ||
        (due && (!e->due || strcmp(e->due, due) != 0))) {
        char *orig_due = e->due;
        if (level)
            e->escalation_level = *level;
        if (due)
            e->due = (char *)due; /* borrowed for packing only */
        size_t n = liandong__v1__ledger_task__get_packed_size(e);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            rc = LD_ERR_NOMEM;
        } else {
            liandong__v1__ledger_task__pack(e, buf);
            rc = s->host->ledger_put(s->ctx, txn, plan, task, buf, n);
            free(buf);
        }
        e->due = orig_due;
    }
    liandong__v1__ledger_task__free_unpacked(e, NULL);
    return rc;
}

int lde_is_letter(const lde_ledger *e)
{
    return e && e->kind && strcmp(e->kind, "letter") == 0;
}

int lde_letter_row(lde_state *s, ld_plugin_txn *txn, const lde_letter *l, const char *by,
                   const char *text, int64_t now_ms, uint32_t level)
{
    lde_ledger *old = NULL, *task = NULL;
    int rc = lde_ledger_get(s, txn, l->plan, l->id, &old);
    if (rc != LD_OK && rc != LD_ERR_NOT_FOUND && rc != LD_ERR_FORMAT)
        return rc;
    if (rc != LD_OK)
        old = NULL;
    if (!old && lde_ledger_get(s, txn, l->plan, l->task, &task) != LD_OK)
        task = NULL; /* the row goes without the plan's names */
    const lde_ledger *src = old ? old : task;
    Liandong__V1__LedgerTask r = LIANDONG__V1__LEDGER_TASK__INIT;
    size_t tl = strlen(l->text) + sizeof "督办函：";
    char *title = malloc(tl);
    Liandong__V1__DeptReport **reps = malloc(((old ? old->n_reports : 0) + 1) * sizeof *reps);
    if (!title || !reps) {
        rc = LD_ERR_NOMEM;
        goto out;
    }
    snprintf(title, tl, "督办函：%s", l->text);
    r.plan = l->plan;
    r.task = l->id;
    r.title = title;
    r.lead = l->to;
    r.n_lead = l->n_to;
    r.due = l->deadline;
    r.kind = "letter";
    r.about = l->task;
    r.issued_by = l->issued_by;
    r.accepted_by = l->answered_by;
    r.n_accepted_by = l->n_answered_by;
    if (src) {
        r.doc_number = src->doc_number;
        r.plan_title = src->plan_title;
        r.coordinators = src->coordinators;
        r.n_coordinators = src->n_coordinators;
        r.supervision = src->supervision;
        r.n_supervision = src->n_supervision;
    }
    r.escalation_level = level ? level : old ? old->escalation_level : 0;
    r.last_report_at_ms = old ? old->last_report_at_ms : 0;
    /* Each department's latest answer. */
    Liandong__V1__DeptReport nr = LIANDONG__V1__DEPT_REPORT__INIT;
    for (size_t i = 0; old && i < old->n_reports; i++)
        if (!by || strcmp(old->reports[i]->dept, by) != 0)
            reps[r.n_reports++] = old->reports[i];
    if (by) {
        nr.dept = (char *)by;
        nr.at_ms = now_ms;
        nr.state = LIANDONG__V1__TASK_STATE__TASK_DONE;
        nr.progress = 100;
        nr.note = (char *)(text ? text : "");
        reps[r.n_reports++] = &nr;
        r.last_report_at_ms = now_ms;
    }
    r.reports = reps;
    size_t open = 0;
    for (size_t i = 0; i < l->n_to; i++)
        open += !lde_listed(l->answered_by, l->n_answered_by, l->to[i]);
    r.state = !open              ? LIANDONG__V1__TASK_STATE__TASK_DONE
              : l->n_answered_by ? LIANDONG__V1__TASK_STATE__TASK_IN_PROGRESS
                                 : LIANDONG__V1__TASK_STATE__TASK_ASSIGNED;
    r.progress = l->n_to ? (uint32_t)((l->n_to - open) * 100 / l->n_to) : 0;
    size_t n = liandong__v1__ledger_task__get_packed_size(&r);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        rc = LD_ERR_NOMEM;
        goto out;
    }
    liandong__v1__ledger_task__pack(&r, buf);
    rc = s->host->ledger_put(s->ctx, txn, l->plan, l->id, buf, n);
    free(buf);
out:
    free(title);
    free(reps);
    if (old)
        liandong__v1__ledger_task__free_unpacked(old, NULL);
    if (task)
        liandong__v1__ledger_task__free_unpacked(task, NULL);
    return rc;
}

/* ---- clocks and letters ---- */

int lde_clock_get(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  lde_tclock **out)
{
    char k[2 * LDE_ID_MAX + 2];
    size_t kl = pair_key(k, sizeof k, plan, task);
    const void *val;
    size_t len;
    int rc = kl ? s->host->db_get(s->ctx, txn, s->db_clocks, k, kl, &val, &len) : LD_ERR_NOT_FOUND;
    if (rc != LD_OK)
        return rc;
    *out = liandong__escalation__v1__task_clock__unpack(NULL, len, val);
    return *out ? LD_OK : LD_ERR_FORMAT;
}

int lde_clock_put(lde_state *s, ld_plugin_txn *txn, const lde_tclock *t)
{
    char k[2 * LDE_ID_MAX + 2];
    size_t kl = pair_key(k, sizeof k, t->plan, t->task);
    if (!kl)
        return LD_ERR_INVALID;
    size_t n = liandong__escalation__v1__task_clock__get_packed_size(t);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return LD_ERR_NOMEM;
    liandong__escalation__v1__task_clock__pack(t, buf);
    int rc = s->host->db_put(s->ctx, txn, s->db_clocks, k, kl, buf, n);
    if (rc == LD_OK)
        rc = s->host->db_put(s->ctx, txn, s->db_tasks, t->task, strlen(t->task), t->plan,
                             strlen(t->plan));
    free(buf);
    return rc;
}

int lde_task_plan(lde_state *s, ld_plugin_txn *txn, const char *task, char plan[LDE_ID_MAX + 1])
{
    const void *val;
    size_t len;
    int rc = s->host->db_get(s->ctx, txn, s->db_tasks, task, strlen(task), &val, &len);
    if (rc != LD_OK)
        return rc;
    if (len > LDE_ID_MAX)
        return LD_ERR_FORMAT;
    memcpy(plan, val, len);
    plan[len] = 0;
    return LD_OK;
}

int lde_letter_get(lde_state *s, ld_plugin_txn *txn, const char *id, lde_letter **out)
{
    const void *val;
    size_t len;
    int rc = s->host->db_get(s->ctx, txn, s->db_letters, id, strlen(id), &val, &len);
    if (rc != LD_OK)
        return rc;
    *out = liandong__escalation__v1__letter__unpack(NULL, len, val);
    return *out ? LD_OK : LD_ERR_FORMAT;
}

int lde_letter_put(lde_state *s, ld_plugin_txn *txn, const lde_letter *l)
{
    size_t n = liandong__escalation__v1__letter__get_packed_size(l);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return LD_ERR_NOMEM;
    liandong__escalation__v1__letter__pack(l, buf);
    int rc = s->host->db_put(s->ctx, txn, s->db_letters, l->id, strlen(l->id), buf, n);
    free(buf);
    return rc;
}

/* ---- the due index ---- */

static size_t index_key(uint8_t *k, size_t klen, int64_t ms, char kind, const char *a,
                        const char *b)
{
    be64(k, (uint64_t)ms);
    k[8] = (uint8_t)kind;
    size_t n = b ? pair_key((char *)k + 9, klen - 9, a, b) : strlen(a);
    if (!b) {
        if (n + 9 > klen)
            return 0;
        memcpy(k + 9, a, n);
    }
    return n ? n + 9 : 0;
}

int lde_index_move(lde_state *s, ld_plugin_txn *txn, char kind, const char *a, const char *b,
                   int64_t old_ms, int64_t new_ms)
{
    if (old_ms == new_ms)
        return LD_OK;
    uint8_t k[2 * LDE_ID_MAX + 16];
    size_t kl;
    int rc = LD_OK;
    if (old_ms && (kl = index_key(k, sizeof k, old_ms, kind, a, b)) != 0) {
        rc = s->host->db_del(s->ctx, txn, s->db_index, k, kl);
        if (rc == LD_ERR_NOT_FOUND)
            rc = LD_OK;
    }
    if (rc == LD_OK && new_ms && (kl = index_key(k, sizeof k, new_ms, kind, a, b)) != 0)
        rc = s->host->db_put(s->ctx, txn, s->db_index, k, kl, "", 0);
    return rc;
}

/* ---- notices ---- */

int lde_notice_raise(lde_state *s, ld_plugin_txn *txn, const lde_notice_in *in, char *const *to,
                     size_t n_to)
{
    char id[512];
    snprintf(id, sizeof id, "%s/%s/%s/%u/%s", in->plan, in->task, in->reason, in->level,
             in->id_suffix ? in->id_suffix : "");
    const void *val;
    size_t len;
    if (s->host->db_get(s->ctx, txn, s->db_notices, id, strlen(id), &val, &len) == LD_OK)
        return LD_OK; /* raised before: never twice */
    Liandong__V1__EscalationNotice n = LIANDONG__V1__ESCALATION_NOTICE__INIT;
    n.notice_id = id;
    n.plan = (char *)in->plan;
    n.task = (char *)in->task;
    n.level = in->level;
    n.level_name = (char *)(in->level_name ? in->level_name : "");
    n.reason = (char *)in->reason;
    n.departments = (char **)in->departments;
    n.n_departments = in->n_departments;
    n.due = (char *)(in->due ? in->due : "");
    n.raised_at_ms = in->raised_ms;
    n.text = (char *)(in->text ? in->text : "");
    n.colour = (char *)(in->colour ? in->colour : "");
    n.letter_id = (char *)(in->letter_id ? in->letter_id : "");
    n.calendar_unverified = in->unverified != 0;
    n.period_end = (char *)(in->period_end ? in->period_end : "");
    size_t nl = liandong__v1__escalation_notice__get_packed_size(&n);
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_ESCALATION_NOTICE;
    b.escalation_notice = &n;
    size_t bl = liandong__v1__body__get_packed_size(&b);
    uint8_t *nb = malloc(nl ? nl : 1), *bb = malloc(bl);
    int rc = LD_ERR_NOMEM;
    if (nb && bb) {
        liandong__v1__escalation_notice__pack(&n, nb);
        liandong__v1__body__pack(&b, bb);
        rc = s->host->db_put(s->ctx, txn, s->db_notices, id, strlen(id), nb, nl);
        for (size_t i = 0; rc == LD_OK && i < n_to; i++) {
            int e = s->host->emit(s->ctx, txn, to[i], bb, bl);
            if (e == LD_ERR_NOT_FOUND)
                LDE_LOG(s, LD_LOG_WARN, "notice %s: %s is not in the roster; not sent to it", id,
                        to[i]);
            else
                rc = e;
        }
    }
    free(nb);
    free(bb);
    return rc;
}
