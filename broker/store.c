/* store.c - LMDB environment and the core databases. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liandong/error.h"
#include "log.h"

static int map_rc(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS: return LD_OK;
    case MDB_NOTFOUND: return LD_ERR_NOT_FOUND;
    case MDB_MAP_FULL: return LD_ERR_STORAGE_FULL;
    default: ldb_error("storage: %s: %s", what, mdb_strerror(rc)); return LD_ERR_STORAGE;
    }
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[7 - i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

#define MSG_HDR 12 /* u32 refs, i64 stored_at */
#define MBOX_VAL (8 + LDW_ENVELOPE_ID_BYTES)
#define DEDUP_VAL (LDW_ENVELOPE_ID_BYTES + 8)

static int counter_next(ldb_store *s, MDB_txn *txn, const char *name, uint64_t *out);

/* Schema 1 -> 2, inside the opening transaction (all or nothing): messages
 * get numbers in "msgs" (the envelope id -> number map kept in a scratch
 * table meanwhile), mailbox entries point at the numbers in "mbox", and
 * accepted envelope ids move to "dedup2" under their own key form (schema
 * 1 did not keep the sender, so they cannot take the sender/seq form; they
 * are looked up by id until pruned). The old tables are dropped. Returns
 * an LMDB error code, and says what failed in err. */
static int upgrade_v1(ldb_store *s, MDB_txn *txn, const char *dir, char *err, size_t errlen)
{
    MDB_dbi old_msg, old_mbox, old_dedup, ids;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int g = 0;
    size_t n_msg = 0, n_mbox = 0, n_dedup = 0;
    const char *what = "open the schema 1 tables";
    int rc = mdb_dbi_open(txn, "messages", MDB_CREATE, &old_msg);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "mailbox", MDB_CREATE, &old_mbox);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "dedup", MDB_CREATE, &old_dedup);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "upgrade.ids", MDB_CREATE, &ids);
    if (rc)
        goto out;
    what = "number the messages";
    rc = mdb_cursor_open(txn, old_msg, &cur);
    for (g = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && g == 0;
         g = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t no;
        uint8_t nk[8];
        if (counter_next(s, txn, "next_message", &no) != LD_OK) {
            rc = MDB_PANIC; /* counter_next logged why */
            break;
        }
        be64(nk, no);
        MDB_val kn = {8, nk};
        rc = mdb_put(txn, s->messages, &kn, &v, MDB_APPEND);
        if (rc == 0)
            rc = mdb_put(txn, ids, &k, &kn, 0);
        n_msg++;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc == 0 && g != MDB_NOTFOUND)
        rc = g; /* reading the old table failed */
    if (rc)
        goto out;
    what = "point the mailboxes at the numbers";
    rc = mdb_cursor_open(txn, old_mbox, &cur);
    for (g = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && g == 0;
         g = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size != LDW_ENVELOPE_ID_BYTES) {
            rc = MDB_CORRUPTED;
            break;
        }
        uint8_t nv[MBOX_VAL] = {0}; /* number 0: the message is missing */
        MDB_val idv = v, no;
        if (mdb_get(txn, ids, &idv, &no) == 0 && no.mv_size == 8)
            memcpy(nv, no.mv_data, 8);
        memcpy(nv + 8, v.mv_data, LDW_ENVELOPE_ID_BYTES);
        MDB_val vn = {sizeof nv, nv};
        rc = mdb_put(txn, s->mailbox, &k, &vn, MDB_APPEND);
        n_mbox++;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc == 0 && g != MDB_NOTFOUND)
        rc = g; /* reading the old table failed */
    if (rc)
        goto out;
    what = "move the accepted envelope ids";
    rc = mdb_cursor_open(txn, old_dedup, &cur);
    for (g = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && g == 0;
         g = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != LDW_ENVELOPE_ID_BYTES || v.mv_size != 16) {
            rc = MDB_CORRUPTED;
            break;
        }
        uint8_t nk[1 + LDW_ENVELOPE_ID_BYTES] = {0}, nv[DEDUP_VAL];
        memcpy(nk + 1, k.mv_data, LDW_ENVELOPE_ID_BYTES);
        memcpy(nv, k.mv_data, LDW_ENVELOPE_ID_BYTES);
        memcpy(nv + LDW_ENVELOPE_ID_BYTES, (const uint8_t *)v.mv_data + 8, 8);
        MDB_val kn = {sizeof nk, nk}, vn = {sizeof nv, nv};
        rc = mdb_put(txn, s->dedup, &kn, &vn, MDB_APPEND);
        n_dedup++;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc == 0 && g != MDB_NOTFOUND)
        rc = g; /* reading the old table failed */
    if (rc)
        goto out;
    what = "drop the schema 1 tables";
    rc = mdb_drop(txn, old_msg, 1);
    if (rc == 0)
        rc = mdb_drop(txn, old_mbox, 1);
    if (rc == 0)
        rc = mdb_drop(txn, old_dedup, 1);
    if (rc == 0)
        rc = mdb_drop(txn, ids, 1);
    if (rc == 0) {
        uint8_t buf[4] = {LDB_SCHEMA_VERSION & 0xff, 0, 0, 0};
        MDB_val sk = {6, "schema"}, sv = {4, buf};
        what = "record the schema version";
        rc = mdb_put(txn, s->meta, &sk, &sv, 0);
    }
