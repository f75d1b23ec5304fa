/* liandong/liandong.h - the Liandong client SDK (libliandong).
 *
 * A department system connects to the broker with its identity (a .secret
 * key file made by liandong-keys) and the broker's public key file, sends
 * signed messages that return only once the broker has stored them durably
 * (its Ack), and receives deliveries whose signatures are already checked.
 *
 *     ld_client *c;
 *     ld_client_options o;
 *     ld_client_options_init(&o);
 *     o.endpoint = "tcp://127.0.0.1:7400";
 *     o.identity_path = "keys/mdj.gxj.secret";
 *     o.broker_key_path = "keys/broker.pub";
 *     char err[512];
 *     if (ld_client_new(&o, &c, err, sizeof err) != LD_OK) ... // the reason is in err
 *     if (ld_client_connect(c) != LD_OK) ... // see ld_client_last_error(c)
 *     const char *to[] = {"mdj.fgw"};
 *     ld_client_send_direct(c, to, 1, "请于周五前报送进展", NULL, 0, NULL);
 *     ld_delivery *d;
 *     while (ld_client_recv(c, 1000, &d) == LD_OK) {
 *         ...;                    // process d, then:
 *         ld_client_ack(c, d);
 *         ld_delivery_destroy(&d);
 *     }
 *     ld_client_destroy(&c);
 *
 * Thread safety: an ld_client is not thread-safe; use one client per thread
 * (or serialize all calls on it). Different clients are independent. An
 * ld_delivery may be read and destroyed on any thread; ld_client_ack on it
 * is a call on its client like any other.
 *
 * Reliability: the client reconnects by itself (ZeroMQ reconnects the
 * socket; the client says Hello again after each new handshake) and resends
 * an unacknowledged envelope unchanged until the Ack arrives or the send
 * timeout ends; the broker acknowledges a resent envelope again without
 * storing it twice. Deliveries are at least once; the client drops
 * duplicates by envelope id (remembering the last LD_DEDUP_WINDOW ids): a
 * duplicate of a delivery the application still holds (not acknowledged,
 * not destroyed) is dropped silently, so its mailbox entry stays until the
 * application's own ld_client_ack; any other duplicate is acknowledged by
 * the client so it leaves the mailbox. See docs/sdk.md.
 *
 * Errors: functions return enum ld_error (liandong/error.h). After a failure,
 * ld_client_last_error() gives one sentence; after LD_ERR_REFUSED,
 * ld_client_last_reason() gives the broker's reason code as well, and
 * ld_client_last_error() is the broker's own sentence. LD_ERR_CLOSED means a
 * wait was interrupted by a signal (EINTR); the client stays usable.
 */
#ifndef LIANDONG_H
#define LIANDONG_H

#include <stddef.h>
#include <stdint.h>

#include "liandong/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LD_VERSION_STRING "0.1.0"
#define LD_ENVELOPE_ID_BYTES 16
#define LD_DEDUP_WINDOW 4096

/* Broker reason codes, the same numbers as liandong.v1.ReasonCode. */
enum ld_reason {
    LD_REASON_UNSPECIFIED = 0,
    LD_REASON_MALFORMED = 1,
    LD_REASON_TOO_LARGE = 2,
    LD_REASON_UNKNOWN_SENDER = 3,
    LD_REASON_SENDER_MISMATCH = 4,
    LD_REASON_KEY_REVOKED = 5,
    LD_REASON_BAD_SIGNATURE = 6,
    LD_REASON_REPLAY = 7,
    LD_REASON_CLOCK_SKEW = 8,
    LD_REASON_UNAUTHORIZED = 9,
    LD_REASON_UNKNOWN_RECIPIENT = 10,
    LD_REASON_STORAGE_FULL = 11,
    LD_REASON_UNSUPPORTED = 12,
    LD_REASON_INTERNAL = 13,
    LD_REASON_UNKNOWN_TASK = 14,   /* the plan or task named does not exist */
    LD_REASON_INVALID_PLAN = 15,   /* a published plan file is not valid (text says file:line) */
    LD_REASON_LIMIT_EXCEEDED = 16, /* beyond a rule's limits (an extension too long, too many) */
};

/* "MALFORMED", "REPLAY", ...; "UNKNOWN" for other values. Never NULL. */
const char *ld_reason_name(int reason);

/* The library version, LD_VERSION_STRING of the build. Never NULL. */
const char *ld_version(void);

/* Parse a duration into milliseconds: a bare number of seconds ("45"), or
 * one or more number-unit pairs with units w, d, h, m (minutes), s, ms
 * ("90d", "36h", "2w", "1h30m"). LD_OK, or LD_ERR_INVALID for an empty
 * string, a sign, a fraction, an unknown unit or an overflow. */
int ld_duration_parse(const char *s, int64_t *ms);

typedef struct ld_client ld_client;

typedef struct ld_client_options {
    const char *endpoint;        /* e.g. "tcp://127.0.0.1:7400" (required) */
    const char *identity_path;   /* the principal's .secret file (required) */
    const char *broker_key_path; /* the broker's .pub file (required) */
    /* Times in ms; 0 means the default, negative is LD_ERR_INVALID. */
    int send_timeout_ms;     /* total wait for an Ack; default 10000 */
    int resend_interval_ms;  /* resend an unacknowledged envelope after; default 2000 */
    int connect_timeout_ms;  /* wait for HelloReply in ld_client_connect; default 10000 */
    const char *client_name; /* sent in Hello; default "libliandong/<version>" */
    int send_only;           /* 1: this client only sends; the broker pushes it no
                                deliveries (they stay for the principal's receiving
                                connections). Default 0. */
    int send_window;         /* submissions (ld_client_submit_*) in flight at most;
                                0: the default, 64; at most LD_SEND_WINDOW_MAX */
    /* Only deliveries of these types (ld_delivery.type names, e.g.
     * "escalation_notice"), at most LD_ONLY_TYPES_MAX; the others stay in the
     * mailbox for the principal's other connections and do not hold up
     * these. NULL / 0: every delivery. Not with send_only. */
    const char *const *only_types;
    size_t n_only_types;
} ld_client_options;

