/* Unit tests: escalation rules and task clocks (plugins/escalation/rules.c,
 * clock.c): the issue's rules section, the ladder over simulated months
 * (order, times, levels, reminders), and the fire regulation's time limits
 * (牡政办综〔2022〕24号, data/seed/rules-fire-investigation.yaml) with exact
 * dates. Also measures the cost of a year of events over 61 tasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"
#include "clock.h"
#include "liandong/error.h"
#include "rules.h"

static lde_calendar *cal;

static int setup(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(lde_calendar_new(&cal), LD_OK);
    assert_int_equal(lde_calendar_load_builtin(cal, err, sizeof err), LD_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lde_calendar_destroy(&cal);
    return 0;
}

static int32_t D(const char *s)
{
    int32_t d;
    assert_int_equal(lde_day_parse(s, &d), LD_OK);
    return d;
}

static const char *S(int32_t d)
{
    static char buf[8][LDE_DATE_BYTES];
    static int i;
    char *b = buf[i++ % 8];
    lde_day_format(d, b);
    return b;
}

static const char *issue_rules =
    "calendar: cn\n"
    "short_limits_in_working_days: 15\n"
    "warn_before: 10 working days\n"
    "remind_every: 5 working days\n"
    "report_every: quarter\n"
    "ladder:\n"
    "  - {level: 1, name: \"督导\", after: 0 days,  notify: [supervision, lead, coordinators]}\n"
    "  - {level: 2, name: \"约谈\", after: 15 working days, notify: [supervision, coordinators]}\n"
    "  - {level: 3, name: \"问责\", after: 30 days, notify: [supervision]}\n"
    "extension: {max: 60 days, max_count: 1}\n";

static void test_parse_rules(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text(issue_rules, &r, err, sizeof err), LD_OK);
    assert_int_equal(r.short_limits, 15);
    assert_int_equal(r.warn_before.unit, LDE_WORKING_DAYS);
    assert_int_equal(r.warn_before.n, 10);
    assert_string_equal(r.report_every, "quarter");
    assert_int_equal(r.n_ladder, 3);
    assert_string_equal(r.ladder[1].name, "约谈");
    assert_int_equal(r.ladder[1].notify, LDE_TO_SUPERVISION | LDE_TO_COORDINATORS);
    assert_int_equal(r.ladder[2].after.unit, LDE_DAYS);
    assert_int_equal(r.ladder[2].after.n, 30);
    assert_int_equal(r.ext_max.n, 60);
    assert_int_equal(r.ext_max_count, 1);
    lde_dur d;
    assert_int_equal(lde_dur_parse("2 years", &d), LD_OK);
    assert_int_equal(d.unit, LDE_YEARS);
    assert_int_equal(lde_dur_parse("15 workdays", &d), LD_ERR_FORMAT);
    assert_int_equal(lde_rules_parse_text("warn_before: soon\n", &r, err, sizeof err),
                     LD_ERR_FORMAT);
    assert_string_equal(err, "rules:1: warn_before: \"soon\" is not a duration (N days, N working "
                             "days, N months, N years)");
    assert_int_equal(
        lde_rules_parse_text("ladder:\n  - {level: 2, after: 0 days}\n", &r, err, sizeof err),
        LD_ERR_FORMAT);
    assert_non_null(strstr(err, "numbered 1, 2"));
}

static void test_plan_rules(void **state)
{
    (void)state;
    const char *plan = "plan: {id: fire-2023, title: t, coordinators: [a]}\n"
                       "escalation:\n"
                       "  short_limits_in_working_days: 15\n"
                       "tasks:\n"
                       "  - id: fire-team\n"
                       "    escalation: {from: \"2023-09-25\", limit: 5 days}\n"
                       "  - id: fire-plain\n";
    lde_plan_rules *p;
    char err[512];
    assert_int_equal(lde_plan_rules_parse("f.yaml", plan, strlen(plan), &p, err, sizeof err),
                     LD_OK);
    assert_string_equal(p->plan, "fire-2023");
    assert_true(p->has_section);
    assert_int_equal(p->n_tasks, 1);
    const lde_rules *t = lde_plan_rules_task(p, "fire-team");
    assert_non_null(t);
    assert_int_equal(t->from, D("2023-09-25"));
    assert_null(lde_plan_rules_task(p, "fire-plain"));
    lde_plan_rules_destroy(&p);
    assert_null(p);
    const char *bad = "plan: {id: x}\nescalation:\n  warn_befor: 3 days\n";
    assert_int_equal(lde_plan_rules_parse("b.yaml", bad, strlen(bad), &p, err, sizeof err),
                     LD_ERR_FORMAT);
    assert_string_equal(err, "b.yaml:3: escalation: unknown field \"warn_befor\"");
}

/* A clock with a base due date and the rules above. */
static lde_tclock *new_clock(const char *due, int64_t now)
{
    lde_tclock *t = calloc(1, sizeof *t);
    liandong__escalation__v1__task_clock__init(t);
    t->plan = strdup("p");
    t->task = strdup("t");
    t->base_due = strdup(due);
    t->tracked = 1;
    t->first_seen_ms = t->epoch_ms = now;
    return t;
}

