/* server.h - the data node's shared types: server state, clients, databases,
 * key entries and the command table entry.
 *
 * Owns: nothing by itself; it declares what the modules share. Each module
 * documents the fields it owns. Must never grow logic: inline helpers only.
 *
 * Module map (prefix: file):
 *   el*: el.c (event loop)      net*: net.c (sockets)     conn*: conn_*.c
 *   resp*: resp.c (parser)      reply*: reply.c (replies) client*: client.c
 *   cmd*: cmd.c (table, dispatch, COMMAND)   db*: db.c (keyspace, expiry)
 *   evict*: evict.c            config*: config.c          log*: log.c
 *   util: util.c (number/string helpers, glob)  obj*: obj.c (string values)
 *   multi*: multi.c (MULTI/WATCH)  pubsub*: pubsub.c  slowlog*: slowlog.c
 *   commands: t_string.c, cmd_keys.c, cmd_conn.c, cmd_server.c, cmd_info.c */
#ifndef CACHET_SERVER_H
#define CACHET_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "conn.h"
#include "dict.h"
#include "el.h"
#include "mem.h"
#include "resp.h"
#include "log.h"
#include "util.h"

#define CACHET_VERSION "7.0.15" /* Redis version we are compatible with (INFO redis_version) */
#define CACHET_OWN_VERSION "0.1.0"

#define PROTO_IOBUF_LEN (16 * 1024)
#define PROTO_REPLY_CHUNK (16 * 1024)
#define CLIENT_BUF_LEN (16 * 1024)
#define OBJ_EMBSTR_REPORT_LIMIT 44 /* OBJECT ENCODING says embstr up to this */

/* ---- values ---------------------------------------------------------- */

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
 * per small key. Owned by the db; replaced (reallocated) on overwrite, so
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
    dict keys;      /* dbEntry */
    dict expires;   /* expireNode */
    dict watched;   /* watchedKey (multi.c) */
    int id;
    unsigned long expireCursor;
    long long avgTtl;
} cdb;

/* ---- clients ---------------------------------------------------------- */

#define CLIENT_CLOSE_AFTER_REPLY (1 << 0)
#define CLIENT_CLOSE_ASAP (1 << 1)
#define CLIENT_MULTI (1 << 2)
#define CLIENT_DIRTY_CAS (1 << 3)  /* a watched key changed */
#define CLIENT_DIRTY_EXEC (1 << 4) /* a queued command was rejected */
#define CLIENT_PUBSUB (1 << 5)
#define CLIENT_PENDING_WRITE (1 << 6)
#define CLIENT_REPLY_OFF (1 << 7)
#define CLIENT_REPLY_SKIP_NEXT (1 << 8)
#define CLIENT_REPLY_SKIP (1 << 9)
#define CLIENT_NO_EVICT (1 << 10)
#define CLIENT_AUTHENTICATED (1 << 11)
#define CLIENT_EXECUTING (1 << 12)
#define CLIENT_BLOCKED (1 << 13)
#define CLIENT_PROTOCOL_ERROR (1 << 14)
#define CLIENT_NO_TOUCH (1 << 15)
#define CLIENT_REEXEC (1 << 16) /* block.c re-runs a blocked command: counted once (cmdCall) */
#define CLIENT_CERT_SEEN (1 << 17) /* the TLS client certificate was looked at for a user name */
#define CLIENT_SCRIPT (1 << 18) /* script_lua.c's client: no connection, replies parsed back into Lua */
#define CLIENT_SCRIPT_CALLER (1 << 19) /* its EVAL runs past busy-reply-threshold: its socket is not read meanwhile */
/* A pub/sub push (message or (un)subscribe confirmation) is being written:
 * it goes out even under CLIENT REPLY OFF/SKIP, as Redis 7.0's CLIENT_PUSHING. */
#define CLIENT_PUSHING (1 << 24)
#define CLIENT_REPLICA (1 << 25) /* a replica attached to us (repl_primary.c): CLIENT LIST flags=S */
#define CLIENT_MASTER (1 << 26)  /* the link to our primary, applying its stream (repl_replica.c): flags=M */
#define CLIENT_WAIT_ACK (1 << 27) /* blocked in WAIT (repl_primary.c), with CLIENT_BLOCKED */

typedef struct replyBlock {
    struct replyBlock *next;
    size_t size;
    size_t used;
    char buf[];
} replyBlock;

typedef struct multiCmd {
    struct cmdDef *cmd;
    int argc;
    slice *argv; /* argv[i].p point into blob */
    char *blob;
} multiCmd;

