/* body.h - fields of a message body the audit log indexes, and JSON. */
#ifndef LDA_BODY_H
#define LDA_BODY_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <stdio.h>

#include "audit_core.h"
#include "liandong/liandong.pb-c.h"

#define LDA_BODY_MAX_DEPTS 64

/* Strings borrowed from body, which lda_body_info_clear frees. */
typedef struct lda_body_info {
    const char *type;                      /* "status_report", ... ("" if unknown) */
    const char *task;                      /* the body's `task` field, or NULL */
    const char *depts[LDA_BODY_MAX_DEPTS]; /* to, lead, support, departments, dept */
    size_t n_depts;
    Liandong__V1__Body *body;
} lda_body_info;

/* LD_OK, or LD_ERR_FORMAT if body is not a Body (bi is then empty). */
int lda_body_info_get(const uint8_t *body, size_t len, lda_body_info *bi);
void lda_body_info_clear(lda_body_info *bi);

/* A message as one JSON object (proto field names; bytes as base64; enums
 * by name; fields at their default left out). */
void lda_json_message(FILE *f, const ProtobufCMessage *m);
void lda_json_string(FILE *f, const char *s, size_t n);
void lda_json_base64(FILE *f, const uint8_t *b, size_t n);

#endif