typedef struct fired {
    int kind;
    uint32_t level;
    char day[LDE_DATE_BYTES];
} fired;

/* Run the clock up to until (exclusive day end), recording events. */
static size_t run(const lde_rules *r, lde_tclock *t, const char *every, int64_t until, fired *out,
                  size_t max)
{
    size_t n = 0;
    for (;;) {
        lde_event ev;
        lde_clock_next(cal, r, t, every, &ev);
        if (!ev.kind || ev.at_ms > until || n == max)
            return n;
        uint32_t lv = lde_clock_fire(r, t, &ev, every, 0);
        if (ev.kind == LDE_EV_PERIOD && !lv)
            continue;
        out[n].kind = ev.kind;
        out[n].level = lv;
        /* The China date the event happened: for end-of-day events the day before. */
        int64_t at = ev.kind == LDE_EV_SOON ? ev.at_ms : ev.at_ms - 1;
        snprintf(out[n].day, sizeof out[n].day, "%s", S(lde_day_of_ms(at)));
        n++;
    }
}

static void test_ladder_sequence(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text(issue_rules, &r, err, sizeof err), LD_OK);
    lde_tclock *t = new_clock("2025-09-30", lde_day_start_ms(D("2025-07-01")));
    fired f[32];
    size_t n = run(&r, t, "none", lde_day_end_ms(D("2025-11-11")), f, 32);
    static const struct {
        int kind;
        uint32_t level;
        const char *day;
    } want[] = {
        {LDE_EV_SOON, 0, "2025-09-17"},   /* 10 working days before, 09-28 (Sun) counted */
        {LDE_EV_LEVEL, 1, "2025-09-30"},  /* 督导 when the due date ends */
        {LDE_EV_REMIND, 1, "2025-10-14"}, /* 5 working days after, across 国庆节 */
        {LDE_EV_REMIND, 1, "2025-10-21"}, /* 10 */
        {LDE_EV_LEVEL, 2, "2025-10-28"},  /* 约谈 at 15 working days (reminder 3 absorbed) */
        {LDE_EV_LEVEL, 3, "2025-10-30"},  /* 问责 at 30 natural days */
        {LDE_EV_REMIND, 3, "2025-11-04"}, /* 20 */
        {LDE_EV_REMIND, 3, "2025-11-11"}, /* 25 */
    };
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind != want[i].kind || f[i].level != want[i].level ||
            strcmp(f[i].day, want[i].day) != 0)
            fail_msg("event %zu: got %s/%u on %s, want %s/%u on %s", i, lde_ev_reason(f[i].kind),
                     f[i].level, f[i].day, lde_ev_reason(want[i].kind), want[i].level, want[i].day);
    }
    assert_int_equal(lde_clock_level(&r, t), 3);
    assert_string_equal(lde_clock_colour(cal, &r, t, lde_day_start_ms(D("2025-11-12"))), "red");
    /* Rectified by an extension: a new due date starts the ladder again. */
    t->ext_days = 60;
    lde_clock_restart(t, lde_day_start_ms(D("2025-11-12")));
    assert_int_equal(lde_clock_level(&r, t), 0);
    lde_event ev;
    lde_clock_next(cal, &r, t, "none", &ev);
    assert_int_equal(ev.kind, LDE_EV_SOON);
    assert_string_equal(lde_clock_colour(cal, &r, t, lde_day_start_ms(D("2025-11-12"))), "green");
    /* Done: nothing more. */
    t->done = 1;
    lde_clock_next(cal, &r, t, "none", &ev);
    assert_int_equal(ev.kind, LDE_EV_NONE);
    liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
}

