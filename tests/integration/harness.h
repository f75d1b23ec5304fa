/* harness.h - integration test harness: a real broker on 127.0.0.1 in a
 * temporary directory, identities made with the keys library, and a raw
 * client that can send crafted (also malformed) envelopes. */
#ifndef LD_TEST_HARNESS_H
#define LD_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ldk/keys.h"
#include "ldw/envelope.h"

#define TH_MAX_IDS 16

typedef struct th_env {
    char dir[256];    /* temporary root */
    char keys[300];   /* dir/keys */
    char data[300];   /* dir/data */
    char roster[300]; /* dir/roster */
    char broker_secret[400];
    char broker_pub[400];
    char ready[400];
    char endpoint[256]; /* empty until the first start */
    pid_t pid;
    ldk_identity *broker;
    ldk_identity *ids[TH_MAX_IDS];
    size_t n_ids;
    void *zctx;
    void *socks[64]; /* raw client sockets still open (closed at fini) */
} th_env;

/* Create the directory, broker keys and an empty roster. */
void th_env_init(th_env *e);
/* Stop the broker (SIGTERM), remove the directory. */
void th_env_fini(th_env *e);

/* Generate an identity, save .secret/.pub under keys/, add it to the roster. */
ldk_identity *th_add_identity(th_env *e, const char *id, const char *name, unsigned roles);
/* Paths of an identity's key files. */
void th_secret_path(const th_env *e, const char *id, char *buf, size_t len);

/* Start the broker; extra arguments (NULL-terminated) are appended.
 * The first start binds an ephemeral port; later starts reuse it. */
void th_broker_start(th_env *e, const char *const *extra);
/* Send sig to the broker and reap it. Returns its wait status. */
int th_broker_signal_stop(th_env *e, int sig);
/* Reload the roster (SIGHUP) and wait until the broker has handled it. */
void th_broker_reload(th_env *e);

/* ---- raw client ---- */
typedef struct th_raw {
    th_env *env;
    ldk_identity *id; /* signs with this identity */
    void *sock;
    uint64_t seq;
} th_raw;

/* Connect with the CURVE keys of curve_id (usually id itself). */
void th_raw_connect(th_raw *r, th_env *e, ldk_identity *id, ldk_identity *curve_id);
void th_raw_close(th_raw *r);
/* Send bytes as one frame (or frames). */
void th_raw_send_bytes(th_raw *r, const void *buf, size_t len);
/* Seal body as sender/key of signer, with the given seq and time, and send.
 * id_out gets the envelope id. */
void th_raw_send_body(th_raw *r, const ldk_identity *signer, const char *sender, uint64_t seq,
                      int64_t sent_at_ms, const Liandong__V1__Body *body, ldw_envelope_id *id_out,
                      uint8_t **bytes_out, size_t *len_out);
/* Convenience: Direct from r->id to one recipient with text and seq ++r->seq. */
void th_raw_direct(th_raw *r, const char *to, const char *text, ldw_envelope_id *id_out);
/* A Direct from r->id with recipients, text, payload (may be NULL) and the
 * given seq (r->seq untouched); the rest as th_raw_send_body. */
void th_raw_direct_seq(th_raw *r, const char *const *to, size_t n_to, const char *text,
                       const void *payload, size_t payload_len, uint64_t seq,
                       ldw_envelope_id *id_out, uint8_t **bytes_out, size_t *len_out);
/* Hello; returns the HelloReply body (caller frees). */
Liandong__V1__Body *th_raw_hello(th_raw *r);
/* Hello for a connection that takes no deliveries. */
Liandong__V1__Body *th_raw_hello_send_only(th_raw *r);
/* Hello naming a wire protocol version (th_raw_hello says 1: one answer
 * and one delivery per frame; 2 lets the broker batch them). */
Liandong__V1__Body *th_raw_hello_protocol(th_raw *r, unsigned protocol, int send_only);
/* th_raw_hello_protocol asking only for deliveries whose Body field number
 * is in only[] (Hello.only_bodies; n_only 0: all). */
Liandong__V1__Body *th_raw_hello_only(th_raw *r, unsigned protocol, int send_only,
                                      const uint32_t *only, size_t n_only);

/* Receive one broker message within timeout_ms, check the broker's signature,
 * and return its body (caller frees with liandong__v1__body__free_unpacked),
 * or NULL on timeout. */
Liandong__V1__Body *th_raw_recv(th_raw *r, int timeout_ms);
/* Receive until an Ack or Nack arrives (skipping deliveries); NULL on timeout. */
Liandong__V1__Body *th_raw_recv_reply(th_raw *r, int timeout_ms);
/* Acknowledge a delivery. */
void th_raw_delivery_ack(th_raw *r, uint64_t delivery_id);

/* Free a body. */
void th_body_free(Liandong__V1__Body *b);

/* ---- added for the plans plugin tests ---- */

/* Add principals to the roster without keeping their keys (for rosters
 * larger than TH_MAX_IDS, e.g. every department of a plan). Ids already in
 * the roster are skipped. The name of each is its id. */
void th_add_roster_ids(th_env *e, const char *const *ids, size_t n, unsigned roles);
/* Write text to <dir>/<name>; the full path into path. */
void th_write_file(th_env *e, const char *name, const char *text, char *path, size_t pathlen);
/* Start the broker as th_broker_start does, expecting it to refuse to
 * start: it must exit within 10 s. Returns its wait status; its stderr
 * goes into err (NUL-terminated, cut to errlen). */
int th_broker_start_fails(th_env *e, const char *const *extra, char *err, size_t errlen);

#endif
