/* acl.c - users and their access rules, in Redis' ACL grammar; the check
 * every command passes; ACL LOG; the ACL file.
 *
 * Owns: every aclUser (the user list), the ACL log, the denial counters.
 * Clients hold a pointer to their user; a user is never freed while a client
 * points at it (deleting a user first closes its clients and points them at
 * the default user until they are freed).
 * Must never: keep a password in clear (only SHA-256, compared in constant
 * time), half-apply an ACL SETUSER or an ACL file (rules are applied to a
 * copy, which replaces the original only when every rule was valid), or
 * make the check of an unrestricted user cost more than one flag test.
 *
 * A user's commands are a bitmap over command ids (every command and every
 * subcommand has one, cmd.c) plus whether commands added later are allowed
 * (+@all). ACL LIST and GETUSER describe the bitmap as Redis 7.0 does
 * (ACLDescribeSelectorCommandRules): "+@all" or "-@all", then the categories
 * that fit best, then single commands for what is left, so rules that change
 * nothing are not shown. */
#include "server.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "acl.h"
#include "config.h"
#include "pubsub.h"
#include "acl_int.h"
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

aclStats aclStat;

static aclUser **users;
static int nusers;
static aclUser *defaultUser;
int aclCmdWords; /* words in a command bitmap */


/* ---- users ------------------------------------------------------------------- */

static aclUser *userNew(const char *name, size_t len) {
    aclUser *u = memCalloc(sizeof(*u));
    u->name = memDupBytes(name, len);
    u->allowed = memCalloc(sizeof(uint64_t) * (size_t)aclCmdWords);
    return u;
}

static void userFree(aclUser *u) {
    if (!u) return;
    memFree(u->name);
    memFree(u->pass);
    memFree(u->allowed);
    for (int i = 0; i < u->nkeys; i++) memFree(u->keys[i].pat);
    memFree(u->keys);
    for (int i = 0; i < u->nchans; i++) memFree(u->chans[i]);
    memFree(u->chans);
    memFree(u);
}

/* A user's key patterns and channels grow by doubling: a user line of
 * thousands of patterns costs n log n copying, not n^2 (each realloc moved
 * the whole array). The capacity is implied by the count, so copies and
 * resets need no extra field: 0 for none, else the next power of two >= n
 * (at least 4). */
static size_t listCap(int n) {
    if (n <= 0) return 0;
    size_t c = 4;
    while (c < (size_t)n) c *= 2;
    return c;
}

/* Adding element n needs a bigger array. */
static int listFull(int n) { return (size_t)n == listCap(n); }

static aclUser *userCopy(const aclUser *src) {
    aclUser *u = userNew(src->name, strlen(src->name));
    u->flags = src->flags;
    if (src->npass) {
        u->pass = memAlloc(32 * (size_t)src->npass);
        memcpy(u->pass, src->pass, 32 * (size_t)src->npass);
    }
    u->npass = src->npass;
    memcpy(u->allowed, src->allowed, sizeof(uint64_t) * (size_t)aclCmdWords);
    if (src->nkeys) u->keys = memAlloc(sizeof(keyPattern) * listCap(src->nkeys));
    for (int i = 0; i < src->nkeys; i++) {
        u->keys[i] = src->keys[i];
        u->keys[i].pat = memStrdup(src->keys[i].pat);
    }
    u->nkeys = src->nkeys;
    if (src->nchans) u->chans = memAlloc(sizeof(char *) * listCap(src->nchans));
    for (int i = 0; i < src->nchans; i++) u->chans[i] = memStrdup(src->chans[i]);
    u->nchans = src->nchans;
    u->unrestricted = src->unrestricted;
    return u;
}

static int findUser(aclUser **list, int n, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(list[i]->name) == len && memcmp(list[i]->name, name, len) == 0) return i;
    return -1;
}

aclUser *aclGetUser(const char *name, size_t len) {
    int i = findUser(users, nusers, name, len);
    return i < 0 ? NULL : users[i];
}

aclUser *aclDefaultUser(void) { return defaultUser; }
const char *aclUserName(const aclUser *u) { return u ? u->name : "default"; }

int aclUserUnrestricted(const aclUser *u) { return u->unrestricted; }
int aclDefaultNoPass(void) { return (defaultUser->flags & USER_NOPASS) != 0; }

/* Clients of a default user that is on and needs no password start
 * authenticated, as in Redis. */
int aclDefaultAutoAuth(void) { return (defaultUser->flags & (USER_ON | USER_NOPASS)) == (USER_ON | USER_NOPASS); }

/* ---- command bitmap ----------------------------------------------------------- */

cmdDef **aclCmdById; /* every command and subcommand by id: one order for all walks */
int aclNCmdIds;

static void byIdCb(cmdDef *cmd, void *priv) {
    (void)priv;
    aclCmdById[cmd->id] = cmd;
    for (cmdDef *s = cmd->subcmds; s && s->name; s++) aclCmdById[s->id] = s;
}

void aclBitsSet(uint64_t *bits, int id, int on) {
    if (on) bits[id / 64] |= 1ULL << (id % 64);
    else bits[id / 64] &= ~(1ULL << (id % 64));
}

int aclBitsGet(const uint64_t *bits, int id) { return (int)((bits[id / 64] >> (id % 64)) & 1); }

static void bitSet(aclUser *u, int id, int on) { aclBitsSet(u->allowed, id, on); }

/* A command and, for a container, each of its subcommands (Redis'
 * ACLChangeSelectorPerm). */
void aclPermChange(uint64_t *bits, const cmdDef *cmd, int on) {
    aclBitsSet(bits, cmd->id, on);
    for (const cmdDef *s = cmd->subcmds; s && s->name; s++) aclBitsSet(bits, s->id, on);
}

/* Every command of a category, as Redis applies +@cat: a container in the
 * category with all its subcommands, then each subcommand in it. */
void aclCategoryApply(uint64_t *bits, uint64_t cat, int on) {
    for (int id = 0; id < aclNCmdIds; id++) {
        const cmdDef *c = aclCmdById[id];
        if (!c || !(c->acl & cat)) continue;
        if (c->parent) aclBitsSet(bits, id, on);
        else aclPermChange(bits, c, on);
    }
}
int aclCategoryFromName(const char *name, size_t len, uint64_t *out) {
    if (len == 3 && !strncasecmp(name, "all", 3)) {
        *out = ~0ULL;
        return 0;
    }
    for (int i = 0; aclCategoryNames[i]; i++)
        if (strlen(aclCategoryNames[i]) == len && !strncasecmp(aclCategoryNames[i], name, len)) {
            *out = 1ULL << i;
            return 0;
        }
    return -1;
}

static int allCommandBitsSet(const aclUser *u);

