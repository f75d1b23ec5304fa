/* bench.h - liandong-bench: shared pieces (timing, statistics, a broker in a
 * temporary directory) of the measurement parts. */
#ifndef LD_BENCH_H
#define LD_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ldk/keys.h"

#define BENCH_PLUGINS_MAX 8

/* Options of one run (main.c fills them). */
typedef struct bench_opts {
    int smoke;           /* tiny figures, a few seconds in all */
    int longmode;        /* RSS after 1M messages as well */
    size_t payload;      /* bytes per message (default 512) */
    int clients;         /* sending clients (default 8) */
    int window;          /* Liandong: submissions in flight per client (default 32) */
    double seconds;      /* length of each saturation phase */
    double rate_seconds; /* length of each fixed-rate phase */
    int threads;         /* crypto threads (default nproc) */
    const char *broker;  /* broker binary */
    /* Plugins the broker loads, in order (--plugins). */
    int n_plugins;
    char plugin_name[BENCH_PLUGINS_MAX][32];
    char plugin_path[BENCH_PLUGINS_MAX][1024];
    int verbose;
} bench_opts;

/* Latency samples in nanoseconds. */
typedef struct bench_lat {
    uint64_t *v;
    size_t n, cap;
} bench_lat;
void bench_lat_add(bench_lat *l, uint64_t ns);
/* Percentile p (0..100) in microseconds; 0 when empty. Sorts in place. */
double bench_lat_pct_us(bench_lat *l, double p);
void bench_lat_merge(bench_lat *into, const bench_lat *from);
void bench_lat_free(bench_lat *l);

uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
void bench_sleep_until_ns(uint64_t t);
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void bench_note(const bench_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A broker with its keys, roster and data in a temporary directory. */
typedef struct bench_env {
    char dir[256];
    char keys[300];
    char data[300];
    char roster[300];
    char broker_secret[400];
    char broker_pub[400];
    char ready[400];
    char config[400];
    char endpoint[256];
    pid_t pid;
    ldk_identity *broker;
} bench_env;

/* Directory, broker keys, empty roster. Dies on failure. */
void bench_env_init(bench_env *e);
/* Generate n identities "<prefix>NN", save their .secret files, add them to
 * the roster (saved once). out (may be NULL) receives them (caller destroys). */
void bench_env_add(bench_env *e, const char *prefix, int n, ldk_identity **out);
/* Path of an identity's .secret file. */
void bench_env_secret(const bench_env *e, const char *id, char *buf, size_t len);
/* Start the broker (plugin loaded if o->plugin); waits for its ready file. */
void bench_env_start(bench_env *e, const bench_opts *o);
/* SIGTERM the broker and reap it. */
void bench_env_stop(bench_env *e);
/* Stop the broker if running, remove the directory, free the keys. */
void bench_env_fini(bench_env *e);
/* VmRSS of pid in KiB, or -1. */
long bench_rss_kib(pid_t pid);
/* RssAnon (heap, stacks: the process's own memory, without mapped files
 * such as LMDB's data file) of pid in KiB, or -1. */
long bench_rss_anon_kib(pid_t pid);

/* The parts. Each fills its result struct. */
typedef struct crypto_result {
    int threads;
    double pairs_per_s;
} crypto_result;
void bench_crypto(const bench_opts *o, crypto_result *r);

/* Part 2b, the storage floor (bench/storage.c): one-put LMDB commits with
 * the default sync, back to back, in TMPDIR (where the broker's data goes). */
typedef struct storage_result {
    double commits_per_s;
    double commit_us[3]; /* p50, p99, p99.9 */
} storage_result;
void bench_storage(const bench_opts *o, storage_result *r);

typedef struct lat_result {
    double rate;        /* asked for, msg/s */
    double achieved;    /* msg/s */
    double ack_us[3];   /* p50, p99, p99.9 send -> ack */
    double deliv_us[3]; /* p50, p99, p99.9 send -> delivery */
    int reached;        /* achieved >= 0.95 * rate */
} lat_result;

typedef struct relay_result {
    double msgs_per_s;
    lat_result lat[2];
} relay_result;
void bench_relay(const bench_opts *o, const double *rates, int n_rates, relay_result *r);

typedef struct e2e_result {
    double msgs_per_s;      /* with o->window in flight per client */
    double ack_us[3];       /* at saturation */
    double delivered_per_s; /* of those, delivered to the recipient during the phase */
    double w1_msgs_per_s;   /* each client waiting for its Ack (window 1), as the peers */
    double w1_ack_us[3];
    lat_result lat[2];
    long rss_start_kib, rss_100k_kib, rss_1m_kib, rss_idle100_kib;
    long n_100k, n_1m;               /* messages actually sent for those figures */
    long anon_100k_kib, anon_1m_kib; /* RssAnon at the same points */
} e2e_result;
void bench_e2e(const bench_opts *o, const double *rates, int n_rates, e2e_result *r);

/* Part 4, the peers (bench/peers.c, built with -DLD_BENCH_PEERS=ON, which
 * defines LD_BENCH_HAVE_PEERS): Mosquitto (QoS 1, persistence on) and NATS
 * JetStream (file-backed stream), each server started by the bench on a
 * loopback port with its store in a temporary directory, o->clients
 * publishers each waiting for its acknowledgement, one consumer. */
enum { PEER_NOT_RUN = 0, PEER_MEASURED, PEER_NOT_INSTALLED, PEER_FAILED };
typedef struct peer_result {
    int status;              /* PEER_* */
    char version[64];        /* of the server, e.g. "2.0.11" */
    char note[512];          /* why not installed / what failed */
    double msgs_per_s;       /* closed loop, each client waiting for its ack */
    double ack_us[3];        /* at saturation */
    lat_result lat[2];       /* at the fixed rates */
    double async_msgs_per_s; /* NATS: js_PublishAsync, all acks received */
    int async_window;        /* NATS: max pending acks per client */
    unsigned long published; /* acknowledged, all phases */
    unsigned long delivered; /* received (and acked) by the consumer */
} peer_result;
typedef struct peers_result {
    peer_result mosquitto, nats;
} peers_result;
void bench_peers(const bench_opts *o, const double *rates, int n_rates, peers_result *r);

/* Fixed-rate load shared by the relay and end-to-end parts: n senders, each
 * sending every n/rate seconds on its own schedule; latency counted from the
 * scheduled time (no coordinated omission). */

#endif
