/* obj.c - string values inside key entries: encoding choice (int, inline,
 * raw), access to their bytes, conversion to a growable raw string, copies.
 * Owns: the value memory of an entry (v.ptr for RAW). Collection types will
 * add their own cases to objFreeValue/objDupEntry. Must never change a key's
 * TTL or touch the keyspace except through db.c. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include <string.h>

void objStringBytes(const dbEntry *e, char *numbuf, const char **p, size_t *len) {
    switch (e->enc) {
    case ENC_INT:
        *len = (size_t)ll2string(numbuf, LONG_STR_SIZE, e->v.i);
        *p = numbuf;
        break;
    case ENC_RAW: {
        const rawStr *r = e->v.ptr;
        *p = r->buf;
        *len = r->len;
        break;
    }
    default:
        *p = entryInlineValue(e);
        *len = e->v.len;
    }
}

size_t objStringLen(const dbEntry *e) {
    char nb[LONG_STR_SIZE];
    const char *p;
    size_t len;
    objStringBytes(e, nb, &p, &len);
    return len;
}

static void setInt(dbEntry *e, long long v) {
    e->type = OBJ_STRING;
    e->enc = ENC_INT;
    e->v.i = v;
}

/* The entry's allocation holds vallen bytes after the key. */
static void setInline(dbEntry *e, const char *val, size_t vallen) {
    e->type = OBJ_STRING;
    e->enc = ENC_INLINE;
    e->v.len = vallen;
    if (vallen) memmove(e->key + e->keylen, val, vallen); /* val may lie in e's own old bytes */
}

dbEntry *objNewIntEntry(const char *key, size_t keylen, long long v) {
    dbEntry *e = dbEntryNew(key, keylen, 0);
    setInt(e, v);
    return e;
}

dbEntry *objNewInlineEntry(const char *key, size_t keylen, const char *val, size_t vallen) {
    dbEntry *e = dbEntryNew(key, keylen, vallen);
    setInline(e, val, vallen);
    return e;
}

/* Integers take no value bytes at all and make INCR an in-place add. */
static int asInt(const char *val, size_t vallen, long long *ll) { return vallen <= 20 && string2ll(val, vallen, ll); }

dbEntry *objNewStringEntry(const char *key, size_t keylen, const char *val, size_t vallen) {
    long long ll;
    if (asInt(val, vallen, &ll)) return objNewIntEntry(key, keylen, ll);
    return objNewInlineEntry(key, keylen, val, vallen);
}

void objSetString(cdb *db, dbEntry *old, slice key, slice val, long long expire, int keepTtl) {
    long long ll;
    int isInt = asInt(val.p, val.len, &ll);
    dbEntry *e = old ? dbReuseEntry(db, old, isInt ? 0 : val.len, expire, keepTtl) : NULL;
    if (e) {
        if (isInt) setInt(e, ll);
        else setInline(e, val.p, val.len);
        return;
    }
    e = isInt ? objNewIntEntry(key.p, key.len, ll) : objNewInlineEntry(key.p, key.len, val.p, val.len);
    e->expire = expire;
    if (!old) {
        dbInsert(db, e);
        return;
    }
    if (keepTtl && old->expire > srv.mstime) e->expire = old->expire;
    dbReplace(db, old, e);
}

/* p == NULL: len zero bytes (SETRANGE past the end of a missing key). */
static rawStr *rawNew(const char *p, size_t len, size_t cap) {
    if (cap < len) cap = len;
    rawStr *r = memAlloc(sizeof(*r) + cap);
    r->cap = memUsableSize(r) - sizeof(*r);
    r->len = len;
    if (len) {
        if (p) memcpy(r->buf, p, len);
        else memset(r->buf, 0, len);
    }
    return r;
}

dbEntry *objNewRawEntry(const char *key, size_t keylen, const char *val, size_t vallen, size_t minCap) {
    dbEntry *e = dbEntryNew(key, keylen, 0);
    e->type = OBJ_STRING;
    e->enc = ENC_RAW;
    e->v.ptr = rawNew(val, vallen, minCap);
    return e;
}

