#ifndef RAMPART_CRESOLV_H
#define RAMPART_CRESOLV_H

#include <stddef.h>

/// What a TXT query came to.
enum rampart_txt_status {
    RAMPART_TXT_OK = 0,          // an answer; `out` holds its TXT records (maybe none)
    RAMPART_TXT_NXDOMAIN = 1,    // the name does not exist
    RAMPART_TXT_NODATA = 2,      // the name exists but has no TXT record
    RAMPART_TXT_TRY_AGAIN = 3,   // no answer in time, or the server failed
    RAMPART_TXT_REFUSED = 4,     // the server refused or could not answer
    RAMPART_TXT_SETUP = 5,       // the resolver could not be set up (bad server address, no memory)
    RAMPART_TXT_MALFORMED = 6,   // the answer could not be parsed
};

/// Asks for the TXT records of `name` through glibc's resolver, at `server` (an IPv4
/// address, with `port`) or, when `server` is NULL, at the servers of /etc/resolv.conf.
/// Each record's character-strings are joined into one value; values are written to `out`
/// one after another, each ended by a NUL byte; `*written` is how many bytes. Values that
/// do not fit are left out. Blocking: call it off the event loops.
int rampart_txt_query(const char *name, const char *server, int port, int timeout_seconds, int attempts,
                      char *out, size_t capacity, size_t *written);

#endif
