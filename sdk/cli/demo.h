/* demo.h - data for `liandong demo`: the embedded plan and department names. */
#ifndef LD_CLI_DEMO_H
#define LD_CLI_DEMO_H

#include <stddef.h>

/* Embedded at build time (cmake/embed.cmake). */
extern const unsigned char ld_demo_plan_yaml[];
extern const size_t ld_demo_plan_yaml_len;
extern const unsigned char ld_demo_departments_yaml[];
extern const size_t ld_demo_departments_yaml_len;

#define DEMO_MAX_PRINCIPALS 128

/* The principals a plan names, each once, in order of first mention. */
typedef struct demo_principal {
    char id[65];
    char name[257]; /* from departments.yaml; the id if it has no entry */
    unsigned roles; /* LDK_ROLE_* */
    int lead_tasks; /* tasks where it leads */
    int support_tasks;
} demo_principal;

typedef struct demo_cast {
    char plan_id[65];
    char doc_number[128];
    char title[512];
    int n_tasks;
    demo_principal p[DEMO_MAX_PRINCIPALS];
    size_t n;
} demo_cast;

/* Read the embedded plan and departments. 0, or -1 with a sentence in err. */
int demo_cast_load(demo_cast *c, char *err, size_t errlen);
/* The index of id in c, or -1. */
int demo_cast_find(const demo_cast *c, const char *id);

#endif
