/* brokerkit.h - a liandong-broker child process in a temporary directory:
 * its keys and roster, starting it, waiting for its ready file, stopping
 * it. Shared by liandong-bench (bench/common.c) and the integration test
 * harness (tests/integration/harness.c); plain C without a test framework:
 * each call returns 0, or -1 with one sentence in err, and the caller fails
 * its test or dies. */
#ifndef LD_BROKERKIT_H
#define LD_BROKERKIT_H

#include <stddef.h>
#include <sys/types.h>

#include "ldk/keys.h"

/* Make the directory keys (mode 0700), generate the broker's identity
 * ("broker") and save it as secret and pub, and save an empty roster as
 * roster. *broker gets the identity (the caller destroys it). */
int ldbk_broker_keys(const char *keys, const char *secret, const char *pub, const char *roster,
                     ldk_identity **broker, char *err, size_t errlen);

/* How a broker is started: bin --listen LISTEN --data-dir DATA --roster
 * ROSTER --key KEY --ready-file READY [--log-level LEVEL] [EXTRA...]. */
typedef struct ldbk_start {
    const char *bin;          /* the broker binary */
    const char *listen;       /* NULL or "": tcp://127.0.0.1:* (an ephemeral port) */
    const char *data;         /* data directory */
    const char *roster;       /* roster file */
    const char *key;          /* the broker's secret key file */
    const char *ready;        /* ready file (removed before the start) */
    const char *log_level;    /* NULL: the broker's default */
    const char *const *extra; /* more arguments, NULL-terminated; may be NULL */
    const char *stderr_file;  /* the broker's stderr goes there; NULL: this process's */
} ldbk_start;

/* Fork and exec the broker; *pid gets its pid. Does not wait for it. */
int ldbk_spawn(const ldbk_start *s, pid_t *pid, char *err, size_t errlen);

/* ldbk_spawn, then wait at most timeout_ms for the ready file; its line
 * (the endpoint the broker bound) goes into endpoint. On an exit at start
 * *pid is 0 again; on a timeout the broker is left running (*pid). */
int ldbk_start_broker(const ldbk_start *s, pid_t *pid, char *endpoint, size_t eplen, int timeout_ms,
                      char *err, size_t errlen);

/* Send sig to the child *pid (0: none, just wait for it to exit) and reap
 * it; if it has not exited within timeout_ms, SIGKILL it. *status gets its
 * wait status, *pid becomes 0. Returns 0, or -1 if it had to be killed. */
int ldbk_stop(pid_t *pid, int sig, int timeout_ms, int *status);

/* rm -rf dir. 0, or -1 if that failed. */
int ldbk_remove_dir(const char *dir);

#endif
