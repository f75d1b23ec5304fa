/* audit.c - `liandong audit verify | prove | check-proof | query | export |
 * checkpoints`: the audit plugin's log, read offline from the broker's data
 * directory (read-only, safe while the broker runs); `query` also over the
 * bus (ld_client_audit_query). See docs/audit.md. */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_core.h"
#include "body.h"
#include "cli.h"
#include "ldk/keys.h"
#include "ldw/envelope.h"

#define MAX_CPS 256

static const char audit_usage[] =
    "Usage: liandong audit verify --data-dir DIR [--broker-key broker.pub]\n"
    "                             [--checkpoint FILE ...]\n"
    "       liandong audit prove --data-dir DIR --record N [--size M]\n"
    "       liandong audit check-proof FILE --checkpoint FILE [--broker-key broker.pub]\n"
    "       liandong audit query [--data-dir DIR] [--task T] [--dept D] [--type TYPE]\n"
    "                            [--since TIME] [--until TIME]\n"
    "                            [--verdict accepted|refused] [--limit N] [--json]\n"
    "       liandong audit export --data-dir DIR\n"
    "       liandong audit checkpoints --data-dir DIR [--save DIR]\n"
    "\n"
    "verify       re-check every record's chain link and index, every envelope\n"
    "             signature, the Merkle root and signature of every checkpoint in\n"
    "             the log and of each checkpoint FILE held elsewhere; one summary\n"
    "             line, exit 0 if all holds, else the first bad record and exit 1\n"
    "prove        an inclusion proof (JSON) of record N in the tree of checkpoint\n"
    "             size M (default: the first checkpoint that covers N)\n"
    "check-proof  verify a proof against a checkpoint FILE, without the log\n"
    "query        records by task, principal (sender or recipient), type, time\n"
    "             (RFC 3339 or Unix ms) and verdict, from the indexes; without\n"
    "             --data-dir over the bus (global --broker, --identity, --broker-key;\n"
    "             auditor or supervision role), page by page up to --limit\n"
    "export       one JSON line per record: fields, envelope (base64), body as JSON\n"
    "checkpoints  the checkpoints stored in the log as checkpoint files (JSON);\n"
    "             --save DIR writes checkpoint-<size>.json files there\n"
    "\n"
    "A checkpoint FILE is one JSON object: {\"size\": N, \"root\": HEX, \"at_ms\": MS,\n"
    "\"key_id\": ID, \"signature\": HEX, \"head_hash\": HEX} (docs/audit.md).\n";

static int open_store(const char *dir, lda_store **s)
{
    char err[512];
    if (!dir) {
        ld_cli_usage("audit", "needs --data-dir DIR (the broker's data directory)");
        return LD_CLI_USAGE;
    }
    if (lda_store_open(dir, 0, s, err, sizeof err) != LD_OK)
        return ld_cli_fail("audit: %s", err);
    return LD_CLI_OK;
}

/* ---- checkpoint files ---------------------------------------------------- */

static void print_checkpoint_json(FILE *f, const lda_checkpoint *c)
{
    char root[65], sig[129], head[65];
    lda_hex(c->root, 32, root);
    lda_hex(c->signature, 64, sig);
    lda_hex(c->head, 32, head);
    fprintf(f,
            "{\"size\":%llu,\"root\":\"%s\",\"at_ms\":%lld,\"key_id\":\"%s\",\"signature\":\"%s\"",
            (unsigned long long)c->size, root, (long long)c->at_ms, c->key_id, sig);
    if (c->has_head)
        fprintf(f, ",\"head_hash\":\"%s\"", head);
    fputc('}', f);
}

