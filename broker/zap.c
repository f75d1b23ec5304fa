/* zap.c - the ZAP handler: CURVE public key -> roster principal. */
#include "zap.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

#define ZAP_FRAMES 7 /* version, request id, domain, address, identity, mechanism, key */

void *ldb_zap_open(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_REP);
    if (!s)
        return NULL;
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(s, "inproc://zeromq.zap.01") != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

void ldb_zap_close(void **sock)
{
    if (sock && *sock) {
        zmq_close(*sock);
        *sock = NULL;
    }
}

static void reply(void *sock, const zmq_msg_t *version, const zmq_msg_t *reqid, const char *code,
                  const char *text, const char *user)
{
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)version), zmq_msg_size((zmq_msg_t *)version),
             ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid), ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

void ldb_zap_handle(void *sock, const ldk_roster *roster)
{
    zmq_msg_t f[ZAP_FRAMES + 1];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < ZAP_FRAMES + 1)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    if (n < 6) {
        /* Not a ZAP request we can answer; a REP socket needs a reply anyway. */
        ldb_warn("zap: short request (%d frames) ignored", n);
        if (n >= 2) {
            reply(sock, &f[0], &f[1], "500", "bad request", "");
        } else {
            zmq_send(sock, "", 0, 0);
        }
        goto out;
    }
    const char *mech = zmq_msg_data(&f[5]);
    size_t mech_len = zmq_msg_size(&f[5]);
    if (mech_len != 5 || memcmp(mech, "CURVE", 5) != 0 || n < 7 || zmq_msg_size(&f[6]) != 32) {
        ldb_warn("zap: refused a connection that does not use CURVE");
        reply(sock, &f[0], &f[1], "400", "CURVE required", "");
        goto out;
    }
    char z85[LDK_Z85_KEY_LEN + 1];
    zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32);
    const ldk_roster_entry *e = roster ? ldk_roster_find_curve_active(roster, z85) : NULL;
    char addr[64] = "";
    size_t alen = zmq_msg_size(&f[3]);
    if (alen >= sizeof addr)
        alen = sizeof addr - 1;
    memcpy(addr, zmq_msg_data(&f[3]), alen);
    if (!e) {
        ldb_warn("zap: refused CURVE key %.8s… from %s: not an active key in the roster", z85,
                 addr);
        reply(sock, &f[0], &f[1], "400", "key not in roster", "");
        goto out;
    }
    ldb_debug("zap: admitted %s (key %s) from %s", e->pub.id, e->pub.key_id, addr);
    reply(sock, &f[0], &f[1], "200", "OK", e->pub.id);
out:
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}