/* ---- passwords ----------------------------------------------------------------- */

static void sha256(const char *p, size_t len, unsigned char out[32]) {
    unsigned int n = 0;
    EVP_Digest(p, len, out, &n, EVP_sha256(), NULL);
}

static int findPass(const aclUser *u, const unsigned char h[32]) {
    for (int i = 0; i < u->npass; i++)
        if (memcmp(u->pass[i], h, 32) == 0) return i;
    return -1;
}

static void addPass(aclUser *u, const unsigned char h[32]) {
    if (findPass(u, h) >= 0) return;
    u->pass = memRealloc(u->pass, 32 * (size_t)(u->npass + 1));
    memcpy(u->pass[u->npass++], h, 32);
}

static int delPass(aclUser *u, const unsigned char h[32]) {
    int i = findPass(u, h);
    if (i < 0) return -1;
    memmove(u->pass[i], u->pass[i + 1], 32 * (size_t)(u->npass - i - 1));
    u->npass--;
    return 0;
}

static int parseHash(const char *p, size_t len, unsigned char out[32]) {
    if (len != 64) return -1;
    for (size_t i = 0; i < 64; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return -1;
    for (int i = 0; i < 32; i++) {
        int hi = isdigit((unsigned char)p[2 * i]) ? p[2 * i] - '0' : p[2 * i] - 'a' + 10;
        int lo = isdigit((unsigned char)p[2 * i + 1]) ? p[2 * i + 1] - '0' : p[2 * i + 1] - 'a' + 10;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

void aclHashHex(const unsigned char h[32], char out[65]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
}

/* Constant time over the stored hashes: every one is compared. */
static int passwordMatches(const aclUser *u, const char *pass, size_t len) {
    unsigned char h[32];
    sha256(pass, len, h);
    int ok = 0;
    for (int i = 0; i < u->npass; i++) ok |= CRYPTO_memcmp(u->pass[i], h, 32) == 0;
    return ok;
}

/* ---- rules ---------------------------------------------------------------------- */

static const char *errSyntax = "Syntax error";

static void resetKeys(aclUser *u) {
    for (int i = 0; i < u->nkeys; i++) memFree(u->keys[i].pat);
    memFree(u->keys);
    u->keys = NULL;
    u->nkeys = 0;
    u->flags &= ~USER_ALLKEYS;
}

static void resetChannels(aclUser *u) {
    for (int i = 0; i < u->nchans; i++) memFree(u->chans[i]);
    memFree(u->chans);
    u->chans = NULL;
    u->nchans = 0;
    u->flags &= ~USER_ALLCHANNELS;
}

static void setAllCommands(aclUser *u, int on) {
    memset(u->allowed, on ? 0xff : 0, sizeof(uint64_t) * (size_t)aclCmdWords);
    if (on) u->flags |= USER_FUTURE;
    else u->flags &= ~USER_FUTURE;
}

/* Redis refuses key and channel patterns with whitespace or NUL ("Syntax
 * error"): ACL LIST prints them unquoted, so they could not load back. */
static int hasSpaces(const char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)p[i]) || p[i] == '\0') return 1;
    return 0;
}

static int addKeyPattern(aclUser *u, const char *pat, size_t len, int perm, const char **err) {
    if (u->flags & USER_ALLKEYS) {
        *err = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
        return -1;
    }
    if (hasSpaces(pat, len)) {
        *err = errSyntax;
        return -1;
    }
    if (len == 1 && pat[0] == '*' && perm == (PERM_R | PERM_W)) {
        resetKeys(u);
        u->flags |= USER_ALLKEYS;
    }
    for (int i = 0; i < u->nkeys; i++)
        if (u->keys[i].len == len && memcmp(u->keys[i].pat, pat, len) == 0) {
            u->keys[i].perm |= perm;
            return 0;
        }
    if (listFull(u->nkeys)) u->keys = memRealloc(u->keys, sizeof(keyPattern) * listCap(u->nkeys + 1));
    keyPattern *kp = &u->keys[u->nkeys++];
    kp->pat = memDupBytes(pat, len);
    kp->perm = perm;
    kp->len = len;
    kp->prefix = -1;
    if (len && pat[len - 1] == '*' && !memchr(pat, '*', len - 1) && !memchr(pat, '?', len - 1) &&
        !memchr(pat, '[', len - 1) && !memchr(pat, '\\', len - 1))
        kp->prefix = (long)len - 1;
    return 0;
}

static int addChannel(aclUser *u, const char *pat, size_t len, const char **err) {
    if (u->flags & USER_ALLCHANNELS) {
        *err = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any "
               "effect. Try 'resetchannels' to start with an empty list of channels";
        return -1;
    }
    if (hasSpaces(pat, len)) {
        *err = errSyntax;
        return -1;
    }
    if (len == 1 && pat[0] == '*') {
        resetChannels(u);
        u->flags |= USER_ALLCHANNELS;
    }
    for (int i = 0; i < u->nchans; i++)
        if (strlen(u->chans[i]) == len && memcmp(u->chans[i], pat, len) == 0) return 0;
    if (listFull(u->nchans)) u->chans = memRealloc(u->chans, sizeof(char *) * listCap(u->nchans + 1));
    u->chans[u->nchans++] = memDupBytes(pat, len);
    return 0;
}

/* +cmd, -cmd, +cmd|sub, -cmd|sub, +@cat, -@cat. */
static int commandRule(aclUser *u, const char *r, size_t len, const char **err) {
    int on = r[0] == '+';
    const char *name = r + 1;
    size_t nlen = len - 1;
    static const char *unknown = "Unknown command or category name in ACL";
    if (nlen == 0) {
        *err = unknown;
        return -1;
    }
    if (name[0] == '@') {
        uint64_t cat;
        if (aclCategoryFromName(name + 1, nlen - 1, &cat) == -1) {
            *err = unknown;
            return -1;
        }
        if (cat == ~0ULL) {
            setAllCommands(u, on);
            return 0;
        }
        aclCategoryApply(u->allowed, cat, on);
        return 0;
    }
    const char *bar = memchr(name, '|', nlen);
    cmdDef *cmd = cmdLookup(name, bar ? (size_t)(bar - name) : nlen);
    if (!cmd) {
        *err = unknown;
        return -1;
    }
    if (bar) {
        slice sub = {bar + 1, nlen - (size_t)(bar - name) - 1};
        if (!cmd->subcmds) {
            /* Redis 7.0 allows first-argument rules (+select|0); we do not. */
            *err = "Allowing first-arg of a subcommand is not supported";
            return -1;
        }
        cmdDef *s = NULL;
        for (cmdDef *x = cmd->subcmds; x->name; x++)
            if (strlen(x->name) == sub.len && !strncasecmp(x->name, sub.p, sub.len)) s = x;
        if (!s) {
            *err = unknown;
            return -1;
        }
        /* The subcommand only: the container's own bit (its bare form,
         * COMMAND) stays as it was, as in Redis. */
        bitSet(u, s->id, on);
    } else {
        aclPermChange(u->allowed, cmd, on);
    }
    return 0;
}

