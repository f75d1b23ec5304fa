/* demo.c - `liandong demo`: 牡政发〔2022〕21号 through a real broker.
 *
 * Starts liandong-broker with the plans, escalation and audit plugins on an
 * ephemeral loopback port, a temporary data directory and a simulated clock;
 * creates identities for every principal the plan names (names as printed in
 * 牡丹江市人民政府公报 2022 第6期, embedded from data/seed/departments.yaml);
 * the general office publishes the plan (embedded from
 * examples/plans/ir-2022.yaml); the departments receive their assignments,
 * accept and report (one only after a broker restart); then the clock moves
 * quarter by quarter: most leads report, a few fall behind, and the notices
 * are printed as they reach the supervision office (which keeps a connection
 * open) and the coordinator; a 督办函 is answered; an extension is granted;
 * the ledger is printed and the audit log verified. Everything shown is real
 * traffic. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>

#include "cli.h"
#include "demo.h"
#include "ldk/keys.h"
#include "liandong/liandong.h"

/* The plan was issued in 2022; the clock starts then and later moves past the
 * 2025 deadlines. */
#define DEMO_START "2022-07-01T09:00:00+08:00"
#define DAY_MS 86400000LL
#define ADMIN_ID "ops.admin"

struct demo {
    char dir[PATH_MAX];
    char keys[PATH_MAX + 8];
    char roster[PATH_MAX + 8];
    char data[PATH_MAX + 8];
    char ready[PATH_MAX + 8];
    char broker_secret[PATH_MAX + 32];
    char broker_pub[PATH_MAX + 32];
    char endpoint[256];
    char broker_bin[PATH_MAX];
    char config[PATH_MAX + 16];
    pid_t broker;
    int keep;
    int verbose;
    demo_cast cast;
    int office, dcs, late; /* indexes in cast: coordinator, supervision, late department */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void step(const char *title)
{
    say("\n== %s\n", title);
}

static int find_broker(struct demo *d)
{
    const char *env = getenv("LIANDONG_BROKER_BIN");
    if (env && *env) {
        snprintf(d->broker_bin, sizeof d->broker_bin, "%s", env);
        return access(d->broker_bin, X_OK) == 0 ? 0 : -1;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(d->broker_bin, sizeof d->broker_bin, "%.*s/liandong-broker",
                     (int)(sizeof d->broker_bin - 20), self);
            if (access(d->broker_bin, X_OK) == 0)
                return 0;
        }
    }
    const char *path = getenv("PATH");
    if (!path)
        return -1;
    char *copy = strdup(path), *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        snprintf(d->broker_bin, sizeof d->broker_bin, "%.*s/liandong-broker",
                 (int)(sizeof d->broker_bin - 20), p);
        if (access(d->broker_bin, X_OK) == 0) {
            free(copy);
            return 0;
        }
    }
    free(copy);
    return -1;
}

