/* log.h - one line per event on stderr, with a level. */
#ifndef LDB_LOG_H
#define LDB_LOG_H

enum ldb_log_level { LDB_LOG_DEBUG, LDB_LOG_INFO, LDB_LOG_WARN, LDB_LOG_ERROR };

void ldb_log_set_level(enum ldb_log_level level);
/* Parse "debug", "info", "warn", "error". Returns 0 or -1. */
int ldb_log_parse_level(const char *s, enum ldb_log_level *out);
void ldb_log(enum ldb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ldb_debug(...) ldb_log(LDB_LOG_DEBUG, __VA_ARGS__)
#define ldb_info(...) ldb_log(LDB_LOG_INFO, __VA_ARGS__)
#define ldb_warn(...) ldb_log(LDB_LOG_WARN, __VA_ARGS__)
#define ldb_error(...) ldb_log(LDB_LOG_ERROR, __VA_ARGS__)

#endif
