/* script_lua.c - the Lua 5.1 state scripts run in: the sandbox, the redis.*
 * API, and the Lua <-> RESP conversions, all as Redis 7.0 does them.
 *
 * Owns: the lua_State's contents, the script client (a client with no
 * connection whose replies redis.call parses back into Lua values), the
 * run context of the script being executed, Lua's heap accounting.
 * Sandbox: only base (no loadfile/dofile/print), table, string, math,
 * cjson, bit, cmsgpack (script_cmsgpack.c), struct (script_struct.c).
 * Globals and every library table are read-only proxies, so a
 * script can neither create globals nor change what the next script sees;
 * loadstring/load refuse bytecode; math.random restarts from the same seed
 * for every run. Must never: run a command that failed a check, let an
 * allocation past SL_HEAP_LIMIT through, or raise a Lua error outside a
 * protected call (that would abort the process). */
#include "cluster.h"
#include "script_lua.h"
#include "script_cmsgpack.h"
#include "script_struct.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "evict.h"
#include "acl.h"
#include "pubsub.h"
#include "snapshot.h"
#include "repl.h"
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <lua-bitop.h>
#include <lua-cjson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

/* Lua numbers are doubles; C's conversion of one outside the target range
 * is undefined. Redis' casts give the x86 answer there (the most negative
 * value), so these do too, without the undefined behaviour. */
static long long numToLL(double d) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return LLONG_MIN;
    return (long long)d;
}

static int numToInt(double d) {
    if (!(d > (double)INT_MIN - 1.0 && d < (double)INT_MAX + 1.0)) return INT_MIN;
    return (int)d;
}

#define REG_HIDDEN_G "__cachet_globals" /* registry: the real globals table */
#define REG_PROXY_G SL_REG_PROXY_G      /* registry: what scripts see as _G */
#define REG_PROTECTED "__cachet_ro"     /* registry: set of read-only proxies */
#define SL_MAX_DEPTH 1000               /* nesting of a reply parsed into Lua (the server's own) */

static size_t heapBytes;
/* prepareRun and errorHandler as closures made once per state (each
 * lua_pushcfunction or lua_cpcall would allocate a new one per run),
 * kept in the registry under these addresses. */
static char regPrepareKey, regHandlerKey;
static int prepareRun(lua_State *L);
/* The cap applies only while a script runs (inside its lua_pcall): there a
 * failed allocation is an ordinary script error. Outside, a Lua error has
 * no handler to go to and would abort the process, so setting up a run and
 * converting its result are never refused. */
static int heapCapped;

/* The script being run (one at a time: the server is single threaded and
 * a script cannot start another). */
static struct {
    int active;
    int flags;      /* SL_RUN_* */
    int resp;       /* redis.setresp: 2 or 3 */
    int wrote;      /* the dataset changed (SCRIPT KILL refuses then) */
    int busy;       /* past busy-reply-threshold: serving other clients */
    int killed;     /* SCRIPT KILL asked it to stop */
    int isFunction; /* FCALL (a library function), not EVAL */
    long long startMs, lastPollMs;
    client *caller;
    const char *sha;
    int slot;       /* cluster mode: the slot the script's keys use so far, -1 none */
} run;

static client *scriptClient; /* executes redis.call; no connection */
/* math.random's 48-bit state: lrand48's initial value before any seed,
 * kept across runs and SCRIPT FLUSH, as Redis 7.0 keeps it. */
static uint64_t randState = 0x1234ABCD330EULL;

size_t slHeapBytes(void) { return heapBytes; }
long long slVmMemory(lua_State *L) { return L ? (long long)lua_gc(L, LUA_GCCOUNT, 0) * 1024LL : 0; }
int slHeapCap(int on) {
    int was = heapCapped;
    heapCapped = on;
    return was;
}
int slRunning(void) { return run.active; }
int slRunWrote(void) { return run.wrote; }
int slRunBusy(void) { return run.busy; }
void slRunKill(void) { run.killed = 1; }

/* ---- allocator: realloc, bounded -------------------------------------- */

/* Lua 5.1 passes osize 0 for a new block. A NULL return makes Lua raise
 * "not enough memory", which the script's pcall turns into an error
 * reply; the block sizes are exact, so the count never drifts. */
static size_t heapLimit = SL_HEAP_LIMIT;
void slSetHeapLimit(size_t bytes) { heapLimit = bytes; }

static void *slAlloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        heapBytes -= osize;
        return NULL;
    }
    if (heapCapped && nsize > osize && heapBytes - osize + nsize > heapLimit) return NULL;
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    heapBytes = heapBytes - osize + nsize;
    return p;
}

/* ---- RESP (the script client's output) -> Lua -------------------------- */

typedef struct respIn {
    const char *p, *end;
} respIn;

/* Length of the line at in->p (without CRLF); -1 if malformed. The
 * replies are the server's own, so this only guards against a bug. */
static long lineLen(respIn *in) {
    const char *cr = memchr(in->p, '\r', (size_t)(in->end - in->p));
    if (!cr || cr + 1 >= in->end) return -1;
    return (long)(cr - in->p);
}

static int pushReply(lua_State *L, respIn *in, int depth);

static int pushAggregate(lua_State *L, respIn *in, char type, long long n, int depth) {
    if (type == '*') {
        lua_newtable(L);
        for (long long i = 0; i < n; i++) {
            lua_pushnumber(L, (lua_Number)(i + 1));
            if (pushReply(L, in, depth + 1) < 0) return -1;
            lua_settable(L, -3);
        }
        return 0;
    }
    /* RESP3 map / set: {map={k=v}} and {set={k=true}}, as Redis. */
    lua_newtable(L);
    lua_pushstring(L, type == '%' ? "map" : "set");
    lua_newtable(L);
    for (long long i = 0; i < n; i++) {
        if (pushReply(L, in, depth + 1) < 0) return -1;
        if (type == '%') {
            if (pushReply(L, in, depth + 1) < 0) return -1;
        } else {
            lua_pushboolean(L, 1);
        }
        /* a nil key (a RESP3 null) cannot index a table: drop the pair */
        if (lua_isnil(L, -2)) lua_pop(L, 2);
        else lua_settable(L, -3);
    }
    lua_settable(L, -3);
    return 0;
}

