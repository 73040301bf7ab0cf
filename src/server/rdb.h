/* rdb.h - the Redis RDB format (version 10, as Redis 7.0 writes it), both
 * ways: whole snapshots (rdbSaveAll / rdbLoadAll) and single values (DUMP /
 * RESTORE payloads).
 *
 * Bytes go through an rdbSink and come from an rdbSource, so the same code
 * writes to a buffered fd, a memory buffer or an encrypting layer (seal.h
 * wraps one sink/source in another). rdb.c keeps crc and bytes/offset of the
 * sink/source it is given up to date.
 *
 * Owns: the format. Must never: crash, allocate more than the input can
 * justify, or read past what it is given, whatever the input (the loader is
 * fuzzed); reply to clients or log from a forked child's save. */
#ifndef CACHET_RDB_H
#define CACHET_RDB_H
#include <stddef.h>
#include <stdint.h>

#define RDB_VERSION 10 /* what we write (Redis 7.0) */
#define RDB_VERSION_MAX 11 /* newest we read (Redis 7.2: SET_LISTPACK) */

/* Value types (the byte before a key). */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE 6
#define RDB_TYPE_MODULE_2 7
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_SET_LISTPACK 20
#define RDB_TYPE_STREAM_LISTPACKS_3 21

/* Opcodes. */
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION 246
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

typedef struct rdbSink {   /* where bytes go: a buffered fd, a memory buffer, or an encrypting writer */
    int (*write)(void *ctx, const void *p, size_t n);   /* 0 ok, -1 error (errno set) */
    void *ctx;
    uint64_t crc;            /* running CRC-64 of what was written (rdb.c maintains it) */
    unsigned long long bytes;
} rdbSink;

typedef struct rdbSource {
    int (*read)(void *ctx, void *p, size_t n);           /* 0 ok, -1 short read / error */
    void *ctx;
    uint64_t crc;
    unsigned long long offset; /* bytes consumed: error messages name it */
} rdbSource;

/* Whole dataset: "REDIS0010", aux fields (redis-ver, redis-bits, ctime,
 * used-mem, aof-base 0), each non-empty db (SELECTDB, RESIZEDB, entries with
 * EXPIRETIME_MS), EOF, CRC-64 trailer (0 when rdbchecksum is no). Works in a
 * forked child (no event loop, no logging, no client). 0, or -1 with err. */
int rdbSaveAll(rdbSink *out, char *err, size_t errlen);
/* rdbSaveAll leaving parts out (a replica's REPLCONF rdb-filter-only, as
 * Redis 7.0): the aux fields always, the function libraries unless
 * RDB_SAVE_NO_FUNCTIONS, the keys unless RDB_SAVE_NO_DATA. */
#define RDB_SAVE_NO_DATA 1
#define RDB_SAVE_NO_FUNCTIONS 2
int rdbSaveFiltered(rdbSink *out, int exclude, char *err, size_t errlen);
/* Loads every key into srv.db (the caller has emptied it). Verifies the CRC
 * when not 0 (and rdbchecksum is yes). On error: -1 and err naming the byte
 * offset ("Short read or corrupt RDB at offset N: ..."); the caller empties
 * the dbs. Keys already expired are skipped. Sets srv.loadKeysLoaded and
 * srv.loadKeysExpired. */
int rdbLoadAll(rdbSource *in, char *err, size_t errlen);
/* The repl-id and repl-offset aux fields the last rdbLoadAll read: 1 and
 * id (41 bytes with the NUL) and *offset when it had both, well formed. */
int rdbLoadedReplInfo(char *id, long long *offset);
/* Its repl-stream-db (the db the stream continues in), -1 when absent. */
int rdbLoadedReplStreamDb(void);

/* Plain files. Save writes "<dir of path>/temp-<pid>.rdb", fsyncs it,
 * renames it over path and fsyncs the directory. Load returns 1 (nothing
 * loaded) when path does not exist. */
int rdbSaveFile(const char *path, char *err, size_t errlen);
int rdbLoadFile(const char *path, char *err, size_t errlen);

/* Sink/source over an fd with a 64 KiB buffer. Flush writes what is
 * buffered (0 / -1 errno); Free releases the buffer (not the fd). */
void rdbFdSinkInit(rdbSink *s, int fd);
int rdbFdSinkFlush(rdbSink *s);
void rdbFdSinkFree(rdbSink *s);
void rdbFdSourceInit(rdbSource *s, int fd);
void rdbFdSourceFree(rdbSource *s);

/* Memory: a sink into a growing buffer (rdbMemSinkTake hands it over, the
 * caller memFree's it), a source over bytes the caller keeps alive. */
void rdbMemSinkInit(rdbSink *s);
char *rdbMemSinkTake(rdbSink *s, size_t *len);
void rdbMemSinkFree(rdbSink *s);
void rdbMemSourceInit(rdbSource *s, const void *p, size_t len);
void rdbMemSourceFree(rdbSource *s);
size_t rdbMemSourceRemaining(const rdbSource *s);

/* Single values (DUMP/RESTORE). rdbSaveObject writes the type byte and the
 * value of e. rdbLoadObject reads a type byte and a value and returns a new,
 * unlinked entry named key (NULL on error, with err; *empty set to 1 when
 * the value was well formed but empty, which Redis refuses too). */
struct dbEntry;
int rdbSaveObject(rdbSink *out, const struct dbEntry *e);
struct dbEntry *rdbLoadObject(rdbSource *in, const char *key, size_t keylen, int *empty, char *err,
                              size_t errlen);
/* Applies IDLE (seconds, -1 none) or FREQ (0..255, -1 none) to e's LRU/LFU
 * field as Redis' objectSetLRUOrLFU: FREQ under an LFU policy, IDLE else. */
void rdbSetLruOrLfu(struct dbEntry *e, long long lfuFreq, long long lruIdleSec);
/* DUMP payload: type, value, RDB version (2 bytes LE), CRC-64 (8 bytes LE).
 * memAlloc'd; the caller frees. */
char *rdbDumpPayload(const struct dbEntry *e, size_t *len);
/* 0 when the footer's version is one we read and the CRC matches. */
int rdbVerifyDumpPayload(const char *p, size_t len);

#endif
