/* clock.c - see clock.h. */
#include "clock.h"

#include <string.h>

#include "liandong/error.h"

int lde_clock_due(const lde_tclock *t, int32_t *due)
{
    int32_t base;
    if (!t->base_due || lde_day_parse(t->base_due, &base) != LD_OK)
        return LD_ERR_INVALID;
    *due = base + t->ext_days + t->pause_days;
    return LD_OK;
}

int32_t lde_period_end(int32_t day, const char *every)
{
    int y, m, d;
    lde_day_civil(day, &y, &m, &d);
    int last; /* last month of the period */
    if (!every || !*every || strcmp(every, "none") == 0)
        return 0;
    if (strcmp(every, "month") == 0)
        last = m;
    else if (strcmp(every, "quarter") == 0)
        last = ((m - 1) / 3 + 1) * 3;
    else if (strcmp(every, "half-year") == 0)
        last = m <= 6 ? 6 : 12;
    else if (strcmp(every, "year") == 0)
        last = 12;
    else
        return 0;
    /* The day before the first of the next month. */
    return last == 12 ? lde_day_from_civil(y + 1, 1, 1) - 1
                      : lde_day_from_civil(y, last + 1, 1) - 1;
}

static lde_dur times(const lde_dur *d, uint32_t k)
{
    lde_dur o = *d;
    o.n = d->n * k;
    return o;
}

static void consider(lde_event *best, int kind, int64_t at, uint32_t level, int unv, int prov)
{
    if (best->kind != LDE_EV_NONE && best->at_ms <= at)
        return; /* earlier wins; on a tie the kind considered first */
    best->kind = kind;
    best->at_ms = at;
    best->level = level;
    best->unverified = unv;
    best->provisional = prov;
}

void lde_clock_next(const lde_calendar *c, const lde_rules *r, const lde_tclock *t,
                    const char *every, lde_event *ev)
{
    memset(ev, 0, sizeof *ev);
    int32_t due;
    if (!t->tracked || t->done || t->paused || lde_clock_due(t, &due) != LD_OK)
        return;
    int unv, prov;
    int32_t day;
    if (!t->soon_fired && t->level == 0 && r->warn_before.unit) {
        unv = prov = 0;
        lde_dur_back(c, r, due, &r->warn_before, &day, &unv, &prov);
        consider(ev, LDE_EV_SOON, lde_day_start_ms(day), 0, unv, prov);
    }
    int64_t level_at = 0;
    if (t->level < r->n_ladder) {
        const lde_level *l = &r->ladder[t->level];
        unv = prov = 0;
        lde_dur_apply(c, r, due, &l->after, 1, &day, &unv, &prov);
        level_at = lde_day_end_ms(day);
        consider(ev, LDE_EV_LEVEL, level_at, l->level, unv, prov);
    }
    if (t->level >= 1 && r->remind_every.unit && r->remind_every.n) {
        lde_dur k = times(&r->remind_every, t->reminders + 1);
        unv = prov = 0;
        lde_dur_apply(c, r, due, &k, 1, &day, &unv, &prov);
        int64_t at = lde_day_end_ms(day);
        if (ev->kind == LDE_EV_LEVEL && at == level_at)
            ev->absorb = 1;
        else
            consider(ev, LDE_EV_REMIND, at, t->level, unv, prov);
    }
    if (t->period_end && lde_period_end(t->period_end, every))
        consider(ev, LDE_EV_PERIOD, lde_day_end_ms(t->period_end), 0, 0, 0);
    if (ev->kind != LDE_EV_NONE)
        ev->raised_ms = ev->at_ms > t->epoch_ms ? ev->at_ms : t->epoch_ms;
}

uint32_t lde_clock_fire(const lde_rules *r, lde_tclock *t, const lde_event *ev, const char *every,
                        int reported)
{
    switch (ev->kind) {
    case LDE_EV_SOON: t->soon_fired = 1; return 0;
    case LDE_EV_LEVEL:
        t->level = ev->level;
        t->soon_fired = 1;
        if (ev->absorb)
            t->reminders++;
        return ev->level;
    case LDE_EV_REMIND: t->reminders++; return t->level;
    case LDE_EV_PERIOD: {
        uint32_t lv = 0;
        if (reported)
            t->missed = 0;
        else {
            t->missed++;
            lv = t->missed < r->n_ladder ? t->missed : (uint32_t)r->n_ladder;
            if (!lv)
                lv = 1;
        }
        t->period_end = lde_period_end(t->period_end + 1, every);
        return lv;
    }
    default: return 0;
    }
}

void lde_clock_restart(lde_tclock *t, int64_t now_ms)
{
    t->soon_fired = 0;
    t->level = 0;
    t->reminders = 0;
    t->epoch_ms = now_ms;
}

const char *lde_clock_colour(const lde_calendar *c, const lde_rules *r, const lde_tclock *t,
                             int64_t now_ms)
{
    int32_t due;
    if (t->done || lde_clock_due(t, &due) != LD_OK)
        return "green";
    if (now_ms >= lde_day_end_ms(due))
        return "red";
    if (r->warn_before.unit) {
        int32_t w;
        int unv = 0, prov = 0;
        lde_dur_back(c, r, due, &r->warn_before, &w, &unv, &prov);
        if (now_ms >= lde_day_start_ms(w))
            return "yellow";
    }
    return "green";
}

uint32_t lde_clock_level(const lde_rules *r, const lde_tclock *t)
{
    if (t->done)
        return 0;
    uint32_t m = t->missed < r->n_ladder ? t->missed : (uint32_t)r->n_ladder;
    return t->level > m ? t->level : m;
}

const char *lde_ev_reason(int kind)
{
    switch (kind) {
    case LDE_EV_SOON: return "due_soon";
    case LDE_EV_LEVEL: return "overdue";
    case LDE_EV_REMIND: return "reminder";
    case LDE_EV_PERIOD: return "no_report";
    default: return "";
    }
}
