/* delivery.c - checking deliveries, the receive queue, recv and ack. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int str_ok(const char *s)
{
    return s && ldc_utf8_valid(s, strlen(s));
}

static void delivery_free(ldc_delivery *d)
{
    if (!d)
        return;
    if (d->body)
        liandong__v1__body__free_unpacked(d->body, NULL);
    ldw_opened_clear(&d->inner);
    free(d->envelope);
    free(d->sender_name);
    free(d->targets);
    free(d->digests);
    if (d->token) {
        int held = LDC_HELD;
        atomic_compare_exchange_strong(&d->token->state, &held, LDC_RELEASED);
        ldc_token_unref(d->token);
    }
    free(d);
}

void ld_delivery_destroy(ld_delivery **dp)
{
    if (!dp || !*dp)
        return;
    delivery_free((ldc_delivery *)*dp);
    *dp = NULL;
}

int ldc_delivery_new(const Liandong__V1__Delivery *dm, ldc_delivery **out, char *err, size_t errlen)
{
    *out = NULL;
    if (dm->sender_sign_public.len != LDW_SIGN_PUBLIC_BYTES)
        return errf(
            err, errlen, LD_ERR_PROTOCOL, "delivery %llu carries a sender key of %zu bytes, not %d",
            (unsigned long long)dm->delivery_id, dm->sender_sign_public.len, LDW_SIGN_PUBLIC_BYTES);
    if (!str_ok(dm->sender_name))
        return errf(err, errlen, LD_ERR_PROTOCOL,
                    "delivery %llu has a sender name that is not UTF-8",
                    (unsigned long long)dm->delivery_id);
    ldc_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return errf(err, errlen, LD_ERR_NOMEM, "out of memory");
    int rc = LD_ERR_NOMEM;
    d->envelope = malloc(dm->envelope.len ? dm->envelope.len : 1);
    d->sender_name = strdup(dm->sender_name);
    if (!d->envelope || !d->sender_name) {
        errf(err, errlen, rc, "out of memory");
        goto fail;
    }
    if (dm->envelope.len)
        memcpy(d->envelope, dm->envelope.data, dm->envelope.len);

    char why[256];
    rc = ldw_envelope_open(d->envelope, dm->envelope.len, &d->inner, why, sizeof why);
    if (rc != LD_OK) {
        rc = errf(err, errlen, LD_ERR_PROTOCOL, "delivery %llu: %s",
                  (unsigned long long)dm->delivery_id, why);
        goto fail;
    }
    const Liandong__V1__Header *h = d->inner.hdr;
    uint8_t kid[LDK_KEY_ID_LEN / 2];
    char kid_hex[LDK_KEY_ID_LEN + 1];
    crypto_generichash(kid, sizeof kid, dm->sender_sign_public.data, LDW_SIGN_PUBLIC_BYTES, NULL,
                       0);
    sodium_bin2hex(kid_hex, sizeof kid_hex, kid, sizeof kid);
    if (!str_ok(h->sender) || !str_ok(h->key_id)) {
        rc = errf(err, errlen, LD_ERR_PROTOCOL, "delivery %llu: the envelope header is not UTF-8",
                  (unsigned long long)dm->delivery_id);
        goto fail;
    }
    if (strcmp(kid_hex, h->key_id) != 0) {
        rc = errf(err, errlen, LD_ERR_CRYPTO,
                  "delivery %llu: the envelope from '%s' names key %s, but the broker gave key %s",
                  (unsigned long long)dm->delivery_id, h->sender, h->key_id, kid_hex);
        goto fail;
    }
    if (ldw_envelope_verify(&d->inner, dm->sender_sign_public.data) != LD_OK) {
        rc = errf(err, errlen, LD_ERR_CRYPTO,
                  "delivery %llu: the signature of the envelope from '%s' does not verify",
                  (unsigned long long)dm->delivery_id, h->sender);
        goto fail;
    }

    ld_delivery *p = &d->pub;
    p->delivery_id = dm->delivery_id;
    memcpy(p->envelope_id, d->inner.id.bytes, LD_ENVELOPE_ID_BYTES);
    ldw_envelope_id_hex(&d->inner.id, p->envelope_id_hex);
    p->sender = h->sender;
    p->sender_name = d->sender_name;
    p->key_id = h->key_id;
    p->seq = h->seq;
    p->sent_at_ms = h->sent_at_ms;
    p->stored_at_ms = dm->stored_at_ms;
    p->envelope = d->envelope;
    p->envelope_len = dm->envelope.len;
    p->body = d->inner.env->body.data;
    p->body_len = d->inner.env->body.len;

    /* A body type this library does not know is still delivered, as "unknown"
     * with its bytes: the signature is good, the application may know it. */
    d->body = ldw_opened_body(&d->inner);
    p->type = d->body ? ldw_body_name(d->body->msg_case) : "unknown";
    if (d->body && d->body->msg_case == LIANDONG__V1__BODY__MSG_DIRECT) {
        const Liandong__V1__Direct *dir = d->body->direct;
        int ok = str_ok(dir->text) && str_ok(dir->content_type);
        for (size_t i = 0; ok && i < dir->n_to; i++)
            ok = str_ok(dir->to[i]);
        if (!ok) {
            rc = errf(err, errlen, LD_ERR_PROTOCOL,
                      "delivery %llu: the direct message from '%s' has text that is not UTF-8",
                      (unsigned long long)dm->delivery_id, h->sender);
            goto fail;
        }
        p->text = dir->text;
        p->payload = dir->payload.len ? dir->payload.data : NULL;
        p->payload_len = dir->payload.len;
        p->content_type = dir->content_type;
        p->to = (const char *const *)dir->to;
        p->n_to = dir->n_to;
    }
    char why2[256];
    rc = ldc_delivery_plan_view(d, why2, sizeof why2);
    if (rc == LD_OK)
        rc = ldc_delivery_escalation_view(d, why2, sizeof why2);
    if (rc == LD_OK)
        rc = ldc_delivery_audit_view(d, why2, sizeof why2);
    if (rc != LD_OK) {
        rc = errf(err, errlen, rc, "delivery %llu: the %s from '%s' %s",
                  (unsigned long long)dm->delivery_id, p->type, h->sender, why2);
        goto fail;
    }
    *out = d;
    return LD_OK;
