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

#define LDB_ROUTING_ID_MAX 255
/* Deliveries sent to one session and not yet acknowledged, at most. */
#define LDB_DELIVERY_WINDOW 256
#define LDB_MAX_RECIPIENTS 1024

/* A connected principal that said Hello. */
typedef struct ldb_session {
    char principal[LDK_ID_MAX + 1];
    uint8_t rid[LDB_ROUTING_ID_MAX];
    size_t rid_len;
    uint64_t cursor;   /* highest delivery id sent in this session */
    unsigned inflight; /* sent, not yet acknowledged */
    int live;          /* 0 once the peer is gone */
    int more;          /* the mailbox may hold entries past cursor */
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
    ldb_session *sessions;
    size_t n_sessions, cap_sessions;
    char endpoint[256];
};

/* Business clock: simulated, or the wall clock. */
int64_t ldb_clock_now(const ldb_broker *b);

/* Seal body with the broker key and send it to a routing id.
 * Returns 0, or -1 with errno (EHOSTUNREACH: peer gone; EAGAIN: queue full). */
int ldb_send_body(ldb_broker *b, const uint8_t *rid, size_t rid_len,
                  const Liandong__V1__Body *body);

/* Receive and process one batch of messages (at least one is waiting). */
void ldb_pipeline_run_batch(ldb_broker *b);

ldb_session *ldb_session_find(ldb_broker *b, const char *principal);
/* Start (or restart) the session of principal on routing id rid. */
ldb_session *ldb_session_hello(ldb_broker *b, const char *principal, const uint8_t *rid,
                               size_t rid_len);
/* Push deliveries to every live session that has room and may have more. */
void ldb_sessions_pump(ldb_broker *b);

#endif
