/* cmd_server.c - server administration commands: DBSIZE, FLUSHDB, FLUSHALL,
 * TIME, SHUTDOWN, LATENCY (and the latency monitor's samples), SLOWLOG,
 * OBJECT and DEBUG, with Redis 7.0's replies and error texts.
 *
 * Owns: the latency monitor's event series. The slow log itself lives in
 * slowlog.c; SHUTDOWN's work is serverShutdown's (server.c).
 * Must never change a key's access time while inspecting it (OBJECT, DEBUG
 * OBJECT read with dbFind), and never block the loop except where Redis does
 * on purpose (DEBUG SLEEP). */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "evict.h"
#include "slowlog.h"
#include "latency.h"
#include "snapshot.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A slice as a NUL-terminated string in buf (truncated to fit). */
static const char *sliceToBuf(slice s, char *buf, size_t size) {
    size_t n = s.len < size - 1 ? s.len : size - 1;
    memcpy(buf, s.p, n);
    buf[n] = '\0';
    return buf;
}

/* "unknown subcommand or wrong number of arguments for 'x'. Try CMD HELP." */
static void replySubcommandSyntaxError(client *c) {
    char cmd[64];
    size_t n = c->argv[0].len < sizeof(cmd) - 1 ? c->argv[0].len : sizeof(cmd) - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = c->argv[0].p[i];
        cmd[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    }
    cmd[n] = '\0';
    replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, cmd);
}

static int lfuPolicy(void) {
    return srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LFU;
}

/* ---- DBSIZE, FLUSHDB, FLUSHALL, TIME ------------------------------------ */

static void dbsizeCommand(client *c) { replyLongLong(c, dbSize(c->db)); }

/* [ASYNC|SYNC], as Redis 7.0: ASYNC hands the tables to the lazy-free
 * thread, SYNC frees here, no flag follows lazyfree-lazy-user-flush.
 * Returns 0 (sync), 1 (async), or -1 after a syntax error reply. */
static int flushArgsAsync(client *c) {
    if (c->argc == 1) return srv.lazyfreeLazyUserFlush ? 1 : 0;
    if (c->argc == 2 && sliceEqNocase(c->argv[1], "sync")) return 0;
    if (c->argc == 2 && sliceEqNocase(c->argv[1], "async")) return 1;
    replyErrorSyntax(c);
    return -1;
}

static void flushdbCommand(client *c) {
    int async = flushArgsAsync(c);
    if (async == -1) return;
    srv.dirty += dbEmptyGeneric(c->db, async);
    replyOk(c);
}

static void flushallCommand(client *c) {
    int async = flushArgsAsync(c);
    if (async == -1) return;
    long long removed = 0;
    for (int i = 0; i < srv.dbnum; i++) removed += dbEmptyGeneric(&srv.db[i], async);
    srv.dirty += removed;
    /* As Redis: a running BGSAVE would bring the old data back, and with a
     * save schedule the empty dataset is what the file must hold now. */
    snapshotKillChild();
    if (snapshotSaveConfigured()) {
        char err[512];
        snapshotSave(err, sizeof(err));
    }
    srv.dirty++;
    replyOk(c);
}

static void timeCommand(client *c) {
    long long us = ustime();
    replyArrayLen(c, 2);
    replyBulkLongLong(c, us / 1000000);
    replyBulkLongLong(c, us % 1000000);
}

/* ---- SHUTDOWN ------------------------------------------------------------ */

static void shutdownCommand(client *c) {
    int save = 0, nosave = 0, now = 0, force = 0, abortFlag = 0;
    for (int i = 1; i < c->argc; i++) {
        if (sliceEqNocase(c->argv[i], "nosave")) nosave = 1;
        else if (sliceEqNocase(c->argv[i], "save")) save = 1;
        else if (sliceEqNocase(c->argv[i], "now")) now = 1;
        else if (sliceEqNocase(c->argv[i], "force")) force = 1;
        else if (sliceEqNocase(c->argv[i], "abort")) abortFlag = 1;
        else {
            replyErrorSyntax(c);
            return;
        }
    }
    if ((abortFlag && (save || nosave || now || force)) || (save && nosave)) {
        replyErrorSyntax(c);
        return;
    }
    if (abortFlag) {
        /* Our shutdown never waits for replicas, so none is ever pending. */
        replyError(c, "No shutdown in progress.");
        return;
    }
    char *err = NULL;
    serverShutdown(save, nosave, force, &err);
    /* On success the process exits before replying, as in Redis: the client
     * sees the connection close. */
    if (err) replyError(c, err);
}

