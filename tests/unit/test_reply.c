/* test_reply.c - unit tests for reply.c: the exact bytes every reply builder
 * produces, in RESP2 and RESP3.
 *
 * Owns: a fake connection. reply.c produces nothing for a client without a
 * conn (shouldReply), so each test client gets a conn whose type is a stub
 * that never touches a socket; the bytes are read back from c->buf and the
 * reply block list, in wire order. reply.c itself is not changed for tests.
 * Must never write to a real fd or run the event loop. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "acl.h"
#include "config.h"
#include "unit.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static ssize_t stubRead(conn *c, void *buf, size_t len) {
    (void)c, (void)buf, (void)len;
    return -1;
}
static ssize_t stubWritev(conn *c, const struct iovec *iov, int n) {
    (void)c, (void)iov, (void)n;
    return -1;
}
static void stubClose(conn *c) { c->state = CONN_STATE_CLOSED; }
static int stubSetHandler(conn *c, connHandler *h) {
    (void)c, (void)h;
    return 0;
}
static const connType stubType = {"stub", stubRead, stubWritev, stubClose, stubSetHandler, stubSetHandler, NULL, 0};

static conn fakeConn;

static client *mk(int resp) {
    client *c = clientCreate(NULL);
    memset(&fakeConn, 0, sizeof(fakeConn));
    fakeConn.type = &stubType;
    fakeConn.fd = -1;
    fakeConn.data = c;
    c->conn = &fakeConn;
    c->resp = resp;
    return c;
}

/* The client's pending output in wire order: c->buf, then the blocks. */
static char *output(client *c, size_t *len) {
    size_t total = c->bufpos;
    for (replyBlock *b = c->reply; b; b = b->next) total += b->used;
    char *out = malloc(total + 1);
    memcpy(out, c->buf, c->bufpos);
    size_t off = c->bufpos;
    for (replyBlock *b = c->reply; b; b = b->next) {
        memcpy(out + off, b->buf, b->used);
        off += b->used;
    }
    out[total] = '\0';
    *len = total;
    return out;
}

static void done(client *c) {
    c->conn = NULL; /* the fake conn is static: nothing to close */
    clientFree(c);
}

/* Checks the output of one client against want (with explicit length). */
#define EXPECT_OUT(c, want, wantlen)                                                                                   \
    do {                                                                                                               \
        size_t outLen_;                                                                                                \
        char *out_ = output((c), &outLen_);                                                                            \
        CHECK_EQ_BYTES(out_, outLen_, (want), (wantlen));                                                              \
        free(out_);                                                                                                    \
    } while (0)
#define EXPECT(c, lit) EXPECT_OUT(c, lit, sizeof(lit) - 1)

/* Runs stmt on a fresh RESP2 client and a fresh RESP3 client. */
#define BOTH(stmt, want2, want3)                                                                                       \
    do {                                                                                                               \
        client *c = mk(2);                                                                                             \
        stmt;                                                                                                          \
        EXPECT(c, want2);                                                                                              \
        done(c);                                                                                                       \
        c = mk(3);                                                                                                     \
        stmt;                                                                                                          \
        EXPECT(c, want3);                                                                                              \
        done(c);                                                                                                       \
    } while (0)

static void testScalars(void) {
    UNIT_SECTION("scalars");
    BOTH(replyOk(c), "+OK\r\n", "+OK\r\n");
    BOTH(replyStatus(c, "QUEUED"), "+QUEUED\r\n", "+QUEUED\r\n");
    BOTH(replyLongLong(c, 0), ":0\r\n", ":0\r\n");
    BOTH(replyLongLong(c, 1), ":1\r\n", ":1\r\n");
    BOTH(replyLongLong(c, -1), ":-1\r\n", ":-1\r\n");
    BOTH(replyLongLong(c, 12345), ":12345\r\n", ":12345\r\n");
    BOTH(replyLongLong(c, LLONG_MAX), ":9223372036854775807\r\n", ":9223372036854775807\r\n");
    BOTH(replyLongLong(c, LLONG_MIN), ":-9223372036854775808\r\n", ":-9223372036854775808\r\n");
    BOTH(replyBulk(c, "hello", 5), "$5\r\nhello\r\n", "$5\r\nhello\r\n");
    BOTH(replyBulk(c, "", 0), "$0\r\n\r\n", "$0\r\n\r\n");
    BOTH(replyBulk(c, "a\0\r\nb", 5), "$5\r\na\0\r\nb\r\n", "$5\r\na\0\r\nb\r\n");
    BOTH(replyBulkCString(c, "abc"), "$3\r\nabc\r\n", "$3\r\nabc\r\n");
    BOTH(replyBulkCString(c, NULL), "$-1\r\n", "_\r\n");
    BOTH(replyBulkLongLong(c, -42), "$3\r\n-42\r\n", "$3\r\n-42\r\n");
    BOTH(replySlice(c, ((slice){"xy", 2})), "$2\r\nxy\r\n", "$2\r\nxy\r\n");
    BOTH(replyNull(c), "$-1\r\n", "_\r\n");
    BOTH(replyNullArray(c), "*-1\r\n", "_\r\n");
    BOTH(replyBool(c, 1), ":1\r\n", "#t\r\n");
    BOTH(replyBool(c, 0), ":0\r\n", "#f\r\n");

    /* A status longer than the builder's stack buffer. */
    char longStatus[300];
    memset(longStatus, 's', sizeof(longStatus) - 1);
    longStatus[sizeof(longStatus) - 1] = '\0';
    client *c = mk(2);
    replyStatus(c, longStatus);
    char want[310];
    want[0] = '+';
    memcpy(want + 1, longStatus, 299);
    memcpy(want + 300, "\r\n", 2);
    EXPECT_OUT(c, want, 302);
    done(c);
}

