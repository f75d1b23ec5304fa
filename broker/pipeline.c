/* pipeline.c - receive a batch, check each envelope, store, answer.
 *
 * Checks run in the order of docs/protocol.md: size, parse, sender equals
 * the CURVE User-Id, key active, signature; then, inside the write
 * transaction: duplicate (Ack again), sequence (REPLAY), clock skew, and the
 * message type's own checks. Each message's effects go into a nested
 * transaction, so one refusal never undoes another message's effects; the
 * batch commits once (group commit) before any Ack leaves.
 *
 * The checks that need no storage (parse, roster, signature, body) and the
 * sealing of the answers run on the thread pool; storage, plugins, sessions,
 * logging and the socket stay on the main thread, and answers leave in the
 * order the messages came.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "log.h"

enum { PENDING = -1, ACCEPTED = 0 };

typedef struct item {
    zmq_msg_t rid;
    zmq_msg_t data;
    int extra_frames;
    char user[LDK_ID_MAX + 1];
    ldw_opened o;
    Liandong__V1__Body *body;
    const ldk_roster_entry *sender;
    int verdict; /* PENDING, ACCEPTED or a reason code */
    char text[512];
    int duplicate;
    struct ld_plugin_verdict verdict_p; /* plugins' decisions */
    int plugins_wrote;
    /* A DeliveryAck: entries it removed and their envelopes' bytes, taken
     * off its session's window once the batch has committed. */
    unsigned acked;
    size_t acked_bytes;
    /* Hello answers, read inside the transaction. */
    uint64_t last_seq;
    uint64_t mailbox_size;
    int64_t clock_ms;
    /* Answers to a protocol 2 connection go in one Answers frame per batch
     * (at most LDB_BATCH_MAX): a group chained from its lead, sent with its
     * last item. Alone, an item is its own lead. */
    size_t lead, next, last; /* next: SIZE_MAX at the end; last: a lead's */
    unsigned count;          /* a lead's group size */
    /* The sealed answer (Ack, Nack, HelloReply or a lead's Answers), NULL if none. */
    uint8_t *ans;
    size_t ans_len;
} item;

static void refuse(item *it, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(item *it, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->text, sizeof it->text, fmt, ap);
    va_end(ap);
    it->verdict = code;
}

/* Checks that need no storage. Runs on the pool's threads: reads only the
 * config and the roster, writes only *it. */
