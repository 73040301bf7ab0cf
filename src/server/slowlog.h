/* slowlog.h - the slow log (slowlog.c). */
#ifndef CACHET_SLOWLOG_H
#define CACHET_SLOWLOG_H

#include "client.h"

/* slowlog.c */
void slowlogInit(void);
void slowlogPush(client *c, slice *argv, int argc, long long durationUs);
void slowlogReset(void);
unsigned long slowlogLen(void);
void slowlogReply(client *c, long count);   /* SLOWLOG GET: newest first, count -1 = all */

#endif
