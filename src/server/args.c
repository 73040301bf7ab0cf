/* args.c - argument parsers for command implementations: each converts one
 * argument with util.c's rules and, when it is not valid, replies Redis'
 * error text itself and returns -1 (0 on success). Owns no state; must never
 * reply twice or leave *v changed on failure. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "args.h"
#include <limits.h>

int getLongLongFromSliceOrReply(client *c, slice s, long long *v, const char *msg) {
    if (!string2ll(s.p, s.len, v)) {
        replyError(c, msg ? msg : "value is not an integer or out of range");
        return -1;
    }
    return 0;
}

int getLongFromSliceOrReply(client *c, slice s, long *v, const char *msg) {
    long long ll;
    if (getLongLongFromSliceOrReply(c, s, &ll, msg) == -1) return -1;
    if (ll < LONG_MIN || ll > LONG_MAX) {
        replyError(c, msg ? msg : "value is out of range");
        return -1;
    }
    *v = (long)ll;
    return 0;
}

int getPositiveLongFromSliceOrReply(client *c, slice s, long *v, const char *msg) {
    if (getLongFromSliceOrReply(c, s, v, msg) == -1) return -1;
    if (*v < 0) {
        replyError(c, msg ? msg : "value is out of range, must be positive");
        return -1;
    }
    return 0;
}

int getDoubleFromSliceOrReply(client *c, slice s, double *v, const char *msg) {
    if (!string2d(s.p, s.len, v)) {
        replyError(c, msg ? msg : "value is not a valid float");
        return -1;
    }
    return 0;
}

int getLongDoubleFromSliceOrReply(client *c, slice s, long double *v, const char *msg) {
    if (!string2ld(s.p, s.len, v)) {
        replyError(c, msg ? msg : "value is not a valid float");
        return -1;
    }
    return 0;
}
