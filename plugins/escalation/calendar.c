/* calendar.c - see calendar.h. */
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "liandong/error.h"

#define MIN_YEAR 1970
#define MAX_YEAR 2199
#define N_YEARS (MAX_YEAR - MIN_YEAR + 1)
#define NAMES_MAX 1024
#define NAME_BYTES 64

enum { DAY_PLAIN = 0, DAY_OFF = 1, DAY_WORK = 2 };
enum { YEAR_NONE = 0, YEAR_UNPUBLISHED = 1, YEAR_VERIFIED = 2 };

struct lde_calendar {
    int32_t lo;             /* day number of MIN_YEAR-01-01 */
    size_t n_days;          /* MIN_YEAR .. MAX_YEAR */
    uint8_t *kind;          /* DAY_* per day */
    uint16_t *name;         /* index into names, per day */
    uint32_t *line;         /* line that set the day (for duplicate messages) */
    uint8_t years[N_YEARS]; /* YEAR_* */
    char (*names)[NAME_BYTES];
    size_t n_names;
};

/* ---- dates (Howard Hinnant's civil-from-days and days-from-civil) ---- */

int32_t lde_day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void lde_day_civil(int32_t day, int *y, int *m, int *d)
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

int lde_day_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)(((int64_t)day + 3) % 7);
    if (w < 0)
        w += 7;
    return w + 1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

int lde_day_parse(const char *s, int32_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return LD_ERR_INVALID;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return LD_ERR_INVALID;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return LD_ERR_INVALID;
    *day = lde_day_from_civil(y, m, d);
    return LD_OK;
}

