/* t_set.c - the set type: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER,
 * SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SUNION, SDIFF, their
 * *STORE forms and SSCAN, with Redis 7.0's replies and error texts.
 *
 * Owns: set values behind e->v.ptr. Two encodings, as Redis 7.0 (which has
 * no listpack sets): ENC_INTSET (intset.h) while every member is an integer
 * in Redis' strict form and there are at most srv.setMaxIntsetEntries of
 * them; ENC_HASHTABLE otherwise: a dict of setNode, the member bytes in the
 * node's one allocation. Conversion is one way (intset -> hashtable).
 * Must never: change anything before every argument and every key's type has
 * been checked, leave an empty set in the keyspace, keep a dbEntry pointer
 * across a call that may free it (dbDelete, dbSetKey), or add/remove members
 * of a dict while an unsafe iterator or a scan walks it. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "propagate.h"
#include "lazyfree.h"
#include "intset.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashtable encoding ----------------------------------------------------- */

typedef struct setNode {
    dictNode link; /* first, as dict.h requires */
    size_t len;
    char buf[];
} setNode;

static void setNodeKey(const dictNode *n, const char **p, size_t *len) {
    const setNode *s = (const setNode *)n;
    *p = s->buf;
    *len = s->len;
}
static const dictType setDictType = {.key = setNodeKey, .nocase = 0};

static setNode *setNodeNew(const char *p, size_t len) {
    setNode *n = memAlloc(sizeof(*n) + len);
    n->len = len;
    if (len) memcpy(n->buf, p, len);
    return n;
}

static void setNodeFree(dictNode *n, void *priv) {
    (void)priv;
    memFree(n);
}

static dict *setDictNew(void) {
    dict *d = memAlloc(sizeof(*d));
    dictInit(d, &setDictType);
    return d;
}

static void setDictFree(dict *d) {
    dictEmpty(d, setNodeFree, NULL);
    memFree(d);
}

/* ---- encoding-independent access -------------------------------------------- */

/* One member as an iterator or a random pick yields it: bytes always; the
 * integer too when it came from an intset (saves a parse when the other side
 * is an intset). The bytes of a hashtable member point into its node. */
typedef struct setMember {
    const char *p;
    size_t len;
    int isInt;
    long long ll;
    char buf[LONG_STR_SIZE];
} setMember;

static void setMemberFromInt(setMember *m, long long v) {
    m->isInt = 1;
    m->ll = v;
    m->len = (size_t)ll2string(m->buf, sizeof(m->buf), v);
    m->p = m->buf;
}

static void setMemberFromNode(setMember *m, const setNode *n) {
    m->isInt = 0;
    m->p = n->buf;
    m->len = n->len;
}

static size_t setSize(const dbEntry *e) {
    if (e->enc == ENC_INTSET) return intsetLen(e->v.ptr);
    return dictSize((const dict *)e->v.ptr);
}

/* Integer form of a member for an intset, or 0 when it has none. */
static int setMemberInt(const setMember *m, long long *v) {
    if (m->isInt) {
        *v = m->ll;
        return 1;
    }
    return string2ll(m->p, m->len, v);
}

static int setIsMember(dbEntry *e, const setMember *m) {
    if (e->enc == ENC_INTSET) {
        long long v;
        return setMemberInt(m, &v) && intsetFind(e->v.ptr, v);
    }
    return dictFind(e->v.ptr, m->p, m->len) != NULL;
}

static int setIsMemberBytes(dbEntry *e, const char *p, size_t len) {
    setMember m = {.p = p, .len = len};
    return setIsMember(e, &m);
}

/* intset -> hashtable, keeping every member. */
static void setConvertToDict(dbEntry *e) {
    intset *is = e->v.ptr;
    dict *d = setDictNew();
    uint32_t n = intsetLen(is);
    if (n) dictExpand(d, n);
    for (uint32_t i = 0; i < n; i++) {
        int64_t v;
        intsetGet(is, i, &v);
        char buf[LONG_STR_SIZE];
        int len = ll2string(buf, sizeof(buf), v);
        dictAdd(d, &setNodeNew(buf, (size_t)len)->link);
    }
    intsetFree(is);
    e->v.ptr = d;
    e->enc = ENC_HASHTABLE;
}

/* Adds a member; 1 when it was not there. Converts the encoding when the
 * member is not an integer or the intset grows past set-max-intset-entries. */
static int setAdd(dbEntry *e, const setMember *m) {
    if (e->enc == ENC_INTSET) {
        long long v;
        if (setMemberInt(m, &v)) {
            uint8_t ok;
            e->v.ptr = intsetAdd(e->v.ptr, v, &ok);
            if (ok && (long long)intsetLen(e->v.ptr) > srv.setMaxIntsetEntries) setConvertToDict(e);
            return ok;
        }
        setConvertToDict(e);
    }
    dict *d = e->v.ptr;
    if (dictFind(d, m->p, m->len)) return 0;
    dictAdd(d, &setNodeNew(m->p, m->len)->link);
    return 1;
}

