/* envelope.c - seal, open and verify envelopes. */
#include "ldw/envelope.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liandong/error.h"

#define DOMAIN_LEN (sizeof(LDW_DOMAIN) - 1)

char *ldw_envelope_id_hex(const ldw_envelope_id *id, char *buf)
{
    sodium_bin2hex(buf, LDW_ENVELOPE_ID_BYTES * 2 + 1, id->bytes, LDW_ENVELOPE_ID_BYTES);
    return buf;
}

/* Hash and, if sk is set, sign DOMAIN || header || body in one pass each. */
static void signed_bytes_id(const uint8_t *h, size_t hlen, const uint8_t *b, size_t blen,
                            ldw_envelope_id *id)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, LDW_ENVELOPE_ID_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)LDW_DOMAIN, DOMAIN_LEN);
    crypto_generichash_update(&st, h, hlen);
    crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, id->bytes, LDW_ENVELOPE_ID_BYTES);
}

/* The signed message, contiguous (Ed25519 is not streamable in its pure form). */
static uint8_t *signed_bytes(const uint8_t *h, size_t hlen, const uint8_t *b, size_t blen,
                             size_t *len)
{
    *len = DOMAIN_LEN + hlen + blen;
    uint8_t *m = malloc(*len ? *len : 1);
    if (!m)
        return NULL;
    memcpy(m, LDW_DOMAIN, DOMAIN_LEN);
    if (hlen)
        memcpy(m + DOMAIN_LEN, h, hlen);
    if (blen)
        memcpy(m + DOMAIN_LEN + hlen, b, blen);
    return m;
}

int ldw_envelope_seal(const ldw_header_fields *f, const uint8_t *body, size_t body_len,
                      const uint8_t sign_secret[LDW_SIGN_SECRET_BYTES], uint8_t **out,
                      size_t *out_len, ldw_envelope_id *id_out)
{
    if (!f || !f->sender || !f->key_id || (!body && body_len) || !sign_secret || !out || !out_len)
        return LD_ERR_INVALID;

    Liandong__V1__Header hdr = LIANDONG__V1__HEADER__INIT;
    hdr.sender = (char *)f->sender;
    hdr.key_id = (char *)f->key_id;
    hdr.seq = f->seq;
    hdr.sent_at_ms = f->sent_at_ms;
    size_t hlen = liandong__v1__header__get_packed_size(&hdr);
    uint8_t *h = malloc(hlen ? hlen : 1);
    if (!h)
        return LD_ERR_NOMEM;
    liandong__v1__header__pack(&hdr, h);

    size_t mlen;
    uint8_t *m = signed_bytes(h, hlen, body, body_len, &mlen);
    if (!m) {
        free(h);
        return LD_ERR_NOMEM;
    }
    uint8_t sig[LDW_SIGNATURE_BYTES];
    crypto_sign_detached(sig, NULL, m, mlen, sign_secret);
    free(m);

    Liandong__V1__Envelope env = LIANDONG__V1__ENVELOPE__INIT;
    env.header.data = h;
    env.header.len = hlen;
    env.body.data = (uint8_t *)body;
    env.body.len = body_len;
    env.signature.data = sig;
    env.signature.len = sizeof sig;
    size_t elen = liandong__v1__envelope__get_packed_size(&env);
    uint8_t *e = malloc(elen);
    if (!e) {
        free(h);
        return LD_ERR_NOMEM;
    }
    liandong__v1__envelope__pack(&env, e);
    if (id_out)
        signed_bytes_id(h, hlen, body, body_len, id_out);
    free(h);
    *out = e;
    *out_len = elen;
    return LD_OK;
}

int ldw_envelope_seal_body(const ldw_header_fields *hdr, const Liandong__V1__Body *body,
                           const uint8_t sign_secret[LDW_SIGN_SECRET_BYTES], uint8_t **out,
                           size_t *out_len, ldw_envelope_id *id_out)
{
    if (!body)
        return LD_ERR_INVALID;
    size_t blen = liandong__v1__body__get_packed_size(body);
    uint8_t *b = malloc(blen ? blen : 1);
    if (!b)
        return LD_ERR_NOMEM;
    liandong__v1__body__pack(body, b);
    int rc = ldw_envelope_seal(hdr, b, blen, sign_secret, out, out_len, id_out);
    free(b);
    return rc;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return LD_ERR_FORMAT;
}

int ldw_envelope_open(const uint8_t *buf, size_t len, ldw_opened *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!buf || len == 0)
        return fail(err, errlen, "the frame is empty");
    out->env = liandong__v1__envelope__unpack(NULL, len, buf);
    if (!out->env)
        return fail(err, errlen, "the frame is not a protobuf Envelope");
    if (out->env->header.len == 0) {
        ldw_opened_clear(out);
        return fail(err, errlen, "the envelope has no header");
    }
    if (out->env->signature.len != LDW_SIGNATURE_BYTES) {
        ldw_opened_clear(out);
        return fail(err, errlen, "the envelope signature is not 64 bytes");
    }
    out->hdr = liandong__v1__header__unpack(NULL, out->env->header.len, out->env->header.data);
    if (!out->hdr) {
        ldw_opened_clear(out);
        return fail(err, errlen, "the envelope header is not a protobuf Header");
    }
    if (!out->hdr->sender || !out->hdr->sender[0]) {
        ldw_opened_clear(out);
        return fail(err, errlen, "the header names no sender");
    }
    signed_bytes_id(out->env->header.data, out->env->header.len, out->env->body.data,
                    out->env->body.len, &out->id);
    return LD_OK;
}

