/* function.c - Redis 7.0 functions: FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|
 * RESTORE|STATS|KILL|HELP, FCALL, FCALL_RO, with Redis' reply shapes and
 * error texts, and the snapshot/DUMP form of libraries (FUNCTION2 records).
 *
 * Owns: the libraries (a list; each has its name, its code and the
 * functions it registered, kept as registry references in a Lua state of
 * its own, separate from EVAL's), the loading run of a library (which sees
 * only redis.register_function, redis.log and the version fields, as in
 * Redis), and the checks a function passes before it runs.
 * Must never: keep a library whose loading failed or registered nothing,
 * leave two functions with the same name, let FCALL_RO run a function
 * without the no-writes flag, or let a loading run call redis.call. */
#include "function.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "evict.h"
#include "args.h"
#include "crc64.h"
#include "rdb.h"
#include "rdb_int.h"
#include "script.h"
#include "script_lua.h"
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FN_LOAD_TIMEOUT_MS 500 /* a library's loading run, as Redis */
#define REG_LOAD_API "__cachet_fn_load_api" /* registry: globals of a loading run */

typedef struct fnFunc {
    char *name;
    char *desc; /* NULL: none */
    int flags;  /* SCRIPT_FLAG_* */
    int ref;    /* the callback, in the registry */
} fnFunc;

typedef struct fnLib {
    char *name;
    char *code;
    size_t codeLen;
    fnFunc *fns;
    int nfns, capfns;
    int envRef; /* the library's environment table */
    struct fnLib *next;
} fnLib;

static lua_State *flua;
static fnLib *libs;       /* the loaded libraries, in load order */
static fnLib *loadingLib; /* register_function's target during a loading run */
static long long loadStartMs;

/* ---- libraries ------------------------------------------------------------ */

static void libFree(fnLib *l) {
    for (int i = 0; i < l->nfns; i++) {
        memFree(l->fns[i].name);
        memFree(l->fns[i].desc);
        if (flua) luaL_unref(flua, LUA_REGISTRYINDEX, l->fns[i].ref);
    }
    if (flua) luaL_unref(flua, LUA_REGISTRYINDEX, l->envRef);
    memFree(l->fns);
    memFree(l->name);
    memFree(l->code);
    memFree(l);
}

static fnLib *libFind(fnLib *list, const char *name, size_t len) {
    for (fnLib *l = list; l; l = l->next)
        if (strlen(l->name) == len && !memcmp(l->name, name, len)) return l;
    return NULL;
}

static fnFunc *funcFind(fnLib *list, const char *name, size_t len, fnLib *skip) {
    for (fnLib *l = list; l; l = l->next) {
        if (l == skip) continue;
        for (int i = 0; i < l->nfns; i++)
            if (strlen(l->fns[i].name) == len && !memcmp(l->fns[i].name, name, len)) return &l->fns[i];
    }
    return NULL;
}

static void libUnlink(fnLib **list, fnLib *l) {
    for (fnLib **pp = list; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            l->next = NULL;
            return;
        }
}

static void libAppend(fnLib **list, fnLib *l) {
    fnLib **pp = list;
    while (*pp) pp = &(*pp)->next;
    l->next = NULL;
    *pp = l;
}

static void libListFree(fnLib *l) {
    while (l) {
        fnLib *n = l->next;
        libFree(l);
        l = n;
    }
}

void fnFlushAll(void) {
    libListFree(libs);
    libs = NULL;
    /* The state goes with the libraries: nothing else lives in it. */
    if (flua) slDestroy(flua);
    flua = NULL;
}

static int countFunctions(void) {
    int n = 0;
    for (fnLib *l = libs; l; l = l->next) n += l->nfns;
    return n;
}

long long fnVmMemory(void) { return slVmMemory(flua); }
long long fnFunctionCount(void) { return countFunctions(); }
long long fnLibraryCount(void) {
    long long n = 0;
    for (fnLib *l = libs; l; l = l->next) n++;
    return n;
}
long long fnCacheMemory(void) {
    long long b = 0;
    for (fnLib *l = libs; l; l = l->next) {
        b += (long long)(sizeof(*l) + l->codeLen + strlen(l->name) + 1 + (size_t)l->capfns * sizeof(fnFunc));
        for (int i = 0; i < l->nfns; i++)
            b += (long long)(strlen(l->fns[i].name) + 1 + (l->fns[i].desc ? strlen(l->fns[i].desc) + 1 : 0));
    }
    return b;
}

