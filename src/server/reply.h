/* reply.h - building replies into a client's output (reply.c): RESP2 and
 * RESP3 shapes, errors with Redis' texts, deferred lengths. */
#ifndef CACHET_REPLY_H
#define CACHET_REPLY_H

#include <stddef.h>
#include "client.h"

/* reply.c */
void replyRaw(client *c, const char *s, size_t len);
void replyStatus(client *c, const char *s);        /* +s */
void replyOk(client *c);
/* Error replies: "-" + text; a text not starting with '-' gets "ERR ". */
void replyError(client *c, const char *err);
void replyErrorFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void replyErrorArity(client *c);
void replyErrorSyntax(client *c);
void replyErrorNotInt(client *c);
void replyErrorWrongType(client *c);
void replyLongLong(client *c, long long v);        /* :v */
void replyBulk(client *c, const char *p, size_t len);
void replyBulkCString(client *c, const char *s);
void replyBulkFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void replyBulkLongLong(client *c, long long v);
void replySlice(client *c, slice s);
void replyNull(client *c);                          /* RESP2 $-1, RESP3 _ */
void replyNullArray(client *c);                     /* RESP2 *-1, RESP3 _ */
void replyArrayLen(client *c, long len);
void replyMapLen(client *c, long len);              /* RESP2: array of 2*len */
void replySetLen(client *c, long len);              /* RESP2: array */
void replyPushLen(client *c, long len);             /* RESP2: array */
void replyDouble(client *c, double d);              /* RESP2: bulk */
void replyBool(client *c, int b);                   /* RESP2: :0/:1 */
void replyVerbatim(client *c, const char *p, size_t len, const char *ext);
void replyHelp(client *c, const char **lines);
/* Deferred lengths: reserve now, fill when the count is known. */
void *replyDeferredLen(client *c);
void replySetDeferredArrayLen(client *c, void *node, long len);
void replySetDeferredMapLen(client *c, void *node, long len);
void replySetDeferredSetLen(client *c, void *node, long len);
size_t clientReplyBytes(client *c);

#endif
