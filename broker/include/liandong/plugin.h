/* liandong/plugin.h - the broker's plugin ABI.
 *
 * A plugin is a shared object the broker loads with dlopen(RTLD_NOW |
 * RTLD_LOCAL) from a path named in its config. It exports one symbol,
 *
 *     LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
 *         .abi_version = LD_PLUGIN_ABI_VERSION, .name = "example", ...};
 *
 * The broker refuses a plugin whose abi_version is not LD_PLUGIN_ABI_VERSION
 * (naming both numbers), whose symbol is missing, or whose init fails; it
 * then does not start at all.
 *
 * Threads: every hook runs on the broker's single event-loop thread, never
 * concurrently with another hook of any plugin. Hooks must not block (no
 * network, no sleeping, no waiting on other processes): the whole broker
 * waits for them. Short file reads in init and start are fine.
 *
 * Transactions: on_message, on_tick and start run inside the broker's LMDB
 * write transaction (ld_plugin_txn). Everything a hook does through the host
 * table with that txn (database writes, ledger writes, emitted messages,
 * added recipients) commits together with the message, or not at all: when
 * the message is refused (by this or a later plugin, or a storage error),
 * all of it is discarded. after_commit runs once the batch is durable.
 *
 * Host table: the broker hands init a const ld_host whose abi_version and
 * size say what it offers. Members are only ever added at its end; each
 * notes the ABI version that introduced it.
 *
 * Messages: bodies are serialized liandong.v1.Body protobuf messages (the
 * schema is installed as share/liandong/proto/liandong.proto). Decode and
 * encode them with protobuf-c: the generated header <liandong/liandong.pb-c.h>
 * is installed, and libliandong (pkg-config liandong) exports its functions.
 *
 * Errors: host functions return enum ld_error (liandong/error.h). Strings
 * passed in are UTF-8 and copied by the host unless a function says
 * otherwise; pointers handed out are borrowed until the hook returns.
 */
#ifndef LIANDONG_PLUGIN_H
#define LIANDONG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "liandong/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. Bumped on any incompatible change. */
#define LD_PLUGIN_ABI_VERSION 1u
/* The name of the symbol a plugin exports. */
#define LD_PLUGIN_SYMBOL "ld_plugin_entry"
#define LD_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Principal roles (bit mask), as in the roster. */
#define LD_ROLE_DEPARTMENT (1u << 0)
#define LD_ROLE_COORDINATOR (1u << 1)
#define LD_ROLE_SUPERVISION (1u << 2)
#define LD_ROLE_AUDITOR (1u << 3)
#define LD_ROLE_ADMIN (1u << 4)

/* Log levels for ld_host.log. */
enum ld_plugin_log_level { LD_LOG_DEBUG = 0, LD_LOG_INFO = 1, LD_LOG_WARN = 2, LD_LOG_ERROR = 3 };

/* What on_message decided. */
enum ld_plugin_decision {
    LD_PLUGIN_PASS = 0,    /* no opinion: not a message this plugin handles */
    LD_PLUGIN_HANDLED = 1, /* accepted: the message type is this plugin's */
    LD_PLUGIN_REFUSE = 2,  /* refused: host->refuse() was called with the reason */
    LD_PLUGIN_ERROR = 3,   /* the plugin failed (storage error, out of memory): the
                              message is refused with INTERNAL (or STORAGE_FULL when
                              a host call returned LD_ERR_STORAGE_FULL) */
};

/* Opaque handles owned by the host. */
typedef struct ld_plugin_ctx ld_plugin_ctx;         /* one per loaded plugin */
typedef struct ld_plugin_txn ld_plugin_txn;         /* the current write transaction */
typedef struct ld_plugin_verdict ld_plugin_verdict; /* decisions on the current message */