#define LD_ONLY_TYPES_MAX 32

#define LD_SEND_WINDOW_DEFAULT 64
#define LD_SEND_WINDOW_MAX 4096

/* Fill o with defaults (all pointers NULL). */
void ld_client_options_init(ld_client_options *o);

/* Load the keys and create the socket (no network traffic yet). On failure,
 * if err is not NULL, one sentence is written into err (errlen bytes), and
 * *out is NULL. Caller owns *out on LD_OK (ld_client_destroy).
 * Errors: LD_ERR_INVALID (missing option, negative time), the key file
 * errors of the identity or broker key file (LD_ERR_NOT_FOUND, LD_ERR_IO,
 * LD_ERR_FORMAT, LD_ERR_PERMISSION: the .secret is readable by others),
 * LD_ERR_ZMQ, LD_ERR_NOMEM. */
int ld_client_new(const ld_client_options *o, ld_client **out, char *err, size_t errlen);

/* Close the socket (waiting at most 200 ms for queued messages, such as a
 * last DeliveryAck, to leave) and wipe the keys. Deliveries already handed
 * out stay valid. Accepts NULL and *c == NULL; sets *c = NULL. */
void ld_client_destroy(ld_client **c);

/* Connect, send Hello and wait up to connect_timeout_ms for HelloReply. The
 * sequence number continues above the broker's last accepted one. The broker
 * then pushes our mailbox, which ld_client_recv returns. May be called again
 * (after LD_ERR_TIMEOUT, or to ask for the mailbox again).
 * Errors: LD_ERR_TIMEOUT if the broker does not answer: a wrong endpoint, a
 * stopped broker, or a CURVE key not in its roster (ZeroMQ gives no error for
 * that; the sentence adds what the handshake reported, if anything);
 * LD_ERR_REFUSED if the broker refused the Hello; LD_ERR_PROTOCOL if the
 * broker knows our CURVE key as another principal; LD_ERR_INVALID for an
 * endpoint ZeroMQ cannot parse; LD_ERR_CLOSED if interrupted by a signal. */
int ld_client_connect(ld_client *c);

/* What the broker said in its last HelloReply. LD_ERR_INVALID before a
 * successful ld_client_connect. */
typedef struct ld_session_info {
    char principal[65];
    char name[257];
    uint64_t last_seq;     /* last sequence number the broker accepted from us */
    uint64_t mailbox_size; /* deliveries waiting at Hello time */
    int64_t clock_ms;      /* broker business clock */
    int simulated_clock;   /* 1 if the broker runs a simulated clock */
} ld_session_info;
int ld_client_session(const ld_client *c, ld_session_info *out);

/* The broker's answer to one accepted envelope. */
typedef struct ld_ack {
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
    uint64_t seq;
    int duplicate;    /* the broker had it already (a resend) */
    int64_t clock_ms; /* broker business clock after it */
} ld_ack;

/* Send a Direct message: text (UTF-8, may be NULL for none) and an optional
 * payload to the given principal ids. Returns after the broker's Ack (LD_OK,
 * *ack filled if not NULL), its Nack (LD_ERR_REFUSED, see
 * ld_client_last_reason; the sequence number is used again by the next send,
 * except after REPLAY), or the send timeout (LD_ERR_TIMEOUT: the message may
 * or may not have been stored; a retry with the same call sends a new
 * envelope with a new sequence number). Deliveries arriving meanwhile are
 * queued for ld_client_recv.
 * Other errors: LD_ERR_INVALID (before ld_client_connect, no recipient, an
 * invalid principal id, text not UTF-8, nothing to send), LD_ERR_CLOSED
 * (interrupted by a signal: the message may have been stored), LD_ERR_ZMQ. */
int ld_client_send_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                          const void *payload, size_t payload_len, ld_ack *ack);

/* Send a serialized liandong.v1.Body (for message types without a helper
 * here). Sequence-numbered and answered like ld_client_send_direct.
 * LD_ERR_INVALID if body does not parse, holds no message, or holds a
 * session or broker message (hello, delivery_ack, ack, ...). A body type
 * newer than this library is sent as it is. */
int ld_client_send_body(ld_client *c, const uint8_t *body, size_t body_len, ld_ack *ack);

/* ---- Pipelined sends ------------------------------------------------------
 *
 * ld_client_send_direct waits for each Ack, so one envelope is in flight per
 * client and throughput is bounded by the round trip (and the broker's
 * fsync). The submit calls below seal the next sequence number, send and
 * return at once; ld_client_wait_result collects the answers, in submission
 * order. At most options.send_window submissions are in flight. Every
 * unanswered submission is resent unchanged, in order, after a reconnect and
 * every resend_interval_ms; the broker acknowledges a resend it already
 * stored as a duplicate. Each submission times out send_timeout_ms after it
 * was submitted. Blocking sends may be mixed with submissions; they wait for
 * their own answer only and leave the others' results queued. */

/* What a submit call returns. */
typedef struct ld_submission {
    uint64_t seq;
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
} ld_submission;

/* The answer to one submission. */
typedef struct ld_send_result {
    uint64_t seq;
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
    /* LD_OK: stored (ack filled); LD_ERR_REFUSED: the broker's Nack (reason,
     * text); LD_ERR_TIMEOUT: no answer within send_timeout_ms, the message may
     * or may not have been stored (text says so). */
    int status;
    ld_ack ack;
    int reason;     /* LD_REASON_* of a Nack, else LD_REASON_UNSPECIFIED */
    char text[512]; /* the broker's sentence for a Nack, or ours; "" on LD_OK */
} ld_send_result;