static int start_broker(struct demo *d)
{
    unlink(d->ready);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *argv[] = {d->broker_bin,
                              "--config",
                              d->config,
                              "--listen",
                              d->endpoint[0] ? d->endpoint : "tcp://127.0.0.1:*",
                              "--data-dir",
                              d->data,
                              "--roster",
                              d->roster,
                              "--key",
                              d->broker_secret,
                              "--ready-file",
                              d->ready,
                              "--simulated-clock=" DEMO_START,
                              "--log-level",
                              d->verbose ? "info" : "error",
                              NULL};
        execv(d->broker_bin, (char *const *)argv);
        fprintf(stderr, "liandong: cannot run %s: %s\n", d->broker_bin, strerror(errno));
        _exit(127);
    }
    d->broker = pid;
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(d->ready, "r");
        if (f) {
            char buf[256] = "";
            int ok = fgets(buf, sizeof buf, f) != NULL;
            fclose(f);
            if (ok) {
                buf[strcspn(buf, "\n")] = 0;
                snprintf(d->endpoint, sizeof d->endpoint, "%s", buf);
                return 0;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->broker = 0;
            return -1;
        }
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void stop_broker(struct demo *d)
{
    if (d->broker <= 0)
        return;
    kill(d->broker, SIGTERM);
    int st;
    waitpid(d->broker, &st, 0);
    d->broker = 0;
}

static int make_identities(struct demo *d)
{
    char err[LDK_ERR_MAX];
    ldk_identity *ident;
    ldk_roster *roster;
    if (mkdir(d->keys, 0700) != 0 || ldk_roster_new(&roster) != LD_OK)
        return -1;
    int rc = ldk_identity_generate("broker", "Liandong broker", 0, &ident, err, sizeof err);
    if (rc == LD_OK)
        rc = ldk_identity_save_secret(ident, d->broker_secret, err, sizeof err);
    if (rc == LD_OK)
        rc = ldk_identity_save_public(ident, d->broker_pub, err, sizeof err);
    ldk_identity_destroy(&ident);
    for (size_t i = 0; i <= d->cast.n && rc == LD_OK; i++) {
        /* Everyone the plan names, and an operator who moves the demo clock. */
        const char *id = i < d->cast.n ? d->cast.p[i].id : ADMIN_ID;
        const char *name = i < d->cast.n ? d->cast.p[i].name : "运维值班";
        unsigned roles = i < d->cast.n ? d->cast.p[i].roles : LDK_ROLE_ADMIN;
        char path[PATH_MAX + 100];
        rc = ldk_identity_generate(id, name, roles, &ident, err, sizeof err);
        if (rc != LD_OK)
            break;
        snprintf(path, sizeof path, "%s/%s.secret", d->keys, id);
        rc = ldk_identity_save_secret(ident, path, err, sizeof err);
        snprintf(path, sizeof path, "%s/%s.pub", d->keys, id);
        if (rc == LD_OK)
            rc = ldk_identity_save_public(ident, path, err, sizeof err);
        if (rc == LD_OK)
            rc = ldk_roster_add(roster, ident, (int64_t)time(NULL), err, sizeof err);
        ldk_identity_destroy(&ident);
    }
    if (rc == LD_OK)
        rc = ldk_roster_save(roster, d->roster, err, sizeof err);
    ldk_roster_destroy(&roster);
    if (rc != LD_OK)
        fprintf(stderr, "liandong: demo: %s\n", err);
    return rc == LD_OK ? 0 : -1;
}

static void print_cast(const struct demo *d)
{
    ld_cli_table t;
    ld_cli_table_init(&t, 5);
    const char *head[] = {"ID", "NAME", "ROLE", "LEADS", "SUPPORTS"};
    for (int i = 0; i < 5; i++)
        ld_cli_table_add(&t, head[i], 0);
    for (size_t i = 0; i < d->cast.n; i++) {
        const demo_principal *p = &d->cast.p[i];
        char roles[64], lead[16], sup[16];
        ldk_roles_format(p->roles, roles, sizeof roles);
        snprintf(lead, sizeof lead, "%d", p->lead_tasks);
        snprintf(sup, sizeof sup, "%d", p->support_tasks);
        ld_cli_table_add(&t, p->id, 0);
        ld_cli_table_add(&t, p->name, 0);
        ld_cli_table_add(&t, roles, 0);
        ld_cli_table_add(&t, lead, 0);
        ld_cli_table_add(&t, sup, 0);
    }
    ld_cli_table_print(stdout, &t);
    ld_cli_table_free(&t);
}

static ld_client *connect_as(struct demo *d, const char *id, ld_session_info *si)
{
    char path[PATH_MAX + 100], err[512];
    snprintf(path, sizeof path, "%s/%s.secret", d->keys, id);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = d->endpoint;
    o.identity_path = path;
    o.broker_key_path = d->broker_pub;
    o.client_name = "liandong-demo";
    ld_client *c;
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK) {
        fprintf(stderr, "liandong: demo: %s\n", err);
        return NULL;
    }
    if (ld_client_connect(c) != LD_OK || ld_client_session(c, si) != LD_OK) {
        fprintf(stderr, "liandong: demo: %s: %s\n", id, ld_client_last_error(c));
        ld_client_destroy(&c);
        return NULL;
    }
    return c;
}

/* What a department does with its mailbox: accept each assignment and
 * report on the tasks it leads, some on time, some late, one blocked.
 * Returns the number of assignments, or -1. */
static int department_works(struct demo *d, size_t who, int quiet)
{
    const demo_principal *p = &d->cast.p[who];
    ld_session_info si;
    ld_client *c = connect_as(d, p->id, &si);
    if (!c)
        return -1;
    int n = 0, accepted = 0, reported = 0, other = 0;
    for (uint64_t k = 0; k < si.mailbox_size; k++) {
        ld_delivery *dl;
        if (ld_client_recv(c, 5000, &dl) != LD_OK)
            break;
        const ld_task_assign *a = dl->assign;
        if (!a || !dl->from_broker || a->change != LD_ASSIGN_ASSIGNED) {
            other++;
            ld_client_ack(c, dl);
            ld_delivery_destroy(&dl);
            continue;
        }
        n++;
        int rc = ld_client_task_accept(c, a->plan, a->task, "收到，立即部署。", NULL);
        accepted += rc == LD_OK;
        /* Leads report; the pattern leaves every fourth task without a report. */
        int pick = (int)((who + (size_t)n) % 4);
        if (rc == LD_OK && a->role == LD_TASK_ROLE_LEAD && pick != 3) {
            static const struct {
                int state;
                unsigned progress;
                const char *note;
            } r[] = {{LD_TASK_DONE, 100, "已完成，材料已归档。"},
                     {LD_TASK_IN_PROGRESS, 60, "按计划推进，完成年度目标的六成。"},
                     {LD_TASK_BLOCKED, 30, "项目资金尚未到位，需协调。"}};
            ld_status_report sr;
            memset(&sr, 0, sizeof sr);
            sr.plan = a->plan;
            sr.task = a->task;
            sr.state = r[pick].state;
            sr.progress = r[pick].progress;
            sr.note = r[pick].note;
            rc = ld_client_status_report(c, &sr, NULL);
            reported += rc == LD_OK;
        }
        if (rc != LD_OK) {
            fprintf(stderr, "liandong: demo: %s on %s: %s\n", p->id, a->task,
                    ld_client_last_error(c));
            ld_delivery_destroy(&dl);
            ld_client_destroy(&c);
            return -1;
        }
        ld_client_ack(c, dl);
        ld_delivery_destroy(&dl);
    }
    if (!quiet) {
        say("  %-16s ", p->id);
        ld_cli_pad(stdout, p->name, 28);
        say(" %2d assigned (%d lead, %d support), %2d accepted, %2d reported\n", n, p->lead_tasks,
            p->support_tasks, accepted, reported);
    }
    ld_client_destroy(&c);
    (void)other;
    return n;
}

