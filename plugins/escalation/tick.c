/* tick.c - task clocks against the ledger, the due index, and on_tick:
 * every event whose time has come is handled once, oldest first, with the
 * time it should have happened (catch-up after a clock jump or downtime). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc_int.h"

static const char *every_of(const lde_rules *r, const lde_ledger *e)
{
    if (r->report_every[0])
        return r->report_every;
    return e && e->report_every && *e->report_every ? e->report_every : "none";
}

static void lde_set_str(char **dst, const char *v)
{
    /* Strings of an unpacked protobuf-c message are freed with it by the
     * allocator; replace through the same allocator (malloc). */
    char *n = strdup(v ? v : "");
    if (!n)
        return;
    if (*dst && *dst != protobuf_c_empty_string)
        free(*dst);
    *dst = n;
}

int lde_reschedule(lde_state *s, ld_plugin_txn *txn, lde_tclock *t, const lde_rules *r)
{
    lde_ledger *e = NULL;
    int rc = lde_ledger_get(s, txn, t->plan, t->task, &e);
    if (rc != LD_OK && rc != LD_ERR_NOT_FOUND)
        return rc;
    lde_event ev;
    lde_clock_next(s->cal, r, t, every_of(r, e), &ev);
    int64_t new_ms = ev.kind ? ev.at_ms : 0;
    if (new_ms && new_ms < 1)
        new_ms = 1;
    rc = lde_index_move(s, txn, 't', t->plan, t->task, t->index_ms, new_ms);
    if (rc == LD_OK)
        t->index_ms = new_ms;
    uint32_t lv = lde_clock_level(r, t);
    char force[LDE_DATE_BYTES] = ""; /* base + extensions + paused days */
    int32_t fd;
    if (lde_clock_due(t, &fd) == LD_OK)
        lde_day_format(fd, force);
    if (rc == LD_OK && e &&
        (e->escalation_level != lv || (force[0] && strcmp(e->due ? e->due : "", force) != 0))) {
        liandong__v1__ledger_task__free_unpacked(e, NULL);
        e = NULL;
        rc = lde_ledger_update(s, txn, t->plan, t->task, &lv, force[0] ? force : NULL);
    }
    if (rc == LD_OK) {
        t->ledger_level = lv;
        rc = lde_clock_put(s, txn, t);
    }
    if (e)
        liandong__v1__ledger_task__free_unpacked(e, NULL);
    return rc;
}

static int lead_reported_since(const lde_ledger *e, int64_t since_ms)
{
    for (size_t i = 0; i < e->n_reports; i++)
        if (e->reports[i] && lde_listed(e->lead, e->n_lead, e->reports[i]->dept) &&
            e->reports[i]->at_ms >= since_ms)
            return 1;
    return 0;
}

static void rectified(lde_state *s, ld_plugin_txn *txn, const lde_tclock *t, const lde_ledger *e,
                      const char *why, int64_t now_ms)
{
    lde_names to = {0};
    lde_names_mask(&to, e, LDE_TO_SUPERVISION | LDE_TO_COORDINATORS | LDE_TO_LEAD);
    char due[LDE_DATE_BYTES] = "", text[400], suffix[64];
    int32_t d;
    if (lde_clock_due(t, &d) == LD_OK)
        lde_day_format(d, due);
    snprintf(text, sizeof text, "%s %s: rectified (%s); the ladder stops", t->plan, t->task, why);
    snprintf(suffix, sizeof suffix, "%s/%lld", due, (long long)now_ms);
    lde_notice_in n = {.plan = t->plan,
                       .task = t->task,
                       .reason = "rectified",
                       .due = due,
                       .raised_ms = now_ms,
                       .colour = "green",
                       .text = text,
                       .departments = e->lead,
                       .n_departments = e->n_lead,
                       .id_suffix = suffix};
    lde_notice_raise(s, txn, &n, to.v, to.n);
    lde_names_free(&to);
}

