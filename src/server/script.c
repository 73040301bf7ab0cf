/* script.c - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|
 * FLUSH|KILL|HELP, with Redis 7.0's arguments, flags and error texts.
 *
 * Owns: the Lua state (created on first use, dropped by SCRIPT FLUSH), the
 * script cache (compiled functions f_<sha> in that state, indexed by an
 * open-addressing table of SHA1 -> registry reference and shebang flags,
 * so EVALSHA finds a script without a Lua string lookup), and the checks
 * a script passes before it runs. Running and converting is script_lua.c's.
 * Must never: run a script whose shebang failed to parse, cache a script
 * that failed to compile, or let *_RO run a script that declares writes. */
#include "script.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "evict.h"
#include "args.h"
#include "script_lua.h"
#include "function.h"
#include <lauxlib.h>
#include <lua.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static lua_State *lua;
/* The cache's size: SCRIPT FLUSH zeroes both with the state. Per script,
 * the body, its SHA1 and an entry's bookkeeping (a dict entry and a
 * script record in Redis: 24 + 16 bytes, plus the SHA1's sds header). */
#define SCRIPT_ENTRY_OVERHEAD 48
static long long cachedCount, cachedBytes;

/* The index: linear probing over a power-of-two array at most half full;
 * SHA1s are uniform, so their first 8 bytes are the hash. Entries are
 * never removed one by one (SCRIPT FLUSH drops them all). */
typedef struct cachedScript {
    char sha[40]; /* lower-case hex; sha[0] == 0: a free slot */
    int ref;      /* the compiled function in the Lua registry */
    int flags;    /* SCRIPT_FLAG_* */
} cachedScript;

static cachedScript *index_;
static size_t indexCap;

static size_t shaSlot(const char *sha, size_t cap) {
    uint64_t h;
    memcpy(&h, sha, sizeof(h));
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (cap - 1);
}

static cachedScript *scriptFind(const char *sha) {
    if (!indexCap) return NULL;
    for (size_t i = shaSlot(sha, indexCap);; i = (i + 1) & (indexCap - 1)) {
        if (!index_[i].sha[0]) return NULL;
        if (!memcmp(index_[i].sha, sha, 40)) return &index_[i];
    }
}

static void indexPut(cachedScript *tab, size_t cap, const cachedScript *e) {
    size_t i = shaSlot(e->sha, cap);
    while (tab[i].sha[0]) i = (i + 1) & (cap - 1);
    tab[i] = *e;
}

static void scriptIndexAdd(const char *sha, int ref, int flags) {
    if ((size_t)(cachedCount + 1) * 2 > indexCap) {
        size_t cap = indexCap ? indexCap * 2 : 64;
        cachedScript *tab = memCalloc(cap * sizeof(*tab));
        for (size_t i = 0; i < indexCap; i++)
            if (index_[i].sha[0]) indexPut(tab, cap, &index_[i]);
        memFree(index_);
        index_ = tab;
        indexCap = cap;
    }
    cachedScript e;
    memcpy(e.sha, sha, 40);
    e.ref = ref;
    e.flags = flags;
    indexPut(index_, indexCap, &e);
}

long long scriptVmMemory(void) { return slVmMemory(lua); }
long long scriptCacheMemory(void) { return cachedBytes; }
long long scriptCachedCount(void) { return cachedCount; }

static lua_State *getLua(client *c) {
    if (lua) return lua;
    char err[256];
    lua = slCreate(err, sizeof(err));
    if (!lua) {
        replyError(c, err);
        return NULL;
    }
    return lua;
}

static void sha1hex(char out[41], const char *p, size_t len) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(p, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) memset(md, 0, 20);
    for (int i = 0; i < 20; i++) snprintf(out + i * 2, 3, "%02x", md[i]);
}

/* ---- shebang ------------------------------------------------------------ */

static const struct {
    const char *name;
    int flag;
} shebangFlags[] = {
    {"no-writes", SCRIPT_FLAG_NO_WRITES},
    {"allow-oom", SCRIPT_FLAG_ALLOW_OOM},
    {"allow-stale", SCRIPT_FLAG_ALLOW_STALE},
    {"no-cluster", SCRIPT_FLAG_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT},
};

