/* audit.c - the audit plugin: one record per accepted message, refusal and
 * broker-sealed envelope, in the transaction of the event; checkpoints at
 * ticks; AuditQuery for auditors and supervision (docs/audit.md). Load it
 * last, so that it records what the other plugins decided. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_int.h"
#include "body.h"
#include "ldw/envelope.h"

#define LDA_VERSION "0.1.0"
#define REASON(x) LIANDONG__V1__REASON_CODE__##x
#define READERS (LD_ROLE_AUDITOR | LD_ROLE_SUPERVISION)
#define REPLY_BUDGET (256u * 1024u)

typedef struct state {
    const ld_host *host;
    ld_plugin_ctx *ctx;
    uint32_t db[LDA_DB_COUNT];
    lda_config cfg;
} state;

typedef struct kvarg {
    state *s;
    ld_plugin_txn *txn;
} kvarg;

static int k_get(void *arg, int db, const void *key, size_t key_len, const void **val,
                 size_t *val_len)
{
    kvarg *a = arg;
    return a->s->host->db_get(a->s->ctx, a->txn, a->s->db[db], key, key_len, val, val_len);
}

static int k_put(void *arg, int db, const void *key, size_t key_len, const void *val,
                 size_t val_len)
{
    kvarg *a = arg;
    return a->s->host->db_put(a->s->ctx, a->txn, a->s->db[db], key, key_len, val, val_len);
}

static int k_scan(void *arg, int db, const void *from, size_t from_len, lda_scan_fn fn, void *fa)
{
    kvarg *a = arg;
    return a->s->host->db_scan(a->s->ctx, a->txn, a->s->db[db], from, from_len, fn, fa);
}

static lda_kv make_kv(kvarg *a)
{
    lda_kv kv = {a, k_get, k_put, k_scan, 0};
    return kv;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append one record for an envelope with the given body. */
static int record(state *s, ld_plugin_txn *txn, lda_record *r, const uint8_t *body, size_t body_len,
                  const uint8_t *sign_public, const char *extra_dept)
{
    lda_body_info bi;
    memset(&bi, 0, sizeof bi);
    bi.type = "";
    const char *depts[LDA_BODY_MAX_DEPTS + 3];
    size_t nd = 0;
    if (body && lda_body_info_get(body, body_len, &bi) != LD_OK)
        lda_body_info_clear(&bi); /* (not a Body: type "", no task) */
    if (!r->type)
        r->type = bi.type;
    r->task = bi.task ? bi.task : "";
    if (r->sender && *r->sender)
        depts[nd++] = r->sender;
    if (r->recipient && *r->recipient)
        depts[nd++] = r->recipient;
    if (extra_dept && *extra_dept)
        depts[nd++] = extra_dept;
    for (size_t i = 0; i < bi.n_depts; i++)
        depts[nd++] = bi.depts[i];
    kvarg a = {s, txn};
    lda_kv kv = make_kv(&a);
    int rc = lda_append(&kv, r, sign_public, depts, nd, NULL);
    lda_body_info_clear(&bi);
    if (rc != LD_OK)
        s->host->log(s->ctx, LD_LOG_ERROR, "cannot append a %s record for %s: %s",
                     lda_kind_name(r->kind), r->sender ? r->sender : "?", ld_strerror(rc));
    return rc;
}

/* ---- AuditQuery -------------------------------------------------------- */

typedef struct answer {
    Liandong__V1__AuditRecord **v;
    size_t n, cap, bytes;
    unsigned max;
    uint64_t cut_at; /* index of the first record left out, 0 none */
    int oom;
} answer;

static char *dup(const char *s)
{
    return strdup(s ? s : "");
}

