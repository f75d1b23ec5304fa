/* cc.c - an example Liandong plugin, built out of tree against the installed
 * headers: copy (抄送) messages sent to some principals to others as well.
 *
 *   plugins:
 *     - name: cc
 *       path: /path/to/cc.so
 *       config:
 *         rules:
 *           - {to: mdj.zf.dcs, cc: [mdj.zf.bgs]}   # what goes to 督查室 also goes to 办公室
 *
 * It looks at Direct messages only, and adds the copies as recipients of the
 * original signed envelope (host->add_recipient), inside the message's
 * transaction: a copy is stored exactly when the message is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <liandong/liandong.pb-c.h>
#include <liandong/plugin.h>

#define MAX_RULES 64

struct rule {
    char to[65];
    char cc[8][65];
    int n_cc;
};

struct cc {
    const ld_host *host;
    ld_plugin_ctx *ctx;
    struct rule rules[MAX_RULES];
    int n_rules;
};

static const char *scalar(yaml_document_t *d, int id)
{
    yaml_node_t *n = yaml_document_get_node(d, id);
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Parse `rules: [{to: ID, cc: [ID, ...]}, ...]`. 0 or -1 with err set. */
static int parse_rules(struct cc *s, yaml_document_t *d, yaml_node_t *root, char *err,
                       size_t errlen)
{
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *key = scalar(d, p->key);
        yaml_node_t *v = yaml_document_get_node(d, p->value);
        if (!key || strcmp(key, "rules") != 0 || v->type != YAML_SEQUENCE_NODE) {
            snprintf(err, errlen, "config: expected only 'rules', a list of {to, cc}");
            return -1;
        }
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
             i++) {
            yaml_node_t *r = yaml_document_get_node(d, *i);
            if (r->type != YAML_MAPPING_NODE || s->n_rules == MAX_RULES) {
                snprintf(err, errlen, "config: each rule is {to: ID, cc: [ID, ...]}");
                return -1;
            }
            struct rule *rule = &s->rules[s->n_rules++];
            for (yaml_node_pair_t *q = r->data.mapping.pairs.start; q < r->data.mapping.pairs.top;
                 q++) {
                const char *k = scalar(d, q->key);
                yaml_node_t *val = yaml_document_get_node(d, q->value);
                if (k && strcmp(k, "to") == 0 && scalar(d, q->value)) {
                    snprintf(rule->to, sizeof rule->to, "%s", scalar(d, q->value));
                } else if (k && strcmp(k, "cc") == 0 && val->type == YAML_SEQUENCE_NODE) {
                    for (yaml_node_item_t *c = val->data.sequence.items.start;
                         c < val->data.sequence.items.top && rule->n_cc < 8; c++)
                        if (scalar(d, *c))
                            snprintf(rule->cc[rule->n_cc++], 65, "%s", scalar(d, *c));
                } else {
                    snprintf(err, errlen, "config: unknown rule field '%s'", k ? k : "?");
                    return -1;
                }
            }
            /* Every principal named must exist: a typo should stop the broker. */
            ld_principal_info info;
            if (!rule->to[0] || s->host->principal(s->ctx, rule->to, &info) != LD_OK) {
                snprintf(err, errlen, "config: rule 'to: %s' names no principal in the roster",
                         rule->to);
                return -1;
            }
            for (int c = 0; c < rule->n_cc; c++) {
                if (s->host->principal(s->ctx, rule->cc[c], &info) != LD_OK) {
                    snprintf(err, errlen, "config: 'cc: %s' names no principal in the roster",
                             rule->cc[c]);
                    return -1;
                }
            }
        }
    }
    return 0;
}

static int init(const ld_host *host, ld_plugin_ctx *ctx, const char *config, void **state,
                char *err, size_t errlen)
{
    struct cc *s = calloc(1, sizeof *s);
    if (!s)
        return LD_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)config, strlen(config));
    int rc = LD_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "config: %s", parser.problem ? parser.problem : "not YAML");
        rc = LD_ERR_FORMAT;
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && (root->type != YAML_MAPPING_NODE || parse_rules(s, &doc, root, err, errlen)))
            rc = LD_ERR_FORMAT;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    if (rc != LD_OK) {
        free(s);
        return rc;
    }
    host->log(ctx, LD_LOG_INFO, "%d copy rules", s->n_rules);
    *state = s;
    return LD_OK;
}

static int on_message(void *state, ld_plugin_txn *txn, const ld_plugin_message *m,
                      ld_plugin_verdict *v)
{
    (void)txn;
    struct cc *s = state;
    if (m->body_case != LIANDONG__V1__BODY__MSG_DIRECT)
        return LD_PLUGIN_PASS;
    Liandong__V1__Body *b = liandong__v1__body__unpack(NULL, m->body_len, m->body);
    if (!b)
        return LD_PLUGIN_ERROR;
    int rc = LD_OK;
    for (size_t i = 0; i < b->direct->n_to && rc == LD_OK; i++)
        for (int r = 0; r < s->n_rules && rc == LD_OK; r++)
            if (strcmp(b->direct->to[i], s->rules[r].to) == 0)
                for (int c = 0; c < s->rules[r].n_cc && rc == LD_OK; c++)
                    rc = s->host->add_recipient(v, s->rules[r].cc[c]);
    liandong__v1__body__free_unpacked(b, NULL);
    return rc == LD_OK ? LD_PLUGIN_PASS : LD_PLUGIN_ERROR;
}

static void fini(void *state)
{
    free(state);
}

LD_PLUGIN_EXPORT const ld_plugin_descriptor ld_plugin_entry = {
    .abi_version = LD_PLUGIN_ABI_VERSION,
    .name = "cc",
    .version = "1.0",
    .init = init,
    .on_message = on_message,
    .fini = fini,
};
