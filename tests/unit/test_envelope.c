/* Unit tests: envelope sealing, opening, verification and ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ldw/envelope.h"
#include "liandong/error.h"

static uint8_t pk[32], sk[64];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    /* Deterministic key from a fixed seed, so failures are reproducible. */
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    return 0;
}

static int seal_direct(const char *text, uint64_t seq, uint8_t **out, size_t *len,
                       ldw_envelope_id *id)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {"mdj.fgw"};
    d.n_to = 1;
    d.to = to;
    d.text = (char *)text;
    body.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    body.direct = &d;
    ldw_header_fields h = {
        .sender = "mdj.gxj", .key_id = "0011223344556677", .seq = seq, .sent_at_ms = 1700000000000};
    return ldw_envelope_seal_body(&h, &body, sk, out, len, id);
}

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    ldw_envelope_id id;
    assert_int_equal(seal_direct("拓展数字经济发展新优势", 5, &buf, &len, &id), LD_OK);

    ldw_opened o;
    char err[128];
    assert_int_equal(ldw_envelope_open(buf, len, &o, err, sizeof err), LD_OK);
    assert_string_equal(o.hdr->sender, "mdj.gxj");
    assert_int_equal(o.hdr->seq, 5);
    assert_memory_equal(o.id.bytes, id.bytes, sizeof id.bytes);
    assert_int_equal(ldw_envelope_verify(&o, pk), LD_OK);

    Liandong__V1__Body *b = ldw_opened_body(&o);
    assert_non_null(b);
    assert_int_equal(b->msg_case, LIANDONG__V1__BODY__MSG_DIRECT);
    assert_string_equal(b->direct->text, "拓展数字经济发展新优势");
    liandong__v1__body__free_unpacked(b, NULL);
    ldw_opened_clear(&o);
    free(buf);
}

/* The id is BLAKE2b-128 over "liandong/v1" || header || body, as documented. */
static void test_id_definition(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    ldw_envelope_id id;
    assert_int_equal(seal_direct("x", 1, &buf, &len, &id), LD_OK);
    Liandong__V1__Envelope *e = liandong__v1__envelope__unpack(NULL, len, buf);
    assert_non_null(e);
    size_t mlen = 11 + e->header.len + e->body.len;
    uint8_t *m = malloc(mlen);
    memcpy(m, "liandong/v1", 11);
    memcpy(m + 11, e->header.data, e->header.len);
    memcpy(m + 11 + e->header.len, e->body.data, e->body.len);
    uint8_t want[16];
    crypto_generichash(want, sizeof want, m, mlen, NULL, 0);
    assert_memory_equal(want, id.bytes, 16);
    assert_int_equal(crypto_sign_verify_detached(e->signature.data, m, mlen, pk), 0);
    free(m);
    liandong__v1__envelope__free_unpacked(e, NULL);
    free(buf);
}

static void test_tampered_body_fails(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    assert_int_equal(seal_direct("进展顺利", 2, &buf, &len, NULL), LD_OK);
    Liandong__V1__Envelope *e = liandong__v1__envelope__unpack(NULL, len, buf);
    e->body.data[e->body.len - 1] ^= 1;
    size_t l2 = liandong__v1__envelope__get_packed_size(e);
    uint8_t *b2 = malloc(l2);
    liandong__v1__envelope__pack(e, b2);
    ldw_opened o;
    assert_int_equal(ldw_envelope_open(b2, l2, &o, NULL, 0), LD_OK);
    assert_int_equal(ldw_envelope_verify(&o, pk), LD_ERR_CRYPTO);
    ldw_opened_clear(&o);
    free(b2);
    liandong__v1__envelope__free_unpacked(e, NULL);
    free(buf);
}

static void test_wrong_key_fails(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    assert_int_equal(seal_direct("a", 3, &buf, &len, NULL), LD_OK);
    uint8_t pk2[32], sk2[64];
    crypto_sign_keypair(pk2, sk2);
    ldw_opened o;
    assert_int_equal(ldw_envelope_open(buf, len, &o, NULL, 0), LD_OK);
    assert_int_equal(ldw_envelope_verify(&o, pk2), LD_ERR_CRYPTO);
    ldw_opened_clear(&o);
    free(buf);
}

static void test_garbage_is_malformed(void **state)
{
    (void)state;
    uint8_t junk[64];
    for (int i = 0; i < 200; i++) {
        randombytes_buf(junk, sizeof junk);
        ldw_opened o;
        char err[128] = "";
        int rc = ldw_envelope_open(junk, (size_t)(i % 64) + 1, &o, err, sizeof err);
        if (rc == LD_OK) {
            /* Extremely unlikely, but then it must still fail verification. */
            assert_int_equal(ldw_envelope_verify(&o, pk), LD_ERR_CRYPTO);
            ldw_opened_clear(&o);
        } else {
            assert_int_equal(rc, LD_ERR_FORMAT);
            assert_true(strlen(err) > 0);
        }
    }
    ldw_opened o;
    assert_int_equal(ldw_envelope_open(NULL, 0, &o, NULL, 0), LD_ERR_FORMAT);
}

/* RFC 8032 section 7.1, TEST 2: the Ed25519 primitive we rely on. */
static void test_rfc8032_vector(void **state)
{
    (void)state;
    const char *sk_hex = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
    const char *pk_hex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const char *sig_hex = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    uint8_t seed[32], pub[32], sec[64], sig[64], want[64], m = 0x72;
    sodium_hex2bin(seed, 32, sk_hex, 64, NULL, NULL, NULL);
    sodium_hex2bin(want, 64, sig_hex, 128, NULL, NULL, NULL);
    crypto_sign_seed_keypair(pub, sec, seed);
    uint8_t pub_want[32];
    sodium_hex2bin(pub_want, 32, pk_hex, 64, NULL, NULL, NULL);
    assert_memory_equal(pub, pub_want, 32);
    crypto_sign_detached(sig, NULL, &m, 1, sec);
    assert_memory_equal(sig, want, 64);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(ldw_reason_name(LIANDONG__V1__REASON_CODE__REPLAY), "REPLAY");
    assert_string_equal(ldw_reason_name(LIANDONG__V1__REASON_CODE__STORAGE_FULL), "STORAGE_FULL");
    assert_string_equal(ldw_reason_name(999), "UNKNOWN");
    assert_int_equal(LIANDONG__V1__REASON_CODE__MALFORMED, 1);
    assert_int_equal(LIANDONG__V1__REASON_CODE__INTERNAL, 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_id_definition),
        cmocka_unit_test(test_tampered_body_fails),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_garbage_is_malformed),
        cmocka_unit_test(test_rfc8032_vector),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