typedef struct client {
    long long id;
    conn *conn;
    int resp;               /* 2 or 3 */
    cdb *db;
    char *name;             /* CLIENT SETNAME; memAlloc'd or NULL */
    char *libName, *libVer; /* CLIENT SETINFO */
    struct aclUser *user;   /* never NULL: the default user until AUTH (acl.c owns it) */
    char addr[64], laddr[64];
    uint64_t flags;
    long long ctime;        /* unix ms at creation */
    long long lastInteraction; /* unix ms */

    /* Input. querybuf[qpos..qlen) is unparsed; req resumes a partial parse. */
    char *querybuf;
    size_t qlen, qcap, qpos;
    size_t qpeak;
    respReq req;
    respArg *reqArgv;
    long reqArgvCap;

    /* The command being executed. */
    int argc;
    slice *argv;
    int argvCap;
    struct cmdDef *cmd, *lastcmd;

    /* Output: buf first, then the block list; sentlen counts bytes of the
     * head (buf or first block) already written. */
    char buf[CLIENT_BUF_LEN];
    size_t bufpos;
    size_t sentlen;
    replyBlock *reply, *replyTail;
    size_t replyBytes;      /* bytes held in the block list */
    long long obufSoftSince; /* unix ms the soft limit was first exceeded, 0 if not */
    struct client *pendingNext, *pendingPrev; /* server.pendingWrites */

    /* MULTI/EXEC */
    multiCmd *mstate;
    int mcount, mcap;
    struct watchList *watched;

    /* Pub/Sub */
    dict pubsubChannels;    /* subNode */
    dict pubsubPatterns;    /* subNode */
    dict pubsubShardChannels; /* subNode (SSUBSCRIBE) */

    struct client *prev, *next; /* server.clients */
    long long netInBytes, netOutBytes;
    long long commandsProcessed;
    struct blockState *bstate; /* block.c: set while blocked on keys */
    struct replLink *repl;     /* repl_primary.c: set while c is a replica of ours */
    long long woff;            /* propagate.c: replOffset() after this client's last propagated write (WAIT) */
} client;

/* ---- commands --------------------------------------------------------- */

typedef void cmdProc(client *c);

#define CMD_WRITE (1ULL << 0)
#define CMD_READONLY (1ULL << 1)
#define CMD_DENYOOM (1ULL << 2)
#define CMD_ADMIN (1ULL << 4)
#define CMD_PUBSUB (1ULL << 5)
#define CMD_NOSCRIPT (1ULL << 6)
#define CMD_BLOCKING (1ULL << 8)
#define CMD_LOADING (1ULL << 9)
#define CMD_STALE (1ULL << 10)
#define CMD_SKIP_MONITOR (1ULL << 11)
#define CMD_SKIP_SLOWLOG (1ULL << 12)
#define CMD_ASKING (1ULL << 13)
#define CMD_FAST (1ULL << 14)
#define CMD_NO_AUTH (1ULL << 15)
#define CMD_MAY_REPLICATE (1ULL << 16)
#define CMD_SENTINEL (1ULL << 17)
#define CMD_ONLY_SENTINEL (1ULL << 18)
#define CMD_NO_MANDATORY_KEYS (1ULL << 19)
#define CMD_PROTECTED (1ULL << 20)
#define CMD_MODULE_GETKEYS (1ULL << 21)
#define CMD_MODULE_NO_CLUSTER (1ULL << 22)
#define CMD_NO_ASYNC_LOADING (1ULL << 23)
#define CMD_NO_MULTI (1ULL << 24)
#define CMD_MOVABLE_KEYS (1ULL << 25)
#define CMD_ALLOW_BUSY (1ULL << 26)

/* ACL categories (bit positions match the order in cmd.c's name table). */
#define ACL_KEYSPACE (1ULL << 0)
#define ACL_READ (1ULL << 1)
#define ACL_WRITE (1ULL << 2)
#define ACL_SET (1ULL << 3)
#define ACL_SORTEDSET (1ULL << 4)
#define ACL_LIST (1ULL << 5)
#define ACL_HASH (1ULL << 6)
#define ACL_STRING (1ULL << 7)
#define ACL_BITMAP (1ULL << 8)
#define ACL_HYPERLOGLOG (1ULL << 9)
#define ACL_GEO (1ULL << 10)
#define ACL_STREAM (1ULL << 11)
#define ACL_PUBSUB (1ULL << 12)
#define ACL_ADMIN (1ULL << 13)
#define ACL_FAST (1ULL << 14)
#define ACL_SLOW (1ULL << 15)
#define ACL_BLOCKING (1ULL << 16)
#define ACL_DANGEROUS (1ULL << 17)
#define ACL_CONNECTION (1ULL << 18)
#define ACL_TRANSACTION (1ULL << 19)
#define ACL_SCRIPTING (1ULL << 20)

