/* publish.c - plan files into the ledger: PlanPublish messages and the
 * config's plans, the re-publish diff and the TaskAssign notices. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"

#define REASON(x) LIANDONG__V1__REASON_CODE__##x

static int roster_lookup(void *arg, const char *id, unsigned *roles)
{
    ldp_state *s = arg;
    ld_principal_info info;
    int rc = s->host->principal(s->ctx, id, &info);
    if (rc == LD_OK)
        *roles = info.roles;
    return rc;
}

static void warn_log(void *arg, const char *msg)
{
    ldp_state *s = arg;
    LDP_LOG(s, LD_LOG_WARN, "%s", msg);
}

int ldp_plan_load(ldp_state *s, const char *file_name, const void *buf, size_t len, ldp_plan **out,
                  char *err, size_t errlen)
{
    ldp_parse_opts o = {
        .file_name = file_name,
        .report_default = s->cfg.report_default,
        .roster = roster_lookup,
        .roster_arg = s,
        .warn = warn_log,
        .warn_arg = s,
    };
    return ldp_plan_parse(&o, buf, len, out, err, errlen);
}

/* Send the notices of one task's change. */
static int notify(ldp_state *s, ld_plugin_txn *txn, const ldp_entry *old, const ldp_entry *now)
{
    ldp_notice *v;
    size_t n;
    int rc = ldp_entry_notices(old, now, &v, &n);
    for (size_t i = 0; i < n && rc == LD_OK; i++) {
        const ldp_entry *t = v[i].change == LIANDONG__V1__ASSIGN_CHANGE__UNASSIGNED ? old : now;
        ldp_buf body;
        rc = ldp_assign_pack(t, v[i].role, v[i].change, &body);
        if (rc != LD_OK)
            break;
        rc = s->host->emit(s->ctx, txn, v[i].dept, body.data, body.len);
        ldp_buf_free(&body);
        if (rc == LD_ERR_NOT_FOUND) {
            /* Checked at parse time; only a department that left the
             * roster since can be missing (it cannot read anyway). */
            LDP_LOG(s, LD_LOG_WARN, "%s is not in the roster; its notice about task %s is dropped",
                    v[i].dept, t->task);
            rc = LD_OK;
        }
    }
    free(v);
    return rc;
}

/* One task of the plan: build, store when changed, notify. */
static int apply_task(ldp_state *s, ld_plugin_txn *txn, const ldp_plan *plan, const ldp_task *t,
                      int *changed)
{
    const void *oldb = NULL;
    size_t oldlen = 0;
    int rc = s->host->ledger_get(s->ctx, txn, plan->id, t->id, &oldb, &oldlen);
    if (rc != LD_OK && rc != LD_ERR_NOT_FOUND)
        return rc;
    ldp_entry *old = NULL;
    if (rc == LD_OK && !(old = liandong__v1__ledger_task__unpack(NULL, oldlen, oldb)))
        LDP_LOG(s, LD_LOG_ERROR,
                "the ledger entry of %s/%s does not unpack; it is rebuilt from "
                "the plan",
                plan->id, t->id);
    int had = rc == LD_OK;
    ldp_buf nb;
    rc = ldp_entry_build(plan, t, old, &nb);
    if (rc != LD_OK)
        goto out;
    if (!had || oldlen != nb.len || memcmp(oldb, nb.data, nb.len) != 0) {
        /* oldb is invalid after a write: compare before. */
        rc = s->host->ledger_put(s->ctx, txn, plan->id, t->id, nb.data, nb.len);
        *changed = 1;
    }
    ldp_entry *now = NULL;
    if (rc == LD_OK && !(now = liandong__v1__ledger_task__unpack(NULL, nb.len, nb.data)))
        rc = LD_ERR_NOMEM;
    if (rc == LD_OK)
        rc = notify(s, txn, old, now);
    if (now)
        liandong__v1__ledger_task__free_unpacked(now, NULL);
    ldp_buf_free(&nb);
    if (rc == LD_OK) {
        const void *iv;
        size_t il;
        rc = s->host->db_get(s->ctx, txn, s->db_tasks, t->id, strlen(t->id), &iv, &il);
        if (rc == LD_ERR_NOT_FOUND)
            rc = s->host->db_put(s->ctx, txn, s->db_tasks, t->id, strlen(t->id), plan->id,
                                 strlen(plan->id));
    }
out:
    if (old)
        liandong__v1__ledger_task__free_unpacked(old, NULL);
    return rc;
}

struct task_ids {
    char **v;
    size_t n, cap;
    int rc;
};

