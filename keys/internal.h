/* keys/internal.h - declarations private to the ld_keys library.
 *
 * Each group below is implemented in the .c file named in its heading.
 * Nothing here is part of the ldk/keys.h contract.
 */
#ifndef LDK_INTERNAL_H
#define LDK_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ldk/keys.h"

/* Write one sentence into err (if not NULL) and return code. */
static inline int ldk_seterr(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int ldk_seterr(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- fileio.c: whole-file reads and careful writes ---------------------- */

/* Read a regular file of at most max bytes into a NUL-terminated buffer.
 * secure: the buffer comes from sodium_malloc (the file may hold secrets).
 * *st receives the fstat of the opened file. Missing file: LD_ERR_NOT_FOUND.
 * Free the buffer with ldk_file_free(buf, len, secure). */
int ldk_file_read(const char *path, int secure, size_t max, char **buf, size_t *len,
                  struct stat *st, char *err, size_t errlen);
/* Wipe and free a buffer from ldk_file_read (NULL is fine). */
void ldk_file_free(char *buf, size_t len, int secure);
/* Create path exclusively with exactly the given mode, write data, fsync.
 * Existing path: LD_ERR_EXISTS. On failure nothing is left behind. */
int ldk_file_create(const char *path, mode_t mode, const char *data, size_t len, char *err,
                    size_t errlen);
/* Replace path atomically: temporary file in the same directory, fsync,
 * rename, fsync of the directory. Keeps the permission bits of an existing
 * file, else uses mode. */
int ldk_file_replace(const char *path, mode_t mode, const char *data, size_t len, char *err,
                     size_t errlen);

/* ---- kvfile.c: the `key = value` line format ---------------------------- */

typedef struct ldk_kv_reader {
    const char *path; /* for messages */
    char *p;          /* next unread byte (the buffer is tokenized in place) */
    char *end;
    unsigned line; /* line number of the last line returned */
} ldk_kv_reader;

enum ldk_kv_kind { LDK_KV_END = 0, LDK_KV_PAIR = 1, LDK_KV_SECTION = 2 };

typedef struct ldk_kv_line {
    int kind; /* enum ldk_kv_kind */
    unsigned line;
    const char *key;   /* pair: trimmed key; section: the name inside [ ] */
    const char *value; /* pair: trimmed value (may be empty) */
} ldk_kv_line;

/* Start reading buf[0..len) (which must be NUL-terminated at len). Skips a
 * UTF-8 byte order mark. */
void ldk_kv_init(ldk_kv_reader *r, const char *path, char *buf, size_t len);
/* Next pair or section, skipping blank and comment lines. Returns LD_OK and
 * fills *out (kind LDK_KV_END at the end), or LD_ERR_FORMAT for a line that
 * is neither. */
int ldk_kv_next(ldk_kv_reader *r, ldk_kv_line *out, char *err, size_t errlen);

/* A growable text buffer for writing files. secure: sodium_malloc'd storage,
 * wiped when it grows or is freed. */
typedef struct ldk_buf {
    char *data;
    size_t len, cap;
    int secure;
    int failed; /* an allocation failed: the content is incomplete */
} ldk_buf;

void ldk_buf_printf(ldk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ldk_buf_free(ldk_buf *b);

/* ---- keyfile.c: fields shared by key files and roster blocks ------------- */

enum ldk_public_field {
    LDK_F_ID,
    LDK_F_NAME,
    LDK_F_ROLES,
    LDK_F_KEY_ID,
    LDK_F_SIGN_PUBLIC,
    LDK_F_CURVE_PUBLIC,
    LDK_PUBLIC_FIELDS
};

/* Check and decode the public fields (all present, as text from a file) into
 * ident. Errors are LD_ERR_FORMAT naming path:line. */
int ldk_fill_public(const char *path, const char *const val[LDK_PUBLIC_FIELDS],
                    const unsigned line[LDK_PUBLIC_FIELDS], ldk_identity *ident, char *err,
                    size_t errlen);
/* Append the public fields of ident as `key = value` lines. */
void ldk_put_public(ldk_buf *b, const ldk_identity *ident);
/* Append one `key = value` line (`key =` when value is empty). */
void ldk_put(ldk_buf *b, const char *key, const char *value);

/* ---- codec.c: encodings of key material --------------------------------- */

#define LDK_SIGN_SECRET_B64_LEN 88

/* Base64 (original alphabet, padded) of bin into out (outlen bytes, NUL
 * terminated). */
void ldk_b64_encode(char *out, size_t outlen, const uint8_t *bin, size_t binlen);
/* Decode exactly binlen bytes from s. 0 on success, -1 if s is not the
 * canonical base64 of binlen bytes. */
int ldk_b64_decode(uint8_t *bin, size_t binlen, const char *s);
/* 1 if s is the canonical Z85 text of a 32-byte key, else 0. */
int ldk_z85_key_valid(const char *s);
/* key_id of sign_public into out (LDK_KEY_ID_LEN + 1 bytes). */
void ldk_key_id_compute(const uint8_t sign_public[LDK_SIGN_PUBLIC_BYTES], char *out);
/* Check that the secrets of ident match its public keys. 0 if they do, else
 * -1 and *which is "sign_secret" or "curve_secret". */
int ldk_secrets_match(const ldk_identity *ident, const char **which);

/* ---- valid.c ------------------------------------------------------------ */

#define LDK_ROLES_ALL                                                                              \
    (LDK_ROLE_DEPARTMENT | LDK_ROLE_COORDINATOR | LDK_ROLE_SUPERVISION | LDK_ROLE_AUDITOR |        \
     LDK_ROLE_ADMIN)

/* Copy s into out for an error message: control bytes become '?', the copy
 * is cut at outlen - 1 bytes. Returns out. */
const char *ldk_printable(const char *s, char *out, size_t outlen);

/* Check a display name: valid UTF-8 without control characters, at most
 * LDK_NAME_MAX bytes, no leading or trailing space or tab (they would not
 * survive a save and load). 1 if valid; else 0 and *why says why. */
int ldk_name_check(const char *name, const char **why);
/* Check the public fields of ident (id, name, roles, key_id, curve key).
 * LD_OK or LD_ERR_INVALID with a sentence. */
int ldk_identity_check_public(const ldk_identity *ident, char *err, size_t errlen);

#endif
