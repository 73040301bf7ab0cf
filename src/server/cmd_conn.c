/* cmd_conn.c - the connection commands: PING, ECHO, QUIT, RESET, SELECT,
 * AUTH, HELLO and the CLIENT container (ID, INFO, LIST, KILL, SETNAME,
 * GETNAME, SETINFO, REPLY, NO-EVICT, NO-TOUCH, HELP), with Redis 7's reply
 * shapes and error texts (7.2's for SETINFO/NO-TOUCH, 7.4's for KILL MAXAGE).
 *
 * Owns: the per-connection settings these commands change (c->resp, c->db,
 * name, lib-name/lib-ver, reply mode and NO-EVICT/NO-TOUCH flags, the
 * authenticated state). AUTH and HELLO AUTH both check the pair with
 * aclAuthenticate (acl.c), which owns users and passwords.
 * Must never: free a client synchronously (other clients are closed with
 * clientFreeAsync, the caller after its reply is written), or change any
 * state when a command answers an error. */
#include "server.h"
#include "pause.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "args.h"
#include "acl.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CONN_WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled."

/* ---- helpers ------------------------------------------------------------ */

/* A growable text buffer for CLIENT LIST. */
typedef struct connBuf {
    char *p;
    size_t len, cap;
} connBuf;

static void connBufAppend(connBuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = memRealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* One CLIENT LIST line: the info string and its "\n". */
static void connBufAppendClient(connBuf *b, client *target) {
    char *info = clientInfoString(target);
    connBufAppend(b, info, strlen(info));
    connBufAppend(b, "\n", 1);
    memFree(info);
}

/* CLIENT LIST/INFO text: verbatim "txt" in RESP3, a bulk in RESP2. */
static void connReplyText(client *c, connBuf *b) {
    replyVerbatim(c, b->p ? b->p : "", b->len, "txt");
    memFree(b->p);
}

/* Close the caller once its reply is on the wire. With replies switched off
 * nothing will be written (so the write path never sees the flag): close it
 * asynchronously right away instead, which is deferred past this command. */
static void connCloseAfterReply(client *c) {
    if (clientHasPendingReplies(c)) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else clientFreeAsync(c);
}

/* Names shown in CLIENT LIST (name, lib-name, lib-ver) must keep the line
 * splittable on spaces: printable ASCII without space only, as Redis. */
static int connValidAttr(slice s) {
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] < '!' || s.p[i] > '~') return 0;
    return 1;
}

static const char *connBadNameErr = "Client names cannot contain spaces, newlines or special characters.";

/* ---- PING ECHO QUIT RESET SELECT ------------------------------------------ */

static void pingCommand(client *c) {
    if (c->argc > 2) {
        replyErrorArity(c);
        return;
    }
    /* RESP2 subscribers can only receive arrays (their client is parsing
     * messages), so PING answers in the message shape there. */
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
        replyArrayLen(c, 2);
        replyBulk(c, "pong", 4);
        if (c->argc == 1) replyBulk(c, "", 0);
        else replySlice(c, c->argv[1]);
        return;
    }
    if (c->argc == 1) replyStatus(c, "PONG");
    else replySlice(c, c->argv[1]);
}

static void echoCommand(client *c) { replySlice(c, c->argv[1]); }

static void quitCommand(client *c) {
    replyOk(c);
    connCloseAfterReply(c);
}

static void resetCommand(client *c) {
    /* A CLIENT REPLY SKIP before RESET silences RESET's own reply in Redis
     * (only OFF and SKIP_NEXT are reset), so keep the in-flight SKIP. */
    uint64_t skipping = c->flags & CLIENT_REPLY_SKIP;
    clientResetState(c);
    c->flags |= skipping;
    replyStatus(c, "RESET");
}