/* Submit a Direct message (arguments as ld_client_send_direct) without
 * waiting for its answer. *sub (if not NULL) gets its sequence number and
 * envelope id. Errors: LD_ERR_WINDOW_FULL when send_window submissions are
 * not collected yet (collect one with ld_client_wait_result first; nothing
 * was sent), LD_ERR_INVALID (as ld_client_send_direct), LD_ERR_NOMEM,
 * LD_ERR_ZMQ. Sequence numbers: a refused number is
 * used again only if no later submission was made before its result was
 * collected, and never after REPLAY; the broker accepts gaps. */
int ld_client_submit_direct(ld_client *c, const char *const *to, size_t n_to, const char *text,
                            const void *payload, size_t payload_len, ld_submission *sub);
/* Submit a serialized liandong.v1.Body (as ld_client_send_body). An Ack's
 * reply (a plugin's answer) is not kept for submissions. */
int ld_client_submit_body(ld_client *c, const uint8_t *body, size_t body_len, ld_submission *sub);
/* Submissions not yet collected (answered or not). */
size_t ld_client_in_flight(const ld_client *c);
/* Wait up to timeout_ms (0: do not wait, -1: forever) for the oldest
 * submission's answer and return it in *out (LD_OK; look at out->status).
 * Deliveries arriving meanwhile are queued for ld_client_recv.
 * Errors: LD_ERR_TIMEOUT (the oldest submission is not answered yet; nothing
 * is taken), LD_ERR_NOT_FOUND (nothing submitted), LD_ERR_CLOSED
 * (interrupted by a signal), LD_ERR_ZMQ, LD_ERR_INVALID. */
int ld_client_wait_result(ld_client *c, int timeout_ms, ld_send_result *out);

/* Admin, broker with --simulated-clock only: advance the business clock by
 * by_ms (> 0, else LD_ERR_INVALID). *clock_ms (if not NULL) receives the new
 * clock (Unix ms). A broker without a simulated clock, or a sender without
 * the admin role, refuses it (LD_ERR_REFUSED). */
int ld_client_clock_advance(ld_client *c, int64_t by_ms, int64_t *clock_ms);

/* ---- Plans, tasks and the ledger ---------------------------------------
 *
 * With the broker's plans plugin loaded, departments coordinate through
 * plans (docs/plans.md): a coordinator publishes a plan file; the broker
 * records its tasks in the task ledger and sends each lead and support
 * department a TaskAssign (a delivery of type "task_assign", signed by the
 * broker; see ld_delivery.assign). A department accepts its task and reports
 * progress; the broker delivers the report to the plan's coordinators (and,
 * for a support department's report, to the task's lead departments).
 * Coordinators and supervision read the ledger with ld_client_ledger_query;
 * any department may ask for its own tasks (mine = 1).
 *
 *     ld_ack ack;
 *     ld_client_plan_publish_file(c, "examples/plans/ir-2022.yaml", &ack);  // coordinator
 *
 *     ld_client_task_accept(c, NULL, "ir-2.1.1", "已收到，按季度报送", NULL); // department
 *     ld_status_report r = {.task = "ir-2.1.1", .state = LD_TASK_IN_PROGRESS,
 *                           .progress = 10, .note = "已完成调研"};
 *     ld_client_status_report(c, &r, NULL);
 *
 *     ld_ledger_query q = {.plan = "ir-2022", .overdue = 1};                 // coordinator
 *     ld_ledger *l;
 *     if (ld_client_ledger_query(c, &q, &l) == LD_OK) {
 *         for (size_t i = 0; i < l->n_tasks; i++)
 *             printf("%s %s %u%%\n", l->tasks[i].task,
 *                    ld_task_state_name(l->tasks[i].state), l->tasks[i].progress);
 *         ld_ledger_destroy(&l);
 *     }
 *
 * The sends return like ld_client_send_direct: after the broker's Ack (the
 * message is stored and the ledger updated in the same transaction), its
 * Nack (LD_ERR_REFUSED; ld_client_last_reason says why), or the send
 * timeout (LD_ERR_TIMEOUT). Refusals the plans plugin gives:
 * LD_REASON_UNAUTHORIZED (only a plan's coordinators publish it; only a
 * task's lead and support departments accept it and report on it; only
 * coordinators and supervision read the ledger beyond their own tasks),
 * LD_REASON_UNKNOWN_TASK, LD_REASON_INVALID_PLAN (the sentence names the
 * file, line and reason), LD_REASON_MALFORMED. A broker without the plugin
 * refuses these messages (LD_REASON_UNSUPPORTED). */

/* Largest plan file ld_client_plan_publish accepts (1 MiB). The broker's
 * max_message_bytes limits the whole envelope as well (default 1 MiB). */
#define LD_PLAN_FILE_MAX_BYTES (1024 * 1024)
/* Largest note in a TaskAccept or StatusReport, in bytes. */
#define LD_NOTE_MAX_BYTES (64 * 1024)

/* Task states, the same numbers as liandong.v1.TaskState. */
enum ld_task_state {
    LD_TASK_STATE_ANY = 0, /* in a query: any state (TASK_STATE_UNSPECIFIED) */
    LD_TASK_ASSIGNED = 1,
    LD_TASK_ACCEPTED = 2,
    LD_TASK_IN_PROGRESS = 3,
    LD_TASK_DONE = 4,
    LD_TASK_BLOCKED = 5,
};

/* "assigned", "accepted", "in_progress", "done", "blocked"; "any" for 0;
 * "unknown" for other values. Never NULL. */
