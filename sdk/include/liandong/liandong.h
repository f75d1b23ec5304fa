/* liandong/liandong.h - the Liandong client SDK (libliandong).
 *
 * A department system connects to the broker with its identity (a .secret
 * key file made by liandong-keys) and the broker's public key file, sends
 * signed messages that return only once the broker has stored them durably
 * (its Ack), and receives deliveries whose signatures are already checked.
 *
 *     ld_client *c;
 *     ld_client_options o;
 *     ld_client_options_init(&o);
 *     o.endpoint = "tcp://127.0.0.1:7400";
 *     o.identity_path = "keys/mdj.gxj.secret";
 *     o.broker_key_path = "keys/broker.pub";
 *     if (ld_client_new(&o, &c) != LD_OK) ...   // ld_client_last_error(NULL) not available: see err
 *     ld_client_connect(c);                      // Hello / HelloReply
 *     const char *to[] = {"mdj.fgw"};
 *     ld_client_send_direct(c, to, 1, "请于周五前报送进展", NULL, 0, NULL);
 *     ld_delivery *d;
 *     while (ld_client_recv(c, 1000, &d) == LD_OK) { ...; ld_client_ack(c, d); ld_delivery_destroy(&d); }
 *     ld_client_destroy(&c);
 *
 * Thread safety: an ld_client is not thread-safe; use one client per thread
 * (or serialize all calls on it). Different clients are independent.
 *
 * Reliability: the client reconnects by itself (ZeroMQ reconnects the
 * socket; the client says Hello again after each new handshake) and resends
 * an unacknowledged envelope unchanged until the Ack arrives or the send
 * timeout ends; the broker acknowledges a resent envelope again without
 * storing it twice. Deliveries are at least once; the client drops
 * duplicates by envelope id (remembering the last LD_DEDUP_WINDOW ids).
 *
 * Errors: functions return enum ld_error (liandong/error.h). After a failure,
 * ld_client_last_error() gives one sentence; after LD_ERR_REFUSED,
 * ld_client_last_reason() gives the broker's reason code as well.
 */
#ifndef LIANDONG_H
#define LIANDONG_H

#include <stddef.h>
#include <stdint.h>

#include "liandong/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LD_VERSION_STRING "0.1.0"
#define LD_ENVELOPE_ID_BYTES 16
#define LD_DEDUP_WINDOW 4096

/* Broker reason codes, the same numbers as liandong.v1.ReasonCode. */
enum ld_reason {
    LD_REASON_UNSPECIFIED = 0,
    LD_REASON_MALFORMED = 1,
    LD_REASON_TOO_LARGE = 2,
    LD_REASON_UNKNOWN_SENDER = 3,
    LD_REASON_SENDER_MISMATCH = 4,
    LD_REASON_KEY_REVOKED = 5,
    LD_REASON_BAD_SIGNATURE = 6,
    LD_REASON_REPLAY = 7,
    LD_REASON_CLOCK_SKEW = 8,
    LD_REASON_UNAUTHORIZED = 9,
    LD_REASON_UNKNOWN_RECIPIENT = 10,
    LD_REASON_STORAGE_FULL = 11,
    LD_REASON_UNSUPPORTED = 12,
    LD_REASON_INTERNAL = 13,
};

/* "MALFORMED", "REPLAY", ...; "UNKNOWN" for other values. Never NULL. */
const char *ld_reason_name(int reason);

typedef struct ld_client ld_client;

typedef struct ld_client_options {
    const char *endpoint;        /* e.g. "tcp://127.0.0.1:7400" (required) */
    const char *identity_path;   /* the principal's .secret file (required) */
    const char *broker_key_path; /* the broker's .pub file (required) */
    int send_timeout_ms;         /* total wait for an Ack; default 10000 */
    int resend_interval_ms;      /* resend an unacknowledged envelope after; default 2000 */
    int connect_timeout_ms;      /* wait for HelloReply in ld_client_connect; default 10000 */
    const char *client_name;     /* sent in Hello; default "libliandong/<version>" */
} ld_client_options;

/* Fill o with defaults (all pointers NULL). */
void ld_client_options_init(ld_client_options *o);

/* Load the keys and create the socket (no network traffic yet). On failure,
 * if err is not NULL, one sentence is written into err (errlen bytes).
 * Caller owns *out on LD_OK. */
int ld_client_new(const ld_client_options *o, ld_client **out, char *err, size_t errlen);

/* Close the socket and wipe the keys. Accepts NULL and *c == NULL; sets *c = NULL. */
void ld_client_destroy(ld_client **c);