int lde_sync_task(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  const char *by, int64_t now_ms)
{
    lde_ledger *e;
    int rc = lde_ledger_get(s, txn, plan, task, &e);
    if (rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT)
        return LD_OK;
    if (rc != LD_OK)
        return rc;
    if (lde_is_letter(e)) { /* a 督办函 has its own clock (the letter index) */
        liandong__v1__ledger_task__free_unpacked(e, NULL);
        return LD_OK;
    }
    lde_rules r;
    int tracked;
    lde_rules_for(s, txn, plan, task, &r, &tracked);
    lde_tclock *t;
    rc = lde_clock_get(s, txn, plan, task, &t);
    if (rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT) {
        t = calloc(1, sizeof *t);
        if (!t) {
            liandong__v1__ledger_task__free_unpacked(e, NULL);
            return LD_ERR_NOMEM;
        }
        liandong__escalation__v1__task_clock__init(t);
        lde_set_str(&t->plan, plan);
        lde_set_str(&t->task, task);
        t->first_seen_ms = t->epoch_ms = now_ms;
        rc = LD_OK;
    } else if (rc != LD_OK) {
        liandong__v1__ledger_task__free_unpacked(e, NULL);
        return rc;
    }
    /* The base due date: from + limit of the rules, else the plan's (the
     * ledger's due is the date in force, which this plugin writes). */
    char base[LDE_DATE_BYTES] = "";
    if (r.limit.unit) {
        int32_t d;
        int unv = 0, prov = 0;
        lde_dur_apply(s->cal, &r, r.from, &r.limit, 1, &d, &unv, &prov);
        lde_day_format(d, base);
    } else if (e->plan_due && *e->plan_due)
        snprintf(base, sizeof base, "%s", e->plan_due);
    else if (e->due)
        snprintf(base, sizeof base, "%s", e->due);
    if (strcmp(t->base_due ? t->base_due : "", base) != 0) {
        int had = t->base_due && *t->base_due;
        lde_set_str(&t->base_due, base);
        if (had)
            lde_clock_restart(t, now_ms);
    }
    t->tracked = tracked;
    if (!t->period_end)
        t->period_end = lde_period_end(lde_day_of_ms(now_ms), every_of(&r, e));
    int was_escalated = lde_clock_level(&r, t) > 0;
    int done = e->state == LIANDONG__V1__TASK_STATE__TASK_DONE;
    int lead_report = by && *by && lde_listed(e->lead, e->n_lead, by);
    if (done && !t->done) {
        t->done = 1;
        if (was_escalated && tracked)
            rectified(s, txn, t, e, "reported done", now_ms);
    } else if (!done && t->done) {
        t->done = 0; /* reopened: starts again */
        lde_clock_restart(t, now_ms);
    } else if (lead_report && t->missed) {
        t->missed = 0;
        if (was_escalated && !t->level && tracked)
            rectified(s, txn, t, e, "the lead department reported", now_ms);
    }
    rc = lde_reschedule(s, txn, t, &r);
    liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
    liandong__v1__ledger_task__free_unpacked(e, NULL);
    return rc;
}

typedef struct keylist {
    char **v;
    size_t n, cap;
} keylist;

static int collect(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)val;
    (void)val_len;
    keylist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return 1;
        l->v = nv;
        l->cap = cap;
    }
    char *k = malloc(key_len + 1);
    if (!k)
        return 1;
    memcpy(k, key, key_len);
    k[key_len] = 0;
    l->v[l->n++] = k;
    return 0;
}

int lde_sync_plan(lde_state *s, ld_plugin_txn *txn, const char *plan, int64_t now_ms)
{
    keylist l = {0};
    int rc = s->host->ledger_scan(s->ctx, txn, plan ? plan : "", collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (rc == LD_OK)
            rc = lde_sync_task(s, txn, l.v[i], l.v[i] + strlen(l.v[i]) + 1, "", now_ms);
        free(l.v[i]);
    }
    free(l.v);
    return rc;
}

/* ---- firing ---- */

