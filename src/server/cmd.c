/* cmd.c - the command table: registration of every module's commands,
 * lookup, the checks every command passes before running (arity, auth,
 * MULTI queueing, pub/sub context, maxmemory), timing, and COMMAND itself.
 *
 * Owns: the srv.commands lookup dict and per-command statistics.
 * Each command module exports a table (name-NULL terminated) listed in
 * `tables` below; adding a module means adding one line here.
 * Must never run a command that failed a check: a rejected command changes
 * nothing and answers Redis' error text. */
#include "server.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "evict.h"
#include "acl.h"
#include "config.h"
#include "multi.h"
#include "pause.h"
#include "slowlog.h"
#include "latency.h"
#include "snapshot.h"
#include "propagate.h"
#include "function.h"
#include "repl.h"
#include "failover.h"
#include "script.h"
#include "cluster.h"
#include "migrate.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern cmdDef connCommands[], serverCommands[], keyCommands[], stringCommands[], multiCommands[],
    pubsubCommands[], infoCommands[], configCommands[], hashCommands[], listCommands[], setCommands[],
    zsetCommands[], streamCommands[], streamGroupCommands[], aclCommands[], dumpCommands[], snapshotCommands[], scriptCommands[];
/* functionCommands: function.h */
static cmdDef commandCommands[];

static cmdDef *tables[] = {connCommands,   serverCommands, keyCommands,    stringCommands,
                           multiCommands,  pubsubCommands, infoCommands,   configCommands,
                           hashCommands,   listCommands,   setCommands,    zsetCommands,   streamCommands, streamGroupCommands,
                           aclCommands,    dumpCommands,   snapshotCommands, scriptCommands,
                           functionCommands, replCommands, replPrimaryCommands, replReplicaCommands,
                           failoverCommands, clusterCommands, migrateCommands, commandCommands};
static int nextId; /* cmdDef.id handed out so far */

typedef struct cmdNode {
    dictNode link;
    cmdDef *def;
} cmdNode;

static void cmdKey(const dictNode *n, const char **p, size_t *len) {
    const cmdNode *c = (const cmdNode *)n;
    *p = c->def->name;
    *len = strlen(c->def->name);
}
static const dictType cmdDictType = {.key = cmdKey, .nocase = 1};

/* ---- ACL categories -------------------------------------------------- */

const char *aclCategoryNames[] = {"keyspace", "read",      "write",     "set",        "sortedset",
                                         "list",     "hash",      "string",    "bitmap",     "hyperloglog",
                                         "geo",      "stream",    "pubsub",    "admin",      "fast",
                                         "slow",     "blocking",  "dangerous", "connection", "transaction",
                                         "scripting", NULL};

/* Categories implied by flags, as Redis' setImplicitACLCategories does. */
static uint64_t implicitAcl(const cmdDef *c) {
    uint64_t acl = c->acl;
    if (c->flags & CMD_WRITE) acl |= ACL_WRITE;
    if ((c->flags & CMD_READONLY) && !(acl & ACL_SCRIPTING)) acl |= ACL_READ;
    if (c->flags & CMD_ADMIN) acl |= ACL_ADMIN | ACL_DANGEROUS;
    if (c->flags & CMD_PUBSUB) acl |= ACL_PUBSUB;
    if (c->flags & CMD_FAST) acl |= ACL_FAST;
    if (c->flags & CMD_BLOCKING) acl |= ACL_BLOCKING;
    if (!(acl & ACL_FAST)) acl |= ACL_SLOW;
    return acl;
}

static void registerCommand(cmdDef *c) {
    snprintf(c->fullname, sizeof(c->fullname), "%s", c->name);
    c->acl = implicitAcl(c);
    c->id = nextId++;
    for (cmdDef *s = c->subcmds; s && s->name; s++) {
        snprintf(s->fullname, sizeof(s->fullname), "%s|%s", c->name, s->name);
        s->parent = c;
        s->acl = implicitAcl(s);
        s->id = nextId++;
    }
    cmdNode *n = memAlloc(sizeof(*n));
    n->def = c;
    dictAdd(&srv.commands, &n->link);
}

