/* server.h - the data node's process state: `srv`, which holds the
 * configuration (every parameter of config.c's table), the shared statistics
 * and the process (pid, loop, start time), and server.c's start-up and
 * shutdown. Subsystems keep their own state in their module (listeners in
 * listen.c, pub/sub in pubsub.c, replication in repl*.c, TLS counters in the
 * connection layer) and their declarations in their own header: db.h,
 * client.h, reply.h, cmd.h, acl.h, config.h, ... (docs/architecture.md has
 * the map). Must never grow logic, nor include the module headers: a module
 * includes what it uses. */
#ifndef CACHET_SERVER_H
#define CACHET_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "dict.h"
#include "el.h"
#include "log.h" /* every module logs, allocates and converts: the library basics come along */
#include "mem.h"
#include "util.h"

#define CACHET_VERSION "7.0.15" /* Redis version we are compatible with (INFO redis_version) */
#define CACHET_OWN_VERSION "0.1.0"

typedef struct client client;
typedef struct cdb cdb;

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
    int tcpBacklog;
    int protectedMode;
    unsigned int maxclients;
    long long idleTimeout;   /* seconds, "timeout" */
    int tcpKeepalive;

    /* TLS (tls.c owns the context; these are the configured values) */
    int tlsMode;             /* TLS_MODE_*: what the main port accepts */
    int tlsPort;             /* 0: no separate TLS-only port */
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
    long long loadKeysLoaded, loadKeysExpired;
    int enableProtectedConfigs; /* enable-protected-configs: 0 no, 1 yes, 2 local */
    int enableDebugCmd;         /* enable-debug-command: 0 no, 1 yes, 2 local */
    int enableModuleCmd;        /* enable-module-command: same values */

    /* replication, the replica side (config.c stores them, repl_replica.c reads them) */
    char *masterUser, *masterAuth;   /* masteruser, masterauth: NULL = none */
    char *replicaAnnounceIp;         /* replica-announce-ip: NULL = none */
    int replicaAnnouncePort;         /* 0: our port */
    int replicaPriority;
    int replicaReadOnly;
    int replicaServeStaleData;
    int replicaAnnounced;
    int replicaIgnoreMaxmemory;
    long long replTimeout;           /* repl-timeout, seconds */
    int tlsReplication;              /* tls-replication: the link to our primary is TLS */
    char *tlsClientCertFile, *tlsClientKeyFile, *tlsClientKeyFilePass; /* "" = tls-cert-file's */
    /* replication, the primary side (repl_primary.c) */
    long long replBacklogSize;   /* repl-backlog-size, bytes */
    long long replBacklogTtl;    /* repl-backlog-ttl, s without replicas before the backlog is freed (0 = never) */
    int replDisklessSync;        /* repl-diskless-sync */
    int replDisklessSyncDelay;   /* repl-diskless-sync-delay, s */
    int replDisklessSyncMaxReplicas; /* repl-diskless-sync-max-replicas: start at once when this many wait */
    int replPingReplicaPeriod;   /* repl-ping-replica-period, s */
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


    /* cluster mode (cluster.c; the map lives there) */
    int clusterEnabled;              /* cluster-enabled: immutable */
    char *clusterConfigFile;         /* cluster-config-file: the node id, epoch and map */
    char *clusterAnnounceIp;         /* NULL = none */
    char *clusterAnnounceHostname;   /* NULL = none */
    int clusterAnnouncePort, clusterAnnounceTlsPort; /* 0 = the node's port / tls-port */
    int clusterPreferredEndpointType; /* CLUSTER_ENDPOINT_* */
    long long clusterNodeTimeout;    /* accepted: no gossip, nothing times out */
    int clusterRequireFullCoverage;  /* cluster_state is fail while a slot is unassigned */
    int clusterAllowReadsWhenDown;   /* reads of served slots still run while cluster_state is fail */
    int clusterAllowPubsubshardWhenDown; /* SPUBLISH/SSUBSCRIBE/SUNSUBSCRIBE still run while it is fail */
    long long clusterConfigSaveDelay; /* hidden test aid: ms between writing and renaming the file */

    /* command table */
    dict commands;
} server;

extern server srv;

/* server.c */
void serverUpdateCachedTime(void);
int serverLoadShouldStop(void);  /* start-up load only: a shutdown signal arrived (rdb.c checks per key) */
void serverShutdown(int save, int nosave, int force, char **err);
long long serverUptimeSeconds(void);
int serverEarlyInit(const char *argv0, char **err);
int serverInit(char **err);
void serverRun(void);

#endif
