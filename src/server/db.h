/* db.h - the keyspace and its values: databases (cdb), key entries
 * (dbEntry) with their encodings, the keyspace operations (db.c), string
 * values and entry construction (obj.c) and the per-type value hooks each
 * t_<type>.c implements (free, copy, measure). */
#ifndef CACHET_DB_H
#define CACHET_DB_H

#include <stddef.h>
#include <stdint.h>
#include "dict.h"
#include "kvstore.h"
#include "util.h"

typedef struct client client;

#define OBJ_EMBSTR_REPORT_LIMIT 44 /* OBJECT ENCODING says embstr up to this */

#define OBJ_STRING 0
#define OBJ_LIST 1
#define OBJ_SET 2
#define OBJ_ZSET 3
#define OBJ_HASH 4
#define OBJ_STREAM 6 /* Redis' number (TYPE "stream") */

#define ENC_INLINE 0 /* string bytes stored after the key in the entry */
#define ENC_INT 1    /* v.i holds the integer; the string is its decimal form */
#define ENC_RAW 2    /* v.ptr is a rawStr (grows in place: APPEND, SETRANGE) */
/* Collections keep their value behind v.ptr; the encoding says what it is.
 * Names as Redis 7.0's OBJECT ENCODING prints them. */
#define ENC_LISTPACK 3  /* lpack.h packed array (small hash, small zset) */
#define ENC_HASHTABLE 4 /* dict (big hash, big set) */
#define ENC_QUICKLIST 5 /* list of lpack nodes (every list, as Redis 7.0) */
#define ENC_INTSET 6    /* sorted integer array (small set of integers) */
#define ENC_SKIPLIST 7  /* skip list + dict (big zset) */
#define ENC_STREAM 8    /* stream.h: listpack nodes in an ordered index */

/* A growable byte string used for RAW string values. */
typedef struct rawStr {
    size_t len;
    size_t cap;
    char buf[];
} rawStr;

/* One key and its value, linked into db->keys. Key bytes follow the header,
 * and for ENC_INLINE strings the value bytes follow the key: one allocation
 * per small key. Owned by the db; replaced (reallocated) on overwrite, or
 * rewritten in place when a string's new value fits (dbReuseEntry), so
 * never keep a dbEntry pointer across a call that may write the key. */
typedef struct dbEntry {
    dictNode link;        /* must be first (dict.h) */
    long long expire;     /* unix ms; 0 = no TTL */
    uint32_t keylen;
    uint32_t type : 4;
    uint32_t enc : 4;
    uint32_t lru : 24;    /* LRU clock or LFU (16 bits minutes, 8 bits count) */
    union {
        void *ptr;
        long long i;
        size_t len;       /* ENC_INLINE: value length */
    } v;
    char key[];
} dbEntry;

static inline const char *entryInlineValue(const dbEntry *e) { return e->key + e->keylen; }

/* Index of keys with a TTL, for the active expire cycle. */
typedef struct expireNode {
    dictNode link;
    dbEntry *e;
} expireNode;

typedef struct cdb {
    kvstore keys;   /* dbEntry; one table per hash slot in cluster mode (db 0) */
    dict expires;   /* expireNode */
    dict watched;   /* watchedKey (multi.c) */
    int id;
    unsigned long expireCursor;
    long long avgTtl;
} cdb;

/* db.c */
void dbInitAll(void);
dbEntry *dbLookupRead(cdb *db, slice key);   /* counts hits/misses */
dbEntry *dbLookupWrite(cdb *db, slice key);  /* expires lazily, no stats */
dbEntry *dbFind(cdb *db, const char *key, size_t len); /* expires lazily */
int dbExpireIfNeeded(cdb *db, dbEntry *e);
/* A write that sets an expiry time already past deletes the key instead,
 * except on a replica (its primary's DEL follows) or while loading: Redis'
 * checkAlreadyExpired. */
int dbAlreadyExpired(long long whenMs);
/* Builds a new entry; the value fields are set by the caller. Owned by the
 * caller until dbInsert/dbReplace links it. */
dbEntry *dbEntryNew(const char *key, size_t keylen, size_t inlineValueLen);
void dbEntryFree(dbEntry *e);
void dbInsert(cdb *db, dbEntry *e);               /* key must be absent */
void dbReplace(cdb *db, dbEntry *old, dbEntry *repl); /* keeps TTL of old unless repl sets one; LFU counter of old */
void dbSetKey(cdb *db, dbEntry *e, int keepTtl);  /* insert or overwrite */
dbEntry *dbFindLinked(cdb *db, const char *key, size_t len); /* expired or not; no lazy expiry */
/* A linked string entry made ready to take a new string value of
 * inlineValueLen bytes in place (its value freed, TTL and access field set
 * as for a new entry), or NULL when it cannot be (another type, another
 * allocation size): then build a new entry and dbReplace. Under an LFU
 * policy the access field is kept, as dbReplace keeps it. */
dbEntry *dbReuseEntry(cdb *db, dbEntry *old, size_t inlineValueLen, long long expire, int keepTtl);
int dbDelete(cdb *db, const char *key, size_t len); /* frees per lazyfree-lazy-server-del */
int dbDeleteGeneric(cdb *db, const char *key, size_t len, int async); /* async: large values to lazyfree.c */
dbEntry *dbUnlinkEntry(cdb *db, const char *key, size_t len); /* caller frees */
void dbSetExpire(cdb *db, dbEntry *e, long long whenMs);
int dbRemoveExpire(cdb *db, dbEntry *e);
long long dbSize(cdb *db);
/* Cluster mode's slot tables: keys of one slot in O(keys of the slot).
 * dbSlotKeys stores up to max entries of the slot (any order). */
