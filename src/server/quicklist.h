/* quicklist.h - a doubly linked list of lpack nodes: the value of every list
 * key (Redis 7.0's quicklist, without compression).
 *
 * Each node holds a packed array (lpack.h) of up to `fill` elements: fill > 0
 * is a maximum number of entries per node (and at most 8 KiB, Redis' safety
 * limit), fill -1..-5 a maximum node size of 4/8/16/32/64 KiB. An element that
 * does not fit in any node gets a node of its own. So an element costs a few
 * bytes inside a node, not a heap allocation of its own.
 *
 * Indexes are 0-based from the head; negative ones count from the tail (-1
 * is the last element). Element bytes handed out (qlEntry) point into a node
 * and are valid only until the next change of the list.
 *
 * Never: leave an empty node in the list, or keep a count that disagrees
 * with the nodes (every edit updates both before returning). */
#ifndef CACHET_QUICKLIST_H
#define CACHET_QUICKLIST_H

#include <stddef.h>

#define QL_HEAD 0
#define QL_TAIL 1

typedef struct qlNode {
    struct qlNode *prev, *next;
    unsigned char *lp;   /* lpack array, never empty while linked */
    unsigned long count; /* == lpLength(lp) */
} qlNode;

typedef struct quicklist {
    qlNode *head, *tail;
    unsigned long count; /* elements */
    unsigned long len;   /* nodes */
    int fill;            /* list-max-listpack-size when the list was made */
} quicklist;

/* One element: its node and its position in the node's array. */
typedef struct qlEntry {
    qlNode *node;
    unsigned char *p;
    long offset;         /* index inside the node */
} qlEntry;

/* Walks the list from an index towards the tail (QL_TAIL) or the head
 * (QL_HEAD). qlIterDelete removes the element qlNext returned last and keeps
 * the walk going with the element after it. */
typedef struct qlIter {
    quicklist *ql;
    qlNode *node;
    unsigned char *p;    /* next element to hand out; NULL when done */
    long offset;
    int dir;
} qlIter;

quicklist *qlNew(int fill);
void qlFree(quicklist *ql);
quicklist *qlDup(const quicklist *ql);
size_t qlMemory(const quicklist *ql); /* bytes held, via memUsableSize (sampled when huge) */
static inline unsigned long qlCount(const quicklist *ql) { return ql->count; }

void qlPush(quicklist *ql, int where, const char *s, size_t len);

/* Value of an entry: integers are written as text into buf (LP_INTBUF_SIZE). */
const char *qlEntryValue(const qlEntry *e, char *buf, size_t *len);
int qlEntryEq(const qlEntry *e, const char *s, size_t len);

/* Finds the element at index; 0 when out of range. */
int qlIndex(quicklist *ql, long index, qlEntry *e);
/* Replaces the element at index (which must exist). */
void qlReplaceAt(quicklist *ql, long index, const char *s, size_t len);
/* Inserts s before (QL_HEAD) or after (QL_TAIL) the entry e. e is invalid
 * afterwards. */
void qlInsert(quicklist *ql, qlEntry *e, int where, const char *s, size_t len);
/* Deletes num elements from index start (negative from the tail); fewer when
 * the list ends first. Returns the number deleted. */
unsigned long qlDelRange(quicklist *ql, long start, unsigned long num);

void qlIterInit(qlIter *it, quicklist *ql, long index, int dir);
int qlNext(qlIter *it, qlEntry *e);
void qlIterDelete(qlIter *it, qlEntry *e);

/* Joins neighbouring nodes whose union fits the fill limit (after many
 * deletions in the middle, e.g. LREM). */
void qlCompact(quicklist *ql);

/* For tests: 1 when every invariant holds (counts, links, fill limits). */
int qlCheck(const quicklist *ql);

#endif
