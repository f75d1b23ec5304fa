/* plugin_host.c - dlopen'ed plugins: loading, the host table, the hooks. */
#define _GNU_SOURCE
#include "plugin_host.h"

#include <dlfcn.h>
#include <sodium.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_int.h"
#include "log.h"

#define MAX_DBS 16

struct ld_plugin_ctx {
    struct ldb_broker *broker;
    const ld_plugin_descriptor *d;
    void *handle;
    void *state;
    char path[PATH_MAX];
    MDB_txn *init_txn; /* db_open's transaction, during init only */
    MDB_dbi dbs[MAX_DBS];
    unsigned n_dbs;
    int inited;
};

struct ldb_plugins {
    struct ld_plugin_ctx *ctx;
    size_t n;
};

size_t ldb_plugins_count(const ldb_plugins *p)
{
    return p ? p->n : 0;
}

/* ---- the host table ---------------------------------------------------- */

static int map_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return LD_OK;
    case MDB_NOTFOUND: return LD_ERR_NOT_FOUND;
    case MDB_MAP_FULL: return LD_ERR_STORAGE_FULL;
    default: return LD_ERR_STORAGE;
    }
}

/* Remember a full map, so that a plugin's failure maps to STORAGE_FULL. */
static int note_full(ld_plugin_txn *t, int rc)
{
    if (rc == LD_ERR_STORAGE_FULL)
        t->full = 1;
    return rc;
}

static void h_log(ld_plugin_ctx *ctx, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level < LD_LOG_DEBUG || level > LD_LOG_ERROR)
        level = LD_LOG_INFO;
    ldb_log((enum ldb_log_level)level, "plugin %s: %s", ctx->d->name, msg);
}

static int64_t h_now_ms(ld_plugin_ctx *ctx)
{
    return ldb_clock_now(ctx->broker);
}

static void fill_principal(const ldk_roster_entry *e, ld_principal_info *out)
{
    out->id = e->pub.id;
    out->name = e->pub.name;
    out->roles = e->pub.roles;
    out->active = !e->revoked;
}

static int h_principal(ld_plugin_ctx *ctx, const char *id, ld_principal_info *out)
{
    const ldk_roster_entry *e = id ? ldk_roster_find_any(ctx->broker->roster, id) : NULL;
    if (!e)
        return LD_ERR_NOT_FOUND;
    fill_principal(e, out);
    return LD_OK;
}

static int h_db_open(ld_plugin_ctx *ctx, const char *name, uint32_t *db)
{
    if (!ctx->init_txn || !name || !*name || strlen(name) > 64)
        return LD_ERR_INVALID;
    if (ctx->n_dbs == MAX_DBS)
        return LD_ERR_INVALID;
    char full[160];
    snprintf(full, sizeof full, "plugin.%s.%s", ctx->d->name, name);
    MDB_dbi dbi;
    int rc = mdb_dbi_open(ctx->init_txn, full, MDB_CREATE, &dbi);
    if (rc) {
        ldb_error("plugin %s: cannot open database %s: %s", ctx->d->name, full, mdb_strerror(rc));
        return map_mdb(rc);
    }
    ctx->dbs[ctx->n_dbs] = dbi;
    *db = ctx->n_dbs++;
    return LD_OK;
}

static int db_handle(ld_plugin_ctx *ctx, ld_plugin_txn *t, uint32_t db, MDB_dbi *dbi)
{
    if (!t || !t->txn || db >= ctx->n_dbs)
        return LD_ERR_INVALID;
    *dbi = ctx->dbs[db];
    return LD_OK;
}

static int h_db_get(ld_plugin_ctx *ctx, ld_plugin_txn *t, uint32_t db, const void *key,
                    size_t key_len, const void **val, size_t *val_len)
{
    MDB_dbi dbi;
    if (db_handle(ctx, t, db, &dbi) || !key || !key_len || key_len > 511)
        return LD_ERR_INVALID;
    MDB_val k = {key_len, (void *)key}, v;
    int rc = mdb_get(t->txn, dbi, &k, &v);
    if (rc == 0) {
        *val = v.mv_data;
        *val_len = v.mv_size;
    }
    return map_mdb(rc);
}