/* Applies one rule to u. Returns -1 with *err (Redis' reason text). */
static int applyRule(aclUser *u, const char *r, size_t len, const char **err) {
#define IS(lit) (len == sizeof(lit) - 1 && !strncasecmp(r, lit, len))
    if (len == 0) return 0;
    if (IS("on")) u->flags |= USER_ON;
    else if (IS("off")) u->flags &= ~USER_ON;
    else if (IS("nopass")) {
        u->flags |= USER_NOPASS;
        memFree(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (IS("resetpass")) {
        u->flags &= ~USER_NOPASS;
        memFree(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (IS("allkeys")) {
        return addKeyPattern(u, "*", 1, PERM_R | PERM_W, err);
    } else if (IS("resetkeys")) {
        resetKeys(u);
    } else if (IS("allchannels")) {
        return addChannel(u, "*", 1, err);
    } else if (IS("resetchannels")) {
        resetChannels(u);
    } else if (IS("allcommands")) {
        setAllCommands(u, 1);
    } else if (IS("nocommands")) {
        setAllCommands(u, 0);
    } else if (IS("sanitize-payload")) {
        u->flags |= USER_SANITIZE;
    } else if (IS("skip-sanitize-payload")) {
        u->flags &= ~USER_SANITIZE;
    } else if (IS("reset")) {
        u->flags = USER_SANITIZE;
        memFree(u->pass);
        u->pass = NULL;
        u->npass = 0;
        resetKeys(u);
        resetChannels(u);
        setAllCommands(u, 0);
    } else if (r[0] == '>' || r[0] == '<') {
        unsigned char h[32];
        sha256(r + 1, len - 1, h);
        if (r[0] == '>') {
            addPass(u, h);
            u->flags &= ~USER_NOPASS;
        } else if (delPass(u, h) == -1) {
            *err = "The password you are trying to remove from the user does not exist";
            return -1;
        }
    } else if (r[0] == '#' || r[0] == '!') {
        unsigned char h[32];
        if (parseHash(r + 1, len - 1, h) == -1) {
            *err = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
            return -1;
        }
        if (r[0] == '#') {
            addPass(u, h);
            u->flags &= ~USER_NOPASS;
        } else if (delPass(u, h) == -1) {
            *err = "The password you are trying to remove from the user does not exist";
            return -1;
        }
    } else if (r[0] == '~') {
        return addKeyPattern(u, r + 1, len - 1, PERM_R | PERM_W, err);
    } else if (r[0] == '%') {
        int perm = 0;
        size_t i = 1;
        for (; i < len && r[i] != '~'; i++) {
            if (r[i] == 'R' || r[i] == 'r') perm |= PERM_R;
            else if (r[i] == 'W' || r[i] == 'w') perm |= PERM_W;
            else {
                *err = errSyntax;
                return -1;
            }
        }
        if (i == len || !perm) {
            *err = errSyntax;
            return -1;
        }
        return addKeyPattern(u, r + i + 1, len - i - 1, perm, err);
    } else if (r[0] == '&') {
        return addChannel(u, r + 1, len - 1, err);
    } else if (r[0] == '+' || r[0] == '-') {
        return commandRule(u, r, len, err);
    } else if (r[0] == '(' || IS("clearselectors")) {
        *err = "Selectors are not supported by Cachet";
        return -1;
    } else {
        *err = errSyntax;
        return -1;
    }
    return 0;
#undef IS
}

static int allCommandBitsSet(const aclUser *u) {
    int n = cmdTotalIds();
    for (int id = 0; id < n; id++)
        if (!aclBitsGet(u->allowed, id)) return 0;
    return 1;
}

static void refreshCache(aclUser *u) {
    u->unrestricted = (u->flags & USER_ON) && (u->flags & USER_ALLKEYS) && (u->flags & USER_ALLCHANNELS) &&
                      allCommandBitsSet(u);
}

/* Applies rules to a copy of u (or a new user) and returns it; NULL with
 * *err and *bad (the failing rule's index) when a rule is invalid. */
static aclUser *applyRules(const aclUser *base, const char *name, size_t nlen, slice *rules, int n, const char **err,
                           int *bad) {
    aclUser *u = base ? userCopy(base) : userNew(name, nlen);
    for (int i = 0; i < n; i++) {
        if (applyRule(u, rules[i].p, rules[i].len, err) == -1) {
            *bad = i;
            userFree(u);
            return NULL;
        }
    }
    refreshCache(u);
    return u;
}

/* ---- the check -------------------------------------------------------------------- */

/* What a command does with the key at argument idx: read, write, or both.
 * Redis derives this from key specs; we use the command's flags plus the
 * commands that write without reading and the ones with a destination. */
static int keyPermCompute(const cmdDef *cmd, int keyOrdinal) {
    const char *n = cmd->parent ? cmd->parent->name : cmd->name;
    /* Commands that neither read nor change the value: any permission on
     * the key will do (Redis' key specs without ACCESS/INSERT/UPDATE/DELETE). */
    static const char *touchOnly[] = {"exists", "touch", "watch",   "memory", "type",      "strlen", "object",
                                      "llen",   "hlen",  "hexists", "hstrlen", "scard", "sismember", "zcard", "xlen", NULL};
    for (int i = 0; touchOnly[i]; i++)
        if (!strcmp(n, touchOnly[i])) return 0;
    if (cmd->flags & CMD_READONLY) return PERM_R;
    if (!(cmd->flags & CMD_WRITE)) return PERM_R;
    /* Writes whose key spec is RW ACCESS without UPDATE/INSERT/DELETE
     * (XREADGROUP: its PEL changes are not the data). */
    if (!strcmp(n, "xreadgroup")) return PERM_R;
    static const char *destFirst[] = {"sinterstore", "sunionstore", "sdiffstore", "zunionstore", "zinterstore",
                                      "zdiffstore",  "zrangestore", "georadius",  "geosearchstore", NULL};
    for (int i = 0; destFirst[i]; i++)
        if (!strcmp(n, destFirst[i])) return keyOrdinal == 0 ? PERM_W : PERM_R;
    static const char *srcThenDest[] = {"copy", NULL};
    for (int i = 0; srcThenDest[i]; i++)
        if (!strcmp(n, srcThenDest[i])) return keyOrdinal == 0 ? PERM_R : PERM_W;
    static const char *srcRwThenDest[] = {"rename", "renamenx", "lmove", "blmove", "rpoplpush", "brpoplpush",
                                          "smove", NULL};
    for (int i = 0; srcRwThenDest[i]; i++)
        if (!strcmp(n, srcRwThenDest[i])) return keyOrdinal == 0 ? (PERM_R | PERM_W) : PERM_W;
    /* Writes that never return the key's data. */
    static const char *writeOnly[] = {"set", "setnx", "setex", "psetex", "mset", "msetnx", "append", "setrange",
                                      "del", "unlink", "expire", "pexpire", "expireat", "pexpireat", "persist",
                                      "lpush", "rpush", "lpushx", "rpushx", "linsert", "lset", "ltrim", "lrem",
                                      "sadd", "srem", "hset", "hsetnx", "hmset", "hdel", "zadd", "zrem",
                                      "zremrangebyscore", "zremrangebyrank", "zremrangebylex",
                                      "xadd", "xdel", "xtrim", "xsetid", /* key specs RW UPDATE/DELETE, no ACCESS */
                                      "xgroup", "xack", "xclaim", "xautoclaim",
                                      "restore", "restore-asking", /* Redis' key spec: OW UPDATE, no ACCESS */ NULL};
    for (int i = 0; writeOnly[i]; i++)
        if (!strcmp(n, writeOnly[i])) return PERM_W;
    return PERM_R | PERM_W;
}

/* keyPermCompute looks names up in lists: too slow for every call, so the
 * answer for the first key and for the others is cached per command id
 * (built lazily, since subcommand ids are known only after cmdInitTable). */
static unsigned char *keyPermCache; /* [id*2] first key, [id*2+1] the rest; bit 7 = computed */

static int keyPermNeeded(const cmdDef *cmd, int keyOrdinal) {
    int slot = cmd->id * 2 + (keyOrdinal > 0);
    if (!keyPermCache) keyPermCache = memCalloc((size_t)cmdTotalIds() * 2);
    if (!(keyPermCache[slot] & 0x80)) keyPermCache[slot] = (unsigned char)(0x80 | keyPermCompute(cmd, keyOrdinal));
    return keyPermCache[slot] & 0x7f;
}

/* The usual pattern is a key prefix ("app::*"): tested with memcmp, which
 * keeps a restricted user's check within a few percent of an unrestricted one. */
static int keyPatternMatch(const keyPattern *kp, const char *k, size_t klen) {
    if (kp->prefix >= 0) return klen >= (size_t)kp->prefix && memcmp(kp->pat, k, (size_t)kp->prefix) == 0;
    return globMatch(kp->pat, kp->len, k, klen, 0);
}

/* perm 0: any pattern matching the key, whatever its permission. */
static int keyAllowed(const aclUser *u, const char *k, size_t klen, int perm) {
    if (u->flags & USER_ALLKEYS) return 1;
    if (perm == 0) {
        for (int i = 0; i < u->nkeys; i++)
            if (keyPatternMatch(&u->keys[i], k, klen)) return 1;
        return 0;
    }
    int have = 0;
    for (int i = 0; i < u->nkeys && (have & perm) != perm; i++) {
        const keyPattern *kp = &u->keys[i];
        if ((kp->perm & perm) && keyPatternMatch(kp, k, klen)) have |= kp->perm;
    }
    return (have & perm) == perm;
}

/* A literal channel matches the user's patterns; a PSUBSCRIBE pattern must
 * be one of them verbatim (a pattern cannot be proved inside another). */
static int channelAllowed(const aclUser *u, const char *ch, size_t len, int isPattern) {
    if (u->flags & USER_ALLCHANNELS) return 1;
    for (int i = 0; i < u->nchans; i++) {
        const char *p = u->chans[i];
        size_t plen = strlen(p);
        if (isPattern) {
            if (plen == len && !memcmp(p, ch, len)) return 1;
        } else if (globMatch(p, plen, ch, len, 0)) {
            return 1;
        }
    }
    return 0;
}

/* Which arguments of a pub/sub command are channels: *first..argc-1, or
 * only argv[1] (PUBLISH). Returns 0 when the command names no channel. */
static int channelArgs(cmdDef *cmd, int argc, int *first, int *last, int *isPattern) {
    const char *n = cmd->parent ? cmd->parent->name : cmd->name;
    *isPattern = 0;
    if (!strcmp(n, "publish") || !strcmp(n, "spublish")) {
        *first = *last = 1;
        return 1;
    }
    if (!strcmp(n, "subscribe") || !strcmp(n, "ssubscribe") || !strcmp(n, "psubscribe")) {
        *isPattern = n[0] == 'p';
        *first = 1;
        *last = argc - 1;
        return 1;
    }
    return 0;
}

int aclCheck(const aclUser *u, cmdDef *cmd, slice *argv, int argc, int *badArg) {
    *badArg = -1;
    if (u->unrestricted) return ACL_OK;
    /* AUTH, HELLO, QUIT, RESET: every user may run them (Redis' no-auth flag). */
    if (!(cmd->flags & CMD_NO_AUTH) && !aclBitsGet(u->allowed, cmd->id)) return ACL_DENIED_CMD;
    /* SPUBLISH/SSUBSCRIBE name their shard channel where a key would be;
     * it is checked as a channel (Redis' not-key key spec). */
    if (!(u->flags & USER_ALLKEYS) && (cmd->firstKey > 0 || cmd->numkeysIdx > 0 || cmd->streamsKeys) && !(cmd->flags & CMD_PUBSUB)) {
        /* Every key is checked, whatever the count: a forbidden key after
         * many allowed ones must still deny the command. */
        cmdKeyIter it;
        cmdKeysInit(&it, cmd, argv, argc);
        /* SET ... GET also returns the old value: read as well as write
         * (the one argument-dependent case; Redis' VARIABLE_FLAGS). */
        int setGet = 0;
        if (cmd->parent == NULL && !strcmp(cmd->name, "set"))
            for (int j = 3; j < argc && !setGet; j++) setGet = sliceEqNocase(argv[j], "get");
        for (int i = 0, k; (k = cmdKeysNext(&it)) != -1; i++) {
            int perm = setGet ? (PERM_R | PERM_W) : keyPermNeeded(cmd, i);
            if (!keyAllowed(u, argv[k].p, argv[k].len, perm)) {
                *badArg = k;
                return ACL_DENIED_KEY;
            }
        }
    }
    int first, last, isPattern;
    if (!(u->flags & USER_ALLCHANNELS) && (cmd->flags & CMD_PUBSUB) &&
        channelArgs(cmd, argc, &first, &last, &isPattern)) {
        for (int i = first; i <= last && i < argc; i++)
            if (!channelAllowed(u, argv[i].p, argv[i].len, isPattern)) {
                *badArg = i;
                return ACL_DENIED_CHANNEL;
            }
    }
    return ACL_OK;
}

void aclDeny(client *c, cmdDef *cmd, int reason, int badArg) {
    char err[256];
    const char *uname = aclUserName(c->user);
    if (reason == ACL_DENIED_CMD) {
        aclLogDenial(c, reason, cmd->fullname, strlen(cmd->fullname), uname);
        snprintf(err, sizeof(err), "-NOPERM this user has no permissions to run the '%s' command", cmd->fullname);
    } else if (reason == ACL_DENIED_KEY) {
        aclLogDenial(c, reason, c->argv[badArg].p, c->argv[badArg].len, uname);
        snprintf(err, sizeof(err), "-NOPERM this user has no permissions to access one of the keys used as arguments");
    } else {
        aclLogDenial(c, reason, c->argv[badArg].p, c->argv[badArg].len, uname);
        snprintf(err, sizeof(err),
                 "-NOPERM this user has no permissions to access one of the channels used as arguments");
    }
    cmdReject(c, cmd, err);
}

/* EXEC re-checks each queued command (c->argv is the queued one): ACL
 * rules may have changed since it was queued. Replies and logs the denial,
 * with Redis' text, and returns 1 when denied. */
int aclDenyQueued(client *c, cmdDef *cmd) {
    int badArg, reason = aclCheck(c->user, cmd, c->argv, c->argc, &badArg);
    if (reason == ACL_OK) return 0;
    const char *why;
    if (reason == ACL_DENIED_CMD) {
        aclLogDenial(c, reason, cmd->fullname, strlen(cmd->fullname), aclUserName(c->user));
        why = "no permission to execute the command or subcommand";
    } else {
        aclLogDenial(c, reason, c->argv[badArg].p, c->argv[badArg].len, aclUserName(c->user));
        why = reason == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                                       : "no permission to access one of the channels used as arguments";
    }
    replyErrorFormat(c,
                     "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                     "call. This command is no longer allowed for the following reason: %s",
                     why);
    return 1;
}

/* ---- authentication --------------------------------------------------------------- */

int aclAuthenticate(client *c, slice user, slice pass) {
    aclUser *u = aclGetUser(user.p, user.len);
    if (u && (u->flags & USER_ON) && ((u->flags & USER_NOPASS) || passwordMatches(u, pass.p, pass.len))) {
        c->user = u;
        c->flags |= CLIENT_AUTHENTICATED;
        return 0;
    }
    char name[130];
    snprintf(name, sizeof(name), "%.*s", (int)(user.len > 128 ? 128 : user.len), user.p);
    aclLogDenial(c, ACL_DENIED_AUTH, c->argv[0].p, c->argv[0].len, name);
    return -1;
}

/* A verified client certificate whose CN names an enabled user logs the
 * connection in as that user, without a password. */
void aclAuthenticateByCertificate(client *c) {
    char cn[CONN_TLS_CN_MAX];
    size_t len;
    /* The whole CN by its length: no NUL inside, no truncation, one CN. */
    if (!c->conn || !connIsTls(c->conn) || !connPeerCertName(c->conn, cn, sizeof(cn), &len)) return;
    aclUser *u = aclGetUser(cn, len);
    if (!u || !(u->flags & USER_ON)) return;
    c->user = u;
    c->flags |= CLIENT_AUTHENTICATED;
}

/* requirepass is the default user's one password, as in Redis. */
void aclSetDefaultPassword(const char *pass, size_t len) {
    aclUser *u = defaultUser;
    memFree(u->pass);
    u->pass = NULL;
    u->npass = 0;
    if (pass && len) {
        unsigned char h[32];
        sha256(pass, len, h); /* all len bytes: requirepass is binary safe */
        addPass(u, h);
        u->flags &= ~USER_NOPASS;
    } else {
        u->flags |= USER_NOPASS;
    }
    refreshCache(u);
}

/* ---- replacing users: who gets disconnected ----------------------------------------- */

static int clientSubscriptionsAllowed(client *c, const aclUser *u) {
    if (u->flags & USER_ALLCHANNELS) return 1;
    return pubsubClientAllowed(c, u, (int (*)(const void *, const char *, size_t, int))channelAllowed);
}

/* After u changed in place: clients of a disabled user are closed, and
 * subscribers whose channels are no longer allowed (Redis 7 does the same). */
static void recheckClients(aclUser *u) {
    for (client *c = srv.clients; c; c = c->next) {
        if (c->user != u) continue;
        if (!(u->flags & USER_ON) || ((c->flags & CLIENT_PUBSUB) && !clientSubscriptionsAllowed(c, u))) {
            if (c == srv.current) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            else clientFreeAsync(c);
        }
    }
}

/* u is going away: its clients are closed and, until they are freed, named
 * as the default user so nothing points at freed memory. */
static void disconnectUser(aclUser *u) {
    for (client *c = srv.clients; c; c = c->next) {
        if (c->user != u) continue;
        c->user = defaultUser;
        if (c == srv.current) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        else clientFreeAsync(c);
    }
}

/* Moves the definition of src into dst (the same user object, so its
 * clients keep pointing at it) and frees src with dst's old definition. */
static void replaceInPlace(aclUser *dst, aclUser *src) {
    aclUser old = *dst;
    *dst = *src;
    memFree(dst->name);
    dst->name = old.name;
    *src = old;
    src->name = NULL;
    userFree(src);
}

/* ---- initialisation and the file -------------------------------------------------- */

void aclInit(void) {
    aclCmdWords = (cmdTotalIds() + 63) / 64 + 1;
    aclNCmdIds = cmdTotalIds();
    memFree(aclCmdById);
    aclCmdById = memCalloc(sizeof(cmdDef *) * (size_t)(aclNCmdIds ? aclNCmdIds : 1));
    cmdForEach(byIdCb, NULL);
    defaultUser = userNew("default", 7);
    static const char *rules[] = {"on", "nopass", "~*", "&*", "+@all"};
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const char *err;
        applyRule(defaultUser, rules[i], strlen(rules[i]), &err);
    }
    refreshCache(defaultUser);
    users = memAlloc(sizeof(aclUser *));
    users[0] = defaultUser;
    nusers = 1;
}

/* Parses one "user NAME rules..." definition into list/n (replacing a
 * definition of the same name only when allowDup). */
static int defineUser(aclUser ***list, int *n, char **argv, const size_t *lens, int argc, char *err, size_t errlen,
                      int allowDup) {
    if (argc < 2 || strcmp(argv[0], "user")) {
        snprintf(err, errlen, "should start with user keyword followed by the username");
        return -1;
    }
    const char *name = argv[1];
    /* Lengths, not strlen: a NUL inside a name or a password must not cut it. */
    if (hasSpaces(name, lens[1])) { /* any whitespace or NUL, as Redis (\t too) */
        snprintf(err, errlen, "Usernames can't contain spaces or null characters");
        return -1;
    }
    int at = findUser(*list, *n, name, strlen(name));
    if (at >= 0 && !allowDup) {
        snprintf(err, errlen, "WARNING: Duplicate user '%s' found", name);
        return -2;
    }
    int nr = argc - 2;
    slice *rules = memAlloc(sizeof(slice) * (size_t)(nr + 1));
    for (int i = 0; i < nr; i++) rules[i] = (slice){argv[i + 2], lens[i + 2]};
    const char *why = NULL;
    int bad = -1;
    aclUser *u = applyRules(NULL, name, strlen(name), rules, nr, &why, &bad);
    memFree(rules);
    if (!u) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (at >= 0) {
        userFree((*list)[at]);
        (*list)[at] = u;
    } else {
        *list = memRealloc(*list, sizeof(aclUser *) * (size_t)(*n + 1));
        (*list)[(*n)++] = u;
    }
    return 0;
}

/* A "user ..." line of the config file (Redis accepts them there too). */
int aclConfigUser(char **argv, const size_t *lens, int argc, char *err, size_t errlen) {
    char **full = memAlloc(sizeof(char *) * (size_t)(argc + 1));
    size_t *flens = memAlloc(sizeof(size_t) * (size_t)(argc + 1));
    full[0] = "user";
    flens[0] = 4;
    for (int i = 0; i < argc; i++) {
        full[i + 1] = argv[i];
        flens[i + 1] = lens[i];
    }
    int rc = defineUser(&users, &nusers, full, flens, argc + 1, err, errlen, 1);
    memFree(full);
    memFree(flens);
    if (rc != 0) return -1;
    /* "user default ..." replaced the default user object. */
    int d = findUser(users, nusers, "default", 7);
    defaultUser = users[d];
    return 0;
}

/* Appends to an error report of errlen bytes; *used counts what would
 * have been written, but the write position never passes the buffer. */
static void errAppend(char *err, size_t errlen, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void errAppend(char *err, size_t errlen, size_t *used, const char *fmt, ...) {
    size_t at = *used < errlen ? *used : errlen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err + at, errlen - at, fmt, ap);
    va_end(ap);
    if (n > 0) *used += (size_t)n;
}

/* Loads the ACL file into a new user list; returns it, or NULL with every
 * error found (Redis' format: "FILE:LINE: reason. "). */
/* Redis reports every rule of a bad ACL file line that fails, in order:
 * "FILE:N: Error in applying operation '+x': <why>. " for command rules,
 * "FILE:N: <why>. " for the others. */
static size_t reportRuleErrors(char **argv, const size_t *lens, int argc, const char *path, int lineno,
                               const char *why, char *err, size_t errlen, size_t used) {
    aclUser *scratch = userNew("scratch", 7);
    int reported = 0;
    for (int i = 2; i < argc; i++) {
        const char *e = NULL;
        if (applyRule(scratch, argv[i], lens[i], &e) == -1) {
            /* Redis 7.0 names the rule for command rules only. */
            if (argv[i][0] == '+' || argv[i][0] == '-')
                errAppend(err, errlen, &used, "%s:%d: Error in applying operation '%s': %s. ", path, lineno, argv[i], e);
            else
                errAppend(err, errlen, &used, "%s:%d: %s. ", path, lineno, e);
            reported = 1;
        }
    }
    userFree(scratch);
    if (!reported) errAppend(err, errlen, &used, "%s:%d: %s. ", path, lineno, why);
    return used;
}

static int isTrimmed(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static aclUser **loadFile(const char *path, int *count, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return NULL;
    }
    aclUser **list = NULL;
    int n = 0, failed = 0, lineno = 0;
    size_t used = 0;
    err[0] = '\0';
    /* Lines of any length: ACL SAVE writes a user on one line, however many
     * patterns it has, and whatever it writes must load back. */
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) != -1) {
        lineno++;
        /* Trimmed, and comments skipped, as Redis' loader does. */
        const char *s = line;
        size_t len = (size_t)got;
        while (len && isTrimmed(s[0])) {
            s++;
            len--;
        }
        while (len && isTrimmed(s[len - 1])) len--;
        if (len == 0 || s[0] == '#') continue;
        char **argv;
        size_t *lens;
        int argc = configSplitArgsLen(s, len, &argv, &lens);
        if (argc < 0) {
            errAppend(err, errlen, &used, "%s:%d: unbalanced quotes in acl line. ", path, lineno);
            failed = 1;
            continue;
        }
        char why[512];
        int rc = argc == 0 ? 0 : defineUser(&list, &n, argv, lens, argc, why, sizeof(why), 0);
        if (rc == -2) {
            errAppend(err, errlen, &used, "%s on line %d. ", why, lineno);
            failed = 1;
        } else if (rc == -1) {
            if (strcmp(argv[0], "user")) errAppend(err, errlen, &used, "%s:%d %s. ", path, lineno, why);
            else used = reportRuleErrors(argv, lens, argc, path, lineno, why, err, errlen, used);
            failed = 1;
        }
        configFreeArgs(argv, argc);
        memFree(lens);
    }
    free(line); /* getline's buffer comes from libc's malloc */
    fclose(f);
    if (failed) {
        for (int i = 0; i < n; i++) userFree(list[i]);
        memFree(list);
        return NULL;
    }
    /* A file without the default user gets the built-in one. */
    if (findUser(list, n, "default", 7) < 0) {
        aclUser *d = userNew("default", 7); /* Redis' built-in default, without "reset"'s sanitize-payload */
        const char *e;
        static const char *rules[] = {"on", "nopass", "~*", "&*", "+@all"};
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) applyRule(d, rules[i], strlen(rules[i]), &e);
        refreshCache(d);
        list = memRealloc(list, sizeof(aclUser *) * (size_t)(n + 1));
        list[n++] = d;
    }
    *count = n;
    return list;
}

