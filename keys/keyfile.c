/* keyfile.c - reading and writing .secret and .pub key files. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define KEYFILE_MAX (64 * 1024)

/* The public fields come first, in the order of enum ldk_public_field. */
enum field {
    F_ID = LDK_F_ID,
    F_NAME = LDK_F_NAME,
    F_ROLES = LDK_F_ROLES,
    F_KEY_ID = LDK_F_KEY_ID,
    F_SIGN_PUBLIC = LDK_F_SIGN_PUBLIC,
    F_CURVE_PUBLIC = LDK_F_CURVE_PUBLIC,
    F_SIGN_SECRET = LDK_PUBLIC_FIELDS,
    F_CURVE_SECRET,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "id", "name", "roles", "key_id", "sign_public", "curve_public", "sign_secret", "curve_secret",
};

/* Does any line set sign_secret or curve_secret? Read-only scan, done before
 * parsing so that the mode check comes first. */
static int looks_secret(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        for (int f = F_SIGN_SECRET; f <= F_CURVE_SECRET; f++) {
            size_t n = strlen(field_names[f]);
            if ((size_t)(e - p) > n && memcmp(p, field_names[f], n) == 0) {
                const char *q = p + n;
                while (q < e && (*q == ' ' || *q == '\t'))
                    q++;
                if (q < e && *q == '=')
                    return 1;
            }
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return 0;
}

int ldk_fill_public(const char *path, const char *const val[LDK_PUBLIC_FIELDS],
                    const unsigned line[LDK_PUBLIC_FIELDS], ldk_identity *ident, char *err,
                    size_t errlen)
{
    char shown[LDK_ID_MAX + 1];
    const char *why;

    if (!ldk_id_valid(val[F_ID]))
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: invalid id \"%s\": use 1 to 64 characters a-z 0-9 . _ -, "
                          "starting with a letter or digit",
                          path, line[F_ID], ldk_printable(val[F_ID], shown, sizeof shown));
    strcpy(ident->id, val[F_ID]);
    if (!ldk_name_check(val[F_NAME], &why))
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: name %s", path, line[F_NAME], why);
    strcpy(ident->name, val[F_NAME]);
    char rerr[LDK_ERR_MAX];
    if (ldk_roles_parse(val[F_ROLES], &ident->roles, rerr, sizeof rerr) != LD_OK)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: %s", path, line[F_ROLES], rerr);
    if (ldk_b64_decode(ident->sign_public, sizeof ident->sign_public, val[F_SIGN_PUBLIC]) != 0)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: sign_public is not the base64 of a 32-byte key", path,
                          line[F_SIGN_PUBLIC]);
    ldk_key_id_compute(ident->sign_public, ident->key_id);
    if (strcmp(ident->key_id, val[F_KEY_ID]) != 0)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: key_id does not match sign_public (expected %s)", path,
                          line[F_KEY_ID], ident->key_id);
    if (!ldk_z85_key_valid(val[F_CURVE_PUBLIC]))
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: curve_public is not a 40-character Z85 key", path,
                          line[F_CURVE_PUBLIC]);
    strcpy(ident->curve_public, val[F_CURVE_PUBLIC]);
    return LD_OK;
}

/* Fill ident from the collected field values. Secrets are decoded straight
 * into sodium_malloc'd memory. */
static int fill_identity(const char *path, const char *val[F_COUNT], const unsigned line[F_COUNT],
                         ldk_identity *ident, char *err, size_t errlen)
{
    for (int f = F_ID; f <= F_CURVE_PUBLIC; f++)
        if (val[f] == NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s: missing field %s", path,
                              field_names[f]);
    int rc = ldk_fill_public(path, val, line, ident, err, errlen);
    if (rc != LD_OK)
        return rc;

    if (val[F_SIGN_SECRET] == NULL && val[F_CURVE_SECRET] == NULL)
        return LD_OK;
    if (val[F_SIGN_SECRET] == NULL || val[F_CURVE_SECRET] == NULL)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s: has %s but no %s", path,
                          val[F_SIGN_SECRET] ? "sign_secret" : "curve_secret",
                          val[F_SIGN_SECRET] ? "curve_secret" : "sign_secret");
    ident->sign_secret = sodium_malloc(LDK_SIGN_SECRET_BYTES);
    ident->curve_secret = sodium_malloc(LDK_Z85_KEY_LEN + 1);
    if (ident->sign_secret == NULL || ident->curve_secret == NULL)
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory for secret keys", path);
    if (ldk_b64_decode(ident->sign_secret, LDK_SIGN_SECRET_BYTES, val[F_SIGN_SECRET]) != 0)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: sign_secret is not the base64 of a 64-byte key", path,
                          line[F_SIGN_SECRET]);
    if (!ldk_z85_key_valid(val[F_CURVE_SECRET]))
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: curve_secret is not a 40-character Z85 key", path,
                          line[F_CURVE_SECRET]);
    memcpy(ident->curve_secret, val[F_CURVE_SECRET], LDK_Z85_KEY_LEN + 1);
    const char *which;
    if (ldk_secrets_match(ident, &which) != 0) {
        int f = strcmp(which, "sign_secret") == 0 ? F_SIGN_SECRET : F_CURVE_SECRET;
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: %s does not match %s", path, line[f],
                          which, f == F_SIGN_SECRET ? "sign_public" : "curve_public");
    }
    return LD_OK;
}

