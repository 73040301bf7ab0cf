/* repl.c - the replication history this node is at, its role, the stream
 * feed, ROLE and INFO's # Replication (repl.h has the map of the three
 * replication files and the history invariant).
 *
 * Owns: replid, replid2, master_repl_offset, second_repl_offset and the role
 * flag. Must never write to a socket or touch the keyspace: the primary and
 * replica halves do, through the functions here. */
#include "repl.h"
#include "client.h"
#include "cmd.h"
#include <string.h>

static struct {
    char id[REPL_ID_LEN + 1];
    char id2[REPL_ID_LEN + 1];
    long long offset;
    long long secondOffset;
    int replica;
} hist;

static void randomId(char *out) {
    if (randomHex(out, REPL_ID_LEN) == -1) {
        /* No strong randomness left: keep the old id; a replica that asks
         * with it continues, which is still correct for our history. */
        logWarning("Could not draw a new replication id: keeping %s", hist.id);
        return;
    }
    out[REPL_ID_LEN] = '\0';
}

static void clearId2(void) {
    memset(hist.id2, '0', REPL_ID_LEN);
    hist.id2[REPL_ID_LEN] = '\0';
    hist.secondOffset = -1;
}

void replInit(void) {
    memset(hist.id, '0', REPL_ID_LEN);
    hist.id[REPL_ID_LEN] = '\0';
    randomId(hist.id);
    clearId2();
    hist.offset = 0;
    hist.replica = 0;
}

const char *replId(void) { return hist.id; }
const char *replId2(void) { return hist.id2; }
long long replOffset(void) { return hist.offset; }
long long replSecondOffset(void) { return hist.secondOffset; }

void replNewHistory(void) {
    randomId(hist.id);
    clearId2();
}

void replShiftHistory(const char *newId) {
    memcpy(hist.id2, hist.id, sizeof(hist.id2));
    hist.secondOffset = hist.offset + 1;
    if (newId) {
        memcpy(hist.id, newId, REPL_ID_LEN);
        hist.id[REPL_ID_LEN] = '\0';
    } else {
        randomId(hist.id);
    }
}

void replAdoptHistory(const char *replid, long long offset) {
    memcpy(hist.id, replid, REPL_ID_LEN);
    hist.id[REPL_ID_LEN] = '\0';
    clearId2();
    hist.offset = offset;
}

void replFeedStream(const char *buf, size_t len) {
    hist.offset += (long long)len;
    replPrimaryFeed(buf, len);
}

int replIsReplica(void) { return hist.replica; }
void replSetReplica(int yes) {
    hist.replica = yes ? 1 : 0;
    logSetRole(yes ? 'S' : 'M');
}

void roleCommand(client *c) {
    if (hist.replica) replReplicaRole(c);
    else replPrimaryRole(c);
}

/* Field order as Redis 7.0 prints it: role, the replica's link fields, then
 * connected_slaves ... repl_backlog_histlen (primary half, which includes
 * master_failover_state and the history). */
void replInfo(textBuf *b) {
    textAppend(b, "role:%s\r\n", hist.replica ? "slave" : "master");
    if (hist.replica) replReplicaInfo(b);
    replPrimaryInfo(b);
}

cmdDef replCommands[] = {
    {.name = "role", .proc = roleCommand, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, .acl = ACL_ADMIN | ACL_DANGEROUS, .group = "server", .since = "2.8.12", .summary = "Return the role of the instance in the context of replication", .complexity = "O(1)"},
    {0}};
