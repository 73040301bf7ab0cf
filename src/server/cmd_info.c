/* cmd_info.c - INFO and MEMORY: what the server reports about itself, in
 * Redis 7.0's field names and order, so monitoring tools and clients that
 * parse INFO (role, redis_version, used_memory, keyspace, ...) work unchanged.
 *
 * Owns: the per-prefix error counters (INFO errorstats) and the memory
 * accounting breakdown shared by INFO memory and MEMORY STATS.
 * Must never report a number it does not measure: features we do not have
 * (persistence, replication, modules, forks) report their idle values, never
 * invented activity. Must never touch keys' access data (MEMORY USAGE reads
 * with dbFind). */
#include "server.h"
#include "migrate.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "evict.h"
#include "tls.h"
#include "args.h"
#include "acl.h"
#include "pubsub.h"
#include "info.h"
#include "snapshot.h"
#include "lazyfree.h"
#include "repl.h"
#include "cluster.h"
#include "pause.h"
#include "script.h"
#include "function.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <malloc.h>

#ifndef CACHET_NO_JEMALLOC
/* jemalloc's control interface (we link it as the process malloc). */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque, const char *opts);
#endif

/* ---- text building --------------------------------------------------------- */

static void human(char *buf, size_t size, long long n) { bytesToHuman(buf, size, n < 0 ? 0 : (unsigned long long)n); }

/* ---- error stats ------------------------------------------------------------ */

#define ERROR_STATS_MAX 128 /* distinct prefixes tracked, as Redis */
#define ERROR_PREFIX_MAX 31

typedef struct errorStat {
    char prefix[ERROR_PREFIX_MAX + 1];
    long long count;
} errorStat;

static errorStat errorStats[ERROR_STATS_MAX];
static int errorStatCount;

void infoCountError(const char *prefix, size_t len) {
    if (len > ERROR_PREFIX_MAX) len = ERROR_PREFIX_MAX;
    for (int i = 0; i < errorStatCount; i++) {
        if (strlen(errorStats[i].prefix) == len && memcmp(errorStats[i].prefix, prefix, len) == 0) {
            errorStats[i].count++;
            return;
        }
    }
    /* Past the cap new kinds are not tracked: a client sending crafted errors
     * (e.g. through scripts) must not grow this without bound. */
    if (errorStatCount == ERROR_STATS_MAX) return;
    errorStat *e = &errorStats[errorStatCount++];
    memcpy(e->prefix, prefix, len);
    e->prefix[len] = '\0';
    e->count = 1;
}

void infoResetStats(void) {
    errorStatCount = 0;
    lazyfreeResetStats(); /* lazyfreed_objects, as Redis' CONFIG RESETSTAT */
}

/* ---- memory accounting ------------------------------------------------------ */

typedef struct memBreakdown {
    long long used, peak, startup, rss;
    long long clientsNormal, clientsReplicas, backlog; /* replicas: their clients and link buffers */
    long long dbMain[64], dbExpires[64]; /* per db, only those with keys are reported */
    long long overhead, dataset, keys;
    long long allocAllocated, allocActive, allocResident; /* 0 when unknown */
} memBreakdown;

static long long clientMemory(client *c) {
    long long m = (long long)memUsableSize(c) + (long long)memUsableSize(c->querybuf) +
                  (long long)memUsableSize(c->argv) + (long long)memUsableSize(c->reqArgv);
    for (replyBlock *b = c->reply; b; b = b->next) m += (long long)memUsableSize(b);
    return m;
}

static void allocatorStats(memBreakdown *m) {
    m->allocAllocated = m->allocActive = m->allocResident = 0;
#ifndef CACHET_NO_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh the cached stats */
    size_t v;
    sz = sizeof(v);
    if (mallctl("stats.allocated", &v, &sz, NULL, 0) == 0) m->allocAllocated = (long long)v;
    sz = sizeof(v);
    if (mallctl("stats.active", &v, &sz, NULL, 0) == 0) m->allocActive = (long long)v;
    sz = sizeof(v);
    if (mallctl("stats.resident", &v, &sz, NULL, 0) == 0) m->allocResident = (long long)v;
#endif
}