static void test_no_report_periods(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text(issue_rules, &r, err, sizeof err), LD_OK);
    r.warn_before.unit = LDE_UNSET;
    lde_tclock *t = new_clock("2026-12-31", lde_day_start_ms(D("2025-07-01")));
    t->period_end = lde_period_end(D("2025-07-01"), "quarter");
    assert_string_equal(S(t->period_end), "2025-09-30");
    fired f[8];
    size_t n = run(&r, t, "quarter", lde_day_end_ms(D("2026-06-30")), f, 8);
    assert_int_equal(n, 4);
    assert_string_equal(f[0].day, "2025-09-30");
    assert_int_equal(f[0].level, 1);
    assert_string_equal(f[1].day, "2025-12-31");
    assert_int_equal(f[1].level, 2);
    assert_int_equal(f[2].level, 3);
    assert_int_equal(f[3].level, 3); /* stays at the top */
    /* A report in a period resets the count. */
    lde_event ev;
    lde_clock_next(cal, &r, t, "quarter", &ev);
    assert_int_equal(ev.kind, LDE_EV_PERIOD);
    assert_int_equal(lde_clock_fire(&r, t, &ev, "quarter", 1), 0);
    assert_int_equal(t->missed, 0);
    assert_string_equal(S(t->period_end), "2026-12-31");
    liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
}

/* The fire regulation: a 较大 fire on Monday 2023-09-25. */
static void test_fire_regulation(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text("short_limits_in_working_days: 15\n"
                                          "extension: {max: 60 days, max_count: 1}\n",
                                          &r, err, sizeof err),
                     LD_OK);
    int32_t fire = D("2023-09-25"), out;
    int unv = 0, prov = 0;
    /* art. 4: team within 5 days = 5 working days (art. 43), across 中秋节、国庆节
     * (09-29..10-06) with the adjusted workdays 10-07 (Sat) and 10-08 (Sun). */
    lde_dur five = {LDE_DAYS, 5};
    lde_dur_apply(cal, &r, fire, &five, 1, &out, &unv, &prov);
    assert_string_equal(S(out), "2023-10-08");
    /* art. 8: the request within 3 days. */
    lde_dur three = {LDE_DAYS, 3};
    lde_dur_apply(cal, &r, fire, &three, 1, &out, &unv, &prov);
    assert_string_equal(S(out), "2023-09-28");
    /* art. 34: report within 60 days = natural days. */
    lde_dur sixty = {LDE_DAYS, 60};
    lde_dur_apply(cal, &r, fire, &sixty, 1, &out, &unv, &prov);
    assert_string_equal(S(out), "2023-11-24");
    assert_int_equal(unv, 0);

    /* The report's clock; technical appraisal pauses it 2023-10-10 .. 10-30. */
    lde_tclock *t = new_clock("2023-11-24", lde_day_start_ms(fire));
    t->pause_days = D("2023-10-30") - D("2023-10-10");
    int32_t due;
    assert_int_equal(lde_clock_due(t, &due), LD_OK);
    assert_string_equal(S(due), "2023-12-14"); /* moved by the 20 paused days */

    /* One extension of at most 60 days: 2024-02-12 is the limit (not moved:
     * the limit caps the extension; the date granted is the new due date). */
    lde_dur_apply(cal, NULL, due, &r.ext_max, 0, &out, &unv, &prov);
    assert_string_equal(S(out), "2024-02-12");
    assert_true(D("2024-02-13") > out); /* a longer one is refused by the plugin */
    t->ext_days += D("2024-02-12") - due;
    t->ext_count++;
    assert_int_equal(lde_clock_due(t, &due), LD_OK);
    assert_string_equal(S(due), "2024-02-12");
    assert_true(t->ext_count >= r.ext_max_count); /* a second one is refused */

    /* art. 36: approval within 15 days of receiving the report = 15 working
     * days, across the Spring Festival 2024 (02-10..02-17; 02-18 Sun works). */
    lde_dur fifteen = {LDE_DAYS, 15};
    lde_dur_apply(cal, &r, D("2024-02-05"), &fifteen, 1, &out, &unv, &prov);
    assert_string_equal(S(out), "2024-03-01");
    /* 16 days is over the short limit: natural days, moved off a day off. */
    lde_dur sixteen = {LDE_DAYS, 16};
    lde_dur_apply(cal, &r, D("2024-02-01"), &sixteen, 1, &out, &unv, &prov);
    assert_string_equal(S(out), "2024-02-18"); /* 02-17 is in 春节 */
    liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
}

