/* t_stream.c - the stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL,
 * XTRIM, XSETID, with Redis 7.0's argument parsing, reply shapes and error
 * texts; and the free/dup/memory hooks obj.c dispatches to.
 *
 * Owns: nothing beyond the stream values of the keyspace (stream.c holds
 * the encoding). Must never: create a key for a command that fails (XADD
 * parses everything first), or leave the keyspace changed after an error
 * reply. */
#include "server.h"
#include "block.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "lpack.h"
#include "stream.h"
#include "t_stream.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void streamFreeValue(dbEntry *e) {
    streamFree(e->v.ptr);
    e->v.ptr = NULL;
}
void *streamDupValue(const dbEntry *e) { return streamDup(e->v.ptr); }
size_t streamValueMemory(const dbEntry *e) { return e->v.ptr ? streamMemory(e->v.ptr) : 0; }

/* ---- argument helpers --------------------------------------------------- */

/* Redis compares options with strcasecmp on NUL-terminated sds: an argument
 * is what comes before its first NUL byte. */
static size_t cLen(slice s) {
    const char *z = memchr(s.p, '\0', s.len);
    return z ? (size_t)(z - s.p) : s.len;
}
int xOptIs(slice s, const char *lit) {
    size_t n = cLen(s);
    return n == strlen(lit) && strncasecmp(s.p, lit, n) == 0;
}
static int isChar(slice s, char ch) { return cLen(s) == 1 && s.p[0] == ch; }

/* Redis' string2ull: strict decimal first, then strtoull's leniency. */
static int str2ull(const char *s, unsigned long long *v) {
    long long ll;
    if (string2ll(s, strlen(s), &ll)) {
        if (ll < 0) return 0;
        *v = (unsigned long long)ll;
        return 1;
    }
    errno = 0;
    char *end = NULL;
    *v = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return 0;
    return 1;
}

#define INVALID_ID_ERR X_INVALID_ID_ERR

