/* node.h - one cache node as a process: its generated configuration, its
 * launch (a session of its own so it outlives cachetd), the check that a
 * pid still is the node it claims to be, its stop, and a small blocking
 * RESP client (plaintext or TLS) for the admin user.
 *
 * Must never be called from an HTTP handler thread: the client blocks (with
 * timeouts) and stop waits for the process; the reconciler (reconcile.c) on the
 * main thread is the only caller. Never signals a pid it has not checked. */
#ifndef CACHETD_NODE_H
#define CACHETD_NODE_H
#include <stddef.h>
#include <sys/types.h>

#define CD_ADMIN_USER "cachetd-admin"

typedef struct cdNodeConf {
    const char *dir;       /* the node's directory (config, pid, log, data) */
    int port;
    const char *primaryHost; /* NULL: a primary */
    int primaryPort;
    int replTls;           /* a replica's link to its primary is TLS (tls-replication yes) */
    const char *clusterId; /* NULL: cluster mode off; else the node's 40-hex cluster id */
    const char *adminPass;
    const char *tlsMode;   /* "none", "preferred", "required" */
    const char *cert, *key, *ca; /* used when tlsMode is not "none" */
} cdNodeConf;

/* Writes DIR/node.conf; in cluster mode also DIR/cluster.conf with the
 * node's id and an empty map (epoch 0) when it does not exist yet, so the
 * id is the one cachetd chose and the map is pushed afterwards. */
int cdNodeWriteConfig(const cdNodeConf *c, char *err, size_t errlen);
/* Starts bin DIR/node.conf with output to DIR/node.log; the pid or -1. */
pid_t cdNodeLaunch(const char *bin, const char *dir, char *err, size_t errlen);
/* 1 if pid runs bin with DIR/node.conf (and is not a zombie). */
int cdNodeIsOurs(pid_t pid, const char *dir);
/* The pid the node wrote to DIR/node.pid, or 0. */
pid_t cdNodePidFile(const char *dir);
/* SIGTERM, then SIGKILL after timeoutMs; reaps it when it is our child. */
void cdNodeStop(pid_t pid, const char *dir, long timeoutMs);
/* A free TCP port on 127.0.0.1 (bound then released), or -1. */
int cdFreePort(void);
/* 1 if 127.0.0.1:port can be bound now (bound then released). Neither
 * port helper blocks: both may run on an HTTP thread. */
int cdPortFree(int port);
/* Runs one command as the admin user on 127.0.0.1:port; 0 with the reply
 * (status, bulk or integer as text) in reply, -1 with the error there. */
int cdNodeCommand(int port, int tls, const char *caFile, const char *pass, int argc, const char **argv,
                  char *reply, size_t replylen);
#endif