static int h_db_put(ld_plugin_ctx *ctx, ld_plugin_txn *t, uint32_t db, const void *key,
                    size_t key_len, const void *val, size_t val_len)
{
    MDB_dbi dbi;
    if (db_handle(ctx, t, db, &dbi) || !key || !key_len || key_len > 511 || (!val && val_len))
        return LD_ERR_INVALID;
    MDB_val k = {key_len, (void *)key}, v = {val_len, (void *)val};
    t->wrote = 1;
    return note_full(t, map_mdb(mdb_put(t->txn, dbi, &k, &v, 0)));
}

static int h_db_del(ld_plugin_ctx *ctx, ld_plugin_txn *t, uint32_t db, const void *key,
                    size_t key_len)
{
    MDB_dbi dbi;
    if (db_handle(ctx, t, db, &dbi) || !key || !key_len || key_len > 511)
        return LD_ERR_INVALID;
    MDB_val k = {key_len, (void *)key};
    t->wrote = 1;
    return note_full(t, map_mdb(mdb_del(t->txn, dbi, &k, NULL)));
}

static int scan(MDB_txn *txn, MDB_dbi dbi, const void *from, size_t from_len, const void *prefix,
                size_t prefix_len, ld_plugin_scan_fn fn, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return map_mdb(rc);
    MDB_val k = {from_len, (void *)from}, v;
    rc = mdb_cursor_get(cur, &k, &v, from_len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (prefix_len && (k.mv_size < prefix_len || memcmp(k.mv_data, prefix, prefix_len) != 0))
            break;
        if (fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? LD_OK : map_mdb(rc);
}

static int h_db_scan(ld_plugin_ctx *ctx, ld_plugin_txn *t, uint32_t db, const void *from,
                     size_t from_len, ld_plugin_scan_fn fn, void *arg)
{
    MDB_dbi dbi;
    if (db_handle(ctx, t, db, &dbi) || !fn || (!from && from_len))
        return LD_ERR_INVALID;
    return scan(t->txn, dbi, from, from_len, NULL, 0, fn, arg);
}

/* Ledger key: plan NUL task. */
static size_t ledger_key(char *buf, size_t cap, const char *plan, const char *task)
{
    size_t pl = strlen(plan), tl = strlen(task);
    if (pl + tl + 1 > cap || pl == 0 || tl == 0)
        return 0;
    memcpy(buf, plan, pl);
    buf[pl] = 0;
    memcpy(buf + pl + 1, task, tl);
    return pl + 1 + tl;
}

static int h_ledger_get(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *plan, const char *task,
                        const void **val, size_t *val_len)
{
    char kb[LDB_LEDGER_KEY_MAX];
    size_t kl = plan && task ? ledger_key(kb, sizeof kb, plan, task) : 0;
    if (!kl || !t)
        return LD_ERR_INVALID;
    MDB_val k = {kl, kb}, v;
    int rc = mdb_get(t->txn, ctx->broker->store->ledger, &k, &v);
    if (rc == 0) {
        *val = v.mv_data;
        *val_len = v.mv_size;
    }
    return map_mdb(rc);
}

static int h_ledger_put(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *plan, const char *task,
                        const void *val, size_t val_len)
{
    char kb[LDB_LEDGER_KEY_MAX];
    size_t kl = plan && task ? ledger_key(kb, sizeof kb, plan, task) : 0;
    if (!kl || !t || (!val && val_len))
        return LD_ERR_INVALID;
    MDB_val k = {kl, kb}, v = {val_len, (void *)val};
    t->wrote = 1;
    return note_full(t, map_mdb(mdb_put(t->txn, ctx->broker->store->ledger, &k, &v, 0)));
}

static int h_ledger_del(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *plan, const char *task)
{
    char kb[LDB_LEDGER_KEY_MAX];
    size_t kl = plan && task ? ledger_key(kb, sizeof kb, plan, task) : 0;
    if (!kl || !t)
        return LD_ERR_INVALID;
    MDB_val k = {kl, kb};
    t->wrote = 1;
    return note_full(t, map_mdb(mdb_del(t->txn, ctx->broker->store->ledger, &k, NULL)));
}

/* Document key: kind NUL id, each 1..127 bytes. */
static size_t doc_key(char *buf, const char *kind, const char *id)
{
    if (!kind || !id)
        return 0;
    size_t kl = strlen(kind), il = strlen(id);
    if (!kl || !il || kl > 127 || il > 127)
        return 0;
    memcpy(buf, kind, kl + 1);
    memcpy(buf + kl + 1, id, il);
    return kl + 1 + il;
}

static int h_doc_get(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *kind, const char *id,
                     const void **val, size_t *val_len)
{
    char kb[256];
    size_t kl = doc_key(kb, kind, id);
    if (!kl || !t || !val || !val_len)
        return LD_ERR_INVALID;
    MDB_val k = {kl, kb}, v;
    int rc = mdb_get(t->txn, ctx->broker->store->docs, &k, &v);
    if (rc == 0) {
        *val = v.mv_data;
        *val_len = v.mv_size;
    }
    return map_mdb(rc);
}

static int h_doc_put(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *kind, const char *id,
                     const void *val, size_t val_len)
{
    char kb[256];
    size_t kl = doc_key(kb, kind, id);
    if (!kl || !t || (!val && val_len))
        return LD_ERR_INVALID;
    MDB_val k = {kl, kb}, v = {val_len, (void *)val};
    t->wrote = 1;
    return note_full(t, map_mdb(mdb_put(t->txn, ctx->broker->store->docs, &k, &v, 0)));
}

static int h_doc_scan(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *kind, ld_plugin_scan_fn fn,
                      void *arg)
{
    size_t kl = kind ? strlen(kind) : 0;
    if (!t || !fn || !kl || kl > 127)
        return LD_ERR_INVALID;
    char prefix[129];
    memcpy(prefix, kind, kl + 1); /* "kind\0" */
    return scan(t->txn, ctx->broker->store->docs, prefix, kl + 1, prefix, kl + 1, fn, arg);
}

struct ledger_scan_arg {
    ld_plugin_scan_fn fn;
    void *arg;
};

static int h_ledger_scan(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *plan,
                         ld_plugin_scan_fn fn, void *arg)
{
    if (!t || !fn)
        return LD_ERR_INVALID;
    size_t pl = plan ? strlen(plan) : 0;
    if (pl >= LDB_LEDGER_KEY_MAX)
        return LD_ERR_INVALID;
    char prefix[LDB_LEDGER_KEY_MAX];
    if (pl) {
        memcpy(prefix, plan, pl);
        prefix[pl] = 0; /* "plan\0" */
    }
    return scan(t->txn, ctx->broker->store->ledger, pl ? prefix : NULL, pl ? pl + 1 : 0,
                pl ? prefix : NULL, pl ? pl + 1 : 0, fn, arg);
}

static int h_emit(ld_plugin_ctx *ctx, ld_plugin_txn *t, const char *recipient, const void *body,
                  size_t body_len)
{
    if (!t || !recipient || !body || !body_len)
        return LD_ERR_INVALID;
    if (!ldk_roster_find_any(ctx->broker->roster, recipient))
        return LD_ERR_NOT_FOUND;
    t->wrote = 1;
    return note_full(t, ldb_emit(ctx->broker, t->txn, recipient, body, body_len));
}

static void h_refuse(ld_plugin_verdict *v, int reason, const char *fmt, ...)
{
    if (!v || !v->in_message)
        return;
    v->reason = reason > 0 ? reason : LIANDONG__V1__REASON_CODE__INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof v->text, fmt, ap);
    va_end(ap);
}

static int h_add_recipient(ld_plugin_verdict *v, const char *principal)
{
    if (!v || !v->in_message || !principal)
        return LD_ERR_INVALID;
    if (!ldk_roster_find_any(v->broker->roster, principal))
        return LD_ERR_NOT_FOUND;
    for (size_t i = 0; i < v->n_recipients; i++)
        if (strcmp(v->recipients[i], principal) == 0)
            return LD_OK;
    if (v->n_recipients == v->cap_recipients) {
        size_t cap = v->cap_recipients ? v->cap_recipients * 2 : 8;
        char **n = realloc(v->recipients, cap * sizeof *n);
        if (!n)
            return LD_ERR_NOMEM;
        v->recipients = n;
        v->cap_recipients = cap;
    }
    char *s = strdup(principal);
    if (!s)
        return LD_ERR_NOMEM;
    v->recipients[v->n_recipients++] = s;
    return LD_OK;
}

static int h_set_reply(ld_plugin_verdict *v, const void *body, size_t body_len)
{
    if (!v || !v->in_message || (!body && body_len))
        return LD_ERR_INVALID;
    uint8_t *copy = malloc(body_len ? body_len : 1);
    if (!copy)
        return LD_ERR_NOMEM;
    if (body_len)
        memcpy(copy, body, body_len);
    free(v->reply);
    v->reply = copy;
    v->reply_len = body_len;
    return LD_OK;
}

static int h_sign(ld_plugin_ctx *ctx, const void *msg, size_t len, uint8_t sig[64], char key_id[17])
{
    if (!ctx || (!msg && len) || !sig || !key_id)
        return LD_ERR_INVALID;
    const ldk_identity *k = ctx->broker->key;
    if (crypto_sign_detached(sig, NULL, msg, len, k->sign_secret) != 0)
        return LD_ERR_INVALID;
    snprintf(key_id, 17, "%s", k->key_id);
    return LD_OK;
}

static int h_principals(ld_plugin_ctx *ctx, unsigned role_mask,
                        int (*fn)(void *arg, const ld_principal_info *p), void *arg)
{
    if (!ctx || !fn)
        return LD_ERR_INVALID;
    const ldk_roster *r = ctx->broker->roster;
    for (size_t i = 0; i < r->count; i++) {
        const ldk_roster_entry *e = &r->entries[i];
        if (role_mask && !(e->pub.roles & role_mask))
            continue;
        /* A principal's older, revoked keys are listed too: one call each. */
        if (ldk_roster_find_any(r, e->pub.id) != e)
            continue;
        ld_principal_info info;
        fill_principal(e, &info);
        if (fn(arg, &info))
            break;
    }
    return LD_OK;
}

static const ld_host host_table = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .size = sizeof(ld_host),
    .log = h_log,
    .now_ms = h_now_ms,
    .principal = h_principal,
    .db_open = h_db_open,
    .db_get = h_db_get,
    .db_put = h_db_put,
    .db_del = h_db_del,
    .db_scan = h_db_scan,
    .ledger_get = h_ledger_get,
    .ledger_put = h_ledger_put,
    .ledger_del = h_ledger_del,
    .ledger_scan = h_ledger_scan,
    .emit = h_emit,
    .refuse = h_refuse,
    .add_recipient = h_add_recipient,
    .set_reply = h_set_reply,
    .sign = h_sign,
    .principals = h_principals,
    .doc_get = h_doc_get,
    .doc_put = h_doc_put,
    .doc_scan = h_doc_scan,
};

