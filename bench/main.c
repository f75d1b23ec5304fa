/* main.c - liandong-bench: the crypto ceiling, the transport ceiling and
 * Liandong end to end, one after the other in one run, with the same
 * payload size; a table (or --json) and the ratios. See docs/performance.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "liandong/liandong.h"

#ifndef LD_BROKER_BIN
#define LD_BROKER_BIN "liandong-broker"
#endif
#ifndef LD_PLANS_PLUGIN
#define LD_PLANS_PLUGIN ""
#endif
#ifndef LD_ESCALATION_PLUGIN
#define LD_ESCALATION_PLUGIN ""
#endif
#ifndef LD_AUDIT_PLUGIN
#define LD_AUDIT_PLUGIN ""
#endif

/* The plugins built with the bench, loaded by default in this order. */
static const struct {
    const char *name, *path;
} built_plugins[] = {
    {"plans", LD_PLANS_PLUGIN},
    {"escalation", LD_ESCALATION_PLUGIN},
    {"audit", LD_AUDIT_PLUGIN},
};
#define DEFAULT_PLUGINS "plans,escalation,audit"

static void usage(FILE *f)
{
    fprintf(f, "Usage: liandong-bench [options]\n"
               "\n"
               "Measures, one after the other on this machine: (1) the crypto ceiling (Ed25519\n"
               "sign+verify pairs/s on all cores), (2) the transport ceiling (a bare ZeroMQ CURVE\n"
               "ROUTER relay with acks), (2b) the storage floor (LMDB commits with sync on the\n"
               "data disk), (3) Liandong end to end through the real broker (signed, verified,\n"
               "committed durably before the Ack, delivered and acknowledged), with\n"
               "--peers (4) Mosquitto and NATS JetStream the same way, and prints the ratios.\n"
               "\n"
               "  --smoke              everything tiny (a few seconds; CI)\n"
               "  --long               also broker RSS after 1,000,000 messages\n"
               "  --json               JSON instead of the table\n"
               "  --payload N          payload bytes (default 512)\n"
               "  --clients N          sending clients (default 8)\n"
               "  --window N           Liandong: messages in flight per client (default 64,\n"
               "                       the SDK's send_window; 1: ld_client_send_direct,\n"
               "                       one at a time)\n"
               "  --seconds S          length of each saturation phase (default 10)\n"
               "  --rate-seconds S     length of each fixed-rate phase (default 10)\n"
               "  --threads N          crypto threads (default: the number of cores)\n"
               "  --broker PATH        broker binary (default: the one built with this)\n"
               "  --plugins LIST       plugins the broker loads, comma-separated: plans,\n"
               "                       escalation, audit (the ones built with the bench) or\n"
               "                       NAME=PATH (default " DEFAULT_PLUGINS "; none: \"\")\n"
               "  --peers              (4) also Mosquitto and NATS JetStream, if installed (the\n"
               "                       bench starts them; built with -DLD_BENCH_PEERS=ON)\n"
               "  --verbose            progress on stderr\n");
}

/* Fill o's plugin list from "plans,audit,x=/path/x.so". 0, or -1 with a
 * message on stderr. */
static int parse_plugins(bench_opts *o, const char *list)
{
    o->n_plugins = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len) {
            if (o->n_plugins == BENCH_PLUGINS_MAX) {
                fprintf(stderr, "liandong-bench: --plugins: at most %d plugins\n",
                        BENCH_PLUGINS_MAX);
                return -1;
            }
            const char *eq = memchr(p, '=', len);
            size_t name_len = eq ? (size_t)(eq - p) : len;
            char *name = o->plugin_name[o->n_plugins], *path = o->plugin_path[o->n_plugins];
            if (!name_len || name_len >= sizeof o->plugin_name[0] ||
                (eq &&
                 (len - name_len - 1 == 0 || len - name_len - 1 >= sizeof o->plugin_path[0]))) {
                fprintf(stderr, "liandong-bench: --plugins: \"%.*s\" is not NAME or NAME=PATH\n",
                        (int)len, p);
                return -1;
            }
            memcpy(name, p, name_len);
            name[name_len] = 0;
            if (eq) {
                memcpy(path, eq + 1, len - name_len - 1);
                path[len - name_len - 1] = 0;
            } else {
                path[0] = 0;
                for (size_t i = 0; i < sizeof built_plugins / sizeof built_plugins[0]; i++)
                    if (strcmp(name, built_plugins[i].name) == 0)
                        snprintf(path, sizeof o->plugin_path[0], "%s", built_plugins[i].path);
                if (!path[0]) {
                    fprintf(stderr,
                            "liandong-bench: --plugins: no plugin \"%s\" was built with the "
                            "bench (plans, escalation, audit; or give NAME=PATH)\n",
                            name);
                    return -1;
                }
            }
            o->n_plugins++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* "plans, escalation, audit" (or "none") into buf. */
static const char *plugin_list(const bench_opts *o, char *buf, size_t len, const char *sep,
                               const char *quote)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < o->n_plugins && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s", i ? sep : "", quote, o->plugin_name[i],
                              quote);
    return buf;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

