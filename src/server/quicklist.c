/* quicklist.c - the list of lpack nodes declared in quicklist.h.
 *
 * Owns: the nodes of every list value and the rules that size them (the
 * fill limit, splitting a full node on a middle insert, joining neighbours
 * that fit together again).
 * Must never: leave an empty node linked, let a node holding more than one
 * element grow past the fill limit, or let ql->count / node->count disagree
 * with the arrays. Element bytes are copied in; nothing points outside. */
#include "quicklist.h"
#include "db.h"
#include "lpack.h"
#include "mem.h"
#include "util.h"
#include <string.h>

/* Redis' limits: node sizes for fill -1..-5, the size cap of a count-limited
 * node, and the per-element overhead assumed before inserting (header and
 * backlen: at most 5 + 5 bytes, so the estimate never under-counts). */
static const size_t qlSizeLimits[] = {4096, 8192, 16384, 32768, 65536};
#define QL_SAFETY_LIMIT 8192
#define QL_ENTRY_OVERHEAD 11
#define QL_FILL_MAX 32767
#define QL_LP_EMPTY 9 /* bytes of an empty lpack: header + end byte */
#define QL_MEMORY_SAMPLES 256

/* 1 when a node of `bytes` bytes holding `count` elements is over the limit. */
static int qlExceeds(int fill, size_t bytes, unsigned long count) {
    if (fill >= 0) return bytes > QL_SAFETY_LIMIT || count > (unsigned long)fill;
    int lvl = -fill - 1;
    if (lvl > 4) lvl = 4;
    return bytes > qlSizeLimits[lvl];
}

static int qlAllowInsert(const quicklist *ql, const qlNode *n, size_t len) {
    if (!n) return 0;
    return !qlExceeds(ql->fill, lpBytes(n->lp) + len + QL_ENTRY_OVERHEAD, n->count + 1);
}

static int qlAllowMerge(const quicklist *ql, const qlNode *a, const qlNode *b) {
    if (!a || !b) return 0;
    return !qlExceeds(ql->fill, lpBytes(a->lp) + lpBytes(b->lp) - QL_LP_EMPTY, a->count + b->count);
}

quicklist *qlNew(int fill) {
    quicklist *ql = memCalloc(sizeof(*ql));
    if (fill > QL_FILL_MAX) fill = QL_FILL_MAX;
    if (fill < -5) fill = -5;
    ql->fill = fill;
    return ql;
}

static qlNode *qlNodeNew(unsigned char *lp) {
    qlNode *n = memCalloc(sizeof(*n));
    n->lp = lp;
    n->count = lpLength(lp);
    return n;
}

/* Links n after `after` (NULL: at the head). */
static void qlLinkAfter(quicklist *ql, qlNode *after, qlNode *n) {
    n->prev = after;
    n->next = after ? after->next : ql->head;
    if (n->next) n->next->prev = n;
    else ql->tail = n;
    if (after) after->next = n;
    else ql->head = n;
    ql->len++;
}

static void qlUnlinkFree(quicklist *ql, qlNode *n) {
    if (n->prev) n->prev->next = n->next;
    else ql->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else ql->tail = n->prev;
    ql->len--;
    lpFree(n->lp);
    memFree(n);
}

void qlFree(quicklist *ql) {
    if (!ql) return;
    qlNode *n = ql->head;
    while (n) {
        qlNode *next = n->next;
        lpFree(n->lp);
        memFree(n);
        n = next;
    }
    memFree(ql);
}

quicklist *qlDup(const quicklist *ql) {
    quicklist *d = qlNew(ql->fill);
    for (qlNode *n = ql->head; n; n = n->next) {
        /* An lpack array is position independent: a byte copy is a copy. */
        size_t bytes = lpBytes(n->lp);
        unsigned char *lp = memAlloc(bytes);
        memcpy(lp, n->lp, bytes);
        qlLinkAfter(d, d->tail, qlNodeNew(lp));
    }
    d->count = ql->count;
    return d;
}

size_t qlMemory(const quicklist *ql) {
    size_t total = memUsableSize((void *)ql), sampled = 0;
    unsigned long seen = 0;
    for (const qlNode *n = ql->head; n && seen < QL_MEMORY_SAMPLES; n = n->next, seen++)
        sampled += memUsableSize((void *)n) + memUsableSize(n->lp);
    /* Huge lists: the first nodes stand for the rest, as Redis samples. */
    if (seen && seen < ql->len) sampled = (size_t)((double)sampled / (double)seen * (double)ql->len);
    return total + sampled;
}

void qlPush(quicklist *ql, int where, const char *s, size_t len) {
    qlNode *n = where == QL_HEAD ? ql->head : ql->tail;
    if (qlAllowInsert(ql, n, len)) {
        n->lp = where == QL_HEAD ? lpPrepend(n->lp, s, len) : lpAppend(n->lp, s, len);
    } else {
        n = qlNodeNew(lpAppend(lpNew(0), s, len));
        n->count = 0;
        qlLinkAfter(ql, where == QL_HEAD ? NULL : ql->tail, n);
    }
    n->count++;
    ql->count++;
}

