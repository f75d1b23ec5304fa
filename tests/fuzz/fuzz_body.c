/* fuzz_body.c - Body unpack of every message type (each case of the Body
 * oneof is reached from the input's field number), then pack it again and
 * unpack the repacked bytes (see below for why they may not parse). */
#include <stdlib.h>

#include "fuzz.h"
#include "ldw/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, size, data);
    if (!b)
        return 0;
    (void)ldw_body_name(b->msg_case);
    size_t n = liandong__v1__body__get_packed_size(b);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) {
        size_t m = liandong__v1__body__pack(b, buf);
        if (m != n)
            abort();
        /* Repacking must not crash, but need not parse again: protobuf-c keeps
         * unknown fields, even field number 0 (invalid), at any depth, and
         * repacks them into bytes that no longer parse (found by this harness:
         * corpus/body/regress-field-zero, regress-nested-field-zero). Nothing
         * in Liandong repacks a received Body: signatures cover the bytes as
         * sent. */
        Liandong__V1__Body *b2 = liandong__v1__body__unpack(NULL, m, buf);
        if (b2)
            liandong__v1__body__free_unpacked(b2, NULL);
        free(buf);
    }
    liandong__v1__body__free_unpacked(b, NULL);
    return 0;
}
