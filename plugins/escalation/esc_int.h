/* esc_int.h - the escalation plugin's state and the parts that talk to the
 * host (store.c, tick.c, actions.c, query.c, escalation.c). */
#ifndef LDE_ESC_INT_H
#define LDE_ESC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <liandong/liandong.pb-c.h>
#include <liandong/plugin.h>

#include "calendar.h"
#include "clock.h"
#include "rules.h"

typedef Liandong__V1__LedgerTask lde_ledger;

#define LDE_CACHE 32

typedef struct lde_cached {
    char plan[LDE_ID_MAX + 1];
    uint64_t hash;
    lde_plan_rules *pr;
} lde_cached;

typedef struct lde_state {
    const ld_host *host;
    ld_plugin_ctx *ctx;
    uint32_t db_clocks;  /* "plan\0task" -> TaskClock */
    uint32_t db_index;   /* be64(ms) 't' "plan\0task" | be64(ms) 'l' letter id -> "" */
    uint32_t db_notices; /* notice id -> EscalationNotice (the fired set and the history) */
    uint32_t db_letters; /* letter id -> Letter */
    uint32_t db_rules;   /* plan id -> be64(hash) + plan file */
    uint32_t db_tasks;   /* task id -> plan id */
    uint32_t db_meta;    /* "letter_seq" -> be64 */
    lde_config cfg;
    lde_calendar *cal;
    lde_cached cache[LDE_CACHE];
    size_t cache_next;
    uint64_t events; /* events handled since start (for the log) */
} lde_state;

#define LDE_LOG(s, level, ...) (s)->host->log((s)->ctx, (level), __VA_ARGS__)
#define LDE_REASON(x) LIANDONG__V1__REASON_CODE__##x

/* ---- store.c ---- */

/* The rules in force for (plan, task): *tracked 0 when neither the plan nor
 * the config has rules (the task is not watched). LD_OK or an ld_error. */
int lde_rules_for(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  lde_rules *out, int *tracked);
/* Store a plan file's rules (parsed already into pr) under its plan id. */
int lde_rules_store(lde_state *s, ld_plugin_txn *txn, const char *plan, const void *content,
                    size_t len);

/* The ledger entry: LD_OK with *out (free with liandong__v1__ledger_task__free_unpacked),
 * LD_ERR_NOT_FOUND, LD_ERR_FORMAT. */
int lde_ledger_get(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                   lde_ledger **out);
/* Rewrite the ledger entry's escalation_level and/or due date (NULL: keep)
 * when they differ, leaving every other field as the plans plugin wrote it. */
int lde_ledger_update(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                      const uint32_t *level, const char *due);

/* 1 if e is a 督办函's ledger row (kind "letter"), not a plan's task. */
int lde_is_letter(const lde_ledger *e);
/* Write the ledger row of letter l: new (from the letter and the ledger
 * entry of its task), or updated with an answer (by, text; NULL: none) and
 * a level (0: keep). State and progress follow l->answered_by. */
int lde_letter_row(lde_state *s, ld_plugin_txn *txn, const lde_letter *l, const char *by,
                   const char *text, int64_t now_ms, uint32_t level);

/* The clock of (plan, task): LD_OK with *out (free with
 * liandong__escalation__v1__task_clock__free_unpacked) or LD_ERR_NOT_FOUND. */
int lde_clock_get(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  lde_tclock **out);
int lde_clock_put(lde_state *s, ld_plugin_txn *txn, const lde_tclock *t);
int lde_letter_get(lde_state *s, ld_plugin_txn *txn, const char *id, lde_letter **out);
int lde_letter_put(lde_state *s, ld_plugin_txn *txn, const lde_letter *l);

/* Move an item's entry in the due index from old_ms to new_ms (0: none). */
int lde_index_move(lde_state *s, ld_plugin_txn *txn, char kind, const char *a, const char *b,
                   int64_t old_ms, int64_t new_ms);

/* The plan of task ("" plan given): LD_OK with plan copied, or LD_ERR_NOT_FOUND. */
int lde_task_plan(lde_state *s, ld_plugin_txn *txn, const char *task, char plan[LDE_ID_MAX + 1]);

/* A notice to raise. */
typedef struct lde_notice_in {
    const char *plan, *task, *reason, *letter_id;
    uint32_t level;
    const char *level_name;
    const char *due;
    int64_t raised_ms;
    const char *colour;
    const char *text;
    int unverified;
    const char *period_end;
    char *const *departments;
    size_t n_departments;
    const char *id_suffix; /* makes the notice id unique: due date, period, letter, ... */
} lde_notice_in;

/* Record the notice (unless its id was raised before: then nothing) and
 * emit it to every recipient in to[0..n) (duplicates and principals missing
 * from the roster skipped, the latter logged). */
int lde_notice_raise(lde_state *s, ld_plugin_txn *txn, const lde_notice_in *n, char *const *to,
                     size_t n_to);

/* Recipients of mask for ledger entry e, into a (a->v owned; lde_names_free). */
typedef struct lde_names {
    char **v;
    size_t n, cap;
} lde_names;
int lde_names_add(lde_names *a, const char *id);
void lde_names_mask(lde_names *a, const lde_ledger *e, unsigned mask);
void lde_names_free(lde_names *a);
int lde_listed(char *const *v, size_t n, const char *who);

/* ---- tick.c ---- */

/* Bring the clock of (plan, task) in line with the ledger and the rules and
 * (re)index it. by: the principal whose message caused it ("" none). */
int lde_sync_task(lde_state *s, ld_plugin_txn *txn, const char *plan, const char *task,
                  const char *by, int64_t now_ms);
/* Sync every task of plan (all plans when NULL). */
int lde_sync_plan(lde_state *s, ld_plugin_txn *txn, const char *plan, int64_t now_ms);
/* Re-index a clock after its state changed, store it, and bring the
 * ledger's level and due date (the date in force) in line with it. */
int lde_reschedule(lde_state *s, ld_plugin_txn *txn, lde_tclock *t, const lde_rules *r);
int lde_on_tick(void *state, ld_plugin_txn *txn, int64_t now_ms);

/* ---- actions.c ---- */
int lde_on_publish(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                   const Liandong__V1__PlanPublish *p, ld_plugin_verdict *v);
int lde_on_report(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__StatusReport *r);
int lde_on_ext_request(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                       const Liandong__V1__ExtensionRequest *q, ld_plugin_verdict *v);
int lde_on_ext_decision(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                        const Liandong__V1__ExtensionDecision *d, ld_plugin_verdict *v);
int lde_on_pause(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__TaskPause *p, ld_plugin_verdict *v);
int lde_on_letter(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__SupervisionLetter *l, ld_plugin_verdict *v);
int lde_on_answer(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                  const Liandong__V1__LetterAnswer *a, ld_plugin_verdict *v);

/* ---- query.c ---- */
int lde_on_query(lde_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                 const Liandong__V1__EscalationQuery *q, ld_plugin_verdict *v);

#endif
