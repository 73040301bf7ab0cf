/* t_list.c - the list type: LPUSH/RPUSH and their X forms, LPOP/RPOP (with
 * count), LLEN, LRANGE, LINDEX, LSET, LREM, LTRIM, LINSERT, LPOS, LMOVE,
 * RPOPLPUSH, LMPOP and the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
 *
 * Owns: list values (a quicklist behind e->v.ptr, ENC_QUICKLIST, as every
 * Redis 7.0 list) and the command procs. Replies and error texts are Redis
 * 7.0's byte for byte, including the order in which arguments and keys are
 * checked.
 * Must never: change anything before every argument and type has been
 * validated, leave an empty list key behind, or reply from a blocking
 * command that went to blockForKeys (block.c re-executes it when a key is
 * created, and it replies then). */
#include "lpack.h"
#include "quicklist.h"
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "args.h"
#include "propagate.h"
#include <limits.h>
#include <string.h>

/* ---- values ----------------------------------------------------------------- */

void listFreeValue(dbEntry *e) { qlFree(e->v.ptr); }
void *listDupValue(const dbEntry *e) { return qlDup(e->v.ptr); }
size_t listValueMemory(const dbEntry *e) { return e->v.ptr ? qlMemory(e->v.ptr) : 0; }

static quicklist *listValue(dbEntry *e) { return e->v.ptr; }

/* A new, empty list under key (which must be absent). */
static dbEntry *listCreate(client *c, slice key) {
    dbEntry *e = objNewCollectionEntry(key.p, key.len, OBJ_LIST, ENC_QUICKLIST, qlNew(srv.listMaxListpackSize));
    dbInsert(c->db, e);
    return e;
}

/* After removing n elements from key: deletes the key when empty, WATCH,
 * dirty. e is invalid afterwards. */
static void listRemoved(client *c, slice key, dbEntry *e, long n) {
    if (qlCount(listValue(e)) == 0) dbDelete(c->db, key.p, key.len);
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty += n;
}

static void listReplyEntry(client *c, const qlEntry *en) {
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *v = qlEntryValue(en, buf, &len);
    replyBulk(c, v, len);
}

/* Replies the element at the head or tail as a bulk and removes it. */
static void listPopReply(client *c, quicklist *ql, int where) {
    qlEntry en;
    long idx = where == QL_HEAD ? 0 : -1;
    qlIndex(ql, idx, &en);
    listReplyEntry(c, &en);
    qlDelRange(ql, idx, 1);
}

/* Replies an array of up to count elements popped from where. */
static long listPopRangeReply(client *c, quicklist *ql, int where, long count) {
    long n = (unsigned long)count > qlCount(ql) ? (long)qlCount(ql) : count;
    replyArrayLen(c, n);
    for (long i = 0; i < n; i++) listPopReply(c, ql, where);
    return n;
}

/* "left"/"right" (any case) as LMOVE, LMPOP take them; syntax error else. */
static int listParseWhere(client *c, slice s, int *where) {
    if (sliceEqNocase(s, "left")) *where = QL_HEAD;
    else if (sliceEqNocase(s, "right")) *where = QL_TAIL;
    else {
        replyErrorSyntax(c);
        return -1;
    }
    return 0;
}

/* Redis' getRangeLongFromObjectOrReply with a message for both failures. */
static int listGetRangeLong(client *c, slice s, long min, long max, long *v, const char *msg) {
    long long ll;
    if (!string2ll(s.p, s.len, &ll) || ll < min || ll > max) {
        replyError(c, msg);
        return -1;
    }
    *v = (long)ll;
    return 0;
}

/* ---- push / pop ------------------------------------------------------------- */

static void listPushGeneric(client *c, int where, int onlyExisting) {
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (objCheckType(c, e, OBJ_LIST)) return;
    if (!e) {
        if (onlyExisting) {
            replyLongLong(c, 0);
            return;
        }
        e = listCreate(c, key);
    }
    quicklist *ql = listValue(e);
    for (int j = 2; j < c->argc; j++) qlPush(ql, where, c->argv[j].p, c->argv[j].len);
    replyLongLong(c, (long long)qlCount(ql));
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty += c->argc - 2;
}