#ifdef LD_BENCH_HAVE_PEERS
static const int peers_built = 1;
#else
static const int peers_built = 0;
#endif

static const char *peer_status(int st)
{
    switch (st) {
    case PEER_MEASURED: return "measured";
    case PEER_NOT_INSTALLED: return "not installed";
    case PEER_FAILED: return "failed";
    default: return "not run";
    }
}

/* A JSON string (quotes, backslashes and control characters become '). */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++)
        putchar(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '\'' : *s);
    putchar('"');
}

static void peer_json(const peer_result *p, int is_nats)
{
    printf("{\"status\":\"%s\",\"version\":", peer_status(p->status));
    json_str(p->version);
    printf(",\"note\":");
    json_str(p->note);
    if (p->status != PEER_MEASURED) {
        printf("}");
        return;
    }
    printf(",\"msgs_per_s\":%.0f,\"saturation_ack_us\":[%.0f,%.0f,%.0f],\"rates\":[", p->msgs_per_s,
           p->ack_us[0], p->ack_us[1], p->ack_us[2]);
    for (int k = 0; k < 2; k++)
        printf("%s{\"rate\":%.0f,\"achieved\":%.0f,\"reached\":%s,\"ack_us\":[%.0f,%.0f,%.0f],"
               "\"delivery_us\":[%.0f,%.0f,%.0f]}",
               k ? "," : "", p->lat[k].rate, p->lat[k].achieved,
               p->lat[k].reached ? "true" : "false", p->lat[k].ack_us[0], p->lat[k].ack_us[1],
               p->lat[k].ack_us[2], p->lat[k].deliv_us[0], p->lat[k].deliv_us[1],
               p->lat[k].deliv_us[2]);
    printf("]");
    if (is_nats)
        printf(",\"async_msgs_per_s\":%.0f,\"async_window\":%d", p->async_msgs_per_s,
               p->async_window);
    printf(",\"published\":%lu,\"delivered\":%lu}", p->published, p->delivered);
}

static void peer_table(const char *name, const char *what, const peer_result *p)
{
    if (p->status != PEER_MEASURED) {
        printf("    %s: %s%s%s%s\n", name, peer_status(p->status), p->note[0] ? " (" : "", p->note,
               p->note[0] ? ")" : "");
        return;
    }
    printf("    %s %s, %s\n", name, p->version, what);
    printf("    throughput, msg/s %25s %12.0f\n", "", p->msgs_per_s);
    printf("    at saturation: ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us\n", p->ack_us[0],
           p->ack_us[1], p->ack_us[2]);
    for (int k = 0; k < 2; k++)
        printf("    at %5.0f/s (got %5.0f%s): ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us, "
               "delivery %6.0f/%6.0f/%6.0f us\n",
               p->lat[k].rate, p->lat[k].achieved, p->lat[k].reached ? "" : ", NOT REACHED",
               p->lat[k].ack_us[0], p->lat[k].ack_us[1], p->lat[k].ack_us[2], p->lat[k].deliv_us[0],
               p->lat[k].deliv_us[1], p->lat[k].deliv_us[2]);
    printf("    consumer: %lu of %lu acknowledged messages delivered\n", p->delivered,
           p->published);
}

/* Smoke: a peer that was measured has every figure; one that failed is an
 * error; one that is not installed is not. */
