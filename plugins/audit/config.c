/* config.c - the audit plugin's `config:` block. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "audit_int.h"

static int number(const yaml_node_t *v, const char *key, unsigned long long max,
                  unsigned long long *out, char *err, size_t errlen)
{
    const char *s = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (!*s || *end || errno || n == 0 || n > max || *s == '-') {
        snprintf(err, errlen, "audit config: %s must be a whole number from 1 to %llu, not '%s'",
                 key, max, s);
        return LD_ERR_FORMAT;
    }
    *out = n;
    return LD_OK;
}

int lda_config_parse(const char *yaml, lda_config *c, char *err, size_t errlen)
{
    c->checkpoint_records = 1000;
    c->checkpoint_ms = 300 * 1000;
    c->query_max = 1000;
    if (!yaml || !*yaml)
        return LD_OK;
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        return LD_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
    if (!yaml_parser_load(&p, &doc)) {
        snprintf(err, errlen, "audit config: line %zu: %s", p.problem_mark.line + 1,
                 p.problem ? p.problem : "not YAML");
        yaml_parser_delete(&p);
        return LD_ERR_FORMAT;
    }
    int rc = LD_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
             pr < root->data.mapping.pairs.top && rc == LD_OK; pr++) {
            yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
            yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
            const char *key =
                k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
            unsigned long long n = 0;
            if (strcmp(key, "checkpoint_records") == 0) {
                rc = number(v, key, 100000000ull, &n, err, errlen);
                c->checkpoint_records = n;
            } else if (strcmp(key, "checkpoint_seconds") == 0) {
                rc = number(v, key, 86400ull * 366, &n, err, errlen);
                c->checkpoint_ms = (int64_t)n * 1000;
            } else if (strcmp(key, "query_max") == 0) {
                rc = number(v, key, 100000ull, &n, err, errlen);
                c->query_max = (unsigned)n;
            } else {
                snprintf(err, errlen,
                         "audit config: unknown key '%s' (known: checkpoint_records, "
                         "checkpoint_seconds, query_max)",
                         key);
                rc = LD_ERR_FORMAT;
            }
        }
    } else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length)) {
        snprintf(err, errlen, "audit config: expected a mapping of settings");
        rc = LD_ERR_FORMAT;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}