static int setAddBytes(dbEntry *e, const char *p, size_t len) {
    setMember m = {.p = p, .len = len};
    return setAdd(e, &m);
}

/* Removes a member; 1 when it was there. A hashtable that became sparse
 * starts shrinking, as Redis' htNeedsResize/dictResize after removals. */
static int setRemove(dbEntry *e, const setMember *m) {
    if (e->enc == ENC_INTSET) {
        long long v;
        int ok = 0;
        if (setMemberInt(m, &v)) e->v.ptr = intsetRemove(e->v.ptr, v, &ok);
        return ok;
    }
    dict *d = e->v.ptr;
    dictNode *n = dictUnlink(d, m->p, m->len);
    if (!n) return 0;
    memFree(n);
    dictShrinkIfNeeded(d);
    return 1;
}

static int setRemoveBytes(dbEntry *e, const char *p, size_t len) {
    setMember m = {.p = p, .len = len};
    return setRemove(e, &m);
}

/* Iteration. A hashtable is walked with a safe iterator: the walk pauses
 * rehashing, so lookups in the same dict (SINTER k k) cannot move nodes
 * under it. Members must not be added or removed meanwhile. */
typedef struct setIter {
    dbEntry *e;
    uint32_t pos;
    dictIter di;
} setIter;

static void setIterInit(setIter *it, dbEntry *e) {
    it->e = e;
    it->pos = 0;
    if (e->enc == ENC_HASHTABLE) dictIterInit(&it->di, e->v.ptr, 1);
}

static int setIterNext(setIter *it, setMember *m) {
    if (it->e->enc == ENC_INTSET) {
        int64_t v;
        if (!intsetGet(it->e->v.ptr, it->pos, &v)) return 0;
        it->pos++;
        setMemberFromInt(m, v);
        return 1;
    }
    dictNode *n = dictNext(&it->di);
    if (!n) return 0;
    setMemberFromNode(m, (setNode *)n);
    return 1;
}

static void setIterEnd(setIter *it) {
    if (it->e->enc == ENC_HASHTABLE) dictIterEnd(&it->di);
}

/* A random member; the set must not be empty. */
static void setRandomMember(dbEntry *e, setMember *m) {
    if (e->enc == ENC_INTSET) setMemberFromInt(m, intsetRandom(e->v.ptr));
    else setMemberFromNode(m, (setNode *)dictRandomNode(e->v.ptr));
}

/* A new, empty set entry (not linked) of the given encoding. */
static dbEntry *setNewEntry(const char *key, size_t keylen, int enc) {
    void *ptr = enc == ENC_INTSET ? (void *)intsetNew() : (void *)setDictNew();
    return objNewCollectionEntry(key, keylen, OBJ_SET, enc, ptr);
}

/* A new key for SADD/SMOVE: its first member decides the encoding, as
 * Redis' setTypeCreate. */
static dbEntry *setNewEntryFor(slice key, const char *p, size_t len) {
    long long v;
    return setNewEntry(key.p, key.len, string2ll(p, len, &v) ? ENC_INTSET : ENC_HASHTABLE);
}

static void replyMember(client *c, const setMember *m) { replyBulk(c, m->p, m->len); }

/* Replies every member of e as a RESP3 set (array in RESP2). */
static void replySetMembers(client *c, dbEntry *e) {
    replySetLen(c, (long)setSize(e));
    setIter it;
    setMember m;
    setIterInit(&it, e);
    while (setIterNext(&it, &m)) replyMember(c, &m);
    setIterEnd(&it);
}

/* ---- values: free, copy, measure (obj.c / db.c dispatch here) ------------------ */

void setFreeValue(dbEntry *e) {
    if (!e->v.ptr) return;
    if (e->enc == ENC_INTSET) intsetFree(e->v.ptr);
    else setDictFree(e->v.ptr);
    e->v.ptr = NULL;
}

void *setDupValue(const dbEntry *e) {
    if (e->enc == ENC_INTSET) return intsetDup(e->v.ptr);
    dict *src = e->v.ptr, *d = setDictNew();
    if (dictSize(src)) dictExpand(d, dictSize(src));
    dictIter it;
    dictIterInit(&it, src, 1);
    dictNode *n;
    while ((n = dictNext(&it))) {
        const setNode *s = (const setNode *)n;
        dictAdd(d, &setNodeNew(s->buf, s->len)->link);
    }
    dictIterEnd(&it);
    return d;
}

/* Bytes behind v.ptr. Exact up to SET_MEMORY_EXACT members; beyond, the
 * first SET_MEMORY_EXACT nodes are measured and the average extrapolated,
 * so MEMORY USAGE on a huge set does not stall the loop (Redis samples too). */
