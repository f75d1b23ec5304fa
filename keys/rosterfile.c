/* rosterfile.c - reading and writing the roster file. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define ROSTER_MAX (64u * 1024 * 1024)

/* Block fields: the public ones (enum ldk_public_field), then these. */
enum { B_STATUS = LDK_PUBLIC_FIELDS, B_ADDED_AT, B_REVOKED_AT, B_COUNT };

static const char *const block_fields[B_COUNT] = {
    "id",           "name",   "roles",    "key_id",     "sign_public",
    "curve_public", "status", "added_at", "revoked_at",
};

typedef struct loader {
    const char *path;
    ldk_roster *r;
    unsigned *lines; /* the [key] line of each entry, for messages */
    size_t cap;
    unsigned block_line; /* 0 before the first [key] */
    const char *val[B_COUNT];
    unsigned line[B_COUNT];
} loader;

static int parse_time(loader *L, int f, int64_t *t, char *err, size_t errlen)
{
    if (ldk_time_parse(L->val[f], t) != LD_OK)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                          "%s:%u: %s is not an RFC 3339 UTC time like 2026-11-27T03:32:25Z",
                          L->path, L->line[f], block_fields[f]);
    return LD_OK;
}

/* Check the block just read and append it to the roster. */
static int finish_block(loader *L, char *err, size_t errlen)
{
    for (int f = 0; f < B_REVOKED_AT; f++)
        if (L->val[f] == NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: [key] block lacks field %s",
                              L->path, L->block_line, block_fields[f]);
    ldk_roster_entry e;
    memset(&e, 0, sizeof e);
    int rc = ldk_fill_public(L->path, L->val, L->line, &e.pub, err, errlen);
    if (rc != LD_OK)
        return rc;
    if (strcmp(L->val[B_STATUS], "revoked") == 0)
        e.revoked = 1;
    else if (strcmp(L->val[B_STATUS], "active") != 0)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: status must be active or revoked",
                          L->path, L->line[B_STATUS]);
    if ((rc = parse_time(L, B_ADDED_AT, &e.added_at, err, errlen)) != LD_OK)
        return rc;
    if (e.revoked && L->val[B_REVOKED_AT] == NULL)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: revoked key lacks revoked_at",
                          L->path, L->block_line);
    if (!e.revoked && L->val[B_REVOKED_AT] != NULL)
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: active key has a revoked_at", L->path,
                          L->line[B_REVOKED_AT]);
    if (e.revoked && (rc = parse_time(L, B_REVOKED_AT, &e.revoked_at, err, errlen)) != LD_OK)
        return rc;

    ldk_roster *r = L->r;
    for (size_t i = 0; i < r->count; i++) {
        const ldk_roster_entry *o = &r->entries[i];
        const char *what = NULL;
        if (strcmp(o->pub.key_id, e.pub.key_id) == 0)
            what = "the same key";
        else if (strcmp(o->pub.curve_public, e.pub.curve_public) == 0)
            what = "the same CURVE key";
        else if (!o->revoked && !e.revoked && strcmp(o->pub.id, e.pub.id) == 0)
            what = "a second active key";
        if (what != NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                              "%s:%u: %s of %s (the block on line %u already has it)", L->path,
                              L->block_line, what, e.pub.id, L->lines[i]);
    }
    if (r->count == L->cap) {
        size_t ncap = L->cap ? L->cap * 2 : 16;
        ldk_roster_entry *ne = realloc(r->entries, ncap * sizeof *ne);
        if (ne == NULL)
            return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", L->path);
        r->entries = ne;
        unsigned *nl = realloc(L->lines, ncap * sizeof *nl);
        if (nl == NULL)
            return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", L->path);
        L->lines = nl;
        L->cap = ncap;
    }
    r->entries[r->count] = e;
    L->lines[r->count] = L->block_line;
    r->count++;
    return LD_OK;
}