/* Installs a freshly loaded list: the default user object is kept (its
 * clients stay) with the new definition; every other user is replaced and
 * its clients are closed, as Redis does on ACL LOAD. */
static void installUsers(aclUser **list, int n) {
    for (int i = 0; i < nusers; i++) {
        if (users[i] == defaultUser) continue;
        disconnectUser(users[i]);
        userFree(users[i]);
    }
    int d = findUser(list, n, "default", 7);
    replaceInPlace(defaultUser, list[d]);
    list[d] = defaultUser;
    memFree(users);
    users = list;
    nusers = n;
    recheckClients(defaultUser);
}

int aclLoadFile(char *err, size_t errlen) {
    if (!srv.aclfile || !srv.aclfile[0]) {
        snprintf(err, errlen, "This Redis instance is not configured to use an ACL file. You may want to specify "
                              "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have "
                              "a Redis configuration file set) in order to store users in the Redis configuration.");
        return -1;
    }
    int n = 0;
    char why[4096];
    aclUser **list = loadFile(srv.aclfile, &n, why, sizeof(why));
    if (!list) {
        snprintf(err, errlen, "%sWARNING: ACL errors detected, no change to the previously active ACL rules was "
                              "performed", why);
        return -1;
    }
    installUsers(list, n);
    return 0;
}

