/* clock.h - a task's clock: its due date in force, its colour, and the next
 * event it raises (due_soon, a ladder level, a reminder, a reporting-period
 * check), computed from the stored TaskClock, the rules and the calendar.
 *
 * Pure: the plugin (tick.c) stores the clock, indexes it by the time of its
 * next event, and calls lde_clock_fire when that time has come. Unit tests
 * drive it directly. */
#ifndef LDE_CLOCK_H
#define LDE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "escalation_db.pb-c.h"
#include "rules.h"

typedef Liandong__Escalation__V1__TaskClock lde_tclock;
typedef Liandong__Escalation__V1__Letter lde_letter;

enum lde_ev_kind { LDE_EV_NONE = 0, LDE_EV_SOON, LDE_EV_LEVEL, LDE_EV_REMIND, LDE_EV_PERIOD };

typedef struct lde_event {
    int kind;          /* enum lde_ev_kind */
    int64_t at_ms;     /* when it should happen (business clock) */
    int64_t raised_ms; /* max(at_ms, the clock's epoch) */
    uint32_t level;    /* ladder level (0 for due_soon) */
    int absorb;        /* a reminder falls on the same day as this level: counted, not sent */
    int unverified;    /* the calendar had no data for a year involved */
    int provisional;   /* the answer uses provisional calendar data */
} lde_event;

/* The due date in force (day number): base_due + ext_days + pause_days.
 * LD_OK or LD_ERR_INVALID (no base due date). */
int lde_clock_due(const lde_tclock *t, int32_t *due);

/* The last day of the reporting period holding day (month, quarter,
 * half-year, year); 0 for none or an unknown cadence. */
int32_t lde_period_end(int32_t day, const char *every);

/* The next event of t under r, or kind LDE_EV_NONE (done, paused, untracked,
 * nothing left). report_every: the cadence in force ("" or "none": no
 * period checks). */
void lde_clock_next(const lde_calendar *c, const lde_rules *r, const lde_tclock *t,
                    const char *report_every, lde_event *ev);

/* Record that ev happened. For LDE_EV_PERIOD, reported says whether a lead
 * reported within the period; returns the level to raise no_report at (0:
 * nothing to raise). For the others returns ev->level (reminders: the
 * current level). */
uint32_t lde_clock_fire(const lde_rules *r, lde_tclock *t, const lde_event *ev,
                        const char *report_every, int reported);

/* Start over on a new due date (an approved extension, a resume, a changed
 * plan): no level, no reminders, due_soon not raised, epoch now. */
void lde_clock_restart(lde_tclock *t, int64_t now_ms);

/* "green", "yellow" or "red" for t at now. */
const char *lde_clock_colour(const lde_calendar *c, const lde_rules *r, const lde_tclock *t,
                             int64_t now_ms);

/* The escalation level to show in the ledger. */
uint32_t lde_clock_level(const lde_rules *r, const lde_tclock *t);

/* "due_soon", "overdue", "reminder", "no_report". */
const char *lde_ev_reason(int kind);

#endif