static int on_found(void *arg, const lda_record *r, const uint8_t hash[LDA_HASH_BYTES])
{
    answer *a = arg;
    size_t cost = r->envelope_len + strlen(r->text) + 200;
    if (a->n && (a->n == a->max || a->bytes + cost > REPLY_BUDGET)) {
        a->cut_at = r->index;
        return 1;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        Liandong__V1__AuditRecord **nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) {
            a->oom = 1;
            return 1;
        }
        a->v = nv;
        a->cap = cap;
    }
    Liandong__V1__AuditRecord *x = calloc(1, sizeof *x);
    uint8_t *env = malloc(r->envelope_len ? r->envelope_len : 1);
    uint8_t *h = malloc(LDA_HASH_BYTES);
    if (!x || !env || !h) {
        free(x);
        free(env);
        free(h);
        a->oom = 1;
        return 1;
    }
    liandong__v1__audit_record__init(x);
    x->index = r->index;
    x->at_ms = r->at_ms;
    x->sender = dup(r->sender);
    x->key_id = dup(r->key_id);
    x->type = dup(r->type);
    memcpy(env, r->envelope, r->envelope_len);
    x->envelope.data = env;
    x->envelope.len = r->envelope_len;
    x->verdict = r->kind == LDA_KIND_REFUSED ? r->verdict : 0;
    x->verdict_text = dup(r->text);
    memcpy(h, hash, LDA_HASH_BYTES);
    x->hash.data = h;
    x->hash.len = LDA_HASH_BYTES;
    x->task = dup(r->task);
    if (*r->recipient) {
        x->recipients = malloc(sizeof *x->recipients);
        if (x->recipients) {
            x->recipients[0] = dup(r->recipient);
            x->n_recipients = 1;
        }
    }
    a->v[a->n++] = x;
    a->bytes += cost;
    return 0;
}

static void free_record(Liandong__V1__AuditRecord *x)
{
    free(x->sender);
    free(x->key_id);
    free(x->type);
    free(x->envelope.data);
    free(x->verdict_text);
    free(x->hash.data);
    free(x->task);
    for (size_t i = 0; i < x->n_recipients; i++)
        free(x->recipients[i]);
    free(x->recipients);
    free(x);
}

static int on_query(state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                    const Liandong__V1__AuditQuery *q, ld_plugin_verdict *v)
{
    if (!(m->sender_roles & READERS)) {
        s->host->refuse(v, REASON(UNAUTHORIZED),
                        "only principals with the auditor or supervision role may query the "
                        "audit log");
        return LD_PLUGIN_REFUSE;
    }
    if (q->verdict && *q->verdict && strcmp(q->verdict, "accepted") != 0 &&
        strcmp(q->verdict, "refused") != 0) {
        s->host->refuse(v, REASON(MALFORMED), "verdict must be accepted or refused, not '%.32s'",
                        q->verdict);
        return LD_PLUGIN_REFUSE;
    }
    lda_query lq = {0};
    lq.task = q->task;
    lq.dept = q->dept;
    lq.type = q->type;
    lq.since_ms = q->since_ms;
    lq.until_ms = q->until_ms;
    lq.verdict = !q->verdict || !*q->verdict ? 0 : strcmp(q->verdict, "accepted") == 0 ? 1 : 2;
    lq.has_after = q->after_index > 0;
    lq.after_index = q->after_index;
    answer a = {0};
    a.max = q->limit && q->limit < s->cfg.query_max ? q->limit : s->cfg.query_max;
    kvarg ka = {s, txn};
    lda_kv kv = make_kv(&ka);
    lda_head h;
    int rc = lda_head_get(&kv, &h);
    if (rc == LD_OK)
        rc = lda_query_run(&kv, &lq, on_found, &a, NULL);
    if (rc == LD_OK && a.oom)
        rc = LD_ERR_NOMEM;
    int d = LD_PLUGIN_HANDLED;
    if (rc == LD_OK) {
        Liandong__V1__AuditReply ar = LIANDONG__V1__AUDIT_REPLY__INIT;
        ar.records = a.v;
        ar.n_records = a.n;
        ar.next_index = a.cut_at;
        ar.log_size = h.tree.size;
        Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
        b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_REPLY;
        b.audit_reply = &ar;
        size_t len = liandong__v1__body__get_packed_size(&b);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            rc = LD_ERR_NOMEM;
        } else {
            liandong__v1__body__pack(&b, buf);
            rc = s->host->set_reply(v, buf, len);
            free(buf);
        }
    }
    if (rc != LD_OK) {
        s->host->log(s->ctx, LD_LOG_ERROR, "audit query from %s failed: %s", m->sender,
                     ld_strerror(rc));
        d = LD_PLUGIN_ERROR;
    }
    for (size_t i = 0; i < a.n; i++)
        free_record(a.v[i]);
    free(a.v);
    return d;
}

/* ---- hooks ------------------------------------------------------------- */

