/* session.c - receiving connections and the push of their mailboxes.
 * Sessions are main-thread state; only the sealing of deliveries runs on the
 * pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "log.h"

/* FNV-1a of a routing id, to a slot. */
static ldb_peer *peer_slot(const ldb_broker *b, const uint8_t *rid, size_t rid_len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < rid_len; i++)
        h = (h ^ rid[i]) * 16777619u;
    return &b->peers[h % LDB_PEER_SLOTS];
}

void ldb_peer_hello(ldb_broker *b, const uint8_t *rid, size_t rid_len, unsigned protocol)
{
    if (rid_len == 0 || rid_len > LDB_PEER_RID_MAX)
        return;
    ldb_peer *p = peer_slot(b, rid, rid_len);
    memcpy(p->rid, rid, rid_len);
    p->rid_len = (uint8_t)rid_len;
    p->protocol = (uint8_t)(protocol > 255 ? 255 : protocol);
}

unsigned ldb_peer_protocol(const ldb_broker *b, const uint8_t *rid, size_t rid_len)
{
    if (rid_len == 0 || rid_len > LDB_PEER_RID_MAX)
        return 1;
    const ldb_peer *p = peer_slot(b, rid, rid_len);
    if (p->rid_len != rid_len || memcmp(p->rid, rid, rid_len) != 0 || p->protocol < 1)
        return 1;
    return p->protocol;
}

void ldb_sessions_wake(ldb_broker *b, const char *principal)
{
    for (size_t i = 0; i < b->n_sessions; i++)
        if (b->sessions[i].primary && strcmp(b->sessions[i].principal, principal) == 0)
            b->sessions[i].more = 1;
}

ldb_session *ldb_session_by_rid(ldb_broker *b, const uint8_t *rid, size_t rid_len)
{
    for (size_t i = 0; i < b->n_sessions; i++)
        if (b->sessions[i].rid_len == rid_len && memcmp(b->sessions[i].rid, rid, rid_len) == 0)
            return &b->sessions[i];
    return NULL;
}

static void start_primary(ldb_session *s)
{
    /* Everything not acknowledged is sent (again) from the beginning. */
    s->primary = 1;
    s->cursor = 0;
    s->inflight = 0;
    s->inflight_bytes = 0;
    s->more = 1;
}

/* Whether a and b ask for the same deliveries (Hello.only_bodies). */
static int same_filter(const ldb_session *a, const ldb_session *b)
{
    return a->filtered == b->filtered &&
           (!a->filtered || (a->only[0] == b->only[0] && a->only[1] == b->only[1]));
}

/* Every active session of principal but except starts over: types a
 * filtered session that is gone took may be theirs now. */
static void restart_others(ldb_broker *b, const char *principal, const ldb_session *except)
{
    for (size_t j = 0; j < b->n_sessions; j++) {
        ldb_session *s = &b->sessions[j];
        if (s != except && s->primary && strcmp(s->principal, principal) == 0)
            start_primary(s);
    }
}

/* Remove session i; the newest other session of its principal with the
 * same filter takes over. */
static void remove_session(ldb_broker *b, size_t i)
{
    ldb_session gone = b->sessions[i];
    b->sessions[i] = b->sessions[--b->n_sessions];
    if (!gone.primary)
        return;
    ldb_session *next = NULL;
    for (size_t j = 0; j < b->n_sessions; j++) {
        ldb_session *s = &b->sessions[j];
        if (strcmp(s->principal, gone.principal) == 0 && same_filter(s, &gone) &&
            (!next || s->order > next->order))
            next = s;
    }
    if (next) {
        ldb_info("session %s: deliveries move to its previous connection", gone.principal);
        start_primary(next);
    }
    if (gone.filtered)
        restart_others(b, gone.principal, next);
}

