/* config.c - broker configuration from a YAML file (libyaml) and defaults. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

void ldb_config_init(ldb_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen = strdup(LDB_DEFAULT_LISTEN);
    c->max_message = LDB_DEFAULT_MAX_MESSAGE;
    c->skew_ms = (int64_t)LDB_DEFAULT_SKEW_S * 1000;
    c->map_size = (size_t)LDB_DEFAULT_MAP_MB * 1024 * 1024;
    c->batch_max = LDB_DEFAULT_BATCH;
    c->tick_ms = LDB_DEFAULT_TICK_MS;
    c->dedup_days = LDB_DEFAULT_DEDUP_DAYS;
    c->heartbeat_ms = LDB_DEFAULT_HEARTBEAT_MS;
    c->log_level = LDB_LOG_INFO;
}

void ldb_config_clear(ldb_config *c)
{
    free(c->listen);
    free(c->data_dir);
    free(c->roster);
    free(c->key);
    free(c->ready_file);
    free(c->plugin_dir);
    for (size_t i = 0; i < c->n_plugins; i++) {
        free(c->plugins[i].name);
        free(c->plugins[i].path);
        free(c->plugins[i].config_yaml);
    }
    free(c->plugins);
    memset(c, 0, sizeof *c);
}

int ldb_parse_time(const char *s, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    if (!p)
        return -1;
    long offset = 0;
    if (*p == 'T' || *p == ' ') {
        p = strptime(p + 1, "%H:%M:%S", &tm);
        if (!p)
            return -1;
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int hh, mm;
            if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                return -1;
            offset = (hh * 60L + mm) * 60L * (*p == '+' ? 1 : -1);
            p += 6;
        } else if (*p) {
            return -1;
        }
    }
    if (*p)
        return -1;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - offset) * 1000;
    return 0;
}

static int set_err(char *err, size_t errlen, const char *path, const yaml_node_t *n,
                   const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    if (n)
        snprintf(err, errlen, "%s:%zu: %s", path, n->start_mark.line + 1, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int replace(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

int ldb_config_add_plugin(ldb_config *c, const char *name, const char *path,
                          const char *config_yaml)
{
    ldb_plugin_conf *n = realloc(c->plugins, (c->n_plugins + 1) * sizeof *n);
    if (!n)
        return -1;
    c->plugins = n;
    ldb_plugin_conf *p = &n[c->n_plugins];
    p->name = strdup(name);
    p->path = path ? strdup(path) : NULL;
    p->config_yaml = strdup(config_yaml ? config_yaml : "");
    if (!p->name || (path && !p->path) || !p->config_yaml) {
        free(p->name);
        free(p->path);
        free(p->config_yaml);
        return -1;
    }
    c->n_plugins++;
    return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open config file: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read config file", path);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

struct outbuf {
    char *data;
    size_t len, cap;
};

static int out_write(void *vb, unsigned char *buf, size_t size)
{
    struct outbuf *o = vb;
    if (o->len + size + 1 > o->cap) {
        size_t cap = (o->len + size + 1) * 2;
        char *n = realloc(o->data, cap);
        if (!n)
            return 0;
        o->data = n;
        o->cap = cap;
    }
    memcpy(o->data + o->len, buf, size);
    o->len += size;
    o->data[o->len] = 0;
    return 1;
}

/* Emit node n (and what it contains) as events. */
static int emit_node(yaml_emitter_t *em, yaml_document_t *doc, yaml_node_t *n, int depth)
{
    yaml_event_t ev;
    if (depth > 64)
        return 0;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        yaml_scalar_event_initialize(&ev, NULL, NULL, n->data.scalar.value,
                                     (int)n->data.scalar.length, 1, 1, n->data.scalar.style);
        return yaml_emitter_emit(em, &ev);
    case YAML_SEQUENCE_NODE:
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return 0;
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++)
            if (!emit_node(em, doc, yaml_document_get_node(doc, *i), depth + 1))
                return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev);
    case YAML_MAPPING_NODE:
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (!emit_node(em, doc, yaml_document_get_node(doc, p->key), depth + 1) ||
                !emit_node(em, doc, yaml_document_get_node(doc, p->value), depth + 1))
                return 0;
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev);
    default: return 0;
    }
}