const char *ld_task_state_name(int state);
/* The inverse of ld_task_state_name for the five states (ASCII case and '-'
 * for '_' do not matter: "In-Progress" is LD_TASK_IN_PROGRESS). LD_OK and
 * *state, or LD_ERR_INVALID (NULL, "any", anything else; *state untouched). */
int ld_task_state_parse(const char *s, int *state);

/* A department's role in a task, the same numbers as liandong.v1.TaskRole. */
enum ld_task_role {
    LD_TASK_ROLE_UNSPECIFIED = 0,
    LD_TASK_ROLE_LEAD = 1,    /* 牵头部门 */
    LD_TASK_ROLE_SUPPORT = 2, /* 责任部门 / 配合部门 */
};
/* "lead", "support"; "unspecified" otherwise. Never NULL. */
const char *ld_task_role_name(int role);

/* What a TaskAssign says, the same numbers as liandong.v1.AssignChange. */
enum ld_assign_change {
    LD_ASSIGN_ASSIGNED = 0,   /* the department has this task (new) */
    LD_ASSIGN_UPDATED = 1,    /* the task changed (title, due date, departments, ...) */
    LD_ASSIGN_UNASSIGNED = 2, /* the department no longer has this task */
};
/* "assigned", "updated", "unassigned"; "unknown" otherwise. Never NULL. */
const char *ld_assign_change_name(int change);

/* A byte string (attachment digests). */
typedef struct ld_bytes {
    const uint8_t *data;
    size_t len;
} ld_bytes;

/* A quantified target of a task ("到2025年 ... 达到10%以上"). */
typedef struct ld_target {
    int year;         /* 0 when the plan gives none */
    const char *text; /* UTF-8 */
} ld_target;

/* Publish (or re-publish) a plan file: content is the YAML file (UTF-8, 1 to
 * LD_PLAN_FILE_MAX_BYTES bytes), file_name the name the broker uses in its
 * messages about the file (e.g. "ir-2022.yaml"; NULL for none). The broker
 * parses it, records the tasks in the ledger, and sends each lead and
 * support department a TaskAssign; a re-publish updates the ledger (reports
 * are kept) and tells departments that gained, kept (changed) or lost a task.
 * Coordinators of the plan only. *ack (if not NULL) on LD_OK.
 * Errors: LD_ERR_INVALID (no content, too large, not UTF-8: the sentence
 * names the line; file_name not UTF-8); LD_ERR_REFUSED with
 * LD_REASON_INVALID_PLAN (the sentence says file:line and why),
 * LD_REASON_UNAUTHORIZED, LD_REASON_TOO_LARGE (the envelope is over the
 * broker's max_message_bytes); and those of ld_client_send_direct. */
int ld_client_plan_publish(ld_client *c, const char *file_name, const void *content, size_t len,
                           ld_ack *ack);

/* ld_client_plan_publish with the content of the file at path, and its base
 * name as file_name. Errors as ld_client_plan_publish, and reading the file:
 * LD_ERR_NOT_FOUND (no such file), LD_ERR_IO (cannot open or read it, or it
 * is not a regular file), LD_ERR_INVALID (empty, or larger than
 * LD_PLAN_FILE_MAX_BYTES), LD_ERR_FORMAT (not UTF-8; the sentence says
 * path:line). Every sentence names the path. */
int ld_client_plan_publish_file(ld_client *c, const char *path, ld_ack *ack);

/* Take a task on. plan may be NULL or "" when the task id is unique (task
 * ids are unique across plans); note (UTF-8) may be NULL. Lead and support
 * departments of the task only; the broker records who accepted and delivers
 * the TaskAccept to the coordinators (and to the leads, from a support
 * department). *ack (if not NULL) on LD_OK.
 * Errors: LD_ERR_INVALID (no task, a string not UTF-8, a note over
 * LD_NOTE_MAX_BYTES); LD_ERR_REFUSED with LD_REASON_UNKNOWN_TASK or
 * LD_REASON_UNAUTHORIZED; and those of ld_client_send_direct. */
int ld_client_task_accept(ld_client *c, const char *plan, const char *task, const char *note,
                          ld_ack *ack);

/* A status report to send. Zero-initialize, then fill. */
typedef struct ld_status_report {
    const char *plan;  /* may be NULL or "" when the task id is unique */
    const char *task;  /* required */
    int state;         /* LD_TASK_ACCEPTED ... LD_TASK_BLOCKED (LD_TASK_ASSIGNED is allowed
                          too; the plugin decides which transitions it takes) */
    unsigned progress; /* percent, 0-100 */
    const char *note;  /* UTF-8, may be NULL */
    /* Optional digests of files sent elsewhere (e.g. BLAKE2b-256), copied. */
    const ld_bytes *attachment_digests;
    size_t n_attachment_digests;
} ld_status_report;

/* Report progress on a task (lead and support departments of the task only).
 * The broker updates the ledger (state, progress, the department's last
 * report) and delivers the report to the coordinators (and to the leads, from
 * a support department). *ack (if not NULL) on LD_OK.
 * Errors: LD_ERR_INVALID (r NULL, no task, state not 1-5, progress over 100,
 * a string not UTF-8, a note over LD_NOTE_MAX_BYTES, a digest NULL or empty,
 * or over 64 bytes); LD_ERR_REFUSED with LD_REASON_UNKNOWN_TASK or
 * LD_REASON_UNAUTHORIZED; and those of ld_client_send_direct. */
int ld_client_status_report(ld_client *c, const ld_status_report *r, ld_ack *ack);

/* A ledger query. Zero-initialize (everything the asker may read), then
 * narrow. */
