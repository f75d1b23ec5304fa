/* Unit tests: the broker's LMDB store (a real environment in a temporary
 * directory): accepted envelopes and their pruning, messages and
 * mailboxes, the upgrade from schema 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liandong/error.h"
#include "store.h"

typedef struct fixture {
    char dir[64];
    ldb_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ld-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    assert_int_equal(ldb_store_open(f->dir, 64u << 20, &f->s, err, sizeof err), LD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ldb_store_close(&f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static ldw_envelope_id id_of(unsigned i)
{
    ldw_envelope_id id;
    memset(&id, 0, sizeof id);
    uint32_t h = i * 2654435761u;
    memcpy(id.bytes, &h, 4);
    memcpy(id.bytes + 4, &i, 4);
    return id;
}

/* Five senders take turns, so old and new entries interleave in key order. */
static const char *sender_of(unsigned i)
{
    static const char *const s[] = {"mdj.fgw", "mdj.gxj", "mdj.swj", "mdj.zjj", "县政府"};
    return s[i % 5];
}

/* 1,000 accepted envelopes stored at t = i; prune those before 600, 64
 * entries a call: exactly 600 go, the other 400 stay, and the cursor goes
 * round once. */
static void test_dedup_prune(void **state)
{
    fixture *f = *state;
    MDB_txn *txn;
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    for (unsigned i = 0; i < 1000; i++) {
        ldw_envelope_id id = id_of(i);
        assert_int_equal(ldb_store_dedup_put(f->s, txn, sender_of(i), i + 1, &id, (int64_t)i),
                         LD_OK);
    }
    assert_int_equal(ldb_store_commit(txn), LD_OK);

    ldb_dedup_cursor cursor = {.len = 0};
    size_t total = 0, calls = 0;
    do {
        size_t removed = 0;
        assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
        assert_int_equal(ldb_store_dedup_prune(f->s, txn, 600, 64, &cursor, &removed), LD_OK);
        assert_int_equal(ldb_store_commit(txn), LD_OK);
        assert_true(removed <= 64);
        total += removed;
        calls++;
        assert_true(calls < 100);
    } while (cursor.len != 0);
    assert_int_equal(total, 600);
    /* 1,000 entries looked at, 64 a call. */
    assert_int_equal(calls, (1000 + 63) / 64);

    assert_int_equal(ldb_store_begin(f->s, NULL, 1, &txn), LD_OK);
    for (unsigned i = 0; i < 1000; i++) {
        ldw_envelope_id id = id_of(i), other = id_of(i + 5000);
        int rc = ldb_store_dedup_get(f->s, txn, sender_of(i), i + 1, &id);
        assert_int_equal(rc, i < 600 ? LD_ERR_NOT_FOUND : LD_OK);
        /* Another envelope with the same sender and seq is not a duplicate. */
        assert_int_equal(ldb_store_dedup_get(f->s, txn, sender_of(i), i + 1, &other),
                         LD_ERR_NOT_FOUND);
        /* Nor the same envelope id under another sender or seq. */
        assert_int_equal(ldb_store_dedup_get(f->s, txn, sender_of(i + 1), i + 1, &id),
                         LD_ERR_NOT_FOUND);
    }
    mdb_txn_abort(txn);

    /* Nothing older left: a second round removes nothing. */
    size_t removed = 99;
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    assert_int_equal(ldb_store_dedup_prune(f->s, txn, 600, 10000, &cursor, &removed), LD_OK);
    assert_int_equal(ldb_store_commit(txn), LD_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(cursor.len, 0);
}

/* Messages by number, mailboxes pointing at them, one message for two
 * recipients deleted with the second acknowledgement. */
static int collect(void *ctx, uint64_t delivery_id, uint64_t no, const ldw_envelope_id *id)
{
    uint64_t *v = ctx;
    (void)id;
    v[v[0] * 2 + 1] = delivery_id;
    v[v[0] * 2 + 2] = no;
    v[0]++;
    return 0;
}

static void test_messages_and_mailboxes(void **state)
{
    fixture *f = *state;
    MDB_txn *txn;
    uint64_t no1, no2, d1, d2, d3;
    ldw_envelope_id id1 = id_of(1), id2 = id_of(2);
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    assert_int_equal(ldb_store_message_put(f->s, txn, (const uint8_t *)"第一条", 9, 2, 100, &no1),
                     LD_OK);
    assert_int_equal(ldb_store_message_put(f->s, txn, (const uint8_t *)"two", 3, 1, 200, &no2),
                     LD_OK);
    assert_true(no2 > no1);
    assert_int_equal(ldb_store_mailbox_put(f->s, txn, "a", no1, &id1, &d1), LD_OK);
    assert_int_equal(ldb_store_mailbox_put(f->s, txn, "b", no1, &id1, &d2), LD_OK);
    assert_int_equal(ldb_store_mailbox_put(f->s, txn, "a", no2, &id2, &d3), LD_OK);
    assert_int_equal(ldb_store_commit(txn), LD_OK);

    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    uint64_t v[1 + 2 * 4] = {0};
    assert_int_equal(ldb_store_mailbox_scan(f->s, txn, "a", 0, 10, collect, v), LD_OK);
    assert_int_equal(v[0], 2);
    assert_int_equal(v[1], d1);
    assert_int_equal(v[2], no1);
    assert_int_equal(v[3], d3);
    assert_int_equal(v[4], no2);
    const uint8_t *env;
    size_t len;
    int64_t at;
    assert_int_equal(ldb_store_message_get(f->s, txn, no1, &env, &len, &at), LD_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(env, "第一条", 9);
    assert_int_equal(at, 100);
    size_t acked;
    assert_int_equal(ldb_store_mailbox_ack(f->s, txn, "a", d1, &acked), LD_OK);
    assert_int_equal(acked, 9);
    assert_int_equal(ldb_store_message_get(f->s, txn, no1, &env, &len, &at), LD_OK); /* b's */
    assert_int_equal(ldb_store_mailbox_ack(f->s, txn, "b", d2, NULL), LD_OK);
    assert_int_equal(ldb_store_message_get(f->s, txn, no1, &env, &len, &at), LD_ERR_NOT_FOUND);
    assert_int_equal(ldb_store_mailbox_ack(f->s, txn, "b", d2, NULL), LD_ERR_NOT_FOUND);
    assert_int_equal(ldb_store_commit(txn), LD_OK);
}

/* A schema 1 environment, written here as the broker of that schema wrote
 * it, opens upgraded: its messages reach their mailboxes in order, its
 * accepted ids are still duplicates, new ones are kept, counters go on. */
static void put_raw(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl, const void *v, size_t vl)
{
    MDB_val kv = {kl, (void *)k}, vv = {vl, (void *)v};
    assert_int_equal(mdb_put(txn, dbi, &kv, &vv, 0), 0);
}

static void test_upgrade_from_schema_1(void **state)
{
    fixture *f = *state;
    ldb_store_close(&f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", f->dir);
    assert_int_equal(system(cmd), 0);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, msgs, mbox, dedup;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    assert_int_equal(mdb_dbi_open(txn, "messages", MDB_CREATE, &msgs), 0);
    assert_int_equal(mdb_dbi_open(txn, "mailbox", MDB_CREATE, &mbox), 0);
    assert_int_equal(mdb_dbi_open(txn, "dedup", MDB_CREATE, &dedup), 0);
    const uint8_t schema1[4] = {1, 0, 0, 0}, next_delivery[8] = {4};
    put_raw(txn, meta, "schema", 6, schema1, 4);
    put_raw(txn, meta, "next_delivery", 13, next_delivery, 8);
    /* Three messages (ids sort 3 < 1 < 2 by their first byte), waiting
     * for "mdj.fgw" as deliveries 1, 2, 3 in the order 1, 2, 3. */
    const char *texts[] = {"", "公文一", "公文二", "公文三"};
    for (unsigned i = 1; i <= 3; i++) {
        ldw_envelope_id id;
        memset(&id, 0, sizeof id);
        id.bytes[0] = (uint8_t)(i == 3 ? 1 : 1 + i);
        uint8_t val[12 + 16] = {1, 0, 0, 0, (uint8_t)(10 * i)};
        memcpy(val + 12, texts[i], strlen(texts[i]));
        put_raw(txn, msgs, id.bytes, 16, val, 12 + strlen(texts[i]));
        uint8_t key[8 + 8] = "mdj.fgw";
        key[15] = (uint8_t)i; /* "mdj.fgw", NUL, be64 delivery id */
        put_raw(txn, mbox, key, 16, id.bytes, 16);
        uint8_t dv[16] = {(uint8_t)i, 0, 0, 0, 0, 0, 0, 0, 50};
        put_raw(txn, dedup, id.bytes, 16, dv, 16);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    char err[256];
    assert_int_equal(ldb_store_open(f->dir, 64u << 20, &f->s, err, sizeof err), LD_OK);
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    uint64_t v[1 + 2 * 4] = {0};
    assert_int_equal(ldb_store_mailbox_scan(f->s, txn, "mdj.fgw", 0, 10, collect, v), LD_OK);
    assert_int_equal(v[0], 3);
    for (unsigned i = 1; i <= 3; i++) {
        assert_int_equal(v[2 * i - 1], i);
        const uint8_t *env_b;
        size_t len;
        int64_t at;
        assert_int_equal(ldb_store_message_get(f->s, txn, v[2 * i], &env_b, &len, &at), LD_OK);
        assert_int_equal(len, strlen(texts[i]));
        assert_memory_equal(env_b, texts[i], len);
        assert_int_equal(at, 10 * i);
        ldw_envelope_id id;
        memset(&id, 0, sizeof id);
        id.bytes[0] = (uint8_t)(i == 3 ? 1 : 1 + i);
        /* Upgraded ids are found whoever asks. */
        assert_int_equal(ldb_store_dedup_get(f->s, txn, "mdj.gxj", i, &id), LD_OK);
    }
    /* New entries go on from the old counters and next to the old ones. */
    uint64_t no, did;
    ldw_envelope_id id = id_of(7);
    assert_int_equal(ldb_store_message_put(f->s, txn, (const uint8_t *)"new", 3, 1, 60, &no),
                     LD_OK);
    assert_true(no > v[6]);
    assert_int_equal(ldb_store_mailbox_put(f->s, txn, "mdj.fgw", no, &id, &did), LD_OK);
    assert_int_equal(did, 4);
    assert_int_equal(ldb_store_dedup_put(f->s, txn, "mdj.gxj", 4, &id, 60), LD_OK);
    assert_int_equal(ldb_store_dedup_get(f->s, txn, "mdj.gxj", 4, &id), LD_OK);
    assert_int_equal(ldb_store_commit(txn), LD_OK);
    /* Pruning reaches the upgraded entries (stored at 50) and not the new. */
    ldb_dedup_cursor cursor = {.len = 0};
    size_t removed = 0;
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    assert_int_equal(ldb_store_dedup_prune(f->s, txn, 55, 100, &cursor, &removed), LD_OK);
    assert_int_equal(removed, 3);
    assert_int_equal(ldb_store_dedup_get(f->s, txn, "mdj.gxj", 4, &id), LD_OK);
    assert_int_equal(ldb_store_commit(txn), LD_OK);
    /* Opened again: schema 2 now, nothing to upgrade, nothing lost. */
    ldb_store_close(&f->s);
    assert_int_equal(ldb_store_open(f->dir, 64u << 20, &f->s, err, sizeof err), LD_OK);
    assert_int_equal(ldb_store_begin(f->s, NULL, 1, &txn), LD_OK);
    uint64_t n = 0;
    assert_int_equal(ldb_store_mailbox_count(f->s, txn, "mdj.fgw", &n), LD_OK);
    assert_int_equal(n, 4);
    mdb_txn_abort(txn);
}

/* An unknown schema version is refused with a sentence. */
static void test_unknown_schema(void **state)
{
    fixture *f = *state;
    ldb_store_close(&f->s);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    const uint8_t schema9[4] = {9, 0, 0, 0};
    put_raw(txn, meta, "schema", 6, schema9, 4);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    char err[256];
    assert_int_equal(ldb_store_open(f->dir, 64u << 20, &f->s, err, sizeof err), LD_ERR_FORMAT);
    assert_non_null(strstr(err, "schema version 9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_and_mailboxes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_schema_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_schema, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
