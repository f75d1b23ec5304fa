/* timefmt.c - RFC 3339 UTC timestamps (2026-11-27T03:32:25Z). */
#include <string.h>
#include <time.h>

#include "internal.h"

int ldk_time_format(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t < 0 || (int64_t)tt != t || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999)
        return LD_ERR_INVALID;
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) != LDK_TIME_LEN)
        return LD_ERR_INVALID;
    return LD_OK;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ldk_time_parse(const char *s, int64_t *out)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;
    if (strlen(s) != LDK_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &se))
        return LD_ERR_FORMAT;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
        return LD_ERR_FORMAT;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return LD_ERR_FORMAT;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return LD_ERR_FORMAT;
    *out = (int64_t)t;
    return LD_OK;
}