typedef struct cmdDef {
    const char *name;     /* lower case; subcommands: "get" (fullname built at init) */
    cmdProc *proc;
    int arity;            /* N: exactly N args incl. name; -N: at least N */
    uint64_t flags;
    uint64_t acl;         /* ACL_* categories beyond those derived from flags */
    int firstKey, lastKey, keyStep; /* 0,0,0 when no keys; lastKey -1: to the end */
    int numkeysIdx;       /* CMD_MOVABLE_KEYS: argv[numkeysIdx] counts the keys after it */
    const char *group;    /* COMMAND DOCS group: string, generic, server, ... */
    const char *since;
    const char *summary;
    const char *complexity;
    struct cmdDef *subcmds; /* NULL-name-terminated array, or NULL */
    /* Filled at start-up / by execution: */
    char fullname[64];    /* "get", "config|get" */
    struct cmdDef *parent;
    int id;               /* dense index over commands and subcommands (ACL bitmaps) */
    long long calls, usec, rejectedCalls, failedCalls;
} cmdDef;

/* ---- server ----------------------------------------------------------- */

#define MAXMEMORY_NO_EVICTION 0
#define MAXMEMORY_ALLKEYS_LRU 1
#define MAXMEMORY_ALLKEYS_LFU 2
#define MAXMEMORY_ALLKEYS_RANDOM 3
#define MAXMEMORY_VOLATILE_LRU 4
#define MAXMEMORY_VOLATILE_LFU 5
#define MAXMEMORY_VOLATILE_RANDOM 6
#define MAXMEMORY_VOLATILE_TTL 7


#define OBUF_NORMAL 0
#define OBUF_REPLICA 1
#define OBUF_PUBSUB 2
#define OBUF_CLASSES 3

typedef struct obufLimit {
    unsigned long long hard, soft;
    long long softSeconds;
} obufLimit;

