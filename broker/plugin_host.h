/* plugin_host.h - loading plugins and calling their hooks (internal). */
#ifndef LDB_PLUGIN_HOST_H
#define LDB_PLUGIN_HOST_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "liandong/plugin.h"

struct ldb_broker;

/* What plugins decided about one message (the ld_plugin_verdict). */
struct ld_plugin_verdict {
    int reason; /* 0: not refused */
    char text[512];
    char **recipients; /* added recipients (owned) */
    size_t n_recipients, cap_recipients;
    uint8_t *reply; /* Ack.reply body (owned) */
    size_t reply_len;
    struct ldb_broker *broker;
    int in_message; /* refuse/add_recipient/set_reply allowed */
};

/* One write transaction as plugins see it. */
struct ld_plugin_txn {
    MDB_txn *txn;
    struct ldb_broker *broker;
    int wrote; /* emitted or wrote something */
    int full;  /* a write failed with MDB_MAP_FULL */
};

typedef struct ldb_plugins ldb_plugins;

/* Load every plugin the config names, call init, then start (in one write
 * transaction). On failure, err names the plugin file and the cause, and
 * nothing is left loaded. */
int ldb_plugins_load(struct ldb_broker *b, ldb_plugins **out, char *err, size_t errlen);
void ldb_plugins_unload(ldb_plugins **p);
size_t ldb_plugins_count(const ldb_plugins *p);

/* Run on_message of every plugin in order. Returns LD_OK with v->reason set
 * on a refusal, *handled set if some plugin handled the type; or an
 * ld_error when a plugin failed (LD_ERR_STORAGE_FULL passed through). */
int ldb_plugins_on_message(ldb_plugins *p, struct ld_plugin_txn *t, const ld_plugin_message *m,
                           struct ld_plugin_verdict *v, int *handled);
/* Tell plugins about a refused envelope (for the audit log). */
int ldb_plugins_on_refused(ldb_plugins *p, struct ld_plugin_txn *t, const ld_plugin_refusal *r);
/* on_emit of every plugin, for an envelope the broker stored in t. The
 * first error ends the round and is returned. */
int ldb_plugins_on_emit(ldb_plugins *p, struct ld_plugin_txn *t, const char *recipient,
                        const uint8_t *envelope, size_t envelope_len);
/* on_tick of every plugin, each in a nested transaction of t. */
void ldb_plugins_on_tick(ldb_plugins *p, struct ld_plugin_txn *t, int64_t now_ms);
void ldb_plugins_after_commit(ldb_plugins *p);

void ldb_verdict_init(struct ld_plugin_verdict *v, struct ldb_broker *b);
void ldb_verdict_clear(struct ld_plugin_verdict *v);

#endif
