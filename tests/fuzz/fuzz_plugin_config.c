/* fuzz_plugin_config.c - the plugins' config: blocks, each given the input
 * as the NUL-terminated YAML text the broker passes to init: plans
 * (ldp_config_parse), escalation (lde_config_parse), audit
 * (lda_config_parse). */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "config.h"
#include "fuzz.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = malloc(size + 1);
    if (!yaml)
        return 0;
    memcpy(yaml, data, size);
    yaml[size] = 0;
    char err[512];
    ldp_config pc;
    if (ldp_config_parse(yaml, &pc, err, sizeof err) == LD_OK)
        ldp_config_clear(&pc);
    lde_config ec;
    if (lde_config_parse(yaml, &ec, err, sizeof err) == LD_OK)
        lde_config_clear(&ec);
    lda_config ac;
    (void)lda_config_parse(yaml, &ac, err, sizeof err);
    free(yaml);
    return 0;
}