out:
    if (rc)
        snprintf(err, errlen,
                 "%s: upgrading storage from schema 1 to %u: cannot %s: %s; nothing was "
                 "changed, the previous broker version still opens it",
                 dir, LDB_SCHEMA_VERSION, what, mdb_strerror(rc));
    else
        ldb_info("%s: storage upgraded from schema 1 to %u: %zu messages, %zu mailbox entries, "
                 "%zu accepted envelope ids",
                 dir, LDB_SCHEMA_VERSION, n_msg, n_mbox, n_dedup);
    return rc;
}

int ldb_store_nearly_full(ldb_store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0 || !st.ms_psize)
        return LDB_FILL_ROOM;
    size_t pages = info.me_mapsize / st.ms_psize;
    size_t reserve = pages / 16, cap = ((size_t)8 << 20) / st.ms_psize;
    if (reserve > cap)
        reserve = cap;
    if (reserve < 64)
        reserve = 64; /* a commit with every plugin's tables touched fits */
    size_t used = info.me_last_pgno + 1;
    if (used + reserve < pages)
        return LDB_FILL_ROOM; /* far from the end: no need to count the free list */
    /* Free pages: each record of the free list (LMDB's DB 0) is a list
     * whose first word is its length. */
    MDB_txn *txn;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return LDB_FILL_ROOM;
    MDB_cursor *c;
    size_t free_pages = 0;
    if (mdb_cursor_open(txn, 0, &c) == 0) {
        MDB_val k, v;
        while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
            if (v.mv_size >= sizeof(size_t))
                free_pages += *(const size_t *)v.mv_data;
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    used = free_pages < used ? used - free_pages : 0;
    return used + reserve / 2 >= pages ? LDB_FILL_RESERVE_LOW
           : used + reserve >= pages   ? LDB_FILL_RESERVE
                                       : LDB_FILL_ROOM;
}

