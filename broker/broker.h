/* broker.h - the broker: sockets, sessions and the message pipeline.
 *
 *   recv (a batch) -> check (size, parse, sender == User-Id, key active,
 *   signature) -> one LMDB write transaction for the batch, each message in
 *   its own nested transaction (dedup, sequence, clock skew, effects) ->
 *   commit -> Ack / Nack / HelloReply -> push Delivery frames.
 * Everything runs on one thread: the ZAP socket is polled beside the ROUTER.
 */
#ifndef LDB_BROKER_H
#define LDB_BROKER_H

#include <signal.h>
#include <stddef.h>

#include "config.h"

typedef struct ldb_broker ldb_broker;

/* Load keys and roster, open storage, bind. On failure err holds one
 * sentence naming the file or endpoint and the cause. cfg is borrowed for
 * the broker's lifetime. */
int ldb_broker_new(const ldb_config *cfg, ldb_broker **out, char *err, size_t errlen);

/* Serve until *stop becomes non-zero. *reload non-zero: reload the roster
 * (and reset the flag). Returns 0 on a clean stop. */
int ldb_broker_run(ldb_broker *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

/* The endpoint actually bound (with the real port). */
const char *ldb_broker_endpoint(const ldb_broker *b);

void ldb_broker_destroy(ldb_broker **b);

#endif