/* A year of events over 61 tasks (the three example plans' size), in memory:
 * the clock arithmetic the plugin's on_tick does, without storage. */
static void test_year_cost(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text(issue_rules, &r, err, sizeof err), LD_OK);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    size_t events = 0;
    for (int i = 0; i < 61; i++) {
        char due[LDE_DATE_BYTES];
        lde_day_format(D("2025-08-01") + i * 5, due);
        lde_tclock *t = new_clock(due, lde_day_start_ms(D("2025-07-01")));
        t->period_end = lde_period_end(D("2025-07-01"), "quarter");
        fired f[256];
        events += run(&r, t, "quarter", lde_day_end_ms(D("2026-06-30")), f, 256);
        liandong__escalation__v1__task_clock__free_unpacked(t, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("# a year over 61 tasks: %zu events computed in %.2f ms\n", events, ms);
    assert_true(events > 61 * 10);
}

/* The plugin config: a setting given twice is refused (a second list used
 * to replace the first array and keep its count). */
static void test_config_given_twice(void **state)
{
    (void)state;
    lde_config c;
    char err[512];
    assert_int_equal(lde_config_parse("plans: [a.yaml, b.yaml]\ncalendar_files: [c.yaml]\n", &c,
                                      err, sizeof err),
                     LD_OK);
    assert_int_equal(c.n_plans, 2);
    assert_string_equal(c.plans[1], "b.yaml");
    assert_int_equal(c.n_calendar_files, 1);
    lde_config_clear(&c);
    assert_int_not_equal(
        lde_config_parse("plans: [a.yaml, b.yaml]\nplans: [c.yaml]\n", &c, err, sizeof err), LD_OK);
    assert_non_null(strstr(err, "plans is given twice"));
    lde_config_clear(&c);
}

/* Counting back more years than lie between year 0 and the due date stays
 * inside the month table (UBSan caught an index of -1 here). */
static void test_far_back(void **state)
{
    (void)state;
    lde_rules r;
    char err[512];
    assert_int_equal(lde_rules_parse_text("warn_before: 3000 years\n", &r, err, sizeof err), LD_OK);
    int32_t out;
    int unverified = 0, provisional = 0;
    assert_int_equal(
        lde_dur_back(cal, &r, D("2025-12-31"), &r.warn_before, &out, &unverified, &provisional),
        LD_OK);
    assert_true(out < D("2025-12-31") - 365 * 2999); /* about 975 BC */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rules),        cmocka_unit_test(test_plan_rules),
        cmocka_unit_test(test_ladder_sequence),    cmocka_unit_test(test_no_report_periods),
        cmocka_unit_test(test_fire_regulation),    cmocka_unit_test(test_year_cost),
        cmocka_unit_test(test_config_given_twice), cmocka_unit_test(test_far_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
