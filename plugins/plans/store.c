/* store.c - the plans plugin's databases (plan records, task index) and
 * reads of the core ledger, through the host table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"

int ldp_listed(char *const *v, size_t n, const char *who)
{
    for (size_t i = 0; who && i < n; i++)
        if (v[i] && strcmp(v[i], who) == 0)
            return 1;
    return 0;
}

void ldp_join(char *const *v, size_t n, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = 0;
    if (!n) {
        snprintf(out, outlen, "nobody");
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = v[i] ? v[i] : "";
        size_t need = strlen(s) + (i ? 2 : 0);
        if (o + need + 4 > outlen) {
            snprintf(out + o, outlen - o, "...");
            return;
        }
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", s);
    }
}

int ldp_record_get(ldp_state *s, ld_plugin_txn *txn, const char *plan_id, ldp_record **out)
{
    *out = NULL;
    const void *val;
    size_t len;
    int rc = s->host->db_get(s->ctx, txn, s->db_plans, plan_id, strlen(plan_id), &val, &len);
    if (rc != LD_OK)
        return rc;
    *out = liandong__plans__v1__plan_record__unpack(NULL, len, val);
    if (!*out) {
        LDP_LOG(s, LD_LOG_ERROR, "the stored record of plan %s does not unpack", plan_id);
        return LD_ERR_FORMAT;
    }
    return LD_OK;
}

int ldp_record_put(ldp_state *s, ld_plugin_txn *txn, const ldp_record *r)
{
    size_t len = liandong__plans__v1__plan_record__get_packed_size(r);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return LD_ERR_NOMEM;
    liandong__plans__v1__plan_record__pack(r, buf);
    int rc = s->host->db_put(s->ctx, txn, s->db_plans, r->id, strlen(r->id), buf, len);
    free(buf);
    return rc;
}

struct collect {
    ldp_state *s;
    ldp_record **v;
    size_t n, cap;
    int rc;
};

static int collect_one(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    struct collect *c = arg;
    ldp_record *r = liandong__plans__v1__plan_record__unpack(NULL, val_len, val);
    if (!r) {
        LDP_LOG(c->s, LD_LOG_ERROR, "a stored plan record (%.*s) does not unpack; skipped",
                (int)(key_len > 64 ? 64 : key_len), (const char *)key);
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        ldp_record **nv = realloc(c->v, cap * sizeof *nv);
        if (!nv) {
            liandong__plans__v1__plan_record__free_unpacked(r, NULL);
            c->rc = LD_ERR_NOMEM;
            return 1;
        }
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = r;
    return 0;
}

void ldp_records_free(ldp_record **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        liandong__plans__v1__plan_record__free_unpacked(v[i], NULL);
    free(v);
}

int ldp_records_all(ldp_state *s, ld_plugin_txn *txn, ldp_record ***out, size_t *n)
{
    struct collect c = {s, NULL, 0, 0, LD_OK};
    int rc = s->host->db_scan(s->ctx, txn, s->db_plans, NULL, 0, collect_one, &c);
    if (rc == LD_OK)
        rc = c.rc;
    if (rc != LD_OK) {
        ldp_records_free(c.v, c.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = c.v;
    *n = c.n;
    return LD_OK;
}

int ldp_index_get(ldp_state *s, ld_plugin_txn *txn, const char *task, char *plan)
{
    const void *val;
    size_t len;
    int rc = s->host->db_get(s->ctx, txn, s->db_tasks, task, strlen(task), &val, &len);
    if (rc != LD_OK)
        return rc;
    if (len == 0 || len > LDP_ID_MAX) {
        LDP_LOG(s, LD_LOG_ERROR, "the task index entry of %s is damaged", task);
        return LD_ERR_FORMAT;
    }
    memcpy(plan, val, len);
    plan[len] = 0;
    return LD_OK;
}

int ldp_entry_get(ldp_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  ldp_entry **out)
{
    *out = NULL;
    const void *val;
    size_t len;
    int rc = s->host->ledger_get(s->ctx, txn, plan, task, &val, &len);
    if (rc != LD_OK)
        return rc;
    *out = liandong__v1__ledger_task__unpack(NULL, len, val);
    if (!*out) {
        LDP_LOG(s, LD_LOG_ERROR, "the ledger entry of %s/%s does not unpack", plan, task);
        return LD_ERR_FORMAT;
    }
    return LD_OK;
}