fail:
    delivery_free(d);
    return rc;
}

void ldc_flush_acks(ld_client *c)
{
    if (!c->n_acks)
        return;
    Liandong__V1__DeliveryAck da = LIANDONG__V1__DELIVERY_ACK__INIT;
    da.n_delivery_ids = c->n_acks;
    da.delivery_ids = c->acks;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY_ACK;
    b.delivery_ack = &da;
    c->n_acks = 0;
    /* Not connected: lost; the broker redelivers and the repeat is acked. */
    (void)ldc_send_session(c, &b, NULL);
}

/* Acknowledge a delivery id: gathered, sent with the next flush. */
static void queue_delivery_ack(ld_client *c, uint64_t delivery_id)
{
    c->acks[c->n_acks++] = delivery_id;
    if (c->n_acks == LDC_ACK_BATCH)
        ldc_flush_acks(c);
}

/* Duplicates (same envelope id) are dropped. One that repeats a delivery the
 * application still holds (queued, or handed out and neither acknowledged nor
 * destroyed) is dropped silently: the application's own ack will empty the
 * mailbox entry, and if it never comes the entry must stay. Any other
 * duplicate (the original was acknowledged or destroyed, or it is a second
 * mailbox entry) is acknowledged here so it leaves the mailbox. */
void ldc_on_delivery(ld_client *c, const Liandong__V1__Delivery *dm)
{
    ldc_delivery *d;
    char err[LDC_ERR_MAX - 32];
    int rc = ldc_delivery_new(dm, &d, err, sizeof err);
    if (rc != LD_OK) {
        ldc_fail(c, rc, "dropped a delivery: %s", err);
        return;
    }
    /* The broker vouches for every other sender's key; for its own messages
     * the key is the one in broker.pub, whatever the Delivery says. */
    if (strcmp(d->pub.sender, c->broker->id) == 0) {
        if (dm->sender_sign_public.len != LDW_SIGN_PUBLIC_BYTES ||
            sodium_memcmp(dm->sender_sign_public.data, c->broker->sign_public,
                          LDW_SIGN_PUBLIC_BYTES) != 0) {
            ldc_fail(c, LD_ERR_CRYPTO,
                     "dropped delivery %llu: it claims to come from the broker '%s' but is not "
                     "signed with the key in the broker key file",
                     (unsigned long long)d->pub.delivery_id, c->broker->id);
            delivery_free(d);
            return;
        }
        d->pub.from_broker = 1;
        if (d->pub.checkpoint &&
            ldc_checkpoint_verify(d->pub.checkpoint, c->broker->sign_public) != LD_OK) {
            ldc_fail(c, LD_ERR_CRYPTO,
                     "dropped delivery %llu: the broker's checkpoint of %llu records does not "
                     "verify with the key in the broker key file",
                     (unsigned long long)d->pub.delivery_id,
                     (unsigned long long)d->pub.checkpoint->size);
            delivery_free(d);
            return;
        }
    } else {
        d->pub.checkpoint = NULL; /* only the broker states the log's state */
    }
    ldc_dedup_entry *e = ldc_dedup_find(&c->dedup, d->pub.envelope_id);
    if (e) {
        int held = e->token && e->delivery_id == d->pub.delivery_id &&
                   atomic_load(&e->token->state) == LDC_HELD;
        if (!held)
            queue_delivery_ack(c, d->pub.delivery_id);
        delivery_free(d);
        return;
    }
    d->token = ldc_token_new();
    if (!d->token) {
        delivery_free(d);
        ldc_fail(c, LD_ERR_NOMEM, "dropped a delivery: out of memory");
        return;
    }
    ldc_dedup_insert(&c->dedup, d->pub.envelope_id, d->pub.delivery_id, d->token);
    if (c->q_tail)
        c->q_tail->next = d;
    else
        c->q_head = d;
    c->q_tail = d;
}

