/* stream.h - the stream value (XADD, XRANGE, ...): entries packed in nodes
 * that are Redis 7.0 listpacks byte for byte, each node keyed by its master
 * ID in an ordered array (the role Redis' radix tree plays: nodes are only
 * ever appended at the tail, looked up by binary search, and trimmed from
 * the head).
 *
 * Node layout, as Redis' t_stream.c (so RDB and DUMP write nodes as they are):
 *   master entry: count | deleted | num-fields | field_1 .. field_N | 0
 *   each entry:   flags | ms-diff | seq-diff | [num-fields | f1 v1 .. fN vN]
 *                 or, with the SAMEFIELDS flag, | v1 .. vN | then lp-count
 * where count/deleted are the live and tombstoned entries of the node, ids
 * are deltas from the node's master id, and lp-count is the number of
 * elements of the entry before it (walking backwards needs it).
 *
 * Owns: the nodes and their memory. Must never: keep a node with no entries
 * (live or deleted) in the index, let ids go backwards, or trust a node it
 * did not build without streamValidateNode. */
#ifndef CACHET_STREAM_H
#define CACHET_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct streamID {
    uint64_t ms;
    uint64_t seq;
} streamID;

#define STREAM_ITEM_FLAG_NONE 0
#define STREAM_ITEM_FLAG_DELETED (1 << 0)
#define STREAM_ITEM_FLAG_SAMEFIELDS (1 << 1)
#define STREAM_LISTPACK_MAX_SIZE (1 << 30)

typedef struct streamNode {
    streamID master;
    unsigned char *lp; /* Redis listpack */
} streamNode;

typedef struct stream {
    streamNode *nodes;
    size_t nnodes, cap;
    uint64_t length;       /* live entries */
    streamID lastId;       /* the top id ever added (or XSETID) */
    streamID firstId;      /* first live entry, 0-0 when empty */
    streamID maxDeletedId; /* greatest id ever deleted */
    uint64_t entriesAdded; /* entries ever added */
    struct streamCGs *cgroups; /* consumer groups (stream_cg.h), NULL when none ever made */
} stream;

/* One field or value of a field/value pair being appended. */
typedef struct streamField {
    const char *p;
    size_t len;
} streamField;

int streamCompareID(const streamID *a, const streamID *b);
int streamIncrID(streamID *id); /* -1 (id becomes 0-0) on overflow */
int streamDecrID(streamID *id); /* -1 (id becomes max) on underflow */
/* Formats "ms-seq" into buf (at least 42 bytes); returns the length. */
int streamFormatID(char *buf, const streamID *id);

stream *streamNew(void);
void streamFree(stream *s);
stream *streamDup(const stream *s);
size_t streamMemory(const stream *s);

/* Appends an entry of nfields field/value pairs (fv has 2*nfields items).
 * useId NULL: a new id from the clock; seqGiven 0: useId's ms with the next
 * sequence. maxBytes/maxEntries: stream-node-max-*. Returns 0 and *added,
 * -1 when the id is not above lastId, -2 when the fields are too large. */
int streamAppend(stream *s, const streamField *fv, int64_t nfields, streamID *added, const streamID *useId,
                 int seqGiven, long long maxBytes, long long maxEntries, long long nowMs);

/* Marks id deleted; 1 when it was a live entry. */
int streamDeleteID(stream *s, const streamID *id);

#define STREAM_TRIM_NONE 0
#define STREAM_TRIM_MAXLEN 1
#define STREAM_TRIM_MINID 2
/* Redis' streamTrim: returns the entries removed. */
int64_t streamTrim(stream *s, int strategy, uint64_t maxlen, const streamID *minid, int approx, int64_t limit);

/* First (first=1) or last live entry id; 0 when there is none. */
int streamEdgeID(stream *s, int first, streamID *id);

/* Iteration over the live entries in [start, end], forward or reverse. The
 * stream must not change while an iterator is in use. */
typedef struct streamIter {
    stream *s;
    streamID start, end;
    int rev;
    size_t node;           /* index of the current node */
    int inNode;            /* lp/p valid */
    unsigned char *lp, *p; /* p: fwd the next entry's flags; rev the previous entry's lp-count */
    streamID master;
    int64_t masterFields;
    unsigned char *masterField0;
    /* current entry */
    int flags;
    int64_t nfields;
    unsigned char *fp, *mf; /* next entry element / next master field */
    int64_t fieldIdx;
} streamIter;

void streamIterStart(streamIter *it, stream *s, const streamID *start, const streamID *end, int rev);
int streamIterNext(streamIter *it, streamID *id, int64_t *nfields);
/* The next field/value pair of the current entry; bufs are LP_INTBUF_SIZE+
 * bytes where integers are written as text. */
void streamIterField(streamIter *it, char *fbuf, const char **f, size_t *flen, char *vbuf, const char **v,
                     size_t *vlen);

/* RDB: appends a node read from a file (the caller keeps master order and
 * validates first); the stream takes ownership of lp. */
void streamAddNode(stream *s, const streamID *master, unsigned char *lp);
/* Checks a listpack of n bytes is a well formed stream node whose entries
 * are above master, ascending and all above *after (updated to the last
 * one). Adds its live entries to *live. 1 when valid. */
int streamValidateNode(const unsigned char *lp, size_t n, const streamID *master, streamID *after, uint64_t *live);
size_t streamNodeBytes(const unsigned char *lp);

#endif
