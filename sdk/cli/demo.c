/* demo.c - `liandong demo`: 牡政发〔2022〕21号 through a real broker.
 *
 * Starts liandong-broker with the plans, escalation and audit plugins on an
 * ephemeral loopback port, a temporary data directory and a simulated clock;
 * creates identities for every principal the plan names (names as printed in
 * 牡丹江市人民政府公报 2022 第6期, embedded from data/seed/departments.yaml);
 * the general office publishes the plan (embedded from
 * examples/plans/ir-2022.yaml); the departments receive their assignments,
 * accept and report (one only after a broker restart); the clock moves
 * through the years while escalation notices reach the supervision office,
 * which issues a 督办函; an extension is granted; the ledger is printed and
 * the audit log verified. Everything shown is real traffic. */
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

/* Move the simulated clock to the given China date (YYYY-MM-DD, 09:00). */
static int advance_to(struct demo *d, const char *date)
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
    if (rc == LD_OK)
        say("  the operator moves the simulated clock to %s\n", iso);
    return rc == LD_OK ? 0 : -1;
}

/* What reached the supervision office: a count per kind, and a few lines. */
static int read_notices(struct demo *d, int shown)
{
    const demo_principal *dcs = &d->cast.p[d->dcs];
    ld_session_info si;
    ld_client *c = connect_as(d, dcs->id, &si);
    if (!c)
        return -1;
    struct {
        char kind[96];
        int n;
    } kinds[16];
    int n_kinds = 0, total = 0;
    for (uint64_t k = 0; k < si.mailbox_size; k++) {
        ld_delivery *dl;
        if (ld_client_recv(c, 5000, &dl) != LD_OK)
            break;
        const ld_escalation_notice *n = dl->notice;
        if (n && dl->from_broker) {
            char kind[96];
            snprintf(kind, sizeof kind, "%s%s%s", n->reason, n->level ? " " : "",
                     n->level ? n->level_name : "");
            int i = 0;
            while (i < n_kinds && strcmp(kinds[i].kind, kind) != 0)
                i++;
            if (i == n_kinds && n_kinds < 16) {
                snprintf(kinds[n_kinds].kind, sizeof kinds[0].kind, "%s", kind);
                kinds[n_kinds++].n = 0;
            }
            if (i < n_kinds)
                kinds[i].n++;
            if (total++ < shown) {
                char when[64];
                ld_cli_time_utc(n->raised_at_ms, when, sizeof when);
                say("    %s  %-8s %s  %s\n", n->task, n->reason, n->level ? n->level_name : "  ",
                    n->text);
            }
        }
        ld_client_ack(c, dl);
        ld_delivery_destroy(&dl);
    }
    ld_client_destroy(&c);
    say("  %s received %d escalation notices:", dcs->name, total);
    for (int i = 0; i < n_kinds; i++)
        say("%s %d × %s", i ? "," : "", kinds[i].n, kinds[i].kind);
    say("\n");
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

/* Escalations over the years: notices, a 督办函, an extension. */
static int escalations(struct demo *d)
{
    const demo_principal *office = &d->cast.p[d->office], *dcs = &d->cast.p[d->dcs];
    ld_session_info si;
    if (advance_to(d, "2022-10-10") || read_notices(d, 3))
        return -1;

    say("  %s issues a 督办函 on ir-3.8 to its lead; the lead answers\n", dcs->name);
    ld_client *c = connect_as(d, dcs->id, &si);
    const char *to[] = {"mdj.jgj"};
    char letter[64] = "";
    if (!c || check(c,
                    ld_client_letter_issue(c, d->cast.plan_id, "ir-3.8", to, 1, "2022-10-31",
                                           "请于10月31日前报送招商引资工作进展并整改。", letter,
                                           sizeof letter, NULL),
                    "督办函 issued, deadline 2022-10-31"))
        goto fail;
    ld_client_destroy(&c);
    if (!(c = connect_as(d, "mdj.jgj", &si)) ||
        check(c, ld_client_letter_answer(c, letter, "已制定招商引资专项计划，按月调度。", NULL),
              "市经管局 answers the letter") ||
        check(c,
              ld_client_status_report(c,
                                      &(ld_status_report){.plan = d->cast.plan_id,
                                                          .task = "ir-3.8",
                                                          .state = LD_TASK_IN_PROGRESS,
                                                          .progress = 20,
                                                          .note = "已签约项目3个。"},
                                      NULL),
              "市经管局 reports ir-3.8 in progress, 20%"))
        goto fail;
    ld_client_destroy(&c);

    if (advance_to(d, "2025-12-01"))
        return -1;
    say("  市工信局 asks to extend ir-2.2.3 to 2026-02-27; the office approves\n");
    if (!(c = connect_as(d, "mdj.gxj", &si)) ||
        check(c,
              ld_client_extension_request(c, d->cast.plan_id, "ir-2.2.3", "2026-02-27",
                                          "重点项目设备到货延迟。", NULL),
              "extension requested"))
        goto fail;
    ld_client_destroy(&c);
    if (!(c = connect_as(d, office->id, &si)) ||
        check(c, ld_client_extension_decide(c, d->cast.plan_id, "ir-2.2.3", 1, NULL, NULL, NULL),
              "extension approved"))
        goto fail;
    ld_client_destroy(&c);
    if (read_notices(d, 0) || advance_to(d, "2026-02-10") || read_notices(d, 6))
        return -1;
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
            "Run 牡政发〔2022〕21号 (28 tasks) through a real broker with the plans plugin on an\n"
            "ephemeral loopback port, with a temporary data directory and a simulated clock:\n"
            "publish, assignments, acceptance, reports, a broker restart, a department that\n"
            "connects late, and the ledger.\n"
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

    step("8. Quarters pass: escalation notices reach the supervision office");
    if (escalations(d))
        return 1;

    step("9. The ledger, as the coordinator sees it");
    c = connect_as(d, office->id, &si);
    if (!c)
        return 1;
    ld_client_destroy(&c);
    say("  %s has %llu acceptances and reports from the departments in its mailbox\n", office->name,
        (unsigned long long)si.mailbox_size);
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
