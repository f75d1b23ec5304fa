/* config.c - see config.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "liandong/error.h"
#include "plan.h"

void ldp_config_clear(ldp_config *c)
{
    for (size_t i = 0; i < c->n_plans; i++)
        free(c->plans[i]);
    free(c->plans);
    memset(c, 0, sizeof *c);
}

static int is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!n->data.scalar.length || strcmp((const char *)n->data.scalar.value, "~") == 0 ||
            strcmp((const char *)n->data.scalar.value, "null") == 0);
}

static int parse_plans(yaml_document_t *doc, yaml_node_t *v, ldp_config *c, char *err,
                       size_t errlen)
{
    if (is_null(v))
        return LD_OK;
    if (v->type != YAML_SEQUENCE_NODE) {
        snprintf(err, errlen, "plans config: plans must be a list of plan file paths");
        return LD_ERR_FORMAT;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (!n)
        return LD_OK;
    c->plans = calloc(n, sizeof *c->plans);
    if (!c->plans)
        return LD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = yaml_document_get_node(doc, v->data.sequence.items.start[i]);
        if (!e || e->type != YAML_SCALAR_NODE || !e->data.scalar.length ||
            strlen((const char *)e->data.scalar.value) != e->data.scalar.length) {
            snprintf(err, errlen, "plans config: entry %zu of plans is not a file path", i + 1);
            return LD_ERR_FORMAT;
        }
        if (!(c->plans[c->n_plans] = strdup((const char *)e->data.scalar.value)))
            return LD_ERR_NOMEM;
        c->n_plans++;
    }
    return LD_OK;
}

static int parse_root(yaml_document_t *doc, ldp_config *c, char *err, size_t errlen)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root || is_null(root))
        return LD_OK;
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "plans config: expected a mapping with plans and report_default");
        return LD_ERR_FORMAT;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key =
            k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        int rc = LD_OK;
        if (strcmp(key, "plans") == 0) {
            if (c->n_plans) {
                snprintf(err, errlen, "plans config: plans is given twice");
                return LD_ERR_FORMAT;
            }
            rc = parse_plans(doc, v, c, err, errlen);
        } else if (strcmp(key, "report_default") == 0) {
            const char *val =
                v && v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
            if (!ldp_report_every_valid(val)) {
                snprintf(err, errlen,
                         "plans config: report_default must be none, month, quarter, half-year or "
                         "year");
                return LD_ERR_FORMAT;
            }
            snprintf(c->report_default, sizeof c->report_default, "%s", val);
        } else {
            char shown[64];
            snprintf(shown, sizeof shown, "%s", key);
            snprintf(err, errlen,
                     "plans config: unknown setting '%s' (plans and report_default are known)",
                     shown);
            return LD_ERR_FORMAT;
        }
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

int ldp_config_parse(const char *yaml, ldp_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    snprintf(c->report_default, sizeof c->report_default, "%s", LDP_REPORT_DEFAULT);
    if (!yaml || !*yaml)
        return LD_OK;
    yaml_parser_t yp;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&yp))
        return LD_ERR_NOMEM;
    yaml_parser_set_input_string(&yp, (const unsigned char *)yaml, strlen(yaml));
    int rc;
    if (!yaml_parser_load(&yp, &doc)) {
        snprintf(err, errlen, "plans config: not valid YAML: %s",
                 yp.problem ? yp.problem : "syntax error");
        rc = LD_ERR_FORMAT;
    } else {
        rc = parse_root(&doc, c, err, errlen);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&yp);
    if (rc != LD_OK) {
        if (rc == LD_ERR_NOMEM)
            snprintf(err, errlen, "plans config: out of memory");
        ldp_config_clear(c);
    }
    return rc;
}
