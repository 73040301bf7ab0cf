/* zset.c - the sorted-set data structure (see zset.h): skip list with spans,
 * the member dict, the sorted listpack, range parsing, and the value-level
 * operations that hide which encoding a key uses.
 *
 * Owns: every zslNode and listpack behind an OBJ_ZSET entry.
 * Never: reply to a client, touch the keyspace, or keep a position across a
 * call that may move the listpack. Conversion is one way (listpack ->
 * skiplist) except for the store commands' freshly built results. */
#include "zset.h"
#include "db.h"
#include "mem.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranges ------------------------------------------------------------- */

/* Redis parses range bounds with strtod: "(" makes it exclusive, "inf" and
 * "-inf" work, NaN does not. */
/* Until the configuration binds them (zsetBindLimits), Redis' defaults:
 * unit tests and harnesses that never load a configuration get those. */
static const long long zsetDefaultEntries = 128, zsetDefaultValue = 64;
static const long long *zsetMaxEntries = &zsetDefaultEntries;
static const long long *zsetMaxValue = &zsetDefaultValue;

void zsetBindLimits(const long long *maxEntries, const long long *maxValue) {
    zsetMaxEntries = maxEntries;
    zsetMaxValue = maxValue;
}

static int parseRangeItem(slice s, double *v, int *ex) {
    char buf[128];
    const char *p = s.p;
    size_t len = s.len;
    *ex = 0;
    if (len && p[0] == '(') {
        *ex = 1;
        p++;
        len--;
    }
    /* Redis hands strtod the whole argument, however long ("1" and 300
     * zeros is 1e300), so a long one gets a heap copy, not an error. */
    char *str = len < sizeof(buf) ? buf : memAlloc(len + 1);
    memcpy(str, p, len);
    str[len] = '\0';
    char *eptr;
    double d = strtod(str, &eptr);
    int bad = *eptr != '\0' || isnan(d);
    if (str != buf) memFree(str);
    if (bad) return -1;
    *v = d;
    return 0;
}

int zsetParseRange(slice min, slice max, zrangespec *r) {
    if (parseRangeItem(min, &r->min, &r->minex) == -1) return -1;
    if (parseRangeItem(max, &r->max, &r->maxex) == -1) return -1;
    return 0;
}

static int parseLexItem(slice s, zlexbound *b) {
    if (s.len == 0) return -1;
    b->inf = 0;
    b->p = s.p + 1;
    b->len = s.len - 1;
    switch (s.p[0]) {
    case '+':
        if (s.len != 1) return -1;
        b->inf = 1;
        b->ex = 1;
        return 0;
    case '-':
        if (s.len != 1) return -1;
        b->inf = -1;
        b->ex = 1;
        return 0;
    case '(': b->ex = 1; return 0;
    case '[': b->ex = 0; return 0;
    default: return -1;
    }
}

int zsetParseLexRange(slice min, slice max, zlexrangespec *r) {
    if (parseLexItem(min, &r->min) == -1 || parseLexItem(max, &r->max) == -1) return -1;
    return 0;
}

static int memberCmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Compares a member with a bound ("-" below everything, "+" above). */
static int lexCmp(const char *p, size_t len, const zlexbound *b) {
    if (b->inf) return -b->inf;
    return memberCmp(p, len, b->p, b->len);
}

static int boundCmp(const zlexbound *a, const zlexbound *b) {
    if (a->inf || b->inf) return a->inf == b->inf ? 0 : (a->inf < b->inf ? -1 : 1);
    return memberCmp(a->p, a->len, b->p, b->len);
}

