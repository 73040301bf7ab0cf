/* repl_primary.c - the source side of replication (repl.h): the backlog,
 * the replicas attached to us, propagation of our own writes, WAIT.
 *
 * Owns: the backlog and the list of replica clients (CLIENT_REPLICA).
 * Must never block the event loop (full syncs are produced by a forked
 * child) and never lose a byte of the stream for an online replica: a
 * replica that cannot keep up is disconnected (client-output-buffer-limit
 * replica), never silently skipped.
 *
 * SKELETON: the functions below are placeholders so the data node links; the
 * source side is being written. */
#include "repl.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"

void replPrimaryInit(void) {}
void replPrimaryCron(void) {}
void replPrimaryFeed(const char *buf, size_t len) {
    (void)buf;
    (void)len;
}
void replPropagate(int dbid, const slice *argv, int argc) {
    (void)dbid;
    (void)argv;
    (void)argc;
}
void replDisconnectReplicas(void) {}
void replBacklogReset(void) {}
int replConnectedReplicas(void) { return 0; }

void replPrimaryInfo(textBuf *b) {
    textAppend(b,
               "connected_slaves:0\r\n"
               "master_failover_state:no-failover\r\n"
               "master_replid:%s\r\n"
               "master_replid2:%s\r\n"
               "master_repl_offset:%lld\r\n"
               "second_repl_offset:%lld\r\n"
               "repl_backlog_active:0\r\n"
               "repl_backlog_size:%lld\r\n"
               "repl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n",
               replId(), replId2(), replOffset(), replSecondOffset(), 1048576LL);
}

void replPrimaryRole(client *c) {
    replyArrayLen(c, 3);
    replyBulkCString(c, "master");
    replyLongLong(c, replOffset());
    replyArrayLen(c, 0);
}

void replPrimaryClientFree(client *c) { (void)c; }

/* SYNC, PSYNC, REPLCONF, WAIT, FAILOVER. */
cmdDef replPrimaryCommands[] = {{0}};