static void memGetBreakdown(memBreakdown *m) {
    memset(m, 0, sizeof(*m));
    m->used = (long long)memUsed();
    if (m->used > srv.statPeakMemory) srv.statPeakMemory = m->used;
    m->peak = srv.statPeakMemory;
    m->startup = srv.statStartupMemory;
    m->rss = (long long)memRss();
    long long overhead = m->startup;
    for (client *c = srv.clients; c; c = c->next) {
        if (c->flags & CLIENT_REPLICA) m->clientsReplicas += clientMemory(c) + replLinkMemory(c);
        else m->clientsNormal += clientMemory(c);
    }
    m->backlog = replBacklogMemory();
    overhead += m->clientsNormal + m->clientsReplicas + m->backlog;
    for (int i = 0; i < srv.dbnum; i++) {
        cdb *db = &srv.db[i];
        long long n = dbSize(db);
        m->keys += n;
        if (i >= 64) continue;
        /* Bucket arrays plus each entry's fixed header; key and value bytes
         * are the dataset. */
        m->dbMain[i] = (long long)(kvsOverhead(&db->keys) + (size_t)n * sizeof(dbEntry)); // NOLINT(bugprone-misplaced-widening-cast): a size_t byte count, computed in size_t on purpose
        m->dbExpires[i] = (long long)(dictBuckets(&db->expires) * sizeof(void *) + // NOLINT(bugprone-misplaced-widening-cast): same
                                      dictSize(&db->expires) * sizeof(expireNode));
        overhead += m->dbMain[i] + m->dbExpires[i];
    }
    /* used_memory_startup is a snapshot: what start-up held then and freed
     * since (the load's buffers) would make the sum exceed what is used. */
    if (overhead > m->used) overhead = m->used;
    m->overhead = overhead;
    m->dataset = m->used > overhead ? m->used - overhead : 0;
    allocatorStats(m);
}

static const char *allocatorName(char *buf, size_t size) {
#ifndef CACHET_NO_JEMALLOC
    const char *ver = NULL;
    size_t sz = sizeof(ver);
    if (mallctl("version", &ver, &sz, NULL, 0) == 0 && ver) {
        size_t n = strcspn(ver, "-");
        snprintf(buf, size, "%s-%.*s", memAllocatorName(), (int)n, ver);
        return buf;
    }
#endif
    snprintf(buf, size, "%s", memAllocatorName());
    return buf;
}

/* ---- INFO sections ------------------------------------------------------------ */

enum {
    SEC_SERVER = 1 << 0,
    SEC_CLIENTS = 1 << 1,
    SEC_MEMORY = 1 << 2,
    SEC_PERSISTENCE = 1 << 3,
    SEC_STATS = 1 << 4,
    SEC_REPLICATION = 1 << 5,
    SEC_CPU = 1 << 6,
    SEC_MODULES = 1 << 7,
    SEC_COMMANDSTATS = 1 << 8,
    SEC_ERRORSTATS = 1 << 9,
    SEC_CLUSTER = 1 << 10,
    SEC_KEYSPACE = 1 << 11,
    SEC_SSL = 1 << 12, /* ElastiCache's section, plus Cachet's TLS fields */
};

#define SEC_DEFAULT                                                                                             \
    (SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS | SEC_REPLICATION | SEC_CPU | SEC_MODULES | \
     SEC_ERRORSTATS | SEC_CLUSTER | SEC_KEYSPACE | SEC_SSL)
#define SEC_ALL (SEC_DEFAULT | SEC_COMMANDSTATS)

static const struct {
    const char *name;
    int bits;
} sectionNames[] = {
    {"server", SEC_SERVER},
    {"clients", SEC_CLIENTS},
    {"memory", SEC_MEMORY},
    {"persistence", SEC_PERSISTENCE},
    {"stats", SEC_STATS},
    {"replication", SEC_REPLICATION},
    {"cpu", SEC_CPU},
    {"modules", SEC_MODULES},
    {"commandstats", SEC_COMMANDSTATS},
    {"errorstats", SEC_ERRORSTATS},
    {"cluster", SEC_CLUSTER},
    {"keyspace", SEC_KEYSPACE},
    {"ssl", SEC_SSL},
    /* "everything" adds module-generated sections to "all"; we have none. */
    {"all", SEC_ALL},
    {"everything", SEC_ALL},
    {"default", SEC_DEFAULT},
};

static void sectionHeader(textBuf *b, const char *name) {
    if (b->len) textAppend(b, "\r\n");
    textAppend(b, "# %s\r\n", name);
}

static const char *executablePath(void) {
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n > 0) {
        path[n] = '\0';
        return path;
    }
    return srv.executable ? srv.executable : "";
}

static void infoServer(textBuf *b) {
    struct utsname name;
    if (uname(&name) != 0) memset(&name, 0, sizeof(name));
    long long now = ustime();
    long long uptime = (now / 1000 - srv.startTimeMs) / 1000;
    const char *supervised = srv.supervised ? "unknown" : "no";
    sectionHeader(b, "Server");
    textAppend(b,
               "redis_version:%s\r\n"
               "cachet_version:%s\r\n"
               "redis_git_sha1:00000000\r\n"
               "redis_git_dirty:0\r\n"
               "redis_build_id:0\r\n"
               "redis_mode:standalone\r\n"
               "os:%s %s %s\r\n"
               "arch_bits:%d\r\n"
               "monotonic_clock:POSIX clock_gettime\r\n"
               "multiplexing_api:epoll\r\n"
               "atomicvar_api:c11-builtin\r\n"
               "gcc_version:%d.%d.%d\r\n"
               "process_id:%ld\r\n"
               "process_supervised:%s\r\n"
               "run_id:%s\r\n"
               "tcp_port:%d\r\n"
               "server_time_usec:%lld\r\n"
               "uptime_in_seconds:%lld\r\n"
               "uptime_in_days:%lld\r\n"
               "hz:%d\r\n"
               "configured_hz:%d\r\n"
               "lru_clock:%u\r\n"
               "executable:%s\r\n"
               "config_file:%s\r\n"
               "busy_polling:%d\r\n"
               "io_threads_active:0\r\n",
               CACHET_VERSION, CACHET_OWN_VERSION, name.sysname, name.release, name.machine, (int)sizeof(long) * 8,
#ifdef __GNUC__
               __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
               0, 0, 0,
#endif
               (long)getpid(), supervised, srv.runid, srv.port, now, uptime, uptime / 86400, srv.hz, srv.hz,
               (unsigned)srv.lruclock, executablePath(), srv.configfile ? srv.configfile : "",
               elBusyPolling(srv.el));
}