#define SET_MEMORY_EXACT 1024
size_t setValueMemory(const dbEntry *e) {
    if (!e->v.ptr) return 0;
    if (e->enc == ENC_INTSET) return memUsableSize(e->v.ptr);
    return memUsableSize(e->v.ptr) + dictMemoryUsage(e->v.ptr, SET_MEMORY_EXACT);
}

/* ---- SADD SREM SMOVE ------------------------------------------------------------ */

static void saddCommand(client *c) {
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (objCheckType(c, e, OBJ_SET)) return;
    if (!e) {
        e = setNewEntryFor(key, c->argv[2].p, c->argv[2].len);
        dbInsert(c->db, e);
    }
    long long added = 0;
    for (int j = 2; j < c->argc; j++) added += setAddBytes(e, c->argv[j].p, c->argv[j].len);
    if (added) {
        dbTouchKey(c->db, key.p, key.len);
        srv.dirty += added;
    }
    replyLongLong(c, added);
}

static void sremCommand(client *c) {
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (setRemoveBytes(e, c->argv[j].p, c->argv[j].len)) {
            deleted++;
            if (setSize(e) == 0) {
                dbDelete(c->db, key.p, key.len);
                break;
            }
        }
    }
    if (deleted) {
        dbTouchKey(c->db, key.p, key.len);
        srv.dirty += deleted;
    }
    replyLongLong(c, deleted);
}

static void smoveCommand(client *c) {
    slice src = c->argv[1], dst = c->argv[2], ele = c->argv[3];
    dbEntry *s = dbLookupWrite(c->db, src);
    dbEntry *d = dbLookupWrite(c->db, dst);
    if (!s) {
        replyLongLong(c, 0);
        return;
    }
    /* Both types are checked before anything changes. */
    if (objCheckType(c, s, OBJ_SET) || objCheckType(c, d, OBJ_SET)) return;
    if (s == d) {
        replyLongLong(c, setIsMemberBytes(s, ele.p, ele.len));
        return;
    }
    if (!setRemoveBytes(s, ele.p, ele.len)) {
        replyLongLong(c, 0);
        return;
    }
    srv.dirty++;
    if (setSize(s) == 0) dbDelete(c->db, src.p, src.len);
    else dbTouchKey(c->db, src.p, src.len);
    /* Deleting src unlinks only its own entry: d is still valid. */
    if (!d) {
        d = setNewEntryFor(dst, ele.p, ele.len);
        dbInsert(c->db, d);
    }
    /* dst changes only when ele was not already there: as in Redis, a
     * client WATCHing dst keeps its transaction otherwise. */
    if (setAddBytes(d, ele.p, ele.len)) {
        srv.dirty++;
        dbTouchKey(c->db, dst.p, dst.len);
    }
    replyLongLong(c, 1);
}

/* ---- SISMEMBER SMISMEMBER SCARD -------------------------------------------------- */

static void sismemberCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_SET)) return;
    replyLongLong(c, e && setIsMemberBytes(e, c->argv[2].p, c->argv[2].len));
}

static void smismemberCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_SET)) return;
    replyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) replyLongLong(c, e && setIsMemberBytes(e, c->argv[j].p, c->argv[j].len));
}

static void scardCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_SET)) return;
    replyLongLong(c, e ? (long long)setSize(e) : 0);
}

/* ---- SPOP ------------------------------------------------------------------------ */

/* SPOP with count: when what remains is small next to what is popped, the
 * remaining members are moved to a new set and the old one is replied whole
 * (Redis' SPOP_MOVE_STRATEGY_MUL), else members are popped one by one. */
#define SPOP_MOVE_STRATEGY_MUL 5

/* SPOP's effect as SREMs (Redis 7.0: SREM key m1 ... in batches of 1024).
 * Members are copied as they are popped: their bytes may be freed next. */
#define SPOP_PROP_BATCH 1024
typedef struct spopProp {
    client *c;
    slice key;
    int active;
    int n;
    slice argv[SPOP_PROP_BATCH + 2];
    char *copies[SPOP_PROP_BATCH];
} spopProp;

static void spopPropFlush(spopProp *sp) {
    if (sp->n) {
        sp->argv[0] = propStr("SREM");
        sp->argv[1] = sp->key;
        propAlso(sp->c->db->id, sp->argv, sp->n + 2);
    }
    for (int i = 0; i < sp->n; i++) memFree(sp->copies[i]);
    sp->n = 0;
}

static void spopPropAdd(spopProp *sp, const setMember *m) {
    if (!sp->active) return;
    char *copy = memAlloc(m->len ? m->len : 1);
    memcpy(copy, m->p, m->len);
    sp->copies[sp->n] = copy;
    sp->argv[sp->n + 2].p = copy;
    sp->argv[sp->n + 2].len = m->len;
    if (++sp->n == SPOP_PROP_BATCH) spopPropFlush(sp);
}