int zsetValueGteMin(double v, const zrangespec *r) { return r->minex ? v > r->min : v >= r->min; }
int zsetValueLteMax(double v, const zrangespec *r) { return r->maxex ? v < r->max : v <= r->max; }
int zsetLexGteMin(const char *p, size_t len, const zlexrangespec *r) {
    int c = lexCmp(p, len, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}
int zsetLexLteMax(const char *p, size_t len, const zlexrangespec *r) {
    int c = lexCmp(p, len, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

static int rangeEmpty(const zrangespec *r) {
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}
static int lexRangeEmpty(const zlexrangespec *r) {
    int c = boundCmp(&r->min, &r->max);
    return c > 0 || (c == 0 && (r->min.ex || r->max.ex));
}

/* ---- skip list ---------------------------------------------------------- */

static void nodeKey(const dictNode *n, const char **p, size_t *len) {
    const zslNode *z = (const zslNode *)n;
    *p = zslNodeMember(z);
    *len = z->len;
}
static const dictType zsetDictType = {.key = nodeKey, .nocase = 0};

static zslNode *nodeNew(int height, double score, const char *m, size_t len) {
    zslNode *n = memAlloc(sizeof(zslNode) + (size_t)height * sizeof(struct zslLevel) + len);
    n->link.next = NULL;
    n->score = score;
    n->backward = NULL;
    n->len = (uint32_t)len;
    n->height = (uint8_t)height;
    if (len) memcpy((char *)&n->level[height], m, len);
    return n;
}

int zslRandomLevel(void) {
    int level = 1;
    while ((random() & 0xFFFF) < (long)(ZSKIPLIST_P * 0xFFFF)) level++;
    return level < ZSKIPLIST_MAXLEVEL ? level : ZSKIPLIST_MAXLEVEL;
}

zset *zsetNewSkiplist(void) {
    zset *zs = memAlloc(sizeof(*zs));
    dictInit(&zs->d, &zsetDictType);
    zskiplist *zsl = &zs->zsl;
    zsl->header = nodeNew(ZSKIPLIST_MAXLEVEL, 0, NULL, 0);
    for (int i = 0; i < ZSKIPLIST_MAXLEVEL; i++) {
        zsl->header->level[i].forward = NULL;
        zsl->header->level[i].span = 0;
    }
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
    return zs;
}

void zsetFreeSkiplist(zset *zs) {
    dictEmpty(&zs->d, NULL, NULL);
    zslNode *n = zs->zsl.header->level[0].forward;
    memFree(zs->zsl.header);
    while (n) {
        zslNode *next = n->level[0].forward;
        memFree(n);
        n = next;
    }
    memFree(zs);
}

/* Whether node x sorts before (score, m). */
static inline int nodeBefore(const zslNode *x, double score, const char *m, size_t len) {
    return x->score < score || (x->score == score && memberCmp(zslNodeMember(x), x->len, m, len) < 0);
}

/* Links a node (height, score and member set) at its sorted place. */
static void zslInsertNode(zskiplist *zsl, zslNode *n) {
    zslNode *update[ZSKIPLIST_MAXLEVEL], *x = zsl->header;
    unsigned long rank[ZSKIPLIST_MAXLEVEL];
    const char *m = zslNodeMember(n);
    for (int i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward && nodeBefore(x->level[i].forward, n->score, m, n->len)) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    int level = n->height;
    if (level > zsl->level) {
        for (int i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            update[i]->level[i].span = zsl->length;
        }
        zsl->level = level;
    }
    for (int i = 0; i < level; i++) {
        n->level[i].forward = update[i]->level[i].forward; // NOLINT(clang-analyzer-core.NullDereference): zsl->level >= 1, so update[0..level) is set above
        update[i]->level[i].forward = n;
        n->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < zsl->level; i++) update[i]->level[i].span++;
    n->backward = update[0] == zsl->header ? NULL : update[0]; // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): zsl->level >= 1 sets update[0]
    if (n->level[0].forward) n->level[0].forward->backward = n;
    else zsl->tail = n;
    zsl->length++;
}

static void zslDeleteNode(zskiplist *zsl, zslNode *x, zslNode **update) {
    for (int i = 0; i < zsl->level; i++) {
        if (update[i]->level[i].forward == x) { // NOLINT(clang-analyzer-core.NullDereference): callers fill update[0..zsl->level)
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward) x->level[0].forward->backward = x->backward;
    else zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL) zsl->level--;
    zsl->length--;
}

/* Unlinks node n (present) from the list; does not free it. */
static void zslUnlinkNode(zskiplist *zsl, zslNode *n) {
    zslNode *update[ZSKIPLIST_MAXLEVEL], *x = zsl->header;
    const char *m = zslNodeMember(n);
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && nodeBefore(x->level[i].forward, n->score, m, n->len)) x = x->level[i].forward;
        update[i] = x;
    }
    zslDeleteNode(zsl, n, update);
}

void zslUpdateScore(zskiplist *zsl, zslNode *n, double newscore) {
    /* Stays in place when still between its neighbours: no relinking. */
    if ((n->backward == NULL || n->backward->score < newscore) &&
        (n->level[0].forward == NULL || n->level[0].forward->score > newscore)) {
        n->score = newscore;
        return;
    }
    zslUnlinkNode(zsl, n);
    n->score = newscore;
    zslInsertNode(zsl, n);
}

zslNode *zsetSkiplistInsert(zset *zs, double score, const char *m, size_t len) {
    zslNode *n = nodeNew(zslRandomLevel(), score, m, len);
    zslInsertNode(&zs->zsl, n);
    dictAdd(&zs->d, &n->link);
    return n;
}

zslNode *zsetAccumAdd(zset *zs, double score, const char *m, size_t len) {
    zslNode *n = nodeNew(zslRandomLevel(), score, m, len);
    dictAdd(&zs->d, &n->link);
    return n;
}

void zsetAccumFinish(zset *zs) {
    dictIter it;
    dictIterInit(&it, &zs->d, 0);
    dictNode *dn;
    while ((dn = dictNext(&it))) zslInsertNode(&zs->zsl, (zslNode *)dn);
    dictIterEnd(&it);
}

int zsetSkiplistDelete(zset *zs, const char *m, size_t len, double *score) {
    zslNode *n = (zslNode *)dictUnlink(&zs->d, m, len);
    if (!n) return 0;
    if (score) *score = n->score;
    zslUnlinkNode(&zs->zsl, n);
    memFree(n);
    return 1;
}

unsigned long zslGetRank(zskiplist *zsl, double score, const char *m, size_t len) {
    zslNode *x = zsl->header;
    unsigned long rank = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               (x->level[i].forward->score < score ||
                (x->level[i].forward->score == score &&
                 memberCmp(zslNodeMember(x->level[i].forward), x->level[i].forward->len, m, len) <= 0))) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        if (x != zsl->header && x->score == score && memberCmp(zslNodeMember(x), x->len, m, len) == 0) return rank;
    }
    return 0;
}