static void infoClients(textBuf *b) {
    size_t maxIn = 0, maxOut = 0;
    int pubsub = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (c->qcap > maxIn) maxIn = c->qcap;
        if (c->replyBytes > maxOut) maxOut = c->replyBytes;
        if ((c->flags & CLIENT_PUBSUB) || pubsubClientCount(c) > 0) pubsub++;
    }
    sectionHeader(b, "Clients");
    textAppend(b,
               "connected_clients:%lu\r\n"
               "cluster_connections:0\r\n"
               "maxclients:%u\r\n"
               "client_recent_max_input_buffer:%zu\r\n"
               "client_recent_max_output_buffer:%zu\r\n"
               "blocked_clients:%lld\r\n"
               "tracking_clients:0\r\n"
               "pubsub_clients:%d\r\n"
               "clients_in_timeout_table:%lld\r\n",
               srv.numClients, srv.maxclients, maxIn, maxOut, blockedClientCount() + pausePostponedCount() + migrateWaitingClients(), pubsub,
               blockTimeoutTableCount());
}

static void infoMemory(textBuf *b) {
    memBreakdown m;
    memGetBreakdown(&m);
    char usedH[64], rssH[64], peakH[64], sysH[64], maxH[64], alloc[64];
    human(usedH, sizeof(usedH), m.used);
    human(rssH, sizeof(rssH), m.rss);
    human(peakH, sizeof(peakH), m.peak);
    long long sysmem = (long long)sysconf(_SC_PHYS_PAGES) * (long long)sysconf(_SC_PAGESIZE);
    human(sysH, sizeof(sysH), sysmem);
    human(maxH, sizeof(maxH), (long long)srv.maxmemory);
    long long net = m.used > m.startup ? m.used - m.startup : 1;
    double fragRatio = m.used ? (double)m.rss / (double)m.used : 0;
    sectionHeader(b, "Memory");
    textAppend(b,
               "used_memory:%lld\r\n"
               "used_memory_human:%s\r\n"
               "used_memory_rss:%lld\r\n"
               "used_memory_rss_human:%s\r\n"
               "used_memory_peak:%lld\r\n"
               "used_memory_peak_human:%s\r\n"
               "used_memory_peak_perc:%.2f%%\r\n"
               "used_memory_overhead:%lld\r\n"
               "used_memory_startup:%lld\r\n"
               "used_memory_dataset:%lld\r\n"
               "used_memory_dataset_perc:%.2f%%\r\n",
               m.used, usedH, m.rss, rssH, m.peak, peakH, m.peak ? (double)m.used * 100 / (double)m.peak : 100.0,
               m.overhead, m.startup, m.dataset, (double)m.dataset * 100 / (double)net);
    if (m.allocAllocated)
        textAppend(b,
                   "allocator_allocated:%lld\r\n"
                   "allocator_active:%lld\r\n"
                   "allocator_resident:%lld\r\n",
                   m.allocAllocated, m.allocActive, m.allocResident);
    /* Scripting, as Redis 7.0 names it: the two Lua states (EVAL's and
     * the functions'), and the caches beside them. */
    long long vmEval = scriptVmMemory(), vmFn = fnVmMemory();
    long long scriptsEval = scriptCacheMemory(), fnCache = fnCacheMemory();
    char luaH[64], vmH[64], scriptsH[64];
    human(luaH, sizeof(luaH), vmEval);
    human(vmH, sizeof(vmH), vmEval + vmFn);
    human(scriptsH, sizeof(scriptsH), scriptsEval + fnCache);
    textAppend(b,
               "total_system_memory:%lld\r\n"
               "total_system_memory_human:%s\r\n"
               "used_memory_lua:%lld\r\n"
               "used_memory_vm_eval:%lld\r\n"
               "used_memory_lua_human:%s\r\n"
               "used_memory_scripts_eval:%lld\r\n"
               "number_of_cached_scripts:%lld\r\n"
               "number_of_functions:%lld\r\n"
               "number_of_libraries:%lld\r\n"
               "used_memory_vm_functions:%lld\r\n"
               "used_memory_vm_total:%lld\r\n"
               "used_memory_vm_total_human:%s\r\n"
               "used_memory_functions:%lld\r\n"
               "used_memory_scripts:%lld\r\n"
               "used_memory_scripts_human:%s\r\n"
               "maxmemory:%llu\r\n"
               "maxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\n",
               sysmem, sysH, vmEval, vmEval, luaH, scriptsEval, scriptCachedCount(), fnFunctionCount(),
               fnLibraryCount(), vmFn, vmEval + vmFn, vmH, fnCache, scriptsEval + fnCache, scriptsH, srv.maxmemory,
               maxH, evictPolicyName(srv.maxmemoryPolicy));
    if (m.allocAllocated && m.allocActive && m.allocResident)
        textAppend(b,
                   "allocator_frag_ratio:%.2f\r\n"
                   "allocator_frag_bytes:%lld\r\n"
                   "allocator_rss_ratio:%.2f\r\n"
                   "allocator_rss_bytes:%lld\r\n"
                   "rss_overhead_ratio:%.2f\r\n"
                   "rss_overhead_bytes:%lld\r\n",
                   (double)m.allocActive / (double)m.allocAllocated, m.allocActive - m.allocAllocated,
                   (double)m.allocResident / (double)m.allocActive, m.allocResident - m.allocActive,
                   (double)m.rss / (double)m.allocResident, m.rss - m.allocResident);
    textAppend(b,
               "mem_fragmentation_ratio:%.2f\r\n"
               "mem_fragmentation_bytes:%lld\r\n"
               "mem_not_counted_for_evict:0\r\n"
               "mem_replication_backlog:%lld\r\n"
               "mem_total_replication_buffers:%lld\r\n"
               "mem_clients_slaves:%lld\r\n"
               "mem_clients_normal:%lld\r\n"
               "mem_cluster_links:0\r\n"
               "mem_aof_buffer:0\r\n"
               "mem_allocator:%s\r\n"
               "active_defrag_running:0\r\n"
               "lazyfree_pending_objects:%zu\r\n"
               "lazyfreed_objects:%zu\r\n",
               fragRatio, m.rss - m.used, m.backlog, m.backlog + m.clientsReplicas, m.clientsReplicas,
               m.clientsNormal, allocatorName(alloc, sizeof(alloc)),
               lazyfreePendingObjects(), lazyfreedObjects());
}

