/* sdk_fixture.c - see sdk_fixture.h. */
#include "sdk_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

int sdk_keys_init(sdk_keys *k, const char *name, const char *id, const char *display_name,
                  unsigned roles)
{
    memset(k, 0, sizeof *k);
    if (sodium_init() < 0)
        return -1;
    snprintf(k->dir, sizeof k->dir, "/tmp/%s-XXXXXX", name);
    if (!mkdtemp(k->dir))
        return -1;
    char err[LDK_ERR_MAX];
    if (ldk_identity_generate("broker", "Liandong broker", 0, &k->broker, err, sizeof err) ||
        ldk_identity_generate(id, display_name, roles, &k->client, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(k->client_secret, sizeof k->client_secret, "%s/%s.secret", k->dir, id);
    snprintf(k->broker_pub, sizeof k->broker_pub, "%s/broker.pub", k->dir);
    if (ldk_identity_save_secret(k->client, k->client_secret, err, sizeof err) ||
        ldk_identity_save_public(k->broker, k->broker_pub, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(k->other_pk, k->other_sk, seed);
    uint8_t kid[8];
    crypto_generichash(kid, sizeof kid, k->other_pk, sizeof k->other_pk, NULL, 0);
    sodium_bin2hex(k->other_kid, sizeof k->other_kid, kid, sizeof kid);
    return 0;
}

int sdk_keys_fini(sdk_keys *k)
{
    ldk_identity_destroy(&k->broker);
    ldk_identity_destroy(&k->client);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", k->dir);
    return system(cmd) == 0 ? 0 : -1;
}

ld_client *sdk_client(const sdk_keys *k, const char *endpoint, int send_timeout_ms)
{
    ld_client_options o;
    ld_client_options_init(&o);
    o.endpoint = endpoint;
    o.identity_path = k->client_secret;
    o.broker_key_path = k->broker_pub;
    o.send_timeout_ms = send_timeout_ms;
    o.resend_interval_ms = 100;
    o.connect_timeout_ms = 3000;
    ld_client *c = NULL;
    char err[512];
    if (ld_client_new(&o, &c, err, sizeof err) != LD_OK)
        fail_msg("ld_client_new: %s", err);
    return c;
}

ld_client *sdk_client_connected(const sdk_keys *k, const char *endpoint)
{
    ld_client *c = sdk_client(k, endpoint, 3000);
    if (ld_client_connect(c) != LD_OK)
        fail_msg("ld_client_connect: %s", ld_client_last_error(c));
    return c;
}
