/* test_audit_merkle.c - the audit log's Merkle tree against a plain
 * recursive RFC 6962 implementation written here from the RFC's
 * definitions (MTH, PATH, PROOF/SUBPROOF), for sizes 1..1000; known
 * answers for the empty tree and the 0x00/0x01 prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_core.h"

typedef uint8_t h32[32];

static void H(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, const uint8_t *c, size_t cl,
              uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, a, al);
    crypto_generichash_update(&st, b, bl);
    crypto_generichash_update(&st, c, cl);
    crypto_generichash_final(&st, out, 32);
}

/* Leaf inputs: "leaf-<i>". */
static size_t leaf_data(size_t i, char *buf)
{
    return (size_t)sprintf(buf, "leaf-%zu", i);
}

static void ref_leaf(size_t i, uint8_t out[32])
{
    char d[32];
    size_t n = leaf_data(i, d);
    const uint8_t z = 0;
    H(&z, 1, (const uint8_t *)d, n, NULL, 0, out);
}

static size_t k_of(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH(D[lo:hi]) per RFC 6962 2.1. */
static void mth(size_t lo, size_t hi, uint8_t out[32])
{
    if (hi == lo) {
        H(NULL, 0, NULL, 0, NULL, 0, out);
        return;
    }
    if (hi - lo == 1) {
        ref_leaf(lo, out);
        return;
    }
    size_t k = k_of(hi - lo);
    uint8_t l[32], r[32];
    const uint8_t one = 1;
    mth(lo, lo + k, l);
    mth(lo + k, hi, r);
    H(&one, 1, l, 32, r, 32, out);
}

/* PATH(m, D[lo:hi]) appended to p. */
static void path(size_t m, size_t lo, size_t hi, h32 *p, size_t *n)
{
    if (hi - lo <= 1)
        return;
    size_t k = k_of(hi - lo);
    if (m < k) {
        path(m, lo, lo + k, p, n);
        mth(lo + k, hi, p[(*n)++]);
    } else {
        path(m - k, lo + k, hi, p, n);
        mth(lo, lo + k, p[(*n)++]);
    }
}

/* SUBPROOF(m, D[lo:hi], b). */
static void subproof(size_t m, size_t lo, size_t hi, int b, h32 *p, size_t *n)
{
    size_t len = hi - lo;
    if (m == len) {
        if (!b)
            mth(lo, hi, p[(*n)++]);
        return;
    }
    size_t k = k_of(len);
    if (m <= k) {
        subproof(m, lo, lo + k, b, p, n);
        mth(lo + k, hi, p[(*n)++]);
    } else {
        subproof(m - k, lo + k, hi, 0, p, n);
        mth(lo, lo + k, p[(*n)++]);
    }
}

static h32 *leaves_upto(size_t n)
{
    h32 *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char d[32];
        size_t l = leaf_data(i, d);
        lda_hash_leaf(d, l, v[i]);
    }
    return v;
}

