/* common.c - see bench.h: timing, statistics and the broker environment. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench.h"
#include "brokerkit.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_sleep_until_ns(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("liandong-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void bench_note(const bench_opts *o, const char *fmt, ...)
{
    if (!o->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void bench_lat_add(bench_lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4096;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            bench_die("out of memory for latency samples");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

double bench_lat_pct_us(bench_lat *l, double p)
{
    if (!l->n)
        return 0;
    qsort(l->v, l->n, sizeof *l->v, cmp_u64);
    size_t i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
    if (i >= l->n)
        i = l->n - 1;
    return (double)l->v[i] / 1000.0;
}

void bench_lat_merge(bench_lat *into, const bench_lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        bench_lat_add(into, from->v[i]);
}

void bench_lat_free(bench_lat *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static long status_kib(pid_t pid, const char *field)
{
    char path[64], line[256], fmt[48];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    snprintf(fmt, sizeof fmt, "%s: %%ld", field);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kib) == 1)
            break;
    fclose(f);
    return kib;
}

long bench_rss_kib(pid_t pid)
{
    return status_kib(pid, "VmRSS");
}

long bench_rss_anon_kib(pid_t pid)
{
    return status_kib(pid, "RssAnon");
}

void bench_env_init(bench_env *e)
{
    memset(e, 0, sizeof *e);
    if (sodium_init() < 0)
        bench_die("libsodium does not initialize");
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(e->dir, sizeof e->dir, "%s/liandong-bench-XXXXXX", tmp);
    if (!mkdtemp(e->dir))
        bench_die("mkdtemp %s: %s", e->dir, strerror(errno));
    snprintf(e->keys, sizeof e->keys, "%s/keys", e->dir);
    snprintf(e->data, sizeof e->data, "%s/data", e->dir);
    snprintf(e->roster, sizeof e->roster, "%s/roster", e->dir);
    snprintf(e->ready, sizeof e->ready, "%s/ready", e->dir);
    snprintf(e->config, sizeof e->config, "%s/broker.yaml", e->dir);
    snprintf(e->broker_secret, sizeof e->broker_secret, "%s/broker.secret", e->keys);
    snprintf(e->broker_pub, sizeof e->broker_pub, "%s/broker.pub", e->keys);
    char err[LDK_ERR_MAX];
    if (ldbk_broker_keys(e->keys, e->broker_secret, e->broker_pub, e->roster, &e->broker, err,
                         sizeof err) != 0)
        bench_die("broker keys: %s", err);
}

void bench_env_secret(const bench_env *e, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.secret", e->keys, id);
}

void bench_env_add(bench_env *e, const char *prefix, int n, ldk_identity **out)
{
    char err[LDK_ERR_MAX], id[LDK_ID_MAX + 1], path[512];
    ldk_roster *r;
    if (ldk_roster_load(e->roster, &r, err, sizeof err))
        bench_die("%s", err);
    for (int i = 0; i < n; i++) {
        ldk_identity *ident;
        snprintf(id, sizeof id, "%s%02d", prefix, i);
        bench_env_secret(e, id, path, sizeof path);
        if (ldk_identity_generate(id, id, LDK_ROLE_DEPARTMENT, &ident, err, sizeof err) ||
            ldk_identity_save_secret(ident, path, err, sizeof err) ||
            ldk_roster_add(r, ident, (int64_t)time(NULL), err, sizeof err))
            bench_die("identity %s: %s", id, err);
        if (out)
            out[i] = ident;
        else
            ldk_identity_destroy(&ident);
    }
    if (ldk_roster_save(r, e->roster, err, sizeof err))
        bench_die("%s", err);
    ldk_roster_destroy(&r);
}

void bench_env_start(bench_env *e, const bench_opts *o)
{
    const char *extra[5] = {"--map-size-mb", o->longmode ? "8192" : "2048"};
    if (o->n_plugins) {
        FILE *f = fopen(e->config, "w");
        if (!f)
            bench_die("%s: %s", e->config, strerror(errno));
        fprintf(f, "plugins:\n");
        for (int i = 0; i < o->n_plugins; i++)
            fprintf(f, "  - name: %s\n    path: \"%s\"\n", o->plugin_name[i], o->plugin_path[i]);
        if (fclose(f) != 0)
            bench_die("%s: %s", e->config, strerror(errno));
        extra[2] = "--config";
        extra[3] = e->config;
    }
    ldbk_start s = {.bin = o->broker,
                    .listen = e->endpoint,
                    .data = e->data,
                    .roster = e->roster,
                    .key = e->broker_secret,
                    .ready = e->ready,
                    .log_level = "error",
                    .extra = extra};
    char err[512];
    if (ldbk_start_broker(&s, &e->pid, e->endpoint, sizeof e->endpoint, 20000, err, sizeof err))
        bench_die("%s", err);
}

void bench_env_stop(bench_env *e)
{
    int st;
    if (e->pid > 0)
        ldbk_stop(&e->pid, SIGTERM, 10000, &st);
}

void bench_env_fini(bench_env *e)
{
    bench_env_stop(e);
    ldk_identity_destroy(&e->broker);
    if (e->dir[0] && ldbk_remove_dir(e->dir) != 0)
        fprintf(stderr, "liandong-bench: could not remove %s\n", e->dir);
}