zslNode *zslGetElementByRank(zskiplist *zsl, unsigned long rank) {
    zslNode *x = zsl->header;
    unsigned long traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank) return x == zsl->header ? NULL : x;
    }
    return NULL;
}

zslNode *zslFirstInRange(zskiplist *zsl, const zrangespec *r, unsigned long *rank) {
    if (rangeEmpty(r)) return NULL;
    zslNode *x = zsl->header;
    unsigned long rk = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !zsetValueGteMin(x->level[i].forward->score, r)) {
            rk += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    x = x->level[0].forward;
    if (!x || !zsetValueLteMax(x->score, r)) return NULL;
    *rank = rk + 1;
    return x;
}

zslNode *zslLastInRange(zskiplist *zsl, const zrangespec *r, unsigned long *rank) {
    if (rangeEmpty(r)) return NULL;
    zslNode *x = zsl->header;
    unsigned long rk = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && zsetValueLteMax(x->level[i].forward->score, r)) {
            rk += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    if (x == zsl->header || !zsetValueGteMin(x->score, r)) return NULL;
    *rank = rk;
    return x;
}

/* Redis' quick reject, kept because it decides the answer when a set's
 * scores differ (lexical ranges are only meaningful when they are all
 * equal, but clients get Redis' answer even then): the last member must
 * reach min and the first must not pass max. */