/* Pushes one reply read from in; -1 on a malformed reply. */
static int pushReply(lua_State *L, respIn *in, int depth) {
    if (depth > SL_MAX_DEPTH || !lua_checkstack(L, 6)) return -1;
    long ll = lineLen(in);
    if (ll < 1) return -1;
    char type = in->p[0];
    const char *s = in->p + 1;
    size_t slen = (size_t)ll - 1;
    in->p += ll + 2;
    long long n = 0;
    switch (type) {
    case '+':
        lua_newtable(L);
        lua_pushstring(L, "ok");
        lua_pushlstring(L, s, slen);
        lua_settable(L, -3);
        return 0;
    case '-': {
        /* {err="CODE message"}: the '-' goes, the rest stays. */
        lua_newtable(L);
        lua_pushstring(L, "err");
        lua_pushlstring(L, s, slen);
        lua_settable(L, -3);
        return 0;
    }
    case ':':
        if (!string2ll(s, slen, &n)) return -1;
        lua_pushnumber(L, (lua_Number)n);
        return 0;
    case '_':
        lua_pushnil(L);
        return 0;
    case '#':
        lua_pushboolean(L, slen == 1 && s[0] == 't');
        return 0;
    case ',': {
        char buf[MAX_LONG_DOUBLE_CHARS];
        double d;
        if (slen >= sizeof(buf)) return -1;
        memcpy(buf, s, slen);
        buf[slen] = '\0';
        if (!strcmp(buf, "inf")) d = INFINITY;
        else if (!strcmp(buf, "-inf")) d = -INFINITY;
        else if (!strcmp(buf, "nan")) d = NAN;
        else d = strtod(buf, NULL);
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, d);
        lua_settable(L, -3);
        return 0;
    }
    case '(':
        lua_newtable(L);
        lua_pushstring(L, "big_number");
        lua_pushlstring(L, s, slen);
        lua_settable(L, -3);
        return 0;
    case '$':
    case '=':
        if (!string2ll(s, slen, &n)) return -1;
        if (n < 0) {
            lua_pushboolean(L, 0); /* null bulk -> false */
            return 0;
        }
        if (n > (in->end - in->p) - 2) return -1; /* (no n + 2: n may be near LLONG_MAX) */
        if (type == '$') {
            lua_pushlstring(L, in->p, (size_t)n);
        } else { /* verbatim: "txt:..." */
            if (n < 4) return -1;
            lua_newtable(L);
            lua_pushstring(L, "verbatim_string");
            lua_newtable(L);
            lua_pushstring(L, "string");
            lua_pushlstring(L, in->p + 4, (size_t)n - 4);
            lua_settable(L, -3);
            lua_pushstring(L, "format");
            lua_pushlstring(L, in->p, 3);
            lua_settable(L, -3);
            lua_settable(L, -3);
        }
        in->p += n + 2;
        return 0;
    case '*':
    case '%':
    case '~':
    case '>':
        if (!string2ll(s, slen, &n)) return -1;
        if (n < 0) {
            lua_pushboolean(L, 0); /* null array -> false */
            return 0;
        }
        return pushAggregate(L, in, (char)(type == '>' ? '*' : type), n, depth);
    default:
        return -1;
    }
}

/* The script client's whole output as one contiguous span. A long reply
 * is gathered into a buffer kept between calls: converting it may raise a
 * Lua error (out of memory), which would leak a per-call allocation. */
static char *flatBuf;
static size_t flatCap;

static char *takeOutput(client *c, size_t *len) {
    if (!c->reply) {
        *len = c->bufpos;
        return c->buf;
    }
    size_t total = c->bufpos + c->replyBytes;
    if (total > flatCap) {
        flatCap = total;
        flatBuf = memRealloc(flatBuf, flatCap);
    }
    char *p = flatBuf;
    memcpy(p, c->buf, c->bufpos);
    size_t off = c->bufpos;
    for (replyBlock *b = c->reply; b; b = b->next) {
        memcpy(p + off, b->buf, b->used);
        off += b->used;
    }
    *len = off;
    return p;
}

static void resetOutput(client *c) {
    replyBlock *b = c->reply;
    while (b) {
        replyBlock *n = b->next;
        memFree(b);
        b = n;
    }
    c->reply = c->replyTail = NULL;
    c->replyBytes = 0;
    c->bufpos = 0;
}

/* ---- errors as Redis represents them in Lua ------------------------------ */

/* Pushes {err="CODE msg"}. A text starting with '-' carries its own code
 * (the first word); otherwise the code is ERR. Trailing CR/LF go. */
static void pushErrorTable(lua_State *L, const char *e) {
    char buf[1024];
    const char *msg;
    if (e[0] == '-') {
        const char *sp = strchr(e, ' ');
        if (sp) snprintf(buf, sizeof(buf), "%.*s %s", (int)(sp - e - 1), e + 1, sp + 1);
        else snprintf(buf, sizeof(buf), "ERR %s", e + 1);
    } else {
        snprintf(buf, sizeof(buf), "ERR %s", e);
    }
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\r' || buf[n - 1] == '\n')) buf[--n] = '\0';
    msg = buf;
    lua_newtable(L);
    lua_pushstring(L, "err");
    lua_pushstring(L, msg);
    lua_settable(L, -3);
}

/* ---- Lua -> RESP (the script's result to its caller) ---------------------- */

/* Field name of t (at -1) holding a value of type want, pushed; 0 if none. */
static int rawField(lua_State *L, const char *name, int want) {
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    if (lua_type(L, -1) == want) return 1;
    lua_pop(L, 1);
    return 0;
}

static void replyStatusMapped(client *c, const char *s, size_t len) {
    char *p = memAlloc(len + 3);
    p[0] = '+';
    for (size_t i = 0; i < len; i++) p[i + 1] = (char)((s[i] == '\r' || s[i] == '\n') ? ' ' : s[i]);
    p[len + 1] = '\r';
    p[len + 2] = '\n';
    replyRaw(c, p, len + 3);
    memFree(p);
}

