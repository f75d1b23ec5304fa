/* store.c - the audit databases straight from LMDB, for the tools: one
 * read transaction over the broker's data directory (with the normal lock
 * file, so it may run while the broker runs), or a write transaction for
 * tests. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"

struct lda_store {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi[LDA_DB_COUNT];
    int writable;
    lda_kv kv;
};

static int map_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return LD_OK;
    case MDB_NOTFOUND: return LD_ERR_NOT_FOUND;
    case MDB_MAP_FULL: return LD_ERR_STORAGE_FULL;
    default: return LD_ERR_STORAGE;
    }
}

static int s_get(void *arg, int db, const void *key, size_t key_len, const void **val,
                 size_t *val_len)
{
    lda_store *s = arg;
    MDB_val k = {key_len, (void *)key}, v;
    int rc = mdb_get(s->txn, s->dbi[db], &k, &v);
    if (rc == 0) {
        *val = v.mv_data;
        *val_len = v.mv_size;
    }
    return map_rc(rc);
}

static int s_put(void *arg, int db, const void *key, size_t key_len, const void *val,
                 size_t val_len)
{
    lda_store *s = arg;
    if (!s->writable)
        return LD_ERR_INVALID;
    MDB_val k = {key_len, (void *)key}, v = {val_len, (void *)val};
    return map_rc(mdb_put(s->txn, s->dbi[db], &k, &v, 0));
}

static int s_scan(void *arg, int db, const void *from, size_t from_len, lda_scan_fn fn, void *fa)
{
    lda_store *s = arg;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(s->txn, s->dbi[db], &cur);
    if (rc)
        return map_rc(rc);
    MDB_val k = {from_len, (void *)from}, v;
    rc = mdb_cursor_get(cur, &k, &v, from_len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (fn(fa, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? LD_OK : map_rc(rc);
}

int lda_store_open(const char *dir, int writable, lda_store **out, char *err, size_t errlen)
{
    *out = NULL;
    lda_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    s->writable = writable;
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, 64);
    if (rc == 0 && writable)
        rc = mdb_env_set_mapsize(s->env, (size_t)1 << 32);
    if (rc == 0)
        rc = mdb_env_open(s->env, dir, MDB_NOTLS | (writable ? 0 : MDB_RDONLY), 0600);
    if (rc) {
        snprintf(err, errlen, "%s: cannot open the data directory: %s", dir, mdb_strerror(rc));
        goto fail;
    }
    rc = mdb_txn_begin(s->env, NULL, writable ? 0 : MDB_RDONLY, &s->txn);
    if (rc) {
        snprintf(err, errlen, "%s: cannot start a transaction: %s", dir, mdb_strerror(rc));
        goto fail;
    }
    for (int i = 0; i < LDA_DB_COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "plugin.audit.%s", lda_db_names[i]);
        rc = mdb_dbi_open(s->txn, name, writable ? MDB_CREATE : 0, &s->dbi[i]);
        if (rc) {
            snprintf(err, errlen, "%s: %s: %s", dir, name,
                     rc == MDB_NOTFOUND ? "no audit log here (is the audit plugin loaded?)"
                                        : mdb_strerror(rc));
            goto fail;
        }
    }
    s->kv.arg = s;
    s->kv.get = s_get;
    s->kv.put = s_put;
    s->kv.scan = s_scan;
    *out = s;
    return LD_OK;
fail:
    if (s->txn)
        mdb_txn_abort(s->txn);
    if (s->env)
        mdb_env_close(s->env);
    free(s);
    return map_rc(rc) == LD_ERR_NOT_FOUND ? LD_ERR_NOT_FOUND : LD_ERR_STORAGE;
}

lda_kv *lda_store_kv(lda_store *s)
{
    return &s->kv;
}

int lda_store_close(lda_store **sp)
{
    if (!sp || !*sp)
        return LD_OK;
    lda_store *s = *sp;
    int rc = LD_OK;
    if (s->writable)
        rc = map_rc(mdb_txn_commit(s->txn));
    else
        mdb_txn_abort(s->txn);
    mdb_env_close(s->env);
    free(s);
    *sp = NULL;
    return rc;
}
