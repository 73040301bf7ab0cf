/* client.h - a connected client (client.c): its flags, input and output
 * buffers, transaction and subscription state, and what other modules may
 * do with it (create, free, schedule writes, describe). */
#ifndef CACHET_CLIENT_H
#define CACHET_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "conn.h"
#include "db.h"
#include "dict.h"
#include "resp.h"
#include "util.h"

#define PROTO_IOBUF_LEN (16 * 1024)
#define PROTO_REPLY_CHUNK (16 * 1024)
#define CLIENT_BUF_LEN (16 * 1024)

#define CLIENT_CLOSE_AFTER_REPLY (1 << 0)
#define CLIENT_CLOSE_ASAP (1 << 1)
#define CLIENT_MULTI (1 << 2)
#define CLIENT_DIRTY_CAS (1 << 3)  /* a watched key changed */
#define CLIENT_DIRTY_EXEC (1 << 4) /* a queued command was rejected */
#define CLIENT_PUBSUB (1 << 5)
#define CLIENT_PENDING_WRITE (1 << 6)
#define CLIENT_REPLY_OFF (1 << 7)
#define CLIENT_REPLY_SKIP_NEXT (1 << 8)
#define CLIENT_REPLY_SKIP (1 << 9)
#define CLIENT_NO_EVICT (1 << 10)
#define CLIENT_AUTHENTICATED (1 << 11)
#define CLIENT_EXECUTING (1 << 12)
#define CLIENT_BLOCKED (1 << 13)
#define CLIENT_PROTOCOL_ERROR (1 << 14)
#define CLIENT_NO_TOUCH (1 << 15)
#define CLIENT_REEXEC (1 << 16) /* block.c re-runs a blocked command: counted once (cmdCall) */
#define CLIENT_CERT_SEEN (1 << 17) /* the TLS client certificate was looked at for a user name */
#define CLIENT_SCRIPT (1 << 18) /* script_lua.c's client: no connection, replies parsed back into Lua */
#define CLIENT_SCRIPT_CALLER (1 << 19) /* its EVAL runs past busy-reply-threshold: its socket is not read meanwhile */
/* A pub/sub push (message or (un)subscribe confirmation) is being written:
 * it goes out even under CLIENT REPLY OFF/SKIP, as Redis 7.0's CLIENT_PUSHING. */
#define CLIENT_PUSHING (1 << 24)
#define CLIENT_REPLICA (1 << 25) /* a replica attached to us (repl_primary.c): CLIENT LIST flags=S */
#define CLIENT_MASTER (1 << 26)  /* the link to our primary, applying its stream (repl_replica.c): flags=M */
#define CLIENT_PAUSED (1 << 27)  /* its next request waits for a CLIENT PAUSE to end (pause.c) */
/* The master client's replies are dropped except while this is set: REPLCONF
 * ACK (repl_replica.c), as Redis' CLIENT_MASTER_FORCE_REPLY. */
#define CLIENT_MASTER_FORCE_REPLY (1ULL << 30)
#define CLIENT_WAIT_ACK (1 << 28) /* blocked in WAIT (repl_primary.c), with CLIENT_BLOCKED */

typedef struct replyBlock {
    struct replyBlock *next;
    size_t size;
    size_t used;
    char buf[];
} replyBlock;

typedef struct multiCmd {
    struct cmdDef *cmd;
    int argc;
    slice *argv; /* argv[i].p point into blob */
    char *blob;
    int mayReplicate; /* a write, or may replicate (pause.c's rule), as judged when queued */
    int denyOom;      /* CMD_DENYOOM, or a script that declared flags without allow-oom/no-writes, when queued */
} multiCmd;

typedef struct client {
    long long id;
    conn *conn;
    int resp;               /* 2 or 3 */
    cdb *db;
    char *name;             /* CLIENT SETNAME; memAlloc'd or NULL */
    char *libName, *libVer; /* CLIENT SETINFO */
    struct aclUser *user;   /* never NULL: the default user until AUTH (acl.c owns it) */
    char addr[64], laddr[64];
    uint64_t flags;
    long long ctime;        /* unix ms at creation */
    long long lastInteraction; /* unix ms */

    /* Input. querybuf[qpos..qlen) is unparsed; req resumes a partial parse. */
    char *querybuf;
    size_t qlen, qcap, qpos;
    size_t qpeak;
    respReq req;
    respArg *reqArgv;
    long reqArgvCap;

    /* The command being executed. */
    int argc;
    slice *argv;
    int argvCap;
    struct cmdDef *cmd, *lastcmd;

    /* Output: buf first, then the block list; sentlen counts bytes of the
     * head (buf or first block) already written. */
    char buf[CLIENT_BUF_LEN];
    size_t bufpos;
    size_t sentlen;
    replyBlock *reply, *replyTail;
    size_t replyBytes;      /* bytes held in the block list */
    long long obufSoftSince; /* unix ms the soft limit was first exceeded, 0 if not */
    struct client *pendingNext, *pendingPrev; /* server.pendingWrites */

    /* MULTI/EXEC */
    multiCmd *mstate;
    int mcount, mcap;
    struct watchList *watched;

    /* Pub/Sub */
    dict pubsubChannels;    /* subNode */
    dict pubsubPatterns;    /* subNode */
    dict pubsubShardChannels; /* subNode (SSUBSCRIBE) */

    struct client *prev, *next; /* server.clients */
    long long netInBytes, netOutBytes;
    long long commandsProcessed;
    struct blockState *bstate; /* block.c: set while blocked on keys */
    struct replLink *repl;     /* repl_primary.c: set while c is a replica of ours */
    long long woff;            /* propagate.c: replOffset() after this client's last propagated write (WAIT) */
} client;

/* client.c */
client *clientCreate(conn *conn);
void clientFree(client *c);
void clientFreeAsync(client *c);
void clientInstallWriteIfNeeded(client *c);
int clientHandlePendingWrites(void);
void clientFreeScheduled(void);
void clientAccept(conn *cn, const char *ip); /* listen.c: a new connection, owned from now on */
void clientsCron(void);
void clientSetName(client *c, const char *name, size_t len);
char *clientInfoString(client *c);     /* memAlloc'd line as CLIENT LIST prints it */
client *clientById(long long id);
int clientHasPendingReplies(client *c);
const char *clientObufClassName(int cls);
int clientObufClass(client *c);
void clientResetState(client *c);      /* RESET command */
/* Runs the requests queued in c's query buffer (a client just unblocked). */
void clientProcessPendingInput(client *c);

#endif
