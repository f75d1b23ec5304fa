/* merkle.c - RFC 6962 / RFC 9162 Merkle tree hashes with BLAKE2b-256:
 * tree heads, the O(log n) frontier, inclusion and consistency proofs. */
#include <sodium.h>
#include <string.h>

#include "audit_core.h"

void lda_hash_empty(uint8_t out[LDA_HASH_BYTES])
{
    crypto_generichash(out, LDA_HASH_BYTES, NULL, 0, NULL, 0);
}

void lda_hash_leaf(const void *data, size_t len, uint8_t out[LDA_HASH_BYTES])
{
    crypto_generichash_state st;
    const uint8_t prefix = 0x00;
    crypto_generichash_init(&st, NULL, 0, LDA_HASH_BYTES);
    crypto_generichash_update(&st, &prefix, 1);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, LDA_HASH_BYTES);
}

void lda_hash_node(const uint8_t left[LDA_HASH_BYTES], const uint8_t right[LDA_HASH_BYTES],
                   uint8_t out[LDA_HASH_BYTES])
{
    crypto_generichash_state st;
    const uint8_t prefix = 0x01;
    crypto_generichash_init(&st, NULL, 0, LDA_HASH_BYTES);
    crypto_generichash_update(&st, &prefix, 1);
    crypto_generichash_update(&st, left, LDA_HASH_BYTES);
    crypto_generichash_update(&st, right, LDA_HASH_BYTES);
    crypto_generichash_final(&st, out, LDA_HASH_BYTES);
}

/* ---- frontier ---------------------------------------------------------- */

void lda_frontier_init(lda_frontier *f)
{
    memset(f, 0, sizeof *f);
}

void lda_frontier_append(lda_frontier *f, const uint8_t leaf[LDA_HASH_BYTES])
{
    uint8_t carry[LDA_HASH_BYTES];
    memcpy(carry, leaf, LDA_HASH_BYTES);
    unsigned b = 0;
    while (b < 64 && (f->size >> b) & 1) {
        lda_hash_node(f->node[b], carry, carry);
        b++;
    }
    if (b < 64)
        memcpy(f->node[b], carry, LDA_HASH_BYTES);
    f->size++;
}

void lda_frontier_root(const lda_frontier *f, uint8_t root[LDA_HASH_BYTES])
{
    if (!f->size) {
        lda_hash_empty(root);
        return;
    }
    int have = 0;
    uint8_t acc[LDA_HASH_BYTES];
    for (unsigned b = 0; b < 64; b++) {
        if (!((f->size >> b) & 1))
            continue;
        if (have) {
            lda_hash_node(f->node[b], acc, acc);
        } else {
            memcpy(acc, f->node[b], LDA_HASH_BYTES);
            have = 1;
        }
    }
    memcpy(root, acc, LDA_HASH_BYTES);
}

size_t lda_frontier_pack(const lda_frontier *f, uint8_t *out)
{
    lda_be64_put(out, f->size);
    size_t n = 8;
    for (unsigned b = 0; b < 64; b++)
        if ((f->size >> b) & 1) {
            memcpy(out + n, f->node[b], LDA_HASH_BYTES);
            n += LDA_HASH_BYTES;
        }
    return n;
}

int lda_frontier_unpack(const uint8_t *buf, size_t len, lda_frontier *f, size_t *used)
{
    if (len < 8)
        return LD_ERR_FORMAT;
    lda_frontier_init(f);
    f->size = lda_be64_get(buf);
    size_t n = 8;
    for (unsigned b = 0; b < 64; b++) {
        if (!((f->size >> b) & 1))
            continue;
        if (len - n < LDA_HASH_BYTES)
            return LD_ERR_FORMAT;
        memcpy(f->node[b], buf + n, LDA_HASH_BYTES);
        n += LDA_HASH_BYTES;
    }
    *used = n;
    return LD_OK;
}

/* ---- trees over leaf arrays -------------------------------------------- */

/* Largest power of two below n (n > 1). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* Hash of leaves [lo, hi): perfect subtrees bottom-up through a frontier. */
static void range_root(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t lo, uint64_t hi,
                       uint8_t out[LDA_HASH_BYTES])
{
    lda_frontier f;
    lda_frontier_init(&f);
    for (uint64_t i = lo; i < hi; i++)
        lda_frontier_append(&f, leaves[i]);
    lda_frontier_root(&f, out);
}

void lda_tree_root(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t n,
                   uint8_t root[LDA_HASH_BYTES])
{
    range_root(leaves, 0, n, root);
}

