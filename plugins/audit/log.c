/* log.c - appending records: chain, tree frontier, indexes, signing keys;
 * the head; the checkpoint statement. */
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"

const char *const lda_db_names[LDA_DB_COUNT] = {"log",  "state", "checkpoints", "keys",
                                                "task", "dept",  "type"};

static const char HEAD_KEY[] = "head";

int lda_head_get(lda_kv *kv, lda_head *h)
{
    memset(h, 0, sizeof *h);
    const void *v;
    size_t vl;
    int rc = kv->get(kv->arg, LDA_DB_STATE, HEAD_KEY, sizeof HEAD_KEY - 1, &v, &vl);
    if (rc == LD_ERR_NOT_FOUND)
        return LD_OK;
    if (rc != LD_OK)
        return rc;
    const uint8_t *p = v;
    if (vl < LDA_HASH_BYTES + 16)
        return LD_ERR_FORMAT;
    memcpy(h->chain, p, LDA_HASH_BYTES);
    h->cp_size = lda_be64_get(p + LDA_HASH_BYTES);
    h->cp_wall_ms = (int64_t)lda_be64_get(p + LDA_HASH_BYTES + 8);
    size_t used;
    size_t off = LDA_HASH_BYTES + 16;
    rc = lda_frontier_unpack(p + off, vl - off, &h->tree, &used);
    if (rc == LD_OK && off + used != vl)
        rc = LD_ERR_FORMAT;
    return rc;
}

int lda_head_put(lda_kv *kv, const lda_head *h)
{
    uint8_t buf[LDA_HASH_BYTES + 16 + 8 + 64 * LDA_HASH_BYTES];
    memcpy(buf, h->chain, LDA_HASH_BYTES);
    lda_be64_put(buf + LDA_HASH_BYTES, h->cp_size);
    lda_be64_put(buf + LDA_HASH_BYTES + 8, (uint64_t)h->cp_wall_ms);
    size_t n = LDA_HASH_BYTES + 16;
    n += lda_frontier_pack(&h->tree, buf + n);
    return kv->put(kv->arg, LDA_DB_STATE, HEAD_KEY, sizeof HEAD_KEY - 1, buf, n);
}

/* name NUL be64 index -> "" */
static int index_put(lda_kv *kv, int db, const char *name, uint64_t index)
{
    size_t l = strlen(name);
    if (!l || l > 400)
        return LD_OK; /* not indexed: keys are limited to 511 bytes */
    uint8_t k[416];
    memcpy(k, name, l);
    k[l] = 0;
    lda_be64_put(k + l + 1, index);
    return kv->put(kv->arg, db, k, l + 9, "", 0);
}

static int key_put(lda_kv *kv, const char *sender, const char *key_id, const uint8_t *pub,
                   uint64_t index)
{
    size_t sl = strlen(sender), kl = strlen(key_id);
    if (!sl || !kl || sl + kl + 1 > 400)
        return LD_OK;
    uint8_t k[416];
    memcpy(k, sender, sl);
    k[sl] = 0;
    memcpy(k + sl + 1, key_id, kl);
    const void *v;
    size_t vl;
    int rc = kv->get(kv->arg, LDA_DB_KEYS, k, sl + 1 + kl, &v, &vl);
    if (rc == LD_OK)
        return LD_OK; /* the first sighting stays */
    if (rc != LD_ERR_NOT_FOUND)
        return rc;
    uint8_t val[LDA_SIGN_PUBLIC_BYTES + 8];
    memcpy(val, pub, LDA_SIGN_PUBLIC_BYTES);
    lda_be64_put(val + LDA_SIGN_PUBLIC_BYTES, index);
    return kv->put(kv->arg, LDA_DB_KEYS, k, sl + 1 + kl, val, sizeof val);
}

int lda_append(lda_kv *kv, const lda_record *r_in, const uint8_t *sign_public,
               const char *const *depts, size_t n_depts, uint64_t *index)
{
    lda_head h;
    int rc = lda_head_get(kv, &h);
    if (rc != LD_OK)
        return rc;
    lda_record r = *r_in;
    r.index = h.tree.size;
    uint8_t *bytes;
    size_t len;
    rc = lda_record_encode(&r, &bytes, &len);
    if (rc != LD_OK)
        return rc;
    uint8_t *val = malloc(LDA_HASH_BYTES + len);
    if (!val) {
        free(bytes);
        return LD_ERR_NOMEM;
    }
    lda_chain_hash(h.chain, bytes, len, val);
    memcpy(val + LDA_HASH_BYTES, bytes, len);
    uint8_t leaf[LDA_HASH_BYTES];
    lda_hash_leaf(bytes, len, leaf);
    free(bytes);
    memcpy(h.chain, val, LDA_HASH_BYTES);
    lda_frontier_append(&h.tree, leaf);

    uint8_t key[8];
    lda_be64_put(key, r.index);
    rc = kv->put(kv->arg, LDA_DB_LOG, key, 8, val, LDA_HASH_BYTES + len);
    free(val);
    if (rc == LD_OK)
        rc = lda_head_put(kv, &h);
    if (rc == LD_OK && r.task && *r.task)
        rc = index_put(kv, LDA_DB_TASK, r.task, r.index);
    if (rc == LD_OK && r.type && *r.type)
        rc = index_put(kv, LDA_DB_TYPE, r.type, r.index);
    for (size_t i = 0; i < n_depts && rc == LD_OK; i++) {
        int seen = 0; /* one index entry per principal */
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(depts[i], depts[j]) == 0;
        if (!seen && depts[i])
            rc = index_put(kv, LDA_DB_DEPT, depts[i], r.index);
    }
    if (rc == LD_OK && sign_public && r.sender && r.key_id)
        rc = key_put(kv, r.sender, r.key_id, sign_public, r.index);
    if (rc == LD_OK && index)
        *index = r.index;
    return rc;
}

int lda_record_get(lda_kv *kv, uint64_t i, const uint8_t **val, size_t *len)
{
    uint8_t key[8];
    lda_be64_put(key, i);
    const void *v;
    int rc = kv->get(kv->arg, LDA_DB_LOG, key, 8, &v, len);
    if (rc == LD_OK) {
        kv->reads++;
        *val = v;
    }
    return rc;
}

void lda_checkpoint_message(uint64_t size, const uint8_t root[LDA_HASH_BYTES], int64_t at_ms,
                            uint8_t *out)
{
    size_t d = sizeof LDA_CHECKPOINT_DOMAIN - 1;
    memcpy(out, LDA_CHECKPOINT_DOMAIN, d);
    lda_be64_put(out + d, size);
    memcpy(out + d + 8, root, LDA_HASH_BYTES);
    lda_be64_put(out + d + 8 + LDA_HASH_BYTES, (uint64_t)at_ms);
}