static int collect_task(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    struct task_ids *c = arg;
    const char *k = key, *nul = memchr(k, 0, key_len);
    if (!nul)
        return 0;
    ldp_entry *e = liandong__v1__ledger_task__unpack(NULL, val_len, val);
    int letter = e && ldp_entry_is_letter(e);
    if (e)
        liandong__v1__ledger_task__free_unpacked(e, NULL);
    if (letter)
        return 0; /* a 督办函 is not the plan's to drop */
    size_t tl = key_len - (size_t)(nul + 1 - k);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **nv = realloc(c->v, cap * sizeof *nv);
        if (!nv) {
            c->rc = LD_ERR_NOMEM;
            return 1;
        }
        c->v = nv;
        c->cap = cap;
    }
    if (!(c->v[c->n] = strndup(nul + 1, tl))) {
        c->rc = LD_ERR_NOMEM;
        return 1;
    }
    c->n++;
    return 0;
}

static int plan_has_task(const ldp_plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->n_tasks; i++)
        if (strcmp(plan->tasks[i].id, id) == 0)
            return 1;
    return 0;
}

/* Tasks in the ledger under plan->id that the new version drops. */
static int remove_dropped(ldp_state *s, ld_plugin_txn *txn, const ldp_plan *plan, int *changed)
{
    struct task_ids ids = {NULL, 0, 0, LD_OK};
    int rc = s->host->ledger_scan(s->ctx, txn, plan->id, collect_task, &ids);
    if (rc == LD_OK)
        rc = ids.rc;
    for (size_t i = 0; i < ids.n && rc == LD_OK; i++) {
        const char *task = ids.v[i];
        if (plan_has_task(plan, task))
            continue;
        ldp_entry *old = NULL;
        rc = ldp_entry_get(s, txn, plan->id, task, &old);
        if (rc == LD_OK)
            rc = notify(s, txn, old, NULL);
        else if (rc == LD_ERR_FORMAT)
            rc = LD_OK; /* unreadable: nobody can be told; remove it anyway */
        if (old)
            liandong__v1__ledger_task__free_unpacked(old, NULL);
        if (rc == LD_OK)
            rc = s->host->ledger_del(s->ctx, txn, plan->id, task);
        char owner[LDP_ID_MAX + 1];
        if (rc == LD_OK && ldp_index_get(s, txn, task, owner) == LD_OK &&
            strcmp(owner, plan->id) == 0)
            rc = s->host->db_del(s->ctx, txn, s->db_tasks, task, strlen(task));
        if (rc == LD_ERR_NOT_FOUND)
            rc = LD_OK;
        *changed = 1;
        LDP_LOG(s, LD_LOG_INFO, "task %s left plan %s", task, plan->id);
    }
    for (size_t i = 0; i < ids.n; i++)
        free(ids.v[i]);
    free(ids.v);
    return rc;
}

