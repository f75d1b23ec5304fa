/* plan_parse.c - plan files (YAML, via libyaml's document loader) into
 * ldp_plan. See plan.h and docs/plans.md. */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "liandong/error.h"
#include "liandong/plugin.h"
#include "text.h"

/* Bounds that keep a hostile file cheap to check. */
#define LIST_MAX 512    /* principals in one list */
#define TASKS_MAX 10000 /* tasks in one plan */
#define TARGETS_MAX 256 /* targets of one task */
#define WARNINGS_MAX 20 /* warnings logged per file */
#define DEPTH_MAX 16    /* nested collections (a plan needs 4) */

typedef struct parser {
    const ldp_parse_opts *o;
    yaml_document_t *doc;
    char file[220];
    char *err;
    size_t errlen;
    unsigned warnings;
} parser;

static int fail(parser *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, size_t line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errlen)
        snprintf(p->err, p->errlen, "%s:%zu: %s", p->file, line, msg);
    return LD_ERR_FORMAT;
}

static void warn(parser *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(parser *p, size_t line, const char *fmt, ...)
{
    if (!p->o->warn || p->warnings > WARNINGS_MAX)
        return;
    char msg[400], full[700];
    if (p->warnings++ == WARNINGS_MAX) {
        snprintf(full, sizeof full, "%s: more than %d warnings; the rest are not shown", p->file,
                 WARNINGS_MAX);
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(full, sizeof full, "%s:%zu: %s", p->file, line, msg);
    }
    p->o->warn(p->o->warn_arg, full);
}

static size_t line_of(const yaml_node_t *n)
{
    return n->start_mark.line + 1;
}

static yaml_node_t *node(parser *p, int i)
{
    return yaml_document_get_node(p->doc, i);
}

static const char *kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a text";
    }
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* null, ~ or nothing, unquoted. */
static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = sval(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

/* A short, printable rendering of a scalar for messages. */
static const char *q(const yaml_node_t *n, char *buf, size_t len)
{
    ldp_quote(n->type == YAML_SCALAR_NODE ? sval(n) : "", 48, buf, len);
    return buf;
}

/* n must be a text with no NUL and valid UTF-8. */
static int scalar_ok(parser *p, const char *ctx, const char *field, yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, line_of(n), "%s: %s must be a text, not %s", ctx, field, kind(n));
    if (strlen(sval(n)) != n->data.scalar.length)
        return fail(p, line_of(n), "%s: %s contains a NUL character", ctx, field);
    if (!ldp_utf8_valid(sval(n), n->data.scalar.length))
        return fail(p, line_of(n), "%s: %s is not valid UTF-8", ctx, field);
    return LD_OK;
}

static int copy_text(parser *p, const char *ctx, const char *field, yaml_node_t *n, char **out)
{
    int rc = scalar_ok(p, ctx, field, n);
    if (rc != LD_OK)
        return rc;
    char *s = strdup(is_null(n) ? "" : sval(n));
    if (!s)
        return LD_ERR_NOMEM;
    free(*out);
    *out = s;
    return LD_OK;
}

/* A required, non-empty text. */
static int required_text(parser *p, const char *ctx, const char *field, yaml_node_t *n,
                         size_t map_line, char **out)
{
    if (!n)
        return fail(p, map_line, "%s: %s is missing", ctx, field);
    int rc = copy_text(p, ctx, field, n, out);
    if (rc == LD_OK && !**out)
        return fail(p, line_of(n), "%s: %s is empty", ctx, field);
    return rc;
}

static int id_field(parser *p, const char *ctx, const char *field, yaml_node_t *n, size_t map_line,
                    char **out)
{
    int rc = required_text(p, ctx, field, n, map_line, out);
    if (rc != LD_OK)
        return rc;
    if (!ldp_id_valid(*out)) {
        char b[64];
        return fail(p, line_of(n), "%s: %s \"%s\" is not an id (1 to %d of a-z 0-9 . _ -)", ctx,
                    field, q(n, b, sizeof b), LDP_ID_MAX);
    }
    return LD_OK;
}

int ldp_strv_has(const ldp_strv *v, const char *id)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], id) == 0)
            return 1;
    return 0;
}

