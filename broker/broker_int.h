/* broker_int.h - broker internals shared by broker.c, pipeline.c and session.c. */
#ifndef LDB_BROKER_INT_H
#define LDB_BROKER_INT_H

#include <stdint.h>
#include <zmq.h>

#include "broker.h"
#include "ldk/keys.h"
#include "ldw/envelope.h"
#include "store.h"
#include "zap.h"
#include "plugin_host.h"
#include "pool.h"

#define LDB_ROUTING_ID_MAX 255
/* Deliveries sent to one session and not yet acknowledged, at most, and
 * their envelopes' bytes at most (one delivery is always allowed). The
 * window covers the time a DeliveryAck waits behind a busy broker's
 * batches; the bytes bound what a recipient that never reads costs. */
#define LDB_DELIVERY_WINDOW 2048
#define LDB_DELIVERY_WINDOW_BYTES (8u * 1024 * 1024)
#define LDB_MAX_RECIPIENTS 1024

/* Receiving connections of one principal kept at most; the oldest goes first. */
#define LDB_SESSIONS_PER_PRINCIPAL 8

/* The wire protocol each connection named in its Hello, by routing id: a
 * direct-mapped table (a slot holds the last connection hashed to it). A
 * connection not found, or with a routing id longer than LDB_PEER_RID_MAX,
 * counts as protocol 1, which every client understands, so losing a slot
 * only costs the batching of protocol 2. */
#define LDB_PEER_SLOTS 1024
#define LDB_PEER_RID_MAX 32
typedef struct ldb_peer {
    uint8_t rid[LDB_PEER_RID_MAX];
    uint8_t rid_len; /* 0: free */
    uint8_t protocol;
} ldb_peer;

/* Answers and deliveries in one protocol 2 frame, at most; a Deliveries
 * frame also stops growing past LDB_BATCH_BYTES of envelopes. */
#define LDB_BATCH_MAX 64
#define LDB_BATCH_BYTES (256 * 1024)

/* A connection that said Hello and takes deliveries. A principal may have
 * several (a department system, an operator's `liandong inbox`, a
 * supervisor's `escalations --follow`). Of the connections asking for the
 * same deliveries (Hello.only_bodies, or all) the newest is active (the
 * "primary"); the others wait. An entry of type t goes to the newest active
 * connection that asked for t by name, else to the active one that asked for
 * everything. When an active connection is found gone, the next newest with
 * the same filter takes over from the start of the mailbox (and, if it named
 * types, the others start over too: those types may be theirs now). */
typedef struct ldb_session {
    char principal[LDK_ID_MAX + 1];
    uint8_t rid[LDB_ROUTING_ID_MAX];
    size_t rid_len;
    uint64_t order;        /* Hello order: higher is newer */
    int primary;           /* active: deliveries go to this session */
    uint64_t cursor;       /* highest delivery id sent in this session */
    unsigned inflight;     /* sent, not yet acknowledged */
    size_t inflight_bytes; /* their envelopes' bytes */
    int more;              /* the mailbox may hold entries past cursor */
    int filtered;          /* only the Body field numbers in only[] are pushed */
    uint64_t only[2];      /* bit n: field number n (below 128) */
    int64_t heard_ms;      /* wall time of its Hello or last DeliveryAck */
    int64_t probed_ms;     /* wall time of the last probe (ldb_sessions_probe) */
} ldb_session;