static int strv_same(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

/* The plan's record: written when the plan is new or anything changed. */
static int put_record(ldp_state *s, ld_plugin_txn *txn, const ldp_plan *plan, const char *file_name,
                      const char *by, int64_t now_ms, int changed)
{
    ldp_record *old = NULL;
    int rc = ldp_record_get(s, txn, plan->id, &old);
    if (rc != LD_OK && rc != LD_ERR_NOT_FOUND && rc != LD_ERR_FORMAT)
        return rc;
    char **tasks = plan->n_tasks ? malloc(plan->n_tasks * sizeof *tasks) : NULL;
    if (plan->n_tasks && !tasks) {
        if (old)
            liandong__plans__v1__plan_record__free_unpacked(old, NULL);
        return LD_ERR_NOMEM;
    }
    for (size_t i = 0; i < plan->n_tasks; i++)
        tasks[i] = plan->tasks[i].id;
    ldp_record r = LIANDONG__PLANS__V1__PLAN_RECORD__INIT;
    r.id = plan->id;
    r.doc_number = plan->doc_number;
    r.title = plan->title;
    r.n_coordinators = plan->coordinators.n;
    r.coordinators = plan->coordinators.v;
    r.n_supervision = plan->supervision.n;
    r.supervision = plan->supervision.v;
    r.n_tasks = plan->n_tasks;
    r.tasks = tasks;
    r.file_name = (char *)file_name;
    r.updated_by = (char *)by;
    r.updated_at_ms = now_ms;
    int same =
        old && !changed && strcmp(old->doc_number, r.doc_number) == 0 &&
        strcmp(old->title, r.title) == 0 && strcmp(old->file_name, r.file_name) == 0 &&
        strv_same(old->coordinators, old->n_coordinators, r.coordinators, r.n_coordinators) &&
        strv_same(old->supervision, old->n_supervision, r.supervision, r.n_supervision) &&
        strv_same(old->tasks, old->n_tasks, r.tasks, r.n_tasks);
    rc = same ? LD_OK : ldp_record_put(s, txn, &r);
    free(tasks);
    if (old)
        liandong__plans__v1__plan_record__free_unpacked(old, NULL);
    return rc;
}

int ldp_plan_apply(ldp_state *s, ld_plugin_txn *txn, const ldp_plan *plan, const char *file_name,
                   const char *by, int64_t now_ms, char *why, size_t whylen)
{
    /* Task ids are unique across plans and distinct from the plan's 督办函:
     * check them all before any write. */
    for (size_t i = 0; i < plan->n_tasks; i++) {
        ldp_entry *e = NULL;
        if (ldp_entry_get(s, txn, plan->id, plan->tasks[i].id, &e) == LD_OK &&
            ldp_entry_is_letter(e)) {
            char f[220];
            ldp_quote(file_name, 200, f, sizeof f);
            snprintf(why, whylen,
                     "%s:%zu: task %s: the id is taken by a 督办函 (supervision letter) of plan "
                     "%s; choose another task id",
                     f, plan->tasks[i].line, plan->tasks[i].id, plan->id);
            liandong__v1__ledger_task__free_unpacked(e, NULL);
            return LD_ERR_EXISTS;
        }
        if (e)
            liandong__v1__ledger_task__free_unpacked(e, NULL);
        char owner[LDP_ID_MAX + 1];
        int rc = ldp_index_get(s, txn, plan->tasks[i].id, owner);
        if (rc == LD_ERR_NOT_FOUND)
            continue;
        if (rc != LD_OK)
            return rc;
        if (strcmp(owner, plan->id) != 0) {
            char f[220];
            ldp_quote(file_name, 200, f, sizeof f);
            snprintf(why, whylen,
                     "%s:%zu: task %s: the id is already used by plan %s; task ids are unique "
                     "across all plans",
                     f, plan->tasks[i].line, plan->tasks[i].id, owner);
            return LD_ERR_EXISTS;
        }
    }
    int changed = 0, rc = LD_OK;
    for (size_t i = 0; i < plan->n_tasks && rc == LD_OK; i++)
        rc = apply_task(s, txn, plan, &plan->tasks[i], &changed);
    if (rc == LD_OK)
        rc = remove_dropped(s, txn, plan, &changed);
    if (rc == LD_OK)
        rc = put_record(s, txn, plan, file_name, by, now_ms, changed);
    if (rc == LD_OK)
        LDP_LOG(s, changed ? LD_LOG_INFO : LD_LOG_DEBUG, "plan %s (%zu tasks) from %s: %s",
                plan->id, plan->n_tasks, *by ? by : "the config",
                changed ? "ledger updated" : "unchanged");
    return rc;
}

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the plan file: %s", path, strerror(errno));
        return LD_ERR_IO;
    }
    char *b = malloc(LDP_PLAN_MAX_BYTES + 1);
    if (!b) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return LD_ERR_NOMEM;
    }
    size_t n = fread(b, 1, LDP_PLAN_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        snprintf(err, errlen, "%s: cannot read the plan file", path);
        return LD_ERR_IO;
    }
    if (n > LDP_PLAN_MAX_BYTES) {
        free(b);
        snprintf(err, errlen, "%s: the plan file is larger than %u bytes", path,
                 LDP_PLAN_MAX_BYTES);
        return LD_ERR_FORMAT;
    }
    *buf = b;
    *len = n;
    return LD_OK;
}

/* Offer the plan file to the other plugins as the shared document
 * ("plan", id) = file name, NUL, content (ld_host.doc_put). */
static int share_plan(ldp_state *s, ld_plugin_txn *txn, const char *id, const char *file,
                      const void *content, size_t len)
{
    const ld_host *h = s->host;
    if (h->size <= offsetof(ld_host, doc_put) || !h->doc_put)
        return LD_OK; /* an older broker: nothing to share with */
    size_t fl = strlen(file);
    char *doc = malloc(fl + 1 + len);
    if (!doc)
        return LD_ERR_NOMEM;
    memcpy(doc, file, fl + 1);
    if (len)
        memcpy(doc + fl + 1, content, len);
    int rc = h->doc_put(s->ctx, txn, "plan", id, doc, fl + 1 + len);
    free(doc);
    return rc;
}