void cmdInitTable(void) {
    dictInit(&srv.commands, &cmdDictType);
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (cmdDef *c = tables[t]; c->name; c++) registerCommand(c);
}

int cmdTotalIds(void) { return nextId; }

cmdDef *cmdLookup(const char *name, size_t len) {
    cmdNode *n = (cmdNode *)dictFind(&srv.commands, name, len);
    return n ? n->def : NULL;
}

static cmdDef *lookupSub(cmdDef *parent, slice name) {
    for (cmdDef *s = parent->subcmds; s && s->name; s++)
        if (strlen(s->name) == name.len && strncasecmp(s->name, name.p, name.len) == 0) return s;
    return NULL;
}

cmdDef *cmdLookupArgv(slice *argv, int argc) {
    cmdDef *c = cmdLookup(argv[0].p, argv[0].len);
    if (!c || !c->subcmds || argc < 2) return c;
    return lookupSub(c, argv[1]);
}

int cmdIsKeyCommand(cmdDef *cmd) { return cmd->firstKey > 0; }

/* Key positions of a call: the table's first/last/step range, then, for
 * movable keys (LMPOP, ZUNIONSTORE...), a count and that many keys. A count
 * that is not a number or runs past the arguments gives no movable keys, as
 * in Redis: the command itself then replies the error. */
void cmdKeysInit(cmdKeyIter *it, const cmdDef *cmd, const slice *argv, int argc) {
    it->pos = 1;
    it->last = 0;
    it->step = cmd->keyStep > 0 ? cmd->keyStep : 1;
    it->mpos = 1;
    it->mlast = 0;
    it->badCount = 0;
    if (cmd->firstKey > 0) {
        int last = cmd->lastKey < 0 ? argc + cmd->lastKey : cmd->lastKey;
        it->pos = cmd->firstKey;
        it->last = last < argc ? last : argc - 1;
    }
    if (cmd->streamsKeys) {
        /* Redis 7.0's key spec: the first STREAMS from argv[streamsKeys] on,
         * then the first half (rounded down) of what follows. */
        for (int i = cmd->streamsKeys; i < argc; i++) {
            if (!sliceEqNocase(argv[i], "streams")) continue;
            int n = (argc - i - 1) / 2;
            if (n > 0) {
                it->mpos = i + 1;
                it->mlast = i + n;
            }
            break;
        }
    }
    if (cmd->numkeysIdx > 0 && cmd->numkeysIdx < argc) {
        long long nk;
        slice s = argv[cmd->numkeysIdx];
        if (string2ll(s.p, s.len, &nk) && nk > 0 && nk <= argc - cmd->numkeysIdx - 1) {
            it->mpos = cmd->numkeysIdx + 1;
            it->mlast = cmd->numkeysIdx + (int)nk;
        } else {
            it->badCount = 1;
        }
    }
    if (cmd->getKeys) cmd->getKeys(it, argv, argc);
}

int cmdKeysNext(cmdKeyIter *it) {
    if (it->pos <= it->last) {
        int k = it->pos;
        it->pos += it->step;
        return k;
    }
    if (it->mpos <= it->mlast) return it->mpos++;
    return -1;
}

void cmdForEach(void (*fn)(cmdDef *cmd, void *priv), void *priv) {
    dictIter it;
    dictIterInit(&it, &srv.commands, 0);
    dictNode *n;
    while ((n = dictNext(&it))) fn(((cmdNode *)n)->def, priv);
    dictIterEnd(&it);
}

void cmdResetStats(void) {
    dictIter it;
    dictIterInit(&it, &srv.commands, 0);
    dictNode *n;
    while ((n = dictNext(&it))) {
        cmdDef *c = ((cmdNode *)n)->def;
        c->calls = c->usec = c->rejectedCalls = c->failedCalls = 0;
        for (cmdDef *s = c->subcmds; s && s->name; s++) s->calls = s->usec = s->rejectedCalls = s->failedCalls = 0;
    }
    dictIterEnd(&it);
}

