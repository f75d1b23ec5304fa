/* audit.c - audit log queries (ld_audit_page) and the Checkpoint view. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

#define CP_DOMAIN "liandong/checkpoint/v1"

static int s_ok(const char *s)
{
    return s && ldc_utf8_valid(s, strlen(s));
}

/* ---- Checkpoint deliveries --------------------------------------------------- */

int ldc_delivery_audit_view(ldc_delivery *d, char *err, size_t errlen)
{
    if (!d->body || d->body->msg_case != LIANDONG__V1__BODY__MSG_CHECKPOINT)
        return LD_OK;
    const Liandong__V1__Checkpoint *m = d->body->checkpoint;
    if (!m || m->root.len != 32 || m->signature.len != 64 ||
        (m->head_hash.len != 0 && m->head_hash.len != 32)) {
        snprintf(err, errlen, "has a root, signature or head hash of the wrong size");
        return LD_ERR_PROTOCOL;
    }
    if (!s_ok(m->key_id)) {
        snprintf(err, errlen, "has text that is not UTF-8");
        return LD_ERR_PROTOCOL;
    }
    d->checkpoint.size = m->size;
    d->checkpoint.root = m->root.data;
    d->checkpoint.at_ms = m->at_ms;
    d->checkpoint.signature = m->signature.data;
    d->checkpoint.key_id = m->key_id;
    d->checkpoint.head_hash = m->head_hash.len ? m->head_hash.data : NULL;
    d->pub.checkpoint = &d->checkpoint;
    return LD_OK;
}

static void be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

int ldc_checkpoint_verify(const ld_checkpoint *cp, const uint8_t *sign_public)
{
    uint8_t msg[sizeof CP_DOMAIN - 1 + 8 + 32 + 8];
    size_t n = sizeof CP_DOMAIN - 1;
    memcpy(msg, CP_DOMAIN, n);
    be64_put(msg + n, cp->size);
    memcpy(msg + n + 8, cp->root, 32);
    be64_put(msg + n + 8 + 32, (uint64_t)cp->at_ms);
    return crypto_sign_verify_detached(cp->signature, msg, sizeof msg, sign_public) == 0
               ? LD_OK
               : LD_ERR_CRYPTO;
}

/* ---- queries ------------------------------------------------------------------------ */

typedef struct ldc_audit_page {
    ld_audit_page pub;        /* first member: ld_audit_page * casts to ldc_audit_page * */
    Liandong__V1__Body *body; /* the unpacked answer; strings point into it */
} ldc_audit_page;

void ld_audit_page_destroy(ld_audit_page **pp)
{
    if (!pp || !*pp)
        return;
    ldc_audit_page *p = (ldc_audit_page *)*pp;
    if (p->body)
        liandong__v1__body__free_unpacked(p->body, NULL);
    free(p->pub.records);
    free(p);
    *pp = NULL;
}

static int record_ok(const Liandong__V1__AuditRecord *r)
{
    if (!r || !s_ok(r->sender) || !s_ok(r->key_id) || !s_ok(r->type) || !s_ok(r->verdict_text) ||
        !s_ok(r->task))
        return 0;
    for (size_t i = 0; i < r->n_recipients; i++)
        if (!s_ok(r->recipients[i]))
            return 0;
    return 1;
}