static int zslLexRangeReachable(zskiplist *zsl, const zlexrangespec *r) {
    if (lexRangeEmpty(r)) return 0;
    const zslNode *last = zsl->tail, *first = zsl->header->level[0].forward;
    return last && zsetLexGteMin(zslNodeMember(last), last->len, r) &&
           zsetLexLteMax(zslNodeMember(first), first->len, r);
}

zslNode *zslFirstInLexRange(zskiplist *zsl, const zlexrangespec *r, unsigned long *rank) {
    if (!zslLexRangeReachable(zsl, r)) return NULL;
    zslNode *x = zsl->header;
    unsigned long rk = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               !zsetLexGteMin(zslNodeMember(x->level[i].forward), x->level[i].forward->len, r)) {
            rk += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    x = x->level[0].forward;
    if (!x || !zsetLexLteMax(zslNodeMember(x), x->len, r)) return NULL;
    *rank = rk + 1;
    return x;
}

zslNode *zslLastInLexRange(zskiplist *zsl, const zlexrangespec *r, unsigned long *rank) {
    if (!zslLexRangeReachable(zsl, r)) return NULL;
    zslNode *x = zsl->header;
    unsigned long rk = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               zsetLexLteMax(zslNodeMember(x->level[i].forward), x->level[i].forward->len, r)) {
            rk += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    if (x == zsl->header || !zsetLexGteMin(zslNodeMember(x), x->len, r)) return NULL;
    *rank = rk;
    return x;
}

unsigned long zsetSkiplistDeleteRangeByRank(zset *zs, unsigned long start, unsigned long end) {
    zskiplist *zsl = &zs->zsl;
    zslNode *update[ZSKIPLIST_MAXLEVEL], *x = zsl->header;
    unsigned long traversed = 0, removed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < start) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    traversed++;
    x = x->level[0].forward;
    while (x && traversed <= end) {
        zslNode *next = x->level[0].forward;
        zslDeleteNode(zsl, x, update);
        dictUnlink(&zs->d, zslNodeMember(x), x->len);
        memFree(x);
        removed++;
        traversed++;
        x = next;
    }
    dictShrinkIfNeeded(&zs->d);
    return removed;
}

/* ---- listpack ----------------------------------------------------------- */

double zsetLpGetScore(const unsigned char *sptr) {
    char buf[LP_INTBUF_SIZE + 1];
    size_t len;
    long long ll;
    int isint = 0;
    const char *v = lpGet(sptr, buf, &len, &ll, &isint);
    if (isint) return (double)ll;
    char tmp[128];
    if (len >= sizeof(tmp)) len = sizeof(tmp) - 1;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    return strtod(tmp, NULL);
}

static const char *lpMember(const unsigned char *ep, char *buf, size_t *len) {
    return lpGet(ep, buf, len, NULL, NULL);
}

unsigned char *zsetLpInsert(unsigned char *lp, const char *m, size_t len, double score) {
    char sbuf[128];
    if (score == 0) score = 0.0; /* Redis' listpack reads "-0" back as 0 */
    int slen = d2string(sbuf, sizeof(sbuf), score);
    unsigned char *ep = lpFirst(lp);
    char buf[LP_INTBUF_SIZE];
    while (ep) {
        unsigned char *sp = lpNext(lp, ep);
        double s = zsetLpGetScore(sp);
        size_t mlen;
        const char *mp = lpMember(ep, buf, &mlen);
        if (s > score || (s == score && memberCmp(mp, mlen, m, len) > 0)) {
            /* Insert the score first, then the member before it: the member
             * ends up where ep was. */
            unsigned char *np;
            lp = lpInsert(lp, ep, LP_BEFORE, sbuf, (size_t)slen, &np);
            lp = lpInsert(lp, np, LP_BEFORE, m, len, NULL);
            return lp;
        }
        ep = lpNext(lp, sp);
    }
    lp = lpAppend(lp, m, len);
    lp = lpAppend(lp, sbuf, (size_t)slen);
    return lp;
}

