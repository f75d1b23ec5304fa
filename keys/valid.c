/* valid.c - checks of ids, names and the public fields of an identity. */
#include <string.h>

#include "internal.h"

int ldk_id_valid(const char *id)
{
    if (id == NULL)
        return 0;
    size_t n = strlen(id);
    if (n == 0 || n > LDK_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum)
            return 0;
        if (!alnum && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

int ldk_utf8_valid(const char *s)
{
    if (s == NULL)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        unsigned cp, need;
        if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            need = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            need = 3;
        } else {
            return 0; /* continuation byte, overlong lead 0xc0/0xc1, or > U+10FFFF */
        }
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0; /* also stops at the NUL */
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0; /* overlong or out of range */
        if (cp >= 0xd800 && cp <= 0xdfff)
            return 0; /* surrogate */
        if (cp >= 0x80 && cp <= 0x9f)
            return 0; /* C1 control */
        p += need + 1;
    }
    return 1;
}

int ldk_name_check(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n > LDK_NAME_MAX) {
        *why = "is longer than 256 bytes";
        return 0;
    }
    if (!ldk_utf8_valid(name)) {
        *why = "is not valid UTF-8 or contains control characters";
        return 0;
    }
    if (n > 0 && (name[0] == ' ' || name[0] == '\t' || name[n - 1] == ' ' || name[n - 1] == '\t')) {
        *why = "starts or ends with a space";
        return 0;
    }
    return 1;
}

int ldk_identity_check_public(const ldk_identity *ident, char *err, size_t errlen)
{
    const char *why;
    if (memchr(ident->id, '\0', sizeof ident->id) == NULL || !ldk_id_valid(ident->id))
        return ldk_seterr(err, errlen, LD_ERR_INVALID,
                          "invalid id: use 1 to 64 characters a-z 0-9 . _ -, starting with a "
                          "letter or digit");
    if (memchr(ident->name, '\0', sizeof ident->name) == NULL || !ldk_name_check(ident->name, &why))
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "name of %s %s", ident->id, why);
    if (ident->roles & ~LDK_ROLES_ALL)
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "roles of %s contain unknown bits 0x%x",
                          ident->id, ident->roles & ~LDK_ROLES_ALL);
    char kid[LDK_KEY_ID_LEN + 1];
    ldk_key_id_compute(ident->sign_public, kid);
    if (strcmp(kid, ident->key_id) != 0)
        return ldk_seterr(err, errlen, LD_ERR_INVALID,
                          "key_id of %s does not match its sign_public", ident->id);
    if (memchr(ident->curve_public, '\0', sizeof ident->curve_public) == NULL ||
        !ldk_z85_key_valid(ident->curve_public))
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "curve_public of %s is not a Z85 key",
                          ident->id);
    return LD_OK;
}

const char *ldk_printable(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    if (outlen == 0)
        return out;
    for (; s[i] != '\0' && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
    return out;
}