/* ---- execution ---------------------------------------------------------- */

void cmdCall(client *c, cmdDef *cmd) {
    client *prev = srv.current;
    srv.current = c;
    c->cmd = cmd;
    /* CLIENT REPLY SKIP applies to the command after it. */
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~(uint64_t)CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    } else {
        c->flags &= ~(uint64_t)CLIENT_REPLY_SKIP;
    }
    long long dirty = srv.dirty;
    long long start = ustime();
    srv.mstime = start / 1000;
    srv.ustime = start;
    propFrame pf;
    propCallEnter(c, &pf);
    cmd->proc(c);
    propCallExit(c, cmd, &pf, dirty);
    long long dur = ustime() - start;
    /* A blocked command served later (block.c re-runs it) was counted when
     * first called, and goes to the slowlog when it completes, as Redis 7.0. */
    if (!(c->flags & CLIENT_REEXEC)) {
        cmd->calls++;
        srv.statNumCommands++;
        c->commandsProcessed++;
    }
    cmd->usec += dur;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG) && !(c->flags & CLIENT_BLOCKED)) slowlogPush(c, c->argv, c->argc, dur);
    latencyAddSampleIfNeeded("command", dur / 1000);
    c->flags &= ~(uint64_t)CLIENT_REPLY_SKIP;
    srv.current = prev;
}

void cmdReject(client *c, cmdDef *cmd, const char *err) {
    static long long lastLog;
    if (logRateAllowed(&lastLog)) {
        char *info = clientInfoString(c);
        logNotice("Command rejected (%s) from client: %s", err[0] == '-' ? err + 1 : err, info);
        memFree(info);
    }
    if (cmd) cmd->rejectedCalls++;
    c->cmd = NULL; /* rejected calls are not failed calls */
    if (cmd && !cmd->parent && !strcmp(cmd->name, "exec")) multiExecAbort(c, err); /* Redis: EXECABORT */
    else replyError(c, err);
    if (c->flags & CLIENT_MULTI) multiFlagExecAbort(c);
}

static void unknownCommand(client *c) {
    char args[160];
    size_t off = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && off < 128; i++) {
        int n = snprintf(args + off, sizeof(args) - off, "'%.*s' ", (int)(c->argv[i].len < 128 - off ? c->argv[i].len : 128 - off),
                         c->argv[i].p);
        if (n < 0) break;
        off += (size_t)n;
        if (off >= sizeof(args)) break; /* truncated: snprintf kept args terminated */
    }
    char err[400];
    snprintf(err, sizeof(err), "unknown command '%.*s', with args beginning with: %s",
             (int)(c->argv[0].len > 128 ? 128 : c->argv[0].len), c->argv[0].p, args);
    cmdReject(c, NULL, err);
}

static int isMultiControl(cmdDef *cmd) {
    const char *n = cmd->name;
    return cmd->parent == NULL && (!strcmp(n, "exec") || !strcmp(n, "discard") || !strcmp(n, "multi") ||
                                   !strcmp(n, "watch") || !strcmp(n, "quit") || !strcmp(n, "reset"));
}

static int allowedInPubsubContext(cmdDef *cmd) {
    const char *n = cmd->parent ? cmd->parent->name : cmd->name;
    return !strcmp(n, "ping") || !strcmp(n, "subscribe") || !strcmp(n, "ssubscribe") || !strcmp(n, "unsubscribe") ||
           !strcmp(n, "sunsubscribe") || !strcmp(n, "psubscribe") || !strcmp(n, "punsubscribe") ||
           !strcmp(n, "quit") || !strcmp(n, "reset");
}

