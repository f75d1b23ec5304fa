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
int ld_cli_plan(int argc, char **argv);        /* plans.c: plan publish | plan list */
int ld_cli_accept(int argc, char **argv);      /* plans.c */
int ld_cli_report(int argc, char **argv);      /* plans.c */
int ld_cli_ledger(int argc, char **argv);      /* ledger.c */
int ld_cli_tasks(int argc, char **argv);       /* ledger.c */
int ld_cli_audit(int argc, char **argv);       /* audit.c */
int ld_cli_escalations(int argc, char **argv); /* escalation.c */
int ld_cli_extend(int argc, char **argv);      /* escalation.c */
int ld_cli_pause(int argc, char **argv);       /* escalation.c */
int ld_cli_resume(int argc, char **argv);      /* escalation.c */
int ld_cli_letter(int argc, char **argv);      /* escalation.c */
int ld_cli_calendar(int argc, char **argv);    /* escalation.c */
/* Print a ledger as a table (titles cut unless wide) and a summary line. 0 or -1. */
int ld_cli_print_ledger(const ld_ledger *l, int wide);

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
/* ld_cli_connect taking only deliveries of the n_types types named
 * (ld_client_options.only_types). */
int ld_cli_connect_only(ld_client **out, int send_only, const char *const *types, size_t n_types);
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

/* "<32 hex>" of an envelope id into buf (2 * LD_ENVELOPE_ID_BYTES + 1). */
void ld_cli_hex_id(const uint8_t id[LD_ENVELOPE_ID_BYTES], char *buf);

/* width.c: terminal columns of UTF-8 text, whatever the locale: East Asian
 * Wide and Fullwidth characters (汉字, （）、) take two, combining marks none,
 * others one (… too). */
int ld_cli_width(const char *s);
/* A copy of s of at most max columns: s itself if it fits, else its longest
 * prefix of whole characters followed by "…". Caller frees; NULL if out of
 * memory. */
char *ld_cli_truncate(const char *s, int max);
/* Write s, then spaces up to width columns. */
void ld_cli_pad(FILE *f, const char *s, int width);
/* A copy of s for one table cell or line: tab, CR and LF become a space,
 * other control characters U+FFFD. Caller frees; NULL if out of memory. */
char *ld_cli_cell(const char *s);

/* A table for people: columns left-aligned by display width, two spaces
 * apart. Cells are added row by row, left to right. */
typedef struct ld_cli_table {
    size_t cols;
    size_t n, cap;
    char **cells;
    int oom; /* a cell could not be stored: printing fails */
} ld_cli_table;
void ld_cli_table_init(ld_cli_table *t, size_t cols);
/* Add a copy of s (NULL: ""), made fit with ld_cli_cell and, if max > 0,
 * cut to max columns with ld_cli_truncate. */
void ld_cli_table_add(ld_cli_table *t, const char *s, int max);
/* 0, or -1 when out of memory or writing failed. */
int ld_cli_table_print(FILE *f, const ld_cli_table *t);
void ld_cli_table_free(ld_cli_table *t);

#endif
