/* format.c - deliveries for people (a block of text) and for programs (JSON lines). */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Write s for a terminal: UTF-8 kept, control characters (C0 but tab and
 * newline, DEL, C1) shown as U+FFFD so a message cannot drive the terminal. */
static void put_clean(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) {
            fputs("\xef\xbf\xbd", f);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fputs("\xef\xbf\xbd", f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

int ld_cli_print_delivery(FILE *f, const ld_delivery *d)
{
    char when[64];
    ld_cli_time_local(d->stored_at_ms ? d->stored_at_ms : d->sent_at_ms, when, sizeof when);
    fprintf(f, "%s  from ", when);
    put_clean(f, d->sender);
    if (d->sender_name && d->sender_name[0]) {
        fputs(" (", f);
        put_clean(f, d->sender_name);
        fputc(')', f);
    }
    fprintf(f, "  [%s, seq %llu]\n", d->type, (unsigned long long)d->seq);
    if (d->n_to) {
        fputs("to: ", f);
        for (size_t i = 0; i < d->n_to; i++) {
            if (i)
                fputs(", ", f);
            put_clean(f, d->to[i]);
        }
        fputc('\n', f);
    }
    if (d->text && d->text[0]) {
        put_clean(f, d->text);
        if (d->text[strlen(d->text) - 1] != '\n')
            fputc('\n', f);
    }
    if (d->payload_len) {
        fprintf(f, "(payload: %zu bytes", d->payload_len);
        if (d->content_type && d->content_type[0]) {
            fputs(", ", f);
            put_clean(f, d->content_type);
        }
        fputs(")\n", f);
    }
    fprintf(f, "envelope %s  delivery %llu\n\n", d->envelope_id_hex,
            (unsigned long long)d->delivery_id);
    return ferror(f) ? -1 : 0;
}

/* A JSON string, or null for NULL. The SDK hands out valid UTF-8 only. */
static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *base64_or_null(const uint8_t *p, size_t n)
{
    if (!n)
        return json_null();
    size_t blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(blen);
    if (!b)
        return NULL;
    sodium_bin2base64(b, blen, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(b);
    free(b);
    return j;
}

int ld_cli_print_delivery_json(FILE *f, const ld_delivery *d)
{
    char sent[64], stored[64];
    ld_cli_time_utc(d->sent_at_ms, sent, sizeof sent);
    ld_cli_time_utc(d->stored_at_ms, stored, sizeof stored);
    json_t *to = json_array();
    for (size_t i = 0; to && i < d->n_to; i++)
        json_array_append_new(to, json_string(d->to[i]));
    json_t *o = json_object();
    if (!o || !to) {
        json_decref(o);
        json_decref(to);
        return -1;
    }
    json_object_set_new(o, "delivery_id", json_integer((json_int_t)d->delivery_id));
    json_object_set_new(o, "envelope_id", json_string(d->envelope_id_hex));
    json_object_set_new(o, "sender", str_or_null(d->sender));
    json_object_set_new(o, "sender_name", str_or_null(d->sender_name));
    json_object_set_new(o, "seq", json_integer((json_int_t)d->seq));
    json_object_set_new(o, "sent_at", json_string(sent));
    json_object_set_new(o, "stored_at", json_string(stored));
    json_object_set_new(o, "type", json_string(d->type));
    json_object_set_new(o, "to", to);
    json_object_set_new(o, "text", str_or_null(d->text));
    json_object_set_new(
        o, "content_type",
        str_or_null(d->content_type && d->content_type[0] ? d->content_type : NULL));
    json_object_set_new(o, "payload_base64", base64_or_null(d->payload, d->payload_len));
    /* No JSON_ENSURE_ASCII: Chinese text stays readable UTF-8. */
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return -1;
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return ferror(f) ? -1 : 0;
}
