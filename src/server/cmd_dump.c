/* cmd_dump.c - DUMP and RESTORE: one value serialized in the RDB format with
 * Redis 7.0's payload footer (RDB version, CRC-64), so payloads move between
 * Cachet and Redis both ways (migration tools, redis-cli --rdb-style copies).
 *
 * RESTORE-ASKING is RESTORE under another name (MIGRATE sends it in cluster
 * mode). Owns: the commands' argument parsing, replies and error texts (Redis
 * 7.0's restoreCommand, checked in the same order). Must never: change the
 * keyspace before the payload is fully verified and decoded, or trust the
 * payload (rdb.c validates every byte; a bad one is "Bad data format"). */
#include "rdb.h"
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "propagate.h"
#include <string.h>

static void dumpCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyNull(c);
        return;
    }
    size_t len;
    char *p = rdbDumpPayload(e, &len);
    replyBulk(c, p, len);
    memFree(p);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
static void restoreCommand(client *c) {
    long long ttl, lfuFreq = -1, lruIdle = -1;
    int replace = 0, absttl = 0;
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (sliceEqNocase(c->argv[j], "replace")) {
            replace = 1;
        } else if (sliceEqNocase(c->argv[j], "absttl")) {
            absttl = 1;
        } else if (sliceEqNocase(c->argv[j], "idletime") && additional >= 1 && lfuFreq == -1) {
            if (getLongLongFromSliceOrReply(c, c->argv[j + 1], &lruIdle, NULL) == -1) return;
            if (lruIdle < 0) {
                replyError(c, "Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (sliceEqNocase(c->argv[j], "freq") && additional >= 1 && lruIdle == -1) {
            if (getLongLongFromSliceOrReply(c, c->argv[j + 1], &lfuFreq, NULL) == -1) return;
            if (lfuFreq < 0 || lfuFreq > 255) {
                replyError(c, "Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    slice key = c->argv[1], payload = c->argv[3];
    if (!replace && dbLookupWrite(c->db, key)) {
        replyError(c, "-BUSYKEY Target key name already exists.");
        return;
    }
    if (getLongLongFromSliceOrReply(c, c->argv[2], &ttl, NULL) == -1) return;
    if (ttl < 0) {
        replyError(c, "Invalid TTL value, must be >= 0");
        return;
    }
    if (rdbVerifyDumpPayload(payload.p, payload.len) == -1) {
        replyError(c, "DUMP payload version or checksum are wrong");
        return;
    }
    rdbSource src;
    rdbMemSourceInit(&src, payload.p, payload.len - 10);
    char err[256];
    int empty;
    dbEntry *e = rdbLoadObject(&src, key.p, key.len, &empty, err, sizeof(err));
    rdbMemSourceFree(&src);
    if (!e) {
        replyError(c, "Bad data format");
        return;
    }
    int deleted = replace ? dbDelete(c->db, key.p, key.len) : 0;
    if (ttl && !absttl) ttl += srv.mstime;
    if (ttl && dbAlreadyExpired(ttl)) {
        /* Already expired: the key is gone (the old one deleted), as Redis. */
        dbEntryFree(e);
        if (deleted) {
            dbTouchKey(c->db, key.p, key.len);
            srv.dirty++;
            slice del[2] = {srv.lazyfreeLazyServerDel ? propStr("UNLINK") : propStr("DEL"), key};
            propReplace(c, del, 2);
        }
        replyOk(c);
        return;
    }
    if (ttl) e->expire = ttl;
    rdbSetLruOrLfu(e, lfuFreq, lruIdle);
    dbInsert(c->db, e);
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty++;
    if (ttl && !absttl && propActive()) {
        /* Redis 7.0: the TTL as an absolute time, ABSTTL appended. */
        char num[LONG_STR_SIZE];
        slice *argv = memAlloc(sizeof(slice) * (size_t)(c->argc + 1));
        memcpy(argv, c->argv, sizeof(slice) * (size_t)c->argc);
        argv[2] = propLL(num, ttl);
        argv[c->argc] = propStr("ABSTTL");
        propReplace(c, argv, c->argc + 1);
        memFree(argv);
    }
    replyOk(c);
}

#define RESTORE_COMPLEXITY                                                                                   \
    "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number " \
    "of Redis objects composing the value and M their average size. For small string values the time "          \
    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "        \
    "complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."

cmdDef dumpCommands[] = {
    {.name = "dump", .proc = dumpCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .firstKey = 1,
     .lastKey = 1, .keyStep = 1, .group = "generic", .since = "2.6.0",
     .summary = "Return a serialized version of the value stored at the specified key.",
     .complexity = "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis "
                   "objects composing the value and M their average size. For small string values the time "
                   "complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."},
    {.name = "restore", .proc = restoreCommand, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM,
     .acl = ACL_KEYSPACE | ACL_DANGEROUS, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic",
     .since = "2.6.0", .summary = "Create a key using the provided serialized value, previously obtained using DUMP.",
     .complexity = RESTORE_COMPLEXITY},
    /* MIGRATE's form in cluster mode: runs on a slot this node imports
     * without a preceding ASKING (cluster.c reads CMD_ASKING). */
    {.name = "restore-asking", .proc = restoreCommand, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ASKING,
     .acl = ACL_KEYSPACE | ACL_DANGEROUS, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "server",
     .since = "3.0.0", .summary = "An internal command for migrating keys in a cluster",
     .complexity = RESTORE_COMPLEXITY},
    {0}};
