/* fake_broker.c - see fake_broker.h. */
#include "fake_broker.h"

#include <string.h>
#include <unistd.h>

#include "liandong/error.h"

/* One client message: opened, checked and noted here, then the test's. */
static void fake_handle(fake_broker *f, zmq_msg_t *rid, const uint8_t *data, size_t len)
{
    ldw_opened o;
    if (ldw_envelope_open(data, len, &o, NULL, 0) != LD_OK)
        return;
    FAKE_CHECK(ldw_envelope_verify(&o, f->client_pk) == LD_OK);
    Liandong__V1__Body *b = ldw_opened_body(&o);
    FAKE_CHECK(b != NULL);
    pthread_mutex_lock(&f->mu);
    if (b->msg_case == LIANDONG__V1__BODY__MSG_HELLO) {
        FAKE_CHECK(o.hdr->seq == 0);
        FAKE_CHECK(b->hello->protocol == LDW_PROTOCOL_VERSION);
        f->hellos++;
    } else if (b->msg_case == LIANDONG__V1__BODY__MSG_DELIVERY_ACK) {
        FAKE_CHECK(o.hdr->seq == 0);
        for (size_t i = 0; i < b->delivery_ack->n_delivery_ids && f->n_acked < FAKE_MAX_ACKED; i++)
            f->acked[f->n_acked++] = b->delivery_ack->delivery_ids[i];
    }
    if (f->on(f, rid, &o, b)) {
        if (f->last)
            liandong__v1__body__free_unpacked(f->last, NULL);
        f->last = b;
        b = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    if (b)
        liandong__v1__body__free_unpacked(b, NULL);
    ldw_opened_clear(&o);
}

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
            fake_handle(f, &rid, zmq_msg_data(&m), zmq_msg_size(&m));
        }
        zmq_msg_close(&rid);
        zmq_msg_close(&m);
    }
    zmq_msg_close(&last_rid);
    return NULL;
}

void fake_broker_start(fake_broker *f, const ldk_identity *key, const uint8_t *client_pk,
                       fake_on_fn on, fake_tick_fn tick)
{
    pthread_mutex_init(&f->mu, NULL);
    f->stop = 0;
    f->key = key;
    f->client_pk = client_pk;
    f->on = on;
    f->tick = tick;
    f->hellos = 0;
    f->n_acked = 0;
    f->last = NULL;
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
    if (f->last)
        liandong__v1__body__free_unpacked(f->last, NULL);
    f->last = NULL;
}

int fake_broker_wait_acks(fake_broker *f, int n)
{
    int k = 0;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&f->mu);
        k = f->n_acked;
        pthread_mutex_unlock(&f->mu);
        if (k >= n)
            break;
        usleep(10000);
    }
    return k;
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

void fake_broker_hello_reply(fake_broker *f, zmq_msg_t *rid, const ldw_opened *o, const char *name)
{
    Liandong__V1__HelloReply hr = LIANDONG__V1__HELLO_REPLY__INIT;
    hr.principal = o->hdr->sender;
    hr.name = (char *)name;
    hr.protocol = 1;
    Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
    r.msg_case = LIANDONG__V1__BODY__MSG_HELLO_REPLY;
    r.hello_reply = &hr;
    fake_broker_send(f, rid, &r, NULL);
}

void fake_broker_ack(fake_broker *f, zmq_msg_t *rid, const ldw_opened *o, int dup,
                     const uint8_t *reply, size_t reply_len)
{
    Liandong__V1__Ack a = LIANDONG__V1__ACK__INIT;
    a.envelope_id.data = (uint8_t *)o->id.bytes;
    a.envelope_id.len = sizeof o->id.bytes;
    a.seq = o->hdr->seq;
    a.duplicate = dup;
    a.clock_ms = 1656640000000;
    a.reply.data = (uint8_t *)reply;
    a.reply.len = reply_len;
    Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
    r.msg_case = LIANDONG__V1__BODY__MSG_ACK;
    r.ack = &a;
    fake_broker_send(f, rid, &r, NULL);
}

void fake_broker_nack(fake_broker *f, zmq_msg_t *rid, const ldw_envelope_id *id, uint64_t seq,
                      Liandong__V1__ReasonCode code, const char *text)
{
    Liandong__V1__Nack n = LIANDONG__V1__NACK__INIT;
    if (id) {
        n.envelope_id.data = (uint8_t *)id->bytes;
        n.envelope_id.len = sizeof id->bytes;
    }
    n.seq = seq;
    n.code = code;
    n.text = (char *)text;
    Liandong__V1__Body r = LIANDONG__V1__BODY__INIT;
    r.msg_case = LIANDONG__V1__BODY__MSG_NACK;
    r.nack = &n;
    fake_broker_send(f, rid, &r, NULL);
}

void fake_broker_push(fake_broker *f, zmq_msg_t *rid, uint64_t delivery_id, const uint8_t *env,
                      size_t len, const uint8_t *pk)
{
    Liandong__V1__Delivery dm = LIANDONG__V1__DELIVERY__INIT;
    dm.delivery_id = delivery_id;
    dm.envelope.data = (uint8_t *)env;
    dm.envelope.len = len;
    dm.sender_sign_public.data = (uint8_t *)pk;
    dm.sender_sign_public.len = 32;
    dm.sender_name = "Liandong broker";
    Liandong__V1__Body b = LIANDONG__V1__BODY__INIT;
    b.msg_case = LIANDONG__V1__BODY__MSG_DELIVERY;
    b.delivery = &dm;
    fake_broker_send(f, rid, &b, NULL);
}
