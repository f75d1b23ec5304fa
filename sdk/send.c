/* send.c - sequence-numbered sends that wait for the broker's Ack or Nack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

static void pending_clear(ld_client *c)
{
    free(c->pend.bytes);
    free(c->pend.reply);
    memset(&c->pend, 0, sizeof c->pend);
}

void ldc_resend_pending(ld_client *c)
{
    if (c->pend.active && !c->pend.done)
        (void)ldc_transport_send(c, c->pend.bytes, c->pend.len);
}

static int id_is(const ProtobufCBinaryData *b, const ldw_envelope_id *id)
{
    return b->len == LDW_ENVELOPE_ID_BYTES &&
           memcmp(b->data, id->bytes, LDW_ENVELOPE_ID_BYTES) == 0;
}

void ldc_on_ack(ld_client *c, const Liandong__V1__Ack *a)
{
    ldc_pending *p = &c->pend;
    if (!p->active || p->done || !id_is(&a->envelope_id, &p->id))
        return; /* a late Ack for a send that already timed out */
    memcpy(p->ack.envelope_id, p->id.bytes, LD_ENVELOPE_ID_BYTES);
    p->ack.seq = a->seq;
    p->ack.duplicate = a->duplicate ? 1 : 0;
    p->ack.clock_ms = a->clock_ms;
    if (a->reply.len) {
        p->reply = malloc(a->reply.len);
        if (!p->reply) {
            /* Taken as a lost answer: a query asks again. */
            ldc_fail(c, LD_ERR_NOMEM, "out of memory keeping the broker's answer");
        } else {
            memcpy(p->reply, a->reply.data, a->reply.len);
            p->reply_len = a->reply.len;
        }
    }
    p->done = 1;
}

/* A Nack names the envelope it refuses. One with no id answers a frame the
 * broker could not parse (e.g. TOO_LARGE): we only ever send well-formed
 * envelopes, so it is taken as the refusal of the send in flight, or of the
 * Hello we wait an answer for; otherwise it is only noted. */
void ldc_on_nack(ld_client *c, const Liandong__V1__Nack *n)
{
    ldc_pending *p = &c->pend;
    const char *text = n->text && n->text[0] ? n->text : "(no text)";
    int anon = n->envelope_id.len == 0;
    if (p->active && !p->done && (id_is(&n->envelope_id, &p->id) || anon)) {
        p->done = -1;
        p->reason = n->code;
        snprintf(p->text, sizeof p->text, "%s", text);
        return;
    }
    if (c->hello_wait && (id_is(&n->envelope_id, &c->hello_id) || anon)) {
        c->last_reason = n->code;
        c->hello_rc = ldc_fail(c, LD_ERR_REFUSED, "%s", text);
        return;
    }
    ldc_fail(c, LD_ERR_REFUSED, "the broker refused an earlier message: %s: %s",
             ldw_reason_name(n->code), text);
}

/* Seal body with the next sequence number, send, and wait for the answer.
 * On LD_OK, *reply (if reply is not NULL) takes the Ack's reply. */
static int send_stored(ld_client *c, const uint8_t *body, size_t body_len, ld_ack *ack,
                       uint8_t **reply, size_t *reply_len)
{
    if (reply) {
        *reply = NULL;
        *reply_len = 0;
    }
    if (!c->established)
        return ldc_fail(c, LD_ERR_INVALID, "not connected: call ld_client_connect first");
    c->last_reason = LD_REASON_UNSPECIFIED;
    pending_clear(c);
    ldc_pending *p = &c->pend;
    p->seq = c->last_seq + 1;
    ldw_header_fields h = {.sender = c->ident->id,
                           .key_id = c->ident->key_id,
                           .seq = p->seq,
                           .sent_at_ms = ldw_now_ms()};
    int rc =
        ldw_envelope_seal(&h, body, body_len, c->ident->sign_secret, &p->bytes, &p->len, &p->id);
    if (rc != LD_OK) {
        pending_clear(c);
        return ldc_fail(c, rc, "could not seal the message: %s", ld_strerror(rc));
    }
    /* From here the broker may accept it, so the number is used up. */
    c->last_seq = p->seq;
    p->active = 1;

    int64_t now = ldc_mono_ms();
    int64_t deadline = now + c->send_timeout_ms;
    int64_t resend_at = now + c->resend_interval_ms;
    rc = ldc_transport_send(c, p->bytes, p->len);
    if (rc == LD_ERR_CLOSED)
        rc = LD_OK; /* not connected now: sent again after the next handshake */
    while (rc == LD_OK && !p->done) {
        now = ldc_mono_ms();
        if (now >= deadline)
            break;
        if (now >= resend_at) {
            ldc_resend_pending(c);
            resend_at = now + c->resend_interval_ms;
        }
        int64_t until = resend_at < deadline ? resend_at : deadline;
        rc = ldc_transport_step(c, (int)(until - now));
    }

    char hex[2 * LDW_ENVELOPE_ID_BYTES + 1];
    ldw_envelope_id_hex(&p->id, hex);
    if (rc == LD_OK && p->done > 0) {
        if (ack)
            *ack = p->ack;
        if (reply) {
            *reply = p->reply;
            *reply_len = p->reply_len;
            p->reply = NULL;
        }
    } else if (rc == LD_OK && p->done < 0) {
        /* Refused means not stored: the number can be used again, except
         * after REPLAY, which says the broker is already past it. */
        if (p->reason != LD_REASON_REPLAY && c->last_seq == p->seq)
            c->last_seq = p->seq - 1;
        c->last_reason = p->reason;
        rc = ldc_fail(c, LD_ERR_REFUSED, "%s", p->text);
    } else if (rc == LD_OK) {
        rc = ldc_fail(c, LD_ERR_TIMEOUT,
                      "the broker did not acknowledge envelope %s (seq %llu) within %d ms%s; it "
                      "may or may not have stored it",
                      hex, (unsigned long long)p->seq, c->send_timeout_ms,
                      c->link_up ? "" : " (the connection to the broker is down)");
    }
    pending_clear(c);
    return rc;
}