/* The message being processed. All pointers borrowed until on_message returns. */
typedef struct ld_plugin_message {
    uint32_t size;      /* sizeof(ld_plugin_message) of the host; fields only grow */
    const char *sender; /* principal id (authenticated) */
    const char *key_id;
    uint64_t seq;
    int64_t sent_at_ms;         /* sender's wall clock */
    const uint8_t *envelope_id; /* 16 bytes */
    const uint8_t *envelope;    /* the envelope as received (signature verified) */
    size_t envelope_len;
    const uint8_t *body; /* serialized liandong.v1.Body */
    size_t body_len;
    uint32_t body_case;    /* field number of the Body.msg oneof member */
    unsigned sender_roles; /* LD_ROLE_* bits */
    int64_t now_ms;        /* broker business clock */
    /* since ABI 1, size > offsetof(sender_sign_public): the Ed25519 public
     * key (32 bytes) of sender's key_id in the roster, the key the envelope
     * was verified with; NULL when unknown (a refusal before that check). */
    const uint8_t *sender_sign_public;
} ld_plugin_message;

/* A roster entry. Strings borrowed until the hook returns. */
typedef struct ld_principal_info {
    const char *id;
    const char *name;
    unsigned roles;
    int active; /* 0 if its key was revoked */
} ld_principal_info;

/* An envelope the broker refused, by its own checks or a plugin's. Borrowed
 * until on_refused returns. */
typedef struct ld_plugin_refusal {
    uint32_t size;          /* sizeof(ld_plugin_refusal) of the host */
    const char *connection; /* principal the connection authenticated as */
    const uint8_t *frame;   /* the frame as received (NULL if over the size limit) */
    size_t frame_len;       /* its length (also when frame is NULL) */
    /* The envelope's fields when it parsed, else NULL. sender, key_id and
     * seq come from an unverified header unless signature_ok. */
    const ld_plugin_message *message;
    int signature_ok;
    int reason;       /* liandong.v1.ReasonCode */
    const char *text; /* the sentence sent in the Nack */
    int64_t now_ms;
} ld_plugin_refusal;

typedef int (*ld_plugin_scan_fn)(void *arg, const void *key, size_t key_len, const void *val,
                                 size_t val_len);

