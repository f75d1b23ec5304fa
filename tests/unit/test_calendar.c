/* Unit tests: the working-day calendar (plugins/escalation/calendar.c) on the
 * shipped data (data/calendar/cn-holidays.yaml, built in). Expected dates
 * were worked out by hand from the State Council notices and cross-checked
 * with an independent script over the same file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "liandong/error.h"
#include "rules.h"

static lde_calendar *cal;

static int setup(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(lde_calendar_new(&cal), LD_OK);
    int rc = lde_calendar_load_builtin(cal, err, sizeof err);
    if (rc != LD_OK)
        fail_msg("%s", err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lde_calendar_destroy(&cal);
    assert_null(cal);
    return 0;
}

static int32_t D(const char *s)
{
    int32_t d;
    assert_int_equal(lde_day_parse(s, &d), LD_OK);
    return d;
}

static void expect_add(const char *from, unsigned n, const char *want)
{
    int32_t out;
    int prov = 0;
    assert_int_equal(lde_cal_add_working(cal, D(from), n, &out, &prov), LD_OK);
    char got[LDE_DATE_BYTES];
    lde_day_format(out, got);
    if (strcmp(got, want) != 0)
        fail_msg("%u working days after %s: got %s, want %s", n, from, got, want);
}

static void test_dates(void **state)
{
    (void)state;
    char s[LDE_DATE_BYTES];
    lde_day_format(D("2024-02-29"), s);
    assert_string_equal(s, "2024-02-29");
    int32_t d;
    assert_int_equal(lde_day_parse("2023-02-29", &d), LD_ERR_INVALID);
    assert_int_equal(lde_day_parse("2023-1-01", &d), LD_ERR_INVALID);
    assert_int_equal(lde_day_weekday(D("2023-01-28")), 6);
    /* 2025-07-01 00:00 China is 2025-06-30 16:00 UTC. */
    assert_int_equal(lde_day_start_ms(D("2025-07-01")), 1751299200000LL);
    assert_int_equal(lde_day_of_ms(1751299200000LL), D("2025-07-01"));
    assert_int_equal(lde_day_of_ms(1751299200000LL - 1), D("2025-06-30"));
}

static void test_spring_festival(void **state)
{
    (void)state;
    expect_add("2023-01-20", 1, "2023-01-28"); /* Sat, adjusted workday */
    expect_add("2023-01-20", 5, "2023-02-01");
    expect_add("2024-02-09", 1, "2024-02-18"); /* Sun, adjusted workday */
    expect_add("2025-01-27", 1, "2025-02-05");
    expect_add("2026-02-13", 1, "2026-02-14"); /* Sat, adjusted workday */
    expect_add("2026-02-13", 2, "2026-02-24");
    int w;
    assert_int_equal(lde_cal_is_workday(cal, D("2025-01-29"), &w, NULL), LD_OK);
    assert_int_equal(w, 0);
    assert_int_equal(lde_cal_is_workday(cal, D("2025-01-26"), &w, NULL), LD_OK);
    assert_int_equal(w, 1); /* Sunday, adjusted workday */
    char what[128];
    assert_int_equal(lde_cal_describe(cal, D("2024-02-12"), what, sizeof what), LD_OK);
    assert_string_equal(what, "holiday 春节");
}

static void test_national_day(void **state)
{
    (void)state;
    expect_add("2023-09-28", 3, "2023-10-09"); /* 10-07 and 10-08 are adjusted workdays */
    expect_add("2024-09-30", 1, "2024-10-08");
    expect_add("2025-09-30", 1, "2025-10-09");
    expect_add("2026-09-30", 1, "2026-10-08");
    int32_t out;
    assert_int_equal(lde_cal_sub_working(cal, D("2025-09-30"), 10, &out, NULL), LD_OK);
    assert_int_equal(out, D("2025-09-17")); /* 09-28 (Sun) counted */
}

static void test_year_totals(void **state)
{
    (void)state;
    expect_add("2022-12-31", 249, "2023-12-29"); /* 2023: 249 working days */
    expect_add("2022-12-31", 250, "2024-01-02");
    expect_add("2023-12-31", 251, "2024-12-31"); /* 2024: 251 */
}

static void test_natural_days_roll(void **state)
{
    (void)state;
    int32_t out;
    /* 2023-09-30 is inside 中秋节、国庆节: moves to 10-07, an adjusted workday. */
    assert_int_equal(lde_cal_add_days(cal, D("2023-09-20"), 10, &out, NULL), LD_OK);
    assert_int_equal(out, D("2023-10-07"));
    assert_int_equal(lde_cal_add_days(cal, D("2023-09-25"), 60, &out, NULL), LD_OK);
    assert_int_equal(out, D("2023-11-24"));
}

