/* common.c - see bench.h: timing, statistics and the broker environment. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"

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
    if (mkdir(e->keys, 0700) != 0)
        bench_die("mkdir %s: %s", e->keys, strerror(errno));
    char err[LDK_ERR_MAX];
    ldk_roster *r;
    if (ldk_identity_generate("broker", "Liandong broker", 0, &e->broker, err, sizeof err) ||
        ldk_identity_save_secret(e->broker, e->broker_secret, err, sizeof err) ||
        ldk_identity_save_public(e->broker, e->broker_pub, err, sizeof err) || ldk_roster_new(&r) ||
        ldk_roster_save(r, e->roster, err, sizeof err))
        bench_die("broker keys: %s", err);
    ldk_roster_destroy(&r);
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
    const char *argv[24];
    int n = 0;
    argv[n++] = o->broker;
    argv[n++] = "--listen";
    argv[n++] = e->endpoint[0] ? e->endpoint : "tcp://127.0.0.1:*";
    argv[n++] = "--data-dir";
    argv[n++] = e->data;
    argv[n++] = "--roster";
    argv[n++] = e->roster;
    argv[n++] = "--key";
    argv[n++] = e->broker_secret;
    argv[n++] = "--ready-file";
    argv[n++] = e->ready;
    argv[n++] = "--log-level";
    argv[n++] = "error";
    argv[n++] = "--map-size-mb";
    argv[n++] = o->longmode ? "8192" : "2048";
    if (o->n_plugins) {
        FILE *f = fopen(e->config, "w");
        if (!f)
            bench_die("%s: %s", e->config, strerror(errno));
        fprintf(f, "plugins:\n");
        for (int i = 0; i < o->n_plugins; i++)
            fprintf(f, "  - name: %s\n    path: \"%s\"\n", o->plugin_name[i], o->plugin_path[i]);
        if (fclose(f) != 0)
            bench_die("%s: %s", e->config, strerror(errno));
        argv[n++] = "--config";
        argv[n++] = e->config;
    }
    argv[n] = NULL;
    unlink(e->ready);
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        execv(o->broker, (char *const *)argv);
        fprintf(stderr, "liandong-bench: cannot run %s: %s\n", o->broker, strerror(errno));
        _exit(127);
    }
    e->pid = pid;
    for (int i = 0; i < 2000; i++) {
        FILE *f = fopen(e->ready, "r");
        if (f) {
            char buf[256] = "";
            if (fgets(buf, sizeof buf, f)) {
                buf[strcspn(buf, "\n")] = 0;
                snprintf(e->endpoint, sizeof e->endpoint, "%s", buf);
            }
            fclose(f);
            if (e->endpoint[0])
                return;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            e->pid = 0;
            bench_die("the broker %s exited at start (status %d)", o->broker, st);
        }
        usleep(10000);
    }
    bench_die("the broker did not become ready within 20 s");
}

void bench_env_stop(bench_env *e)
{
    if (e->pid <= 0)
        return;
    kill(e->pid, SIGTERM);
    int st;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
            e->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(e->pid, SIGKILL);
    waitpid(e->pid, &st, 0);
    e->pid = 0;
}

void bench_env_fini(bench_env *e)
{
    bench_env_stop(e);
    ldk_identity_destroy(&e->broker);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (e->dir[0] && system(cmd) != 0)
        fprintf(stderr, "liandong-bench: could not remove %s\n", e->dir);
}