static int fire_task(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                     int64_t now_ms)
{
    lde_tclock *t;
    int rc = lde_clock_get(s, txn, plan, task, &t);
    if (rc != LD_OK)
        return rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT ? LD_OK : rc;
    t->index_ms = 0; /* its index entry was taken */
    lde_ledger *e = NULL;
    rc = lde_ledger_get(s, txn, plan, task, &e);
    if (rc != LD_OK) {
        /* The task left the ledger: forget its clock's schedule. */
        rc = rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT ? lde_clock_put(s, txn, t) : rc;
        liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
        return rc;
    }
    lde_rules r;
    int tracked;
    lde_rules_for(s, txn, plan, task, &r, &tracked);
    const char *every = every_of(&r, e);
    lde_event ev;
    lde_clock_next(s->cal, &r, t, every, &ev);
    if (ev.kind != LDE_EV_NONE && ev.at_ms <= now_ms) {
        char due[LDE_DATE_BYTES] = "", pend[LDE_DATE_BYTES] = "", suffix[96], text[512];
        int32_t d;
        if (lde_clock_due(t, &d) == LD_OK)
            lde_day_format(d, due);
        int reported = 0;
        if (ev.kind == LDE_EV_PERIOD) {
            lde_day_format(t->period_end, pend);
            int32_t first = lde_period_end(t->period_end, every);
            /* The period's first day: the day after the previous period's end. */
            int32_t prev = t->period_end;
            for (int32_t x = t->period_end - 1; x > t->period_end - 400; x--)
                if (lde_period_end(x, every) != first) {
                    prev = x;
                    break;
                }
            int64_t since = lde_day_start_ms(prev + 1);
            reported = lead_reported_since(e, since);
        }
        uint32_t level = lde_clock_fire(&r, t, &ev, every, reported);
        s->events++;
        if (ev.kind != LDE_EV_PERIOD || level) {
            const lde_level *L = level && level <= r.n_ladder ? &r.ladder[level - 1] : NULL;
            unsigned mask = LDE_TO_LEAD | LDE_TO_COORDINATORS;
            if (ev.kind == LDE_EV_REMIND)
                mask = LDE_TO_LEAD | LDE_TO_COORDINATORS;
            else if (L)
                mask = L->notify;
            lde_names to = {0};
            lde_names_mask(&to, e, mask);
            const char *reason = lde_ev_reason(ev.kind);
            switch (ev.kind) {
            case LDE_EV_SOON:
                snprintf(text, sizeof text, "%s「%s」 is due on %s", task, e->title ? e->title : "",
                         due);
                snprintf(suffix, sizeof suffix, "%s", due);
                break;
            case LDE_EV_LEVEL:
                snprintf(text, sizeof text, "%s「%s」 is overdue (due %s): level %u %s", task,
                         e->title ? e->title : "", due, level, L ? L->name : "");
                snprintf(suffix, sizeof suffix, "%s", due);
                break;
            case LDE_EV_REMIND:
                snprintf(text, sizeof text,
                         "%s「%s」 is still overdue (due %s): reminder %u (催办)", task,
                         e->title ? e->title : "", due, t->reminders);
                snprintf(suffix, sizeof suffix, "%s/%u", due, t->reminders);
                break;
            default:
                snprintf(text, sizeof text,
                         "%s「%s」: no report from the lead department in the period ending %s "
                         "(%u in a row): level %u %s",
                         task, e->title ? e->title : "", pend, t->missed, level, L ? L->name : "");
                snprintf(suffix, sizeof suffix, "%s", pend);
                break;
            }
            const char *colour = ev.kind == LDE_EV_SOON ? "yellow"
                                 : ev.kind == LDE_EV_PERIOD
                                     ? lde_clock_colour(s->cal, &r, t, ev.at_ms)
                                     : "red";
            lde_notice_in n = {.plan = plan,
                               .task = task,
                               .reason = reason,
                               .level = level,
                               .level_name = L ? L->name : "",
                               .due = due,
                               .raised_ms = ev.raised_ms,
                               .colour = colour,
                               .text = text,
                               .unverified = ev.unverified,
                               .period_end = pend,
                               .departments = e->lead,
                               .n_departments = e->n_lead,
                               .id_suffix = suffix};
            rc = lde_notice_raise(s, txn, &n, to.v, to.n);
            lde_names_free(&to);
        }
    }
    liandong__v1__ledger_task__free_unpacked(e, NULL);
    if (rc == LD_OK)
        rc = lde_reschedule(s, txn, t, &r);
    liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
    return rc;
}

