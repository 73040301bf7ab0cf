/* test_resp.c - unit tests for resp.c, the request parser.
 *
 * Owns: nothing in the server. For every valid request (and pipeline) in the
 * tables below it feeds EVERY prefix, each copied into an allocation of
 * exactly that size (so a sanitizer build catches any read past the bytes
 * received), and checks the parser says PARTIAL until a request is whole,
 * never OK early and never ERROR; then OK with the exact arguments and
 * consumed length. The same again keeping the resume state across growing
 * prefixes, as the client does. Then every protocol error, with Redis 7's
 * exact text. Must never depend on the parser's internals beyond resp.h. */
#include "resp.h"
#include "db.h"
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t len;
} bs;
#define B(s) {s, sizeof(s) - 1}

#define MAXARGS 8
typedef struct {
    int argc;
    bs argv[MAXARGS];
    size_t len; /* bytes the request takes, consumed on OK */
} expReq;

#define MAXREQ 5
typedef struct {
    const char *name;
    bs in;
    int nreq;
    expReq req[MAXREQ];
} validCase;

#define MAXBULK_DEFAULT (512LL * 1024 * 1024)

static const validCase validCases[] = {
    {"ping", B("*1\r\n$4\r\nPING\r\n"), 1, {{1, {B("PING")}, 14}}},
    {"set", B("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"), 1, {{3, {B("SET"), B("k"), B("hello")}, 31}}},
    {"empty bulk", B("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), 1, {{2, {B("ECHO"), B("")}, 20}}},
    {"binary bulk", B("*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0\r\n\r\n"), 1, {{2, {B("ECHO"), B("a\r\n\0\r\n")}, 26}}},
    {"bulk with $ and *", B("*2\r\n$1\r\n*\r\n$2\r\n$3\r\n"), 1, {{2, {B("*"), B("$3")}, 19}}},
    {"star zero", B("*0\r\n"), 1, {{0, {{0}}, 4}}},
    {"star minus one", B("*-1\r\n"), 1, {{0, {{0}}, 5}}},
    {"star zero then ping", B("*0\r\n*1\r\n$4\r\nPING\r\n"), 2, {{0, {{0}}, 4}, {1, {B("PING")}, 14}}},
    {"inline ping", B("PING\r\n"), 1, {{1, {B("PING")}, 6}}},
    {"inline lf only", B("PING\n"), 1, {{1, {B("PING")}, 5}}},
    {"inline spaces", B("  SET   k\tv  \r\n"), 1, {{3, {B("SET"), B("k"), B("v")}, 15}}},
    {"inline empty line", B("\r\n"), 1, {{0, {{0}}, 2}}},
    {"inline blank line", B("   \r\n"), 1, {{0, {{0}}, 5}}},
    {"inline double quotes", B("SET \"a b\" \"c\\x41\"\r\n"), 1, {{3, {B("SET"), B("a b"), B("cA")}, 19}}},
    {"inline escapes", B("ECHO \"\\n\\r\\t\\b\\a\\\\\\\"x\"\r\n"), 1, {{2, {B("ECHO"), B("\n\r\t\b\a\\\"x")}, 24}}},
    {"inline hex", B("ECHO \"\\x00\\xff\\x7A\\x4g\"\n"), 1, {{2, {B("ECHO"), B("\0\xffzx4g")}, 24}}},
    {"inline single quotes", B("ECHO 'a\\'b' 'c\"d' '\\n'\r\n"), 1, {{4, {B("ECHO"), B("a'b"), B("c\"d"), B("\\n")}, 24}}},
    {"inline empty quoted", B("ECHO \"\" ''\r\n"), 1, {{3, {B("ECHO"), B(""), B("")}, 12}}},
    {"inline quote mid-token", B("SET a\"b c\" d\r\n"), 1, {{3, {B("SET"), B("ab c"), B("d")}, 14}}},
    {"inline dollar", B("$3\r\n"), 1, {{1, {B("$3")}, 4}}},
    {"pipeline mixed",
     B("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n\r\nECHO \"x y\"\n"),
     5,
     {{1, {B("PING")}, 14},
      {1, {B("PING")}, 6},
      {2, {B("GET"), B("k")}, 20},
      {0, {{0}}, 2},
      {2, {B("ECHO"), B("x y")}, 11}}},
    {"pipeline of sets",
     B("*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n"),
     3,
     {{3, {B("SET"), B("k1"), B("a")}, 28}, {3, {B("SET"), B("k2"), B("b")}, 28}, {2, {B("GET"), B("k1")}, 21}}},
    {"bulk not followed by crlf is taken", B("*1\r\n$4\r\nPINGxx"), 1, {{1, {B("PING")}, 14}}},
};

/* ---- the driver ------------------------------------------------------------ */

static respArg *store;
static long storeCap;
static long needArgvCalls;

/* respParse, growing the caller's argv on NEED_ARGV as client.c does. */
static respStatus parseGrow(char *buf, size_t len, respReq *r, long long maxBulk, const char **err) {
    for (int guard = 0; guard < 64; guard++) {
        r->argv = store;
        r->argvCap = storeCap;
        respStatus st = respParse(buf, len, r, maxBulk, err);
        if (st != RESP_NEED_ARGV) return st;
        needArgvCalls++;
        if (r->argcWant <= storeCap) {
            CHECKF(0, "NEED_ARGV without growth: want %ld, cap %ld", r->argcWant, storeCap);
            return RESP_ERROR;
        }
        store = realloc(store, sizeof(respArg) * (size_t)r->argcWant);
        storeCap = r->argcWant;
    }
    CHECKF(0, "NEED_ARGV loop did not converge");
    return RESP_ERROR;
}

static void resetStore(void) {
    free(store);
    store = NULL;
    storeCap = 0;
}

static int reqMatches(const char *name, size_t prefix, const char *base, const respReq *r, const expReq *e) {
    int ok = r->argc == e->argc && r->pos == e->len;
    for (int i = 0; ok && i < e->argc; i++) {
        if (r->argv[i].len != e->argv[i].len || memcmp(base + r->argv[i].off, e->argv[i].p, e->argv[i].len) != 0)
            ok = 0;
    }
    if (!ok) {
        printf("  %s (prefix %zu): got argc=%ld pos=%zu, want argc=%d pos=%zu\n", name, prefix, r->argc, r->pos, e->argc,
               e->len);
        for (long i = 0; i < r->argc && i < MAXARGS; i++) {
            printf("    arg %ld: ", i);
            unitPrintBytes(base + r->argv[i].off, r->argv[i].len);
            putc('\n', stdout);
        }
    }
    return ok;
}

/* Parses the first `prefix` bytes of c->in from scratch (zeroed state for
 * every request). Returns the number of contract breaks. */
static int checkPrefixFresh(const validCase *c, size_t prefix) {
    char *buf = malloc(prefix ? prefix : 1);
    memcpy(buf, c->in.p, prefix);
    size_t off = 0;
    int bad = 0, done = 0;
    for (;;) {
        respReq r;
        respReqReset(&r);
        const char *err = NULL;
        char *before = malloc(prefix - off + 1);
        memcpy(before, buf + off, prefix - off);
        respStatus st = parseGrow(buf + off, prefix - off, &r, MAXBULK_DEFAULT, &err);
        if (st == RESP_OK) {
            if (done >= c->nreq || off + c->req[done].len > prefix) {
                printf("  %s: OK early at prefix %zu (request %d)\n", c->name, prefix, done);
                bad++;
            } else if (!reqMatches(c->name, prefix, buf + off, &r, &c->req[done])) {
                bad++;
            }
            off += r.pos;
            done++;
            free(before);
            if (bad || off == prefix) break;
            continue;
        }
        if (st == RESP_ERROR) {
            printf("  %s: ERROR \"%s\" at prefix %zu\n", c->name, err ? err : "?", prefix);
            bad++;
        } else if (st == RESP_PARTIAL) {
            /* Nothing may be written before the request is whole. */
            if (memcmp(before, buf + off, prefix - off) != 0) {
                printf("  %s: buffer modified on PARTIAL at prefix %zu\n", c->name, prefix);
                bad++;
            }
            if (done < c->nreq && off + c->req[done].len <= prefix) {
                printf("  %s: PARTIAL at prefix %zu although request %d is whole\n", c->name, prefix, done);
                bad++;
            }
            /* need tells the caller when to call again: never past the end
             * of the request, never at or below what it has. */
            size_t reqLen = done < c->nreq ? c->req[done].len : 0;
            if (r.need <= prefix - off || (reqLen && r.need > reqLen)) {
                printf("  %s: PARTIAL at prefix %zu with need=%zu (have %zu, request is %zu)\n", c->name, prefix, r.need,
                       prefix - off, reqLen);
                bad++;
            }
        }
        free(before);
        break;
    }
    /* The number of whole requests in the prefix must all have been seen. */
    int whole = 0;
    size_t end = 0;
    for (int i = 0; i < c->nreq; i++) {
        end += c->req[i].len;
        if (end <= prefix) whole++;
    }
    if (!bad && done != whole) {
        printf("  %s: prefix %zu parsed %d requests, want %d\n", c->name, prefix, done, whole);
        bad++;
    }
    free(buf);
    return bad;
}

static void checkValidCase(const validCase *c) {
    size_t sum = 0;
    for (int i = 0; i < c->nreq; i++) sum += c->req[i].len;
    CHECKF(sum == c->in.len, "case \"%s\": request lengths add up to %zu, input is %zu", c->name, sum, c->in.len);
    int bad = 0;
    for (size_t k = 0; k <= c->in.len && bad < 5; k++) bad += checkPrefixFresh(c, k);
    CHECKF(bad == 0, "every prefix of \"%s\" (fresh state)", c->name);

    /* Resume: one request state carried across growing prefixes, the way a
     * client receives bytes; each prefix is a fresh exact-size copy, so
     * the state must hold offsets, not pointers. */
    size_t off = 0;
    int done = 0;
    respReq r;
    respReqReset(&r);
    bad = 0;
    for (size_t k = 1; k <= c->in.len && bad == 0; k++) {
        char *buf = malloc(k);
        memcpy(buf, c->in.p, k);
        for (;;) {
            const char *err = NULL;
            respStatus st = parseGrow(buf + off, k - off, &r, MAXBULK_DEFAULT, &err);
            if (st == RESP_ERROR) {
                printf("  %s: resume ERROR \"%s\" at prefix %zu\n", c->name, err ? err : "?", k);
                bad++;
                break;
            }
            if (st == RESP_PARTIAL) {
                if (done < c->nreq && off + c->req[done].len <= k) {
                    printf("  %s: resume PARTIAL at %zu although request %d is whole\n", c->name, k, done);
                    bad++;
                }
                break;
            }
            if (done >= c->nreq || off + c->req[done].len > k) {
                printf("  %s: resume OK early at prefix %zu\n", c->name, k);
                bad++;
                break;
            }
            if (!reqMatches(c->name, k, buf + off, &r, &c->req[done])) bad++;
            off += r.pos;
            done++;
            respReqReset(&r);
            if (off == k) break;
        }
        free(buf);
    }
    CHECKF(bad == 0 && done == c->nreq, "resume across prefixes of \"%s\": %d of %d requests", c->name, done, c->nreq);
}

/* ---- big bulks ------------------------------------------------------------- */

static void checkBigBulk(size_t n, int everyPrefix) {
    char hdr[64];
    int h = snprintf(hdr, sizeof(hdr), "*2\r\n$3\r\nSET\r\n$%zu\r\n", n);
    size_t total = (size_t)h + n + 2;
    char *in = malloc(total);
    memcpy(in, hdr, (size_t)h);
    for (size_t i = 0; i < n; i++) in[h + i] = (char)('a' + i % 26);
    in[h + n] = '\r';
    in[h + n + 1] = '\n';
    validCase c = {"big bulk", {in, total}, 1, {{2, {B("SET"), {in + h, n}}, total}}};
    if (everyPrefix) {
        checkValidCase(&c);
    } else {
        /* Every prefix through the header and the last few; a stride between. */
        int bad = 0;
        size_t stride = total / 128 > 4093 ? total / 128 : 4093;
        for (size_t k = 0; k <= total && bad < 5; k += (k < (size_t)h + 4 || k + 8 > total) ? 1 : stride)
            bad += checkPrefixFresh(&c, k);
        bad += checkPrefixFresh(&c, total);
        CHECKF(bad == 0, "prefixes of a %zu-byte bulk", n);
    }
    free(in);
}

/* ---- NEED_ARGV -------------------------------------------------------------- */

static void testNeedArgv(void) {
    UNIT_SECTION("NEED_ARGV growth");
    /* 1000 arguments, starting with no argv at all. */
    const int n = 1000;
    size_t cap = (size_t)n * 16 + 32, len = 0;
    char *in = malloc(cap);
    len += (size_t)sprintf(in + len, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        char a[16];
        int al = sprintf(a, "a%d", i);
        len += (size_t)sprintf(in + len, "$%d\r\n%s\r\n", al, a);
    }
    resetStore();
    needArgvCalls = 0;
    respReq r;
    respReqReset(&r);
    const char *err = NULL;
    respStatus st = parseGrow(in, len, &r, MAXBULK_DEFAULT, &err);
    CHECK_EQ_INT(st, RESP_OK);
    CHECK_EQ_INT(r.argc, n);
    CHECK_EQ_INT(r.pos, len);
    /* Geometric growth: a handful of calls, not one per argument. */
    CHECKF(needArgvCalls >= 2 && needArgvCalls <= 12, "NEED_ARGV returned %ld times", needArgvCalls);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char a[16];
        int al = sprintf(a, "a%d", i);
        if (r.argv[i].len != (size_t)al || memcmp(in + r.argv[i].off, a, (size_t)al)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    free(in);

    /* A huge declared count does not make the caller allocate for it before
     * the arguments arrive. */
    resetStore();
    char big[] = "*1048576\r\n$1\r\na\r\n";
    respReqReset(&r);
    r.argv = NULL;
    r.argvCap = 0;
    st = respParse(big, sizeof(big) - 1, &r, MAXBULK_DEFAULT, &err);
    CHECK_EQ_INT(st, RESP_NEED_ARGV);
    CHECKF(r.argcWant >= 1 && r.argcWant <= 64, "argcWant=%ld", r.argcWant);
    st = parseGrow(big, sizeof(big) - 1, &r, MAXBULK_DEFAULT, &err);
    CHECK_EQ_INT(st, RESP_PARTIAL);
    CHECK_EQ_INT(r.argc, 1);
    CHECK(storeCap <= 64);

    /* Inline: asks for exactly what the line holds. */
    resetStore();
    char line[2048];
    size_t ll = 0;
    for (int i = 0; i < 100; i++) ll += (size_t)sprintf(line + ll, "w%d ", i);
    line[ll++] = '\n';
    respReqReset(&r);
    r.argv = NULL;
    r.argvCap = 0;
    st = respParse(line, ll, &r, MAXBULK_DEFAULT, &err);
    CHECK_EQ_INT(st, RESP_NEED_ARGV);
    CHECK_EQ_INT(r.argcWant, 100);
    st = parseGrow(line, ll, &r, MAXBULK_DEFAULT, &err);
    CHECK_EQ_INT(st, RESP_OK);
    CHECK_EQ_INT(r.argc, 100);
    CHECK_EQ_BYTES(line + r.argv[99].off, r.argv[99].len, "w99", 3);
    resetStore();
}

/* ---- errors ----------------------------------------------------------------- */

typedef struct {
    const char *name;
    bs in;
    long long maxBulk; /* 0: the default */
    const char *err;
} errorCase;

static const errorCase errorCases[] = {
    {"bad count", B("*abc\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"empty count", B("*\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"plus count", B("*+1\r\n$4\r\nPING\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"leading zero count", B("*01\r\n$4\r\nPING\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"minus zero count", B("*-0\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"space count", B("* 1\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"trailing space count", B("*1 \r\n"), 0, "Protocol error: invalid multibulk length"},
    {"count too large", B("*1048577\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"count overflow", B("*99999999999999999999\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"count way too long", B("*12345678901234567890123\r\n"), 0, "Protocol error: invalid multibulk length"},
    {"garbage instead of $", B("*3\r\n$3\r\nSET\r\nxx\r\n"), 0, "Protocol error: expected '$', got 'x'"},
    {"colon instead of $", B("*1\r\n:1\r\n"), 0, "Protocol error: expected '$', got ':'"},
    {"negative bulk", B("*1\r\n$-1\r\n"), 0, "Protocol error: invalid bulk length"},
    {"negative bulk 5", B("*1\r\n$-5\r\n"), 0, "Protocol error: invalid bulk length"},
    {"empty bulk len", B("*1\r\n$\r\n"), 0, "Protocol error: invalid bulk length"},
    {"leading zero bulk", B("*1\r\n$04\r\nPING\r\n"), 0, "Protocol error: invalid bulk length"},
    {"minus zero bulk", B("*1\r\n$-0\r\n\r\n"), 0, "Protocol error: invalid bulk length"},
    {"plus bulk", B("*1\r\n$+4\r\nPING\r\n"), 0, "Protocol error: invalid bulk length"},
    {"letters bulk", B("*1\r\n$4x\r\nPING\r\n"), 0, "Protocol error: invalid bulk length"},
    {"bulk over max", B("*1\r\n$1001\r\n"), 1000, "Protocol error: invalid bulk length"},
    {"bulk over 1mb", B("*2\r\n$3\r\nSET\r\n$2000000\r\n"), 1024 * 1024, "Protocol error: invalid bulk length"},
    {"bulk len overflow", B("*1\r\n$99999999999999999999\r\n"), 0, "Protocol error: invalid bulk length"},
    {"unbalanced double", B("SET \"a b\r\n"), 0, "Protocol error: unbalanced quotes in request"},
    {"unbalanced single", B("SET 'a\r\n"), 0, "Protocol error: unbalanced quotes in request"},
    {"quote then letter", B("ECHO \"a\"b\r\n"), 0, "Protocol error: unbalanced quotes in request"},
    {"squote then letter", B("ECHO 'a'b\r\n"), 0, "Protocol error: unbalanced quotes in request"},
    {"quote mid-token unclosed", B("SET a\"b\r\n"), 0, "Protocol error: unbalanced quotes in request"},
    {"escaped closing quote", B("ECHO \"a\\\"\r\n"), 0, "Protocol error: unbalanced quotes in request"},
};

static void checkError(const char *name, char *in, size_t len, long long maxBulk, const char *want) {
    resetStore();
    respReq r;
    respReqReset(&r);
    const char *err = NULL;
    char *buf = malloc(len);
    memcpy(buf, in, len);
    respStatus st = parseGrow(buf, len, &r, maxBulk ? maxBulk : MAXBULK_DEFAULT, &err);
    CHECKF(st == RESP_ERROR, "%s: status %d, want ERROR", name, (int)st);
    if (st == RESP_ERROR) CHECKF(err && strcmp(err, want) == 0, "%s: error \"%s\", want \"%s\"", name, err ? err : "(null)", want);
    free(buf);
}

static void testErrors(void) {
    UNIT_SECTION("protocol errors");
    for (size_t i = 0; i < sizeof(errorCases) / sizeof(errorCases[0]); i++) {
        const errorCase *e = &errorCases[i];
        checkError(e->name, (char *)e->in.p, e->in.len, e->maxBulk, e->err);
    }

    /* Limits that are not errors: exactly the maximum count, exactly
     * maxBulk bytes. */
    respReq r;
    const char *err = NULL;
    char okCount[] = "*1048576\r\n";
    resetStore();
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(okCount, sizeof(okCount) - 1, &r, MAXBULK_DEFAULT, &err), RESP_PARTIAL);
    char okBulk[] = "*1\r\n$1000\r\n";
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(okBulk, sizeof(okBulk) - 1, &r, 1000, &err), RESP_PARTIAL);
    CHECK_EQ_INT(r.need, 11 + 1000 + 2);

    /* Lines too long without their \r. */
    size_t n = RESP_MAX_INLINE + 100;
    char *big = malloc(n + 8);
    big[0] = '*';
    memset(big + 1, '1', n);
    checkError("too big mbulk count", big, n + 1, 0, "Protocol error: too big mbulk count string");
    memcpy(big, "*1\r\n$", 5);
    memset(big + 5, '1', n - 5);
    checkError("too big bulk count", big, n, 0, "Protocol error: too big bulk count string");
    memset(big, 'a', n);
    checkError("too big inline", big, n, 0, "Protocol error: too big inline request");
    /* The same lines, still short enough, only wait for more bytes. */
    resetStore();
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(big, 1000, &r, MAXBULK_DEFAULT, &err), RESP_PARTIAL);
    big[0] = '*';
    memset(big + 1, '1', 1000);
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(big, 1000, &r, MAXBULK_DEFAULT, &err), RESP_PARTIAL);
    /* A whole inline line longer than the limit is refused too. */
    memset(big, 'a', n);
    big[n] = '\n';
    checkError("too big inline line", big, n + 1, 0, "Protocol error: too big inline request");
    free(big);

    /* An error after good requests in a pipeline: the good ones parse. */
    char pipe[] = "*1\r\n$4\r\nPING\r\n*1\r\n:x\r\n";
    resetStore();
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(pipe, sizeof(pipe) - 1, &r, MAXBULK_DEFAULT, &err), RESP_OK);
    CHECK_EQ_INT(r.pos, 14);
    size_t off = r.pos;
    respReqReset(&r);
    CHECK_EQ_INT(parseGrow(pipe + off, sizeof(pipe) - 1 - off, &r, MAXBULK_DEFAULT, &err), RESP_ERROR);
    CHECK_EQ_STR(err, "Protocol error: expected '$', got ':'");
}

static void testSplitInline(void) {
    UNIT_SECTION("respSplitInline (shared with the config parser)");
    char line[] = "port 7000 \"a b\" 'c'";
    respArg argv[8];
    long want = 0;
    long n = respSplitInline(line, sizeof(line) - 1, 100, argv, 8, &want);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(argv[0].off, 100); /* offsets are relative to base */
    CHECK_EQ_BYTES(line + argv[2].off - 100, argv[2].len, "a b", 3);
    CHECK_EQ_BYTES(line + argv[3].off - 100, argv[3].len, "c", 1);
    char line2[] = "a b c";
    CHECK_EQ_INT(respSplitInline(line2, 5, 0, argv, 2, &want), -2);
    CHECK_EQ_INT(want, 3);
    char line3[] = "a \"b";
    CHECK_EQ_INT(respSplitInline(line3, 4, 0, argv, 8, &want), -1);
}

int main(void) {
    UNIT_SECTION("valid requests, every prefix");
    for (size_t i = 0; i < sizeof(validCases) / sizeof(validCases[0]); i++) {
        resetStore();
        checkValidCase(&validCases[i]);
    }
    UNIT_SECTION("big bulks");
    checkBigBulk(40000, 1);                 /* over 32 KB and the 16 KB read size */
    checkBigBulk(1024 * 1024 + 7, 0);
    checkBigBulk(10 * 1024 * 1024, 0);
    {
        /* A long inline request just under the limit, every prefix. */
        size_t n = 20000;
        char *in = malloc(n + 16);
        memcpy(in, "ECHO ", 5);
        memset(in + 5, 'z', n);
        memcpy(in + 5 + n, "\r\n", 2);
        validCase c = {"long inline", {in, n + 7}, 1, {{2, {B("ECHO"), {in + 5, n}}, n + 7}}};
        checkValidCase(&c);
        free(in);
    }
    testNeedArgv();
    testErrors();
    testSplitInline();
    resetStore();
    return unitDone();
}