static int audit_init(const ld_host *host, ld_plugin_ctx *ctx, const char *config_yaml, void **st,
                      char *err, size_t errlen)
{
    if (!host || host->abi_version < 1 || host->size < sizeof(ld_host) || !host->sign ||
        !host->principals) {
        snprintf(err, errlen,
                 "the broker's host table is older than this plugin (it needs sign and "
                 "principals, %zu bytes)",
                 sizeof(ld_host));
        return LD_ERR_INVALID;
    }
    state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    s->host = host;
    s->ctx = ctx;
    int rc = lda_config_parse(config_yaml, &s->cfg, err, errlen);
    for (int i = 0; i < LDA_DB_COUNT && rc == LD_OK; i++)
        if ((rc = host->db_open(ctx, lda_db_names[i], &s->db[i])) != LD_OK)
            snprintf(err, errlen, "cannot open the database %s: %s", lda_db_names[i],
                     ld_strerror(rc));
    if (rc != LD_OK) {
        free(s);
        return rc;
    }
    *st = s;
    return LD_OK;
}

static int audit_on_message(void *st, ld_plugin_txn *txn, const ld_plugin_message *m,
                            ld_plugin_verdict *v)
{
    state *s = st;
    if (!m || !m->sender)
        return LD_PLUGIN_PASS;
    if (m->body_case == LIANDONG__V1__BODY__MSG_AUDIT_QUERY) {
        Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, m->body_len, m->body);
        if (!b || !b->audit_query) {
            if (b)
                liandong__v1__body__free_unpacked(b, NULL);
            s->host->refuse(v, REASON(MALFORMED), "the body is not an AuditQuery");
            return LD_PLUGIN_REFUSE;
        }
        /* The query itself goes in the log first. */
        lda_record r = {0};
        r.at_ms = m->now_ms;
        r.kind = LDA_KIND_ACCEPTED;
        r.signature_ok = 1;
        r.sender = m->sender;
        r.key_id = m->key_id;
        r.envelope = m->envelope;
        r.envelope_len = m->envelope_len;
        int rc = record(s, txn, &r, m->body, m->body_len, m->sender_sign_public, NULL);
        int d = rc == LD_OK ? on_query(s, txn, m, b->audit_query, v) : LD_PLUGIN_ERROR;
        liandong__v1__body__free_unpacked(b, NULL);
        return d == LD_PLUGIN_HANDLED || d == LD_PLUGIN_ERROR ? d : LD_PLUGIN_REFUSE;
    }
    lda_record r = {0};
    r.at_ms = m->now_ms;
    r.kind = LDA_KIND_ACCEPTED;
    r.signature_ok = 1;
    r.sender = m->sender;
    r.key_id = m->key_id;
    r.envelope = m->envelope;
    r.envelope_len = m->envelope_len;
    return record(s, txn, &r, m->body, m->body_len, m->sender_sign_public, NULL) == LD_OK
               ? LD_PLUGIN_PASS
               : LD_PLUGIN_ERROR;
}

static int audit_on_refused(void *st, ld_plugin_txn *txn, const ld_plugin_refusal *f)
{
    state *s = st;
    const ld_plugin_message *m = f->message;
    lda_record r = {0};
    r.at_ms = f->now_ms;
    r.kind = LDA_KIND_REFUSED;
    r.verdict = f->reason > 0 ? (uint32_t)f->reason : 0;
    r.signature_ok = f->signature_ok && m && m->sender_sign_public;
    r.sender = m && m->sender ? m->sender : f->connection;
    r.key_id = m && m->key_id ? m->key_id : "";
    r.text = f->text;
    r.envelope = f->frame;
    r.envelope_len = f->frame ? f->frame_len : 0;
    const char *conn =
        m && m->sender && strcmp(m->sender, f->connection) != 0 ? f->connection : NULL;
    return record(s, txn, &r, m ? m->body : NULL, m ? m->body_len : 0,
                  r.signature_ok ? m->sender_sign_public : NULL, conn);
}

static int audit_on_emit(void *st, ld_plugin_txn *txn, const char *recipient,
                         const uint8_t *envelope, size_t envelope_len)
{
    state *s = st;
    ldw_opened o;
    memset(&o, 0, sizeof o);
    int rc = ldw_envelope_open(envelope, envelope_len, &o, NULL, 0);
    if (rc != LD_OK) {
        ldw_opened_clear(&o);
        s->host->log(s->ctx, LD_LOG_ERROR, "an emitted envelope for %s does not parse", recipient);
        return rc;
    }
    lda_record r = {0};
    r.at_ms = s->host->now_ms(s->ctx);
    r.kind = LDA_KIND_EMITTED;
    r.signature_ok = 1;
    r.sender = o.hdr->sender;
    r.key_id = o.hdr->key_id;
    r.recipient = recipient;
    r.envelope = envelope;
    r.envelope_len = envelope_len;
    rc = record(s, txn, &r, o.env->body.data, o.env->body.len, NULL, NULL);
    ldw_opened_clear(&o);
    return rc;
}

