/* t_stream_cg.c - stream reads and consumer groups: XREAD (COUNT, BLOCK,
 * $), XREADGROUP (>, history, NOACK, BLOCK), XGROUP, XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM, XINFO, with Redis 7.0's parsing, replies and errors.
 *
 * Blocking: a read that finds nothing calls blockForKeys (block.c), which
 * re-executes the command when XADD (or XGROUP DESTROY) signals the key.
 * XREAD's "$" is resolved before blocking (the saved argv gets the stream's
 * last id), so that the entries added meanwhile are what it returns.
 *
 * Owns: nothing (stream.c and stream_cg.c hold the data). Must never:
 * change a group after an error reply (parsing comes first, as in Redis),
 * or block inside MULTI or a script (block.c answers those as a timeout).
 *
 * Replication: XREADGROUP, XCLAIM and XAUTOCLAIM change PELs as a side
 * effect of reads, at times only the primary knows, so they never travel
 * as sent: each claimed or delivered entry goes as an idempotent XCLAIM ...
 * FORCE JUSTID (propXclaim), a moved group id alone as XGROUP SETID, a
 * consumer a NOACK read made as XGROUP CREATECONSUMER: exactly Redis 7.0's
 * forms, including what 7.0 leaves out (history reads, consumers made by
 * reads without NOACK, entries-read of reads without NOACK). */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "stream_cg.h"
#include "t_stream.h"
#include "propagate.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define NOGROUP_BLOCKED_ERR "-NOGROUP the consumer group this client was blocked on no longer exists"

/* Up to the first NUL, as Redis' %s of an sds. */
static int cLen(slice s) {
    const char *z = memchr(s.p, '\0', s.len);
    return (int)(z ? (size_t)(z - s.p) : s.len);
}

static int isStr(slice s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static void replySubcommandSyntax(client *c, const char *container) {
    int n = cLen(c->argv[1]);
    replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.", n > 128 ? 128 : n,
                     c->argv[1].p, container);
}

static stream *lookupStreamRead(client *c, slice key, int *wrongType) {
    dbEntry *e = dbLookupRead(c->db, key);
    *wrongType = 0;
    if (objCheckType(c, e, OBJ_STREAM)) {
        *wrongType = 1;
        return NULL;
    }
    return e ? e->v.ptr : NULL;
}

/* XPENDING, XCLAIM, XAUTOCLAIM: the group argv[2] of the stream argv[1];
 * NULL after the WRONGTYPE or -NOGROUP reply. */
static streamCG *groupOrReply(client *c, stream **sp) {
    int wrong;
    stream *s = lookupStreamRead(c, c->argv[1], &wrong);
    *sp = s;
    if (wrong) return NULL;
    streamCG *cg = s ? streamCGLookup(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!cg)
        replyErrorFormat(c, "-NOGROUP No such key '%.*s' or consumer group '%.*s'", cLen(c->argv[1]), c->argv[1].p,
                         cLen(c->argv[2]), c->argv[2].p);
    return cg;
}

/* now - t, saturated: times come from files and clients and may be
 * anything (Redis overflows here). */
static long long msSince(long long now, long long t) {
    if (t < 0 && now > LLONG_MAX + t) return LLONG_MAX;
    if (t > 0 && now < LLONG_MIN + t) return LLONG_MIN;
    return now - t;
}

/* ---- replication forms (Redis 7.0's streamPropagate*) ---- */

/* XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID l:
 * replays one pending entry's state whatever the replica holds; for an
 * entry gone from the stream it deletes the replica's pending record. */
static void propXclaim(client *c, slice key, slice group, slice id, const streamCG *cg, const streamNACK *nack) {
    if (!propActive()) return;
    char tbuf[LONG_STR_SIZE], rbuf[LONG_STR_SIZE], lbuf[48];
    slice argv[14] = {propStr("XCLAIM"), key, group, {nack->consumer->name, nack->consumer->nameLen}, propStr("0"),
                      id, propStr("TIME"), propLL(tbuf, nack->deliveryTime), propStr("RETRYCOUNT"),
                      propLL(rbuf, (long long)nack->deliveryCount), propStr("FORCE"), propStr("JUSTID"),
                      propStr("LASTID"), {lbuf, (size_t)streamFormatID(lbuf, &cg->lastId)}};
    propAlso(c->db->id, argv, 14);
}

static void propXclaimID(client *c, slice key, slice group, const streamID *id, const streamCG *cg,
                         const streamNACK *nack) {
    char ibuf[48];
    slice ids = {ibuf, (size_t)streamFormatID(ibuf, id)};
    propXclaim(c, key, group, ids, cg, nack);
}

/* XGROUP SETID key group last ENTRIESREAD n */
static void propGroupID(client *c, slice key, slice group, const streamCG *cg) {
    if (!propActive()) return;
    char lbuf[48], ebuf[LONG_STR_SIZE];
    slice argv[7] = {propStr("XGROUP"), propStr("SETID"), key, group,
                     {lbuf, (size_t)streamFormatID(lbuf, &cg->lastId)}, propStr("ENTRIESREAD"),
                     propLL(ebuf, cg->entriesRead)};
    propAlso(c->db->id, argv, 7);
}

/* XGROUP CREATECONSUMER key group consumer */
static void propConsumerCreation(client *c, slice key, slice group, slice consumer) {
    slice argv[5] = {propStr("XGROUP"), propStr("CREATECONSUMER"), key, group, consumer};
    propAlso(c->db->id, argv, 5);
}

/* ======================================================================== */
/* XREAD / XREADGROUP                                                       */
/* ======================================================================== */

/* Redis' streamReplyWithRange for a group reading new entries: every entry
 * after start moves the group on and (without NOACK) becomes pending for
 * the consumer, or is handed over to it when already pending. */
