/* audit_core.h - the audit log without the broker: record format, hash
 * chain, Merkle tree (RFC 6962 / RFC 9162 with BLAKE2b-256), checkpoints,
 * queries and verification, over a small key-value interface that the
 * plugin implements with the host table and the tools with LMDB directly
 * (docs/audit.md). Internal to Liandong: the audit plugin, the CLI and the
 * tests link ld_audit_core statically. */
#ifndef LDA_AUDIT_CORE_H
#define LDA_AUDIT_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "liandong/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LDA_HASH_BYTES 32
#define LDA_SIGN_PUBLIC_BYTES 32
#define LDA_SIGNATURE_BYTES 64
/* Version byte at the start of every encoded record. */
#define LDA_RECORD_VERSION 1u
/* Domain string that starts every signed checkpoint statement. */
#define LDA_CHECKPOINT_DOMAIN "liandong/checkpoint/v1"
/* Bytes of a checkpoint statement: domain, be64 size, root, be64 at_ms. */
#define LDA_CHECKPOINT_MSG_BYTES (sizeof LDA_CHECKPOINT_DOMAIN - 1 + 8 + LDA_HASH_BYTES + 8)

/* ---- Merkle tree (merkle.c) -------------------------------------------- */

/* RFC 6962 §2.1 with BLAKE2b-256: MTH({}) = H(""), leaf = H(0x00 || d),
 * node = H(0x01 || left || right). */
void lda_hash_empty(uint8_t out[LDA_HASH_BYTES]);
void lda_hash_leaf(const void *data, size_t len, uint8_t out[LDA_HASH_BYTES]);
void lda_hash_node(const uint8_t left[LDA_HASH_BYTES], const uint8_t right[LDA_HASH_BYTES],
                   uint8_t out[LDA_HASH_BYTES]);

/* The right edge of a tree: for each set bit b of size, the root of the
 * perfect subtree of 2^b leaves (lower bits are further right). Appending
 * is O(log n). */
typedef struct lda_frontier {
    uint64_t size;
    uint8_t node[64][LDA_HASH_BYTES]; /* node[b] valid when bit b of size is set */
} lda_frontier;

void lda_frontier_init(lda_frontier *f);
void lda_frontier_append(lda_frontier *f, const uint8_t leaf[LDA_HASH_BYTES]);
void lda_frontier_root(const lda_frontier *f, uint8_t root[LDA_HASH_BYTES]);
/* Serialized: be64 size, then the set bits' nodes from bit 0 up. */
size_t lda_frontier_pack(const lda_frontier *f, uint8_t *out); /* at most 8 + 64*32 */
int lda_frontier_unpack(const uint8_t *buf, size_t len, lda_frontier *f, size_t *used);

/* Tree hash of the first n of leaves (leaf hashes). */
void lda_tree_root(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t n,
                   uint8_t root[LDA_HASH_BYTES]);
/* Inclusion proof of leaf m in the tree of the first n leaves, leaf to
 * root. path must hold 64 hashes; *len gets their number. LD_ERR_INVALID if
 * m >= n. */
int lda_inclusion_proof(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t n, uint64_t m,
                        uint8_t (*path)[LDA_HASH_BYTES], size_t *len);
/* RFC 9162 §2.1.3.2. LD_OK when leaf m is in the tree of size n with root. */
int lda_inclusion_verify(uint64_t m, uint64_t n, const uint8_t leaf[LDA_HASH_BYTES],
                         const uint8_t (*path)[LDA_HASH_BYTES], size_t len,
                         const uint8_t root[LDA_HASH_BYTES]);
/* Consistency proof between sizes m <= n (RFC 9162 §2.1.4.1); path holds
 * 128 hashes. */
int lda_consistency_proof(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t m, uint64_t n,
                          uint8_t (*path)[LDA_HASH_BYTES], size_t *len);
/* RFC 9162 §2.1.4.2. */
int lda_consistency_verify(uint64_t m, uint64_t n, const uint8_t old_root[LDA_HASH_BYTES],
                           const uint8_t new_root[LDA_HASH_BYTES],
                           const uint8_t (*path)[LDA_HASH_BYTES], size_t len);

