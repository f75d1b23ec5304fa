/* Unit tests of the broker's thread pool (broker/pool.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "liandong/error.h"
#include "pool.h"

struct job {
    unsigned *hits; /* one slot per index: each must be run exactly once */
    uint64_t *out;
};

static void square(void *ctx, size_t i)
{
    struct job *j = ctx;
    j->hits[i]++;
    j->out[i] = (uint64_t)i * i;
}

static void run_and_check(ldb_pool *p, size_t n)
{
    struct job j = {calloc(n ? n : 1, sizeof *j.hits), calloc(n ? n : 1, sizeof *j.out)};
    ldb_pool_run(p, n, square, &j);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(j.hits[i], 1);
        assert_int_equal(j.out[i], (uint64_t)i * i);
    }
    free(j.hits);
    free(j.out);
}

/* Every index runs once, for any size, many jobs in a row, any thread count. */
static void test_every_index_once(void **state)
{
    (void)state;
    unsigned threads[] = {0, 1, 2, 4, 8};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        ldb_pool *p;
        assert_int_equal(ldb_pool_new(threads[t], &p), LD_OK);
        assert_int_equal(ldb_pool_threads(p), threads[t] > 1 ? threads[t] : 1);
        for (int round = 0; round < 200; round++)
            run_and_check(p, (size_t)(round % 37));
        run_and_check(p, 10000);
        ldb_pool_destroy(&p);
        assert_null(p);
    }
    ldb_pool_destroy(NULL);
    run_and_check(NULL, 5); /* no pool: runs on the caller */
}

/* start + wait: the workers run the job while the caller does something
 * else; wait returns with every index done once. Without workers nothing
 * runs before wait. Runs alternate with started jobs. */
static void test_start_then_wait(void **state)
{
    (void)state;
    unsigned threads[] = {1, 2, 4};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        ldb_pool *p;
        assert_int_equal(ldb_pool_new(threads[t], &p), LD_OK);
        for (int round = 0; round < 300; round++) {
            size_t n = (size_t)(round % 41);
            struct job j = {calloc(n + 1, sizeof *j.hits), calloc(n + 1, sizeof *j.out)};
            ldb_pool_start(p, n, square, &j);
            if (threads[t] == 1)
                for (size_t i = 0; i < n; i++)
                    assert_int_equal(j.hits[i], 0);
            run_and_check(NULL, 3); /* the caller's own work meanwhile */
            ldb_pool_wait(p);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(j.hits[i], 1);
                assert_int_equal(j.out[i], (uint64_t)i * i);
            }
            free(j.hits);
            free(j.out);
            run_and_check(p, n);
        }
        ldb_pool_destroy(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_once),
        cmocka_unit_test(test_start_then_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
