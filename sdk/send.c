/* send.c - sequence-numbered sends: blocking ones that wait for the broker's
 * Ack or Nack, and pipelined submissions collected with ld_client_wait_result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldc.h"

static void sub_free(ldc_sub *s)
{
    if (!s)
        return;
    free(s->bytes);
    free(s->text);
    free(s->reply);
    free(s);
}

void ldc_subs_clear(ld_client *c)
{
    for (size_t i = 0; i < c->n_subs; i++)
        sub_free(c->subs[i]);
    free(c->subs);
    c->subs = NULL;
    c->n_subs = 0;
}

/* Take submission i out of the list (order kept); the caller frees it. */
static ldc_sub *sub_take(ld_client *c, size_t i)
{
    ldc_sub *s = c->subs[i];
    memmove(&c->subs[i], &c->subs[i + 1], (c->n_subs - i - 1) * sizeof *c->subs);
    c->n_subs--;
    return s;
}

void ldc_resend_pending(ld_client *c)
{
    int64_t next = ldc_mono_ms() + c->resend_interval_ms;
    for (size_t i = 0; i < c->n_subs; i++) {
        ldc_sub *s = c->subs[i];
        if (s->done)
            continue;
        if (ldc_transport_send(c, s->bytes, s->len) != LD_OK)
            return; /* the connection went again: the next handshake resends */
        s->resend_at = next;
    }
}

/* Resend, in order, the unanswered submissions from the first one whose
 * resend time has come (keeping the order the broker sees them in); returns
 * the earliest resend time still ahead, or INT64_MAX. */
static int64_t resend_due(ld_client *c, int64_t now)
{
    size_t first = c->n_subs;
    for (size_t i = 0; i < c->n_subs; i++)
        if (!c->subs[i]->done && c->subs[i]->resend_at <= now) {
            first = i;
            break;
        }
    if (first < c->n_subs) {
        for (size_t i = first; i < c->n_subs; i++) {
            ldc_sub *s = c->subs[i];
            if (s->done)
                continue;
            if (ldc_transport_send(c, s->bytes, s->len) != LD_OK)
                break;
            s->resend_at = now + c->resend_interval_ms;
        }
    }
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < c->n_subs; i++)
        if (!c->subs[i]->done && c->subs[i]->resend_at < next)
            next = c->subs[i]->resend_at;
    return next;
}

static int id_is(const ProtobufCBinaryData *b, const ldw_envelope_id *id)
{
    return b->len == LDW_ENVELOPE_ID_BYTES &&
           memcmp(b->data, id->bytes, LDW_ENVELOPE_ID_BYTES) == 0;
}

/* The unanswered submission an answer names; with anon, the oldest unanswered. */
static ldc_sub *find_sub(ld_client *c, const ProtobufCBinaryData *id, int anon)
{
    for (size_t i = 0; i < c->n_subs; i++) {
        ldc_sub *s = c->subs[i];
        if (!s->done && (anon || id_is(id, &s->id)))
            return s;
    }
    return NULL;
}