static long replyGroupNew(client *c, stream *s, const streamID *start, long long count, streamCG *cg,
                          streamConsumer *consumer, int noack, slice key, slice group) {
    streamIter it;
    streamID id, end = {UINT64_MAX, UINT64_MAX};
    int64_t nf;
    long n = 0;
    void *len = replyDeferredLen(c);
    streamIterStart(&it, s, start, &end, 0);
    int moved = 0;
    while ((count == 0 || n < count) && streamIterNext(&it, &id, &nf)) {
        if (streamCompareID(&id, &cg->lastId) > 0) moved = 1;
        streamCGAdvance(s, cg, &id);
        if (!noack) {
            streamNACK *nack = idmapFind(&cg->pel, &id);
            if (nack) {
                streamNACKMove(&id, nack, consumer);
                nack->deliveryTime = srv.mstime;
                nack->deliveryCount = 1;
            } else {
                nack = streamNACKNew(consumer, srv.mstime);
                idmapInsert(&cg->pel, &id, nack);
                idmapInsert(&consumer->pel, &id, nack);
            }
            propXclaimID(c, key, group, &id, cg, nack); /* carries LASTID too */
        }
        xReplyEntry(c, &it, &id, nf);
        n++;
    }
    replySetDeferredArrayLen(c, len, n);
    if (noack && moved) propGroupID(c, key, group, cg);
    return n;
}

/* Redis' streamReplyWithRangeFromConsumerPEL: the consumer's pending
 * entries from start; deleted ones come as [id, nil]. */
static void replyConsumerHistory(client *c, stream *s, const streamID *start, long long count,
                                 streamConsumer *consumer) {
    idmapPos pos;
    streamID id;
    void *v;
    long n = 0;
    void *len = replyDeferredLen(c);
    idmapSeek(&consumer->pel, start, &pos);
    while ((count == 0 || n < count) && idmapNext(&consumer->pel, &pos, &id, &v)) {
        if (!xReplyOneEntry(c, s, &id)) {
            replyArrayLen(c, 2);
            xReplyID(c, &id);
            replyNullArray(c);
        } else {
            streamNACK *nack = v;
            nack->deliveryTime = srv.mstime;
            nack->deliveryCount++;
        }
        n++;
    }
    replySetDeferredArrayLen(c, len, n);
}

#define XREAD_MAX_STATIC 8

