/* demo_data.c - who takes part in `liandong demo`, read from the embedded
 * plan (examples/plans/ir-2022.yaml) and department names
 * (data/seed/departments.yaml, from 牡丹江市人民政府公报 2022 第6期). */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "demo.h"
#include "ldk/keys.h"

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(d, yaml_document_get_node(d, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

int demo_cast_find(const demo_cast *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->p[i].id, id) == 0)
            return (int)i;
    return -1;
}

static demo_principal *add(demo_cast *c, const char *id, unsigned role)
{
    int i = demo_cast_find(c, id);
    if (i < 0) {
        if (c->n == DEMO_MAX_PRINCIPALS)
            return NULL;
        i = (int)c->n++;
        memset(&c->p[i], 0, sizeof c->p[i]);
        snprintf(c->p[i].id, sizeof c->p[i].id, "%s", id);
        snprintf(c->p[i].name, sizeof c->p[i].name, "%s", id);
    }
    c->p[i].roles |= role;
    return &c->p[i];
}

/* Add every id of a sequence node; count tasks when *count is given. */
static int add_list(demo_cast *c, yaml_document_t *d, yaml_node_t *seq, unsigned role, int lead)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return 0;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
         i++) {
        const char *id = scalar(d, yaml_document_get_node(d, *i));
        demo_principal *p = id ? add(c, id, role) : NULL;
        if (!p)
            return -1;
        if (lead == 1)
            p->lead_tasks++;
        else if (lead == 0)
            p->support_tasks++;
    }
    return 0;
}

static int load_doc(const unsigned char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, text, len);
    int ok = yaml_parser_load(&parser, doc);
    yaml_parser_delete(&parser);
    return ok ? 0 : -1;
}

int demo_cast_load(demo_cast *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    yaml_document_t d;
    if (load_doc(ld_demo_plan_yaml, ld_demo_plan_yaml_len, &d) != 0) {
        snprintf(err, errlen, "the embedded plan is not YAML");
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d), *plan = get(&d, root, "plan");
    int rc = -1;
    const char *s;
    if (!plan)
        goto out;
    if ((s = scalar(&d, get(&d, plan, "id"))))
        snprintf(c->plan_id, sizeof c->plan_id, "%s", s);
    if ((s = scalar(&d, get(&d, plan, "doc_number"))))
        snprintf(c->doc_number, sizeof c->doc_number, "%s", s);
    if ((s = scalar(&d, get(&d, plan, "title"))))
        snprintf(c->title, sizeof c->title, "%s", s);
    if (add_list(c, &d, get(&d, plan, "coordinators"), LDK_ROLE_COORDINATOR, -1) ||
        add_list(c, &d, get(&d, plan, "supervision"), LDK_ROLE_SUPERVISION, -1))
        goto out;
    yaml_node_t *tasks = get(&d, root, "tasks");
    if (!tasks || tasks->type != YAML_SEQUENCE_NODE)
        goto out;
    for (yaml_node_item_t *i = tasks->data.sequence.items.start; i < tasks->data.sequence.items.top;
         i++) {
        yaml_node_t *t = yaml_document_get_node(&d, *i);
        c->n_tasks++;
        if (add_list(c, &d, get(&d, t, "lead"), LDK_ROLE_DEPARTMENT, 1) ||
            add_list(c, &d, get(&d, t, "support"), LDK_ROLE_DEPARTMENT, 0))
            goto out;
    }
    rc = 0;
out:
    yaml_document_delete(&d);
    if (rc) {
        snprintf(err, errlen, "the embedded plan does not have the expected shape");
        return rc;
    }
    /* Names as the gazette prints them. */
    if (load_doc(ld_demo_departments_yaml, ld_demo_departments_yaml_len, &d) != 0) {
        snprintf(err, errlen, "the embedded department list is not YAML");
        return -1;
    }
    yaml_node_t *deps = get(&d, yaml_document_get_root_node(&d), "departments");
    for (yaml_node_item_t *i = deps ? deps->data.sequence.items.start : NULL;
         deps && deps->type == YAML_SEQUENCE_NODE && i < deps->data.sequence.items.top; i++) {
        yaml_node_t *e = yaml_document_get_node(&d, *i);
        const char *id = scalar(&d, get(&d, e, "id")), *name = scalar(&d, get(&d, e, "name"));
        int k = id && name ? demo_cast_find(c, id) : -1;
        if (k >= 0)
            snprintf(c->p[k].name, sizeof c->p[k].name, "%s", name);
    }
    yaml_document_delete(&d);
    return 0;
}
