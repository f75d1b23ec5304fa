/* test_audit_log.c - records, the chain and verification on a real LMDB
 * environment: tampering with a copy of the file is detected and named
 * (flipped byte, deleted, swapped, truncated records, a re-hashed forgery
 * caught by a checkpoint held elsewhere); an indexed query reads only the
 * records it returns. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "audit_core.h"
#include "ldw/envelope.h"

#define N_RECORDS 50
#define CP_EVERY 10

static char base_dir[64];
static uint8_t dept_pk[32], dept_sk[64], broker_pk[32], broker_sk[64];
/* Checkpoints as an auditor would have received them (packed). */
static uint8_t held[N_RECORDS / CP_EVERY + 1][512];
static size_t held_len[N_RECORDS / CP_EVERY + 1];

static int open_w(const char *dir, lda_store **s)
{
    char err[256];
    return lda_store_open(dir, 1, s, err, sizeof err);
}

/* Sign and store a checkpoint of the log as it is, like the plugin. */
static void make_checkpoint(lda_kv *kv, int slot)
{
    lda_head h;
    assert_int_equal(lda_head_get(kv, &h), LD_OK);
    uint8_t root[32], msg[LDA_CHECKPOINT_MSG_BYTES], sig[64];
    lda_frontier_root(&h.tree, root);
    int64_t at = 1700000000000 + (int64_t)h.tree.size;
    lda_checkpoint_message(h.tree.size, root, at, msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, broker_sk);
    Liandong__V1__Checkpoint cp = LIANDONG__V1__CHECKPOINT__INIT;
    cp.size = h.tree.size;
    cp.root.data = root;
    cp.root.len = 32;
    cp.at_ms = at;
    cp.signature.data = sig;
    cp.signature.len = 64;
    cp.key_id = "broker";
    cp.head_hash.data = h.chain;
    cp.head_hash.len = 32;
    size_t len = liandong__v1__checkpoint__pack(&cp, held[slot]);
    held_len[slot] = len;
    uint8_t key[8];
    lda_be64_put(key, h.tree.size);
    assert_int_equal(kv->put(kv->arg, LDA_DB_CHECKPOINTS, key, 8, held[slot], len), LD_OK);
}

static void append_signed(lda_kv *kv, int i)
{
    char text[64];
    snprintf(text, sizeof text, "report %d", i);
    Liandong__V1__Direct d = LIANDONG__V1__DIRECT__INIT;
    char *to[] = {"dept-b"};
    d.to = to;
    d.n_to = 1;
    d.text = text;
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DIRECT;
    b.direct = &d;
    ldw_header_fields hf = {.sender = "dept-a",
                            .key_id = "k1",
                            .seq = (uint64_t)i + 1,
                            .sent_at_ms = 1700000000000 + i};
    uint8_t *env;
    size_t len;
    assert_int_equal(ldw_envelope_seal_body(&hf, &b, dept_sk, &env, &len, NULL), LD_OK);
    lda_record r = {0};
    r.at_ms = 1700000000000 + i;
    r.kind = LDA_KIND_ACCEPTED;
    r.signature_ok = 1;
    r.sender = "dept-a";
    r.key_id = "k1";
    r.type = "direct";
    r.task = "";
    r.envelope = env;
    r.envelope_len = len;
    const char *depts[] = {"dept-a", "dept-b"};
    uint64_t idx;
    assert_int_equal(lda_append(kv, &r, dept_pk, depts, 2, &idx), LD_OK);
    assert_int_equal(idx, (uint64_t)i);
    free(env);
}

static int setup(void **st)
{
    (void)st;
    if (sodium_init() < 0)
        return -1;
    crypto_sign_keypair(dept_pk, dept_sk);
    crypto_sign_keypair(broker_pk, broker_sk);
    snprintf(base_dir, sizeof base_dir, "/tmp/ld-audit-XXXXXX");
    if (!mkdtemp(base_dir))
        return -1;
    lda_store *s;
    if (open_w(base_dir, &s) != LD_OK)
        return -1;
    lda_kv *kv = lda_store_kv(s);
    for (int i = 0; i < N_RECORDS; i++) {
        append_signed(kv, i);
        if ((i + 1) % CP_EVERY == 0)
            make_checkpoint(kv, (i + 1) / CP_EVERY);
    }
    return lda_store_close(&s) == LD_OK ? 0 : -1;
}

static void rm_dir(const char *d)
{
    char p[128];
    snprintf(p, sizeof p, "%s/data.mdb", d);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", d);
    unlink(p);
    rmdir(d);
}