int ldb_store_open(const char *dir, size_t map_size, ldb_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create data directory: %s", dir, strerror(errno));
        return LD_ERR_IO;
    }
    ldb_store *s = calloc(1, sizeof *s);
    if (!s)
        return LD_ERR_NOMEM;
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, 64);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, map_size);
    if (rc == 0)
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    if (rc) {
        snprintf(err, errlen, "%s: cannot open LMDB environment: %s", dir, mdb_strerror(rc));
        if (s->env)
            mdb_env_close(s->env);
        free(s);
        return LD_ERR_STORAGE;
    }
    /* A map size smaller than the data already stored is raised by LMDB to
     * the file's size; nothing to do. */
    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "seq", MDB_CREATE, &s->seq);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "dedup2", MDB_CREATE, &s->dedup);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "msgs", MDB_CREATE, &s->messages);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "mbox", MDB_CREATE, &s->mailbox);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "ledger", MDB_CREATE, &s->ledger);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "docs", MDB_CREATE, &s->docs);
    if (rc) {
        snprintf(err, errlen, "%s: cannot open databases: %s", dir, mdb_strerror(rc));
        goto fail_txn;
    }
    MDB_val k = {6, "schema"}, v;
    rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        uint8_t buf[4] = {LDB_SCHEMA_VERSION & 0xff, 0, 0, 0};
        v.mv_size = 4;
        v.mv_data = buf;
        rc = mdb_put(txn, s->meta, &k, &v, 0);
    } else if (rc == 0) {
        uint32_t ver = 0;
        if (v.mv_size == 4)
            ver = (uint32_t)rd_le64((const uint8_t[8]){
                ((const uint8_t *)v.mv_data)[0], ((const uint8_t *)v.mv_data)[1],
                ((const uint8_t *)v.mv_data)[2], ((const uint8_t *)v.mv_data)[3]});
        if (ver == 1) {
            rc = upgrade_v1(s, txn, dir, err, errlen);
            if (rc) {
                mdb_txn_abort(txn);
                mdb_env_close(s->env);
                free(s);
                return LD_ERR_STORAGE;
            }
        } else if (ver != LDB_SCHEMA_VERSION) {
            snprintf(err, errlen,
                     "%s: storage schema version %u is not the one this broker knows (%u); "
                     "use the matching broker version",
                     dir, ver, LDB_SCHEMA_VERSION);
            mdb_txn_abort(txn);
            mdb_env_close(s->env);
            free(s);
            return LD_ERR_FORMAT;
        }
    }
    if (rc == 0) {
        /* Upgraded entries sort first (their key starts with NUL). */
        MDB_cursor *cur;
        MDB_val dk, dv;
        rc = mdb_cursor_open(txn, s->dedup, &cur);
        if (rc == 0) {
            int g = mdb_cursor_get(cur, &dk, &dv, MDB_FIRST);
            s->legacy_dedup = g == 0 && dk.mv_size && ((const uint8_t *)dk.mv_data)[0] == 0;
            mdb_cursor_close(cur);
            if (g && g != MDB_NOTFOUND)
                rc = g;
        }
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc) {
        snprintf(err, errlen, "%s: cannot initialise storage: %s", dir, mdb_strerror(rc));
        mdb_env_close(s->env);
        free(s);
        return LD_ERR_STORAGE;
    }
    *out = s;
    return LD_OK;
fail_txn:
    mdb_txn_abort(txn);
    mdb_env_close(s->env);
    free(s);
    return LD_ERR_STORAGE;
}

void ldb_store_close(ldb_store **s)
{
    if (!s || !*s)
        return;
    mdb_env_close((*s)->env);
    free(*s);
    *s = NULL;
}

int ldb_store_begin(ldb_store *s, MDB_txn *parent, int rdonly, MDB_txn **txn)
{
    return map_rc(mdb_txn_begin(s->env, parent, rdonly ? MDB_RDONLY : 0, txn), "begin");
}

int ldb_store_commit(MDB_txn *txn)
{
    return map_rc(mdb_txn_commit(txn), "commit");
}

static MDB_val str_val(const char *s)
{
    MDB_val v = {strlen(s), (void *)s};
    return v;
}

int ldb_store_seq_get(ldb_store *s, MDB_txn *txn, const char *principal, uint64_t *seq)
{
    MDB_val k = str_val(principal), v;
    int rc = mdb_get(txn, s->seq, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *seq = 0;
        return LD_OK;
    }
    if (rc == 0 && v.mv_size == 8) {
        *seq = rd_le64(v.mv_data);
        return LD_OK;
    }
    return map_rc(rc ? rc : MDB_CORRUPTED, "read sequence");
}