static void spopWithCountCommand(client *c) {
    slice key = c->argv[1];
    long count;
    if (getPositiveLongFromSliceOrReply(c, c->argv[2], &count, "value is out of range, must be positive") == -1)
        return;
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replySetLen(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    if (count == 0) {
        replySetLen(c, 0);
        return;
    }
    size_t size = setSize(e);
    if ((unsigned long)count >= size) {
        replySetMembers(c, e);
        dbDelete(c->db, key.p, key.len);
        srv.dirty += (long long)size;
        slice del[2] = {srv.lazyfreeLazyServerDel ? propStr("UNLINK") : propStr("DEL"), key};
        propReplace(c, del, 2);
        return;
    }
    size_t remaining = size - (size_t)count;
    setMember m;
    spopProp *sp = memAlloc(sizeof(*sp));
    sp->c = c;
    sp->key = key;
    sp->active = propActive();
    sp->n = 0;
    propPreventSelf();
    replySetLen(c, count);
    if (remaining * SPOP_MOVE_STRATEGY_MUL > (size_t)count) {
        for (long i = 0; i < count; i++) {
            setRandomMember(e, &m);
            replyMember(c, &m);
            spopPropAdd(sp, &m);
            /* For a hashtable member m points into the node the removal
             * frees: it was replied (copied) before. */
            setRemove(e, &m);
        }
    } else {
        /* Keep `remaining` random members in a new set, whose first member
         * decides its encoding (as Redis: a hashtable of integers may become
         * an intset again here); what is left in the old one is popped. */
        dbEntry *keep = NULL;
        for (size_t i = 0; i < remaining; i++) {
            setRandomMember(e, &m);
            if (!keep) keep = setNewEntryFor((slice){"", 0}, m.p, m.len);
            setAdd(keep, &m); /* copies the bytes before the node goes */
            setRemove(e, &m);
        }
        setIter it;
        setIterInit(&it, e);
        while (setIterNext(&it, &m)) {
            replyMember(c, &m);
            spopPropAdd(sp, &m);
        }
        setIterEnd(&it);
        /* Swap the values: the old set leaves in keep, freed as Redis'
         * dbOverwrite frees a replaced value (lazyfree-lazy-server-del). */
        int oldEnc = (int)e->enc;
        void *oldSet = e->v.ptr;
        e->enc = keep->enc; // NOLINT(clang-analyzer-core.NullDereference): remaining >= 1 (count < size), so the loop made keep
        e->v.ptr = keep->v.ptr;
        keep->enc = (uint32_t)oldEnc;
        keep->v.ptr = oldSet;
        if (srv.lazyfreeLazyServerDel) lazyfreeEntry(keep);
        else dbEntryFree(keep);
    }
    spopPropFlush(sp);
    memFree(sp);
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty += count;
}

static void spopCommand(client *c) {
    if (c->argc == 3) {
        spopWithCountCommand(c);
        return;
    }
    if (c->argc > 3) {
        replyErrorSyntax(c);
        return;
    }
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyNull(c);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    setMember m;
    setRandomMember(e, &m);
    replyMember(c, &m);
    slice srem[3] = {propStr("SREM"), key, {m.p, m.len}}; /* Redis 7.0: SPOP key -> SREM key member */
    propReplace(c, srem, 3); /* copied now: m may point into the node setRemove frees */
    setRemove(e, &m);
    srv.dirty++;
    if (setSize(e) == 0) dbDelete(c->db, key.p, key.len);
    else dbTouchKey(c->db, key.p, key.len);
}

/* ---- SRANDMEMBER -------------------------------------------------------------------- */

/* Above this ratio of count to size, SRANDMEMBER picks from a full list of
 * the members; below it, random picks are retried until distinct (Redis'
 * SRANDMEMBER_SUB_STRATEGY_MUL). */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

/* An open-addressing set of 64-bit keys (intset positions or node
 * addresses) used to tell whether a random pick was already taken. */
typedef struct pickSet {
    uint64_t *keys;
    unsigned char *used;
    size_t mask;
} pickSet;

static void pickSetInit(pickSet *s, size_t count) {
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    s->keys = memAlloc(cap * sizeof(uint64_t));
    s->used = memCalloc(cap);
    s->mask = cap - 1;
}

/* Returns 1 when k was added, 0 when it was there already. */
static int pickSetAdd(pickSet *s, uint64_t k) {
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17) & s->mask;
    while (s->used[i]) {
        if (s->keys[i] == k) return 0;
        i = (i + 1) & s->mask;
    }
    s->used[i] = 1;
    s->keys[i] = k;
    return 1;
}

static void pickSetFree(pickSet *s) {
    memFree(s->keys);
    memFree(s->used);
}