static void precheck(const ldb_broker *b, item *it)
{
    size_t len = zmq_msg_size(&it->data);
    if (it->extra_frames) {
        refuse(it, LIANDONG__V1__REASON_CODE__MALFORMED,
               "a message must be exactly one frame holding one Envelope, got %d frames",
               it->extra_frames + 1);
        return;
    }
    if (len > b->cfg->max_message) {
        refuse(it, LIANDONG__V1__REASON_CODE__TOO_LARGE,
               "the envelope is %zu bytes; this broker accepts at most %zu", len,
               b->cfg->max_message);
        return;
    }
    char why[256];
    if (ldw_envelope_open(zmq_msg_data(&it->data), len, &it->o, why, sizeof why) != LD_OK) {
        refuse(it, LIANDONG__V1__REASON_CODE__MALFORMED, "%s", why);
        return;
    }
    const char *sender = it->o.hdr->sender;
    if (strcmp(sender, it->user) != 0) {
        refuse(it, LIANDONG__V1__REASON_CODE__SENDER_MISMATCH,
               "the envelope says it is from '%.64s' but this connection authenticated as '%s'",
               sender, it->user);
        return;
    }
    const ldk_roster_entry *e = ldk_roster_find_key(b->roster, sender, it->o.hdr->key_id);
    if (!e) {
        if (!ldk_roster_find_any(b->roster, sender))
            refuse(it, LIANDONG__V1__REASON_CODE__UNKNOWN_SENDER,
                   "principal '%s' is not in the roster", sender);
        else
            refuse(it, LIANDONG__V1__REASON_CODE__UNKNOWN_SENDER,
                   "key '%.32s' is not registered for '%s'", it->o.hdr->key_id, sender);
        return;
    }
    if (e->revoked) {
        refuse(it, LIANDONG__V1__REASON_CODE__KEY_REVOKED,
               "key %s of '%s' was revoked; sign with the principal's current key", e->pub.key_id,
               sender);
        return;
    }
    if (ldw_envelope_verify(&it->o, e->pub.sign_public) != LD_OK) {
        refuse(it, LIANDONG__V1__REASON_CODE__BAD_SIGNATURE,
               "the signature does not verify with key %s of '%s'", e->pub.key_id, sender);
        return;
    }
    it->sender = e;
    it->body = liandong__v1__body__unpack(NULL, it->o.env->body.len, it->o.env->body.data);
    if (!it->body) {
        refuse(it, LIANDONG__V1__REASON_CODE__MALFORMED, "the body is not a protobuf Body");
        return;
    }
    switch (it->body->msg_case) {
    case LIANDONG__V1__BODY__MSG__NOT_SET:
        refuse(it, LIANDONG__V1__REASON_CODE__UNSUPPORTED,
               "the body holds a message type this broker does not know");
        break;
    case LIANDONG__V1__BODY__MSG_HELLO_REPLY:
    case LIANDONG__V1__BODY__MSG_ACK:
    case LIANDONG__V1__BODY__MSG_NACK:
    case LIANDONG__V1__BODY__MSG_DELIVERY:
    case LIANDONG__V1__BODY__MSG_ANSWERS:
    case LIANDONG__V1__BODY__MSG_DELIVERIES:
    case LIANDONG__V1__BODY__MSG_TASK_ASSIGN:
    case LIANDONG__V1__BODY__MSG_LEDGER_REPLY:
    case LIANDONG__V1__BODY__MSG_ESCALATION_NOTICE:
    case LIANDONG__V1__BODY__MSG_ESCALATION_REPLY:
    case LIANDONG__V1__BODY__MSG_CHECKPOINT:
    case LIANDONG__V1__BODY__MSG_AUDIT_REPLY:
        refuse(it, LIANDONG__V1__REASON_CODE__UNSUPPORTED, "'%s' is sent by the broker, not to it",
               ldw_body_name(it->body->msg_case));
        break;
    default: break; /* the broker's own types, or a plugin's */
    }
}

/* The plugin's view of an item. */
static void plugin_message(ldb_broker *b, const item *it, ld_plugin_message *m, int64_t clock)
{
    memset(m, 0, sizeof *m);
    m->size = sizeof *m;
    m->sender = it->o.hdr->sender;
    m->key_id = it->o.hdr->key_id;
    m->seq = it->o.hdr->seq;
    m->sent_at_ms = it->o.hdr->sent_at_ms;
    m->envelope_id = it->o.id.bytes;
    m->envelope = zmq_msg_data((zmq_msg_t *)&it->data);
    m->envelope_len = zmq_msg_size((zmq_msg_t *)&it->data);
    m->body = it->o.env->body.data;
    m->body_len = it->o.env->body.len;
    m->body_case = it->body ? (uint32_t)it->body->msg_case : 0;
    m->sender_roles = it->sender ? it->sender->pub.roles : 0;
    m->now_ms = clock;
    m->sender_sign_public = it->sender ? it->sender->pub.sign_public : NULL;
    (void)b;
}

static int is_session_message(const item *it)
{
    return it->body->msg_case == LIANDONG__V1__BODY__MSG_HELLO ||
           it->body->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY_ACK;
}

/* A read-only query: answered from what is stored, it writes only its
 * sequence number and what plugins log of it, so a nearly full store still
 * takes it from the first half of its reserve (Hello and DeliveryAck may
 * use all of it). */