typedef struct ld_ledger_query {
    const char *plan; /* NULL or "": all plans the asker may read */
    const char *dept; /* NULL or "": any; else tasks where dept is lead or support */
    int state;        /* LD_TASK_STATE_ANY, or only tasks in this state */
    int overdue;      /* non-zero: only tasks past their due date and not done */
    int mine;         /* non-zero: only the asker's own tasks (any role may ask) */
} ld_ledger_query;

/* A department's last report on a task. */
typedef struct ld_dept_report {
    const char *dept;
    int64_t at_ms; /* broker business clock, Unix ms */
    int state;     /* enum ld_task_state */
    unsigned progress;
    const char *note;
} ld_dept_report;

/* One task as the ledger has it. Strings are UTF-8, never NULL ("" when not
 * set); string arrays hold n_... principal ids. */
typedef struct ld_ledger_task {
    const char *plan;
    const char *task;
    const char *title;
    const char *const *lead;
    size_t n_lead;
    const char *const *support;
    size_t n_support;
    int state;                     /* enum ld_task_state */
    unsigned progress;             /* percent */
    const char *due;               /* YYYY-MM-DD, "" if none */
    int64_t last_report_at_ms;     /* broker business clock; 0: no report yet */
    int overdue;                   /* 1: past due and not done (at clock_ms) */
    unsigned escalation_level;     /* 0 until the escalation plugin raises it */
    const ld_dept_report *reports; /* the last report of each department */
    size_t n_reports;
    const char *const *accepted_by;
    size_t n_accepted_by;
    const char *report_every; /* none | month | quarter | half-year | year */
    const ld_target *targets;
    size_t n_targets;
    const char *doc_number; /* e.g. 牡政发〔2022〕21号 */
    const char *plan_title;
    const char *const *coordinators; /* of the plan */
    size_t n_coordinators;
    const char *const *supervision; /* of the plan */
    size_t n_supervision;
    /* "letter" for a 督办函 (task is the letter id, lead the departments
     * addressed, due its deadline, reports their answers, state
     * LD_TASK_DONE once all answered); "" for a plan's task. */
    const char *kind;
    const char *about;     /* a letter: the task it concerns */
    const char *issued_by; /* a letter: the supervision principal */
    /* The plan file's due date; due is the date in force (moved by approved
     * extensions and pauses). "" from a broker that does not say. */
    const char *plan_due;
} ld_ledger_task;

/* The broker's answer to a ledger query. All memory is owned by the ledger
 * and valid until ld_ledger_destroy (also after the client is destroyed).
 * The tasks array may be reordered (qsort) by the caller. */
typedef struct ld_ledger {
    int64_t clock_ms; /* broker business clock the answer was computed at */
    size_t n_tasks;
    ld_ledger_task *tasks;
} ld_ledger;

/* Ask the broker for the ledger (q NULL: everything the asker may read).
 * The answer comes in the broker's Ack. Should the broker only acknowledge a
 * resend as a duplicate (its first answer was lost in a reconnect), the
 * query is sent once more as a new message. LD_OK and *out (caller owns,
 * ld_ledger_destroy), else *out is NULL.
 * Errors: LD_ERR_INVALID (a string not UTF-8, state not 0-5);
 * LD_ERR_REFUSED with LD_REASON_UNAUTHORIZED (a department asking beyond
 * its own tasks), LD_REASON_UNKNOWN_TASK (no such plan), LD_REASON_TOO_LARGE
 * (the answer would be too big to carry: narrow the query) or
 * LD_REASON_MALFORMED (dept is not a principal id);
 * LD_ERR_PROTOCOL (the broker acknowledged without a ledger in its answer,
 * or the answer does not parse or is not UTF-8); LD_ERR_NOMEM; and those of
 * ld_client_send_direct. */
int ld_client_ledger_query(ld_client *c, const ld_ledger_query *q, ld_ledger **out);

/* Free a ledger. Accepts NULL and *l == NULL; sets *l = NULL. */
void ld_ledger_destroy(ld_ledger **l);

/* A TaskAssign delivery (ld_delivery.assign): a task for this department.
 * Strings are UTF-8, never NULL ("" when not set). */
typedef struct ld_task_assign {
    const char *plan;
    const char *task;
    const char *title;
    int role;   /* enum ld_task_role: this department's role in the task */
    int change; /* enum ld_assign_change */
    const char *const *lead;
    size_t n_lead;
    const char *const *support;
    size_t n_support;
    const char *due;          /* YYYY-MM-DD */
    const char *report_every; /* none | month | quarter | half-year | year */
    const ld_target *targets;
    size_t n_targets;
    const char *doc_number;
    const char *plan_title;
} ld_task_assign;

/* A StatusReport delivery (ld_delivery.report): a department's report,
 * delivered to coordinators and lead departments. The reporting department
 * is ld_delivery.sender. */
typedef struct ld_status_report_info {
    const char *plan; /* "" when the sender left it out */
    const char *task;
    int state; /* enum ld_task_state */
    unsigned progress;
    const char *note;
    const ld_bytes *attachment_digests;
    size_t n_attachment_digests;
} ld_status_report_info;

/* A TaskAccept delivery (ld_delivery.accept). The accepting department is
 * ld_delivery.sender. */
typedef struct ld_task_accept_info {
    const char *plan; /* "" when the sender left it out */
    const char *task;
    const char *note;
} ld_task_accept_info;

/* One delivery: a message some principal (or the broker) sent to us. Both the
 * broker's signature on the Delivery and the sender's signature on the
 * original envelope (with the key the broker names, whose key id must match
 * the envelope's) were verified before it was returned. All strings are
 * UTF-8 and NUL-terminated; all pointers are owned by the delivery and valid
 * until ld_delivery_destroy (also after the client is destroyed).
 * type is the body type: "direct", "task_assign", "task_accept",
 * "status_report", ..., or "unknown" for a body type newer than this library:
 * the signature was checked, and body / body_len hold the serialized Body.
 * The direct fields are NULL / 0 for other types; content_type is "" when
 * not set. A message the broker originates (a TaskAssign) has the broker's id
 * as sender and from_broker 1; the client checks it is signed with the key in
 * broker.pub, and drops one that claims the broker's id with another key. */
