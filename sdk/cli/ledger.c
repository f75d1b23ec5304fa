/* ledger.c - `liandong ledger` and `liandong tasks`: the task ledger as a
 * table for people (lined up by display width) or one JSON document. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define TITLE_COLS 30 /* titles are cut to this many columns, with … */
#define LEAD_COLS 24

static const char ledger_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] ledger [--plan PLAN] [--dept ID] [--state STATE]\n"
    "                [--overdue] [--json] [--wide]\n"
    "\n"
    "Print the task ledger: one line per task with its plan, id, title, lead\n"
    "departments, state, progress, due date, whether it is overdue, and its\n"
    "escalation level. A 督办函 (supervision letter) is a row of its own: its id,\n"
    "the departments addressed, its deadline as due date, done once all answered.\n"
    "Coordinators and supervision read their plans; a department is refused (it\n"
    "has 'liandong tasks').\n"
    "\n"
    "Options:\n"
    "  --plan PLAN     only this plan\n"
    "  --dept ID       only tasks where this department leads or supports\n"
    "  --state STATE   only tasks in this state: assigned, accepted, in_progress,\n"
    "                  done, blocked\n"
    "  --overdue       only tasks past their due date and not done\n"
    "  --json          one JSON document: {\"tasks\":[{\"plan\",\"task\",\"kind\"\n"
    "                  (\"task\", or \"letter\" with \"about\" and \"issued_by\"),\"title\",\n"
    "                  \"lead\":[...],\"support\":[...],\"state\",\"progress\",\"due\",\n"
    "                  \"last_report_at\" (RFC 3339 UTC or null),\"overdue\",\n"
    "                  \"escalation_level\", then \"doc_number\",\"plan_title\",\n"
    "                  \"report_every\",\"accepted_by\",\"reports\":[{\"dept\",\"at\",\n"
    "                  \"state\",\"progress\",\"note\"}],\"plan_due\" (the plan's date;\n"
    "                  \"due\" is the date in force)}...]}\n"
    "  --wide          do not cut long titles and lead lists\n"
    "  --help          show this help\n";

static const char tasks_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] tasks [--json] [--wide]\n"
    "\n"
    "Print your own tasks (any department may ask): plan, id, your role (lead or\n"
    "support), title, state, progress, due date, overdue; and the 督办函 addressed\n"
    "to you (role lead; answer with 'liandong letter answer').\n"
    "\n"
    "Options:\n"
    "  --json    one JSON document, as 'liandong ledger --json' with a \"role\"\n"
    "            field added to each task\n"
    "  --wide    do not cut long titles\n"
    "  --help    show this help\n";

/* ---- shared ---------------------------------------------------------------------- */

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *time_or_null(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[64];
    ld_cli_time_utc(ms, buf, sizeof buf);
    return json_string(buf);
}

static const char *role_of(const ld_ledger_task *t, const char *me)
{
    for (size_t i = 0; i < t->n_lead; i++)
        if (strcmp(t->lead[i], me) == 0)
            return "lead";
    for (size_t i = 0; i < t->n_support; i++)
        if (strcmp(t->support[i], me) == 0)
            return "support";
    return "-";
}