int ldb_store_seq_put(ldb_store *s, MDB_txn *txn, const char *principal, uint64_t seq)
{
    uint8_t buf[8];
    le64(buf, seq);
    MDB_val k = str_val(principal), v = {8, buf};
    return map_rc(mdb_put(txn, s->seq, &k, &v, 0), "write sequence");
}

static size_t dedup_key(uint8_t *buf, const char *sender, uint64_t seq)
{
    size_t n = strnlen(sender, LDB_DEDUP_KEY_MAX - 9);
    memcpy(buf, sender, n);
    buf[n] = 0;
    be64(buf + n + 1, seq);
    return n + 9;
}

int ldb_store_dedup_get(ldb_store *s, MDB_txn *txn, const char *sender, uint64_t seq,
                        const ldw_envelope_id *id)
{
    uint8_t kb[LDB_DEDUP_KEY_MAX];
    MDB_val k = {dedup_key(kb, sender, seq), kb}, v;
    int rc = mdb_get(txn, s->dedup, &k, &v);
    if (rc == 0)
        return v.mv_size == DEDUP_VAL && memcmp(v.mv_data, id->bytes, LDW_ENVELOPE_ID_BYTES) == 0
                   ? LD_OK
                   : LD_ERR_NOT_FOUND; /* another envelope with that seq */
    if (rc == MDB_NOTFOUND && s->legacy_dedup) {
        uint8_t lk[1 + LDW_ENVELOPE_ID_BYTES] = {0};
        memcpy(lk + 1, id->bytes, LDW_ENVELOPE_ID_BYTES);
        MDB_val l = {sizeof lk, lk};
        rc = mdb_get(txn, s->dedup, &l, &v);
    }
    return map_rc(rc, "read dedup");
}

int ldb_store_dedup_put(ldb_store *s, MDB_txn *txn, const char *sender, uint64_t seq,
                        const ldw_envelope_id *id, int64_t at_ms)
{
    uint8_t kb[LDB_DEDUP_KEY_MAX], buf[DEDUP_VAL];
    memcpy(buf, id->bytes, LDW_ENVELOPE_ID_BYTES);
    le64(buf + LDW_ENVELOPE_ID_BYTES, (uint64_t)at_ms);
    MDB_val k = {dedup_key(kb, sender, seq), kb}, v = {sizeof buf, buf};
    return map_rc(mdb_put(txn, s->dedup, &k, &v, 0), "write dedup");
}

int ldb_store_dedup_prune(ldb_store *s, MDB_txn *txn, int64_t before_ms, size_t max,
                          ldb_dedup_cursor *cursor, size_t *removed)
{
    size_t n = 0, gone = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dedup, &cur);
    if (rc)
        return map_rc(rc, "open dedup cursor");
    MDB_val k = {cursor->len, cursor->key}, v;
    rc = mdb_cursor_get(cur, &k, &v, cursor->len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && n < max) {
        n++;
        if (v.mv_size == DEDUP_VAL &&
            (int64_t)rd_le64((const uint8_t *)v.mv_data + LDW_ENVELOPE_ID_BYTES) < before_ms) {
            rc = mdb_cursor_del(cur, 0);
            if (rc)
                break;
            gone++;
            /* After a delete the cursor stands on the next entry. */
            rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
            continue;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && k.mv_size <= sizeof cursor->key) {
        memcpy(cursor->key, k.mv_data, k.mv_size); /* go on from here */
        cursor->len = k.mv_size;
    } else if (rc == MDB_NOTFOUND || rc == EINVAL) {
        cursor->len = 0; /* the end: next time from the start */
    }
    mdb_cursor_close(cur);
    if (removed)
        *removed = gone;
    return rc == 0 || rc == MDB_NOTFOUND || rc == EINVAL ? LD_OK : map_rc(rc, "prune dedup");
}

