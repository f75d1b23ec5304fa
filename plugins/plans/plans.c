/* plans.c - the plans plugin: its descriptor, config, start, and the
 * dispatch of the message types it handles (PlanPublish, TaskAccept,
 * StatusReport, LedgerQuery). Everything else passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"

#define LDP_VERSION "0.1.0"

static int plans_init(const ld_host *host, ld_plugin_ctx *ctx, const char *config_yaml,
                      void **state, char *err, size_t errlen)
{
    if (!host || host->abi_version < 1 || host->size < sizeof(ld_host)) {
        snprintf(err, errlen,
                 "the broker's host table is older than this plugin (ABI 1, %zu bytes)",
                 sizeof(ld_host));
        return LD_ERR_INVALID;
    }
    ldp_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    s->host = host;
    s->ctx = ctx;
    int rc = ldp_config_parse(config_yaml, &s->cfg, err, errlen);
    if (rc == LD_OK && (rc = host->db_open(ctx, "plans", &s->db_plans)) != LD_OK)
        snprintf(err, errlen, "cannot open the plans database: %s", ld_strerror(rc));
    if (rc == LD_OK && (rc = host->db_open(ctx, "tasks", &s->db_tasks)) != LD_OK)
        snprintf(err, errlen, "cannot open the task index: %s", ld_strerror(rc));
    if (rc != LD_OK) {
        ldp_config_clear(&s->cfg);
        free(s);
        return rc;
    }
    *state = s;
    return LD_OK;
}

static int plans_start(void *state, ld_plugin_txn *txn, char *err, size_t errlen)
{
    ldp_state *s = state;
    int rc = ldp_load_config_plans(s, txn, err, errlen);
    if (rc == LD_OK && s->cfg.n_plans)
        LDP_LOG(s, LD_LOG_INFO, "%zu plan files loaded from the config", s->cfg.n_plans);
    return rc;
}

static int handles(uint32_t body_case)
{
    switch (body_case) {
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH:
    case LIANDONG__V1__BODY__MSG_TASK_ACCEPT:
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT:
    case LIANDONG__V1__BODY__MSG_LEDGER_QUERY: return 1;
    default: return 0;
    }
}

static int plans_on_message(void *state, ld_plugin_txn *txn, const ld_plugin_message *m,
                            ld_plugin_verdict *v)
{
    ldp_state *s = state;
    if (!m || !m->sender || !handles(m->body_case))
        return LD_PLUGIN_PASS;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, m->body_len, m->body);
    if (!b) {
        s->host->refuse(v, LIANDONG__V1__REASON_CODE__MALFORMED, "the body is not a protobuf Body");
        return LD_PLUGIN_REFUSE;
    }
    int d = LD_PLUGIN_PASS;
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH:
        if (b->plan_publish)
            d = ldp_on_publish(s, txn, m, b->plan_publish, v);
        break;
    case LIANDONG__V1__BODY__MSG_TASK_ACCEPT:
        if (b->task_accept)
            d = ldp_on_accept(s, txn, m, b->task_accept, v);
        break;
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT:
        if (b->status_report)
            d = ldp_on_report(s, txn, m, b->status_report, v);
        break;
    case LIANDONG__V1__BODY__MSG_LEDGER_QUERY:
        if (b->ledger_query)
            d = ldp_on_query(s, txn, m, b->ledger_query, v);
        break;
    default: break;
    }
    liandong__v1__body__free_unpacked(b, NULL);
    return d;
}

static void plans_fini(void *state)
{
    ldp_state *s = state;
    if (!s)
        return;
    ldp_config_clear(&s->cfg);
    free(s);
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .name = "plans",
    .version = LDP_VERSION,
    .init = plans_init,
    .start = plans_start,
    .on_message = plans_on_message,
    .fini = plans_fini,
};
