/* ldc.h - internals of libliandong shared by the files in sdk/.
 *
 * Nothing here is exported from the shared library (only ld_* is, see
 * liandong.map). Internal symbols use the ldc_ prefix.
 */
#ifndef LDC_H
#define LDC_H

#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "ldk/keys.h"
#include "ldw/envelope.h"
#include "liandong/liandong.h"

#define LDC_ERR_MAX 512
/* Delivery acknowledgements sent in one DeliveryAck at most. */
#define LDC_ACK_BATCH 64

/* A queued delivery: the public struct plus what its pointers point into. */
typedef struct ldc_delivery {
    ld_delivery pub;          /* first member: ld_delivery * casts to ldc_delivery * */
    uint8_t *envelope;        /* copy of Delivery.envelope */
    ldw_opened inner;         /* parsed from envelope */
    Liandong__V1__Body *body; /* unpacked inner body, NULL if unknown type */
    char *sender_name;
    /* The typed views of plan messages (pub.assign, pub.report, pub.accept
     * point here); their strings point into body. */
    ld_task_assign assign;
    ld_status_report_info report;
    ld_task_accept_info accept;
    ld_target *targets;
    ld_bytes *digests;
    /* The typed views of escalation messages (pub.notice, pub.letter). */
    ld_escalation_notice notice;
    ld_supervision_letter_info letter;
    /* The view of a broker's Checkpoint (pub.checkpoint). */
    ld_checkpoint checkpoint;
    ldc_token *token;          /* shared with the dedup ring, NULL until queued */
    struct ldc_delivery *next; /* FIFO link */
} ldc_delivery;

/* One sequence-numbered envelope sent and not yet collected: by a blocking
 * send (which waits for it) or a submit call (ld_client_wait_result). */
typedef struct ldc_sub {
    uint8_t *bytes; /* sealed envelope, resent unchanged */
    size_t len;
    ldw_envelope_id id;
    uint64_t seq;
    int64_t deadline;  /* monotonic ms: send timeout */
    int64_t resend_at; /* monotonic ms: next periodic resend */
    int blocking;      /* a blocking send waits for it (not returned by wait_result) */
    int done;          /* 1 Ack, -1 Nack, 0 waiting */
    ld_ack ack;
    int reason;
    char *text;     /* a Nack's sentence (malloc'd), NULL if none */
    uint8_t *reply; /* copy of Ack.reply (blocking sends only), NULL if empty */
    size_t reply_len;
} ldc_sub;

struct ld_client {
    char *endpoint;
    char *client_name;
    int send_only;
    uint32_t only_bodies[LD_ONLY_TYPES_MAX]; /* Hello's only_bodies */
    size_t n_only_bodies;
    int send_timeout_ms;
    int resend_interval_ms;
    int connect_timeout_ms;

    ldk_identity *ident;  /* ours, with secrets */
    ldk_identity *broker; /* broker.pub */

    void *ctx;
    void *sock; /* DEALER, CURVE client */
    void *mon;  /* PAIR connected to the socket monitor */
    int epfd;   /* ld_client_fd, -1 until asked for */

    int connected;            /* zmq_connect done */
    int established;          /* a HelloReply arrived at least once */
    unsigned handshakes;      /* successful CURVE handshakes so far */
    int link_up;              /* a handshake succeeded and no disconnect since */
    int hello_wait;           /* waiting for a HelloReply */
    ldw_envelope_id hello_id; /* id of the last Hello sent */
    int hello_rc;             /* non-zero: the Hello failed with this code */
    int64_t hello_due;        /* a handshake succeeded and Hello is not out yet:
                                 retry until this monotonic ms, 0 if none */
    int hs_fail_event;        /* last failed handshake event, 0 if none */
    int hs_fail_value;

    uint64_t last_seq;
    ld_session_info session;
    /* Submissions in submission order (oldest first), at most send_window
     * (+1 for a blocking send). */
    ldc_sub **subs;
    size_t n_subs;
    unsigned send_window;

    ldc_delivery *q_head, *q_tail;
    ldc_dedup dedup;
    /* Delivery ids acknowledged and not yet sent: they leave together in one
     * DeliveryAck (ldc_flush_acks). */
    uint64_t acks[LDC_ACK_BATCH];
    size_t n_acks;

    char last_error[LDC_ERR_MAX];
    int last_reason;
};

