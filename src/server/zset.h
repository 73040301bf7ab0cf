/* zset.h - the sorted-set value: its two encodings and the operations the
 * commands in t_zset.c build on.
 *
 * ENC_LISTPACK: an lpack array of member,score,member,score... sorted by
 * score then member (bytes), scores stored as their shortest round-trip text
 * (d2string), as Redis. ENC_SKIPLIST: a `zset` (skip list with spans for
 * O(log n) rank + intrusive dict member -> node). Each skip-list node is one
 * allocation holding the dict link, the score, the levels and the member
 * bytes: no separate string, no separate dict entry.
 *
 * Owns: the layout of both encodings. Never: reply to clients or touch the
 * keyspace (t_zset.c does that); hand out node pointers across a write. */
#ifndef CACHET_ZSET_H
#define CACHET_ZSET_H
#include "lpack.h"
#include "db.h"

#define ZSKIPLIST_MAXLEVEL 32
#define ZSKIPLIST_P 0.25

typedef struct zslNode {
    dictNode link;            /* dict chain: must be first (dict.h) */
    double score;
    struct zslNode *backward;
    uint32_t len;             /* member bytes, stored after the levels */
    uint8_t height;           /* number of levels */
    struct zslLevel {
        struct zslNode *forward;
        unsigned long span;   /* nodes skipped by forward (for rank) */
    } level[];
} zslNode;

static inline const char *zslNodeMember(const zslNode *n) {
    return (const char *)&n->level[n->height];
}

typedef struct zskiplist {
    zslNode *header, *tail;
    unsigned long length;
    int level;
} zskiplist;

typedef struct zset {
    dict d;        /* zslNode by member */
    zskiplist zsl;
} zset;

/* A score range: [min, max] with exclusive flags ("(" prefix). */
typedef struct zrangespec {
    double min, max;
    int minex, maxex;
} zrangespec;

/* A lex bound: inf -1 is "-", +1 is "+", 0 a member p[0..len). */
typedef struct zlexbound {
    const char *p;
    size_t len;
    int inf;
    int ex;
} zlexbound;
typedef struct zlexrangespec {
    zlexbound min, max;
} zlexrangespec;

/* ---- ranges ---- */
int zsetParseRange(slice min, slice max, zrangespec *r);        /* 0 ok, -1 bad */
int zsetParseLexRange(slice min, slice max, zlexrangespec *r);  /* 0 ok, -1 bad */
int zsetValueGteMin(double v, const zrangespec *r);
int zsetValueLteMax(double v, const zrangespec *r);
int zsetLexGteMin(const char *p, size_t len, const zlexrangespec *r);
int zsetLexLteMax(const char *p, size_t len, const zlexrangespec *r);

/* ---- skip list + dict ---- */
zset *zsetNewSkiplist(void);
void zsetFreeSkiplist(zset *zs);
/* Adds a member that is not present. Returns its node. */
zslNode *zsetSkiplistInsert(zset *zs, double score, const char *m, size_t len);
/* Removes a member; returns 1 if it was there (and *score). */
int zsetSkiplistDelete(zset *zs, const char *m, size_t len, double *score);
/* Moves a present node to a new score, keeping the allocation. */
void zslUpdateScore(zskiplist *zsl, zslNode *n, double newscore);
unsigned long zslGetRank(zskiplist *zsl, double score, const char *m, size_t len); /* 1-based, 0 absent */
zslNode *zslGetElementByRank(zskiplist *zsl, unsigned long rank);                 /* 1-based */
/* First/last node in a range and its 1-based rank; NULL when none. */
zslNode *zslFirstInRange(zskiplist *zsl, const zrangespec *r, unsigned long *rank);
zslNode *zslLastInRange(zskiplist *zsl, const zrangespec *r, unsigned long *rank);
zslNode *zslFirstInLexRange(zskiplist *zsl, const zlexrangespec *r, unsigned long *rank);
zslNode *zslLastInLexRange(zskiplist *zsl, const zlexrangespec *r, unsigned long *rank);
/* Deletes 1-based ranks [start, end] from list and dict; returns count. */
unsigned long zsetSkiplistDeleteRangeByRank(zset *zs, unsigned long start, unsigned long end);
int zslRandomLevel(void);
/* Accumulating (ZUNION & co.): nodes go into the dict only, with scores
 * still changing; zsetAccumFinish links them all into the list once. */
