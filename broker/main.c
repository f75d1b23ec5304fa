/* main.c - liandong-broker: command line, signals, run. */
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "ldw/envelope.h"
#include "liandong/error.h"
#include "log.h"

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: liandong-broker [--config FILE] [options]\n"
            "\n"
            "The Liandong broker: authenticates departments (CURVE + roster), verifies every\n"
            "message's Ed25519 signature, stores it in LMDB before acknowledging it, and\n"
            "delivers it at least once.\n"
            "\n"
            "Options (override the config file):\n"
            "  --config FILE           YAML config file (see docs/operations.md)\n"
            "  --listen EP             ZeroMQ endpoint to bind (default %s)\n"
            "  --data-dir DIR          LMDB data directory (created if missing)\n"
            "  --roster FILE           roster of principals (liandong-keys roster ...)\n"
            "  --key FILE              the broker's .secret key file\n"
            "  --simulated-clock[=T]   business clock moves only on an admin's ClockAdvance;\n"
            "                          starts at T (e.g. 2022-07-01T09:00:00+08:00) or now\n"
            "  --max-message-bytes N   largest accepted envelope (default %d)\n"
            "  --clock-skew-seconds N  allowed difference of a sender's clock (default %d)\n"
            "  --map-size-mb N         LMDB map size (default %d)\n"
            "  --heartbeat-ms N        ping each connection this often; one silent for 3 x N\n"
            "                          is dropped (default %d)\n"
            "  --ready-file FILE       write the bound endpoint here once serving\n"
            "  --log-level LEVEL       debug, info, warn or error (default info)\n"
            "  --version, --help\n"
            "\n"
            "Signals: SIGHUP reloads the roster; SIGTERM and SIGINT stop cleanly.\n",
            LDB_DEFAULT_LISTEN, LDB_DEFAULT_MAX_MESSAGE, LDB_DEFAULT_SKEW_S, LDB_DEFAULT_MAP_MB,
            LDB_DEFAULT_HEARTBEAT_MS);
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

static int parse_num(const char *opt, const char *v, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-' || n < lo || n > hi) {
        fprintf(stderr, "liandong-broker: %s needs a number from %llu to %llu, not '%s'\n", opt, lo,
                hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        O_CONFIG = 256,
        O_LISTEN,
        O_DATA,
        O_ROSTER,
        O_KEY,
        O_SIM,
        O_MAXMSG,
        O_SKEW,
        O_MAP,
        O_HEARTBEAT,
        O_READY,
        O_LOG,
        O_VERSION,
        O_HELP
    };
    static const struct option opts[] = {
        {"config", required_argument, 0, O_CONFIG},
        {"listen", required_argument, 0, O_LISTEN},
        {"data-dir", required_argument, 0, O_DATA},
        {"roster", required_argument, 0, O_ROSTER},
        {"key", required_argument, 0, O_KEY},
        {"simulated-clock", optional_argument, 0, O_SIM},
        {"max-message-bytes", required_argument, 0, O_MAXMSG},
        {"clock-skew-seconds", required_argument, 0, O_SKEW},
        {"map-size-mb", required_argument, 0, O_MAP},
        {"heartbeat-ms", required_argument, 0, O_HEARTBEAT},
        {"ready-file", required_argument, 0, O_READY},
        {"log-level", required_argument, 0, O_LOG},
        {"version", no_argument, 0, O_VERSION},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    ldb_config cfg;
    ldb_config_init(&cfg);
    char err[1024];

    /* The config file first, so that options override it. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path && ldb_config_load(&cfg, path, err, sizeof err) != 0) {
            fprintf(stderr, "liandong-broker: %s\n", err);
            ldb_config_clear(&cfg);
            return 1;
        }
    }

    int c;
    unsigned long long n;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: break;
        case O_LISTEN: set_str(&cfg.listen, optarg); break;
        case O_DATA: set_str(&cfg.data_dir, optarg); break;
        case O_ROSTER: set_str(&cfg.roster, optarg); break;
        case O_KEY: set_str(&cfg.key, optarg); break;
        case O_READY: set_str(&cfg.ready_file, optarg); break;
        case O_SIM:
            cfg.simulated = 1;
            if (optarg && ldb_parse_time(optarg, &cfg.simulated_start_ms) != 0) {
                fprintf(stderr,
                        "liandong-broker: --simulated-clock=T needs a time like 2022-07-01 or "
                        "2022-07-01T09:00:00+08:00, not '%s'\n",
                        optarg);
                goto usage_fail;
            }
            break;
        case O_MAXMSG:
            if (parse_num("--max-message-bytes", optarg, 1024, 256ull << 20, &n))
                goto usage_fail;
            cfg.max_message = (size_t)n;
            break;
        case O_SKEW:
            if (parse_num("--clock-skew-seconds", optarg, 0, 86400ull * 366, &n))
                goto usage_fail;
            cfg.skew_ms = (int64_t)n * 1000;
            break;
        case O_MAP:
            if (parse_num("--map-size-mb", optarg, 1, 1ull << 20, &n))
                goto usage_fail;
            cfg.map_size = (size_t)n << 20;
            break;
        case O_HEARTBEAT:
            if (parse_num("--heartbeat-ms", optarg, LDB_HEARTBEAT_MIN_MS, LDB_HEARTBEAT_MAX_MS, &n))
                goto usage_fail;
            cfg.heartbeat_ms = (unsigned)n;
            break;
        case O_LOG:
            if (ldb_log_parse_level(optarg, &cfg.log_level)) {
                fprintf(stderr, "liandong-broker: --log-level is debug, info, warn or error\n");
                goto usage_fail;
            }
            break;
        case O_VERSION:
            printf("liandong-broker %s (wire protocol %u)\n", LD_BROKER_VERSION,
                   LDW_PROTOCOL_VERSION);
            ldb_config_clear(&cfg);
            return 0;
        case O_HELP:
            usage(stdout);
            ldb_config_clear(&cfg);
            return 0;
        default: fprintf(stderr, "Try 'liandong-broker --help'.\n"); goto usage_fail;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "liandong-broker: unexpected argument '%s'; try --help\n", argv[optind]);
        goto usage_fail;
    }
    if (ldb_config_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "liandong-broker: %s\n", err);
        goto usage_fail;
    }
    ldb_log_set_level(cfg.log_level);
    if (sodium_init() < 0) {
        fprintf(stderr, "liandong-broker: libsodium failed to initialise\n");
        ldb_config_clear(&cfg);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ldb_broker *b;
    if (ldb_broker_new(&cfg, &b, err, sizeof err) != LD_OK) {
        /* One line, whatever a plugin put in its message. */
        for (char *p = err; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        fprintf(stderr, "liandong-broker: %s\n", err);
        ldb_config_clear(&cfg);
        return 1;
    }
    int rc = ldb_broker_run(b, &stop_flag, &reload_flag);
    ldb_broker_destroy(&b);
    ldb_config_clear(&cfg);
    return rc == 0 ? 0 : 1;

usage_fail:
    ldb_config_clear(&cfg);
    return 2;
}
