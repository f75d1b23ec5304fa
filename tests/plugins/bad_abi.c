/* A test plugin built for another ABI number. */
#include "liandong/plugin.h"

static int init(const ld_host *host, ld_plugin_ctx *ctx, const char *config, void **state,
                char *err, size_t errlen)
{
    return LD_OK;
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = 999, .name = "bad_abi", .version = "test", .init = init};