/* Connect, send Hello and wait for HelloReply. The sequence number continues
 * above the broker's last accepted one. LD_ERR_TIMEOUT if the broker does not
 * answer (wrong endpoint, or it refused our CURVE key: ZeroMQ gives no error
 * for that, so the sentence says both are possible). */
int ld_client_connect(ld_client *c);

/* What the broker said in its last HelloReply. */
typedef struct ld_session_info {
    char principal[65];
    char name[257];
    uint64_t last_seq;        /* last sequence number the broker accepted from us */
    uint64_t mailbox_size;    /* deliveries waiting at Hello time */
    int64_t clock_ms;         /* broker business clock */
    int simulated_clock;      /* 1 if the broker runs a simulated clock */
} ld_session_info;
int ld_client_session(const ld_client *c, ld_session_info *out);

/* The broker's answer to one accepted envelope. */
typedef struct ld_ack {
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
    uint64_t seq;
    int duplicate;            /* the broker had it already (a resend) */
    int64_t clock_ms;         /* broker business clock after it */
} ld_ack;

/* Send a Direct message: text (UTF-8) and an optional payload to the given
 * principal ids. Returns after the broker's Ack (LD_OK, *ack filled if not
 * NULL), its Nack (LD_ERR_REFUSED, see ld_client_last_reason), or the send
 * timeout (LD_ERR_TIMEOUT: the message may or may not have been stored; a
 * retry with the same call sends a new envelope). Deliveries arriving
 * meanwhile are queued for ld_client_recv. */
int ld_client_send_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                          const void *payload, size_t payload_len, ld_ack *ack);

/* Send a serialized liandong.v1.Body (for message types without a helper
 * here). Sequence-numbered like ld_client_send_direct. */
int ld_client_send_body(ld_client *c, const uint8_t *body, size_t body_len, ld_ack *ack);

/* Admin, broker with --simulated-clock only: advance the business clock by
 * by_ms (> 0). *clock_ms (if not NULL) receives the new clock. */
int ld_client_clock_advance(ld_client *c, int64_t by_ms, int64_t *clock_ms);

/* One delivery: a message some principal (or the broker) sent to us. Both the
 * broker's signature on the Delivery and the sender's signature on the
 * original envelope were verified before it was returned. All strings are
 * UTF-8 and NUL-terminated; all pointers are owned by the delivery. */
typedef struct ld_delivery {
    uint64_t delivery_id;
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
    char envelope_id_hex[2 * LD_ENVELOPE_ID_BYTES + 1];
    const char *sender;        /* principal id */
    const char *sender_name;   /* display name from the broker's roster */
    const char *key_id;
    uint64_t seq;
    int64_t sent_at_ms;        /* sender's clock */
    int64_t stored_at_ms;      /* broker business clock when stored */
    const char *type;          /* body type: "direct", ... */
    /* For "direct": */
    const char *text;
    const uint8_t *payload;
    size_t payload_len;
    const char *content_type;
    const char *const *to;     /* all recipients of the message */
    size_t n_to;
    /* The original signed envelope and its serialized body. */
    const uint8_t *envelope;
    size_t envelope_len;
    const uint8_t *body;
    size_t body_len;
} ld_delivery;

/* Wait up to timeout_ms (0: do not wait, -1: forever) for the next delivery.
 * LD_OK and *out (caller owns, ld_delivery_destroy) or LD_ERR_TIMEOUT.
 * A delivery whose signatures do not verify is dropped, logged in
 * ld_client_last_error, and not acknowledged. */
int ld_client_recv(ld_client *c, int timeout_ms, ld_delivery **out);

/* Tell the broker the delivery is processed; it leaves the mailbox. */
int ld_client_ack(ld_client *c, const ld_delivery *d);

void ld_delivery_destroy(ld_delivery **d);

/* A file descriptor that becomes readable when the client may have work
 * (ZMQ_FD semantics: edge-triggered; after it fires, call ld_client_recv
 * with timeout 0 until LD_ERR_TIMEOUT). */
int ld_client_fd(ld_client *c, int *fd);

/* One sentence about the last failure on c. Never NULL. */
const char *ld_client_last_error(const ld_client *c);
/* The reason code of the last Nack (LD_REASON_UNSPECIFIED if none). */
int ld_client_last_reason(const ld_client *c);

/* This client's principal id. */
const char *ld_client_principal(const ld_client *c);

#ifdef __cplusplus
}
#endif
#endif
