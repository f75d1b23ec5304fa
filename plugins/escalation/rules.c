/* rules.c - see rules.h. */
#include "rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "liandong/error.h"

/* ---- durations ---- */

int lde_dur_parse(const char *s, lde_dur *out)
{
    if (!s)
        return LD_ERR_FORMAT;
    while (*s == ' ')
        s++;
    if (!isdigit((unsigned char)*s))
        return LD_ERR_FORMAT;
    char *end;
    unsigned long n = strtoul(s, &end, 10);
    if (n > 100000)
        return LD_ERR_FORMAT;
    while (*end == ' ')
        end++;
    static const struct {
        const char *w;
        int unit;
    } units[] = {{"days", LDE_DAYS},
                 {"day", LDE_DAYS},
                 {"working days", LDE_WORKING_DAYS},
                 {"working day", LDE_WORKING_DAYS},
                 {"months", LDE_MONTHS},
                 {"month", LDE_MONTHS},
                 {"years", LDE_YEARS},
                 {"year", LDE_YEARS}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].w) == 0) {
            out->unit = units[i].unit;
            out->n = (uint32_t)n;
            return LD_OK;
        }
    return LD_ERR_FORMAT;
}

void lde_dur_format(const lde_dur *d, char *out, size_t outlen)
{
    static const char *const w[] = {"(unset)", "days", "working days", "months", "years"};
    if (d->unit < LDE_DAYS || d->unit > LDE_YEARS)
        snprintf(out, outlen, "(unset)");
    else
        snprintf(out, outlen, "%u %s", d->n, w[d->unit]);
}

void lde_rules_default(lde_rules *r)
{
    memset(r, 0, sizeof *r);
    r->has_short_limits = 1;
    r->warn_before = (lde_dur){LDE_WORKING_DAYS, 10};
    r->remind_every = (lde_dur){LDE_WORKING_DAYS, 5};
    r->n_ladder = 3;
    r->ladder[0] = (lde_level){
        1, "督导", {LDE_DAYS, 0}, LDE_TO_SUPERVISION | LDE_TO_LEAD | LDE_TO_COORDINATORS};
    r->ladder[1] =
        (lde_level){2, "约谈", {LDE_WORKING_DAYS, 15}, LDE_TO_SUPERVISION | LDE_TO_COORDINATORS};
    r->ladder[2] = (lde_level){3, "问责", {LDE_DAYS, 30}, LDE_TO_SUPERVISION};
    r->ext_max = (lde_dur){LDE_DAYS, 60};
    r->has_ext_count = 1;
    r->ext_max_count = 1;
}

void lde_rules_merge(lde_rules *b, const lde_rules *o)
{
    if (o->has_short_limits) {
        b->has_short_limits = 1;
        b->short_limits = o->short_limits;
    }
    if (o->warn_before.unit)
        b->warn_before = o->warn_before;
    if (o->remind_every.unit)
        b->remind_every = o->remind_every;
    if (o->report_every[0])
        memcpy(b->report_every, o->report_every, sizeof b->report_every);
    if (o->n_ladder) {
        b->n_ladder = o->n_ladder;
        memcpy(b->ladder, o->ladder, sizeof b->ladder);
    }
    if (o->ext_max.unit)
        b->ext_max = o->ext_max;
    if (o->has_ext_count) {
        b->has_ext_count = 1;
        b->ext_max_count = o->ext_max_count;
    }
    if (o->limit.unit) {
        b->limit = o->limit;
        b->from = o->from;
    }
}

/* Weekend-only fallback for years without calendar data. */
static int plain_workday(int32_t d)
{
    return lde_day_weekday(d) <= 5;
}

static int32_t fb_step(int32_t day, uint32_t n, int dir)
{
    int32_t d = day;
    for (uint32_t left = n; left;) {
        d += dir;
        if (plain_workday(d))
            left--;
    }
    return d;
}

static int working(const lde_calendar *c, int32_t day, uint32_t n, int dir, int32_t *out, int *unv,
                   int *prov)
{
    int rc = dir > 0 ? lde_cal_add_working(c, day, n, out, prov)
                     : lde_cal_sub_working(c, day, n, out, prov);
    if (rc == LDE_NODATA) {
        *out = fb_step(day, n, dir);
        if (unv)
            *unv = 1;
    }
    return LD_OK;
}