static void selectCommand(client *c) {
    long long id;
    if (getLongLongFromSliceOrReply(c, c->argv[1], &id, NULL) == -1) return;
    if (id < INT_MIN || id > INT_MAX) {
        replyError(c, "value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (srv.clusterEnabled && id != 0) {
        replyError(c, "SELECT is not allowed in cluster mode");
        return;
    }
    if (id < 0 || id >= srv.dbnum) {
        replyError(c, "DB index is out of range");
        return;
    }
    c->db = &srv.db[id];
    replyOk(c);
}

/* ---- AUTH HELLO ----------------------------------------------------------- */

static void authCommand(client *c) {
    if (c->argc > 3) {
        replyErrorSyntax(c);
        return;
    }
    slice user = {"default", 7}, pass;
    if (c->argc == 2) {
        /* The one-argument form with no password set is almost always a
         * misconfigured client: Redis says so instead of answering OK. */
        if (aclDefaultNoPass()) {
            replyError(c, "AUTH <password> called without any password configured for the default user. Are you sure "
                          "your configuration is correct?");
            return;
        }
        pass = c->argv[1];
    } else {
        user = c->argv[1];
        pass = c->argv[2];
    }
    if (aclAuthenticate(c, user, pass) == 0) replyOk(c);
    else replyError(c, CONN_WRONGPASS);
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]. Every option is checked
 * before anything is applied, so an error leaves protocol, name and
 * authentication as they were. */
static void helloCommand(client *c) {
    long long ver = 0;
    int j = 1;
    if (c->argc >= 2) {
        if (getLongLongFromSliceOrReply(c, c->argv[j++], &ver, "Protocol version is not an integer or out of range") ==
            -1)
            return;
        if (ver < 2 || ver > 3) {
            replyError(c, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    slice *user = NULL, *pass = NULL, *name = NULL;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (sliceEqNocase(c->argv[j], "auth") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (sliceEqNocase(c->argv[j], "setname") && more >= 1) {
            name = &c->argv[j + 1];
            if (!connValidAttr(*name)) {
                replyError(c, connBadNameErr);
                return;
            }
            j++;
        } else {
            replyErrorFormat(c, "Syntax error in HELLO option '%.*s'", (int)(c->argv[j].len > 128 ? 128 : c->argv[j].len),
                             c->argv[j].p);
            return;
        }
    }
    if (user && aclAuthenticate(c, *user, *pass) == -1) {
        replyError(c, CONN_WRONGPASS);
        return;
    }
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        replyError(c, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
                      "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
                      "version at the same time");
        return;
    }
    if (name) clientSetName(c, name->p, name->len);
    if (ver) c->resp = (int)ver;
    replyMapLen(c, 7);
    replyBulkCString(c, "server");
    replyBulkCString(c, "redis");
    replyBulkCString(c, "version");
    replyBulkCString(c, CACHET_VERSION);
    replyBulkCString(c, "proto");
    replyLongLong(c, c->resp);
    replyBulkCString(c, "id");
    replyLongLong(c, c->id);
    replyBulkCString(c, "mode");
    replyBulkCString(c, "standalone");
    replyBulkCString(c, "role");
    replyBulkCString(c, "master");
    replyBulkCString(c, "modules");
    replyArrayLen(c, 0);
}

/* ---- CLIENT --------------------------------------------------------------- */

/* Client types as CLIENT LIST/KILL TYPE name them (Redis' getClientType:
 * master first, then replica, then pub/sub). */
#define CONN_TYPE_NORMAL 0
#define CONN_TYPE_REPLICA 1
#define CONN_TYPE_PUBSUB 2
#define CONN_TYPE_MASTER 3

static int connTypeByName(slice s) {
    if (sliceEqNocase(s, "normal")) return CONN_TYPE_NORMAL;
    if (sliceEqNocase(s, "slave") || sliceEqNocase(s, "replica")) return CONN_TYPE_REPLICA;
    if (sliceEqNocase(s, "pubsub")) return CONN_TYPE_PUBSUB;
    if (sliceEqNocase(s, "master")) return CONN_TYPE_MASTER;
    return -1;
}

static int connTypeOf(client *c) {
    if (c->flags & CLIENT_MASTER) return CONN_TYPE_MASTER;
    if (c->flags & CLIENT_REPLICA) return CONN_TYPE_REPLICA;
    return (c->flags & CLIENT_PUBSUB) ? CONN_TYPE_PUBSUB : CONN_TYPE_NORMAL;
}

static int connTypeOrReply(client *c, slice s) {
    int type = connTypeByName(s);
    if (type == -1)
        replyErrorFormat(c, "Unknown client type '%.*s'", (int)(s.len > 128 ? 128 : s.len), s.p);
    return type;
}

/* Oldest client first, as Redis lists them: srv.clients is newest first. */
static client *connOldest(void) {
    client *t = srv.clients;
    while (t && t->next) t = t->next;
    return t;
}

static void clientIdCommand(client *c) { replyLongLong(c, c->id); }

static void clientInfoCommand(client *c) {
    connBuf b = {0};
    connBufAppendClient(&b, c);
    connReplyText(c, &b);
}

/* CLIENT LIST [TYPE type] | [ID id [id ...]] */
static void clientListCommand(client *c) {
    connBuf b = {0};
    if (c->argc == 4 && sliceEqNocase(c->argv[2], "type")) {
        int type = connTypeOrReply(c, c->argv[3]);
        if (type == -1) return;
        for (client *t = connOldest(); t; t = t->prev)
            if (connTypeOf(t) == type) connBufAppendClient(&b, t);
    } else if (c->argc > 3 && sliceEqNocase(c->argv[2], "id")) {
        /* Validate every ID first: an error must not leave half a reply. */
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &id)) {
                replyError(c, "Invalid client ID");
                return;
            }
        }
        for (int j = 3; j < c->argc; j++) {
            long long id;
            string2ll(c->argv[j].p, c->argv[j].len, &id);
            client *t = clientById(id);
            if (t) connBufAppendClient(&b, t);
        }
    } else if (c->argc != 2) {
        replyErrorSyntax(c);
        return;
    } else {
        for (client *t = connOldest(); t; t = t->prev) connBufAppendClient(&b, t);
    }
    connReplyText(c, &b);
}

