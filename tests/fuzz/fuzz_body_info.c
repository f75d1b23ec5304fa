/* fuzz_body_info.c - the audit plugin's Body walker (plugins/audit/body.c,
 * lda_body_info_get: the type, task and departments of any message) and
 * its JSON printer (lda_json_message) over the same Body. */
#include <stdio.h>

#include "body.h"
#include "fuzz.h"
#include "liandong/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *out;
    if (!out && !(out = fopen("/dev/null", "w")))
        return 0;
    lda_body_info bi;
    if (lda_body_info_get(data, size, &bi) == LD_OK) {
        /* Read every string the walker found: each must be valid. */
        fputs(bi.type, out);
        if (bi.task)
            fputs(bi.task, out);
        for (size_t i = 0; i < bi.n_depts; i++)
            fputs(bi.depts[i], out);
        lda_json_message(out, &bi.body->base);
    }
    lda_body_info_clear(&bi);
    return 0;
}
