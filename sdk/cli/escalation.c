/* escalation.c - `liandong escalations`, `extend request|decide`, `pause`,
 * `resume`, `letter issue|answer`, and `calendar check|add` (offline). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calendar.h"
#include "cli.h"
#include "liandong/error.h"
#include "rules.h"

static const char escalations_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] escalations [--plan PLAN] [--mine] [--follow] [--json]\n"
    "\n"
    "The escalation notices you may read, oldest first: due_soon (yellow), overdue\n"
    "at each ladder level (督导, 约谈, 问责), reminder (催办), no_report,\n"
    "letter_overdue, extension_decided, rectified. Supervision and coordinators\n"
    "read their plans' notices; a department reads those about its own tasks.\n"
    "\n"
    "Options:\n"
    "  --plan PLAN   only this plan\n"
    "  --mine        only notices about your own tasks\n"
    "  --follow      then keep printing notices as they are delivered to you\n"
    "                (acknowledging them) until interrupted\n"
    "  --json        one JSON document {\"notices\":[...]}; with --follow one JSON\n"
    "                object per line\n"
    "  --help        show this help\n";

static const char extend_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] extend request TASK --until DATE --reason TEXT\n"
    "       liandong [GLOBAL OPTIONS] extend decide TASK --approve [--until DATE]\n"
    "       liandong [GLOBAL OPTIONS] extend decide TASK --reject --reason TEXT\n"
    "\n"
    "request   a lead department asks, before the due date, to move it to DATE\n"
    "decide    a coordinator of the plan approves (the date asked for, or --until)\n"
    "          or rejects the pending request; only an approval moves the due date\n"
    "Options: --plan PLAN (not needed: task ids are unique), --help.\n"
    "A refusal prints 'liandong: refused: REASON: text' and exits 1.\n";

static const char pause_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] pause TASK --reason TEXT [--plan PLAN]\n"
    "       liandong [GLOBAL OPTIONS] resume TASK [--plan PLAN]\n"
    "\n"
    "A coordinator stops a task's clock (e.g. technical appraisal) and restarts\n"
    "it; the days it stood still move the due date.\n";

static const char letter_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] letter issue --task TASK --to DEPT[,DEPT] --deadline DATE\n"
    "                --text TEXT [--plan PLAN]\n"
    "       liandong [GLOBAL OPTIONS] letter answer LETTER --text TEXT\n"
    "\n"
    "issue    the plan's supervision office issues a 督办函 with a deadline; prints\n"
    "         its id. Unanswered past the deadline it raises letter_overdue.\n"
    "answer   an addressed department answers with its rectification report\n";

static const char calendar_usage[] =
    "Usage: liandong calendar check DATE [--calendar FILE]...\n"
    "       liandong calendar add DATE (--working-days N | --days N) [--short-limit N]\n"
    "                [--calendar FILE]...\n"
    "\n"
    "Working-day arithmetic on the statutory holiday calendar (built in:\n"
    "data/calendar/cn-holidays.yaml; --calendar adds files). No broker needed.\n"
    "check   what DATE is: working day, weekend, holiday (name), adjusted workday\n"
    "add     --working-days N: the N-th working day after DATE (DATE not counted);\n"
    "        --days N: DATE + N natural days, moved to the next working day when it\n"
    "        is a day off (Civil Code arts. 201, 203); with --short-limit L a limit\n"
    "        of N <= L days counts working days (fire regulation art. 43: 15)\n"
    "A date in a year without calendar data is refused (exit 1).\n";

static int fail_client(ld_client *cl, int rc, const char *what)
{
    int st = ld_cli_client_fail(cl, rc, what);
    ld_client_destroy(&cl);
    return st;
}

static void sent(const char *what, const char *name, const ld_ack *ack)
{
    char hex[2 * LD_ENVELOPE_ID_BYTES + 1];
    ld_cli_hex_id(ack->envelope_id, hex);
    printf("%s %s: envelope %s seq %llu\n", what, name, hex, (unsigned long long)ack->seq);
}

/* ---- escalations ---- */