void ldc_queue_clear(ld_client *c)
{
    while (c->q_head) {
        ldc_delivery *d = c->q_head;
        c->q_head = d->next;
        delivery_free(d);
    }
    c->q_tail = NULL;
}

static ld_delivery *pop(ld_client *c)
{
    ldc_delivery *d = c->q_head;
    c->q_head = d->next;
    if (!c->q_head)
        c->q_tail = NULL;
    d->next = NULL;
    return &d->pub;
}

int ld_client_recv(ld_client *c, int timeout_ms, ld_delivery **out)
{
    if (!c || !out)
        return LD_ERR_INVALID;
    *out = NULL;
    if (!c->connected)
        return ldc_fail(c, LD_ERR_INVALID, "not connected: call ld_client_connect first");
    int64_t deadline = timeout_ms < 0 ? 0 : ldc_mono_ms() + timeout_ms;
    for (;;) {
        if (c->q_head) {
            *out = pop(c);
            return LD_OK;
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            int64_t left = deadline - ldc_mono_ms();
            wait = left > 0 ? (int)left : 0;
        }
        int rc = ldc_transport_step(c, wait);
        if (rc != LD_OK)
            return rc;
        if (!c->q_head && timeout_ms >= 0 && ldc_mono_ms() >= deadline)
            return ldc_fail(c, LD_ERR_TIMEOUT, "no delivery within %d ms", timeout_ms);
    }
}

int ld_client_ack(ld_client *c, const ld_delivery *d)
{
    if (!c || !d)
        return LD_ERR_INVALID;
    const ldc_delivery *x = (const ldc_delivery *)d;
    if (x->token)
        atomic_store(&x->token->state, LDC_ACKED);
    /* Sent with others before the client next waits (or when the batch is
     * full). Not connected then: the broker redelivers on the next session
     * and the duplicate is acknowledged then (the token says acked). */
    queue_delivery_ack(c, d->delivery_id);
    return LD_OK;
}