static void lpushCommand(client *c) { listPushGeneric(c, QL_HEAD, 0); }
static void rpushCommand(client *c) { listPushGeneric(c, QL_TAIL, 0); }
static void lpushxCommand(client *c) { listPushGeneric(c, QL_HEAD, 1); }
static void rpushxCommand(client *c) { listPushGeneric(c, QL_TAIL, 1); }

static void listPopGeneric(client *c, int where) {
    int hascount = c->argc == 3;
    long count = 0;
    if (c->argc > 3) {
        replyErrorArity(c);
        return;
    }
    /* Redis answers "must be positive" for a non-integer count too. */
    if (hascount &&
        listGetRangeLong(c, c->argv[2], 0, LONG_MAX, &count, "value is out of range, must be positive") == -1)
        return;
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        if (hascount) replyNullArray(c);
        else replyNull(c);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    if (hascount && count == 0) {
        replyArrayLen(c, 0);
        return;
    }
    quicklist *ql = listValue(e);
    long n = 1;
    if (hascount) n = listPopRangeReply(c, ql, where, count);
    else listPopReply(c, ql, where);
    listRemoved(c, key, e, n);
}

static void lpopCommand(client *c) { listPopGeneric(c, QL_HEAD); }
static void rpopCommand(client *c) { listPopGeneric(c, QL_TAIL); }

/* ---- reading ------------------------------------------------------------------ */

static void llenCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_LIST)) return;
    replyLongLong(c, e ? (long long)qlCount(listValue(e)) : 0);
}