/* Redis' streamGenericParseIDOrReply. c NULL: no reply. */
int xParseID(client *c, slice a, streamID *id, uint64_t missingSeq, int strict, int *seqGiven) {
    char buf[128];
    if (a.len > sizeof(buf) - 1) goto invalid;
    memcpy(buf, a.p, a.len);
    buf[a.len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') goto invalid;
    if (seqGiven) *seqGiven = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        id->ms = id->seq = 0;
        return 0;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        id->ms = id->seq = UINT64_MAX;
        return 0;
    }
    unsigned long long ms, seq;
    char *dot = strchr(buf, '-');
    if (dot) *dot = '\0';
    if (!str2ull(buf, &ms)) goto invalid;
    if (dot) {
        if (seqGiven && strlen(dot + 1) == 1 && dot[1] == '*') {
            seq = 0;
            *seqGiven = 0;
        } else if (!str2ull(dot + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missingSeq;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
invalid:
    if (c) replyError(c, INVALID_ID_ERR);
    return -1;
}

int xParseStrictID(client *c, slice a, streamID *id, uint64_t missingSeq, int *seqGiven) {
    return xParseID(c, a, id, missingSeq, 1, seqGiven);
}

/* Redis' streamParseIntervalIDOrReply: "(" makes the bound exclusive. */
int xParseIntervalID(client *c, slice a, streamID *id, int *exclude, uint64_t missingSeq) {
    *exclude = a.len > 1 && a.p[0] == '(';
    if (*exclude) {
        slice t = {a.p + 1, a.len - 1};
        return xParseStrictID(c, t, id, missingSeq, NULL);
    }
    return xParseID(c, a, id, missingSeq, 0, NULL);
}

int xGetLL(client *c, slice a, long long *v) {
    if (!string2ll(a.p, a.len, v)) {
        replyErrorNotInt(c);
        return -1;
    }
    return 0;
}

void xReplyID(client *c, const streamID *id) {
    char buf[64];
    int n = streamFormatID(buf, id);
    replyBulk(c, buf, (size_t)n);
}

/* The stream at key for writing; NULL and a reply when it is of another
 * type. *missing is set when there is no key. */
dbEntry *xLookupWrite(client *c, slice key) {
    dbEntry *e = dbLookupWrite(c->db, key);
    if (objCheckType(c, e, OBJ_STREAM)) return (dbEntry *)-1;
    return e;
}

/* ---- XADD / XTRIM options ---------------------------------------------- */

typedef struct trimArgs {
    streamID id;
    int idGiven, seqGiven, noMkstream;
    int strategy, approx;
    long long maxlen, limit;
    streamID minid;
} trimArgs;

/* Redis' streamParseAddOrTrimArgsOrReply: the index of the id (XADD) or
 * argc (XTRIM), or -1 after replying an error. */
static int parseAddTrimArgs(client *c, trimArgs *a, int xadd) {
    memset(a, 0, sizeof(*a));
    int i = 2, limitGiven = 0;
    for (; i < c->argc; i++) {
        int moreargs = (c->argc - 1) - i;
        slice opt = c->argv[i];
        if (xadd && isChar(opt, '*')) {
            break;
        } else if (xOptIs(opt, "maxlen") && moreargs) {
            if (a->strategy != STREAM_TRIM_NONE) {
                replyError(c, "syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->approx = 0;
            slice next = c->argv[i + 1];
            if (moreargs >= 2 && isChar(next, '~')) {
                a->approx = 1;
                i++;
            } else if (moreargs >= 2 && isChar(next, '=')) {
                i++;
            }
            if (xGetLL(c, c->argv[i + 1], &a->maxlen) == -1) return -1;
            if (a->maxlen < 0) {
                replyError(c, "The MAXLEN argument must be >= 0.");
                return -1;
            }
            i++;
            a->strategy = STREAM_TRIM_MAXLEN;
        } else if (xOptIs(opt, "minid") && moreargs) {
            if (a->strategy != STREAM_TRIM_NONE) {
                replyError(c, "syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->approx = 0;
            slice next = c->argv[i + 1];
            if (moreargs >= 2 && isChar(next, '~')) {
                a->approx = 1;
                i++;
            } else if (moreargs >= 2 && isChar(next, '=')) {
                i++;
            }
            if (xParseStrictID(c, c->argv[i + 1], &a->minid, 0, NULL) == -1) return -1;
            i++;
            a->strategy = STREAM_TRIM_MINID;
        } else if (xOptIs(opt, "limit") && moreargs) {
            if (xGetLL(c, c->argv[i + 1], &a->limit) == -1) return -1;
            if (a->limit < 0) {
                replyError(c, "The LIMIT argument must be >= 0.");
                return -1;
            }
            limitGiven = 1;
            i++;
        } else if (xadd && xOptIs(opt, "nomkstream")) {
            a->noMkstream = 1;
        } else if (xadd) {
            if (xParseStrictID(c, opt, &a->id, 0, &a->seqGiven) == -1) return -1;
            a->idGiven = 1;
            break;
        } else {
            replyErrorSyntax(c);
            return -1;
        }
    }
    if (a->limit && a->strategy == STREAM_TRIM_NONE) {
        replyError(c, "syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && a->strategy == STREAM_TRIM_NONE) {
        replyError(c, "syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limitGiven) {
        if (!a->approx) {
            replyError(c, "syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->approx) {
        a->limit = 100 * srv.streamNodeMaxEntries;
        if (a->limit <= 0 || a->limit > STREAM_LISTPACK_MAX_SIZE) a->limit = 10000;
    } else {
        a->limit = 0;
    }
    return i;
}

static int64_t doTrim(stream *s, const trimArgs *a) {
    return streamTrim(s, a->strategy, (uint64_t)a->maxlen, &a->minid, a->approx, a->limit);
}

static void xaddCommand(client *c) {
    trimArgs a;
    int idpos = parseAddTrimArgs(c, &a, 1);
    if (idpos < 0) return;
    int fieldPos = idpos + 1;
    if ((c->argc - fieldPos) < 2 || ((c->argc - fieldPos) % 2) == 1) {
        replyErrorArity(c);
        return;
    }
    if (a.idGiven && a.seqGiven && a.id.ms == 0 && a.id.seq == 0) {
        replyError(c, "The ID specified in XADD must be greater than 0-0");
        return;
    }
    dbEntry *e = xLookupWrite(c, c->argv[1]);
    if (e == (dbEntry *)-1) return;
    if (!e && a.noMkstream) {
        replyNull(c);
        return;
    }
    stream *s = e ? e->v.ptr : NULL, *created = NULL;
    if (!s) s = created = streamNew();
    if (s->lastId.ms == UINT64_MAX && s->lastId.seq == UINT64_MAX) {
        replyError(c, "The stream has exhausted the last possible ID, unable to add more items");
        goto fail;
    }
    int nfields = (c->argc - fieldPos) / 2;
    streamField *fv = memAlloc(sizeof(*fv) * (size_t)nfields * 2);
    for (int i = 0; i < nfields * 2; i++) {
        fv[i].p = c->argv[fieldPos + i].p;
        fv[i].len = c->argv[fieldPos + i].len;
    }
    streamID id;
    int rc = streamAppend(s, fv, nfields, &id, a.idGiven ? &a.id : NULL, a.seqGiven, srv.streamNodeMaxBytes,
                          srv.streamNodeMaxEntries, mstime());
    memFree(fv);
    if (rc == -1) {
        replyError(c, "The ID specified in XADD is equal or smaller than the target stream top item");
        goto fail;
    }
    if (rc == -2) {
        replyError(c, "Elements are too large to be stored");
        goto fail;
    }
    if (created) dbInsert(c->db, objNewCollectionEntry(c->argv[1].p, c->argv[1].len, OBJ_STREAM, ENC_STREAM, s));
    xReplyID(c, &id);
    blockSignalKeyReady(c->db, c->argv[1].p, c->argv[1].len); /* XREAD/XREADGROUP BLOCK waiters */
    srv.dirty++;
    if (a.strategy != STREAM_TRIM_NONE) doTrim(s, &a);
    if (!created) dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    return;
fail:
    /* Redis created the key before failing only where the id check cannot
     * fail on an empty stream: nothing to keep. */
    if (created) streamFree(created);
}

static void xtrimCommand(client *c) {
    trimArgs a;
    if (parseAddTrimArgs(c, &a, 0) < 0) return;
    dbEntry *e = xLookupWrite(c, c->argv[1]);
    if (e == (dbEntry *)-1) return;
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    int64_t deleted = doTrim(e->v.ptr, &a);
    if (deleted) {
        dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
        srv.dirty += deleted;
    }
    replyLongLong(c, deleted);
}

/* ---- reading ------------------------------------------------------------ */

void xReplyEntry(client *c, streamIter *it, const streamID *id, int64_t nf) {
    replyArrayLen(c, 2);
    xReplyID(c, id);
    replyArrayLen(c, (long)nf * 2);
    for (int64_t i = 0; i < nf; i++) {
        char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
        const char *f, *v;
        size_t fl, vl;
        streamIterField(it, fb, &f, &fl, vb, &v, &vl);
        replyBulk(c, f, fl);
        replyBulk(c, v, vl);
    }
}

/* Replies [id, [f1, v1, ...]] for every entry in range, at most count
 * (0: all). Returns the entries sent. */
long xReplyRange(client *c, stream *s, const streamID *start, const streamID *end, long long count, int rev) {
    streamIter it;
    streamID id;
    int64_t nf;
    long n = 0;
    void *len = replyDeferredLen(c);
    streamIterStart(&it, s, start, end, rev);
    while ((count == 0 || n < count) && streamIterNext(&it, &id, &nf)) {
        xReplyEntry(c, &it, &id, nf);
        n++;
    }
    replySetDeferredArrayLen(c, len, n);
    return n;
}

int xReplyOneEntry(client *c, stream *s, const streamID *id) {
    streamIter it;
    streamID got;
    int64_t nf;
    streamIterStart(&it, s, id, id, 0);
    if (!streamIterNext(&it, &got, &nf)) return 0;
    xReplyEntry(c, &it, &got, nf);
    return 1;
}

static void xrangeGeneric(client *c, int rev) {
    streamID start, end;
    long long count = -1;
    slice startArg = rev ? c->argv[3] : c->argv[2], endArg = rev ? c->argv[2] : c->argv[3];
    int startEx, endEx;
    if (xParseIntervalID(c, startArg, &start, &startEx, 0) == -1) return;
    if (startEx && streamIncrID(&start) == -1) {
        replyError(c, "invalid start ID for the interval");
        return;
    }
    if (xParseIntervalID(c, endArg, &end, &endEx, UINT64_MAX) == -1) return;
    if (endEx && streamDecrID(&end) == -1) {
        replyError(c, "invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (xOptIs(c->argv[j], "COUNT") && additional >= 1) {
            if (xGetLL(c, c->argv[j + 1], &count) == -1) return;
            if (count < 0) count = 0;
            j++;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyArrayLen(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_STREAM)) return;
    if (count == 0) {
        replyNullArray(c);
        return;
    }
    xReplyRange(c, e->v.ptr, &start, &end, count == -1 ? 0 : count, rev);
}

static void xrangeCommand(client *c) { xrangeGeneric(c, 0); }
static void xrevrangeCommand(client *c) { xrangeGeneric(c, 1); }

static void xlenCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_STREAM)) return;
    replyLongLong(c, e ? (long long)((stream *)e->v.ptr)->length : 0);
}

static void xdelCommand(client *c) {
    dbEntry *e = xLookupWrite(c, c->argv[1]);
    if (e == (dbEntry *)-1) return;
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    stream *s = e->v.ptr;
    int n = c->argc - 2;
    streamID *ids = memAlloc(sizeof(*ids) * (size_t)n);
    for (int j = 0; j < n; j++) {
        if (xParseStrictID(c, c->argv[j + 2], &ids[j], 0, NULL) == -1) {
            memFree(ids);
            return;
        }
    }
    long long deleted = 0;
    int firstEntry = 0;
    for (int j = 0; j < n; j++) {
        if (streamDeleteID(s, &ids[j])) {
            if (streamCompareID(&ids[j], &s->firstId) == 0) firstEntry = 1;
            if (streamCompareID(&ids[j], &s->maxDeletedId) > 0) s->maxDeletedId = ids[j];
            deleted++;
        }
    }
    memFree(ids);
    if (deleted) {
        if (s->length == 0) s->firstId.ms = s->firstId.seq = 0;
        else if (firstEntry) streamEdgeID(s, 1, &s->firstId);
        dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
        srv.dirty += deleted;
    }
    replyLongLong(c, deleted);
}

static void xsetidCommand(client *c) {
    streamID id, maxXdel = {0, 0};
    long long entriesAdded = -1;
    if (xParseStrictID(c, c->argv[2], &id, 0, NULL) == -1) return;
    int i = 3;
    while (i < c->argc) {
        int moreargs = (c->argc - 1) - i;
        if (xOptIs(c->argv[i], "ENTRIESADDED") && moreargs) {
            if (xGetLL(c, c->argv[i + 1], &entriesAdded) == -1) return;
            if (entriesAdded < 0) {
                replyError(c, "entries_added must be positive");
                return;
            }
            i += 2;
        } else if (xOptIs(c->argv[i], "MAXDELETEDID") && moreargs) {
            if (xParseStrictID(c, c->argv[i + 1], &maxXdel, 0, NULL) == -1) return;
            if (streamCompareID(&id, &maxXdel) < 0) {
                replyError(c, "The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    dbEntry *e = xLookupWrite(c, c->argv[1]);
    if (e == (dbEntry *)-1) return;
    if (!e) {
        replyError(c, "no such key");
        return;
    }
    stream *s = e->v.ptr;
    /* Redis 7.0 does not compare with the current max deleted id (7.2 does). */
    if (s->length > 0) {
        streamID maxid;
        streamEdgeID(s, 0, &maxid);
        if (streamCompareID(&id, &maxid) < 0) {
            replyError(c, "The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (entriesAdded != -1 && s->length > (uint64_t)entriesAdded) {
            replyError(c, "The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->lastId = id;
    if (entriesAdded != -1) s->entriesAdded = (uint64_t)entriesAdded;
    if (maxXdel.ms || maxXdel.seq) s->maxDeletedId = maxXdel;
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    replyOk(c);
}

#define SK .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "stream"

cmdDef streamCommands[] = {
    {.name = "xadd", .proc = xaddCommand, .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Appends a new entry to a stream",
     .complexity = "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."},
    {.name = "xrange", .proc = xrangeCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval",
     .complexity = "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."},
    {.name = "xrevrange", .proc = xrevrangeCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
     .complexity = "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."},
    {.name = "xlen", .proc = xlenCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Return the number of entries in a stream", .complexity = "O(1)"},
    {.name = "xdel", .proc = xdelCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
     .complexity = "O(1) for each single item to delete in the stream, regardless of the stream size."},
    {.name = "xtrim", .proc = xtrimCommand, .arity = -4, .flags = CMD_WRITE, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "Trims the stream to (approximately if '~' is passed) a certain size",
     .complexity = "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."},
    {.name = "xsetid", .proc = xsetidCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_STREAM, SK,
     .since = "5.0.0", .summary = "An internal command for replicating stream values", .complexity = "O(1)"},
    {.name = NULL},
};