static void xreadGeneric(client *c, int group) {
    long long timeout = -1, count = 0;
    int streamsArg = 0, nstreams = 0, noack = 0;
    slice *groupName = NULL, *consumerName = NULL;
    for (int i = 1; i < c->argc; i++) {
        int moreargs = c->argc - i - 1;
        slice o = c->argv[i];
        if (xOptIs(o, "BLOCK") && moreargs) {
            if (c->flags & CLIENT_SCRIPT) {
                replyErrorFormat(c, "%.*s command is not allowed with BLOCK option from scripts", cLen(c->argv[0]),
                                 c->argv[0].p); /* the name as the script wrote it */
                return;
            }
            i++;
            if (!string2ll(c->argv[i].p, c->argv[i].len, &timeout)) {
                replyError(c, "timeout is not an integer or out of range");
                return;
            }
            if (timeout < 0) {
                replyError(c, "timeout is negative");
                return;
            }
            if (timeout > 0 && timeout > LLONG_MAX - srv.mstime) {
                replyError(c, "timeout is out of range");
                return;
            }
        } else if (xOptIs(o, "COUNT") && moreargs) {
            i++;
            if (xGetLL(c, c->argv[i], &count) == -1) return;
            if (count < 0) count = 0;
        } else if (xOptIs(o, "STREAMS") && moreargs) {
            streamsArg = i + 1;
            nstreams = c->argc - streamsArg;
            if (nstreams % 2) {
                /* Redis 7.0 says XREAD and '$' for XREADGROUP too. */
                replyError(c, "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return;
            }
            nstreams /= 2;
            break;
        } else if (xOptIs(o, "GROUP") && moreargs >= 2) {
            if (!group) {
                replyError(c, "The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            groupName = &c->argv[i + 1];
            consumerName = &c->argv[i + 2];
            i += 2;
        } else if (xOptIs(o, "NOACK")) {
            if (!group) {
                replyError(c, "The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = 1;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (streamsArg == 0) {
        replyErrorSyntax(c);
        return;
    }
    if (group && !groupName) {
        replyError(c, "Missing GROUP option for XREADGROUP");
        return;
    }

    streamID idsStatic[XREAD_MAX_STATIC], *ids = idsStatic;
    streamCG *groupsStatic[XREAD_MAX_STATIC], **groups = groupsStatic;
    int dollar = 0;
    if (nstreams > XREAD_MAX_STATIC) {
        ids = memAlloc(sizeof(*ids) * (size_t)nstreams);
        groups = memAlloc(sizeof(streamCG *) * (size_t)nstreams);
    }
    for (int k = 0; k < nstreams; k++) {
        slice key = c->argv[streamsArg + k], arg = c->argv[streamsArg + nstreams + k];
        int wrong;
        stream *s = lookupStreamRead(c, key, &wrong);
        if (wrong) goto cleanup;
        groups[k] = NULL;
        if (group) {
            streamCG *cg = s ? streamCGLookup(s, groupName->p, groupName->len) : NULL;
            if (!cg) {
                if (c->flags & CLIENT_REEXEC) replyError(c, NOGROUP_BLOCKED_ERR);
                else
                    replyErrorFormat(c, "-NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP option",
                                     cLen(key), key.p, cLen(*groupName), groupName->p);
                goto cleanup;
            }
            groups[k] = cg;
        }
        if (isStr(arg, "$")) {
            if (group) {
                replyError(c, "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                              "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID "
                              "would just return an empty result set.");
                goto cleanup;
            }
            if (s) ids[k] = s->lastId;
            else ids[k].ms = ids[k].seq = 0;
            dollar = 1;
            continue;
        }
        if (isStr(arg, ">")) {
            if (!group) {
                replyError(c, "The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                              "<consumer> option.");
                goto cleanup;
            }
            ids[k].ms = ids[k].seq = UINT64_MAX; /* ">": the group's last id, looked up when serving */
            continue;
        }
        if (xParseStrictID(c, arg, &ids[k], 0, NULL) == -1) goto cleanup;
    }

    long served = 0;
    void *lenNode = NULL;
    for (int k = 0; k < nstreams; k++) {
        slice key = c->argv[streamsArg + k];
        dbEntry *e = dbLookupRead(c->db, key);
        if (!e) continue;
        stream *s = e->v.ptr;
        streamID gt = ids[k];
        int now = 0, history = 0;
        streamConsumer *consumer = NULL;
        if (group) {
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                now = history = 1;
            } else if (s->length) {
                streamID maxid;
                streamEdgeID(s, 0, &maxid);
                if (streamCompareID(&maxid, &groups[k]->lastId) > 0) {
                    now = 1;
                    gt = groups[k]->lastId;
                }
            }
        } else if (s->length) {
            streamID maxid;
            streamEdgeID(s, 0, &maxid);
            if (streamCompareID(&maxid, &gt) > 0) now = 1;
        }
        if (!now) continue;
        if (group) { /* Redis 7.0 makes the consumer only when it serves it */
            consumer = streamConsumerLookup(groups[k], consumerName->p, consumerName->len);
            if (!consumer) {
                consumer = streamConsumerCreate(groups[k], consumerName->p, consumerName->len, srv.mstime);
                srv.dirty++;
                /* Without NOACK the XCLAIMs make it on the replica (a history
                 * read makes none there: Redis 7.0 leaves it so). */
                if (noack) propConsumerCreation(c, key, *groupName, *consumerName);
            }
            consumer->seenTime = srv.mstime;
        }
        if (++served == 1) lenNode = replyDeferredLen(c);
        streamID start = gt;
        streamIncrID(&start);
        if (c->resp == 2) replyArrayLen(c, 2);
        replySlice(c, key);
        if (!group) {
            streamID end = {UINT64_MAX, UINT64_MAX};
            xReplyRange(c, s, &start, &end, count, 0);
        } else if (history) {
            replyConsumerHistory(c, s, &start, count, consumer);
        } else {
            replyGroupNew(c, s, &start, count, groups[k], consumer, noack, key, *groupName);
        }
        if (group) {
            srv.dirty++;
            streamCGCheck(s);
        }
    }
    if (served) {
        if (c->resp == 2) replySetDeferredArrayLen(c, lenNode, served);
        else replySetDeferredMapLen(c, lenNode, served);
        goto cleanup;
    }
    if (timeout != -1) {
        long long deadline = timeout ? srv.mstime + timeout : 0;
        slice *keys = &c->argv[streamsArg];
        if (dollar && !(c->flags & CLIENT_REEXEC)) {
            /* The saved command must wait for entries after the last id of
             * now, not of when it runs again: "$" becomes that id. */
            slice *argv = memAlloc(sizeof(slice) * (size_t)c->argc);
            char(*bufs)[48] = memAlloc(48 * (size_t)nstreams);
            memcpy(argv, c->argv, sizeof(slice) * (size_t)c->argc);
            for (int k = 0; k < nstreams; k++) {
                slice *a = &argv[streamsArg + nstreams + k];
                if (!isStr(*a, "$")) continue;
                a->len = (size_t)streamFormatID(bufs[k], &ids[k]);
                a->p = bufs[k];
            }
            slice *orig = c->argv;
            c->argv = argv;
            blockForKeys(c, &argv[streamsArg], nstreams, deadline, 1);
            c->argv = orig;
            memFree(bufs);
            memFree(argv);
        } else {
            blockForKeys(c, keys, nstreams, deadline, 1);
        }
        goto cleanup;
    }
    replyNullArray(c);
cleanup:
    if (ids != idsStatic) {
        memFree(ids);
        memFree(groups);
    }
}

static void xreadCommand(client *c) { xreadGeneric(c, 0); }
static void xreadgroupCommand(client *c) {
    xreadGeneric(c, 1);
    propPreventSelf(); /* its effects went as XCLAIM / XGROUP forms */
}

/* ======================================================================== */
/* XGROUP                                                                   */
/* ======================================================================== */

static int parseEntriesRead(client *c, slice a, long long *v) {
    if (xGetLL(c, a, v) == -1) return -1;
    if (*v < 0 && *v != SCG_INVALID_ENTRIES_READ) {
        replyError(c, "value for ENTRIESREAD must be positive or -1");
        return -1;
    }
    return 0;
}

static void xgroupCommand(client *c) {
    slice opt = c->argv[1];
    stream *s = NULL;
    streamCG *cg = NULL;
    int mkstream = 0;
    long long entriesRead = SCG_INVALID_ENTRIES_READ;
    dbEntry *e = NULL;
    if (c->argc >= 4) {
        if (xOptIs(opt, "CREATE") && c->argc >= 5) {
            int i = 5;
            while (i < c->argc) {
                int moreargs = (c->argc - 1) - i;
                if (xOptIs(c->argv[i], "MKSTREAM")) {
                    mkstream = 1;
                    i++;
                } else if (xOptIs(c->argv[i], "ENTRIESREAD") && moreargs) {
                    if (parseEntriesRead(c, c->argv[i + 1], &entriesRead) == -1) return;
                    i += 2;
                } else {
                    replySubcommandSyntax(c, "XGROUP");
                    return;
                }
            }
        }
        e = xLookupWrite(c, c->argv[2]);
        if (e == (dbEntry *)-1) return;
        if (e) s = e->v.ptr;
        slice g = c->argv[3];
        if (!mkstream) {
            if (!s) {
                replyError(c, "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
                              "use the MKSTREAM option to create an empty stream automatically.");
                return;
            }
            cg = streamCGLookup(s, g.p, g.len);
            if (!cg && (xOptIs(opt, "SETID") || xOptIs(opt, "CREATECONSUMER") || xOptIs(opt, "DELCONSUMER"))) {
                replyErrorFormat(c, "-NOGROUP No such consumer group '%.*s' for key name '%.*s'", cLen(g), g.p,
                                 cLen(c->argv[2]), c->argv[2].p);
                return;
            }
        }
    }
    if (c->argc == 2 && xOptIs(opt, "HELP")) {
        static const char *help[] = {
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            NULL};
        replyHelp(c, help);
    } else if (xOptIs(opt, "CREATE") && c->argc >= 5 && c->argc <= 8) {
        streamID id;
        if (isStr(c->argv[4], "$")) {
            if (s) id = s->lastId;
            else id.ms = id.seq = 0;
        } else if (xParseStrictID(c, c->argv[4], &id, 0, NULL) == -1) {
            return;
        }
        stream *created = NULL;
        if (!s) s = created = streamNew();
        if (!streamCGCreate(s, c->argv[3].p, c->argv[3].len, &id, entriesRead)) {
            replyError(c, "-BUSYGROUP Consumer Group name already exists");
            return;
        }
        if (created) dbInsert(c->db, objNewCollectionEntry(c->argv[2].p, c->argv[2].len, OBJ_STREAM, ENC_STREAM, s));
        /* group changes do not touch the key (WATCH holds), as in Redis 7.0 */
        replyOk(c);
        srv.dirty++;
    } else if (xOptIs(opt, "SETID") && (c->argc == 5 || c->argc == 7)) {
        streamID id;
        if (!s || !cg) { /* cannot happen: checked above (without MKSTREAM, which only CREATE takes) */
            replySubcommandSyntax(c, "XGROUP");
            return;
        }
        if (isStr(c->argv[4], "$")) id = s->lastId;
        else if (xParseID(c, c->argv[4], &id, 0, 0, NULL) == -1) return;
        if (c->argc == 7) {
            if (!xOptIs(c->argv[5], "ENTRIESREAD")) {
                replySubcommandSyntax(c, "XGROUP");
                return;
            }
            if (parseEntriesRead(c, c->argv[6], &entriesRead) == -1) return;
        }
        cg->lastId = id;
        cg->entriesRead = entriesRead;
        replyOk(c);
        srv.dirty++;
    } else if (xOptIs(opt, "DESTROY") && c->argc == 4) {
        if (cg) {
            streamCGDestroy(s, c->argv[3].p, c->argv[3].len);
            replyLongLong(c, 1);
            srv.dirty++;
            /* XREADGROUP waiters on it get -NOGROUP */
            blockSignalKeyReady(c->db, c->argv[2].p, c->argv[2].len);
        } else {
            replyLongLong(c, 0);
        }
    } else if (xOptIs(opt, "CREATECONSUMER") && c->argc == 5) {
        streamConsumer *sc = streamConsumerCreate(cg, c->argv[4].p, c->argv[4].len, srv.mstime);
        if (sc) {
            srv.dirty++;
        }
        replyLongLong(c, sc ? 1 : 0);
    } else if (xOptIs(opt, "DELCONSUMER") && c->argc == 5) {
        long long pending = 0;
        streamConsumer *sc = streamConsumerLookup(cg, c->argv[4].p, c->argv[4].len);
        if (sc) {
            pending = (long long)streamConsumerDelete(cg, sc);
            srv.dirty++;
        }
        replyLongLong(c, pending);
    } else {
        replySubcommandSyntax(c, "XGROUP");
    }
}

static void xgroupContainer(client *c) { replyErrorArity(c); }

/* ======================================================================== */
/* XACK / XPENDING                                                          */
/* ======================================================================== */

static void xackCommand(client *c) {
    int wrong;
    stream *s = lookupStreamRead(c, c->argv[1], &wrong);
    if (wrong) return;
    streamCG *cg = s ? streamCGLookup(s, c->argv[2].p, c->argv[2].len) : NULL;
    if (!cg) {
        replyLongLong(c, 0);
        return;
    }
    int n = c->argc - 3;
    streamID *ids = memAlloc(sizeof(*ids) * (size_t)n);
    for (int j = 0; j < n; j++) {
        if (xParseStrictID(c, c->argv[j + 3], &ids[j], 0, NULL) == -1) {
            memFree(ids);
            return;
        }
    }
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        streamNACK *nack = idmapFind(&cg->pel, &ids[j]);
        if (!nack) continue;
        streamNACKDelete(cg, &ids[j], nack);
        acked++;
        srv.dirty++;
    }
    memFree(ids);
    replyLongLong(c, acked);
}

static void xpendingCommand(client *c) {
    slice *consumerName = NULL;
    streamID start = {0, 0}, end = {UINT64_MAX, UINT64_MAX};
    long long count = 0, minidle = 0;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        replyErrorSyntax(c);
        return;
    }
    if (c->argc >= 6) {
        int sidx = 3, startex, endex;
        if (xOptIs(c->argv[3], "IDLE")) {
            if (xGetLL(c, c->argv[4], &minidle) == -1) return;
            if (c->argc < 8) {
                replyErrorSyntax(c);
                return;
            }
            sidx += 2;
        }
        if (xGetLL(c, c->argv[sidx + 2], &count) == -1) return;
        if (count < 0) count = 0;
        if (xParseIntervalID(c, c->argv[sidx], &start, &startex, 0) == -1) return;
        if (startex && streamIncrID(&start) == -1) {
            replyError(c, "invalid start ID for the interval");
            return;
        }
        if (xParseIntervalID(c, c->argv[sidx + 1], &end, &endex, UINT64_MAX) == -1) return;
        if (endex && streamDecrID(&end) == -1) {
            replyError(c, "invalid end ID for the interval");
            return;
        }
        if (sidx + 3 < c->argc) consumerName = &c->argv[sidx + 3];
    }
    stream *s;
    streamCG *cg = groupOrReply(c, &s);
    if (!cg) return;
    if (c->argc == 3) {
        replyArrayLen(c, 4);
        replyLongLong(c, (long long)cg->pel.len);
        if (cg->pel.len == 0) {
            replyNull(c);
            replyNull(c);
            replyNullArray(c);
            return;
        }
        streamID first, last;
        idmapEdge(&cg->pel, 1, &first);
        idmapEdge(&cg->pel, 0, &last);
        xReplyID(c, &first);
        xReplyID(c, &last);
        long n = 0;
        for (size_t i = 0; i < cg->nconsumers; i++)
            if (cg->consumers[i]->pel.len) n++;
        replyArrayLen(c, n);
        for (size_t i = 0; i < cg->nconsumers; i++) {
            streamConsumer *sc = cg->consumers[i];
            if (!sc->pel.len) continue;
            replyArrayLen(c, 2);
            replyBulk(c, sc->name, sc->nameLen);
            replyBulkLongLong(c, (long long)sc->pel.len);
        }
        return;
    }
    const idmap *pel = &cg->pel;
    if (consumerName) {
        streamConsumer *sc = streamConsumerLookup(cg, consumerName->p, consumerName->len);
        if (!sc) {
            replyArrayLen(c, 0);
            return;
        }
        pel = &sc->pel;
    }
    idmapPos pos;
    streamID id;
    void *v;
    long n = 0;
    long long now = srv.mstime;
    void *len = replyDeferredLen(c);
    idmapSeek(pel, &start, &pos);
    while (count && idmapNext(pel, &pos, &id, &v) && streamCompareID(&id, &end) <= 0) {
        streamNACK *nack = v;
        if (minidle && msSince(now, nack->deliveryTime) < minidle) continue;
        n++;
        count--;
        replyArrayLen(c, 4);
        xReplyID(c, &id);
        replyBulk(c, nack->consumer->name, nack->consumer->nameLen);
        long long elapsed = msSince(now, nack->deliveryTime);
        replyLongLong(c, elapsed < 0 ? 0 : elapsed);
        replyLongLong(c, (long long)nack->deliveryCount);
    }
    replySetDeferredArrayLen(c, len, n);
}

/* ======================================================================== */
/* XCLAIM / XAUTOCLAIM                                                      */
/* ======================================================================== */

static int entryExists(stream *s, const streamID *id) {
    streamIter it;
    streamID got;
    int64_t nf;
    streamIterStart(&it, s, id, id, 0);
    return streamIterNext(&it, &got, &nf);
}

static streamConsumer *claimer(streamCG *cg, slice name) {
    streamConsumer *sc = streamConsumerLookup(cg, name.p, name.len);
    if (!sc) {
        sc = streamConsumerCreate(cg, name.p, name.len, srv.mstime);
        srv.dirty++;
    }
    sc->seenTime = srv.mstime;
    return sc;
}

static void xclaimCommand(client *c) {
    stream *s;
    streamCG *cg = groupOrReply(c, &s);
    if (!cg) return;
    long long minidle, retrycount = -1, deliverytime = -1;
    int force = 0, justid = 0;
    if (!string2ll(c->argv[4].p, c->argv[4].len, &minidle)) {
        replyError(c, "Invalid min-idle-time argument for XCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    int j, nids = 0;
    streamID *ids = memAlloc(sizeof(*ids) * (size_t)(c->argc - 5));
    for (j = 5; j < c->argc; j++) {
        if (xParseStrictID(NULL, c->argv[j], &ids[nids], 0, NULL) == -1) break;
        nids++;
    }
    long long now = srv.mstime;
    streamID lastId = {0, 0};
    for (; j < c->argc; j++) {
        int moreargs = (c->argc - 1) - j;
        slice o = c->argv[j];
        if (xOptIs(o, "FORCE")) {
            force = 1;
        } else if (xOptIs(o, "JUSTID")) {
            justid = 1;
        } else if (xOptIs(o, "IDLE") && moreargs) {
            j++;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &deliverytime)) {
                replyError(c, "Invalid IDLE option argument for XCLAIM");
                goto cleanup;
            }
            deliverytime = msSince(now, deliverytime);
        } else if (xOptIs(o, "TIME") && moreargs) {
            j++;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &deliverytime)) {
                replyError(c, "Invalid TIME option argument for XCLAIM");
                goto cleanup;
            }
        } else if (xOptIs(o, "RETRYCOUNT") && moreargs) {
            j++;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &retrycount)) {
                replyError(c, "Invalid RETRYCOUNT option argument for XCLAIM");
                goto cleanup;
            }
        } else if (xOptIs(o, "LASTID") && moreargs) {
            j++;
            if (xParseStrictID(c, c->argv[j], &lastId, 0, NULL) == -1) goto cleanup;
        } else {
            replyErrorFormat(c, "Unrecognized XCLAIM option '%.*s'", cLen(o), o.p);
            goto cleanup;
        }
    }
    int propLastId = 0; /* a moved group id goes alone only if no XCLAIM carries it */
    if (streamCompareID(&lastId, &cg->lastId) > 0) {
        cg->lastId = lastId;
        srv.dirty++;
        propLastId = 1;
    }
    /* A bogus time (client clocks differ) means now rather than an error. */
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
    streamConsumer *consumer = NULL;
    long n = 0;
    void *len = replyDeferredLen(c);
    for (int k = 0; k < nids; k++) {
        streamID *id = &ids[k];
        streamNACK *nack = idmapFind(&cg->pel, id);
        if (!entryExists(s, id)) {
            if (nack) { /* the entry is gone: so is its pending record */
                propXclaim(c, c->argv[1], c->argv[2], c->argv[5 + k], cg, nack);
                propLastId = 0;
                streamNACKDelete(cg, id, nack);
                srv.dirty++;
            }
            continue;
        }
        int fresh = 0;
        if (force && !nack) {
            nack = streamNACKNew(NULL, now);
            idmapInsert(&cg->pel, id, nack);
            fresh = 1;
        }
        if (!nack) continue;
        if (!fresh && minidle && msSince(now, nack->deliveryTime) < minidle) continue;
        if (!consumer) consumer = claimer(cg, c->argv[3]);
        if (fresh) {
            nack->consumer = consumer;
            idmapInsert(&consumer->pel, id, nack);
        } else {
            streamNACKMove(id, nack, consumer);
        }
        nack->deliveryTime = deliverytime;
        if (retrycount >= 0) nack->deliveryCount = (uint64_t)retrycount;
        else if (!justid) nack->deliveryCount++;
        if (justid) xReplyID(c, id);
        else if (!xReplyOneEntry(c, s, id)) replyNull(c);
        n++;
        propXclaim(c, c->argv[1], c->argv[2], c->argv[5 + k], cg, nack); /* the id as the client wrote it */
        propLastId = 0;
        srv.dirty++;
    }
    if (propLastId) propGroupID(c, c->argv[1], c->argv[2], cg);
    replySetDeferredArrayLen(c, len, n);
    streamCGCheck(s);
cleanup:
    memFree(ids);
    propPreventSelf();
}