static int parseFlagList(const char *p, size_t len, int *flags, char *err, size_t errlen) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && p[j] != ',') j++;
        size_t k;
        for (k = 0; k < sizeof(shebangFlags) / sizeof(shebangFlags[0]); k++)
            if (strlen(shebangFlags[k].name) == j - i && !memcmp(shebangFlags[k].name, p + i, j - i)) break;
        if (k == sizeof(shebangFlags) / sizeof(shebangFlags[0])) {
            snprintf(err, errlen, "Unexpected flag in script shebang: %.*s", (int)(j - i > 200 ? 200 : j - i), p + i);
            return -1;
        }
        *flags |= shebangFlags[k].flag;
        i = j + 1;
    }
    return 0;
}

int scriptParseShebang(const char *body, size_t len, int *flags, size_t *shebangLen, char *err, size_t errlen) {
    *flags = SCRIPT_FLAG_EVAL_COMPAT;
    *shebangLen = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return 0;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "Invalid script shebang");
        return -1;
    }
    size_t slen = (size_t)(nl - body);
    *flags = 0;
    /* Words separated by blanks: the engine, then options. */
    size_t i = 0, word = 0;
    while (i < slen) {
        while (i < slen && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r')) i++;
        if (i >= slen) break;
        size_t j = i;
        while (j < slen && body[j] != ' ' && body[j] != '\t' && body[j] != '\r') j++;
        const char *w = body + i;
        size_t wl = j - i;
        int cut = wl > 200 ? 200 : (int)wl;
        if (word == 0) {
            if (wl != 5 || memcmp(w, "#!lua", 5) != 0) {
                snprintf(err, errlen, "Unexpected engine in script shebang: %.*s", cut, w);
                return -1;
            }
        } else if (wl >= 6 && !memcmp(w, "flags=", 6)) {
            if (parseFlagList(w + 6, wl - 6, flags, err, errlen) < 0) return -1;
        } else {
            snprintf(err, errlen, "Unknown lua shebang option: %.*s", cut, w);
            return -1;
        }
        word++;
        i = j;
    }
    *shebangLen = slen;
    return 0;
}

/* ---- the cache ------------------------------------------------------------- */

/* Compiles and caches body under sha (if not cached yet). 0, or -1 with
 * the error replied. */
static int cacheScript(client *c, lua_State *L, const char *sha, const char *body, size_t len) {
    if (scriptFind(sha)) return 0;
    int flags;
    size_t shebangLen;
    char err[512];
    if (scriptParseShebang(body, len, &flags, &shebangLen, err, sizeof(err)) < 0) {
        replyError(c, err);
        return -1;
    }
    /* The shebang line is skipped but its line feed kept, so error
     * positions count lines as the user wrote them. */
    int ref;
    if (slCompile(L, sha, body + shebangLen, len - shebangLen, &ref, err, sizeof(err)) < 0) {
        replyError(c, err);
        return -1;
    }
    scriptIndexAdd(sha, ref, flags);
    cachedCount++;
    cachedBytes += (long long)len + 41 + SCRIPT_ENTRY_OVERHEAD;
    return 0;
}