/* Letters, digits and underscores, at least one (Redis' rule for library
 * and function names alike). */
static int validName(const char *p, size_t len) {
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

#define BAD_NAME_ERR                                                                                             \
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

/* ---- the loading run: redis.register_function ----------------------------------- */

/* Raises msg as the loading run's error, without a position (as Redis). */
static int loadError(lua_State *L, const char *msg) {
    lua_pushstring(L, msg);
    return lua_error(L);
}

static const struct {
    const char *name;
    int flag;
} fnFlags[] = {
    {"no-writes", SCRIPT_FLAG_NO_WRITES},
    {"allow-oom", SCRIPT_FLAG_ALLOW_OOM},
    {"allow-stale", SCRIPT_FLAG_ALLOW_STALE},
    {"no-cluster", SCRIPT_FLAG_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT},
};
#define N_FN_FLAGS ((int)(sizeof(fnFlags) / sizeof(fnFlags[0])))

/* The flags table at idx: 0 with *flags, -1 on an unknown flag. */
static int readFlags(lua_State *L, int idx, int *flags) {
    for (int i = 1;; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return -1;
        }
        const char *s = lua_tostring(L, -1);
        int k;
        for (k = 0; k < N_FN_FLAGS; k++)
            if (!strcmp(s, fnFlags[k].name)) break;
        lua_pop(L, 1);
        if (k == N_FN_FLAGS) return -1;
        *flags |= fnFlags[k].flag;
    }
}

/* redis.register_function(name, fn) or redis.register_function{function_name=,
 * callback=, flags=, description=}. The callback goes to the registry. */
static int registerFunction(lua_State *L) {
    fnLib *lib = loadingLib;
    if (!lib) return loadError(L, "redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    const char *name = NULL, *desc = NULL;
    size_t nameLen = 0;
    int flags = 0, haveFn = 0;
    if (argc == 1) {
        if (!lua_istable(L, 1))
            return loadError(L, "calling redis.register_function with a single argument is only applicable to Lua "
                                "table (representing named arguments).");
        /* name, description, callback collect at 2, 3, 4 */
        lua_settop(L, 1);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return loadError(L, "named argument key given to redis.register_function is not a string");
            const char *key = lua_tostring(L, -2);
            if (!strcasecmp(key, "function_name")) {
                if (!lua_isstring(L, -1))
                    return loadError(L, "function_name argument given to redis.register_function must be a string");
                lua_replace(L, 2);
            } else if (!strcasecmp(key, "description")) {
                if (!lua_isstring(L, -1))
                    return loadError(L, "description argument given to redis.register_function must be a string");
                lua_replace(L, 3);
            } else if (!strcasecmp(key, "callback")) {
                if (!lua_isfunction(L, -1))
                    return loadError(L, "callback argument given to redis.register_function must be a function");
                lua_replace(L, 4);
                haveFn = 1;
            } else if (!strcasecmp(key, "flags")) {
                if (!lua_istable(L, -1))
                    return loadError(L, "flags argument to redis.register_function must be a table representing "
                                        "function flags");
                if (readFlags(L, lua_gettop(L), &flags) < 0) return loadError(L, "unknown flag given");
                lua_pop(L, 1);
            } else {
                return loadError(L, "unknown argument given to redis.register_function");
            }
        }
        if (lua_isnil(L, 2)) return loadError(L, "redis.register_function must get a function name argument");
        if (!haveFn) return loadError(L, "redis.register_function must get a callback argument");
        name = lua_tolstring(L, 2, &nameLen);
        if (!lua_isnil(L, 3)) desc = lua_tostring(L, 3);
    } else if (argc == 2) {
        if (!lua_isstring(L, 1)) return loadError(L, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(L, 2))
            return loadError(L, "second argument to redis.register_function must be a function");
        name = lua_tolstring(L, 1, &nameLen);
        lua_pushnil(L);
        lua_pushvalue(L, 2); /* name, fn, nil (desc), fn at 1..4 */
    } else {
        return loadError(L, "wrong number of arguments to redis.register_function");
    }
    if (!validName(name, nameLen)) return loadError(L, BAD_NAME_ERR);
    for (int i = 0; i < lib->nfns; i++)
        if (strlen(lib->fns[i].name) == nameLen && !memcmp(lib->fns[i].name, name, nameLen))
            return loadError(L, "Function already exists in the library");
    /* Everything checked: nothing below raises before the function is
     * kept (luaL_ref may fail to allocate: then the ref is LUA_REFNIL,
     * and the library is refused below). */
    lua_pushvalue(L, 4);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (ref == LUA_REFNIL || ref == LUA_NOREF) return loadError(L, "not enough memory");
    if (lib->nfns == lib->capfns) {
        lib->capfns = lib->capfns ? lib->capfns * 2 : 4;
        lib->fns = memRealloc(lib->fns, sizeof(fnFunc) * (size_t)lib->capfns);
    }
    fnFunc *f = &lib->fns[lib->nfns++];
    f->name = memAlloc(nameLen + 1);
    memcpy(f->name, name, nameLen);
    f->name[nameLen] = '\0';
    f->desc = desc ? memStrdup(desc) : NULL;
    f->flags = flags;
    f->ref = ref;
    return 0;
}