static int peer_ok(const char *name, const peer_result *p, int is_nats)
{
    if (p->status == PEER_FAILED) {
        fprintf(stderr, "liandong-bench: %s failed: %s\n", name, p->note);
        return 0;
    }
    if (p->status == PEER_MEASURED &&
        !(p->msgs_per_s > 0 && p->lat[0].ack_us[1] > 0 && p->lat[0].deliv_us[1] > 0 &&
          p->delivered > 0 && (!is_nats || p->async_msgs_per_s > 0))) {
        fprintf(stderr, "liandong-bench: a %s figure is missing (zero)\n", name);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    bench_opts o = {.payload = 512,
                    .clients = 8,
                    .window = LD_SEND_WINDOW_DEFAULT,
                    .seconds = 10,
                    .rate_seconds = 10};
    o.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    o.broker = LD_BROKER_BIN;
    const char *plugins = DEFAULT_PLUGINS;
    int json = 0, seconds_set = 0, rate_set = 0, peers = 0;
    enum {
        O_SMOKE = 256,
        O_LONG,
        O_JSON,
        O_PAY,
        O_CLI,
        O_SEC,
        O_RSEC,
        O_THR,
        O_BRK,
        O_PLG,
        O_PEERS,
        O_WIN,
        O_V,
        O_H
    };
    static const struct option opts[] = {
        {"smoke", no_argument, 0, O_SMOKE},
        {"long", no_argument, 0, O_LONG},
        {"json", no_argument, 0, O_JSON},
        {"payload", required_argument, 0, O_PAY},
        {"clients", required_argument, 0, O_CLI},
        {"seconds", required_argument, 0, O_SEC},
        {"rate-seconds", required_argument, 0, O_RSEC},
        {"threads", required_argument, 0, O_THR},
        {"broker", required_argument, 0, O_BRK},
        {"plugins", required_argument, 0, O_PLG},
        {"peers", no_argument, 0, O_PEERS},
        {"window", required_argument, 0, O_WIN},
        {"verbose", no_argument, 0, O_V},
        {"help", no_argument, 0, O_H},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SMOKE: o.smoke = 1; break;
        case O_LONG: o.longmode = 1; break;
        case O_JSON: json = 1; break;
        case O_PAY: o.payload = (size_t)strtoul(optarg, NULL, 10); break;
        case O_CLI: o.clients = atoi(optarg); break;
        case O_SEC:
            o.seconds = atof(optarg);
            seconds_set = 1;
            break;
        case O_RSEC:
            o.rate_seconds = atof(optarg);
            rate_set = 1;
            break;
        case O_THR: o.threads = atoi(optarg); break;
        case O_BRK: o.broker = optarg; break;
        case O_PLG: plugins = optarg; break;
        case O_PEERS: peers = 1; break;
        case O_WIN: o.window = atoi(optarg); break;
        case O_V: o.verbose = 1; break;
        case O_H: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.payload < 16 || o.payload > 512 * 1024 || o.clients < 1 || o.clients > 64 ||
        o.threads < 1 || o.seconds <= 0 || o.rate_seconds <= 0 || o.window < 1 || o.window > 4096) {
        fprintf(stderr, "liandong-bench: payload 16..524288, clients 1..64, window 1..4096, "
                        "threads >= 1, seconds > 0\n");
        return 2;
    }
    if (o.smoke) {
        if (!seconds_set)
            o.seconds = 0.5;
        if (!rate_set)
            o.rate_seconds = 0.5;
    }
    if (parse_plugins(&o, plugins) != 0)
        return 2;
    char plugins_text[BENCH_PLUGINS_MAX * 40];

    double rates[2] = {1000, 5000};
    crypto_result cr;
    relay_result rr;
    storage_result sr;
    e2e_result er;
    memset(&rr, 0, sizeof rr);
    memset(&er, 0, sizeof er);
    bench_note(&o, "crypto ceiling ...");
    bench_crypto(&o, &cr);
    bench_note(&o, "transport ceiling ...");
    bench_relay(&o, rates, 2, &rr);
    bench_note(&o, "storage floor ...");
    bench_storage(&o, &sr);
    bench_note(&o, "Liandong end to end ...");
    bench_e2e(&o, rates, 2, &er);
    peers_result pr;
    memset(&pr, 0, sizeof pr);
#ifdef LD_BENCH_HAVE_PEERS
    if (peers) {
        bench_note(&o, "peers ...");
        bench_peers(&o, rates, 2, &pr);
    }
#endif
    const peer_result *mq = &pr.mosquitto, *nats = &pr.nats;
    /* Against the peers' closed loop (each client waiting for its ack):
     * Liandong's window-1 figure; against NATS's async publish: Liandong's
     * pipelined one. */
    double r_mq = ratio(er.w1_msgs_per_s, mq->msgs_per_s);
    double r_nats = ratio(er.w1_msgs_per_s, nats->msgs_per_s);
    double r_nats_async = ratio(er.msgs_per_s, nats->async_msgs_per_s);
    double r_mq_p99 = ratio(er.lat[0].ack_us[1], mq->lat[0].ack_us[1]);
    double r_nats_p99 = ratio(er.lat[0].ack_us[1], nats->lat[0].ack_us[1]);

    double r_crypto = ratio(er.msgs_per_s, cr.pairs_per_s);
    double r_relay = ratio(er.msgs_per_s, rr.msgs_per_s);
    double r_p99 = ratio(er.lat[0].ack_us[1], rr.lat[0].ack_us[1]);
    /* The floor of a durable Ack: the relay's round trip plus one commit. */
    double r_p99_floor = ratio(er.lat[0].ack_us[1], rr.lat[0].ack_us[1] + sr.commit_us[1]);
    struct utsname u;
    uname(&u);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (json) {
        printf("{\"date\":\"%s\",\"machine\":\"%s %s\",\"cores\":%ld,\"smoke\":%s,"
               "\"payload\":%zu,\"clients\":%d,\"window\":%d,\n",
               date, u.sysname, u.machine, ncpu, o.smoke ? "true" : "false", o.payload, o.clients,
               o.window);
        printf(" \"crypto\":{\"threads\":%d,\"pairs_per_s\":%.0f},\n", cr.threads, cr.pairs_per_s);
        printf(" \"storage\":{\"commits_per_s\":%.0f,\"commit_us\":[%.0f,%.0f,%.0f]},\n",
               sr.commits_per_s, sr.commit_us[0], sr.commit_us[1], sr.commit_us[2]);
        printf(" \"relay\":{\"msgs_per_s\":%.0f,\"rates\":[", rr.msgs_per_s);
        for (int k = 0; k < 2; k++)
            printf("%s{\"rate\":%.0f,\"achieved\":%.0f,\"ack_us\":[%.0f,%.0f,%.0f],"
                   "\"delivery_us\":[%.0f,%.0f,%.0f]}",
                   k ? "," : "", rr.lat[k].rate, rr.lat[k].achieved, rr.lat[k].ack_us[0],
                   rr.lat[k].ack_us[1], rr.lat[k].ack_us[2], rr.lat[k].deliv_us[0],
                   rr.lat[k].deliv_us[1], rr.lat[k].deliv_us[2]);
        printf("]},\n \"liandong\":{\"msgs_per_s\":%.0f,\"delivered_per_s\":%.0f,"
               "\"saturation_ack_us\":[%.0f,%.0f,%.0f],"
               "\"window_1\":{\"msgs_per_s\":%.0f,\"saturation_ack_us\":[%.0f,%.0f,%.0f]},"
               "\"plugins\":[%s],\"rates\":[",
               er.msgs_per_s, er.delivered_per_s, er.ack_us[0], er.ack_us[1], er.ack_us[2],
               er.w1_msgs_per_s, er.w1_ack_us[0], er.w1_ack_us[1], er.w1_ack_us[2],
               plugin_list(&o, plugins_text, sizeof plugins_text, ",", "\""));
        for (int k = 0; k < 2; k++)
            printf("%s{\"rate\":%.0f,\"achieved\":%.0f,\"reached\":%s,\"ack_us\":[%.0f,%.0f,%.0f],"
                   "\"delivery_us\":[%.0f,%.0f,%.0f]}",
                   k ? "," : "", er.lat[k].rate, er.lat[k].achieved,
                   er.lat[k].reached ? "true" : "false", er.lat[k].ack_us[0], er.lat[k].ack_us[1],
                   er.lat[k].ack_us[2], er.lat[k].deliv_us[0], er.lat[k].deliv_us[1],
                   er.lat[k].deliv_us[2]);
        printf("],\n  \"rss_kib\":{\"start\":%ld,\"after_n\":%ld,\"n\":%ld,\"after_1m\":%ld,"
               "\"n_1m\":%ld,\"idle_100_principals\":%ld,\"anon_after_n\":%ld,"
               "\"anon_after_1m\":%ld}},\n",
               er.rss_start_kib, er.rss_100k_kib, er.n_100k, er.rss_1m_kib, er.n_1m,
               er.rss_idle100_kib, er.anon_100k_kib, er.anon_1m_kib);
        printf(" \"ratios\":{\"liandong_over_crypto\":%.3f,\"liandong_over_relay\":%.3f,"
               "\"p99_ack_1000_over_relay\":%.2f,\"p99_ack_1000_over_relay_plus_commit\":%.2f",
               r_crypto, r_relay, r_p99, r_p99_floor);
        if (mq->status == PEER_MEASURED)
            printf(",\"liandong_over_mosquitto\":%.3f,\"p99_ack_1000_over_mosquitto\":%.2f", r_mq,
                   r_mq_p99);
        if (nats->status == PEER_MEASURED)
            printf(",\"liandong_over_nats_sync\":%.3f,\"liandong_over_nats_async\":%.3f,"
                   "\"p99_ack_1000_over_nats_sync\":%.2f",
                   r_nats, r_nats_async, r_nats_p99);
        printf("},\n");
        if (!peers) {
            printf(" \"peers\":null}\n");
        } else if (!peers_built) {
            printf(" \"peers\":{\"built\":false}}\n");
        } else {
            printf(" \"peers\":{\"built\":true,\"fsync_before_ack\":false,\n  \"mosquitto\":");
            peer_json(mq, 0);
            printf(",\n  \"nats\":");
            peer_json(nats, 1);
            printf("}}\n");
        }
    } else {
        printf("liandong-bench %s  %s  %s %s, %ld cores  payload %zu B, %d clients, window "
               "%d%s\n\n",
               LD_BENCH_VERSION, date, u.sysname, u.machine, ncpu, o.payload, o.clients, o.window,
               o.smoke ? "  (SMOKE: figures meaningless)" : "");
        printf("%-44s %12s\n", "(1) crypto ceiling, Ed25519 sign+verify/s", "");
        printf("    %d threads %29s %12.0f\n", cr.threads, "", cr.pairs_per_s);
        printf("(2) transport ceiling: ZeroMQ CURVE relay, acks\n");
        printf("    throughput, msg/s %25s %12.0f\n", "", rr.msgs_per_s);
        for (int k = 0; k < 2; k++)
            printf("    at %5.0f/s (got %5.0f): ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us, "
                   "delivery %6.0f/%6.0f/%6.0f us\n",
                   rr.lat[k].rate, rr.lat[k].achieved, rr.lat[k].ack_us[0], rr.lat[k].ack_us[1],
                   rr.lat[k].ack_us[2], rr.lat[k].deliv_us[0], rr.lat[k].deliv_us[1],
                   rr.lat[k].deliv_us[2]);
        printf("(2b) storage floor: LMDB commits of one %zu-byte put, default sync, in %s\n",
               o.payload + 170, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        printf("    commits/s, one after the other %12s %12.0f\n", "", sr.commits_per_s);
        printf("    commit p50/p99/p99.9 %6.0f/%6.0f/%6.0f us\n", sr.commit_us[0], sr.commit_us[1],
               sr.commit_us[2]);
        printf("(3) Liandong end to end (signed, verified, LMDB fsync before Ack; plugins: %s; "
               "%d in flight per client)\n",
               o.n_plugins ? plugin_list(&o, plugins_text, sizeof plugins_text, ", ", "") : "none",
               o.window);
        printf("    throughput, msg/s %25s %12.0f\n", "", er.msgs_per_s);
        printf("    of those delivered during the phase, msg/s %12.0f\n", er.delivered_per_s);
        printf("    at saturation: ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us\n", er.ack_us[0],
               er.ack_us[1], er.ack_us[2]);
        if (o.window > 1)
            printf("    each client waiting for its Ack (window 1), msg/s %14.0f"
                   "  (ack p50/p99 %.0f/%.0f us)\n",
                   er.w1_msgs_per_s, er.w1_ack_us[0], er.w1_ack_us[1]);
        for (int k = 0; k < 2; k++)
            printf("    at %5.0f/s (got %5.0f%s): ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us, "
                   "delivery %6.0f/%6.0f/%6.0f us\n",
                   er.lat[k].rate, er.lat[k].achieved, er.lat[k].reached ? "" : ", NOT REACHED",
                   er.lat[k].ack_us[0], er.lat[k].ack_us[1], er.lat[k].ack_us[2],
                   er.lat[k].deliv_us[0], er.lat[k].deliv_us[1], er.lat[k].deliv_us[2]);
        printf(
            "    broker RSS: start %ld KiB, after %ld msgs %ld KiB (own memory, RssAnon, %ld KiB)",
            er.rss_start_kib, er.n_100k, er.rss_100k_kib, er.anon_100k_kib);
        if (o.longmode)
            printf(", after %ld msgs %ld KiB (RssAnon %ld KiB)", er.n_1m, er.rss_1m_kib,
                   er.anon_1m_kib);
        printf("; idle with 100 principals %ld KiB\n", er.rss_idle100_kib);
        if (!peers_built)
            printf("(4) peers: not built (configure with -DLD_BENCH_PEERS=ON; needs "
                   "libmosquitto-dev libnats-dev)\n");
        else if (!peers)
            printf("(4) peers: not measured (run with --peers)\n");
        else {
            printf("(4) peers, same clients and payload, neither fsyncs before acknowledging\n");
            peer_table("Mosquitto", "QoS 1, persistence on, PUBACK", mq);
            peer_table("NATS JetStream", "file stream, js_Publish waits for PubAck", nats);
            if (nats->status == PEER_MEASURED) {
                char label[64];
                snprintf(label, sizeof label, "js_PublishAsync (window %d/client), msg/s",
                         nats->async_window);
                printf("    %-44s %12.0f\n", label, nats->async_msgs_per_s);
            }
        }
        printf("(5) ratios (targets in brackets)\n");
        printf("    Liandong / crypto ceiling     %6.3f  [>= 0.8]\n", r_crypto);
        printf("    Liandong / transport ceiling  %6.3f\n", r_relay);
        printf("    p99 ack at 1000/s, Liandong / relay %6.2f  [<= 2]\n", r_p99);
        printf("    p99 ack at 1000/s, Liandong / (relay + one commit) %6.2f\n", r_p99_floor);
        printf("    idle RSS, 100 principals      %6.1f MiB [< 32]\n", er.rss_idle100_kib / 1024.0);
        if (o.longmode && er.rss_100k_kib > 0 && er.anon_100k_kib > 0) {
            printf(
                "    RSS 1M / 100k                 %6.2f  [<= 1.10] (counts LMDB's mapped pages)\n",
                (double)er.rss_1m_kib / (double)er.rss_100k_kib);
            printf("    RssAnon 1M / 100k             %6.2f  [<= 1.10] (the broker's own memory)\n",
                   (double)er.anon_1m_kib / (double)er.anon_100k_kib);
        }
        if (mq->status == PEER_MEASURED || nats->status == PEER_MEASURED)
            printf("    (against the peers: Liandong with each client waiting for its Ack)\n");
        if (mq->status == PEER_MEASURED) {
            printf("    Liandong / Mosquitto          %6.3f  [>= 1.0]\n", r_mq);
            printf("    p99 ack at 1000/s, Liandong / Mosquitto %6.2f\n", r_mq_p99);
        }
        if (nats->status == PEER_MEASURED) {
            printf("    Liandong / NATS JetStream sync  %6.3f  [>= 1.0]\n", r_nats);
            printf("    Liandong (window %d) / NATS JetStream async %6.3f\n", o.window,
                   r_nats_async);
            printf("    p99 ack at 1000/s, Liandong / NATS sync %6.2f\n", r_nats_p99);
        }
        printf("Liandong verifies a signature and fsyncs (LMDB commit) before every Ack.\n"
               "The peers do not fsync before acknowledging: Mosquitto writes its persistence\n"
               "file every autosave_interval (default 1800 s) and at shutdown; the JetStream\n"
               "file store leaves writes to the OS and syncs in the background (every 2 min\n"
               "by default).\n");
    }
    if (o.smoke) {
        /* The smoke test asserts only that every part ran and gave numbers. */
        if (!(cr.pairs_per_s > 0 && rr.msgs_per_s > 0 && er.msgs_per_s > 0 &&
              sr.commits_per_s > 0 && sr.commit_us[1] > 0 && rr.lat[0].ack_us[1] > 0 &&
              er.lat[0].ack_us[1] > 0 && er.lat[0].deliv_us[1] > 0 && er.rss_100k_kib > 0 &&
              er.rss_idle100_kib > 0)) {
            fprintf(stderr, "liandong-bench: a figure is missing (zero)\n");
            return 1;
        }
        /* A peer that is built and installed must have given figures too. */
        if (!peer_ok("Mosquitto", mq, 0) || !peer_ok("NATS JetStream", nats, 1))
            return 1;
    }
    return 0;
}
