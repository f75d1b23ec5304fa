/* plans.c - plan messages: publish, accept, report, and their deliveries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ldc.h"

#define DIGEST_MAX_BYTES 64

/* ---- names ----------------------------------------------------------------- */

static const char *const state_names[] = {"any",         "assigned", "accepted",
                                          "in_progress", "done",     "blocked"};

const char *ld_task_state_name(int state)
{
    if (state < 0 || state > LD_TASK_BLOCKED)
        return "unknown";
    return state_names[state];
}

int ld_task_state_parse(const char *s, int *state)
{
    if (!s || !state)
        return LD_ERR_INVALID;
    for (int i = LD_TASK_ASSIGNED; i <= LD_TASK_BLOCKED; i++) {
        const char *n = state_names[i];
        size_t k = 0;
        for (; s[k] && n[k]; k++) {
            char a = s[k];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (a == '-')
                a = '_';
            if (a != n[k])
                break;
        }
        if (!s[k] && !n[k]) {
            *state = i;
            return LD_OK;
        }
    }
    return LD_ERR_INVALID;
}

const char *ld_task_role_name(int role)
{
    switch (role) {
    case LD_TASK_ROLE_LEAD: return "lead";
    case LD_TASK_ROLE_SUPPORT: return "support";
    default: return "unspecified";
    }
}

const char *ld_assign_change_name(int change)
{
    switch (change) {
    case LD_ASSIGN_ASSIGNED: return "assigned";
    case LD_ASSIGN_UPDATED: return "updated";
    case LD_ASSIGN_UNASSIGNED: return "unassigned";
    default: return "unknown";
    }
}

/* ---- checks ------------------------------------------------------------------ */

static int utf8_ok(const char *s)
{
    return !s || ldc_utf8_valid(s, strlen(s));
}

/* The 1-based line of the first byte that is not well-formed UTF-8 (or a
 * NUL) in buf, 0 if all of it is well-formed. */
static size_t first_bad_line(const char *buf, size_t len)
{
    size_t line = 1, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\n') {
            if (!ldc_utf8_valid(buf + start, i - start))
                return line;
            line++;
            start = i + 1;
        }
    }
    return 0;
}

/* plan and task for TaskAccept / StatusReport. */
static int check_task_ref(ld_client *c, const char *plan, const char *task)
{
    if (!task || !task[0])
        return ldc_fail(c, LD_ERR_INVALID, "no task id given");
    if (!utf8_ok(task) || !utf8_ok(plan))
        return ldc_fail(c, LD_ERR_INVALID, "the plan or task id is not valid UTF-8");
    return LD_OK;
}

static int check_note(ld_client *c, const char *note)
{
    if (!note)
        return LD_OK;
    size_t n = strlen(note);
    if (n > LD_NOTE_MAX_BYTES)
        return ldc_fail(c, LD_ERR_INVALID, "the note is %zu bytes; at most %d are allowed", n,
                        LD_NOTE_MAX_BYTES);
    if (!ldc_utf8_valid(note, n))
        return ldc_fail(c, LD_ERR_INVALID, "the note is not valid UTF-8");
    return LD_OK;
}

/* ---- sends ---------------------------------------------------------------------- */

int ld_client_plan_publish(ld_client *c, const char *file_name, const void *content, size_t len,
                           ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    const char *fn = file_name ? file_name : "";
    if (!content || len == 0)
        return ldc_fail(c, LD_ERR_INVALID, "the plan file %s is empty", fn[0] ? fn : "(content)");
    if (len > LD_PLAN_FILE_MAX_BYTES)
        return ldc_fail(c, LD_ERR_INVALID, "the plan file %s is %zu bytes; at most %d are allowed",
                        fn[0] ? fn : "(content)", len, LD_PLAN_FILE_MAX_BYTES);
    if (!utf8_ok(fn))
        return ldc_fail(c, LD_ERR_INVALID, "the plan file name is not valid UTF-8");
    size_t bad = first_bad_line(content, len);
    if (bad)
        return ldc_fail(c, LD_ERR_INVALID, "%s:%zu: the plan file is not valid UTF-8",
                        fn[0] ? fn : "(content)", bad);

    Liandong__V1__PlanPublish pp = LIANDONG__V1__PLAN_PUBLISH__INIT;
    pp.file_name = (char *)fn;
    pp.content.data = (uint8_t *)content;
    pp.content.len = len;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_PLAN_PUBLISH;
    b.plan_publish = &pp;
    return ldc_send_packed(c, &b, ack, NULL, NULL);
}