/* Replies the value at the top of L's stack to c and pops it. Nesting is
 * bounded as in Redis by the Lua stack (each level holds one element on
 * it, and lua_checkstack fails past LUAI_MAXCSTACK, 8000 slots), not by a
 * depth of its own: a reply nested 7,000 deep converts in both. */
static void replyFromLua(client *c, lua_State *L, int depth) {
    if (!lua_checkstack(L, 4)) {
        replyError(c, "reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        replyBulk(c, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        if (run.resp == 2) {
            if (lua_toboolean(L, -1)) replyLongLong(c, 1);
            else replyNull(c);
        } else {
            replyBool(c, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER:
        replyLongLong(c, numToLL(lua_tonumber(L, -1)));
        break;
    case LUA_TTABLE: {
        if (rawField(L, "err", LUA_TSTRING)) {
            size_t len;
            const char *e = lua_tolstring(L, -1, &len);
            char *p = memAlloc(len + 2);
            p[0] = '-';
            memcpy(p + 1, e, len + 1);
            replyError(c, p);
            memFree(p);
            lua_pop(L, 2);
            return;
        }
        if (rawField(L, "ok", LUA_TSTRING)) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            replyStatusMapped(c, s, len);
            lua_pop(L, 2);
            return;
        }
        if (rawField(L, "double", LUA_TNUMBER)) {
            replyDouble(c, lua_tonumber(L, -1));
            lua_pop(L, 2);
            return;
        }
        if (rawField(L, "big_number", LUA_TSTRING)) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (c->resp >= 3) {
                char *p = memAlloc(len + 3);
                p[0] = '(';
                for (size_t i = 0; i < len; i++) p[i + 1] = (char)((s[i] == '\r' || s[i] == '\n') ? ' ' : s[i]);
                p[len + 1] = '\r';
                p[len + 2] = '\n';
                replyRaw(c, p, len + 3);
                memFree(p);
            } else {
                replyBulk(c, s, len);
            }
            lua_pop(L, 2);
            return;
        }
        lua_pushstring(L, "verbatim_string");
        lua_rawget(L, -2);
        if (lua_istable(L, -1)) {
            lua_pushstring(L, "format");
            lua_rawget(L, -2);
            lua_pushstring(L, "string");
            lua_rawget(L, -3); /* t, vt, format, string */
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                size_t len;
                const char *s = lua_tolstring(L, -1, &len);
                char ext[4] = {0};
                snprintf(ext, sizeof(ext), "%s", lua_tostring(L, -2));
                replyVerbatim(c, s, len, ext);
                lua_pop(L, 4);
                return;
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
        if (rawField(L, "map", LUA_TTABLE)) {
            long n = 0;
            void *len = replyDeferredLen(c);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                replyFromLua(c, L, depth + 1); /* key */
                replyFromLua(c, L, depth + 1); /* value */
                n++;
            }
            replySetDeferredMapLen(c, len, n);
            lua_pop(L, 2);
            return;
        }
        if (rawField(L, "set", LUA_TTABLE)) {
            long n = 0;
            void *len = replyDeferredLen(c);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                replyFromLua(c, L, depth + 1);
                n++;
            }
            replySetDeferredSetLen(c, len, n);
            lua_pop(L, 2);
            return;
        }
        /* An array, up to the first nil. */
        void *len = replyDeferredLen(c);
        long n = 0;
        for (int j = 1;; j++) {
            lua_pushnumber(L, j);
            lua_rawget(L, -2);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            replyFromLua(c, L, depth + 1);
            n++;
        }
        replySetDeferredArrayLen(c, len, n);
        break;
    }
    default:
        replyNull(c);
    }
    lua_pop(L, 1);
}

/* ---- redis.call / redis.pcall ---------------------------------------------- */

/* Arguments of the call, copied (the command may keep nothing of them,
 * but Lua may collect its strings once they are popped). */
static char *argBlob;
static size_t argBlobCap;
static slice *argSlices;
static int argSlicesCap;

/* Runs the call on the script client. Leaves one value on the stack: the
 * reply, or an error table. Returns 1 when that value is an error. */