static int32_t roll(const lde_calendar *c, int32_t d, int *unv, int *prov)
{
    int32_t o;
    if (lde_cal_next_workday(c, d, &o, prov) == LD_OK)
        return o;
    if (unv)
        *unv = 1;
    while (!plain_workday(d))
        d++;
    return d;
}

static int32_t add_months(int32_t day, int32_t months)
{
    int y, m, d;
    lde_day_civil(day, &y, &m, &d);
    int t = y * 12 + (m - 1) + months;
    y = t >= 0 ? t / 12 : (t - 11) / 12; /* floor: t < 0 when going back far enough */
    m = t - y * 12 + 1;
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int lim = md[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return lde_day_from_civil(y, m, d > lim ? lim : d);
}

int lde_dur_apply(const lde_calendar *c, const lde_rules *r, int32_t day, const lde_dur *d, int rl,
                  int32_t *out, int *unv, int *prov)
{
    int32_t o;
    switch (d->unit) {
    case LDE_WORKING_DAYS: return working(c, day, d->n, 1, out, unv, prov);
    case LDE_DAYS:
        if (r && r->has_short_limits && r->short_limits && d->n <= r->short_limits && d->n)
            return working(c, day, d->n, 1, out, unv, prov);
        o = day + (int32_t)d->n;
        break;
    case LDE_MONTHS: o = add_months(day, (int32_t)d->n); break;
    case LDE_YEARS: o = add_months(day, (int32_t)d->n * 12); break;
    default: return LD_ERR_INVALID;
    }
    *out = rl && d->n ? roll(c, o, unv, prov) : o;
    return LD_OK;
}

int lde_dur_back(const lde_calendar *c, const lde_rules *r, int32_t due, const lde_dur *d,
                 int32_t *out, int *unv, int *prov)
{
    switch (d->unit) {
    case LDE_WORKING_DAYS: return working(c, due, d->n, -1, out, unv, prov);
    case LDE_DAYS:
        if (r && r->has_short_limits && r->short_limits && d->n <= r->short_limits && d->n)
            return working(c, due, d->n, -1, out, unv, prov);
        *out = due - (int32_t)d->n;
        return LD_OK;
    case LDE_MONTHS: *out = add_months(due, -(int32_t)d->n); return LD_OK;
    case LDE_YEARS: *out = add_months(due, -(int32_t)d->n * 12); return LD_OK;
    default: return LD_ERR_INVALID;
    }
}

/* ---- YAML ---- */

typedef struct walker {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
} walker;

static int wfail(walker *w, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int wfail(walker *w, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s:%zu: %s", w->file, n ? n->start_mark.line + 1 : 1, msg);
    return LD_ERR_FORMAT;
}

static yaml_node_t *nget(walker *w, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(w->doc, p->value);
    }
    return NULL;
}

static const char *sc(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int dur_field(walker *w, const yaml_node_t *map, const char *key, lde_dur *out)
{
    yaml_node_t *n = nget(w, map, key);
    if (!n)
        return LD_OK;
    if (lde_dur_parse(sc(n), out) != LD_OK)
        return wfail(w, n,
                     "%s: \"%.40s\" is not a duration (N days, N working days, N months, "
                     "N years)",
                     key, sc(n) ? sc(n) : "?");
    return LD_OK;
}

static int uint_field(walker *w, const yaml_node_t *map, const char *key, int *has, uint32_t *out)
{
    yaml_node_t *n = nget(w, map, key);
    if (!n)
        return LD_OK;
    const char *s = sc(n);
    char *end = NULL;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v > 100000)
        return wfail(w, n, "%s must be a whole number", key);
    *has = 1;
    *out = (uint32_t)v;
    return LD_OK;
}

static int parse_notify(walker *w, const yaml_node_t *n, unsigned *out)
{
    *out = 0;
    if (!n)
        return LD_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return wfail(w, n, "notify must be a list of supervision, lead, coordinators, support");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const char *s = sc(yaml_document_get_node(w->doc, *it));
        if (s && strcmp(s, "supervision") == 0)
            *out |= LDE_TO_SUPERVISION;
        else if (s && strcmp(s, "lead") == 0)
            *out |= LDE_TO_LEAD;
        else if (s && strcmp(s, "coordinators") == 0)
            *out |= LDE_TO_COORDINATORS;
        else if (s && strcmp(s, "support") == 0)
            *out |= LDE_TO_SUPPORT;
        else
            return wfail(w, n,
                         "notify: \"%.40s\" is not supervision, lead, coordinators or support",
                         s ? s : "?");
    }
    return LD_OK;
}