unsigned char *zsetLpFind(unsigned char *lp, const char *m, size_t len, double *score) {
    unsigned char *ep = lpFirst(lp);
    if (!ep) return NULL;
    ep = lpFind(lp, ep, m, len, 1);
    if (ep && score) *score = zsetLpGetScore(lpNext(lp, ep));
    return ep;
}

/* ---- the value ---------------------------------------------------------- */

unsigned long zsetLength(const dbEntry *e) {
    if (e->enc == ENC_LISTPACK) return lpLength(e->v.ptr) / 2;
    return ((const zset *)e->v.ptr)->zsl.length;
}

void zsetConvertToSkiplist(dbEntry *e) {
    if (e->enc != ENC_LISTPACK) return;
    unsigned char *lp = e->v.ptr;
    zset *zs = zsetNewSkiplist();
    dictExpand(&zs->d, lpLength(lp) / 2);
    char buf[LP_INTBUF_SIZE];
    for (unsigned char *ep = lpFirst(lp); ep;) {
        unsigned char *sp = lpNext(lp, ep);
        size_t len;
        const char *m = lpMember(ep, buf, &len);
        zsetSkiplistInsert(zs, zsetLpGetScore(sp), m, len);
        ep = lpNext(lp, sp);
    }
    lpFree(lp);
    e->v.ptr = zs;
    e->enc = ENC_SKIPLIST;
}

void *zsetNewValue(size_t size, size_t maxlen, int *enc) {
    if (*zsetMaxEntries == 0 || size > (size_t)*zsetMaxEntries ||
        maxlen > (size_t)*zsetMaxValue) {
        *enc = ENC_SKIPLIST;
        return zsetNewSkiplist();
    }
    *enc = ENC_LISTPACK;
    return lpNew(0);
}

void zsetShrinkIfSmall(int *enc, void **ptr, size_t maxlen) {
    if (*enc != ENC_SKIPLIST) return;
    zset *zs = *ptr;
    if (zs->zsl.length > (size_t)*zsetMaxEntries || maxlen > (size_t)*zsetMaxValue) return;
    unsigned char *lp = lpNew(0);
    char sbuf[128];
    for (zslNode *n = zs->zsl.header->level[0].forward; n; n = n->level[0].forward) {
        int slen = d2string(sbuf, sizeof(sbuf), n->score == 0 ? 0.0 : n->score); /* no "-0": see zsetLpInsert */
        lp = lpAppend(lp, zslNodeMember(n), n->len);
        lp = lpAppend(lp, sbuf, (size_t)slen);
    }
    zsetFreeSkiplist(zs);
    *ptr = lp;
    *enc = ENC_LISTPACK;
}

int zsetScore(const dbEntry *e, const char *m, size_t len, double *score) {
    if (e->enc == ENC_LISTPACK) return zsetLpFind(e->v.ptr, m, len, score) != NULL;
    zslNode *n = (zslNode *)dictFind(&((zset *)e->v.ptr)->d, m, len);
    if (!n) return 0;
    *score = n->score;
    return 1;
}

/* What ZADD's flags make of an existing member with score cur: 1 update to
 * *score (INCR applied), 0 leave it (ZADD_OUT_NOP), -1 NaN (ZADD_OUT_NAN). */
static int updateRule(int in, double *score, double cur, int *out) {
    if (in & ZADD_IN_NX) {
        *out |= ZADD_OUT_NOP;
        return 0;
    }
    if (in & ZADD_IN_INCR) {
        *score += cur;
        if (isnan(*score)) {
            *out |= ZADD_OUT_NAN;
            return -1;
        }
    }
    if (((in & ZADD_IN_LT) && *score >= cur) || ((in & ZADD_IN_GT) && *score <= cur)) {
        *out |= ZADD_OUT_NOP;
        return 0;
    }
    return 1;
}

/* Redis' zsetAdd: NX/XX/GT/LT/INCR semantics in one place. Returns 0 and
 * sets ZADD_OUT_NAN when an increment makes NaN (nothing changes). */