static int scriptCall(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc == 0) {
        pushErrorTable(L, "Please specify at least one argument for this redis lib call");
        return 1;
    }
    size_t total = 0;
    for (int j = 1; j <= argc; j++) {
        int t = lua_type(L, j);
        if (t == LUA_TNUMBER) total += 32;
        else if (t == LUA_TSTRING) total += lua_objlen(L, j);
        else {
            lua_pop(L, argc);
            pushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
            return 1;
        }
    }
    if (total > argBlobCap) {
        argBlobCap = total < 1024 ? 1024 : total;
        argBlob = memRealloc(argBlob, argBlobCap);
    }
    if (argc > argSlicesCap) {
        argSlicesCap = argc < 16 ? 16 : argc;
        argSlices = memRealloc(argSlices, sizeof(slice) * (size_t)argSlicesCap);
    }
    size_t off = 0;
    for (int j = 1; j <= argc; j++) {
        size_t len;
        if (lua_type(L, j) == LUA_TNUMBER) {
            /* %.17g as Redis: lua_tostring would lose precision. */
            int n = snprintf(argBlob + off, 32, "%.17g", (double)lua_tonumber(L, j));
            len = n < 0 ? 0 : (size_t)n;
        } else {
            const char *s = lua_tolstring(L, j, &len);
            if (len) memcpy(argBlob + off, s, len);
        }
        argSlices[j - 1].p = argBlob + off;
        argSlices[j - 1].len = len;
        off += len;
    }
    lua_pop(L, argc);

    client *sc = scriptClient;
    cmdDef *cmd = cmdLookupArgv(argSlices, argc);
    if (!cmd) {
        pushErrorTable(L, "Unknown Redis command called from script");
        return 1;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        pushErrorTable(L, "Wrong number of args calling Redis command from script");
        return 1;
    }
    if (cmd->flags & CMD_NOSCRIPT) {
        pushErrorTable(L, "This Redis command is not allowed from script");
        return 1;
    }
    int badArg, denied = aclCheck(run.caller->user, cmd, argSlices, argc, &badArg);
    if (denied) {
        const char *obj = denied == ACL_DENIED_CMD ? cmd->fullname : argSlices[badArg].p;
        size_t olen = denied == ACL_DENIED_CMD ? strlen(cmd->fullname) : argSlices[badArg].len;
        aclLogScriptDenial(run.caller, denied, obj, olen, aclUserName(run.caller->user));
        if (denied == ACL_DENIED_CMD)
            pushErrorTable(L, "The user executing the script can't run this command or subcommand");
        else if (denied == ACL_DENIED_KEY)
            pushErrorTable(L, "The user executing the script can't access at least one of the keys mentioned "
                              "in the command arguments");
        else
            pushErrorTable(L, "The user executing the script can't publish to the channel mentioned in the "
                              "command");
        return 1;
    }
    if (cmd->flags & CMD_WRITE) {
        if (run.flags & SL_RUN_READONLY) {
            pushErrorTable(L, "Write commands are not allowed from read-only scripts.");
            return 1;
        }
        /* Redis 7.0's scriptVerifyWriteCommandAllow: a read-only replica
         * and (after -MISCONF) min-replicas-to-write refuse a script's
         * writes too, unless the script runs for the primary. */
        int obey = (run.caller->flags & CLIENT_MASTER) != 0;
        if (!obey && replIsReplica() && srv.replicaReadOnly) {
            pushErrorTable(L, "-READONLY You can't write against a read only replica.");
            return 1;
        }
        if (snapshotWritesDenied()) {
            pushErrorTable(L, "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
                              "persist to disk. Commands that may modify the data set are disabled, because this "
                              "instance is configured to report errors during writes if RDB snapshotting fails "
                              "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
                              "the RDB error.");
            return 1;
        }
        if (!obey && !replPrimaryWritesAllowed()) {
            pushErrorTable(L, "-NOREPLICAS Not enough good replicas to write.");
            return 1;
        }
    }
    /* Cluster mode: a call must stay on this node's slots (Redis'
     * scriptVerifyClusterState). */
    if (srv.clusterEnabled) {
        char cerr[160];
        if (clusterCheckScriptCall(run.caller, cmd, argSlices, argc, &run.slot, (run.flags & SL_RUN_ALLOW_CROSS_SLOT) != 0,
                                   cerr, sizeof(cerr)) == -1) {
            pushErrorTable(L, cerr);
            return 1;
        }
    }
    /* Memory: a script that has not written may still be stopped before
     * its first growing command, as Redis does; one that already wrote
     * goes on, so the script stays atomic. */
    if ((cmd->flags & CMD_DENYOOM) && srv.maxmemory && !(run.flags & SL_RUN_ALLOW_OOM) && !run.wrote &&
        evictPerform() == -1) {
        pushErrorTable(L, "-OOM command not allowed when used memory > 'maxmemory'.");
        return 1;
    }

    sc->argv = argSlices;
    sc->argc = argc;
    sc->argvCap = argSlicesCap;
    sc->resp = run.resp;
    sc->user = run.caller->user;
    long long dirty = srv.dirty;
    cmdCall(sc, cmd);
    if (srv.dirty != dirty) run.wrote = 1;
    sc->argv = NULL; /* the slices are ours, not the client's */
    sc->argc = 0;
    sc->argvCap = 0;

    size_t len;
    char *out = takeOutput(sc, &len);
    respIn in = {out, out + len};
    int top = lua_gettop(L);
    int isErr = len > 0 && out[0] == '-';
    if (len == 0 || pushReply(L, &in, 0) < 0) {
        lua_settop(L, top);
        /* A command that replied nothing (cannot happen with the table as
         * it is) reads as nil rather than crashing the script. */
        lua_pushnil(L);
        isErr = 0;
    }
    resetOutput(sc);
    return isErr;
}

static int inCall; /* redis.call is not reentrant (a debug hook could try) */

static int luaRedisCall(lua_State *L, int raise) {
    if (!run.active) {
        pushErrorTable(L, "redis.call/pcall can only be called inside a script invocation");
        return lua_error(L);
    }
    if (inCall) {
        pushErrorTable(L, "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua "
                          "debug hooks?");
        return 1;
    }
    inCall = 1;
    int err = scriptCall(L);
    inCall = 0;
    if (err && raise) return lua_error(L);
    return 1;
}

static int redisCall(lua_State *L) { return luaRedisCall(L, 1); }
static int redisPcall(lua_State *L) { return luaRedisCall(L, 0); }

/* ---- the rest of the redis.* API ---------------------------------------------- */

/* Errors of the redis.* API carry no position, as in Redis (a C
 * function's luaL_error would prefix the caller's line). */
static int plainError(lua_State *L, const char *msg) {
    lua_pushstring(L, msg);
    return lua_error(L);
}

static int redisErrorReply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        pushErrorTable(L, "wrong number or type of arguments");
        return 1;
    }
    const char *e = lua_tostring(L, -1);
    if (e[0] == '-') {
        pushErrorTable(L, e);
    } else {
        char buf[1024];
        snprintf(buf, sizeof(buf), "-%s", e);
        pushErrorTable(L, buf);
    }
    return 1;
}

static int redisStatusReply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        pushErrorTable(L, "wrong number or type of arguments");
        return 1;
    }
    lua_newtable(L);
    lua_pushstring(L, "ok");
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    return 1;
}