/* Read a regular file of at most LD_PLAN_FILE_MAX_BYTES. */
static int read_plan_file(ld_client *c, const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ldc_fail(c, errno == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ldc_fail(c, LD_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_size > LD_PLAN_FILE_MAX_BYTES) {
        fclose(f);
        return ldc_fail(c, LD_ERR_INVALID, "%s is %lld bytes; a plan file may have at most %d",
                        path, (long long)st.st_size, LD_PLAN_FILE_MAX_BYTES);
    }
    /* One byte more than allowed, to notice a file that grew meanwhile. */
    char *buf = malloc(LD_PLAN_FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return ldc_fail(c, LD_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, LD_PLAN_FILE_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ldc_fail(c, LD_ERR_IO, "cannot read %s", path);
    }
    if (n > LD_PLAN_FILE_MAX_BYTES) {
        free(buf);
        return ldc_fail(c, LD_ERR_INVALID,
                        "%s is larger than %d bytes, the most a plan file may "
                        "have",
                        path, LD_PLAN_FILE_MAX_BYTES);
    }
    if (n == 0) {
        free(buf);
        return ldc_fail(c, LD_ERR_INVALID, "%s is empty", path);
    }
    *out = buf;
    *len = n;
    return LD_OK;
}

int ld_client_plan_publish_file(ld_client *c, const char *path, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!path || !path[0])
        return ldc_fail(c, LD_ERR_INVALID, "no plan file given");
    char *buf = NULL;
    size_t len = 0;
    int rc = read_plan_file(c, path, &buf, &len);
    if (rc != LD_OK)
        return rc;
    size_t bad = first_bad_line(buf, len);
    if (bad) {
        free(buf);
        return ldc_fail(c, LD_ERR_FORMAT, "%s:%zu: not valid UTF-8 (a plan file must be UTF-8)",
                        path, bad);
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!base[0])
        base = path;
    rc = ld_client_plan_publish(c, base, buf, len, ack);
    free(buf);
    return rc;
}

int ld_client_task_accept(ld_client *c, const char *plan, const char *task, const char *note,
                          ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    int rc = check_task_ref(c, plan, task);
    if (rc == LD_OK)
        rc = check_note(c, note);
    if (rc != LD_OK)
        return rc;
    Liandong__V1__TaskAccept ta = LIANDONG__V1__TASK_ACCEPT__INIT;
    ta.plan = (char *)(plan ? plan : "");
    ta.task = (char *)task;
    ta.note = (char *)(note ? note : "");
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_TASK_ACCEPT;
    b.task_accept = &ta;
    return ldc_send_packed(c, &b, ack, NULL, NULL);
}

int ld_client_status_report(ld_client *c, const ld_status_report *r, ld_ack *ack)
{
    if (!c)
        return LD_ERR_INVALID;
    if (!r)
        return ldc_fail(c, LD_ERR_INVALID, "no status report given");
    int rc = check_task_ref(c, r->plan, r->task);
    if (rc == LD_OK)
        rc = check_note(c, r->note);
    if (rc != LD_OK)
        return rc;
    if (r->state < LD_TASK_ASSIGNED || r->state > LD_TASK_BLOCKED)
        return ldc_fail(c, LD_ERR_INVALID,
                        "state %d is not a task state (assigned, accepted, in_progress, done, "
                        "blocked)",
                        r->state);
    if (r->progress > 100)
        return ldc_fail(c, LD_ERR_INVALID, "progress is a percentage (0-100), not %u", r->progress);
    if (r->n_attachment_digests && !r->attachment_digests)
        return ldc_fail(c, LD_ERR_INVALID, "attachment_digests is NULL but its count is not 0");
    ProtobufCBinaryData *dg = NULL;
    if (r->n_attachment_digests) {
        dg = calloc(r->n_attachment_digests, sizeof *dg);
        if (!dg)
            return ldc_fail(c, LD_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n_attachment_digests; i++) {
        const ld_bytes *x = &r->attachment_digests[i];
        if (!x->data || x->len == 0 || x->len > DIGEST_MAX_BYTES) {
            free(dg);
            return ldc_fail(c, LD_ERR_INVALID,
                            "attachment digest %zu is empty or longer than %d bytes", i,
                            DIGEST_MAX_BYTES);
        }
        dg[i].data = (uint8_t *)x->data;
        dg[i].len = x->len;
    }
    Liandong__V1__StatusReport sr = LIANDONG__V1__STATUS_REPORT__INIT;
    sr.plan = (char *)(r->plan ? r->plan : "");
    sr.task = (char *)r->task;
    sr.state = (Liandong__V1__TaskState)r->state;
    sr.progress = r->progress;
    sr.note = (char *)(r->note ? r->note : "");
    sr.n_attachment_digests = r->n_attachment_digests;
    sr.attachment_digests = dg;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_STATUS_REPORT;
    b.status_report = &sr;
    rc = ldc_send_packed(c, &b, ack, NULL, NULL);
    free(dg);
    return rc;
}

/* ---- deliveries ------------------------------------------------------------------ */

static int strs_ok(char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i] || !ldc_utf8_valid(v[i], strlen(v[i])))
            return 0;
    return 1;
}

