/* escalation.c - the escalation plugin: its descriptor, config, calendar
 * loading, start, and the dispatch of messages. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc_int.h"

#define LDE_VERSION "0.1.0"
#define FILE_MAX (4u * 1024u * 1024u)

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return LD_ERR_IO;
    }
    char *b = malloc(FILE_MAX + 1);
    size_t n = b ? fread(b, 1, FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!b)
        return LD_ERR_NOMEM;
    if (bad || n > FILE_MAX) {
        free(b);
        snprintf(err, errlen, "cannot read %s (or it is over %u bytes)", path, FILE_MAX);
        return LD_ERR_IO;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return LD_OK;
}

static int load_calendar(lde_state *s, char *err, size_t errlen)
{
    int rc = lde_calendar_new(&s->cal);
    if (rc != LD_OK)
        return rc;
    char *buf;
    size_t len;
    if (s->cfg.calendar_file) {
        if ((rc = read_file(s->cfg.calendar_file, &buf, &len, err, errlen)) != LD_OK)
            return rc;
        rc = lde_calendar_load(s->cal, s->cfg.calendar_file, buf, len, err, errlen);
        free(buf);
    } else
        rc = lde_calendar_load_builtin(s->cal, err, errlen);
    for (size_t i = 0; rc == LD_OK && i < s->cfg.n_calendar_files; i++) {
        if ((rc = read_file(s->cfg.calendar_files[i], &buf, &len, err, errlen)) != LD_OK)
            return rc;
        rc = lde_calendar_load(s->cal, s->cfg.calendar_files[i], buf, len, err, errlen);
        free(buf);
    }
    return rc;
}

static void destroy(lde_state *s)
{
    lde_config_clear(&s->cfg);
    lde_calendar_destroy(&s->cal);
    for (size_t i = 0; i < LDE_CACHE; i++)
        lde_plan_rules_destroy(&s->cache[i].pr);
    free(s);
}

static int esc_init(const ld_host *host, ld_plugin_ctx *ctx, const char *config_yaml, void **state,
                    char *err, size_t errlen)
{
    if (!host || host->abi_version < 1 || host->size < sizeof(ld_host)) {
        snprintf(err, errlen,
                 "the broker's host table is older than this plugin (ABI 1, %zu bytes)",
                 sizeof(ld_host));
        return LD_ERR_INVALID;
    }
    lde_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return LD_ERR_NOMEM;
    }
    s->host = host;
    s->ctx = ctx;
    int rc = lde_config_parse(config_yaml, &s->cfg, err, errlen);
    if (rc == LD_OK)
        rc = load_calendar(s, err, errlen);
    static const char *const names[] = {"clocks", "index", "notices", "letters",
                                        "rules",  "tasks", "meta"};
    uint32_t *slots[] = {&s->db_clocks, &s->db_index, &s->db_notices, &s->db_letters,
                         &s->db_rules,  &s->db_tasks, &s->db_meta};
    for (size_t i = 0; rc == LD_OK && i < sizeof names / sizeof names[0]; i++)
        if ((rc = host->db_open(ctx, names[i], slots[i])) != LD_OK)
            snprintf(err, errlen, "cannot open the %s database: %s", names[i], ld_strerror(rc));
    if (rc != LD_OK) {
        destroy(s);
        return rc;
    }
    int first, last;
    lde_calendar_range(s->cal, &first, &last);
    LDE_LOG(s, LD_LOG_INFO, "calendar covers %d..%d; working-day counts outside are flagged", first,
            last);
    *state = s;
    return LD_OK;
}

/* A plan file the plans plugin shares: "file\0content". */
typedef struct shared_plans {
    lde_state *s;
    ld_plugin_txn *txn;
    char *err;
    size_t errlen;
    int rc;
    size_t n;
} shared_plans;

static int take_shared_plan(void *arg, const void *key, size_t key_len, const void *val,
                            size_t val_len)
{
    (void)key;
    (void)key_len;
    shared_plans *sp = arg;
    const char *v = val, *nul = memchr(v, 0, val_len);
    if (!nul) {
        LDE_LOG(sp->s, LD_LOG_WARN, "a shared plan document has no file name; skipped");
        return 0;
    }
    char file[256];
    snprintf(file, sizeof file, "%s", v);
    const char *content = nul + 1;
    size_t len = val_len - (size_t)(content - v);
    /* Copy: the value is only valid until the next write. */
    char *buf = malloc(len ? len : 1);
    if (!buf) {
        sp->rc = LD_ERR_NOMEM;
        return 1;
    }
    memcpy(buf, content, len);
    lde_plan_rules *pr;
    int rc = lde_plan_rules_parse(file, buf, len, &pr, sp->err, sp->errlen);
    if (rc == LD_OK) {
        rc = lde_rules_store(sp->s, sp->txn, pr->plan, buf, len);
        lde_plan_rules_destroy(&pr);
        sp->n++;
    }
    free(buf);
    sp->rc = rc;
    return rc != LD_OK;
}

