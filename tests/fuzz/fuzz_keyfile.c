/* fuzz_keyfile.c - key files (keys/, ldk_identity_load) and rosters
 * (ldk_roster_load) through a temporary file of mode 0600. */
#include "fuzz.h"
#include "ldk/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size);
    char err[LDK_ERR_MAX];
    ldk_identity *id = NULL;
    if (ldk_identity_load(path, &id, err, sizeof err) == LD_OK)
        ldk_identity_destroy(&id);
    ldk_roster *r = NULL;
    if (ldk_roster_load(path, &r, err, sizeof err) == LD_OK)
        ldk_roster_destroy(&r);
    return 0;
}