static int redisSha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) return plainError(L, "wrong number of arguments");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (!s) {
        s = "";
        len = 0;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[41];
    if (!EVP_Digest(s, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) return plainError(L, "sha1 failed");
    for (int i = 0; i < 20; i++) snprintf(hex + i * 2, 3, "%02x", md[i]);
    lua_pushstring(L, hex);
    return 1;
}

static int redisLog(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc < 2) return plainError(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return plainError(L, "First argument must be a number (log level).");
    int level = numToInt(lua_tonumber(L, 1));
    if (level < LL_DEBUG || level > LL_WARNING) return plainError(L, "Invalid debug level.");
    if (!logLevelEnabled(level)) return 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (j != 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
    }
    luaL_pushresult(&b);
    logMsg(level, "%s", lua_tostring(L, -1));
    return 0;
}

static int redisSetresp(lua_State *L) {
    if (lua_gettop(L) != 1) return plainError(L, "redis.setresp() requires one argument.");
    int resp = numToInt(lua_tonumber(L, -1));
    if (resp != 2 && resp != 3) return plainError(L, "RESP version must be 2 or 3.");
    run.resp = resp;
    return 0;
}

/* No replication yet: the flags are checked as Redis checks them and
 * otherwise accepted. */
static int redisSetRepl(lua_State *L) {
    if (lua_gettop(L) != 1) return plainError(L, "redis.set_repl() requires two arguments.");
    int flags = numToInt(lua_tonumber(L, -1));
    if (flags & ~3) return plainError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return 0;
}

static int redisReplicateCommands(lua_State *L) {
    lua_pushboolean(L, 1);
    return 1;
}

static int redisBreakpoint(lua_State *L) {
    lua_pushboolean(L, 0); /* no debugger attached */
    return 1;
}

static int redisDebug(lua_State *L) {
    (void)L;
    return 0;
}

static int redisAclCheckCmd(lua_State *L) {
    if (!run.active) return plainError(L, "redis.acl_check_cmd can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) return plainError(L, "Please specify at least one argument for this redis lib call");
    /* Lua owns the array: an error below cannot leak it. */
    slice *argv = lua_newuserdata(L, sizeof(slice) * (size_t)argc);
    for (int j = 1; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) return plainError(L, "Lua redis lib command arguments must be strings or integers");
        argv[j - 1].p = s;
        argv[j - 1].len = len;
    }
    cmdDef *cmd = cmdLookupArgv(argv, argc);
    if (!cmd) return plainError(L, "Invalid command passed to redis.acl_check_cmd()");
    int badArg;
    int ok = aclCheck(run.caller->user, cmd, argv, argc, &badArg) == ACL_OK;
    lua_pushboolean(L, ok);
    return 1;
}

/* ---- math.random: Redis' own generator ----------------------------------- */

/* lrand48's LCG (a = 0x5DEECE66D, c = 0xB, 48 bits), seeded as srand48,
 * which is what Redis' rand.c computes: scripts see the same numbers as
 * on Redis. Redis 7.0 replicates effects, not scripts, so it no longer
 * reseeds before each run; neither do we (math.randomseed(n) gives a
 * repeatable sequence). */
static void randSeed(int32_t seed) { randState = ((uint64_t)(uint32_t)seed << 16) | 0x330E; }
static int32_t randNext(void) {
    randState = (0x5DEECE66DULL * randState + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(randState >> 17);
}

static int mathRandom(lua_State *L) {
    lua_Number r = (lua_Number)(randNext() % 2147483647) / (lua_Number)2147483647;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int mathRandomseed(lua_State *L) {
    randSeed(luaL_checkint(L, 1));
    return 0;
}

/* ---- sandbox ------------------------------------------------------------------ */

static int isProtected(lua_State *L, int idx) {
    if (!lua_istable(L, idx)) return 0;
    lua_pushvalue(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_PROTECTED);
    lua_insert(L, -2);
    lua_rawget(L, -2);
    int r = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return r;
}

/* Raises msg at the position of the Lua code that caused it (level 2: a
 * metamethod's caller), as the VM's own errors are positioned. */
static int raiseAt(lua_State *L, int level, const char *msg) {
    luaL_where(L, level);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

static int roNewindex(lua_State *L) { return raiseAt(L, 1, "Attempt to modify a readonly table"); }

static int globalIndex(lua_State *L) {
    /* upvalue 1: the real globals */
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) return 1;
    char msg[256];
    const char *k = lua_tostring(L, 2);
    snprintf(msg, sizeof(msg), "Script attempted to access nonexistent global variable '%.150s'", k ? k : "?");
    return raiseAt(L, 1, msg);
}

/* Replaces the table at idx (absolute) with a read-only proxy of it, left
 * on the top of the stack. indexFn: a C function with the table as upvalue
 * (globals), or NULL to index the table itself. */
static void pushReadonly(lua_State *L, int idx, lua_CFunction indexFn) {
    lua_newtable(L); /* proxy */
    lua_newtable(L); /* its metatable */
    lua_pushstring(L, "__index");
    if (indexFn) {
        lua_pushvalue(L, idx);
        lua_pushcclosure(L, indexFn, 1);
    } else {
        lua_pushvalue(L, idx);
    }
    lua_rawset(L, -3);
    lua_pushstring(L, "__newindex");
    lua_pushcfunction(L, roNewindex);
    lua_rawset(L, -3);
    lua_pushstring(L, "__metatable");
    lua_pushboolean(L, 0);
    lua_rawset(L, -3);
    lua_setmetatable(L, -2);
    /* remember it as protected */
    lua_getfield(L, LUA_REGISTRYINDEX, REG_PROTECTED);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* rawset and setmetatable refuse the proxies; the rest goes to the
 * originals (upvalue 1). */
static int safeRawset(lua_State *L) {
    if (isProtected(L, 1)) return plainError(L, "Attempt to modify a readonly table");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int safeSetmetatable(lua_State *L) {
    if (isProtected(L, 1)) return plainError(L, "Attempt to modify a readonly table");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Bytecode is refused the way Redis' Lua refuses it: its loader parses
 * the chunk as source, so the text is the parser's error for the escape
 * character at the chunk's start (the chunk name formatted as Lua's
 * luaO_chunkid formats it). */
static void pushBytecodeError(lua_State *L, const char *name) {
    char id[64];
    const size_t idsize = 60; /* LUA_IDSIZE */
    if (name[0] == '=') {
        snprintf(id, idsize, "%s", name + 1);
    } else if (name[0] == '@') {
        size_t l = strlen(name + 1);
        size_t room = idsize - sizeof(" '...' ");
        if (l > room) snprintf(id, sizeof(id), "...%s", name + 1 + l - room);
        else snprintf(id, sizeof(id), "%s", name + 1);
    } else {
        size_t room = idsize - sizeof(" [string \"...\"] ");
        size_t l = strcspn(name, "\n");
        int cut = l < strlen(name);
        if (l > room) {
            l = room;
            cut = 1;
        }
        snprintf(id, sizeof(id), "[string \"%.*s%s\"]", (int)l, name, cut ? "..." : "");
    }
    lua_pushnil(L);
    lua_pushfstring(L, "%s:1: unexpected symbol near 'char(27)'", id);
}

/* The common end of loadstring and load: source text compiles, bytecode
 * (which could break the VM) never does. Returns loadstring's results. */
static int loadSourceOnly(lua_State *L, const char *s, size_t len, const char *name) {
    if (len > 0 && s[0] == LUA_SIGNATURE[0]) {
        pushBytecodeError(L, name);
        return 2;
    }
    if (luaL_loadbuffer(L, s, len, name) == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int safeLoadstring(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    return loadSourceOnly(L, s, len, name);
}

/* load(fn): the pieces are gathered first, so a reader cannot slip
 * bytecode past the check by returning the signature later. */
static int safeLoad(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *name = luaL_optstring(L, 2, "=(load)");
    luaL_Buffer b;
    lua_settop(L, 2);
    luaL_buffinit(L, &b);
    for (;;) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
        size_t n;
        lua_tolstring(L, -1, &n);
        if (n == 0) {
            lua_pop(L, 1);
            break;
        }
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    return loadSourceOnly(L, s, len, name);
}

/* pcall hands the script the text of an error, not Redis' error table
 * (Redis 7.0 does the same): pcall(redis.call, ...) gives false and
 * "ERR ...". upvalue 1: the original pcall. */
static int safePcall(lua_State *L) {
    luaL_checkany(L, 1);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    /* results: ok, values... */
    if (!lua_toboolean(L, 1) && lua_gettop(L) >= 2 && lua_istable(L, 2)) {
        lua_getfield(L, 2, "err");
        if (lua_isstring(L, -1)) lua_replace(L, 2);
        else lua_pop(L, 1);
    }
    return lua_gettop(L);
}

/* collectgarbage("stop") is noted, so the end of the run restarts the
 * collector only when a script stopped it (restarting it after every run
 * would cancel the collector's pause and keep it collecting all the
 * time). upvalue 1: the original collectgarbage. */
static int gcStopped;
static int safeCollectgarbage(lua_State *L) {
    /* decided before the call: a "collect" may free the option's string */
    int stop = lua_type(L, 1) == LUA_TSTRING && !strcmp(lua_tostring(L, 1), "stop");
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    if (stop) gcStopped = 1;
    return lua_gettop(L);
}

/* string.rep checks the size first: a bomb fails at once instead of
 * filling the heap up to the limit byte by byte. */
static int safeStringRep(lua_State *L) {
    size_t l;
    luaL_checklstring(L, 1, &l);
    lua_Number n = luaL_checknumber(L, 2);
    if (n > 0 && l > 0 && (heapBytes >= heapLimit || (double)l * n > (double)(heapLimit - heapBytes)))
        return luaL_error(L, "not enough memory");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Wraps global (in table at idx) name with fn, the original as upvalue. */
static void wrapField(lua_State *L, int idx, const char *name, lua_CFunction fn) {
    lua_getfield(L, idx, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, idx, name);
}

static void setField(lua_State *L, const char *name, lua_CFunction fn) {
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, name);
}

static void setNumber(lua_State *L, const char *name, lua_Number v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

/* Error handler for the script's pcall: turns any error into a table
 * {err=..., source=..., line=...} (where the script was when it failed;
 * past a C function such as redis.call or error, to the Lua line that
 * called it), as Redis' __redis__err__handler. */
static int errorHandler(lua_State *L) {
    lua_Debug ar;
    int have = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        have = 1;
        if (!strcmp(ar.what, "C")) have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
    }
    if (!lua_istable(L, 1)) {
        const char *s = lua_tostring(L, 1);
        lua_newtable(L);
        lua_pushstring(L, "err");
        lua_pushfstring(L, "ERR %s", s ? s : (lua_isnil(L, 1) ? "nil" : luaL_typename(L, 1)));
        lua_rawset(L, -3);
        lua_replace(L, 1);
    }
    if (have) {
        lua_pushstring(L, "source");
        lua_pushstring(L, ar.source);
        lua_rawset(L, 1);
        lua_pushstring(L, "line");
        lua_pushnumber(L, ar.currentline);
        lua_rawset(L, 1);
    }
    lua_settop(L, 1);
    return 1;
}

static void openLib(lua_State *L, lua_CFunction fn, const char *global) {
    lua_pushcfunction(L, fn);
    lua_pushstring(L, global);
    lua_call(L, 1, 1);
    if (global[0] && lua_istable(L, -1)) lua_setglobal(L, global);
    else lua_pop(L, 1);
}

static client *newScriptClient(void) {
    client *c = memCalloc(sizeof(*c));
    c->id = -1; /* never listed, never counted against maxclients */
    c->resp = 2;
    c->db = &srv.db[0];
    c->user = aclDefaultUser();
    c->flags = CLIENT_AUTHENTICATED | CLIENT_SCRIPT;
    snprintf(c->addr, sizeof(c->addr), "%s", "lua");
    pubsubClientInit(c);
    return c;
}

/* Runs in a protected call: Lua errors while building the state (out of
 * memory) must not abort the process. */
static int buildState(lua_State *L) {
    openLib(L, luaopen_base, "");
    openLib(L, luaopen_table, LUA_TABLIBNAME);
    openLib(L, luaopen_string, LUA_STRLIBNAME);
    openLib(L, luaopen_math, LUA_MATHLIBNAME);
    static const struct {
        lua_CFunction open;
        const char *name;
    } extra[] = {{luaopen_cjson, "cjson"}, {luaopen_bit, "bit"}, {slOpenCmsgpack, "cmsgpack"}, {slOpenStruct, "struct"}};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        lua_pushcfunction(L, extra[i].open);
        lua_call(L, 0, 1);
        lua_setglobal(L, extra[i].name);
    }

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    int G = lua_gettop(L);
    static const char *const removed[] = {"loadfile", "dofile", "print", "newproxy", "getfenv", "setfenv", NULL};
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, G, removed[i]);
    }
    lua_pushcfunction(L, safeLoadstring);
    lua_setfield(L, G, "loadstring");
    lua_pushcfunction(L, safeLoad);
    lua_setfield(L, G, "load");
    wrapField(L, G, "rawset", safeRawset);
    wrapField(L, G, "setmetatable", safeSetmetatable);
    wrapField(L, G, "pcall", safePcall);
    wrapField(L, G, "collectgarbage", safeCollectgarbage);

    lua_getfield(L, G, "math");
    setField(L, "random", mathRandom);
    setField(L, "randomseed", mathRandomseed);
    lua_pop(L, 1);
    lua_getfield(L, G, "string");
    wrapField(L, lua_gettop(L), "rep", safeStringRep);
    lua_pop(L, 1);

    lua_newtable(L); /* redis */
    setField(L, "call", redisCall);
    setField(L, "pcall", redisPcall);
    setField(L, "log", redisLog);
    setField(L, "setresp", redisSetresp);
    setField(L, "set_repl", redisSetRepl);
    setField(L, "replicate_commands", redisReplicateCommands);
    setField(L, "error_reply", redisErrorReply);
    setField(L, "status_reply", redisStatusReply);
    setField(L, "sha1hex", redisSha1hex);
    setField(L, "breakpoint", redisBreakpoint);
    setField(L, "debug", redisDebug);
    setField(L, "acl_check_cmd", redisAclCheckCmd);
    setNumber(L, "LOG_DEBUG", LL_DEBUG);
    setNumber(L, "LOG_VERBOSE", LL_VERBOSE);
    setNumber(L, "LOG_NOTICE", LL_NOTICE);
    setNumber(L, "LOG_WARNING", LL_WARNING);
    setNumber(L, "REPL_NONE", 0);
    setNumber(L, "REPL_AOF", 1);
    setNumber(L, "REPL_SLAVE", 2);
    setNumber(L, "REPL_REPLICA", 2);
    setNumber(L, "REPL_ALL", 3);
    lua_pushstring(L, CACHET_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    setNumber(L, "REDIS_VERSION_NUM", (7 << 16) | (0 << 8) | 15);
    lua_setfield(L, G, "redis");

    /* Freeze: every library table, the string metatable, then the
     * globals themselves are seen through read-only proxies. */
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_PROTECTED);
    static const char *const libs[] = {"string", "table", "math", "cjson", "bit", "cmsgpack", "struct",
                                         "coroutine", "redis", NULL};
    for (int i = 0; libs[i]; i++) {
        lua_getfield(L, G, libs[i]);
        pushReadonly(L, lua_gettop(L), NULL);
        lua_setfield(L, G, libs[i]);
        lua_pop(L, 1);
    }
    lua_pushstring(L, "");
    lua_getmetatable(L, -1); /* the string metatable: methods via the proxy */
    lua_getfield(L, G, "string");
    lua_setfield(L, -2, "__index");
    pushReadonly(L, lua_gettop(L), NULL);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_pushlightuserdata(L, &regPrepareKey);
    lua_pushcfunction(L, prepareRun);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, &regHandlerKey);
    lua_pushcfunction(L, errorHandler);
    lua_rawset(L, LUA_REGISTRYINDEX);

    lua_pushvalue(L, G);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_HIDDEN_G);
    pushReadonly(L, G, globalIndex);
    lua_pushvalue(L, -1);
    lua_setfield(L, G, "_G");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_PROXY_G);
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_settop(L, 0);
    return 0;
}

lua_State *slCreate(char *err, size_t errlen) {
    lua_State *L = lua_newstate(slAlloc, NULL);
    if (!L) {
        snprintf(err, errlen, "cannot create the Lua state: out of memory");
        return NULL;
    }
    if (lua_cpcall(L, buildState, NULL) != 0) {
        snprintf(err, errlen, "cannot set up the Lua state: %s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_close(L);
        return NULL;
    }
    if (!scriptClient) scriptClient = newScriptClient();
    return L;
}

void slDestroy(lua_State *L) {
    if (L) lua_close(L);
}

/* ---- long scripts --------------------------------------------------------- */

#define SL_HOOK_COUNT 100000 /* instructions between two looks at the clock */
#define SL_POLL_MS 10        /* a busy script serves the sockets this often */

/* Serves the sockets once while the script runs, as the start-up load does:
 * other clients get -BUSY (cmd.c asks scriptBusyError), SCRIPT KILL and
 * SHUTDOWN NOSAVE run. The caller's socket is not read (its pipelined
 * commands wait for this one's reply). No timers, no cron, no blocked
 * clients: nothing else may touch the dataset under the script. */
static void serveWhileBusy(void) {
    client *prev = srv.current;
    serverUpdateCachedTime();
    elPollFiles(srv.el);
    connTlsBeforeSleep();
    srv.current = prev; /* a read handler resets it; keep the caller from being freed */
    clientHandlePendingWrites();
    clientFreeScheduled();
}

static void killHook(lua_State *L, lua_Debug *ar);

static void countHook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    long long now = mstime();
    if (!run.busy) {
        if (srv.busyReplyThreshold <= 0 || now - run.startMs < srv.busyReplyThreshold) return;
        run.busy = 1;
        run.caller->flags |= CLIENT_SCRIPT_CALLER;
        logWarning("Slow script detected: still in execution after %lld milliseconds. You can try killing the "
                   "script using the SCRIPT KILL command. Script name is: f_%s.",
                   now - run.startMs, run.sha);
    }
    if (now - run.lastPollMs >= SL_POLL_MS) {
        run.lastPollMs = now;
        serveWhileBusy();
    }
    /* SHUTDOWN NOSAVE arrived: the loop exits once the script returns, so
     * it stops now, written or not (nothing is saved). */
    if (srv.shutdownAsap) run.killed = 1;
    if (run.killed) {
        logWarning("Lua script killed by user with SCRIPT KILL.");
        /* From now on every line raises again, so pcall cannot swallow it. */
        lua_sethook(L, killHook, LUA_MASKLINE, 0);
        pushErrorTable(L, "Script killed by user with SCRIPT KILL...");
        lua_error(L);
    }
}

static void killHook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    pushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
}

