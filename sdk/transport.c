/* transport.c - the DEALER socket, its monitor, and dispatch of broker messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "ldc.h"

#define RECONNECT_IVL_MS 100
#define RECONNECT_IVL_MAX_MS 2000
#define HEARTBEAT_IVL_MS 5000
#define HEARTBEAT_TIMEOUT_MS 15000
#define CLOSE_LINGER_MS 200
#define HELLO_RETRY_MS 1000 /* keep trying to send Hello this long after a handshake */
#define HELLO_POLL_MS 10

#define MONITOR_EVENTS                                                                             \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                        \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |                       \
     ZMQ_EVENT_DISCONNECTED)

static int set_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

int ldc_transport_open(ld_client *c, char *err, size_t errlen)
{
    const char *what = "zmq_ctx_new";
    c->ctx = zmq_ctx_new();
    if (!c->ctx)
        goto fail;
    what = "zmq_socket(DEALER)";
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    if (!c->sock)
        goto fail;
    what = "setting the CURVE keys";
    if (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, c->broker->curve_public,
                       LDK_Z85_KEY_LEN + 1) ||
        zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, c->ident->curve_public, LDK_Z85_KEY_LEN + 1) ||
        zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, c->ident->curve_secret, LDK_Z85_KEY_LEN + 1))
        goto fail;
    /* IMMEDIATE: queue nothing to a connection whose handshake is not done,
     * so a message is only ever sent on a session we have said Hello on. */
    what = "setting socket options";
    if (set_int(c->sock, ZMQ_LINGER, 0) || set_int(c->sock, ZMQ_IMMEDIATE, 1) ||
        set_int(c->sock, ZMQ_RECONNECT_IVL, RECONNECT_IVL_MS) ||
        set_int(c->sock, ZMQ_RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS) ||
        set_int(c->sock, ZMQ_HEARTBEAT_IVL, HEARTBEAT_IVL_MS) ||
        set_int(c->sock, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS))
        goto fail;
    /* One context per client, so the name only needs to be unique in it. */
    char mon_ep[64];
    snprintf(mon_ep, sizeof mon_ep, "inproc://liandong-monitor-%p", (void *)c);
    what = "zmq_socket_monitor";
    if (zmq_socket_monitor(c->sock, mon_ep, MONITOR_EVENTS))
        goto fail;
    c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
    if (!c->mon || set_int(c->mon, ZMQ_LINGER, 0) || zmq_connect(c->mon, mon_ep))
        goto fail;
    return LD_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "could not set up the ZeroMQ socket (%s): %s", what,
                 zmq_strerror(zmq_errno()));
    return LD_ERR_ZMQ;
}

void ldc_transport_close(ld_client *c)
{
    if (c->sock) {
        zmq_socket_monitor(c->sock, NULL, 0);
        /* Give queued messages (a last DeliveryAck) a moment to leave. */
        set_int(c->sock, ZMQ_LINGER, CLOSE_LINGER_MS);
        zmq_close(c->sock);
        c->sock = NULL;
    }
    if (c->mon) {
        zmq_close(c->mon);
        c->mon = NULL;
    }
    if (c->ctx) {
        while (zmq_ctx_term(c->ctx) == -1 && zmq_errno() == EINTR)
            ;
        c->ctx = NULL;
    }
    if (c->epfd >= 0) {
        close(c->epfd);
        c->epfd = -1;
    }
}

int ldc_transport_connect(ld_client *c)
{
    if (c->connected)
        return LD_OK;
    if (zmq_connect(c->sock, c->endpoint) != 0)
        return ldc_fail(c, LD_ERR_INVALID, "cannot connect to '%s': %s", c->endpoint,
                        zmq_strerror(zmq_errno()));
    c->connected = 1;
    return LD_OK;
}

int ldc_transport_send(ld_client *c, const uint8_t *buf, size_t len)
{
    for (;;) {
        if (zmq_send(c->sock, buf, len, ZMQ_DONTWAIT) >= 0)
            return LD_OK;
        int e = zmq_errno();
        if (e == EINTR)
            continue;
        if (e == EAGAIN)
            return LD_ERR_CLOSED; /* no connection up: the next handshake resends */
        return ldc_fail(c, LD_ERR_ZMQ, "sending to the broker failed: %s", zmq_strerror(e));
    }
}

