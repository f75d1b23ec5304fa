/* kvfile.c - the `key = value` line format shared by key files and the
 * roster: a tokenizer for reading and a text buffer for writing. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim spaces and tabs on both ends of [s, e); NUL-terminate; return start. */
static char *trim(char *s, char *e)
{
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    *e = '\0';
    return s;
}

void ldk_kv_init(ldk_kv_reader *r, const char *path, char *buf, size_t len)
{
    r->path = path;
    r->p = buf;
    r->end = buf + len;
    r->line = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->p += 3;
}

int ldk_kv_next(ldk_kv_reader *r, ldk_kv_line *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    while (r->p < r->end) {
        char *s = r->p;
        char *nl = memchr(s, '\n', (size_t)(r->end - s));
        char *e = nl != NULL ? nl : r->end;
        r->p = nl != NULL ? nl + 1 : r->end;
        r->line++;
        if (memchr(s, '\0', (size_t)(e - s)) != NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: line contains a NUL byte",
                              r->path, r->line);
        if (e > s && e[-1] == '\r')
            e--;
        char *t = trim(s, e);
        if (*t == '\0' || *t == '#')
            continue;
        out->line = r->line;
        if (*t == '[') {
            size_t n = strlen(t);
            if (n < 2 || t[n - 1] != ']')
                return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                                  "%s:%u: a section line must look like [key]", r->path, r->line);
            t[n - 1] = '\0';
            out->kind = LDK_KV_SECTION;
            out->key = trim(t + 1, t + n - 1);
            return LD_OK;
        }
        char *eq = strchr(t, '=');
        if (eq == NULL)
            return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                              "%s:%u: expected `key = value`, found no '='", r->path, r->line);
        char *val_end = t + strlen(t);
        out->key = trim(t, eq);
        out->value = trim(eq + 1, val_end);
        if (*out->key == '\0')
            return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s:%u: missing key before '='", r->path,
                              r->line);
        out->kind = LDK_KV_PAIR;
        return LD_OK;
    }
    out->kind = LDK_KV_END;
    return LD_OK;
}

static int buf_reserve(ldk_buf *b, size_t need)
{
    if (b->failed)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + need + 1)
        ncap *= 2;
    char *nd = b->secure ? sodium_malloc(ncap) : malloc(ncap);
    if (nd == NULL) {
        b->failed = 1;
        return -1;
    }
    if (b->data != NULL)
        memcpy(nd, b->data, b->len + 1);
    else
        nd[0] = '\0';
    char *old = b->data;
    size_t oldlen = b->len;
    b->data = nd;
    b->cap = ncap;
    if (old != NULL) {
        if (b->secure) {
            sodium_free(old);
        } else {
            sodium_memzero(old, oldlen);
            free(old);
        }
    }
    return 0;
}

void ldk_buf_printf(ldk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ldk_buf_free(ldk_buf *b)
{
    if (b->data != NULL) {
        if (b->secure) {
            sodium_free(b->data);
        } else {
            sodium_memzero(b->data, b->cap);
            free(b->data);
        }
    }
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