static int show_ledger(struct demo *d, const char *as, const ld_ledger_query *q)
{
    ld_session_info si;
    ld_client *c = connect_as(d, as, &si);
    if (!c)
        return -1;
    ld_ledger *l;
    int rc = ld_client_ledger_query(c, q, &l);
    if (rc != LD_OK) {
        fprintf(stderr, "liandong: demo: ledger: %s\n", ld_client_last_error(c));
        ld_client_destroy(&c);
        return -1;
    }
    ld_cli_print_ledger(l, 0);
    ld_ledger_destroy(&l);
    ld_client_destroy(&c);
    return 0;
}

/* The broker config: the plans plugin, the escalation plugin with the ladder
 * of 牡政发〔2022〕21号 四（五）(按季度通报, 督导 → 约谈 → 问责), and the audit log. */
static const char demo_broker_config[] =
    "# liandong demo\n"
    "plugins:\n"
    "  - plans\n"
    "  - name: escalation\n"
    "    config:\n"
    "      default:\n"
    "        warn_before: 10 working days\n"
    "        report_every: quarter\n"
    "        ladder:\n"
    "          - {level: 1, name: \"督导\", after: 0 days, notify: [supervision, lead, "
    "coordinators]}\n"
    "          - {level: 2, name: \"约谈\", after: 15 working days, notify: [supervision, "
    "coordinators]}\n"
    "          - {level: 3, name: \"问责\", after: 30 days, notify: [supervision]}\n"
    "        extension: {max: 60 days, max_count: 1}\n"
    "  - name: audit\n"
    "    config: {checkpoint_records: 500}\n";

/* Move the simulated clock to the given China date (YYYY-MM-DD, 09:00);
 * *now_ms takes the new clock; loud: say so. */
static int advance_clock(struct demo *d, const char *date, int64_t *now_ms, int loud)
{
    char iso[64];
    int64_t target, now;
    snprintf(iso, sizeof iso, "%sT09:00:00+08:00", date);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!strptime(date, "%Y-%m-%d", &tm))
        return -1;
    target = ((int64_t)timegm(&tm) + 3600) * 1000; /* 09:00 in UTC+8 */
    ld_session_info si;
    ld_client *c = connect_as(d, ADMIN_ID, &si);
    if (!c)
        return -1;
    int rc = target > si.clock_ms ? ld_client_clock_advance(c, target - si.clock_ms, &now)
                                  : LD_ERR_INVALID;
    if (rc != LD_OK)
        fprintf(stderr, "liandong: demo: clock to %s: %s\n", iso, ld_client_last_error(c));
    ld_client_destroy(&c);
    if (rc == LD_OK && loud)
        say("  the operator moves the simulated clock to %s\n", iso);
    if (rc == LD_OK)
        *now_ms = now;
    return rc == LD_OK ? 0 : -1;
}

static int advance_to(struct demo *d, const char *date, int64_t *now_ms)
{
    return advance_clock(d, date, now_ms, 1);
}

static int advance_to_quiet(struct demo *d, const char *date, int64_t *now_ms)
{
    return advance_clock(d, date, now_ms, 0);
}

/* ---- the quarters: desks that print each notice as it arrives ---- */

/* A principal's connection kept open while the quarters pass; it prints
 * each escalation notice delivered to it, one line each. */
typedef struct desk {
    ld_client *c;
    const demo_principal *who;
    int yellow_only; /* print only due_soon: the coordinator's yellow lights */
    int notices;     /* notices printed */
    int other;       /* other deliveries (acceptances, reports, letters), acknowledged */
} desk;

