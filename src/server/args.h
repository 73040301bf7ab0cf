/* args.h - argument parsers that reply Redis' error themselves (args.c). */
#ifndef CACHET_ARGS_H
#define CACHET_ARGS_H

#include "client.h"
#include "util.h"

/* args.c: parse helpers that reply the Redis error themselves and return -1. */
int getLongLongFromSliceOrReply(client *c, slice s, long long *v, const char *msg);
int getLongFromSliceOrReply(client *c, slice s, long *v, const char *msg);
int getPositiveLongFromSliceOrReply(client *c, slice s, long *v, const char *msg);
int getDoubleFromSliceOrReply(client *c, slice s, double *v, const char *msg);
int getLongDoubleFromSliceOrReply(client *c, slice s, long double *v, const char *msg);

#endif
