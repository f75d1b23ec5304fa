/* fake_broker.c - see fake_broker.h. */
#include "fake_broker.h"

#include <string.h>

#include "liandong/error.h"

static void *fake_main(void *arg)
{
    fake_broker *f = arg;
    zmq_msg_t last_rid;
    zmq_msg_init(&last_rid);
    for (;;) {
        pthread_mutex_lock(&f->mu);
        int stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        if (f->tick)
            f->tick(f, &last_rid);
        zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 10) <= 0)
            continue;
        zmq_msg_t rid, m;
        zmq_msg_init(&rid);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&rid, f->router, 0) >= 0 && zmq_msg_recv(&m, f->router, 0) >= 0) {
            zmq_msg_copy(&last_rid, &rid);
            f->on(f, &rid, zmq_msg_data(&m), zmq_msg_size(&m));
        }
        zmq_msg_close(&rid);
        zmq_msg_close(&m);
    }
    zmq_msg_close(&last_rid);
    return NULL;
}

void fake_broker_start(fake_broker *f, const ldk_identity *key, fake_on_fn on, fake_tick_fn tick)
{
    pthread_mutex_init(&f->mu, NULL);
    f->stop = 0;
    f->key = key;
    f->on = on;
    f->tick = tick;
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    FAKE_CHECK(zmq_setsockopt(f->router, ZMQ_CURVE_SERVER, &one, sizeof one) == 0);
    FAKE_CHECK(zmq_setsockopt(f->router, ZMQ_CURVE_SECRETKEY, key->curve_secret, 41) == 0);
    FAKE_CHECK(zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero) == 0);
    FAKE_CHECK(zmq_bind(f->router, "tcp://127.0.0.1:*") == 0);
    size_t sz = sizeof f->endpoint;
    FAKE_CHECK(zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &sz) == 0);
    FAKE_CHECK(pthread_create(&f->thread, NULL, fake_main, f) == 0);
}

void fake_broker_stop(fake_broker *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    pthread_mutex_destroy(&f->mu);
}

void fake_broker_send(fake_broker *f, zmq_msg_t *rid, const Liandong__V1__Body *b,
                      const uint8_t *sk)
{
    ldw_header_fields h = {
        .sender = "broker", .key_id = f->key->key_id, .seq = 0, .sent_at_ms = ldw_now_ms()};
    uint8_t *buf;
    size_t len;
    FAKE_CHECK(ldw_envelope_seal_body(&h, b, sk ? sk : f->key->sign_secret, &buf, &len, NULL) ==
               LD_OK);
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, rid);
    zmq_msg_send(&copy, f->router, ZMQ_SNDMORE);
    zmq_send(f->router, buf, len, 0);
    free(buf);
}