long long dbSlotCount(cdb *db, unsigned slot);
size_t dbSlotKeys(cdb *db, unsigned slot, dbEntry **out, size_t max);
long long dbEmpty(cdb *db);               /* returns keys removed */
long long dbEmptyGeneric(cdb *db, int async); /* async: tables handed to lazyfree.c whole */
void dbTouchKey(cdb *db, const char *key, size_t len); /* WATCH invalidation */
void dbActiveExpireCycle(int fast);
void dbCron(void);
void dbUpdateLru(dbEntry *e);
size_t dbEntryMemory(dbEntry *e);
const char *dbTypeName(int type);
const char *dbEncodingName(dbEntry *e);

/* obj.c: string values */
/* Bytes of a string entry; numbuf (LONG_STR_SIZE) is used for ENC_INT. */
void objStringBytes(const dbEntry *e, char *numbuf, const char **p, size_t *len);
size_t objStringLen(const dbEntry *e);
/* New string entry for key with value bytes (chooses INT or INLINE). */
dbEntry *objNewStringEntry(const char *key, size_t keylen, const char *val, size_t vallen);
/* SET's write: key gets the string val with TTL expire (keepTtl: the old
 * entry's live TTL wins), overwriting old in place when it can. old is the
 * entry linked under key (dbFindLinked, or a lookup's result) or NULL. */
void objSetString(cdb *db, dbEntry *old, slice key, slice val, long long expire, int keepTtl);
dbEntry *objNewIntEntry(const char *key, size_t keylen, long long v);
/* New RAW string entry (the value is growable from the start): vallen bytes
 * copied from val, or zeros when val is NULL; room for at least minCap. */
dbEntry *objNewRawEntry(const char *key, size_t keylen, const char *val, size_t vallen, size_t minCap);
/* New INLINE string entry that is never INT-encoded (INCRBYFLOAT's result). */
dbEntry *objNewInlineEntry(const char *key, size_t keylen, const char *val, size_t vallen);
/* Make the value a growable RAW string (for APPEND/SETRANGE); may move e
 * (the db is updated), returns the entry to use. */
dbEntry *objMakeRaw(cdb *db, dbEntry *e, size_t minCap);
void objFreeValue(dbEntry *e);
size_t objValueMemory(const dbEntry *e); /* bytes behind v.ptr */
/* Deep copy under another name (COPY). Expire and LRU are copied. */
dbEntry *objDupEntry(const dbEntry *e, const char *newkey, size_t newkeylen);
/* Same value under another name (RENAME, MOVE): e must be unlinked from its
 * db; its value moves to the returned entry and e is freed. */
dbEntry *objRekeyEntry(dbEntry *e, const char *newkey, size_t newkeylen);

/* Collection types: each t_<type>.c module frees, copies and measures its
 * own values; obj.c and db.c dispatch on e->type to these. */
void hashFreeValue(dbEntry *e);
void *hashDupValue(const dbEntry *e);      /* deep copy of e->v.ptr, same enc */
size_t hashValueMemory(const dbEntry *e);  /* bytes behind e->v.ptr */
void listFreeValue(dbEntry *e);
void *listDupValue(const dbEntry *e);
size_t listValueMemory(const dbEntry *e);
void setFreeValue(dbEntry *e);
void *setDupValue(const dbEntry *e);
size_t setValueMemory(const dbEntry *e);
/* Read access to a set for other types' commands (ZUNIONSTORE & co. take
 * sets as sources, each member scoring 1). fn returns non-zero to stop. */
unsigned long setTypeSize(const dbEntry *e);
int setTypeIsMember(const dbEntry *e, const char *p, size_t len);
void setTypeForEach(const dbEntry *e, int (*fn)(void *priv, const char *p, size_t len), void *priv);
/* Bulk construction and iteration for rdb.c: a hashtable-encoded value
 * (ENC_HASHTABLE dict) filled one element at a time; Add returns 0 (and
 * adds nothing) when the field/member is already there. */
void *hashTableNew(size_t hint);
int hashTableAdd(void *d, const char *f, size_t flen, const char *v, size_t vlen);
void hashTableFree(void *d);
unsigned long hashTypeLength(const dbEntry *e);
void hashTypeForEach(const dbEntry *e, int (*fn)(void *priv, const char *f, size_t flen, const char *v, size_t vlen),
                     void *priv);
void *setTableNew(size_t hint);
int setTableAdd(void *d, const char *p, size_t len);
void setTableFree(void *d);
void zsetFreeValue(dbEntry *e);
void *zsetDupValue(const dbEntry *e);
size_t zsetValueMemory(const dbEntry *e);
void streamFreeValue(dbEntry *e);       /* t_stream.c */
void *streamDupValue(const dbEntry *e);
size_t streamValueMemory(const dbEntry *e);
/* New entry holding a collection value ptr (owned by the entry from now). */
dbEntry *objNewCollectionEntry(const char *key, size_t keylen, int type, int enc, void *ptr);
/* When e exists and is not of type: replies WRONGTYPE and returns 1. */
int objCheckType(client *c, dbEntry *e, int type);
#define WRONGTYPE_ERR "-WRONGTYPE Operation against a key holding the wrong kind of value"

#endif