dbEntry *objMakeRaw(cdb *db, dbEntry *e, size_t minCap) {
    if (e->enc == ENC_RAW) {
        rawStr *r = e->v.ptr;
        if (r->cap < minCap) {
            /* Grow geometrically so repeated APPENDs are amortised O(1). */
            size_t cap = minCap < (1 << 20) ? minCap * 2 : minCap + (1 << 20);
            r = memRealloc(r, sizeof(*r) + cap);
            r->cap = memUsableSize(r) - sizeof(*r);
            e->v.ptr = r;
        }
        return e;
    }
    char nb[LONG_STR_SIZE];
    const char *p;
    size_t len;
    objStringBytes(e, nb, &p, &len);
    dbEntry *n = dbEntryNew(e->key, e->keylen, 0);
    n->type = OBJ_STRING;
    n->enc = ENC_RAW;
    n->v.ptr = rawNew(p, len, minCap);
    n->lru = e->lru;
    n->expire = e->expire;
    dbReplace(db, e, n);
    return n;
}

void objFreeValue(dbEntry *e) {
    switch (e->type) {
    case OBJ_STRING:
        if (e->enc == ENC_RAW) memFree(e->v.ptr);
        break;
    case OBJ_HASH: hashFreeValue(e); break;
    case OBJ_LIST: listFreeValue(e); break;
    case OBJ_SET: setFreeValue(e); break;
    case OBJ_ZSET: zsetFreeValue(e); break;
    case OBJ_STREAM: streamFreeValue(e); break;
    }
    e->v.ptr = NULL;
}

/* Bytes the value uses outside the entry itself (MEMORY USAGE, eviction). */
size_t objValueMemory(const dbEntry *e) {
    switch (e->type) {
    case OBJ_STRING: return e->enc == ENC_RAW ? memUsableSize(e->v.ptr) : 0;
    case OBJ_HASH: return hashValueMemory(e);
    case OBJ_LIST: return listValueMemory(e);
    case OBJ_SET: return setValueMemory(e);
    case OBJ_ZSET: return zsetValueMemory(e);
    case OBJ_STREAM: return streamValueMemory(e);
    }
    return 0;
}

dbEntry *objNewCollectionEntry(const char *key, size_t keylen, int type, int enc, void *ptr) {
    dbEntry *e = dbEntryNew(key, keylen, 0);
    e->type = (uint32_t)type;
    e->enc = (uint32_t)enc;
    e->v.ptr = ptr;
    return e;
}

int objCheckType(client *c, dbEntry *e, int type) {
    if (!e || (int)e->type == type) return 0;
    replyError(c, WRONGTYPE_ERR);
    return 1;
}

dbEntry *objDupEntry(const dbEntry *e, const char *newkey, size_t newkeylen) {
    dbEntry *n;
    if (e->enc == ENC_INLINE) {
        n = dbEntryNew(newkey, newkeylen, e->v.len);
        memcpy(n->key + newkeylen, entryInlineValue(e), e->v.len);
        n->v.len = e->v.len;
    } else {
        n = dbEntryNew(newkey, newkeylen, 0);
        switch (e->type) {
        case OBJ_HASH: n->v.ptr = hashDupValue(e); break;
        case OBJ_LIST: n->v.ptr = listDupValue(e); break;
        case OBJ_SET: n->v.ptr = setDupValue(e); break;
        case OBJ_ZSET: n->v.ptr = zsetDupValue(e); break;
        case OBJ_STREAM: n->v.ptr = streamDupValue(e); break;
        default:
            if (e->enc == ENC_RAW) {
                const rawStr *r = e->v.ptr;
                n->v.ptr = rawNew(r->buf, r->len, r->len);
            } else {
                n->v = e->v;
            }
        }
    }
    n->type = e->type;
    n->enc = e->enc;
    n->expire = e->expire;
    n->lru = e->lru;
    return n;
}

dbEntry *objRekeyEntry(dbEntry *e, const char *newkey, size_t newkeylen) {
    if (e->enc == ENC_INLINE) {
        dbEntry *n = objDupEntry(e, newkey, newkeylen);
        dbEntryFree(e);
        return n;
    }
    dbEntry *n = dbEntryNew(newkey, newkeylen, 0);
    n->type = e->type;
    n->enc = e->enc;
    n->v = e->v;
    n->expire = e->expire;
    n->lru = e->lru;
    e->v.ptr = NULL;
    e->type = OBJ_STRING; /* value moved: freeing e must not free it */
    e->enc = ENC_INLINE;
    e->v.len = 0;
    dbEntryFree(e);
    return n;
}
