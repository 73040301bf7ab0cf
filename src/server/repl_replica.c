/* repl_replica.c - the sink side of replication (repl.h): REPLICAOF, the
 * link to our primary and the master client that applies its stream.
 *
 * Owns: the primary's address, the link (an outbound conn, conn_out.h) and
 * its state machine, the transfer of the snapshot, the master client.
 * Must never block the event loop while the link is being set up or the
 * snapshot arrives, and never apply a byte of the stream twice or skip one.
 *
 * SKELETON: the functions below are placeholders so the data node links; the
 * sink side is being written. */
#include "repl.h"
#include "client.h"
#include "cmd.h"

void replReplicaInit(void) {}
void replReplicaCron(void) {}
client *replMasterClient(void) { return NULL; }
void replReplicaInfo(textBuf *b) { (void)b; }
void replReplicaRole(client *c) { replPrimaryRole(c); }
void replMasterClientFree(client *c) { (void)c; }

/* REPLICAOF, SLAVEOF. */
cmdDef replReplicaCommands[] = {{0}};