typedef struct readers {
    char **ids;
    size_t n;
    int oom;
} readers;

static int add_reader(void *arg, const ld_principal_info *p)
{
    readers *r = arg;
    if (!p->active)
        return 0;
    char **n = realloc(r->ids, (r->n + 1) * sizeof *n);
    if (!n || !(n[r->n] = strdup(p->id))) {
        if (n)
            r->ids = n;
        r->oom = 1;
        return 1;
    }
    r->ids = n;
    r->n++;
    return 0;
}

/* Sign, store and send a checkpoint of the log as it is in txn. */
static int checkpoint(state *s, ld_plugin_txn *txn, lda_kv *kv, lda_head *h)
{
    Liandong__V1__Checkpoint cp = LIANDONG__V1__CHECKPOINT__INIT;
    uint8_t root[LDA_HASH_BYTES], sig[LDA_SIGNATURE_BYTES], msg[LDA_CHECKPOINT_MSG_BYTES];
    char key_id[17];
    int64_t now = wall_ms();
    lda_frontier_root(&h->tree, root);
    lda_checkpoint_message(h->tree.size, root, now, msg);
    int rc = s->host->sign(s->ctx, msg, sizeof msg, sig, key_id);
    if (rc != LD_OK)
        return rc;
    cp.size = h->tree.size;
    cp.root.data = root;
    cp.root.len = LDA_HASH_BYTES;
    cp.at_ms = now;
    cp.signature.data = sig;
    cp.signature.len = sizeof sig;
    cp.key_id = key_id;
    cp.head_hash.data = h->chain;
    cp.head_hash.len = LDA_HASH_BYTES;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_CHECKPOINT;
    b.checkpoint = &cp;
    size_t cl = liandong__v1__checkpoint__get_packed_size(&cp);
    size_t bl = liandong__v1__body__get_packed_size(&b);
    uint8_t *cbuf = malloc(cl), *bbuf = malloc(bl);
    readers rd = {0};
    if (!cbuf || !bbuf) {
        rc = LD_ERR_NOMEM;
        goto out;
    }
    liandong__v1__checkpoint__pack(&cp, cbuf);
    liandong__v1__body__pack(&b, bbuf);
    uint8_t key[8];
    lda_be64_put(key, h->tree.size);
    rc = kv->put(kv->arg, LDA_DB_CHECKPOINTS, key, 8, cbuf, cl);
    h->cp_size = h->tree.size;
    h->cp_wall_ms = now;
    if (rc == LD_OK)
        rc = lda_head_put(kv, h); /* before the emits: they append records */
    if (rc == LD_OK)
        rc = s->host->principals(s->ctx, READERS, add_reader, &rd);
    if (rc == LD_OK && rd.oom)
        rc = LD_ERR_NOMEM;
    for (size_t i = 0; i < rd.n && rc == LD_OK; i++)
        rc = s->host->emit(s->ctx, txn, rd.ids[i], bbuf, bl);
    if (rc == LD_OK)
        s->host->log(s->ctx, LD_LOG_INFO, "checkpoint: %llu records, sent to %zu principals",
                     (unsigned long long)cp.size, rd.n);
out:
    for (size_t i = 0; i < rd.n; i++)
        free(rd.ids[i]);
    free(rd.ids);
    free(cbuf);
    free(bbuf);
    return rc;
}

static int audit_on_tick(void *st, ld_plugin_txn *txn, int64_t now_ms)
{
    state *s = st;
    (void)now_ms;
    kvarg a = {s, txn};
    lda_kv kv = make_kv(&a);
    lda_head h;
    int rc = lda_head_get(&kv, &h);
    if (rc != LD_OK || h.tree.size == h.cp_size)
        return rc;
    int64_t wall = wall_ms();
    if (h.tree.size - h.cp_size < s->cfg.checkpoint_records &&
        wall - h.cp_wall_ms < s->cfg.checkpoint_ms)
        return LD_OK;
    rc = checkpoint(s, txn, &kv, &h);
    if (rc != LD_OK)
        s->host->log(s->ctx, LD_LOG_ERROR, "checkpoint at %llu records failed: %s",
                     (unsigned long long)h.tree.size, ld_strerror(rc));
    return rc;
}

static void audit_fini(void *st)
{
    free(st);
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .name = "audit",
    .version = LDA_VERSION,
    .init = audit_init,
    .on_message = audit_on_message,
    .on_refused = audit_on_refused,
    .on_tick = audit_on_tick,
    .fini = audit_fini,
    .on_emit = audit_on_emit,
};