static int parse_ladder(walker *w, const yaml_node_t *n, lde_rules *r)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return wfail(w, n, "ladder must be a list of levels");
    size_t k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, k++) {
        yaml_node_t *e = yaml_document_get_node(w->doc, *it);
        if (k == LDE_LEVELS_MAX)
            return wfail(w, e, "ladder: at most %d levels", LDE_LEVELS_MAX);
        if (!e || e->type != YAML_MAPPING_NODE)
            return wfail(w, n, "each ladder level is a mapping {level, name, after, notify}");
        lde_level *l = &r->ladder[k];
        int has = 0;
        int rc = uint_field(w, e, "level", &has, &l->level);
        if (rc != LD_OK)
            return rc;
        if (!has || l->level != k + 1)
            return wfail(w, e, "ladder levels are numbered 1, 2, ... in order (expected %zu)",
                         k + 1);
        const char *nm = sc(nget(w, e, "name"));
        snprintf(l->name, sizeof l->name, "%s", nm ? nm : "");
        if ((rc = dur_field(w, e, "after", &l->after)) != LD_OK)
            return rc;
        if (!l->after.unit)
            return wfail(w, e, "ladder level %u needs after: (e.g. 15 working days)", l->level);
        if ((rc = parse_notify(w, nget(w, e, "notify"), &l->notify)) != LD_OK)
            return rc;
        if (!l->notify)
            l->notify = LDE_TO_SUPERVISION;
    }
    r->n_ladder = k;
    return LD_OK;
}

static int parse_rules(walker *w, const yaml_node_t *n, lde_rules *r, int task_level)
{
    memset(r, 0, sizeof *r);
    if (!n)
        return LD_OK;
    if (n->type != YAML_MAPPING_NODE)
        return wfail(w, n, "escalation must be a mapping");
    static const char *const known[] = {"calendar",     "short_limits_in_working_days",
                                        "warn_before",  "remind_every",
                                        "report_every", "ladder",
                                        "extension",    "from",
                                        "limit"};
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = sc(yaml_document_get_node(w->doc, p->key));
        size_t i = 0;
        while (k && i < sizeof known / sizeof known[0] && strcmp(k, known[i]) != 0)
            i++;
        if (!k || i == sizeof known / sizeof known[0])
            return wfail(w, yaml_document_get_node(w->doc, p->key),
                         "escalation: unknown field \"%.40s\"", k ? k : "?");
    }
    const char *cal = sc(nget(w, n, "calendar"));
    if (cal && strcmp(cal, "cn") != 0)
        return wfail(w, nget(w, n, "calendar"), "calendar: only cn is known");
    int rc;
    if ((rc = uint_field(w, n, "short_limits_in_working_days", &r->has_short_limits,
                         &r->short_limits)) != LD_OK ||
        (rc = dur_field(w, n, "warn_before", &r->warn_before)) != LD_OK ||
        (rc = dur_field(w, n, "remind_every", &r->remind_every)) != LD_OK)
        return rc;
    if (r->remind_every.unit && !r->remind_every.n)
        return wfail(w, nget(w, n, "remind_every"), "remind_every must be more than 0");
    yaml_node_t *re = nget(w, n, "report_every");
    if (re) {
        const char *s = sc(re);
        static const char *const ok[] = {"none", "month", "quarter", "half-year", "year"};
        size_t i = 0;
        while (s && i < 5 && strcmp(s, ok[i]) != 0)
            i++;
        if (!s || i == 5)
            return wfail(w, re, "report_every must be none, month, quarter, half-year or year");
        snprintf(r->report_every, sizeof r->report_every, "%s", s);
    }
    yaml_node_t *ld = nget(w, n, "ladder");
    if (ld && (rc = parse_ladder(w, ld, r)) != LD_OK)
        return rc;
    yaml_node_t *ext = nget(w, n, "extension");
    if (ext) {
        if (ext->type != YAML_MAPPING_NODE)
            return wfail(w, ext, "extension must be a mapping {max, max_count}");
        if ((rc = dur_field(w, ext, "max", &r->ext_max)) != LD_OK ||
            (rc = uint_field(w, ext, "max_count", &r->has_ext_count, &r->ext_max_count)) != LD_OK)
            return rc;
    }
    yaml_node_t *from = nget(w, n, "from"), *lim = nget(w, n, "limit");
    if ((from || lim) && !task_level)
        return wfail(w, from ? from : lim, "from and limit belong to a task's escalation");
    if (!!from != !!lim)
        return wfail(w, from ? from : lim, "from and limit go together (due = from + limit)");
    if (from) {
        if (lde_day_parse(sc(from), &r->from) != LD_OK)
            return wfail(w, from, "from must be a date YYYY-MM-DD");
        if ((rc = dur_field(w, n, "limit", &r->limit)) != LD_OK)
            return rc;
    }
    return LD_OK;
}