/* CLIENT KILL addr:port (old form: +OK or an error, may kill the caller)
 * CLIENT KILL <filter> <value> ... (new form: the number killed; SKIPME yes
 * by default). All filters are parsed before anyone is killed. */
static void clientKillCommand(client *c) {
    slice addr = {0}, laddr = {0};
    int hasAddr = 0, hasLaddr = 0, type = -1, skipme = 1, tls = -1;
    const aclUser *user = NULL;
    long long id = 0, maxage = 0;
    if (c->argc == 3) {
        addr = c->argv[2];
        hasAddr = 1;
        skipme = 0; /* with the old form you can kill yourself */
    } else {
        for (int i = 2; i < c->argc; i += 2) {
            slice opt = c->argv[i];
            if (i + 1 >= c->argc) {
                replyErrorSyntax(c);
                return;
            }
            slice val = c->argv[i + 1];
            if (sliceEqNocase(opt, "id")) {
                if (!string2ll(val.p, val.len, &id) || id < 1) {
                    replyError(c, "client-id should be greater than 0");
                    return;
                }
            } else if (sliceEqNocase(opt, "type")) {
                if ((type = connTypeOrReply(c, val)) == -1) return;
            } else if (sliceEqNocase(opt, "addr")) {
                addr = val;
                hasAddr = 1;
            } else if (sliceEqNocase(opt, "laddr")) {
                laddr = val;
                hasLaddr = 1;
            } else if (sliceEqNocase(opt, "user")) {
                if (!(user = aclGetUser(val.p, val.len))) {
                    replyErrorFormat(c, "No such user '%.*s'", (int)(val.len > 128 ? 128 : val.len), val.p);
                    return;
                }
            } else if (sliceEqNocase(opt, "skipme")) {
                if (sliceEqNocase(val, "yes")) skipme = 1;
                else if (sliceEqNocase(val, "no")) skipme = 0;
                else {
                    replyErrorSyntax(c);
                    return;
                }
            } else if (sliceEqNocase(opt, "tls")) {
                /* Cachet's filter: plaintext (no) or TLS (yes) clients. */
                if (sliceEqNocase(val, "yes")) tls = 1;
                else if (sliceEqNocase(val, "no")) tls = 0;
                else {
                    replyErrorSyntax(c);
                    return;
                }
            } else if (sliceEqNocase(opt, "maxage")) {
                if (getLongLongFromSliceOrReply(c, val, &maxage, "maxage is not an integer or out of range") == -1)
                    return;
                if (maxage <= 0) {
                    replyError(c, "maxage should be greater than 0");
                    return;
                }
            } else {
                replyErrorSyntax(c);
                return;
            }
        }
    }

    long long killed = 0;
    int killSelf = 0;
    for (client *t = srv.clients; t; t = t->next) {
        if (hasAddr && (strlen(t->addr) != addr.len || memcmp(t->addr, addr.p, addr.len) != 0)) continue;
        if (hasLaddr && (strlen(t->laddr) != laddr.len || memcmp(t->laddr, laddr.p, laddr.len) != 0)) continue;
        if (type != -1 && connTypeOf(t) != type) continue;
        if (id && t->id != id) continue;
        if (maxage && (srv.mstime - t->ctime) / 1000 <= maxage) continue;
        if (tls != -1 && (!t->conn || connIsTls(t->conn) != tls)) continue;
        if (user && t->user != user) continue;
        if (t == c && skipme) continue;
        if (t == c) killSelf = 1;
        else clientFreeAsync(t); /* unlinked later, so this walk stays valid */
        killed++;
    }
    if (c->argc == 3) {
        if (killed == 0) replyError(c, "No such client");
        else replyOk(c);
    } else {
        replyLongLong(c, killed);
    }
    /* Only now: the reply has to be queued before the close is arranged. */
    if (killSelf) connCloseAfterReply(c);
}