static json_t *notice_json(const ld_escalation_notice *n)
{
    json_t *o = json_object(), *d = json_array();
    char t[64];
    ld_cli_time_utc(n->raised_at_ms, t, sizeof t);
    for (size_t i = 0; i < n->n_departments; i++)
        json_array_append_new(d, json_string(n->departments[i]));
    json_object_set_new(o, "notice_id", json_string(n->notice_id));
    json_object_set_new(o, "plan", json_string(n->plan));
    json_object_set_new(o, "task", json_string(n->task));
    json_object_set_new(o, "reason", json_string(n->reason));
    json_object_set_new(o, "level", json_integer(n->level));
    json_object_set_new(o, "level_name", json_string(n->level_name));
    json_object_set_new(o, "colour", json_string(n->colour));
    json_object_set_new(o, "due", json_string(n->due));
    json_object_set_new(o, "raised_at", json_string(t));
    json_object_set_new(o, "departments", d);
    json_object_set_new(o, "text", json_string(n->text));
    if (*n->letter_id)
        json_object_set_new(o, "letter_id", json_string(n->letter_id));
    if (n->calendar_unverified)
        json_object_set_new(o, "calendar_unverified", json_true());
    return o;
}

static int print_json_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return -1;
    int r = printf("%s\n", s) < 0 ? -1 : 0;
    free(s);
    fflush(stdout);
    return r;
}

static void notice_row(ld_cli_table *t, const ld_escalation_notice *n)
{
    char when[64], lv[80];
    ld_cli_time_local(n->raised_at_ms, when, sizeof when);
    when[10] = 0; /* the date */
    snprintf(lv, sizeof lv, "%u %s", n->level, n->level_name);
    ld_cli_table_add(t, when, 0);
    ld_cli_table_add(t, n->task, 0);
    ld_cli_table_add(t, n->reason, 0);
    ld_cli_table_add(t, n->level ? lv : "-", 0);
    ld_cli_table_add(t, n->colour, 0);
    ld_cli_table_add(t, n->due, 0);
    ld_cli_table_add(t, n->text, 60);
}

/* Notice ids already printed from the query, sorted: with --follow the
 * same notices may still wait in the mailbox and are not printed twice. */
typedef struct seen_ids {
    char **v;
    size_t n;
} seen_ids;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int seen_init(seen_ids *s, const ld_escalations *e)
{
    s->n = 0;
    s->v = e->n_notices ? malloc(e->n_notices * sizeof *s->v) : NULL;
    if (e->n_notices && !s->v)
        return -1;
    for (size_t i = 0; i < e->n_notices; i++)
        if ((s->v[s->n] = strdup(e->notices[i].notice_id)) != NULL)
            s->n++;
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_id);
    return 0;
}

static int seen_has(const seen_ids *s, const char *id)
{
    return s->n && bsearch(&id, s->v, s->n, sizeof *s->v, cmp_id) != NULL;
}