static void xautoclaimCommand(client *c) {
    long long minidle, count = 100;
    streamID start;
    int startex, justid = 0;
    if (!string2ll(c->argv[4].p, c->argv[4].len, &minidle)) {
        replyError(c, "Invalid min-idle-time argument for XAUTOCLAIM");
        return;
    }
    if (minidle < 0) minidle = 0;
    if (xParseIntervalID(c, c->argv[5], &start, &startex, 0) == -1) return;
    if (startex && streamIncrID(&start) == -1) {
        replyError(c, "invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < c->argc; j++) {
        int moreargs = (c->argc - 1) - j;
        if (xOptIs(c->argv[j], "COUNT") && moreargs) {
            long long maxCount = LONG_MAX / 16; /* Redis: LONG_MAX / max(sizeof(streamID), attempts factor) */
            if (!string2ll(c->argv[j + 1].p, c->argv[j + 1].len, &count) || count < 1 || count > maxCount) {
                replyError(c, "COUNT must be > 0");
                return;
            }
            j++;
        } else if (xOptIs(c->argv[j], "JUSTID")) {
            justid = 1;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    stream *s;
    streamCG *cg = groupOrReply(c, &s);
    if (!cg) return;
    long long attempts = count * 10, now = srv.mstime;
    streamConsumer *consumer = NULL;
    /* Claims first, reply after: the cursor comes before the entries and
     * is known only at the end. Deleted ids count against COUNT too. */
    streamID *claimed = NULL, *deleted = NULL;
    size_t nclaimed = 0, ndeleted = 0, capC = 0, capD = 0;
    streamID cur = start;
    int atEnd = 0;
    idmapPos pos;
    while (attempts-- && count) {
        streamID id;
        void *v;
        if (atEnd || !idmapSeek(&cg->pel, &cur, &pos) || !idmapNext(&cg->pel, &pos, &id, &v)) {
            atEnd = 1;
            break;
        }
        cur = id;
        if (streamIncrID(&cur) == -1) atEnd = 1; /* the very last id: nothing can follow */
        streamNACK *nack = v;
        if (!entryExists(s, &id)) {
            propXclaimID(c, c->argv[1], c->argv[2], &id, cg, nack); /* deletes it on the replica */
            streamNACKDelete(cg, &id, nack);
            srv.dirty++;
            if (ndeleted == capD) {
                capD = capD ? capD * 2 : 16;
                deleted = memRealloc(deleted, capD * sizeof(*deleted));
            }
            deleted[ndeleted++] = id;
            count--;
            continue;
        }
        if (minidle && msSince(now, nack->deliveryTime) < minidle) continue;
        if (!consumer) consumer = claimer(cg, c->argv[3]);
        streamNACKMove(&id, nack, consumer);
        nack->deliveryTime = now;
        if (!justid) nack->deliveryCount++;
        if (nclaimed == capC) {
            capC = capC ? capC * 2 : 16;
            claimed = memRealloc(claimed, capC * sizeof(*claimed));
        }
        claimed[nclaimed++] = id;
        propXclaimID(c, c->argv[1], c->argv[2], &id, cg, nack);
        count--;
        srv.dirty++;
    }
    streamID cursor = {0, 0};
    if (!atEnd && idmapSeek(&cg->pel, &cur, &pos)) idmapNext(&cg->pel, &pos, &cursor, NULL);
    replyArrayLen(c, 3);
    xReplyID(c, &cursor);
    replyArrayLen(c, (long)nclaimed);
    for (size_t i = 0; i < nclaimed; i++) {
        if (justid) xReplyID(c, &claimed[i]);
        else xReplyOneEntry(c, s, &claimed[i]);
    }
    replyArrayLen(c, (long)ndeleted);
    for (size_t i = 0; i < ndeleted; i++) xReplyID(c, &deleted[i]);
    memFree(claimed);
    memFree(deleted);
    streamCGCheck(s);
    propPreventSelf();
}

/* ======================================================================== */
/* XINFO                                                                    */
/* ======================================================================== */

static void replyLag(client *c, stream *s, streamCG *cg) {
    long long lag = 0;
    int valid = 0;
    if (!s->entriesAdded) {
        valid = 1;
    } else if (cg->entriesRead != SCG_INVALID_ENTRIES_READ && !streamRangeHasTombstones(s, &cg->lastId, NULL)) {
        lag = (long long)s->entriesAdded - cg->entriesRead;
        valid = 1;
    } else {
        long long read = streamEstimateDistance(s, &cg->lastId);
        if (read != SCG_INVALID_ENTRIES_READ) {
            lag = (long long)s->entriesAdded - read;
            valid = 1;
        }
    }
    if (valid) replyLongLong(c, lag);
    else replyNull(c);
}

/* last-delivered-id, entries-read and lag of a group (XINFO GROUPS, FULL). */
static void replyGroupProgress(client *c, stream *s, streamCG *cg) {
    replyBulkCString(c, "last-delivered-id");
    xReplyID(c, &cg->lastId);
    replyBulkCString(c, "entries-read");
    if (cg->entriesRead != SCG_INVALID_ENTRIES_READ) replyLongLong(c, cg->entriesRead);
    else replyNull(c);
    replyBulkCString(c, "lag");
    replyLag(c, s, cg);
}

/* Byte i of a node's key in Redis' rax: the master id, 16 bytes big-endian. */
static unsigned raxKeyByte(const streamNode *n, int i) {
    uint64_t v = i < 8 ? n->master.ms : n->master.seq;
    return (unsigned)(v >> (8 * (7 - (i & 7)))) & 0xff;
}

/* Nodes of a compressed radix tree over the sorted keys nodes[lo, hi),
 * which share their first depth bytes: a run of bytes all of them share
 * is one (compressed) node, a byte where they part is one node with a
 * child per distinct byte, and each key ends in a node of its own. */
static long long raxNodesIn(const streamNode *nodes, size_t lo, size_t hi, int depth) {
    if (depth == 16) return 1;
    if (hi - lo == 1) return 2;
    int common = 0;
    while (depth + common < 16 && raxKeyByte(&nodes[lo], depth + common) == raxKeyByte(&nodes[hi - 1], depth + common))
        common++;
    if (common) return 1 + raxNodesIn(nodes, lo, hi, depth + common);
    long long total = 1;
    for (size_t i = lo; i < hi;) {
        size_t j = i + 1;
        while (j < hi && raxKeyByte(&nodes[j], depth) == raxKeyByte(&nodes[i], depth)) j++;
        total += raxNodesIn(nodes, i, j, depth + 1);
        i = j;
    }
    return total;
}

/* The radix-tree-nodes Redis' rax would have for these node keys (our
 * index is a sorted array; the count is that of the canonical rax). */
static long long raxNodesEstimate(const stream *s) { return s->nnodes ? raxNodesIn(s->nodes, 0, s->nnodes, 0) : 1; }

static void replyStreamHeader(client *c, stream *s) {
    replyBulkCString(c, "length");
    replyLongLong(c, (long long)s->length);
    replyBulkCString(c, "radix-tree-keys");
    replyLongLong(c, (long long)s->nnodes);
    replyBulkCString(c, "radix-tree-nodes");
    replyLongLong(c, raxNodesEstimate(s));
    replyBulkCString(c, "last-generated-id");
    xReplyID(c, &s->lastId);
    replyBulkCString(c, "max-deleted-entry-id");
    xReplyID(c, &s->maxDeletedId);
    replyBulkCString(c, "entries-added");
    replyLongLong(c, (long long)s->entriesAdded);
    replyBulkCString(c, "recorded-first-entry-id");
    xReplyID(c, &s->firstId);
}

/* XINFO's stream at argv[2]; NULL after WRONGTYPE or "no such key". */
static stream *infoStreamOrReply(client *c) {
    int wrong;
    stream *s = lookupStreamRead(c, c->argv[2], &wrong);
    if (!s && !wrong) replyError(c, "no such key");
    return s;
}

static void xinfoStreamFull(client *c, stream *s, long long count) {
    replyMapLen(c, 9);
    replyStreamHeader(c, s);
    replyBulkCString(c, "entries");
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    xReplyRange(c, s, &lo, &hi, count, 0);
    replyBulkCString(c, "groups");
    size_t ng = streamCGCount(s);
    replyArrayLen(c, (long)ng);
    for (size_t g = 0; g < ng; g++) {
        streamCG *cg = s->cgroups->groups[g];
        replyMapLen(c, 7);
        replyBulkCString(c, "name");
        replyBulk(c, cg->name, cg->nameLen);
        replyGroupProgress(c, s, cg);
        replyBulkCString(c, "pel-count");
        replyLongLong(c, (long long)cg->pel.len);
        replyBulkCString(c, "pending");
        long long np = count && (uint64_t)count < cg->pel.len ? count : (long long)cg->pel.len;
        replyArrayLen(c, (long)np);
        idmapPos pos;
        streamID id;
        void *v;
        idmapSeek(&cg->pel, NULL, &pos);
        for (long long i = 0; i < np && idmapNext(&cg->pel, &pos, &id, &v); i++) {
            streamNACK *nack = v;
            replyArrayLen(c, 4);
            xReplyID(c, &id);
            replyBulk(c, nack->consumer->name, nack->consumer->nameLen);
            replyLongLong(c, nack->deliveryTime);
            replyLongLong(c, (long long)nack->deliveryCount);
        }
        replyBulkCString(c, "consumers");
        replyArrayLen(c, (long)cg->nconsumers);
        for (size_t k = 0; k < cg->nconsumers; k++) {
            streamConsumer *sc = cg->consumers[k];
            replyMapLen(c, 4);
            replyBulkCString(c, "name");
            replyBulk(c, sc->name, sc->nameLen);
            replyBulkCString(c, "seen-time");
            replyLongLong(c, sc->seenTime);
            replyBulkCString(c, "pel-count");
            replyLongLong(c, (long long)sc->pel.len);
            replyBulkCString(c, "pending");
            long long nc = count && (uint64_t)count < sc->pel.len ? count : (long long)sc->pel.len;
            replyArrayLen(c, (long)nc);
            idmapSeek(&sc->pel, NULL, &pos);
            for (long long i = 0; i < nc && idmapNext(&sc->pel, &pos, &id, &v); i++) {
                streamNACK *nack = v;
                replyArrayLen(c, 3);
                xReplyID(c, &id);
                replyLongLong(c, nack->deliveryTime);
                replyLongLong(c, (long long)nack->deliveryCount);
            }
        }
    }
}

static void xinfoStreamCommand(client *c) {
    int full = 0;
    long long count = 10;
    /* As Redis: the key first, then the options. */
    stream *s = infoStreamOrReply(c);
    if (!s) return;
    if (c->argc > 3) {
        if (!xOptIs(c->argv[3], "FULL")) {
            replySubcommandSyntax(c, "XINFO");
            return;
        }
        full = 1;
        if (c->argc > 4) {
            if (c->argc != 6 || !xOptIs(c->argv[4], "COUNT")) {
                replySubcommandSyntax(c, "XINFO");
                return;
            }
            if (xGetLL(c, c->argv[5], &count) == -1) return;
            if (count < 0) count = 10;
        }
    }
    if (full) {
        xinfoStreamFull(c, s, count);
        return;
    }
    replyMapLen(c, 10);
    replyStreamHeader(c, s);
    replyBulkCString(c, "groups");
    replyLongLong(c, (long long)streamCGCount(s));
    streamIter it;
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, id;
    int64_t nf;
    for (int last = 0; last < 2; last++) {
        replyBulkCString(c, last ? "last-entry" : "first-entry");
        streamIterStart(&it, s, &lo, &hi, last);
        if (streamIterNext(&it, &id, &nf)) xReplyEntry(c, &it, &id, nf);
        else replyNull(c);
    }
}

static void xinfoGroupsCommand(client *c) {
    stream *s = infoStreamOrReply(c);
    if (!s) return;
    size_t ng = streamCGCount(s);
    replyArrayLen(c, (long)ng);
    for (size_t g = 0; g < ng; g++) {
        streamCG *cg = s->cgroups->groups[g];
        replyMapLen(c, 6);
        replyBulkCString(c, "name");
        replyBulk(c, cg->name, cg->nameLen);
        replyBulkCString(c, "consumers");
        replyLongLong(c, (long long)cg->nconsumers);
        replyBulkCString(c, "pending");
        replyLongLong(c, (long long)cg->pel.len);
        replyGroupProgress(c, s, cg);
    }
}

static void xinfoConsumersCommand(client *c) {
    stream *s = infoStreamOrReply(c);
    if (!s) return;
    streamCG *cg = streamCGLookup(s, c->argv[3].p, c->argv[3].len);
    if (!cg) {
        replyErrorFormat(c, "-NOGROUP No such consumer group '%.*s' for key name '%.*s'", cLen(c->argv[3]),
                         c->argv[3].p, cLen(c->argv[2]), c->argv[2].p);
        return;
    }
    replyArrayLen(c, (long)cg->nconsumers);
    for (size_t k = 0; k < cg->nconsumers; k++) {
        streamConsumer *sc = cg->consumers[k];
        replyMapLen(c, 3);
        replyBulkCString(c, "name");
        replyBulk(c, sc->name, sc->nameLen);
        replyBulkCString(c, "pending");
        replyLongLong(c, (long long)sc->pel.len);
        replyBulkCString(c, "idle");
        long long idle = msSince(srv.mstime, sc->seenTime);
        replyLongLong(c, idle < 0 ? 0 : idle);
    }
}

static void xinfoHelpCommand(client *c) {
    static const char *help[] = {"CONSUMERS <key> <groupname>",
                                 "    Show consumers of <groupname>.",
                                 "GROUPS <key>",
                                 "    Show the stream consumer groups.",
                                 "STREAM <key> [FULL [COUNT <count>]",
                                 "    Show information about the stream.",
                                 NULL};
    replyHelp(c, help);
}

/* ======================================================================== */
/* table                                                                    */
/* ======================================================================== */

#define SK .firstKey = 1, .lastKey = 1, .keyStep = 1
#define SK2 .firstKey = 2, .lastKey = 2, .keyStep = 1

static cmdDef xgroupSubcommands[] = {
    {.name = "create", .proc = xgroupCommand, .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "Create a consumer group.", .complexity = "O(1)"},
    {.name = "createconsumer", .proc = xgroupCommand, .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STREAM,
     SK2, .since = "6.2.0", .summary = "Create a consumer in a consumer group.", .complexity = "O(1)"},
    {.name = "delconsumer", .proc = xgroupCommand, .arity = 5, .flags = CMD_WRITE, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "Delete a consumer from a consumer group.", .complexity = "O(1)"},
    {.name = "destroy", .proc = xgroupCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "Destroy a consumer group.",
     .complexity = "O(N) where N is the number of entries in the group's pending entries list (PEL)."},
    {.name = "help", .proc = xgroupCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_STREAM,
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {.name = "setid", .proc = xgroupCommand, .arity = -5, .flags = CMD_WRITE, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "Set a consumer group to an arbitrary last delivered ID value.", .complexity = "O(1)"},
    {0}};

static cmdDef xinfoSubcommands[] = {
    {.name = "consumers", .proc = xinfoConsumersCommand, .arity = 4, .flags = CMD_READONLY, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "List the consumers in a consumer group", .complexity = "O(1)"},
    {.name = "groups", .proc = xinfoGroupsCommand, .arity = 3, .flags = CMD_READONLY, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "List the consumer groups of a stream", .complexity = "O(1)"},
    {.name = "help", .proc = xinfoHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_STREAM,
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {.name = "stream", .proc = xinfoStreamCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_STREAM, SK2,
     .since = "5.0.0", .summary = "Get information about a stream", .complexity = "O(1)"},
    {0}};

cmdDef streamGroupCommands[] = {
    {.name = "xread", .proc = xreadCommand, .arity = -4, .flags = CMD_READONLY | CMD_BLOCKING | CMD_MOVABLE_KEYS, .acl = ACL_STREAM,
     .streamsKeys = 1, .group = "stream", .since = "5.0.0",
     .summary = "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
     .complexity = "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data."},
    {.name = "xreadgroup", .proc = xreadgroupCommand, .arity = -7, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, .acl = ACL_STREAM,
     .streamsKeys = 4, .group = "stream", .since = "5.0.0",
     .summary = "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
     .complexity = "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."},
    {.name = "xgroup", .proc = xgroupContainer, .arity = -2, .acl = ACL_STREAM, .group = "stream", .since = "5.0.0",
     .summary = "A container for consumer groups commands", .complexity = "Depends on subcommand.",
     .subcmds = xgroupSubcommands},
    {.name = "xinfo", .proc = xgroupContainer, .arity = -2, .acl = ACL_STREAM, .group = "stream", .since = "5.0.0",
     .summary = "A container for stream introspection commands", .complexity = "Depends on subcommand.",
     .subcmds = xinfoSubcommands},
    {.name = "xack", .proc = xackCommand, .arity = -4, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STREAM, SK,
     .group = "stream", .since = "5.0.0",
     .summary = "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
     .complexity = "O(1) for each message ID processed."},
    {.name = "xpending", .proc = xpendingCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_STREAM, SK,
     .group = "stream", .since = "5.0.0",
     .summary = "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
     .complexity = "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."},
    {.name = "xclaim", .proc = xclaimCommand, .arity = -6, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STREAM, SK,
     .group = "stream", .since = "5.0.0",
     .summary = "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
     .complexity = "O(log N) with N being the number of messages in the PEL of the consumer group."},
    {.name = "xautoclaim", .proc = xautoclaimCommand, .arity = -6, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STREAM, SK,
     .group = "stream", .since = "6.2.0",
     .summary = "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
     .complexity = "O(1) if COUNT is small."},
    {.name = NULL},
};
