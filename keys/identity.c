/* identity.c - generating and destroying identities. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zmq.h>

#include "internal.h"

int ldk_identity_generate(const char *id, const char *name, unsigned roles, ldk_identity **out,
                          char *err, size_t errlen)
{
    const char *why;
    char shown[LDK_ID_MAX + 1];
    *out = NULL;
    if (!ldk_id_valid(id))
        return ldk_seterr(err, errlen, LD_ERR_INVALID,
                          "invalid id \"%s\": use 1 to 64 characters a-z 0-9 . _ -, starting "
                          "with a letter or digit",
                          ldk_printable(id != NULL ? id : "", shown, sizeof shown));
    if (name == NULL || !ldk_name_check(name, &why))
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "the name of %s %s", id,
                          name == NULL ? "is missing" : why);
    if (roles & ~LDK_ROLES_ALL)
        return ldk_seterr(err, errlen, LD_ERR_INVALID, "unknown role bits 0x%x",
                          roles & ~LDK_ROLES_ALL);
    if (sodium_init() < 0)
        return ldk_seterr(err, errlen, LD_ERR_CRYPTO, "libsodium failed to initialize");

    ldk_identity *ident = calloc(1, sizeof *ident);
    if (ident == NULL)
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "out of memory");
    strcpy(ident->id, id);
    strcpy(ident->name, name);
    ident->roles = roles;
    ident->sign_secret = sodium_malloc(LDK_SIGN_SECRET_BYTES);
    ident->curve_secret = sodium_malloc(LDK_Z85_KEY_LEN + 1);
    if (ident->sign_secret == NULL || ident->curve_secret == NULL) {
        ldk_identity_destroy(&ident);
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "out of memory for secret keys");
    }
    if (crypto_sign_keypair(ident->sign_public, ident->sign_secret) != 0) {
        ldk_identity_destroy(&ident);
        return ldk_seterr(err, errlen, LD_ERR_CRYPTO, "Ed25519 key generation failed");
    }
    if (zmq_curve_keypair(ident->curve_public, ident->curve_secret) != 0) {
        ldk_identity_destroy(&ident);
        return ldk_seterr(err, errlen, LD_ERR_ZMQ,
                          "CURVE key generation failed (is libzmq built with CURVE support?)");
    }
    ldk_key_id_compute(ident->sign_public, ident->key_id);
    *out = ident;
    return LD_OK;
}

void ldk_identity_destroy(ldk_identity **ident)
{
    if (ident == NULL || *ident == NULL)
        return;
    ldk_identity *p = *ident;
    sodium_free(p->sign_secret); /* wipes; NULL is fine */
    sodium_free(p->curve_secret);
    free(p);
    *ident = NULL;
}