static int checkpoint_from_json(json_t *j, lda_checkpoint *c)
{
    memset(c, 0, sizeof *c);
    json_t *size = json_object_get(j, "size"), *at = json_object_get(j, "at_ms");
    const char *root = json_string_value(json_object_get(j, "root"));
    const char *sig = json_string_value(json_object_get(j, "signature"));
    const char *kid = json_string_value(json_object_get(j, "key_id"));
    const char *head = json_string_value(json_object_get(j, "head_hash"));
    if (!json_is_integer(size) || json_integer_value(size) <= 0 || !json_is_integer(at) ||
        lda_unhex(root, c->root, 32) != LD_OK || lda_unhex(sig, c->signature, 64) != LD_OK)
        return -1;
    c->size = (uint64_t)json_integer_value(size);
    c->at_ms = json_integer_value(at);
    snprintf(c->key_id, sizeof c->key_id, "%s", kid ? kid : "");
    if (head) {
        if (lda_unhex(head, c->head, 32) != LD_OK)
            return -1;
        c->has_head = 1;
    }
    return 0;
}

static int load_checkpoint_file(const char *path, lda_checkpoint *c)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return ld_cli_fail("audit: %s:%d: %s", path, je.line, je.text);
    /* Also accept a proof file's or a saved delivery's "checkpoint" member. */
    json_t *inner = json_object_get(j, "checkpoint");
    int rc = checkpoint_from_json(inner ? inner : j, c);
    json_decref(j);
    if (rc != 0)
        return ld_cli_fail("audit: %s: not a checkpoint (size, root, at_ms, signature)", path);
    return LD_CLI_OK;
}

static int load_broker_key(const char *path, uint8_t pub[32], char key_id[17])
{
    ldk_identity *id;
    char err[256];
    if (ldk_identity_load(path, &id, err, sizeof err) != LD_OK)
        return ld_cli_fail("audit: broker key: %s", err);
    memcpy(pub, id->sign_public, 32);
    snprintf(key_id, 17, "%s", id->key_id);
    ldk_identity_destroy(&id);
    return LD_CLI_OK;
}

/* ---- verify ---------------------------------------------------------------- */

static int audit_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"broker-key", required_argument, NULL, 'k'},
        {"checkpoint", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *key = ld_cli_g.broker_key;
    const char *cps[MAX_CPS];
    size_t n_cps = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'k': key = optarg; break;
        case 'c':
            if (n_cps == MAX_CPS)
                return ld_cli_usage("audit", "at most %d --checkpoint files", MAX_CPS);
            cps[n_cps++] = optarg;
            break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("audit", "unexpected argument '%s'", argv[optind]);
    uint8_t pub[32];
    char key_id[17] = "";
    if (key && load_broker_key(key, pub, key_id) != LD_CLI_OK)
        return LD_CLI_FAIL;
    lda_checkpoint *ext = calloc(n_cps ? n_cps : 1, sizeof *ext);
    if (!ext)
        return ld_cli_fail("audit: out of memory");
    for (size_t i = 0; i < n_cps; i++)
        if (load_checkpoint_file(cps[i], &ext[i]) != LD_CLI_OK) {
            free(ext);
            return LD_CLI_FAIL;
        }
    lda_store *s;
    int st = open_store(dir, &s);
    if (st != LD_CLI_OK) {
        free(ext);
        return st;
    }
    lda_verify_result res;
    int rc = lda_verify(lda_store_kv(s), key ? pub : NULL, key ? key_id : NULL, ext, n_cps, &res);
    lda_store_close(&s);
    free(ext);
    if (rc != LD_OK)
        return ld_cli_fail("audit: %s: cannot read the log: %s", dir, ld_strerror(rc));
    if (!res.ok) {
        printf("audit: %s\n", res.what);
        return LD_CLI_FAIL;
    }
    char head[65];
    lda_hex(res.head, 32, head);
    printf("audit: OK: %llu records, %llu checkpoints, head %s%s\n",
           (unsigned long long)res.records, (unsigned long long)res.checkpoints, head,
           key ? "" : " (broker signatures not checked: no --broker-key)");
    return LD_CLI_OK;
}

/* ---- leaves, prove, check-proof ------------------------------------------ */

typedef struct leaves {
    uint8_t (*v)[32];
    uint64_t n, want;
    uint8_t *rec; /* record `pick`'s bytes */
    size_t rec_len;
    uint64_t pick;
    int oom;
} leaves;