static void strv_clear(ldp_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

/* A list of principal ids, each in the roster, none twice. */
static int id_list(parser *p, const char *ctx, const char *field, yaml_node_t *n, size_t map_line,
                   int required, ldp_strv *out)
{
    if (!n || is_null(n)) {
        if (required)
            return fail(p, n ? line_of(n) : map_line, "%s: %s must list at least one principal",
                        ctx, field);
        return LD_OK;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(p, line_of(n), "%s: %s must be a list of principal ids like [mdj.gxj], not %s",
                    ctx, field, kind(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > LIST_MAX)
        return fail(p, line_of(n), "%s: %s lists %zu principals; at most %d are allowed", ctx,
                    field, count, LIST_MAX);
    if (required && count == 0)
        return fail(p, line_of(n), "%s: %s must list at least one principal", ctx, field);
    strv_clear(out);
    if (!count)
        return LD_OK;
    out->v = calloc(count, sizeof *out->v);
    if (!out->v)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *e = node(p, n->data.sequence.items.start[i]);
        char b[64];
        if (!e || e->type != YAML_SCALAR_NODE)
            return fail(p, e ? line_of(e) : line_of(n), "%s: %s must hold principal ids, not %s",
                        ctx, field, e ? kind(e) : "nothing");
        int rc = scalar_ok(p, ctx, field, e);
        if (rc != LD_OK)
            return rc;
        if (!ldp_id_valid(sval(e)))
            return fail(p, line_of(e),
                        "%s: \"%s\" in %s is not a principal id (1 to %d of a-z 0-9 . _ -)", ctx,
                        q(e, b, sizeof b), field, LDP_ID_MAX);
        if (ldp_strv_has(out, sval(e)))
            return fail(p, line_of(e), "%s: %s lists %s twice", ctx, field, sval(e));
        unsigned roles = 0;
        if (p->o->roster && p->o->roster(p->o->roster_arg, sval(e), &roles) != LD_OK)
            return fail(p, line_of(e),
                        "%s: unknown principal %s in %s (not in the broker's roster)", ctx, sval(e),
                        field);
        if (p->o->roster && strcmp(field, "coordinators") == 0 && !(roles & LD_ROLE_COORDINATOR))
            warn(p, line_of(e),
                 "%s: coordinator %s lacks the coordinator role in the roster and cannot publish",
                 ctx, sval(e));
        out->v[out->n] = strdup(sval(e));
        if (!out->v[out->n])
            return LD_ERR_NOMEM;
        out->n++;
    }
    return LD_OK;
}

/* Walk a mapping's pairs: known fields into vals[] (by their index in
 * names), unknown ones warned about. Refuses non-text keys and a known
 * field given twice. */
static int fields(parser *p, const char *ctx, yaml_node_t *map, const char *const *names,
                  size_t n_names, yaml_node_t **vals)
{
    for (size_t i = 0; i < n_names; i++)
        vals[i] = NULL;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return fail(p, k ? line_of(k) : line_of(map), "%s: field names must be plain words",
                        ctx);
        size_t i = 0;
        while (i < n_names && strcmp(sval(k), names[i]) != 0)
            i++;
        if (i == n_names) {
            char b[64];
            /* escalation: (file and task level) belongs to the escalation plugin. */
            if (strcmp(sval(k), "escalation") != 0)
                warn(p, line_of(k), "%s: unknown field \"%s\" ignored", ctx, q(k, b, sizeof b));
            continue;
        }
        if (vals[i])
            return fail(p, line_of(k), "%s: %s is given twice (first at line %zu)", ctx, names[i],
                        line_of(vals[i]));
        vals[i] = v;
    }
    return LD_OK;
}

static int expect_mapping(parser *p, yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, line_of(n), "%s must be a mapping of fields, not %s", what, kind(n));
    return LD_OK;
}

enum { P_ID, P_DOC, P_TITLE, P_COORD, P_SUPER, P_N };
static const char *const plan_fields[P_N] = {"id", "doc_number", "title", "coordinators",
                                             "supervision"};

static int parse_header(parser *p, yaml_node_t *n, ldp_plan *plan)
{
    int rc = expect_mapping(p, n, "plan");
    if (rc != LD_OK)
        return rc;
    yaml_node_t *f[P_N];
    plan->line = line_of(n);
    if ((rc = fields(p, "plan", n, plan_fields, P_N, f)) != LD_OK ||
        (rc = id_field(p, "plan", "id", f[P_ID], plan->line, &plan->id)) != LD_OK)
        return rc;
    if (f[P_DOC])
        rc = copy_text(p, "plan", "doc_number", f[P_DOC], &plan->doc_number);
    else if (!(plan->doc_number = strdup("")))
        rc = LD_ERR_NOMEM;
    if (rc == LD_OK)
        rc = required_text(p, "plan", "title", f[P_TITLE], plan->line, &plan->title);
    if (rc == LD_OK)
        rc = id_list(p, "plan", "coordinators", f[P_COORD], plan->line, 1, &plan->coordinators);
    if (rc == LD_OK)
        rc = id_list(p, "plan", "supervision", f[P_SUPER], plan->line, 0, &plan->supervision);
    return rc;
}