int ldb_store_message_put(ldb_store *s, MDB_txn *txn, const uint8_t *env, size_t len, uint32_t refs,
                          int64_t at_ms, uint64_t *no)
{
    int rc = counter_next(s, txn, "next_message", no);
    if (rc != LD_OK)
        return rc;
    uint8_t kb[8];
    be64(kb, *no);
    MDB_val k = {8, kb}, v = {MSG_HDR + len, NULL};
    rc = mdb_put(txn, s->messages, &k, &v, MDB_RESERVE);
    if (rc)
        return map_rc(rc, "write message");
    uint8_t *p = v.mv_data;
    p[0] = (uint8_t)refs;
    p[1] = (uint8_t)(refs >> 8);
    p[2] = (uint8_t)(refs >> 16);
    p[3] = (uint8_t)(refs >> 24);
    le64(p + 4, (uint64_t)at_ms);
    memcpy(p + MSG_HDR, env, len);
    return LD_OK;
}

int ldb_store_message_get(ldb_store *s, MDB_txn *txn, uint64_t no, const uint8_t **env, size_t *len,
                          int64_t *at_ms)
{
    uint8_t kb[8];
    be64(kb, no);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, s->messages, &k, &v);
    if (rc)
        return map_rc(rc, "read message");
    if (v.mv_size < MSG_HDR)
        return map_rc(MDB_CORRUPTED, "read message");
    const uint8_t *p = v.mv_data;
    *env = p + MSG_HDR;
    *len = v.mv_size - MSG_HDR;
    if (at_ms)
        *at_ms = (int64_t)rd_le64(p + 4);
    return LD_OK;
}

static int message_unref(ldb_store *s, MDB_txn *txn, uint64_t no, size_t *env_len)
{
    uint8_t kb[8];
    be64(kb, no);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, s->messages, &k, &v);
    if (rc == MDB_NOTFOUND)
        return LD_OK;
    if (rc)
        return map_rc(rc, "read message");
    if (v.mv_size < MSG_HDR)
        return map_rc(MDB_CORRUPTED, "read message");
    *env_len = v.mv_size - MSG_HDR;
    const uint8_t *p = v.mv_data;
    uint32_t refs =
        (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (refs <= 1)
        return map_rc(mdb_del(txn, s->messages, &k, NULL), "delete message");
    /* Copy-on-write: rewrite the value with the decremented count. */
    size_t len = v.mv_size;
    uint8_t *copy = malloc(len);
    if (!copy)
        return LD_ERR_NOMEM;
    memcpy(copy, p, len);
    refs--;
    copy[0] = (uint8_t)refs;
    copy[1] = (uint8_t)(refs >> 8);
    copy[2] = (uint8_t)(refs >> 16);
    copy[3] = (uint8_t)(refs >> 24);
    MDB_val nv = {len, copy};
    rc = mdb_put(txn, s->messages, &k, &nv, 0);
    free(copy);
    return map_rc(rc, "update message");
}

static size_t mailbox_key(uint8_t *buf, const char *recipient, uint64_t delivery_id)
{
    size_t n = strlen(recipient);
    memcpy(buf, recipient, n);
    buf[n] = 0;
    be64(buf + n + 1, delivery_id);
    return n + 9;
}

/* Take the next value of a counter in meta (starting at 1). */
static int counter_next(ldb_store *s, MDB_txn *txn, const char *name, uint64_t *out)
{
    MDB_val mk = {strlen(name), (void *)name}, mv;
    uint64_t next = 1;
    int rc = mdb_get(txn, s->meta, &mk, &mv);
    if (rc == 0 && mv.mv_size == 8)
        next = rd_le64(mv.mv_data);
    else if (rc != MDB_NOTFOUND)
        return map_rc(rc ? rc : MDB_CORRUPTED, "read counter");
    uint8_t nb[8];
    le64(nb, next + 1);
    mv.mv_size = 8;
    mv.mv_data = nb;
    rc = mdb_put(txn, s->meta, &mk, &mv, 0);
    if (rc)
        return map_rc(rc, "write counter");
    *out = next;
    return LD_OK;
}

int ldb_store_broker_seq_next(ldb_store *s, MDB_txn *txn, uint64_t *seq)
{
    return counter_next(s, txn, "broker_seq", seq);
}

