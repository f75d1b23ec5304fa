/* verify.c - re-checking a whole log: record indexes, chain links,
 * envelope signatures, Merkle roots and signatures of checkpoints. Stops at
 * the first problem and names the record. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"
#include "ldw/envelope.h"

int lda_checkpoint_unpack(const uint8_t *buf, size_t len, lda_checkpoint *c)
{
    memset(c, 0, sizeof *c);
    Liandong__V1__Checkpoint *m = liandong__v1__checkpoint__unpack(NULL, len, buf);
    if (!m)
        return LD_ERR_FORMAT;
    int rc = LD_OK;
    if (m->root.len != LDA_HASH_BYTES || m->signature.len != LDA_SIGNATURE_BYTES ||
        (m->head_hash.len && m->head_hash.len != LDA_HASH_BYTES))
        rc = LD_ERR_FORMAT;
    if (rc == LD_OK) {
        c->size = m->size;
        memcpy(c->root, m->root.data, LDA_HASH_BYTES);
        c->at_ms = m->at_ms;
        memcpy(c->signature, m->signature.data, LDA_SIGNATURE_BYTES);
        snprintf(c->key_id, sizeof c->key_id, "%s", m->key_id ? m->key_id : "");
        if (m->head_hash.len) {
            memcpy(c->head, m->head_hash.data, LDA_HASH_BYTES);
            c->has_head = 1;
        }
    }
    liandong__v1__checkpoint__free_unpacked(m, NULL);
    return rc;
}

int lda_checkpoint_verify_sig(const lda_checkpoint *c, const uint8_t pub[LDA_SIGN_PUBLIC_BYTES])
{
    uint8_t msg[LDA_CHECKPOINT_MSG_BYTES];
    lda_checkpoint_message(c->size, c->root, c->at_ms, msg);
    return crypto_sign_verify_detached(c->signature, msg, sizeof msg, pub) == 0 ? LD_OK
                                                                                : LD_ERR_CRYPTO;
}

typedef struct vstate {
    lda_kv *kv;
    const uint8_t *broker_pub;
    const char *broker_key_id;
    lda_verify_result *res;
    lda_checkpoint *cps;
    size_t n_cps, next_cp;
    uint64_t good_size; /* largest checkpoint size that matched */
    uint64_t e;         /* next expected index */
    uint8_t chain[LDA_HASH_BYTES];
    lda_frontier tree;
    int failed;
} vstate;

static int fail(vstate *v, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(vstate *v, uint64_t index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->res->what, sizeof v->res->what, fmt, ap);
    va_end(ap);
    v->res->bad_index = index;
    v->res->ok = 0;
    v->failed = 1;
    return 1;
}

static int key_lookup(lda_kv *kv, const char *sender, const char *key_id, const uint8_t **pub)
{
    size_t sl = strlen(sender), kl = strlen(key_id);
    if (!sl || !kl || sl + kl + 1 > 400)
        return LD_ERR_NOT_FOUND;
    uint8_t k[416];
    memcpy(k, sender, sl);
    k[sl] = 0;
    memcpy(k + sl + 1, key_id, kl);
    const void *v;
    size_t vl;
    int rc = kv->get(kv->arg, LDA_DB_KEYS, k, sl + 1 + kl, &v, &vl);
    if (rc == LD_OK && vl < LDA_SIGN_PUBLIC_BYTES)
        rc = LD_ERR_FORMAT;
    if (rc == LD_OK)
        *pub = v;
    return rc;
}