static int is_query(const item *it)
{
    switch (it->body->msg_case) {
    case LIANDONG__V1__BODY__MSG_LEDGER_QUERY:
    case LIANDONG__V1__BODY__MSG_ESCALATION_QUERY:
    case LIANDONG__V1__BODY__MSG_AUDIT_QUERY: return 1;
    default: return 0;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Store the message once for all its recipients (sorted, no repeats) and
 * put it in their mailboxes. */
static int deliver(ldb_broker *b, MDB_txn *txn, item *it, char **to, size_t n_to, int64_t now)
{
    qsort(to, n_to, sizeof *to, cmp_str);
    size_t n = 0;
    for (size_t i = 0; i < n_to; i++)
        if (!n || strcmp(to[n - 1], to[i]) != 0)
            to[n++] = to[i];
    if (!n)
        return LD_OK;
    uint64_t no;
    int rc = ldb_store_message_put(b->store, txn, zmq_msg_data(&it->data), zmq_msg_size(&it->data),
                                   (uint32_t)n, now, &no);
    for (size_t i = 0; i < n && rc == LD_OK; i++) {
        uint64_t did;
        rc = ldb_store_mailbox_put(b->store, txn, to[i], no, &it->o.id, &did);
        if (rc == LD_OK)
            ldb_sessions_wake(b, to[i]);
    }
    return rc;
}

/* Check a Direct message's recipients. */
static void direct_check(ldb_broker *b, item *it)
{
    Liandong__V1__Direct *d = it->body->direct;
    if (d->n_to == 0) {
        refuse(it, LIANDONG__V1__REASON_CODE__MALFORMED, "a Direct message needs a recipient");
        return;
    }
    if (d->n_to > LDB_MAX_RECIPIENTS) {
        refuse(it, LIANDONG__V1__REASON_CODE__TOO_LARGE,
               "a Direct message may name at most %d recipients, not %zu", LDB_MAX_RECIPIENTS,
               d->n_to);
        return;
    }
    for (size_t i = 0; i < d->n_to; i++) {
        if (!ldk_roster_find_any(b->roster, d->to[i])) {
            refuse(it, LIANDONG__V1__REASON_CODE__UNKNOWN_RECIPIENT,
                   "recipient '%.64s' is not in the roster", d->to[i]);
            return;
        }
    }
}

/* Plugins, then the message's deliveries. */
static int run_plugins(ldb_broker *b, MDB_txn *txn, item *it, int64_t clock, int core_type)
{
    ld_plugin_message m;
    plugin_message(b, it, &m, clock);
    struct ld_plugin_txn t = {txn, b, 0, 0};
    int handled = 0;
    int rc = ldb_plugins_on_message(b->plugins, &t, &m, &it->verdict_p, &handled);
    if (rc != LD_OK)
        return t.full ? LD_ERR_STORAGE_FULL : LD_ERR_PLUGIN;
    if (it->verdict_p.reason) {
        refuse(it, it->verdict_p.reason, "%s", it->verdict_p.text);
        return LD_OK;
    }
    if (!handled && !core_type)
        refuse(it, LIANDONG__V1__REASON_CODE__UNSUPPORTED,
               "no plugin of this broker handles '%s' messages", ldw_body_name(it->body->msg_case));
    it->plugins_wrote = t.wrote;
    return LD_OK;
}

static int store_effects(ldb_broker *b, MDB_txn *txn, item *it, int64_t clock)
{
    size_t n_direct =
        it->body->msg_case == LIANDONG__V1__BODY__MSG_DIRECT ? it->body->direct->n_to : 0;
    size_t n = n_direct + it->verdict_p.n_recipients;
    if (!n)
        return LD_OK;
    char **to = malloc(n * sizeof *to);
    if (!to)
        return LD_ERR_NOMEM;
    if (n_direct)
        memcpy(to, it->body->direct->to, n_direct * sizeof *to);
    if (it->verdict_p.n_recipients)
        memcpy(to + n_direct, it->verdict_p.recipients, it->verdict_p.n_recipients * sizeof *to);
    int rc = deliver(b, txn, it, to, n, clock);
    free(to);
    return rc;
}

/* Effects of one message inside txn. Returns an ld_error for storage
 * failures; refusals are recorded in it->verdict. */
static int apply(ldb_broker *b, MDB_txn *txn, item *it, int64_t *clock)
{
    const Liandong__V1__Header *h = it->o.hdr;
    int64_t skew = ldw_now_ms() - h->sent_at_ms;
    int rc;
    if (is_session_message(it)) {
        if (skew > b->cfg->skew_ms || -skew > b->cfg->skew_ms)
            goto skewed;
        if (it->body->msg_case == LIANDONG__V1__BODY__MSG_HELLO) {
            rc = ldb_store_seq_get(b->store, txn, h->sender, &it->last_seq);
            if (rc == LD_OK)
                rc = ldb_store_mailbox_count(b->store, txn, h->sender, &it->mailbox_size);
            it->clock_ms = *clock;
            return rc == LD_OK ? run_plugins(b, txn, it, *clock, 1) : rc;
        }
        Liandong__V1__DeliveryAck *a = it->body->delivery_ack;
        for (size_t i = 0; i < a->n_delivery_ids; i++) {
            size_t len;
            rc = ldb_store_mailbox_ack(b->store, txn, h->sender, a->delivery_ids[i], &len);
            if (rc == LD_ERR_NOT_FOUND)
                continue; /* acknowledged before: harmless */
            if (rc != LD_OK)
                return rc;
            it->acked++;
            it->acked_bytes += len;
        }
        return run_plugins(b, txn, it, *clock, 1);
    }

    rc = ldb_store_dedup_get(b->store, txn, h->sender, h->seq, &it->o.id);
    if (rc == LD_OK) {
        it->duplicate = 1;
        it->clock_ms = *clock;
        return LD_OK;
    }
    if (rc != LD_ERR_NOT_FOUND)
        return rc;
    uint64_t last;
    rc = ldb_store_seq_get(b->store, txn, h->sender, &last);
    if (rc != LD_OK)
        return rc;
    if (h->seq <= last) {
        refuse(it, LIANDONG__V1__REASON_CODE__REPLAY,
               "sequence number %llu is not above %llu, the last one accepted from '%s'",
               (unsigned long long)h->seq, (unsigned long long)last, h->sender);
        return LD_OK;
    }
    if (skew > b->cfg->skew_ms || -skew > b->cfg->skew_ms)
        goto skewed;
    if (b->nearly_full == LDB_FILL_RESERVE_LOW || (b->nearly_full && !is_query(it))) {
        refuse(it, LIANDONG__V1__REASON_CODE__STORAGE_FULL,
               "the broker's storage is nearly full; what is left is kept for deliveries%s; the "
               "message was not stored, try again later",
               b->nearly_full == LDB_FILL_RESERVE_LOW ? " and their acknowledgements"
                                                      : ", their acknowledgements and queries");
        return LD_OK;
    }

    int core_type = 1;
    switch (it->body->msg_case) {
    case LIANDONG__V1__BODY__MSG_DIRECT: direct_check(b, it); break;
    case LIANDONG__V1__BODY__MSG_CLOCK_ADVANCE: {
        int64_t by = it->body->clock_advance->by_ms;
        if (!(it->sender->pub.roles & LDK_ROLE_ADMIN)) {
            refuse(it, LIANDONG__V1__REASON_CODE__UNAUTHORIZED,
                   "only a principal with the admin role may advance the clock");
            return LD_OK;
        }
        if (!b->cfg->simulated) {
            refuse(it, LIANDONG__V1__REASON_CODE__UNSUPPORTED,
                   "the broker runs on the wall clock; start it with --simulated-clock to "
                   "advance the clock");
            return LD_OK;
        }
        if (by <= 0 || by > INT64_MAX / 2 - *clock) {
            refuse(it, LIANDONG__V1__REASON_CODE__MALFORMED,
                   "the clock can only move forward, by a positive amount, not %lld ms",
                   (long long)by);
            return LD_OK;
        }
        rc = ldb_store_clock_put(b->store, txn, *clock + by);
        if (rc == LD_OK)
            *clock += by;
        break;
    }
    default:
        core_type = 0; /* a plugin's */
        break;
    }
    if (rc != LD_OK || it->verdict != PENDING)
        return rc;
    rc = run_plugins(b, txn, it, *clock, core_type);
    if (rc != LD_OK || it->verdict != PENDING)
        return rc;
    rc = store_effects(b, txn, it, *clock);
    if (rc == LD_OK)
        rc = ldb_store_dedup_put(b->store, txn, h->sender, h->seq, &it->o.id, *clock);
    if (rc == LD_OK)
        rc = ldb_store_seq_put(b->store, txn, h->sender, h->seq);
    it->clock_ms = *clock;
    return rc;

skewed:
    refuse(it, LIANDONG__V1__REASON_CODE__CLOCK_SKEW,
           "the sender's clock is %.1f s %s the broker's; at most %lld s are allowed: check the "
           "sender's clock (NTP)",
           (skew < 0 ? -(double)skew : (double)skew) / 1000.0, skew < 0 ? "ahead of" : "behind",
           (long long)(b->cfg->skew_ms / 1000));
    return LD_OK;
}

static int storage_verdict(item *it, int rc)
{
    if (rc == LD_ERR_STORAGE_FULL)
        refuse(it, LIANDONG__V1__REASON_CODE__STORAGE_FULL,
               "the broker's storage is full; the message was not stored, try again later");
    else
        refuse(it, LIANDONG__V1__REASON_CODE__INTERNAL,
               "the broker could not store the message (%s); it was not stored", ld_strerror(rc));
    return it->verdict;
}

/* Tell plugins about each refusal of the batch, in its transaction. */
static void record_refusals(ldb_broker *b, MDB_txn *txn, item *items, size_t n, int64_t clock)
{
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        if (it->verdict == ACCEPTED || it->verdict == PENDING)
            continue;
        ld_plugin_message m;
        ld_plugin_refusal r;
        memset(&r, 0, sizeof r);
        r.size = sizeof r;
        r.connection = it->user;
        r.frame_len = zmq_msg_size(&it->data);
        r.frame = r.frame_len <= b->cfg->max_message ? zmq_msg_data(&it->data) : NULL;
        if (it->o.hdr) {
            plugin_message(b, it, &m, clock);
            r.message = &m;
        }
        r.signature_ok = it->sender != NULL;
        r.reason = it->verdict;
        r.text = it->text;
        r.now_ms = clock;
        MDB_txn *child;
        if (ldb_store_begin(b->store, txn, 0, &child) != LD_OK)
            continue;
        struct ld_plugin_txn t = {child, b, 0, 0};
        if (ldb_plugins_on_refused(b->plugins, &t, &r) == LD_OK)
            ldb_store_commit(child);
        else
            mdb_txn_abort(child);
    }
}

static void store_batch(ldb_broker *b, item *items, size_t n)
{
    size_t todo = 0;
    for (size_t i = 0; i < n; i++)
        todo += items[i].verdict == PENDING;
    if (!todo && !ldb_plugins_count(b->plugins))
        return;
    b->nearly_full = ldb_store_nearly_full(b->store);
    MDB_txn *txn;
    int rc = ldb_store_begin(b->store, NULL, 0, &txn);
    if (rc != LD_OK) {
        for (size_t i = 0; i < n; i++)
            if (items[i].verdict == PENDING)
                storage_verdict(&items[i], rc);
        return;
    }
    int64_t clock = ldb_clock_now(b);
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        if (it->verdict != PENDING)
            continue;
        MDB_txn *child;
        rc = ldb_store_begin(b->store, txn, 0, &child);
        if (rc != LD_OK) {
            storage_verdict(it, rc);
            continue;
        }
        int64_t c2 = clock;
        ldb_verdict_init(&it->verdict_p, b);
        rc = apply(b, child, it, &c2);
        if (rc == LD_OK && it->verdict == PENDING) {
            rc = ldb_store_commit(child);
            if (rc == LD_OK) {
                it->verdict = ACCEPTED;
                clock = c2;
            } else {
                storage_verdict(it, rc);
            }
        } else {
            mdb_txn_abort(child);
            if (rc != LD_OK)
                storage_verdict(it, rc);
        }
    }
    record_refusals(b, txn, items, n, clock);
    rc = ldb_store_commit(txn);
    if (rc != LD_OK) {
        ldb_error("batch commit failed (%s): %zu messages refused", ld_strerror(rc), todo);
        for (size_t i = 0; i < n; i++)
            if (items[i].verdict == ACCEPTED)
                storage_verdict(&items[i], rc);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        ldb_session *s = it->verdict == ACCEPTED && it->acked
                             ? ldb_session_by_rid(b, zmq_msg_data(&it->rid), zmq_msg_size(&it->rid))
                             : NULL;
        if (s) {
            s->heard_ms = ldw_now_ms();
            s->inflight -= it->acked < s->inflight ? it->acked : s->inflight;
            s->inflight_bytes -=
                it->acked_bytes < s->inflight_bytes ? it->acked_bytes : s->inflight_bytes;
        }
    }
    if (b->cfg->simulated && clock != b->sim_clock_ms) {
        ldb_info("clock advanced to %lld", (long long)clock);
        b->sim_clock_ms = clock;
    }
    int wrote = 0;
    for (size_t i = 0; i < n; i++)
        wrote |= items[i].verdict == ACCEPTED && items[i].plugins_wrote;
    if (wrote)
        ldb_sessions_wake_all(b); /* plugins may have emitted messages */
    ldb_plugins_after_commit(b->plugins);
}