int ldc_send_session(ld_client *c, const Liandong__V1__Body *body, ldw_envelope_id *id_out)
{
    ldw_header_fields h = {
        .sender = c->ident->id, .key_id = c->ident->key_id, .seq = 0, .sent_at_ms = ldw_now_ms()};
    uint8_t *buf;
    size_t len;
    int rc = ldw_envelope_seal_body(&h, body, c->ident->sign_secret, &buf, &len, id_out);
    if (rc != LD_OK)
        return ldc_fail(c, rc, "could not seal a %s message: %s", ldw_body_name(body->msg_case),
                        ld_strerror(rc));
    rc = ldc_transport_send(c, buf, len);
    free(buf);
    return rc;
}

static int send_hello(ld_client *c)
{
    Liandong__V1__Hello hello = LIANDONG__V1__HELLO__INIT;
    hello.client = c->client_name;
    hello.protocol = LDW_PROTOCOL_VERSION;
    hello.send_only = c->send_only;
    hello.only_bodies = c->only_bodies;
    hello.n_only_bodies = c->n_only_bodies;
    Liandong__V1__Body body = LIANDONG__V1__BODY__INIT;
    body.msg_case = LIANDONG__V1__BODY__MSG_HELLO;
    body.hello = &hello;
    return ldc_send_session(c, &body, &c->hello_id);
}

int ldc_send_hello(ld_client *c)
{
    int rc = send_hello(c);
    return rc == LD_ERR_CLOSED ? LD_OK : rc;
}

/* After a handshake: Hello first, then the pending envelope, same connection. */
static void try_hello(ld_client *c)
{
    int rc = send_hello(c);
    if (rc == LD_ERR_CLOSED && ldc_mono_ms() < c->hello_due)
        return; /* the pipe is not attached yet; retry on the next step */
    c->hello_due = 0;
    if (rc == LD_OK)
        ldc_resend_pending(c);
}

static void on_monitor_event(ld_client *c, int event, int value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        c->handshakes++;
        c->link_up = 1;
        c->hs_fail_event = 0;
        c->hello_due = ldc_mono_ms() + HELLO_RETRY_MS;
        try_hello(c);
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
        c->link_up = 0;
    } else {
        c->hs_fail_event = event;
        c->hs_fail_value = value;
    }
}

static void drain_monitor(ld_client *c)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        int event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&m) >= 6) {
            const uint8_t *d = zmq_msg_data(&m);
            uint16_t ev;
            memcpy(&ev, d, 2);
            memcpy(&value, d + 2, 4);
            event = ev;
        }
        int more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) { /* the endpoint frame */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, c->mon, 0) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        if (event)
            on_monitor_event(c, event, (int)value);
    }
}

/* Several answers under one signature (protocol 2), in the order sent. */
static void on_answers(ld_client *c, const Liandong__V1__Answers *as)
{
    for (size_t i = 0; i < as->n_answers; i++) {
        const Liandong__V1__Answer *a = as->answers[i];
        if (a->answer_case == LIANDONG__V1__ANSWER__ANSWER_ACK)
            ldc_on_ack(c, a->ack);
        else if (a->answer_case == LIANDONG__V1__ANSWER__ANSWER_NACK)
            ldc_on_nack(c, a->nack);
        else
            ldc_fail(c, LD_ERR_PROTOCOL, "dropped an empty answer from the broker");
    }
}

