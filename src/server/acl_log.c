/* acl_log.c - ACL LOG: denied commands, keys, channels and failed AUTHs,
 * grouped as Redis 7.0 groups them (same reason, context, object and user
 * within 60 s count as one entry), newest first, at most acllog-max-len.
 * Owns: the log entries and the denial counters' increments. Must never log
 * a password (AUTH failures record the user name only). */
#include "server.h"
#include "acl.h"
#include "client.h"
#include "reply.h"
#include "args.h"
#include "acl_int.h"
#include <stdio.h>
#include <string.h>

#define ACL_LOG_GROUP_MS 60000

typedef struct logEntry {
    long long count;
    char reason[16], context[16];
    char *object, *username, *clientInfo;
    size_t objectLen; /* a key or channel may hold a NUL */
    long long createdMs, updatedMs;
} logEntry;
static logEntry *aclLog; /* newest first */
static int aclLogLen;

static void logEntryFree(logEntry *e) {
    memFree(e->object);
    memFree(e->username);
    memFree(e->clientInfo);
}

static void aclLogAdd(client *c, int reason, const char *context, const char *object, size_t olen,
                      const char *username) {
    static const char *reasons[] = {"", "command", "key", "channel", "auth"};
    switch (reason) {
    case ACL_DENIED_CMD: aclStat.deniedCmd++; break;
    case ACL_DENIED_KEY: aclStat.deniedKey++; break;
    case ACL_DENIED_CHANNEL: aclStat.deniedChannel++; break;
    case ACL_DENIED_AUTH: aclStat.deniedAuth++; break;
    }
    long long now = srv.mstime;
    for (int i = 0; i < aclLogLen; i++) {
        logEntry *e = &aclLog[i];
        if (!strcmp(e->reason, reasons[reason]) && !strcmp(e->context, context) && e->objectLen == olen &&
            !memcmp(e->object, object, olen) && !strcmp(e->username, username) &&
            now - e->updatedMs < ACL_LOG_GROUP_MS) {
            e->count++;
            e->updatedMs = now;
            memFree(e->clientInfo);
            e->clientInfo = c ? clientInfoString(c) : memStrdup("");
            /* Most recent first. */
            logEntry tmp = *e;
            memmove(aclLog + 1, aclLog, sizeof(logEntry) * (size_t)i);
            aclLog[0] = tmp;
            return;
        }
    }
    long long max = srv.aclLogMaxLen;
    if (max <= 0) return;
    if (aclLogLen >= max) {
        while (aclLogLen >= max) logEntryFree(&aclLog[--aclLogLen]);
    }
    aclLog = memRealloc(aclLog, sizeof(logEntry) * (size_t)(aclLogLen + 1));
    memmove(aclLog + 1, aclLog, sizeof(logEntry) * (size_t)aclLogLen);
    logEntry *e = &aclLog[0];
    memset(e, 0, sizeof(*e));
    e->count = 1;
    snprintf(e->reason, sizeof(e->reason), "%s", reasons[reason]);
    snprintf(e->context, sizeof(e->context), "%s", context);
    e->object = memDupBytes(object, olen);
    e->objectLen = olen;
    e->username = memStrdup(username);
    e->clientInfo = c ? clientInfoString(c) : memStrdup("");
    e->createdMs = e->updatedMs = now;
    aclLogLen++;
}

void aclLogDenial(client *c, int reason, const char *object, size_t olen, const char *username) {
    aclLogAdd(c, reason, (c && (c->flags & CLIENT_MULTI)) ? "multi" : "toplevel", object, olen, username);
}

/* A redis.call denied inside a script: Redis 7.0 logs it as "lua" whether
 * the EVAL ran at top level or from EXEC, so it groups apart from the
 * caller's own denials. */
void aclLogScriptDenial(client *caller, int reason, const char *object, size_t olen, const char *username) {
    aclLogAdd(caller, reason, "lua", object, olen, username);
}

/* The -NOPERM reply and the log line for a denied command. */

void aclLogCommand(client *c) {
    long long count = 10;
    if (c->argc > 3) {
        replyError(c, "unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.");
        return;
    }
    if (c->argc == 3) {
        if (sliceEqNocase(c->argv[2], "reset")) {
            for (int i = 0; i < aclLogLen; i++) logEntryFree(&aclLog[i]);
            memFree(aclLog);
            aclLog = NULL;
            aclLogLen = 0;
            replyOk(c);
            return;
        }
        if (getLongLongFromSliceOrReply(c, c->argv[2], &count, NULL) == -1) return;
        if (count < 0) count = 0;
    }
    long long n = count < aclLogLen ? count : aclLogLen;
    replyArrayLen(c, n);
    for (long long i = 0; i < n; i++) {
        logEntry *e = &aclLog[i];
        replyMapLen(c, 7);
        replyBulkCString(c, "count");
        replyLongLong(c, e->count);
        replyBulkCString(c, "reason");
        replyBulkCString(c, e->reason);
        replyBulkCString(c, "context");
        replyBulkCString(c, e->context);
        replyBulkCString(c, "object");
        replyBulk(c, e->object, e->objectLen);
        replyBulkCString(c, "username");
        replyBulkCString(c, e->username);
        replyBulkCString(c, "age-seconds");
        replyDouble(c, (double)(srv.mstime - e->createdMs) / 1000.0);
        replyBulkCString(c, "client-info");
        replyBulkCString(c, e->clientInfo);
    }
}
