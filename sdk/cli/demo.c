/* demo.c - `liandong demo`: a short, real exchange between departments.
 *
 * Starts liandong-broker on an ephemeral loopback port with a temporary data
 * directory, creates identities for departments of 牡政发〔2022〕21号 (names as
 * printed in 牡丹江市人民政府公报 2022 第6期; see data/seed/departments.yaml),
 * and runs a visible exchange through the broker with the SDK: an
 * assignment, acknowledgements, replies, a refusal with its reason code, and
 * a department that connects only after a broker restart and still gets its
 * message. Everything shown is real traffic. */
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
#include "ldk/keys.h"
#include "liandong/liandong.h"

/* The cast, from data/seed/departments.yaml (ids and names as printed). */
static const struct demo_principal {
    const char *id;
    const char *name;
    unsigned roles;
} cast[] = {
    {"mdj.zf.bgs", "牡丹江市人民政府办公室", LDK_ROLE_COORDINATOR},
    {"mdj.gxj", "市工信局", LDK_ROLE_DEPARTMENT},
    {"mdj.fgw", "市发改委", LDK_ROLE_DEPARTMENT},
    {"mdj.kjj", "市科技局", LDK_ROLE_DEPARTMENT},
    {"mdj.zf.dcs", "市政府督查室", LDK_ROLE_SUPERVISION},
};
enum { BGS, GXJ, FGW, KJJ, DCS, N_CAST };

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
    pid_t broker;
    int keep;
    int verbose;
    ld_client *clients[N_CAST];
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

/* Print s and pad it to width terminal columns (CJK characters take two). */
static void say_padded(const char *s, int width)
{
    wchar_t w[256];
    int cols = -1;
    if (mbstowcs(w, s, 256) != (size_t)-1)
        cols = wcswidth(w, 256);
    if (cols < 0)
        cols = (int)strlen(s);
    say("%s%*s", s, width > cols ? width - cols : 0, "");
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
        const char *argv[] = {d->broker_bin, "--listen",
                              d->endpoint[0] ? d->endpoint : "tcp://127.0.0.1:*", "--data-dir",
                              d->data, "--roster", d->roster, "--key", d->broker_secret,
                              "--ready-file", d->ready, "--log-level",
                              d->verbose ? "info" : "error", NULL};
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
    for (int i = 0; i < N_CAST && rc == LD_OK; i++) {
        char path[PATH_MAX + 100];
        rc = ldk_identity_generate(cast[i].id, cast[i].name, cast[i].roles, &ident, err,
                                   sizeof err);
        if (rc != LD_OK)
            break;
        snprintf(path, sizeof path, "%s/%s.secret", d->keys, cast[i].id);
        rc = ldk_identity_save_secret(ident, path, err, sizeof err);
        snprintf(path, sizeof path, "%s/%s.pub", d->keys, cast[i].id);
        if (rc == LD_OK)
            rc = ldk_identity_save_public(ident, path, err, sizeof err);
        if (rc == LD_OK)
            rc = ldk_roster_add(roster, ident, (int64_t)time(NULL), err, sizeof err);
        if (rc == LD_OK) {
            char roles[64];
            ldk_roles_format(cast[i].roles, roles, sizeof roles);
            say("  %-11s key %s  ", cast[i].id, ident->key_id);
            say_padded(cast[i].name, 24);
            say("%s\n", roles);
        }
        ldk_identity_destroy(&ident);
    }
    if (rc == LD_OK)
        rc = ldk_roster_save(roster, d->roster, err, sizeof err);
    ldk_roster_destroy(&roster);
    if (rc != LD_OK)
        fprintf(stderr, "liandong: demo: %s\n", err);
    return rc == LD_OK ? 0 : -1;
}

static int connect_as(struct demo *d, int who)
{
    char path[PATH_MAX + 100], err[512];
    snprintf(path, sizeof path, "%s/%s.secret", d->keys, cast[who].id);
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = d->endpoint;
    o.identity_path = path;
    o.broker_key_path = d->broker_pub;
    o.client_name = "liandong-demo";
    ld_client_destroy(&d->clients[who]);
    if (ld_client_new(&o, &d->clients[who], err, sizeof err) != LD_OK) {
        fprintf(stderr, "liandong: demo: %s\n", err);
        return -1;
    }
    if (ld_client_connect(d->clients[who]) != LD_OK) {
        fprintf(stderr, "liandong: demo: %s: %s\n", cast[who].id,
                ld_client_last_error(d->clients[who]));
        return -1;
    }
    ld_session_info si;
    ld_client_session(d->clients[who], &si);
    say("  %s %s connected (last seq %llu, %llu waiting in its mailbox)\n", cast[who].id,
        cast[who].name, (unsigned long long)si.last_seq, (unsigned long long)si.mailbox_size);
    return 0;
}

static int send_text(struct demo *d, int from, const int *to, size_t n_to, const char *text)
{
    const char *ids[N_CAST];
    char names[512] = "";
    for (size_t i = 0; i < n_to; i++) {
        ids[i] = cast[to[i]].id;
        strncat(names, i ? "、" : "", sizeof names - strlen(names) - 1);
        strncat(names, cast[to[i]].name, sizeof names - strlen(names) - 1);
    }
    ld_ack ack;
    int rc = ld_client_send_direct(d->clients[from], ids, n_to, text, NULL, 0, &ack);
    if (rc != LD_OK) {
        fprintf(stderr, "liandong: demo: send failed: %s\n", ld_client_last_error(d->clients[from]));
        return -1;
    }
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", ack.envelope_id[i]);
    say("  %s → %s\n    「%s」\n    signed, stored and acknowledged: envelope %.12s… seq %llu\n",
        cast[from].name, names, text, hex, (unsigned long long)ack.seq);
    return 0;
}