int zsetAdd(dbEntry *e, double score, const char *m, size_t len, int in, int *out, double *newscore) {
    int xx = in & ZADD_IN_XX;
    *out = 0;
    if (isnan(score)) {
        *out = ZADD_OUT_NAN;
        return 0;
    }
    double cur;
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr;
        unsigned char *ep = zsetLpFind(lp, m, len, &cur);
        if (ep) {
            int r = updateRule(in, &score, cur, out);
            if (r <= 0) return r + 1; /* -1 (NaN) returns 0, 0 (no-op) returns 1 */
            if (newscore) *newscore = score;
            if (score != cur) {
                /* Remove and re-insert: the position may change. */
                lp = lpDelete(lp, ep, &ep);
                lp = lpDelete(lp, ep, NULL);
                e->v.ptr = zsetLpInsert(lp, m, len, score);
                *out |= ZADD_OUT_UPDATED;
            }
            return 1;
        }
        if (xx) {
            *out |= ZADD_OUT_NOP;
            return 1;
        }
        if (lpLength(lp) / 2 + 1 > (unsigned long)*zsetMaxEntries ||
            len > (size_t)*zsetMaxValue || !lpSafeToAdd(lp, len)) {
            zsetConvertToSkiplist(e);
        } else {
            e->v.ptr = zsetLpInsert(lp, m, len, score);
            if (newscore) *newscore = score;
            *out |= ZADD_OUT_ADDED;
            return 1;
        }
    }
    zset *zs = e->v.ptr;
    zslNode *n = (zslNode *)dictFind(&zs->d, m, len);
    if (n) {
        cur = n->score;
        int r = updateRule(in, &score, cur, out);
        if (r <= 0) return r + 1;
        if (newscore) *newscore = score;
        if (score != cur) {
            zslUpdateScore(&zs->zsl, n, score);
            *out |= ZADD_OUT_UPDATED;
        }
        return 1;
    }
    if (xx) {
        *out |= ZADD_OUT_NOP;
        return 1;
    }
    zsetSkiplistInsert(zs, score, m, len);
    *out |= ZADD_OUT_ADDED;
    if (newscore) *newscore = score;
    return 1;
}

int zsetDel(dbEntry *e, const char *m, size_t len) {
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr;
        unsigned char *ep = zsetLpFind(lp, m, len, NULL);
        if (!ep) return 0;
        lp = lpDelete(lp, ep, &ep);
        e->v.ptr = lpDelete(lp, ep, NULL);
        return 1;
    }
    zset *zs = e->v.ptr;
    if (!zsetSkiplistDelete(zs, m, len, NULL)) return 0;
    dictShrinkIfNeeded(&zs->d);
    return 1;
}

long zsetRank(const dbEntry *e, const char *m, size_t len, int reverse, double *score) {
    unsigned long n = zsetLength(e);
    long rank;
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr;
        char buf[LP_INTBUF_SIZE];
        rank = 0;
        unsigned char *ep = lpFirst(lp);
        while (ep) {
            size_t mlen;
            const char *mp = lpMember(ep, buf, &mlen);
            unsigned char *sp = lpNext(lp, ep);
            if (mlen == len && memcmp(mp, m, len) == 0) {
                if (score) *score = zsetLpGetScore(sp);
                break;
            }
            rank++;
            ep = lpNext(lp, sp);
        }
        if (!ep) return -1;
    } else {
        zset *zs = e->v.ptr;
        zslNode *x = (zslNode *)dictFind(&zs->d, m, len);
        if (!x) return -1;
        if (score) *score = x->score;
        rank = (long)zslGetRank(&zs->zsl, x->score, m, len) - 1;
    }
    return reverse ? (long)n - 1 - rank : rank;
}