int ldw_envelope_verify(const ldw_opened *o, const uint8_t sign_public[LDW_SIGN_PUBLIC_BYTES])
{
    if (!o || !o->env || !sign_public)
        return LD_ERR_INVALID;
    size_t mlen;
    uint8_t *m = signed_bytes(o->env->header.data, o->env->header.len, o->env->body.data,
                              o->env->body.len, &mlen);
    if (!m)
        return LD_ERR_NOMEM;
    int v = crypto_sign_verify_detached(o->env->signature.data, m, mlen, sign_public);
    free(m);
    return v == 0 ? LD_OK : LD_ERR_CRYPTO;
}

Liandong__V1__Body *ldw_opened_body(const ldw_opened *o)
{
    if (!o || !o->env)
        return NULL;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, o->env->body.len, o->env->body.data);
    if (b && b->msg_case == LIANDONG__V1__BODY__MSG__NOT_SET) {
        liandong__v1__body__free_unpacked(b, NULL);
        return NULL;
    }
    return b;
}

void ldw_opened_clear(ldw_opened *o)
{
    if (!o)
        return;
    if (o->hdr)
        liandong__v1__header__free_unpacked(o->hdr, NULL);
    if (o->env)
        liandong__v1__envelope__free_unpacked(o->env, NULL);
    memset(o, 0, sizeof *o);
}

const char *ldw_body_name(Liandong__V1__Body__MsgCase c)
{
    switch (c) {
    case LIANDONG__V1__BODY__MSG_HELLO: return "hello";
    case LIANDONG__V1__BODY__MSG_HELLO_REPLY: return "hello_reply";
    case LIANDONG__V1__BODY__MSG_DIRECT: return "direct";
    case LIANDONG__V1__BODY__MSG_ACK: return "ack";
    case LIANDONG__V1__BODY__MSG_NACK: return "nack";
    case LIANDONG__V1__BODY__MSG_DELIVERY: return "delivery";
    case LIANDONG__V1__BODY__MSG_DELIVERY_ACK: return "delivery_ack";
    case LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE: return "clock_advance";
    case LIANDONG__V1__BODY__MSG_ANSWERS: return "answers";
    case LIANDONG__V1__BODY__MSG_DELIVERIES: return "deliveries";
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH: return "plan_publish";
    case LIANDONG__V1__BODY__MSG_TASK_ASSIGN: return "task_assign";
    case LIANDONG__V1__BODY__MSG_TASK_ACCEPT: return "task_accept";
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT: return "status_report";
    case LIANDONG__V1__BODY__MSG_LEDGER_QUERY: return "ledger_query";
    case LIANDONG__V1__BODY__MSG_LEDGER_REPLY: return "ledger_reply";
    case LIANDONG__V1__BODY__MSG_ESCALATION_NOTICE: return "escalation_notice";
    case LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST: return "extension_request";
    case LIANDONG__V1__BODY__MSG_EXTENSION_DECISION: return "extension_decision";
    case LIANDONG__V1__BODY__MSG_TASK_PAUSE: return "task_pause";
    case LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER: return "supervision_letter";
    case LIANDONG__V1__BODY__MSG_LETTER_ANSWER: return "letter_answer";
    case LIANDONG__V1__BODY__MSG_ESCALATION_QUERY: return "escalation_query";
    case LIANDONG__V1__BODY__MSG_ESCALATION_REPLY: return "escalation_reply";
    case LIANDONG__V1__BODY__MSG_CHECKPOINT: return "checkpoint";
    case LIANDONG__V1__BODY__MSG_AUDIT_QUERY: return "audit_query";
    case LIANDONG__V1__BODY__MSG_AUDIT_REPLY: return "audit_reply";
    default: return "unknown";
    }
}

Liandong__V1__Body__MsgCase ldw_body_case_by_name(const char *name)
{
    /* Body field numbers are below 128 (proto/liandong.proto). */
    if (!name || strcmp(name, "unknown") == 0)
        return 0;
    for (int c = 1; c < 128; c++)
        if (strcmp(ldw_body_name((Liandong__V1__Body__MsgCase)c), name) == 0)
            return (Liandong__V1__Body__MsgCase)c;
    return 0;
}

uint32_t ldw_body_field(const uint8_t *body, size_t len)
{
    uint64_t tag = 0;
    for (size_t i = 0; i < len && i < 5; i++) {
        tag |= (uint64_t)(body[i] & 0x7f) << (7 * i);
        if (!(body[i] & 0x80))
            return tag >> 3 <= UINT32_MAX ? (uint32_t)(tag >> 3) : 0;
    }
    return 0;
}

const char *ldw_reason_name(int code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&liandong__v1__reason_code__descriptor, code);
    return v ? v->name : "UNKNOWN";
}

int64_t ldw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
