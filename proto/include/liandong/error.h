/* liandong/error.h - the one error enum shared by the SDK, the broker and the tools.
 *
 * Numbers are stable: new codes are added at the end. ld_strerror() returns a
 * string literal (never NULL). Wire refusals (Nack reason codes) are not errors
 * of this enum: they are ld_reason values, see liandong/liandong.h.
 */
#ifndef LIANDONG_ERROR_H
#define LIANDONG_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum ld_error {
    LD_OK = 0,
    LD_ERR_NOMEM = 1,         /* out of memory */
    LD_ERR_INVALID = 2,       /* invalid argument */
    LD_ERR_IO = 3,            /* file or socket I/O failed (see errno / log) */
    LD_ERR_FORMAT = 4,        /* a file or message is not in the expected format */
    LD_ERR_PERMISSION = 5,    /* a secret file is readable by group or others */
    LD_ERR_NOT_FOUND = 6,     /* no such file, principal or entry */
    LD_ERR_EXISTS = 7,        /* already present */
    LD_ERR_CRYPTO = 8,        /* a signature did not verify / crypto failure */
    LD_ERR_TIMEOUT = 9,       /* no answer in time */
    LD_ERR_REFUSED = 10,      /* the broker refused (Nack); see the reason */
    LD_ERR_PROTOCOL = 11,     /* the peer broke the protocol */
    LD_ERR_STORAGE = 12,      /* LMDB failed */
    LD_ERR_STORAGE_FULL = 13, /* LMDB map full */
    LD_ERR_ZMQ = 14,          /* ZeroMQ call failed */
    LD_ERR_CLOSED = 15,       /* the object was closed / interrupted */
    LD_ERR_PLUGIN = 16,       /* a broker plugin failed */
    LD_ERR_WINDOW_FULL = 17,  /* the client's send window is full: collect a result first */
};

/* A short English description of err. Never NULL. */
const char *ld_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
