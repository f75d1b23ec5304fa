/* roster.c - the roster in memory: add, revoke, look up. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int ldk_roster_new(ldk_roster **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? LD_OK : LD_ERR_NOMEM;
}

void ldk_roster_destroy(ldk_roster **r)
{
    if (r == NULL || *r == NULL)
        return;
    free((*r)->entries); /* entries hold no secrets and no owned pointers */
    free(*r);
    *r = NULL;
}

int ldk_roster_add(ldk_roster *r, const ldk_identity *ident, int64_t now, char *err, size_t errlen)
{
    if (r == NULL || ident == NULL)
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "no roster or identity");
    int rc = ldk_identity_check_public(ident, err, errlen);
    if (rc != LD_OK)
        return rc;
    for (size_t i = 0; i < r->count; i++) {
        const ldk_roster_entry *e = &r->entries[i];
        if (strcmp(e->pub.key_id, ident->key_id) == 0)
            return ldk_seterr(err, errlen, LD_ERR_EXISTS,
                              "key %s is already in the roster (id %s, %s)", ident->key_id,
                              e->pub.id, e->revoked ? "revoked" : "active");
        if (strcmp(e->pub.curve_public, ident->curve_public) == 0)
            return ldk_seterr(err, errlen, LD_ERR_EXISTS,
                              "the CURVE key of %s is already in the roster (id %s, key %s)",
                              ident->id, e->pub.id, e->pub.key_id);
        if (!e->revoked && strcmp(e->pub.id, ident->id) == 0)
            return ldk_seterr(err, errlen, LD_ERR_EXISTS,
                              "%s already has an active key (%s); revoke it first", ident->id,
                              e->pub.key_id);
    }
    ldk_roster_entry *n = realloc(r->entries, (r->count + 1) * sizeof *n);
    if (n == NULL)
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "out of memory");
    r->entries = n;
    ldk_roster_entry *e = &n[r->count];
    memset(e, 0, sizeof *e);
    memcpy(e->pub.id, ident->id, sizeof e->pub.id);
    memcpy(e->pub.name, ident->name, sizeof e->pub.name);
    e->pub.roles = ident->roles;
    memcpy(e->pub.key_id, ident->key_id, sizeof e->pub.key_id);
    memcpy(e->pub.sign_public, ident->sign_public, sizeof e->pub.sign_public);
    memcpy(e->pub.curve_public, ident->curve_public, sizeof e->pub.curve_public);
    e->added_at = now;
    r->count++;
    return LD_OK;
}

int ldk_roster_revoke(ldk_roster *r, const char *id, int64_t now, char *err, size_t errlen)
{
    char shown[LDK_ID_MAX + 1];
    ldk_roster_entry *e = (ldk_roster_entry *)ldk_roster_find_active(r, id);
    if (e == NULL)
        return ldk_seterr(err, errlen, LD_ERR_NOT_FOUND, "%s has no active key in the roster",
                          ldk_printable(id != NULL ? id : "", shown, sizeof shown));
    e->revoked = 1;
    e->revoked_at = now;
    return LD_OK;
}

const ldk_roster_entry *ldk_roster_find_active(const ldk_roster *r, const char *id)
{
    if (r == NULL || id == NULL)
        return NULL;
    for (size_t i = 0; i < r->count; i++)
        if (!r->entries[i].revoked && strcmp(r->entries[i].pub.id, id) == 0)
            return &r->entries[i];
    return NULL;
}

const ldk_roster_entry *ldk_roster_find_key(const ldk_roster *r, const char *id, const char *key_id)
{
    if (r == NULL || id == NULL || key_id == NULL)
        return NULL;
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->entries[i].pub.id, id) == 0 && strcmp(r->entries[i].pub.key_id, key_id) == 0)
            return &r->entries[i];
    return NULL;
}

const ldk_roster_entry *ldk_roster_find_curve_active(const ldk_roster *r,
                                                     const char *curve_public_z85)
{
    if (r == NULL || curve_public_z85 == NULL)
        return NULL;
    for (size_t i = 0; i < r->count; i++)
        if (!r->entries[i].revoked && strcmp(r->entries[i].pub.curve_public, curve_public_z85) == 0)
            return &r->entries[i];
    return NULL;
}

const ldk_roster_entry *ldk_roster_find_any(const ldk_roster *r, const char *id)
{
    const ldk_roster_entry *active = ldk_roster_find_active(r, id);
    if (active != NULL || r == NULL || id == NULL)
        return active;
    /* No active key: the most recently listed revoked one. */
    for (size_t i = r->count; i-- > 0;)
        if (strcmp(r->entries[i].pub.id, id) == 0)
            return &r->entries[i];
    return NULL;
}
