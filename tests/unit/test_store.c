/* Unit tests: the broker's LMDB store (a real environment in a temporary
 * directory): pruning the table of accepted envelope ids. */
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
    /* Spread over the key space, so old and new ones interleave. */
    uint32_t h = i * 2654435761u;
    memcpy(id.bytes, &h, 4);
    memcpy(id.bytes + 4, &i, 4);
    return id;
}

/* 1,000 ids stored at t = i; prune those before 600, 64 entries a call:
 * exactly 600 go, the other 400 stay, and the cursor goes round once. */
static void test_dedup_prune(void **state)
{
    fixture *f = *state;
    MDB_txn *txn;
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    for (unsigned i = 0; i < 1000; i++) {
        ldw_envelope_id id = id_of(i);
        assert_int_equal(ldb_store_dedup_put(f->s, txn, &id, i + 1, (int64_t)i), LD_OK);
    }
    assert_int_equal(ldb_store_commit(txn), LD_OK);

    uint8_t cursor[LDW_ENVELOPE_ID_BYTES] = {0};
    static const uint8_t zero[LDW_ENVELOPE_ID_BYTES];
    size_t total = 0, calls = 0;
    do {
        size_t removed = 0;
        assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
        assert_int_equal(ldb_store_dedup_prune(f->s, txn, 600, 64, cursor, &removed), LD_OK);
        assert_int_equal(ldb_store_commit(txn), LD_OK);
        assert_true(removed <= 64);
        total += removed;
        calls++;
        assert_true(calls < 100);
    } while (memcmp(cursor, zero, sizeof zero) != 0);
    assert_int_equal(total, 600);
    /* 1,000 entries looked at, 64 a call. */
    assert_int_equal(calls, (1000 + 63) / 64);

    assert_int_equal(ldb_store_begin(f->s, NULL, 1, &txn), LD_OK);
    for (unsigned i = 0; i < 1000; i++) {
        ldw_envelope_id id = id_of(i);
        uint64_t seq = 0;
        int rc = ldb_store_dedup_get(f->s, txn, &id, &seq);
        if (i < 600) {
            assert_int_equal(rc, LD_ERR_NOT_FOUND);
        } else {
            assert_int_equal(rc, LD_OK);
            assert_int_equal(seq, i + 1);
        }
    }
    mdb_txn_abort(txn);

    /* Nothing older left: a second round removes nothing. */
    size_t removed = 99;
    assert_int_equal(ldb_store_begin(f->s, NULL, 0, &txn), LD_OK);
    assert_int_equal(ldb_store_dedup_prune(f->s, txn, 600, 10000, cursor, &removed), LD_OK);
    assert_int_equal(ldb_store_commit(txn), LD_OK);
    assert_int_equal(removed, 0);
    assert_memory_equal(cursor, zero, sizeof zero);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