int ldp_load_config_plans(ldp_state *s, ld_plugin_txn *txn, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->cfg.n_plans; i++) {
        const char *path = s->cfg.plans[i];
        char *buf;
        size_t len;
        int rc = read_file(path, &buf, &len, err, errlen);
        if (rc != LD_OK)
            return rc;
        ldp_plan *plan;
        rc = ldp_plan_load(s, path, buf, len, &plan, err, errlen);
        if (rc != LD_OK) {
            free(buf);
            return rc;
        }
        rc = ldp_plan_apply(s, txn, plan, path, "", s->host->now_ms(s->ctx), err, errlen);
        if (rc == LD_OK)
            rc = share_plan(s, txn, plan->id, path, buf, len);
        if (rc != LD_OK && rc != LD_ERR_EXISTS)
            snprintf(err, errlen, "%s: cannot store the plan: %s", path, ld_strerror(rc));
        free(buf);
        ldp_plan_destroy(&plan);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

/* The last path component of a client's file name, for messages. */
static const char *base_name(const char *f)
{
    const char *slash = strrchr(f, '/');
    return slash && slash[1] ? slash + 1 : f;
}

int ldp_on_publish(ldp_state *s, ld_plugin_txn *txn, const ld_plugin_message *m,
                   const Liandong__V1__PlanPublish *p, ld_plugin_verdict *v)
{
    const ld_host *h = s->host;
    if (!(m->sender_roles & LD_ROLE_COORDINATOR)) {
        h->refuse(v, REASON(UNAUTHORIZED),
                  "only a principal with the coordinator role that the plan lists under "
                  "coordinators may publish it; %s does not have the coordinator role",
                  m->sender);
        return LD_PLUGIN_REFUSE;
    }
    char file[80];
    const char *fn = p->file_name && *p->file_name ? base_name(p->file_name) : "plan";
    ldp_quote(fn, 64, file, sizeof file);
    char err[400] = "";
    ldp_plan *plan = NULL;
    int rc = ldp_plan_load(s, file, p->content.data, p->content.len, &plan, err, sizeof err);
    if (rc == LD_ERR_NOMEM)
        return LD_PLUGIN_ERROR;
    if (rc != LD_OK) {
        h->refuse(v, REASON(INVALID_PLAN), "%s", err);
        return LD_PLUGIN_REFUSE;
    }
    int decision = LD_PLUGIN_HANDLED;
    char list[200];
    ldp_record *rec = NULL;
    if (!ldp_strv_has(&plan->coordinators, m->sender)) {
        ldp_join(plan->coordinators.v, plan->coordinators.n, list, sizeof list);
        h->refuse(v, REASON(UNAUTHORIZED),
                  "only the plan's coordinators may publish plan %s, and %s is not among them "
                  "(coordinators: %s)",
                  plan->id, m->sender, list);
        decision = LD_PLUGIN_REFUSE;
        goto out;
    }
    rc = ldp_record_get(s, txn, plan->id, &rec);
    if (rc == LD_OK && !ldp_listed(rec->coordinators, rec->n_coordinators, m->sender)) {
        ldp_join(rec->coordinators, rec->n_coordinators, list, sizeof list);
        h->refuse(v, REASON(UNAUTHORIZED),
                  "plan %s exists and only its coordinators (%s) may change it; %s is not one of "
                  "them",
                  plan->id, list, m->sender);
        decision = LD_PLUGIN_REFUSE;
        goto out;
    }
    if (rc != LD_OK && rc != LD_ERR_NOT_FOUND && rc != LD_ERR_FORMAT) {
        decision = LD_PLUGIN_ERROR;
        goto out;
    }
    rc = ldp_plan_apply(s, txn, plan, file, m->sender, m->now_ms, err, sizeof err);
    if (rc == LD_OK)
        rc = share_plan(s, txn, plan->id, fn, p->content.data, p->content.len);
    if (rc == LD_ERR_EXISTS) {
        h->refuse(v, REASON(INVALID_PLAN), "%s", err);
        decision = LD_PLUGIN_REFUSE;
    } else if (rc != LD_OK) {
        LDP_LOG(s, LD_LOG_ERROR, "plan %s from %s: storing failed: %s", plan->id, m->sender,
                ld_strerror(rc));
        decision = LD_PLUGIN_ERROR;
    }
out:
    if (rec)
        liandong__plans__v1__plan_record__free_unpacked(rec, NULL);
    ldp_plan_destroy(&plan);
    return decision;
}