typedef struct ld_delivery {
    uint64_t delivery_id;
    uint8_t envelope_id[LD_ENVELOPE_ID_BYTES];
    char envelope_id_hex[2 * LD_ENVELOPE_ID_BYTES + 1];
    const char *sender;      /* principal id */
    const char *sender_name; /* display name from the broker's roster */
    const char *key_id;
    uint64_t seq;
    int64_t sent_at_ms;   /* sender's clock */
    int64_t stored_at_ms; /* broker business clock when stored */
    const char *type;     /* body type: "direct", "task_assign", ... */
    /* For "direct": */
    const char *text;
    const uint8_t *payload;
    size_t payload_len;
    const char *content_type;
    const char *const *to; /* all recipients of the message */
    size_t n_to;
    /* The original signed envelope and its serialized body. */
    const uint8_t *envelope;
    size_t envelope_len;
    const uint8_t *body;
    size_t body_len;
    /* Plans (each NULL unless type is the one named; owned by the delivery): */
    const ld_task_assign *assign;        /* "task_assign": a task for us, with our role */
    const ld_status_report_info *report; /* "status_report" */
    const ld_task_accept_info *accept;   /* "task_accept" */
    /* 1 if the broker itself sent the message (sender is the id in broker.pub
     * and the envelope is signed with the key in broker.pub): TaskAssign and
     * other notices the broker originates. 0 for a principal's message. */
    int from_broker;
    /* Escalation (each NULL unless type is the one named; owned by the
     * delivery; see "Escalation" below): */
    const struct ld_escalation_notice *notice;       /* "escalation_notice" (from the broker) */
    const struct ld_supervision_letter_info *letter; /* "supervision_letter" */
    /* Audit: a "checkpoint" the broker signed (NULL otherwise; owned by the
     * delivery; see "Audit" below). */
    const struct ld_checkpoint *checkpoint;
} ld_delivery;

/* Wait up to timeout_ms (0: do not wait, -1: forever) for the next delivery,
 * oldest first. LD_OK and *out (caller owns, ld_delivery_destroy) or
 * LD_ERR_TIMEOUT (*out NULL). While waiting, the client handles reconnects.
 * A delivery whose signatures do not verify (or that is not UTF-8 where it
 * must be) is dropped, logged in ld_client_last_error, and not acknowledged:
 * it stays in the mailbox for an operator to look at.
 * Other errors: LD_ERR_INVALID (before ld_client_connect), LD_ERR_CLOSED
 * (interrupted by a signal), LD_ERR_ZMQ. */
int ld_client_recv(ld_client *c, int timeout_ms, ld_delivery **out);

/* Tell the broker the delivery is processed; it leaves the mailbox. Does not
 * wait for the broker: acknowledgements are gathered and leave together, in
 * one DeliveryAck, before the client next waits for anything (ld_client_recv
 * with no delivery queued, a send, ld_client_wait_result), after 64 of them,
 * or at ld_client_destroy. If the connection is down the acknowledgement is
 * lost, but the broker redelivers the entry on the next session and the
 * client acknowledges that duplicate itself, so LD_OK is returned then too.
 * d must come from ld_client_recv on this client. */
int ld_client_ack(ld_client *c, const ld_delivery *d);

void ld_delivery_destroy(ld_delivery **d);

/* A file descriptor that becomes readable when the client may have work
 * (ZMQ_FD semantics: edge-triggered; after it fires, call ld_client_recv
 * with timeout 0 until LD_ERR_TIMEOUT). Owned by the client: do not read
 * from or close it. On Linux it is an epoll set holding both ZeroMQ sockets
 * the client uses (messages, and the monitor that says when to Hello again
 * after a reconnect). Poll it for reading only. */
int ld_client_fd(ld_client *c, int *fd);

/* One sentence about the last failure on c (also set when the client drops
 * a bad message from the network while doing something else). Never NULL;
 * valid until the next call on c. */
const char *ld_client_last_error(const ld_client *c);
/* The reason code of the last Nack (LD_REASON_UNSPECIFIED if none). */
int ld_client_last_reason(const ld_client *c);

/* This client's principal id. */
const char *ld_client_principal(const ld_client *c);

