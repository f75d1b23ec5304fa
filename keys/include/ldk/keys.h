/* ldk/keys.h - key files, identities and the roster (internal to Liandong).
 *
 * Key file format (docs/keys.md): UTF-8 text, one `key = value` per line,
 * `#` starts a comment line, blank lines ignored, whitespace around key and
 * value trimmed. Fields: id, name, roles (comma separated), key_id,
 * sign_public, sign_secret (base64, standard alphabet with padding, of the
 * libsodium Ed25519 keys: 32 and 64 bytes), curve_public, curve_secret (Z85,
 * 40 characters, as zmq_z85_encode prints them). A .pub file holds only the
 * public fields. A .secret file must not be accessible by group or others
 * (mode & 077 == 0): loading one that is is refused with LD_ERR_PERMISSION.
 *
 * key_id = lower-case hex of BLAKE2b-64 (crypto_generichash, 8 bytes, no key)
 * of sign_public: 16 characters.
 *
 * Errors: every function that can fail returns an ld_error code and, when
 * err is not NULL, writes one sentence (no trailing newline) into err that
 * names the file, line and cause where there is one.
 */
#ifndef LDK_KEYS_H
#define LDK_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "liandong/error.h"

#define LDK_ID_MAX 64      /* principal id: [a-z0-9._-], 1..64 bytes */
#define LDK_NAME_MAX 256   /* display name, UTF-8 bytes */
#define LDK_KEY_ID_LEN 16  /* hex characters */
#define LDK_Z85_KEY_LEN 40 /* Z85 text of a 32-byte CURVE key */
#define LDK_SIGN_PUBLIC_BYTES 32
#define LDK_SIGN_SECRET_BYTES 64
#define LDK_SIGN_PUBLIC_B64_LEN 44 /* base64 text of sign_public */
#define LDK_ERR_MAX 512            /* a good size for err buffers */

/* Roles, as a bit mask. */
enum ldk_role {
    LDK_ROLE_DEPARTMENT = 1u << 0,
    LDK_ROLE_COORDINATOR = 1u << 1,
    LDK_ROLE_SUPERVISION = 1u << 2,
    LDK_ROLE_AUDITOR = 1u << 3,
    LDK_ROLE_ADMIN = 1u << 4,
};

/* Parse "department,coordinator" (no spaces needed; spaces around names are
 * trimmed). An empty string gives 0. Unknown role: LD_ERR_INVALID naming it. */
int ldk_roles_parse(const char *csv, unsigned *mask, char *err, size_t errlen);
/* Write "department,coordinator" (canonical order as in enum ldk_role). */
void ldk_roles_format(unsigned mask, char *buf, size_t len);
/* 1 if id is a valid principal id, else 0. */
int ldk_id_valid(const char *id);
/* 1 if s is valid UTF-8 without control characters, else 0. Rejected:
 * overlong forms, surrogates, code points above U+10FFFF, truncated
 * sequences, C0 controls (< 0x20, including tab and newline), DEL and the
 * C1 controls U+0080..U+009F. */
int ldk_utf8_valid(const char *s);

/* An identity: a principal's public key material and, if loaded from or
 * generated as a secret file, its secrets (held in sodium_malloc'd memory,
 * wiped on destroy). */
typedef struct ldk_identity {
    char id[LDK_ID_MAX + 1];
    char name[LDK_NAME_MAX + 1];
    unsigned roles;
    char key_id[LDK_KEY_ID_LEN + 1];
    uint8_t sign_public[LDK_SIGN_PUBLIC_BYTES];
    char curve_public[LDK_Z85_KEY_LEN + 1];
    /* NULL when only the public part is loaded. */
    uint8_t *sign_secret; /* LDK_SIGN_SECRET_BYTES, sodium_malloc */
    char *curve_secret;   /* LDK_Z85_KEY_LEN + 1, sodium_malloc, NUL-terminated */
} ldk_identity;

/* Generate fresh Ed25519 and CURVE key pairs. id must be valid, name valid
 * UTF-8 (may be empty) of at most LDK_NAME_MAX bytes without a leading or
 * trailing space or tab (files trim them), roles only known bits; else
 * LD_ERR_INVALID. Caller owns *out. */
int ldk_identity_generate(const char *id, const char *name, unsigned roles, ldk_identity **out,
                          char *err, size_t errlen);

/* Load a .secret or .pub file. A file containing sign_secret or curve_secret
 * is a secret file: its mode is checked first (LD_ERR_PERMISSION), both
 * secrets must be present and must match the public keys (LD_ERR_FORMAT).
 * All public fields are required; key_id must match sign_public. Unknown
 * keys are an error (LD_ERR_FORMAT, naming line and key). Caller owns *out. */