int lda_inclusion_proof(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t n, uint64_t m,
                        uint8_t (*path)[LDA_HASH_BYTES], size_t *len)
{
    if (m >= n)
        return LD_ERR_INVALID;
    /* Walk from the root down; siblings come out root first. */
    size_t k = 0;
    uint64_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t s = split(hi - lo);
        if (m - lo < s) {
            range_root(leaves, lo + s, hi, path[k++]);
            hi = lo + s;
        } else {
            range_root(leaves, lo, lo + s, path[k++]);
            lo += s;
        }
    }
    for (size_t i = 0; i < k / 2; i++) {
        uint8_t t[LDA_HASH_BYTES];
        memcpy(t, path[i], LDA_HASH_BYTES);
        memcpy(path[i], path[k - 1 - i], LDA_HASH_BYTES);
        memcpy(path[k - 1 - i], t, LDA_HASH_BYTES);
    }
    *len = k;
    return LD_OK;
}

int lda_inclusion_verify(uint64_t m, uint64_t n, const uint8_t leaf[LDA_HASH_BYTES],
                         const uint8_t (*path)[LDA_HASH_BYTES], size_t len,
                         const uint8_t root[LDA_HASH_BYTES])
{
    if (m >= n)
        return LD_ERR_CRYPTO;
    uint64_t fn = m, sn = n - 1;
    uint8_t r[LDA_HASH_BYTES];
    memcpy(r, leaf, LDA_HASH_BYTES);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return LD_ERR_CRYPTO;
        if ((fn & 1) || fn == sn) {
            lda_hash_node(path[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            lda_hash_node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, LDA_HASH_BYTES) == 0 ? LD_OK : LD_ERR_CRYPTO;
}

int lda_consistency_proof(const uint8_t (*leaves)[LDA_HASH_BYTES], uint64_t m, uint64_t n,
                          uint8_t (*path)[LDA_HASH_BYTES], size_t *len)
{
    if (m > n)
        return LD_ERR_INVALID;
    *len = 0;
    if (m == 0 || m == n)
        return LD_OK;
    /* SUBPROOF(m, D[lo:hi], b): the terminal node first, then the
     * siblings gathered on the way down, innermost first. */
    uint8_t stack[128][LDA_HASH_BYTES];
    size_t ns = 0, k = 0;
    uint64_t lo = 0, hi = n;
    int b = 1;
    for (;;) {
        if (m == hi - lo) {
            if (!b)
                range_root(leaves, lo, hi, path[k++]);
            break;
        }
        uint64_t s = split(hi - lo);
        if (m <= s) {
            range_root(leaves, lo + s, hi, stack[ns++]);
            hi = lo + s;
        } else {
            range_root(leaves, lo, lo + s, stack[ns++]);
            m -= s;
            lo += s;
            b = 0;
        }
    }
    while (ns)
        memcpy(path[k++], stack[--ns], LDA_HASH_BYTES);
    *len = k;
    return LD_OK;
}

int lda_consistency_verify(uint64_t m, uint64_t n, const uint8_t old_root[LDA_HASH_BYTES],
                           const uint8_t new_root[LDA_HASH_BYTES],
                           const uint8_t (*path)[LDA_HASH_BYTES], size_t len)
{
    if (m > n)
        return LD_ERR_CRYPTO;
    if (m == n)
        return len == 0 && sodium_memcmp(old_root, new_root, LDA_HASH_BYTES) == 0 ? LD_OK
                                                                                  : LD_ERR_CRYPTO;
    if (m == 0)
        return len == 0 ? LD_OK : LD_ERR_CRYPTO;
    if (len == 0 || len > 128)
        return LD_ERR_CRYPTO;
    const uint8_t *c[129];
    size_t nc = 0;
    if ((m & (m - 1)) == 0)
        c[nc++] = old_root;
    for (size_t i = 0; i < len; i++)
        c[nc++] = path[i];
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[LDA_HASH_BYTES], sr[LDA_HASH_BYTES];
    memcpy(fr, c[0], LDA_HASH_BYTES);
    memcpy(sr, c[0], LDA_HASH_BYTES);
    for (size_t i = 1; i < nc; i++) {
        if (sn == 0)
            return LD_ERR_CRYPTO;
        if ((fn & 1) || fn == sn) {
            lda_hash_node(c[i], fr, fr);
            lda_hash_node(c[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            lda_hash_node(sr, c[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, old_root, LDA_HASH_BYTES) == 0 &&
                   sodium_memcmp(sr, new_root, LDA_HASH_BYTES) == 0
               ? LD_OK
               : LD_ERR_CRYPTO;
}