int ldp_report_every_valid(const char *s)
{
    static const char *const ok[] = {"none", "month", "quarter", "half-year", "year"};
    for (size_t i = 0; s && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return 1;
    return 0;
}

enum { G_YEAR, G_TEXT, G_N };
static const char *const target_fields[G_N] = {"year", "text"};

static int parse_year(parser *p, const char *ctx, yaml_node_t *n, int32_t *year)
{
    char b[64];
    *year = 0;
    if (!n || is_null(n))
        return LD_OK;
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, line_of(n), "%s: target year must be an integer or null, not %s", ctx,
                    kind(n));
    const char *s = sval(n);
    size_t len = n->data.scalar.length;
    int ok = len >= 1 && len <= 4;
    long y = 0;
    for (size_t i = 0; ok && i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            ok = 0;
        else
            y = y * 10 + (s[i] - '0');
    }
    if (!ok || y < 1)
        return fail(p, line_of(n), "%s: target year \"%s\" is not an integer year or null", ctx,
                    q(n, b, sizeof b));
    *year = (int32_t)y;
    return LD_OK;
}

static int parse_targets(parser *p, const char *ctx, yaml_node_t *n, ldp_task *t)
{
    if (!n || is_null(n))
        return LD_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(p, line_of(n), "%s: targets must be a list of {year, text}, not %s", ctx,
                    kind(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > TARGETS_MAX)
        return fail(p, line_of(n), "%s: %zu targets; at most %d are allowed", ctx, count,
                    TARGETS_MAX);
    if (!count)
        return LD_OK;
    t->targets = calloc(count, sizeof *t->targets);
    if (!t->targets)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *e = node(p, n->data.sequence.items.start[i]);
        char tctx[128];
        snprintf(tctx, sizeof tctx, "%s: target %zu", ctx, i + 1);
        if (!e || e->type != YAML_MAPPING_NODE)
            return fail(p, e ? line_of(e) : line_of(n), "%s must be a mapping {year, text}, not %s",
                        tctx, e ? kind(e) : "nothing");
        yaml_node_t *f[G_N];
        int rc = fields(p, tctx, e, target_fields, G_N, f);
        if (rc == LD_OK)
            rc = parse_year(p, tctx, f[G_YEAR], &t->targets[t->n_targets].year);
        t->n_targets++; /* so that text is freed on failure */
        if (rc == LD_OK)
            rc = required_text(p, tctx, "text", f[G_TEXT], line_of(e),
                               &t->targets[t->n_targets - 1].text);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

enum { T_ID, T_TITLE, T_LEAD, T_SUPPORT, T_DUE, T_EVERY, T_TARGETS, T_N };
static const char *const task_fields[T_N] = {"id",  "title",        "lead",   "support",
                                             "due", "report_every", "targets"};

static int parse_task(parser *p, yaml_node_t *n, size_t index, ldp_task *t)
{
    char ctx[96], b[64];
    snprintf(ctx, sizeof ctx, "task #%zu", index + 1);
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, line_of(n), "%s must be a mapping of fields (id, title, lead, ...), not %s",
                    ctx, kind(n));
    t->line = line_of(n);
    /* Name the task by its id in every message, when it has a usable one. */
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        if (k && v && k->type == YAML_SCALAR_NODE && strcmp(sval(k), "id") == 0 &&
            v->type == YAML_SCALAR_NODE && ldp_id_valid(sval(v))) {
            snprintf(ctx, sizeof ctx, "task %s", sval(v));
            break;
        }
    }
    yaml_node_t *f[T_N];
    int rc = fields(p, ctx, n, task_fields, T_N, f);
    if (rc == LD_OK)
        rc = id_field(p, ctx, "id", f[T_ID], t->line, &t->id);
    if (rc != LD_OK)
        return rc;
    snprintf(ctx, sizeof ctx, "task %s", t->id);
    if ((rc = required_text(p, ctx, "title", f[T_TITLE], t->line, &t->title)) != LD_OK ||
        (rc = id_list(p, ctx, "lead", f[T_LEAD], t->line, 1, &t->lead)) != LD_OK ||
        (rc = id_list(p, ctx, "support", f[T_SUPPORT], t->line, 0, &t->support)) != LD_OK)
        return rc;
    if (!f[T_DUE])
        return fail(p, t->line, "%s: due is missing (a date, YYYY-MM-DD)", ctx);
    if ((rc = copy_text(p, ctx, "due", f[T_DUE], &t->due)) != LD_OK)
        return rc;
    if (!ldp_date_valid(t->due))
        return fail(p, line_of(f[T_DUE]), "%s: due \"%s\" is not a date (YYYY-MM-DD)", ctx,
                    q(f[T_DUE], b, sizeof b));
    if (f[T_EVERY] && !is_null(f[T_EVERY])) {
        if ((rc = copy_text(p, ctx, "report_every", f[T_EVERY], &t->report_every)) != LD_OK)
            return rc;
        if (!ldp_report_every_valid(t->report_every))
            return fail(p, line_of(f[T_EVERY]),
                        "%s: report_every \"%s\" is not one of none, month, quarter, half-year, "
                        "year",
                        ctx, q(f[T_EVERY], b, sizeof b));
    } else {
        const char *d = p->o->report_default ? p->o->report_default : LDP_REPORT_DEFAULT;
        if (!(t->report_every = strdup(d)))
            return LD_ERR_NOMEM;
    }
    return parse_targets(p, ctx, f[T_TARGETS], t);
}

