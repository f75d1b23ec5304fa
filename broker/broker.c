/* broker.c - broker lifecycle, sockets and the event loop. */
#define _GNU_SOURCE
#include "broker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int64_t ldb_clock_now(const ldb_broker *b)
{
    return b->cfg->simulated ? b->sim_clock_ms : ldw_now_ms();
}

int ldb_seal_body(const ldb_broker *b, const Liandong__V1__Body *body, uint8_t **buf, size_t *len)
{
    ldw_header_fields h = {
        .sender = b->key->id, .key_id = b->key->key_id, .seq = 0, .sent_at_ms = ldw_now_ms()};
    return ldw_envelope_seal_body(&h, body, b->key->sign_secret, buf, len, NULL) == LD_OK ? 0 : -1;
}

int ldb_send_sealed(ldb_broker *b, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                    size_t len)
{
    int rc = zmq_send(b->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send(b->router, buf, len, ZMQ_DONTWAIT);
    return rc < 0 ? -1 : 0;
}

int ldb_send_body(ldb_broker *b, const uint8_t *rid, size_t rid_len, const Liandong__V1__Body *body)
{
    uint8_t *buf;
    size_t len;
    if (ldb_seal_body(b, body, &buf, &len) != 0) {
        errno = ENOMEM;
        return -1;
    }
    int rc = ldb_send_sealed(b, rid, rid_len, buf, len);
    int e = errno;
    free(buf);
    errno = e;
    return rc;
}

int ldb_emit(ldb_broker *b, MDB_txn *txn, const char *recipient, const void *body, size_t body_len)
{
    uint64_t seq;
    int rc = ldb_store_broker_seq_next(b->store, txn, &seq);
    if (rc != LD_OK)
        return rc;
    ldw_header_fields h = {
        .sender = b->key->id, .key_id = b->key->key_id, .seq = seq, .sent_at_ms = ldw_now_ms()};
    uint8_t *env;
    size_t len;
    ldw_envelope_id id;
    rc = ldw_envelope_seal(&h, body, body_len, b->key->sign_secret, &env, &len, &id);
    if (rc != LD_OK)
        return rc;
    int64_t now = ldb_clock_now(b);
    uint64_t no, did;
    rc = ldb_store_message_put(b->store, txn, env, len, 1, now, &no);
    if (rc == LD_OK)
        rc = ldb_store_mailbox_put(b->store, txn, recipient, no, &id, &did);
    if (rc == LD_OK) {
        /* Plugins see (and may log) every envelope the broker stored. */
        struct ld_plugin_txn t = {txn, b, 1, 0};
        rc = ldb_plugins_on_emit(b->plugins, &t, recipient, env, len);
        if (rc != LD_OK && t.full)
            rc = LD_ERR_STORAGE_FULL;
    }
    free(env);
    return rc;
}

void ldb_tick(ldb_broker *b, int force)
{
    int64_t wall = ldw_now_ms(), clock = ldb_clock_now(b);
    if (!ldb_plugins_count(b->plugins))
        return;
    /* Due by the wall clock, or at once when the simulated clock moved (the
     * wall clock moves all the time: it only counts through tick_ms). */
    int moved = b->cfg->simulated && clock != b->ticked_clock_ms;
    if (!force && wall < b->next_tick_ms && !moved)
        return;
    b->next_tick_ms = wall + b->cfg->tick_ms;
    b->ticked_clock_ms = clock;
    MDB_txn *txn;
    if (ldb_store_begin(b->store, NULL, 0, &txn) != LD_OK)
        return;
    struct ld_plugin_txn t = {txn, b, 0, 0};
    ldb_plugins_on_tick(b->plugins, &t, clock);
    if (!t.wrote) {
        mdb_txn_abort(txn);
        return;
    }
    if (ldb_store_commit(txn) != LD_OK) {
        ldb_error("tick: commit failed; the plugins' tick work is retried");
        return;
    }
    ldb_sessions_wake_all(b);
    ldb_plugins_after_commit(b->plugins);
}

/* Entries looked at per step, and the pause between steps while a pass
 * is under way and after it. */
#define PRUNE_STEP 20000
#define PRUNE_BUSY_MS 1000
#define PRUNE_IDLE_MS 600000

void ldb_prune_dedup(ldb_broker *b)
{
    int64_t wall = ldw_now_ms(), clock = ldb_clock_now(b);
    /* Due by the wall clock, or at once when the simulated clock moved. */
    int moved = b->cfg->simulated && clock != b->pruned_clock_ms;
    if (!b->cfg->dedup_days || (wall < b->next_prune_ms && !moved))
        return;
    b->pruned_clock_ms = clock;
    int64_t before = clock - (int64_t)b->cfg->dedup_days * 86400000;
    MDB_txn *txn;
    size_t removed = 0;
    int rc = ldb_store_begin(b->store, NULL, 0, &txn);
    if (rc == LD_OK) {
        rc = ldb_store_dedup_prune(b->store, txn, before, PRUNE_STEP, &b->prune_cursor, &removed);
        if (rc == LD_OK && removed)
            rc = ldb_store_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    if (rc != LD_OK) {
        b->prune_cursor.len = 0;
        ldb_warn("dedup pruning failed (%s); tried again later", ld_strerror(rc));
    } else if (removed) {
        ldb_debug("forgot %zu accepted envelope ids older than %u days", removed,
                  b->cfg->dedup_days);
    }
    int done = b->prune_cursor.len == 0;
    b->next_prune_ms = wall + (done || rc != LD_OK ? PRUNE_IDLE_MS : PRUNE_BUSY_MS);
}

static int write_ready_file(const char *path, const char *endpoint, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", endpoint) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write the ready file: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int init_clock(ldb_broker *b, char *err, size_t errlen)
{
    if (!b->cfg->simulated)
        return 0;
    MDB_txn *txn;
    if (ldb_store_begin(b->store, NULL, 0, &txn) != LD_OK) {
        snprintf(err, errlen, "cannot start a storage transaction for the clock");
        return -1;
    }
    int64_t ms;
    int rc = ldb_store_clock_get(b->store, txn, &ms);
    if (rc == LD_OK) {
        b->sim_clock_ms = ms;
        if (b->cfg->simulated_start_ms && b->cfg->simulated_start_ms != ms)
            ldb_info("clock: continuing the stored simulated clock; the configured start "
                     "time applies to a new data directory only");
        mdb_txn_abort(txn);
        return 0;
    }
    b->sim_clock_ms = b->cfg->simulated_start_ms ? b->cfg->simulated_start_ms : ldw_now_ms();
    if (rc != LD_ERR_NOT_FOUND || ldb_store_clock_put(b->store, txn, b->sim_clock_ms) != LD_OK ||
        ldb_store_commit(txn) != LD_OK) {
        if (rc != LD_ERR_NOT_FOUND)
            mdb_txn_abort(txn);
        snprintf(err, errlen, "cannot store the simulated clock");
        return -1;
    }
    return 0;
}

int ldb_broker_new(const ldb_config *cfg, ldb_broker **out, char *err, size_t errlen)
{
    *out = NULL;
    ldb_broker *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    b->cfg = cfg;
    b->peers = calloc(LDB_PEER_SLOTS, sizeof *b->peers);
    if (!b->peers) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    char kerr[LDK_ERR_MAX];
    int rc = ldk_identity_load_secret(cfg->key, &b->key, kerr, sizeof kerr);
    if (rc != LD_OK) {
        snprintf(err, errlen, "broker key: %s", kerr);
        goto fail;
    }
    rc = ldk_roster_load(cfg->roster, &b->roster, kerr, sizeof kerr);
    if (rc != LD_OK) {
        snprintf(err, errlen, "roster: %s", kerr);
        goto fail;
    }
    if (ldk_roster_find_any(b->roster, b->key->id)) {
        snprintf(err, errlen,
                 "roster: %s lists '%s', the broker's own id; a principal must not sign as the "
                 "broker (revoke or rename it)",
                 cfg->roster, b->key->id);
        rc = LD_ERR_EXISTS;
        goto fail;
    }
    rc = ldb_store_open(cfg->data_dir, cfg->map_size, &b->store, err, errlen);
    if (rc != LD_OK)
        goto fail;
    if (init_clock(b, err, errlen) != 0) {
        rc = LD_ERR_STORAGE;
        goto fail;
    }
    rc = ldb_plugins_load(b, &b->plugins, err, errlen);
    if (rc != LD_OK)
        goto fail;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->verify_threads ? cfg->verify_threads
                       : cores > 0         ? (unsigned)(cores > 256 ? 256 : cores)
                                           : 1;
    rc = ldb_pool_new(threads, &b->pool);
    if (rc != LD_OK) {
        snprintf(err, errlen, "cannot start %u verification threads", threads);
        goto fail;
    }

    rc = LD_ERR_ZMQ;
    b->ctx = zmq_ctx_new();
    if (!b->ctx) {
        snprintf(err, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        goto fail;
    }
    b->zap = ldb_zap_open(b->ctx);
    if (!b->zap) {
        snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(errno));
        goto fail;
    }
    b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
    int one = 1, linger = 1000, hwm = 100000;
    /* ZMTP heartbeats: a connection that stops answering (a peer gone
     * without closing TCP) is dropped, with what was queued for it. */
    int hb_ivl = (int)cfg->heartbeat_ms, hb_timeout = 3 * (int)cfg->heartbeat_ms;
    int64_t maxsize = (int64_t)cfg->max_message * 2 + 65536;
    if (!b->router || zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, b->key->curve_secret, LDK_Z85_KEY_LEN) ||
        zmq_setsockopt(b->router, ZMQ_ZAP_DOMAIN, "liandong", 8) ||
        zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) ||
        zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_setsockopt(b->router, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(b->router, ZMQ_RCVHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize) ||
        zmq_setsockopt(b->router, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl) ||
        zmq_setsockopt(b->router, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout)) {
        snprintf(err, errlen, "cannot set up the ROUTER socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(b->router, cfg->listen) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, zmq_strerror(errno));
        goto fail;
    }
    size_t elen = sizeof b->endpoint;
    zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, b->endpoint, &elen);
    if (cfg->ready_file && write_ready_file(cfg->ready_file, b->endpoint, err, errlen) != 0) {
        rc = LD_ERR_IO;
        goto fail;
    }
    ldb_info("broker %s (key %s) listening on %s, data in %s, %zu roster entries, %zu plugins, "
             "%u verify threads%s",
             b->key->id, b->key->key_id, b->endpoint, cfg->data_dir, b->roster->count,
             ldb_plugins_count(b->plugins), ldb_pool_threads(b->pool),
             cfg->simulated ? ", simulated clock" : "");
    *out = b;
    return LD_OK;
fail:
    ldb_broker_destroy(&b);
    return rc;
}

const char *ldb_broker_endpoint(const ldb_broker *b)
{
    return b->endpoint;
}

static void reload_roster(ldb_broker *b)
{
    char kerr[LDK_ERR_MAX];
    ldk_roster *r;
    if (ldk_roster_load(b->cfg->roster, &r, kerr, sizeof kerr) != LD_OK) {
        ldb_error("roster reload failed, keeping the current roster: %s", kerr);
        return;
    }
    if (ldk_roster_find_any(r, b->key->id)) {
        ldb_error("roster reload refused, keeping the current roster: %s lists '%s', the "
                  "broker's own id",
                  b->cfg->roster, b->key->id);
        ldk_roster_destroy(&r);
        return;
    }
    ldk_roster_destroy(&b->roster);
    b->roster = r;
    ldb_info("roster reloaded: %zu entries", r->count);
}

int ldb_broker_run(ldb_broker *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    while (!*stop) {
        if (*reload) {
            *reload = 0;
            reload_roster(b);
        }
        zmq_pollitem_t items[2] = {{b->router, 0, ZMQ_POLLIN, 0}, {b->zap, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 2, b->cfg->tick_ms < 200 ? (long)b->cfg->tick_ms : 200);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ldb_error("poll failed: %s", zmq_strerror(errno));
            return -1;
        }
        if (items[1].revents & ZMQ_POLLIN)
            ldb_zap_handle(b->zap, b->roster);
        if (items[0].revents & ZMQ_POLLIN)
            ldb_pipeline_run_batch(b);
        ldb_tick(b, 0);
        ldb_prune_dedup(b);
        ldb_sessions_pump(b);
        ldb_sessions_probe(b);
    }
    ldb_info("broker stopping");
    return 0;
}

void ldb_broker_destroy(ldb_broker **bp)
{
    if (!bp || !*bp)
        return;
    ldb_broker *b = *bp;
    ldb_pool_destroy(&b->pool);
    if (b->router)
        zmq_close(b->router);
    ldb_zap_close(&b->zap);
    if (b->ctx)
        zmq_ctx_term(b->ctx);
    ldb_plugins_unload(&b->plugins);
    ldb_store_close(&b->store);
    ldk_roster_destroy(&b->roster);
    ldk_identity_destroy(&b->key);
    free(b->sessions);
    free(b->peers);
    free(b);
    *bp = NULL;
}