static void seen_free(seen_ids *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int ld_cli_escalations(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plan", required_argument, NULL, 'p'}, {"mine", no_argument, NULL, 'm'},
        {"follow", no_argument, NULL, 'f'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int c, follow = 0, json = 0;
    ld_escalation_query q = {0};
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': q.plan = optarg; break;
        case 'm': q.mine = 1; break;
        case 'f': follow = 1; break;
        case 'j': json = 1; break;
        case 'h': fputs(escalations_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("escalations", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("escalations", "unexpected argument '%s'", argv[optind]);
    ld_client *cl;
    /* Following: only notices come to this connection, so other deliveries
     * left for `inbox` never hold them up. */
    static const char *const notices_only[] = {"escalation_notice"};
    int st = follow ? ld_cli_connect_only(&cl, 0, notices_only, 1) : ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_escalations *e;
    int rc = ld_client_escalation_query(cl, &q, &e);
    if (rc != LD_OK)
        return fail_client(cl, rc, "escalations");
    if (json && !follow) {
        json_t *root = json_object(), *arr = json_array();
        for (size_t i = 0; i < e->n_notices; i++)
            json_array_append_new(arr, notice_json(&e->notices[i]));
        json_object_set_new(root, "notices", arr);
        print_json_line(root);
    } else if (json) {
        for (size_t i = 0; i < e->n_notices; i++)
            print_json_line(notice_json(&e->notices[i]));
    } else {
        ld_cli_table t;
        ld_cli_table_init(&t, 7);
        const char *hd[] = {"RAISED", "TASK", "REASON", "LEVEL", "COLOUR", "DUE", "TEXT"};
        for (size_t i = 0; i < 7; i++)
            ld_cli_table_add(&t, hd[i], 0);
        for (size_t i = 0; i < e->n_notices; i++)
            notice_row(&t, &e->notices[i]);
        ld_cli_table_print(stdout, &t);
        ld_cli_table_free(&t);
        printf("%zu notices\n", e->n_notices);
    }
    seen_ids seen = {NULL, 0};
    if (follow && seen_init(&seen, e) != 0) {
        ld_escalations_destroy(&e);
        ld_client_destroy(&cl);
        fprintf(stderr, "liandong: escalations: out of memory\n");
        return LD_CLI_FAIL;
    }
    ld_escalations_destroy(&e);
    if (!follow) {
        ld_client_destroy(&cl);
        return LD_CLI_OK;
    }
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        ld_delivery *d;
        rc = ld_client_recv(cl, 500, &d);
        if (rc == LD_ERR_TIMEOUT)
            continue;
        if (rc != LD_OK)
            break;
        if (d->notice && d->from_broker &&
            (!q.plan || !*q.plan || !strcmp(q.plan, d->notice->plan))) {
            if (seen_has(&seen, d->notice->notice_id))
                ; /* printed from the query already */
            else if (json)
                print_json_line(notice_json(d->notice));
            else {
                char when[64];
                ld_cli_time_local(d->notice->raised_at_ms, when, sizeof when);
                printf("%s  %s  %s  %u %s  %s\n", when, d->notice->task, d->notice->reason,
                       d->notice->level, d->notice->level_name, d->notice->text);
                fflush(stdout);
            }
            ld_client_ack(cl, d);
        }
        ld_delivery_destroy(&d);
    }
    seen_free(&seen);
    ld_client_destroy(&cl);
    return rc == LD_OK || rc == LD_ERR_TIMEOUT || rc == LD_ERR_CLOSED ? LD_CLI_OK : LD_CLI_FAIL;
}

/* ---- extend, pause, resume ---- */

int ld_cli_extend(int argc, char **argv)
{
    static const struct option opts[] = {
        {"until", required_argument, NULL, 'u'},
        {"reason", required_argument, NULL, 'r'},
        {"plan", required_argument, NULL, 'p'},
        {"approve", no_argument, NULL, 'a'},
        {"reject", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *until = NULL, *reason = NULL, *plan = NULL;
    int c, approve = 0, reject = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': until = optarg; break;
        case 'r': reason = optarg; break;
        case 'p': plan = optarg; break;
        case 'a': approve = 1; break;
        case 'x': reject = 1; break;
        case 'h': fputs(extend_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("extend", c, argv);
        }
    }
    if (argc - optind != 2)
        return ld_cli_usage("extend", "expected request TASK or decide TASK");
    const char *sub = argv[optind], *task = argv[optind + 1];
    int req = strcmp(sub, "request") == 0;
    if (!req && strcmp(sub, "decide") != 0)
        return ld_cli_usage("extend", "unknown subcommand '%s' (request or decide)", sub);
    if (req && (!until || !reason))
        return ld_cli_usage("extend", "request needs --until DATE and --reason TEXT");
    if (!req && approve == reject)
        return ld_cli_usage("extend", "decide needs --approve or --reject");
    if (!req && reject && !reason)
        return ld_cli_usage("extend", "--reject needs --reason TEXT");
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc = req ? ld_client_extension_request(cl, plan, task, until, reason, &ack)
                 : ld_client_extension_decide(cl, plan, task, approve, until, reason, &ack);
    if (rc != LD_OK)
        return fail_client(cl, rc, req ? "extend request" : "extend decide");
    sent(req       ? "extension requested"
         : approve ? "extension approved"
                   : "extension rejected",
         task, &ack);
    ld_client_destroy(&cl);
    return LD_CLI_OK;
}

static int pause_resume(int argc, char **argv, int resume)
{
    const char *cmd = resume ? "resume" : "pause";
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"plan", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL, *plan = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'p': plan = optarg; break;
        case 'h': fputs(pause_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error(cmd, c, argv);
        }
    }
    if (argc - optind != 1)
        return ld_cli_usage(cmd, "expected one TASK");
    if (!resume && !reason)
        return ld_cli_usage(cmd, "pause needs --reason TEXT");
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc = ld_client_task_pause(cl, plan, argv[optind], resume, reason, &ack);
    if (rc != LD_OK)
        return fail_client(cl, rc, cmd);
    sent(resume ? "resumed" : "paused", argv[optind], &ack);
    ld_client_destroy(&cl);
    return LD_CLI_OK;
}

int ld_cli_pause(int argc, char **argv)
{
    return pause_resume(argc, argv, 0);
}

int ld_cli_resume(int argc, char **argv)
{
    return pause_resume(argc, argv, 1);
}

/* ---- letters ---- */

int ld_cli_letter(int argc, char **argv)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, 't'},
        {"to", required_argument, NULL, 'o'},
        {"deadline", required_argument, NULL, 'd'},
        {"text", required_argument, NULL, 'x'},
        {"plan", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *task = NULL, *to = NULL, *deadline = NULL, *text = NULL, *plan = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': task = optarg; break;
        case 'o': to = optarg; break;
        case 'd': deadline = optarg; break;
        case 'x': text = optarg; break;
        case 'p': plan = optarg; break;
        case 'h': fputs(letter_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("letter", c, argv);
        }
    }
    if (optind >= argc)
        return ld_cli_usage("letter", "expected issue or answer");
    const char *sub = argv[optind];
    int issue = strcmp(sub, "issue") == 0;
    if (!issue && strcmp(sub, "answer") != 0)
        return ld_cli_usage("letter", "unknown subcommand '%s' (issue or answer)", sub);
    if (issue && (argc - optind != 1 || !task || !to || !deadline || !text))
        return ld_cli_usage("letter", "issue needs --task, --to, --deadline and --text");
    if (!issue && (argc - optind != 2 || !text))
        return ld_cli_usage("letter", "answer needs LETTER and --text");
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_ack ack;
    int rc;
    if (issue) {
        char *copy = strdup(to), *ids[64];
        size_t n = 0;
        for (char *p = strtok(copy, ","); p && n < 64; p = strtok(NULL, ","))
            ids[n++] = p;
        char id[65];
        rc = ld_client_letter_issue(cl, plan, task, (const char *const *)ids, n, deadline, text, id,
                                    sizeof id, &ack);
        free(copy);
        if (rc == LD_OK)
            printf("letter %s issued about %s, deadline %s\n", id, task, deadline);
    } else {
        rc = ld_client_letter_answer(cl, argv[optind + 1], text, &ack);
        if (rc == LD_OK)
            sent("answered", argv[optind + 1], &ack);
    }
    if (rc != LD_OK)
        return fail_client(cl, rc, issue ? "letter issue" : "letter answer");
    ld_client_destroy(&cl);
    return LD_CLI_OK;
}

/* ---- calendar ---- */

static int read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = cap < (8u << 20) ? realloc(b, cap *= 2) : NULL;
            if (!nb) {
                free(b);
                b = NULL;
            } else
                b = nb;
        }
    }
    fclose(f);
    if (!b)
        return -1;
    *buf = b;
    *len = n;
    return 0;
}

