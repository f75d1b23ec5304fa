/* record.c - the byte format of one audit record and the hash chain.
 *
 *   u8 version (1), u8 kind, u8 signature_ok, be64 index, be64 at_ms,
 *   be32 verdict, then sender, key_id, type, task, recipient, text (each
 *   be16 length + UTF-8 bytes), then be32 length + envelope bytes.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"

void lda_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t lda_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void lda_hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

int lda_unhex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return LD_ERR_FORMAT;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            return LD_ERR_FORMAT;
        if (i & 1)
            out[i / 2] |= (uint8_t)v;
        else
            out[i / 2] = (uint8_t)(v << 4);
    }
    return LD_OK;
}

const char *lda_kind_name(int kind)
{
    switch (kind) {
    case LDA_KIND_ACCEPTED: return "accepted";
    case LDA_KIND_REFUSED: return "refused";
    case LDA_KIND_EMITTED: return "emitted";
    default: return "unknown";
    }
}

#define HEAD_BYTES (3 + 8 + 8 + 4)

int lda_record_encode(const lda_record *r, uint8_t **out, size_t *len)
{
    const char *s[6] = {r->sender, r->key_id, r->type, r->task, r->recipient, r->text};
    size_t sl[6], total = HEAD_BYTES + 4 + r->envelope_len;
    for (int i = 0; i < 6; i++) {
        sl[i] = s[i] ? strlen(s[i]) : 0;
        if (sl[i] > 0xffff)
            sl[i] = 0xffff; /* cut: only text could be this long */
        total += 2 + sl[i];
    }
    if (r->envelope_len > 0xffffffffu || (!r->envelope && r->envelope_len))
        return LD_ERR_INVALID;
    uint8_t *b = malloc(total), *p = b;
    if (!b)
        return LD_ERR_NOMEM;
    *p++ = LDA_RECORD_VERSION;
    *p++ = r->kind;
    *p++ = r->signature_ok ? 1 : 0;
    lda_be64_put(p, r->index);
    lda_be64_put(p + 8, (uint64_t)r->at_ms);
    be32_put(p + 16, r->verdict);
    p += 20;
    for (int i = 0; i < 6; i++) {
        p[0] = (uint8_t)(sl[i] >> 8);
        p[1] = (uint8_t)sl[i];
        if (sl[i])
            memcpy(p + 2, s[i], sl[i]);
        p += 2 + sl[i];
    }
    be32_put(p, (uint32_t)r->envelope_len);
    if (r->envelope_len)
        memcpy(p + 4, r->envelope, r->envelope_len);
    *out = b;
    *len = total;
    return LD_OK;
}

/* Strings are copied into static buffers so that they end in NUL: valid
 * until the next decode (everything here runs on one thread). */
int lda_record_decode(const uint8_t *buf, size_t len, lda_record *r)
{
    static char strs[6][0x10000 + 1];
    memset(r, 0, sizeof *r);
    if (len < HEAD_BYTES || buf[0] != LDA_RECORD_VERSION)
        return LD_ERR_FORMAT;
    r->kind = buf[1];
    r->signature_ok = buf[2];
    if (r->kind < LDA_KIND_ACCEPTED || r->kind > LDA_KIND_EMITTED || r->signature_ok > 1)
        return LD_ERR_FORMAT;
    r->index = lda_be64_get(buf + 3);
    r->at_ms = (int64_t)lda_be64_get(buf + 11);
    r->verdict = be32_get(buf + 19);
    size_t p = HEAD_BYTES;
    const char **dst[6] = {&r->sender, &r->key_id, &r->type, &r->task, &r->recipient, &r->text};
    for (int i = 0; i < 6; i++) {
        if (len - p < 2)
            return LD_ERR_FORMAT;
        size_t l = (size_t)buf[p] << 8 | buf[p + 1];
        p += 2;
        if (len - p < l || memchr(buf + p, 0, l))
            return LD_ERR_FORMAT;
        memcpy(strs[i], buf + p, l);
        strs[i][l] = 0;
        *dst[i] = strs[i];
        p += l;
    }
    if (len - p < 4)
        return LD_ERR_FORMAT;
    size_t el = be32_get(buf + p);
    p += 4;
    if (len - p != el)
        return LD_ERR_FORMAT;
    r->envelope = buf + p;
    r->envelope_len = el;
    return LD_OK;
}

void lda_chain_hash(const uint8_t prev[LDA_HASH_BYTES], const uint8_t *rec, size_t len,
                    uint8_t out[LDA_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, LDA_HASH_BYTES);
    crypto_generichash_update(&st, prev, LDA_HASH_BYTES);
    crypto_generichash_update(&st, rec, len);
    crypto_generichash_final(&st, out, LDA_HASH_BYTES);
}
