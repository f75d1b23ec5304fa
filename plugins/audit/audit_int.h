/* audit_int.h - the audit plugin's state (the module's parts only). */
#ifndef LDA_AUDIT_INT_H
#define LDA_AUDIT_INT_H

#include <stdint.h>

#include "audit_core.h"
#include "liandong/plugin.h"

typedef struct lda_config {
    uint64_t checkpoint_records; /* a checkpoint once this many records are new */
    int64_t checkpoint_ms;       /* or once this much wall time passed */
    unsigned query_max;          /* records per AuditReply at most */
} lda_config;

/* Defaults, then the YAML block's settings. */
int lda_config_parse(const char *yaml, lda_config *c, char *err, size_t errlen);

#endif