static void test_known_answers(void **st)
{
    (void)st;
    uint8_t got[32], want[32];
    /* Empty tree: the hash of the empty string (BLAKE2b-256). */
    lda_hash_empty(got);
    static const char empty_hex[] =
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";
    uint8_t e[32];
    assert_int_equal(lda_unhex(empty_hex, e, 32), LD_OK);
    assert_memory_equal(got, e, 32);
    /* Leaf and node prefixes. */
    const uint8_t z = 0, one = 1;
    H(&z, 1, (const uint8_t *)"abc", 3, NULL, 0, want);
    lda_hash_leaf("abc", 3, got);
    assert_memory_equal(got, want, 32);
    uint8_t l[32], r[32];
    memset(l, 0x11, 32);
    memset(r, 0x22, 32);
    H(&one, 1, l, 32, r, 32, want);
    lda_hash_node(l, r, got);
    assert_memory_equal(got, want, 32);
    /* Tree of 3 and 7 leaves by hand (RFC 6962 2.1.3's shapes). */
    h32 *lv = leaves_upto(7);
    uint8_t ab[32], abc[32];
    lda_hash_node(lv[0], lv[1], ab);
    lda_hash_node(ab, lv[2], abc);
    lda_tree_root((const uint8_t(*)[32])lv, 3, got);
    assert_memory_equal(got, abc, 32);
    uint8_t cd[32], abcd[32], ef[32], efg[32], all[32];
    lda_hash_node(lv[2], lv[3], cd);
    lda_hash_node(ab, cd, abcd);
    lda_hash_node(lv[4], lv[5], ef);
    lda_hash_node(ef, lv[6], efg);
    lda_hash_node(abcd, efg, all);
    lda_tree_root((const uint8_t(*)[32])lv, 7, got);
    assert_memory_equal(got, all, 32);
    /* Inclusion of d (3) in 7: c, ab, efg. */
    h32 p[64];
    size_t n;
    assert_int_equal(lda_inclusion_proof((const uint8_t(*)[32])lv, 7, 3, p, &n), LD_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(p[0], lv[2], 32);
    assert_memory_equal(p[1], ab, 32);
    assert_memory_equal(p[2], efg, 32);
    /* Consistency 3 -> 7: c, d, ab, efg (RFC 6962 2.1.3's example). */
    assert_int_equal(lda_consistency_proof((const uint8_t(*)[32])lv, 3, 7, p, &n), LD_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(p[0], lv[2], 32);
    assert_memory_equal(p[1], lv[3], 32);
    assert_memory_equal(p[2], ab, 32);
    assert_memory_equal(p[3], efg, 32);
    free(lv);
}

static int interesting(size_t n)
{
    if (n <= 70 || n % 97 == 0 || n == 1000)
        return 1;
    for (size_t p = 1; p <= 1024; p *= 2)
        if (n + 1 >= p && n <= p + 1)
            return 1;
    return 0;
}

static void test_against_reference(void **st)
{
    (void)st;
    const size_t N = 1000;
    h32 *lv = leaves_upto(N);
    h32 got[128], want[128];
    uint8_t root[32], ref[32], frontier_root[32];
    lda_frontier f;
    lda_frontier_init(&f);
    for (size_t n = 1; n <= N; n++) {
        lda_frontier_append(&f, lv[n - 1]);
        lda_frontier_root(&f, frontier_root);
        if (!interesting(n))
            continue;
        mth(0, n, ref);
        lda_tree_root((const uint8_t(*)[32])lv, n, root);
        assert_memory_equal(root, ref, 32);
        assert_memory_equal(frontier_root, ref, 32);
        /* Frontier survives packing. */
        uint8_t buf[8 + 64 * 32];
        size_t bl = lda_frontier_pack(&f, buf), used;
        lda_frontier g;
        assert_int_equal(lda_frontier_unpack(buf, bl, &g, &used), LD_OK);
        assert_int_equal(used, bl);
        uint8_t groot[32];
        lda_frontier_root(&g, groot);
        assert_memory_equal(groot, ref, 32);

        size_t ms[] = {0, 1, n / 2, n - 2, n - 1, (n * 7) / 10};
        for (size_t j = 0; j < sizeof ms / sizeof *ms; j++) {
            size_t m = ms[j];
            if (m >= n)
                continue;
            size_t gn, wn = 0;
            assert_int_equal(lda_inclusion_proof((const uint8_t(*)[32])lv, n, m, got, &gn), LD_OK);
            path(m, 0, n, want, &wn);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, gn * 32);
            assert_int_equal(lda_inclusion_verify(m, n, lv[m], (const uint8_t(*)[32])got, gn, ref),
                             LD_OK);
            /* A wrong leaf, index or root fails. */
            assert_int_not_equal(
                lda_inclusion_verify(m, n, lv[(m + 1) % n], (const uint8_t(*)[32])got, gn, ref),
                n == 1 ? -1 : LD_OK);
            if (n > 1)
                assert_int_not_equal(
                    lda_inclusion_verify((m + 1) % n, n, lv[m], (const uint8_t(*)[32])got, gn, ref),
                    LD_OK);
            /* Consistency from m+1 to n. */
            size_t old = m + 1;
            uint8_t old_root[32];
            mth(0, old, old_root);
            wn = 0;
            if (old < n)
                subproof(old, 0, n, 1, want, &wn);
            assert_int_equal(lda_consistency_proof((const uint8_t(*)[32])lv, old, n, got, &gn),
                             LD_OK);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, gn * 32);
            assert_int_equal(
                lda_consistency_verify(old, n, old_root, ref, (const uint8_t(*)[32])got, gn),
                LD_OK);
            if (old < n) {
                uint8_t bad[32];
                memcpy(bad, old_root, 32);
                bad[0] ^= 1;
                assert_int_not_equal(
                    lda_consistency_verify(old, n, bad, ref, (const uint8_t(*)[32])got, gn), LD_OK);
                got[gn - 1][5] ^= 1;
                assert_int_not_equal(
                    lda_consistency_verify(old, n, old_root, ref, (const uint8_t(*)[32])got, gn),
                    LD_OK);
            }
        }
    }
    free(lv);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
