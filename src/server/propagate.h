/* propagate.h - what our own commands send down the replication stream, and
 * the small API command implementations use to shape it (Redis 7.0's
 * alsoPropagate / rewriteClientCommandVector / preventCommandPropagation).
 *
 * cmdCall brackets every call with propCallEnter/propCallExit. A call that
 * changed srv.dirty propagates its own argv, unless it replaced it
 * (propReplace), prevented it (propPreventSelf), or ran nested calls (EXEC,
 * EVAL, FCALL: their inner calls propagate themselves). When the outermost
 * call ends, what the execution unit produced goes out at once, wrapped in
 * MULTI ... EXEC when it is more than one command. Deletions by expiry and
 * eviction (propDeletion) join the unit they happen in, or go out alone
 * outside of any command. Nothing is recorded while propActive() is 0 (no
 * backlog: no replica ever attached), on a replica, or for calls made by the
 * client applying our primary's stream. */
#ifndef CACHET_PROPAGATE_H
#define CACHET_PROPAGATE_H
#include "server.h"
#include "client.h"
#include "cmd.h"
#include "db.h"

typedef struct propFrame {
    struct propFrame *parent;
    int preventSelf;    /* the command replaced or suppressed its own form */
    int nested;         /* nested calls ran (EXEC, EVAL): they propagated */
    int fromMaster;     /* this call or an enclosing one applies our primary's stream */
} propFrame;

/* 1 when writes are being recorded: build rewritten forms only then. */
int propActive(void);
void propCallEnter(client *c, propFrame *f);
void propCallExit(client *c, cmdDef *cmd, propFrame *f, long long dirtyBefore);
/* The running command propagates as argv instead of its own (in c's db). */
void propReplace(client *c, const slice *argv, int argc);
/* One more command to propagate with the running one (dbid as given). */
void propAlso(int dbid, const slice *argv, int argc);
/* The running command propagates nothing of its own. */
void propPreventSelf(void);
/* A key removed by expiry or eviction: DEL, or UNLINK when lazy. */
void propDeletion(cdb *db, const char *key, size_t len, int lazy);
/* Helpers for rewrites: a slice over a C string, and the decimal form of a
 * number written into buf (LONG_STR_SIZE bytes). */
slice propStr(const char *s);
slice propLL(char *buf, long long v);
#endif