int ldk_identity_load(const char *path, ldk_identity **out, char *err, size_t errlen);

/* Like ldk_identity_load, but the file must be a secret file. */
int ldk_identity_load_secret(const char *path, ldk_identity **out, char *err, size_t errlen);

/* Write the secret file (mode 0600, created exclusively: LD_ERR_EXISTS if
 * path exists) or the public file (mode 0644, also exclusive). Files start
 * with a comment saying what they are. Secret: LD_ERR_INVALID if the
 * identity has no secrets. */
int ldk_identity_save_secret(const ldk_identity *ident, const char *path, char *err, size_t errlen);
int ldk_identity_save_public(const ldk_identity *ident, const char *path, char *err, size_t errlen);

void ldk_identity_destroy(ldk_identity **ident);

/* sign_public as it appears in key files (base64, padded) into out, which
 * must hold LDK_SIGN_PUBLIC_B64_LEN + 1 bytes (else out gets ""). */
void ldk_sign_public_format(const uint8_t sign_public[LDK_SIGN_PUBLIC_BYTES], char *out,
                            size_t len);

/* ---- times ---------------------------------------------------------------
 *
 * Roster times are RFC 3339 UTC with whole seconds: 2026-11-27T03:32:25Z
 * (exactly LDK_TIME_LEN characters), years 1970..9999.
 */
#define LDK_TIME_LEN 20

/* Format Unix seconds t into buf (at least LDK_TIME_LEN + 1 bytes).
 * LD_ERR_INVALID if t is negative, past year 9999, or buf is too small. */
int ldk_time_format(int64_t t, char *buf, size_t len);
/* Parse exactly the form above into *t (Unix seconds). No fractions, no
 * offsets other than Z, seconds 00..59. LD_ERR_FORMAT otherwise. */
int ldk_time_parse(const char *s, int64_t *t);

/* ---- roster ------------------------------------------------------------
 *
 * Roster file: a header comment, then one block per key, each starting with
 * a line `[key]`, followed by `key = value` lines: id, name, roles, key_id,
 * sign_public, curve_public, status (active | revoked), added_at and, when
 * revoked, revoked_at (both RFC 3339 UTC, e.g. 2026-11-27T03:32:25Z).
 * A principal has at most one active key; revoked keys stay listed so that
 * old signatures can still be attributed. Saving is atomic (write a
 * temporary file in the same directory, fsync, rename).
 */
typedef struct ldk_roster_entry {
    ldk_identity pub;   /* sign_secret and curve_secret are NULL */
    int revoked;        /* 0 active, 1 revoked */
    int64_t added_at;   /* Unix seconds */
    int64_t revoked_at; /* Unix seconds, 0 if active */
} ldk_roster_entry;

typedef struct ldk_roster {
    ldk_roster_entry *entries;
    size_t count;
} ldk_roster;

/* Load a roster. A missing file is LD_ERR_NOT_FOUND (callers that create
 * rosters use ldk_roster_new instead). Format errors name file and line. */
int ldk_roster_load(const char *path, ldk_roster **out, char *err, size_t errlen);
int ldk_roster_new(ldk_roster **out);
int ldk_roster_save(const ldk_roster *r, const char *path, char *err, size_t errlen);
void ldk_roster_destroy(ldk_roster **r);

/* Add the public part of ident as an active key. LD_ERR_EXISTS if the same
 * key_id or curve key is already listed, or the id already has an active
 * key (revoke it first). */
int ldk_roster_add(ldk_roster *r, const ldk_identity *ident, int64_t now, char *err, size_t errlen);
/* Revoke the active key of id. LD_ERR_NOT_FOUND if id has no active key. */
int ldk_roster_revoke(ldk_roster *r, const char *id, int64_t now, char *err, size_t errlen);

/* Lookups return borrowed pointers valid until the roster changes or is
 * destroyed, or NULL. */
const ldk_roster_entry *ldk_roster_find_active(const ldk_roster *r, const char *id);
const ldk_roster_entry *ldk_roster_find_key(const ldk_roster *r, const char *id,
                                            const char *key_id);
const ldk_roster_entry *ldk_roster_find_curve_active(const ldk_roster *r,
                                                     const char *curve_public_z85);
/* Any entry (active or revoked) for id: the active one if there is one. */
const ldk_roster_entry *ldk_roster_find_any(const ldk_roster *r, const char *id);

#endif
