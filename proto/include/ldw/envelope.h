/* ldw/envelope.h - sealing and opening Liandong envelopes (internal).
 *
 * An envelope carries a serialized Header, a serialized Body and an Ed25519
 * signature over LDW_DOMAIN || header || body, exactly as carried: nothing is
 * re-serialized before verifying. The envelope id is BLAKE2b-128 of the same
 * bytes. See docs/protocol.md.
 */
#ifndef LDW_ENVELOPE_H
#define LDW_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "liandong.pb-c.h"

#define LDW_DOMAIN "liandong/v1"
/* Wire protocol version: 2 adds Answers and Deliveries (several answers or
 * deliveries under one broker signature), sent only to clients whose Hello
 * says 2 or more. */
#define LDW_PROTOCOL_VERSION 2u
#define LDW_ENVELOPE_ID_BYTES 16
#define LDW_SIGN_PUBLIC_BYTES 32
#define LDW_SIGN_SECRET_BYTES 64
#define LDW_SIGNATURE_BYTES 64

/* The id of one envelope (BLAKE2b-128 of the signed bytes). */
typedef struct ldw_envelope_id {
    uint8_t bytes[LDW_ENVELOPE_ID_BYTES];
} ldw_envelope_id;

/* Lower-case hex of id into buf (at least 33 bytes). Returns buf. */
char *ldw_envelope_id_hex(const ldw_envelope_id *id, char *buf);

/* Header fields of an envelope to seal. Strings are borrowed. */
typedef struct ldw_header_fields {
    const char *sender;
    const char *key_id;
    uint64_t seq;
    int64_t sent_at_ms;
} ldw_header_fields;

/* Seal: pack the header, sign LDW_DOMAIN || header || body with sign_secret
 * (libsodium Ed25519 secret key, 64 bytes) and pack the Envelope.
 * On LD_OK *out is a malloc'd buffer the caller owns (free()), *out_len its
 * length, and *id_out (if not NULL) the envelope id. */
int ldw_envelope_seal(const ldw_header_fields *hdr, const uint8_t *body, size_t body_len,
                      const uint8_t sign_secret[LDW_SIGN_SECRET_BYTES], uint8_t **out,
                      size_t *out_len, ldw_envelope_id *id_out);

/* Seal a Body message (packs it first). Same ownership as ldw_envelope_seal. */
int ldw_envelope_seal_body(const ldw_header_fields *hdr, const Liandong__V1__Body *body,
                           const uint8_t sign_secret[LDW_SIGN_SECRET_BYTES], uint8_t **out,
                           size_t *out_len, ldw_envelope_id *id_out);

/* An envelope that parsed. All pointers are owned by the struct; release with
 * ldw_opened_clear(). The body is not unpacked here (see ldw_opened_body). */
typedef struct ldw_opened {
    Liandong__V1__Envelope *env;
    Liandong__V1__Header *hdr;
    ldw_envelope_id id;
} ldw_opened;

/* Parse an envelope and its header. Returns LD_OK, or LD_ERR_FORMAT with a
 * sentence in err (if err is not NULL) saying what is wrong. Does not verify. */
int ldw_envelope_open(const uint8_t *buf, size_t len, ldw_opened *out, char *err, size_t errlen);

/* Verify the signature with the given Ed25519 public key.
 * Returns LD_OK or LD_ERR_CRYPTO. */
int ldw_envelope_verify(const ldw_opened *o, const uint8_t sign_public[LDW_SIGN_PUBLIC_BYTES]);

/* Unpack the body. Returns NULL if it does not parse or holds no message.
 * Free with liandong__v1__body__free_unpacked(b, NULL). */
Liandong__V1__Body *ldw_opened_body(const ldw_opened *o);

void ldw_opened_clear(ldw_opened *o);

/* Short name of a body case ("direct", "hello", ...), for logs. */
const char *ldw_body_name(Liandong__V1__Body__MsgCase c);

/* The body case named (as ldw_body_name says it), or 0 if none is. */
Liandong__V1__Body__MsgCase ldw_body_case_by_name(const char *name);

/* The case of a serialized Body without unpacking it: the field number of
 * its first field (a Body holds one), or 0 if it is empty or its first tag
 * does not parse. */
uint32_t ldw_body_field(const uint8_t *body, size_t len);

/* Name of a reason code ("MALFORMED", ...); "UNKNOWN" for other values. */
const char *ldw_reason_name(int code);

/* Current wall clock, Unix ms. */
int64_t ldw_now_ms(void);

#endif