/* The envelope's signature, with the key recorded for its sender. */
static int check_signature(vstate *v, const lda_record *r)
{
    const uint8_t *pub = NULL;
    if (r->kind == LDA_KIND_EMITTED) {
        if (!v->broker_pub)
            return 0;
        pub = v->broker_pub;
    } else if (!r->signature_ok) {
        return 0; /* refused before (or for) its signature */
    } else if (key_lookup(v->kv, r->sender, r->key_id, &pub) != LD_OK) {
        return fail(v, r->index, "record %llu: signing key %s of '%s' is not in the log's keys",
                    (unsigned long long)r->index, r->key_id, r->sender);
    }
    ldw_opened o;
    memset(&o, 0, sizeof o);
    if (ldw_envelope_open(r->envelope, r->envelope_len, &o, NULL, 0) != LD_OK) {
        ldw_opened_clear(&o);
        return fail(v, r->index, "record %llu: modified (the envelope does not parse)",
                    (unsigned long long)r->index);
    }
    int bad = 0;
    if (strcmp(o.hdr->sender, r->sender) != 0 || strcmp(o.hdr->key_id, r->key_id) != 0)
        bad = fail(v, r->index, "record %llu: modified (envelope header differs from the record)",
                   (unsigned long long)r->index);
    else if (ldw_envelope_verify(&o, pub) != LD_OK)
        bad = fail(v, r->index, "record %llu: bad signature (envelope from '%s', key %s)",
                   (unsigned long long)r->index, r->sender, r->key_id);
    ldw_opened_clear(&o);
    return bad;
}

/* Checkpoints whose size the log has just reached. */
static int check_checkpoints(vstate *v)
{
    while (v->next_cp < v->n_cps && v->cps[v->next_cp].size == v->e) {
        const lda_checkpoint *c = &v->cps[v->next_cp++];
        uint8_t root[LDA_HASH_BYTES];
        lda_frontier_root(&v->tree, root);
        const char *where = c->external ? "held outside the log" : "stored in the log";
        if (sodium_memcmp(root, c->root, LDA_HASH_BYTES) != 0 ||
            (c->has_head && sodium_memcmp(v->chain, c->head, LDA_HASH_BYTES) != 0))
            return fail(v, v->good_size,
                        "record %llu: checkpoint mismatch (records %llu..%llu were rewritten: "
                        "the log's root at size %llu differs from the checkpoint %s)",
                        (unsigned long long)v->good_size, (unsigned long long)v->good_size,
                        (unsigned long long)c->size - 1, (unsigned long long)c->size, where);
        if (v->broker_pub && lda_checkpoint_verify_sig(c, v->broker_pub) != LD_OK)
            return fail(v, c->size - 1,
                        "checkpoint of size %llu (%s): bad signature (not the broker key %s)",
                        (unsigned long long)c->size, where,
                        v->broker_key_id ? v->broker_key_id : "given");
        v->good_size = c->size;
        v->res->checkpoints++;
    }
    return 0;
}

static int on_record(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    vstate *v = arg;
    if (key_len != 8)
        return fail(v, v->e, "record %llu: a key of %zu bytes in the log", (unsigned long long)v->e,
                    key_len);
    uint64_t i = lda_be64_get(key);
    if (i != v->e)
        return fail(v, v->e, "record %llu: missing (the next stored record is %llu)",
                    (unsigned long long)v->e, (unsigned long long)i);
    v->kv->reads++;
    lda_record r;
    if (val_len < LDA_HASH_BYTES || lda_record_decode((const uint8_t *)val + LDA_HASH_BYTES,
                                                      val_len - LDA_HASH_BYTES, &r) != LD_OK)
        return fail(v, i, "record %llu: modified (not a record)", (unsigned long long)i);
    if (r.index != i)
        return fail(v, i, "record %llu: reordered (it holds record %llu)", (unsigned long long)i,
                    (unsigned long long)r.index);
    uint8_t h[LDA_HASH_BYTES];
    const uint8_t *bytes = (const uint8_t *)val + LDA_HASH_BYTES;
    size_t blen = val_len - LDA_HASH_BYTES;
    lda_chain_hash(v->chain, bytes, blen, h);
    if (sodium_memcmp(h, val, LDA_HASH_BYTES) != 0)
        return fail(v, i, "record %llu: modified (chain hash mismatch)", (unsigned long long)i);
    if (check_signature(v, &r))
        return 1;
    memcpy(v->chain, h, LDA_HASH_BYTES);
    uint8_t leaf[LDA_HASH_BYTES];
    lda_hash_leaf(bytes, blen, leaf);
    lda_frontier_append(&v->tree, leaf);
    v->e++;
    return check_checkpoints(v);
}