ldb_session *ldb_session_hello(ldb_broker *b, const char *principal, const uint8_t *rid,
                               size_t rid_len, const uint32_t *only, size_t n_only)
{
    if (rid_len > LDB_ROUTING_ID_MAX)
        rid_len = LDB_ROUTING_ID_MAX;
    ldb_session f; /* the filter asked for */
    memset(&f, 0, sizeof f);
    f.filtered = n_only > 0;
    for (size_t i = 0; i < n_only; i++)
        if (only[i] < 128) /* no Body field is numbered higher */
            f.only[only[i] / 64] |= 1ull << (only[i] % 64);
    size_t count = 0, oldest = 0;
    ldb_session *s = NULL;
    for (size_t i = 0; i < b->n_sessions; i++) {
        ldb_session *o = &b->sessions[i];
        if (strcmp(o->principal, principal) != 0)
            continue;
        if (o->rid_len == rid_len && memcmp(o->rid, rid, rid_len) == 0)
            s = o;
        else if (same_filter(o, &f))
            o->primary = 0; /* the new connection replaces it */
        if (count++ == 0 || o->order < b->sessions[oldest].order)
            oldest = i;
    }
    int restart = s && s->primary && s->filtered && !same_filter(s, &f);
    if (!s && count >= LDB_SESSIONS_PER_PRINCIPAL)
        remove_session(b, oldest);
    if (!s) {
        if (b->n_sessions == b->cap_sessions) {
            size_t cap = b->cap_sessions ? b->cap_sessions * 2 : 16;
            ldb_session *n = realloc(b->sessions, cap * sizeof *n);
            if (!n)
                return NULL;
            b->sessions = n;
            b->cap_sessions = cap;
        }
        s = &b->sessions[b->n_sessions++];
        memset(s, 0, sizeof *s);
        snprintf(s->principal, sizeof s->principal, "%s", principal);
        memcpy(s->rid, rid, rid_len);
        s->rid_len = rid_len;
    }
    s->order = ++b->session_order;
    s->heard_ms = ldw_now_ms();
    s->filtered = f.filtered;
    s->only[0] = f.only[0];
    s->only[1] = f.only[1];
    start_primary(s);
    if (restart) /* it took other types before: they may be another's now */
        restart_others(b, principal, s);
    return s;
}

/* Which deliveries session s takes: a filtered session the types it asked
 * for that no newer active filtered session of its principal asked for; an
 * unfiltered one every type no active filtered session asked for. *check is
 * 0 when that is every type (no need to look at the entries). */
static void session_takes(const ldb_broker *b, const ldb_session *s, uint64_t take[2], int *check)
{
    uint64_t other[2] = {0, 0};
    for (size_t i = 0; i < b->n_sessions; i++) {
        const ldb_session *o = &b->sessions[i];
        if (o == s || !o->primary || !o->filtered || strcmp(o->principal, s->principal) != 0 ||
            (s->filtered && o->order < s->order))
            continue;
        other[0] |= o->only[0];
        other[1] |= o->only[1];
    }
    for (int k = 0; k < 2; k++)
        take[k] = (s->filtered ? s->only[k] : ~0ull) & ~other[k];
    *check = s->filtered || other[0] || other[1];
}

/* One mailbox entry to push: read on the main thread, sealed on the pool. */
typedef struct push {
    uint64_t delivery_id;
    ldw_envelope_id id;
    const uint8_t *env; /* in the read transaction's map; NULL: message missing */
    size_t len;
    int skip; /* not for this session (its Hello's only_bodies) */
    int64_t at;
    size_t chunk_end; /* for the first entry of a frame: one past its last */
    uint8_t *sealed;  /* for the first entry: the frame, sealed; NULL: out of memory */
    size_t sealed_len;
} push;

struct pump_ctx {
    ldb_broker *b;
    uint64_t take[2]; /* Body field numbers this session takes (session_takes) */
    int check;        /* 0: it takes every entry */
    MDB_txn *txn;
    push *v;
    size_t n;
    size_t bytes_room; /* envelope bytes the session may still take */
    int full;          /* the scan stopped at bytes_room */
    size_t *chunks;    /* the first entry of each frame */
    size_t n_chunks;
};

/* Whether the message of entry p has a body type in take[]. */
static int wanted(const uint64_t take[2], const push *p)
{
    ldw_opened o;
    if (ldw_envelope_open(p->env, p->len, &o, NULL, 0) != LD_OK)
        return 1; /* the recipient sees what the broker stored */
    uint32_t f = ldw_body_field(o.env->body.data, o.env->body.len);
    ldw_opened_clear(&o);
    return f < 128 && (take[f / 64] >> (f % 64) & 1);
}

