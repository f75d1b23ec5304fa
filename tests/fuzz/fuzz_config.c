/* fuzz_config.c - the broker's YAML config (broker/config.c,
 * ldb_config_load) through a temporary file. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(data, size);
    ldb_config c;
    ldb_config_init(&c);
    char err[1024];
    (void)ldb_config_load(&c, path, err, sizeof err);
    ldb_config_clear(&c);
    return 0;
}