static int parse(loader *L, char *buf, size_t len, char *err, size_t errlen)
{
    ldk_kv_reader rd;
    ldk_kv_init(&rd, L->path, buf, len);
    for (;;) {
        ldk_kv_line l;
        char shown[65];
        int rc = ldk_kv_next(&rd, &l, err, errlen);
        if (rc != LD_OK)
            return rc;
        if (l.kind != LDK_KV_PAIR && L->block_line != 0) {
            if ((rc = finish_block(L, err, errlen)) != LD_OK)
                return rc;
        }
        if (l.kind == LDK_KV_END)
            return LD_OK;
        if (l.kind == LDK_KV_SECTION) {
            if (strcmp(l.key, "key") != 0)
                return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                                  "%s:%u: unknown section [%s] (expected [key])", L->path, l.line,
                                  ldk_printable(l.key, shown, sizeof shown));
            L->block_line = l.line;
            memset(L->val, 0, sizeof L->val);
            memset(L->line, 0, sizeof L->line);
            continue;
        }
        if (L->block_line == 0)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                              "%s:%u: `key = value` line before the first [key] line", L->path,
                              l.line);
        int f;
        for (f = 0; f < B_COUNT; f++)
            if (strcmp(l.key, block_fields[f]) == 0)
                break;
        if (f == B_COUNT)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: unknown key \"%s\"", L->path,
                              l.line, ldk_printable(l.key, shown, sizeof shown));
        if (L->val[f] != NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: duplicate %s (first on line %u)",
                              L->path, l.line, block_fields[f], L->line[f]);
        L->val[f] = l.value;
        L->line[f] = l.line;
    }
}

int ldk_roster_load(const char *path, ldk_roster **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0)
        return ldk_seterr(err, errlen, LD_ERR_CRYPTO, "libsodium failed to initialize");
    char *buf;
    size_t len;
    struct stat st;
    int rc = ldk_file_read(path, 0, ROSTER_MAX, &buf, &len, &st, err, errlen);
    if (rc != LD_OK)
        return rc;
    loader L = {.path = path};
    if (ldk_roster_new(&L.r) != LD_OK) {
        ldk_file_free(buf, len, 0);
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
    }
    rc = parse(&L, buf, len, err, errlen);
    free(L.lines);
    ldk_file_free(buf, len, 0);
    if (rc != LD_OK) {
        ldk_roster_destroy(&L.r);
        return rc;
    }
    *out = L.r;
    return LD_OK;
}

int ldk_roster_save(const ldk_roster *r, const char *path, char *err, size_t errlen)
{
    if (r == NULL || path == NULL)
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "no roster or path to save");
    ldk_buf b = {0};
    ldk_buf_printf(&b, "# Liandong roster: the keys the broker admits (see docs/keys.md).\n"
                       "# Edit it with `liandong-keys roster`; the broker reloads it on SIGHUP.\n");
    for (size_t i = 0; i < r->count; i++) {
        const ldk_roster_entry *e = &r->entries[i];
        char added[LDK_TIME_LEN + 1], revoked[LDK_TIME_LEN + 1];
        int rc = ldk_identity_check_public(&e->pub, err, errlen);
        if (rc == LD_OK &&
            (ldk_time_format(e->added_at, added, sizeof added) != LD_OK ||
             (e->revoked && ldk_time_format(e->revoked_at, revoked, sizeof revoked) != LD_OK)))
            rc = ldk_seterr(err, errlen, LD_ERR_INVALID, "times of %s key %s are out of range",
                            e->pub.id, e->pub.key_id);
        if (rc != LD_OK) {
            ldk_buf_free(&b);
            return rc;
        }
        ldk_buf_printf(&b, "\n[key]\n");
        ldk_put_public(&b, &e->pub);
        ldk_put(&b, "status", e->revoked ? "revoked" : "active");
        ldk_put(&b, "added_at", added);
        if (e->revoked)
            ldk_put(&b, "revoked_at", revoked);
    }
    int rc;
    if (b.failed)
        rc = ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
    else
        rc = ldk_file_replace(path, 0644, b.data, b.len, err, errlen);
    ldk_buf_free(&b);
    return rc;
}