const char *qlEntryValue(const qlEntry *e, char *buf, size_t *len) { return lpGet(e->p, buf, len, NULL, NULL); }

int qlEntryEq(const qlEntry *e, const char *s, size_t len) { return lpEq(e->p, s, len); }

int qlIndex(quicklist *ql, long index, qlEntry *e) {
    unsigned long idx;
    if (index >= 0) {
        idx = (unsigned long)index;
    } else {
        unsigned long back = (unsigned long)(-(index + 1)); /* no overflow at LONG_MIN */
        if (back >= ql->count) return 0;
        idx = ql->count - 1 - back;
    }
    if (idx >= ql->count) return 0;
    qlNode *n;
    unsigned long base; /* index of n's first element */
    if (idx < ql->count / 2) {
        n = ql->head;
        base = 0;
        while (idx >= base + n->count) {
            base += n->count;
            n = n->next;
        }
    } else {
        n = ql->tail;
        base = ql->count - n->count;
        while (idx < base) {
            n = n->prev;
            base -= n->count;
        }
    }
    e->node = n;
    e->offset = (long)(idx - base);
    e->p = lpSeek(n->lp, e->offset);
    return 1;
}

/* Moves the elements [k, count) of n into a new node linked after n. */
static qlNode *qlSplit(quicklist *ql, qlNode *n, unsigned long k) {
    unsigned char *lp = lpNew(lpBytes(n->lp));
    char buf[LP_INTBUF_SIZE];
    for (unsigned char *p = lpSeek(n->lp, (long)k); p; p = lpNext(n->lp, p)) {
        size_t len;
        const char *v = lpGet(p, buf, &len, NULL, NULL);
        lp = lpAppend(lp, v, len);
    }
    n->lp = lpDeleteRange(n->lp, (long)k, n->count - k);
    n->count = k;
    qlNode *right = qlNodeNew(lp);
    qlLinkAfter(ql, n, right);
    return right;
}

/* Appends b's elements to a and frees b (b == a->next). */
static void qlMergeInto(quicklist *ql, qlNode *a, qlNode *b) {
    char buf[LP_INTBUF_SIZE];
    for (unsigned char *p = lpFirst(b->lp); p; p = lpNext(b->lp, p)) {
        size_t len;
        const char *v = lpGet(p, buf, &len, NULL, NULL);
        a->lp = lpAppend(a->lp, v, len);
    }
    a->count += b->count;
    qlUnlinkFree(ql, b);
}

/* Joins n with its neighbours while the union fits; returns the node that
 * now holds n's elements. */
static qlNode *qlMergeAround(quicklist *ql, qlNode *n) {
    if (qlAllowMerge(ql, n->prev, n)) {
        qlNode *p = n->prev;
        qlMergeInto(ql, p, n);
        n = p;
    }
    if (qlAllowMerge(ql, n, n->next)) qlMergeInto(ql, n, n->next);
    return n;
}

void qlCompact(quicklist *ql) {
    qlNode *n = ql->head;
    while (n && n->next) {
        if (qlAllowMerge(ql, n, n->next)) qlMergeInto(ql, n, n->next);
        else n = n->next;
    }
}

/* A one-element node holding s, linked after `after` (NULL: at the head). */
static qlNode *qlInsertNewNode(quicklist *ql, qlNode *after, const char *s, size_t len) {
    qlNode *n = qlNodeNew(lpAppend(lpNew(0), s, len));
    qlLinkAfter(ql, after, n);
    return n;
}

void qlInsert(quicklist *ql, qlEntry *e, int where, const char *s, size_t len) {
    qlNode *n = e->node;
    int after = where == QL_TAIL;
    ql->count++;
    if (qlAllowInsert(ql, n, len)) {
        n->lp = lpInsert(n->lp, e->p, after ? LP_AFTER : LP_BEFORE, s, len, NULL);
        n->count++;
        return;
    }
    int atTail = (unsigned long)e->offset == n->count - 1, atHead = e->offset == 0;
    if (after && atTail) {
        if (qlAllowInsert(ql, n->next, len)) {
            n->next->lp = lpPrepend(n->next->lp, s, len);
            n->next->count++;
        } else {
            qlInsertNewNode(ql, n, s, len);
        }
        return;
    }
    if (!after && atHead) {
        if (qlAllowInsert(ql, n->prev, len)) {
            n->prev->lp = lpAppend(n->prev->lp, s, len);
            n->prev->count++;
        } else {
            qlInsertNewNode(ql, n->prev, s, len);
        }
        return;
    }
    /* A full node, inserting in its middle: split it where s goes, put s at
     * the end of the left part or the start of the right one (whichever has
     * room), then join what fits together again. */
    unsigned long k = (unsigned long)e->offset + (after ? 1 : 0);
    qlNode *right = qlSplit(ql, n, k);
    qlNode *at;
    if (qlAllowInsert(ql, n, len)) {
        n->lp = lpAppend(n->lp, s, len);
        n->count++;
        at = n;
    } else if (qlAllowInsert(ql, right, len)) {
        right->lp = lpPrepend(right->lp, s, len);
        right->count++;
        at = right;
    } else {
        at = qlInsertNewNode(ql, n, s, len);
    }
    qlMergeAround(ql, at);
}