/* Targets of a TaskAssign / LedgerTask as ld_target; *out NULL when n is 0.
 * Shared with ledger.c through ldc_targets_view. */
int ldc_targets_view(Liandong__V1__Target *const *t, size_t n, ld_target **out)
{
    *out = NULL;
    if (!n)
        return LD_OK;
    for (size_t i = 0; i < n; i++)
        if (!t[i] || !t[i]->text || !ldc_utf8_valid(t[i]->text, strlen(t[i]->text)))
            return LD_ERR_PROTOCOL;
    ld_target *v = calloc(n, sizeof *v);
    if (!v)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i].year = t[i]->year;
        v[i].text = t[i]->text;
    }
    *out = v;
    return LD_OK;
}

static int view_assign(ldc_delivery *d, const Liandong__V1__TaskAssign *m, char *err, size_t errlen)
{
    if (!utf8_ok(m->plan) || !utf8_ok(m->task) || !utf8_ok(m->title) || !utf8_ok(m->due) ||
        !utf8_ok(m->report_every) || !utf8_ok(m->doc_number) || !utf8_ok(m->plan_title) ||
        !strs_ok(m->lead, m->n_lead) || !strs_ok(m->support, m->n_support)) {
        snprintf(err, errlen, "has text that is not UTF-8");
        return LD_ERR_PROTOCOL;
    }
    int rc = ldc_targets_view(m->targets, m->n_targets, &d->targets);
    if (rc != LD_OK) {
        snprintf(err, errlen, "%s",
                 rc == LD_ERR_NOMEM ? "could not be kept: out of memory"
                                    : "has a target that is not UTF-8");
        return rc;
    }
    ld_task_assign *a = &d->assign;
    a->plan = m->plan;
    a->task = m->task;
    a->title = m->title;
    a->role = (int)m->role;
    a->change = (int)m->change;
    a->lead = (const char *const *)m->lead;
    a->n_lead = m->n_lead;
    a->support = (const char *const *)m->support;
    a->n_support = m->n_support;
    a->due = m->due;
    a->report_every = m->report_every;
    a->targets = d->targets;
    a->n_targets = m->n_targets;
    a->doc_number = m->doc_number;
    a->plan_title = m->plan_title;
    d->pub.assign = a;
    return LD_OK;
}

static int view_report(ldc_delivery *d, const Liandong__V1__StatusReport *m, char *err,
                       size_t errlen)
{
    if (!utf8_ok(m->plan) || !utf8_ok(m->task) || !utf8_ok(m->note)) {
        snprintf(err, errlen, "has text that is not UTF-8");
        return LD_ERR_PROTOCOL;
    }
    if (m->n_attachment_digests) {
        d->digests = calloc(m->n_attachment_digests, sizeof *d->digests);
        if (!d->digests) {
            snprintf(err, errlen, "could not be kept: out of memory");
            return LD_ERR_NOMEM;
        }
        for (size_t i = 0; i < m->n_attachment_digests; i++) {
            d->digests[i].data = m->attachment_digests[i].data;
            d->digests[i].len = m->attachment_digests[i].len;
        }
    }
    ld_status_report_info *r = &d->report;
    r->plan = m->plan;
    r->task = m->task;
    r->state = (int)m->state;
    r->progress = m->progress;
    r->note = m->note;
    r->attachment_digests = d->digests;
    r->n_attachment_digests = m->n_attachment_digests;
    d->pub.report = r;
    return LD_OK;
}

int ldc_delivery_plan_view(ldc_delivery *d, char *err, size_t errlen)
{
    if (!d->body)
        return LD_OK;
    switch (d->body->msg_case) {
    case LIANDONG__V1__BODY__MSG_TASK_ASSIGN:
        return view_assign(d, d->body->task_assign, err, errlen);
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT:
        return view_report(d, d->body->status_report, err, errlen);
    case LIANDONG__V1__BODY__MSG_TASK_ACCEPT: {
        const Liandong__V1__TaskAccept *m = d->body->task_accept;
        if (!utf8_ok(m->plan) || !utf8_ok(m->task) || !utf8_ok(m->note)) {
            snprintf(err, errlen, "has text that is not UTF-8");
            return LD_ERR_PROTOCOL;
        }
        d->accept.plan = m->plan;
        d->accept.task = m->task;
        d->accept.note = m->note;
        d->pub.accept = &d->accept;
        return LD_OK;
    }
    default: return LD_OK;
    }
}