/* Print and acknowledge what arrives for who within timeout. Returns count. */
static int receive(struct demo *d, int who, int expect, int timeout_ms)
{
    int n = 0;
    while (n < expect) {
        ld_delivery *dl;
        if (ld_client_recv(d->clients[who], timeout_ms, &dl) != LD_OK)
            break;
        say("  %s received from %s (%s), signatures checked:\n    「%s」\n", cast[who].name,
            dl->sender_name && *dl->sender_name ? dl->sender_name : dl->sender, dl->sender,
            dl->text ? dl->text : "");
        ld_client_ack(d->clients[who], dl);
        ld_delivery_destroy(&dl);
        n++;
    }
    return n;
}

static void demo_usage(FILE *f)
{
    fprintf(f, "Usage: liandong demo [--keep] [--verbose]\n"
               "\n"
               "Run a short exchange between departments of 牡政发〔2022〕21号 through a real\n"
               "broker on an ephemeral loopback port, with a temporary data directory.\n"
               "\n"
               "  --keep      keep the temporary directory (keys, roster, LMDB data)\n"
               "  --verbose   show the broker's log\n");
}

static int run(struct demo *d)
{
    step("1. Identities: Ed25519 signing keys and CURVE keys, in a roster");
    if (make_identities(d))
        return 1;

    step("2. Broker: CURVE on loopback, LMDB data in a temporary directory");
    if (start_broker(d)) {
        fprintf(stderr, "liandong: demo: the broker did not start (%s)\n", d->broker_bin);
        return 1;
    }
    say("  liandong-broker listening on %s (pid %d)\n", d->endpoint, (int)d->broker);

    step("3. The general office assigns task ir-2.1.1 (市科技局 is offline)");
    if (connect_as(d, BGS) || connect_as(d, GXJ) || connect_as(d, FGW))
        return 1;
    const int leads[] = {GXJ, FGW, KJJ};
    if (send_text(d, BGS, leads, 3,
                  "请落实“拓展数字经济发展新优势”（ir-2.1.1）：市工信局牵头，市发改委、市科技局配合，"
                  "2025年底前完成，按季度报送进展。"))
        return 1;
    if (receive(d, GXJ, 1, 5000) != 1 || receive(d, FGW, 1, 5000) != 1) {
        fprintf(stderr, "liandong: demo: an online department did not receive the assignment\n");
        return 1;
    }

    step("4. Departments answer");
    const int office[] = {BGS};
    if (send_text(d, GXJ, office, 1, "收到。市工信局牵头，已制定数字经济专项行动计划。") ||
        send_text(d, FGW, office, 1, "收到。市发改委配合，项目已纳入年度重点项目清单。"))
        return 1;
    if (receive(d, BGS, 2, 5000) != 2) {
        fprintf(stderr, "liandong: demo: the office did not receive both answers\n");
        return 1;
    }

    step("5. A message to an unknown recipient is refused with a reason code");
    const char *nobody[] = {"mdj.nobody"};
    int rc = ld_client_send_direct(d->clients[GXJ], nobody, 1, "测试", NULL, 0, NULL);
    if (rc != LD_ERR_REFUSED) {
        fprintf(stderr, "liandong: demo: expected a refusal, got %s\n", ld_strerror(rc));
        return 1;
    }
    say("  refused: %s: %s\n", ld_reason_name(ld_client_last_reason(d->clients[GXJ])),
        ld_client_last_error(d->clients[GXJ]));

    step("6. The broker restarts; nothing acknowledged is lost");
    for (int i = 0; i < N_CAST; i++)
        ld_client_destroy(&d->clients[i]);
    stop_broker(d);
    say("  broker stopped\n");
    if (start_broker(d)) {
        fprintf(stderr, "liandong: demo: the broker did not restart\n");
        return 1;
    }
    say("  broker restarted on %s (pid %d)\n", d->endpoint, (int)d->broker);

    step("7. 市科技局 connects late and still gets its assignment");
    if (connect_as(d, KJJ))
        return 1;
    if (receive(d, KJJ, 1, 5000) != 1) {
        fprintf(stderr, "liandong: demo: the late department did not get its message\n");
        return 1;
    }
    if (send_text(d, KJJ, office, 1, "收到。市科技局配合，已安排数字技术攻关项目。"))
        return 1;

    step("8. The office reports to the supervision office");
    if (connect_as(d, BGS) || receive(d, BGS, 1, 5000) != 1)
        return 1;
    const int dcs[] = {DCS};
    if (send_text(d, BGS, dcs, 1, "ir-2.1.1 已分解落实：牵头 市工信局，配合 市发改委、市科技局。"))
        return 1;
    if (connect_as(d, DCS) || receive(d, DCS, 1, 5000) != 1)
        return 1;

    step("Done");
    say("  Every message above was signed with Ed25519, checked by the broker, stored in\n"
        "  LMDB before its Ack, and delivered at least once.%s\n",
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
    say("Liandong demo: 牡政发〔2022〕21号 加快产业振兴实施方案, task ir-2.1.1\n");
    say("working directory %s\n", d.dir);

    int rc = run(&d);
    for (int i = 0; i < N_CAST; i++)
        ld_client_destroy(&d.clients[i]);
    stop_broker(&d);
    if (!d.keep) {
        char cmd[PATH_MAX + 20];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "liandong: demo: could not remove %s\n", d.dir);
    }
    return rc;
}