static int on_leaf(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    leaves *l = arg;
    if (key_len != 8 || lda_be64_get(key) != l->n || val_len < 32 || l->n == l->want)
        return 1;
    lda_hash_leaf((const uint8_t *)val + 32, val_len - 32, l->v[l->n]);
    if (l->n == l->pick) {
        l->rec = malloc(val_len - 32);
        if (!l->rec) {
            l->oom = 1;
            return 1;
        }
        memcpy(l->rec, (const uint8_t *)val + 32, val_len - 32);
        l->rec_len = val_len - 32;
    }
    l->n++;
    return 0;
}

typedef struct find_cp {
    uint64_t record, size;
    lda_checkpoint cp;
    int found;
} find_cp;

static int on_cp(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    find_cp *f = arg;
    (void)key;
    (void)key_len;
    lda_checkpoint c;
    if (lda_checkpoint_unpack(val, val_len, &c) != LD_OK)
        return 0;
    if ((f->size && c.size == f->size) || (!f->size && c.size > f->record)) {
        f->cp = c;
        f->found = 1;
        return 1;
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-')
        return -1;
    *out = v;
    return 0;
}

static void print_b64(FILE *f, const uint8_t *b, size_t n)
{
    lda_json_base64(f, b, n);
}

static int audit_prove(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"record", required_argument, NULL, 'r'},
        {"size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    uint64_t rec = 0, size = 0;
    int have_rec = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'r':
            if (parse_u64(optarg, &rec) != 0)
                return ld_cli_usage("audit", "--record needs a record index, not '%s'", optarg);
            have_rec = 1;
            break;
        case 's':
            if (parse_u64(optarg, &size) != 0 || !size)
                return ld_cli_usage("audit", "--size needs a positive log size, not '%s'", optarg);
            break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    if (!have_rec)
        return ld_cli_usage("audit", "prove needs --record N");
    lda_store *s;
    int st = open_store(dir, &s);
    if (st != LD_CLI_OK)
        return st;
    lda_kv *kv = lda_store_kv(s);
    find_cp f = {rec, size, {0}, 0};
    kv->scan(kv->arg, LDA_DB_CHECKPOINTS, NULL, 0, on_cp, &f);
    if (!f.found) {
        lda_store_close(&s);
        return size ? ld_cli_fail("audit: no checkpoint of size %llu in the log",
                                  (unsigned long long)size)
                    : ld_cli_fail("audit: no checkpoint covers record %llu yet; wait for the "
                                  "next one",
                                  (unsigned long long)rec);
    }
    if (rec >= f.cp.size) {
        lda_store_close(&s);
        return ld_cli_fail("audit: record %llu is not in the checkpoint of size %llu",
                           (unsigned long long)rec, (unsigned long long)f.cp.size);
    }
    leaves l = {0};
    l.want = f.cp.size;
    l.pick = rec;
    l.v = malloc(f.cp.size * sizeof *l.v);
    if (!l.v) {
        lda_store_close(&s);
        return ld_cli_fail("audit: out of memory for %llu leaves", (unsigned long long)l.want);
    }
    kv->scan(kv->arg, LDA_DB_LOG, NULL, 0, on_leaf, &l);
    lda_store_close(&s);
    st = LD_CLI_OK;
    uint8_t root[32], path[64][32];
    size_t n = 0;
    if (l.oom || l.n != l.want || !l.rec) {
        st = ld_cli_fail("audit: the log has %llu readable records, not %llu: run audit verify",
                         (unsigned long long)l.n, (unsigned long long)l.want);
    } else {
        lda_tree_root((const uint8_t(*)[32])l.v, l.n, root);
        if (sodium_memcmp(root, f.cp.root, 32) != 0)
            st = ld_cli_fail("audit: the log's root at size %llu differs from its checkpoint: "
                             "run audit verify",
                             (unsigned long long)l.n);
    }
    if (st == LD_CLI_OK) {
        lda_inclusion_proof((const uint8_t(*)[32])l.v, l.n, rec, path, &n);
        char hex[65];
        printf("{\"record\":%llu,\"size\":%llu,\"record_bytes\":", (unsigned long long)rec,
               (unsigned long long)f.cp.size);
        print_b64(stdout, l.rec, l.rec_len);
        lda_hex(l.v[rec], 32, hex);
        printf(",\"leaf\":\"%s\",\"path\":[", hex);
        for (size_t i = 0; i < n; i++) {
            lda_hex(path[i], 32, hex);
            printf("%s\"%s\"", i ? "," : "", hex);
        }
        printf("],\"checkpoint\":");
        print_checkpoint_json(stdout, &f.cp);
        printf("}\n");
    }
    free(l.v);
    free(l.rec);
    return st;
}

static int audit_check_proof(int argc, char **argv)
{
    static const struct option opts[] = {
        {"checkpoint", required_argument, NULL, 'c'},
        {"broker-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cpf = NULL, *key = ld_cli_g.broker_key;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cpf = optarg; break;
        case 'k': key = optarg; break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    if (optind + 1 != argc)
        return ld_cli_usage("audit", "check-proof needs one proof FILE");
    if (!cpf)
        return ld_cli_usage("audit", "check-proof needs --checkpoint FILE");
    lda_checkpoint cp;
    if (load_checkpoint_file(cpf, &cp) != LD_CLI_OK)
        return LD_CLI_FAIL;
    if (key) {
        uint8_t pub[32];
        char kid[17];
        if (load_broker_key(key, pub, kid) != LD_CLI_OK)
            return LD_CLI_FAIL;
        if (lda_checkpoint_verify_sig(&cp, pub) != LD_OK) {
            printf("proof: checkpoint %s: bad signature (not the broker key %s)\n", cpf, kid);
            return LD_CLI_FAIL;
        }
    }
    const char *pf = argv[optind];
    json_error_t je;
    json_t *j = json_load_file(pf, 0, &je);
    if (!j)
        return ld_cli_fail("audit: %s:%d: %s", pf, je.line, je.text);
    int st = LD_CLI_FAIL;
    json_t *jr = json_object_get(j, "record"), *js = json_object_get(j, "size");
    json_t *jp = json_object_get(j, "path");
    const char *b64 = json_string_value(json_object_get(j, "record_bytes"));
    uint8_t path[64][32], leaf[32];
    size_t np = json_array_size(jp);
    uint8_t *bytes = NULL;
    size_t blen = 0;
    int ok = json_is_integer(jr) && json_is_integer(js) && json_is_array(jp) && np <= 64 && b64;
    for (size_t i = 0; ok && i < np; i++)
        ok = lda_unhex(json_string_value(json_array_get(jp, i)), path[i], 32) == LD_OK;
    if (ok) {
        size_t cap = strlen(b64);
        bytes = malloc(cap ? cap : 1);
        ok = bytes && sodium_base642bin(bytes, cap, b64, cap, NULL, &blen, NULL,
                                        sodium_base64_VARIANT_ORIGINAL) == 0;
    }
    if (!ok) {
        ld_cli_fail("audit: %s: not a proof from 'liandong audit prove'", pf);
        goto out;
    }
    uint64_t m = (uint64_t)json_integer_value(jr), n = (uint64_t)json_integer_value(js);
    if (n != cp.size) {
        printf("proof: the proof is for a log of %llu records, the checkpoint for %llu\n",
               (unsigned long long)n, (unsigned long long)cp.size);
        goto out;
    }
    lda_hash_leaf(bytes, blen, leaf);
    lda_record r;
    if (lda_record_decode(bytes, blen, &r) != LD_OK || r.index != m) {
        printf("proof: the record in the proof is not record %llu\n", (unsigned long long)m);
        goto out;
    }
    if (lda_inclusion_verify(m, n, leaf, (const uint8_t(*)[32])path, np, cp.root) != LD_OK) {
        printf("proof: record %llu is NOT proved to be in the log of %llu records\n",
               (unsigned long long)m, (unsigned long long)n);
        goto out;
    }
    char when[64];
    ld_cli_time_utc(r.at_ms, when, sizeof when);
    printf("proof: OK: record %llu (%s %s from %s at %s) is in the log of %llu records%s\n",
           (unsigned long long)m, lda_kind_name(r.kind), *r.type ? r.type : "frame", r.sender, when,
           (unsigned long long)n, key ? " signed by the broker" : "");
    st = LD_CLI_OK;
out:
    free(bytes);
    json_decref(j);
    return st;
}

/* ---- query, export, checkpoints ------------------------------------------ */

static void print_record_json(FILE *f, const lda_record *r, const uint8_t hash[32], int full)
{
    char hex[65];
    lda_hex(hash, 32, hex);
    fprintf(f, "{\"index\":%llu,\"at_ms\":%lld,\"kind\":\"%s\",\"verdict\":",
            (unsigned long long)r->index, (long long)r->at_ms, lda_kind_name(r->kind));
    if (r->kind == LDA_KIND_REFUSED) {
        const char *name = ldw_reason_name((int)r->verdict);
        lda_json_string(f, name, strlen(name));
    } else {
        fputs("\"accepted\"", f);
    }
    const char *k[] = {"sender", "key_id", "type", "task", "recipient", "text"};
    const char *v[] = {r->sender, r->key_id, r->type, r->task, r->recipient, r->text};
    for (int i = 0; i < 6; i++) {
        if (!*v[i])
            continue;
        fprintf(f, ",\"%s\":", k[i]);
        lda_json_string(f, v[i], strlen(v[i]));
    }
    fprintf(f, ",\"signature_ok\":%s,\"hash\":\"%s\"", r->signature_ok ? "true" : "false", hex);
    if (full) {
        fputs(",\"envelope\":", f);
        lda_json_base64(f, r->envelope, r->envelope_len);
        ldw_opened o;
        memset(&o, 0, sizeof o);
        if (r->envelope_len &&
            ldw_envelope_open(r->envelope, r->envelope_len, &o, NULL, 0) == LD_OK) {
            Liandong__V1__Body *b = ldw_opened_body(&o);
            if (b) {
                fputs(",\"body\":", f);
                lda_json_message(f, &b->base);
                liandong__v1__body__free_unpacked(b, NULL);
            }
        }
        ldw_opened_clear(&o);
    }
    fputs("}\n", f);
}

typedef struct qout {
    int json;
    ld_cli_table t;
    uint64_t n;
} qout;

static int on_query(void *arg, const lda_record *r, const uint8_t hash[32])
{
    qout *q = arg;
    q->n++;
    if (q->json) {
        print_record_json(stdout, r, hash, 0);
        return 0;
    }
    char idx[24], when[64];
    snprintf(idx, sizeof idx, "%llu", (unsigned long long)r->index);
    ld_cli_time_utc(r->at_ms, when, sizeof when);
    ld_cli_table_add(&q->t, idx, 0);
    ld_cli_table_add(&q->t, when, 0);
    ld_cli_table_add(&q->t, r->sender, 24);
    ld_cli_table_add(&q->t, *r->type ? r->type : "-", 0);
    ld_cli_table_add(&q->t, *r->task ? r->task : "-", 16);
    ld_cli_table_add(&q->t,
                     r->kind == LDA_KIND_REFUSED   ? ldw_reason_name((int)r->verdict)
                     : r->kind == LDA_KIND_EMITTED ? "emitted"
                                                   : "accepted",
                     0);
    ld_cli_table_add(&q->t, *r->recipient ? r->recipient : *r->text ? r->text : "", 40);
    return 0;
}

static int parse_time(const char *s, int64_t *ms)
{
    int64_t t;
    if (ldk_time_parse(s, &t) == LD_OK) {
        *ms = t * 1000;
        return 0;
    }
    uint64_t v;
    if (parse_u64(s, &v) == 0) {
        *ms = (int64_t)v;
        return 0;
    }
    return -1;
}

static void table_head(qout *out)
{
    ld_cli_table_init(&out->t, 7);
    if (!out->json) {
        const char *h[] = {"#", "AT", "SENDER", "TYPE", "TASK", "VERDICT", "TO / WHY"};
        for (int i = 0; i < 7; i++)
            ld_cli_table_add(&out->t, h[i], 0);
    }
}

/* Over the bus (no --data-dir): AuditQuery pages from the broker's audit
 * plugin, until next_index is 0 or q->limit records were printed. */
static int query_bus(const lda_query *q, qout *out)
{
    ld_client *cl;
    int st = ld_cli_connect(&cl, 1);
    if (st != LD_CLI_OK)
        return st;
    ld_audit_query aq = {.task = q->task,
                         .dept = q->dept,
                         .type = q->type,
                         .since_ms = q->since_ms,
                         .until_ms = q->until_ms,
                         .verdict = q->verdict == 1   ? "accepted"
                                    : q->verdict == 2 ? "refused"
                                                      : NULL};
    table_head(out);
    uint64_t next = 0;
    for (;;) {
        if (q->limit) {
            uint64_t left = q->limit - out->n;
            aq.limit = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
        }
        ld_audit_page *p;
        int rc = ld_client_audit_query(cl, &aq, &p);
        if (rc != LD_OK) {
            st = ld_cli_client_fail(cl, rc, "audit query");
            break;
        }
        for (size_t i = 0; i < p->n_records && (!q->limit || out->n < q->limit); i++) {
            const ld_audit_record *x = &p->records[i];
            lda_record r = {0};
            r.index = x->index;
            r.at_ms = x->at_ms;
            r.kind = x->verdict        ? LDA_KIND_REFUSED
                     : x->n_recipients ? LDA_KIND_EMITTED
                                       : LDA_KIND_ACCEPTED;
            r.signature_ok = x->verdict != LD_REASON_BAD_SIGNATURE;
            r.verdict = (uint32_t)x->verdict;
            r.sender = x->sender;
            r.key_id = x->key_id;
            r.type = x->type;
            r.task = x->task;
            r.recipient = x->n_recipients ? x->recipients[0] : "";
            r.text = x->verdict_text;
            r.envelope = x->envelope;
            r.envelope_len = x->envelope_len;
            on_query(out, &r, x->hash);
        }
        next = p->next_index;
        int empty = p->n_records == 0;
        ld_audit_page_destroy(&p);
        if (!next || empty || (q->limit && out->n >= q->limit))
            break;
        aq.after_index = next;
    }
    ld_client_destroy(&cl);
    if (st == LD_CLI_OK && !out->json) {
        if (out->n && ld_cli_table_print(stdout, &out->t) != 0)
            st = LD_CLI_FAIL;
        printf("%llu records%s\n", (unsigned long long)out->n,
               next ? " (more: raise --limit)" : "");
    }
    ld_cli_table_free(&out->t);
    return st;
}

static int audit_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"task", required_argument, NULL, 'T'},
        {"dept", required_argument, NULL, 'D'},
        {"type", required_argument, NULL, 'y'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"verdict", required_argument, NULL, 'v'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    lda_query q = {0};
    qout out = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'T': q.task = optarg; break;
        case 'D': q.dept = optarg; break;
        case 'y': q.type = optarg; break;
        case 's':
        case 'u':
            if (parse_time(optarg, c == 's' ? &q.since_ms : &q.until_ms) != 0)
                return ld_cli_usage("audit", "'%s' is not a time (RFC 3339 or Unix ms)", optarg);
            break;
        case 'v':
            if (strcmp(optarg, "accepted") == 0)
                q.verdict = 1;
            else if (strcmp(optarg, "refused") == 0)
                q.verdict = 2;
            else
                return ld_cli_usage("audit", "--verdict is accepted or refused, not '%s'", optarg);
            break;
        case 'l':
            if (parse_u64(optarg, &q.limit) != 0)
                return ld_cli_usage("audit", "--limit needs a number, not '%s'", optarg);
            break;
        case 'j': out.json = 1; break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    if (optind < argc)
        return ld_cli_usage("audit", "unexpected argument '%s'", argv[optind]);
    if (!dir)
        return query_bus(&q, &out);
    lda_store *s;
    int st = open_store(dir, &s);
    if (st != LD_CLI_OK)
        return st;
    table_head(&out);
    uint64_t next;
    int rc = lda_query_run(lda_store_kv(s), &q, on_query, &out, &next);
    lda_store_close(&s);
    if (rc != LD_OK)
        st = ld_cli_fail("audit: %s: query failed: %s", dir, ld_strerror(rc));
    else if (!out.json) {
        if (out.n && ld_cli_table_print(stdout, &out.t) != 0)
            st = LD_CLI_FAIL;
        printf("%llu records%s\n", (unsigned long long)out.n, next ? " (more: raise --limit)" : "");
    }
    ld_cli_table_free(&out.t);
    return st;
}

static int on_export(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    int *bad = arg;
    (void)key;
    (void)key_len;
    lda_record r;
    if (val_len < 32 || lda_record_decode((const uint8_t *)val + 32, val_len - 32, &r) != LD_OK) {
        *bad = 1;
        return 1;
    }
    print_record_json(stdout, &r, val, 1);
    return 0;
}

static int audit_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    lda_store *s;
    int st = open_store(dir, &s);
    if (st != LD_CLI_OK)
        return st;
    lda_kv *kv = lda_store_kv(s);
    int bad = 0;
    int rc = kv->scan(kv->arg, LDA_DB_LOG, NULL, 0, on_export, &bad);
    lda_store_close(&s);
    if (rc != LD_OK || bad)
        return ld_cli_fail("audit: %s: a record cannot be read; run audit verify", dir);
    return fflush(stdout) == 0 ? LD_CLI_OK : LD_CLI_FAIL;
}

static int on_list_cp(void *arg, const void *key, size_t key_len, const void *val, size_t val_len)
{
    const char *save = arg;
    (void)key;
    (void)key_len;
    lda_checkpoint c;
    if (lda_checkpoint_unpack(val, val_len, &c) != LD_OK)
        return 0;
    if (!save) {
        print_checkpoint_json(stdout, &c);
        putchar('\n');
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint-%llu.json", save, (unsigned long long)c.size);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    print_checkpoint_json(f, &c);
    fputc('\n', f);
    return fclose(f) != 0;
}

static int audit_checkpoints(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"save", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *save = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 's': save = optarg; break;
        case 'h': fputs(audit_usage, stdout); return LD_CLI_OK;
        default: return ld_cli_getopt_error("audit", c, argv);
        }
    }
    lda_store *s;
    int st = open_store(dir, &s);
    if (st != LD_CLI_OK)
        return st;
    lda_kv *kv = lda_store_kv(s);
    int rc = kv->scan(kv->arg, LDA_DB_CHECKPOINTS, NULL, 0, on_list_cp, (void *)save);
    lda_store_close(&s);
    return rc == LD_OK ? LD_CLI_OK : ld_cli_fail("audit: %s: %s", dir, ld_strerror(rc));
}

int ld_cli_audit(int argc, char **argv)
{
    if (argc < 2)
        return ld_cli_usage("audit",
                            "say verify, prove, check-proof, query, export or checkpoints");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(audit_usage, stdout);
        return LD_CLI_OK;
    }
    if (sodium_init() < 0)
        return ld_cli_fail("audit: libsodium failed to initialise");
    if (strcmp(sub, "verify") == 0)
        return audit_verify(argc - 1, argv + 1);
    if (strcmp(sub, "prove") == 0)
        return audit_prove(argc - 1, argv + 1);
    if (strcmp(sub, "check-proof") == 0)
        return audit_check_proof(argc - 1, argv + 1);
    if (strcmp(sub, "query") == 0)
        return audit_query(argc - 1, argv + 1);
    if (strcmp(sub, "export") == 0)
        return audit_export(argc - 1, argv + 1);
    if (strcmp(sub, "checkpoints") == 0)
        return audit_checkpoints(argc - 1, argv + 1);
    return ld_cli_usage("audit", "unknown subcommand '%s'", sub);
}
