/* body.c - what a record needs from a message body (its type, the task it
 * names, the principals it concerns), found generically through the
 * protobuf-c descriptors; and a small JSON printer for any message. */
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "ldw/envelope.h"

/* The oneof member of a Body that is set, or NULL. */
static const ProtobufCMessage *member(const Liandong__V1__Body *b)
{
    const ProtobufCMessageDescriptor *d = b->base.descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->id != (uint32_t)b->msg_case || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        return *(const ProtobufCMessage *const *)((const char *)b + f->offset);
    }
    return NULL;
}

static int is_dept_field(const char *name)
{
    static const char *const names[] = {"to", "lead", "support", "departments", "dept"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static void add_dept(lda_body_info *bi, const char *s)
{
    if (s && *s && bi->n_depts < LDA_BODY_MAX_DEPTS)
        bi->depts[bi->n_depts++] = s;
}

int lda_body_info_get(const uint8_t *body, size_t len, lda_body_info *bi)
{
    memset(bi, 0, sizeof *bi);
    bi->type = "";
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, len, body);
    if (!b)
        return LD_ERR_FORMAT;
    bi->body = b;
    bi->type = ldw_body_name(b->msg_case);
    const ProtobufCMessage *m = member(b);
    if (!m)
        return LD_OK;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING)
            continue;
        const char *base = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!is_dept_field(f->name))
                continue;
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            char *const *v = *(char *const *const *)base;
            for (size_t j = 0; j < n; j++)
                add_dept(bi, v[j]);
        } else {
            const char *s = *(const char *const *)base;
            if (strcmp(f->name, "task") == 0 && s)
                bi->task = s;
            else if (is_dept_field(f->name))
                add_dept(bi, s);
        }
    }
    return LD_OK;
}

void lda_body_info_clear(lda_body_info *bi)
{
    if (bi->body)
        liandong__v1__body__free_unpacked(bi->body, NULL);
    memset(bi, 0, sizeof *bi);
    bi->type = "";
}

/* ---- JSON ---------------------------------------------------------------- */

void lda_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void lda_json_base64(FILE *f, const uint8_t *b, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', f);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < n)
            v |= b[i + 2];
        fputc(a[v >> 18 & 63], f);
        fputc(a[v >> 12 & 63], f);
        fputc(i + 1 < n ? a[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? a[v & 63] : '=', f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: fprintf(f, "%d", *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: fprintf(f, "%u", *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: fprintf(f, "%lld", (long long)*(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT: fprintf(f, "%g", (double)*(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: fprintf(f, "%.17g", *(const double *)p); break;
    case PROTOBUF_C_TYPE_BOOL: fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
        if (ev)
            lda_json_string(f, ev->name, strlen(ev->name));
        else
            fprintf(f, "%d", *(const int *)p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        lda_json_string(f, s ? s : "", s ? strlen(s) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        lda_json_base64(f, bd->data, bd->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
        if (m)
            lda_json_message(f, m);
        else
            fputs("null", f);
        break;
    }
    }
}

static size_t type_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
    }
}

void lda_json_message(FILE *f, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    fputc('{', f);
    int first = 1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const char *base = (const char *)m + fd->offset;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)((const char *)m + fd->quantifier_offset);
            if (which != fd->id)
                continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + fd->quantifier_offset);
            if (!n)
                continue;
            fprintf(f, "%s\"%s\":[", first ? "" : ",", fd->name);
            const char *arr = *(const char *const *)base;
            for (size_t j = 0; j < n; j++) {
                if (j)
                    fputc(',', f);
                json_value(f, fd, arr + j * type_size(fd));
            }
            fputc(']', f);
        } else {
            /* proto3: leave out fields at their default, as protobuf's JSON does. */
            if (fd->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = *(const char *const *)base;
                if (!s || !*s)
                    continue;
            } else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
                if (!((const ProtobufCBinaryData *)base)->len)
                    continue;
            } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (!*(const void *const *)base)
                    continue;
            } else {
                static const uint8_t zero[16];
                if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                    memcmp(base, zero, type_size(fd)) == 0)
                    continue;
            }
            fprintf(f, "%s\"%s\":", first ? "" : ",", fd->name);
            json_value(f, fd, base);
        }
        first = 0;
    }
    fputc('}', f);
}