static void test_no_data_refused(void **state)
{
    (void)state;
    int32_t out;
    int w, prov = 0;
    assert_int_equal(lde_cal_add_working(cal, D("2026-12-30"), 5, &out, &prov), LDE_NODATA);
    assert_int_equal(lde_cal_is_workday(cal, D("2027-05-03"), &w, NULL), LDE_NODATA);
    assert_int_equal(lde_cal_is_workday(cal, D("2021-10-01"), &w, NULL), LDE_NODATA);
    /* December 2026 is answered, but provisional (no 2027 notice yet). */
    prov = 0;
    assert_int_equal(lde_cal_is_workday(cal, D("2026-12-01"), &w, &prov), LD_OK);
    assert_int_equal(prov, 1);
    prov = 0;
    assert_int_equal(lde_cal_is_workday(cal, D("2026-11-30"), &w, &prov), LD_OK);
    assert_int_equal(prov, 0);
    /* The rules layer computes on, weekends only, and flags it. */
    lde_rules r;
    lde_rules_default(&r);
    lde_dur five = {LDE_WORKING_DAYS, 5};
    int unv = 0;
    assert_int_equal(lde_dur_apply(cal, &r, D("2026-12-30"), &five, 1, &out, &unv, &prov), LD_OK);
    assert_int_equal(unv, 1);
    assert_int_equal(out, D("2027-01-06"));
}

static void test_load_errors(void **state)
{
    (void)state;
    lde_calendar *c;
    char err[512];
    assert_int_equal(lde_calendar_new(&c), LD_OK);
    const char *dup =
        "years:\n"
        "  - year: 2030\n"
        "    status: verified\n"
        "    holidays:\n"
        "      - {name_zh: A, first: \"2030-01-01\", last: \"2030-01-02\", days: 2}\n"
        "      - {name_zh: B, first: \"2030-01-02\", last: \"2030-01-03\", days: 2}\n";
    assert_int_equal(lde_calendar_load(c, "x.yaml", dup, strlen(dup), err, sizeof err),
                     LD_ERR_FORMAT);
    assert_string_equal(err, "x.yaml:6: 2030-01-02 is given twice (first at line 5)");
    const char *span = "years:\n"
                       "  - year: 2030\n"
                       "    status: verified\n"
                       "    holidays:\n"
                       "      - {name_zh: A, first: \"2030-01-03\", last: \"2030-01-01\"}\n";
    assert_int_equal(lde_calendar_load(c, "y.yaml", span, strlen(span), err, sizeof err),
                     LD_ERR_FORMAT);
    assert_string_equal(err, "y.yaml:5: last comes before first");
    const char *days =
        "years:\n"
        "  - year: 2030\n"
        "    status: verified\n"
        "    holidays:\n"
        "      - {name_zh: A, first: \"2030-01-01\", last: \"2030-01-03\", days: 2}\n";
    assert_int_equal(lde_calendar_load(c, "z.yaml", days, strlen(days), err, sizeof err),
                     LD_ERR_FORMAT);
    assert_non_null(strstr(err, "z.yaml:5: days is 2"));
    const char *bad = "years:\n"
                      "  - year: 2030\n"
                      "    status: verified\n"
                      "    holidays: []\n"
                      "    adjusted_workdays:\n"
                      "      - {date: \"2030-13-01\"}\n";
    assert_int_equal(lde_calendar_load(c, "w.yaml", bad, strlen(bad), err, sizeof err),
                     LD_ERR_FORMAT);
    assert_non_null(strstr(err, "w.yaml:6: date \"2030-13-01\" is not a date"));
    assert_false(lde_calendar_covers(c, 2030)); /* nothing half-loaded */
    /* An operator extends the calendar with a new year; then refused twice. */
    const char *ok =
        "years:\n"
        "  - year: 2027\n"
        "    status: verified\n"
        "    holidays:\n"
        "      - {name_zh: 元旦, first: \"2027-01-01\", last: \"2027-01-03\", days: 3}\n";
    assert_int_equal(lde_calendar_load_builtin(c, err, sizeof err), LD_OK);
    assert_int_equal(lde_calendar_load(c, "2027.yaml", ok, strlen(ok), err, sizeof err), LD_OK);
    assert_true(lde_calendar_covers(c, 2027));
    int32_t out;
    int prov = 0;
    assert_int_equal(lde_cal_add_working(c, D("2026-12-31"), 1, &out, &prov), LD_OK);
    assert_int_equal(out, D("2027-01-04"));
    assert_int_equal(lde_calendar_load(c, "again.yaml", ok, strlen(ok), err, sizeof err),
                     LD_ERR_FORMAT);
    assert_non_null(strstr(err, "year 2027 is already given"));
    lde_calendar_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_spring_festival),
        cmocka_unit_test(test_national_day),
        cmocka_unit_test(test_year_totals),
        cmocka_unit_test(test_natural_days_roll),
        cmocka_unit_test(test_no_data_refused),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
