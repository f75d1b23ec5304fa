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

_Static_assert((LDC_DEDUP_SLOTS & (LDC_DEDUP_SLOTS - 1)) == 0, "slots: a power of two");

static size_t home(const uint8_t id[LD_ENVELOPE_ID_BYTES])
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)(h & (LDC_DEDUP_SLOTS - 1));
}

int ldc_dedup_init(ldc_dedup *d)
{
    d->ring = calloc(LD_DEDUP_WINDOW, sizeof *d->ring);
    d->slots = calloc(LDC_DEDUP_SLOTS, sizeof *d->slots);
    d->count = 0;
    d->next = 0;
    if (!d->ring || !d->slots) {
        ldc_dedup_fini(d);
        return LD_ERR_NOMEM;
    }
    return LD_OK;
}

void ldc_dedup_fini(ldc_dedup *d)
{
    for (size_t i = 0; d->ring && i < d->count; i++)
        ldc_token_unref(d->ring[i].token);
    free(d->ring);
    free(d->slots);
    d->ring = NULL;
    d->slots = NULL;
    d->count = d->next = 0;
}

/* The slot holding id, or the empty slot where its probe ends. */
static size_t probe(const ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES])
{
    size_t s = home(id);
    while (d->slots[s] && memcmp(d->ring[d->slots[s] - 1].id, id, LD_ENVELOPE_ID_BYTES) != 0)
        s = (s + 1) & (LDC_DEDUP_SLOTS - 1);
    return s;
}

ldc_dedup_entry *ldc_dedup_find(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES])
{
    size_t s = probe(d, id);
    return d->slots[s] ? &d->ring[d->slots[s] - 1] : NULL;
}

/* Take the id of ring entry r out of the index: empty its slot, then move
 * back each following entry of the run whose home does not lie cyclically
 * in (empty, its slot], so every probe still finds what it should. */
static void unindex(ldc_dedup *d, size_t r)
{
    size_t i = probe(d, d->ring[r].id);
    d->slots[i] = 0;
    for (size_t j = (i + 1) & (LDC_DEDUP_SLOTS - 1); d->slots[j];
         j = (j + 1) & (LDC_DEDUP_SLOTS - 1)) {
        size_t k = home(d->ring[d->slots[j] - 1].id);
        int stays = i < j ? (k > i && k <= j) : (k > i || k <= j);
        if (stays)
            continue;
        d->slots[i] = d->slots[j];
        d->slots[j] = 0;
        i = j;
    }
}

ldc_dedup_entry *ldc_dedup_insert(ldc_dedup *d, const uint8_t id[LD_ENVELOPE_ID_BYTES],
                                  uint64_t delivery_id, ldc_token *token)
{
    ldc_dedup_entry *e = &d->ring[d->next];
    if (d->count == LD_DEDUP_WINDOW) {
        unindex(d, d->next);
        ldc_token_unref(e->token);
    }
    memcpy(e->id, id, LD_ENVELOPE_ID_BYTES);
    e->delivery_id = delivery_id;
    e->token = token;
    if (token)
        atomic_fetch_add(&token->refs, 1);
    d->slots[probe(d, id)] = (uint32_t)d->next + 1;
    d->next = (d->next + 1) % LD_DEDUP_WINDOW;
    if (d->count < LD_DEDUP_WINDOW)
        d->count++;
    return e;
}