/* What the answer to it is. */
enum answer_kind { ANSWER_NONE, ANSWER_HELLO, ANSWER_ACK, ANSWER_NACK };

static enum answer_kind answer_kind(const item *it)
{
    if (it->verdict != ACCEPTED)
        return ANSWER_NACK;
    if (it->body->msg_case == LIANDONG__V1__BODY__MSG_HELLO)
        return ANSWER_HELLO;
    if (it->body->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY_ACK)
        return ANSWER_NONE;
    return ANSWER_ACK;
}

/* Group the answers of the batch per protocol 2 connection (main thread, in
 * batch order, after the batch committed). A Hello records its connection's
 * protocol; it and an Ack carrying a reply (e.g. a ledger) go alone and end
 * the group before them, so a connection's answers keep their order. */
static void plan_answers(ldb_broker *b, item *items, size_t n)
{
    size_t *open = malloc((n ? n : 1) * sizeof *open); /* leads of growing groups */
    size_t n_open = 0;
    for (size_t i = 0; i < n; i++) {
        item *it = &items[i];
        it->lead = it->last = i;
        it->next = SIZE_MAX;
        it->count = 1;
        const uint8_t *rid = zmq_msg_data(&it->rid);
        size_t rid_len = zmq_msg_size(&it->rid);
        enum answer_kind k = answer_kind(it);
        size_t g = n_open;
        for (size_t j = 0; j < n_open; j++)
            if (zmq_msg_size(&items[open[j]].rid) == rid_len &&
                memcmp(zmq_msg_data(&items[open[j]].rid), rid, rid_len) == 0)
                g = j;
        if (k == ANSWER_NONE)
            continue;
        if (k == ANSWER_HELLO)
            ldb_peer_hello(b, rid, rid_len, it->body->hello->protocol);
        if (k == ANSWER_HELLO || (k == ANSWER_ACK && it->verdict_p.reply_len)) {
            if (g < n_open) /* goes alone, after what came before it */
                open[g] = open[--n_open];
            continue;
        }
        if (!open || ldb_peer_protocol(b, rid, rid_len) < 2)
            continue;
        if (g == n_open) {
            open[n_open++] = i;
            continue;
        }
        item *lead = &items[open[g]];
        items[lead->last].next = i;
        lead->last = i;
        it->lead = open[g];
        if (++lead->count == LDB_BATCH_MAX)
            open[g] = open[--n_open];
    }
    free(open); /* out of memory: every answer goes alone */
}