static void infoPersistence(textBuf *b) {
    /* Snapshots only (no AOF): the fields a BGSAVE watcher polls are live. */
    sectionHeader(b, "Persistence");
    const snapshotStats *ss = snapshotGetStats();
    int bg = ss->childPid != -1;
    textAppend(b,
               "loading:%d\r\n"
               "async_loading:0\r\n"
               "current_cow_peak:0\r\n"
               "current_cow_size:0\r\n"
               "current_cow_size_age:0\r\n"
               "current_fork_perc:0.00\r\n"
               "current_save_keys_processed:0\r\n"
               "current_save_keys_total:0\r\n"
               "rdb_changes_since_last_save:%lld\r\n"
               "rdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%lld\r\n"
               "rdb_last_bgsave_status:%s\r\n"
               "rdb_last_bgsave_time_sec:%lld\r\n"
               "rdb_current_bgsave_time_sec:%lld\r\n"
               "rdb_saves:%lld\r\n"
               "rdb_last_cow_size:%lld\r\n"
               "rdb_last_load_keys_expired:%lld\r\n"
               "rdb_last_load_keys_loaded:%lld\r\n"
               "aof_enabled:0\r\n"
               "aof_rewrite_in_progress:0\r\n"
               "aof_rewrite_scheduled:0\r\n"
               "aof_last_rewrite_time_sec:-1\r\n"
               "aof_current_rewrite_time_sec:-1\r\n"
               "aof_last_bgrewrite_status:ok\r\n"
               "aof_rewrites:0\r\n"
               "aof_rewrites_consecutive_failures:0\r\n"
               "aof_last_write_status:ok\r\n"
               "aof_last_cow_size:0\r\n"
               "module_fork_in_progress:0\r\n"
               "module_fork_last_cow_size:0\r\n",
               srv.loading, srv.dirty, bg, ss->lastSave, ss->lastBgsaveOk ? "ok" : "err", ss->lastBgsaveTimeSec,
               bg ? (srv.mstime - ss->rdbSaveTimeStart) / 1000 : -1LL, ss->rdbSaves, ss->lastCowSize,
               srv.loadKeysExpired, srv.loadKeysLoaded);
    if (srv.loading) {
        /* Redis' progress fields, for clients and operators polling a long
         * start-up load (bytes of the file, sealed or not). */
        long long start, total, done;
        snapshotLoadingProgress(&start, &total, &done);
        double perc = total > 0 ? (double)done * 100 / (double)total : 0;
        long long elapsed = srv.mstime / 1000 - start;
        long long eta = done > 0 && elapsed > 0 ? (long long)((double)(total - done) * (double)elapsed / (double)done) : 1;
        textAppend(b,
                   "loading_start_time:%lld\r\n"
                   "loading_total_bytes:%lld\r\n"
                   "loading_rdb_used_mem:0\r\n"
                   "loading_loaded_bytes:%lld\r\n"
                   "loading_loaded_perc:%.2f\r\n"
                   "loading_eta_seconds:%lld\r\n",
                   start, total, done, perc, eta);
    }
}