/* ---- latency monitor ----------------------------------------------------- */

#define LATENCY_TS_LEN 160
#define LATENCY_MAX_EVENTS 32

typedef struct latencySample {
    int32_t time; /* unix seconds; 0 = empty slot */
    uint32_t latency; /* ms */
} latencySample;

typedef struct latencySeries {
    char name[64];
    int idx;      /* next slot to write */
    uint32_t max; /* all-time high */
    latencySample samples[LATENCY_TS_LEN];
} latencySeries;

static latencySeries *latencyEvents[LATENCY_MAX_EVENTS];
static int latencyEventCount;

static latencySeries *latencyFind(const char *event) {
    for (int i = 0; i < latencyEventCount; i++)
        if (!strcmp(latencyEvents[i]->name, event)) return latencyEvents[i];
    return NULL;
}

static void latencyAddSample(const char *event, long long ms) {
    latencySeries *ts = latencyFind(event);
    if (!ts) {
        if (latencyEventCount == LATENCY_MAX_EVENTS) return;
        ts = memCalloc(sizeof(*ts));
        snprintf(ts->name, sizeof(ts->name), "%s", event);
        latencyEvents[latencyEventCount++] = ts;
    }
    int32_t now = (int32_t)(mstime() / 1000);
    uint32_t lat = ms < 0 ? 0 : ms > (long long)UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    if (lat > ts->max) ts->max = lat;
    /* One sample per second: a second spike in the same second keeps the worst. */
    int prev = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    if (ts->samples[prev].time == now) {
        if (lat > ts->samples[prev].latency) ts->samples[prev].latency = lat;
        return;
    }
    ts->samples[ts->idx].time = now;
    ts->samples[ts->idx].latency = lat;
    ts->idx = (ts->idx + 1) % LATENCY_TS_LEN;
}

void latencyAddSampleIfNeeded(const char *event, long long ms) {
    if (srv.latencyMonitorThreshold && ms >= srv.latencyMonitorThreshold) latencyAddSample(event, ms);
}

static int latencyResetEvent(const char *event) {
    int resets = 0;
    for (int i = 0; i < latencyEventCount;) {
        if (event == NULL || !strcasecmp(latencyEvents[i]->name, event)) {
            memFree(latencyEvents[i]);
            latencyEvents[i] = latencyEvents[--latencyEventCount];
            resets++;
        } else {
            i++;
        }
    }
    return resets;
}

static void latencyLatestCommand(client *c) {
    replyArrayLen(c, latencyEventCount);
    for (int i = 0; i < latencyEventCount; i++) {
        latencySeries *ts = latencyEvents[i];
        int last = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        replyArrayLen(c, 4);
        replyBulkCString(c, ts->name);
        replyLongLong(c, ts->samples[last].time);
        replyLongLong(c, ts->samples[last].latency);
        replyLongLong(c, ts->max);
    }
}

static void latencyHistoryCommand(client *c) {
    char name[64];
    latencySeries *ts = c->argv[2].len < sizeof(name) ? latencyFind(sliceToBuf(c->argv[2], name, sizeof(name))) : NULL;
    if (!ts) {
        replyArrayLen(c, 0);
        return;
    }
    int n = 0;
    for (int j = 0; j < LATENCY_TS_LEN; j++)
        if (ts->samples[j].time) n++;
    replyArrayLen(c, n);
    for (int j = 0; j < LATENCY_TS_LEN; j++) {
        latencySample *s = &ts->samples[(ts->idx + j) % LATENCY_TS_LEN];
        if (!s->time) continue;
        replyArrayLen(c, 2);
        replyLongLong(c, s->time);
        replyLongLong(c, s->latency);
    }
}

static void latencyResetCommand(client *c) {
    int resets = 0;
    if (c->argc == 2) {
        resets = latencyResetEvent(NULL);
    } else {
        for (int i = 2; i < c->argc; i++) {
            char name[64];
            if (c->argv[i].len >= sizeof(name)) continue;
            resets += latencyResetEvent(sliceToBuf(c->argv[i], name, sizeof(name)));
        }
    }
    replyLongLong(c, resets);
}

