/* fuzz.h - the libFuzzer entry point every harness defines, and a helper
 * for harnesses whose target reads a file. */
#ifndef LD_FUZZ_H
#define LD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data to a per-process temporary file (mode 0600) and return its
 * path (static storage). Aborts only if /tmp is unusable. */
const char *fuzz_temp_file(const uint8_t *data, size_t size);

#endif
