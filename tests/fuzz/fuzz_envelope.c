/* fuzz_envelope.c - envelope parsing and verification (proto/envelope.c):
 * ldw_envelope_open, ldw_envelope_verify against a fixed key, and the body
 * unpack the broker does next. */
#include <sodium.h>
#include <string.h>

#include "fuzz.h"
#include "ldw/envelope.h"
#include "liandong/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pk[LDW_SIGN_PUBLIC_BYTES];
    static int init;
    if (!init) {
        uint8_t sk[LDW_SIGN_SECRET_BYTES], seed[32];
        memset(seed, 7, sizeof seed);
        if (sodium_init() < 0)
            return 0;
        crypto_sign_seed_keypair(pk, sk, seed);
        init = 1;
    }
    ldw_opened o;
    char err[256];
    if (ldw_envelope_open(data, size, &o, err, sizeof err) != LD_OK)
        return 0;
    (void)ldw_envelope_verify(&o, pk);
    char hex[33];
    ldw_envelope_id_hex(&o.id, hex);
    Liandong__V1__Body *b = ldw_opened_body(&o);
    if (b) {
        (void)ldw_body_name(b->msg_case);
        liandong__v1__body__free_unpacked(b, NULL);
    }
    ldw_opened_clear(&o);
    return 0;
}