/* Record the last error (printf style) and return code. */
int ldc_fail(ld_client *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Monotonic clock, ms. */
int64_t ldc_mono_ms(void);

/* client.c ---------------------------------------------------------------- */

/* Take a HelloReply: session info, sequence numbers, principal check. */
void ldc_on_hello_reply(ld_client *c, const Liandong__V1__HelloReply *r);

/* transport.c ------------------------------------------------------------ */

/* Create the context, the DEALER socket with CURVE and reconnect options, and
 * the monitor. Keys must be loaded. Writes a sentence into err on failure. */
int ldc_transport_open(ld_client *c, char *err, size_t errlen);
/* Flush for up to 200 ms, then close everything. Safe on a half-opened client. */
void ldc_transport_close(ld_client *c);
/* zmq_connect the endpoint (once). */
int ldc_transport_connect(ld_client *c);
/* Send one frame without blocking. LD_OK, or LD_ERR_CLOSED when no connection
 * is up (the caller relies on the next handshake), or LD_ERR_ZMQ. */
int ldc_transport_send(ld_client *c, const uint8_t *buf, size_t len);
/* Wait up to timeout_ms (-1: forever) for traffic, then handle all of it:
 * monitor events (Hello + resend after a new handshake), broker messages
 * (HelloReply, Ack, Nack, Delivery). LD_OK (also when nothing came),
 * LD_ERR_CLOSED if interrupted by a signal, LD_ERR_ZMQ. */
int ldc_transport_step(ld_client *c, int timeout_ms);

/* Seal a session message (seq 0) and send it; *id_out gets its id if not NULL.
 * A missing connection is not an error (LD_OK). */
int ldc_send_session(ld_client *c, const Liandong__V1__Body *body, ldw_envelope_id *id_out);
/* Send Hello (after connect and after every new handshake). */
int ldc_send_hello(ld_client *c);

/* send.c ----------------------------------------------------------------- */

/* Match an Ack / Nack from the broker against the submissions in flight. */
void ldc_on_ack(ld_client *c, const Liandong__V1__Ack *a);
void ldc_on_nack(ld_client *c, const Liandong__V1__Nack *n);
/* Resend every unanswered submission, in order (after a new handshake). */
void ldc_resend_pending(ld_client *c);
/* Free every submission (ld_client_destroy). */
void ldc_subs_clear(ld_client *c);
/* Pack b, send it sequence-numbered and wait for the answer, as
 * ld_client_send_body. If reply is not NULL, on LD_OK *reply / *reply_len
 * receive the Ack's reply (caller frees; NULL / 0 when the Ack had none). */
int ldc_send_packed(ld_client *c, const Liandong__V1__Body *b, ld_ack *ack, uint8_t **reply,
                    size_t *reply_len);
/* Send a query (a sequence-numbered body a plugin answers in Ack.reply) and
 * return its reply (caller frees). A duplicate Ack carries no answer: the
 * query is sent once more as a new envelope. what ("ledger query") and
 * plugin ("plans") name things in the error sentences. */
int ldc_query(ld_client *c, const Liandong__V1__Body *b, const char *what, const char *plugin,
              uint8_t **reply, size_t *reply_len);

/* plans.c ---------------------------------------------------------------- */

/* Fill d's typed view of a plan message (assign / report / accept) from
 * d->body, checking its strings are UTF-8. LD_OK (also for other types) or
 * LD_ERR_PROTOCOL / LD_ERR_NOMEM with a sentence in err. */
int ldc_delivery_plan_view(ldc_delivery *d, char *err, size_t errlen);
/* Targets as ld_target (pointing into t); *out is NULL when n is 0, else the
 * caller frees it. LD_OK, LD_ERR_PROTOCOL (a text not UTF-8), LD_ERR_NOMEM. */
int ldc_targets_view(Liandong__V1__Target *const *t, size_t n, ld_target **out);

/* escalation.c ----------------------------------------------------------- */

/* Fill d's view of an escalation notice or supervision letter (pub.notice,
 * pub.letter) from d->body. LD_OK (also for other types) or LD_ERR_PROTOCOL
 * with a sentence in err. */
int ldc_delivery_escalation_view(ldc_delivery *d, char *err, size_t errlen);

/* audit.c ---------------------------------------------------------------- */

/* Fill d's view of a Checkpoint (pub.checkpoint) from d->body, checking the
 * sizes of root, signature and head_hash. LD_OK (also for other types) or
 * LD_ERR_PROTOCOL with a sentence in err. ldc_on_delivery keeps the view only
 * for the broker's own messages, after ldc_checkpoint_verify. */
int ldc_delivery_audit_view(ldc_delivery *d, char *err, size_t errlen);
/* LD_OK if cp's signature verifies with the broker's signing key, else
 * LD_ERR_CRYPTO. */
int ldc_checkpoint_verify(const ld_checkpoint *cp, const uint8_t *sign_public);
/* Decode an Ack.reply holding Body{audit_reply} into a new ld_audit_page.
 * Pure. LD_OK, LD_ERR_PROTOCOL or LD_ERR_NOMEM, with a sentence in err. */
int ldc_audit_page_from_reply(const uint8_t *reply, size_t len, ld_audit_page **out, char *err,
                              size_t errlen);

/* delivery.c ------------------------------------------------------------- */

/* Check a Delivery (key id, sender signature) and build an ldc_delivery.
 * Pure: no client state. On failure writes a sentence into err. */
int ldc_delivery_new(const Liandong__V1__Delivery *dm, ldc_delivery **out, char *err,
                     size_t errlen);
/* Handle a Delivery from the broker: verify, drop duplicates, queue. */
void ldc_on_delivery(ld_client *c, const Liandong__V1__Delivery *dm);
/* Free every queued delivery. */
void ldc_queue_clear(ld_client *c);
/* Send the acknowledgements gathered by ld_client_ack (and for duplicates)
 * in one DeliveryAck. Called before every wait (ldc_transport_step), when the
 * batch is full, and at ld_client_destroy. Not connected: they are dropped
 * (the broker redelivers and the repeat is acknowledged then). */
void ldc_flush_acks(ld_client *c);

/* ledger.c --------------------------------------------------------------- */

/* Decode an Ack.reply holding Body{ledger_reply} into a new ld_ledger.
 * Pure. LD_OK, LD_ERR_PROTOCOL (does not parse, another message, text not
 * UTF-8) or LD_ERR_NOMEM, with a sentence in err. */
int ldc_ledger_from_reply(const uint8_t *reply, size_t len, ld_ledger **out, char *err,
                          size_t errlen);

/* utf8.c ----------------------------------------------------------------- */

/* 1 if s (len bytes) is well-formed UTF-8 (any code point but NUL), else 0. */
int ldc_utf8_valid(const char *s, size_t len);

#endif