/* __index and __newindex of the loading run's globals and redis table:
 * only what Redis gives a loading library exists. */
static int loadMissing(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", k ? k : "?");
}

static int loadReadonly(lua_State *L) { return luaL_error(L, "Attempt to modify a readonly table"); }

static int redisLogProxy(lua_State *L) {
    /* redis.log of the full API, looked up in the real globals. */
    lua_getfield(L, LUA_REGISTRYINDEX, SL_REG_PROXY_G);
    lua_getfield(L, -1, "redis");
    lua_getfield(L, -1, "log");
    lua_insert(L, 1);
    lua_pop(L, 2);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

static void pushErrorMeta(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, loadMissing);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, loadReadonly);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}

/* Builds the loading run's globals: {redis = {register_function, log,
 * LOG_*, REDIS_VERSION, REDIS_VERSION_NUM}}. In a protected call. */
static int buildLoadApi(lua_State *L) {
    lua_newtable(L); /* globals */
    lua_newtable(L); /* redis */
    lua_pushcfunction(L, registerFunction);
    lua_setfield(L, -2, "register_function");
    lua_pushcfunction(L, redisLogProxy);
    lua_setfield(L, -2, "log");
    lua_getfield(L, LUA_REGISTRYINDEX, SL_REG_PROXY_G);
    lua_getfield(L, -1, "redis");
    static const char *const copied[] = {"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING",
                                         "REDIS_VERSION", "REDIS_VERSION_NUM", NULL};
    for (int i = 0; copied[i]; i++) {
        lua_getfield(L, -1, copied[i]);
        lua_setfield(L, -4, copied[i]);
    }
    lua_pop(L, 2);
    pushErrorMeta(L);
    lua_setfield(L, -2, "redis");
    pushErrorMeta(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_LOAD_API);
    return 0;
}

static lua_State *getLua(char *err, size_t errlen) {
    if (flua) return flua;
    flua = slCreate(err, errlen);
    if (!flua) return NULL;
    if (lua_cpcall(flua, buildLoadApi, NULL) != 0) {
        snprintf(err, errlen, "cannot set up the Lua state: not enough memory");
        slDestroy(flua);
        flua = NULL;
    }
    return flua;
}

static void loadHook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (mstime() - loadStartMs > FN_LOAD_TIMEOUT_MS) {
        lua_sethook(L, loadHook, LUA_MASKLINE, 0); /* raise again on every line: pcall cannot swallow it */
        lua_pushstring(L, "FUNCTION LOAD timeout");
        lua_error(L);
    }
}

/* The loading run's error as text: "ERR <message>" for a plain error. */
static void loadErrorText(lua_State *L, char *out, size_t outlen) {
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        const char *e = lua_tostring(L, -1);
        snprintf(out, outlen, "%s", e ? e : "ERR unknown error");
        lua_pop(L, 1);
        return;
    }
    const char *s = lua_tostring(L, -1);
    snprintf(out, outlen, "ERR %s", s ? s : "unknown error");
}

/* Environment of a library's code: during the loading run its lookups go
 * to the load API; afterwards (its functions running) to the globals
 * every script sees. Pushes the table. */
static void pushLibEnv(lua_State *L, int loading) {
    lua_newtable(L);
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, loading ? REG_LOAD_API : SL_REG_PROXY_G);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}

