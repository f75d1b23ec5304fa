/* common.c - helpers shared by the commands: errors, options, connecting, time. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int ld_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("liandong: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return LD_CLI_FAIL;
}

int ld_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "liandong: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'liandong %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    va_end(ap);
    return LD_CLI_USAGE;
}

int ld_cli_getopt_error(const char *cmd, int opt, char **argv)
{
    const char *arg = argv[optind - 1];
    if (opt == ':')
        return ld_cli_usage(cmd, "option '%s' needs a value", arg);
    return ld_cli_usage(cmd, "unknown option '%s'", arg);
}

int ld_cli_parse_seconds(const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 2000000.0)
        return -1;
    long r = (long)(v * 1000.0 + 0.5);
    *ms = r < 1 ? 1 : (int)r;
    return 0;
}

int ld_cli_connect(ld_client **out, int send_only)
{
    return ld_cli_connect_only(out, send_only, NULL, 0);
}

int ld_cli_connect_only(ld_client **out, int send_only, const char *const *types, size_t n_types)
{
    *out = NULL;
    if (!ld_cli_g.broker)
        return ld_cli_fail("no broker endpoint: use --broker ENDPOINT or set LIANDONG_BROKER");
    if (!ld_cli_g.identity)
        return ld_cli_fail("no identity: use --identity FILE (your .secret key file) or set "
                           "LIANDONG_IDENTITY");
    if (!ld_cli_g.broker_key)
        return ld_cli_fail("no broker key: use --broker-key FILE (the broker's .pub file) or "
                           "set LIANDONG_BROKER_KEY");
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = ld_cli_g.broker;
    o.identity_path = ld_cli_g.identity;
    o.broker_key_path = ld_cli_g.broker_key;
    o.client_name = "liandong-cli/" LD_VERSION_STRING;
    o.send_only = send_only;
    o.only_types = types;
    o.n_only_types = n_types;
    if (ld_cli_g.timeout_ms > 0) {
        o.connect_timeout_ms = ld_cli_g.timeout_ms;
        o.send_timeout_ms = ld_cli_g.timeout_ms;
        if (o.resend_interval_ms > ld_cli_g.timeout_ms)
            o.resend_interval_ms = ld_cli_g.timeout_ms;
    }
    ld_client *c;
    char err[512];
    int rc = ld_client_new(&o, &c, err, sizeof err);
    if (rc != LD_OK)
        return ld_cli_fail("%s", err);
    rc = ld_client_connect(c);
    if (rc != LD_OK) {
        int st = ld_cli_client_fail(c, rc, "connect");
        ld_client_destroy(&c);
        return st;
    }
    *out = c;
    return LD_CLI_OK;
}

int ld_cli_client_fail(ld_client *c, int rc, const char *what)
{
    if (rc == LD_ERR_REFUSED)
        return ld_cli_fail("refused: %s: %s", ld_reason_name(ld_client_last_reason(c)),
                           ld_client_last_error(c));
    if (rc == LD_ERR_CLOSED)
        return ld_cli_fail("%s: interrupted", what);
    return ld_cli_fail("%s", ld_client_last_error(c));
}

static void split_ms(int64_t ms, time_t *sec, int *frac)
{
    int64_t s = ms / 1000, f = ms % 1000;
    if (f < 0) {
        f += 1000;
        s -= 1;
    }
    *sec = (time_t)s;
    *frac = (int)f;
}

void ld_cli_time_utc(int64_t ms, char *buf, size_t len)
{
    time_t t;
    int frac;
    split_ms(ms, &t, &frac);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "%lld", (long long)ms);
        return;
    }
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac)
        snprintf(buf, len, "%s.%03dZ", base, frac);
    else
        snprintf(buf, len, "%sZ", base);
}

void ld_cli_time_local(int64_t ms, char *buf, size_t len)
{
    time_t t;
    int frac;
    split_ms(ms, &t, &frac);
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        snprintf(buf, len, "%lld", (long long)ms);
        return;
    }
    char base[32], off[8];
    strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
    strftime(off, sizeof off, "%z", &tm); /* +0800 */
    if (strlen(off) == 5)
        snprintf(buf, len, "%s %.3s:%s", base, off, off + 3);
    else
        snprintf(buf, len, "%s %s", base, off);
}

void ld_cli_hex_id(const uint8_t id[LD_ENVELOPE_ID_BYTES], char *buf)
{
    for (int i = 0; i < LD_ENVELOPE_ID_BYTES; i++)
        snprintf(buf + 2 * i, 3, "%02x", id[i]);
}
