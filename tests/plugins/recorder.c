/* A test plugin that exercises the host table: it counts what it sees in its
 * own database, refuses Direct messages whose text is "refuse-me", copies
 * every Direct to the principal named in its config (`copy_to: ID`), answers
 * with a reply body, and emits a Direct-like notice to that principal on the
 * first tick after the business clock passes `notify_after_ms`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liandong.pb-c.h"
#include "liandong/plugin.h"

struct state {
    const ld_host *host;
    ld_plugin_ctx *ctx;
    uint32_t db;
    char copy_to[65];
    long long notify_after_ms;
    int notified;
    long long tick_calls; /* on_tick calls since start (not stored) */
};

static void read_config(struct state *s, const char *yaml)
{
    /* Flow mapping like "{copy_to: x, notify_after_ms: 5}": enough for a test. */
    const char *p = strstr(yaml, "copy_to:");
    if (p)
        sscanf(p + 8, " %64[a-z0-9._-]", s->copy_to);
    p = strstr(yaml, "notify_after_ms:");
    if (p)
        s->notify_after_ms = atoll(p + 16);
}

static int init(const ld_host *host, ld_plugin_ctx *ctx, const char *config, void **state,
                char *err, size_t errlen)
{
    if (host->abi_version != LD_PLUGIN_ABI_VERSION || host->size < sizeof(ld_host)) {
        snprintf(err, errlen, "host ABI %u too old", host->abi_version);
        return LD_ERR_INVALID;
    }
    struct state *s = calloc(1, sizeof *s);
    if (!s)
        return LD_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    read_config(s, config);
    int rc = host->db_open(ctx, "counts", &s->db);
    if (rc != LD_OK) {
        free(s);
        snprintf(err, errlen, "cannot open my database");
        return rc;
    }
    host->log(ctx, LD_LOG_INFO, "recorder ready, copy_to=%s", s->copy_to);
    *state = s;
    return LD_OK;
}

static int bump(struct state *s, ld_plugin_txn *txn, const char *key)
{
    const void *v;
    size_t vl;
    long long n = 0;
    if (s->host->db_get(s->ctx, txn, s->db, key, strlen(key), &v, &vl) == LD_OK && vl == sizeof n)
        memcpy(&n, v, sizeof n);
    n++;
    return s->host->db_put(s->ctx, txn, s->db, key, strlen(key), &n, sizeof n);
}

static int pack_counts(struct state *s, ld_plugin_txn *txn, char *buf, size_t len)
{
    const char *keys[] = {"message", "refused", "tick"};
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        const void *v;
        size_t vl;
        long long n = 0;
        if (s->host->db_get(s->ctx, txn, s->db, keys[i], strlen(keys[i]), &v, &vl) == LD_OK)
            memcpy(&n, v, sizeof n);
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%lld", i ? " " : "", keys[i], n);
    }
    return LD_OK;
}

static int on_message(void *state, ld_plugin_txn *txn, const ld_plugin_message *m,
                      ld_plugin_verdict *v)
{
    struct state *s = state;
    if (bump(s, txn, "message") != LD_OK)
        return LD_PLUGIN_ERROR;
    if (m->body_case != LIANDONG__V1__BODY__MSG_DIRECT)
        return LD_PLUGIN_PASS;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, m->body_len, m->body);
    if (!b)
        return LD_PLUGIN_ERROR;
    int decision = LD_PLUGIN_PASS;
    if (strcmp(b->direct->text, "refuse-me") == 0) {
        s->host->refuse(v, LIANDONG__V1__REASON_CODE__UNAUTHORIZED,
                        "the recorder plugin refuses '%s'", b->direct->text);
        decision = LD_PLUGIN_REFUSE;
    } else if (strcmp(b->direct->text, "fail-me") == 0) {
        decision = LD_PLUGIN_ERROR;
    } else {
        if (s->copy_to[0] && s->host->add_recipient(v, s->copy_to) != LD_OK)
            decision = LD_PLUGIN_ERROR;
        /* Answer with the counts, as a Direct body in Ack.reply. */
        char counts[128];
        if (strcmp(b->direct->text, "tick-calls?") == 0)
            snprintf(counts, sizeof counts, "tick_calls=%lld", s->tick_calls);
        else
            pack_counts(s, txn, counts, sizeof counts);
        Liandong__V1__Body rb = LIANDONG__V1__BODY__INIT;
        Liandong__V1__Direct rd = LIANDONG__V1__DIRECT__INIT;
        rd.text = counts;
        rb.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
        rb.direct = &rd;
        uint8_t buf[256];
        size_t n = liandong__v1__body__pack(&rb, buf);
        s->host->set_reply(v, buf, n);
    }
    liandong__v1__body__free_unpacked(b, NULL);
    return decision;
}

static int on_refused(void *state, ld_plugin_txn *txn, const ld_plugin_refusal *r)
{
    (void)r;
    return bump(state, txn, "refused");
}

static int on_tick(void *state, ld_plugin_txn *txn, int64_t now_ms)
{
    struct state *s = state;
    s->tick_calls++;
    if (s->notified || !s->copy_to[0] || !s->notify_after_ms || now_ms < s->notify_after_ms)
        return LD_OK;
    /* Once, also across restarts: the database remembers. */
    const void *v;
    size_t vl;
    if (s->host->db_get(s->ctx, txn, s->db, "tick", 4, &v, &vl) == LD_OK) {
        s->notified = 1;
        return LD_OK;
    }
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {s->copy_to};
    char text[64];
    snprintf(text, sizeof text, "clock passed %lld", s->notify_after_ms);
    d.n_to = 1;
    d.to = to;
    d.text = text;
    b.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b.direct = &d;
    uint8_t buf[256];
    size_t n = liandong__v1__body__pack(&b, buf);
    int rc = s->host->emit(s->ctx, txn, s->copy_to, buf, n);
    if (rc == LD_OK)
        rc = bump(s, txn, "tick");
    if (rc == LD_OK)
        s->notified = 1;
    return rc;
}

static void fini(void *state)
{
    free(state);
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .name = "recorder",
    .version = "test",
    .init = init,
    .on_message = on_message,
    .on_refused = on_refused,
    .on_tick = on_tick,
    .fini = fini,
};
