/* cli.h - shared parts of the liandong command-line tool. */
#ifndef LD_CLI_H
#define LD_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "liandong/liandong.h"

#define LD_CLI_OK 0
#define LD_CLI_FAIL 1  /* one line on stderr */
#define LD_CLI_USAGE 2 /* bad command line */

/* Global options (before the command), with environment fallbacks applied. */
typedef struct ld_cli_globals {
    const char *broker;     /* --broker / LIANDONG_BROKER */
    const char *broker_key; /* --broker-key / LIANDONG_BROKER_KEY */
    const char *identity;   /* --identity / LIANDONG_IDENTITY */
    int timeout_ms;         /* --timeout: connect and send wait; 0 = SDK default */
} ld_cli_globals;

extern ld_cli_globals ld_cli_g;

/* Commands: argv[0] is the command name; return the exit status. */
int ld_cli_send(int argc, char **argv);
int ld_cli_inbox(int argc, char **argv);
int ld_cli_clock(int argc, char **argv);
int ld_cli_demo(int argc, char **argv);

/* "liandong: <message>\n" on stderr; returns LD_CLI_FAIL. */
int ld_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "liandong: <cmd>: <message> (see 'liandong <cmd> --help')"; returns LD_CLI_USAGE. */
int ld_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report an unknown option or a missing argument found by getopt_long. */
int ld_cli_getopt_error(const char *cmd, int opt, char **argv);

/* Parse a positive number of seconds ("2", "0.5") into ms. 0 or -1. */
int ld_cli_parse_seconds(const char *s, int *ms);

/* Make a client from the globals and connect it. On failure prints the one
 * line and returns LD_CLI_FAIL; *out is NULL then. */
int ld_cli_connect(ld_client **out, int send_only);
/* Print the failure of an SDK call on c ("refused: REASON: text" for a Nack). */
int ld_cli_client_fail(ld_client *c, int rc, const char *what);

/* RFC 3339: UTC ("2022-03-31T01:00:00Z", ".123" added when ms are not 0),
 * or local time with offset ("2022-03-31 09:00:00 +08:00") for people. */
void ld_cli_time_utc(int64_t ms, char *buf, size_t len);
void ld_cli_time_local(int64_t ms, char *buf, size_t len);

/* format.c: one delivery as a block for people, or as one JSON line.
 * 0 on success, -1 if writing failed. */
int ld_cli_print_delivery(FILE *f, const ld_delivery *d);
int ld_cli_print_delivery_json(FILE *f, const ld_delivery *d);

#endif