/* The Ack or Nack to it, in structs pointing into *it. */
static void fill_answer(item *it, Liandong__V1__Answer *a, Liandong__V1__Ack *ack,
                        Liandong__V1__Nack *nack)
{
    uint64_t seq = it->o.hdr ? it->o.hdr->seq : 0;
    if (it->verdict != ACCEPTED) {
        liandong__v1__nack__init(nack);
        if (it->o.env) {
            nack->envelope_id.data = it->o.id.bytes;
            nack->envelope_id.len = LDW_ENVELOPE_ID_BYTES;
        }
        nack->seq = seq;
        nack->code = it->verdict;
        nack->text = it->text;
        a->answer_case = LIANDONG__V1__ANSWER__ANSWER_NACK;
        a->nack = nack;
        return;
    }
    liandong__v1__ack__init(ack);
    ack->envelope_id.data = it->o.id.bytes;
    ack->envelope_id.len = LDW_ENVELOPE_ID_BYTES;
    ack->seq = seq;
    ack->duplicate = it->duplicate;
    ack->clock_ms = it->clock_ms;
    ack->reply.data = it->verdict_p.reply;
    ack->reply.len = it->verdict_p.reply_len;
    a->answer_case = LIANDONG__V1__ANSWER__ANSWER_ACK;
    a->ack = ack;
}

