/* rules.h - escalation rules: durations, the ladder, and the `escalation:`
 * section of plan files and of the plugin config (docs/escalation.md).
 *
 * Pure functions over memory; no host calls. */
#ifndef LDE_RULES_H
#define LDE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"

#define LDE_ID_MAX 64
#define LDE_LEVELS_MAX 8
#define LDE_LEVEL_NAME_BYTES 64

enum lde_unit { LDE_UNSET = 0, LDE_DAYS = 1, LDE_WORKING_DAYS = 2, LDE_MONTHS = 3, LDE_YEARS = 4 };

/* A duration as written in rules: "N days", "N working days", "N months",
 * "N years" (singular forms too). */
typedef struct lde_dur {
    int unit; /* enum lde_unit; LDE_UNSET: not given */
    uint32_t n;
} lde_dur;

/* Who a notice goes to (bits). */
#define LDE_TO_SUPERVISION 1u  /* the plan's supervision */
#define LDE_TO_LEAD 2u         /* the task's lead departments */
#define LDE_TO_COORDINATORS 4u /* the plan's coordinators */
#define LDE_TO_SUPPORT 8u      /* the task's support departments */

typedef struct lde_level {
    uint32_t level; /* 1, 2, ... in order */
    char name[LDE_LEVEL_NAME_BYTES];
    lde_dur after; /* after the due date */
    unsigned notify;
} lde_level;

/* One rule set. A field with its has_ flag 0 (or an unset duration) was not
 * given and is inherited (plan from config default, task from plan). */
typedef struct lde_rules {
    int has_short_limits;
    uint32_t short_limits; /* a limit of <= this many "days" counts working days; 0: off */
    lde_dur warn_before;
    lde_dur remind_every;
    char report_every[16]; /* "" inherit (the ledger's), none|month|quarter|half-year|year */
    size_t n_ladder;       /* 0: inherit */
    lde_level ladder[LDE_LEVELS_MAX];
    lde_dur ext_max;
    int has_ext_count;
    uint32_t ext_max_count;
    /* Per task only: the due date is from + limit (art. 43 counting). */
    int32_t from; /* day number; valid when limit is set */
    lde_dur limit;
} lde_rules;

typedef struct lde_task_rules {
    char task[LDE_ID_MAX + 1];
    lde_rules r;
} lde_task_rules;

/* The rules of a plan, from its file. */
typedef struct lde_plan_rules {
    char plan[LDE_ID_MAX + 1];
    int has_section; /* the file has an escalation: section */
    lde_rules r;
    lde_task_rules *tasks; /* tasks with an escalation: override */
    size_t n_tasks;
} lde_plan_rules;

/* Parse "N days" and friends. LD_OK or LD_ERR_FORMAT. */
int lde_dur_parse(const char *s, lde_dur *out);
/* "15 working days" into out. */
void lde_dur_format(const lde_dur *d, char *out, size_t outlen);

/* The default rules: no short limits, warn 10 working days, remind every 5
 * working days, ladder 督导 (0 days) / 约谈 (15 working days) / 问责 (30
 * days) as in the issue, extension max 60 days, 1 time. */
void lde_rules_default(lde_rules *r);
/* Fields of over that are given replace those of base, into base. */
void lde_rules_merge(lde_rules *base, const lde_rules *over);

/* Apply d to day under the rules' counting (short_limits) and the calendar:
 * working days count working days; natural days, months and years end on a
 * working day (moved forward; Civil Code art. 203) when roll is non-zero.
 * When the calendar has no data for a year on the way, the answer is
 * computed as if that year had no holidays (weekends only) and
 * *unverified is set to 1. *provisional as in calendar.h. Always LD_OK
 * unless d is unset (LD_ERR_INVALID). */
int lde_dur_apply(const lde_calendar *c, const lde_rules *r, int32_t day, const lde_dur *d,
                  int roll, int32_t *out, int *unverified, int *provisional);
/* The day warn_before ahead of due (counting back, the same way). */
int lde_dur_back(const lde_calendar *c, const lde_rules *r, int32_t due, const lde_dur *d,
                 int32_t *out, int *unverified, int *provisional);

/* Parse the escalation parts of a plan file (len bytes of YAML): plan.id,
 * the top-level escalation: section, and tasks[].escalation. A file without
 * an escalation: section gives has_section 0 (and still the plan id).
 * LD_OK and *out (caller owns, lde_plan_rules_destroy), LD_ERR_FORMAT with
 * "file:line: reason" in err, LD_ERR_NOMEM. */
int lde_plan_rules_parse(const char *file, const void *buf, size_t len, lde_plan_rules **out,
                         char *err, size_t errlen);
void lde_plan_rules_destroy(lde_plan_rules **p);
/* The override of task in p, or NULL. */
const lde_rules *lde_plan_rules_task(const lde_plan_rules *p, const char *task);

/* The plugin config (the `config:` block of the broker config). */
typedef struct lde_config {
    char *calendar_file;   /* NULL: the built-in calendar */
    char **calendar_files; /* extra files merged after it */
    size_t n_calendar_files;
    char **plans; /* plan files whose escalation sections apply from the start */
    size_t n_plans;
    int has_default;      /* a default: section: plans without a section are tracked with it */
    lde_rules deflt;      /* the default section merged over lde_rules_default */
    uint32_t catchup_max; /* events handled per tick at most (0: 100000) */
} lde_config;

int lde_config_parse(const char *yaml, lde_config *c, char *err, size_t errlen);
void lde_config_clear(lde_config *c);

/* Parse a rules mapping (an escalation: section) from a YAML string; for
 * tests and tools. As lde_plan_rules_parse. */
int lde_rules_parse_text(const char *yaml, lde_rules *out, char *err, size_t errlen);

#endif