/* Creates lib's functions from its code. 0, or -1 with Redis' text. */
static int runLibrary(lua_State *L, fnLib *lib, const char *body, size_t len, char *err, size_t errlen) {
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 8) || luaL_loadbuffer(L, body, len, "@user_function")) {
        const char *e = lua_tostring(L, -1);
        snprintf(err, errlen, "Error compiling function: %s", e ? e : "not enough memory");
        lua_settop(L, top);
        return -1;
    }
    pushLibEnv(L, 1);
    lua_pushvalue(L, -1);
    lib->envRef = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setfenv(L, -2);
    loadingLib = lib;
    loadStartMs = mstime();
    lua_sethook(L, loadHook, LUA_MASKCOUNT, 100000);
    int wasCapped = slHeapCap(1); /* the loading run is bounded like a script's */
    int rc = lua_pcall(L, 0, 0, 0); /* errors keep their position */
    slHeapCap(wasCapped);
    lua_sethook(L, NULL, 0, 0);
    loadingLib = NULL;
    if (rc != 0) {
        char msg[1024];
        loadErrorText(L, msg, sizeof(msg));
        snprintf(err, errlen, "Error registering functions: %.900s", msg);
        lua_settop(L, top);
        return -1;
    }
    lua_settop(L, top);
    /* From now on the library's code sees the run-time globals. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, lib->envRef);
    lua_getmetatable(L, -1);
    lua_getfield(L, LUA_REGISTRYINDEX, SL_REG_PROXY_G);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -2, "__newindex");
    lua_settop(L, top);
    return 0;
}

/* Parses "#!lua name=<lib>\n". 0 with the name and the shebang length. */
static int parseMetadata(const char *code, size_t len, char *name, size_t namecap, size_t *shebangLen, char *err,
                         size_t errlen) {
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "Invalid library metadata");
        return -1;
    }
    size_t slen = (size_t)(nl - code);
    *shebangLen = slen;
    char engine[64] = "";
    int haveName = 0;
    size_t i = 2, word = 0;
    while (i < slen) {
        while (i < slen && code[i] == ' ') i++;
        if (i >= slen) break;
        size_t j = i;
        while (j < slen && code[j] != ' ') j++;
        const char *w = code + i;
        size_t wl = j - i;
        int cut = wl > 200 ? 200 : (int)wl;
        if (word == 0) {
            snprintf(engine, sizeof(engine), "%.*s", cut > 60 ? 60 : cut, w);
        } else if (wl >= 5 && !memcmp(w, "name=", 5)) {
            if (wl - 5 >= namecap) {
                snprintf(err, errlen, BAD_NAME_ERR);
                return -1;
            }
            memcpy(name, w + 5, wl - 5);
            name[wl - 5] = '\0';
            haveName = 1;
        } else {
            snprintf(err, errlen, "Invalid metadata value given: %.*s", cut, w);
            return -1;
        }
        word++;
        i = j;
    }
    if (!haveName) {
        snprintf(err, errlen, "Library name was not given");
        return -1;
    }
    if (strcasecmp(engine, "lua") != 0) {
        snprintf(err, errlen, "Engine '%s' not found", engine);
        return -1;
    }
    if (!validName(name, strlen(name))) {
        snprintf(err, errlen, BAD_NAME_ERR);
        return -1;
    }
    return 0;
}

/* Creates the library in code and links it into *list (REPLACE: over the
 * library of the same name). The library's name in nameOut. 0, or -1 with
 * Redis' error text (without "ERR "). */
