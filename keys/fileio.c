/* fileio.c - whole-file reads, exclusive creation and atomic replacement. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

static void *buf_alloc(size_t n, int secure)
{
    return secure ? sodium_malloc(n) : malloc(n);
}

void ldk_file_free(char *buf, size_t len, int secure)
{
    if (buf == NULL)
        return;
    if (secure) {
        sodium_free(buf); /* wipes */
    } else {
        sodium_memzero(buf, len);
        free(buf);
    }
}

int ldk_file_read(const char *path, int secure, size_t max, char **buf, size_t *len,
                  struct stat *st, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return ldk_seterr(err, errlen, e == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                          "%s: cannot open: %s", path, strerror(e));
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return ldk_seterr(err, errlen, LD_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s: not a regular file", path);
    }
    if ((uintmax_t)st->st_size > max) {
        close(fd);
        return ldk_seterr(err, errlen, LD_ERR_FORMAT, "%s: file too large (%jd bytes, at most %zu)",
                          path, (intmax_t)st->st_size, max);
    }
    /* Read up to max + 1 bytes, whatever st_size said: files may change. */
    size_t cap = (size_t)st->st_size + 2; /* room for the NUL and to see EOF */
    char *b = buf_alloc(cap, secure);
    if (b == NULL) {
        close(fd);
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = 0;
    for (;;) {
        if (n + 1 == cap) {
            if (cap >= max + 2) { /* n == max + 1 */
                ldk_file_free(b, n, secure);
                close(fd);
                return ldk_seterr(err, errlen, LD_ERR_FORMAT,
                                  "%s: file too large (at most %zu bytes)", path, max);
            }
            size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
            char *nb = buf_alloc(ncap, secure);
            if (nb == NULL) {
                ldk_file_free(b, n, secure);
                close(fd);
                return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
            }
            memcpy(nb, b, n);
            ldk_file_free(b, n, secure);
            b = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            ldk_file_free(b, n, secure);
            close(fd);
            return ldk_seterr(err, errlen, LD_ERR_IO, "%s: cannot read: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return LD_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Set fd's mode, write data, fsync and close it. NULL on success, or what
 * failed ("write", ...) with errno set; *fd is -1 once close was tried. */
static const char *fill_and_close(int *fd, mode_t mode, const char *data, size_t len)
{
    if (fchmod(*fd, mode) != 0)
        return "set the mode of";
    if (write_all(*fd, data, len) != 0)
        return "write";
    if (fsync(*fd) != 0)
        return "sync";
    int rc = close(*fd);
    *fd = -1;
    return rc != 0 ? "close" : NULL;
}

int ldk_file_create(const char *path, mode_t mode, const char *data, size_t len, char *err,
                    size_t errlen)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            return ldk_seterr(err, errlen, LD_ERR_EXISTS, "%s already exists; not overwriting it",
                              path);
        return ldk_seterr(err, errlen, e == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                          "%s: cannot create: %s", path, strerror(e));
    }
    const char *what = fill_and_close(&fd, mode, data, len);
    if (what == NULL)
        return LD_OK;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(path);
    return ldk_seterr(err, errlen, LD_ERR_IO, "%s: cannot %s it: %s", path, what, strerror(e));
}

/* fsync the directory holding path, so that a rename is durable. */
static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ldk_file_replace(const char *path, mode_t mode, const char *data, size_t len, char *err,
                     size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0)
        mode = st.st_mode & 07777;

    size_t tlen = strlen(path) + sizeof ".tmp.XXXXXX";
    char *tmp = malloc(tlen);
    if (tmp == NULL)
        return ldk_seterr(err, errlen, LD_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, tlen, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return ldk_seterr(err, errlen, e == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                          "%s: cannot create a temporary file next to it: %s", path, strerror(e));
    }
    const char *what = fill_and_close(&fd, mode, data, len);
    if (what == NULL && rename(tmp, path) != 0)
        what = "rename the temporary file onto";
    if (what != NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        return ldk_seterr(err, errlen, LD_ERR_IO, "%s: cannot %s it: %s", path, what, strerror(e));
    }
    free(tmp);
    if (sync_dir(path) != 0)
        return ldk_seterr(err, errlen, LD_ERR_IO, "%s: written, but cannot sync its directory: %s",
                          path, strerror(errno));
    return LD_OK;
}
