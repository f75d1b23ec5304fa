/* reliability.h - shared by the reliability tests: a broker config with the
 * plans, escalation and audit plugins, and `liandong audit verify`. */
#ifndef LD_RELIABILITY_H
#define LD_RELIABILITY_H

#include <stddef.h>

#include "harness.h"

/* Write <dir>/broker.yaml loading the plans, escalation and audit plugins;
 * its full path into path. audit_config (a YAML flow mapping such as
 * "{checkpoint_records: 1000}") is the audit plugin's config; NULL: none. */
void rel_write_plugins_config(th_env *e, const char *audit_config, char *path, size_t pathlen);

/* Run `liandong audit verify` on e's data directory (the broker stopped).
 * Passes (returns 1) if it exits 0 and its first line holds "audit: OK: ";
 * else returns 0. That first line, without its newline, goes into line (for
 * the failure message); every line is also written to stderr. */
int rel_audit_verify(const th_env *e, char *line, size_t linelen);

#endif