/* A growable text buffer for the doctor reports. */
/* LATENCY DOCTOR: Redis' report, for the events we record. */
static void latencyDoctorCommand(client *c) {
    textBuf b = {0};
    if (latencyEventCount == 0 && srv.latencyMonitorThreshold == 0) {
        textAppend(&b, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may "
                     "use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't "
                     "in a deep space mission I'd suggest to take a look at "
                     "https://redis.io/topics/latency-monitor.\n");
    } else {
        int adviseSlowlogEnabled = 0, adviseSlowlogTuning = 0, adviseSlowlogInspect = 0, adviseLargeObjects = 0;
        int advices = 0;
        long long now = mstime() / 1000;
        for (int i = 0; i < latencyEventCount; i++) {
            latencySeries *ts = latencyEvents[i];
            if (i == 0)
                textAppend(&b, "Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
                             "about it, do you Dave?\n\n");
            unsigned long samples = 0, sum = 0, mad = 0, avg = 0;
            long long oldest = 0, period = 0;
            for (int j = 0; j < LATENCY_TS_LEN; j++) {
                if (!ts->samples[j].time) continue;
                samples++;
                sum += ts->samples[j].latency;
                if (oldest == 0 || ts->samples[j].time < oldest) oldest = ts->samples[j].time;
            }
            if (samples) {
                avg = sum / samples;
                period = now - oldest;
                if (period <= 0) period = 1;
                for (int j = 0; j < LATENCY_TS_LEN; j++) {
                    if (!ts->samples[j].time) continue;
                    long long d = (long long)avg - ts->samples[j].latency;
                    mad += (unsigned long)(d < 0 ? -d : d);
                }
                mad /= samples;
            }
            textAppend(&b,
                     "%d. %s: %lu latency spikes (average %lums, mean deviation %lums, period %.2f sec). Worst all "
                     "time event %lums.",
                     i + 1, ts->name, samples, avg, mad, samples ? (double)period / (double)samples : 0.0,
                     (unsigned long)ts->max);
            if (!strcasecmp(ts->name, "command")) {
                if (srv.slowlogLogSlowerThan < 0) {
                    adviseSlowlogEnabled = 1;
                    advices++;
                } else if (srv.slowlogLogSlowerThan / 1000 > srv.latencyMonitorThreshold) {
                    adviseSlowlogTuning = 1;
                    advices++;
                }
                adviseSlowlogInspect = 1;
                adviseLargeObjects = 1;
                advices += 2;
            }
            textAppend(&b, "\n");
        }
        if (latencyEventCount == 0) {
            textAppend(&b, "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
                         "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
                         "things over.\n");
        } else if (advices == 0) {
            textAppend(&b, "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
                         "the Redis community to get some help, providing this report in your help request.\n");
        } else {
            textAppend(&b, "\nI have a few advices for you:\n\n");
            if (adviseSlowlogEnabled)
                textAppend(&b,
                         "- There are latency issues with potentially slow commands you are using. Try to enable the "
                         "Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %llu'. If the "
                         "Slow log is disabled Redis is not able to log slow commands execution for you.\n",
                         (unsigned long long)srv.latencyMonitorThreshold * 1000);
            if (adviseSlowlogTuning)
                textAppend(&b,
                         "- Your current Slow Log configuration only logs events that are slower than your "
                         "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than "
                         "%llu'.\n",
                         (unsigned long long)srv.latencyMonitorThreshold * 1000);
            if (adviseSlowlogInspect)
                textAppend(&b, "- Check your Slow Log to understand what are the commands you are running which are too "
                             "slow to execute. Please check https://redis.io/commands/slowlog for more "
                             "information.\n");
            if (adviseLargeObjects)
                textAppend(&b, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
                             "blocking operation. If you have very large objects that are often deleted, expired, or "
                             "evicted, try to fragment those objects into multiple smaller objects.\n");
        }
    }
    replyVerbatim(c, b.p, b.len, "txt");
    memFree(b.p);
}

static void latencyHelpCommand(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        NULL};
    replyHelp(c, help);
}

/* ---- SLOWLOG ------------------------------------------------------------- */

static void slowlogGetCommand(client *c) {
    if (c->argc > 3) {
        replySubcommandSyntaxError(c);
        return;
    }
    long long count = 10;
    if (c->argc == 3 && (!string2ll(c->argv[2].p, c->argv[2].len, &count) || count < -1)) {
        replyError(c, "count should be greater than or equal to -1");
        return;
    }
    slowlogReply(c, count == -1 ? -1 : (long)count);
}