/* ---- records (record.c) ------------------------------------------------ */

enum lda_kind {
    LDA_KIND_ACCEPTED = 1, /* an envelope the broker accepted */
    LDA_KIND_REFUSED = 2,  /* an envelope (or frame) the broker refused */
    LDA_KIND_EMITTED = 3,  /* an envelope the broker sealed and stored */
};

/* One event. Strings are never NULL once decoded ("" when absent). */
typedef struct lda_record {
    uint64_t index;
    int64_t at_ms;        /* broker business clock */
    uint8_t kind;         /* enum lda_kind */
    uint8_t signature_ok; /* the broker verified the envelope's signature */
    uint32_t verdict;     /* 0 accepted, else a liandong.v1.ReasonCode */
    const char *sender;   /* envelope sender, or the connection's principal */
    const char *key_id;
    const char *type;        /* body type name (ldw_body_name), "" if unknown */
    const char *task;        /* a task id the body names, "" if none */
    const char *recipient;   /* for EMITTED: whose mailbox */
    const char *text;        /* refusal sentence */
    const uint8_t *envelope; /* as received or sealed; may be empty (oversize frame) */
    size_t envelope_len;
} lda_record;

/* Encode r into a malloc'd buffer (caller frees). */
int lda_record_encode(const lda_record *r, uint8_t **out, size_t *len);
/* Decode buf; pointers point into buf, which must outlive r.
 * LD_ERR_FORMAT if it is not a record. */
int lda_record_decode(const uint8_t *buf, size_t len, lda_record *r);
/* Chain: h_i = BLAKE2b-256(h_{i-1} || record bytes), h_{-1} = 32 zero bytes. */
void lda_chain_hash(const uint8_t prev[LDA_HASH_BYTES], const uint8_t *rec, size_t len,
                    uint8_t out[LDA_HASH_BYTES]);
/* A stored log value is chain hash || record bytes. */
const char *lda_kind_name(int kind);

/* ---- storage (log.c) --------------------------------------------------- */

enum lda_db {
    LDA_DB_LOG = 0,     /* be64 index -> chain hash || record */
    LDA_DB_STATE,       /* "head" -> lda_head */
    LDA_DB_CHECKPOINTS, /* be64 size -> packed liandong.v1.Checkpoint */
    LDA_DB_KEYS,        /* sender NUL key_id -> sign_public || be64 first index */
    LDA_DB_TASK,        /* task NUL be64 index -> "" */
    LDA_DB_DEPT,        /* principal NUL be64 index -> "" */
    LDA_DB_TYPE,        /* type NUL be64 index -> "" */
    LDA_DB_COUNT
};
/* Names under the plugin prefix: LMDB holds "plugin.audit.<name>". */
extern const char *const lda_db_names[LDA_DB_COUNT];

typedef int (*lda_scan_fn)(void *arg, const void *key, size_t key_len, const void *val,
                           size_t val_len);

/* Key-value access in one transaction. get returns LD_OK or
 * LD_ERR_NOT_FOUND; a value is valid until the next put. scan calls fn for
 * keys >= from, in order, until fn returns non-zero. */
typedef struct lda_kv {
    void *arg;
    int (*get)(void *arg, int db, const void *key, size_t key_len, const void **val,
               size_t *val_len);
    int (*put)(void *arg, int db, const void *key, size_t key_len, const void *val, size_t val_len);
    int (*scan)(void *arg, int db, const void *from, size_t from_len, lda_scan_fn fn, void *fa);
    uint64_t reads; /* log records read through the core (for tests) */
} lda_kv;

/* The log's head, kept in LDA_DB_STATE. */
typedef struct lda_head {
    uint8_t chain[LDA_HASH_BYTES]; /* hash of the last record (zero when empty) */
    lda_frontier tree;             /* tree.size = number of records */
    uint64_t cp_size;              /* size of the last checkpoint (0: none) */
    int64_t cp_wall_ms;            /* when it was made */
} lda_head;

int lda_head_get(lda_kv *kv, lda_head *h); /* an empty head if none */
int lda_head_put(lda_kv *kv, const lda_head *h);