/* Seal the Answers of the group led by items[lead] into its ans. */
static void seal_group(const ldb_broker *b, item *items, size_t lead)
{
    item *l = &items[lead];
    Liandong__V1__Answer *a = calloc(l->count, sizeof *a);
    Liandong__V1__Answer **ap = calloc(l->count, sizeof *ap);
    Liandong__V1__Ack *acks = calloc(l->count, sizeof *acks);
    Liandong__V1__Nack *nacks = calloc(l->count, sizeof *nacks);
    if (a && ap && acks && nacks) {
        size_t k = 0;
        for (size_t i = lead; i != SIZE_MAX; i = items[i].next, k++) {
            liandong__v1__answer__init(&a[k]);
            fill_answer(&items[i], &a[k], &acks[k], &nacks[k]);
            ap[k] = &a[k];
        }
        Liandong__V1__Answers as = LIANDONG__V1__ANSWERS__INIT;
        as.n_answers = k;
        as.answers = ap;
        Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
        body.msg_case = LIANDONG__V1__BODY__MSG_ANSWERS;
        body.answers = &as;
        if (ldb_seal_body(b, &body, &l->ans, &l->ans_len) != 0)
            l->ans = NULL;
    }
    free(a);
    free(ap);
    free(acks);
    free(nacks);
}