/* One task as JSON; me != NULL adds "role". */
static json_t *task_json(const ld_ledger_task *t, const char *me)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "plan", json_string(t->plan));
    json_object_set_new(o, "task", json_string(t->task));
    json_object_set_new(o, "kind", json_string(t->kind[0] ? t->kind : "task"));
    if (t->kind[0]) {
        json_object_set_new(o, "about", json_string(t->about));
        json_object_set_new(o, "issued_by", json_string(t->issued_by));
    }
    json_object_set_new(o, "title", json_string(t->title));
    json_object_set_new(o, "lead", str_array(t->lead, t->n_lead));
    json_object_set_new(o, "support", str_array(t->support, t->n_support));
    json_object_set_new(o, "state", json_string(ld_task_state_name(t->state)));
    json_object_set_new(o, "progress", json_integer(t->progress));
    json_object_set_new(o, "due", t->due[0] ? json_string(t->due) : json_null());
    json_object_set_new(o, "last_report_at", time_or_null(t->last_report_at_ms));
    json_object_set_new(o, "overdue", json_boolean(t->overdue));
    json_object_set_new(o, "escalation_level", json_integer(t->escalation_level));
    if (me)
        json_object_set_new(o, "role", json_string(role_of(t, me)));
    json_object_set_new(o, "doc_number", json_string(t->doc_number));
    json_object_set_new(o, "plan_title", json_string(t->plan_title));
    json_object_set_new(o, "report_every", json_string(t->report_every));
    json_object_set_new(o, "accepted_by", str_array(t->accepted_by, t->n_accepted_by));
    json_t *reps = json_array();
    for (size_t i = 0; reps && i < t->n_reports; i++) {
        const ld_dept_report *r = &t->reports[i];
        json_t *x = json_object();
        json_object_set_new(x, "dept", json_string(r->dept));
        json_object_set_new(x, "at", time_or_null(r->at_ms));
        json_object_set_new(x, "state", json_string(ld_task_state_name(r->state)));
        json_object_set_new(x, "progress", json_integer(r->progress));
        json_object_set_new(x, "note", json_string(r->note));
        json_array_append_new(reps, x);
    }
    json_object_set_new(o, "reports", reps);
    json_object_set_new(o, "plan_due", t->plan_due[0] ? json_string(t->plan_due) : json_null());
    return o;
}