void lde_day_format(int32_t day, char out[LDE_DATE_BYTES])
{
    int y, m, d;
    lde_day_civil(day, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    snprintf(out, LDE_DATE_BYTES, "%04d-%02d-%02d", y, m, d);
}

int32_t lde_day_of_ms(int64_t ms)
{
    int64_t t = ms + LDE_CHINA_OFFSET_MS;
    return (int32_t)(t / LDE_DAY_MS - (t % LDE_DAY_MS < 0));
}

int64_t lde_day_start_ms(int32_t day)
{
    return (int64_t)day * LDE_DAY_MS - LDE_CHINA_OFFSET_MS;
}

int64_t lde_day_end_ms(int32_t day)
{
    return lde_day_start_ms(day + 1);
}

/* ---- the calendar ---- */

int lde_calendar_new(lde_calendar **out)
{
    *out = NULL;
    lde_calendar *c = calloc(1, sizeof *c);
    if (!c)
        return LD_ERR_NOMEM;
    c->lo = lde_day_from_civil(MIN_YEAR, 1, 1);
    c->n_days = (size_t)(lde_day_from_civil(MAX_YEAR + 1, 1, 1) - c->lo);
    c->kind = calloc(c->n_days, 1);
    c->name = calloc(c->n_days, sizeof *c->name);
    c->line = calloc(c->n_days, sizeof *c->line);
    c->names = calloc(NAMES_MAX, sizeof *c->names);
    if (!c->kind || !c->name || !c->line || !c->names) {
        lde_calendar_destroy(&c);
        return LD_ERR_NOMEM;
    }
    c->n_names = 1; /* 0: no name */
    *out = c;
    return LD_OK;
}

void lde_calendar_destroy(lde_calendar **cp)
{
    if (!cp || !*cp)
        return;
    lde_calendar *c = *cp;
    free(c->kind);
    free(c->name);
    free(c->line);
    free(c->names);
    free(c);
    *cp = NULL;
}

void lde_calendar_range(const lde_calendar *c, int *first, int *last)
{
    *first = *last = 0;
    for (int i = 0; i < N_YEARS; i++)
        if (c->years[i] == YEAR_VERIFIED) {
            if (!*first)
                *first = MIN_YEAR + i;
            *last = MIN_YEAR + i;
        }
}

int lde_calendar_covers(const lde_calendar *c, int year)
{
    return year >= MIN_YEAR && year <= MAX_YEAR && c->years[year - MIN_YEAR] == YEAR_VERIFIED;
}

/* Kind of day, or -1 (not covered); sets *prov on provisional answers. */
static int day_kind(const lde_calendar *c, int32_t day, int *prov)
{
    int y, m, d;
    lde_day_civil(day, &y, &m, &d);
    if (!lde_calendar_covers(c, y))
        return -1;
    if (m == 12 && !lde_calendar_covers(c, y + 1) && prov)
        *prov = 1;
    return c->kind[day - c->lo];
}

int lde_cal_is_workday(const lde_calendar *c, int32_t day, int *work, int *provisional)
{
    int k = day_kind(c, day, provisional);
    if (k < 0)
        return LDE_NODATA;
    if (k == DAY_OFF)
        *work = 0;
    else if (k == DAY_WORK)
        *work = 1;
    else
        *work = lde_day_weekday(day) <= 5;
    return LD_OK;
}

int lde_cal_describe(const lde_calendar *c, int32_t day, char *out, size_t outlen)
{
    int k = day_kind(c, day, NULL);
    if (k < 0)
        return LDE_NODATA;
    const char *nm = c->names[c->name[day - c->lo]];
    if (k == DAY_OFF)
        snprintf(out, outlen, "holiday %s", nm);
    else if (k == DAY_WORK)
        snprintf(out, outlen, "adjusted workday for %s", nm);
    else
        snprintf(out, outlen, "%s", lde_day_weekday(day) <= 5 ? "working day" : "weekend");
    return LD_OK;
}

static int step_working(const lde_calendar *c, int32_t day, unsigned n, int dir, int32_t *out,
                        int *prov)
{
    int32_t d = day;
    for (unsigned left = n; left;) {
        d += dir;
        int w, rc = lde_cal_is_workday(c, d, &w, prov);
        if (rc != LD_OK)
            return rc;
        left -= w ? 1 : 0;
    }
    *out = d;
    return LD_OK;
}

int lde_cal_add_working(const lde_calendar *c, int32_t day, unsigned n, int32_t *out,
                        int *provisional)
{
    return step_working(c, day, n, 1, out, provisional);
}

int lde_cal_sub_working(const lde_calendar *c, int32_t day, unsigned n, int32_t *out,
                        int *provisional)
{
    return step_working(c, day, n, -1, out, provisional);
}

int lde_cal_next_workday(const lde_calendar *c, int32_t day, int32_t *out, int *provisional)
{
    for (int32_t d = day;; d++) {
        int w, rc = lde_cal_is_workday(c, d, &w, provisional);
        if (rc != LD_OK)
            return rc;
        if (w) {
            *out = d;
            return LD_OK;
        }
    }
}

int lde_cal_add_days(const lde_calendar *c, int32_t day, unsigned n, int32_t *out, int *provisional)
{
    return lde_cal_next_workday(c, day + (int32_t)n, out, provisional);
}

/* ---- loading ---- */

typedef struct loader {
    lde_calendar *c; /* the working copy */
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
} loader;

static int fail(loader *l, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static int fail(loader *l, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(l->err, l->errlen, "%s:%zu: %s", l->file, n ? n->start_mark.line + 1 : 1, msg);
    return LD_ERR_FORMAT;
}

static yaml_node_t *get(loader *l, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(l->doc, p->value);
    }
    return NULL;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int date_of(loader *l, const yaml_node_t *map, const char *key, int32_t *day)
{
    yaml_node_t *n = get(l, map, key);
    const char *s = scalar(n);
    if (!s)
        return fail(l, n ? n : map, "%s is missing (a date \"YYYY-MM-DD\")", key);
    if (lde_day_parse(s, day) != LD_OK)
        return fail(l, n, "%s \"%.20s\" is not a date YYYY-MM-DD", key, s);
    int y, m, d;
    lde_day_civil(*day, &y, &m, &d);
    if (y < MIN_YEAR || y > MAX_YEAR)
        return fail(l, n, "%s %s is outside %d..%d", key, s, MIN_YEAR, MAX_YEAR);
    return LD_OK;
}

static uint16_t name_index(loader *l, const char *s)
{
    if (!s || !*s)
        return 0;
    lde_calendar *c = l->c;
    for (size_t i = 1; i < c->n_names; i++)
        if (strcmp(c->names[i], s) == 0)
            return (uint16_t)i;
    if (c->n_names == NAMES_MAX)
        return 0;
    snprintf(c->names[c->n_names], NAME_BYTES, "%s", s);
    return (uint16_t)c->n_names++;
}

static int mark(loader *l, const yaml_node_t *at, int32_t day, int kind, uint16_t nm)
{
    lde_calendar *c = l->c;
    size_t i = (size_t)(day - c->lo);
    char ds[LDE_DATE_BYTES];
    lde_day_format(day, ds);
    if (c->kind[i] != DAY_PLAIN)
        return fail(l, at, "%s is given twice (first at line %u)", ds, c->line[i]);
    c->kind[i] = (uint8_t)kind;
    c->name[i] = nm;
    c->line[i] = (uint32_t)at->start_mark.line + 1;
    return LD_OK;
}

static int load_year(loader *l, const yaml_node_t *e, uint8_t *seen)
{
    if (e->type != YAML_MAPPING_NODE)
        return fail(l, e, "each entry of years must be a mapping");
    yaml_node_t *yn = get(l, e, "year");
    const char *ys = scalar(yn);
    char *end = NULL;
    long year = ys ? strtol(ys, &end, 10) : 0;
    if (!ys || *end || year < MIN_YEAR || year > MAX_YEAR)
        return fail(l, yn ? yn : e, "year must be a number %d..%d", MIN_YEAR, MAX_YEAR);
    const char *st = scalar(get(l, e, "status"));
    int status;
    if (st && strcmp(st, "verified") == 0)
        status = YEAR_VERIFIED;
    else if (st && strcmp(st, "not_published") == 0)
        status = YEAR_UNPUBLISHED;
    else
        return fail(l, e, "year %ld: status must be verified or not_published", year);
    uint8_t *ys_slot = &l->c->years[year - MIN_YEAR];
    if (seen[year - MIN_YEAR])
        return fail(l, yn, "year %ld is given twice in this file", year);
    seen[year - MIN_YEAR] = 1;
    if (*ys_slot == YEAR_VERIFIED)
        return fail(l, yn, "year %ld is already given (verified) by an earlier calendar file",
                    year);
    yaml_node_t *hol = get(l, e, "holidays"), *adj = get(l, e, "adjusted_workdays");
    if (status == YEAR_UNPUBLISHED) {
        int empty_h = !hol || (hol->type == YAML_SEQUENCE_NODE &&
                               hol->data.sequence.items.top == hol->data.sequence.items.start);
        int empty_a = !adj || (adj->type == YAML_SEQUENCE_NODE &&
                               adj->data.sequence.items.top == adj->data.sequence.items.start);
        if (!empty_h || !empty_a)
            return fail(l, e, "year %ld is not_published but lists days: make it verified", year);
        if (*ys_slot == YEAR_NONE)
            *ys_slot = YEAR_UNPUBLISHED;
        return LD_OK;
    }
    if (!hol || hol->type != YAML_SEQUENCE_NODE)
        return fail(l, e, "year %ld: holidays must be a list", year);
    for (yaml_node_item_t *it = hol->data.sequence.items.start; it < hol->data.sequence.items.top;
         it++) {
        yaml_node_t *h = yaml_document_get_node(l->doc, *it);
        if (!h || h->type != YAML_MAPPING_NODE)
            return fail(l, hol, "each holiday must be a mapping");
        int32_t first, last;
        int rc;
        if ((rc = date_of(l, h, "first", &first)) != LD_OK ||
            (rc = date_of(l, h, "last", &last)) != LD_OK)
            return rc;
        if (last < first)
            return fail(l, h, "last comes before first");
        if (last - first > 31)
            return fail(l, h, "a holiday span of %d days is not plausible", last - first + 1);
        const char *ds = scalar(get(l, h, "days"));
        if (ds && atoi(ds) != last - first + 1)
            return fail(l, get(l, h, "days"), "days is %s but first..last spans %d days", ds,
                        last - first + 1);
        const char *nm = scalar(get(l, h, "name_zh"));
        if (!nm)
            nm = scalar(get(l, h, "name_en"));
        uint16_t ni = name_index(l, nm);
        for (int32_t d = first; d <= last; d++)
            if ((rc = mark(l, h, d, DAY_OFF, ni)) != LD_OK)
                return rc;
    }
    if (adj && adj->type != YAML_SEQUENCE_NODE)
        return fail(l, adj, "year %ld: adjusted_workdays must be a list", year);
    for (yaml_node_item_t *it = adj ? adj->data.sequence.items.start : NULL;
         adj && it < adj->data.sequence.items.top; it++) {
        yaml_node_t *a = yaml_document_get_node(l->doc, *it);
        if (!a || a->type != YAML_MAPPING_NODE)
            return fail(l, adj, "each adjusted workday must be a mapping with date");
        int32_t d;
        int rc = date_of(l, a, "date", &d);
        if (rc != LD_OK)
            return rc;
        if (lde_day_weekday(d) <= 5)
            return fail(l, a, "adjusted workday %s is not a Saturday or Sunday",
                        scalar(get(l, a, "date")));
        if ((rc = mark(l, a, d, DAY_WORK, name_index(l, scalar(get(l, a, "for"))))) != LD_OK)
            return rc;
    }
    *ys_slot = YEAR_VERIFIED;
    return LD_OK;
}

int lde_calendar_load(lde_calendar *c, const char *name, const void *buf, size_t len, char *err,
                      size_t errlen)
{
    lde_calendar *w;
    int rc = lde_calendar_new(&w);
    if (rc != LD_OK)
        return rc;
    memcpy(w->kind, c->kind, c->n_days);
    memcpy(w->name, c->name, c->n_days * sizeof *c->name);
    memcpy(w->line, c->line, c->n_days * sizeof *c->line);
    memcpy(w->years, c->years, sizeof c->years);
    memcpy(w->names, c->names, NAMES_MAX * sizeof *c->names);
    w->n_names = c->n_names;

    loader l = {.c = w, .file = name ? name : "calendar", .err = err, .errlen = errlen};
    yaml_parser_t yp;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&yp)) {
        lde_calendar_destroy(&w);
        return LD_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&yp, buf, len);
    if (!yaml_parser_load(&yp, &doc)) {
        snprintf(err, errlen, "%s:%zu: not valid YAML: %s", l.file, yp.problem_mark.line + 1,
                 yp.problem ? yp.problem : "syntax error");
        yaml_parser_delete(&yp);
        lde_calendar_destroy(&w);
        return LD_ERR_FORMAT;
    }
    l.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *years = get(&l, root, "years");
    uint8_t seen[N_YEARS] = {0};
    if (!years || years->type != YAML_SEQUENCE_NODE)
        rc = fail(&l, root, "a calendar file is a mapping with a list years:");
    for (yaml_node_item_t *it = rc == LD_OK ? years->data.sequence.items.start : NULL;
         rc == LD_OK && it < years->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(&doc, *it);
        rc = e ? load_year(&l, e, seen) : fail(&l, years, "bad entry");
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (rc == LD_OK) {
        /* Swap the working copy in. */
        lde_calendar tmp = *c;
        *c = *w;
        *w = tmp;
    }
    lde_calendar_destroy(&w);
    return rc;
}

extern const unsigned char lde_builtin_calendar_yaml[];
extern const size_t lde_builtin_calendar_yaml_len;

int lde_calendar_load_builtin(lde_calendar *c, char *err, size_t errlen)
{
    return lde_calendar_load(c, "cn-holidays.yaml (built in)", lde_builtin_calendar_yaml,
                             lde_builtin_calendar_yaml_len, err, errlen);
}