void ldb_verdict_init(struct ld_plugin_verdict *v, struct ldb_broker *b)
{
    memset(v, 0, sizeof *v);
    v->broker = b;
}

void ldb_verdict_clear(struct ld_plugin_verdict *v)
{
    for (size_t i = 0; i < v->n_recipients; i++)
        free(v->recipients[i]);
    free(v->recipients);
    free(v->reply);
    memset(v, 0, sizeof *v);
}

/* ---- loading ----------------------------------------------------------- */

static void plugin_path(const ldb_config *cfg, const ldb_plugin_conf *pc, char *out, size_t len)
{
    if (pc->path) {
        snprintf(out, len, "%s", pc->path);
        return;
    }
    if (cfg->plugin_dir) {
        snprintf(out, len, "%s/%s.so", cfg->plugin_dir, pc->name);
        return;
    }
    /* Default: <dir of the broker executable>/../<libdir>/liandong/plugins. */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = 0;
        snprintf(out, len, "%.3000s/../%s/%.64s.so", self, LDB_PLUGIN_RELDIR, pc->name);
    } else {
        snprintf(out, len, "%s/%s.so", LDB_PLUGIN_DIR, pc->name);
    }
}

static int load_one(struct ldb_broker *b, const ldb_plugin_conf *pc, struct ld_plugin_ctx *ctx,
                    MDB_txn *txn, char *err, size_t errlen)
{
    plugin_path(b->cfg, pc, ctx->path, sizeof ctx->path);
    ctx->broker = b;
    dlerror();
    ctx->handle = dlopen(ctx->path, RTLD_NOW | RTLD_LOCAL);
    if (!ctx->handle) {
        const char *why = dlerror();
        snprintf(err, errlen, "plugin %s: cannot load %s: %s", pc->name, ctx->path,
                 why ? why : "unknown error");
        return LD_ERR_NOT_FOUND;
    }
    const ld_plugin_descriptor *d = dlsym(ctx->handle, LD_PLUGIN_SYMBOL);
    if (!d) {
        snprintf(err, errlen,
                 "plugin %s: %s does not export the symbol %s; is it a Liandong plugin?", pc->name,
                 ctx->path, LD_PLUGIN_SYMBOL);
        return LD_ERR_FORMAT;
    }
    if (d->abi_version != LD_PLUGIN_ABI_VERSION) {
        snprintf(err, errlen,
                 "plugin %s: %s was built for plugin ABI %u but this broker speaks ABI %u; "
                 "rebuild it against this broker's liandong/plugin.h",
                 pc->name, ctx->path, d->abi_version, LD_PLUGIN_ABI_VERSION);
        return LD_ERR_FORMAT;
    }
    if (!d->name || !d->init) {
        snprintf(err, errlen, "plugin %s: %s has no name or no init function", pc->name, ctx->path);
        return LD_ERR_FORMAT;
    }
    ctx->d = d;
    ctx->init_txn = txn;
    char perr[512] = "";
    int rc = d->init(&host_table, ctx, pc->config_yaml, &ctx->state, perr, sizeof perr);
    ctx->init_txn = NULL;
    if (rc != LD_OK) {
        snprintf(err, errlen, "plugin %s: %s: init failed: %s", pc->name, ctx->path,
                 perr[0] ? perr : ld_strerror(rc));
        return rc;
    }
    ctx->inited = 1;
    ldb_info("plugin %s %s loaded from %s", d->name, d->version ? d->version : "", ctx->path);
    return LD_OK;
}

