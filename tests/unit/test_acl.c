/* test_acl.c - unit tests of the ACL rule parser and the permission check
 * (acl.c), without a network: users are defined as config-file "user" lines
 * and probed with aclCheck on argument vectors, and described back with
 * aclDescribeUser as ACL LIST shows them.
 * Must never depend on a server or on another test's users: each test
 * names its own users. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "cmd.h"
#include "acl.h"
#include "unit.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Defines a user from a space-separated rule string; returns 0 or -1 with
 * the parser's message in *err. */
static int define(const char *line, const char **err) {
    char *copy = strdup(line);
    char *argv[1024];
    size_t lens[1024];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 1024; t = strtok(NULL, " ")) {
        lens[argc] = strlen(t);
        argv[argc++] = t;
    }
    static char msg[512];
    int rc = aclConfigUser(argv, lens, argc, msg, sizeof(msg));
    *err = rc ? msg : NULL;
    free(copy);
    return rc;
}

/* The check for one call written as a space-separated command line. */
static int check(const char *user, const char *cmdline, int *badArg) {
    char *copy = strdup(cmdline);
    slice argv[32];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 32; t = strtok(NULL, " ")) argv[argc++] = (slice){t, strlen(t)};
    cmdDef *cmd = cmdLookupArgv(argv, argc);
    int rc = -1;
    if (cmd) rc = aclCheck(aclGetUser(user, strlen(user)), cmd, argv, argc, badArg);
    free(copy);
    return rc;
}

static int allowed(const char *user, const char *cmdline) {
    int bad;
    return check(user, cmdline, &bad) == ACL_OK;
}

static void expectDescribe(const char *user, const char *want) {
    char *d = aclDescribeUser(aclGetUser(user, strlen(user)));
    CHECK_EQ_STR(d, want);
    memFree(d);
}

static void testDefaults(void) {
    UNIT_SECTION("default user");
    expectDescribe("default", "user default on nopass ~* &* +@all");
    CHECK(aclDefaultAutoAuth());
    CHECK(allowed("default", "flushall"));
    CHECK(aclUserUnrestricted(aclDefaultUser()));
}

static void testCommandRules(void) {
    UNIT_SECTION("commands, subcommands, categories");
    const char *err;
    CHECK_EQ_INT(define("cr1 on ~* +@read -get +config|get", &err), 0);
    expectDescribe("cr1", "user cr1 on ~* resetchannels -@all +@read -get +config|get");
    CHECK(allowed("cr1", "hget h f"));
    CHECK(!allowed("cr1", "get k"));
    CHECK(!allowed("cr1", "set k v"));
    CHECK(allowed("cr1", "config get maxmemory"));
    CHECK(!allowed("cr1", "config set maxmemory 1"));
    CHECK(allowed("cr1", "auth x"));  /* AUTH/HELLO/QUIT/RESET: every user */
    CHECK(allowed("cr1", "reset"));
    int bad;
    CHECK_EQ_INT(check("cr1", "flushall", &bad), ACL_DENIED_CMD);

    /* A later rule on the same command replaces the earlier one. */
    CHECK_EQ_INT(define("cr2 on +get +set -get", &err), 0);
    expectDescribe("cr2", "user cr2 on resetchannels -@all +set"); /* Redis 7.0: from the bits */
    CHECK(!allowed("cr2", "get k") && !allowed("cr2", "set k v")); /* no key patterns: keys denied */

    CHECK_EQ_INT(define("cr3 on allkeys allcommands -@dangerous", &err), 0);
    CHECK(allowed("cr3", "get k"));
    CHECK(!allowed("cr3", "flushall"));
    CHECK(!allowed("cr3", "keys *"));
    CHECK_EQ_INT(define("cr3 nocommands +client|id", &err), 0); /* redefines cr3 from scratch */
    CHECK(allowed("cr3", "client id"));
    CHECK(!allowed("cr3", "client kill 1.2.3.4:5"));
    CHECK(!allowed("cr3", "get k"));
}