/* Append r (r->index is set from the head) with the principals it concerns
 * (sender and recipients, for the department index) and, when known, the
 * sender's signing key (recorded the first time (sender, key_id) is seen).
 * *index gets the record's index. */
int lda_append(lda_kv *kv, const lda_record *r, const uint8_t *sign_public,
               const char *const *depts, size_t n_depts, uint64_t *index);

/* Read record i: *val is chain hash || record bytes (valid as for get). */
int lda_record_get(lda_kv *kv, uint64_t i, const uint8_t **val, size_t *len);

/* The statement a checkpoint signs (LDA_CHECKPOINT_MSG_BYTES into out). */
void lda_checkpoint_message(uint64_t size, const uint8_t root[LDA_HASH_BYTES], int64_t at_ms,
                            uint8_t *out);

void lda_be64_put(uint8_t *p, uint64_t v);
uint64_t lda_be64_get(const uint8_t *p);
void lda_hex(const uint8_t *b, size_t n, char *out); /* 2n+1 bytes */
int lda_unhex(const char *s, uint8_t *out, size_t n);

/* ---- queries (query.c) ------------------------------------------------- */

typedef struct lda_query {
    const char *task, *dept, *type; /* NULL or "": any */
    int64_t since_ms, until_ms;     /* 0: open */
    int verdict;                    /* 0 any, 1 accepted, 2 refused */
    uint64_t after_index;           /* start after this index + 1 (0: from 0)... see below */
    int has_after;                  /* after_index is meaningful */
    uint64_t limit;                 /* 0: no limit */
} lda_query;

/* For each record matching q, in index order: fn(arg, record, chain hash).
 * fn returns non-zero to stop. Uses the task, then the department, then the
 * type index when the query names one; else scans the log. *next gets the
 * index after the last one given when the limit stopped the query, else 0. */
int lda_query_run(lda_kv *kv, const lda_query *q,
                  int (*fn)(void *arg, const lda_record *r, const uint8_t hash[LDA_HASH_BYTES]),
                  void *arg, uint64_t *next);

/* ---- verification (verify.c) ------------------------------------------- */

/* A checkpoint to check the log against. */
typedef struct lda_checkpoint {
    uint64_t size;
    uint8_t root[LDA_HASH_BYTES];
    int64_t at_ms;
    uint8_t signature[LDA_SIGNATURE_BYTES];
    char key_id[17];
    uint8_t head[LDA_HASH_BYTES];
    int has_head;
    int external; /* held outside the log */
} lda_checkpoint;

/* Parse a packed liandong.v1.Checkpoint. */
int lda_checkpoint_unpack(const uint8_t *buf, size_t len, lda_checkpoint *c);
/* Check c's signature with the broker key (LD_OK / LD_ERR_CRYPTO). */
int lda_checkpoint_verify_sig(const lda_checkpoint *c, const uint8_t pub[LDA_SIGN_PUBLIC_BYTES]);

typedef struct lda_verify_result {
    int ok;
    uint64_t records, checkpoints;
    uint8_t head[LDA_HASH_BYTES];
    uint64_t bad_index; /* first bad record (when !ok) */
    char what[512];     /* "record 17: modified (chain hash mismatch)" */
    int broker_checked; /* broker signatures were checked */
} lda_verify_result;

/* Check the whole log: links, record indexes, envelope signatures (with the
 * key recorded for sender and key id; broker envelopes and checkpoints with
 * broker_pub when given), the stored and the external checkpoints. */
int lda_verify(lda_kv *kv, const uint8_t *broker_pub, const char *broker_key_id,
               const lda_checkpoint *ext, size_t n_ext, lda_verify_result *res);

/* ---- LMDB access for the tools (store.c) ------------------------------- */

typedef struct lda_store lda_store;
/* Open the broker's data directory: read-only (a read transaction, with the
 * normal lock file, safe while the broker runs), or writable (tests). */
int lda_store_open(const char *dir, int writable, lda_store **out, char *err, size_t errlen);
lda_kv *lda_store_kv(lda_store *s);
/* Commit (writable) and close. */
int lda_store_close(lda_store **s);

#ifdef __cplusplus
}
#endif
#endif
