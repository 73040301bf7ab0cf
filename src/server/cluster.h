/* cluster.h - cluster mode on the data node (cluster.c, cluster_cmd.c):
 * hash slots, the topology a control plane pushes (no gossip), the
 * redirections of the dispatch and the CLUSTER command family.
 *
 * The map (clusterMap) is replaced whole by CLUSTER SETTOPOLOGY, only after
 * it has been validated and written to cluster-config-file; nothing else
 * changes it except CLUSTER RESET. docs/cluster.md describes the command. */
#ifndef CACHET_CLUSTER_H
#define CACHET_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include "client.h"
#include "cmd.h"
#include "util.h"

#define CLUSTER_SLOTS 16384
#define CLUSTER_NAMELEN 40
#define CLUSTER_MAX_NODES 1000

/* cluster-preferred-endpoint-type */
#define CLUSTER_ENDPOINT_IP 0
#define CLUSTER_ENDPOINT_HOSTNAME 1
#define CLUSTER_ENDPOINT_UNKNOWN 2

/* A READONLY client (Redis' CLIENT_READONLY): a replica serves it reads of
 * its primary's slots. A high bit, clear of the flags other modules add. */
#define CLIENT_READONLY (1ULL << 40)
/* ASKING was sent: the next command may use a slot this node imports. */
#define CLIENT_ASKING (1ULL << 41)
/* The command running now was sent under ASKING (its scripts' calls see it). */
#define CLIENT_ASKING_NOW (1ULL << 42)

typedef struct clusterNode {
    char id[CLUSTER_NAMELEN + 1];
    char shardId[CLUSTER_NAMELEN + 1]; /* the shard's primary id: the same on every node */
    char *ip;       /* memAlloc'd, never NULL ("" only for an unannounced myself) */
    char *hostname; /* memAlloc'd, never NULL; "" when none */
    int port, tlsPort;
    int isPrimary;
    int primary;    /* index of its primary in nodes[], -1 for a primary */
} clusterNode;

typedef struct clusterMap {
    unsigned long long epoch;
    int nnodes;
    clusterNode *nodes;          /* memAlloc'd array */
    int myself;                  /* index of this node */
    int16_t owner[CLUSTER_SLOTS]; /* index of the serving primary, -1 unassigned */
} clusterMap;

/* cluster.c */
unsigned int clusterKeySlot(const char *key, size_t len); /* CRC16 of the key or its {hash tag}, mod 16384 */
int clusterInit(char *err, size_t errlen);  /* load cluster-config-file or create it (new node id) */
const clusterMap *clusterGetMap(void);
int clusterStateOk(void);
/* Apply a topology (argv = "<epoch> NODE ..." as CLUSTER SETTOPOLOGY takes
 * it, argc >= 1): validated, persisted, then swapped in; -1 + err and
 * nothing changed on any failure. */
int clusterSetTopology(const slice *argv, int argc, char *err, size_t errlen);
int clusterReset(int hard, char *err, size_t errlen);
/* CLUSTER SETSLOT <slot> action [id]: action "migrating", "importing",
 * "node" or "stable"; -1 + err and nothing changed on failure. */
int clusterSetSlot(int slot, const char *action, slice id, char *err, size_t errlen);
int clusterSlotMigratingTo(int slot);   /* node index, -1 none */
int clusterSlotImportingFrom(int slot); /* node index, -1 none */
/* Fetches the slot head of the command's likely key (argv[1]) ahead of
 * the lookup; cmdProcess calls it first thing in cluster mode. */
void clusterPrefetch(client *c);
/* The dispatch's check (Redis' getNodeByQuery): 0 when cmd runs here, else
 * -1 with the redirection or error (with its '-' code) in err. */
int clusterCheckCommand(client *c, cmdDef *cmd, char *err, size_t errlen);
/* A script's own call (Redis' scriptVerifyClusterState): 0 when it may run,
 * else -1 with the error text in err. *scriptSlot is the slot the script's
 * keys use so far (-1 none), updated; allowCrossSlot skips that check. */
int clusterCheckScriptCall(client *caller, cmdDef *cmd, const slice *argv, int argc, int *scriptSlot,
                           int allowCrossSlot, char *err, size_t errlen);
int clusterCallerSlot(client *caller); /* the slot of the keys EVAL/FCALL declared, -1 none */
/* Endpoint shown for a node (cluster-preferred-endpoint-type): ip,
 * hostname or "?" . */
const char *clusterNodeEndpoint(const clusterNode *n);
void clusterInfoText(textBuf *b); /* CLUSTER INFO's body */
/* Clients blocked on keys of a slot this node no longer serves (after a
 * new map, SETSLOT NODE, RESET) get MOVED / CLUSTERDOWN and are unblocked,
 * as Redis 7.0's clusterRedirectBlockedClientIfNeeded. */
void clusterRedirectBlockedClients(void);
/* cluster-require-full-coverage's apply hook: the state may have changed. */
int clusterCoverageApply(char *err, size_t errlen);
/* Config checks (config.c's checkStr): what the map's syntax accepts. */
int clusterCheckAnnounceIp(const char *v, char *err, size_t errlen);
int clusterCheckAnnounceHostname(const char *v, char *err, size_t errlen);

/* cluster_cmd.c */
extern cmdDef clusterCommands[]; /* CLUSTER, READONLY, READWRITE, ASKING */
extern cmdProc *const clusterAskingProc; /* ASKING itself does not use up the flag */
void clusterInfoSection(textBuf *b); /* INFO cluster */

#endif
