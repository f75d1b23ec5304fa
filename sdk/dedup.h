/* dedup.h - the window of recently seen delivery envelope ids (internal).
 *
 * A ring of the last LD_DEDUP_WINDOW envelope ids, each with the delivery id
 * that brought it and a token shared with the ld_delivery handed to the
 * application, saying whether the application still holds it, acknowledged
 * it, or destroyed it without acknowledging. An open-addressing index
 * (linear probing, twice the window) finds an id in a few probes; envelope
 * ids are BLAKE2b output, so their first bytes serve as the hash.
 */
#ifndef LDC_DEDUP_H
#define LDC_DEDUP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "liandong/liandong.h"

enum ldc_token_state {
    LDC_HELD = 0,     /* queued, or handed out and not yet acknowledged */
    LDC_RELEASED = 1, /* destroyed without ld_client_ack */
    LDC_ACKED = 2,    /* ld_client_ack was called */
};

/* Shared by a delivery and its ring entry; atomic so that a delivery may be
 * destroyed on another thread than the client's. */
typedef struct ldc_token {
    atomic_int refs;
    atomic_int state;
} ldc_token;

/* A token in state LDC_HELD with one reference, or NULL (no memory). */
ldc_token *ldc_token_new(void);
void ldc_token_unref(ldc_token *t);

typedef struct ldc_dedup_entry {
    uint8_t id[LD_ENVELOPE_ID_BYTES];
    uint64_t delivery_id;
    ldc_token *token; /* a reference, or NULL */
} ldc_dedup_entry;

#define LDC_DEDUP_SLOTS (2 * LD_DEDUP_WINDOW) /* a power of two */

typedef struct ldc_dedup {
    ldc_dedup_entry *ring; /* LD_DEDUP_WINDOW entries, malloc'd */
    uint32_t *slots;       /* LDC_DEDUP_SLOTS: ring index + 1, 0 empty */
    size_t count;          /* used entries, <= LD_DEDUP_WINDOW */
    size_t next;           /* slot the next insert overwrites */
} ldc_dedup;

/* LD_OK or LD_ERR_NOMEM. */
int ldc_dedup_init(ldc_dedup *d);
/* Drops the tokens' references. */
void ldc_dedup_fini(ldc_dedup *d);
/* The entry for id, or NULL. Borrowed until the next insert. */
ldc_dedup_entry *ldc_dedup_find(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES]);
/* Remember id, which must not be in the window (ldc_dedup_find first),
 * evicting the oldest when full; takes a new reference to token (may be
 * NULL). Returns the new entry. */
ldc_dedup_entry *ldc_dedup_insert(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES],
                                  uint64_t delivery_id, ldc_token *token);

#endif