static int fire_letter(lde_state *s, ld_plugin_txn *txn, const char *id, int64_t now_ms)
{
    lde_letter *l;
    int rc = lde_letter_get(s, txn, id, &l);
    if (rc != LD_OK)
        return rc == LD_ERR_NOT_FOUND || rc == LD_ERR_FORMAT ? LD_OK : rc;
    l->index_ms = 0;
    int32_t dl;
    if (!l->overdue_raised && !l->answered_at_ms && lde_day_parse(l->deadline, &dl) == LD_OK &&
        lde_day_end_ms(dl) <= now_ms) {
        lde_ledger *e = NULL;
        lde_rules r;
        int tracked;
        lde_rules_for(s, txn, l->plan, l->task, &r, &tracked);
        lde_tclock *t = NULL;
        uint32_t cur = 0;
        if (lde_clock_get(s, txn, l->plan, l->task, &t) == LD_OK) {
            cur = lde_clock_level(&r, t);
            liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
        }
        uint32_t level = cur + 1;
        if (r.n_ladder && level > r.n_ladder)
            level = (uint32_t)r.n_ladder;
        const lde_level *L = level && level <= r.n_ladder ? &r.ladder[level - 1] : NULL;
        lde_names to = {0}, open = {0};
        for (size_t i = 0; i < l->n_to; i++)
            if (!lde_listed(l->answered_by, l->n_answered_by, l->to[i])) {
                lde_names_add(&open, l->to[i]);
                lde_names_add(&to, l->to[i]);
            }
        lde_names_add(&to, l->issued_by);
        if (lde_ledger_get(s, txn, l->plan, l->task, &e) == LD_OK) {
            lde_names_mask(&to, e, L ? L->notify : LDE_TO_SUPERVISION);
            liandong__v1__ledger_task__free_unpacked(e, NULL);
        }
        char text[512];
        snprintf(text, sizeof text,
                 "督办函 %s about %s was not answered by its deadline %s: level %u %s", l->id,
                 l->task, l->deadline, level, L ? L->name : "");
        lde_notice_in n = {.plan = l->plan,
                           .task = l->task,
                           .reason = "letter_overdue",
                           .letter_id = l->id,
                           .level = level,
                           .level_name = L ? L->name : "",
                           .due = l->deadline,
                           .raised_ms = lde_day_end_ms(dl),
                           .colour = "red",
                           .text = text,
                           .departments = open.v,
                           .n_departments = open.n,
                           .id_suffix = l->id};
        rc = lde_notice_raise(s, txn, &n, to.v, to.n);
        if (rc == LD_OK)
            rc = lde_letter_row(s, txn, l, NULL, NULL, now_ms, level);
        lde_names_free(&to);
        lde_names_free(&open);
        l->overdue_raised = 1;
        s->events++;
    }
    if (rc == LD_OK)
        rc = lde_letter_put(s, txn, l);
    liandong__escalation__v1__letter__free_unpacked(l, NULL);
    return rc;
}

typedef struct first_key {
    uint8_t key[2 * LDE_ID_MAX + 16];
    size_t len;
    int found;
} first_key;

static int take_first(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    (void)val;
    (void)val_len;
    first_key *f = arg;
    if (key_len <= sizeof f->key && key_len > 9) {
        memcpy(f->key, key, key_len);
        f->len = key_len;
        f->found = 1;
    }
    return 1;
}

int lde_on_tick(void *state, ld_plugin_txn *txn, int64_t now_ms)
{
    lde_state *s = state;
    uint32_t max = s->cfg.catchup_max ? s->cfg.catchup_max : 100000;
    for (uint32_t i = 0; i < max; i++) {
        first_key f = {.found = 0};
        int rc = s->host->db_scan(s->ctx, txn, s->db_index, NULL, 0, take_first, &f);
        if (rc != LD_OK)
            return rc;
        if (!f.found)
            return LD_OK;
        uint64_t at = 0;
        for (int b = 0; b < 8; b++)
            at = (at << 8) | f.key[b];
        if ((int64_t)at > now_ms)
            return LD_OK; /* nothing due: one read */
        if ((rc = s->host->db_del(s->ctx, txn, s->db_index, f.key, f.len)) != LD_OK)
            return rc;
        char id[2 * LDE_ID_MAX + 8];
        size_t n = f.len - 9;
        memcpy(id, f.key + 9, n);
        id[n] = 0;
        if (f.key[8] == 't') {
            if (memchr(id, 0, n) == NULL)
                continue;
            rc = fire_task(s, txn, id, id + strlen(id) + 1, now_ms);
        } else if (f.key[8] == 'l')
            rc = fire_letter(s, txn, id, now_ms);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}
