/* fuzz_calendar.c - holiday calendar files (plugins/escalation/calendar.c,
 * lde_calendar_load) into an empty calendar, lookups over the years it
 * covers, and the same file merged in again (it must then be refused if it
 * gave a verified year, and leave the calendar as it was). */
#include <stdlib.h>

#include "calendar.h"
#include "fuzz.h"
#include "liandong/error.h"

static void lookups(const lde_calendar *c, int first, int last)
{
    int32_t lo = lde_day_from_civil(first, 1, 1), hi = lde_day_from_civil(last, 12, 31);
    char what[128];
    int32_t out;
    int work, prov = 0;
    /* Every day of the first covered year and its neighbours. */
    for (int32_t d = lo - 1; d <= lo + 366; d++) {
        (void)lde_cal_is_workday(c, d, &work, &prov);
        (void)lde_cal_describe(c, d, what, sizeof what);
    }
    (void)lde_cal_add_working(c, lo, 250, &out, &prov);
    (void)lde_cal_sub_working(c, hi, 250, &out, &prov);
    (void)lde_cal_add_working(c, lo - 1, (unsigned)(hi - lo) / 2, &out, &prov);
    (void)lde_cal_add_days(c, lo, 40, &out, &prov);
    (void)lde_cal_next_workday(c, hi, &out, &prov);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lde_calendar *c;
    if (lde_calendar_new(&c) != LD_OK)
        return 0;
    char err[512];
    if (lde_calendar_load(c, "fuzz.yaml", data, size, err, sizeof err) == LD_OK) {
        int first, last, first2, last2;
        lde_calendar_range(c, &first, &last);
        if (first)
            lookups(c, first, last);
        int rc = lde_calendar_load(c, "again.yaml", data, size, err, sizeof err);
        lde_calendar_range(c, &first2, &last2);
        if ((first && rc == LD_OK) || first2 != first || last2 != last)
            abort();
    }
    lde_calendar_destroy(&c);
    return 0;
}
