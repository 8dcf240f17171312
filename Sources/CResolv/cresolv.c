#include "cresolv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

static size_t append_txt(const unsigned char *rdata, size_t length, char *out, size_t capacity, size_t at) {
    // A TXT record's data is one or more <length byte><bytes> strings; they form one value.
    size_t needed = 0;
    for (size_t i = 0; i < length;) {
        size_t part = rdata[i];
        if (i + 1 + part > length) return at;
        needed += part;
        i += 1 + part;
    }
    if (at + needed + 1 > capacity) return at;
    for (size_t i = 0; i < length;) {
        size_t part = rdata[i];
        memcpy(out + at, rdata + i + 1, part);
        at += part;
        i += 1 + part;
    }
    out[at++] = '\0';
    return at;
}

int rampart_txt_query(const char *name, const char *server, int port, int timeout_seconds, int attempts,
                      char *out, size_t capacity, size_t *written) {
    *written = 0;
    struct __res_state *state = calloc(1, sizeof(struct __res_state));
    if (state == NULL) return RAMPART_TXT_SETUP;
    if (res_ninit(state) != 0) {
        free(state);
        return RAMPART_TXT_SETUP;
    }
    if (server != NULL) {
        struct sockaddr_in address;
        memset(&address, 0, sizeof address);
        address.sin_family = AF_INET;
        address.sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, server, &address.sin_addr) != 1) {
            res_nclose(state);
            free(state);
            return RAMPART_TXT_SETUP;
        }
        state->nsaddr_list[0] = address;
        state->nscount = 1;
    }
    if (timeout_seconds > 0) state->retrans = timeout_seconds;
    if (attempts > 0) state->retry = attempts;

    unsigned char answer[NS_MAXMSG < 65536 ? NS_MAXMSG : 65536];
    int length = res_nquery(state, name, ns_c_in, ns_t_txt, answer, sizeof answer);
    int failure = state->res_h_errno;
    res_nclose(state);
    free(state);
    if (length < 0) {
        switch (failure) {
        case HOST_NOT_FOUND: return RAMPART_TXT_NXDOMAIN;
        case NO_DATA: return RAMPART_TXT_NODATA;
        case TRY_AGAIN: return RAMPART_TXT_TRY_AGAIN;
        default: return RAMPART_TXT_REFUSED;
        }
    }
    ns_msg message;
    if (ns_initparse(answer, length > (int)sizeof answer ? (int)sizeof answer : length, &message) != 0) {
        return RAMPART_TXT_MALFORMED;
    }
    size_t at = 0;
    int count = ns_msg_count(message, ns_s_an);
    for (int i = 0; i < count; i++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, i, &record) != 0) return RAMPART_TXT_MALFORMED;
        if (ns_rr_type(record) != ns_t_txt || ns_rr_class(record) != ns_c_in) continue;
        at = append_txt(ns_rr_rdata(record), ns_rr_rdlen(record), out, capacity, at);
    }
    *written = at;
    return RAMPART_TXT_OK;
}
