/* ledger.h - the task ledger's rules, as pure functions on
 * liandong.v1.LedgerTask messages: building an entry from a plan (keeping
 * what departments reported), the assignment notices a change causes,
 * acceptance, status reports, overdue.
 *
 * Nothing here touches storage: callers read an entry (unpacked with
 * protobuf-c), call one of these, and store the packed result. Inputs are
 * borrowed; outputs are new buffers the caller frees with ldp_buf_free.
 * See docs/plans.md for the rules in prose. */
#ifndef LDP_LEDGER_H
#define LDP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <liandong/liandong.pb-c.h>

#include "plan.h"

typedef Liandong__V1__LedgerTask ldp_entry;

/* Longest note of a status report kept in the ledger, in bytes. */
#define LDP_NOTE_MAX 4096

typedef struct ldp_buf {
    uint8_t *data;
    size_t len;
} ldp_buf;

/* Free b->data; b may be NULL. */
void ldp_buf_free(ldp_buf *b);

/* who's role on the task: LIANDONG__V1__TASK_ROLE__LEAD (also when it is
 * support as well), LIANDONG__V1__TASK_ROLE__SUPPORT, or 0 (neither). */
int ldp_entry_role(const ldp_entry *t, const char *who);

/* 1 if who is among the entry's coordinators (or supervision). */
int ldp_entry_is_coordinator(const ldp_entry *t, const char *who);
int ldp_entry_is_supervision(const ldp_entry *t, const char *who);

/* The ledger entry of task in plan, packed. Without old: state assigned,
 * progress 0. With old (the entry before a re-publish): state, progress,
 * last_report_at_ms, escalation_level and reports are kept; accepted_by
 * keeps the departments still on the task. LD_OK or LD_ERR_NOMEM. */
int ldp_entry_build(const ldp_plan *plan, const ldp_task *task, const ldp_entry *old, ldp_buf *out);

/* 1 if a department would see a difference between a and b in its
 * TaskAssign (title, lead, support, due, report_every, targets, doc_number,
 * plan_title). */
int ldp_entry_assign_differs(const ldp_entry *a, const ldp_entry *b);

typedef struct ldp_notice {
    const char *dept; /* borrowed from old or new */
    int role;         /* LIANDONG__V1__TASK_ROLE__* (the old role for UNASSIGNED) */
    int change;       /* LIANDONG__V1__ASSIGN_CHANGE__* */
} ldp_notice;

/* The TaskAssign notices a change of one task causes. old NULL: a new task
 * (everyone ASSIGNED); new_ NULL: a removed task (everyone UNASSIGNED).
 * Departments that gained the task get ASSIGNED, lost it UNASSIGNED, kept
 * it UPDATED if ldp_entry_assign_differs or their role changed, else
 * nothing. A department both lead and support counts as lead only.
 * *out (caller frees; NULL when *n is 0). LD_OK or LD_ERR_NOMEM. */
int ldp_entry_notices(const ldp_entry *old, const ldp_entry *new_, ldp_notice **out, size_t *n);

/* A serialized liandong.v1.Body holding the TaskAssign of t for a
 * department with role and change. LD_OK or LD_ERR_NOMEM. */
int ldp_assign_pack(const ldp_entry *t, int role, int change, ldp_buf *out);

/* dept (a lead or support department of t) accepts t: it joins
 * accepted_by, and a lead's accept moves assigned to accepted. *changed is
 * 0 (and out empty) when it had accepted before and nothing moves.
 * LD_OK or LD_ERR_NOMEM. */
int ldp_entry_accept(const ldp_entry *t, const char *dept, ldp_buf *out, int *changed);

/* dept (a lead or support department of t) reports r at business time
 * now_ms. Checks r: state accepted, in_progress, done or blocked; progress
 * 0..100; note valid UTF-8 of at most LDP_NOTE_MAX bytes; otherwise
 * LD_ERR_INVALID with one sentence in why (the Nack's MALFORMED text).
 * Effects: dept's report replaces its previous one, last_report_at_ms is
 * now_ms, dept joins accepted_by; a lead's report also sets the task's
 * state and progress. LD_OK, LD_ERR_INVALID or LD_ERR_NOMEM. */
int ldp_entry_report(const ldp_entry *t, const char *dept, const Liandong__V1__StatusReport *r,
                     int64_t now_ms, ldp_buf *out, char *why, size_t whylen);

/* 1 if t is past its due date on the business day of now_ms (China time,
 * UTC+8) and not done: due < today. */
int ldp_entry_overdue(const ldp_entry *t, int64_t now_ms);

/* 1 if t is a 督办函's row (kind "letter", written by the escalation plugin)
 * rather than a task of the plan. */
int ldp_entry_is_letter(const ldp_entry *t);

/* "assigned", "accepted", "in_progress", "done", "blocked" or "unspecified". */
const char *ldp_state_name(int state);

#endif
