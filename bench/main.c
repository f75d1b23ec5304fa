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

#ifndef LD_BROKER_BIN
#define LD_BROKER_BIN "liandong-broker"
#endif
#ifndef LD_PLANS_PLUGIN
#define LD_PLANS_PLUGIN ""
#endif

static void usage(FILE *f)
{
    fprintf(f, "Usage: liandong-bench [options]\n"
               "\n"
               "Measures, one after the other on this machine: (1) the crypto ceiling (Ed25519\n"
               "sign+verify pairs/s on all cores), (2) the transport ceiling (a bare ZeroMQ CURVE\n"
               "ROUTER relay with acks), (3) Liandong end to end through the real broker (signed,\n"
               "verified, committed durably before the Ack, delivered and acknowledged), and\n"
               "prints the ratios.\n"
               "\n"
               "  --smoke              everything tiny (a few seconds; CI)\n"
               "  --long               also broker RSS after 1,000,000 messages\n"
               "  --json               JSON instead of the table\n"
               "  --payload N          payload bytes (default 512)\n"
               "  --clients N          sending clients (default 8)\n"
               "  --seconds S          length of each saturation phase (default 10)\n"
               "  --rate-seconds S     length of each fixed-rate phase (default 10)\n"
               "  --threads N          crypto threads (default: the number of cores)\n"
               "  --broker PATH        broker binary (default: the one built with this)\n"
               "  --plugin PATH        plans plugin to load (default: the one built; none: \"\")\n"
               "  --verbose            progress on stderr\n");
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

int main(int argc, char **argv)
{
    bench_opts o = {.payload = 512, .clients = 8, .seconds = 10, .rate_seconds = 10};
    o.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    o.broker = LD_BROKER_BIN;
    o.plugin = LD_PLANS_PLUGIN;
    int json = 0, seconds_set = 0, rate_set = 0;
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
        {"plugin", required_argument, 0, O_PLG},
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
        case O_PLG: o.plugin = optarg; break;
        case O_V: o.verbose = 1; break;
        case O_H: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.payload < 16 || o.payload > 512 * 1024 || o.clients < 1 || o.clients > 64 ||
        o.threads < 1 || o.seconds <= 0 || o.rate_seconds <= 0) {
        fprintf(stderr, "liandong-bench: payload 16..524288, clients 1..64, threads >= 1, "
                        "seconds > 0\n");
        return 2;
    }
    if (o.smoke) {
        if (!seconds_set)
            o.seconds = 0.5;
        if (!rate_set)
            o.rate_seconds = 0.5;
    }
    if (o.plugin && !o.plugin[0])
        o.plugin = NULL;

    double rates[2] = {1000, 5000};
    crypto_result cr;
    relay_result rr;
    e2e_result er;
    memset(&rr, 0, sizeof rr);
    memset(&er, 0, sizeof er);
    bench_note(&o, "crypto ceiling ...");
    bench_crypto(&o, &cr);
    bench_note(&o, "transport ceiling ...");
    bench_relay(&o, rates, 2, &rr);
    bench_note(&o, "Liandong end to end ...");
    bench_e2e(&o, rates, 2, &er);

    double r_crypto = ratio(er.msgs_per_s, cr.pairs_per_s);
    double r_relay = ratio(er.msgs_per_s, rr.msgs_per_s);
    double r_p99 = ratio(er.lat[0].ack_us[1], rr.lat[0].ack_us[1]);
    struct utsname u;
    uname(&u);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (json) {
        printf("{\"date\":\"%s\",\"machine\":\"%s %s\",\"cores\":%ld,\"smoke\":%s,"
               "\"payload\":%zu,\"clients\":%d,\n",
               date, u.sysname, u.machine, ncpu, o.smoke ? "true" : "false", o.payload, o.clients);
        printf(" \"crypto\":{\"threads\":%d,\"pairs_per_s\":%.0f},\n", cr.threads, cr.pairs_per_s);
        printf(" \"relay\":{\"msgs_per_s\":%.0f,\"rates\":[", rr.msgs_per_s);
        for (int k = 0; k < 2; k++)
            printf("%s{\"rate\":%.0f,\"achieved\":%.0f,\"ack_us\":[%.0f,%.0f,%.0f],"
                   "\"delivery_us\":[%.0f,%.0f,%.0f]}",
                   k ? "," : "", rr.lat[k].rate, rr.lat[k].achieved, rr.lat[k].ack_us[0],
                   rr.lat[k].ack_us[1], rr.lat[k].ack_us[2], rr.lat[k].deliv_us[0],
                   rr.lat[k].deliv_us[1], rr.lat[k].deliv_us[2]);
        printf("]},\n \"liandong\":{\"msgs_per_s\":%.0f,\"saturation_ack_us\":[%.0f,%.0f,%.0f],"
               "\"plugin\":%s,\"rates\":[",
               er.msgs_per_s, er.ack_us[0], er.ack_us[1], er.ack_us[2],
               o.plugin ? "\"plans\"" : "null");
        for (int k = 0; k < 2; k++)
            printf("%s{\"rate\":%.0f,\"achieved\":%.0f,\"reached\":%s,\"ack_us\":[%.0f,%.0f,%.0f],"
                   "\"delivery_us\":[%.0f,%.0f,%.0f]}",
                   k ? "," : "", er.lat[k].rate, er.lat[k].achieved,
                   er.lat[k].reached ? "true" : "false", er.lat[k].ack_us[0], er.lat[k].ack_us[1],
                   er.lat[k].ack_us[2], er.lat[k].deliv_us[0], er.lat[k].deliv_us[1],
                   er.lat[k].deliv_us[2]);
        printf("],\n  \"rss_kib\":{\"start\":%ld,\"after_n\":%ld,\"n\":%ld,\"after_1m\":%ld,"
               "\"n_1m\":%ld,\"idle_100_principals\":%ld}},\n",
               er.rss_start_kib, er.rss_100k_kib, er.n_100k, er.rss_1m_kib, er.n_1m,
               er.rss_idle100_kib);
        printf(" \"ratios\":{\"liandong_over_crypto\":%.3f,\"liandong_over_relay\":%.3f,"
               "\"p99_ack_1000_over_relay\":%.2f},\n",
               r_crypto, r_relay, r_p99);
        printf(" \"peers\":null}\n");
    } else {
        printf("liandong-bench %s  %s  %s %s, %ld cores  payload %zu B, %d clients%s\n\n",
               LD_BENCH_VERSION, date, u.sysname, u.machine, ncpu, o.payload, o.clients,
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
        printf("(3) Liandong end to end (signed, verified, LMDB fsync before Ack%s)\n",
               o.plugin ? ", plans plugin" : "");
        printf("    throughput, msg/s %25s %12.0f\n", "", er.msgs_per_s);
        printf("    at saturation: ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us\n", er.ack_us[0],
               er.ack_us[1], er.ack_us[2]);
        for (int k = 0; k < 2; k++)
            printf("    at %5.0f/s (got %5.0f%s): ack p50/p99/p99.9 %6.0f/%6.0f/%6.0f us, "
                   "delivery %6.0f/%6.0f/%6.0f us\n",
                   er.lat[k].rate, er.lat[k].achieved, er.lat[k].reached ? "" : ", NOT REACHED",
                   er.lat[k].ack_us[0], er.lat[k].ack_us[1], er.lat[k].ack_us[2],
                   er.lat[k].deliv_us[0], er.lat[k].deliv_us[1], er.lat[k].deliv_us[2]);
        printf("    broker RSS: start %ld KiB, after %ld msgs %ld KiB", er.rss_start_kib, er.n_100k,
               er.rss_100k_kib);
        if (o.longmode)
            printf(", after %ld msgs %ld KiB", er.n_1m, er.rss_1m_kib);
        printf("; idle with 100 principals %ld KiB\n", er.rss_idle100_kib);
        printf("(4) peers: not measured (not built; see docs/performance.md)\n");
        printf("(5) ratios (targets in brackets)\n");
        printf("    Liandong / crypto ceiling     %6.3f  [>= 0.8]\n", r_crypto);
        printf("    Liandong / transport ceiling  %6.3f\n", r_relay);
        printf("    p99 ack at 1000/s, Liandong / relay %6.2f  [<= 2]\n", r_p99);
        printf("    idle RSS, 100 principals      %6.1f MiB [< 32]\n", er.rss_idle100_kib / 1024.0);
        if (o.longmode && er.rss_100k_kib > 0)
            printf("    RSS 1M / 100k                 %6.2f  [<= 1.10]\n",
                   (double)er.rss_1m_kib / (double)er.rss_100k_kib);
        printf("Peers (Mosquitto, NATS), when measured, do not fsync before acknowledging;\n"
               "Liandong does.\n");
    }
    if (o.smoke) {
        /* The smoke test asserts only that every part ran and gave numbers. */
        if (!(cr.pairs_per_s > 0 && rr.msgs_per_s > 0 && er.msgs_per_s > 0 &&
              rr.lat[0].ack_us[1] > 0 && er.lat[0].ack_us[1] > 0 && er.lat[0].deliv_us[1] > 0 &&
              er.rss_100k_kib > 0 && er.rss_idle100_kib > 0)) {
            fprintf(stderr, "liandong-bench: a figure is missing (zero)\n");
            return 1;
        }
    }
    return 0;
}