typedef struct server {
    /* process */
    pid_t pid;
    char *executable;
    char *configfile;       /* absolute path, or NULL */
    elLoop *el;
    int shutdownAsap;
    long long startTimeMs;
    char runid[41];
    long long cronloops;

    /* network */
    char **bindaddr;
    int bindaddrCount;
    int port;
    int ipfd[16];
    int ipfdCount;
    int tcpBacklog;
    int protectedMode;
    unsigned int maxclients;
    long long idleTimeout;   /* seconds, "timeout" */
    int tcpKeepalive;

    /* TLS (tls.c owns the context; these are the configured values) */
    int tlsMode;             /* TLS_MODE_*: what the main port accepts */
    int tlsPort;             /* 0: no separate TLS-only port */
    int tlsfd[16];
    int tlsfdCount;
    char *tlsCertFile, *tlsKeyFile, *tlsKeyFilePass, *tlsCaCertFile, *tlsCaCertDir;
    int tlsAuthClients;      /* TLS_CLIENT_AUTH_* */
    int tlsAuthClientsUser;  /* 1: a verified client certificate's CN logs in as that user */
    char *tlsProtocols, *tlsCiphers, *tlsCiphersuites;
    int tlsPreferServerCiphers;
    int tlsSessionCaching;
    long long tlsSessionCacheSize;
    long long tlsSessionCacheTimeout;  /* seconds */
    long long tlsHandshakeTimeout;     /* ms */
    int maxNewTlsConnsPerCycle;
    int tlsAutoReload;

    /* clients */
    client *clients;         /* doubly linked via prev/next */
    unsigned long numClients;
    long long nextClientId;
    client *pendingWrites;   /* doubly linked via pendingNext/pendingPrev */
    client **closeAsap;
    int closeAsapCount, closeAsapCap;
    client *current;         /* client executing a command, or NULL */
    long long clientMaxQuerybufLen;
    long long protoMaxBulkLen;
    obufLimit obufLimits[OBUF_CLASSES];
    char *requirepass;       /* NULL = no password; mirrors the default user's password */
    size_t requirepassLen;   /* binary safe, as Redis' sds config: may hold NUL bytes */
    char *aclfile;           /* "" or NULL = users live in the config file */
    char *keyringFile;       /* keyring-file: snapshot encryption keys, "" = none (keyring.c) */
    int snapshotEncryption;  /* snapshot-encryption yes|no */
    char *snapshotEncryptionKeyId; /* "" = the keyring's default key */
    long long aclLogMaxLen;

    /* data */
    cdb *db;
    int dbnum;
    long long dirty;
    long long mstime;        /* cached unix ms, refreshed per command and cron */
    long long ustime;
    uint32_t lruclock;

    /* memory */
    unsigned long long maxmemory;
    int maxmemoryPolicy;
    int maxmemorySamples;
    int lfuLogFactor;
    int lfuDecayTime;
    long long evictedKeys;
    long long expiredKeys;
    long long expiredStalePerc;
    long long expireCycleTimeUsed;

    /* config */
    int hz;
    int busyPollUsec; /* busy-poll-usec: el.c polls this long under load */
    long long busyReplyThreshold; /* busy-reply-threshold (lua-time-limit), ms: a longer script serves -BUSY */
    int verbosity;
    char *logfile;
    char *dir;
    int daemonize;
    char *pidfile;
    int activeExpireEnabled;
    int activeExpireEffort;
    int lazyfreeLazyUserDel, lazyfreeLazyUserFlush; /* lazyfree-lazy-*: db.c's free policy */
    int lazyfreeLazyEviction, lazyfreeLazyExpire, lazyfreeLazyServerDel, replicaLazyFlush;
    long long slowlogLogSlowerThan;
    unsigned long slowlogMaxLen;
    long long latencyMonitorThreshold;
    /* collection encodings: compact up to these sizes (Redis names) */
    long long hashMaxListpackEntries;
    long long hashMaxListpackValue;
    long long setMaxIntsetEntries;
    long long zsetMaxListpackEntries;
    long long zsetMaxListpackValue;
    long long streamNodeMaxBytes;   /* stream-node-max-bytes (t_stream.c) */
    long long streamNodeMaxEntries; /* stream-node-max-entries */
    int listMaxListpackSize;   /* >0 entries per quicklist node, -1..-5 = 4..64 KiB */
    int listCompressDepth;     /* accepted; nodes are never compressed */
    int supervised;
    char *syslogIdent;
    char *saveParams;        /* "save" as configured, e.g. "3600 1 300 100"; "" = none (snapshots come later) */
    int appendonly;          /* only "no" is accepted for now */
    char *dbfilename;
    int stopWritesOnBgsaveErr;   /* stop-writes-on-bgsave-error: -MISCONF after a failed scheduled save */
    long long rdbKeySaveDelay;   /* rdb-key-save-delay: us slept per key saved (tests make a BGSAVE slow) */
    long long keyLoadDelay;      /* key-load-delay: us slept per key loaded (tests make a load slow); <0 = 1 us every -N keys */
    int loading;                 /* the start-up load runs: a SIGTERM/SIGINT stops it without saving */
    int rdbCompression;          /* rdbcompression: LZF for strings > 20 bytes in snapshots (rdb.c) */
    int rdbChecksum;             /* rdbchecksum: write / verify the CRC-64 trailer (rdb.c) */
    /* snapshot.c: background saves and their outcome (INFO persistence) */
    int childPid;                /* the BGSAVE child, -1 when none runs */
    long long rdbSaveTimeStart;  /* ms when the running BGSAVE began */
    long long dirtyBeforeBgsave; /* srv.dirty at fork: what a successful child made durable */
    long long lastSave;          /* unix s of the last successful save (start-up time before any) */
    long long lastBgsaveTry;     /* unix s of the last BGSAVE attempt (failed saves retry after 5 s) */
    int lastBgsaveOk;            /* the last BGSAVE (or SAVE) succeeded */
    long long lastBgsaveTimeSec; /* -1 before any */
    long long rdbSaves;
    long long lastCowSize;       /* bytes the child copied on write, as it measured them */
    long long loadKeysLoaded, loadKeysExpired;
    int enableProtectedConfigs; /* enable-protected-configs: 0 no, 1 yes, 2 local */
    int enableDebugCmd;         /* enable-debug-command: 0 no, 1 yes, 2 local */
    int enableModuleCmd;        /* enable-module-command: same values */

    /* replication, the primary side (repl_primary.c) */
    long long replBacklogSize;   /* repl-backlog-size, bytes */
    long long replBacklogTtl;    /* repl-backlog-ttl, s without replicas before the backlog is freed (0 = never) */
    int replDisklessSync;        /* repl-diskless-sync */
    int replDisklessSyncDelay;   /* repl-diskless-sync-delay, s */
    int replDisklessSyncMaxReplicas; /* repl-diskless-sync-max-replicas: start at once when this many wait */
    int replPingReplicaPeriod;   /* repl-ping-replica-period, s */
    int replTimeout;             /* repl-timeout, s */
    int minReplicasToWrite, minReplicasMaxLag;
    long long statSyncFull, statSyncPartialOk, statSyncPartialErr;

    /* stats */
    long long statNumCommands;
    long long statNumConnections;
    long long statRejectedConn;
    long long statKeyspaceHits;
    long long statKeyspaceMisses;
    long long statNetInputBytes;
    long long statNetOutputBytes;
    long long statExpiredKeys;
    long long statEvictedKeys;
    long long statTotalErrorReplies;
    long long statUnexpectedErrorReplies;
    long long statClientQbufLimitDisconnections;
    long long statClientObufLimitDisconnections;
    long long statTotalReadsProcessed;
    long long statTotalWritesProcessed;
    long long statIoReadsProcessed;
    long long statPeakMemory;
    long long statStartupMemory; /* memUsed() at the end of serverInit (INFO used_memory_startup) */
    long long statStartTimeMs; /* CONFIG RESETSTAT resets */
    /* instantaneous metrics, sampled in cron */
    long long opsSamples[16];
    long long opsSampleIdx, opsLastCount, opsLastTime;
    long long inSamples[16], outSamples[16];
    long long inLast, outLast;

    /* pub/sub (pubsub.c) */
    dict pubsubChannels;     /* channelNode: channel -> subscribers */
    dict pubsubPatterns;     /* channelNode: pattern -> subscribers */
    dict pubsubShardChannels; /* channelNode: shard channel -> subscribers */
    long long pubsubPatternCount;

    /* command table */
    dict commands;
} server;

