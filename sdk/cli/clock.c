/* clock.c - `liandong clock show` and `liandong clock advance --by DURATION`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char clock_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] clock show\n"
    "       liandong [GLOBAL OPTIONS] clock advance --by DURATION\n"
    "\n"
    "show      print the broker's business clock (RFC 3339, UTC) and whether it is\n"
    "          simulated\n"
    "advance   move a simulated broker clock on (admin role; the broker must run\n"
    "          with --simulated-clock) and print the new clock\n"
    "\n"
    "DURATION: a number with a unit, w (weeks), d (days), h (hours), m (minutes),\n"
    "s (seconds), or several of them (1d12h), or a bare number of seconds.\n"
    "Examples: 90d, 36h, 15m, 30s, 2w, 3600.\n";

static int clock_show(int argc, char **argv)
{
    if (argc > 1)
        return ld_cli_usage("clock", "unexpected argument '%s'", argv[1]);
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_session_info s;
    ld_client_session(cl, &s);
    char when[64];
    ld_cli_time_utc(s.clock_ms, when, sizeof when);
    printf("%s%s\n", when, s.simulated_clock ? " (simulated)" : "");
    ld_client_destroy(&cl);
    return LD_CLI_OK;
}

static int clock_advance(int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *by = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': by = optarg; break;
        case 'h': fputs(clock_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("clock", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("clock", "unexpected argument '%s'", argv[optind]);
    if (!by)
        return ld_cli_usage("clock", "advance needs --by DURATION");
    int64_t ms;
    if (ld_duration_parse(by, &ms) != LD_OK || ms <= 0)
        return ld_cli_usage("clock",
                            "'%s' is not a positive duration like 90d, 36h, 15m, 30s, "
                            "2w or a number of seconds",
                            by);
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    int64_t now;
    int rc = ld_client_clock_advance(cl, ms, &now);
    if (rc == LD_OK) {
        char when[64];
        ld_cli_time_utc(now, when, sizeof when);
        printf("%s\n", when);
    } else {
        st = ld_cli_client_fail(cl, rc, "clock advance");
    }
    ld_client_destroy(&cl);
    return st;
}

int ld_cli_clock(int argc, char **argv)
{
    if (argc < 2)
        return ld_cli_usage("clock", "say 'show' or 'advance --by DURATION'");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(clock_usage, stdout);
        return LD_CLI_OK;
    }
    if (strcmp(argv[1], "show") == 0)
        return clock_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "advance") == 0)
        return clock_advance(argc - 1, argv + 1);
    return ld_cli_usage("clock", "unknown subcommand '%s'", argv[1]);
}
