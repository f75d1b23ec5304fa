/* client.c - the ld_client object: options, keys, connect, session, errors. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ldc.h"

#define DEFAULT_SEND_TIMEOUT_MS 10000
#define DEFAULT_RESEND_INTERVAL_MS 2000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_CLIENT_NAME "libliandong/" LD_VERSION_STRING

int ldc_fail(ld_client *c, int code, const char *fmt, ...)
{
    if (c) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
        va_end(ap);
    }
    return code;
}

int64_t ldc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *ld_version(void)
{
    return LD_VERSION_STRING;
}

/* The public reason codes are the wire's. */
#define LDC_SAME_REASON(x)                                                                         \
    _Static_assert((int)LD_REASON_##x == (int)LIANDONG__V1__REASON_CODE__##x, #x)
LDC_SAME_REASON(MALFORMED);
LDC_SAME_REASON(TOO_LARGE);
LDC_SAME_REASON(UNKNOWN_SENDER);
LDC_SAME_REASON(SENDER_MISMATCH);
LDC_SAME_REASON(KEY_REVOKED);
LDC_SAME_REASON(BAD_SIGNATURE);
LDC_SAME_REASON(REPLAY);
LDC_SAME_REASON(CLOCK_SKEW);
LDC_SAME_REASON(UNAUTHORIZED);
LDC_SAME_REASON(UNKNOWN_RECIPIENT);
LDC_SAME_REASON(STORAGE_FULL);
LDC_SAME_REASON(UNSUPPORTED);
LDC_SAME_REASON(INTERNAL);
LDC_SAME_REASON(UNKNOWN_TASK);
LDC_SAME_REASON(INVALID_PLAN);
LDC_SAME_REASON(LIMIT_EXCEEDED);

const char *ld_reason_name(int reason)
{
    return ldw_reason_name(reason);
}

void ld_client_options_init(ld_client_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->send_timeout_ms = DEFAULT_SEND_TIMEOUT_MS;
    o->resend_interval_ms = DEFAULT_RESEND_INTERVAL_MS;
    o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
}

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* 0 means "use the default"; negative is invalid. */
static int pick_ms(int v, int def, int *out)
{
    if (v < 0)
        return -1;
    *out = v ? v : def;
    return 0;
}

int ld_client_new(const ld_client_options *o, ld_client **out, char *err, size_t errlen)
{
    if (!out)
        return errf(err, errlen, LD_ERR_INVALID, "ld_client_new needs an out pointer");
    *out = NULL;
    if (!o)
        return errf(err, errlen, LD_ERR_INVALID, "ld_client_new needs options");
    if (!o->endpoint || !o->endpoint[0])
        return errf(err, errlen, LD_ERR_INVALID, "no broker endpoint given (options.endpoint)");
    if (!o->identity_path || !o->identity_path[0])
        return errf(err, errlen, LD_ERR_INVALID,
                    "no identity file given (options.identity_path, a .secret file)");
    if (!o->broker_key_path || !o->broker_key_path[0])
        return errf(err, errlen, LD_ERR_INVALID,
                    "no broker key file given (options.broker_key_path, the broker's .pub file)");
    if (sodium_init() < 0)
        return errf(err, errlen, LD_ERR_CRYPTO, "libsodium could not be initialized");

    ld_client *c = calloc(1, sizeof *c);
    if (!c)
        return errf(err, errlen, LD_ERR_NOMEM, "out of memory creating the client");
    c->epfd = -1;
    if (pick_ms(o->send_timeout_ms, DEFAULT_SEND_TIMEOUT_MS, &c->send_timeout_ms) ||
        pick_ms(o->resend_interval_ms, DEFAULT_RESEND_INTERVAL_MS, &c->resend_interval_ms) ||
        pick_ms(o->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS, &c->connect_timeout_ms)) {
        free(c);
        return errf(err, errlen, LD_ERR_INVALID, "timeouts and intervals must not be negative");
    }
    if (o->send_window < 0 || o->send_window > LD_SEND_WINDOW_MAX) {
        free(c);
        return errf(err, errlen, LD_ERR_INVALID,
                    "options.send_window must be from 1 to %d (0: the default, %d), not %d",
                    LD_SEND_WINDOW_MAX, LD_SEND_WINDOW_DEFAULT, o->send_window);
    }
    if (o->n_only_types && o->send_only) {
        free(c);
        return errf(err, errlen, LD_ERR_INVALID,
                    "options.only_types and options.send_only exclude each other (a send-only "
                    "connection takes no deliveries)");
    }
    if (o->n_only_types && (!o->only_types || o->n_only_types > LD_ONLY_TYPES_MAX)) {
        free(c);
        return errf(err, errlen, LD_ERR_INVALID,
                    "options.only_types must list 1 to %d delivery types (n_only_types %zu)",
                    LD_ONLY_TYPES_MAX, o->n_only_types);
    }
    for (size_t i = 0; i < o->n_only_types; i++) {
        uint32_t f = ldw_body_case_by_name(o->only_types[i]);
        if (!f) {
            int e = errf(err, errlen, LD_ERR_INVALID,
                         "options.only_types: \"%s\" is not a message type (e.g. "
                         "\"escalation_notice\", \"direct\", \"task_assign\")",
                         o->only_types[i] ? o->only_types[i] : "(null)");
            free(c);
            return e;
        }
        c->only_bodies[c->n_only_bodies++] = f;
    }
    c->send_window = o->send_window ? (unsigned)o->send_window : LD_SEND_WINDOW_DEFAULT;
    c->subs = calloc(c->send_window + 1, sizeof *c->subs);
    if (!c->subs) {
        free(c);
        return errf(err, errlen, LD_ERR_NOMEM, "out of memory creating the client");
    }
    int rc = LD_ERR_NOMEM;
    c->endpoint = strdup(o->endpoint);
    c->client_name = strdup(o->client_name ? o->client_name : DEFAULT_CLIENT_NAME);
    c->send_only = o->send_only != 0;
    if (!c->endpoint || !c->client_name || ldc_dedup_init(&c->dedup) != LD_OK) {
        errf(err, errlen, rc, "out of memory creating the client");
        goto fail;
    }
    if (!ldc_utf8_valid(c->client_name, strlen(c->client_name))) {
        rc = errf(err, errlen, LD_ERR_INVALID, "options.client_name is not valid UTF-8");
        goto fail;
    }
    rc = ldk_identity_load_secret(o->identity_path, &c->ident, err, errlen);
    if (rc != LD_OK)
        goto fail;
    rc = ldk_identity_load(o->broker_key_path, &c->broker, err, errlen);
    if (rc != LD_OK)
        goto fail;
    if (strlen(c->broker->curve_public) != LDK_Z85_KEY_LEN) {
        rc = errf(err, errlen, LD_ERR_FORMAT, "%s has no curve_public key", o->broker_key_path);
        goto fail;
    }
    rc = ldc_transport_open(c, err, errlen);
    if (rc != LD_OK)
        goto fail;
    snprintf(c->last_error, sizeof c->last_error, "no error");
    *out = c;
    return LD_OK;
fail:
    ld_client_destroy(&c);
    return rc;
}

void ld_client_destroy(ld_client **cp)
{
    if (!cp || !*cp)
        return;
    ld_client *c = *cp;
    if (c->sock)
        ldc_flush_acks(c);
    ldc_transport_close(c);
    ldc_queue_clear(c);
    ldc_dedup_fini(&c->dedup);
    ldc_subs_clear(c);
    ldk_identity_destroy(&c->ident);
    ldk_identity_destroy(&c->broker);
    free(c->endpoint);
    free(c->client_name);
    free(c);
    *cp = NULL;
}

/* Called by transport.c for every HelloReply. */
void ldc_on_hello_reply(ld_client *c, const Liandong__V1__HelloReply *r)
{
    ld_session_info *s = &c->session;
    if (r->principal && r->principal[0] && strcmp(r->principal, c->ident->id) != 0) {
        /* The broker maps our CURVE key to someone else: every send would be
         * refused with SENDER_MISMATCH. Do not treat the session as up. */
        ldc_fail(c, LD_ERR_PROTOCOL,
                 "the broker knows our CURVE key as principal '%s', but the identity file is "
                 "'%s'; check the roster",
                 r->principal, c->ident->id);
        c->hello_rc = LD_ERR_PROTOCOL;
        return;
    }
    snprintf(s->principal, sizeof s->principal, "%s", r->principal ? r->principal : "");
    snprintf(s->name, sizeof s->name, "%s", r->name ? r->name : "");
    s->last_seq = r->last_seq;
    s->mailbox_size = r->mailbox_size;
    s->clock_ms = r->clock_ms;
    s->simulated_clock = r->simulated_clock ? 1 : 0;
    /* Continue above what the broker accepted, and never go back: a broker
     * restored from an older state still accepts higher numbers. */
    if (r->last_seq > c->last_seq)
        c->last_seq = r->last_seq;
    c->established = 1;
    c->hello_wait = 0;
}

static const char *handshake_detail(const ld_client *c, char *buf, size_t len)
{
    switch (c->hs_fail_event) {
    case 0: buf[0] = '\0'; break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        snprintf(buf, len,
                 " (ZeroMQ: the broker refused our CURVE key, status %d: it is not in the "
                 "broker's roster, or it was revoked)",
                 c->hs_fail_value);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        snprintf(buf, len,
                 " (ZeroMQ: the CURVE handshake failed, protocol error 0x%x: does the broker "
                 "key file match this broker?)",
                 (unsigned)c->hs_fail_value);
        break;
    default:
        snprintf(buf, len,
                 " (ZeroMQ: the CURVE handshake failed, %s: does the broker key file match "
                 "this broker?)",
                 zmq_strerror(c->hs_fail_value));
        break;
    }
    return buf;
}

int ld_client_connect(ld_client *c)
{
    if (!c)
        return LD_ERR_INVALID;
    c->last_reason = LD_REASON_UNSPECIFIED;
    c->hello_rc = 0;
    c->hello_wait = 1;
    int rc;
    if (!c->connected) {
        /* The first Hello goes out when the handshake succeeds (transport.c). */
        rc = ldc_transport_connect(c);
        if (rc != LD_OK)
            return rc;
    } else if (c->handshakes > 0) {
        rc = ldc_send_hello(c);
        if (rc != LD_OK)
            return rc;
    }
    int64_t deadline = ldc_mono_ms() + c->connect_timeout_ms;
    while (c->hello_wait && !c->hello_rc) {
        int64_t left = deadline - ldc_mono_ms();
        if (left <= 0) {
            char detail[256];
            c->hello_wait = 0;
            return ldc_fail(c, LD_ERR_TIMEOUT,
                            "the broker at %s did not answer within %d ms: a wrong endpoint, a "
                            "stopped broker, or a CURVE key not in the broker's roster are the "
                            "likely causes%s",
                            c->endpoint, c->connect_timeout_ms,
                            handshake_detail(c, detail, sizeof detail));
        }
        rc = ldc_transport_step(c, (int)left);
        if (rc != LD_OK) {
            c->hello_wait = 0;
            return rc;
        }
    }
    if (c->hello_rc) {
        c->hello_wait = 0;
        return c->hello_rc;
    }
    return LD_OK;
}

int ld_client_session(const ld_client *c, ld_session_info *out)
{
    if (!c || !out)
        return LD_ERR_INVALID;
    if (!c->established)
        return LD_ERR_INVALID;
    *out = c->session;
    return LD_OK;
}

const char *ld_client_last_error(const ld_client *c)
{
    return c ? c->last_error : "no client";
}

int ld_client_last_reason(const ld_client *c)
{
    return c ? c->last_reason : LD_REASON_UNSPECIFIED;
}

const char *ld_client_principal(const ld_client *c)
{
    return c && c->ident ? c->ident->id : "";
}