static uint64_t randomU64(void) { return ((uint64_t)random() << 31) ^ (uint64_t)random(); }

static void srandmemberWithCountCommand(client *c) {
    long l;
    if (getLongFromSliceOrReply(c, c->argv[2], &l, NULL) == -1) return;
    if (l == LONG_MIN) {
        replyErrorFormat(c, "value is out of range, value must between %ld and %ld", -LONG_MAX, LONG_MAX);
        return;
    }
    int uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)-l;
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyArrayLen(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    if (count == 0) {
        replyArrayLen(c, 0);
        return;
    }
    setMember m;
    /* Repeats allowed: independent picks. */
    if (!uniq || count == 1) {
        replyArrayLen(c, (long)count);
        for (unsigned long i = 0; i < count; i++) {
            setRandomMember(e, &m);
            replyMember(c, &m);
        }
        return;
    }
    size_t size = setSize(e);
    /* More asked than there is: the whole set. */
    if (count >= size) {
        replyArrayLen(c, (long)size);
        setIter it;
        setIterInit(&it, e);
        while (setIterNext(&it, &m)) replyMember(c, &m);
        setIterEnd(&it);
        return;
    }
    replyArrayLen(c, (long)count);
    if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
        /* A large share: partial Fisher-Yates over every member. */
        if (e->enc == ENC_INTSET) {
            uint32_t *idx = memAlloc(size * sizeof(*idx));
            for (size_t i = 0; i < size; i++) idx[i] = (uint32_t)i;
            for (size_t i = 0; i < count; i++) {
                size_t j = i + (size_t)(randomU64() % (size - i)); // NOLINT(clang-analyzer-core.DivideZero): i < count < size
                uint32_t t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
                int64_t v;
                intsetGet(e->v.ptr, idx[i], &v);
                setMemberFromInt(&m, v);
                replyMember(c, &m);
            }
            memFree(idx);
        } else {
            setNode **nodes = memAlloc(size * sizeof(*nodes)); // NOLINT(bugprone-sizeof-expression): an array of pointers
            size_t n = 0;
            dictIter it;
            dictIterInit(&it, e->v.ptr, 1);
            dictNode *node;
            while ((node = dictNext(&it)) && n < size) nodes[n++] = (setNode *)node;
            dictIterEnd(&it);
            for (size_t i = 0; i < count; i++) {
                size_t j = i + (size_t)(randomU64() % (n - i)); // NOLINT(clang-analyzer-core.DivideZero): n == size > count > i
                setNode *t = nodes[i];
                nodes[i] = nodes[j];
                nodes[j] = t;
                replyBulk(c, nodes[i]->buf, nodes[i]->len);
            }
            memFree(nodes);
        }
        return;
    }
    /* A small share: random picks, skipping ones already taken. */
    pickSet picked;
    pickSetInit(&picked, count);
    unsigned long got = 0;
    while (got < count) {
        if (e->enc == ENC_INTSET) {
            uint32_t pos = (uint32_t)(randomU64() % size);
            if (!pickSetAdd(&picked, pos)) continue;
            int64_t v;
            intsetGet(e->v.ptr, pos, &v);
            setMemberFromInt(&m, v);
        } else {
            dictNode *node = dictRandomNode(e->v.ptr);
            if (!pickSetAdd(&picked, (uint64_t)(uintptr_t)node)) continue;
            setMemberFromNode(&m, (setNode *)node);
        }
        replyMember(c, &m);
        got++;
    }
    pickSetFree(&picked);
}

static void srandmemberCommand(client *c) {
    if (c->argc == 3) {
        srandmemberWithCountCommand(c);
        return;
    }
    if (c->argc > 3) {
        replyErrorSyntax(c);
        return;
    }
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyNull(c);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    setMember m;
    setRandomMember(e, &m);
    replyMember(c, &m);
}

/* ---- SINTER SINTERCARD SINTERSTORE SMEMBERS ---------------------------------------- */

/* Looks up every key (missing ones as NULL) and checks all types before any
 * reply or change, as Redis 7.0. Returns the array, or NULL after replying
 * WRONGTYPE. *missing counts the absent keys. */
static dbEntry **setLookupAll(client *c, slice *keys, int n, int write, int *missing) {
    dbEntry **sets = memAlloc((size_t)n * sizeof(*sets)); // NOLINT(bugprone-sizeof-expression): an array of pointers
    *missing = 0;
    for (int j = 0; j < n; j++) {
        dbEntry *e = write ? dbLookupWrite(c->db, keys[j]) : dbLookupRead(c->db, keys[j]); // NOLINT(clang-analyzer-core.NullDereference): keys is c->argv + k, never NULL
        if (!e) {
            (*missing)++;
            sets[j] = NULL;
            continue;
        }
        if (objCheckType(c, e, OBJ_SET)) {
            memFree(sets);
            return NULL;
        }
        sets[j] = e;
    }
    return sets;
}

