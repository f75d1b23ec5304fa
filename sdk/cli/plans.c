/* plans.c - `liandong plan publish|list`, `liandong accept`, `liandong report`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char plan_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] plan publish FILE\n"
    "       liandong [GLOBAL OPTIONS] plan list [--mine] [--json]\n"
    "\n"
    "publish   send a plan file (YAML, UTF-8, at most 1 MiB; see docs/plans.md) to\n"
    "          the broker. Coordinators of the plan only. The broker records its\n"
    "          tasks in the ledger and sends each lead and support department its\n"
    "          assignment; publishing a changed plan again updates them.\n"
    "          Prints: published FILE: envelope <id> seq <n>\n"
    "list      the plans in the ledger you may read, one line each: id, document\n"
    "          number, title, number of tasks, tasks done, tasks overdue\n"
    "          (coordinators and supervision: their plans; --mine: the plans you\n"
    "          have tasks in, for any department)\n"
    "\n"
    "Options of list:\n"
    "  --mine    only plans with tasks of your own\n"
    "  --json    one JSON document: {\"plans\":[{\"plan\",\"doc_number\",\"title\",\n"
    "            \"tasks\",\"done\",\"overdue\"}...]}\n"
    "  --help    show this help\n"
    "\n"
    "A refusal prints 'liandong: refused: REASON: text' and exits 1; an invalid\n"
    "plan file is refused with INVALID_PLAN and the file, line and reason.\n";

static const char accept_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] accept TASK [--plan PLAN] [--note TEXT]\n"
    "\n"
    "Take on a task assigned to you (as lead or support department). The broker\n"
    "records it in the ledger and tells the plan's coordinators (and the lead\n"
    "departments, when you support).\n"
    "Prints: accepted TASK: envelope <id> seq <n>\n"
    "\n"
    "Options:\n"
    "  --plan PLAN   the plan of the task (not needed: task ids are unique)\n"
    "  --note TEXT   a note for the coordinators (UTF-8)\n"
    "  --help        show this help\n"
    "\n"
    "A refusal prints 'liandong: refused: REASON: text' and exits 1 (UNKNOWN_TASK,\n"
    "UNAUTHORIZED when the task is not yours).\n";

static const char report_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] report TASK --state STATE --progress N\n"
    "                [--note TEXT] [--plan PLAN]\n"
    "\n"
    "Report progress on a task assigned to you. The broker updates the ledger and\n"
    "delivers the report to the plan's coordinators (and to the lead departments,\n"
    "when you support).\n"
    "Prints: reported TASK STATE N%: envelope <id> seq <n>\n"
    "\n"
    "Options:\n"
    "  --state STATE   accepted, in_progress, done or blocked (also assigned)\n"
    "  --progress N    percent done, 0 to 100 ('40' or '40%')\n"
    "  --note TEXT     what was done, what blocks it (UTF-8)\n"
    "  --plan PLAN     the plan of the task (not needed: task ids are unique)\n"
    "  --help          show this help\n"
    "\n"
    "A refusal prints 'liandong: refused: REASON: text' and exits 1 (UNKNOWN_TASK,\n"
    "UNAUTHORIZED when the task is not yours).\n";

static void print_sent(const char *what, const char *name, const ld_ack *ack)
{
    char hex[2 * LD_ENVELOPE_ID_BYTES + 1];
    ld_cli_hex_id(ack->envelope_id, hex);
    char *clean = ld_cli_cell(name);
    printf("%s %s: envelope %s seq %llu%s\n", what, clean ? clean : name, hex,
           (unsigned long long)ack->seq, ack->duplicate ? " (duplicate)" : "");
    free(clean);
}

/* ---- plan publish ------------------------------------------------------------ */

static int plan_publish(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(plan_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("plan", c, argv);
        }
    }
    if (optind >= argc)
        return ld_cli_usage("plan", "publish needs a FILE");
    if (optind + 1 < argc)
        return ld_cli_usage("plan", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc = ld_client_plan_publish_file(cl, path, &ack);
    if (rc == LD_OK)
        print_sent("published", path, &ack);
    else
        st = ld_cli_client_fail(cl, rc, "plan publish");
    ld_client_destroy(&cl);
    return st;
}