static int on_checkpoint(void *arg, const void *key, size_t key_len, const void *val,
                         size_t val_len)
{
    vstate *v = arg;
    (void)key;
    (void)key_len;
    lda_checkpoint c;
    if (lda_checkpoint_unpack(val, val_len, &c) != LD_OK) {
        v->res->bad_index = 0;
        return fail(v, 0, "a stored checkpoint does not parse");
    }
    lda_checkpoint *n = realloc(v->cps, (v->n_cps + 1) * sizeof *n);
    if (!n)
        return fail(v, 0, "out of memory");
    v->cps = n;
    v->cps[v->n_cps++] = c;
    return 0;
}

static int cmp_cp(const void *a, const void *b)
{
    const lda_checkpoint *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

int lda_verify(lda_kv *kv, const uint8_t *broker_pub, const char *broker_key_id,
               const lda_checkpoint *ext, size_t n_ext, lda_verify_result *res)
{
    memset(res, 0, sizeof *res);
    res->ok = 1;
    res->broker_checked = broker_pub != NULL;
    vstate v;
    memset(&v, 0, sizeof v);
    v.kv = kv;
    v.broker_pub = broker_pub;
    v.broker_key_id = broker_key_id;
    v.res = res;
    lda_frontier_init(&v.tree);
    lda_head head;
    int rc = lda_head_get(kv, &head);
    if (rc != LD_OK) {
        fail(&v, 0, "the log's head does not parse (%s)", ld_strerror(rc));
        return LD_OK;
    }
    rc = kv->scan(kv->arg, LDA_DB_CHECKPOINTS, NULL, 0, on_checkpoint, &v);
    if (rc == LD_OK && !v.failed && n_ext) {
        lda_checkpoint *n = realloc(v.cps, (v.n_cps + n_ext) * sizeof *n);
        if (!n) {
            rc = LD_ERR_NOMEM;
        } else {
            v.cps = n;
            for (size_t i = 0; i < n_ext; i++) {
                v.cps[v.n_cps] = ext[i];
                v.cps[v.n_cps++].external = 1;
            }
        }
    }
    if (rc == LD_OK && !v.failed) {
        if (v.n_cps)
            qsort(v.cps, v.n_cps, sizeof *v.cps, cmp_cp);
        while (v.next_cp < v.n_cps && v.cps[v.next_cp].size == 0)
            v.next_cp++;
        rc = kv->scan(kv->arg, LDA_DB_LOG, NULL, 0, on_record, &v);
    }
    if (rc == LD_OK && !v.failed) {
        if (v.next_cp < v.n_cps)
            fail(&v, v.e,
                 "record %llu: missing (the log ends at %llu records; a checkpoint %s covers "
                 "%llu)",
                 (unsigned long long)v.e, (unsigned long long)v.e,
                 v.cps[v.next_cp].external ? "held outside the log" : "stored in the log",
                 (unsigned long long)v.cps[v.next_cp].size);
        else if (head.tree.size > v.e)
            fail(&v, v.e, "record %llu: missing (the log ends at %llu records; its head says %llu)",
                 (unsigned long long)v.e, (unsigned long long)v.e,
                 (unsigned long long)head.tree.size);
        else if (head.tree.size < v.e || sodium_memcmp(head.chain, v.chain, LDA_HASH_BYTES) != 0)
            fail(&v, head.tree.size,
                 "record %llu: modified (the head says %llu records ending in another hash)",
                 (unsigned long long)head.tree.size, (unsigned long long)head.tree.size);
    }
    res->records = v.e;
    memcpy(res->head, v.chain, LDA_HASH_BYTES);
    free(v.cps);
    return rc;
}
