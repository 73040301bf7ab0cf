/* t_stream.h - what the stream command files share: Redis 7.0's argument
 * parsing (ids, options, integers) and reply helpers for entries.
 * t_stream.c owns them; t_stream_cg.c (XREAD, consumer groups) uses them.
 * Must never: be included outside the stream command files. */
#ifndef CACHET_T_STREAM_H
#define CACHET_T_STREAM_H

#include "server.h"
#include "db.h"
#include "client.h"
#include "stream.h"

#define X_INVALID_ID_ERR "Invalid stream ID specified as stream command argument"

int xOptIs(slice s, const char *lit); /* case-insensitive, up to a NUL as Redis' sds compare */
/* Redis' streamGenericParseIDOrReply; c NULL: no reply. 0 ok, -1 error. */
int xParseID(client *c, slice a, streamID *id, uint64_t missingSeq, int strict, int *seqGiven);
int xParseStrictID(client *c, slice a, streamID *id, uint64_t missingSeq, int *seqGiven);
int xParseIntervalID(client *c, slice a, streamID *id, int *exclude, uint64_t missingSeq);
int xGetLL(client *c, slice a, long long *v); /* -1 after replying the not-an-integer error */
void xReplyID(client *c, const streamID *id);
/* The stream at key for writing; (dbEntry *)-1 after a WRONGTYPE reply. */
dbEntry *xLookupWrite(client *c, slice key);
/* [id, [f1, v1, ...]] for the entry the iterator is on. */
void xReplyEntry(client *c, streamIter *it, const streamID *id, int64_t nfields);
/* Every entry in [start, end] (at most count, 0: all) as an array. */
long xReplyRange(client *c, stream *s, const streamID *start, const streamID *end, long long count, int rev);
/* 1 and the entry reply when id is a live entry, else 0 and nothing sent. */
int xReplyOneEntry(client *c, stream *s, const streamID *id);

#endif