static int esc_start(void *state, ld_plugin_txn *txn, char *err, size_t errlen)
{
    lde_state *s = state;
    int64_t now = s->host->now_ms(s->ctx);
    /* The plans the plans plugin holds (its config's and those published),
     * then the files of this plugin's own `plans:`, which win. */
    if (s->host->size > offsetof(ld_host, doc_scan) && s->host->doc_scan) {
        shared_plans sp = {s, txn, err, errlen, LD_OK, 0};
        int rc = s->host->doc_scan(s->ctx, txn, "plan", take_shared_plan, &sp);
        if (rc == LD_OK)
            rc = sp.rc;
        if (rc != LD_OK) {
            if (!err[0])
                snprintf(err, errlen, "cannot read the plans the plans plugin shares: %s",
                         ld_strerror(rc));
            return rc;
        }
        LDE_LOG(s, LD_LOG_INFO, "rules of %zu plan%s from the plans plugin", sp.n,
                sp.n == 1 ? "" : "s");
    }
    for (size_t i = 0; i < s->cfg.n_plans; i++) {
        char *buf;
        size_t len;
        int rc = read_file(s->cfg.plans[i], &buf, &len, err, errlen);
        if (rc != LD_OK)
            return rc;
        lde_plan_rules *pr;
        rc = lde_plan_rules_parse(s->cfg.plans[i], buf, len, &pr, err, errlen);
        if (rc == LD_OK) {
            rc = lde_rules_store(s, txn, pr->plan, buf, len);
            lde_plan_rules_destroy(&pr);
        }
        free(buf);
        if (rc != LD_OK)
            return rc;
    }
    int rc = lde_sync_plan(s, txn, NULL, now);
    if (rc != LD_OK) {
        snprintf(err, errlen, "cannot bring the task clocks up to date: %s", ld_strerror(rc));
        return rc;
    }
    return LD_OK;
}

static int esc_on_message(void *state, ld_plugin_txn *txn, const ld_plugin_message *m,
                          ld_plugin_verdict *v)
{
    lde_state *s = state;
    switch (m->body_case) {
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH:
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT:
    case LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST:
    case LIANDONG__V1__BODY__MSG_EXTENSION_DECISION:
    case LIANDONG__V1__BODY__MSG_TASK_PAUSE:
    case LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER:
    case LIANDONG__V1__BODY__MSG_LETTER_ANSWER:
    case LIANDONG__V1__BODY__MSG_ESCALATION_QUERY: break;
    default: return LD_PLUGIN_PASS;
    }
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, m->body_len, m->body);
    if (!b) {
        s->host->refuse(v, LDE_REASON(MALFORMED), "the body is not a protobuf Body");
        return LD_PLUGIN_REFUSE;
    }
    int d = LD_PLUGIN_PASS;
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_PLAN_PUBLISH:
        d = b->plan_publish ? lde_on_publish(s, txn, m, b->plan_publish, v) : d;
        break;
    case LIANDONG__V1__BODY__MSG_STATUS_REPORT:
        d = b->status_report ? lde_on_report(s, txn, m, b->status_report) : d;
        break;
    case LIANDONG__V1__BODY__MSG_EXTENSION_REQUEST:
        d = lde_on_ext_request(s, txn, m, b->extension_request, v);
        break;
    case LIANDONG__V1__BODY__MSG_EXTENSION_DECISION:
        d = lde_on_ext_decision(s, txn, m, b->extension_decision, v);
        break;
    case LIANDONG__V1__BODY__MSG_TASK_PAUSE: d = lde_on_pause(s, txn, m, b->task_pause, v); break;
    case LIANDONG__V1__BODY__MSG_SUPERVISION_LETTER:
        d = lde_on_letter(s, txn, m, b->supervision_letter, v);
        break;
    case LIANDONG__V1__BODY__MSG_LETTER_ANSWER:
        d = lde_on_answer(s, txn, m, b->letter_answer, v);
        break;
    case LIANDONG__V1__BODY__MSG_ESCALATION_QUERY:
        d = lde_on_query(s, txn, m, b->escalation_query, v);
        break;
    default: break;
    }
    liandong__v1__body__free_unpacked(b, NULL);
    return d;
}

static void esc_fini(void *state)
{
    if (state)
        destroy(state);
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .name = "escalation",
    .version = LDE_VERSION,
    .init = esc_init,
    .start = esc_start,
    .on_message = esc_on_message,
    .on_tick = lde_on_tick,
    .fini = esc_fini,
};