/* ---- Escalation: deadlines, the supervision ladder, letters -------------
 *
 * With the broker's escalation plugin loaded (docs/escalation.md), the broker
 * watches each task's due date under its plan's `escalation:` rules and sends
 * EscalationNotices (deliveries of type "escalation_notice", signed by the
 * broker, see ld_delivery.notice) to the principals the rules name: due_soon
 * (yellow), overdue at each ladder level (督导, 约谈, 问责 ...), reminders
 * (催办), no_report, letter_overdue, extension_decided, rectified. Each
 * notice has a stable notice_id and is sent once.
 *
 *     ld_client_extension_request(c, NULL, "ir-2.1.1", "2026-02-28", "资金未到位", NULL); // lead
 *     ld_client_extension_decide(c, NULL, "ir-2.1.1", 1, NULL, NULL, NULL);     // coordinator
 *     char id[65];
 *     const char *to[] = {"mdj.gxj"};
 *     ld_client_letter_issue(c, NULL, "ir-2.1.1", to, 1, "2026-03-15", "限期整改", id,
 *                            sizeof id, NULL);                                // supervision
 *     ld_client_letter_answer(c, id, "已整改", NULL);                          // mdj.gxj
 *
 *     ld_escalations *e;                                               // supervision
 *     if (ld_client_escalation_query(c, &(ld_escalation_query){.plan = "ir-2022"}, &e) == LD_OK) {
 *         for (size_t i = 0; i < e->n_notices; i++)
 *             printf("%s %s %u %s\n", e->notices[i].task, e->notices[i].reason,
 *                    e->notices[i].level, e->notices[i].level_name);
 *         ld_escalations_destroy(&e);
 *     }
 *
 * The sends return like ld_client_send_direct. plan may be NULL or "" when
 * the task id is unique. Refusals the plugin gives (LD_ERR_REFUSED,
 * ld_client_last_reason): LD_REASON_UNAUTHORIZED (an extension asked by a
 * department that is not the task's lead; a decision or pause by a principal
 * who is not a coordinator of the plan; a letter from a principal who is not
 * the plan's supervision; an answer from a department the letter is not
 * addressed to),
 * LD_REASON_LIMIT_EXCEEDED (an extension asked for after the due date, or
 * beyond the rules' max / max_count),
 * LD_REASON_UNKNOWN_TASK (no such task, or it has no rules), LD_REASON_MALFORMED
 * (a bad date, a missing reason, no request pending), LD_REASON_UNKNOWN_RECIPIENT
 * (a letter to a principal not in the roster). A broker without the plugin
 * refuses these messages (LD_REASON_UNSUPPORTED). */

/* An escalation notice. Strings UTF-8, never NULL ("" when not set). */
typedef struct ld_escalation_notice {
    const char *notice_id; /* stable: the same event never twice */
    const char *plan;
    const char *task;
    unsigned level;                 /* 0 for due_soon, extension_decided, rectified */
    const char *level_name;         /* e.g. 督导, 约谈, 问责 */
    const char *reason;             /* due_soon | overdue | reminder | no_report | letter_overdue |
                                       extension_decided | rectified */
    const char *const *departments; /* the departments concerned */
    size_t n_departments;
    const char *due;         /* YYYY-MM-DD, the due date in force (letters: the deadline) */
    int64_t raised_at_ms;    /* business clock time the event happened (not when sent) */
    const char *text;        /* one sentence for people */
    const char *colour;      /* green | yellow | red */
    const char *letter_id;   /* letter_overdue: the letter */
    int calendar_unverified; /* 1: a date was counted without holiday data for its year */
    const char *period_end;  /* no_report: last day of the period */
} ld_escalation_notice;

/* A supervision letter (督办函) as delivered to its addressees, the plan's
 * coordinators and supervision (from the broker, with its letter_id). */
typedef struct ld_supervision_letter_info {
    const char *letter_id;
    const char *plan;
    const char *task;
    const char *const *to;
    size_t n_to;
    const char *deadline; /* YYYY-MM-DD */
    const char *text;
} ld_supervision_letter_info;

/* Ask for an extension of task's due date to until (YYYY-MM-DD), before the
 * due date, with a reason (UTF-8, required). Lead departments of the task
 * only; the request goes to the plan's coordinators. Errors: LD_ERR_INVALID
 * (no task, until not a date, no reason, not UTF-8); LD_ERR_REFUSED as above;
 * and those of ld_client_send_direct. */
int ld_client_extension_request(ld_client *c, const char *plan, const char *task, const char *until,
                                const char *reason, ld_ack *ack);

/* Decide the pending extension request of task: approve (non-zero) with the
 * date granted (until; NULL or "": as requested), or reject with a reason
 * (required). Coordinators of the plan only. Only an approval moves the due
 * date; the decision is announced with an extension_decided notice. Errors as
 * ld_client_extension_request. */
int ld_client_extension_decide(ld_client *c, const char *plan, const char *task, int approve,
                               const char *until, const char *reason, ld_ack *ack);

/* Stop (resume 0, with a reason) or restart (resume non-zero) task's clock.
 * Coordinators of the plan only. The days the clock stood still move the
 * due date (e.g. technical appraisal, 技术鉴定所需时间不计入). */
int ld_client_task_pause(ld_client *c, const char *plan, const char *task, int resume,
                         const char *reason, ld_ack *ack);

/* Issue a 督办函 about task to the departments to[0..n_to) with a deadline
 * (YYYY-MM-DD, today or later) and a text. The plan's supervision only. On
 * LD_OK the broker's letter id is copied into letter_id (if not NULL; idlen
 * bytes, 65 is enough). Unanswered past its deadline, the letter raises
 * letter_overdue at the next ladder level. Errors as
 * ld_client_extension_request, and LD_ERR_PROTOCOL (no letter in the answer). */
int ld_client_letter_issue(ld_client *c, const char *plan, const char *task, const char *const *to,
                           size_t n_to, const char *deadline, const char *text, char *letter_id,
                           size_t idlen, ld_ack *ack);

/* Answer a 督办函 with a rectification report (text). Addressed departments
 * only; the answer goes to the issuer. The letter is closed once every
 * addressed department answered. */
int ld_client_letter_answer(ld_client *c, const char *letter_id, const char *text, ld_ack *ack);

/* An escalation query. Zero-initialize (everything the asker may read). */
typedef struct ld_escalation_query {
    const char *plan; /* NULL or "": all plans */
    int mine;         /* non-zero: only notices about the asker's own tasks */
    int64_t since_ms; /* only notices raised at or after (business clock) */
} ld_escalation_query;

/* The notices answered, oldest first (raised_at_ms). Memory owned by the
 * answer until ld_escalations_destroy. */
typedef struct ld_escalations {
    int64_t clock_ms;
    size_t n_notices;
    ld_escalation_notice *notices;
} ld_escalations;