static int print_json(const ld_ledger *l, const char *me)
{
    json_t *root = json_object(), *arr = json_array();
    int bad = !root || !arr;
    for (size_t i = 0; !bad && i < l->n_tasks; i++) {
        json_t *o = task_json(&l->tasks[i], me);
        bad = !o || json_array_append_new(arr, o) != 0;
    }
    char *s = NULL;
    if (!bad && json_object_set_new(root, "tasks", arr) == 0) {
        arr = NULL;
        /* No JSON_ENSURE_ASCII: Chinese stays readable UTF-8. */
        s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref(arr);
    json_decref(root);
    if (!s)
        return -1;
    int w = puts(s) < 0 ? -1 : 0;
    free(s);
    return w;
}

static void join_ids(const char *const *v, size_t n, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? "," : "", v[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* ---- ledger -------------------------------------------------------------------------- */

int ld_cli_print_ledger(const ld_ledger *l, int wide)
{
    if (l->n_tasks == 0) {
        printf("no tasks\n");
        return ferror(stdout) ? -1 : 0;
    }
    ld_cli_table t;
    ld_cli_table_init(&t, 9);
    const char *head[] = {"PLAN",     "TASK", "TITLE",   "LEAD", "STATE",
                          "PROGRESS", "DUE",  "OVERDUE", "LEVEL"};
    for (int i = 0; i < 9; i++)
        ld_cli_table_add(&t, head[i], 0);
    size_t overdue = 0, letters = 0;
    for (size_t i = 0; i < l->n_tasks; i++) {
        const ld_ledger_task *x = &l->tasks[i];
        letters += x->kind[0] != 0;
        char lead[1024], prog[16], lvl[16];
        join_ids(x->lead, x->n_lead, lead, sizeof lead);
        snprintf(prog, sizeof prog, "%u%%", x->progress);
        snprintf(lvl, sizeof lvl, "%u", x->escalation_level);
        ld_cli_table_add(&t, x->plan, 0);
        ld_cli_table_add(&t, x->task, 0);
        ld_cli_table_add(&t, x->title, wide ? 0 : TITLE_COLS);
        ld_cli_table_add(&t, lead[0] ? lead : "-", wide ? 0 : LEAD_COLS);
        ld_cli_table_add(&t, ld_task_state_name(x->state), 0);
        ld_cli_table_add(&t, prog, 0);
        ld_cli_table_add(&t, x->due[0] ? x->due : "-", 0);
        ld_cli_table_add(&t, x->overdue ? "yes" : "no", 0);
        ld_cli_table_add(&t, lvl, 0);
        overdue += x->overdue != 0;
    }
    int w = ld_cli_table_print(stdout, &t);
    ld_cli_table_free(&t);
    if (w == 0) {
        char when[64];
        ld_cli_time_utc(l->clock_ms, when, sizeof when);
        size_t tasks = l->n_tasks - letters;
        printf("%zu task%s", tasks, tasks == 1 ? "" : "s");
        if (letters)
            printf(", %zu 督办函", letters);
        printf(", %zu overdue, at %s\n", overdue, when);
    }
    return w == 0 && !ferror(stdout) ? 0 : -1;
}

int ld_cli_ledger(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'},  {"dept", required_argument, NULL, 'd'},
        {"state", required_argument, NULL, 's'}, {"overdue", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},        {"wide", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    ld_ledger_query q = {0};
    int c, json = 0, wide = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': q.plan = optarg; break;
        case 'd': q.dept = optarg; break;
        case 's':
            if (ld_task_state_parse(optarg, &q.state) != LD_OK)
                return ld_cli_usage("ledger",
                                    "--state is assigned, accepted, in_progress, done or "
                                    "blocked, not '%s'",
                                    optarg);
            break;
        case 'o': q.overdue = 1; break;
        case 'j': json = 1; break;
        case 'w': wide = 1; break;
        case 'h': fputs(ledger_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("ledger", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("ledger", "unexpected argument '%s'", argv[optind]);

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ledger *l;
    int rc = ld_client_ledger_query(cl, &q, &l);
    if (rc != LD_OK) {
        st = ld_cli_client_fail(cl, rc, "ledger");
        ld_client_destroy(&cl);
        return st;
    }
    ld_client_destroy(&cl);
    int w = json ? print_json(l, NULL) : ld_cli_print_ledger(l, wide);
    ld_ledger_destroy(&l);
    if (w != 0 || fflush(stdout) != 0)
        return ld_cli_fail("ledger: cannot write to standard output");
    return LD_CLI_OK;
}

/* ---- tasks ------------------------------------------------------------------------------- */

static int print_tasks_table(const ld_ledger *l, const char *me, int wide)
{
    if (l->n_tasks == 0) {
        printf("no tasks\n");
        return ferror(stdout) ? -1 : 0;
    }
    ld_cli_table t;
    ld_cli_table_init(&t, 8);
    const char *head[] = {"PLAN", "TASK", "ROLE", "TITLE", "STATE", "PROGRESS", "DUE", "OVERDUE"};
    for (int i = 0; i < 8; i++)
        ld_cli_table_add(&t, head[i], 0);
    for (size_t i = 0; i < l->n_tasks; i++) {
        const ld_ledger_task *x = &l->tasks[i];
        char prog[16];
        snprintf(prog, sizeof prog, "%u%%", x->progress);
        ld_cli_table_add(&t, x->plan, 0);
        ld_cli_table_add(&t, x->task, 0);
        ld_cli_table_add(&t, role_of(x, me), 0);
        ld_cli_table_add(&t, x->title, wide ? 0 : TITLE_COLS);
        ld_cli_table_add(&t, ld_task_state_name(x->state), 0);
        ld_cli_table_add(&t, prog, 0);
        ld_cli_table_add(&t, x->due[0] ? x->due : "-", 0);
        ld_cli_table_add(&t, x->overdue ? "yes" : "no", 0);
    }
    int w = ld_cli_table_print(stdout, &t);
    ld_cli_table_free(&t);
    return w == 0 && !ferror(stdout) ? 0 : -1;
}

int ld_cli_tasks(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"wide", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, json = 0, wide = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'w': wide = 1; break;
        case 'h': fputs(tasks_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("tasks", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("tasks", "unexpected argument '%s'", argv[optind]);

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ledger_query q = {.mine = 1};
    ld_ledger *l;
    int rc = ld_client_ledger_query(cl, &q, &l);
    if (rc != LD_OK) {
        st = ld_cli_client_fail(cl, rc, "tasks");
        ld_client_destroy(&cl);
        return st;
    }
    char *me = strdup(ld_client_principal(cl));
    ld_client_destroy(&cl);
    if (!me) {
        ld_ledger_destroy(&l);
        return ld_cli_fail("out of memory");
    }
    int w = json ? print_json(l, me) : print_tasks_table(l, me, wide);
    free(me);
    ld_ledger_destroy(&l);
    if (w != 0 || fflush(stdout) != 0)
        return ld_cli_fail("tasks: cannot write to standard output");
    return LD_CLI_OK;
}
