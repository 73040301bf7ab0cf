/* stream_cg.h - consumer groups of a stream: the groups (ordered by name, as
 * Redis' radix tree lists them), each group's consumers (ordered by name),
 * the group's pending entries list (PEL) and each consumer's PEL, plus the
 * ordered id map (idmap) both PELs are built on.
 *
 * A pending entry (streamNACK) is owned by its group's PEL; the consumer's
 * PEL holds the same pointer. Invariants (asserted by streamCGCheck):
 *  - every NACK of a group PEL is in exactly its consumer's PEL and back;
 *  - a consumer's PEL only holds NACKs of its own group;
 *  - group and consumer arrays are sorted by name, names unique.
 * Must never: reply to a client (t_stream_cg.c does), or touch the entries
 * of the stream (stream.c owns them). */
#ifndef CACHET_STREAM_CG_H
#define CACHET_STREAM_CG_H

#include "stream.h"
#include <stddef.h>
#include <stdint.h>

/* ---- idmap: streamID -> pointer, ordered --------------------------------
 * A sorted array of sorted chunks (at most IDMAP_CHUNK pairs each): find,
 * insert and delete cost O(log n + IDMAP_CHUNK + n/IDMAP_CHUNK), so 100k+
 * pending entries stay cheap whatever the order of acks and claims. */
typedef struct idmapChunk idmapChunk;
typedef struct idmap {
    idmapChunk **chunks;
    size_t nchunks, cap;
    uint64_t len;
} idmap;

/* A position: chunk index and index inside the chunk. */
typedef struct idmapPos {
    size_t ci;
    int i;
} idmapPos;

void idmapInit(idmap *m);
void idmapClear(idmap *m, void (*freeVal)(void *)); /* m is empty and reusable after */
void *idmapFind(const idmap *m, const streamID *id);
int idmapInsert(idmap *m, const streamID *id, void *val); /* 0 when id was there (nothing changes) */
void *idmapDelete(idmap *m, const streamID *id);          /* the value, NULL when absent */
/* First pair with id >= from (from NULL: the first); 0 when none. */
int idmapSeek(const idmap *m, const streamID *from, idmapPos *pos);
/* The pair at pos, then pos moves on; 0 at the end. */
int idmapNext(const idmap *m, idmapPos *pos, streamID *id, void **val);
int idmapEdge(const idmap *m, int first, streamID *id); /* 0 when empty */
size_t idmapMemory(const idmap *m);

/* ---- groups --------------------------------------------------------------- */

#define SCG_INVALID_ENTRIES_READ -1

typedef struct streamConsumer streamConsumer;

typedef struct streamNACK {
    long long deliveryTime; /* unix ms of the last delivery */
    uint64_t deliveryCount;
    streamConsumer *consumer;
} streamNACK;

struct streamConsumer {
    long long seenTime; /* unix ms of the last interaction */
    idmap pel;          /* id -> streamNACK (not owned) */
    size_t nameLen;
    char *name;
};

typedef struct streamCG {
    streamID lastId;
    long long entriesRead; /* SCG_INVALID_ENTRIES_READ when unknown */
    idmap pel;             /* id -> streamNACK (owned) */
    streamConsumer **consumers;
    size_t nconsumers, ccap;
    size_t nameLen;
    char *name;
} streamCG;

typedef struct streamCGs {
    streamCG **groups;
    size_t n, cap;
} streamCGs;

streamCG *streamCGLookup(stream *s, const char *name, size_t len);
/* NULL when a group of that name exists. */
streamCG *streamCGCreate(stream *s, const char *name, size_t len, const streamID *id, long long entriesRead);
int streamCGDestroy(stream *s, const char *name, size_t len); /* 1 when it existed */
streamConsumer *streamConsumerLookup(streamCG *cg, const char *name, size_t len);
/* NULL when it exists. */
streamConsumer *streamConsumerCreate(streamCG *cg, const char *name, size_t len, long long now);
/* Deletes the consumer and its pending entries; returns how many it had. */
uint64_t streamConsumerDelete(streamCG *cg, streamConsumer *consumer);
size_t streamCGCount(const stream *s);

streamNACK *streamNACKNew(streamConsumer *consumer, long long now);
/* Removes id from the group PEL and its consumer's PEL and frees it. */
void streamNACKDelete(streamCG *cg, const streamID *id, streamNACK *nack);
/* Moves a NACK to another consumer's PEL. */
void streamNACKMove(const streamID *id, streamNACK *nack, streamConsumer *to);

/* Redis 7.0's logical-read counters (lag): the entries read up to id, or
 * SCG_INVALID_ENTRIES_READ when it cannot be known. */
long long streamEstimateDistance(const stream *s, const streamID *id);
int streamRangeHasTombstones(const stream *s, const streamID *start, const streamID *end);
/* Updates cg's last id and read counter for an entry delivered as new. */
void streamCGAdvance(const stream *s, streamCG *cg, const streamID *id);

/* Called by stream.c for the whole set. */
void streamCGsFree(streamCGs *g);
streamCGs *streamCGsDup(const streamCGs *g);
size_t streamCGsMemory(const streamCGs *g);
/* Debug builds: asserts the invariants above. */
void streamCGCheck(const stream *s);

#endif