int ld_client_send_body(ld_client *c, const uint8_t *body, size_t body_len, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!body && body_len)
        return ldc_fail(c, LD_ERR_INVALID, "body is NULL");
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, body_len, body);
    if (!b)
        return ldc_fail(c, LD_ERR_INVALID, "the body is not a serialized liandong.v1.Body");
    Liandong__V1__Body__MsgCase mc = b->msg_case;
    size_t unknown = b->base.n_unknown_fields;
    liandong__v1__body__free_unpacked(b, NULL);
    switch (mc) {
    case LIANDONG__V1__BODY__MSG__NOT_SET:
        if (!unknown)
            return ldc_fail(c, LD_ERR_INVALID, "the body holds no message");
        break; /* a message type newer than this library */
    case LIANDONG__V1__BODY__MSG_HELLO:
    case LIANDONG__V1__BODY__MSG_HELLO_REPLY:
    case LIANDONG__V1__BODY__MSG_ACK:
    case LIANDONG__V1__BODY__MSG_NACK:
    case LIANDONG__V1__BODY__MSG_DELIVERY:
    case LIANDONG__V1__BODY__MSG_DELIVERY_ACK:
        return ldc_fail(c, LD_ERR_INVALID,
                        "a '%s' body is a session or broker message, not one to send",
                        ldw_body_name(mc));
    default: break;
    }
    return send_stored(c, body, body_len, ack, NULL, NULL);
}

int ldc_send_packed(ld_client *c, const Liandong__V1__Body *b, ld_ack *ack, uint8_t **reply,
                    size_t *reply_len)
{
    size_t len = liandong__v1__body__get_packed_size(b);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return ldc_fail(c, LD_ERR_NOMEM, "out of memory packing the message");
    liandong__v1__body__pack(b, buf);
    int rc = send_stored(c, buf, len, ack, reply, reply_len);
    free(buf);
    return rc;
}

static int send_packed(ld_client *c, const Liandong__V1__Body *b, ld_ack *ack)
{
    return ldc_send_packed(c, b, ack, NULL, NULL);
}

int ld_client_send_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                          const void *payload, size_t payload_len, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!to || n_to == 0)
        return ldc_fail(c, LD_ERR_INVALID, "a direct message needs at least one recipient");
    for (size_t i = 0; i < n_to; i++)
        if (!to[i] || !ldk_id_valid(to[i]))
            return ldc_fail(c, LD_ERR_INVALID,
                            "recipient '%s' is not a valid principal id ([a-z0-9._-], 1 to %d "
                            "bytes)",
                            to[i] ? to[i] : "(null)", LDK_ID_MAX);
    if (!text)
        text = "";
    if (!ldc_utf8_valid(text, strlen(text)))
        return ldc_fail(c, LD_ERR_INVALID, "the text is not valid UTF-8");
    if (!payload && payload_len)
        return ldc_fail(c, LD_ERR_INVALID, "payload is NULL but payload_len is not 0");
    if (!text[0] && !payload_len)
        return ldc_fail(c, LD_ERR_INVALID, "nothing to send: no text and no payload");

    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    d.n_to = n_to;
    d.to = (char **)to;
    d.text = (char *)text;
    d.payload.data = (uint8_t *)payload;
    d.payload.len = payload_len;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b.direct = &d;
    return send_packed(c, &b, ack);
}

int ld_client_clock_advance(ld_client *c, int64_t by_ms, int64_t *clock_ms)
{
    if (!c)
        return LD_ERR_INVALID;
    if (by_ms <= 0)
        return ldc_fail(c, LD_ERR_INVALID, "the clock can only be advanced by a positive time");
    Liandong__V1__ClockAdvance ca = LIANDONG__V1__CLOCK_ADVANCE__INIT;
    ca.by_ms = by_ms;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE;
    b.clock_advance = &ca;
    ld_ack a;
    int rc = send_packed(c, &b, &a);
    if (rc == LD_OK && clock_ms)
        *clock_ms = a.clock_ms;
    return rc;
}

int ldc_query(ld_client *c, const Liandong__V1__Body *b, const char *what, const char *plugin,
              uint8_t **reply, size_t *reply_len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        ld_ack ack;
        int rc = ldc_send_packed(c, b, &ack, reply, reply_len);
        if (rc != LD_OK)
            return rc;
        if (*reply)
            return LD_OK;
        if (!ack.duplicate)
            return ldc_fail(c, LD_ERR_PROTOCOL,
                            "the broker acknowledged the %s (seq %llu) without an answer: is the "
                            "%s plugin loaded?",
                            what, (unsigned long long)ack.seq, plugin);
    }
    return ldc_fail(c, LD_ERR_PROTOCOL,
                    "the broker acknowledged the %s twice as a duplicate without an answer", what);
}