unsigned long zsetScoreRangeRanks(const dbEntry *e, const zrangespec *r, long *first, long *last) {
    if (e->enc == ENC_LISTPACK) {
        if (rangeEmpty(r)) return 0;
        unsigned char *lp = e->v.ptr;
        long i = 0, f = -1, l = -1;
        for (unsigned char *ep = lpFirst(lp); ep; i++) {
            unsigned char *sp = lpNext(lp, ep);
            double s = zsetLpGetScore(sp);
            if (!zsetValueLteMax(s, r)) break;
            if (zsetValueGteMin(s, r)) {
                if (f < 0) f = i;
                l = i;
            }
            ep = lpNext(lp, sp);
        }
        if (f < 0) return 0;
        *first = f;
        *last = l;
        return (unsigned long)(l - f + 1);
    }
    zskiplist *zsl = &((zset *)e->v.ptr)->zsl;
    unsigned long fr, lr;
    if (!zslFirstInRange(zsl, r, &fr) || !zslLastInRange(zsl, r, &lr) || lr < fr) return 0;
    *first = (long)fr - 1;
    *last = (long)lr - 1;
    return lr - fr + 1;
}

/* Lexical ranges are only meaningful when every score is equal. When they
 * differ, Redis' answer follows from how it walks the set, and clients get
 * that answer here too, so the walks below are Redis' walks, step for step:
 * find the first member in range (the last, walking down), then move member
 * by member while the far bound holds. With equal scores all of them reduce
 * to "the members between min and max". */

/* The listpack's member at 0-based rank i (buf: see lpMember). */
static const char *lpMemberAt(unsigned char *lp, long i, char *buf, size_t *len) {
    return lpMember(lpSeek(lp, 2 * i), buf, len);
}

/* Rank (0-based, from the lowest) where a walk starts, or -1: the first
 * member >= min that is also <= max (reverse: the last member <= max that is
 * also >= min), after the quick reject on the set's two ends. */
static long lexWalkStart(const dbEntry *e, const zlexrangespec *r, int reverse) {
    if (e->enc != ENC_LISTPACK) {
        zskiplist *zsl = &((zset *)e->v.ptr)->zsl;
        unsigned long rank;
        zslNode *n = reverse ? zslLastInLexRange(zsl, r, &rank) : zslFirstInLexRange(zsl, r, &rank);
        return n ? (long)rank - 1 : -1;
    }
    unsigned char *lp = e->v.ptr;
    long len = (long)zsetLength(e);
    char buf[LP_INTBUF_SIZE];
    size_t mlen;
    const char *m;
    if (len == 0 || lexRangeEmpty(r)) return -1;
    m = lpMemberAt(lp, len - 1, buf, &mlen);
    if (!zsetLexGteMin(m, mlen, r)) return -1;
    m = lpMemberAt(lp, 0, buf, &mlen);
    if (!zsetLexLteMax(m, mlen, r)) return -1;
    zsetIter it;
    zsetIterInit(&it, e, 0, reverse);
    for (long i = 0; zsetIterNext(&it, &m, &mlen, NULL); i++) {
        if (reverse ? zsetLexLteMax(m, mlen, r) : zsetLexGteMin(m, mlen, r)) {
            if (!(reverse ? zsetLexGteMin(m, mlen, r) : zsetLexLteMax(m, mlen, r))) return -1;
            return reverse ? len - 1 - i : i;
        }
    }
    return -1;
}

int zsetLexFarBoundHolds(const char *m, size_t len, const zlexrangespec *r, int reverse) {
    return reverse ? zsetLexGteMin(m, len, r) : zsetLexLteMax(m, len, r);
}

/* From `start` (a 0-based rank counted in the walk's direction), the number
 * of members for which the far bound holds. */
static long lexWalkCount(const dbEntry *e, const zlexrangespec *r, int reverse, long start) {
    zsetIter it;
    const char *m;
    size_t mlen;
    long n = 0;
    zsetIterInit(&it, e, start, reverse);
    while (zsetIterNext(&it, &m, &mlen, NULL) && zsetLexFarBoundHolds(m, mlen, r, reverse)) n++;
    return n;
}