/* Node n as a YAML document of its own (UTF-8 kept as is), or NULL. */
static char *node_text(yaml_document_t *doc, yaml_node_t *n)
{
    struct outbuf o = {NULL, 0, 0};
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return NULL;
    yaml_emitter_set_output(&em, out_write, &o);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
             yaml_emitter_emit(&em, &ev) && emit_node(&em, doc, n, 0) &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
             yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    if (!ok) {
        free(o.data);
        return NULL;
    }
    return o.data ? o.data : strdup("");
}

/* plugins: [{name: plans, path: /x/plans.so, config: {...}}, ...] */
static int load_plugins(ldb_config *c, const char *path, yaml_document_t *doc, yaml_node_t *list,
                        char *err, size_t errlen)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return set_err(err, errlen, path, list, "%s",
                       "plugins must be a list of {name, path, config} entries");
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(doc, *it);
        if (e->type == YAML_SCALAR_NODE) {
            if (ldb_config_add_plugin(c, scalar(e), NULL, ""))
                return set_err(err, errlen, path, e, "%s", "out of memory");
            continue;
        }
        if (e->type != YAML_MAPPING_NODE)
            return set_err(err, errlen, path, e, "%s",
                           "a plugin entry is a name or a mapping with name, path, config");
        const char *name = NULL, *ppath = NULL;
        char *conf = NULL;
        for (yaml_node_pair_t *pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            yaml_node_t *v = yaml_document_get_node(doc, pr->value);
            const char *key = scalar(k);
            if (key && strcmp(key, "name") == 0 && scalar(v)) {
                name = scalar(v);
            } else if (key && strcmp(key, "path") == 0 && scalar(v)) {
                ppath = scalar(v);
            } else if (key && strcmp(key, "config") == 0) {
                free(conf);
                conf = node_text(doc, v);
                if (!conf)
                    return set_err(err, errlen, path, v, "%s",
                                   "cannot copy the plugin's config block");
            } else {
                free(conf);
                return set_err(err, errlen, path, k,
                               "unknown plugin setting '%s' (name, path and config are known)",
                               key ? key : "?");
            }
        }
        if (!name) {
            free(conf);
            return set_err(err, errlen, path, e, "%s", "a plugin entry needs a name");
        }
        int rc = ldb_config_add_plugin(c, name, ppath, conf ? conf : "");
        free(conf);
        if (rc)
            return set_err(err, errlen, path, e, "%s", "out of memory");
    }
    return 0;
}