static int cmp_task(const void *a, const void *b)
{
    const ldp_task *x = *(const ldp_task *const *)a, *y = *(const ldp_task *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int check_unique(parser *p, ldp_plan *plan)
{
    if (plan->n_tasks < 2)
        return LD_OK;
    const ldp_task **v = malloc(plan->n_tasks * sizeof *v);
    if (!v)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < plan->n_tasks; i++)
        v[i] = &plan->tasks[i];
    qsort(v, plan->n_tasks, sizeof *v, cmp_task);
    const ldp_task *dup = NULL, *first = NULL;
    for (size_t i = 1; i < plan->n_tasks; i++) {
        if (strcmp(v[i - 1]->id, v[i]->id) == 0 && (!dup || v[i]->line < dup->line)) {
            dup = v[i];
            first = v[i - 1];
        }
    }
    free(v);
    if (dup)
        return fail(p, dup->line, "task %s: duplicate task id (also at line %zu)", dup->id,
                    first->line);
    return LD_OK;
}

enum { R_PLAN, R_TASKS, R_N };
static const char *const root_fields[R_N] = {"plan", "tasks"};

static int parse_doc(parser *p, ldp_plan *plan)
{
    yaml_node_t *root = yaml_document_get_root_node(p->doc);
    if (!root || is_null(root))
        return fail(p, 1, "the file is empty; a plan file has a plan: and a tasks: section");
    if (root->type != YAML_MAPPING_NODE)
        return fail(p, line_of(root), "a plan file must be a mapping with plan: and tasks:, not %s",
                    kind(root));
    yaml_node_t *f[R_N];
    int rc = fields(p, "file", root, root_fields, R_N, f);
    if (rc != LD_OK)
        return rc;
    if (!f[R_PLAN])
        return fail(p, line_of(root), "the plan: section is missing");
    if ((rc = parse_header(p, f[R_PLAN], plan)) != LD_OK)
        return rc;
    if (!f[R_TASKS])
        return fail(p, line_of(root),
                    "the tasks: section is missing (it may be an empty list, [])");
    yaml_node_t *tasks = f[R_TASKS];
    if (is_null(tasks))
        return LD_OK;
    if (tasks->type != YAML_SEQUENCE_NODE)
        return fail(p, line_of(tasks), "tasks must be a list of tasks, not %s", kind(tasks));
    size_t count = (size_t)(tasks->data.sequence.items.top - tasks->data.sequence.items.start);
    if (count > TASKS_MAX)
        return fail(p, line_of(tasks), "the plan has %zu tasks; at most %d are allowed", count,
                    TASKS_MAX);
    if (count && !(plan->tasks = calloc(count, sizeof *plan->tasks)))
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *t = node(p, tasks->data.sequence.items.start[i]);
        plan->n_tasks++;
        if (!t)
            return fail(p, line_of(tasks), "task #%zu is missing", i + 1);
        if ((rc = parse_task(p, t, i, &plan->tasks[i])) != LD_OK)
            return rc;
    }
    return check_unique(p, plan);
}

/* 1-based line of byte offset off in buf. */
static size_t line_at(const char *buf, size_t len, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        line += buf[i] == '\n';
    return line;
}