void ldc_on_ack(ld_client *c, const Liandong__V1__Ack *a)
{
    ldc_sub *p = find_sub(c, &a->envelope_id, 0);
    if (!p)
        return; /* a second Ack (after a resend), or one for a send that timed out */
    memcpy(p->ack.envelope_id, p->id.bytes, LD_ENVELOPE_ID_BYTES);
    p->ack.seq = a->seq;
    p->ack.duplicate = a->duplicate ? 1 : 0;
    p->ack.clock_ms = a->clock_ms;
    if (a->reply.len && p->blocking) {
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
 * envelopes, so it is taken as the refusal of the oldest unanswered
 * submission, or of the Hello we wait an answer for; otherwise it is only
 * noted. */
void ldc_on_nack(ld_client *c, const Liandong__V1__Nack *n)
{
    const char *text = n->text && n->text[0] ? n->text : "(no text)";
    int anon = n->envelope_id.len == 0;
    if (c->hello_wait && (id_is(&n->envelope_id, &c->hello_id) || (anon && !c->n_subs))) {
        c->last_reason = n->code;
        c->hello_rc = ldc_fail(c, LD_ERR_REFUSED, "%s", text);
        return;
    }
    ldc_sub *p = find_sub(c, &n->envelope_id, anon);
    if (p) {
        p->done = -1;
        p->reason = n->code;
        p->text = strdup(text); /* NULL: reported as "(no text)" */
        return;
    }
    ldc_fail(c, LD_ERR_REFUSED, "the broker refused an earlier message: %s: %s",
             ldw_reason_name(n->code), text);
}

/* Seal body with the next sequence number, send it and add it to the list.
 * The caller checked there is room. */
static int submit(ld_client *c, const uint8_t *body, size_t body_len, int blocking, ldc_sub **out)
{
    if (!c->established)
        return ldc_fail(c, LD_ERR_INVALID, "not connected: call ld_client_connect first");
    ldc_sub *p = calloc(1, sizeof *p);
    if (!p)
        return ldc_fail(c, LD_ERR_NOMEM, "out of memory submitting a message");
    p->seq = c->last_seq + 1;
    p->blocking = blocking;
    ldw_header_fields h = {.sender = c->ident->id,
                           .key_id = c->ident->key_id,
                           .seq = p->seq,
                           .sent_at_ms = ldw_now_ms()};
    int rc =
        ldw_envelope_seal(&h, body, body_len, c->ident->sign_secret, &p->bytes, &p->len, &p->id);
    if (rc != LD_OK) {
        sub_free(p);
        return ldc_fail(c, rc, "could not seal the message: %s", ld_strerror(rc));
    }
    /* From here the broker may accept it, so the number is used up. */
    c->last_seq = p->seq;
    int64_t now = ldc_mono_ms();
    p->deadline = now + c->send_timeout_ms;
    p->resend_at = now + c->resend_interval_ms;
    c->subs[c->n_subs++] = p;
    rc = ldc_transport_send(c, p->bytes, p->len);
    if (rc == LD_ERR_CLOSED)
        rc = LD_OK; /* not connected now: sent again after the next handshake */
    if (rc != LD_OK) {
        /* A ZeroMQ failure: it was not sent; give the number back if we can. */
        sub_free(sub_take(c, c->n_subs - 1));
        if (c->last_seq == h.seq)
            c->last_seq = h.seq - 1;
        return rc;
    }
    *out = p;
    return LD_OK;
}

/* Wait until p is answered, its send timeout passes, or until (monotonic
 * ms, -1: no limit); deliveries and other answers are handled meanwhile.
 * LD_OK (look at p->done and the clock), or a transport error. */
static int wait_for(ld_client *c, ldc_sub *p, int64_t until)
{
    int rc = ldc_transport_step(c, 0); /* take what has arrived already */
    while (rc == LD_OK && !p->done) {
        int64_t now = ldc_mono_ms();
        if (now >= p->deadline || (until >= 0 && now >= until))
            break;
        int64_t next = resend_due(c, now);
        if (p->deadline < next)
            next = p->deadline;
        if (until >= 0 && until < next)
            next = until;
        rc = ldc_transport_step(c, (int)(next - now));
    }
    return rc;
}

/* After a refusal: the number can be used again if nothing later was
 * sealed, except after REPLAY, which says the broker is already past it. */
static void give_back_seq(ld_client *c, const ldc_sub *p)
{
    if (p->reason != LD_REASON_REPLAY && c->last_seq == p->seq)
        c->last_seq = p->seq - 1;
}

static void timeout_text(const ld_client *c, const ldc_sub *p, char *buf, size_t len)
{
    char hex[2 * LDW_ENVELOPE_ID_BYTES + 1];
    ldw_envelope_id_hex(&p->id, hex);
    snprintf(buf, len,
             "the broker did not acknowledge envelope %s (seq %llu) within %d ms%s; it may or may "
             "not have stored it",
             hex, (unsigned long long)p->seq, c->send_timeout_ms,
             c->link_up ? "" : " (the connection to the broker is down)");
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
    c->last_reason = LD_REASON_UNSPECIFIED;
    if (c->n_subs > c->send_window)
        return ldc_fail(c, LD_ERR_WINDOW_FULL, "the send window is full");
    ldc_sub *p;
    int rc = submit(c, body, body_len, 1, &p);
    if (rc != LD_OK)
        return rc;
    rc = wait_for(c, p, -1);
    size_t i = 0;
    while (c->subs[i] != p)
        i++;
    sub_take(c, i);
    if (rc == LD_OK && p->done > 0) {
        if (ack)
            *ack = p->ack;
        if (reply) {
            *reply = p->reply;
            *reply_len = p->reply_len;
            p->reply = NULL;
        }
    } else if (rc == LD_OK && p->done < 0) {
        give_back_seq(c, p);
        c->last_reason = p->reason;
        rc = ldc_fail(c, LD_ERR_REFUSED, "%s", p->text ? p->text : "(no text)");
    } else if (rc == LD_OK) {
        char text[LDC_ERR_MAX];
        timeout_text(c, p, text, sizeof text);
        rc = ldc_fail(c, LD_ERR_TIMEOUT, "%s", text);
    }
    sub_free(p);
    return rc;
}

/* Submit without waiting (the ld_client_submit_* calls). */
static int submit_stored(ld_client *c, const uint8_t *body, size_t body_len, ld_submission *sub)
{
    c->last_reason = LD_REASON_UNSPECIFIED;
    if (c->n_subs >= c->send_window)
        return ldc_fail(c, LD_ERR_WINDOW_FULL,
                        "the send window is full: %zu submissions are not collected yet "
                        "(options.send_window %u); collect one with ld_client_wait_result first",
                        c->n_subs, c->send_window);
    ldc_sub *p;
    int rc = submit(c, body, body_len, 0, &p);
    if (rc == LD_OK && sub) {
        sub->seq = p->seq;
        memcpy(sub->envelope_id, p->id.bytes, LD_ENVELOPE_ID_BYTES);
    }
    return rc;
}

size_t ld_client_in_flight(const ld_client *c)
{
    size_t n = 0;
    if (c)
        for (size_t i = 0; i < c->n_subs; i++)
            n += !c->subs[i]->blocking;
    return n;
}

int ld_client_wait_result(ld_client *c, int timeout_ms, ld_send_result *out)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!out)
        return ldc_fail(c, LD_ERR_INVALID, "ld_client_wait_result needs a result pointer");
    /* The oldest submission a wait_result may return (blocking sends are
     * the blocking call's own). */
    ldc_sub *p = NULL;
    size_t i;
    for (i = 0; i < c->n_subs && !p; i++)
        if (!c->subs[i]->blocking)
            p = c->subs[i];
    if (!p)
        return ldc_fail(c, LD_ERR_NOT_FOUND, "no submission to wait for");
    int64_t until = timeout_ms < 0 ? -1 : ldc_mono_ms() + timeout_ms;
    int rc = wait_for(c, p, until);
    if (rc != LD_OK)
        return rc;
    if (!p->done && ldc_mono_ms() < p->deadline) {
        char hex[2 * LDW_ENVELOPE_ID_BYTES + 1];
        ldw_envelope_id_hex(&p->id, hex);
        return ldc_fail(c, LD_ERR_TIMEOUT,
                        "no answer yet for envelope %s (seq %llu) within %d ms; it stays in "
                        "flight",
                        hex, (unsigned long long)p->seq, timeout_ms);
    }
    memset(out, 0, sizeof *out);
    out->seq = p->seq;
    memcpy(out->envelope_id, p->id.bytes, LD_ENVELOPE_ID_BYTES);
    out->reason = LD_REASON_UNSPECIFIED;
    if (p->done > 0) {
        out->status = LD_OK;
        out->ack = p->ack;
    } else if (p->done < 0) {
        give_back_seq(c, p);
        out->status = LD_ERR_REFUSED;
        out->reason = p->reason;
        snprintf(out->text, sizeof out->text, "%s", p->text ? p->text : "(no text)");
    } else {
        out->status = LD_ERR_TIMEOUT;
        timeout_text(c, p, out->text, sizeof out->text);
    }
    sub_take(c, i - 1);
    sub_free(p);
    return LD_OK;
}