zslNode *zsetAccumAdd(zset *zs, double score, const char *m, size_t len);
void zsetAccumFinish(zset *zs);

/* ---- listpack ---- */
double zsetLpGetScore(const unsigned char *sptr);
/* Inserts member/score at its sorted place. */
unsigned char *zsetLpInsert(unsigned char *lp, const char *m, size_t len, double score);
/* Member position of m (and *score), or NULL. */
unsigned char *zsetLpFind(unsigned char *lp, const char *m, size_t len, double *score);

/* ---- the value behind a dbEntry (enc ENC_LISTPACK or ENC_SKIPLIST) ---- */
/* What zsetAdd was asked (in) and what it did (out). */
#define ZADD_IN_INCR (1 << 0)
#define ZADD_IN_NX (1 << 1)
#define ZADD_IN_XX (1 << 2)
#define ZADD_IN_GT (1 << 3)
#define ZADD_IN_LT (1 << 4)
#define ZADD_OUT_NOP (1 << 0)
#define ZADD_OUT_NAN (1 << 1)
#define ZADD_OUT_ADDED (1 << 2)
#define ZADD_OUT_UPDATED (1 << 3)

/* The listpack limits (zset-max-listpack-entries/-value) are read through
 * pointers the configuration binds once at start, so this module never
 * sees the server's globals. */
void zsetBindLimits(const long long *maxEntries, const long long *maxValue);

unsigned long zsetLength(const dbEntry *e);
/* Listpack -> skiplist. */
void zsetConvertToSkiplist(dbEntry *e);
/* Chooses the encoding for a value about to hold `size` members, the longest
 * maxlen bytes: creates the value (empty). */
void *zsetNewValue(size_t size, size_t maxlen, int *enc);
/* A skiplist value small enough for a listpack becomes one (store commands). */
void zsetShrinkIfSmall(int *enc, void **ptr, size_t maxlen);
int zsetAdd(dbEntry *e, double score, const char *m, size_t len, int in, int *out, double *newscore);
int zsetDel(dbEntry *e, const char *m, size_t len);
int zsetScore(const dbEntry *e, const char *m, size_t len, double *score);
/* 0-based rank (reverse: from the highest), -1 when absent. */
long zsetRank(const dbEntry *e, const char *m, size_t len, int reverse, double *score);
/* 0-based ranks [*first, *last] of the members in range; returns count. */
unsigned long zsetScoreRangeRanks(const dbEntry *e, const zrangespec *r, long *first, long *last);
/* BYLEX ranges, walked as Redis walks them (see zset.c). RangeStart: 1 when
 * ZRANGE BYLEX [REV] [LIMIT offset ...] yields anything, with *from the
 * 0-based rank in the walk's direction where it starts; the walk then goes
 * on while FarBoundHolds (<= max, or >= min reversed). Count: ZLEXCOUNT's
 * answer. DeleteRanks: ZREMRANGEBYLEX's ranks, *first (0-based) and the
 * number. */
int zsetLexRangeStart(const dbEntry *e, const zlexrangespec *r, int reverse, long offset, long *from);
int zsetLexFarBoundHolds(const char *m, size_t len, const zlexrangespec *r, int reverse);
long long zsetLexCount(const dbEntry *e, const zlexrangespec *r);
long zsetLexDeleteRanks(const dbEntry *e, const zlexrangespec *r, long *first);
/* Deletes 0-based ranks [start, end]; returns count. */
unsigned long zsetDeleteRankRange(dbEntry *e, long start, long end);

/* Walks members in rank order (reverse: from the highest) starting at the
 * 0-based rank `start` counted in that direction. The value must not change
 * while walking. Member bytes stay valid until the next call. */
typedef struct zsetIter {
    const dbEntry *e;
    int reverse;
    unsigned char *ep;  /* listpack: member position */
    zslNode *node;
    char buf[LP_INTBUF_SIZE];
} zsetIter;
void zsetIterInit(zsetIter *it, const dbEntry *e, long start, int reverse);
int zsetIterNext(zsetIter *it, const char **m, size_t *len, double *score); /* 0 at the end */

#endif