static void clientSetnameCommand(client *c) {
    if (!connValidAttr(c->argv[2])) {
        replyError(c, connBadNameErr);
        return;
    }
    clientSetName(c, c->argv[2].p, c->argv[2].len); /* "" removes the name */
    replyOk(c);
}

static void clientGetnameCommand(client *c) {
    if (c->name) replyBulkCString(c, c->name);
    else replyNull(c);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2). "" clears it. */
static void clientSetinfoCommand(client *c) {
    slice attr = c->argv[2], val = c->argv[3];
    char **dest;
    if (sliceEqNocase(attr, "lib-name")) dest = &c->libName;
    else if (sliceEqNocase(attr, "lib-ver")) dest = &c->libVer;
    else {
        replyErrorFormat(c, "Unrecognized option '%.*s'", (int)(attr.len > 128 ? 128 : attr.len), attr.p);
        return;
    }
    if (!connValidAttr(val)) {
        replyErrorFormat(c, "%.*s cannot contain spaces, newlines or special characters.", (int)attr.len, attr.p);
        return;
    }
    memFree(*dest);
    *dest = val.len ? memDupBytes(val.p, val.len) : NULL;
    replyOk(c);
}

/* CLIENT REPLY ON|OFF|SKIP. OFF and SKIP answer nothing (that is the point);
 * SKIP_NEXT becomes SKIP for the next command in cmdCall. */