struct ldb_broker {
    const ldb_config *cfg;
    void *ctx;
    void *router;
    void *zap;
    ldb_store *store;
    ldk_roster *roster;
    ldk_identity *key;
    int64_t sim_clock_ms; /* business clock when cfg->simulated */
    int nearly_full;      /* this batch: enum ldb_fill (ldb_store_nearly_full) */
    ldb_session *sessions;
    ldb_peer *peers; /* LDB_PEER_SLOTS */
    size_t n_sessions, cap_sessions;
    uint64_t session_order;
    ldb_plugins *plugins;
    int64_t next_tick_ms;          /* monotonic-ish wall time of the next tick */
    int64_t ticked_clock_ms;       /* business clock at the last tick */
    int64_t next_prune_ms;         /* wall time of the next dedup pruning step */
    int64_t pruned_clock_ms;       /* business clock at the last step */
    int64_t next_probe_ms;         /* wall time of the next ldb_sessions_probe pass */
    ldb_dedup_cursor prune_cursor; /* where it goes on */
    char endpoint[256];
    /* Verifies envelopes and seals answers and deliveries in parallel. The
     * workers only read the roster, the config and the broker key, and
     * write what their index owns; the roster is swapped (SIGHUP) only
     * between batches, when no job runs. */
    ldb_pool *pool;
};

/* Business clock: simulated, or the wall clock. */
int64_t ldb_clock_now(const ldb_broker *b);

/* Seal body with the broker key and send it to a routing id.
 * Returns 0, or -1 with errno (EHOSTUNREACH: peer gone; EAGAIN: queue full). */
int ldb_send_body(ldb_broker *b, const uint8_t *rid, size_t rid_len,
                  const Liandong__V1__Body *body);
/* Seal body with the broker key into *buf (caller frees). Thread-safe: the
 * pool's workers call it. 0, or -1 (out of memory). */
int ldb_seal_body(const ldb_broker *b, const Liandong__V1__Body *body, uint8_t **buf, size_t *len);
/* Send a sealed envelope to a routing id (main thread). As ldb_send_body. */
int ldb_send_sealed(ldb_broker *b, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                    size_t len);

/* Seal body (a serialized Body) as the broker and put it in recipient's
 * mailbox within txn. */
int ldb_emit(ldb_broker *b, MDB_txn *txn, const char *recipient, const void *body, size_t body_len);
/* After a commit that emitted or added mailbox entries: let every primary
 * session look at its mailbox again. */
void ldb_sessions_wake_all(ldb_broker *b);
/* Run the plugins' on_tick if due (or if the business clock moved). */
void ldb_tick(ldb_broker *b, int force);
/* Forget old accepted envelope ids, a bounded step at a time (the
 * dedup_retention_days setting); cheap when not due. */
void ldb_prune_dedup(ldb_broker *b);

/* Receive and process one batch of messages (at least one is waiting). */
void ldb_pipeline_run_batch(ldb_broker *b);

/* New mailbox entries for principal: its active sessions look again. */
void ldb_sessions_wake(ldb_broker *b, const char *principal);
/* The session on routing id rid, or NULL. */
ldb_session *ldb_session_by_rid(ldb_broker *b, const uint8_t *rid, size_t rid_len);
/* Start (or restart) a receiving session of principal on routing id rid; it
 * becomes the primary and gets the mailbox from the start: only the
 * deliveries whose Body field number is in only[] when n_only > 0. */
ldb_session *ldb_session_hello(ldb_broker *b, const char *principal, const uint8_t *rid,
                               size_t rid_len, const uint32_t *only, size_t n_only);
/* Record the protocol a connection named in its Hello (main thread). */
void ldb_peer_hello(ldb_broker *b, const uint8_t *rid, size_t rid_len, unsigned protocol);
/* The protocol of a connection: what its Hello said, or 1 if not known. */
unsigned ldb_peer_protocol(const ldb_broker *b, const uint8_t *rid, size_t rid_len);
/* Push deliveries to every primary session that has room and may have more. */
void ldb_sessions_pump(ldb_broker *b);
/* Find connections that went away with deliveries unacknowledged: a
 * primary session (protocol 2) with deliveries in flight that has said
 * nothing for heartbeat_ms gets an empty Deliveries frame; if its
 * connection is gone, the session is removed and its deliveries go to the
 * principal's other connections. Without this, that would wait for the
 * next push to it. */
void ldb_sessions_probe(ldb_broker *b);

#endif