/* ---- compile and run ------------------------------------------------------------- */

static void funcName(char *out, const char *sha) {
    out[0] = 'f';
    out[1] = '_';
    memcpy(out + 2, sha, 40);
    out[42] = '\0';
}

/* The compiled function is kept twice: as f_<sha> in the registry (where
 * Redis keeps it, and what error messages name) and under an integer
 * reference the caller keeps, so a run needs no string lookup. Its
 * environment is the read-only globals proxy, set once here. */
int slCompile(lua_State *L, const char *sha, const char *body, size_t len, int *ref, char *err, size_t errlen) {
    if (luaL_loadbuffer(L, body, len, "@user_script")) {
        snprintf(err, errlen, "Error compiling script (new function): %s",
                 lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
        return -1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, REG_PROXY_G);
    lua_setfenv(L, -2);
    char name[43];
    funcName(name, sha);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, name);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static void pushArgTable(lua_State *L, slice *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Prepares the run inside a protected call (the tables may fail to
 * allocate). EVAL: KEYS/ARGV into the real globals, the thread's globals
 * back to the proxy; returns nothing. FCALL: returns the keys and args
 * tables, the function's two arguments. */
typedef struct runArgs {
    slice *keys, *args;
    int nkeys, nargs;
    int isFunction;
} runArgs;

static int prepareRun(lua_State *L) {
    runArgs *a = lua_touserdata(L, 1);
    if (a->isFunction) {
        pushArgTable(L, a->keys, a->nkeys);
        pushArgTable(L, a->args, a->nargs);
        return 2;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, REG_HIDDEN_G);
    pushArgTable(L, a->keys, a->nkeys);
    lua_setfield(L, -2, "KEYS");
    pushArgTable(L, a->args, a->nargs);
    lua_setfield(L, -2, "ARGV");
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_PROXY_G);
    lua_replace(L, LUA_GLOBALSINDEX);
    return 0;
}

static void pushCached(lua_State *L, char *key) {
    lua_pushlightuserdata(L, key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

static void replyRunError(client *c, lua_State *L, const char *sha) {
    char *msg = NULL;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        const char *e = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_getfield(L, -2, "source");
        const char *src = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_getfield(L, -3, "line");
        int hasLine = lua_isnumber(L, -1);
        long line = (long)numToLL(lua_tonumber(L, -1));
        if (e) {
            size_t n = strlen(e) + (src ? strlen(src) : 0) + 128;
            msg = memAlloc(n);
            if (src && hasLine) snprintf(msg, n, "-%s script: %s, on %s:%ld.", e, sha, src, line);
            else snprintf(msg, n, "-%s", e);
        }
        lua_pop(L, 3);
    }
    if (!msg) {
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        size_t n = (s ? strlen(s) : 0) + 128;
        msg = memAlloc(n);
        snprintf(msg, n, "Error running script (call to f_%s): @%s", sha, s ? s : "unknown error");
    }
    replyError(c, msg);
    memFree(msg);
}

static void runGeneric(lua_State *L, client *c, const char *sha, int ref, int isFunction, slice *keys, int nkeys,
                       slice *args, int nargs, int flags);

void slRun(lua_State *L, client *c, const char *sha, int ref, slice *keys, int nkeys, slice *args, int nargs,
           int flags) {
    runGeneric(L, c, sha, ref, 0, keys, nkeys, args, nargs, flags);
}

void slRunFunction(lua_State *L, client *c, const char *name, int ref, slice *keys, int nkeys, slice *args,
                   int nargs, int flags) {
    runGeneric(L, c, name, ref, 1, keys, nkeys, args, nargs, flags);
}

const char *slRunName(void) { return run.active ? run.sha : NULL; }
int slRunIsFunction(void) { return run.active && run.isFunction; }
long long slRunStartMs(void) { return run.startMs; }
client *slRunCaller(void) { return run.caller; }

static void runGeneric(lua_State *L, client *c, const char *sha, int ref, int isFunction, slice *keys, int nkeys,
                       slice *args, int nargs, int flags) {
    runArgs a = {keys, args, nkeys, nargs, isFunction};
    /* stack: handler, the function, [keys, args] */
    pushCached(L, &regHandlerKey);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    pushCached(L, &regPrepareKey);
    lua_pushlightuserdata(L, &a);
    if (lua_pcall(L, 1, isFunction ? 2 : 0, 0) != 0) {
        lua_pop(L, 3);
        replyError(c, "Error running script: not enough memory");
        return;
    }
    run.isFunction = isFunction;
    run.active = 1;
    run.flags = flags;
    run.resp = 2;
    run.wrote = 0;
    run.caller = c;
    run.slot = clusterCallerSlot(c);
    run.sha = sha;
    run.busy = run.killed = 0;
    run.startMs = run.lastPollMs = mstime();
    lua_sethook(L, countHook, LUA_MASKCOUNT, SL_HOOK_COUNT);
    scriptClient->db = c->db;
    scriptClient->user = c->user;

    /* A function gets (keys, args) as its arguments, not globals. */
    int nargsLua = isFunction ? 2 : 0;
    heapCapped = 1;
    int rc = lua_pcall(L, nargsLua, 1, -2 - nargsLua);
    heapCapped = 0;
    if (rc == 0) replyFromLua(c, L, 0);
    else replyRunError(c, L, sha), lua_pop(L, 1);
    lua_pop(L, 1); /* the handler */
    lua_sethook(L, NULL, 0, 0);
    if (run.busy) {
        c->flags &= ~(uint64_t)CLIENT_SCRIPT_CALLER;
        logWarning("Slow script finished after %lld milliseconds.", mstime() - run.startMs);
    }
    run.active = run.busy = run.killed = run.isFunction = 0;
    run.caller = NULL;
    resetOutput(scriptClient);
    /* Lua collects incrementally; after a run that failed (perhaps out of
     * memory) a full cycle gives the heap back now. A script may have
     * stopped the collector (collectgarbage("stop")): the next one starts
     * with it running again. */
    if (rc != 0) lua_gc(L, LUA_GCCOLLECT, 0);
    if (gcStopped) {
        lua_gc(L, LUA_GCRESTART, 0);
        gcStopped = 0;
    }
}