static int createLibrary(fnLib **list, const char *code, size_t len, int replace, char *nameOut, size_t namecap,
                         char *err, size_t errlen) {
    char name[256];
    size_t shebangLen;
    if (parseMetadata(code, len, name, sizeof(name), &shebangLen, err, errlen) < 0) return -1;
    fnLib *old = libFind(*list, name, strlen(name));
    if (old && !replace) {
        snprintf(err, errlen, "Library '%s' already exists", name);
        return -1;
    }
    lua_State *L = getLua(err, errlen);
    if (!L) return -1;
    fnLib *lib = memCalloc(sizeof(*lib));
    lib->name = memStrdup(name);
    lib->code = memAlloc(len + 1);
    memcpy(lib->code, code, len);
    lib->code[len] = '\0';
    lib->codeLen = len;
    lib->envRef = LUA_NOREF;
    /* The shebang is skipped but its line feed kept: line numbers in
     * errors count as the user wrote them. */
    if (runLibrary(L, lib, code + shebangLen, len - shebangLen, err, errlen) < 0) {
        libFree(lib);
        return -1;
    }
    if (lib->nfns == 0) {
        snprintf(err, errlen, "No functions registered");
        libFree(lib);
        return -1;
    }
    for (int i = 0; i < lib->nfns; i++) {
        if (funcFind(*list, lib->fns[i].name, strlen(lib->fns[i].name), old)) {
            snprintf(err, errlen, "Function %s already exists", lib->fns[i].name);
            libFree(lib);
            return -1;
        }
    }
    if (old) {
        libUnlink(list, old);
        libFree(old);
    }
    libAppend(list, lib);
    if (nameOut) snprintf(nameOut, namecap, "%s", name);
    return 0;
}

int fnRdbLoadLibrary(const char *code, size_t len, char *err, size_t errlen) {
    char e[1024];
    if (createLibrary(&libs, code, len, 0, NULL, 0, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "Failed loading library: %s", e);
        return -1;
    }
    return 0;
}

void fnRdbSave(rdbW *w) {
    for (fnLib *l = libs; l && !w->failed; l = l->next) {
        rdbWByte(w, RDB_OPCODE_FUNCTION2);
        rdbWString(w, l->code, l->codeLen);
    }
}

/* ---- FUNCTION ---------------------------------------------------------------- */

static void functionLoadCommand(client *c) {
    int replace = 0;
    for (int i = 2; i < c->argc - 1; i++) {
        if (sliceEqNocase(c->argv[i], "replace")) {
            replace = 1;
            continue;
        }
        replyErrorFormat(c, "Unknown option given: %.*s", (int)(c->argv[i].len > 200 ? 200 : c->argv[i].len),
                         c->argv[i].p);
        return;
    }
    slice code = c->argv[c->argc - 1];
    char name[256], err[1024];
    if (createLibrary(&libs, code.p, code.len, replace, name, sizeof(name), err, sizeof(err)) < 0) {
        replyError(c, err);
        return;
    }
    srv.dirty++;
    replyBulkCString(c, name);
}

static void functionDeleteCommand(client *c) {
    fnLib *l = libFind(libs, c->argv[2].p, c->argv[2].len);
    if (!l) {
        replyError(c, "Library not found");
        return;
    }
    libUnlink(&libs, l);
    libFree(l);
    srv.dirty++;
    replyOk(c);
}