/* Writes every user to the ACL file: temporary file, fsync, rename, so a
 * crash leaves the old file or the new one, never half of one. */
int aclSaveFile(char *err, size_t errlen) {
    if (!srv.aclfile || !srv.aclfile[0]) {
        snprintf(err, errlen, "This Redis instance is not configured to use an ACL file. You may want to specify "
                              "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have "
                              "a Redis configuration file set) in order to store users in the Redis configuration.");
        return -1;
    }
    textBuf b = {0};
    for (int i = 0; i < nusers; i++) {
        char *d = aclDescribe(users[i], 1);
        textAppend(&b, "%s\n", d);
        memFree(d);
    }
    /* On the heap: a fixed buffer would truncate a long aclfile path into
     * another file's name. */
    textBuf tb = {0};
    textAppend(&tb, "%s.tmp-%d", srv.aclfile, (int)getpid());
    char *tmp = tb.p;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = fd != -1;
    if (ok && fdWriteAll(fd, b.p, b.len) == -1) ok = 0;
    if (ok && fsync(fd) == -1) ok = 0;
    if (fd != -1 && close(fd) == -1) ok = 0;
    if (ok && rename(tmp, srv.aclfile) == -1) ok = 0;
    memFree(b.p);
    if (!ok) {
        snprintf(err, errlen, "There was an error trying to save the ACLs. Please check the server logs for more "
                              "information");
        logWarning("Saving the ACL file %s: %s", srv.aclfile, strerror(errno));
        unlink(tmp);
        memFree(tmp);
        return -1;
    }
    memFree(tmp);
    return 0;
}

