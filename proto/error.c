/* error.c - ld_strerror */
#include "liandong/error.h"

const char *ld_strerror(int err)
{
    switch (err) {
    case LD_OK: return "success";
    case LD_ERR_NOMEM: return "out of memory";
    case LD_ERR_INVALID: return "invalid argument";
    case LD_ERR_IO: return "input/output error";
    case LD_ERR_FORMAT: return "bad format";
    case LD_ERR_PERMISSION: return "secret file is accessible by group or others";
    case LD_ERR_NOT_FOUND: return "not found";
    case LD_ERR_EXISTS: return "already exists";
    case LD_ERR_CRYPTO: return "signature verification failed";
    case LD_ERR_TIMEOUT: return "timed out";
    case LD_ERR_REFUSED: return "refused by the broker";
    case LD_ERR_PROTOCOL: return "protocol error";
    case LD_ERR_STORAGE: return "storage error";
    case LD_ERR_STORAGE_FULL: return "storage full";
    case LD_ERR_ZMQ: return "ZeroMQ error";
    case LD_ERR_CLOSED: return "closed";
    case LD_ERR_PLUGIN: return "a broker plugin failed";
    case LD_ERR_WINDOW_FULL: return "send window full";
    }
    return "unknown error";
}