/* The notices the asker may read: coordinators and supervision of a plan
 * read all of its notices (admin and auditor all); a department reads those
 * about its own tasks. LD_OK and *out (caller owns, ld_escalations_destroy).
 * Errors: LD_ERR_INVALID, LD_ERR_PROTOCOL (no answer: is the escalation
 * plugin loaded?), LD_ERR_NOMEM, and those of ld_client_send_direct. */
int ld_client_escalation_query(ld_client *c, const ld_escalation_query *q, ld_escalations **out);
/* Accepts NULL and *e == NULL; sets *e = NULL. */
void ld_escalations_destroy(ld_escalations **e);

/* ---- Audit: the broker's tamper-evident log --------------------------------
 *
 * With the broker's audit plugin loaded (docs/audit.md), every envelope the
 * broker accepts, refuses or emits is a record in a hash-chained log under a
 * Merkle tree. Principals with the auditor or supervision role read it over
 * the bus with ld_client_audit_query, and receive the broker's signed
 * Checkpoints (deliveries of type "checkpoint", see ld_delivery.checkpoint).
 *
 *     ld_audit_query q = {.task = "ir-2.1.1", .limit = 100};
 *     ld_audit_page *p;
 *     do {
 *         if (ld_client_audit_query(c, &q, &p) != LD_OK)
 *             break;
 *         for (size_t i = 0; i < p->n_records; i++)
 *             printf("%llu %s %s\n", (unsigned long long)p->records[i].index,
 *                    p->records[i].sender, p->records[i].type);
 *         q.after_index = p->next_index;
 *         ld_audit_page_destroy(&p);
 *     } while (q.after_index);
 *
 * The offline tool `liandong audit verify` checks the log itself. */

/* An audit query. Zero-initialize (every record), then narrow. */
typedef struct ld_audit_query {
    const char *task;     /* NULL or "": any; else records naming this task */
    const char *dept;     /* NULL or "": any; else the principal as sender or recipient */
    const char *type;     /* NULL or "": any; else a body type, e.g. "status_report" */
    int64_t since_ms;     /* 0: open; else records at or after (broker business clock) */
    int64_t until_ms;     /* 0: open; else records at or before */
    const char *verdict;  /* NULL or "": any; "accepted" or "refused" */
    uint32_t limit;       /* records per page; 0: the broker's default (and maximum) */
    uint64_t after_index; /* 0: from the start; else a page's next_index to continue */
} ld_audit_query;

/* One record of the audit log. Strings UTF-8, never NULL ("" when not set). */
typedef struct ld_audit_record {
    uint64_t index; /* position in the log, from 0 */
    int64_t at_ms;  /* broker business clock */
    const char *sender;
    const char *key_id;
    const char *type;        /* body type name, "" if unknown (an unreadable frame) */
    const uint8_t *envelope; /* the signed envelope as received or sealed (may be empty) */
    size_t envelope_len;
    int verdict;              /* 0 accepted (or emitted), else the LD_REASON_* of the refusal */
    const char *verdict_text; /* the refusal's sentence */
    uint8_t hash[32];         /* chain hash of this record */
    const char *task;         /* a task id the body names */
    const char *const *recipients; /* for a message the broker stored: whose mailbox */
    size_t n_recipients;
} ld_audit_record;

/* One page of an audit query's answer, in index order. All memory is owned
 * by the page and valid until ld_audit_page_destroy (also after the client
 * is destroyed). */
typedef struct ld_audit_page {
    size_t n_records;
    ld_audit_record *records;
    uint64_t next_index; /* 0: no more; else put it in after_index for the next page */
    uint64_t log_size;   /* records in the whole log when answered */
} ld_audit_page;

/* Ask the broker's audit log (q NULL: every record, first page). Auditor and
 * supervision principals only. The answer comes in the broker's Ack; a
 * duplicate Ack without it makes the query go once more as a new message
 * (as ld_client_ledger_query). The query is itself recorded in the log.
 * LD_OK and *out (caller owns, ld_audit_page_destroy), else *out is NULL.
 * Errors: LD_ERR_INVALID (out NULL, a string not UTF-8, a negative time,
 * verdict not "", "accepted" or "refused"); LD_ERR_REFUSED with
 * LD_REASON_UNAUTHORIZED (not an auditor or supervision) or
 * LD_REASON_MALFORMED; LD_ERR_PROTOCOL (the broker acknowledged without an
 * answer: is the audit plugin loaded? or the answer does not parse, is not
 * UTF-8 or has a hash that is not 32 bytes); LD_ERR_NOMEM; and those of
 * ld_client_send_direct. */
int ld_client_audit_query(ld_client *c, const ld_audit_query *q, ld_audit_page **out);

/* Free a page. Accepts NULL and *p == NULL; sets *p = NULL. */
void ld_audit_page_destroy(ld_audit_page **p);

/* A Checkpoint delivery (ld_delivery.checkpoint): the broker's signed
 * statement of the log's state. Set only when the delivery comes from the
 * broker (from_broker 1) and signature verifies with the key in broker.pub
 * over "liandong/checkpoint/v1" || be64(size) || root || be64(at_ms); a
 * checkpoint that fails this is dropped like a delivery with a bad
 * signature. Save it (docs/audit.md, checkpoint files) to check the log
 * later with `liandong audit verify --checkpoint`. */
typedef struct ld_checkpoint {
    uint64_t size;            /* number of records covered */
    const uint8_t *root;      /* Merkle tree head, 32 bytes */
    int64_t at_ms;            /* broker wall clock, Unix ms */
    const uint8_t *signature; /* Ed25519, 64 bytes */
    const char *key_id;       /* the broker key that signed */
    const uint8_t *head_hash; /* hash chain head after record size-1, 32 bytes; NULL if absent */
} ld_checkpoint;

#ifdef __cplusplus
}
#endif
#endif
