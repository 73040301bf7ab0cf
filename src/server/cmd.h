/* cmd.h - the command table entry (flags, ACL categories, key positions)
 * and the dispatch (cmd.c): lookup, call, key iteration, rejection. */
#ifndef CACHET_CMD_H
#define CACHET_CMD_H

#include <stdint.h>
#include "client.h"
#include "util.h"

typedef void cmdProc(client *c);

#define CMD_WRITE (1ULL << 0)
#define CMD_READONLY (1ULL << 1)
#define CMD_DENYOOM (1ULL << 2)
#define CMD_ADMIN (1ULL << 4)
#define CMD_PUBSUB (1ULL << 5)
#define CMD_NOSCRIPT (1ULL << 6)
#define CMD_BLOCKING (1ULL << 8)
#define CMD_LOADING (1ULL << 9)
#define CMD_STALE (1ULL << 10)
#define CMD_SKIP_MONITOR (1ULL << 11)
#define CMD_SKIP_SLOWLOG (1ULL << 12)
#define CMD_ASKING (1ULL << 13)
#define CMD_FAST (1ULL << 14)
#define CMD_NO_AUTH (1ULL << 15)
#define CMD_MAY_REPLICATE (1ULL << 16)
#define CMD_SENTINEL (1ULL << 17)
#define CMD_ONLY_SENTINEL (1ULL << 18)
#define CMD_NO_MANDATORY_KEYS (1ULL << 19)
#define CMD_PROTECTED (1ULL << 20)
#define CMD_MODULE_GETKEYS (1ULL << 21)
#define CMD_MODULE_NO_CLUSTER (1ULL << 22)
#define CMD_NO_ASYNC_LOADING (1ULL << 23)
#define CMD_NO_MULTI (1ULL << 24)
#define CMD_MOVABLE_KEYS (1ULL << 25)
#define CMD_ALLOW_BUSY (1ULL << 26)

/* ACL categories (bit positions match the order in cmd.c's name table). */
#define ACL_KEYSPACE (1ULL << 0)
#define ACL_READ (1ULL << 1)
#define ACL_WRITE (1ULL << 2)
#define ACL_SET (1ULL << 3)
#define ACL_SORTEDSET (1ULL << 4)
#define ACL_LIST (1ULL << 5)
#define ACL_HASH (1ULL << 6)
#define ACL_STRING (1ULL << 7)
#define ACL_BITMAP (1ULL << 8)
#define ACL_HYPERLOGLOG (1ULL << 9)
#define ACL_GEO (1ULL << 10)
#define ACL_STREAM (1ULL << 11)
#define ACL_PUBSUB (1ULL << 12)
#define ACL_ADMIN (1ULL << 13)
#define ACL_FAST (1ULL << 14)
#define ACL_SLOW (1ULL << 15)
#define ACL_BLOCKING (1ULL << 16)
#define ACL_DANGEROUS (1ULL << 17)
#define ACL_CONNECTION (1ULL << 18)
#define ACL_TRANSACTION (1ULL << 19)
#define ACL_SCRIPTING (1ULL << 20)

struct cmdKeyIter;
typedef struct cmdDef {
    const char *name;     /* lower case; subcommands: "get" (fullname built at init) */
    cmdProc *proc;
    int arity;            /* N: exactly N args incl. name; -N: at least N */
    uint64_t flags;
    uint64_t acl;         /* ACL_* categories beyond those derived from flags */
    int firstKey, lastKey, keyStep; /* 0,0,0 when no keys; lastKey -1: to the end */
    int numkeysIdx;       /* CMD_MOVABLE_KEYS: argv[numkeysIdx] counts the keys after it */
    int streamsKeys;      /* CMD_MOVABLE_KEYS: keys are the first half of what follows STREAMS, searched from this index */
    /* CMD_MOVABLE_KEYS whose keys no field above describes (MIGRATE's KEYS
     * form, Redis' getkeys_proc): sets the iterator's ranges, after the rest. */
    void (*getKeys)(struct cmdKeyIter *it, const slice *argv, int argc);
    const char *group;    /* COMMAND DOCS group: string, generic, server, ... */
    const char *since;
    const char *summary;
    const char *complexity;
    struct cmdDef *subcmds; /* NULL-name-terminated array, or NULL */
    /* Filled at start-up / by execution: */
    char fullname[64];    /* "get", "config|get" */
    struct cmdDef *parent;
    int id;               /* dense index over commands and subcommands (ACL bitmaps) */
    long long calls, usec, rejectedCalls, failedCalls;
} cmdDef;

/* cmd.c */
void cmdInitTable(void);
cmdDef *cmdLookup(const char *name, size_t len);
cmdDef *cmdLookupArgv(slice *argv, int argc);  /* resolves subcommands */
int cmdProcess(client *c);    /* dispatch c->argv; 0 if the client was freed, 2 if the request waits (CLIENT PAUSE), 1 otherwise */
void cmdCall(client *c, cmdDef *cmd);
int cmdIsKeyCommand(cmdDef *cmd);
void cmdResetStats(void);
/* Calls fn for every top-level command (subcommands via cmd->subcmds). */
void cmdForEach(void (*fn)(cmdDef *cmd, void *priv), void *priv);
/* The key positions of a call, one at a time and without a buffer, so no
 * caller can stop short of the last key (a command may name any number).
 * cmdKeysNext returns the next key's argv index, or -1 after the last. */
typedef struct cmdKeyIter {
    int pos, last, step; /* the first/last/step range */
    int mpos, mlast;     /* the keys after a numkeys count (movable keys) */
    int badCount;        /* the numkeys count is not a valid count (COMMAND GETKEYS refuses the call) */
} cmdKeyIter;
void cmdKeysInit(cmdKeyIter *it, const cmdDef *cmd, const slice *argv, int argc);
int cmdKeysNext(cmdKeyIter *it);
int cmdTotalIds(void);        /* ids handed out: every command and subcommand */
/* Answers err for a command that failed a check (counts it, logs it,
 * EXECABORT inside MULTI). err as in replyError. */
void cmdReject(client *c, cmdDef *cmd, const char *err);
extern const char *aclCategoryNames[]; /* index i is category bit 1<<i; NULL-terminated */

#endif