/* Start-up: the aclfile, if configured. */
int aclInitFromConfig(char *err, size_t errlen) {
    if (!srv.aclfile || !srv.aclfile[0]) return 0;
    if (nusers > 1) {
        snprintf(err, errlen, "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                              "file path is invalid. This setup is very likely to lead to configuration errors and "
                              "security holes, please define either an ACL file or declare users directly in your "
                              "redis.conf, but not both.");
        return -1;
    }
    return aclLoadFile(err, errlen);
}

/* ---- the ACL command ---------------------------------------------------------------- */

static void aclSetuserCommand(client *c) {
    slice name = c->argv[2];
    if (hasSpaces(name.p, name.len)) {
        replyError(c, "Usernames can't contain spaces or null characters");
        return;
    }
    int at = findUser(users, nusers, name.p, name.len);
    const char *why = NULL;
    int bad = -1;
    aclUser *u = applyRules(at >= 0 ? users[at] : NULL, name.p, name.len, c->argv + 3, c->argc - 3, &why, &bad);
    if (!u) {
        slice r = c->argv[3 + bad];
        replyErrorFormat(c, "Error in ACL SETUSER modifier '%.*s': %s", (int)(r.len > 128 ? 128 : r.len), r.p, why);
        return;
    }
    if (at >= 0) {
        replaceInPlace(users[at], u);
        recheckClients(users[at]);
    } else {
        users = memRealloc(users, sizeof(aclUser *) * (size_t)(nusers + 1));
        users[nusers++] = u;
    }
    replyOk(c);
}