extern server srv;

/* ---- shared helpers (implemented in the module named) ------------------ */

/* reply.c */
void replyRaw(client *c, const char *s, size_t len);
void replyStatus(client *c, const char *s);        /* +s */
void replyOk(client *c);
/* Error replies: "-" + text; a text not starting with '-' gets "ERR ". */
void replyError(client *c, const char *err);
void replyErrorFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void replyErrorArity(client *c);
void replyErrorSyntax(client *c);
void replyErrorNotInt(client *c);
void replyErrorWrongType(client *c);
void replyLongLong(client *c, long long v);        /* :v */
void replyBulk(client *c, const char *p, size_t len);
void replyBulkCString(client *c, const char *s);
void replyBulkFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void replyBulkLongLong(client *c, long long v);
void replySlice(client *c, slice s);
void replyNull(client *c);                          /* RESP2 $-1, RESP3 _ */
void replyNullArray(client *c);                     /* RESP2 *-1, RESP3 _ */
void replyArrayLen(client *c, long len);
void replyMapLen(client *c, long len);              /* RESP2: array of 2*len */
void replySetLen(client *c, long len);              /* RESP2: array */
void replyPushLen(client *c, long len);             /* RESP2: array */
void replyDouble(client *c, double d);              /* RESP2: bulk */
void replyBool(client *c, int b);                   /* RESP2: :0/:1 */
void replyVerbatim(client *c, const char *p, size_t len, const char *ext);
void replyHelp(client *c, const char **lines);
/* Deferred lengths: reserve now, fill when the count is known. */
void *replyDeferredLen(client *c);
void replySetDeferredArrayLen(client *c, void *node, long len);
void replySetDeferredMapLen(client *c, void *node, long len);
void replySetDeferredSetLen(client *c, void *node, long len);
size_t clientReplyBytes(client *c);

/* client.c */
client *clientCreate(conn *conn);
void clientFree(client *c);
void clientFreeAsync(client *c);
void clientInstallWriteIfNeeded(client *c);
int clientHandlePendingWrites(void);
void clientFreeScheduled(void);
void clientAcceptHandler(elLoop *el, int fd, void *data, int mask);
extern int clientTlsListenerMark; /* its address is the tls-port listeners' handler data */
void clientsCron(void);
void clientSetName(client *c, const char *name, size_t len);
char *clientInfoString(client *c);     /* memAlloc'd line as CLIENT LIST prints it */
client *clientById(long long id);
int clientHasPendingReplies(client *c);
const char *clientObufClassName(int cls);
int clientObufClass(client *c);
void clientResetState(client *c);      /* RESET command */
/* Runs the requests queued in c's query buffer (a client just unblocked). */
void clientProcessPendingInput(client *c);

/* cmd.c */
void cmdInitTable(void);
cmdDef *cmdLookup(const char *name, size_t len);
cmdDef *cmdLookupArgv(slice *argv, int argc);  /* resolves subcommands */
int cmdProcess(client *c);    /* dispatch c->argv; returns 0 if client was freed */
void cmdCall(client *c, cmdDef *cmd);
int cmdIsKeyCommand(cmdDef *cmd);
void cmdResetStats(void);
/* Calls fn for every top-level command (subcommands via cmd->subcmds). */
void cmdForEach(void (*fn)(cmdDef *cmd, void *priv), void *priv);
/* The key positions of a call, one at a time and without a buffer, so no
 * caller can stop short of the last key (a command may name any number).
 * cmdKeysNext returns the next key's argv index, or -1 after the last. */