static int setCmpSize(const void *a, const void *b) {
    size_t x = setSize(*(dbEntry *const *)a), y = setSize(*(dbEntry *const *)b);
    return x < y ? -1 : x > y;
}

/* Stores res (already holding dst's key) at dst, or deletes dst when res is
 * empty; replies the count. Overwrites whatever dst held, TTL included. */
static void setStoreResult(client *c, slice dst, dbEntry *res) {
    size_t n = setSize(res);
    if (n > 0) {
        dbSetKey(c->db, res, 0);
    } else {
        dbEntryFree(res);
        dbDelete(c->db, dst.p, dst.len);
    }
    srv.dirty++;
    replyLongLong(c, (long long)n);
}

static void sinterGeneric(client *c, slice *keys, int n, slice *dst, int cardOnly, long limit) {
    int missing;
    dbEntry **sets = setLookupAll(c, keys, n, dst != NULL, &missing);
    if (!sets) return;
    if (missing) {
        memFree(sets);
        if (dst) {
            if (dbDelete(c->db, dst->p, dst->len)) srv.dirty++;
            replyLongLong(c, 0);
        } else if (cardOnly) {
            replyLongLong(c, 0);
        } else {
            replySetLen(c, 0);
        }
        return;
    }
    /* Smallest first: every candidate comes from it. */
    qsort(sets, (size_t)n, sizeof(*sets), setCmpSize); // NOLINT(bugprone-sizeof-expression): an array of pointers
    dbEntry *res = dst ? setNewEntry(dst->p, dst->len, ENC_INTSET) : NULL;
    void *deferred = (!dst && !cardOnly) ? replyDeferredLen(c) : NULL;
    long long card = 0;
    setIter it;
    setMember m;
    setIterInit(&it, sets[0]);
    while (setIterNext(&it, &m)) {
        int j;
        for (j = 1; j < n; j++) {
            if (sets[j] == sets[0]) continue;
            if (!setIsMember(sets[j], &m)) break;
        }
        if (j < n) continue;
        card++;
        if (cardOnly) {
            if (limit && card >= limit) break;
        } else if (res) {
            setAdd(res, &m);
        } else {
            replyMember(c, &m);
        }
    }
    setIterEnd(&it);
    memFree(sets);
    if (cardOnly) replyLongLong(c, card);
    else if (res) setStoreResult(c, *dst, res);
    else replySetDeferredSetLen(c, deferred, (long)card);
}

static void sinterCommand(client *c) { sinterGeneric(c, c->argv + 1, c->argc - 1, NULL, 0, 0); }

static void sinterstoreCommand(client *c) { sinterGeneric(c, c->argv + 2, c->argc - 2, &c->argv[1], 0, 0); }

