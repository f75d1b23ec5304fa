/* calendar.h - the working-day calendar: statutory holidays and adjusted
 * workdays (调休) loaded from YAML files (data/calendar/cn-holidays.yaml),
 * and the date arithmetic of docs/escalation.md.
 *
 * Dates are China dates (UTC+8) held as day numbers: days since 1970-01-01.
 * A year is "covered" when some file gives it with status verified; a date in
 * a year that is not covered has no answer (LDE_NODATA): the calendar never
 * treats such a year as holiday-free. December of a covered year whose next
 * year is not covered is "provisional" (the next year's notice may still move
 * days in it): answers are given and the provisional flag is set.
 *
 * Thread safety: a loaded calendar is read-only; share it freely. */
#ifndef LDE_CALENDAR_H
#define LDE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

/* Error code of a calendar answer that needs a year without data (distinct
 * from every ld_error). */
#define LDE_NODATA (-1000)

/* "YYYY-MM-DD" and its NUL. */
#define LDE_DATE_BYTES 11
#define LDE_DAY_MS 86400000LL
#define LDE_CHINA_OFFSET_MS (8 * 3600000LL)

typedef struct lde_calendar lde_calendar;

/* An empty calendar (no year covered). LD_OK or LD_ERR_NOMEM. */
int lde_calendar_new(lde_calendar **out);
/* Free; accepts NULL and sets *c to NULL. */
void lde_calendar_destroy(lde_calendar **c);

/* Merge a calendar file (len bytes of YAML, the format of
 * data/calendar/cn-holidays.yaml) into c. name is used in messages. Checks
 * every date, that first <= last, that days (if given) equals the span, that
 * an adjusted workday is a Saturday or Sunday and not inside a holiday span,
 * that a day is not given twice, and that a year is not given twice (across
 * files too: a later file may replace a not_published year only). On error
 * c is unchanged and err holds "name:line: reason". LD_OK, LD_ERR_FORMAT,
 * LD_ERR_NOMEM. */
int lde_calendar_load(lde_calendar *c, const char *name, const void *buf, size_t len, char *err,
                      size_t errlen);

/* The calendar built into the plugin and the CLI (data/calendar/cn-holidays.yaml
 * at build time), merged into c. As lde_calendar_load. */
int lde_calendar_load_builtin(lde_calendar *c, char *err, size_t errlen);

/* First and last covered year (0, 0 when none). */
void lde_calendar_range(const lde_calendar *c, int *first, int *last);
/* 1 if year is covered. */
int lde_calendar_covers(const lde_calendar *c, int year);

/* ---- dates ---- */

/* Parse "YYYY-MM-DD" (a real date, year 1000-9999). LD_OK or LD_ERR_INVALID. */
int lde_day_parse(const char *s, int32_t *day);
/* Format a day number as "YYYY-MM-DD". */
void lde_day_format(int32_t day, char out[LDE_DATE_BYTES]);
/* The civil year, month (1-12), day (1-31) and weekday (1 Monday .. 7 Sunday). */
void lde_day_civil(int32_t day, int *y, int *m, int *d);
int lde_day_weekday(int32_t day);
int32_t lde_day_from_civil(int y, int m, int d);
/* The China date of a Unix time in ms. */
int32_t lde_day_of_ms(int64_t ms);
/* Unix ms of 00:00 China time on day, and of the end of day (the next 00:00). */
int64_t lde_day_start_ms(int32_t day);
int64_t lde_day_end_ms(int32_t day);

/* ---- the calendar ---- */

/* Is day a working day? LD_OK with *work 1/0, or LDE_NODATA (its year is not
 * covered). *provisional (may be NULL) is set to 1 when the answer is
 * provisional (see above), else left alone. */
int lde_cal_is_workday(const lde_calendar *c, int32_t day, int *work, int *provisional);
/* What day is: "working day", "weekend", "holiday <name>", "adjusted workday
 * <for>". LD_OK or LDE_NODATA. */
int lde_cal_describe(const lde_calendar *c, int32_t day, char *out, size_t outlen);

/* The n-th working day after day (day itself not counted; n >= 0, n == 0
 * gives day). LD_OK or LDE_NODATA (a year on the way is not covered). */
int lde_cal_add_working(const lde_calendar *c, int32_t day, unsigned n, int32_t *out,
                        int *provisional);
/* The n-th working day before day (day not counted). */
int lde_cal_sub_working(const lde_calendar *c, int32_t day, unsigned n, int32_t *out,
                        int *provisional);
/* day + n natural days; when the result is a day off it moves to the next
 * working day (Civil Code art. 203). LD_OK or LDE_NODATA. */
int lde_cal_add_days(const lde_calendar *c, int32_t day, unsigned n, int32_t *out,
                     int *provisional);
/* The first working day on or after day. */
int lde_cal_next_workday(const lde_calendar *c, int32_t day, int32_t *out, int *provisional);

#endif