int ldb_store_mailbox_put(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t no,
                          const ldw_envelope_id *id, uint64_t *delivery_id)
{
    uint64_t next;
    int rc = counter_next(s, txn, "next_delivery", &next);
    if (rc != LD_OK)
        return rc;
    uint8_t kb[LDB_MAILBOX_KEY_MAX];
    MDB_val k = {mailbox_key(kb, recipient, next), kb};
    uint8_t vb[MBOX_VAL];
    be64(vb, no);
    memcpy(vb + 8, id->bytes, LDW_ENVELOPE_ID_BYTES);
    MDB_val v = {sizeof vb, vb};
    rc = mdb_put(txn, s->mailbox, &k, &v, 0);
    if (rc)
        return map_rc(rc, "write mailbox");
    *delivery_id = next;
    return LD_OK;
}

int ldb_store_mailbox_ack(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t delivery_id,
                          size_t *len)
{
    size_t env_len = 0;
    if (len)
        *len = 0;
    uint8_t kb[LDB_MAILBOX_KEY_MAX];
    MDB_val k = {mailbox_key(kb, recipient, delivery_id), kb}, v;
    int rc = mdb_get(txn, s->mailbox, &k, &v);
    if (rc)
        return map_rc(rc, "read mailbox");
    if (v.mv_size != MBOX_VAL)
        return map_rc(MDB_CORRUPTED, "read mailbox");
    uint64_t no = rd_be64(v.mv_data);
    rc = mdb_del(txn, s->mailbox, &k, NULL);
    if (rc)
        return map_rc(rc, "delete mailbox entry");
    rc = message_unref(s, txn, no, &env_len);
    if (rc == LD_OK && len)
        *len = env_len;
    return rc;
}

int ldb_store_mailbox_scan(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t after,
                           unsigned limit, ldb_mailbox_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->mailbox, &cur);
    if (rc)
        return map_rc(rc, "open mailbox cursor");
    uint8_t kb[LDB_MAILBOX_KEY_MAX];
    size_t plen = strlen(recipient) + 1;
    MDB_val k = {mailbox_key(kb, recipient, after + 1), kb}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    unsigned n = 0;
    while (rc == 0 && n < limit) {
        if (k.mv_size != plen + 8 || memcmp(k.mv_data, kb, plen) != 0)
            break;
        if (v.mv_size != MBOX_VAL) {
            rc = MDB_CORRUPTED;
            break;
        }
        ldw_envelope_id id;
        memcpy(id.bytes, (const uint8_t *)v.mv_data + 8, LDW_ENVELOPE_ID_BYTES);
        n++;
        if (fn(ctx, rd_be64((const uint8_t *)k.mv_data + plen), rd_be64(v.mv_data), &id))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? LD_OK : map_rc(rc, "scan mailbox");
}

int ldb_store_mailbox_count(ldb_store *s, MDB_txn *txn, const char *recipient, uint64_t *n)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->mailbox, &cur);
    if (rc)
        return map_rc(rc, "open mailbox cursor");
    uint8_t kb[LDB_MAILBOX_KEY_MAX];
    size_t plen = strlen(recipient) + 1;
    MDB_val k = {mailbox_key(kb, recipient, 0), kb}, v;
    *n = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, kb, plen) == 0) {
        (*n)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? LD_OK : map_rc(rc, "count mailbox");
}

int ldb_store_clock_get(ldb_store *s, MDB_txn *txn, int64_t *ms)
{
    MDB_val k = {8, "clock_ms"}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        *ms = (int64_t)rd_le64(v.mv_data);
    return map_rc(rc, "read clock");
}

int ldb_store_clock_put(ldb_store *s, MDB_txn *txn, int64_t ms)
{
    uint8_t buf[8];
    le64(buf, (uint64_t)ms);
    MDB_val k = {8, "clock_ms"}, v = {8, buf};
    return map_rc(mdb_put(txn, s->meta, &k, &v, 0), "write clock");
}