static void testAggregates(void) {
    UNIT_SECTION("aggregates");
    BOTH(replyArrayLen(c, 0), "*0\r\n", "*0\r\n");
    BOTH((replyArrayLen(c, 2), replyBulk(c, "a", 1), replyLongLong(c, 7)), "*2\r\n$1\r\na\r\n:7\r\n",
         "*2\r\n$1\r\na\r\n:7\r\n");
    BOTH((replyMapLen(c, 1), replyBulk(c, "k", 1), replyBulk(c, "v", 1)), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n",
         "%1\r\n$1\r\nk\r\n$1\r\nv\r\n");
    BOTH(replyMapLen(c, 0), "*0\r\n", "%0\r\n");
    BOTH((replySetLen(c, 2), replyBulk(c, "x", 1), replyBulk(c, "y", 1)), "*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
         "~2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    BOTH((replyPushLen(c, 3), replyBulk(c, "message", 7), replyBulk(c, "ch", 2), replyBulk(c, "hi", 2)),
         "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
}

static void testDoubles(void) {
    UNIT_SECTION("doubles");
    BOTH(replyDouble(c, 1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
    BOTH(replyDouble(c, 3.0), "$1\r\n3\r\n", ",3\r\n");
    BOTH(replyDouble(c, -2.0), "$2\r\n-2\r\n", ",-2\r\n");
    BOTH(replyDouble(c, 0.0), "$1\r\n0\r\n", ",0\r\n");
    BOTH(replyDouble(c, 0.1), "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n");
    BOTH(replyDouble(c, 1e20), "$5\r\n1e+20\r\n", ",1e+20\r\n");
    BOTH(replyDouble(c, INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
    BOTH(replyDouble(c, -INFINITY), "$4\r\n-inf\r\n", ",-inf\r\n");
}

static void testVerbatim(void) {
    UNIT_SECTION("verbatim");
    BOTH(replyVerbatim(c, "hello", 5, "txt"), "$5\r\nhello\r\n", "=9\r\ntxt:hello\r\n");
    BOTH(replyVerbatim(c, "# Server\r\nx:1\r\n", 15, "txt"), "$15\r\n# Server\r\nx:1\r\n\r\n",
         "=19\r\ntxt:# Server\r\nx:1\r\n\r\n");
    BOTH(replyVerbatim(c, "", 0, "mkd"), "$0\r\n\r\n", "=4\r\nmkd:\r\n");
}

static void testErrors(void) {
    UNIT_SECTION("errors");
    long long before = srv.statTotalErrorReplies;
    BOTH(replyError(c, "some problem"), "-ERR some problem\r\n", "-ERR some problem\r\n");
    CHECK_EQ_INT(srv.statTotalErrorReplies, before + 2);
    BOTH(replyError(c, "-WRONGTYPE Operation against a key holding the wrong kind of value"),
         "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
         "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    BOTH(replyError(c, "bad\r\nthing\nhere"), "-ERR bad  thing here\r\n", "-ERR bad  thing here\r\n");
    BOTH(replyError(c, "-NOSCRIPT no\nway"), "-NOSCRIPT no way\r\n", "-NOSCRIPT no way\r\n");
    BOTH(replyErrorFormat(c, "unknown command '%s'", "x"), "-ERR unknown command 'x'\r\n",
         "-ERR unknown command 'x'\r\n");
    BOTH(replyErrorSyntax(c), "-ERR syntax error\r\n", "-ERR syntax error\r\n");
    BOTH(replyErrorNotInt(c), "-ERR value is not an integer or out of range\r\n",
         "-ERR value is not an integer or out of range\r\n");
    BOTH(replyErrorWrongType(c), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
         "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");

    /* A long error (past the builder's stack buffer) is scrubbed too. */
    size_t n = 2000;
    char *err = malloc(n + 1);
    for (size_t i = 0; i < n; i++) err[i] = (i % 100 == 50) ? '\n' : 'e';
    err[n] = '\0';
    char *want = malloc(n + 8);
    memcpy(want, "-ERR ", 5);
    for (size_t i = 0; i < n; i++) want[5 + i] = err[i] == '\n' ? ' ' : err[i];
    memcpy(want + 5 + n, "\r\n", 2);
    client *c = mk(2);
    replyError(c, err);
    EXPECT_OUT(c, want, n + 7);
    done(c);
    free(err);
    free(want);
}

static void testDeferred(void) {
    UNIT_SECTION("deferred lengths");
    /* Array: something already in buf, then the deferred header, items, and
     * more after it: order on the wire is kept. */
    client *c = mk(2);
    replyOk(c);
    void *d = replyDeferredLen(c);
    replyBulk(c, "a", 1);
    replyBulk(c, "bb", 2);
    replyLongLong(c, 3);
    replySetDeferredArrayLen(c, d, 3);
    replyOk(c);
    EXPECT(c, "+OK\r\n*3\r\n$1\r\na\r\n$2\r\nbb\r\n:3\r\n+OK\r\n");
    done(c);

    BOTH((d = replyDeferredLen(c), replyBulk(c, "k", 1), replyBulk(c, "v", 1), replySetDeferredMapLen(c, d, 1)),
         "*2\r\n$1\r\nk\r\n$1\r\nv\r\n", "%1\r\n$1\r\nk\r\n$1\r\nv\r\n");
    BOTH((d = replyDeferredLen(c), replyBulk(c, "m", 1), replySetDeferredSetLen(c, d, 1)), "*1\r\n$1\r\nm\r\n",
         "~1\r\n$1\r\nm\r\n");
    BOTH((d = replyDeferredLen(c), replySetDeferredArrayLen(c, d, 0)), "*0\r\n", "*0\r\n");

    /* Nested: an outer deferred array holding inner deferred ones. */
    c = mk(3);
    void *outer = replyDeferredLen(c);
    for (int i = 0; i < 2; i++) {
        void *inner = replyDeferredLen(c);
        replyLongLong(c, i);
        replyLongLong(c, i + 10);
        replySetDeferredMapLen(c, inner, 1);
    }
    replySetDeferredArrayLen(c, outer, 2);
    EXPECT(c, "*2\r\n%1\r\n:0\r\n:10\r\n%1\r\n:1\r\n:11\r\n");
    done(c);

    /* A deferred length after buf is full and the list has begun. */
    c = mk(2);
    char big[CLIENT_BUF_LEN];
    memset(big, 'q', sizeof(big));
    replyRaw(c, big, sizeof(big) - 3);
    replyRaw(c, "+x\r\n", 4); /* spans buf and the first block */
    d = replyDeferredLen(c);
    replyBulk(c, "z", 1);
    replySetDeferredArrayLen(c, d, 1);
    size_t len;
    char *out = output(c, &len);
    CHECK_EQ_INT(len, sizeof(big) - 3 + 4 + 4 + 7);
    CHECK_EQ_BYTES(out + sizeof(big) - 3, len - (sizeof(big) - 3), "+x\r\n*1\r\n$1\r\nz\r\n", 15);
    free(out);
    done(c);
}

static void testBigReplies(void) {
    UNIT_SECTION("big replies span buf and blocks");
    /* A 100 KB bulk after 10 KB already in buf. */
    size_t pre = 10 * 1024, n = 100 * 1024;
    char *fill = malloc(pre);
    memset(fill, 'p', pre);
    char *val = malloc(n);
    for (size_t i = 0; i < n; i++) val[i] = (char)(i * 7);
    client *c = mk(2);
    replyRaw(c, fill, pre);
    replyBulk(c, val, n);
    replyOk(c);
    size_t len;
    char *out = output(c, &len);
    const char *hdr = "$102400\r\n";
    size_t want = pre + strlen(hdr) + n + 2 + 5;
    CHECK_EQ_INT(len, want);
    if (len == want) {
        CHECK(memcmp(out, fill, pre) == 0);
        CHECK_EQ_BYTES(out + pre, strlen(hdr), hdr, strlen(hdr));
        CHECK(memcmp(out + pre + strlen(hdr), val, n) == 0);
        CHECK_EQ_BYTES(out + pre + strlen(hdr) + n, 7, "\r\n+OK\r\n", 7);
    }
    CHECK(c->reply != NULL);               /* it did spill into blocks */
    CHECK_EQ_INT(c->bufpos, CLIENT_BUF_LEN); /* after filling buf */
    CHECK_EQ_INT(clientReplyBytes(c), len - CLIENT_BUF_LEN);
    free(out);
    done(c);

    /* Many small replies crossing buf into blocks keep their order. */
    c = mk(2);
    size_t expectLen = 0;
    for (int i = 0; i < 5000; i++) {
        replyLongLong(c, i);
        char tmp[32];
        expectLen += (size_t)snprintf(tmp, sizeof(tmp), ":%d\r\n", i);
    }
    out = output(c, &len);
    CHECK_EQ_INT(len, expectLen);
    int bad = 0;
    size_t off = 0;
    for (int i = 0; i < 5000 && off < len; i++) {
        char tmp[32];
        int l = snprintf(tmp, sizeof(tmp), ":%d\r\n", i);
        if (memcmp(out + off, tmp, (size_t)l) != 0) bad++;
        off += (size_t)l;
    }
    CHECK_EQ_INT(bad, 0);
    free(out);
    done(c);
    free(fill);
    free(val);
}

static void testNoReply(void) {
    UNIT_SECTION("replies suppressed");
    /* No conn: nothing is produced (and nothing is pending). */
    client *c = clientCreate(NULL);
    replyOk(c);
    replyBulk(c, "x", 1);
    CHECK_EQ_INT(c->bufpos, 0);
    CHECK(c->reply == NULL);
    CHECK(!(c->flags & CLIENT_PENDING_WRITE));
    CHECK(replyDeferredLen(c) == NULL);
    replySetDeferredArrayLen(c, NULL, 3); /* a NULL node is ignored */
    clientFree(c);

    c = mk(2);
    c->flags |= CLIENT_REPLY_OFF;
    replyOk(c);
    CHECK_EQ_INT(c->bufpos, 0);
    c->flags &= ~(uint64_t)CLIENT_REPLY_OFF;
    replyOk(c);
    EXPECT(c, "+OK\r\n");
    CHECK(c->flags & CLIENT_PENDING_WRITE);
    done(c);
}

static void testObufLimit(void) {
    UNIT_SECTION("output buffer hard limit");
    int verbosity = srv.verbosity;
    srv.verbosity = LL_WARNING + 1; /* keep the expected warning out of the output */
    obufLimit saved = srv.obufLimits[OBUF_NORMAL];
    srv.obufLimits[OBUF_NORMAL].hard = 64 * 1024;
    srv.obufLimits[OBUF_NORMAL].soft = 0;
    long long before = srv.statClientObufLimitDisconnections;
    client *c = mk(2);
    char *val = calloc(1, 100 * 1024);
    replyBulk(c, val, 100 * 1024);
    CHECK(c->flags & CLIENT_CLOSE_ASAP);
    CHECK_EQ_INT(srv.statClientObufLimitDisconnections, before + 1);
    size_t held = clientReplyBytes(c);
    replyOk(c); /* dropped: the client is closing */
    CHECK_EQ_INT(clientReplyBytes(c), held);
    done(c);
    srv.obufLimits[OBUF_NORMAL] = saved;
    srv.verbosity = verbosity;
    free(val);
}

static void testHelp(void) {
    UNIT_SECTION("help");
    client *c = mk(2);
    slice argv[2] = {{"object", 6}, {"help", 4}};
    c->argc = 2;
    c->argv = argv; /* borrowed: reset before the client is freed */
    const char *lines[] = {"ENCODING <key>", "    Return the encoding.", NULL};
    replyHelp(c, lines);
    EXPECT(c, "*5\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"
              "+    Return the encoding.\r\n+HELP\r\n+    Prints this help.\r\n");
    c->argv = NULL;
    c->argc = 0;
    done(c);
}

int main(void) {
    cmdInitTable(); /* clients start as the default user (acl.c) */
    aclInit();
    configInitDefaults();
    srv.dbnum = 1;
    dbInitAll();
    serverUpdateCachedTime();
    testScalars();
    testAggregates();
    testDoubles();
    testVerbatim();
    testErrors();
    testDeferred();
    testBigReplies();
    testNoReply();
    testObufLimit();
    testHelp();
    return unitDone();
}