static int load_doc(walker *w, yaml_parser_t *yp, const void *buf, size_t len)
{
    if (!yaml_parser_initialize(yp))
        return LD_ERR_NOMEM;
    yaml_parser_set_input_string(yp, buf, len);
    if (!yaml_parser_load(yp, w->doc)) {
        snprintf(w->err, w->errlen, "%s:%zu: not valid YAML: %s", w->file,
                 yp->problem_mark.line + 1, yp->problem ? yp->problem : "syntax error");
        yaml_parser_delete(yp);
        return LD_ERR_FORMAT;
    }
    return LD_OK;
}

void lde_plan_rules_destroy(lde_plan_rules **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->tasks);
    free(*pp);
    *pp = NULL;
}

const lde_rules *lde_plan_rules_task(const lde_plan_rules *p, const char *task)
{
    for (size_t i = 0; p && i < p->n_tasks; i++)
        if (strcmp(p->tasks[i].task, task) == 0)
            return &p->tasks[i].r;
    return NULL;
}

int lde_plan_rules_parse(const char *file, const void *buf, size_t len, lde_plan_rules **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    yaml_document_t doc;
    yaml_parser_t yp;
    walker w = {&doc, file ? file : "plan", err, errlen};
    int rc = load_doc(&w, &yp, buf, len);
    if (rc != LD_OK)
        return rc;
    lde_plan_rules *p = calloc(1, sizeof *p);
    if (!p) {
        rc = LD_ERR_NOMEM;
        goto done;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    const char *id = sc(nget(&w, nget(&w, root, "plan"), "id"));
    if (!id || strlen(id) > LDE_ID_MAX) {
        rc = wfail(&w, root, "plan: id is missing");
        goto done;
    }
    snprintf(p->plan, sizeof p->plan, "%s", id);
    yaml_node_t *sec = nget(&w, root, "escalation");
    p->has_section = sec != NULL;
    if ((rc = parse_rules(&w, sec, &p->r, 0)) != LD_OK)
        goto done;
    yaml_node_t *tasks = nget(&w, root, "tasks");
    if (tasks && tasks->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(tasks->data.sequence.items.top - tasks->data.sequence.items.start);
        p->tasks = n ? calloc(n, sizeof *p->tasks) : NULL;
        if (n && !p->tasks) {
            rc = LD_ERR_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *t = yaml_document_get_node(&doc, tasks->data.sequence.items.start[i]);
            yaml_node_t *te = nget(&w, t, "escalation");
            const char *tid = sc(nget(&w, t, "id"));
            if (!te || !tid || strlen(tid) > LDE_ID_MAX)
                continue;
            lde_task_rules *tr = &p->tasks[p->n_tasks];
            snprintf(tr->task, sizeof tr->task, "%s", tid);
            if ((rc = parse_rules(&w, te, &tr->r, 1)) != LD_OK)
                goto done;
            p->n_tasks++;
        }
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (rc == LD_OK)
        *out = p;
    else
        lde_plan_rules_destroy(&p);
    return rc;
}

int lde_rules_parse_text(const char *yaml, lde_rules *out, char *err, size_t errlen)
{
    yaml_document_t doc;
    yaml_parser_t yp;
    walker w = {&doc, "rules", err, errlen};
    int rc = load_doc(&w, &yp, yaml, strlen(yaml));
    if (rc != LD_OK)
        return rc;
    rc = parse_rules(&w, yaml_document_get_root_node(&doc), out, 1);
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    return rc;
}

/* ---- the plugin config ---- */

void lde_config_clear(lde_config *c)
{
    free(c->calendar_file);
    for (size_t i = 0; i < c->n_calendar_files; i++)
        free(c->calendar_files[i]);
    free(c->calendar_files);
    for (size_t i = 0; i < c->n_plans; i++)
        free(c->plans[i]);
    free(c->plans);
    memset(c, 0, sizeof *c);
}

static int path_list(walker *w, const yaml_node_t *n, const char *key, char ***out, size_t *nout)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return wfail(w, n, "escalation config: %s must be a list of file paths", key);
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *out = cnt ? calloc(cnt, sizeof **out) : NULL;
    if (cnt && !*out)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = sc(yaml_document_get_node(w->doc, n->data.sequence.items.start[i]));
        if (!s || !*s)
            return wfail(w, n, "escalation config: entry %zu of %s is not a path", i + 1, key);
        if (!((*out)[i] = strdup(s)))
            return LD_ERR_NOMEM;
        (*nout)++;
    }
    return LD_OK;
}

