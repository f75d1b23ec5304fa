/* config.h - the plans plugin's `config:` block (YAML, via libyaml).
 *
 *     config:
 *       plans: [examples/plans/ir-2022.yaml]   # loaded at start
 *       report_default: quarter                # for tasks without report_every
 */
#ifndef LDP_CONFIG_H
#define LDP_CONFIG_H

#include <stddef.h>

typedef struct ldp_config {
    char **plans; /* paths, as written (relative to the broker's working directory) */
    size_t n_plans;
    char report_default[16];
} ldp_config;

/* Parse the block ("" or NULL: defaults). LD_OK, or LD_ERR_FORMAT with one
 * sentence in err (unknown keys are errors), or LD_ERR_NOMEM. On success
 * the caller clears *c with ldp_config_clear; on failure nothing is left. */
int ldp_config_parse(const char *yaml, ldp_config *c, char *err, size_t errlen);
void ldp_config_clear(ldp_config *c);

#endif