static void aclGetuserCommand(client *c) {
    aclUser *u = aclGetUser(c->argv[2].p, c->argv[2].len);
    if (!u) {
        replyNull(c);
        return;
    }
    replyMapLen(c, 6);
    replyBulkCString(c, "flags");
    int nflags = 1 + !!(u->flags & USER_NOPASS) + !!(u->flags & USER_SANITIZE);
    replySetLen(c, nflags);
    replyBulkCString(c, (u->flags & USER_ON) ? "on" : "off");
    if (u->flags & USER_NOPASS) replyBulkCString(c, "nopass");
    if (u->flags & USER_SANITIZE) replyBulkCString(c, "sanitize-payload");
    replyBulkCString(c, "passwords");
    replyArrayLen(c, u->npass);
    for (int i = 0; i < u->npass; i++) {
        char hex[65];
        aclHashHex(u->pass[i], hex);
        replyBulkCString(c, hex);
    }
    textBuf b = {0};
    replyBulkCString(c, "commands");
    aclDescribeCommands(u, &b);
    replyBulk(c, b.p, b.len);
    b.len = 0;
    replyBulkCString(c, "keys");
    aclDescribeKeys(u, &b);
    replyBulk(c, b.p ? b.p : "", b.len);
    b.len = 0;
    replyBulkCString(c, "channels");
    aclDescribeChannels(u, &b);
    replyBulk(c, b.p ? b.p : "", b.len);
    memFree(b.p);
    replyBulkCString(c, "selectors");
    replyArrayLen(c, 0);
}

static void aclDeluserCommand(client *c) {
    long long deleted = 0;
    for (int i = 2; i < c->argc; i++) {
        if (c->argv[i].len == 7 && !memcmp(c->argv[i].p, "default", 7)) {
            replyError(c, "The 'default' user cannot be removed");
            return;
        }
    }
    for (int i = 2; i < c->argc; i++) {
        int at = findUser(users, nusers, c->argv[i].p, c->argv[i].len);
        if (at < 0) continue;
        aclUser *u = users[at];
        disconnectUser(u);
        memmove(users + at, users + at + 1, sizeof(aclUser *) * (size_t)(nusers - at - 1));
        nusers--;
        userFree(u);
        deleted++;
    }
    replyLongLong(c, deleted);
}

static int userCmp(const void *a, const void *b) {
    return strcmp((*(aclUser *const *)a)->name, (*(aclUser *const *)b)->name);
}

static aclUser **sortedUsers(void) {
    aclUser **s = memAlloc(sizeof(aclUser *) * (size_t)nusers);
    memcpy(s, users, sizeof(aclUser *) * (size_t)nusers);
    qsort(s, (size_t)nusers, sizeof(aclUser *), userCmp);
    return s;
}

/* For CONFIG REWRITE: the file form (describeUser). */
int aclDescribeUsers(char ***lines) {
    aclUser **s = sortedUsers();
    *lines = memAlloc(sizeof(char *) * (size_t)nusers);
    for (int i = 0; i < nusers; i++) (*lines)[i] = aclDescribe(s[i], 1);
    memFree(s);
    return nusers;
}