typedef struct cmdKeyIter {
    int pos, last, step; /* the first/last/step range */
    int mpos, mlast;     /* the keys after a numkeys count (movable keys) */
    int badCount;        /* the numkeys count is not a valid count (COMMAND GETKEYS refuses the call) */
} cmdKeyIter;
void cmdKeysInit(cmdKeyIter *it, const cmdDef *cmd, const slice *argv, int argc);
int cmdKeysNext(cmdKeyIter *it);
int cmdTotalIds(void);        /* ids handed out: every command and subcommand */
/* Answers err for a command that failed a check (counts it, logs it,
 * EXECABORT inside MULTI). err as in replyError. */
void cmdReject(client *c, cmdDef *cmd, const char *err);
extern const char *aclCategoryNames[]; /* index i is category bit 1<<i; NULL-terminated */

/* db.c */
void dbInitAll(void);
dbEntry *dbLookupRead(cdb *db, slice key);   /* counts hits/misses */
dbEntry *dbLookupWrite(cdb *db, slice key);  /* expires lazily, no stats */
dbEntry *dbFind(cdb *db, const char *key, size_t len); /* expires lazily */
int dbExpireIfNeeded(cdb *db, dbEntry *e);
/* Builds a new entry; the value fields are set by the caller. Owned by the
 * caller until dbInsert/dbReplace links it. */
dbEntry *dbEntryNew(const char *key, size_t keylen, size_t inlineValueLen);
void dbEntryFree(dbEntry *e);
void dbInsert(cdb *db, dbEntry *e);               /* key must be absent */
void dbReplace(cdb *db, dbEntry *old, dbEntry *repl); /* keeps TTL of old unless repl sets one */
void dbSetKey(cdb *db, dbEntry *e, int keepTtl);  /* insert or overwrite */
int dbDelete(cdb *db, const char *key, size_t len); /* frees per lazyfree-lazy-server-del */
int dbDeleteGeneric(cdb *db, const char *key, size_t len, int async); /* async: large values to lazyfree.c */
dbEntry *dbUnlinkEntry(cdb *db, const char *key, size_t len); /* caller frees */
void dbSetExpire(cdb *db, dbEntry *e, long long whenMs);
int dbRemoveExpire(cdb *db, dbEntry *e);
long long dbSize(cdb *db);
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

/* block.c: clients blocked on keys (BLPOP, BZPOPMIN, ...).
 * A blocking command that finds nothing to serve calls blockForKeys() and
 * returns without replying. When one of the keys is created (dbInsert of a
 * list or zset calls blockSignalKeyReady), the end of the command that did it
 * (cmd.c: blockServeReadyKeys) and beforeSleep (blockHandleReady) run,
 * which re-executes the command of each client blocked on that key, oldest
 * first; the command, finding data, replies as usual, or calls blockForKeys()
 * again, which keeps the client's place and deadline. On timeout the client
 * gets a null array (RESP2 *-1, RESP3 _), or the null reply the command chose. */
/* Parses a blocking timeout in seconds (float ok) into an absolute unix-ms
 * deadline (0 = forever). Replies "timeout is not a float or out of range" /
 * "timeout is negative" and returns -1 on bad input. */
int blockGetTimeout(client *c, slice arg, long long *deadlineMs);
/* 1 when c may block now: not inside MULTI/EXEC (there a blocking command
 * behaves as if it timed out at once, as Redis). */
int blockAllowed(client *c);
/* Blocks c on keys[0..nkeys) (in c->db) until deadlineMs (0 = forever).
 * nullArrayOnTimeout: 1 replies a null array on timeout, 0 a null bulk. */
void blockForKeys(client *c, slice *keys, int nkeys, long long deadlineMs, int nullArrayOnTimeout);
void blockSignalKeyReady(cdb *db, const char *key, size_t len);
void blockHandleReady(void);            /* beforeSleep */
void blockServeReadyKeys(void); /* after each top-level command (cmd.c): serve, do not resume input */
void blockClientFree(client *c);        /* client going away while blocked */
/* CLIENT UNBLOCK: 1 when c was blocked; error=1 replies
 * "-UNBLOCKED client unblocked via CLIENT UNBLOCK", else the timeout reply. */
int blockUnblockClient(client *c, int error);
long long blockedClientCount(void);
long long blockTimeoutTableCount(void); /* blocked with a deadline (INFO) */