int ldc_audit_page_from_reply(const uint8_t *reply, size_t len, ld_audit_page **out, char *err,
                              size_t errlen)
{
    *out = NULL;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, len, reply);
    if (!b) {
        snprintf(err, errlen, "the broker's answer to the audit query does not parse");
        return LD_ERR_PROTOCOL;
    }
    if (b->msg_case != LIANDONG__V1__BODY__MSG_AUDIT_REPLY) {
        snprintf(err, errlen, "the broker answered the audit query with a '%s', not records",
                 ldw_body_name(b->msg_case));
        liandong__v1__body__free_unpacked(b, NULL);
        return LD_ERR_PROTOCOL;
    }
    const Liandong__V1__AuditReply *r = b->audit_reply;
    for (size_t i = 0; i < r->n_records; i++) {
        if (!record_ok(r->records[i])) {
            snprintf(err, errlen, "the broker's audit record %zu has text that is not UTF-8", i);
            liandong__v1__body__free_unpacked(b, NULL);
            return LD_ERR_PROTOCOL;
        }
        if (r->records[i]->hash.len != 32) {
            snprintf(err, errlen, "the broker's audit record %llu has a hash of %zu bytes, not 32",
                     (unsigned long long)r->records[i]->index, r->records[i]->hash.len);
            liandong__v1__body__free_unpacked(b, NULL);
            return LD_ERR_PROTOCOL;
        }
    }
    ldc_audit_page *p = calloc(1, sizeof *p);
    if (p && r->n_records) {
        p->pub.records = calloc(r->n_records, sizeof *p->pub.records);
        if (!p->pub.records) {
            free(p);
            p = NULL;
        }
    }
    if (!p) {
        liandong__v1__body__free_unpacked(b, NULL);
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    p->body = b;
    p->pub.n_records = r->n_records;
    p->pub.next_index = r->next_index;
    p->pub.log_size = r->log_size;
    for (size_t i = 0; i < r->n_records; i++) {
        const Liandong__V1__AuditRecord *x = r->records[i];
        ld_audit_record *o = &p->pub.records[i];
        o->index = x->index;
        o->at_ms = x->at_ms;
        o->sender = x->sender;
        o->key_id = x->key_id;
        o->type = x->type;
        o->envelope = x->envelope.len ? x->envelope.data : NULL;
        o->envelope_len = x->envelope.len;
        o->verdict = (int)x->verdict;
        o->verdict_text = x->verdict_text;
        memcpy(o->hash, x->hash.data, 32);
        o->task = x->task;
        o->recipients = (const char *const *)x->recipients;
        o->n_recipients = x->n_recipients;
    }
    *out = &p->pub;
    return LD_OK;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

int ld_client_audit_query(ld_client *c, const ld_audit_query *q, ld_audit_page **out)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!out)
        return ldc_fail(c, LD_ERR_INVALID, "ld_client_audit_query needs an out pointer");
    *out = NULL;
    ld_audit_query none = {0};
    if (!q)
        q = &none;
    const char *s[] = {nz(q->task), nz(q->dept), nz(q->type), nz(q->verdict)};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!ldc_utf8_valid(s[i], strlen(s[i])))
            return ldc_fail(c, LD_ERR_INVALID,
                            "the task, principal id, type or verdict is not valid UTF-8");
    if (*s[3] && strcmp(s[3], "accepted") != 0 && strcmp(s[3], "refused") != 0)
        return ldc_fail(c, LD_ERR_INVALID, "the verdict is accepted or refused, not '%.32s'", s[3]);
    if (q->since_ms < 0 || q->until_ms < 0)
        return ldc_fail(c, LD_ERR_INVALID, "a negative time in the audit query");

    Liandong__V1__AuditQuery aq = LIANDONG__V1__AUDIT_QUERY__INIT;
    aq.task = (char *)s[0];
    aq.dept = (char *)s[1];
    aq.type = (char *)s[2];
    aq.since_ms = q->since_ms;
    aq.until_ms = q->until_ms;
    aq.verdict = (char *)s[3];
    aq.limit = q->limit;
    aq.after_index = q->after_index;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_AUDIT_QUERY;
    b.audit_query = &aq;

    uint8_t *reply;
    size_t reply_len;
    int rc = ldc_query(c, &b, "audit query", "audit", &reply, &reply_len);
    if (rc != LD_OK)
        return rc;
    char err[LDC_ERR_MAX - 32];
    rc = ldc_audit_page_from_reply(reply, reply_len, out, err, sizeof err);
    free(reply);
    return rc == LD_OK ? LD_OK : ldc_fail(c, rc, "%s", err);
}