/* LD_OK if body is a serialized Body a client may send as a stored message. */
static int check_body(ld_client *c, const uint8_t *body, size_t body_len)
{
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
    case LIANDONG__V1__BODY__MSG_ANSWERS:
    case LIANDONG__V1__BODY__MSG_DELIVERIES:
        return ldc_fail(c, LD_ERR_INVALID,
                        "a '%s' body is a session or broker message, not one to send",
                        ldw_body_name(mc));
    default: break;
    }
    return LD_OK;
}

int ld_client_send_body(ld_client *c, const uint8_t *body, size_t body_len, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = check_body(c, body, body_len);
    return rc == LD_OK ? send_stored(c, body, body_len, ack, NULL, NULL) : rc;
}

int ld_client_submit_body(ld_client *c, const uint8_t *body, size_t body_len, ld_submission *sub)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = check_body(c, body, body_len);
    return rc == LD_OK ? submit_stored(c, body, body_len, sub) : rc;
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

/* Check a Direct message's arguments and pack its Body (caller frees *out). */
static int pack_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                       const void *payload, size_t payload_len, uint8_t **out, size_t *out_len)
{
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
    size_t len = liandong__v1__body__get_packed_size(&b);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return ldc_fail(c, LD_ERR_NOMEM, "out of memory packing the message");
    liandong__v1__body__pack(&b, buf);
    *out = buf;
    *out_len = len;
    return LD_OK;
}

int ld_client_send_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                          const void *payload, size_t payload_len, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    uint8_t *buf;
    size_t len;
    int rc = pack_direct(c, to, n_to, text, payload, payload_len, &buf, &len);
    if (rc != LD_OK)
        return rc;
    rc = send_stored(c, buf, len, ack, NULL, NULL);
    free(buf);
    return rc;
}

int ld_client_submit_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                            const void *payload, size_t payload_len, ld_submission *sub)
{
    if (!c)
        return LD_ERR_INVALID;
    if (c->n_subs >= c->send_window) /* before packing: the common case when full */
        return submit_stored(c, NULL, 0, sub);
    uint8_t *buf;
    size_t len;
    int rc = pack_direct(c, to, n_to, text, payload, payload_len, &buf, &len);
    if (rc != LD_OK)
        return rc;
    rc = submit_stored(c, buf, len, sub);
    free(buf);
    return rc;
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