int cmdProcess(client *c) {
    if (srv.clusterEnabled) clusterPrefetch(c);
    cmdDef *cmd = cmdLookupArgv(c->argv, c->argc);
    if (!cmd) {
        cmdDef *parent = cmdLookup(c->argv[0].p, c->argv[0].len);
        if (parent && parent->subcmds && c->argc >= 2) {
            char err[400], up[64];
            size_t i;
            for (i = 0; i < sizeof(up) - 1 && parent->name[i]; i++)
                up[i] = (char)(parent->name[i] >= 'a' && parent->name[i] <= 'z' ? parent->name[i] - 32 : parent->name[i]);
            up[i] = '\0';
            snprintf(err, sizeof(err), "unknown subcommand '%.*s'. Try %s HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, up);
            cmdReject(c, parent, err);
        } else {
            unknownCommand(c);
        }
        return 1;
    }
    c->lastcmd = cmd;
    c->cmd = cmd;
    if ((cmd->arity > 0 && cmd->arity != c->argc) || (c->argc < -cmd->arity)) {
        char err[160];
        snprintf(err, sizeof(err), "wrong number of arguments for '%s' command", cmd->fullname);
        cmdReject(c, cmd, err);
        return 1;
    }
    /* Our primary's stream runs as it ran there: no ACL, auth, read-only,
     * memory or persistence refusal applies (Redis' "obey client"). */
    if (c->flags & CLIENT_MASTER) {
        if (replMasterIntercept(c)) return 1;
        if ((c->flags & CLIENT_MULTI) && !isMultiControl(cmd)) {
            multiQueueCommand(c, cmd);
            return 1;
        }
        cmdCall(c, cmd);
        blockServeReadyKeys();
        return 1;
    }
    /* DEBUG and MODULE LOAD/LOADEX/UNLOAD run only where enable-debug-command
     * / enable-module-command allow; checked before NOAUTH, as Redis 7.0 does. */
    if (cmd->flags & CMD_PROTECTED) {
        int isDebug = !strcmp(cmd->fullname, "debug");
        if (!configProtectedActionAllowed(isDebug ? srv.enableDebugCmd : srv.enableModuleCmd, c)) {
            char err[300];
            snprintf(err, sizeof(err),
                     "%s command not allowed. If the %s option is set to \"local\", you can run it from a local "
                     "connection, otherwise you need to set this option in the configuration file, and then restart "
                     "the server.",
                     isDebug ? "DEBUG" : "MODULE", isDebug ? "enable-debug-command" : "enable-module-command");
            cmdReject(c, cmd, err);
            return 1;
        }
    }
    /* Mutual TLS: the first command of a connection whose verified client
     * certificate names a user runs as that user (tls-auth-clients-user CN). */
    if (!(c->flags & CLIENT_CERT_SEEN)) {
        c->flags |= CLIENT_CERT_SEEN;
        if (srv.tlsAuthClientsUser) aclAuthenticateByCertificate(c);
    }
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) {
        cmdReject(c, cmd, "-NOAUTH Authentication required.");
        return 1;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        cmdReject(c, cmd, "Command not allowed inside a transaction");
        return 1;
    }
    /* ACL: one call that returns at once for an unrestricted user. Checked
     * before MULTI queueing, so a denied command also aborts the EXEC. */
    int badArg, denied = aclCheck(c->user, cmd, c->argv, c->argc, &badArg);
    if (denied) {
        aclDeny(c, cmd, denied, badArg);
        return 1;
    }
    /* Cluster mode: keys of another node's slot are redirected, as Redis'
     * getNodeByQuery (cluster.c). EXEC checks the whole queue; a rejected
     * EXEC discards it and answers the plain error, as Redis does. */
    if (srv.clusterEnabled) {
        char cerr[300];
        if (clusterCheckCommand(c, cmd, cerr, sizeof(cerr)) == -1) {
            if (!cmd->parent && !strcmp(cmd->name, "exec")) {
                cmd->rejectedCalls++;
                c->cmd = NULL;
                multiDiscard(c);
                replyError(c, cerr);
            } else {
                cmdReject(c, cmd, cerr);
            }
            return 1;
        }
    }
    /* A script past busy-reply-threshold serves only what may run beside it. */
    const char *busy = scriptBusyError(c, cmd);
    if (busy) {
        cmdReject(c, cmd, busy);
        return 1;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2 && !allowedInPubsubContext(cmd)) {
        char err[200];
        snprintf(err, sizeof(err),
                 "Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                 "this context",
                 cmd->fullname);
        cmdReject(c, cmd, err);
        return 1;
    }
    /* Evict before the write, so a cache under pressure makes room instead of
     * failing; deny memory-growing commands only if that was not enough. */
    /* A replica's memory is its primary's business (replica-ignore-maxmemory). */
    if (srv.maxmemory && !srv.loading && !(replIsReplica() && srv.replicaIgnoreMaxmemory)) {
        int out = evictPerform() == -1;
        /* Queueing inside MULTI may grow without bound, so under pressure
         * everything but EXEC/DISCARD/QUIT/RESET is refused there (Redis 7). */
        int reject = (cmd->flags & CMD_DENYOOM) != 0 || (out && scriptCallDeniesOOM(c, cmd));
        if ((c->flags & CLIENT_MULTI) && !cmd->parent &&
            strcmp(cmd->name, "exec") && strcmp(cmd->name, "discard") && strcmp(cmd->name, "quit") &&
            strcmp(cmd->name, "reset"))
            reject = 1;
        if (out && reject) {
            cmdReject(c, cmd, "-OOM command not allowed when used memory > 'maxmemory'.");
            return 1;
        }
    }
    /* A failed scheduled save stops writes (and PING, as Redis does) so a
     * client learns the data is not being persisted. */
    if (snapshotWritesDenied() && ((cmd->flags & CMD_WRITE) || !strcmp(cmd->fullname, "ping") ||
                                   (!strcmp(cmd->fullname, "exec") && multiHasQueuedWrite(c)))) {
        cmdReject(c, cmd,
                  "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
                  "disk. Commands that may modify the data set are disabled, because this instance is configured "
                  "to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
                  "Please check the Redis logs for details about the RDB error.");
        return 1;
    }
    /* min-replicas-to-write: a primary without enough replicas that acked
     * recently refuses writes (Redis 7.0 checks it after -MISCONF). */
    if (((cmd->flags & CMD_WRITE) || (!strcmp(cmd->fullname, "exec") && multiHasQueuedWrite(c))) &&
        !(c->flags & CLIENT_MASTER) && !replPrimaryWritesAllowed()) {
        cmdReject(c, cmd, "-NOREPLICAS Not enough good replicas to write.");
        return 1;
    }
    if (!(c->flags & CLIENT_MASTER) && !replPrimaryWritesAllowed() && scriptCallDeclaresWrite(c, cmd)) {
        cmdReject(c, cmd, "-NOREPLICAS Not enough good replicas to write.");
        return 1;
    }
    /* A replica takes writes only from its primary (replica-read-only). */
    if (replIsReplica() && srv.replicaReadOnly &&
        ((cmd->flags & CMD_WRITE) || (!strcmp(cmd->fullname, "exec") && multiHasQueuedWrite(c)) ||
         (!(c->flags & CLIENT_MASTER) && scriptCallDeclaresWrite(c, cmd)))) {
        cmdReject(c, cmd, "-READONLY You can't write against a read only replica.");
        return 1;
    }
    /* replica-serve-stale-data no: while the link is down only "stale"
     * commands (INFO, REPLICAOF, PING...) are served. */
    if (replIsReplica() && !srv.replicaServeStaleData && !replReplicaLinkUp() &&
        (!(cmd->flags & CMD_STALE) || scriptCallDeniesStale(c, cmd))) {
        cmdReject(c, cmd, "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
        return 1;
    }
    /* The start-up load serves sockets between keys (server.c): only the
     * commands Redis flags "loading" run on the half-loaded dataset. DEBUG
     * is one of them in Redis, but DEBUG RELOAD would nest a load. */
    if (srv.loading && (!(cmd->flags & CMD_LOADING) || !strcmp(cmd->fullname, "debug"))) {
        cmdReject(c, cmd, "-LOADING Redis is loading the dataset in memory");
        return 1;
    }
    /* CLIENT PAUSE: the request waits, unparsed, in the query buffer (after
     * the checks above, so a wrong call still gets its error at once). */
    /* A write to a key a MIGRATE is moving waits the same way, until the
     * target answered (migrate.c); checked again each loop. */
    if (pauseMustWait(c, cmd) || migrateMustWait(c, cmd)) {
        pausePostpone(c);
        return 2;
    }
    if ((c->flags & CLIENT_MULTI) && !isMultiControl(cmd)) {
        multiQueueCommand(c, cmd);
        replyRaw(c, "+QUEUED\r\n", 9);
        return 1;
    }
    cmdCall(c, cmd);
    /* Clients blocked on keys this command (or EXEC's whole transaction)
     * filled are served now, before this client's next pipelined command
     * could take the data (Redis: handleClientsBlockedOnKeys). */
    blockServeReadyKeys();
    return 1;
}

/* ---- COMMAND ------------------------------------------------------------ */

static const struct {
    uint64_t flag;
    const char *name;
} flagNames[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_ASKING, "asking"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};

static void replyCommandInfo(client *c, cmdDef *cmd) {
    replyArrayLen(c, 10);
    replyBulkCString(c, cmd->fullname);
    replyLongLong(c, cmd->arity);
    int nflags = 0;
    for (size_t i = 0; i < sizeof(flagNames) / sizeof(flagNames[0]); i++)
        if (cmd->flags & flagNames[i].flag) nflags++;
    replySetLen(c, nflags);
    for (size_t i = 0; i < sizeof(flagNames) / sizeof(flagNames[0]); i++)
        if (cmd->flags & flagNames[i].flag) replyStatus(c, flagNames[i].name);
    replyLongLong(c, cmd->firstKey);
    replyLongLong(c, cmd->lastKey);
    replyLongLong(c, cmd->keyStep);
    int ncat = 0;
    for (int i = 0; aclCategoryNames[i]; i++)
        if (cmd->acl & (1ULL << i)) ncat++;
    replySetLen(c, ncat);
    for (int i = 0; aclCategoryNames[i]; i++) {
        if (cmd->acl & (1ULL << i)) {
            char buf[32];
            snprintf(buf, sizeof(buf), "@%s", aclCategoryNames[i]);
            replyStatus(c, buf);
        }
    }
    replyArrayLen(c, 0); /* tips */
    /* Key specs derived from first/last/step. */
    if (cmd->firstKey > 0) {
        replyArrayLen(c, 1);
        replyMapLen(c, 3);
        replyBulkCString(c, "flags");
        replySetLen(c, 0);
        replyBulkCString(c, "begin_search");
        replyMapLen(c, 2);
        replyBulkCString(c, "type");
        replyBulkCString(c, "index");
        replyBulkCString(c, "spec");
        replyMapLen(c, 1);
        replyBulkCString(c, "index");
        replyLongLong(c, cmd->firstKey);
        replyBulkCString(c, "find_keys");
        replyMapLen(c, 2);
        replyBulkCString(c, "type");
        replyBulkCString(c, "range");
        replyBulkCString(c, "spec");
        replyMapLen(c, 3);
        replyBulkCString(c, "lastkey");
        replyLongLong(c, cmd->lastKey < 0 ? cmd->lastKey : cmd->lastKey - cmd->firstKey);
        replyBulkCString(c, "keystep");
        replyLongLong(c, cmd->keyStep);
        replyBulkCString(c, "limit");
        replyLongLong(c, 0);
    } else {
        replyArrayLen(c, 0);
    }
    int nsub = 0;
    for (cmdDef *s = cmd->subcmds; s && s->name; s++) nsub++;
    replyArrayLen(c, nsub);
    for (cmdDef *s = cmd->subcmds; s && s->name; s++) replyCommandInfo(c, s);
}

static void replyCommandDocs(client *c, cmdDef *cmd) {
    int nsub = 0;
    for (cmdDef *s = cmd->subcmds; s && s->name; s++) nsub++;
    int fields = 4 + (cmd->complexity ? 1 : 0) + (nsub ? 1 : 0);
    replyMapLen(c, fields);
    replyBulkCString(c, "summary");
    replyBulkCString(c, cmd->summary ? cmd->summary : "");
    replyBulkCString(c, "since");
    replyBulkCString(c, cmd->since ? cmd->since : "1.0.0");
    replyBulkCString(c, "group");
    replyBulkCString(c, cmd->group ? cmd->group : (cmd->parent && cmd->parent->group ? cmd->parent->group : "generic"));
    if (cmd->complexity) {
        replyBulkCString(c, "complexity");
        replyBulkCString(c, cmd->complexity);
    }
    replyBulkCString(c, "arguments");
    replyArrayLen(c, 0);
    if (nsub) {
        replyBulkCString(c, "subcommands");
        replyMapLen(c, nsub);
        for (cmdDef *s = cmd->subcmds; s && s->name; s++) {
            replyBulkCString(c, s->fullname);
            replyCommandDocs(c, s);
        }
    }
}

static cmdDef *lookupFullname(slice name) {
    const char *bar = memchr(name.p, '|', name.len);
    if (!bar) return cmdLookup(name.p, name.len);
    cmdDef *p = cmdLookup(name.p, (size_t)(bar - name.p));
    if (!p || !p->subcmds) return NULL;
    slice sub = {bar + 1, name.len - (size_t)(bar - name.p) - 1};
    return lookupSub(p, sub);
}

static void commandCommand(client *c) {
    replyArrayLen(c, (long)dictSize(&srv.commands));
    dictIter it;
    dictIterInit(&it, &srv.commands, 0);
    dictNode *n;
    while ((n = dictNext(&it))) replyCommandInfo(c, ((cmdNode *)n)->def);
    dictIterEnd(&it);
}

static void commandCountCommand(client *c) { replyLongLong(c, (long long)dictSize(&srv.commands)); }

static void commandInfoCommand(client *c) {
    if (c->argc == 2) {
        commandCommand(c);
        return;
    }
    replyArrayLen(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        cmdDef *cmd = lookupFullname(c->argv[i]);
        if (cmd) replyCommandInfo(c, cmd);
        else replyNullArray(c);
    }
}

static void commandDocsCommand(client *c) {
    if (c->argc == 2) {
        replyMapLen(c, (long)dictSize(&srv.commands));
        dictIter it;
        dictIterInit(&it, &srv.commands, 0);
        dictNode *n;
        while ((n = dictNext(&it))) {
            cmdDef *cmd = ((cmdNode *)n)->def;
            replyBulkCString(c, cmd->fullname);
            replyCommandDocs(c, cmd);
        }
        dictIterEnd(&it);
        return;
    }
    void *len = replyDeferredLen(c);
    long count = 0;
    for (int i = 2; i < c->argc; i++) {
        cmdDef *cmd = lookupFullname(c->argv[i]);
        if (!cmd) continue;
        replyBulkCString(c, cmd->fullname);
        replyCommandDocs(c, cmd);
        count++;
    }
    replySetDeferredMapLen(c, len, count);
}

static int listFilterMatch(client *c, cmdDef *cmd, int mode, slice arg) {
    if (mode == 0) return 1;
    if (mode == 1) { /* ACLCAT */
        for (int i = 0; aclCategoryNames[i]; i++)
            if (strlen(aclCategoryNames[i]) == arg.len && strncasecmp(aclCategoryNames[i], arg.p, arg.len) == 0)
                return (cmd->acl & (1ULL << i)) != 0;
        return 0;
    }
    if (mode == 2) return globMatch(arg.p, arg.len, cmd->fullname, strlen(cmd->fullname), 1);
    (void)c;
    return 0; /* MODULE: we have none */
}

static void commandListCommand(client *c) {
    int mode = 0;
    slice arg = {0};
    if (c->argc == 5 && sliceEqNocase(c->argv[2], "filterby")) {
        arg = c->argv[4];
        if (sliceEqNocase(c->argv[3], "aclcat")) mode = 1;
        else if (sliceEqNocase(c->argv[3], "pattern")) mode = 2;
        else if (sliceEqNocase(c->argv[3], "module")) mode = 3;
        else {
            replyErrorSyntax(c);
            return;
        }
    } else if (c->argc != 2) {
        replyErrorSyntax(c);
        return;
    }
    void *len = replyDeferredLen(c);
    long count = 0;
    dictIter it;
    dictIterInit(&it, &srv.commands, 0);
    dictNode *n;
    while ((n = dictNext(&it))) {
        cmdDef *cmd = ((cmdNode *)n)->def;
        if (listFilterMatch(c, cmd, mode, arg)) {
            replyBulkCString(c, cmd->fullname);
            count++;
        }
        for (cmdDef *s = cmd->subcmds; s && s->name; s++) {
            if (listFilterMatch(c, s, mode, arg)) {
                replyBulkCString(c, s->fullname);
                count++;
            }
        }
    }
    dictIterEnd(&it);
    replySetDeferredArrayLen(c, len, count);
}

static void commandGetKeysCommand(client *c) {
    slice *argv = c->argv + 2;
    int argc = c->argc - 2;
    cmdDef *cmd = cmdLookupArgv(argv, argc);
    if (!cmd) {
        replyError(c, "Invalid command specified");
        return;
    }
    if (cmd->firstKey <= 0 && cmd->numkeysIdx <= 0 && !cmd->streamsKeys) {
        replyError(c, "The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        replyError(c, "Invalid number of arguments specified for command");
        return;
    }
    /* Every key, however many (Redis has no limit either): counted, then sent. */
    cmdKeyIter it;
    long n = 0;
    cmdKeysInit(&it, cmd, argv, argc);
    while (cmdKeysNext(&it) != -1) n++;
    /* A bad numkeys count voids the whole answer, as Redis' key specs do. */
    if (n == 0 || it.badCount) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS) replyArrayLen(c, 0);
        else replyError(c, "Invalid arguments specified for command");
        return;
    }
    replyArrayLen(c, n);
    cmdKeysInit(&it, cmd, argv, argc);
    for (int k; (k = cmdKeysNext(&it)) != -1;) replySlice(c, argv[k]);
}

