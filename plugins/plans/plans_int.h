/* plans_int.h - the plans plugin's state and the pieces of the plugin that
 * talk to the host (store.c, publish.c, tasks.c, query.c, plans.c). */
#ifndef LDP_PLANS_INT_H
#define LDP_PLANS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <liandong/liandong.pb-c.h>
#include <liandong/plugin.h>

#include "config.h"
#include "ledger.h"
#include "plan.h"
#include "plans_db.pb-c.h"
#include "text.h"

typedef Liandong__Plans__V1__PlanRecord ldp_record;

typedef struct ldp_state {
    const ld_host *host;
    ld_plugin_ctx *ctx;
    uint32_t db_plans; /* plan id -> PlanRecord */
    uint32_t db_tasks; /* task id -> plan id */
    ldp_config cfg;
} ldp_state;

#define LDP_LOG(s, level, ...) (s)->host->log((s)->ctx, (level), __VA_ARGS__)

/* ---- store.c: the plugin's databases and the ledger ---- */

/* The record of plan_id: LD_OK with *out (free with
 * liandong__plans__v1__plan_record__free_unpacked), LD_ERR_NOT_FOUND, or an
 * ld_error. A record that does not unpack is LD_ERR_FORMAT (logged). */
int ldp_record_get(ldp_state *s, ld_plugin_txn *txn, const char *plan_id, ldp_record **out);
/* Every plan record, in plan id order. *out (free with ldp_records_free). */
int ldp_records_all(ldp_state *s, ld_plugin_txn *txn, ldp_record ***out, size_t *n);
void ldp_records_free(ldp_record **v, size_t n);
int ldp_record_put(ldp_state *s, ld_plugin_txn *txn, const ldp_record *r);

/* The plan of task into plan (LDP_ID_MAX + 1 bytes): LD_OK or LD_ERR_NOT_FOUND. */
int ldp_index_get(ldp_state *s, ld_plugin_txn *txn, const char *task, char *plan);

/* The ledger entry (plan, task): LD_OK with *out (free with
 * liandong__v1__ledger_task__free_unpacked), LD_ERR_NOT_FOUND, LD_ERR_FORMAT
 * when stored bytes do not unpack (logged), or an ld_error. */
int ldp_entry_get(ldp_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  ldp_entry **out);

/* 1 if who appears in v[0..n). */
int ldp_listed(char *const *v, size_t n, const char *who);
/* v joined with ", " into out (cut with "..." when long), "nobody" if empty. */
void ldp_join(char *const *v, size_t n, char *out, size_t outlen);

/* ---- publish.c: plan files and PlanPublish ---- */

/* Parse a plan file, checking principals against the roster and logging
 * warnings. As ldp_plan_parse. */
int ldp_plan_load(ldp_state *s, const char *file_name, const void *buf, size_t len, ldp_plan **out,
                  char *err, size_t errlen);
/* Apply a parsed plan to the ledger in txn and emit the TaskAssign notices
 * it causes (see docs/plans.md, re-publish). by is the publishing principal
 * ("" for the config). Returns LD_OK; LD_ERR_EXISTS when a task id belongs
 * to another plan (why: "file:line: ..."); or a storage ld_error. */
int ldp_plan_apply(ldp_state *s, ld_plugin_txn *txn, const ldp_plan *plan, const char *file_name,
                   const char *by, int64_t now_ms, char *why, size_t whylen);
/* The plan files of the config, in start. */
int ldp_load_config_plans(ldp_state *s, ld_plugin_txn *txn, char *err, size_t errlen);
int ldp_on_publish(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                   const Liandong__V1__PlanPublish *p, ld_plugin_verdict *v);

/* ---- tasks.c: TaskAccept, StatusReport ---- */
int ldp_on_accept(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__TaskAccept *a, ld_plugin_verdict *v);
int ldp_on_report(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__StatusReport *r, ld_plugin_verdict *v);

/* ---- query.c: LedgerQuery ---- */

/* Largest LedgerReply answered, in bytes: it travels inside an Ack. */
#define LDP_REPLY_MAX (900u * 1024u)
int ldp_on_query(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__LedgerQuery *q, ld_plugin_verdict *v);

#endif
