/* roles.c - role names and role masks. */
#include <string.h>

#include "internal.h"

static const struct {
    unsigned bit;
    const char *name;
} roles[] = {
    {LDK_ROLE_DEPARTMENT, "department"},
    {LDK_ROLE_COORDINATOR, "coordinator"},
    {LDK_ROLE_SUPERVISION, "supervision"},
    {LDK_ROLE_AUDITOR, "auditor"},
    {LDK_ROLE_ADMIN, "admin"},
};

#define NROLES (sizeof roles / sizeof roles[0])

int ldk_roles_parse(const char *csv, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    const char *p = csv;
    *mask = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma != NULL ? comma : p + strlen(p);
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t n = (size_t)(e - s);
        if (n == 0) {
            /* "" is no roles; an empty item in a list is a mistake. */
            if (comma == NULL && m == 0 && p == csv)
                break;
            return ldk_seterr(err, errlen, LD_ERR_INVALID, "empty role name in a list of roles");
        }
        size_t i;
        for (i = 0; i < NROLES; i++)
            if (strlen(roles[i].name) == n && memcmp(roles[i].name, s, n) == 0)
                break;
        if (i == NROLES) {
            char name[65], shown[65];
            size_t k = n < sizeof name - 1 ? n : sizeof name - 1;
            memcpy(name, s, k);
            name[k] = '\0';
            return ldk_seterr(err, errlen, LD_ERR_INVALID,
                              "unknown role \"%s\" (known: department, coordinator, supervision, "
                              "auditor, admin)",
                              ldk_printable(name, shown, sizeof shown));
        }
        m |= roles[i].bit;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *mask = m;
    return LD_OK;
}

void ldk_roles_format(unsigned mask, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < NROLES; i++) {
        if (!(mask & roles[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", roles[i].name);
        if (n < 0 || (size_t)n >= len - used) {
            buf[used] = '\0'; /* never a partial role name */
            return;
        }
        used += (size_t)n;
    }
}