void ldb_plugins_unload(ldb_plugins **pp)
{
    if (!pp || !*pp)
        return;
    ldb_plugins *p = *pp;
    for (size_t i = p->n; i-- > 0;) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (c->inited && c->d->fini)
            c->d->fini(c->state);
        if (c->handle)
            dlclose(c->handle);
    }
    free(p->ctx);
    free(p);
    *pp = NULL;
}

int ldb_plugins_load(struct ldb_broker *b, ldb_plugins **out, char *err, size_t errlen)
{
    *out = NULL;
    ldb_plugins *p = calloc(1, sizeof *p);
    if (!p || (b->cfg->n_plugins && !(p->ctx = calloc(b->cfg->n_plugins, sizeof *p->ctx)))) {
        free(p);
        snprintf(err, errlen, "out of memory loading plugins");
        return LD_ERR_NOMEM;
    }
    if (!b->cfg->n_plugins) {
        *out = p;
        return LD_OK;
    }
    MDB_txn *txn;
    int rc = ldb_store_begin(b->store, NULL, 0, &txn);
    if (rc != LD_OK) {
        snprintf(err, errlen, "cannot start a transaction for the plugins");
        free(p->ctx);
        free(p);
        return rc;
    }
    for (size_t i = 0; i < b->cfg->n_plugins && rc == LD_OK; i++) {
        rc = load_one(b, &b->cfg->plugins[i], &p->ctx[i], txn, err, errlen);
        p->n = i + 1;
    }
    struct ld_plugin_txn t = {txn, b, 0, 0};
    for (size_t i = 0; i < p->n && rc == LD_OK; i++) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (!c->d->start)
            continue;
        char perr[512] = "";
        rc = c->d->start(c->state, &t, perr, sizeof perr);
        if (rc != LD_OK)
            snprintf(err, errlen, "plugin %s: start failed: %s", c->d->name,
                     perr[0] ? perr : ld_strerror(rc));
    }
    if (rc == LD_OK) {
        rc = ldb_store_commit(txn);
        if (rc != LD_OK)
            snprintf(err, errlen, "cannot commit the plugins' start: %s", ld_strerror(rc));
    } else {
        mdb_txn_abort(txn);
    }
    if (rc != LD_OK) {
        ldb_plugins_unload(&p);
        return rc;
    }
    *out = p;
    return LD_OK;
}