/* The China date (UTC+8) of a business-clock time. */
static void china_date(int64_t ms, char buf[11])
{
    time_t t = (time_t)(ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

static const char *name_of(const struct demo *d, const char *id)
{
    int i = demo_cast_find(&d->cast, id);
    return i >= 0 ? d->cast.p[i].name : id;
}

static void notice_line(const struct demo *d, const ld_escalation_notice *n)
{
    char date[11], lv[64], who[512] = "";
    china_date(n->raised_at_ms, date);
    snprintf(lv, sizeof lv, "%u %s", n->level, n->level_name);
    for (size_t i = 0; i < n->n_departments; i++) {
        size_t used = strlen(who);
        snprintf(who + used, sizeof who - used, "%s%s", i ? "、" : "",
                 name_of(d, n->departments[i]));
    }
    char *cut = ld_cli_truncate(who, 36);
    say("    %s  %-6s  %-9s %-17s ", date, n->colour, n->task, n->reason);
    ld_cli_pad(stdout, n->level ? lv : "-", 8);
    say(" %s\n", cut ? cut : who);
    free(cut);
}

static int desk_open(struct demo *d, desk *k, int who, int yellow_only)
{
    ld_session_info si;
    memset(k, 0, sizeof *k);
    k->who = &d->cast.p[who];
    k->yellow_only = yellow_only;
    k->c = connect_as(d, k->who->id, &si);
    return k->c ? 0 : -1;
}

/* Print what reached the desk. The broker pushes the deliveries a tick
 * raised before it reads this desk's next message, so once a query's answer
 * is here they are too; a large batch comes in windows, hence the loop. */
static int desk_read(struct demo *d, desk *k, int64_t since_ms)
{
    for (;;) {
        ld_escalation_query q = {.plan = d->cast.plan_id, .since_ms = since_ms};
        ld_escalations *e;
        if (ld_client_escalation_query(k->c, &q, &e) != LD_OK) {
            fprintf(stderr, "liandong: demo: %s: %s\n", k->who->id, ld_client_last_error(k->c));
            return -1;
        }
        ld_escalations_destroy(&e);
        int got = 0;
        ld_delivery *dl;
        while (ld_client_recv(k->c, 0, &dl) == LD_OK) {
            got++;
            const ld_escalation_notice *n = dl->from_broker ? dl->notice : NULL;
            if (n && (!k->yellow_only || strcmp(n->reason, "due_soon") == 0)) {
                notice_line(d, n);
                k->notices++;
            } else if (!n) {
                k->other++;
            }
            ld_client_ack(k->c, dl);
            ld_delivery_destroy(&dl);
        }
        if (got < 128)
            return 0;
    }
}

/* The ledger's tasks of the plan, as the quarters need them. */
typedef struct demo_task {
    char id[65];
    char lead[65]; /* the first lead department */
    char due[11];
    int done;
} demo_task;

typedef struct quarters {
    struct demo *d;
    desk sup, office; /* 市政府督查室 and the coordinator */
    demo_task t[64];
    size_t n;
    int64_t clock_ms;
    int reports;
} quarters;

static int load_tasks(quarters *qs)
{
    ld_ledger_query q = {.plan = qs->d->cast.plan_id};
    ld_ledger *l;
    if (ld_client_ledger_query(qs->office.c, &q, &l) != LD_OK) {
        fprintf(stderr, "liandong: demo: ledger: %s\n", ld_client_last_error(qs->office.c));
        return -1;
    }
    for (size_t i = 0; i < l->n_tasks && qs->n < 64; i++) {
        const ld_ledger_task *x = &l->tasks[i];
        if (x->kind[0] || !x->n_lead)
            continue;
        demo_task *t = &qs->t[qs->n++];
        snprintf(t->id, sizeof t->id, "%s", x->task);
        snprintf(t->lead, sizeof t->lead, "%s", x->lead[0]);
        snprintf(t->due, sizeof t->due, "%s", x->due);
        t->done = x->state == LD_TASK_DONE;
    }
    ld_ledger_destroy(&l);
    return 0;
}

/* A desk's connection for id, else a new one (*own set: destroy it). Two
 * connections of one principal would race for sequence numbers. */
static ld_client *client_for(quarters *qs, const char *id, int *own)
{
    ld_session_info si;
    *own = 0;
    if (!strcmp(id, qs->sup.who->id))
        return qs->sup.c;
    if (!strcmp(id, qs->office.who->id))
        return qs->office.c;
    *own = 1;
    return connect_as(qs->d, id, &si);
}

static int listed(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Every lead reports on its open tasks, except on those in skip; tasks due
 * by finish_by (if set) and not in keep_open are reported done. Each
 * department also reads and acknowledges its mailbox. */
static int report_round(quarters *qs, const char *const *skip, size_t n_skip, const char *finish_by,
                        const char *const *keep_open, size_t n_keep, unsigned progress)
{
    struct demo *d = qs->d;
    for (size_t p = 0; p < d->cast.n; p++) {
        const char *id = d->cast.p[p].id;
        ld_client *c = NULL;
        int own = 0;
        for (size_t i = 0; i < qs->n; i++) {
            demo_task *t = &qs->t[i];
            if (t->done || strcmp(t->lead, id) != 0 || listed(skip, n_skip, t->id))
                continue;
            if (!c && !(c = client_for(qs, id, &own)))
                return -1;
            int finish =
                finish_by && strcmp(t->due, finish_by) <= 0 && !listed(keep_open, n_keep, t->id);
            ld_status_report sr = {.plan = d->cast.plan_id,
                                   .task = t->id,
                                   .state = finish ? LD_TASK_DONE : LD_TASK_IN_PROGRESS,
                                   .progress = finish ? 100 : progress,
                                   .note = finish ? "任务已完成，材料已归档。"
                                                  : "按季度推进，本季度目标完成。"};
            if (ld_client_status_report(c, &sr, NULL) != LD_OK) {
                fprintf(stderr, "liandong: demo: %s reports %s: %s\n", id, t->id,
                        ld_client_last_error(c));
                if (own)
                    ld_client_destroy(&c);
                return -1;
            }
            t->done = finish;
            qs->reports++;
        }
        if (!c || !own)
            continue; /* a desk reads its own deliveries */
        ld_delivery *dl;
        while (ld_client_recv(c, 0, &dl) == LD_OK) {
            ld_client_ack(c, dl);
            ld_delivery_destroy(&dl);
        }
        ld_client_destroy(&c);
    }
    return 0;
}

/* Move the clock, then print what reached the two desks. */
static int pass_to(quarters *qs, const char *date)
{
    int64_t since = qs->clock_ms;
    if (advance_to(qs->d, date, &qs->clock_ms))
        return -1;
    int before = qs->sup.notices + qs->office.notices;
    if (desk_read(qs->d, &qs->sup, since) || desk_read(qs->d, &qs->office, since))
        return -1;
    if (qs->sup.notices + qs->office.notices == before)
        say("    (no notices)\n");
    return 0;
}

/* A department's call through the SDK, printed, or the failure. */
static int check(ld_client *c, int rc, const char *what)
{
    if (rc == LD_OK) {
        say("  %s\n", what);
        return 0;
    }
    fprintf(stderr, "liandong: demo: %s: %s\n", what, ld_client_last_error(c));
    return -1;
}

/* The first open task due on due (or any date if NULL), not in but, led by
 * lead if given and one such exists; NULL if none. */
static demo_task *pick_task(quarters *qs, const char *due, const char *lead, const char *but)
{
    for (int pass = lead ? 0 : 1; pass < 2; pass++)
        for (size_t i = 0; i < qs->n; i++) {
            demo_task *t = &qs->t[i];
            if (!t->done && (!due || strcmp(t->due, due) == 0) &&
                (pass || strcmp(t->lead, lead) == 0) && (!but || strcmp(t->id, but) != 0))
                return t;
        }
    return NULL;
}

static int quarters_run(quarters *qs)
{
    struct demo *d = qs->d;
    const demo_principal *office = &d->cast.p[d->office], *dcs = &d->cast.p[d->dcs];
    ld_session_info si;
    ld_client *c = NULL;
    if (desk_open(d, &qs->sup, d->dcs, 0) || desk_open(d, &qs->office, d->office, 1) ||
        load_tasks(qs) || ld_client_session(qs->sup.c, &si) != LD_OK)
        return -1;
    qs->clock_ms = si.clock_ms;
    say("  %s keeps a connection open and prints each notice as it arrives;\n"
        "  %s prints the yellow lights (due_soon) it receives.\n"
        "    RAISED      COLOUR  TASK      REASON            LEVEL    DEPARTMENTS\n",
        dcs->name, office->name);

    /* 2022 Q3: the tasks without a report in step 5 fall behind. */
    say("  2022 Q3: the quarter ends; some lead departments did not report\n");
    int printed = qs->sup.notices;
    if (pass_to(qs, "2022-10-10"))
        return -1;
    /* The two that stay behind: the first two tasks still without a report. */
    ld_escalation_query eq = {.plan = d->cast.plan_id, .since_ms = qs->clock_ms - 30 * DAY_MS};
    ld_escalations *e;
    if (ld_client_escalation_query(qs->sup.c, &eq, &e) != LD_OK)
        return -1;
    /* Two tasks of two departments. */
    char lag[2][65] = {"", ""};
    const char *lead0 = "";
    for (size_t i = 0, k = 0; i < e->n_notices && k < 2; i++) {
        const ld_escalation_notice *n = &e->notices[i];
        if (strcmp(n->reason, "no_report") != 0 || !n->n_departments ||
            !strcmp(n->departments[0], lead0))
            continue;
        snprintf(lag[k++], sizeof lag[0], "%s", n->task);
        for (size_t j = 0; j < qs->n; j++)
            if (!strcmp(qs->t[j].id, n->task))
                lead0 = qs->t[j].lead;
    }
    ld_escalations_destroy(&e);
    if (!lag[1][0] || qs->sup.notices == printed) {
        fprintf(stderr, "liandong: demo: no task fell behind in 2022 Q3\n");
        return -1;
    }
    const char *skip[] = {lag[0], lag[1]};
    int b = -1;
    for (size_t i = 0; i < qs->n; i++)
        if (!strcmp(qs->t[i].id, lag[1]))
            b = (int)i;

    say("  2022 Q4: the others report; %s and %s stay behind → 约谈\n", lag[0], lag[1]);
    if (report_round(qs, skip, 2, NULL, NULL, 0, 20) || pass_to(qs, "2023-01-10"))
        return -1;

    const char *b_lead = qs->t[b].lead;
    char text[256], letter[64] = "", what[512];
    snprintf(text, sizeof text, "请于2023年1月31日前报送%s的进展情况并限期整改。", lag[1]);
    snprintf(what, sizeof what, "%s issues a 督办函 on %s to %s, deadline 2023-01-31", dcs->name,
             lag[1], name_of(d, b_lead));
    if (check(qs->sup.c,
              ld_client_letter_issue(qs->sup.c, d->cast.plan_id, lag[1], &b_lead, 1, "2023-01-31",
                                     text, letter, sizeof letter, NULL),
              what))
        return -1;
    if (!(c = connect_as(d, b_lead, &si)))
        return -1;
    snprintf(what, sizeof what, "%s answers %s and reports %s in progress: the ladder stops",
             name_of(d, b_lead), letter, lag[1]);
    ld_status_report sr = {.plan = d->cast.plan_id,
                           .task = lag[1],
                           .state = LD_TASK_IN_PROGRESS,
                           .progress = 25,
                           .note = "已制定整改方案，按月调度。"};
    if (check(c,
              ld_client_letter_answer(c, letter, "已制定整改方案，按月调度，1月底前完成首批项目。",
                                      NULL) ||
                  ld_client_status_report(c, &sr, NULL),
              what))
        goto fail;
    ld_client_destroy(&c);
    if (desk_read(d, &qs->sup, qs->clock_ms))
        return -1;

    say("  2023 Q1: %s still has no report → 问责; then its lead reports\n", lag[0]);
    if (report_round(qs, skip, 1, NULL, NULL, 0, 35) || pass_to(qs, "2023-04-10") ||
        report_round(qs, NULL, 0, NULL, NULL, 0, 40) || desk_read(d, &qs->sup, qs->clock_ms))
        return -1;

    /* Quarter after quarter, every lead reports: nothing to escalate. */
    static const char *const ends[] = {"2023-07-10", "2023-10-10", "2024-01-10", "2024-04-10",
                                       "2024-07-10", "2024-10-10", "2025-01-10", "2025-04-10",
                                       "2025-07-10", "2025-10-10"};
    int quiet = qs->sup.notices + qs->office.notices, r0 = qs->reports;
    say("  2023 Q2 – 2025 Q3: every lead reports each quarter\n");
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        int64_t since = qs->clock_ms;
        if (report_round(qs, NULL, 0, NULL, NULL, 0, (unsigned)(45 + 4 * i)) ||
            advance_to_quiet(d, ends[i], &qs->clock_ms) || desk_read(d, &qs->sup, since) ||
            desk_read(d, &qs->office, since))
            return -1;
    }
    say("    %d reports in 10 quarters, %d notices\n", qs->reports - r0,
        qs->sup.notices + qs->office.notices - quiet);

    /* 2025 Q4: the 2025 deadlines come near. */
    say("  2025 Q4: the leads report; 10 working days before 2025-12-31 the yellow lights\n");
    if (report_round(qs, NULL, 0, NULL, NULL, 0, 90) || pass_to(qs, "2025-12-18"))
        return -1;
    demo_task *ext = pick_task(qs, "2025-12-31", "mdj.gxj", NULL);
    demo_task *red = ext ? pick_task(qs, "2025-12-31", "mdj.wlj", ext->id) : NULL;
    if (!ext || !red) {
        fprintf(stderr, "liandong: demo: no open task is due on 2025-12-31\n");
        return -1;
    }
    snprintf(what, sizeof what, "%s asks to extend %s to 2026-02-27 (重点项目设备到货延迟)",
             name_of(d, ext->lead), ext->id);
    if (!(c = connect_as(d, ext->lead, &si)) ||
        check(c,
              ld_client_extension_request(c, d->cast.plan_id, ext->id, "2026-02-27",
                                          "重点项目设备到货延迟。", NULL),
              what))
        goto fail;
    ld_client_destroy(&c);
    snprintf(what, sizeof what, "%s approves: %s is now due 2026-02-27", office->name, ext->id);
    if (check(
            qs->office.c,
            ld_client_extension_decide(qs->office.c, d->cast.plan_id, ext->id, 1, NULL, NULL, NULL),
            what))
        return -1;
    if (desk_read(d, &qs->sup, qs->clock_ms))
        return -1;
    const char *keep[] = {ext->id, red->id};
    say("  the other 2025 tasks are reported done; %s (%s) is not finished\n", red->id,
        name_of(d, red->lead));
    if (report_round(qs, NULL, 0, "2025-12-31", keep, 2, 95))
        return -1;
    say("  2026: %s is overdue → 督导, and 15 working days later → 约谈\n", red->id);
    if (pass_to(qs, "2026-01-05") || pass_to(qs, "2026-01-26"))
        return -1;
    say("  %s received %d notices, %s %d yellow lights\n", dcs->name, qs->sup.notices, office->name,
        qs->office.notices);
    return 0;
fail:
    ld_client_destroy(&c);
    return -1;
}

/* Run `liandong audit verify` (this very binary) on the data directory. */
static int verify_audit(struct demo *d)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(self, self, "audit", "verify", "--data-dir", d->data, "--broker-key", d->broker_pub,
              (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "liandong: demo: the audit log did not verify\n");
        return -1;
    }
    return 0;
}

static void demo_usage(FILE *f)
{
    fprintf(f,
            "Usage: liandong demo [--keep] [--verbose]\n"
            "\n"
            "Run 牡政发〔2022〕21号 (28 tasks) through a real broker with the plans, escalation\n"
            "and audit plugins on an ephemeral loopback port, with a temporary data directory\n"
            "and a simulated clock: publish, assignments, acceptance, reports, a broker\n"
            "restart, a department that connects late; then quarter by quarter the escalation\n"
            "notices (督导, 约谈, 问责, yellow and red lights) printed as they reach\n"
            "市政府督查室, a 督办函 answered, an extension granted; the ledger, and the audit\n"
            "log verified.\n"
            "\n"
            "  --keep      keep the temporary directory (keys, roster, LMDB data)\n"
            "  --verbose   show the broker's log\n");
}

static int run(struct demo *d)
{
    char err[512];
    if (demo_cast_load(&d->cast, err, sizeof err) != 0) {
        fprintf(stderr, "liandong: demo: %s\n", err);
        return 1;
    }
    d->office = d->dcs = d->late = -1;
    for (size_t i = 0; i < d->cast.n; i++) {
        if (d->office < 0 && (d->cast.p[i].roles & LDK_ROLE_COORDINATOR))
            d->office = (int)i;
        if (d->dcs < 0 && (d->cast.p[i].roles & LDK_ROLE_SUPERVISION))
            d->dcs = (int)i;
    }
    d->late = demo_cast_find(&d->cast, "mdj.kjj");
    if (d->office < 0 || d->dcs < 0 || d->late < 0) {
        fprintf(stderr, "liandong: demo: the embedded plan lacks a coordinator, a supervision "
                        "office or 市科技局\n");
        return 1;
    }
    const demo_principal *office = &d->cast.p[d->office], *dcs = &d->cast.p[d->dcs];

    say("Liandong demo: %s %s\n", d->cast.doc_number, d->cast.title);
    say("working directory %s\n", d->dir);

    step("1. Identities: an Ed25519 and a CURVE key pair for each principal, in a roster");
    if (make_identities(d))
        return 1;
    print_cast(d);

    step("2. The broker with the plans, escalation and audit plugins; the clock starts "
         "at " DEMO_START);
    FILE *f = fopen(d->config, "w");
    if (!f || fputs(demo_broker_config, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "liandong: demo: cannot write %s\n", d->config);
        return 1;
    }
    if (start_broker(d)) {
        fprintf(stderr, "liandong: demo: the broker did not start (%s --config %s)\n",
                d->broker_bin, d->config);
        return 1;
    }
    say("  liandong-broker listening on %s (pid %d)\n", d->endpoint, (int)d->broker);

    step("3. The coordinator publishes the plan");
    ld_session_info si;
    ld_client *c = connect_as(d, office->id, &si);
    if (!c)
        return 1;
    ld_ack ack;
    if (ld_client_plan_publish(c, "ir-2022.yaml", ld_demo_plan_yaml, ld_demo_plan_yaml_len, &ack) !=
        LD_OK) {
        fprintf(stderr, "liandong: demo: publish: %s\n", ld_client_last_error(c));
        ld_client_destroy(&c);
        return 1;
    }
    say("  %s published %s: %d tasks, each lead and support department gets its\n"
        "  assignment in its mailbox (signed by the broker, stored before the Ack, seq %llu)\n",
        office->name, d->cast.plan_id, d->cast.n_tasks, (unsigned long long)ack.seq);

    step("4. A department tries to report on a task that is not its own");
    ld_client_destroy(&c);
    /* 市文联 supports another task, not ir-2.1.1. */
    int outsider = demo_cast_find(&d->cast, "mdj.wl");
    c = outsider >= 0 ? connect_as(d, "mdj.wl", &si) : NULL;
    if (!c)
        return 1;
    ld_status_report sr;
    memset(&sr, 0, sizeof sr);
    sr.task = "ir-2.1.1";
    sr.state = LD_TASK_DONE;
    sr.progress = 100;
    int rc = ld_client_status_report(c, &sr, NULL);
    if (rc != LD_ERR_REFUSED) {
        fprintf(stderr,
                "liandong: demo: a report on another department's task was not refused "
                "(%s)\n",
                ld_strerror(rc));
        ld_client_destroy(&c);
        return 1;
    }
    say("  %s reports ir-2.1.1 done → refused: %s: %s\n", d->cast.p[outsider].name,
        ld_reason_name(ld_client_last_reason(c)), ld_client_last_error(c));
    ld_client_destroy(&c);

    step("5. Departments connect, accept their assignments and report (市科技局 is offline)");
    for (size_t i = 0; i < d->cast.n; i++) {
        const demo_principal *p = &d->cast.p[i];
        if ((int)i == d->late || !(p->roles & LDK_ROLE_DEPARTMENT))
            continue;
        if (department_works(d, i, 0) < 0)
            return 1;
    }

    step("6. The broker restarts; nothing acknowledged is lost");
    stop_broker(d);
    say("  broker stopped\n");
    if (start_broker(d)) {
        fprintf(stderr, "liandong: demo: the broker did not restart\n");
        return 1;
    }
    say("  broker restarted on %s (pid %d)\n", d->endpoint, (int)d->broker);

    step("7. 市科技局 connects late and still finds its assignments");
    if (department_works(d, (size_t)d->late, 0) < 0)
        return 1;

    step("8. Quarter by quarter: escalation notices reach the supervision office");
    quarters qs;
    memset(&qs, 0, sizeof qs);
    qs.d = d;
    rc = quarters_run(&qs);
    ld_client_destroy(&qs.sup.c);
    ld_client_destroy(&qs.office.c);
    if (rc != 0)
        return 1;

    step("9. The ledger, as the coordinator sees it");
    say("  %s's desk took %d acceptances, reports and letters from the departments\n", office->name,
        qs.office.other);
    ld_ledger_query q;
    memset(&q, 0, sizeof q);
    q.plan = d->cast.plan_id;
    if (show_ledger(d, office->id, &q))
        return 1;

    step("10. Overdue tasks, as the supervision office sees them");
    say("  (%s)\n", dcs->name);
    q.overdue = 1;
    if (show_ledger(d, dcs->id, &q))
        return 1;

    step("11. The audit log: every envelope, accepted or refused, hash-chained and signed");
    stop_broker(d);
    if (verify_audit(d))
        return 1;

    step("Done");
    say("  Every message was signed with Ed25519, checked by the broker, stored in LMDB\n"
        "  before its Ack, and delivered at least once.%s\n",
        d->keep ? "" : " Cleaning up.");
    if (d->keep)
        say("  Kept: %s\n", d->dir);
    return 0;
}

int ld_cli_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"keep", no_argument, 0, 'k'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct demo d;
    memset(&d, 0, sizeof d);
    /* Display widths need a UTF-8 locale, whatever the environment says. */
    if (!setlocale(LC_CTYPE, "") || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k': d.keep = 1; break;
        case 'v': d.verbose = 1; break;
        case 'h': demo_usage(stdout); return 0;
        default: demo_usage(stderr); return 2;
        }
    }
    if (find_broker(&d) != 0) {
        fprintf(stderr, "liandong: demo: cannot find liandong-broker next to liandong or on "
                        "PATH; set LIANDONG_BROKER_BIN\n");
        return 1;
    }
    snprintf(d.dir, sizeof d.dir, "/tmp/liandong-demo-XXXXXX");
    if (!mkdtemp(d.dir)) {
        fprintf(stderr, "liandong: demo: cannot create a temporary directory: %s\n",
                strerror(errno));
        return 1;
    }
    snprintf(d.keys, sizeof d.keys, "%s/keys", d.dir);
    snprintf(d.roster, sizeof d.roster, "%s/roster", d.dir);
    snprintf(d.data, sizeof d.data, "%s/data", d.dir);
    snprintf(d.ready, sizeof d.ready, "%s/ready", d.dir);
    snprintf(d.broker_secret, sizeof d.broker_secret, "%s/broker.secret", d.keys);
    snprintf(d.broker_pub, sizeof d.broker_pub, "%s/broker.pub", d.keys);
    snprintf(d.config, sizeof d.config, "%s/broker.yaml", d.dir);

    int rc = run(&d);
    stop_broker(&d);
    if (!d.keep) {
        char cmd[PATH_MAX + 20];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "liandong: demo: could not remove %s\n", d.dir);
    }
    return rc;
}