typedef struct ld_host {
    uint32_t abi_version; /* LD_PLUGIN_ABI_VERSION of the broker */
    uint32_t size;        /* sizeof(ld_host) of the broker */

    /* --- since ABI 1 --- */

    /* One line to the broker log, prefixed with the plugin name. Any thread. */
    void (*log)(ld_plugin_ctx *ctx, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* The broker business clock (simulated or wall), Unix ms. */
    int64_t (*now_ms)(ld_plugin_ctx *ctx);

    /* Look up a principal in the roster. LD_OK or LD_ERR_NOT_FOUND. */
    int (*principal)(ld_plugin_ctx *ctx, const char *id, ld_principal_info *out);

    /* Open (creating) the plugin's own named database; only in init. The
     * database is private to the plugin (named "plugin.<name>.<db>" in LMDB).
     * *db is a handle for the db_* calls. */
    int (*db_open)(ld_plugin_ctx *ctx, const char *name, uint32_t *db);
    /* Read key: LD_OK with *val and *val_len pointing into the database, or
     * LD_ERR_NOT_FOUND. The value stays valid until the next write (put, del,
     * ledger_put, emit) in the same transaction or the end of the hook,
     * whichever comes first: copy it before writing. */
    int (*db_get)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, uint32_t db, const void *key,
                  size_t key_len, const void **val, size_t *val_len);
    /* Write or overwrite key. LD_ERR_STORAGE_FULL when the map is full. */
    int (*db_put)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, uint32_t db, const void *key,
                  size_t key_len, const void *val, size_t val_len);
    /* Delete key: LD_OK or LD_ERR_NOT_FOUND. */
    int (*db_del)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, uint32_t db, const void *key,
                  size_t key_len);
    /* Call fn for each entry with key >= from (all if from_len == 0), in key
     * order, until fn returns non-zero. Do not write to db from fn. */
    int (*db_scan)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, uint32_t db, const void *from,
                   size_t from_len, ld_plugin_scan_fn fn, void *arg);

    /* The task ledger (a core database): one serialized liandong.v1.LedgerTask
     * per (plan, task). Any plugin may read it; the plans plugin writes it,
     * others update only the fields they own (e.g. escalation_level). */
    int (*ledger_get)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *plan, const char *task,
                      const void **val, size_t *val_len);
    int (*ledger_put)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *plan, const char *task,
                      const void *val, size_t val_len);
    int (*ledger_del)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *plan, const char *task);
    /* Each task of plan (all plans if plan is NULL or ""), in (plan, task)
     * byte order (ir-2.1.10 sorts before ir-2.1.2); key is "plan\0task". Do
     * not write to the ledger from fn. Values as for ledger_get. */
    int (*ledger_scan)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *plan,
                       ld_plugin_scan_fn fn, void *arg);

    /* Queue a message from the broker for recipient: body (a serialized
     * liandong.v1.Body) is sealed with the broker's key and put in the
     * recipient's mailbox in txn; it is delivered once txn commits.
     * LD_ERR_NOT_FOUND if recipient is not in the roster. */
    int (*emit)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *recipient, const void *body,
                size_t body_len);

    /* In on_message only: refuse the message with a liandong.v1.ReasonCode
     * and a sentence for the sender (at most 511 bytes; longer is cut).
     * Return LD_PLUGIN_REFUSE afterwards. */
    void (*refuse)(ld_plugin_verdict *v, int reason, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* In on_message only: also deliver the message itself to principal (its
     * original envelope, like a Direct). Repeated recipients get one copy.
     * LD_ERR_NOT_FOUND if principal is not in the roster. */
    int (*add_recipient)(ld_plugin_verdict *v, const char *principal);
    /* In on_message only: a serialized liandong.v1.Body sent back to the
     * sender inside its Ack (Ack.reply), e.g. a LedgerReply. Copied. */
    int (*set_reply)(ld_plugin_verdict *v, const void *body, size_t body_len);

    /* --- since ABI 1, size > offsetof(sign) --- */

    /* Sign msg with the broker's Ed25519 key (detached, 64 bytes into sig)
     * and write the broker's key id (16 characters and NUL) into key_id.
     * For statements the broker makes about its own state, such as the
     * audit log's checkpoints: the caller must put its own domain string at
     * the start of msg (e.g. "liandong/checkpoint/v1") so that a signature
     * can never pass for an envelope's. The plugin never sees the secret
     * key. LD_OK or LD_ERR_INVALID. Any hook. */
    int (*sign)(ld_plugin_ctx *ctx, const void *msg, size_t len, uint8_t sig[64], char key_id[17]);
    /* Call fn for each roster principal (one call per principal, active or
     * not) whose roles share a bit with role_mask (all if role_mask is 0),
     * in roster order, until fn returns non-zero. The info is borrowed for
     * the call. LD_OK. Any hook. */
    int (*principals)(ld_plugin_ctx *ctx, unsigned role_mask,
                      int (*fn)(void *arg, const ld_principal_info *p), void *arg);

    /* --- since ABI 1, size > offsetof(doc_get) --- */

    /* Shared documents: a core database every plugin may read and write,
     * for data one plugin offers the others, keyed (kind, id) (each 1 to
     * 127 bytes, no NUL). Kinds in use: "plan" (id: the plan id; value: the
     * file name, NUL, the plan file as last loaded or published), written by
     * the plans plugin for plans from its config and from PlanPublish alike;
     * the escalation plugin reads its rules from them at start. Values as
     * for ledger_get. Same hooks as ledger_get / ledger_put. */
    int (*doc_get)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *kind, const char *id,
                   const void **val, size_t *val_len);
    int (*doc_put)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *kind, const char *id,
                   const void *val, size_t val_len);
    /* Each document of kind, in id byte order; key is "kind\0id". Do not
     * write documents from fn. */
    int (*doc_scan)(ld_plugin_ctx *ctx, ld_plugin_txn *txn, const char *kind, ld_plugin_scan_fn fn,
                    void *arg);
} ld_host;