static void slowlogLenCommand(client *c) { replyLongLong(c, (long long)slowlogLen()); }

static void slowlogResetCommand(client *c) {
    slowlogReset();
    replyOk(c);
}

static void slowlogHelpCommand(client *c) {
    static const char *help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL};
    replyHelp(c, help);
}

/* ---- OBJECT -------------------------------------------------------------- */

/* Looks the key up without touching its LRU/LFU data (that is what OBJECT
 * inspects), counting the hit or miss as Redis does. Replies null if missing. */
static dbEntry *objectLookupOrReply(client *c) {
    dbEntry *e = dbFind(c->db, c->argv[2].p, c->argv[2].len);
    if (e) {
        srv.statKeyspaceHits++;
    } else {
        srv.statKeyspaceMisses++;
        replyNull(c);
    }
    return e;
}

static void objectEncodingCommand(client *c) {
    dbEntry *e = objectLookupOrReply(c);
    if (e) replyBulkCString(c, dbEncodingName(e));
}

static void objectRefcountCommand(client *c) {
    /* Values are never shared between keys here. */
    if (objectLookupOrReply(c)) replyLongLong(c, 1);
}

static void objectIdletimeCommand(client *c) {
    dbEntry *e = objectLookupOrReply(c);
    if (!e) return;
    if (lfuPolicy()) {
        replyError(c, "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
                      "between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    replyLongLong(c, (long long)(evictIdleTime(e) / 1000));
}

static void objectFreqCommand(client *c) {
    dbEntry *e = objectLookupOrReply(c);
    if (!e) return;
    if (!lfuPolicy()) {
        replyError(c, "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
                      "switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    replyLongLong(c, evictLfuCounter(e));
}

static void objectHelpCommand(client *c) {
    static const char *help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL};
    replyHelp(c, help);
}

/* ---- DEBUG --------------------------------------------------------------- */

/* Bytes an RDB length prefix takes. */
static size_t rdbLenBytes(size_t len) {
    if (len < (1 << 6)) return 1;
    if (len < (1 << 14)) return 2;
    if (len <= UINT32_MAX) return 5;
    return 9;
}

/* What RDB would write for a string value, without LZF compression (so an
 * upper bound for long compressible strings). */
static size_t serializedStringLen(const char *p, size_t len) {
    long long v;
    if (len <= 11 && string2ll(p, len, &v)) {
        if (v >= -(1 << 7) && v <= (1 << 7) - 1) return 2;
        if (v >= -(1 << 15) && v <= (1 << 15) - 1) return 3;
        if (v >= -((long long)1 << 31) && v <= ((long long)1 << 31) - 1) return 5;
    }
    return rdbLenBytes(len) + len;
}

static void debugObject(client *c) {
    dbEntry *e = dbFind(c->db, c->argv[2].p, c->argv[2].len);
    if (!e) {
        replyError(c, "no such key");
        return;
    }
    size_t serlen = 0;
    if (e->type == OBJ_STRING) {
        char nb[LONG_STR_SIZE];
        const char *p;
        size_t len;
        objStringBytes(e, nb, &p, &len);
        serlen = serializedStringLen(p, len);
    }
    char line[256];
    snprintf(line, sizeof(line),
             "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lu", (void *)e,
             dbEncodingName(e), serlen, (unsigned)e->lru, lfuPolicy() ? 0UL : evictIdleTime(e) / 1000);
    replyStatus(c, line);
}

static void debugSleep(client *c) {
    char buf[64];
    double secs = strtod(sliceToBuf(c->argv[2], buf, sizeof(buf)), NULL);
    if (!(secs > 0)) { /* also NaN */
        replyOk(c);
        return;
    }
    if (secs > 1e9) secs = 1e9;
    long long us = (long long)(secs * 1000000);
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
    /* Blocking is the point: tests use it to simulate a slow command. A
     * signal (SIGTERM) cuts it short, so a sleeping server still stops. */
    nanosleep(&ts, NULL);
    replyOk(c);
}

/* DEBUG RELOAD [NOSAVE]: save, empty every db, load the file back. */
static void debugReload(client *c) {
    int save = 1;
    for (int i = 2; i < c->argc; i++) {
        if (sliceEqNocase(c->argv[i], "nosave")) {
            save = 0;
        } else {
            replyError(c, "DEBUG RELOAD only supports the NOSAVE options.");
            return;
        }
    }
    char err[1024];
    if (save && snapshotSave(err, sizeof(err)) == -1) {
        replyError(c, "-ERR");
        return;
    }
    for (int i = 0; i < srv.dbnum; i++) dbEmpty(&srv.db[i]);
    if (snapshotLoad(0, err, sizeof(err)) != 0) {
        logWarning("DEBUG RELOAD: %s", err);
        replyError(c, "Error trying to load the RDB dump, check server logs.");
        return;
    }
    logWarning("DB reloaded by DEBUG RELOAD");
    replyOk(c);
}

static void debugHelp(client *c) {
    static const char *help[] = {
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "RELOAD [NOSAVE]",
        "    Save the RDB on disk and reload it back to memory. With NOSAVE the file",
        "    on disk is loaded without saving first.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        NULL};
    replyHelp(c, help);
}

static void debugCommand(client *c) {
    if (c->argc == 2 && sliceEqNocase(c->argv[1], "help")) {
        debugHelp(c);
    } else if (c->argc == 3 && sliceEqNocase(c->argv[1], "sleep")) {
        debugSleep(c);
    } else if (c->argc == 3 && sliceEqNocase(c->argv[1], "set-active-expire")) {
        char buf[32];
        srv.activeExpireEnabled = atoi(sliceToBuf(c->argv[2], buf, sizeof(buf))); // NOLINT(cert-err34-c): Redis DEBUG SET-ACTIVE-EXPIRE uses atoi too (junk = 0 = off)
        replyOk(c);
    } else if (c->argc == 3 && sliceEqNocase(c->argv[1], "object")) {
        debugObject(c);
    } else if (sliceEqNocase(c->argv[1], "reload")) {
        debugReload(c);
    } else {
        replySubcommandSyntaxError(c);
    }
}

/* ---- MODULE ---------------------------------------------------------------- */

/* Cachet has no module loader. The command exists so clients see Redis'
 * answers: LOAD/LOADEX/UNLOAD are refused by cmd.c unless
 * enable-module-command allows them, and then fail as a load that did not
 * work; LIST is empty. */
static void moduleListCommand(client *c) { replyArrayLen(c, 0); }

static void moduleLoadCommand(client *c) {
    static long long lastLog;
    /* The path is client data: not logged (it could forge log lines). */
    if (logRateAllowed(&lastLog)) logWarning("MODULE LOAD failed: this server has no module support");
    replyError(c, "Error loading the extension. Please check the server logs.");
}

static void moduleUnloadCommand(client *c) {
    replyError(c, "Error unloading module: no such module with that name");
}

static void moduleHelpCommand(client *c) {
    static const char *help[] = {
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        NULL};
    replyHelp(c, help);
}

/* ---- table ----------------------------------------------------------------- */

/* Containers are never run themselves: cmd.c resolves the subcommand first
 * and rejects a bare container by arity. */
static void containerCommand(client *c) { replyErrorArity(c); }

#define ADMIN_INFO (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static cmdDef latencySubcommands[] = {
    {.name = "doctor", .proc = latencyDoctorCommand, .arity = 2, .flags = ADMIN_INFO, .since = "2.8.13", .summary = "Return a human readable latency analysis report.", .complexity = "O(1)"},
    {.name = "help", .proc = latencyHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .since = "2.8.13", .summary = "Show helpful text about the different subcommands.", .complexity = "O(1)"},
    {.name = "history", .proc = latencyHistoryCommand, .arity = 3, .flags = ADMIN_INFO, .since = "2.8.13", .summary = "Return timestamp-latency samples for the event.", .complexity = "O(1)"},
    {.name = "latest", .proc = latencyLatestCommand, .arity = 2, .flags = ADMIN_INFO, .since = "2.8.13", .summary = "Return the latest latency samples for all events.", .complexity = "O(1)"},
    {.name = "reset", .proc = latencyResetCommand, .arity = -2, .flags = ADMIN_INFO, .since = "2.8.13", .summary = "Reset latency data for one or more events.", .complexity = "O(1)"},
    {0}};

static cmdDef slowlogSubcommands[] = {
    {.name = "get", .proc = slowlogGetCommand, .arity = -2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .since = "2.2.12", .summary = "Get the slow log's entries", .complexity = "O(N) where N is the number of entries returned"},
    {.name = "len", .proc = slowlogLenCommand, .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .since = "2.2.12", .summary = "Get the slow log's length", .complexity = "O(1)"},
    {.name = "reset", .proc = slowlogResetCommand, .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .since = "2.2.12", .summary = "Clear all entries from the slow log", .complexity = "O(N) where N is the number of entries in the slowlog"},
    {.name = "help", .proc = slowlogHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .since = "6.2.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {0}};

static cmdDef objectSubcommands[] = {
    {.name = "encoding", .proc = objectEncodingCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .firstKey = 2, .lastKey = 2, .keyStep = 1, .since = "2.2.3", .summary = "Inspect the internal encoding of a Redis object", .complexity = "O(1)"},
    {.name = "freq", .proc = objectFreqCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .firstKey = 2, .lastKey = 2, .keyStep = 1, .since = "4.0.0", .summary = "Get the logarithmic access frequency counter of a Redis object", .complexity = "O(1)"},
    {.name = "idletime", .proc = objectIdletimeCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .firstKey = 2, .lastKey = 2, .keyStep = 1, .since = "2.2.3", .summary = "Get the time since a Redis object was last accessed", .complexity = "O(1)"},
    {.name = "refcount", .proc = objectRefcountCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .firstKey = 2, .lastKey = 2, .keyStep = 1, .since = "2.2.3", .summary = "Get the number of references to the value of the key", .complexity = "O(1)"},
    {.name = "help", .proc = objectHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_KEYSPACE, .since = "6.2.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {0}};

#define MODULE_ADMIN (CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_PROTECTED)
static cmdDef moduleSubcommands[] = {
    {.name = "help", .proc = moduleHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {.name = "list", .proc = moduleListCommand, .arity = 2, .flags = CMD_ADMIN | CMD_NOSCRIPT, .since = "4.0.0", .summary = "List all modules loaded by the server", .complexity = "O(N) where N is the number of loaded modules."},
    {.name = "load", .proc = moduleLoadCommand, .arity = -3, .flags = MODULE_ADMIN, .since = "4.0.0", .summary = "Load a module", .complexity = "O(1)"},
    {.name = "loadex", .proc = moduleLoadCommand, .arity = -3, .flags = MODULE_ADMIN, .since = "7.0.0", .summary = "Load a module with extended parameters", .complexity = "O(1)"},
    {.name = "unload", .proc = moduleUnloadCommand, .arity = 3, .flags = MODULE_ADMIN, .since = "4.0.0", .summary = "Unload a module", .complexity = "O(1)"},
    {0}};

cmdDef serverCommands[] = {
    {.name = "dbsize", .proc = dbsizeCommand, .arity = 1, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .group = "server", .since = "1.0.0", .summary = "Return the number of keys in the selected database", .complexity = "O(1)"},
    {.name = "flushdb", .proc = flushdbCommand, .arity = -1, .flags = CMD_WRITE, .acl = ACL_KEYSPACE | ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Remove all keys from the current database", .complexity = "O(N) where N is the number of keys in the selected database"},
    {.name = "flushall", .proc = flushallCommand, .arity = -1, .flags = CMD_WRITE, .acl = ACL_KEYSPACE | ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Remove all keys from all databases", .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "time", .proc = timeCommand, .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "server", .since = "2.6.0", .summary = "Return the current server time", .complexity = "O(1)"},
    {.name = "shutdown", .proc = shutdownCommand, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY, .group = "server", .since = "1.0.0", .summary = "Synchronously save the dataset to disk and then shut down the server", .complexity = "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"},
    {.name = "latency", .proc = containerCommand, .arity = -2, .group = "server", .since = "2.8.13", .summary = "A container for latency diagnostics commands", .complexity = "Depends on subcommand.", .subcmds = latencySubcommands},
    {.name = "slowlog", .proc = containerCommand, .arity = -2, .group = "server", .since = "2.2.12", .summary = "A container for slow log commands", .complexity = "Depends on subcommand.", .subcmds = slowlogSubcommands},
    {.name = "object", .proc = containerCommand, .arity = -2, .group = "generic", .since = "2.2.3", .summary = "A container for object introspection commands", .complexity = "Depends on subcommand.", .subcmds = objectSubcommands},
    {.name = "module", .proc = containerCommand, .arity = -2, .group = "server", .since = "4.0.0", .summary = "A container for module commands", .complexity = "Depends on subcommand.", .subcmds = moduleSubcommands},
    {.name = "debug", .proc = debugCommand, .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_PROTECTED, .group = "server", .since = "1.0.0", .summary = "A container for debugging commands", .complexity = "Depends on subcommand."},
    {0}};