/* A client-given SHA1 in lower case; 0 when it cannot name a script. */
static int normalizeSha(slice s, char out[41]) {
    if (s.len != 40) return 0;
    for (int i = 0; i < 40; i++) {
        char ch = s.p[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[40] = '\0';
    return 1;
}

/* Whether EVAL/EVALSHA may write, judged before it runs as Redis 7.0's
 * evalGetCommandFlags does: a script that declares flags writes unless it
 * says no-writes; one without a shebang, or not in the cache yet, may. */
/* The flags of the script EVAL* or EVALSHA* names; -1 when it is not
 * cached (EVALSHA) or its shebang does not parse: Redis 7.0's
 * evalGetCommandFlags then keeps the command's own flags. */
static int scriptEvalFlagsKnown(client *c) {
    int flags;
    if (!sliceEqNocase(c->argv[0], "evalsha") && !sliceEqNocase(c->argv[0], "evalsha_ro")) {
        size_t shebangLen;
        char err[128];
        if (scriptParseShebang(c->argv[1].p, c->argv[1].len, &flags, &shebangLen, err, sizeof(err)) < 0) return -1;
    } else {
        char sha[41];
        cachedScript *s = normalizeSha(c->argv[1], sha) ? scriptFind(sha) : NULL;
        if (!s) return -1;
        flags = s->flags;
    }
    return flags;
}

static int scriptEvalFlags(client *c) {
    int flags = scriptEvalFlagsKnown(c);
    return flags < 0 ? SCRIPT_FLAG_EVAL_COMPAT : flags;
}

int scriptEvalMayWrite(client *c) {
    int flags = scriptEvalFlags(c);
    return (flags & SCRIPT_FLAG_EVAL_COMPAT) || !(flags & SCRIPT_FLAG_NO_WRITES);
}

int scriptCallMayWrite(client *c, cmdDef *cmd) {
    if (!cmd->parent && !strcmp(cmd->name, "fcall")) return functionMayWrite(c);
    return scriptEvalMayWrite(c);
}

/* Whether replica-serve-stale-data no refuses the script EVAL*, EVALSHA*
 * or FCALL* would run, as Redis 7.0 judges it: a known script (one without
 * a shebang too) or function is stale-safe only with allow-stale; an
 * unknown one keeps the command's STALE flag (and fails in the command). */
int scriptCallDeniesStale(client *c, cmdDef *cmd) {
    if (cmd->parent || c->argc < 2) return 0;
    int flags;
    if (!strcmp(cmd->name, "fcall") || !strcmp(cmd->name, "fcall_ro")) {
        flags = functionCallFlags(c);
        if (flags & SCRIPT_FLAG_EVAL_COMPAT) return 0;
    } else if (!strcmp(cmd->name, "eval") || !strcmp(cmd->name, "evalsha") || !strcmp(cmd->name, "eval_ro") ||
               !strcmp(cmd->name, "evalsha_ro")) {
        flags = scriptEvalFlagsKnown(c);
        if (flags < 0) return 0;
    } else {
        return 0;
    }
    return !(flags & SCRIPT_FLAG_ALLOW_STALE);
}

/* The declared flags of the script an EVAL*, EVALSHA* or FCALL* call
 * would run (SCRIPT_FLAG_EVAL_COMPAT: none declared, or not known yet);
 * also EVAL_COMPAT for any other command. */
static int scriptCallFlags(client *c, cmdDef *cmd) {
    if (cmd->parent || c->argc < 2) return SCRIPT_FLAG_EVAL_COMPAT;
    if (!strcmp(cmd->name, "fcall") || !strcmp(cmd->name, "fcall_ro")) return functionCallFlags(c);
    if (!strcmp(cmd->name, "eval") || !strcmp(cmd->name, "evalsha") || !strcmp(cmd->name, "eval_ro") ||
        !strcmp(cmd->name, "evalsha_ro"))
        return scriptEvalFlags(c);
    return SCRIPT_FLAG_EVAL_COMPAT;
}

/* Whether the script EVAL*, EVALSHA* or FCALL* would run declared flags
 * without no-writes: Redis 7.0 then flags the call CMD_WRITE, so a
 * read-only replica or min-replicas-to-write refuses it before it runs. */
int scriptCallDeclaresWrite(client *c, cmdDef *cmd) {
    return !(scriptCallFlags(c, cmd) & (SCRIPT_FLAG_EVAL_COMPAT | SCRIPT_FLAG_NO_WRITES));
}

/* Whether the script EVAL*, EVALSHA* or FCALL* would run is deny-oom, as
 * Redis 7.0's scriptFlagsToCmdFlags makes it: one that declared flags,
 * neither allow-oom nor no-writes (so that over maxmemory it is refused
 * with the plain OOM error before it runs, even by EVAL_RO). A script
 * without a shebang, or not known yet, keeps the command's own flags. */
int scriptCallDeniesOOM(client *c, cmdDef *cmd) {
    return !(scriptCallFlags(c, cmd) & (SCRIPT_FLAG_EVAL_COMPAT | SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES));
}

/* ---- EVAL family -------------------------------------------------------- */

static void evalGeneric(client *c, int bySha, int ro) {
    long long numkeys;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &numkeys, NULL) < 0) return;
    if (numkeys > c->argc - 3) {
        replyError(c, "Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        replyError(c, "Number of keys can't be negative");
        return;
    }
    lua_State *L = getLua(c);
    if (!L) return;
    char sha[41];
    cachedScript *s;
    if (bySha) {
        if (!normalizeSha(c->argv[1], sha) || !(s = scriptFind(sha))) {
            replyError(c, "-NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        sha1hex(sha, c->argv[1].p, c->argv[1].len);
        if (cacheScript(c, L, sha, c->argv[1].p, c->argv[1].len) < 0) return;
        s = scriptFind(sha);
    }
    int flags = s->flags, ref = s->ref;
    int runFlags = 0;
    if (ro) runFlags |= SL_RUN_READONLY;
    if ((flags & SCRIPT_FLAG_EVAL_COMPAT) || (flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT)) runFlags |= SL_RUN_ALLOW_CROSS_SLOT;
    if (!(flags & SCRIPT_FLAG_EVAL_COMPAT)) {
        /* A script that declares its flags is checked before it starts. */
        if (flags & SCRIPT_FLAG_NO_WRITES) runFlags |= SL_RUN_READONLY;
        if (flags & SCRIPT_FLAG_ALLOW_OOM) runFlags |= SL_RUN_ALLOW_OOM;
        if (!(flags & SCRIPT_FLAG_NO_WRITES)) {
            if (ro) {
                replyError(c, "Can not execute a script with write flag using *_ro command.");
                return;
            }
            if (!(flags & SCRIPT_FLAG_ALLOW_OOM) && srv.maxmemory && evictPerform() == -1) {
                replyError(c, "-OOM allow-oom flag is not set on the script, can not run it when used memory > "
                              "'maxmemory'");
                return;
            }
        }
    }
    slRun(L, c, sha, ref, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys, runFlags);
}

static void evalCommand(client *c) { evalGeneric(c, 0, 0); }
static void evalRoCommand(client *c) { evalGeneric(c, 0, 1); }
static void evalShaCommand(client *c) { evalGeneric(c, 1, 0); }
static void evalShaRoCommand(client *c) { evalGeneric(c, 1, 1); }

/* ---- SCRIPT ------------------------------------------------------------------ */

static void scriptLoadCommand(client *c) {
    lua_State *L = getLua(c);
    if (!L) return;
    char sha[41];
    sha1hex(sha, c->argv[2].p, c->argv[2].len);
    if (cacheScript(c, L, sha, c->argv[2].p, c->argv[2].len) < 0) return;
    replyBulk(c, sha, 40);
}

static void scriptExistsCommand(client *c) {
    replyArrayLen(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        char sha[41];
        replyLongLong(c, normalizeSha(c->argv[i], sha) && scriptFind(sha));
    }
}

/* ASYNC and SYNC both drop the state at once: closing it is the cost of
 * freeing the scripts either way, and nothing else holds them. */
static void scriptFlushCommand(client *c) {
    if (c->argc > 3 ||
        (c->argc == 3 && !sliceEqNocase(c->argv[2], "sync") && !sliceEqNocase(c->argv[2], "async"))) {
        replyError(c, "SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    slDestroy(lua);
    lua = NULL;
    cachedCount = cachedBytes = 0;
    memFree(index_);
    index_ = NULL;
    indexCap = 0;
    replyOk(c);
}

static void scriptKillCommand(client *c) {
    if (!slRunning() || !slRunBusy()) {
        replyError(c, "-NOTBUSY No scripts in execution right now.");
        return;
    }
    if (slRunIsFunction()) { /* FUNCTION KILL's to stop, as Redis 7.0 */
        replyError(c, "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        return;
    }
    if (slRunWrote()) {
        replyError(c, "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
                      "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
                      "NOSAVE command.");
        return;
    }
    slRunKill();
    replyOk(c);
}

const char *scriptBusyError(client *c, cmdDef *cmd) {
    if (!slRunning() || !slRunBusy()) return NULL;
    const char *name = cmd->parent ? cmd->parent->name : cmd->name;
    if (!strcmp(name, "shutdown")) {
        for (int i = 1; i < c->argc; i++)
            if (sliceEqNocase(c->argv[i], "nosave")) return NULL;
    } else if (cmd->flags & CMD_ALLOW_BUSY) {
        return NULL;
    }
    if (slRunIsFunction())
        return "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    return "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
}

static void scriptHelpCommand(client *c) {
    static const char *help[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL};
    replyHelp(c, help);
}

static void scriptDispatch(client *c) { replyErrorArity(c); }

#define EVAL_FLAGS (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_MAY_REPLICATE | CMD_NO_MANDATORY_KEYS | CMD_STALE | CMD_MOVABLE_KEYS)
#define EVAL_RO_FLAGS (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_STALE | CMD_READONLY | CMD_MOVABLE_KEYS)

static cmdDef scriptSubcommands[] = {
    {.name = "exists", .proc = scriptExistsCommand, .arity = -3, .flags = CMD_NOSCRIPT, .acl = ACL_SCRIPTING, .summary = "Check existence of scripts in the script cache.", .since = "2.6.0", .complexity = "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)."},
    {.name = "flush", .proc = scriptFlushCommand, .arity = -2, .flags = CMD_NOSCRIPT | CMD_MAY_REPLICATE, .acl = ACL_SCRIPTING, .summary = "Remove all the scripts from the script cache.", .since = "2.6.0", .complexity = "O(N) with N being the number of scripts in cache"},
    {.name = "help", .proc = scriptHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_SCRIPTING, .summary = "Show helpful text about the different subcommands", .since = "5.0.0", .complexity = "O(1)"},
    {.name = "kill", .proc = scriptKillCommand, .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .acl = ACL_SCRIPTING, .summary = "Kill the script currently in execution.", .since = "2.6.0", .complexity = "O(1)"},
    {.name = "load", .proc = scriptLoadCommand, .arity = 3, .flags = CMD_NOSCRIPT | CMD_STALE | CMD_MAY_REPLICATE, .acl = ACL_SCRIPTING, .summary = "Load the specified Lua script into the script cache.", .since = "2.6.0", .complexity = "O(N) with N being the length in bytes of the script body."},
    {0}};

cmdDef scriptCommands[] = {
    {.name = "eval", .proc = evalCommand, .arity = -3, .flags = EVAL_FLAGS, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "2.6.0", .summary = "Execute a Lua script server side", .complexity = "Depends on the script that is executed."},
    {.name = "evalsha", .proc = evalShaCommand, .arity = -3, .flags = EVAL_FLAGS, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "2.6.0", .summary = "Execute a Lua script server side", .complexity = "Depends on the script that is executed."},
    {.name = "eval_ro", .proc = evalRoCommand, .arity = -3, .flags = EVAL_RO_FLAGS, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "7.0.0", .summary = "Execute a read-only Lua script server side", .complexity = "Depends on the script that is executed."},
    {.name = "evalsha_ro", .proc = evalShaRoCommand, .arity = -3, .flags = EVAL_RO_FLAGS, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "7.0.0", .summary = "Execute a read-only Lua script server side", .complexity = "Depends on the script that is executed."},
    {.name = "script", .proc = scriptDispatch, .arity = -2, .flags = 0, .group = "scripting", .since = "2.6.0", .summary = "A container for Lua scripts management commands", .complexity = "Depends on subcommand.", .subcmds = scriptSubcommands},
    {0}};