static void aclListCommand(client *c) {
    aclUser **s = sortedUsers();
    replyArrayLen(c, nusers);
    for (int i = 0; i < nusers; i++) {
        char *d = aclDescribeUser(s[i]);
        replyBulkCString(c, d);
        memFree(d);
    }
    memFree(s);
}

static void aclUsersCommand(client *c) {
    aclUser **s = sortedUsers();
    replyArrayLen(c, nusers);
    for (int i = 0; i < nusers; i++) replyBulkCString(c, s[i]->name);
    memFree(s);
}

static void aclWhoamiCommand(client *c) { replyBulkCString(c, aclUserName(c->user)); }

typedef struct catList {
    client *c;
    uint64_t cat;
    long n;
} catList;

static void catListCb(cmdDef *cmd, void *priv) {
    catList *l = priv;
    if (cmd->acl & l->cat) {
        replyBulkCString(l->c, cmd->fullname);
        l->n++;
    }
    for (cmdDef *s = cmd->subcmds; s && s->name; s++)
        if (s->acl & l->cat) {
            replyBulkCString(l->c, s->fullname);
            l->n++;
        }
}

static void aclCatCommand(client *c) {
    if (c->argc == 2) {
        int n = 0;
        while (aclCategoryNames[n]) n++;
        replyArrayLen(c, n);
        for (int i = 0; i < n; i++) replyBulkCString(c, aclCategoryNames[i]);
        return;
    }
    uint64_t cat;
    if (aclCategoryFromName(c->argv[2].p, c->argv[2].len, &cat) == -1 || cat == ~0ULL) {
        replyErrorFormat(c, "Unknown category '%.*s'", (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len),
                         c->argv[2].p);
        return;
    }
    void *d = replyDeferredLen(c);
    catList l = {c, cat, 0};
    cmdForEach(catListCb, &l);
    replySetDeferredArrayLen(c, d, l.n);
}

static void aclDryrunCommand(client *c) {
    aclUser *u = aclGetUser(c->argv[2].p, c->argv[2].len);
    if (!u) {
        replyErrorFormat(c, "User '%.*s' not found", (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len),
                         c->argv[2].p);
        return;
    }
    slice *argv = c->argv + 3;
    int argc = c->argc - 3;
    cmdDef *cmd = cmdLookupArgv(argv, argc);
    if (!cmd) {
        replyErrorFormat(c, "Command '%.*s' not found", (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].p);
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        replyErrorFormat(c, "wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    int bad;
    int r = aclCheck(u, cmd, argv, argc, &bad);
    if (r == ACL_OK) replyOk(c);
    else if (r == ACL_DENIED_CMD)
        replyBulkFormat(c, "This user has no permissions to run the '%s' command", cmd->fullname);
    else {
        /* The whole name, however long (replyBulkFormat would cut it at 1 KB),
         * up to a NUL, as Redis' %s formats it. */
        const char *nul = memchr(argv[bad].p, '\0', argv[bad].len);
        size_t klen = nul ? (size_t)(nul - argv[bad].p) : argv[bad].len;
        textBuf msg = {0};
        textAppend(&msg, "This user has no permissions to access the '%.*s' %s", (int)klen, argv[bad].p,
                   r == ACL_DENIED_KEY ? "key" : "channel");
        replyBulk(c, msg.p, msg.len);
        memFree(msg.p);
    }
}


static void aclGenpassCommand(client *c) {
    long long bits = 256;
    if (c->argc == 3) {
        if (getLongLongFromSliceOrReply(c, c->argv[2], &bits, NULL) == -1) return;
        if (bits <= 0 || bits > 4096) {
            replyError(c, "ACL GENPASS argument must be the number of bits for the output password, a positive number "
                          "up to 4096");
            return;
        }
    }
    long long chars = (bits + 3) / 4;
    char *hex = memAlloc((size_t)chars + 1);
    if (randomHex(hex, (size_t)chars) == -1)
        replyError(c, "ERR failed to generate random bytes for the password");
    else
        replyBulk(c, hex, (size_t)chars);
    memFree(hex);
}

static void aclLoadCommand(client *c) {
    char err[8192];
    if (aclLoadFile(err, sizeof(err)) == -1) replyErrorFormat(c, "%s", err);
    else replyOk(c);
}

static void aclSaveCommand(client *c) {
    char err[1024];
    if (aclSaveFile(err, sizeof(err)) == -1) replyErrorFormat(c, "%s", err);
    else replyOk(c);
}

static void aclHelpCommand(client *c) {
    static const char *help[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL};
    replyHelp(c, help);
}

void aclResetStats(void) { memset(&aclStat, 0, sizeof(aclStat)); }

#define ACLSUB(n, fn, ar, fl, sum)                                                                                 \
    {.name = n, .proc = fn, .arity = ar, .flags = fl, .acl = 0, .summary = sum, .since = "6.0.0"} // NOLINT(bugprone-macro-parentheses): designated initializers, arguments cannot be parenthesized

static cmdDef aclSubcommands[] = {
    ACLSUB("cat", aclCatCommand, -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "List the ACL categories or the commands inside a category"),
    ACLSUB("deluser", aclDeluserCommand, -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Remove the specified ACL users and the associated rules"),
    {.name = "dryrun", .proc = aclDryrunCommand, .arity = -4, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .summary = "Returns whether the user can execute the given command without executing the command.", .since = "7.0.0"},
    ACLSUB("genpass", aclGenpassCommand, -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Generate a pseudorandom secure password to use for ACL users"),
    ACLSUB("getuser", aclGetuserCommand, 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Get the rules for a specific ACL user"),
    ACLSUB("help", aclHelpCommand, 2, CMD_LOADING | CMD_STALE, "Show helpful text about the different subcommands"),
    ACLSUB("list", aclListCommand, 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "List the current ACL rules in ACL config file format"),
    ACLSUB("load", aclLoadCommand, 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Reload the ACLs from the configured ACL file"),
    ACLSUB("log", aclLogCommand, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "List latest events denied because of ACLs in place"),
    ACLSUB("save", aclSaveCommand, 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Save the current ACL rules in the configured ACL file"),
    ACLSUB("setuser", aclSetuserCommand, -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Modify or create the rules for a specific ACL user"),
    ACLSUB("users", aclUsersCommand, 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "List the username of all the configured ACL rules"),
    ACLSUB("whoami", aclWhoamiCommand, 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, "Return the name of the user associated to the current connection"),
    {0},
};

cmdDef aclCommands[] = {
    {.name = "acl", .proc = aclHelpCommand, .arity = -2, .flags = CMD_SENTINEL, .group = "server", .since = "6.0.0",
     .summary = "A container for Access List Control commands ", .subcmds = aclSubcommands},
    {0},
};