static void clientReplyCommand(client *c) {
    slice m = c->argv[2];
    if (sliceEqNocase(m, "on")) {
        c->flags &= ~(uint64_t)(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        replyOk(c);
    } else if (sliceEqNocase(m, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (sliceEqNocase(m, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        replyErrorSyntax(c);
    }
}

/* CLIENT NO-EVICT / NO-TOUCH on|off */
static void connOnOffFlag(client *c, uint64_t flag) {
    slice m = c->argv[2];
    if (sliceEqNocase(m, "on")) c->flags |= flag;
    else if (sliceEqNocase(m, "off")) c->flags &= ~flag;
    else {
        replyErrorSyntax(c);
        return;
    }
    replyOk(c);
}

/* CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: the reason is checked before the id,
 * as Redis 7.0; :1 when the client was blocked on keys, else :0. */
static void clientUnblockCommand(client *c) {
    if (c->argc > 4) {
        replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                         (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
        return;
    }
    int error = 0;
    if (c->argc == 4) {
        if (sliceEqNocase(c->argv[3], "timeout")) error = 0;
        else if (sliceEqNocase(c->argv[3], "error")) error = 1;
        else {
            replyError(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &id, NULL) == -1) return;
    client *t = clientById(id);
    replyLongLong(c, t && blockUnblockClient(t, error) ? 1 : 0);
}

/* CLIENT PAUSE <timeout> [WRITE|ALL]: the mode is checked before the
 * timeout, as Redis 7.0 does. A second pause keeps the stricter mode and
 * the later end (pause.c). */
static void clientPauseCommand(client *c) {
    if (c->argc > 4) {
        replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                         (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
        return;
    }
    pauseType type = PAUSE_ALL;
    if (c->argc == 4) {
        if (sliceEqNocase(c->argv[3], "write")) type = PAUSE_WRITE;
        else if (sliceEqNocase(c->argv[3], "all")) type = PAUSE_ALL;
        else {
            replyError(c, "CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &ms, "timeout is not an integer or out of range") == -1) return;
    if (ms < 0) {
        replyError(c, "timeout is negative");
        return;
    }
    if (ms > 0) pauseStart(PAUSE_BY_CLIENT, srv.mstime + ms, type);
    replyOk(c);
}

static void clientUnpauseCommand(client *c) {
    pauseEnd(PAUSE_BY_CLIENT);
    replyOk(c);
}

static void clientNoEvictCommand(client *c) { connOnOffFlag(c, CLIENT_NO_EVICT); }
static void clientNoTouchCommand(client *c) { connOnOffFlag(c, CLIENT_NO_TOUCH); }

static void clientHelpCommand(client *c) {
    static const char *help[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * TLS (YES|NO)",
        "      Kill connections made over TLS (yes) or plaintext (no).",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        NULL};
    replyHelp(c, help);
}

/* The container runs only if dispatch could not pick a subcommand, which
 * cmd.c already answers; kept as a safe answer rather than a NULL proc. */
static void clientCommand(client *c) { replyErrorSyntax(c); }

/* Arity, flags and ACL categories as Redis 7.0's COMMAND INFO (7.2's for
 * SETINFO and NO-TOUCH). */
#define CONN_SUB (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CONN_NOAUTH (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY)

static cmdDef clientSubcommands[] = {
    {.name = "id", .proc = clientIdCommand, .arity = 2, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "5.0.0", .summary = "Returns the client ID for the current connection", .complexity = "O(1)"},
    {.name = "info", .proc = clientInfoCommand, .arity = 2, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "6.2.0", .summary = "Returns information about the current client connection.", .complexity = "O(1)"},
    {.name = "list", .proc = clientListCommand, .arity = -2, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "2.4.0", .summary = "Get the list of client connections", .complexity = "O(N) where N is the number of client connections"},
    {.name = "kill", .proc = clientKillCommand, .arity = -3, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "2.4.0", .summary = "Kill the connection of a client", .complexity = "O(N) where N is the number of client connections"},
    {.name = "setname", .proc = clientSetnameCommand, .arity = 3, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "2.6.9", .summary = "Set the current connection name", .complexity = "O(1)"},
    {.name = "getname", .proc = clientGetnameCommand, .arity = 2, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "2.6.9", .summary = "Get the current connection name", .complexity = "O(1)"},
    {.name = "setinfo", .proc = clientSetinfoCommand, .arity = 4, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "7.2.0", .summary = "Set client or connection specific info", .complexity = "O(1)"},
    {.name = "reply", .proc = clientReplyCommand, .arity = 3, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "3.2.0", .summary = "Instruct the server whether to reply to commands", .complexity = "O(1)"},
    {.name = "pause", .proc = clientPauseCommand, .arity = -3, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "3.0.0", .summary = "Stop processing commands from clients for some time", .complexity = "O(1)"},
    {.name = "unpause", .proc = clientUnpauseCommand, .arity = 2, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "6.2.0", .summary = "Resume processing of clients that were paused", .complexity = "O(N) Where N is the number of paused clients"},
    {.name = "unblock", .proc = clientUnblockCommand, .arity = -3, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "5.0.0", .summary = "Unblock a client blocked in a blocking command from a different connection", .complexity = "O(log N) where N is the number of client connections"},
    {.name = "no-evict", .proc = clientNoEvictCommand, .arity = 3, .flags = CMD_ADMIN | CONN_SUB, .acl = ACL_CONNECTION, .since = "7.0.0", .summary = "Set client eviction mode for the current connection", .complexity = "O(1)"},
    {.name = "no-touch", .proc = clientNoTouchCommand, .arity = 3, .flags = CONN_SUB, .acl = ACL_CONNECTION, .since = "7.2.0", .summary = "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", .complexity = "O(1)"},
    {.name = "help", .proc = clientHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {0}};

cmdDef connCommands[] = {
    {.name = "ping", .proc = pingCommand, .arity = -1, .flags = CMD_FAST, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Ping the server", .complexity = "O(1)"},
    {.name = "echo", .proc = echoCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Echo the given string", .complexity = "O(1)"},
    {.name = "quit", .proc = quitCommand, .arity = -1, .flags = CONN_NOAUTH, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Close the connection", .complexity = "O(1)"},
    {.name = "reset", .proc = resetCommand, .arity = 1, .flags = CONN_NOAUTH, .acl = ACL_CONNECTION, .group = "connection", .since = "6.2.0", .summary = "Reset the connection", .complexity = "O(1)"},
    {.name = "select", .proc = selectCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Change the selected database for the current connection", .complexity = "O(1)"},
    {.name = "auth", .proc = authCommand, .arity = -2, .flags = CONN_NOAUTH, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Authenticate to the server", .complexity = "O(N) where N is the number of passwords defined for the user"},
    {.name = "hello", .proc = helloCommand, .arity = -1, .flags = CONN_NOAUTH, .acl = ACL_CONNECTION, .group = "connection", .since = "6.0.0", .summary = "Handshake with Redis", .complexity = "O(1)"},
    {.name = "client", .proc = clientCommand, .arity = -2, .flags = 0, .acl = 0, .group = "connection", .since = "2.4.0", .summary = "A container for client connection commands", .complexity = "Depends on subcommand.", .subcmds = clientSubcommands},
    {0}};