/* Seal the answer to it into it->ans. Runs on the pool's threads: reads
 * only the config, the roster and the broker key, writes only *it. */
static void seal_answer(const ldb_broker *b, item *it)
{
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    Liandong__V1__HelloReply hr = LIANDONG__V1__HELLO_REPLY__INIT;
    Liandong__V1__Answer a;
    Liandong__V1__Ack ack;
    Liandong__V1__Nack nack;
    enum answer_kind k = answer_kind(it);
    if (k == ANSWER_NONE) {
        return;
    } else if (k == ANSWER_HELLO) {
        hr.last_seq = it->last_seq;
        hr.broker_time_ms = ldw_now_ms();
        hr.clock_ms = it->clock_ms;
        hr.simulated_clock = b->cfg->simulated;
        hr.mailbox_size = it->mailbox_size;
        hr.principal = (char *)it->sender->pub.id;
        hr.name = (char *)it->sender->pub.name;
        hr.protocol = LDW_PROTOCOL_VERSION;
        body.msg_case = LIANDONG__V1__BODY__MSG_HELLO_REPLY;
        body.hello_reply = &hr;
    } else {
        fill_answer(it, &a, &ack, &nack);
        if (k == ANSWER_NACK) {
            body.msg_case = LIANDONG__V1__BODY__MSG_NACK;
            body.nack = a.nack;
        } else {
            body.msg_case = LIANDONG__V1__BODY__MSG_ACK;
            body.ack = a.ack;
        }
    }
    if (ldb_seal_body(b, &body, &it->ans, &it->ans_len) != 0)
        it->ans = NULL;
}

/* Log the answer to items[i] and send it, or, in a group, the group's
 * Answers with its last item (main thread, in batch order). */
static void answer(ldb_broker *b, item *items, size_t i)
{
    item *it = &items[i];
    const uint8_t *rid = zmq_msg_data(&it->rid);
    size_t rid_len = zmq_msg_size(&it->rid);
    const char *who = it->o.hdr ? it->o.hdr->sender : it->user;
    uint64_t seq = it->o.hdr ? it->o.hdr->seq : 0;
    char hex[33] = "-";
    if (it->o.env)
        ldw_envelope_id_hex(&it->o.id, hex);
    const char *what = "ack";
    if (it->verdict != ACCEPTED) {
        ldb_warn("refused %s from %s seq %llu: %s: %s", hex, who, (unsigned long long)seq,
                 ldw_reason_name(it->verdict), it->text);
        what = "nack";
    } else if (it->body->msg_case == LIANDONG__V1__BODY__MSG_HELLO) {
        ldb_info("hello from %s (%s%s), last seq %llu, %llu waiting", who,
                 it->body->hello->client ? it->body->hello->client : "?",
                 it->body->hello->send_only       ? ", send only"
                 : it->body->hello->n_only_bodies ? ", some message types only"
                                                  : "",
                 (unsigned long long)it->last_seq, (unsigned long long)it->mailbox_size);
        if (it->ans && ldb_send_sealed(b, rid, rid_len, it->ans, it->ans_len) == 0 &&
            !it->body->hello->send_only)
            ldb_session_hello(b, who, rid, rid_len, it->body->hello->only_bodies,
                              it->body->hello->n_only_bodies);
        return;
    } else if (it->body->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY_ACK) {
        return; /* no answer */
    } else if (it->duplicate) {
        ldb_info("duplicate %s from %s seq %llu acknowledged again", hex, who,
                 (unsigned long long)seq);
    } else {
        ldb_debug("accepted %s %s from %s seq %llu", ldw_body_name(it->body->msg_case), hex, who,
                  (unsigned long long)seq);
    }
    item *lead = &items[it->lead];
    if (lead->last != i)
        return; /* leaves with the group's last answer */
    if (lead->count > 1)
        what = "answers";
    if (!lead->ans)
        ldb_error("%s to %s not sent: out of memory sealing it", what, who);
    else if (ldb_send_sealed(b, rid, rid_len, lead->ans, lead->ans_len) != 0)
        ldb_debug("%s to %s not sent: %s", what, who, zmq_strerror(errno));
}