/* ---- hooks ------------------------------------------------------------- */

int ldb_plugins_on_message(ldb_plugins *p, struct ld_plugin_txn *t, const ld_plugin_message *m,
                           struct ld_plugin_verdict *v, int *handled)
{
    *handled = 0;
    v->in_message = 1;
    int rc = LD_OK;
    for (size_t i = 0; p && i < p->n; i++) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (!c->d->on_message)
            continue;
        int d = c->d->on_message(c->state, t, m, v);
        if (d == LD_PLUGIN_HANDLED) {
            *handled = 1;
        } else if (d == LD_PLUGIN_REFUSE) {
            if (!v->reason)
                h_refuse(v, LIANDONG__V1__REASON_CODE__INTERNAL,
                         "plugin %s refused the message without a reason", c->d->name);
            break;
        } else if (d == LD_PLUGIN_ERROR) {
            ldb_error("plugin %s failed on a message from %s seq %llu", c->d->name, m->sender,
                      (unsigned long long)m->seq);
            rc = LD_ERR_PLUGIN;
            break;
        } else if (d != LD_PLUGIN_PASS) {
            ldb_error("plugin %s returned %d from on_message", c->d->name, d);
            rc = LD_ERR_PLUGIN;
            break;
        }
    }
    v->in_message = 0;
    return rc;
}

