/* duration.c - ld_duration_parse: "90d", "36h", "1h30m", "2w", "45". */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "liandong/liandong.h"

static int unit_ms(const char **p, int64_t *ms)
{
    const char *s = *p;
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        {"ms", 1}, {"w", 604800000}, {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(s, units[i].name, n) == 0) {
            *p = s + n;
            *ms = units[i].ms;
            return 0;
        }
    }
    return -1;
}

int ld_duration_parse(const char *s, int64_t *ms)
{
    if (!s || !ms || !*s)
        return LD_ERR_INVALID;
    int64_t total = 0;
    int pairs = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return LD_ERR_INVALID;
        int64_t n = 0;
        while (isdigit((unsigned char)*s)) {
            if (n > (INT64_MAX - 9) / 10)
                return LD_ERR_INVALID;
            n = n * 10 + (*s++ - '0');
        }
        int64_t unit;
        if (!*s && pairs == 0) {
            unit = 1000; /* a bare number: seconds */
        } else if (unit_ms(&s, &unit) != 0) {
            return LD_ERR_INVALID;
        }
        if (n > (INT64_MAX - total) / unit)
            return LD_ERR_INVALID;
        total += n * unit;
        pairs++;
    }
    *ms = total;
    return LD_OK;
}