static long long sampleAverage(const long long *s) {
    long long sum = 0;
    for (int i = 0; i < 16; i++) sum += s[i];
    return sum / 16;
}

static void infoStats(textBuf *b) {
    long long psChannels, psPatterns, psShard;
    pubsubCounts(&psChannels, &psPatterns, &psShard);
    sectionHeader(b, "Stats");
    textAppend(b,
               "total_connections_received:%lld\r\n"
               "total_commands_processed:%lld\r\n"
               "instantaneous_ops_per_sec:%lld\r\n"
               "total_net_input_bytes:%lld\r\n"
               "total_net_output_bytes:%lld\r\n"
               "total_net_repl_input_bytes:0\r\n"
               "total_net_repl_output_bytes:0\r\n"
               "instantaneous_input_kbps:%.2f\r\n"
               "instantaneous_output_kbps:%.2f\r\n"
               "instantaneous_input_repl_kbps:0.00\r\n"
               "instantaneous_output_repl_kbps:0.00\r\n"
               "rejected_connections:%lld\r\n"
               "sync_full:%lld\r\n"
               "sync_partial_ok:%lld\r\n"
               "sync_partial_err:%lld\r\n"
               "expired_keys:%lld\r\n"
               "expired_stale_perc:%.2f\r\n"
               "expired_time_cap_reached_count:0\r\n"
               "expire_cycle_cpu_milliseconds:%lld\r\n"
               "evicted_keys:%lld\r\n"
               "evicted_clients:0\r\n"
               "total_eviction_exceeded_time:0\r\n"
               "current_eviction_exceeded_time:0\r\n"
               "keyspace_hits:%lld\r\n"
               "keyspace_misses:%lld\r\n"
               "pubsub_channels:%lld\r\n"
               "pubsub_patterns:%lld\r\n"
               "pubsubshard_channels:%lld\r\n"
               "latest_fork_usec:0\r\n"
               "total_forks:0\r\n"
               "migrate_cached_sockets:0\r\n"
               "slave_expires_tracked_keys:0\r\n"
               "active_defrag_hits:0\r\n"
               "active_defrag_misses:0\r\n"
               "active_defrag_key_hits:0\r\n"
               "active_defrag_key_misses:0\r\n"
               "total_active_defrag_time:0\r\n"
               "current_active_defrag_time:0\r\n"
               "tracking_total_keys:0\r\n"
               "tracking_total_items:0\r\n"
               "tracking_total_prefixes:0\r\n"
               "unexpected_error_replies:%lld\r\n"
               "total_error_replies:%lld\r\n"
               "dump_payload_sanitizations:0\r\n"
               "total_reads_processed:%lld\r\n"
               "total_writes_processed:%lld\r\n"
               "io_threaded_reads_processed:0\r\n"
               "io_threaded_writes_processed:0\r\n"
               "client_query_buffer_limit_disconnections:%lld\r\n"
               "client_output_buffer_limit_disconnections:%lld\r\n"
               "reply_buffer_shrinks:0\r\n"
               "reply_buffer_expands:0\r\n"
               "acl_access_denied_auth:%lld\r\n"
               "acl_access_denied_cmd:%lld\r\n"
               "acl_access_denied_key:%lld\r\n"
               "acl_access_denied_channel:%lld\r\n",
               srv.statNumConnections, srv.statNumCommands, sampleAverage(srv.opsSamples), srv.statNetInputBytes,
               srv.statNetOutputBytes, (double)sampleAverage(srv.inSamples) / 1024,
               (double)sampleAverage(srv.outSamples) / 1024, srv.statRejectedConn, srv.statSyncFull,
               srv.statSyncPartialOk, srv.statSyncPartialErr, srv.statExpiredKeys,
               (double)srv.expiredStalePerc, srv.expireCycleTimeUsed / 1000, srv.statEvictedKeys,
               srv.statKeyspaceHits, srv.statKeyspaceMisses, psChannels,
               psPatterns, psShard, srv.statUnexpectedErrorReplies,
               srv.statTotalErrorReplies, srv.statTotalReadsProcessed, srv.statTotalWritesProcessed,
               srv.statClientQbufLimitDisconnections, srv.statClientObufLimitDisconnections, aclStat.deniedAuth,
               aclStat.deniedCmd, aclStat.deniedKey, aclStat.deniedChannel);
}


