/* propagate.c - the execution unit's list of commands to propagate (see
 * propagate.h for the rules), handed to repl_primary.c (replPropagate) when
 * the outermost call ends.
 *
 * Owns: the pending list (argv copies) and the stack of call frames.
 * Invariants: the list is empty whenever no call is running (depth 0);
 * frames nest exactly like cmdCall. Must never reply to a client or change
 * the keyspace. */
#include "propagate.h"
#include "repl.h"
#include "dassert.h"
#include <string.h>

typedef struct propOp {
    int dbid;
    int argc;
    slice *argv; /* argv[i].p point into blob */
    char *blob;
} propOp;

static propOp *ops;
static int nops, capops;
static propFrame *top; /* innermost running call, NULL at depth 0 */

int propActive(void) { return !replIsReplica() && replBacklogExists(); }

static int recording(void) {
    if (!propActive()) return 0;
    if (top && top->fromMaster) return 0;
    return 1;
}

static void opFree(propOp *op) {
    memFree(op->argv);
    memFree(op->blob);
}

static void emitOp(int dbid, const slice *argv, int argc) { replPropagate(dbid, argv, argc); }

static void addOp(int dbid, const slice *argv, int argc) {
    if (!top) { /* outside of any command (active expiry, eviction before a call) */
        emitOp(dbid, argv, argc);
        return;
    }
    if (nops == capops) {
        capops = capops ? capops * 2 : 8;
        ops = memRealloc(ops, sizeof(*ops) * (size_t)capops);
    }
    size_t total = 0;
    for (int i = 0; i < argc; i++) total += argv[i].len;
    propOp *op = &ops[nops++];
    op->dbid = dbid;
    op->argc = argc;
    op->argv = memAlloc(sizeof(slice) * (size_t)(argc ? argc : 1));
    op->blob = memAlloc(total ? total : 1);
    size_t off = 0;
    for (int i = 0; i < argc; i++) {
        if (argv[i].len) memcpy(op->blob + off, argv[i].p, argv[i].len);
        op->argv[i].p = op->blob + off;
        op->argv[i].len = argv[i].len;
        off += argv[i].len;
    }
}

/* Redis 7.0's propagatePendingCommands: MULTI takes the first command's db
 * (so a SELECT comes before it), EXEC the last one's (so none comes between). */
static void flush(void) {
    if (nops == 0) return;
    static const slice multi = {"MULTI", 5}, exec = {"EXEC", 4};
    int wrap = nops > 1;
    if (wrap) emitOp(ops[0].dbid, &multi, 1);
    for (int i = 0; i < nops; i++) emitOp(ops[i].dbid, ops[i].argv, ops[i].argc);
    if (wrap) emitOp(ops[nops - 1].dbid, &exec, 1);
    for (int i = 0; i < nops; i++) opFree(&ops[i]);
    nops = 0;
}

void propCallEnter(client *c, propFrame *f) {
    f->parent = top;
    f->preventSelf = 0;
    f->nested = 0;
    f->fromMaster = (c->flags & CLIENT_MASTER) || (top && top->fromMaster);
    if (top) top->nested = 1;
    top = f;
}

void propCallExit(client *c, cmdDef *cmd, propFrame *f, long long dirtyBefore) {
    CACHET_ASSERT(top == f);
    int self = srv.dirty != dirtyBefore && !f->preventSelf && !f->nested && !f->fromMaster &&
               (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE));
    /* PUBLISH changes nothing here but is delivered on replicas too (Redis'
     * forceCommandPropagation). */
    if (!f->fromMaster && !cmd->parent && !strcmp(cmd->name, "publish")) self = 1;
    if (self && recording()) addOp(c->db->id, c->argv, c->argc);
    top = f->parent;
    if (!top && nops) {
        flush();
        c->woff = replOffset(); /* WAIT counts acks up to here */
    }
}

void propReplace(client *c, const slice *argv, int argc) {
    if (top) top->preventSelf = 1;
    if (recording()) addOp(c->db->id, argv, argc);
}

void propAlso(int dbid, const slice *argv, int argc) {
    if (recording()) addOp(dbid, argv, argc);
}

void propPreventSelf(void) {
    if (top) top->preventSelf = 1;
}

void propDeletion(cdb *db, const char *key, size_t len, int lazy) {
    if (!recording()) return;
    slice argv[2] = {lazy ? propStr("UNLINK") : propStr("DEL"), {key, len}};
    addOp(db->id, argv, 2);
}

slice propStr(const char *s) {
    slice r = {s, strlen(s)};
    return r;
}

slice propLL(char *buf, long long v) {
    slice r = {buf, (size_t)ll2string(buf, LONG_STR_SIZE, v)};
    return r;
}