static void functionFlushCommand(client *c) {
    if (c->argc > 3) {
        /* the subcommand as the client spelled it, as Redis */
        replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION HELP.",
                         (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if ((c->argc == 3 && !sliceEqNocase(c->argv[2], "sync") && !sliceEqNocase(c->argv[2], "async"))) {
        replyError(c, "FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    fnFlushAll();
    srv.dirty++;
    replyOk(c);
}

static void replyFlags(client *c, int flags) {
    int n = 0;
    for (int k = 0; k < N_FN_FLAGS; k++)
        if (flags & fnFlags[k].flag) n++;
    replySetLen(c, n);
    for (int k = 0; k < N_FN_FLAGS; k++)
        if (flags & fnFlags[k].flag) replyStatus(c, fnFlags[k].name); /* simple strings, as Redis */
}

static void functionListCommand(client *c) {
    int withCode = 0;
    slice pattern = {NULL, 0};
    int havePattern = 0;
    for (int i = 2; i < c->argc; i++) {
        if (!withCode && sliceEqNocase(c->argv[i], "withcode")) {
            withCode = 1;
            continue;
        }
        if (!havePattern && sliceEqNocase(c->argv[i], "libraryname")) {
            if (i >= c->argc - 1) {
                replyError(c, "library name argument was not given");
                return;
            }
            pattern = c->argv[++i];
            havePattern = 1;
            continue;
        }
        replyErrorFormat(c, "Unknown argument %.*s", (int)(c->argv[i].len > 200 ? 200 : c->argv[i].len),
                         c->argv[i].p);
        return;
    }
    void *len = replyDeferredLen(c);
    long n = 0;
    for (fnLib *l = libs; l; l = l->next) {
        if (havePattern && !globMatch(pattern.p, pattern.len, l->name, strlen(l->name), 1)) continue;
        n++;
        replyMapLen(c, withCode ? 4 : 3);
        replyBulkCString(c, "library_name");
        replyBulkCString(c, l->name);
        replyBulkCString(c, "engine");
        replyBulkCString(c, "LUA");
        replyBulkCString(c, "functions");
        replyArrayLen(c, l->nfns);
        for (int i = 0; i < l->nfns; i++) {
            replyMapLen(c, 3);
            replyBulkCString(c, "name");
            replyBulkCString(c, l->fns[i].name);
            replyBulkCString(c, "description");
            if (l->fns[i].desc) replyBulkCString(c, l->fns[i].desc);
            else replyNull(c);
            replyBulkCString(c, "flags");
            replyFlags(c, l->fns[i].flags);
        }
        if (withCode) {
            replyBulkCString(c, "library_code");
            replyBulk(c, l->code, l->codeLen);
        }
    }
    replySetDeferredArrayLen(c, len, n);
}

static void functionStatsCommand(client *c) {
    replyMapLen(c, 2);
    replyBulkCString(c, "running_script");
    const char *name = slRunName();
    client *caller = slRunCaller();
    if (!name || !caller) {
        replyNull(c);
    } else {
        replyMapLen(c, 3);
        replyBulkCString(c, "name");
        replyBulkCString(c, name);
        replyBulkCString(c, "command");
        replyArrayLen(c, caller->argc);
        for (int i = 0; i < caller->argc; i++) replySlice(c, caller->argv[i]);
        replyBulkCString(c, "duration_ms");
        replyLongLong(c, mstime() - slRunStartMs());
    }
    replyBulkCString(c, "engines");
    replyMapLen(c, 1);
    replyBulkCString(c, "LUA");
    replyMapLen(c, 2);
    replyBulkCString(c, "libraries_count");
    replyLongLong(c, fnLibraryCount());
    replyBulkCString(c, "functions_count");
    replyLongLong(c, countFunctions());
}

static void functionKillCommand(client *c) {
    if (!slRunning() || !slRunBusy()) {
        replyError(c, "-NOTBUSY No scripts in execution right now.");
        return;
    }
    if (slRunWrote()) {
        replyError(c, "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
                      "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
                      "NOSAVE command.");
        return;
    }
    if (!slRunIsFunction()) { /* SCRIPT KILL's to stop, as Redis 7.0 */
        replyError(c, "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        return;
    }
    slRunKill();
    replyOk(c);
}

/* Payload: FUNCTION2 records, RDB version (2 bytes LE), CRC-64 (8 bytes
 * LE) over all that precedes it, as Redis' FUNCTION DUMP. */
static void functionDumpCommand(client *c) {
    rdbSink s;
    rdbMemSinkInit(&s);
    rdbW *w = rdbWNew(&s);
    fnRdbSave(w);
    rdbWByte(w, RDB_VERSION & 0xff);
    rdbWByte(w, (RDB_VERSION >> 8) & 0xff);
    rdbWFlush(w);
    rdbWFree(w);
    size_t n;
    char *p = rdbMemSinkTake(&s, &n);
    rdbMemSinkFree(&s);
    uint64_t crc = crc64(0, p, n);
    p = memRealloc(p, n + 8);
    for (int i = 0; i < 8; i++) p[n + i] = (char)(crc >> (8 * i));
    replyBulk(c, p, n + 8);
    memFree(p);
}

static void functionRestoreCommand(client *c) {
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    if (c->argc > 4) {
        replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION HELP.",
                         (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 4) {
        if (sliceEqNocase(c->argv[3], "flush")) policy = FLUSH;
        else if (sliceEqNocase(c->argv[3], "append")) policy = APPEND;
        else if (sliceEqNocase(c->argv[3], "replace")) policy = REPLACE;
        else {
            replyError(c, "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    slice data = c->argv[2];
    if (rdbVerifyDumpPayload(data.p, data.len) < 0) {
        replyError(c, "DUMP payload version or checksum are wrong");
        return;
    }
    /* The payload's libraries are created in a list of their own first,
     * checked against each other; only then joined to the loaded ones. */
    fnLib *fresh = NULL;
    char err[1024] = "";
    rdbSource src;
    rdbMemSourceInit(&src, data.p, data.len - 10);
    rdbL L = {.in = &src, .err = err, .errlen = sizeof(err)};
    while (rdbMemSourceRemaining(&src) > 0) {
        unsigned char t;
        if (rdbLByte(&L, &t) < 0) {
            snprintf(err, sizeof(err), "can not read data type");
            break;
        }
        if (t == RDB_OPCODE_FUNCTION) {
            snprintf(err, sizeof(err), "Pre-GA function format not supported");
            break;
        }
        if (t != RDB_OPCODE_FUNCTION2) {
            snprintf(err, sizeof(err), "given type is not a function");
            break;
        }
        if (rdbLString(&L, &L.blob) < 0) {
            snprintf(err, sizeof(err), "Failed loading library");
            break;
        }
        char e[1024];
        if (createLibrary(&fresh, L.blob.p, L.blob.len, 0, NULL, 0, e, sizeof(e)) < 0) {
            snprintf(err, sizeof(err), "%s", e);
            break;
        }
    }
    rdbLFree(&L);
    rdbMemSourceFree(&src);
    if (!err[0] && policy != FLUSH) {
        /* Join: a library of the same name is an error (APPEND) or goes
         * (REPLACE); a function name taken by another library is an error. */
        for (fnLib *l = fresh; l && !err[0]; l = l->next) {
            fnLib *old = libFind(libs, l->name, strlen(l->name));
            if (old && policy == APPEND) snprintf(err, sizeof(err), "Library %s already exists", l->name);
        }
        for (fnLib *l = fresh; l && !err[0]; l = l->next)
            for (int i = 0; i < l->nfns && !err[0]; i++) {
                fnFunc *f = funcFind(libs, l->fns[i].name, strlen(l->fns[i].name), NULL);
                if (!f) continue;
                fnLib *owner = NULL;
                for (fnLib *o = libs; o && !owner; o = o->next)
                    if (f >= o->fns && f < o->fns + o->nfns) owner = o;
                if (owner && !libFind(fresh, owner->name, strlen(owner->name)))
                    snprintf(err, sizeof(err), "Function %s already exists", l->fns[i].name);
            }
    }
    if (err[0]) {
        libListFree(fresh);
        replyError(c, err);
        return;
    }
    if (policy == FLUSH) {
        /* The old libraries' refs live in the same state: free them
         * without dropping it. */
        libListFree(libs);
        libs = NULL;
    }
    while (fresh) {
        fnLib *l = fresh;
        fresh = l->next;
        fnLib *old = libFind(libs, l->name, strlen(l->name));
        if (old) {
            libUnlink(&libs, old);
            libFree(old);
        }
        libAppend(&libs, l);
    }
    srv.dirty++;
    replyOk(c);
}

static void functionHelpCommand(client *c) {
    static const char *help[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        NULL};
    replyHelp(c, help);
}

static void functionDispatch(client *c) { replyErrorArity(c); }

/* ---- FCALL / FCALL_RO ------------------------------------------------------------ */

/* FCALL may write unless its function declared no-writes (an unknown
 * function may, as far as a pause can tell: it fails after the pause). */
int functionMayWrite(client *c) {
    fnFunc *f = funcFind(libs, c->argv[1].p, c->argv[1].len, NULL);
    return !f || !(f->flags & SCRIPT_FLAG_NO_WRITES);
}

/* FCALL's function's declared flags; SCRIPT_FLAG_EVAL_COMPAT (the
 * command's own flags) for an unknown function. */
int functionCallFlags(client *c) {
    fnFunc *f = funcFind(libs, c->argv[1].p, c->argv[1].len, NULL);
    return f ? f->flags : SCRIPT_FLAG_EVAL_COMPAT;
}

static void fcallGeneric(client *c, int ro) {
    fnFunc *f = funcFind(libs, c->argv[1].p, c->argv[1].len, NULL);
    if (!f || !flua) {
        replyError(c, "Function not found");
        return;
    }
    long long numkeys;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &numkeys, "Bad number of keys provided") < 0) return;
    if (numkeys > c->argc - 3) {
        replyError(c, "Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        replyError(c, "Number of keys can't be negative");
        return;
    }
    int runFlags = 0;
    if (ro) runFlags |= SL_RUN_READONLY;
    if (f->flags & SCRIPT_FLAG_NO_WRITES) runFlags |= SL_RUN_READONLY;
    if (f->flags & SCRIPT_FLAG_ALLOW_OOM) runFlags |= SL_RUN_ALLOW_OOM;
    if (f->flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT) runFlags |= SL_RUN_ALLOW_CROSS_SLOT;
    if (!(f->flags & SCRIPT_FLAG_NO_WRITES)) {
        if (ro) {
            replyError(c, "Can not execute a script with write flag using *_ro command.");
            return;
        }
        if (!(f->flags & SCRIPT_FLAG_ALLOW_OOM) && srv.maxmemory && evictPerform() == -1) {
            replyError(c, "-OOM allow-oom flag is not set on the script, can not run it when used memory > "
                          "'maxmemory'");
            return;
        }
    }
    /* The name is copied: FUNCTION DELETE cannot run meanwhile (-BUSY), but
     * the run must not depend on that. */
    char name[256];
    snprintf(name, sizeof(name), "%s", f->name);
    slRunFunction(flua, c, name, f->ref, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys,
                  c->argc - 3 - (int)numkeys, runFlags);
}

static void fcallCommand(client *c) { fcallGeneric(c, 0); }
static void fcallRoCommand(client *c) { fcallGeneric(c, 1); }

#define FCALL_FLAGS (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_STALE | CMD_MOVABLE_KEYS)

static cmdDef functionSubcommands[] = {
    {.name = "delete", .proc = functionDeleteCommand, .arity = 3, .flags = CMD_NOSCRIPT | CMD_WRITE, .acl = ACL_SCRIPTING, .summary = "Delete a function by name", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "dump", .proc = functionDumpCommand, .arity = 2, .flags = CMD_NOSCRIPT, .acl = ACL_SCRIPTING, .summary = "Dump all functions into a serialized binary payload", .since = "7.0.0", .complexity = "O(N) where N is the number of functions"},
    {.name = "flush", .proc = functionFlushCommand, .arity = -2, .flags = CMD_NOSCRIPT | CMD_WRITE, .acl = ACL_SCRIPTING, .summary = "Deleting all functions", .since = "7.0.0", .complexity = "O(N) where N is the number of functions deleted"},
    {.name = "help", .proc = functionHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_SCRIPTING, .summary = "Show helpful text about the different subcommands", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "kill", .proc = functionKillCommand, .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .acl = ACL_SCRIPTING, .summary = "Kill the function currently in execution.", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "list", .proc = functionListCommand, .arity = -2, .flags = CMD_NOSCRIPT, .acl = ACL_SCRIPTING, .summary = "List information about all the functions", .since = "7.0.0", .complexity = "O(N) where N is the number of functions"},
    {.name = "load", .proc = functionLoadCommand, .arity = -3, .flags = CMD_NOSCRIPT | CMD_WRITE | CMD_DENYOOM, .acl = ACL_SCRIPTING, .summary = "Create a function with the given arguments (name, code, description)", .since = "7.0.0", .complexity = "O(1) (considering compilation time is redundant)"},
    {.name = "restore", .proc = functionRestoreCommand, .arity = -3, .flags = CMD_NOSCRIPT | CMD_WRITE | CMD_DENYOOM, .acl = ACL_SCRIPTING, .summary = "Restore all the functions on the given payload", .since = "7.0.0", .complexity = "O(N) where N is the number of functions on the payload"},
    {.name = "stats", .proc = functionStatsCommand, .arity = 2, .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .acl = ACL_SCRIPTING, .summary = "Return information about the function currently running (name, description, duration)", .since = "7.0.0", .complexity = "O(1)"},
    {0}};

cmdDef functionCommands[] = {
    {.name = "fcall", .proc = fcallCommand, .arity = -3, .flags = FCALL_FLAGS | CMD_MAY_REPLICATE, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "7.0.0", .summary = "Invoke a function", .complexity = "Depends on the function that is executed."},
    {.name = "fcall_ro", .proc = fcallRoCommand, .arity = -3, .flags = FCALL_FLAGS | CMD_READONLY, .acl = ACL_SCRIPTING, .numkeysIdx = 2, .group = "scripting", .since = "7.0.0", .summary = "Invoke a read-only function", .complexity = "Depends on the function that is executed."},
    {.name = "function", .proc = functionDispatch, .arity = -2, .flags = 0, .group = "scripting", .since = "7.0.0", .summary = "A container for function commands", .complexity = "Depends on subcommand.", .subcmds = functionSubcommands},
    {0}};
