/* text.h - the plans plugin's checks on text: UTF-8, ids, calendar dates.
 *
 * Pure functions, no allocation, safe on any input. */
#ifndef LDP_TEXT_H
#define LDP_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest plan, task or principal id, in bytes (ids are [a-z0-9._-]). */
#define LDP_ID_MAX 64
/* A date "YYYY-MM-DD" and its terminating NUL. */
#define LDP_DATE_BYTES 11

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF) with no NUL byte; else 0. */
int ldp_utf8_valid(const char *s, size_t len);

/* 1 if s is a plan, task or principal id: 1..LDP_ID_MAX bytes of
 * [a-z0-9._-]; else 0. s may be NULL (0). */
int ldp_id_valid(const char *s);

/* 1 if s is exactly "YYYY-MM-DD" and a real calendar date (Gregorian, leap
 * years), year 1000..9999; else 0. s may be NULL (0). */
int ldp_date_valid(const char *s);

/* The calendar date in China (UTC+8, no daylight saving) of the Unix time
 * ms, as "YYYY-MM-DD" into out. */
void ldp_date_china(int64_t ms, char out[LDP_DATE_BYTES]);

/* Copy at most max bytes of s into out (size outlen) for a message to
 * people, replacing bytes that are not printable ASCII or part of valid
 * UTF-8 with '?', and ending with "..." when cut. Never fails. */
void ldp_quote(const char *s, size_t max, char *out, size_t outlen);

#endif