int ldb_config_load(ldb_config *c, const char *path, char *err, size_t errlen)
{
    size_t srclen;
    char *src = read_file(path, &srclen, err, errlen);
    if (!src)
        return -1;
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)src, srclen);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        free(src);
        return -1;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        snprintf(err, errlen, "%s: the config file is empty", path);
        rc = -1;
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        rc = set_err(err, errlen, path, root, "%s", "the config file must be a mapping of keys");
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top && rc == 0; pr++) {
        yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
        if (k->type != YAML_SCALAR_NODE) {
            rc = set_err(err, errlen, path, k, "%s", "keys must be plain names");
            break;
        }
        const char *key = (const char *)k->data.scalar.value;
        if (strcmp(key, "plugins") == 0) {
            rc = load_plugins(c, path, &doc, v, err, errlen);
            continue;
        }
        if (v->type != YAML_SCALAR_NODE) {
            rc = set_err(err, errlen, path, v, "'%s' must be a single value", key);
            break;
        }
        const char *val = (const char *)v->data.scalar.value;
        uint64_t n = 0;
        if (strcmp(key, "listen") == 0) {
            rc = replace(&c->listen, val);
        } else if (strcmp(key, "data_dir") == 0) {
            rc = replace(&c->data_dir, val);
        } else if (strcmp(key, "roster") == 0) {
            rc = replace(&c->roster, val);
        } else if (strcmp(key, "key") == 0) {
            rc = replace(&c->key, val);
        } else if (strcmp(key, "max_message_bytes") == 0) {
            if (parse_u64(val, &n) || n < 1024 || n > 256u * 1024 * 1024)
                rc = set_err(err, errlen, path, v,
                             "max_message_bytes must be a number from 1024 to 268435456, not '%s'",
                             val);
            else
                c->max_message = (size_t)n;
        } else if (strcmp(key, "clock_skew_seconds") == 0) {
            if (parse_u64(val, &n) || n > 86400 * 366)
                rc = set_err(err, errlen, path, v,
                             "clock_skew_seconds must be a number of seconds, not '%s'", val);
            else
                c->skew_ms = (int64_t)n * 1000;
        } else if (strcmp(key, "map_size_mb") == 0) {
            if (parse_u64(val, &n) || n < 1 || n > 1024u * 1024)
                rc = set_err(err, errlen, path, v,
                             "map_size_mb must be a number from 1 to 1048576, not '%s'", val);
            else
                c->map_size = (size_t)n * 1024 * 1024;
        } else if (strcmp(key, "batch_max") == 0) {
            if (parse_u64(val, &n) || n < 1 || n > 65536)
                rc = set_err(err, errlen, path, v,
                             "batch_max must be a number from 1 to 65536, not '%s'", val);
            else
                c->batch_max = (unsigned)n;
        } else if (strcmp(key, "verify_threads") == 0) {
            if (parse_u64(val, &n) || n > 256)
                rc = set_err(err, errlen, path, v,
                             "verify_threads must be a number from 0 (one per core) to 256, not "
                             "'%s'",
                             val);
            else
                c->verify_threads = (unsigned)n;
        } else if (strcmp(key, "simulated_clock") == 0) {
            if (strcmp(val, "false") == 0 || strcmp(val, "no") == 0) {
                c->simulated = 0;
            } else if (strcmp(val, "true") == 0 || strcmp(val, "yes") == 0) {
                c->simulated = 1;
            } else if (ldb_parse_time(val, &c->simulated_start_ms) == 0) {
                c->simulated = 1;
            } else {
                rc = set_err(err, errlen, path, v,
                             "simulated_clock must be true, false or a start time like "
                             "2022-07-01T09:00:00+08:00, not '%s'",
                             val);
            }
        } else if (strcmp(key, "log_level") == 0) {
            if (ldb_log_parse_level(val, &c->log_level))
                rc = set_err(err, errlen, path, v,
                             "log_level must be debug, info, warn or error, not '%s'", val);
        } else if (strcmp(key, "ready_file") == 0) {
            rc = replace(&c->ready_file, val);
        } else if (strcmp(key, "plugin_dir") == 0) {
            rc = replace(&c->plugin_dir, val);
        } else if (strcmp(key, "tick_ms") == 0) {
            if (parse_u64(val, &n) || n < 10 || n > 3600000)
                rc = set_err(err, errlen, path, v,
                             "tick_ms must be a number from 10 to 3600000, not '%s'", val);
            else
                c->tick_ms = (unsigned)n;
        } else if (strcmp(key, "heartbeat_ms") == 0) {
            if (parse_u64(val, &n) || n < LDB_HEARTBEAT_MIN_MS || n > LDB_HEARTBEAT_MAX_MS)
                rc = set_err(err, errlen, path, v,
                             "heartbeat_ms must be a number from 100 to 600000, not '%s'", val);
            else
                c->heartbeat_ms = (unsigned)n;
        } else if (strcmp(key, "dedup_retention_days") == 0) {
            if (parse_u64(val, &n) || n > 36500)
                rc = set_err(err, errlen, path, v,
                             "dedup_retention_days must be a number of days from 0 (keep all) to "
                             "36500, not '%s'",
                             val);
            else
                c->dedup_days = (unsigned)n;
        } else {
            rc =
                set_err(err, errlen, path, k, "unknown setting '%s' (see docs/operations.md)", key);
        }
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(src);
    return rc;
}

int ldb_config_check(const ldb_config *c, char *err, size_t errlen)
{
    if (!c->data_dir) {
        snprintf(err, errlen, "no data directory: give --data-dir DIR or data_dir in --config");
        return -1;
    }
    if (!c->roster) {
        snprintf(err, errlen, "no roster: give --roster FILE or roster in --config");
        return -1;
    }
    if (!c->key) {
        snprintf(err, errlen, "no broker key: give --key broker.secret or key in --config");
        return -1;
    }
    return 0;
}