static void lrangeCommand(client *c) {
    long start, end;
    if (getLongFromSliceOrReply(c, c->argv[2], &start, NULL) == -1) return;
    if (getLongFromSliceOrReply(c, c->argv[3], &end, NULL) == -1) return;
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyArrayLen(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    quicklist *ql = listValue(e);
    long llen = (long)qlCount(ql);
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        replyArrayLen(c, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long n = end - start + 1;
    replyArrayLen(c, n);
    qlIter it;
    qlEntry en;
    qlIterInit(&it, ql, start, QL_TAIL);
    while (n-- && qlNext(&it, &en)) listReplyEntry(c, &en);
}

static void lindexCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyNull(c);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    long index;
    if (getLongFromSliceOrReply(c, c->argv[2], &index, NULL) == -1) return;
    qlEntry en;
    if (qlIndex(listValue(e), index, &en)) listReplyEntry(c, &en);
    else replyNull(c);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
static void lposCommand(client *c) {
    long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        slice o = c->argv[j];
        if (sliceEqNocase(o, "rank") && moreargs) {
            j++;
            if (getLongFromSliceOrReply(c, c->argv[j], &rank, NULL) == -1) return;
            if (rank == 0) {
                replyError(c, "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
                              "use negative to start from the end of the list");
                return;
            }
        } else if (sliceEqNocase(o, "count") && moreargs) {
            j++;
            if (getPositiveLongFromSliceOrReply(c, c->argv[j], &count, "COUNT can't be negative") == -1) return;
        } else if (sliceEqNocase(o, "maxlen") && moreargs) {
            j++;
            if (getPositiveLongFromSliceOrReply(c, c->argv[j], &maxlen, "MAXLEN can't be negative") == -1) return;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    int dir = QL_TAIL;
    if (rank < 0) {
        /* Redis negates LONG_MIN into itself, which matches from the first
         * hit on: the same as rank 1 from the tail. */
        rank = rank == LONG_MIN ? 1 : -rank;
        dir = QL_HEAD;
    }
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        if (count != -1) replyArrayLen(c, 0);
        else replyNull(c);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    quicklist *ql = listValue(e);
    slice ele = c->argv[2];
    void *lenNode = count != -1 ? replyDeferredLen(c) : NULL;
    long llen = (long)qlCount(ql), index = 0, matches = 0, matchindex = -1, arraylen = 0;
    qlIter it;
    qlEntry en;
    qlIterInit(&it, ql, dir == QL_HEAD ? -1 : 0, dir);
    while ((maxlen == 0 || index < maxlen) && qlNext(&it, &en)) {
        if (qlEntryEq(&en, ele.p, ele.len)) {
            matches++;
            matchindex = dir == QL_TAIL ? index : llen - index - 1;
            if (matches >= rank) {
                if (lenNode) {
                    arraylen++;
                    replyLongLong(c, matchindex);
                    if (count && matches - rank + 1 >= count) break;
                } else {
                    break;
                }
            }
        }
        index++;
        matchindex = -1; /* remembers that the loop ended without a match */
    }
    if (lenNode) replySetDeferredArrayLen(c, lenNode, arraylen);
    else if (matchindex != -1) replyLongLong(c, matchindex);
    else replyNull(c);
}

/* ---- editing ------------------------------------------------------------------ */

static void lsetCommand(client *c) {
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyError(c, "no such key");
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    long index;
    if (getLongFromSliceOrReply(c, c->argv[2], &index, NULL) == -1) return;
    quicklist *ql = listValue(e);
    qlEntry en;
    if (!qlIndex(ql, index, &en)) {
        replyError(c, "index out of range");
        return;
    }
    qlReplaceAt(ql, index, c->argv[3].p, c->argv[3].len);
    replyOk(c);
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty++;
}

static void lremCommand(client *c) {
    long toremove;
    if (getLongFromSliceOrReply(c, c->argv[2], &toremove, NULL) == -1) return;
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    quicklist *ql = listValue(e);
    slice ele = c->argv[3];
    unsigned long limit = toremove < 0 ? (unsigned long)(-(toremove + 1)) + 1 : (unsigned long)toremove;
    long removed = 0;
    qlIter it;
    qlEntry en;
    qlIterInit(&it, ql, toremove < 0 ? -1 : 0, toremove < 0 ? QL_HEAD : QL_TAIL);
    while (qlNext(&it, &en)) {
        if (!qlEntryEq(&en, ele.p, ele.len)) continue;
        qlIterDelete(&it, &en);
        removed++;
        if (limit && (unsigned long)removed == limit) break;
    }
    if (removed) {
        qlCompact(ql);
        listRemoved(c, key, e, removed);
    }
    replyLongLong(c, removed);
}

static void ltrimCommand(client *c) {
    long start, end;
    if (getLongFromSliceOrReply(c, c->argv[2], &start, NULL) == -1) return;
    if (getLongFromSliceOrReply(c, c->argv[3], &end, NULL) == -1) return;
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyOk(c);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    quicklist *ql = listValue(e);
    long llen = (long)qlCount(ql), ltrim, rtrim;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen; /* out of range: the list empties */
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    qlDelRange(ql, 0, (unsigned long)ltrim);
    qlDelRange(ql, -rtrim, (unsigned long)rtrim);
    /* Redis signals the key (WATCH) even when nothing was trimmed. */
    listRemoved(c, key, e, ltrim + rtrim);
    replyOk(c);
}

static void linsertCommand(client *c) {
    int where;
    if (sliceEqNocase(c->argv[2], "after")) where = QL_TAIL;
    else if (sliceEqNocase(c->argv[2], "before")) where = QL_HEAD;
    else {
        replyErrorSyntax(c);
        return;
    }
    slice key = c->argv[1];
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_LIST)) return;
    quicklist *ql = listValue(e);
    slice pivot = c->argv[3], ele = c->argv[4];
    qlIter it;
    qlEntry en;
    qlIterInit(&it, ql, 0, QL_TAIL);
    while (qlNext(&it, &en)) {
        if (qlEntryEq(&en, pivot.p, pivot.len)) {
            qlInsert(ql, &en, where, ele.p, ele.len);
            replyLongLong(c, (long long)qlCount(ql));
            dbTouchKey(c->db, key.p, key.len);
            srv.dirty++;
            return;
        }
    }
    replyLongLong(c, -1);
}

/* ---- moving between lists --------------------------------------------------- */

/* LMOVE's work once src is known to exist: checks dst's type before taking
 * anything, moves one element, replies it. */
static void listMoveGeneric(client *c, slice src, slice dst, int from, int to) {
    dbEntry *se = dbLookupWrite(c->db, src);
    if (!se) {
        replyNull(c);
        return;
    }
    if (objCheckType(c, se, OBJ_LIST)) return;
    dbEntry *de = dbLookupWrite(c->db, dst);
    if (objCheckType(c, de, OBJ_LIST)) return;
    quicklist *sq = listValue(se);
    qlEntry en;
    long idx = from == QL_HEAD ? 0 : -1;
    qlIndex(sq, idx, &en);
    char buf[LP_INTBUF_SIZE];
    size_t len;
    const char *v = qlEntryValue(&en, buf, &len);
    char *copy = memDupBytes(v, len); /* v points into the node we delete from */
    qlDelRange(sq, idx, 1);
    if (!de) de = listCreate(c, dst); /* src != dst here: src is not empty */
    qlPush(listValue(de), to, copy, len);
    replyBulk(c, copy, len);
    memFree(copy);
    dbTouchKey(c->db, dst.p, dst.len);
    listRemoved(c, src, se, 1);
    if (c->cmd && (c->cmd->flags & CMD_BLOCKING)) {
        /* Served now or later, a blocking move runs on replicas as its
         * non-blocking form (Redis 7.0: BRPOPLPUSH -> RPOPLPUSH, BLMOVE -> LMOVE). */
        slice argv[5] = {propStr("LMOVE"), src, dst, propStr(from == QL_HEAD ? "LEFT" : "RIGHT"),
                         propStr(to == QL_HEAD ? "LEFT" : "RIGHT")};
        if (!strcmp(c->cmd->name, "brpoplpush")) {
            argv[0] = propStr("RPOPLPUSH");
            propReplace(c, argv, 3);
        } else {
            propReplace(c, argv, 5);
        }
    }
}

static void lmoveCommand(client *c) {
    int from, to;
    if (listParseWhere(c, c->argv[3], &from) == -1 || listParseWhere(c, c->argv[4], &to) == -1) return;
    listMoveGeneric(c, c->argv[1], c->argv[2], from, to);
}

static void rpoplpushCommand(client *c) { listMoveGeneric(c, c->argv[1], c->argv[2], QL_TAIL, QL_HEAD); }

/* ---- blocking ----------------------------------------------------------------- */

/* BLMOVE/BRPOPLPUSH after their arguments are parsed. */
static void listBlockingMove(client *c, int from, int to, long long deadline) {
    dbEntry *se = dbLookupWrite(c->db, c->argv[1]);
    if (objCheckType(c, se, OBJ_LIST)) return;
    if (se) {
        listMoveGeneric(c, c->argv[1], c->argv[2], from, to);
        return;
    }
    if (!blockAllowed(c)) {
        /* Inside MULTI Redis answers a null bulk at once (addReplyNull)... */
        replyNull(c);
        return;
    }
    /* ...but a real timeout gets a null array, for every list command. */
    blockForKeys(c, &c->argv[1], 1, deadline, 1);
}

static void blmoveCommand(client *c) {
    int from, to;
    long long deadline;
    if (listParseWhere(c, c->argv[3], &from) == -1 || listParseWhere(c, c->argv[4], &to) == -1) return;
    if (blockGetTimeout(c, c->argv[5], &deadline) == -1) return;
    listBlockingMove(c, from, to, deadline);
}

static void brpoplpushCommand(client *c) {
    long long deadline;
    if (blockGetTimeout(c, c->argv[3], &deadline) == -1) return;
    listBlockingMove(c, QL_TAIL, QL_HEAD, deadline);
}

/* Pops from the first non-empty list among keys. count -1: one element,
 * replied as [key, value] (BLPOP); else up to count, as [key, [values]]
 * (LMPOP). Returns 1 when served (or an error was replied), 0 when every
 * key was empty. */
static int listServeFirst(client *c, slice *keys, long nkeys, int where, long count) {
    for (long j = 0; j < nkeys; j++) {
        dbEntry *e = dbLookupWrite(c->db, keys[j]);
        if (!e) continue;
        if (objCheckType(c, e, OBJ_LIST)) return 1;
        quicklist *ql = listValue(e);
        replyArrayLen(c, 2);
        replySlice(c, keys[j]);
        long n = 1;
        if (count == -1) listPopReply(c, ql, where);
        else n = listPopRangeReply(c, ql, where, count);
        listRemoved(c, keys[j], e, n);
        /* Replicas pop from the key that was served (Redis 7.0: BLPOP ->
         * LPOP key, [B]LMPOP -> LPOP key count). */
        char num[LONG_STR_SIZE];
        slice argv[3] = {propStr(where == QL_HEAD ? "LPOP" : "RPOP"), keys[j], propLL(num, n)};
        propReplace(c, argv, count == -1 ? 2 : 3);
        return 1;
    }
    return 0;
}

static void listBlockingPop(client *c, int where) {
    long long deadline;
    if (blockGetTimeout(c, c->argv[c->argc - 1], &deadline) == -1) return;
    if (listServeFirst(c, &c->argv[1], c->argc - 2, where, -1)) return;
    if (!blockAllowed(c)) {
        replyNullArray(c);
        return;
    }
    blockForKeys(c, &c->argv[1], c->argc - 2, deadline, 1);
}

static void blpopCommand(client *c) { listBlockingPop(c, QL_HEAD); }
static void brpopCommand(client *c) { listBlockingPop(c, QL_TAIL); }

/* [B]LMPOP [timeout] numkeys key [key ...] LEFT|RIGHT [COUNT count]:
 * numkeys at argv[numkeysIdx]. As in Redis, the timeout is checked last,
 * so a bad numkeys or direction is the error a client sees first. */
static void listMpopGeneric(client *c, int numkeysIdx, int blocking) {
    long numkeys, count = -1;
    int where;
    if (listGetRangeLong(c, c->argv[numkeysIdx], 1, LONG_MAX, &numkeys, "numkeys should be greater than 0") == -1)
        return;
    if (numkeys >= c->argc - numkeysIdx - 1) { /* no room for the direction */
        replyErrorSyntax(c);
        return;
    }
    int whereIdx = numkeysIdx + (int)numkeys + 1;
    if (listParseWhere(c, c->argv[whereIdx], &where) == -1) return;
    for (int j = whereIdx + 1; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        if (count == -1 && sliceEqNocase(c->argv[j], "count") && moreargs) {
            j++;
            if (listGetRangeLong(c, c->argv[j], 1, LONG_MAX, &count, "count should be greater than 0") == -1)
                return;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (count == -1) count = 1;
    long long deadline = 0;
    if (blocking && blockGetTimeout(c, c->argv[1], &deadline) == -1) return;
    slice *keys = &c->argv[numkeysIdx + 1];
    if (listServeFirst(c, keys, numkeys, where, count)) return;
    if (!blocking || !blockAllowed(c)) {
        replyNullArray(c);
        return;
    }
    blockForKeys(c, keys, (int)numkeys, deadline, 1);
}

static void lmpopCommand(client *c) { listMpopGeneric(c, 1, 0); }
static void blmpopCommand(client *c) { listMpopGeneric(c, 2, 1); }

/* ---- command table (COMMAND INFO of redis-server 7.0) ------------------------ */

#define LIST_PUSH_COMPLEXITY                                                                                           \
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
#define LIST_KEY1 .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "list"
#define LIST_KEY12 .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "list"

cmdDef listCommands[] = {
    {.name = "lpush", .proc = lpushCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_LIST,
     LIST_KEY1, .since = "1.0.0", .summary = "Prepend one or multiple elements to a list",
     .complexity = LIST_PUSH_COMPLEXITY},
    {.name = "rpush", .proc = rpushCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_LIST,
     LIST_KEY1, .since = "1.0.0", .summary = "Append one or multiple elements to a list",
     .complexity = LIST_PUSH_COMPLEXITY},
    {.name = "lpushx", .proc = lpushxCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_LIST, LIST_KEY1, .since = "2.2.0",
     .summary = "Prepend an element to a list, only if the list exists", .complexity = LIST_PUSH_COMPLEXITY},
    {.name = "rpushx", .proc = rpushxCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_LIST, LIST_KEY1, .since = "2.2.0",
     .summary = "Append an element to a list, only if the list exists", .complexity = LIST_PUSH_COMPLEXITY},
    {.name = "lpop", .proc = lpopCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Remove and get the first elements in a list",
     .complexity = "O(N) where N is the number of elements returned"},
    {.name = "rpop", .proc = rpopCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Remove and get the last elements in a list",
     .complexity = "O(N) where N is the number of elements returned"},
    {.name = "llen", .proc = llenCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Get the length of a list", .complexity = "O(1)"},
    {.name = "lrange", .proc = lrangeCommand, .arity = 4, .flags = CMD_READONLY, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Get a range of elements from a list",
     .complexity = "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD "
                   "or TAIL) for large lists; and N is the number of elements in the specified range."},
    {.name = "lindex", .proc = lindexCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Get an element from a list by its index",
     .complexity = "O(N) where N is the number of elements to traverse to get to the element at index. This makes "
                   "asking for the first or the last element of the list O(1)."},
    {.name = "lset", .proc = lsetCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Set the value of an element in a list by its index",
     .complexity = "O(N) where N is the length of the list. Setting either the first or the last element of the list "
                   "is O(1)."},
    {.name = "lrem", .proc = lremCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Remove elements from a list",
     .complexity = "O(N+M) where N is the length of the list and M is the number of elements removed."},
    {.name = "ltrim", .proc = ltrimCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_LIST, LIST_KEY1,
     .since = "1.0.0", .summary = "Trim a list to the specified range",
     .complexity = "O(N) where N is the number of elements to be removed by the operation."},
    {.name = "linsert", .proc = linsertCommand, .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_LIST,
     LIST_KEY1, .since = "2.2.0", .summary = "Insert an element before or after another element in a list",
     .complexity = "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that "
                   "inserting somewhere on the left end on the list (head) can be considered O(1) and inserting "
                   "somewhere on the right end (tail) is O(N)."},
    {.name = "lpos", .proc = lposCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_LIST, LIST_KEY1,
     .since = "6.0.6", .summary = "Return the index of matching elements on a list",
     .complexity = "O(N) where N is the number of elements in the list, for the average case. When searching for "
                   "elements near the head or the tail of the list, or when the MAXLEN option is provided, the "
                   "command may run in constant time."},
    {.name = "lmove", .proc = lmoveCommand, .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_LIST,
     LIST_KEY12, .since = "6.2.0", .summary = "Pop an element from a list, push it to another list and return it",
     .complexity = "O(1)"},
    {.name = "rpoplpush", .proc = rpoplpushCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_LIST,
     LIST_KEY12, .since = "1.2.0",
     .summary = "Remove the last element in a list, prepend it to another list and return it", .complexity = "O(1)"},
    {.name = "lmpop", .proc = lmpopCommand, .arity = -4, .flags = CMD_WRITE | CMD_MOVABLE_KEYS, .acl = ACL_LIST, .numkeysIdx = 1,
     .group = "list", .since = "7.0.0", .summary = "Pop elements from a list",
     .complexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
    {.name = "blpop", .proc = blpopCommand, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING,
     .acl = ACL_LIST, .firstKey = 1, .lastKey = -2, .keyStep = 1, .group = "list", .since = "2.0.0",
     .summary = "Remove and get the first element in a list, or block until one is available",
     .complexity = "O(N) where N is the number of provided keys."},
    {.name = "brpop", .proc = brpopCommand, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING,
     .acl = ACL_LIST, .firstKey = 1, .lastKey = -2, .keyStep = 1, .group = "list", .since = "2.0.0",
     .summary = "Remove and get the last element in a list, or block until one is available",
     .complexity = "O(N) where N is the number of provided keys."},
    {.name = "blmove", .proc = blmoveCommand, .arity = 6,
     .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, .acl = ACL_LIST, LIST_KEY12, .since = "6.2.0",
     .summary = "Pop an element from a list, push it to another list and return it; or block until one is available",
     .complexity = "O(1)"},
    {.name = "brpoplpush", .proc = brpoplpushCommand, .arity = 4,
     .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, .acl = ACL_LIST, LIST_KEY12, .since = "2.2.0",
     .summary = "Pop an element from a list, push it to another list and return it; or block until one is available",
     .complexity = "O(1)"},
    {.name = "blmpop", .proc = blmpopCommand, .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS,
     .acl = ACL_LIST, .numkeysIdx = 2, .group = "list", .since = "7.0.0",
     .summary = "Pop elements from a list, or block until one is available",
     .complexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned."},
    {0}};
