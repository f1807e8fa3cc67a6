#include "lib/err.h"

const char *err_name(int err)
{
    switch (err) {
    case 0: return "OK";
    case ERR_PERM: return "ERR_PERM";
    case ERR_NOENT: return "ERR_NOENT";
    case ERR_INTR: return "ERR_INTR";
    case ERR_BADF: return "ERR_BADF";
    case ERR_AGAIN: return "ERR_AGAIN";
    case ERR_NOMEM: return "ERR_NOMEM";
    case ERR_FAULT: return "ERR_FAULT";
    case ERR_BUSY: return "ERR_BUSY";
    case ERR_EXIST: return "ERR_EXIST";
    case ERR_INVAL: return "ERR_INVAL";
    case ERR_NOSPC: return "ERR_NOSPC";
    case ERR_PIPE: return "ERR_PIPE";
    case ERR_RANGE: return "ERR_RANGE";
    case ERR_TYPE: return "ERR_TYPE";
    case ERR_TIMEDOUT: return "ERR_TIMEDOUT";
    case ERR_ALREADY: return "ERR_ALREADY";
    case ERR_STALE: return "ERR_STALE";
    default: return "ERR_UNKNOWN";
    }
}