static void commandHelpCommand(client *c) {
    static const char *help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        NULL};
    replyHelp(c, help);
}

static cmdDef commandSubcommands[] = {
    {.name = "count", .proc = commandCountCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Get total number of Redis commands", .since = "2.8.13"},
    {.name = "info", .proc = commandInfoCommand, .arity = -2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Get array of specific Redis command details, or all when no argument is given.", .since = "2.8.13"},
    {.name = "docs", .proc = commandDocsCommand, .arity = -2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Get array of specific Redis command documentation", .since = "7.0.0"},
    {.name = "list", .proc = commandListCommand, .arity = -2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Get an array of Redis command names", .since = "7.0.0"},
    {.name = "getkeys", .proc = commandGetKeysCommand, .arity = -4, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Extract keys given a full Redis command", .since = "2.8.13"},
    {.name = "help", .proc = commandHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .summary = "Show helpful text about the different subcommands", .since = "5.0.0"},
    {0}};

/* COMMAND with no subcommand lists everything; it is a container whose
 * bare form is a command of its own, so it is dispatched here. */
static void commandDispatch(client *c) { commandCommand(c); }

static cmdDef commandCommands[] = {
    {.name = "command", .proc = commandDispatch, .arity = -1, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .group = "server", .since = "2.8.13", .summary = "Get array of Redis command details", .subcmds = commandSubcommands},
    {0}};
