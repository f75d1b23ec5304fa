/* codec.c - text encodings of key material, key_id, and key pair checks. */
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "internal.h"

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

void ldk_b64_encode(char *out, size_t outlen, const uint8_t *bin, size_t binlen)
{
    sodium_bin2base64(out, outlen, bin, binlen, B64_VARIANT);
}

void ldk_sign_public_format(const uint8_t sign_public[LDK_SIGN_PUBLIC_BYTES], char *out, size_t len)
{
    if (len < LDK_SIGN_PUBLIC_B64_LEN + 1) {
        if (len > 0)
            out[0] = '\0';
        return;
    }
    ldk_b64_encode(out, len, sign_public, LDK_SIGN_PUBLIC_BYTES);
}

int ldk_b64_decode(uint8_t *bin, size_t binlen, const char *s)
{
    size_t slen = strlen(s);
    if (slen != sodium_base64_ENCODED_LEN(binlen, B64_VARIANT) - 1)
        return -1;
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(bin, binlen, s, slen, NULL, &got, &end, B64_VARIANT) != 0 ||
        got != binlen || end != s + slen)
        return -1;
    return 0;
}

int ldk_z85_key_valid(const char *s)
{
    if (strlen(s) != LDK_Z85_KEY_LEN)
        return 0;
    uint8_t bin[32];
    char again[LDK_Z85_KEY_LEN + 1];
    if (zmq_z85_decode(bin, s) == NULL)
        return 0;
    /* Canonical: encoding the bytes again gives the same text. */
    int ok = zmq_z85_encode(again, bin, sizeof bin) != NULL && strcmp(again, s) == 0;
    sodium_memzero(bin, sizeof bin); /* s may be a secret */
    sodium_memzero(again, sizeof again);
    return ok;
}

void ldk_key_id_compute(const uint8_t sign_public[LDK_SIGN_PUBLIC_BYTES], char *out)
{
    uint8_t h[LDK_KEY_ID_LEN / 2];
    crypto_generichash(h, sizeof h, sign_public, LDK_SIGN_PUBLIC_BYTES, NULL, 0);
    sodium_bin2hex(out, LDK_KEY_ID_LEN + 1, h, sizeof h);
}

int ldk_secrets_match(const ldk_identity *ident, const char **which)
{
    /* Ed25519: derive the key pair again from the seed (the first half of
     * the secret key) and compare both halves; checking only the embedded
     * public key would miss a damaged seed. */
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_ed25519_sk_to_seed(seed, ident->sign_secret);
    int ok = crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
             sodium_memcmp(pk, ident->sign_public, sizeof pk) == 0 &&
             sodium_memcmp(sk, ident->sign_secret, sizeof sk) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    if (!ok) {
        *which = "sign_secret";
        return -1;
    }
    char curve_pub[LDK_Z85_KEY_LEN + 1];
    if (zmq_curve_public(curve_pub, ident->curve_secret) != 0 ||
        strcmp(curve_pub, ident->curve_public) != 0) {
        *which = "curve_secret";
        return -1;
    }
    return 0;
}