int zsetLexRangeStart(const dbEntry *e, const zlexrangespec *r, int reverse, long offset, long *from) {
    long len = (long)zsetLength(e);
    long s = lexWalkStart(e, r, reverse);
    if (s < 0 || offset < 0) return 0;
    long dirStart = reverse ? len - 1 - s : s; /* rank in the walk's direction */
    if (offset >= len - dirStart) return 0;
    *from = dirStart + offset; /* Redis skips the offset without checking */
    return 1;
}

long long zsetLexCount(const dbEntry *e, const zlexrangespec *r) {
    if (e->enc == ENC_LISTPACK) {
        long s = lexWalkStart(e, r, 0);
        return s < 0 ? 0 : lexWalkCount(e, r, 0, s);
    }
    /* Redis counts a skip list by the ranks of the first and last member in
     * range; with differing scores that count can even be negative. */
    zskiplist *zsl = &((zset *)e->v.ptr)->zsl;
    unsigned long fr, lr;
    if (!zslFirstInLexRange(zsl, r, &fr)) return 0;
    long long count = (long long)zsl->length - ((long long)fr - 1);
    if (zslLastInLexRange(zsl, r, &lr)) count -= (long long)zsl->length - (long long)lr;
    return count;
}

long zsetLexDeleteRanks(const dbEntry *e, const zlexrangespec *r, long *first) {
    long s;
    if (e->enc == ENC_LISTPACK) {
        s = lexWalkStart(e, r, 0);
        if (s < 0) return 0;
    } else {
        /* Redis deletes from a skip list without the quick reject and without
         * checking max on the first member: down to the first member >= min,
         * then while <= max. */
        zskiplist *zsl = &((zset *)e->v.ptr)->zsl;
        zslNode *x = zsl->header;
        s = 0;
        for (int i = zsl->level - 1; i >= 0; i--) {
            while (x->level[i].forward &&
                   !zsetLexGteMin(zslNodeMember(x->level[i].forward), x->level[i].forward->len, r)) {
                s += (long)x->level[i].span;
                x = x->level[i].forward;
            }
        }
    }
    *first = s;
    return lexWalkCount(e, r, 0, s);
}

unsigned long zsetDeleteRankRange(dbEntry *e, long start, long end) {
    if (end < start) return 0;
    if (e->enc == ENC_LISTPACK) {
        e->v.ptr = lpDeleteRange(e->v.ptr, 2 * start, (unsigned long)(2 * (end - start + 1)));
        return (unsigned long)(end - start + 1);
    }
    return zsetSkiplistDeleteRangeByRank(e->v.ptr, (unsigned long)start + 1, (unsigned long)end + 1);
}

/* ---- iteration ---------------------------------------------------------- */

void zsetIterInit(zsetIter *it, const dbEntry *e, long start, int reverse) {
    it->e = e;
    it->reverse = reverse;
    it->ep = NULL;
    it->node = NULL;
    long n = (long)zsetLength(e);
    if (start < 0 || start >= n) return;
    long rank = reverse ? n - 1 - start : start; /* 0-based from the lowest */
    if (e->enc == ENC_LISTPACK) {
        it->ep = lpSeek(e->v.ptr, 2 * rank);
    } else {
        it->node = zslGetElementByRank(&((zset *)e->v.ptr)->zsl, (unsigned long)rank + 1);
    }
}

int zsetIterNext(zsetIter *it, const char **m, size_t *len, double *score) {
    if (it->e->enc == ENC_LISTPACK) {
        unsigned char *lp = it->e->v.ptr;
        if (!it->ep) return 0;
        unsigned char *sp = lpNext(lp, it->ep);
        *m = lpMember(it->ep, it->buf, len);
        if (score) *score = zsetLpGetScore(sp);
        it->ep = it->reverse ? lpPrev(lp, it->ep) : lpNext(lp, sp);
        if (it->ep && it->reverse) it->ep = lpPrev(lp, it->ep);
        return 1;
    }
    zslNode *x = it->node;
    if (!x) return 0;
    *m = zslNodeMember(x);
    *len = x->len;
    if (score) *score = x->score;
    it->node = it->reverse ? x->backward : x->level[0].forward;
    return 1;
}
