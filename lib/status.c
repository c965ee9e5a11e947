#include "tc_internal.h"

const char *tc_status_str(tc_status s)
{
    switch (s) {
    case TC_OK: return "success";
    case TC_ERR_INVALID_ARG: return "invalid argument";
    case TC_ERR_NOMEM: return "out of memory";
    case TC_ERR_IO: return "I/O error";
    case TC_ERR_FORMAT: return "unexpected data format";
    case TC_ERR_NOT_FOUND: return "not found";
    case TC_ERR_GEOMETRY: return "geometry error";
    case TC_ERR_CRS: return "coordinate reference system error";
    case TC_ERR_INTERNAL: return "internal error";
    case TC_STATUS_END_: break;
    }
    return "unknown status";
}
