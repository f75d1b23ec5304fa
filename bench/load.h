/* load.h - closed-loop and fixed-rate load from N sender threads, shared by
 * the relay and end-to-end parts. Every payload starts with a stamp (the
 * scheduled send time and the phase) so the recipient can measure send ->
 * delivery. */
#ifndef LD_BENCH_LOAD_H
#define LD_BENCH_LOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define LOAD_MAX_PHASES 8

typedef struct load_stamp {
    uint64_t sched_ns;
    uint32_t phase;
    uint32_t sender;
} load_stamp;

typedef struct load_ops {
    /* Open sender i (a socket or SDK client, connected). NULL: die. */
    void *(*open)(void *ctx, int i);
    /* Send one payload and return once it is acknowledged: 0, or -1. */
    int (*send)(void *h, const uint8_t *payload, size_t len);
    void (*close)(void *h);
    void *ctx;
} load_ops;

/* Optional pipelined sending (load_set_window): submit one payload without
 * waiting (0, or -1: not sent); collect the oldest submission's answer,
 * waiting at most timeout_ms (1 acknowledged, 0 nothing yet, -1 refused or
 * lost). */
typedef struct load_pipe_ops {
    int (*submit)(void *h, const uint8_t *payload, size_t len);
    int (*collect)(void *h, int timeout_ms);
} load_pipe_ops;

/* What the recipient records, per phase. */
typedef struct load_sink {
    bench_lat deliv[LOAD_MAX_PHASES];
    atomic_ulong delivered[LOAD_MAX_PHASES];
    atomic_int stop;
} load_sink;
/* The recipient calls this for each payload it receives. */
void load_sink_record(load_sink *s, const uint8_t *payload, size_t len);
/* Wait (at most timeout_ms) until phase has n deliveries. 1 if it has. */
int load_sink_wait(load_sink *s, int phase, unsigned long n, int timeout_ms);

typedef struct load_phase {
    int phase;         /* < LOAD_MAX_PHASES, stamped in each payload */
    double rate;       /* msg/s in all; 0: closed loop (as fast as acks come) */
    double seconds;    /* stop after this long ... */
    unsigned long max; /* ... or after this many messages in all (0: no limit) */
    /* Results: */
    unsigned long sent; /* acknowledged */
    unsigned long failed;
    double elapsed_s;
    bench_lat ack; /* send (scheduled) -> ack, ns */
} load_phase;

/* A set of open senders. */
typedef struct load_senders load_senders;
load_senders *load_open(const load_ops *ops, int n, size_t payload);
/* From now on send with up to window submissions in flight per sender
 * (window > 1; 1: one send at a time through ops->send, the default). */
void load_set_window(load_senders *s, const load_pipe_ops *pipe, int window);
void load_run(load_senders *s, load_phase *p);
void load_close(load_senders **s);

#endif