static void sintercardCommand(client *c) {
    long numkeys, limit = 0;
    if (getLongFromSliceOrReply(c, c->argv[1], &numkeys, "numkeys should be greater than 0") == -1) return;
    if (numkeys < 1) {
        replyError(c, "numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        replyError(c, "Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (sliceEqNocase(c->argv[j], "limit") && more) {
            j++;
            if (getPositiveLongFromSliceOrReply(c, c->argv[j], &limit, "LIMIT can't be negative") == -1) return;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    sinterGeneric(c, c->argv + 2, (int)numkeys, NULL, 1, limit);
}

/* ---- SUNION SDIFF and their STORE forms ------------------------------------------------ */

#define SET_OP_UNION 0
#define SET_OP_DIFF 1

/* SDIFF: members of the first set checked against every other set
 * (algorithm 1, O(N*M)), or the first set copied and the others removed from
 * it (algorithm 2, O(total)); the cheaper by Redis' own estimate. */
static void sdiffInto(dbEntry *res, dbEntry **sets, int n) {
    if (!sets[0]) return;
    long long work1 = 0, work2 = 0;
    for (int j = 0; j < n; j++) {
        if (!sets[j]) continue;
        work1 += (long long)setSize(sets[0]);
        work2 += (long long)setSize(sets[j]);
    }
    work1 /= 2; /* algorithm 1 stops early on a hit: cheaper in practice */
    setIter it;
    setMember m;
    if (work1 <= work2) {
        setIterInit(&it, sets[0]);
        while (setIterNext(&it, &m)) {
            int j;
            for (j = 1; j < n; j++) {
                if (!sets[j]) continue;
                if (sets[j] == sets[0] || setIsMember(sets[j], &m)) break;
            }
            if (j == n) setAdd(res, &m);
        }
        setIterEnd(&it);
        return;
    }
    for (int j = 0; j < n; j++) {
        if (!sets[j]) continue;
        setIterInit(&it, sets[j]);
        while (setIterNext(&it, &m)) {
            if (j == 0) setAdd(res, &m);
            else setRemove(res, &m);
        }
        setIterEnd(&it);
        if (setSize(res) == 0) break; /* nothing left to subtract from */
    }
}

static void sunionDiffGeneric(client *c, slice *keys, int n, slice *dst, int op) {
    int missing;
    dbEntry **sets = setLookupAll(c, keys, n, dst != NULL, &missing);
    if (!sets) return;
    dbEntry *res = dst ? setNewEntry(dst->p, dst->len, ENC_INTSET) : setNewEntry("", 0, ENC_INTSET);
    if (op == SET_OP_UNION) {
        setIter it;
        setMember m;
        for (int j = 0; j < n; j++) {
            if (!sets[j]) continue;
            setIterInit(&it, sets[j]);
            while (setIterNext(&it, &m)) setAdd(res, &m);
            setIterEnd(&it);
        }
    } else {
        sdiffInto(res, sets, n);
    }
    memFree(sets);
    if (dst) {
        setStoreResult(c, *dst, res);
    } else {
        replySetMembers(c, res);
        dbEntryFree(res);
    }
}

static void sunionCommand(client *c) { sunionDiffGeneric(c, c->argv + 1, c->argc - 1, NULL, SET_OP_UNION); }
static void sdiffCommand(client *c) { sunionDiffGeneric(c, c->argv + 1, c->argc - 1, NULL, SET_OP_DIFF); }
static void sunionstoreCommand(client *c) {
    sunionDiffGeneric(c, c->argv + 2, c->argc - 2, &c->argv[1], SET_OP_UNION);
}
static void sdiffstoreCommand(client *c) { sunionDiffGeneric(c, c->argv + 2, c->argc - 2, &c->argv[1], SET_OP_DIFF); }

/* ---- SSCAN ------------------------------------------------------------------------------ */

/* Redis parses the cursor with strtoul: a leading sign is accepted (a '-'
 * wraps), leading space, trailing bytes or overflow are not. */
static int setParseCursorOrReply(client *c, slice s, unsigned long *cursor) {
    char local[64];
    char *buf = s.len < sizeof(local) ? local : memAlloc(s.len + 1);
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    *cursor = strtoul(buf, &end, 10);
    int bad = isspace((unsigned char)buf[0]) || end[0] != '\0' || errno == ERANGE || strlen(buf) != s.len;
    if (buf != local) memFree(buf);
    if (bad) {
        replyError(c, "invalid cursor");
        return -1;
    }
    return 0;
}

typedef struct setScanState {
    setNode **nodes;
    size_t n, cap;
} setScanState;

static void setScanCb(void *priv, dictNode *node) {
    setScanState *s = priv;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->nodes = memRealloc(s->nodes, s->cap * sizeof(*s->nodes)); // NOLINT(bugprone-sizeof-expression): an array of pointers
    }
    s->nodes[s->n++] = (setNode *)node;
}

static void sscanCommand(client *c) {
    unsigned long cursor;
    if (setParseCursorOrReply(c, c->argv[2], &cursor) == -1) return;
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyArrayLen(c, 2);
        replyBulk(c, "0", 1);
        replyArrayLen(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_SET)) return;
    long count = 10;
    slice pat = {NULL, 0};
    int usePattern = 0;
    for (int i = 3; i < c->argc; i += 2) {
        int more = c->argc - i;
        if (sliceEqNocase(c->argv[i], "count") && more >= 2) {
            if (getLongFromSliceOrReply(c, c->argv[i + 1], &count, NULL) == -1) return;
            if (count < 1) {
                replyErrorSyntax(c);
                return;
            }
        } else if (sliceEqNocase(c->argv[i], "match") && more >= 2) {
            pat = c->argv[i + 1];
            usePattern = !(pat.len == 1 && pat.p[0] == '*');
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (e->enc == ENC_INTSET) {
        /* A compact set is returned whole in one call, cursor 0, as Redis. */
        replyArrayLen(c, 2);
        replyBulk(c, "0", 1);
        void *len = replyDeferredLen(c);
        long emitted = 0;
        setIter it;
        setMember m;
        setIterInit(&it, e);
        while (setIterNext(&it, &m)) {
            if (usePattern && !globMatch(pat.p, pat.len, m.p, m.len, 0)) continue;
            replyMember(c, &m);
            emitted++;
        }
        setIterEnd(&it);
        replySetDeferredArrayLen(c, len, emitted);
        return;
    }
    setScanState s = {0};
    /* At most 10*COUNT buckets per call, as Redis: a sparse table returns
     * few members rather than stalling the loop. */
    long maxIterations = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = dictScan(e->v.ptr, cursor, setScanCb, &s);
    } while (cursor && maxIterations-- && s.n < (size_t)count);
    char cbuf[32];
    int clen = snprintf(cbuf, sizeof(cbuf), "%lu", cursor);
    replyArrayLen(c, 2);
    replyBulk(c, cbuf, (size_t)clen);
    long emitted = 0;
    for (size_t i = 0; i < s.n; i++)
        if (!usePattern || globMatch(pat.p, pat.len, s.nodes[i]->buf, s.nodes[i]->len, 0)) emitted++;
    replyArrayLen(c, emitted);
    for (size_t i = 0; i < s.n; i++)
        if (!usePattern || globMatch(pat.p, pat.len, s.nodes[i]->buf, s.nodes[i]->len, 0))
            replyBulk(c, s.nodes[i]->buf, s.nodes[i]->len);
    memFree(s.nodes);
}

/* ---- table ---------------------------------------------------------------------------------- */

#define SET_KEY1 .firstKey = 1, .lastKey = 1, .keyStep = 1
#define SET_KEYS_ALL .firstKey = 1, .lastKey = -1, .keyStep = 1
#define SET_STORE_CX "O(N) where N is the total number of elements in all given sets."
#define SET_INTER_CX "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."

/* ---- bulk construction for rdb.c (snapshots, RESTORE) -------------------- */

void *setTableNew(size_t hint) {
    dict *d = setDictNew();
    if (hint) dictExpand(d, hint);
    return d;
}

int setTableAdd(void *d, const char *p, size_t len) {
    if (dictFind(d, p, len)) return 0;
    dictAdd(d, &setNodeNew(p, len)->link);
    return 1;
}

void setTableFree(void *d) { setDictFree(d); }

/* ---- read access for other types (ZUNIONSTORE & co. take sets) ---------- */

unsigned long setTypeSize(const dbEntry *e) { return (unsigned long)setSize(e); }

int setTypeIsMember(const dbEntry *e, const char *p, size_t len) { return setIsMemberBytes((dbEntry *)e, p, len); }

void setTypeForEach(const dbEntry *e, int (*fn)(void *priv, const char *p, size_t len), void *priv) {
    setIter it;
    setMember m;
    setIterInit(&it, (dbEntry *)e);
    while (setIterNext(&it, &m))
        if (fn(priv, m.p, m.len)) break;
    setIterEnd(&it);
}

cmdDef setCommands[] = {
    {.name = "sadd", .proc = saddCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Add one or more members to a set",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."},
    {.name = "srem", .proc = sremCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Remove one or more members from a set",
     .complexity = "O(N) where N is the number of members to be removed."},
    {.name = "smembers", .proc = sinterCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Get all the members in a set",
     .complexity = "O(N) where N is the set cardinality."},
    {.name = "sismember", .proc = sismemberCommand, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Determine if a given value is a member of a set", .complexity = "O(1)"},
    {.name = "smismember", .proc = smismemberCommand, .arity = -3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "6.2.0", .summary = "Returns the membership associated with the given elements for a set",
     .complexity = "O(N) where N is the number of elements being checked for membership"},
    {.name = "scard", .proc = scardCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Get the number of members in a set", .complexity = "O(1)"},
    {.name = "spop", .proc = spopCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Remove and return one or multiple random members from a set",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."},
    {.name = "srandmember", .proc = srandmemberCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "1.0.0", .summary = "Get one or multiple random members from a set",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."},
    {.name = "smove", .proc = smoveCommand, .arity = 4, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SET, .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "set", .since = "1.0.0", .summary = "Move a member from one set to another", .complexity = "O(1)"},
    {.name = "sinter", .proc = sinterCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Intersect multiple sets", .complexity = SET_INTER_CX},
    {.name = "sintercard", .proc = sintercardCommand, .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .acl = ACL_SET, .numkeysIdx = 1, .group = "set", .since = "7.0.0", .summary = "Intersect multiple sets and return the cardinality of the result", .complexity = SET_INTER_CX},
    {.name = "sunion", .proc = sunionCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Add multiple sets", .complexity = SET_STORE_CX},
    {.name = "sdiff", .proc = sdiffCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Subtract multiple sets", .complexity = SET_STORE_CX},
    {.name = "sinterstore", .proc = sinterstoreCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Intersect multiple sets and store the resulting set in a key", .complexity = SET_INTER_CX},
    {.name = "sunionstore", .proc = sunionstoreCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Add multiple sets and store the resulting set in a key", .complexity = SET_STORE_CX},
    {.name = "sdiffstore", .proc = sdiffstoreCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_SET, SET_KEYS_ALL, .group = "set", .since = "1.0.0", .summary = "Subtract multiple sets and store the resulting set in a key", .complexity = SET_STORE_CX},
    {.name = "sscan", .proc = sscanCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_SET, SET_KEY1, .group = "set", .since = "2.8.0", .summary = "Incrementally iterate Set elements",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."},
    {0}};