static void infoReplication(textBuf *b) {
    sectionHeader(b, "Replication");
    replInfo(b);
}

static void infoCpu(textBuf *b) {
    struct rusage self, children, thread;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    if (getrusage(RUSAGE_THREAD, &thread) != 0) thread = self;
    sectionHeader(b, "CPU");
    textAppend(b,
               "used_cpu_sys:%ld.%06ld\r\n"
               "used_cpu_user:%ld.%06ld\r\n"
               "used_cpu_sys_children:%ld.%06ld\r\n"
               "used_cpu_user_children:%ld.%06ld\r\n"
               "used_cpu_sys_main_thread:%ld.%06ld\r\n"
               "used_cpu_user_main_thread:%ld.%06ld\r\n"
               "used_cpu_busy_poll:%lld.%06lld\r\n",
               (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
               (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
               (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec, (long)thread.ru_stime.tv_sec,
               (long)thread.ru_stime.tv_usec, (long)thread.ru_utime.tv_sec, (long)thread.ru_utime.tv_usec,
               elBusyPollUs(srv.el) / 1000000, elBusyPollUs(srv.el) % 1000000);
}

static void infoCommandStat(textBuf *b, cmdDef *cmd) {
    if (cmd->calls || cmd->failedCalls || cmd->rejectedCalls)
        textAppend(b, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                   cmd->fullname, cmd->calls, cmd->usec, cmd->calls ? (double)cmd->usec / (double)cmd->calls : 0.0,
                   cmd->rejectedCalls, cmd->failedCalls);
    for (cmdDef *s = cmd->subcmds; s && s->name; s++) infoCommandStat(b, s);
}

static void infoCommandStatCb(cmdDef *cmd, void *priv) { infoCommandStat(priv, cmd); }

static void infoCommandStats(textBuf *b) {
    sectionHeader(b, "Commandstats");
    cmdForEach(infoCommandStatCb, b);
}

static void infoErrorStats(textBuf *b) {
    sectionHeader(b, "Errorstats");
    for (int i = 0; i < errorStatCount; i++)
        textAppend(b, "errorstat_%s:count=%lld\r\n", errorStats[i].prefix, errorStats[i].count);
}

static void infoKeyspace(textBuf *b) {
    sectionHeader(b, "Keyspace");
    for (int i = 0; i < srv.dbnum; i++) {
        cdb *db = &srv.db[i];
        long long keys = dbSize(db);
        if (keys == 0) continue;
        textAppend(b, "db%d:keys=%lld,expires=%zu,avg_ttl=%lld\r\n", i, keys, dictSize(&db->expires), db->avgTtl);
    }
}

static void infoCommand(client *c) {
    int sections = 0;
    if (c->argc == 1) {
        sections = SEC_DEFAULT;
    } else {
        /* Unknown names are ignored, as Redis does; order of output is fixed. */
        for (int i = 1; i < c->argc; i++)
            for (size_t j = 0; j < sizeof(sectionNames) / sizeof(sectionNames[0]); j++)
                if (sliceEqNocase(c->argv[i], sectionNames[j].name)) sections |= sectionNames[j].bits;
    }
    textBuf b = {0};
    if (sections & SEC_SERVER) infoServer(&b);
    if (sections & SEC_CLIENTS) infoClients(&b);
    if (sections & SEC_MEMORY) infoMemory(&b);
    if (sections & SEC_PERSISTENCE) infoPersistence(&b);
    if (sections & SEC_STATS) infoStats(&b);
    if (sections & SEC_REPLICATION) infoReplication(&b);
    if (sections & SEC_CPU) infoCpu(&b);
    if (sections & SEC_MODULES) sectionHeader(&b, "Modules");
    if (sections & SEC_COMMANDSTATS) infoCommandStats(&b);
    if (sections & SEC_ERRORSTATS) infoErrorStats(&b);
    if (sections & SEC_CLUSTER) {
        sectionHeader(&b, "Cluster");
        clusterInfoSection(&b);
    }
    if (sections & SEC_KEYSPACE) infoKeyspace(&b);
    /* Last, so tools that expect Redis' sections in Redis' order find them. */
    if (sections & SEC_SSL) {
        sectionHeader(&b, "SSL");
        tlsInfo(&b);
    }
    replyVerbatim(c, b.p ? b.p : "", b.len, "txt");
    memFree(b.p);
}

/* ---- MEMORY -------------------------------------------------------------------- */

static void memoryUsageCommand(client *c) {
    long long samples = 5;
    for (int j = 3; j < c->argc; j++) {
        if (sliceEqNocase(c->argv[j], "samples") && j + 1 < c->argc) {
            if (getLongLongFromSliceOrReply(c, c->argv[j + 1], &samples, NULL) == -1) return;
            if (samples < 0) {
                replyErrorSyntax(c);
                return;
            }
            j++;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    /* Strings are measured exactly: SAMPLES matters only for collections. */
    dbEntry *e = dbFind(c->db, c->argv[2].p, c->argv[2].len);
    if (!e) {
        replyNull(c);
        return;
    }
    /* The entry plus its share of the bucket array. */
    replyLongLong(c, (long long)(dbEntryMemory(e) + sizeof(void *))); // NOLINT(bugprone-misplaced-widening-cast): size_t bytes
}

static void replyFloatStat(client *c, double v) { replyDouble(c, (double)(float)v); }

static void memoryStatsCommand(client *c) {
    memBreakdown m;
    memGetBreakdown(&m);
    int dbsWithKeys = 0;
    for (int i = 0; i < srv.dbnum && i < 64; i++)
        if (dbSize(&srv.db[i])) dbsWithKeys++;
    replyMapLen(c, 27 + dbsWithKeys);
    replyBulkCString(c, "peak.allocated");
    replyLongLong(c, m.peak);
    replyBulkCString(c, "total.allocated");
    replyLongLong(c, m.used);
    replyBulkCString(c, "startup.allocated");
    replyLongLong(c, m.startup);
    replyBulkCString(c, "replication.backlog");
    replyLongLong(c, m.backlog);
    replyBulkCString(c, "clients.slaves");
    replyLongLong(c, m.clientsReplicas);
    replyBulkCString(c, "clients.normal");
    replyLongLong(c, m.clientsNormal);
    replyBulkCString(c, "cluster.links");
    replyLongLong(c, 0);
    replyBulkCString(c, "aof.buffer");
    replyLongLong(c, 0);
    replyBulkCString(c, "lua.caches");
    replyLongLong(c, scriptCacheMemory());
    replyBulkCString(c, "functions.caches");
    replyLongLong(c, fnCacheMemory());
    for (int i = 0; i < srv.dbnum && i < 64; i++) {
        if (!dbSize(&srv.db[i])) continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", i);
        replyBulkCString(c, name);
        replyMapLen(c, 3);
        replyBulkCString(c, "overhead.hashtable.main");
        replyLongLong(c, m.dbMain[i]);
        replyBulkCString(c, "overhead.hashtable.expires");
        replyLongLong(c, m.dbExpires[i]);
        replyBulkCString(c, "overhead.hashtable.slot-to-keys");
        replyLongLong(c, 0);
    }
    long long net = m.used > m.startup ? m.used - m.startup : 1;
    replyBulkCString(c, "overhead.total");
    replyLongLong(c, m.overhead);
    replyBulkCString(c, "keys.count");
    replyLongLong(c, m.keys);
    replyBulkCString(c, "keys.bytes-per-key");
    replyLongLong(c, m.keys ? net / m.keys : 0);
    replyBulkCString(c, "dataset.bytes");
    replyLongLong(c, m.dataset);
    replyBulkCString(c, "dataset.percentage");
    replyFloatStat(c, (double)m.dataset * 100 / (double)net);
    replyBulkCString(c, "peak.percentage");
    replyFloatStat(c, m.peak ? (double)m.used * 100 / (double)m.peak : 100.0);
    replyBulkCString(c, "allocator.allocated");
    replyLongLong(c, m.allocAllocated);
    replyBulkCString(c, "allocator.active");
    replyLongLong(c, m.allocActive);
    replyBulkCString(c, "allocator.resident");
    replyLongLong(c, m.allocResident);
    replyBulkCString(c, "allocator-fragmentation.ratio");
    replyFloatStat(c, m.allocAllocated ? (double)m.allocActive / (double)m.allocAllocated : 0);
    replyBulkCString(c, "allocator-fragmentation.bytes");
    replyLongLong(c, m.allocActive - m.allocAllocated);
    replyBulkCString(c, "allocator-rss.ratio");
    replyFloatStat(c, m.allocActive ? (double)m.allocResident / (double)m.allocActive : 0);
    replyBulkCString(c, "allocator-rss.bytes");
    replyLongLong(c, m.allocResident - m.allocActive);
    replyBulkCString(c, "rss-overhead.ratio");
    replyFloatStat(c, m.allocResident ? (double)m.rss / (double)m.allocResident : 0);
    replyBulkCString(c, "rss-overhead.bytes");
    replyLongLong(c, m.allocResident ? m.rss - m.allocResident : 0);
    replyBulkCString(c, "fragmentation");
    replyFloatStat(c, m.used ? (double)m.rss / (double)m.used : 0);
    replyBulkCString(c, "fragmentation.bytes");
    replyLongLong(c, m.rss - m.used);
}

static void memoryDoctorCommand(client *c) {
    memBreakdown m;
    memGetBreakdown(&m);
    textBuf b = {0};
    int empty = 0, bigPeak = 0, highFrag = 0, bigClientBuf = 0;
    if (m.used < 1024 * 1024 * 5) {
        empty = 1;
    } else {
        if ((double)m.peak / (double)m.used > 1.5) bigPeak = 1;
        if ((double)m.rss / (double)m.used > 1.4 && m.rss - m.used > (10 << 20)) highFrag = 1;
        if (srv.numClients && m.clientsNormal / (long long)srv.numClients > 1024 * 200) bigClientBuf = 1;
    }
    if (empty) {
        textAppend(&b, "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                       "used in these conditions. Please, leave for your mission on Earth and fill it with some data. "
                       "The new Sam and I will be back to our programming as soon as I finished rebooting.\n");
    } else if (!bigPeak && !highFrag && !bigClientBuf) {
        textAppend(&b, "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs "
                       "on this base.\n");
    } else {
        textAppend(&b, "Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        if (bigPeak)
            textAppend(&b,
                       " * Peak memory: In the past this instance used more than 150%% the memory that is currently "
                       "using. The allocator is normally not able to release memory after a peak, so you can expect "
                       "to see a big fragmentation ratio, however this is actually harmless and is only due to the "
                       "memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than "
                       "expected, the memory will be used as soon as you fill the Redis instance with more data. If "
                       "the memory peak was only occasional and you want to try to reclaim memory, please try the "
                       "MEMORY PURGE command, otherwise the only other option is to shutdown and restart the "
                       "instance.\n\n");
        if (highFrag)
            textAppend(&b,
                       " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 "
                       "(this means that the Resident Set Size of the Redis process is much larger than the sum of "
                       "the logical allocations Redis performed). This problem is usually due either to a large peak "
                       "memory (check if there is a peak memory entry above in the report) or may result from a "
                       "workload that causes the allocator to fragment memory a lot. If the problem is a large peak "
                       "memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator "
                       "and not the default libc malloc. Note: The currently used allocator is \"%s\".\n\n",
                       memAllocatorName());
        if (bigClientBuf)
            textAppend(&b,
                       " * Big client buffers: The clients output buffers in this instance are greater than 200K per "
                       "client (on average). This may result from different causes, like Pub/Sub clients subscribed "
                       "to channels bot not receiving data fast enough, so that data piles on the Redis instance "
                       "output buffer, or clients sending commands with large replies or very large sequences of "
                       "commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the "
                       "issue if it causes problems in your instance, or to understand better why certain clients "
                       "are using a big amount of memory.\n\n");
        textAppend(&b, "I'm here to keep you safe, Sam. I want to help you.\n");
    }
    replyVerbatim(c, b.p, b.len, "txt");
    memFree(b.p);
}

#ifndef CACHET_NO_JEMALLOC
static void mallocStatsWrite(void *priv, const char *s) { textAppend(priv, "%s", s); }
#endif

static void memoryMallocStatsCommand(client *c) {
#ifndef CACHET_NO_JEMALLOC
    textBuf b = {0};
    malloc_stats_print(mallocStatsWrite, &b, NULL);
    replyVerbatim(c, b.p ? b.p : "", b.len, "txt");
    memFree(b.p);
#else
    static const char msg[] = "Stats not supported for the current allocator";
    replyVerbatim(c, msg, sizeof(msg) - 1, "txt");
#endif
}

static void memoryPurgeCommand(client *c) {
#ifndef CACHET_NO_JEMALLOC
    char name[64];
    snprintf(name, sizeof(name), "arena.%d.purge", 4096); /* MALLCTL_ARENAS_ALL */
    mallctl(name, NULL, NULL, NULL, 0);
#else
    malloc_trim(0);
#endif
    replyOk(c);
}

static void memoryHelpCommand(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL};
    replyHelp(c, help);
}

static void containerCommand(client *c) { replyErrorArity(c); }

static cmdDef memorySubcommands[] = {
    {.name = "doctor", .proc = memoryDoctorCommand, .arity = 2, .since = "4.0.0", .summary = "Outputs memory problems report", .complexity = "O(1)"},
    {.name = "help", .proc = memoryHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .since = "4.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {.name = "malloc-stats", .proc = memoryMallocStatsCommand, .arity = 2, .since = "4.0.0", .summary = "Show allocator internal stats", .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "purge", .proc = memoryPurgeCommand, .arity = 2, .since = "4.0.0", .summary = "Ask the allocator to release memory", .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "stats", .proc = memoryStatsCommand, .arity = 2, .since = "4.0.0", .summary = "Show memory usage details", .complexity = "O(1)"},
    {.name = "usage", .proc = memoryUsageCommand, .arity = -3, .flags = CMD_READONLY, .firstKey = 2, .lastKey = 2, .keyStep = 1, .since = "4.0.0", .summary = "Estimate the memory usage of a key", .complexity = "O(N) where N is the number of samples."},
    {0}};

cmdDef infoCommands[] = {
    {.name = "info", .proc = infoCommand, .arity = -1, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Get information and statistics about the server", .complexity = "O(1)"},
    {.name = "memory", .proc = containerCommand, .arity = -2, .group = "server", .since = "4.0.0", .summary = "A container for memory diagnostics commands", .complexity = "Depends on subcommand.", .subcmds = memorySubcommands},
    {0}};
