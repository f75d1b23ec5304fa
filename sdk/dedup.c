/* dedup.c - ring of recently seen envelope ids, and delivery tokens. */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>

ldc_token *ldc_token_new(void)
{
    ldc_token *t = malloc(sizeof *t);
    if (t) {
        atomic_init(&t->refs, 1);
        atomic_init(&t->state, LDC_HELD);
    }
    return t;
}

void ldc_token_unref(ldc_token *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
}

int ldc_dedup_init(ldc_dedup *d)
{
    d->ring = calloc(LD_DEDUP_WINDOW, sizeof *d->ring);
    d->count = 0;
    d->next = 0;
    return d->ring ? LD_OK : LD_ERR_NOMEM;
}

void ldc_dedup_fini(ldc_dedup *d)
{
    for (size_t i = 0; d->ring && i < d->count; i++)
        ldc_token_unref(d->ring[i].token);
    free(d->ring);
    d->ring = NULL;
    d->count = d->next = 0;
}

ldc_dedup_entry *ldc_dedup_find(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES])
{
    /* Newest first: a duplicate is most often a recent redelivery. */
    for (size_t k = 0; k < d->count; k++) {
        size_t i = (d->next + LD_DEDUP_WINDOW - 1 - k) % LD_DEDUP_WINDOW;
        if (memcmp(d->ring[i].id, id, LD_ENVELOPE_ID_BYTES) == 0)
            return &d->ring[i];
    }
    return NULL;
}

ldc_dedup_entry *ldc_dedup_insert(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES],
                                  uint64_t delivery_id, ldc_token *token)
{
    ldc_dedup_entry *e = &d->ring[d->next];
    if (d->count == LD_DEDUP_WINDOW)
        ldc_token_unref(e->token);
    memcpy(e->id, id, LD_ENVELOPE_ID_BYTES);
    e->delivery_id = delivery_id;
    e->token = token;
    if (token)
        atomic_fetch_add(&token->refs, 1);
    d->next = (d->next + 1) % LD_DEDUP_WINDOW;
    if (d->count < LD_DEDUP_WINDOW)
        d->count++;
    return e;
}