/* ---- plan list ------------------------------------------------------------------ */

typedef struct plan_row {
    const char *plan, *doc_number, *title;
    size_t tasks, done, overdue;
} plan_row;

static int plan_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mine", no_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, json = 0;
    ld_ledger_query q = {0};
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': q.mine = 1; break;
        case 'j': json = 1; break;
        case 'h': fputs(plan_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("plan", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("plan", "unexpected argument '%s'", argv[optind]);

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ledger *l;
    int rc = ld_client_ledger_query(cl, &q, &l);
    if (rc != LD_OK) {
        st = ld_cli_client_fail(cl, rc, "plan list");
        ld_client_destroy(&cl);
        return st;
    }
    ld_client_destroy(&cl);

    /* Distinct plans, in the order the ledger first names them. */
    plan_row *rows = calloc(l->n_tasks ? l->n_tasks : 1, sizeof *rows);
    size_t n = 0;
    if (!rows) {
        ld_ledger_destroy(&l);
        return ld_cli_fail("out of memory");
    }
    for (size_t i = 0; i < l->n_tasks; i++) {
        const ld_ledger_task *t = &l->tasks[i];
        size_t k = 0;
        while (k < n && strcmp(rows[k].plan, t->plan) != 0)
            k++;
        if (k == n) {
            rows[n].plan = t->plan;
            rows[n].doc_number = t->doc_number;
            rows[n].title = t->plan_title;
            n++;
        }
        rows[k].tasks++;
        rows[k].done += t->state == LD_TASK_DONE;
        rows[k].overdue += t->overdue != 0;
    }

    int w = 0;
    if (json) {
        json_t *arr = json_array(), *root = json_object();
        for (size_t k = 0; arr && k < n; k++) {
            json_t *o = json_object();
            json_object_set_new(o, "plan", json_string(rows[k].plan));
            json_object_set_new(o, "doc_number", json_string(rows[k].doc_number));
            json_object_set_new(o, "title", json_string(rows[k].title));
            json_object_set_new(o, "tasks", json_integer((json_int_t)rows[k].tasks));
            json_object_set_new(o, "done", json_integer((json_int_t)rows[k].done));
            json_object_set_new(o, "overdue", json_integer((json_int_t)rows[k].overdue));
            json_array_append_new(arr, o);
        }
        char *s = NULL;
        if (arr && root && json_object_set_new(root, "plans", arr) == 0) {
            arr = NULL;
            s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        }
        json_decref(arr);
        json_decref(root);
        if (!s)
            w = -1;
        else if (puts(s) < 0)
            w = -1;
        free(s);
    } else if (n == 0) {
        printf("no plans\n");
    } else {
        ld_cli_table t;
        ld_cli_table_init(&t, 6);
        const char *head[] = {"PLAN", "DOC_NUMBER", "TITLE", "TASKS", "DONE", "OVERDUE"};
        for (int i = 0; i < 6; i++)
            ld_cli_table_add(&t, head[i], 0);
        for (size_t k = 0; k < n; k++) {
            char num[3][24];
            snprintf(num[0], sizeof num[0], "%zu", rows[k].tasks);
            snprintf(num[1], sizeof num[1], "%zu", rows[k].done);
            snprintf(num[2], sizeof num[2], "%zu", rows[k].overdue);
            ld_cli_table_add(&t, rows[k].plan, 0);
            ld_cli_table_add(&t, rows[k].doc_number, 0);
            ld_cli_table_add(&t, rows[k].title, 0);
            for (int i = 0; i < 3; i++)
                ld_cli_table_add(&t, num[i], 0);
        }
        w = ld_cli_table_print(stdout, &t);
        ld_cli_table_free(&t);
    }
    free(rows);
    ld_ledger_destroy(&l);
    if (w != 0 || fflush(stdout) != 0)
        return ld_cli_fail("plan list: cannot write to standard output");
    return LD_CLI_OK;
}

int ld_cli_plan(int argc, char **argv)
{
    if (argc < 2)
        return ld_cli_usage("plan", "say 'publish FILE' or 'list'");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(plan_usage, stdout);
        return LD_CLI_OK;
    }
    if (strcmp(argv[1], "publish") == 0)
        return plan_publish(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return plan_list(argc - 1, argv + 1);
    return ld_cli_usage("plan", "unknown subcommand '%s'", argv[1]);
}

/* ---- accept ---------------------------------------------------------------------- */

int ld_cli_accept(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'},
        {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *plan = NULL, *note = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': plan = optarg; break;
        case 'n': note = optarg; break;
        case 'h': fputs(accept_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("accept", c, argv);
        }
    }
    if (optind >= argc)
        return ld_cli_usage("accept", "which task? give its id, e.g. 'accept ir-2.1.1'");
    if (optind + 1 < argc)
        return ld_cli_usage("accept", "unexpected argument '%s'", argv[optind + 1]);
    const char *task = argv[optind];
    if (!task[0])
        return ld_cli_usage("accept", "the task id is empty");

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc = ld_client_task_accept(cl, plan, task, note, &ack);
    if (rc == LD_OK)
        print_sent("accepted", task, &ack);
    else
        st = ld_cli_client_fail(cl, rc, "accept");
    ld_client_destroy(&cl);
    return st;
}

/* ---- report ------------------------------------------------------------------------ */

/* "40" or "40%", 0 to 100. 0 or -1. */
static int parse_progress(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    if (!(s[0] >= '0' && s[0] <= '9'))
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || v > 100)
        return -1;
    if (*end == '%')
        end++;
    if (*end)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int ld_cli_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'}, {"progress", required_argument, NULL, 'g'},
        {"note", required_argument, NULL, 'n'},  {"plan", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    ld_status_report r = {0};
    int c, have_state = 0, have_progress = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ld_task_state_parse(optarg, &r.state) != LD_OK)
                return ld_cli_usage("report",
                                    "--state is accepted, in_progress, done, blocked or "
                                    "assigned, not '%s'",
                                    optarg);
            have_state = 1;
            break;
        case 'g':
            if (parse_progress(optarg, &r.progress) != 0)
                return ld_cli_usage("report", "--progress is a percentage from 0 to 100, not '%s'",
                                    optarg);
            have_progress = 1;
            break;
        case 'n': r.note = optarg; break;
        case 'p': r.plan = optarg; break;
        case 'h': fputs(report_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("report", c, argv);
        }
    }
    if (optind >= argc)
        return ld_cli_usage("report", "which task? give its id, e.g. 'report ir-2.1.1 ...'");
    if (optind + 1 < argc)
        return ld_cli_usage("report", "unexpected argument '%s'", argv[optind + 1]);
    r.task = argv[optind];
    if (!r.task[0])
        return ld_cli_usage("report", "the task id is empty");
    if (!have_state)
        return ld_cli_usage("report", "no state: use --state STATE");
    if (!have_progress)
        return ld_cli_usage("report", "no progress: use --progress N");

    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc = ld_client_status_report(cl, &r, &ack);
    if (rc == LD_OK) {
        char what[64];
        snprintf(what, sizeof what, "%s %u%%", ld_task_state_name(r.state), r.progress);
        char *clean = ld_cli_cell(r.task);
        char hex[2 * LD_ENVELOPE_ID_BYTES + 1];
        ld_cli_hex_id(ack.envelope_id, hex);
        printf("reported %s %s: envelope %s seq %llu%s\n", clean ? clean : r.task, what, hex,
               (unsigned long long)ack.seq, ack.duplicate ? " (duplicate)" : "");
        free(clean);
    } else {
        st = ld_cli_client_fail(cl, rc, "report");
    }
    ld_client_destroy(&cl);
    return st;
}
