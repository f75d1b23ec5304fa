/* sdk_fixture.h - what the SDK's fake-broker tests share besides the fake
 * broker: keys on disk for a broker and a client, a third principal's
 * signing key, and clients made with those keys. */
#ifndef LD_TEST_SDK_FIXTURE_H
#define LD_TEST_SDK_FIXTURE_H

#include <stdint.h>

#include "ldk/keys.h"
#include "liandong/liandong.h"

typedef struct sdk_keys {
    char dir[64];                             /* a temporary directory */
    char client_secret[128], broker_pub[128]; /* the client's key files, in dir */
    ldk_identity *broker, *client;
    uint8_t other_pk[32], other_sk[64]; /* a third principal, "mdj.fgw" (fixed seed) */
    char other_kid[LDK_KEY_ID_LEN + 1];
} sdk_keys;

/* For a group setup: sodium, the directory /tmp/NAME-XXXXXX, the broker's
 * keys and the client's (id, display name, roles), the client's secret and
 * the broker's public key saved in it. 0, or -1 (a key error said on stderr). */
int sdk_keys_init(sdk_keys *k, const char *name, const char *id, const char *display_name,
                  unsigned roles);
/* For a group teardown: destroy the identities, remove the directory. */
int sdk_keys_fini(sdk_keys *k);

/* A client of the broker at endpoint with k's keys, resending every 100 ms,
 * 3 s to connect, not yet connected. Fails the test if it cannot be made. */
ld_client *sdk_client(const sdk_keys *k, const char *endpoint, int send_timeout_ms);
/* sdk_client with a 3 s send timeout, connected (or the test fails). */
ld_client *sdk_client_connected(const sdk_keys *k, const char *endpoint);

#endif
