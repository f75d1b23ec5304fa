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

static void put_ids(FILE *f, const char *const *v, size_t n)
{
    if (!n)
        fputs("-", f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        put_clean(f, v[i]);
    }
}

/* A note or other free text on its own line(s). */
static void put_text_line(FILE *f, const char *s)
{
    if (!s || !s[0])
        return;
    put_clean(f, s);
    if (s[strlen(s) - 1] != '\n')
        fputc('\n', f);
}

static void print_assign(FILE *f, const ld_task_assign *a)
{
    fprintf(f, "%s as %s: ", ld_assign_change_name(a->change), ld_task_role_name(a->role));
    put_clean(f, a->task);
    fputc(' ', f);
    put_clean(f, a->title);
    fputs("\nplan: ", f);
    put_clean(f, a->plan);
    if (a->doc_number[0]) {
        fputc(' ', f);
        put_clean(f, a->doc_number);
    }
    if (a->plan_title[0]) {
        fputc(' ', f);
        put_clean(f, a->plan_title);
    }
    fputs("\ndue: ", f);
    put_clean(f, a->due[0] ? a->due : "-");
    if (a->report_every[0] && strcmp(a->report_every, "none") != 0) {
        fputs(", report every ", f);
        put_clean(f, a->report_every);
    }
    fputs("\nlead: ", f);
    put_ids(f, a->lead, a->n_lead);
    fputs("; support: ", f);
    put_ids(f, a->support, a->n_support);
    fputc('\n', f);
    for (size_t i = 0; i < a->n_targets; i++) {
        if (a->targets[i].year)
            fprintf(f, "target %d: ", a->targets[i].year);
        else
            fputs("target: ", f);
        put_text_line(f, a->targets[i].text);
    }
}

static void print_report(FILE *f, const ld_status_report_info *r)
{
    fputs("report: ", f);
    put_clean(f, r->task);
    if (r->plan[0]) {
        fputs(" (plan ", f);
        put_clean(f, r->plan);
        fputc(')', f);
    }
    fprintf(f, " %s %u%%\n", ld_task_state_name(r->state), r->progress);
    put_text_line(f, r->note);
    if (r->n_attachment_digests)
        fprintf(f, "(%zu attachment digest%s)\n", r->n_attachment_digests,
                r->n_attachment_digests == 1 ? "" : "s");
}

static void print_accept(FILE *f, const ld_task_accept_info *a)
{
    fputs("accepted: ", f);
    put_clean(f, a->task);
    if (a->plan[0]) {
        fputs(" (plan ", f);
        put_clean(f, a->plan);
        fputc(')', f);
    }
    fputc('\n', f);
    put_text_line(f, a->note);
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
    if (d->assign)
        print_assign(f, d->assign);
    if (d->report)
        print_report(f, d->report);
    if (d->accept)
        print_accept(f, d->accept);
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

static json_t *ids_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *assign_json(const ld_task_assign *x)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "plan", json_string(x->plan));
    json_object_set_new(o, "task", json_string(x->task));
    json_object_set_new(o, "title", json_string(x->title));
    json_object_set_new(o, "role", json_string(ld_task_role_name(x->role)));
    json_object_set_new(o, "change", json_string(ld_assign_change_name(x->change)));
    json_object_set_new(o, "lead", ids_json(x->lead, x->n_lead));
    json_object_set_new(o, "support", ids_json(x->support, x->n_support));
    json_object_set_new(o, "due", x->due[0] ? json_string(x->due) : json_null());
    json_object_set_new(o, "report_every", json_string(x->report_every));
    json_t *t = json_array();
    for (size_t i = 0; t && i < x->n_targets; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "year",
                            x->targets[i].year ? json_integer(x->targets[i].year) : json_null());
        json_object_set_new(e, "text", json_string(x->targets[i].text));
        json_array_append_new(t, e);
    }
    json_object_set_new(o, "targets", t);
    json_object_set_new(o, "doc_number", json_string(x->doc_number));
    json_object_set_new(o, "plan_title", json_string(x->plan_title));
    return o;
}

static json_t *report_json(const ld_status_report_info *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "plan", json_string(r->plan));
    json_object_set_new(o, "task", json_string(r->task));
    json_object_set_new(o, "state", json_string(ld_task_state_name(r->state)));
    json_object_set_new(o, "progress", json_integer(r->progress));
    json_object_set_new(o, "note", json_string(r->note));
    json_t *dg = json_array();
    for (size_t i = 0; dg && i < r->n_attachment_digests; i++) {
        char hex[2 * 64 + 1];
        size_t n = r->attachment_digests[i].len;
        if (n > 64)
            n = 64;
        sodium_bin2hex(hex, sizeof hex, r->attachment_digests[i].data, n);
        json_array_append_new(dg, json_string(hex));
    }
    json_object_set_new(o, "attachment_digests", dg);
    return o;
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
    json_object_set_new(o, "from_broker", json_boolean(d->from_broker));
    if (d->assign)
        json_object_set_new(o, "assign", assign_json(d->assign));
    if (d->report)
        json_object_set_new(o, "report", report_json(d->report));
    if (d->accept) {
        json_t *a = json_object();
        json_object_set_new(a, "plan", json_string(d->accept->plan));
        json_object_set_new(a, "task", json_string(d->accept->task));
        json_object_set_new(a, "note", json_string(d->accept->note));
        json_object_set_new(o, "accept", a);
    }
    /* No JSON_ENSURE_ASCII: Chinese text stays readable UTF-8. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return -1;
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return ferror(f) ? -1 : 0;
}
