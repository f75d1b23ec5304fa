/* inbox.c - `liandong inbox [--follow] [--json] [--timeout SECONDS]`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char inbox_usage[] =
    "Usage: liandong [GLOBAL OPTIONS] inbox [--follow] [--json] [--timeout SECONDS]\n"
    "\n"
    "Print the deliveries waiting for you, oldest first, acknowledging each one\n"
    "after it is printed (so it leaves your mailbox at the broker).\n"
    "\n"
    "Options:\n"
    "  --follow            keep running and print new deliveries as they come,\n"
    "                      until interrupted (Ctrl-C, SIGTERM)\n"
    "  --json              one JSON object per line: delivery_id, envelope_id, sender,\n"
    "                      sender_name, seq, sent_at, stored_at, type, to, text,\n"
    "                      content_type, payload_base64, from_broker; and for plan\n"
    "                      messages \"assign\" (a task_assign: plan, task, title, role,\n"
    "                      change, lead, support, due, report_every, targets,\n"
    "                      doc_number, plan_title), \"report\" (a status_report: plan,\n"
    "                      task, state, progress, note, attachment_digests) or\n"
    "                      \"accept\" (a task_accept: plan, task, note)\n"
    "  --timeout SECONDS   without --follow: stop when nothing arrives for this long\n"
    "                      (default 2)\n"
    "  --help              show this help\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the wait returns LD_ERR_CLOSED */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ld_cli_inbox(int argc, char **argv)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int follow = 0, json = 0, idle_ms = 2000, c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': follow = 1; break;
        case 'j': json = 1; break;
        case 't':
            if (ld_cli_parse_seconds(optarg, &idle_ms) != 0)
                return ld_cli_usage("inbox",
                                    "--timeout wants a positive number of seconds, "
                                    "not '%s'",
                                    optarg);
            break;
        case 'h': fputs(inbox_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("inbox", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("inbox", "unexpected argument '%s'", argv[optind]);

    catch_signals();
    ld_client *cl;
    int st = ld_cli_connect(&cl, 0);
    if (st != LD_CLI_OK)
        return stop_signal ? LD_CLI_OK : st;
    size_t shown = 0;
    while (!stop_signal) {
        ld_delivery *d;
        /* Following, wake up twice a second: a signal that lands between the
         * flag check and the wait would otherwise wait for the next message. */
        int rc = ld_client_recv(cl, follow ? 500 : idle_ms, &d);
        if (rc == LD_ERR_TIMEOUT && follow)
            continue;
        if (rc == LD_ERR_TIMEOUT)
            break;
        if (rc == LD_ERR_CLOSED && stop_signal)
            break;
        if (rc != LD_OK) {
            st = ld_cli_client_fail(cl, rc, "inbox");
            break;
        }
        int w = json ? ld_cli_print_delivery_json(stdout, d) : ld_cli_print_delivery(stdout, d);
        if (w == 0 && fflush(stdout) != 0)
            w = -1;
        if (w == 0) {
            /* Acknowledge only what has really been written out. */
            rc = ld_client_ack(cl, d);
            shown++;
        }
        ld_delivery_destroy(&d);
        if (w != 0) {
            st = ld_cli_fail("inbox: cannot write to standard output");
            break;
        }
        if (rc != LD_OK) {
            st = ld_cli_client_fail(cl, rc, "inbox");
            break;
        }
    }
    if (st == LD_CLI_OK && !shown && !json && isatty(STDOUT_FILENO))
        printf("no new messages\n");
    ld_client_destroy(&cl);
    return st;
}