int ldb_plugins_on_refused(ldb_plugins *p, struct ld_plugin_txn *t, const ld_plugin_refusal *r)
{
    for (size_t i = 0; p && i < p->n; i++) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (!c->d->on_refused)
            continue;
        int rc = c->d->on_refused(c->state, t, r);
        if (rc != LD_OK) {
            ldb_error("plugin %s could not record a refusal: %s", c->d->name, ld_strerror(rc));
            return rc;
        }
    }
    return LD_OK;
}

int ldb_plugins_on_emit(ldb_plugins *p, struct ld_plugin_txn *t, const char *recipient,
                        const uint8_t *envelope, size_t envelope_len)
{
    for (size_t i = 0; p && i < p->n; i++) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (!c->d->on_emit)
            continue;
        int rc = c->d->on_emit(c->state, t, recipient, envelope, envelope_len);
        if (rc != LD_OK) {
            ldb_error("plugin %s failed on an envelope emitted for %s: %s", c->d->name, recipient,
                      ld_strerror(rc));
            return rc;
        }
    }
    return LD_OK;
}

void ldb_plugins_on_tick(ldb_plugins *p, struct ld_plugin_txn *t, int64_t now_ms)
{
    for (size_t i = 0; p && i < p->n; i++) {
        struct ld_plugin_ctx *c = &p->ctx[i];
        if (!c->d->on_tick)
            continue;
        MDB_txn *child;
        if (mdb_txn_begin(c->broker->store->env, t->txn, 0, &child) != 0)
            return;
        struct ld_plugin_txn ct = {child, t->broker, 0, 0};
        int rc = c->d->on_tick(c->state, &ct, now_ms);
        if (rc == LD_OK && mdb_txn_commit(child) == 0) {
            t->wrote |= ct.wrote;
        } else {
            if (rc == LD_OK)
                rc = LD_ERR_STORAGE;
            else
                mdb_txn_abort(child);
            ldb_error("plugin %s: tick failed (%s); retried at the next tick", c->d->name,
                      ld_strerror(rc));
        }
    }
}

void ldb_plugins_after_commit(ldb_plugins *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (p->ctx[i].d->after_commit)
            p->ctx[i].d->after_commit(p->ctx[i].state);
}