static int teardown(void **st)
{
    (void)st;
    rm_dir(base_dir);
    return 0;
}

/* A copy of the environment to tamper with. */
static void copy_env(char *dir)
{
    snprintf(dir, 64, "/tmp/ld-audit-t-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp %s/data.mdb %s/data.mdb", base_dir, dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct raw {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi log, state, cps;
} raw;

static void raw_open(raw *r, const char *dir)
{
    assert_int_equal(mdb_env_create(&r->env), 0);
    mdb_env_set_maxdbs(r->env, 64);
    assert_int_equal(mdb_env_open(r->env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
    assert_int_equal(mdb_dbi_open(r->txn, "plugin.audit.log", 0, &r->log), 0);
    assert_int_equal(mdb_dbi_open(r->txn, "plugin.audit.state", 0, &r->state), 0);
    assert_int_equal(mdb_dbi_open(r->txn, "plugin.audit.checkpoints", 0, &r->cps), 0);
}

static void raw_close(raw *r)
{
    assert_int_equal(mdb_txn_commit(r->txn), 0);
    mdb_env_close(r->env);
}

static MDB_val key_of(uint64_t i, uint8_t *buf)
{
    lda_be64_put(buf, i);
    MDB_val k = {8, buf};
    return k;
}

static lda_verify_result verify_dir(const char *dir, const lda_checkpoint *ext, size_t n_ext)
{
    lda_store *s;
    char err[256];
    assert_int_equal(lda_store_open(dir, 0, &s, err, sizeof err), LD_OK);
    lda_verify_result res;
    assert_int_equal(lda_verify(lda_store_kv(s), broker_pk, "broker", ext, n_ext, &res), LD_OK);
    lda_store_close(&s);
    return res;
}

static void test_intact(void **st)
{
    (void)st;
    lda_verify_result res = verify_dir(base_dir, NULL, 0);
    assert_true(res.ok);
    assert_int_equal(res.records, N_RECORDS);
    assert_int_equal(res.checkpoints, N_RECORDS / CP_EVERY);
}

static void test_record_encoding(void **st)
{
    (void)st;
    lda_record r = {0}, d;
    r.index = 7;
    r.at_ms = -5;
    r.kind = LDA_KIND_REFUSED;
    r.verdict = 9;
    r.sender = "a";
    r.key_id = "";
    r.type = "status_report";
    r.task = "ir-1";
    r.recipient = NULL;
    r.text = "why";
    r.envelope = (const uint8_t *)"xyz";
    r.envelope_len = 3;
    uint8_t *b;
    size_t len;
    assert_int_equal(lda_record_encode(&r, &b, &len), LD_OK);
    assert_int_equal(len, 23 + 6 * 2 + 1 + 13 + 4 + 3 + 4 + 3);
    assert_int_equal(lda_record_decode(b, len, &d), LD_OK);
    assert_int_equal(d.index, 7);
    assert_int_equal(d.at_ms, -5);
    assert_int_equal(d.kind, LDA_KIND_REFUSED);
    assert_int_equal(d.verdict, 9);
    assert_string_equal(d.type, "status_report");
    assert_string_equal(d.task, "ir-1");
    assert_string_equal(d.recipient, "");
    assert_int_equal(d.envelope_len, 3);
    assert_int_equal(lda_record_decode(b, len - 1, &d), LD_ERR_FORMAT);
    b[0] = 2;
    assert_int_equal(lda_record_decode(b, len, &d), LD_ERR_FORMAT);
    /* Chain: H(prev || bytes). */
    uint8_t prev[32] = {0}, h[32], w[32];
    lda_chain_hash(prev, b, len, h);
    crypto_generichash_state gs;
    crypto_generichash_init(&gs, NULL, 0, 32);
    crypto_generichash_update(&gs, prev, 32);
    crypto_generichash_update(&gs, b, len);
    crypto_generichash_final(&gs, w, 32);
    assert_memory_equal(h, w, 32);
    free(b);
}

static void test_flip_byte(void **st)
{
    (void)st;
    char dir[64];
    copy_env(dir);
    raw r;
    raw_open(&r, dir);
    uint8_t kb[8];
    MDB_val k = key_of(17, kb), v;
    assert_int_equal(mdb_get(r.txn, r.log, &k, &v), 0);
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size - 70] ^= 0x01; /* inside the envelope */
    MDB_val nv = {v.mv_size, copy};
    assert_int_equal(mdb_put(r.txn, r.log, &k, &nv, 0), 0);
    free(copy);
    raw_close(&r);
    lda_verify_result res = verify_dir(dir, NULL, 0);
    assert_false(res.ok);
    assert_int_equal(res.bad_index, 17);
    assert_non_null(strstr(res.what, "record 17: modified"));
    rm_dir(dir);
}

static void test_delete(void **st)
{
    (void)st;
    char dir[64];
    copy_env(dir);
    raw r;
    raw_open(&r, dir);
    uint8_t kb[8];
    MDB_val k = key_of(23, kb);
    assert_int_equal(mdb_del(r.txn, r.log, &k, NULL), 0);
    raw_close(&r);
    lda_verify_result res = verify_dir(dir, NULL, 0);
    assert_false(res.ok);
    assert_int_equal(res.bad_index, 23);
    assert_non_null(strstr(res.what, "record 23: missing"));
    rm_dir(dir);
}

static void test_swap(void **st)
{
    (void)st;
    char dir[64];
    copy_env(dir);
    raw r;
    raw_open(&r, dir);
    uint8_t ka[8], kb[8];
    MDB_val a = key_of(30, ka), b = key_of(31, kb), va, vb;
    assert_int_equal(mdb_get(r.txn, r.log, &a, &va), 0);
    assert_int_equal(mdb_get(r.txn, r.log, &b, &vb), 0);
    void *ca = malloc(va.mv_size), *cb = malloc(vb.mv_size);
    memcpy(ca, va.mv_data, va.mv_size);
    memcpy(cb, vb.mv_data, vb.mv_size);
    MDB_val na = {vb.mv_size, cb}, nb = {va.mv_size, ca};
    assert_int_equal(mdb_put(r.txn, r.log, &a, &na, 0), 0);
    assert_int_equal(mdb_put(r.txn, r.log, &b, &nb, 0), 0);
    free(ca);
    free(cb);
    raw_close(&r);
    lda_verify_result res = verify_dir(dir, NULL, 0);
    assert_false(res.ok);
    assert_int_equal(res.bad_index, 30);
    assert_non_null(strstr(res.what, "record 30: reordered"));
    rm_dir(dir);
}

static void test_truncate(void **st)
{
    (void)st;
    char dir[64];
    copy_env(dir);
    raw r;
    raw_open(&r, dir);
    for (uint64_t i = 45; i < N_RECORDS; i++) {
        uint8_t kb[8];
        MDB_val k = key_of(i, kb);
        assert_int_equal(mdb_del(r.txn, r.log, &k, NULL), 0);
    }
    raw_close(&r);
    lda_verify_result res = verify_dir(dir, NULL, 0);
    assert_false(res.ok);
    assert_int_equal(res.bad_index, 45);
    assert_non_null(strstr(res.what, "record 45: missing"));
    rm_dir(dir);
}

/* The operator rewrites records 35.. consistently (new chain, head and
 * tree; the stored checkpoints past 35 deleted). The log alone then
 * verifies; the checkpoint of size 40 an auditor holds does not. */
static void test_forgery(void **st)
{
    (void)st;
    char dir[64];
    copy_env(dir);
    lda_store *s;
    assert_int_equal(open_w(dir, &s), LD_OK);
    lda_kv *kv = lda_store_kv(s);
    /* Rebuild the head from records 0..34. */
    lda_head h;
    memset(&h, 0, sizeof h);
    lda_frontier_init(&h.tree);
    for (uint64_t i = 0; i < 35; i++) {
        const uint8_t *v;
        size_t vl;
        assert_int_equal(lda_record_get(kv, i, &v, &vl), LD_OK);
        uint8_t leaf[32];
        lda_hash_leaf(v + 32, vl - 32, leaf);
        lda_frontier_append(&h.tree, leaf);
        memcpy(h.chain, v, 32);
    }
    h.cp_size = 30;
    assert_int_equal(lda_head_put(kv, &h), LD_OK);
    for (uint64_t i = 35; i < N_RECORDS; i++) {
        lda_record f = {0};
        f.at_ms = 1700000000000 + (int64_t)i;
        f.kind = LDA_KIND_REFUSED;
        f.verdict = 3;
        f.sender = "dept-a";
        f.key_id = "k1";
        f.type = "direct";
        f.text = "never happened like this";
        f.envelope = (const uint8_t *)"forged";
        f.envelope_len = 6;
        uint64_t idx;
        assert_int_equal(lda_append(kv, &f, NULL, NULL, 0, &idx), LD_OK);
        assert_int_equal(idx, i);
    }
    assert_int_equal(lda_store_close(&s), LD_OK);
    raw rw;
    raw_open(&rw, dir);
    for (uint64_t sz = 40; sz <= N_RECORDS; sz += CP_EVERY) {
        uint8_t kb[8];
        MDB_val k = key_of(sz, kb);
        assert_int_equal(mdb_del(rw.txn, rw.cps, &k, NULL), 0);
    }
    raw_close(&rw);

    lda_verify_result res = verify_dir(dir, NULL, 0);
    assert_true(res.ok); /* the chain alone cannot tell */
    lda_checkpoint ext;
    assert_int_equal(lda_checkpoint_unpack(held[4], held_len[4], &ext), LD_OK);
    assert_int_equal(ext.size, 40);
    res = verify_dir(dir, &ext, 1);
    assert_false(res.ok);
    assert_int_equal(res.bad_index, 30); /* the last checkpoint that still holds */
    assert_non_null(strstr(res.what, "record 30: checkpoint mismatch (records 30..39"));
    assert_non_null(strstr(res.what, "held outside the log"));
    /* A held checkpoint past the end catches a plain truncation too. */
    rm_dir(dir);
}

static void test_external_ok_and_bad_signature(void **st)
{
    (void)st;
    lda_checkpoint ext[2];
    assert_int_equal(lda_checkpoint_unpack(held[2], held_len[2], &ext[0]), LD_OK);
    assert_int_equal(lda_checkpoint_unpack(held[5], held_len[5], &ext[1]), LD_OK);
    lda_verify_result res = verify_dir(base_dir, ext, 2);
    assert_true(res.ok);
    assert_int_equal(res.checkpoints, N_RECORDS / CP_EVERY + 2);
    ext[0].signature[3] ^= 1;
    res = verify_dir(base_dir, ext, 1);
    assert_false(res.ok);
    assert_non_null(strstr(res.what, "bad signature"));
}

/* 100,000 records; one task's 100 records come from the index. */
static void test_indexed_query(void **st)
{
    (void)st;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/ld-audit-q-XXXXXX");
    assert_non_null(mkdtemp(dir));
    lda_store *s;
    assert_int_equal(open_w(dir, &s), LD_OK);
    lda_kv *kv = lda_store_kv(s);
    for (int i = 0; i < 100000; i++) {
        char task[32], sender[32];
        snprintf(task, sizeof task, "t-%d", i % 1000);
        snprintf(sender, sizeof sender, "dept-%d", i % 37);
        lda_record r = {0};
        r.at_ms = i;
        r.kind = i % 10 ? LDA_KIND_ACCEPTED : LDA_KIND_REFUSED;
        r.sender = sender;
        r.key_id = "k";
        r.type = "status_report";
        r.task = task;
        r.envelope = (const uint8_t *)"e";
        r.envelope_len = 1;
        const char *depts[] = {sender};
        assert_int_equal(lda_append(kv, &r, NULL, depts, 1, NULL), LD_OK);
    }
    kv->reads = 0;
    lda_query q = {0};
    q.task = "t-7";
    uint64_t next, count = 0;
    int cb(void *arg, const lda_record *r, const uint8_t *h);
    assert_int_equal(lda_query_run(kv, &q, cb, &count, &next), LD_OK);
    assert_int_equal(count, 100);
    assert_true(kv->reads <= 100);
    assert_int_equal(next, 0);
    /* With a limit: paging. */
    q.limit = 30;
    count = 0;
    assert_int_equal(lda_query_run(kv, &q, cb, &count, &next), LD_OK);
    assert_int_equal(count, 30);
    assert_int_equal(next, 30007);
    q.has_after = 1;
    q.after_index = next;
    count = 0;
    assert_int_equal(lda_query_run(kv, &q, cb, &count, &next), LD_OK);
    assert_int_equal(count, 30);
    /* Department and verdict. */
    memset(&q, 0, sizeof q);
    q.dept = "dept-3";
    q.verdict = 2;
    kv->reads = 0;
    count = 0;
    assert_int_equal(lda_query_run(kv, &q, cb, &count, &next), LD_OK);
    assert_true(kv->reads < 3000);
    assert_true(count > 200 && count < 300);
    lda_store_close(&s);
    rm_dir(dir);
}

int cb(void *arg, const lda_record *r, const uint8_t *h)
{
    (void)r;
    (void)h;
    (*(uint64_t *)arg)++;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_encoding),
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_flip_byte),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_forgery),
        cmocka_unit_test(test_external_ok_and_bad_signature),
        cmocka_unit_test(test_indexed_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