/* Receive one ROUTER message: routing id, then the frames. 0, or -1 if none. */
static int recv_item(ldb_broker *b, item *it)
{
    memset(it, 0, sizeof *it);
    it->verdict = PENDING;
    zmq_msg_init(&it->rid);
    zmq_msg_init(&it->data);
    if (zmq_msg_recv(&it->rid, b->router, ZMQ_DONTWAIT) < 0)
        return -1;
    if (!zmq_msg_more(&it->rid)) {
        /* ROUTER always prefixes the routing id; an empty message follows. */
        return 0;
    }
    if (zmq_msg_recv(&it->data, b->router, 0) < 0)
        return 0;
    const char *uid = zmq_msg_gets(&it->data, "User-Id");
    snprintf(it->user, sizeof it->user, "%s", uid ? uid : "");
    while (zmq_msg_more(&it->data)) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, b->router, 0);
        it->extra_frames++;
        int more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        if (!more)
            break;
    }
    return 0;
}

static void item_clear(item *it)
{
    free(it->ans);
    ldb_verdict_clear(&it->verdict_p);
    if (it->body)
        liandong__v1__body__free_unpacked(it->body, NULL);
    ldw_opened_clear(&it->o);
    zmq_msg_close(&it->rid);
    zmq_msg_close(&it->data);
}

/* The parallel steps of a batch (see ldb_pool_run). */
struct job {
    const ldb_broker *b;
    item *items;
};

static void precheck_job(void *ctx, size_t i)
{
    struct job *j = ctx;
    precheck(j->b, &j->items[i]);
}

static void seal_job(void *ctx, size_t i)
{
    struct job *j = ctx;
    item *it = &j->items[i];
    if (it->lead != i)
        return; /* sealed with its group */
    if (it->count > 1)
        seal_group(j->b, j->items, i);
    else
        seal_answer(j->b, it);
}

/* Receive up to batch_max waiting messages into items. Returns how many. */
static size_t recv_batch(ldb_broker *b, item *items)
{
    unsigned max = b->cfg->batch_max;
    size_t n = 0;
    while (n < max && recv_item(b, &items[n]) == 0)
        n++;
    if (n < max)
        item_clear(&items[n]); /* the failed receive's messages */
    return n;
}

/* Batches handled back to back before the main loop looks at ZAP requests,
 * the tick and the sessions again. */
#define RUN_BATCHES 8

void ldb_pipeline_run_batch(ldb_broker *b)
{
    unsigned max = b->cfg->batch_max;
    item *cur = calloc(max, sizeof *cur), *next = calloc(max, sizeof *next);
    if (!cur || !next) {
        ldb_error("out of memory for a batch of %u", max);
        free(cur);
        free(next);
        return;
    }
    size_t n = recv_batch(b, cur);
    struct job j = {b, cur};
    ldb_pool_run(b->pool, n, precheck_job, &j);
    for (int round = 1; n; round++) {
        /* While this batch commits (the fsync leaves the cores idle), the
         * pool checks the messages that arrived meanwhile. */
        size_t n_next = round < RUN_BATCHES ? recv_batch(b, next) : 0;
        struct job jn = {b, next};
        ldb_pool_start(b->pool, n_next, precheck_job, &jn);
        store_batch(b, cur, n);
        ldb_pool_wait(b->pool);
        plan_answers(b, cur, n);
        j.items = cur;
        ldb_pool_run(b->pool, n, seal_job, &j);
        for (size_t i = 0; i < n; i++)
            answer(b, cur, i);
        for (size_t i = 0; i < n; i++)
            item_clear(&cur[i]);
        if (n_next)
            ldb_sessions_pump(b); /* deliveries go out between batches too */
        item *t = cur;
        cur = next;
        next = t;
        n = n_next;
    }
    free(cur);
    free(next);
}