static int yaml_error(parser *p, yaml_parser_t *yp, const char *buf, size_t len)
{
    const char *what = yp->problem ? yp->problem : "not valid YAML";
    if (yp->error == YAML_MEMORY_ERROR)
        return LD_ERR_NOMEM;
    if (yp->error == YAML_READER_ERROR) {
        /* The reader checks the encoding; it gives an offset, not a mark. */
        if (strstr(what, "UTF-8") || strstr(what, "Unicode"))
            return fail(p, line_at(buf, len, yp->problem_offset),
                        "invalid UTF-8 (%s at byte %zu); plan files are UTF-8", what,
                        yp->problem_offset);
        return fail(p, line_at(buf, len, yp->problem_offset), "%s (byte %zu)", what,
                    yp->problem_offset);
    }
    if (yp->context)
        return fail(p, yp->problem_mark.line + 1, "YAML: %s %s (line %zu)", what, yp->context,
                    yp->context_mark.line + 1);
    return fail(p, yp->problem_mark.line + 1, "YAML: %s", what);
}

/* A first pass over the events: refuse aliases (plan files have no use for
 * them, and they multiply the work of a walk) and deep nesting (libyaml's
 * scanner slows down quadratically with flow nesting) before building the
 * document. LD_OK, LD_ERR_FORMAT (err set) or LD_ERR_NOMEM. */
static int prescan(parser *p, const char *text, size_t len)
{
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return LD_ERR_NOMEM;
    yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    int rc = LD_OK, depth = 0, done = 0;
    while (rc == LD_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            rc = yaml_error(p, &yp, text, len);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_ALIAS_EVENT:
            rc = fail(p, ev.start_mark.line + 1,
                      "YAML aliases (*name) are not allowed in plan files; write the value out");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > DEPTH_MAX)
                rc = fail(p, ev.start_mark.line + 1,
                          "lists and mappings are nested more than %d deep", DEPTH_MAX);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return rc;
}

void ldp_plan_destroy(ldp_plan **pp)
{
    if (!pp || !*pp)
        return;
    ldp_plan *p = *pp;
    for (size_t i = 0; i < p->n_tasks; i++) {
        ldp_task *t = &p->tasks[i];
        free(t->id);
        free(t->title);
        strv_clear(&t->lead);
        strv_clear(&t->support);
        free(t->due);
        free(t->report_every);
        for (size_t j = 0; j < t->n_targets; j++)
            free(t->targets[j].text);
        free(t->targets);
    }
    free(p->tasks);
    free(p->id);
    free(p->doc_number);
    free(p->title);
    strv_clear(&p->coordinators);
    strv_clear(&p->supervision);
    free(p);
    *pp = NULL;
}

int ldp_plan_parse(const ldp_parse_opts *o, const void *buf, size_t len, ldp_plan **out, char *err,
                   size_t errlen)
{
    static const ldp_parse_opts none = {0};
    parser p = {.o = o ? o : &none, .err = err, .errlen = errlen};
    ldp_quote(p.o->file_name && *p.o->file_name ? p.o->file_name : "plan", 200, p.file,
              sizeof p.file);
    *out = NULL;
    if (errlen)
        err[0] = 0;
    if (len > LDP_PLAN_MAX_BYTES) {
        snprintf(err, errlen, "%s: the file is %zu bytes; a plan file may have at most %u", p.file,
                 len, LDP_PLAN_MAX_BYTES);
        return LD_ERR_FORMAT;
    }
    if (!buf)
        len = 0;
    const char *text = buf ? buf : "";
    int rc = prescan(&p, text, len);
    if (rc != LD_OK) {
        if (rc == LD_ERR_NOMEM && errlen)
            snprintf(err, errlen, "%s: out of memory reading the plan", p.file);
        return rc;
    }
    ldp_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return LD_ERR_NOMEM;
    yaml_parser_t yp;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&yp)) {
        free(plan);
        return LD_ERR_NOMEM;
    }
    yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        rc = yaml_error(&p, &yp, text, len);
        yaml_parser_delete(&yp);
        ldp_plan_destroy(&plan);
        return rc;
    }
    p.doc = &doc;
    rc = parse_doc(&p, plan);
    if (rc == LD_OK) {
        /* One document per file. */
        yaml_document_t next;
        if (!yaml_parser_load(&yp, &next)) {
            rc = yaml_error(&p, &yp, text, len);
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&next);
            if (r)
                rc = fail(&p, line_of(r),
                          "a plan file holds one YAML document; a second one "
                          "starts here");
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (rc != LD_OK) {
        if (rc == LD_ERR_NOMEM && errlen)
            snprintf(err, errlen, "%s: out of memory reading the plan", p.file);
        ldp_plan_destroy(&plan);
        return rc;
    }
    *out = plan;
    return LD_OK;
}
