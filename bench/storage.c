/* storage.c - part 2b, the storage floor: LMDB write transactions of one
 * message-sized put each, committed with the broker's default sync, one
 * after the other on the disk that holds the broker's data (TMPDIR). No
 * durable Ack can come sooner than one such commit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "bench.h"

static void check(int rc, const char *what)
{
    if (rc != MDB_SUCCESS)
        bench_die("storage floor: %s: %s", what, mdb_strerror(rc));
}

void bench_storage(const bench_opts *o, storage_result *r)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/liandong-bench-lmdb-XXXXXX", tmp);
    if (!mkdtemp(dir))
        bench_die("mkdtemp %s: %s", dir, strerror(errno));
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    check(mdb_env_create(&env), "mdb_env_create");
    check(mdb_env_set_mapsize(env, (size_t)256 << 20), "mdb_env_set_mapsize");
    check(mdb_env_open(env, dir, 0, 0600), "mdb_env_open");
    check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, NULL, 0, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");

    /* An envelope's size: the payload and ~170 bytes of header, signature
     * and framing. */
    size_t len = o->payload + 170;
    uint8_t *val = calloc(1, len);
    if (!val)
        bench_die("out of memory");
    bench_lat lat = {0};
    double run_s = o->seconds < 3 ? o->seconds : 3; /* enough for a p99.9 */
    uint64_t t0 = bench_now_ns(), until = t0 + (uint64_t)(run_s * 1e9);
    uint64_t n = 0;
    while (bench_now_ns() < until || n < 10) {
        uint8_t key[8];
        for (int i = 0; i < 8; i++)
            key[i] = (uint8_t)(n >> (56 - 8 * i)); /* keys that grow, as the broker's */
        memcpy(val, &n, sizeof n);
        MDB_val k = {sizeof key, key}, v = {len, val};
        uint64_t a = bench_now_ns();
        check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
        check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
        check(mdb_txn_commit(txn), "mdb_txn_commit");
        bench_lat_add(&lat, bench_now_ns() - a);
        n++;
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    r->commits_per_s = (double)n / secs;
    r->commit_us[0] = bench_lat_pct_us(&lat, 50);
    r->commit_us[1] = bench_lat_pct_us(&lat, 99);
    r->commit_us[2] = bench_lat_pct_us(&lat, 99.9);
    bench_lat_free(&lat);
    free(val);
    mdb_env_close(env);
    const char *files[] = {"data.mdb", "lock.mdb"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}
