/* reliability.c - see reliability.h. */
#define _GNU_SOURCE
#include "reliability.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#ifndef LD_PLANS_PLUGIN
#error "LD_PLANS_PLUGIN must name the plans plugin"
#endif
#ifndef LD_ESCALATION_PLUGIN
#error "LD_ESCALATION_PLUGIN must name the escalation plugin"
#endif
#ifndef LD_AUDIT_PLUGIN
#error "LD_AUDIT_PLUGIN must name the audit plugin"
#endif
#ifndef LD_CLI_BIN
#error "LD_CLI_BIN must name the liandong CLI"
#endif

void rel_write_plugins_config(th_env *e, const char *audit_config, char *path, size_t pathlen)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "plugins:\n"
                     "  - name: plans\n"
                     "    path: \"%s\"\n"
                     "  - name: escalation\n"
                     "    path: \"%s\"\n"
                     "  - name: audit\n"
                     "    path: \"%s\"\n",
                     LD_PLANS_PLUGIN, LD_ESCALATION_PLUGIN, LD_AUDIT_PLUGIN);
    if (audit_config)
        n += snprintf(text + n, sizeof text - (size_t)n, "    config: %s\n", audit_config);
    assert_true(n > 0 && (size_t)n < sizeof text);
    th_write_file(e, "broker.yaml", text, path, pathlen);
}

int rel_audit_verify(const th_env *e, char *line, size_t linelen)
{
    char cmd[2048], rest[1024];
    snprintf(cmd, sizeof cmd, "'%s' audit verify --data-dir '%s' --broker-key '%s' 2>&1",
             LD_CLI_BIN, e->data, e->broker_pub);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, (int)linelen, p))
        line[0] = 0;
    line[strcspn(line, "\n")] = 0;
    fprintf(stderr, "audit verify: %s\n", line);
    while (fgets(rest, sizeof rest, p))
        fprintf(stderr, "audit verify: %s", rest);
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(line, "audit: OK: ");
}
