/* store.h - the broker's LMDB environment (core databases).
 *
 * One environment under the data directory. Core named databases (schema 2):
 *   meta      "schema" -> u32 schema version; "clock_ms" -> i64 simulated
 *             business clock; "next_delivery" -> u64 next delivery id;
 *             "next_message" -> u64 next message number
 *   seq       principal id -> u64 last accepted sequence number
 *   dedup2    sender id, 0, be64 seq -> envelope id (16), i64 stored_at_ms;
 *             upgraded from schema 1: 0, envelope id (16) -> the same
 *   msgs      be64 message number -> u32 refcount, i64 stored_at_ms, envelope
 *   mbox      recipient id, 0, be64 delivery id -> be64 message number,
 *             envelope id (16)
 *   ledger    plan id, 0, task id -> serialized liandong.v1.LedgerTask
 *             (written by the plans plugin through the plugin host)
 *   docs      kind, 0, id -> bytes: documents plugins share (ld_host.doc_*),
 *             e.g. "plan", 0, plan id -> file name, 0, the plan file
 * Integers are stored little-endian except the big-endian delivery id in
 * mailbox keys (so keys sort in delivery order).
 *
 * All functions that take a txn run inside the caller's transaction and
 * return LD_OK, LD_ERR_NOT_FOUND, LD_ERR_STORAGE_FULL (MDB_MAP_FULL: the
 * transaction must be aborted) or LD_ERR_STORAGE (other LMDB errors, logged).
 *
 * Keys grow in order where it matters: messages by number, accepted
 * envelopes by sender and sequence, mailboxes by delivery id, so a group
 * commit writes few pages (schema 1 keyed messages and accepted envelopes
 * by envelope id, which dirtied a random page per message and table).
 */
#ifndef LDB_STORE_H
#define LDB_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ldw/envelope.h"

#define LDB_SCHEMA_VERSION 2u
/* plan id NUL task id */
#define LDB_LEDGER_KEY_MAX 256
/* principal id (<= 64 bytes), NUL, be64 delivery id */
#define LDB_MAILBOX_KEY_MAX 80
/* sender id (<= 64 bytes), NUL, be64 seq */
#define LDB_DEDUP_KEY_MAX 80

typedef struct ldb_store {
    MDB_env *env;
    MDB_dbi meta, seq, dedup, messages, mailbox, ledger, docs;
    int legacy_dedup; /* dedup holds entries upgraded from schema 1 */
} ldb_store;

/* Where a pruning pass goes on: len 0 is the start of the table. */
typedef struct ldb_dedup_cursor {
    uint8_t key[LDB_DEDUP_KEY_MAX];
    size_t len;
} ldb_dedup_cursor;

/* Open (creating if needed) the environment in dir (created 0700 if
 * missing). Upgrades a schema 1 environment in one transaction; refuses
 * an environment whose schema version is unknown. */
int ldb_store_open(const char *dir, size_t map_size, ldb_store **out, char *err, size_t errlen);
void ldb_store_close(ldb_store **s);

int ldb_store_begin(ldb_store *s, MDB_txn *parent, int rdonly, MDB_txn **txn);
/* How close the pages in use (the last page minus the free list) are to the
 * map's end: LDB_FILL_RESERVE within a reserve (1/16 of the map, 64 pages
 * to 8 MiB), LDB_FILL_RESERVE_LOW within its last half. The broker then
 * refuses stored messages with STORAGE_FULL, and in the last half queries
 * too, so that session messages (Hello, DeliveryAck) and what plugins record
 * for them still fit: a full broker can still deliver, and be emptied, and
 * still answers queries until only the last half is left. */
enum ldb_fill { LDB_FILL_ROOM, LDB_FILL_RESERVE, LDB_FILL_RESERVE_LOW };
int ldb_store_nearly_full(ldb_store *s);
/* Commit; maps MDB errors to ld_error and logs them. */
int ldb_store_commit(MDB_txn *txn);

int ldb_store_seq_get(ldb_store *s, MDB_txn *txn, const char *principal, uint64_t *seq);
int ldb_store_seq_put(ldb_store *s, MDB_txn *txn, const char *principal, uint64_t seq);

/* LD_OK if envelope id, sent by sender with seq, was accepted before, else
 * LD_ERR_NOT_FOUND. */
int ldb_store_dedup_get(ldb_store *s, MDB_txn *txn, const char *sender, uint64_t seq,
                        const ldw_envelope_id *id);
int ldb_store_dedup_put(ldb_store *s, MDB_txn *txn, const char *sender, uint64_t seq,
                        const ldw_envelope_id *id, int64_t at_ms);
/* Forget accepted envelopes stored before before_ms: look at no more than
 * max entries, starting at cursor; cursor then says where to go on (len 0:
 * the table was done). *removed (may be NULL) counts the deletions. Safe
 * because the sequence check outlives it: an old envelope sent again is
 * refused REPLAY instead of acknowledged. */
int ldb_store_dedup_prune(ldb_store *s, MDB_txn *txn, int64_t before_ms, size_t max,
                          ldb_dedup_cursor *cursor, size_t *removed);

/* Store the envelope once with its number of mailbox references; *no gets
 * its message number. */
int ldb_store_message_put(ldb_store *s, MDB_txn *txn, const uint8_t *env, size_t len, uint32_t refs,
                          int64_t at_ms, uint64_t *no);
/* Borrow the stored envelope (valid until the txn ends). */
int ldb_store_message_get(ldb_store *s, MDB_txn *txn, uint64_t no, const uint8_t **env, size_t *len,
                          int64_t *at_ms);

/* Append message no (envelope id for logs) to a mailbox: allocates the next
 * delivery id. */
int ldb_store_mailbox_put(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t no,
                          const ldw_envelope_id *id, uint64_t *delivery_id);
/* Remove one entry (and the message when no mailbox refers to it any more).
 * LD_ERR_NOT_FOUND if there is no such entry (already acknowledged).
 * *len (if not NULL) gets the envelope's length, 0 if it was missing. */
int ldb_store_mailbox_ack(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t delivery_id,
                          size_t *len);
/* Call fn for up to limit entries with delivery id > after, in order.
 * fn returns 0 to go on, non-zero to stop. */
typedef int (*ldb_mailbox_fn)(void *ctx, uint64_t delivery_id, uint64_t no,
                              const ldw_envelope_id *id);
int ldb_store_mailbox_scan(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t after,
                           unsigned limit, ldb_mailbox_fn fn, void *ctx);
int ldb_store_mailbox_count(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t *n);

/* The next sequence number for envelopes the broker itself stores. */
int ldb_store_broker_seq_next(ldb_store *s, MDB_txn *txn, uint64_t *seq);

/* The simulated clock; LD_ERR_NOT_FOUND if never set. */
int ldb_store_clock_get(ldb_store *s, MDB_txn *txn, int64_t *ms);
int ldb_store_clock_put(ldb_store *s, MDB_txn *txn, int64_t ms);

#endif