static void testKeyRules(void) {
    UNIT_SECTION("key patterns and R/W permissions");
    const char *err;
    CHECK_EQ_INT(define("kr1 on +@all ~app::* %R~ro:* %W~wo:*", &err), 0);
    expectDescribe("kr1", "user kr1 on ~app::* %R~ro:* %W~wo:* resetchannels +@all");
    CHECK(allowed("kr1", "get app::1"));
    CHECK(!allowed("kr1", "get other"));
    CHECK(allowed("kr1", "get ro:1"));
    CHECK(!allowed("kr1", "set ro:1 v"));
    CHECK(allowed("kr1", "set wo:1 v"));
    CHECK(allowed("kr1", "lpush wo:1 v"));
    CHECK(!allowed("kr1", "get wo:1"));
    CHECK(!allowed("kr1", "incr wo:1")); /* reads the value too */
    CHECK(allowed("kr1", "copy ro:1 wo:1"));
    CHECK(!allowed("kr1", "copy wo:1 ro:1"));
    CHECK(allowed("kr1", "exists wo:1")); /* any permission is enough */
    int bad = 0;
    CHECK_EQ_INT(check("kr1", "mset app::1 v other v", &bad), ACL_DENIED_KEY);
    CHECK_EQ_INT(bad, 3);
    CHECK_EQ_INT(check("kr1", "zunionstore app::d 2 app::a nope", &bad), ACL_DENIED_KEY);
    CHECK_EQ_INT(bad, 4);
    CHECK(allowed("kr1", "zunionstore app::d 2 app::a app::b"));

    /* Prefix patterns take a fast path; anything else is a glob. */
    CHECK_EQ_INT(define("kr3 on +@all ~u:* ~g?[0-9]* ~x\\*y* ~exact", &err), 0);
    CHECK(allowed("kr3", "get u:"));
    CHECK(allowed("kr3", "get u:1"));
    CHECK(!allowed("kr3", "get u"));
    CHECK(allowed("kr3", "get ga5tail"));
    CHECK(!allowed("kr3", "get gaxtail"));
    CHECK(allowed("kr3", "get x*y1"));
    CHECK(!allowed("kr3", "get xay1"));
    CHECK(allowed("kr3", "get exact"));
    CHECK(!allowed("kr3", "get exactly"));

    CHECK_EQ_INT(define("kr2 on +@all ~a* resetkeys ~b*", &err), 0);
    CHECK(!allowed("kr2", "get a1"));
    CHECK(allowed("kr2", "get b1"));
    CHECK_EQ_INT(define("kr2 on +@all ~a* allkeys", &err), 0);
    expectDescribe("kr2", "user kr2 on ~* resetchannels +@all");
}

static void testChannelRules(void) {
    UNIT_SECTION("channels");
    const char *err;
    CHECK_EQ_INT(define("ch1 on +@all &news.* &chat", &err), 0);
    CHECK(allowed("ch1", "publish news.sport x"));
    CHECK(allowed("ch1", "subscribe chat news.x"));
    CHECK(!allowed("ch1", "subscribe chat other"));
    CHECK(allowed("ch1", "psubscribe news.*"));  /* a pattern only verbatim */
    CHECK(!allowed("ch1", "psubscribe news.s*"));
    CHECK(!allowed("ch1", "spublish other x"));   /* shard channel: a channel, not a key */
    CHECK_EQ_INT(define("ch1 on +@all allchannels resetchannels", &err), 0);
    CHECK(!allowed("ch1", "publish chat x"));
}

static void testErrors(void) {
    UNIT_SECTION("bad rules change nothing");
    const char *err;
    CHECK_EQ_INT(define("bad1 on >pw ~k* +get", &err), 0);
    char *before = aclDescribeUser(aclGetUser("bad1", 4));
    const char *badLines[] = {"bad1 off +set bogus", "bad1 +nosuchcmd", "bad1 +@nosuchcat", "bad1 %X~k",
                              "bad1 #abc", "bad1 !zz", "bad1 +get|nosuch", "bad1 ~k &c +@all -@nosuch",
                              NULL};
    for (int i = 0; badLines[i]; i++) {
        CHECK(define(badLines[i], &err) == -1 && err && err[0]);
        char *after = aclDescribeUser(aclGetUser("bad1", 4));
        CHECK_EQ_STR(after, before);
        memFree(after);
    }
    memFree(before);
    CHECK(define("bad2 +nosuch", &err) == -1);
    CHECK(aclGetUser("bad2", 4) == NULL); /* nothing half-defined */
}

static void testPasswords(void) {
    UNIT_SECTION("passwords");
    const char *err;
    CHECK_EQ_INT(define("pw1 on >one >two +@all ~*", &err), 0);
    char *d = aclDescribeUser(aclGetUser("pw1", 3));
    /* Stored and shown only as SHA-256 (of "one" and "two"). */
    CHECK(strstr(d, "#7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed") != NULL);
    CHECK(strstr(d, "#3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3") != NULL);
    CHECK(strstr(d, "one") == NULL);
    memFree(d);
    CHECK_EQ_INT(define("pw1 on <one", &err), -1); /* redefinition starts empty: no such password */
    CHECK_EQ_INT(define("pw1 on >one <one nopass", &err), 0);
    expectDescribe("pw1", "user pw1 on nopass resetchannels -@all");
    CHECK_EQ_INT(define("pw1 on nopass resetpass", &err), 0);
    expectDescribe("pw1", "user pw1 on resetchannels -@all");
}

/* A long rule list is applied whole (no silent cap). */
static void testManyRules(void) {
    UNIT_SECTION("many rules");
    char line[8192] = "many on";
    for (int i = 0; i < 400; i++) {
        char r[32];
        snprintf(r, sizeof(r), " ~k%d", i);
        strcat(line, r);
    }
    strcat(line, " +get");
    const char *err;
    CHECK_EQ_INT(define(line, &err), 0);
    CHECK(allowed("many", "get k399"));
    CHECK(!allowed("many", "get k400"));
}

int main(void) {
    {
        char *early = NULL;
        if (serverEarlyInit("test_acl", &early) == -1) {
            fprintf(stderr, "%s\n", early);
            abort();
        }
    }
    testDefaults();
    testCommandRules();
    testKeyRules();
    testChannelRules();
    testErrors();
    testPasswords();
    testManyRules();
    return unitDone();
}