int ld_cli_calendar(int argc, char **argv)
{
    static const struct option opts[] = {
        {"working-days", required_argument, NULL, 'w'},
        {"days", required_argument, NULL, 'd'},
        {"short-limit", required_argument, NULL, 's'},
        {"calendar", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *wd = NULL, *nd = NULL, *files[16];
    size_t n_files = 0;
    unsigned long short_limit = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'w': wd = optarg; break;
        case 'd': nd = optarg; break;
        case 's': short_limit = strtoul(optarg, NULL, 10); break;
        case 'c':
            if (n_files < 16)
                files[n_files++] = optarg;
            break;
        case 'h': fputs(calendar_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("calendar", c, argv);
        }
    }
    if (argc - optind != 2)
        return ld_cli_usage("calendar", "expected check DATE or add DATE");
    const char *sub = argv[optind], *date = argv[optind + 1];
    int add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "check") != 0)
        return ld_cli_usage("calendar", "unknown subcommand '%s' (check or add)", sub);
    if (add && !!wd == !!nd)
        return ld_cli_usage("calendar", "add needs --working-days N or --days N");
    int32_t day;
    if (lde_day_parse(date, &day) != LD_OK)
        return ld_cli_usage("calendar", "'%s' is not a date YYYY-MM-DD", date);
    lde_calendar *cal;
    char err[512];
    if (lde_calendar_new(&cal) != LD_OK)
        return ld_cli_fail("out of memory");
    int rc = lde_calendar_load_builtin(cal, err, sizeof err);
    for (size_t i = 0; rc == LD_OK && i < n_files; i++) {
        char *buf;
        size_t len;
        if (read_all(files[i], &buf, &len) != 0) {
            lde_calendar_destroy(&cal);
            return ld_cli_fail("calendar: cannot read %s", files[i]);
        }
        rc = lde_calendar_load(cal, files[i], buf, len, err, sizeof err);
        free(buf);
    }
    if (rc != LD_OK) {
        lde_calendar_destroy(&cal);
        return ld_cli_fail("calendar: %s", err);
    }
    int first, last, prov = 0;
    lde_calendar_range(cal, &first, &last);
    static const char *const wdays[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    int32_t out = day;
    char what[128], os[LDE_DATE_BYTES];
    const char *how = "";
    if (add) {
        char *end;
        unsigned long n = strtoul(wd ? wd : nd, &end, 10);
        if (*end || n > 100000) {
            lde_calendar_destroy(&cal);
            return ld_cli_usage("calendar", "N must be a whole number");
        }
        if (wd || (short_limit && n <= short_limit && n)) {
            rc = lde_cal_add_working(cal, day, (unsigned)n, &out, &prov);
            how = wd ? "working days" : "days (working days: within the short limit)";
        } else {
            rc = lde_cal_add_days(cal, day, (unsigned)n, &out, &prov);
            how = "days (natural; a day off moves to the next working day)";
            if (!n)
                out = day, rc = LD_OK;
        }
        if (rc == LD_OK) {
            lde_day_format(out, os);
            printf("%s + %lu %s = %s (%s)\n", date, n, how, os, wdays[lde_day_weekday(out)]);
        }
    } else {
        rc = lde_cal_describe(cal, day, what, sizeof what);
        if (rc == LD_OK) {
            lde_cal_is_workday(cal, day, &(int){0}, &prov);
            printf("%s (%s): %s\n", date, wdays[lde_day_weekday(day)], what);
        }
    }
    lde_calendar_destroy(&cal);
    if (rc == LDE_NODATA)
        return ld_cli_fail("calendar: no holiday data for a year this needs (the calendar covers "
                           "%d-%d); refusing to count it as holiday-free",
                           first, last);
    if (prov)
        fprintf(stderr,
                "liandong: note: December %d is provisional until the %d holiday notice "
                "is published\n",
                last, last + 1);
    return rc == LD_OK ? LD_CLI_OK : LD_CLI_FAIL;
}