static int load(const char *path, int want_secret, ldk_identity **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0)
        return ldk_seterr(err, errlen, LD_ERR_CRYPTO, "libsodium failed to initialize");

    char *buf;
    size_t len;
    struct stat st;
    int rc = ldk_file_read(path, 1, KEYFILE_MAX, &buf, &len, &st, err, errlen);
    if (rc != LD_OK)
        return rc;

    int secret = looks_secret(buf, len);
    if (secret && (st.st_mode & 077) != 0) {
        rc = ldk_seterr(
            err, errlen, LD_ERR_PERMISSION,
            "%s: secret key file is %s by group or others (mode %04o); run chmod 600 %s", path,
            (st.st_mode & 044) ? "readable" : "accessible", (unsigned)(st.st_mode & 07777), path);
        goto done;
    }
    if (want_secret && !secret) {
        rc = ldk_seterr(err, errlen, LD_ERR_FORMAT,
                        "%s: not a secret key file (no sign_secret or curve_secret)", path);
        goto done;
    }

    const char *val[F_COUNT] = {0};
    unsigned line[F_COUNT] = {0};
    ldk_kv_reader r;
    ldk_kv_init(&r, path, buf, len);
    for (;;) {
        ldk_kv_line l;
        char shown[65];
        rc = ldk_kv_next(&r, &l, err, errlen);
        if (rc != LD_OK)
            goto done;
        if (l.kind == LDK_KV_END)
            break;
        if (l.kind == LDK_KV_SECTION) {
            rc = ldk_seterr(err, errlen, LD_ERR_FORMAT,
                            "%s:%u: unexpected section [%s] in a key file", path, l.line,
                            ldk_printable(l.key, shown, sizeof shown));
            goto done;
        }
        int f;
        for (f = 0; f < F_COUNT; f++)
            if (strcmp(l.key, field_names[f]) == 0)
                break;
        if (f == F_COUNT) {
            rc = ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: unknown key \"%s\"", path, l.line,
                            ldk_printable(l.key, shown, sizeof shown));
            goto done;
        }
        if (val[f] != NULL) {
            rc = ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: duplicate %s (first on line %u)",
                            path, l.line, field_names[f], line[f]);
            goto done;
        }
        val[f] = l.value;
        line[f] = l.line;
    }

    ldk_identity *ident = calloc(1, sizeof *ident);
    if (ident == NULL) {
        rc = ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    rc = fill_identity(path, val, line, ident, err, errlen);
    if (rc != LD_OK)
        ldk_identity_destroy(&ident);
    *out = ident;
done:
    ldk_file_free(buf, len, 1);
    return rc;
}

int ldk_identity_load(const char *path, ldk_identity **out, char *err, size_t errlen)
{
    return load(path, 0, out, err, errlen);
}

int ldk_identity_load_secret(const char *path, ldk_identity **out, char *err, size_t errlen)
{
    return load(path, 1, out, err, errlen);
}

void ldk_put(ldk_buf *b, const char *key, const char *value)
{
    if (*value == '\0')
        ldk_buf_printf(b, "%s =\n", key);
    else
        ldk_buf_printf(b, "%s = %s\n", key, value);
}

void ldk_put_public(ldk_buf *b, const ldk_identity *ident)
{
    char roles[128], sign_public[LDK_SIGN_PUBLIC_B64_LEN + 1];
    ldk_roles_format(ident->roles, roles, sizeof roles);
    ldk_b64_encode(sign_public, sizeof sign_public, ident->sign_public, LDK_SIGN_PUBLIC_BYTES);
    ldk_put(b, "id", ident->id);
    ldk_put(b, "name", ident->name);
    ldk_put(b, "roles", roles);
    ldk_put(b, "key_id", ident->key_id);
    ldk_put(b, "sign_public", sign_public);
    ldk_put(b, "curve_public", ident->curve_public);
}

static int save(const ldk_identity *ident, const char *path, int secret, char *err, size_t errlen)
{
    if (ident == NULL || path == NULL)
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "no identity or path to save");
    int rc = ldk_identity_check_public(ident, err, errlen);
    if (rc != LD_OK)
        return rc;
    if (secret) {
        const char *which;
        if (ident->sign_secret == NULL || ident->curve_secret == NULL)
            return ldk_seterr(err, errlen, LD_ERR_INVALID,
                              "%s: identity %s has no secret keys to save", path, ident->id);
        if (sodium_init() < 0)
            return ldk_seterr(err, errlen, LD_ERR_CRYPTO, "libsodium failed to initialize");
        if (ldk_secrets_match(ident, &which) != 0)
            return ldk_seterr(err, errlen, LD_ERR_INVALID,
                              "%s: %s of identity %s does not match its public key", path, which,
                              ident->id);
    }

    ldk_buf b = {.secure = secret};
    if (secret)
        ldk_buf_printf(&b,
                       "# Liandong secret key file. Keep it private (mode 0600) and never\n"
                       "# send it anywhere; give the matching .pub file to the broker operator.\n");
    else
        ldk_buf_printf(&b, "# Liandong public key file: give it to the broker operator, who adds\n"
                           "# it to the roster with `liandong-keys roster add`.\n");
    ldk_put_public(&b, ident);
    if (secret) {
        char sign_secret[LDK_SIGN_SECRET_B64_LEN + 1];
        ldk_b64_encode(sign_secret, sizeof sign_secret, ident->sign_secret, LDK_SIGN_SECRET_BYTES);
        ldk_put(&b, "sign_secret", sign_secret);
        ldk_put(&b, "curve_secret", ident->curve_secret);
        sodium_memzero(sign_secret, sizeof sign_secret);
    }
    if (b.failed)
        rc = ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
    else
        rc = ldk_file_create(path, secret ? 0600 : 0644, b.data, b.len, err, errlen);
    ldk_buf_free(&b);
    return rc;
}

int ldk_identity_save_secret(const ldk_identity *ident, const char *path, char *err, size_t errlen)
{
    return save(ident, path, 1, err, errlen);
}

int ldk_identity_save_public(const ldk_identity *ident, const char *path, char *err, size_t errlen)
{
    return save(ident, path, 0, err, errlen);
}
