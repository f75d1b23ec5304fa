/* brokerkit.c - see brokerkit.h. */
#define _GNU_SOURCE
#include "brokerkit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGV_MAX 64

static void sleep_10ms(void)
{
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
}

int ldbk_broker_keys(const char *keys, const char *secret, const char *pub, const char *roster,
                     ldk_identity **broker, char *err, size_t errlen)
{
    if (mkdir(keys, 0700) != 0) {
        snprintf(err, errlen, "mkdir %s: %s", keys, strerror(errno));
        return -1;
    }
    if (ldk_identity_generate("broker", "Liandong broker", 0, broker, err, errlen) != LD_OK ||
        ldk_identity_save_secret(*broker, secret, err, errlen) != LD_OK ||
        ldk_identity_save_public(*broker, pub, err, errlen) != LD_OK)
        return -1;
    ldk_roster *r;
    int rc = ldk_roster_new(&r);
    if (rc != LD_OK) {
        snprintf(err, errlen, "an empty roster: %s", ld_strerror(rc));
        return -1;
    }
    rc = ldk_roster_save(r, roster, err, errlen);
    ldk_roster_destroy(&r);
    return rc == LD_OK ? 0 : -1;
}

int ldbk_spawn(const ldbk_start *s, pid_t *pid, char *err, size_t errlen)
{
    const char *argv[ARGV_MAX];
    int n = 0;
    argv[n++] = s->bin;
    argv[n++] = "--listen";
    argv[n++] = s->listen && s->listen[0] ? s->listen : "tcp://127.0.0.1:*";
    argv[n++] = "--data-dir";
    argv[n++] = s->data;
    argv[n++] = "--roster";
    argv[n++] = s->roster;
    argv[n++] = "--key";
    argv[n++] = s->key;
    argv[n++] = "--ready-file";
    argv[n++] = s->ready;
    if (s->log_level) {
        argv[n++] = "--log-level";
        argv[n++] = s->log_level;
    }
    for (int i = 0; s->extra && s->extra[i]; i++) {
        if (n == ARGV_MAX - 1) {
            snprintf(err, errlen, "more than %d arguments for the broker", ARGV_MAX - 1);
            return -1;
        }
        argv[n++] = s->extra[i];
    }
    argv[n] = NULL;
    unlink(s->ready);
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (child == 0) {
        if (s->stderr_file) {
            int fd = open(s->stderr_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0)
                dup2(fd, 2);
        }
        execv(s->bin, (char *const *)argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", program_invocation_short_name, s->bin,
                strerror(errno));
        _exit(127);
    }
    *pid = child;
    return 0;
}

int ldbk_start_broker(const ldbk_start *s, pid_t *pid, char *endpoint, size_t eplen, int timeout_ms,
                      char *err, size_t errlen)
{
    if (ldbk_spawn(s, pid, err, errlen) != 0)
        return -1;
    /* The broker writes the ready file (renamed into place) once bound. */
    for (int i = 0; i < timeout_ms / 10; i++) {
        FILE *f = fopen(s->ready, "r");
        if (f) {
            char buf[256] = "";
            if (fgets(buf, sizeof buf, f)) {
                buf[strcspn(buf, "\n")] = 0;
                snprintf(endpoint, eplen, "%s", buf);
            }
            fclose(f);
            if (endpoint[0])
                return 0;
        }
        int st;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = 0;
            if (WIFSIGNALED(st))
                snprintf(err, errlen, "the broker %s was killed by signal %d at start", s->bin,
                         WTERMSIG(st));
            else
                snprintf(err, errlen,
                         "the broker %s exited at start with status %d (its log says why)", s->bin,
                         WEXITSTATUS(st));
            return -1;
        }
        sleep_10ms();
    }
    snprintf(err, errlen, "the broker did not become ready within %d s", timeout_ms / 1000);
    return -1;
}

int ldbk_stop(pid_t *pid, int sig, int timeout_ms, int *status)
{
    *status = 0;
    if (sig)
        kill(*pid, sig);
    for (int i = 0; i < timeout_ms / 10; i++) {
        if (waitpid(*pid, status, WNOHANG) == *pid) {
            *pid = 0;
            return 0;
        }
        sleep_10ms();
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, status, 0);
    *pid = 0;
    return -1;
}

int ldbk_remove_dir(const char *dir)
{
    char cmd[PATH_MAX + 16];
    if (strlen(dir) > PATH_MAX)
        return -1;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}
