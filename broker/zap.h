/* zap.h - ZeroMQ authentication (ZAP, RFC 27) against the roster.
 *
 * Admits a CURVE client only if its public key belongs to an active roster
 * entry, and sets the connection's User-Id to that principal's id. Runs on
 * the broker thread: the REP socket is polled with the ROUTER socket. */
#ifndef LDB_ZAP_H
#define LDB_ZAP_H

#include "ldk/keys.h"

/* Bind the ZAP endpoint in ctx. Must happen before the ROUTER binds.
 * Returns the socket or NULL (errno set). */
void *ldb_zap_open(void *ctx);
/* Answer one pending ZAP request on sock using roster. */
void ldb_zap_handle(void *sock, const ldk_roster *roster);
void ldb_zap_close(void **sock);

#endif
