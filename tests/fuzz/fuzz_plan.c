/* fuzz_plan.c - plan files (plugins/plans/plan_parse.c, ldp_plan_parse),
 * with a roster that knows every well-formed id, and warnings on. */
#include "fuzz.h"
#include "liandong/error.h"
#include "plan.h"

static int roster(void *arg, const char *id, unsigned *roles)
{
    (void)arg;
    if (id[0] == 'x')
        return LD_ERR_NOT_FOUND;
    *roles = 1;
    return LD_OK;
}

static void warn(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > LDP_PLAN_MAX_BYTES)
        return 0;
    ldp_parse_opts o = {.file_name = "fuzz.yaml", .roster = roster, .warn = warn};
    ldp_plan *p = NULL;
    char err[512];
    if (ldp_plan_parse(&o, data, size, &p, err, sizeof err) == LD_OK)
        ldp_plan_destroy(&p);
    return 0;
}
