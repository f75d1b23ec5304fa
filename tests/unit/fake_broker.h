/* fake_broker.h - a stand-in broker for the SDK's unit tests: a CURVE
 * ROUTER on 127.0.0.1 served by a thread that opens every client message,
 * does what every test's fake does with it (checks the client's signature,
 * counts Hellos, notes DeliveryAck ids) and hands it to the test's callback;
 * it seals what the test sends back. A test embeds fake_broker as the first
 * member of its own state. */
#ifndef LD_TEST_FAKE_BROKER_H
#define LD_TEST_FAKE_BROKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <zmq.h>

#include "ldk/keys.h"
#include "ldw/envelope.h"

/* cmocka's asserts must not run off the main thread: the fake's abort. */
#define FAKE_CHECK(x)                                                                              \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fake broker: check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FAKE_MAX_ACKED 32

typedef struct fake_broker fake_broker;
/* A message from a client: its routing id, the opened envelope and its body,
 * with f->mu held. Returns 1 to keep b as f->last, 0 to have it freed. */
typedef int (*fake_on_fn)(fake_broker *f, zmq_msg_t *rid, ldw_opened *o, Liandong__V1__Body *b);
/* Called before each wait (every 10 ms at least) with the routing id of the
 * last client heard from (empty before the first). May be NULL. */
typedef void (*fake_tick_fn)(fake_broker *f, zmq_msg_t *last_rid);

struct fake_broker {
    pthread_t thread;
    void *ctx, *router;
    char endpoint[64];
    pthread_mutex_t mu; /* guards what follows and the test's state */
    int stop;
    const ldk_identity *key;  /* the broker's keys */
    const uint8_t *client_pk; /* checks what clients send */
    fake_on_fn on;
    fake_tick_fn tick;
    /* what it saw */
    int hellos;
    uint64_t acked[FAKE_MAX_ACKED]; /* DeliveryAck ids, in order */
    int n_acked;
    Liandong__V1__Body *last; /* the last body the callback kept */
};

/* Bind, start the thread. The test's own fields are set before. */
void fake_broker_start(fake_broker *f, const ldk_identity *key, const uint8_t *client_pk,
                       fake_on_fn on, fake_tick_fn tick);
/* Stop the thread, close the socket, free f->last. */
void fake_broker_stop(fake_broker *f);
/* Wait until the fake has seen n DeliveryAck ids (or 2 s); the number seen. */
int fake_broker_wait_acks(fake_broker *f, int n);

/* Seal b as the broker, signed with sk (NULL: the broker's key), and send it
 * to rid. */
void fake_broker_send(fake_broker *f, zmq_msg_t *rid, const Liandong__V1__Body *b,
                      const uint8_t *sk);
/* A HelloReply to o: a session for its sender, named name, protocol 1. */
void fake_broker_hello_reply(fake_broker *f, zmq_msg_t *rid, const ldw_opened *o, const char *name);
/* An Ack of o (duplicate if dup) at the broker clock 1656640000000, with
 * reply (may be NULL) as Ack.reply. */
void fake_broker_ack(fake_broker *f, zmq_msg_t *rid, const ldw_opened *o, int dup,
                     const uint8_t *reply, size_t reply_len);
/* A Nack of envelope id (NULL: none, an anonymous refusal) with seq. */
void fake_broker_nack(fake_broker *f, zmq_msg_t *rid, const ldw_envelope_id *id, uint64_t seq,
                      Liandong__V1__ReasonCode code, const char *text);
/* A Delivery from "Liandong broker" of env, signed by the holder of pk. */
void fake_broker_push(fake_broker *f, zmq_msg_t *rid, uint64_t delivery_id, const uint8_t *env,
                      size_t len, const uint8_t *pk);

#endif
