/* query.c - selecting records, from an index when the query names a task,
 * a principal or a type, else by scanning the log. */
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"

typedef int (*record_fn)(void *arg, const lda_record *r, const uint8_t hash[LDA_HASH_BYTES]);

typedef struct run {
    lda_kv *kv;
    const lda_query *q;
    record_fn fn;
    void *arg;
    uint64_t given;
    uint64_t next;
    int rc;
    const char *prefix; /* index scans: name NUL */
    size_t prefix_len;
} run;

static int empty(const char *s)
{
    return !s || !*s;
}

static int matches(const lda_query *q, const lda_record *r, int checked_db)
{
    if (!empty(q->task) && checked_db != LDA_DB_TASK && strcmp(q->task, r->task) != 0)
        return 0;
    if (!empty(q->type) && checked_db != LDA_DB_TYPE && strcmp(q->type, r->type) != 0)
        return 0;
    if (!empty(q->dept) && checked_db != LDA_DB_DEPT && strcmp(q->dept, r->sender) != 0 &&
        strcmp(q->dept, r->recipient) != 0)
        return 0; /* (Direct recipients are found through the index only) */
    if (q->since_ms && r->at_ms < q->since_ms)
        return 0;
    if (q->until_ms && r->at_ms > q->until_ms)
        return 0;
    if (q->verdict == 1 && r->kind == LDA_KIND_REFUSED)
        return 0;
    if (q->verdict == 2 && r->kind != LDA_KIND_REFUSED)
        return 0;
    return 1;
}

/* One candidate: read, decode, filter, hand out. Non-zero stops. */
static int visit(run *x, uint64_t i, int db)
{
    const uint8_t *v;
    size_t vl;
    int rc = lda_record_get(x->kv, i, &v, &vl);
    if (rc == LD_ERR_NOT_FOUND)
        return 0; /* (verify reports it) */
    if (rc == LD_OK && vl < LDA_HASH_BYTES)
        rc = LD_ERR_FORMAT;
    lda_record r;
    if (rc == LD_OK)
        rc = lda_record_decode(v + LDA_HASH_BYTES, vl - LDA_HASH_BYTES, &r);
    if (rc != LD_OK) {
        x->rc = rc;
        return 1;
    }
    if (!matches(x->q, &r, db))
        return 0;
    if (x->q->limit && x->given == x->q->limit) {
        x->next = i;
        return 1;
    }
    x->given++;
    return x->fn(x->arg, &r, v);
}

static int on_index(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    run *x = arg;
    (void)val;
    (void)val_len;
    if (key_len != x->prefix_len + 8 || memcmp(key, x->prefix, x->prefix_len) != 0)
        return 1;
    uint64_t i = lda_be64_get((const uint8_t *)key + x->prefix_len);
    int db = !empty(x->q->task) ? LDA_DB_TASK : !empty(x->q->dept) ? LDA_DB_DEPT : LDA_DB_TYPE;
    return visit(x, i, db);
}

static int on_log(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    run *x = arg;
    (void)val;
    (void)val_len;
    if (key_len != 8)
        return 0;
    return visit(x, lda_be64_get(key), -1);
}

int lda_query_run(lda_kv *kv, const lda_query *q, record_fn fn, void *arg, uint64_t *next)
{
    run x = {kv, q, fn, arg, 0, 0, LD_OK, NULL, 0};
    uint64_t start = q->has_after ? q->after_index : 0;
    const char *name = !empty(q->task) ? q->task : !empty(q->dept) ? q->dept : q->type;
    int db = !empty(q->task) ? LDA_DB_TASK : !empty(q->dept) ? LDA_DB_DEPT : LDA_DB_TYPE;
    int rc;
    if (!empty(name)) {
        size_t l = strlen(name);
        if (l > 400)
            return LD_ERR_INVALID;
        char *k = malloc(l + 9);
        if (!k)
            return LD_ERR_NOMEM;
        memcpy(k, name, l);
        k[l] = 0;
        lda_be64_put((uint8_t *)k + l + 1, start);
        x.prefix = k;
        x.prefix_len = l + 1;
        rc = kv->scan(kv->arg, db, k, l + 9, on_index, &x);
        free(k);
    } else {
        uint8_t k[8];
        lda_be64_put(k, start);
        rc = kv->scan(kv->arg, LDA_DB_LOG, k, 8, on_log, &x);
    }
    if (next)
        *next = x.next;
    return rc != LD_OK ? rc : x.rc;
}