static int collect_one(void *vctx, uint64_t delivery_id, uint64_t no, const ldw_envelope_id *id)
{
    struct pump_ctx *c = vctx;
    push *p = &c->v[c->n];
    memset(p, 0, sizeof *p);
    p->delivery_id = delivery_id;
    p->id = *id;
    if (ldb_store_message_get(c->b->store, c->txn, no, &p->env, &p->len, &p->at) != LD_OK)
        p->env = NULL;
    if (p->env && c->check && !wanted(c->take, p)) {
        p->skip = 1; /* stays in the mailbox (for another session); costs this one no window */
        c->n++;
        return 0;
    }
    if (p->env && p->len > c->bytes_room && (c->n || c->bytes_room < LDB_DELIVERY_WINDOW_BYTES)) {
        c->full = 1; /* next time; alone, even a larger one goes */
        return 1;
    }
    if (p->env)
        c->bytes_room -= p->len < c->bytes_room ? p->len : c->bytes_room;
    c->n++;
    return 0;
}

/* Fill the Delivery of entry p. Runs on the pool's threads: reads the
 * stored envelope, the roster and the broker key. */
static void fill_delivery(const ldb_broker *b, const push *p, Liandong__V1__Delivery *d)
{
    /* Vouch for the sender's key as listed in the roster. */
    ldw_opened o;
    const ldk_roster_entry *e = NULL;
    int o_is_broker = 0;
    if (ldw_envelope_open(p->env, p->len, &o, NULL, 0) == LD_OK) {
        e = ldk_roster_find_key(b->roster, o.hdr->sender, o.hdr->key_id);
        o_is_broker =
            strcmp(o.hdr->sender, b->key->id) == 0 && strcmp(o.hdr->key_id, b->key->key_id) == 0;
        ldw_opened_clear(&o);
    }
    liandong__v1__delivery__init(d);
    d->delivery_id = p->delivery_id;
    d->envelope.data = (uint8_t *)p->env;
    d->envelope.len = p->len;
    d->stored_at_ms = p->at;
    const ldk_identity *key = e ? &e->pub : NULL;
    if (!key && o_is_broker)
        key = b->key; /* the broker's own messages (emitted by plugins) */
    if (key) {
        d->sender_sign_public.data = (uint8_t *)key->sign_public;
        d->sender_sign_public.len = LDK_SIGN_PUBLIC_BYTES;
        d->sender_name = (char *)key->name;
    }
}

/* Seal frame k: a Delivery, or (protocol 2, several entries) Deliveries.
 * Runs on the pool's threads; writes only the frame's first entry. */
static void seal_chunk(void *vctx, size_t k)
{
    struct pump_ctx *c = vctx;
    const ldb_broker *b = c->b;
    push *first = &c->v[c->chunks[k]];
    size_t n = first->chunk_end - c->chunks[k];
    Liandong__V1__Delivery *d = calloc(n, sizeof *d);
    Liandong__V1__Delivery **dp = calloc(n, sizeof *dp);
    if (d && dp) {
        for (size_t i = 0; i < n; i++) {
            fill_delivery(b, first + i, &d[i]);
            dp[i] = &d[i];
        }
        Liandong__V1__Deliveries ds = LIANDONG__V1__DELIVERIES__INIT;
        Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
        if (n == 1) {
            body.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY;
            body.delivery = d;
        } else {
            ds.n_deliveries = n;
            ds.deliveries = dp;
            body.msg_case = LIANDONG__V1__BODY__MSG_DELIVERIES;
            body.deliveries = &ds;
        }
        if (ldb_seal_body(b, &body, &first->sealed, &first->sealed_len) != 0)
            first->sealed = NULL;
    }
    free(d);
    free(dp);
}

/* Cut the entries into frames: runs of stored messages, one entry each for
 * protocol 1, up to LDB_BATCH_MAX entries and LDB_BATCH_BYTES for 2. */
static void plan_chunks(struct pump_ctx *c, unsigned protocol)
{
    size_t max = protocol >= 2 ? LDB_BATCH_MAX : 1;
    for (size_t i = 0; i < c->n;) {
        if (!c->v[i].env || c->v[i].skip) {
            i++;
            continue;
        }
        size_t j = i, bytes = 0;
        while (j < c->n && c->v[j].env && !c->v[j].skip && j - i < max &&
               (j == i || bytes + c->v[j].len <= LDB_BATCH_BYTES))
            bytes += c->v[j++].len;
        c->v[i].chunk_end = j;
        c->chunks[c->n_chunks++] = i;
        i = j;
    }
}

