/* fake_broker.h - a stand-in broker for the SDK's unit tests: a CURVE
 * ROUTER on 127.0.0.1 served by a thread that hands every message to the
 * test's callback, and seals what the test sends back. A test embeds
 * fake_broker as the first member of its own state. */
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

typedef struct fake_broker fake_broker;
/* A message from a client: its routing id and its one frame. */
typedef void (*fake_on_fn)(fake_broker *f, zmq_msg_t *rid, const uint8_t *data, size_t len);
/* Called before each wait (every 10 ms at least) with the routing id of the
 * last client heard from (empty before the first). May be NULL. */
typedef void (*fake_tick_fn)(fake_broker *f, zmq_msg_t *last_rid);

struct fake_broker {
    pthread_t thread;
    void *ctx, *router;
    char endpoint[64];
    pthread_mutex_t mu; /* guards the test's state and stop */
    int stop;
    const ldk_identity *key; /* the broker's keys */
    fake_on_fn on;
    fake_tick_fn tick;
};

/* Bind, start the thread. The test's own fields are set before. */
void fake_broker_start(fake_broker *f, const ldk_identity *key, fake_on_fn on, fake_tick_fn tick);
/* Stop the thread, close the socket. */
void fake_broker_stop(fake_broker *f);
/* Seal b as the broker, signed with sk (NULL: the broker's key), and send it
 * to rid. */
void fake_broker_send(fake_broker *f, zmq_msg_t *rid, const Liandong__V1__Body *b,
                      const uint8_t *sk);

#endif