void qlReplaceAt(quicklist *ql, long index, const char *s, size_t len) {
    qlEntry e;
    if (!qlIndex(ql, index, &e)) return;
    qlNode *n = e.node;
    if (n->count == 1 || !qlExceeds(ql->fill, lpBytes(n->lp) + len + QL_ENTRY_OVERHEAD, n->count)) {
        n->lp = lpReplace(n->lp, &e.p, s, len);
        return;
    }
    /* Too big for its node: the element goes into a node of its own between
     * the elements before it and those after it, then what fits is joined. */
    if ((unsigned long)e.offset + 1 < n->count) qlSplit(ql, n, (unsigned long)e.offset + 1);
    n->lp = lpDeleteRange(n->lp, -1, 1);
    n->count--;
    qlNode *fresh = qlInsertNewNode(ql, n, s, len);
    if (n->count == 0) qlUnlinkFree(ql, n);
    qlMergeAround(ql, fresh);
}

unsigned long qlDelRange(quicklist *ql, long start, unsigned long num) {
    qlEntry e;
    if (num == 0 || !qlIndex(ql, start, &e)) return 0;
    qlNode *n = e.node;
    unsigned long off = (unsigned long)e.offset, deleted = 0;
    qlNode *partial = NULL; /* last node that kept some elements */
    while (n && deleted < num) {
        unsigned long take = n->count - off;
        if (take > num - deleted) take = num - deleted;
        qlNode *next = n->next;
        if (take == n->count) {
            qlUnlinkFree(ql, n);
        } else {
            n->lp = lpDeleteRange(n->lp, (long)off, take);
            n->count -= take;
            partial = n;
        }
        deleted += take;
        ql->count -= take;
        n = next;
        off = 0;
    }
    /* A cut in the middle may leave two small neighbours. */
    if (partial) qlMergeAround(ql, partial);
    return deleted;
}

/* ---- iteration ------------------------------------------------------------ */

static void qlIterSetNode(qlIter *it, qlNode *n) {
    it->node = n;
    if (!n) {
        it->p = NULL;
    } else if (it->dir == QL_TAIL) {
        it->p = lpFirst(n->lp);
        it->offset = 0;
    } else {
        it->p = lpLast(n->lp);
        it->offset = (long)n->count - 1;
    }
}

void qlIterInit(qlIter *it, quicklist *ql, long index, int dir) {
    qlEntry e;
    it->ql = ql;
    it->dir = dir;
    if (qlIndex(ql, index, &e)) {
        it->node = e.node;
        it->p = e.p;
        it->offset = e.offset;
    } else {
        it->node = NULL;
        it->p = NULL;
        it->offset = 0;
    }
}

int qlNext(qlIter *it, qlEntry *e) {
    if (!it->p) return 0;
    e->node = it->node;
    e->p = it->p;
    e->offset = it->offset;
    unsigned char *np = it->dir == QL_TAIL ? lpNext(it->node->lp, it->p) : lpPrev(it->node->lp, it->p);
    if (np) {
        it->p = np;
        it->offset += it->dir == QL_TAIL ? 1 : -1;
    } else {
        qlIterSetNode(it, it->dir == QL_TAIL ? it->node->next : it->node->prev);
    }
    return 1;
}

void qlIterDelete(qlIter *it, qlEntry *e) {
    qlNode *n = e->node;
    quicklist *ql = it->ql;
    ql->count--;
    if (n->count == 1) {
        qlNode *following = it->dir == QL_TAIL ? n->next : n->prev;
        qlUnlinkFree(ql, n);
        qlIterSetNode(it, following);
        return;
    }
    unsigned char *next;
    n->lp = lpDelete(n->lp, e->p, &next);
    n->count--;
    if (it->dir == QL_TAIL) {
        if (next) {
            it->node = n;
            it->p = next;
            it->offset = e->offset;
        } else {
            qlIterSetNode(it, n->next);
        }
    } else {
        if (e->offset > 0) {
            it->node = n;
            it->p = next ? lpPrev(n->lp, next) : lpLast(n->lp);
            it->offset = e->offset - 1;
        } else {
            qlIterSetNode(it, n->prev);
        }
    }
}

int qlCheck(const quicklist *ql) {
    unsigned long count = 0, len = 0;
    const qlNode *prev = NULL;
    for (const qlNode *n = ql->head; n; prev = n, n = n->next) {
        if (n->prev != prev) return 0;
        if (n->count == 0 || n->count != lpLength(n->lp)) return 0;
        if (n->count > 1 && qlExceeds(ql->fill, lpBytes(n->lp), n->count)) return 0;
        count += n->count;
        len++;
    }
    return ql->tail == prev && count == ql->count && len == ql->len;
}
