/* main.c - `liandong`: global options and command dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

ld_cli_globals ld_cli_g;

static const char usage_text[] =
    "Usage: liandong [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
    "\n"
    "Send and receive signed messages through a Liandong broker.\n"
    "\n"
    "Commands:\n"
    "  send     send a direct message to one or more principals\n"
    "  inbox    print and acknowledge the deliveries waiting for you\n"
    "  plan     publish a plan file (plan publish FILE), list plans (plan list)\n"
    "  tasks    your own tasks, with your role in each (lead or support)\n"
    "  accept   take on a task assigned to you\n"
    "  report   report state and progress on a task\n"
    "  ledger   the task ledger of your plans (coordinators, supervision)\n"
    "  clock    show or advance the broker's business clock\n"
    "  escalations  escalation notices (督导, 约谈, 问责 ...); --follow for new ones\n"
    "  extend   ask for (extend request) or decide (extend decide) an extension\n"
    "  pause    stop a task's clock (resume restarts it)\n"
    "  letter   issue or answer a supervision letter (督办函)\n"
    "  calendar working-day arithmetic on the holiday calendar (offline)\n"
    "  audit    verify, prove, query and export the audit log (offline)\n"
    "  demo     run the Mudanjiang plan demo on a private broker\n"
    "  help     show help for a command: liandong help COMMAND\n"
    "\n"
    "Global options:\n"
    "  --broker ENDPOINT   broker endpoint, e.g. tcp://127.0.0.1:7400\n"
    "                      (or set LIANDONG_BROKER)\n"
    "  --broker-key FILE   the broker's public key file, broker.pub\n"
    "                      (or set LIANDONG_BROKER_KEY)\n"
    "  --identity FILE     your secret key file, ID.secret (or set LIANDONG_IDENTITY)\n"
    "  --timeout SECONDS   how long to wait for the broker to answer (default 10)\n"
    "  --help              show this help\n"
    "  --version           show the version\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (one line on stderr), 2 on a usage error.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"send", ld_cli_send},
    {"inbox", ld_cli_inbox},
    {"plan", ld_cli_plan},
    {"tasks", ld_cli_tasks},
    {"accept", ld_cli_accept},
    {"report", ld_cli_report},
    {"ledger", ld_cli_ledger},
    {"clock", ld_cli_clock},
    {"demo", ld_cli_demo},
    {"audit", ld_cli_audit},
    {"escalations", ld_cli_escalations},
    {"extend", ld_cli_extend},
    {"pause", ld_cli_pause},
    {"resume", ld_cli_resume},
    {"letter", ld_cli_letter},
    {"calendar", ld_cli_calendar},
};

static int find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stdout);
        return LD_CLI_OK;
    }
    int i = find_command(argv[1]);
    if (i < 0) {
        fprintf(stderr, "liandong: help: unknown command '%s' (see 'liandong --help')\n", argv[1]);
        return LD_CLI_USAGE;
    }
    char *sub[] = {argv[1], "--help", NULL};
    optind = 0;
    return commands[i].run(2, sub);
}

static const char *env_or(const char *opt, const char *env)
{
    if (opt)
        return opt;
    const char *v = getenv(env);
    return v && v[0] ? v : NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"broker", required_argument, NULL, 'b'},
        {"broker-key", required_argument, NULL, 'k'},
        {"identity", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *broker = NULL, *broker_key = NULL, *identity = NULL;
    opterr = 0;
    int c;
    /* "+": stop at the command; its options are its own. */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': broker = optarg; break;
        case 'k': broker_key = optarg; break;
        case 'i': identity = optarg; break;
        case 't':
            if (ld_cli_parse_seconds(optarg, &ld_cli_g.timeout_ms) != 0) {
                fprintf(stderr,
                        "liandong: --timeout wants a positive number of seconds, not '%s'\n",
                        optarg);
                return LD_CLI_USAGE;
            }
            break;
        case 'h': fputs(usage_text, stdout); return LD_CLI_OK;
        case 'V': printf("liandong %s\n", ld_version()); return LD_CLI_OK;
        default: return ld_cli_getopt_error(NULL, c, argv);
        }
    }
    ld_cli_g.broker = env_or(broker, "LIANDONG_BROKER");
    ld_cli_g.broker_key = env_or(broker_key, "LIANDONG_BROKER_KEY");
    ld_cli_g.identity = env_or(identity, "LIANDONG_IDENTITY");

    if (optind >= argc) {
        fprintf(stderr, "liandong: no command given (see 'liandong --help')\n");
        return LD_CLI_USAGE;
    }
    int cargc = argc - optind;
    char **cargv = argv + optind;
    if (strcmp(cargv[0], "help") == 0)
        return run_help(cargc, cargv);
    int i = find_command(cargv[0]);
    if (i < 0) {
        fprintf(stderr, "liandong: unknown command '%s' (see 'liandong --help')\n", cargv[0]);
        return LD_CLI_USAGE;
    }
    optind = 0; /* glibc: full re-initialisation for the command's getopt_long */
    return commands[i].run(cargc, cargv);
}
