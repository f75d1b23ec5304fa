/* A test plugin whose init fails with a sentence. */
#include <stdio.h>

#include "liandong/plugin.h"

static int init(const ld_host *host, ld_plugin_ctx *ctx, const char *config, void **state,
                char *err, size_t errlen)
{
    snprintf(err, errlen, "the test plugin refuses to start (config: %s)", config);
    return LD_ERR_INVALID;
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION, .name = "init_fails", .version = "test", .init = init};