typedef struct ld_plugin_descriptor {
    uint32_t abi_version; /* LD_PLUGIN_ABI_VERSION the plugin was built with */
    const char *name;     /* short, [a-z0-9_-]; names its databases and log lines */
    const char *version;  /* the plugin's own version, for logs */

    /* Load time, before the broker serves. config_yaml is the plugin's
     * `config:` block from the broker config as a YAML document ("" if none;
     * borrowed for the call). Set *state (passed to every other hook). On
     * failure return an ld_error and write one sentence into err; the broker
     * then calls nothing else of this plugin (not even fini) and stops.
     * May call: log, now_ms, principal, db_open. Required. */
    int (*init)(const ld_host *host, ld_plugin_ctx *ctx, const char *config_yaml, void **state,
                char *err, size_t errlen);

    /* Once, after every plugin's init, in a write transaction, before the
     * broker serves: load files, migrate data. An error (with err) stops the
     * broker and discards the transaction. May call everything except refuse,
     * add_recipient and set_reply. Optional (NULL). */
    int (*start)(void *state, ld_plugin_txn *txn, char *err, size_t errlen);
    /* (err holds errlen bytes, 512 in ABI 1, for init and start alike.) */

    /* Each accepted-so-far message, in load order of the plugins, inside its
     * transaction, after the broker's own checks (signature, sequence, clock)
     * and before it is stored. Returns an enum ld_plugin_decision. A message
     * type the broker does not know itself is refused UNSUPPORTED unless a
     * plugin returns LD_PLUGIN_HANDLED. The first REFUSE or ERROR ends the
     * round: later plugins do not see the message. May call everything.
     * Optional. */
    int (*on_message)(void *state, ld_plugin_txn *txn, const ld_plugin_message *msg,
                      ld_plugin_verdict *v);

    /* Each refused envelope, in the batch's write transaction (after the
     * refused message's own effects were discarded): for a log of refusals.
     * Returns LD_OK or an ld_error (logged; the refusal stands). May call
     * log, now_ms, principal, db_*, ledger_get/ledger_scan. Optional. */
    int (*on_refused)(void *state, ld_plugin_txn *txn, const ld_plugin_refusal *r);

    /* Periodically (tick_ms, default 1000) and right after the business clock
     * moves, in its own write transaction, with the business clock. Returns
     * LD_OK or an ld_error (the tick's transaction is then discarded and
     * retried at the next tick). May call everything except refuse,
     * add_recipient and set_reply. Optional. */
    int (*on_tick)(void *state, ld_plugin_txn *txn, int64_t now_ms);

    /* After each batch or tick transaction has been committed durably: for
     * work that must only happen once data is safe (e.g. announcing a
     * checkpoint). No transaction. Optional. */
    void (*after_commit)(void *state);

    /* At shutdown (after a successful init): release state. Optional. */
    void (*fini)(void *state);

    /* --- since ABI 1, added before its release: the descriptor has no size
     * field, so a plugin built against a header without this member must
     * be rebuilt --- */

    /* Each envelope the broker itself sealed and stored for recipient (an
     * emit by any plugin, this one included), in the same transaction,
     * right after it was stored: for a log of what the broker sent.
     * envelope is the sealed envelope (borrowed for the call). An error
     * fails the emit, and with it the emitting hook's transaction: nothing
     * is delivered that this hook did not see. May call log, now_ms,
     * principal, db_*, ledger_get/ledger_scan, sign, principals, and emit
     * (which calls on_emit again: guard against recursion). Optional. */
    int (*on_emit)(void *state, ld_plugin_txn *txn, const char *recipient, const uint8_t *envelope,
                   size_t envelope_len);
} ld_plugin_descriptor;

#ifdef __cplusplus
}
#endif
#endif