/* evict.c */
int evictPerform(void);          /* 0 ok, -1 still over maxmemory */
uint32_t evictLruClock(void);        /* cached srv.lruclock: cheap, per key access */
uint32_t evictLruClockCompute(void); /* from the wall clock: cron sets srv.lruclock to it */
uint32_t evictLfuInitValue(void);    /* lru field of a new key under an LFU policy */
unsigned long evictIdleTime(dbEntry *e);
void evictLfuTouch(dbEntry *e);
uint8_t evictLfuCounter(dbEntry *e);
unsigned long long evictUsedMemory(void);
const char *evictPolicyName(int policy);
int evictPolicyFromName(const char *name);

/* ---- tls.c: TLS contexts, modes, rotation ---- */
#define TLS_CLIENT_AUTH_NO 0
#define TLS_CLIENT_AUTH_OPTIONAL 1
#define TLS_CLIENT_AUTH_YES 2
struct textBuf;
/* Start-up: loads the context the configuration asks for and opens the
 * tls-port. Returns -1 with a message in err. */
int tlsInit(char *err, size_t errlen);
/* CONFIG SET apply for every tls-* parameter: rebuilds the context, switches
 * mode, moves the tls-port. On failure nothing changed. */
int tlsApplyConfig(const char **err);
int tlsApplyBind(const char **err); /* CONFIG SET bind: move the tls-port sockets too */
void tlsCron(void);                 /* once a second: tls-auto-reload */
void tlsInfo(struct textBuf *b);    /* the body of INFO's # SSL section */
void tlsResetStats(void);
void *tlsCurrentContext(void);      /* SSL_CTX * for new connections, or NULL */
const char *tlsModeName(int mode);

/* args.c: parse helpers that reply the Redis error themselves and return -1. */
int getLongLongFromSliceOrReply(client *c, slice s, long long *v, const char *msg);
int getLongFromSliceOrReply(client *c, slice s, long *v, const char *msg);
int getPositiveLongFromSliceOrReply(client *c, slice s, long *v, const char *msg);
int getDoubleFromSliceOrReply(client *c, slice s, double *v, const char *msg);
int getLongDoubleFromSliceOrReply(client *c, slice s, long double *v, const char *msg);

/* acl.c: users, the check before every command, ACL LOG, the ACL file */
typedef struct aclUser aclUser;
#define ACL_OK 0
#define ACL_DENIED_CMD 1
#define ACL_DENIED_KEY 2
#define ACL_DENIED_CHANNEL 3
#define ACL_DENIED_AUTH 4
typedef struct aclStats {
    long long deniedCmd, deniedKey, deniedChannel, deniedAuth;
} aclStats;
extern aclStats aclStat;
void aclInit(void);                   /* after cmdInitTable, before the config file */
int aclInitFromConfig(char *err, size_t errlen); /* loads aclfile if set */
int aclConfigUser(char **argv, const size_t *lens, int argc, const char **err); /* "user" config line */
aclUser *aclGetUser(const char *name, size_t len);
aclUser *aclDefaultUser(void);
const char *aclUserName(const aclUser *u);
char *aclDescribeUser(const aclUser *u); /* "user NAME rules..." as ACL LIST shows it; caller frees */
char *aclDescribeUserFile(const aclUser *u); /* the same as a file line: names/patterns with quotes quoted */
int aclDescribeUsers(char ***lines);     /* every user as a config file line, sorted by name; caller frees each and the array */
int aclUserUnrestricted(const aclUser *u);
int aclDefaultAutoAuth(void);         /* default user is on and nopass */
int aclDefaultNoPass(void);
int aclCategoryFromName(const char *name, size_t len, uint64_t *out);
/* ACL_OK or the ACL_DENIED_* reason; *badArg = argument index at fault. */
int aclCheck(const aclUser *u, cmdDef *cmd, slice *argv, int argc, int *badArg);
void aclDeny(client *c, cmdDef *cmd, int reason, int badArg);  /* -NOPERM + ACL LOG */
int aclDenyQueued(client *c, cmdDef *cmd); /* EXEC: 1 = denied now, error replied */
void aclLogDenial(client *c, int reason, const char *object, size_t olen, const char *username);
void aclLogScriptDenial(client *caller, int reason, const char *object, size_t olen, const char *username);
int aclAuthenticate(client *c, slice user, slice pass); /* 0 ok, -1 denied (logged) */
void aclAuthenticateByCertificate(client *c);
void aclSetDefaultPassword(const char *pass, size_t len);
int aclLoadFile(char *err, size_t errlen);
int aclSaveFile(char *err, size_t errlen);
void aclResetStats(void);

/* config.c */
int configSplitArgs(const char *line, size_t len, char ***argv); /* -1 on unbalanced quotes */
int configSplitArgsLen(const char *line, size_t len, char ***argv, size_t **lens); /* and each length */
/* enable-debug-command / -module-command / -protected-configs: 0 no, 1 yes,
 * 2 local (loopback clients only). */