/* One frame from the broker: check it is the broker's and signed, then act. */
static void on_frame(ld_client *c, const uint8_t *data, size_t len, int more)
{
    if (more) {
        ldc_fail(c, LD_ERR_PROTOCOL, "dropped a multi-frame message from the broker");
        return;
    }
    ldw_opened o;
    char err[256];
    if (ldw_envelope_open(data, len, &o, err, sizeof err) != LD_OK) {
        ldc_fail(c, LD_ERR_PROTOCOL, "dropped a message from the broker: %s", err);
        return;
    }
    if (strcmp(o.hdr->sender, c->broker->id) != 0) {
        ldc_fail(c, LD_ERR_PROTOCOL,
                 "dropped a message signed as '%s' on the broker connection (the broker is '%s')",
                 o.hdr->sender, c->broker->id);
        goto out;
    }
    if (ldw_envelope_verify(&o, c->broker->sign_public) != LD_OK) {
        ldc_fail(c, LD_ERR_CRYPTO,
                 "dropped a message whose broker signature does not verify with the broker key "
                 "file");
        goto out;
    }
    Liandong__V1__Body *b = ldw_opened_body(&o);
    if (!b) {
        ldc_fail(c, LD_ERR_PROTOCOL,
                 "dropped a broker message whose body is not a known liandong.v1.Body");
        goto out;
    }
    switch (b->msg_case) {
    case LIANDONG__V1__BODY__MSG_HELLO_REPLY: ldc_on_hello_reply(c, b->hello_reply); break;
    case LIANDONG__V1__BODY__MSG_ACK: ldc_on_ack(c, b->ack); break;
    case LIANDONG__V1__BODY__MSG_NACK: ldc_on_nack(c, b->nack); break;
    case LIANDONG__V1__BODY__MSG_DELIVERY: ldc_on_delivery(c, b->delivery); break;
    case LIANDONG__V1__BODY__MSG_ANSWERS: on_answers(c, b->answers); break;
    case LIANDONG__V1__BODY__MSG_DELIVERIES:
        for (size_t i = 0; i < b->deliveries->n_deliveries; i++)
            ldc_on_delivery(c, b->deliveries->deliveries[i]);
        break;
    default:
        ldc_fail(c, LD_ERR_PROTOCOL, "dropped an unexpected '%s' message from the broker",
                 ldw_body_name(b->msg_case));
        break;
    }
    liandong__v1__body__free_unpacked(b, NULL);
out:
    ldw_opened_clear(&o);
}

static int drain_socket(ld_client *c)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&m);
            if (e == EAGAIN)
                return LD_OK;
            if (e == EINTR)
                return LD_ERR_CLOSED;
            return ldc_fail(c, LD_ERR_ZMQ, "receiving from the broker failed: %s", zmq_strerror(e));
        }
        on_frame(c, zmq_msg_data(&m), zmq_msg_size(&m), zmq_msg_more(&m));
        zmq_msg_close(&m);
    }
}

int ldc_transport_step(ld_client *c, int timeout_ms)
{
    ldc_flush_acks(c); /* before waiting: the broker may wait for them */
    if (c->hello_due) {
        try_hello(c);
        if (c->hello_due && (timeout_ms < 0 || timeout_ms > HELLO_POLL_MS))
            timeout_ms = HELLO_POLL_MS;
    }
    zmq_pollitem_t items[2] = {{c->sock, 0, ZMQ_POLLIN, 0}, {c->mon, 0, ZMQ_POLLIN, 0}};
    int n = zmq_poll(items, 2, timeout_ms);
    if (n < 0) {
        int e = zmq_errno();
        if (e == EINTR)
            return ldc_fail(c, LD_ERR_CLOSED, "interrupted by a signal");
        return ldc_fail(c, LD_ERR_ZMQ, "zmq_poll failed: %s", zmq_strerror(e));
    }
    if (items[1].revents & ZMQ_POLLIN)
        drain_monitor(c);
    if (items[0].revents & ZMQ_POLLIN)
        return drain_socket(c);
    return LD_OK;
}

int ld_client_fd(ld_client *c, int *fd)
{
    if (!c || !fd)
        return LD_ERR_INVALID;
#ifdef __linux__
    /* Two ZeroMQ sockets need watching (messages and the monitor, which says
     * when to Hello again), so hand out an epoll set holding both. */
    if (c->epfd < 0) {
        int zfd[2];
        size_t sz = sizeof zfd[0];
        if (zmq_getsockopt(c->sock, ZMQ_FD, &zfd[0], &sz) ||
            zmq_getsockopt(c->mon, ZMQ_FD, &zfd[1], &sz))
            return ldc_fail(c, LD_ERR_ZMQ, "cannot get the ZeroMQ file descriptors: %s",
                            zmq_strerror(zmq_errno()));
        int ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
            return ldc_fail(c, LD_ERR_IO, "epoll_create1 failed: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, zfd[i], &ev) < 0) {
                int e = errno;
                close(ep);
                return ldc_fail(c, LD_ERR_IO, "epoll_ctl failed: %s", strerror(e));
            }
        }
        c->epfd = ep;
    }
    *fd = c->epfd;
    return LD_OK;
#else
    /* Elsewhere: the message socket only; reconnects are noticed on the next call. */
    size_t sz = sizeof *fd;
    if (zmq_getsockopt(c->sock, ZMQ_FD, fd, &sz))
        return ldc_fail(c, LD_ERR_ZMQ, "cannot get the ZeroMQ file descriptor: %s",
                        zmq_strerror(zmq_errno()));
    return LD_OK;
#endif
}
