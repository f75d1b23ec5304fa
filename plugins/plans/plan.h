/* plan.h - plan files: the in-memory plan and the YAML parser (libyaml).
 *
 * The format is described in docs/plans.md. The parser checks everything
 * that can be checked from the file and the roster: required fields, ids,
 * dates, UTF-8, duplicate task ids, known principals. It does not know
 * other plans: that a task id is unique across the ledger is checked when
 * the plan is applied (publish.c).
 *
 * Thread safety: none needed; no global state. */
#ifndef LDP_PLAN_H
#define LDP_PLAN_H

#include <stddef.h>
#include <stdint.h>

/* Largest plan file accepted, in bytes. */
#define LDP_PLAN_MAX_BYTES (1024u * 1024u)
/* The reporting cadence of tasks that give none, unless configured. */
#define LDP_REPORT_DEFAULT "quarter"

typedef struct ldp_strv {
    char **v;
    size_t n;
} ldp_strv;

typedef struct ldp_target {
    int32_t year; /* 0 when the plan gives none (year: null) */
    char *text;
} ldp_target;

typedef struct ldp_task {
    char *id;
    char *title;
    ldp_strv lead;      /* at least one */
    ldp_strv support;   /* may be empty; may share departments with lead */
    char *due;          /* YYYY-MM-DD, a real date */
    char *report_every; /* none | month | quarter | half-year | year */
    ldp_target *targets;
    size_t n_targets;
    size_t line; /* 1-based line of the task in the file */
} ldp_task;

typedef struct ldp_plan {
    char *id;
    char *doc_number; /* "" when absent */
    char *title;
    ldp_strv coordinators; /* at least one */
    ldp_strv supervision;  /* may be empty */
    ldp_task *tasks;       /* in file order */
    size_t n_tasks;
    size_t line; /* line of the plan: mapping */
} ldp_plan;

/* Roster lookup: LD_OK (and the principal's LD_ROLE_* bits in *roles) if id
 * is a principal, LD_ERR_NOT_FOUND if not. */
typedef int (*ldp_roster_fn)(void *arg, const char *id, unsigned *roles);
/* A warning about the file (e.g. an unknown field), one sentence that starts
 * with "file:line: ". Borrowed for the call. */
typedef void (*ldp_warn_fn)(void *arg, const char *msg);

typedef struct ldp_parse_opts {
    const char *file_name;      /* named in every message; NULL: "plan" */
    const char *report_default; /* for tasks without report_every; NULL: LDP_REPORT_DEFAULT */
    ldp_roster_fn roster;       /* NULL: principal ids are not checked */
    void *roster_arg;
    ldp_warn_fn warn; /* NULL: warnings are dropped */
    void *warn_arg;
} ldp_parse_opts;

/* Parse a plan file of len bytes (at most LDP_PLAN_MAX_BYTES; need not be
 * NUL-terminated).
 * Returns LD_OK with *out (caller owns; ldp_plan_destroy), LD_ERR_FORMAT
 * with one sentence "file:line: reason" in err, or LD_ERR_NOMEM. */
int ldp_plan_parse(const ldp_parse_opts *o, const void *buf, size_t len, ldp_plan **out, char *err,
                   size_t errlen);

/* Free a plan; accepts NULL and sets *p to NULL. */
void ldp_plan_destroy(ldp_plan **p);

/* 1 if s is one of none, month, quarter, half-year, year. */
int ldp_report_every_valid(const char *s);

/* 1 if id is in v. */
int ldp_strv_has(const ldp_strv *v, const char *id);

#endif