int configProtectedActionAllowed(int setting, client *c);
void configFreeArgs(char **argv, int argc);
int configLoadFile(const char *path, const char *extra, char **err);
int configLoadString(const char *text, size_t len, char **err); /* in-memory (tests, fuzzer) */
void configInitDefaults(void);
void configCommand(client *c);

/* multi.c */
void multiQueueCommand(client *c, cmdDef *cmd);
int multiHasQueuedWrite(client *c);   /* EXEC of a queued write: -MISCONF applies */
void multiDiscard(client *c);
void multiTouchWatchedKey(cdb *db, const char *key, size_t len);
void multiTouchAllWatched(cdb *db);   /* FLUSHDB / FLUSHALL */
void multiUnwatchAll(client *c);
void multiFlagExecAbort(client *c);
/* EXEC itself rejected (arity, OOM...): discard and reply
 * "-EXECABORT Transaction discarded because of: <err>", as Redis. */
void multiExecAbort(client *c, const char *err);

/* pubsub.c */
void pubsubInit(void);
void pubsubClientInit(client *c);
void pubsubClientFree(client *c);
int pubsubClientCount(client *c);   /* channels + patterns */
long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen);
/* Whether every channel and pattern c is subscribed to passes allowed(u, ...). */
int pubsubClientAllowed(client *c, const aclUser *u,
                        int (*allowed)(const void *u, const char *ch, size_t len, int isPattern));

/* slowlog.c */
void slowlogInit(void);
void slowlogPush(client *c, slice *argv, int argc, long long durationUs);
void slowlogReset(void);
unsigned long slowlogLen(void);
void slowlogReply(client *c, long count);   /* SLOWLOG GET: newest first, count -1 = all */

/* cmd_server.c: latency monitor. Records `ms` under `event` when
 * srv.latencyMonitorThreshold is non-zero and ms >= it (cmdCall: "command"). */
void latencyAddSampleIfNeeded(const char *event, long long ms);

/* cmd_info.c */
/* Count an error reply for INFO errorstats: prefix is the error code without
 * '-' ("ERR", "WRONGTYPE"), len its length. Called from replyError. */
void infoCountError(const char *prefix, size_t len);
void infoResetStats(void);                  /* CONFIG RESETSTAT: error stats */

/* snapshot.c: SAVE/BGSAVE/LASTSAVE, the save schedule, load at start-up,
 * shutdown save, DEBUG RELOAD. Writes go through rdb.c (and seal.c). */
extern cmdDef snapshotCommands[];
int snapshotSave(char *err, size_t errlen);          /* foreground, whole dataset to dir/dbfilename */
int snapshotBgsave(char *err, size_t errlen);        /* forks; 0 = child started */
/* Forks a child that writes a plain RDB into a pipe whose non-blocking read
 * end is *readFd (diskless replication); the child is srv.childPid. */
int snapshotForkToPipe(int *readFd, char *err, size_t errlen);
void snapshotCron(void);                             /* reaps the child, runs the save schedule */
int snapshotLoad(int atStartup, char *err, size_t errlen); /* dir/dbfilename into the (empty) dbs; 2 = stopped by a signal */
void snapshotLoadingProgress(long long *startTime, long long *totalBytes, long long *loadedBytes); /* INFO loading_* */
void snapshotKillChild(void);                        /* FLUSHALL, SHUTDOWN: abandon a running BGSAVE */
int snapshotWritesDenied(void);                      /* -MISCONF: last scheduled save failed */
int snapshotSaveConfigured(void);                    /* a `save` schedule is set */

/* keyring.c (types and parser in keyring.h): snapshot encryption keys.
 * keyringInitFromConfig loads keyring-file at start-up (serverInit) and
 * refuses a bad file or an encryption setting it cannot honour. */
int keyringInitFromConfig(char *err, size_t errlen);
int keyringCheckKeyIdConfig(const char *v, const char **err);  /* config checkStr */
int keyringCheckEncryptionConfig(long long v, const char **err); /* config checkNum */

/* snaptool.c: the cachet-snapshot tool (main.c runs it when argv[0]'s
 * basename is cachet-snapshot); returns the exit status. */
int snaptoolMain(int argc, char **argv);

/* server.c */
void serverUpdateCachedTime(void);
int serverLoadShouldStop(void);  /* start-up load only: a shutdown signal arrived (rdb.c checks per key) */
void serverShutdown(int save, int nosave, int force, char **err);
long long serverUptimeSeconds(void);
int serverListen(char **err);
int serverListenOn(int port, int *fds, int *count, char **err);
int serverEarlyInit(const char *argv0, char **err);
int serverInit(char **err);
void serverRun(void);

#endif