/* 1 if a pair of map before p has the key k. */
static int key_before(walker *w, const yaml_node_t *map, const yaml_node_pair_t *p, const char *k)
{
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
        const char *qk = sc(yaml_document_get_node(w->doc, q->key));
        if (qk && strcmp(qk, k) == 0)
            return 1;
    }
    return 0;
}

int lde_config_parse(const char *yaml, lde_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    lde_rules_default(&c->deflt);
    if (!yaml || !*yaml)
        return LD_OK;
    yaml_document_t doc;
    yaml_parser_t yp;
    walker w = {&doc, "escalation config", err, errlen};
    int rc = load_doc(&w, &yp, yaml, strlen(yaml));
    if (rc != LD_OK)
        return rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             rc == LD_OK && p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            const char *k = sc(kn);
            if (!k || !v)
                rc = wfail(&w, kn, "a setting name must be a word");
            else if (key_before(&w, root, p, k))
                rc = wfail(&w, kn, "%.40s is given twice", k);
            else if (strcmp(k, "calendar_file") == 0) {
                if (!sc(v) || !*sc(v))
                    rc = wfail(&w, v, "calendar_file must be a path");
                else if (!(c->calendar_file = strdup(sc(v))))
                    rc = LD_ERR_NOMEM;
            } else if (strcmp(k, "calendar_files") == 0)
                rc = path_list(&w, v, k, &c->calendar_files, &c->n_calendar_files);
            else if (strcmp(k, "plans") == 0)
                rc = path_list(&w, v, k, &c->plans, &c->n_plans);
            else if (strcmp(k, "default") == 0) {
                lde_rules r;
                if ((rc = parse_rules(&w, v, &r, 0)) == LD_OK) {
                    lde_rules_merge(&c->deflt, &r);
                    c->has_default = 1;
                }
            } else if (strcmp(k, "catchup_max") == 0) {
                const char *s = sc(v);
                char *end = NULL;
                unsigned long x = s ? strtoul(s, &end, 10) : 0;
                if (!s || *end || !x || x > 100000000)
                    rc = wfail(&w, v, "catchup_max must be a positive number");
                c->catchup_max = (uint32_t)x;
            } else
                rc =
                    wfail(&w, kn,
                          "unknown setting '%.40s' (calendar_file, calendar_files, plans, default, "
                          "catchup_max are known)",
                          k);
        }
    } else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length))
        rc = wfail(&w, root, "escalation config must be a mapping");
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (rc != LD_OK)
        lde_config_clear(c);
    return rc;
}