/* Returns 1 if the session's connection is gone (the caller removes it). */
static int pump(ldb_broker *b, ldb_session *s)
{
    unsigned room = LDB_DELIVERY_WINDOW - s->inflight;
    if (s->inflight_bytes >= LDB_DELIVERY_WINDOW_BYTES)
        return 0;
    MDB_txn *txn;
    if (ldb_store_begin(b->store, NULL, 1, &txn) != LD_OK)
        return 0;
    struct pump_ctx c = {.b = b,
                         .txn = txn,
                         .v = calloc(room, sizeof(push)),
                         .bytes_room = LDB_DELIVERY_WINDOW_BYTES - s->inflight_bytes,
                         .chunks = calloc(room, sizeof(size_t))};
    session_takes(b, s, c.take, &c.check);
    if (!c.v || !c.chunks) {
        free(c.v);
        free(c.chunks);
        mdb_txn_abort(txn);
        return 0;
    }
    int rc = ldb_store_mailbox_scan(b->store, txn, s->principal, s->cursor, room, collect_one, &c);
    plan_chunks(&c, ldb_peer_protocol(b, s->rid, s->rid_len));
    ldb_pool_run(b->pool, c.n_chunks, seal_chunk, &c);
    int stop_err = 0;
    unsigned sent = 0;
    for (size_t i = 0; i < c.n;) {
        push *p = &c.v[i];
        if (p->skip) {
            s->cursor = p->delivery_id;
            i++;
            continue;
        }
        if (!p->env) {
            char hex[33];
            ldb_error("mailbox of %s: delivery %llu refers to a missing message %s", s->principal,
                      (unsigned long long)p->delivery_id, ldw_envelope_id_hex(&p->id, hex));
            s->cursor = p->delivery_id;
            i++;
            continue;
        }
        if (!p->sealed) {
            stop_err = ENOMEM;
            break;
        }
        if (ldb_send_sealed(b, s->rid, s->rid_len, p->sealed, p->sealed_len) != 0) {
            stop_err = errno;
            break;
        }
        unsigned k = (unsigned)(p->chunk_end - i);
        s->cursor = c.v[p->chunk_end - 1].delivery_id;
        s->inflight += k;
        for (size_t e = i; e < p->chunk_end; e++)
            s->inflight_bytes += c.v[e].len;
        sent += k;
        i = p->chunk_end;
    }
    for (size_t k = 0; k < c.n; k++)
        free(c.v[k].sealed);
    free(c.v);
    free(c.chunks);
    mdb_txn_abort(txn);
    if (sent)
        ldb_debug("session %s: %u deliveries sent (up to %llu)", s->principal, sent,
                  (unsigned long long)s->cursor);
    if (stop_err == EHOSTUNREACH) {
        ldb_info("session %s: connection gone", s->principal);
        return 1;
    }
    if (stop_err == 0 && rc == LD_OK && c.n < room && !c.full)
        s->more = 0; /* scanned to the end of the mailbox */
    return 0;
}

void ldb_sessions_pump(ldb_broker *b)
{
    for (size_t i = 0; i < b->n_sessions;) {
        ldb_session *s = &b->sessions[i];
        if (s->primary && s->more && s->inflight < LDB_DELIVERY_WINDOW && pump(b, s)) {
            remove_session(b, i); /* another session may now sit at i: look again */
            continue;
        }
        i++;
    }
}

/* Send s an empty Deliveries frame. Returns 1 if its connection is gone. */
static int probe(ldb_broker *b, const ldb_session *s)
{
    Liandong__V1__Deliveries ds = LIANDONG__V1__DELIVERIES__INIT;
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    body.msg_case = LIANDONG__V1__BODY__MSG_DELIVERIES;
    body.deliveries = &ds;
    return ldb_send_body(b, s->rid, s->rid_len, &body) != 0 && errno == EHOSTUNREACH;
}

void ldb_sessions_probe(ldb_broker *b)
{
    int64_t now = ldw_now_ms(), every = b->cfg->heartbeat_ms;
    if (now < b->next_probe_ms)
        return;
    b->next_probe_ms = now + every / 4;
    for (size_t i = 0; i < b->n_sessions;) {
        ldb_session *s = &b->sessions[i];
        if (s->primary && s->inflight && now - s->heard_ms >= every &&
            now - s->probed_ms >= every && ldb_peer_protocol(b, s->rid, s->rid_len) >= 2) {
            s->probed_ms = now;
            if (probe(b, s)) {
                ldb_info("session %s: connection gone with %u deliveries unacknowledged",
                         s->principal, s->inflight);
                remove_session(b, i); /* another session may now sit at i */
                continue;
            }
        }
        i++;
    }
}

void ldb_sessions_wake_all(ldb_broker *b)
{
    for (size_t i = 0; i < b->n_sessions; i++)
        if (b->sessions[i].primary)
            b->sessions[i].more = 1;
}
