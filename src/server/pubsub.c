/* pubsub.c - Pub/Sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE, their UNSUBSCRIBE
 * forms, PUBLISH / SPUBLISH and PUBSUB introspection, with Redis 7.0's reply
 * shapes (RESP2 arrays, RESP3 push frames).
 *
 * Owns: the server-side dicts channels / patterns / shardChannels (name ->
 * array of subscribed clients, in subscription order) and each client's
 * pubsubChannels / pubsubPatterns / pubsubShardChannels (the names it is
 * subscribed to; each node points at the server-side node).
 * Invariants:
 *  - c is in the subscriber array of server node N  <=>  c's dict of that
 *    kind holds a node pointing at N; a server node with no subscriber is
 *    freed at once.
 *  - CLIENT_PUBSUB is set  <=>  the client has at least one subscription.
 * Must never: write to a socket (replies go through reply.c, which bounds a
 * slow subscriber with the pubsub output-buffer class), or free a client
 * while delivering (reply.c only schedules the close). */
#include "server.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "acl.h"
#include "pubsub.h"
#include <string.h>

enum { PS_CHANNEL = 0, PS_PATTERN = 1, PS_SHARD = 2, PS_KINDS = 3 };

static const char *subReplyName[PS_KINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *unsubReplyName[PS_KINDS] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

/* Server side: one channel (or pattern) and who listens to it. */
typedef struct channelNode {
    dictNode link; /* must be first (dict.h) */
    client **subs;
    int count, cap;
    size_t len;
    char name[];
} channelNode;

/* Client side: one subscription; the name is the server node's. */
typedef struct subNode {
    dictNode link; /* must be first (dict.h) */
    channelNode *ch;
} subNode;

static void channelKey(const dictNode *n, const char **p, size_t *len) {
    const channelNode *ch = (const channelNode *)n;
    *p = ch->name;
    *len = ch->len;
}
static void subKey(const dictNode *n, const char **p, size_t *len) {
    const subNode *s = (const subNode *)n;
    *p = s->ch->name;
    *len = s->ch->len;
}
static const dictType channelType = {.key = channelKey, .nocase = 0};
static const dictType subType = {.key = subKey, .nocase = 0};

static dict channels;      /* channelNode: channel -> subscribers */
static dict patterns;      /* channelNode: pattern -> subscribers */
static dict shardChannels; /* channelNode: shard channel -> subscribers */

static dict *serverDict(int kind) {
    if (kind == PS_CHANNEL) return &channels;
    if (kind == PS_PATTERN) return &patterns;
    return &shardChannels;
}

static dict *clientDict(client *c, int kind) {
    if (kind == PS_CHANNEL) return &c->pubsubChannels;
    if (kind == PS_PATTERN) return &c->pubsubPatterns;
    return &c->pubsubShardChannels;
}

void pubsubInit(void) {
    dictInit(&channels, &channelType);
    dictInit(&patterns, &channelType);
    dictInit(&shardChannels, &channelType);
}

void pubsubCounts(long long *nchannels, long long *npatterns, long long *nshard) {
    *nchannels = (long long)dictSize(&channels);
    *npatterns = (long long)dictSize(&patterns);
    *nshard = (long long)dictSize(&shardChannels);
}

void pubsubClientInit(client *c) {
    dictInit(&c->pubsubChannels, &subType);
    dictInit(&c->pubsubPatterns, &subType);
    dictInit(&c->pubsubShardChannels, &subType);
}

int pubsubClientCount(client *c) { return (int)(dictSize(&c->pubsubChannels) + dictSize(&c->pubsubPatterns)); }

static long totalCount(client *c) {
    return (long)(dictSize(&c->pubsubChannels) + dictSize(&c->pubsubPatterns) + dictSize(&c->pubsubShardChannels));
}

/* The count in (un)subscribe confirmations: shard subscriptions are
 * counted apart from the others, as in Redis 7.0. */
static long kindCount(client *c, int kind) {
    if (kind == PS_SHARD) return (long)dictSize(&c->pubsubShardChannels);
    return (long)pubsubClientCount(c);
}

static void updateFlag(client *c) {
    if (totalCount(c)) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~(uint64_t)CLIENT_PUBSUB;
}

/* Confirmations and messages are pushes: CLIENT REPLY OFF/SKIP do not
 * silence them (Redis 7.0 marks them CLIENT_PUSHING, in RESP2 too). */
static void pushBegin(client *c, uint64_t *saved) {
    *saved = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
}

static void pushEnd(client *c, uint64_t saved) {
    if (!saved) c->flags &= ~(uint64_t)CLIENT_PUSHING;
}

static void replyConfirm(client *c, const char *what, const char *name, size_t len, int isNull, long count) {
    uint64_t saved;
    pushBegin(c, &saved);
    replyPushLen(c, 3);
    replyBulkCString(c, what);
    if (isNull) replyNull(c);
    else replyBulk(c, name, len);
    replyLongLong(c, count);
    pushEnd(c, saved);
}

static void subscribe(client *c, int kind, const char *name, size_t len) {
    dict *cd = clientDict(c, kind);
    if (!dictFind(cd, name, len)) {
        dict *sd = serverDict(kind);
        channelNode *ch = (channelNode *)dictFind(sd, name, len);
        if (!ch) {
            ch = memAlloc(sizeof(*ch) + len);
            ch->link.next = NULL;
            ch->subs = NULL;
            ch->count = ch->cap = 0;
            ch->len = len;
            memcpy(ch->name, name, len);
            dictAdd(sd, &ch->link);
        }
        if (ch->count == ch->cap) {
            ch->cap = ch->cap ? ch->cap * 2 : 2;
            ch->subs = memRealloc(ch->subs, sizeof(client *) * (size_t)ch->cap);
        }
        ch->subs[ch->count++] = c;
        subNode *s = memAlloc(sizeof(*s));
        s->link.next = NULL;
        s->ch = ch;
        dictAdd(cd, &s->link);
        c->flags |= CLIENT_PUBSUB;
    }
    replyConfirm(c, subReplyName[kind], name, len, 0, kindCount(c, kind));
}

/* Removes one subscription; confirms it to the client when notify (also
 * for a name it was not subscribed to, as Redis does). */
static void unsubscribe(client *c, int kind, const char *name, size_t len, int notify) {
    subNode *s = (subNode *)dictUnlink(clientDict(c, kind), name, len);
    channelNode *ch = s ? s->ch : NULL;
    memFree(s);
    if (ch) {
        for (int i = 0; i < ch->count; i++) {
            if (ch->subs[i] != c) continue;
            /* Keep subscription order: delivery follows it. */
            memmove(&ch->subs[i], &ch->subs[i + 1], sizeof(client *) * (size_t)(ch->count - i - 1));
            ch->count--;
            break;
        }
    }
    if (notify) replyConfirm(c, unsubReplyName[kind], name, len, 0, kindCount(c, kind));
    if (ch && ch->count == 0) {
        dict *sd = serverDict(kind);
        dictUnlink(sd, ch->name, ch->len);
        memFree(ch->subs);
        memFree(ch);
    }
}

static void unsubscribeAll(client *c, int kind, int notify) {
    dict *cd = clientDict(c, kind);
    if (dictSize(cd) == 0) {
        if (notify) replyConfirm(c, unsubReplyName[kind], NULL, 0, 1, kindCount(c, kind));
        return;
    }
    dictIter it;
    dictIterInit(&it, cd, 1);
    dictNode *n;
    while ((n = dictNext(&it))) {
        channelNode *ch = ((subNode *)n)->ch;
        unsubscribe(c, kind, ch->name, ch->len, notify);
    }
    dictIterEnd(&it);
}

int pubsubClientAllowed(client *c, const aclUser *u,
                        int (*allowed)(const void *u, const char *ch, size_t len, int isPattern)) {
    for (int kind = 0; kind < PS_KINDS; kind++) {
        dictIter it;
        dictIterInit(&it, clientDict(c, kind), 0);
        dictNode *n;
        while ((n = dictNext(&it))) {
            const channelNode *ch = ((subNode *)n)->ch;
            if (!allowed(u, ch->name, ch->len, kind == PS_PATTERN)) return 0;
        }
    }
    return 1;
}

void pubsubClientFree(client *c) {
    for (int k = 0; k < PS_KINDS; k++) {
        unsubscribeAll(c, k, 0);
        dictEmpty(clientDict(c, k), NULL, NULL); /* releases the buckets */
    }
    c->flags &= ~(uint64_t)CLIENT_PUBSUB;
}

/* ---- delivery ------------------------------------------------------------ */

static void deliver(client *c, const char *type, const char *pat, size_t patlen, const char *ch, size_t chlen,
                    const char *msg, size_t msglen) {
    uint64_t saved;
    pushBegin(c, &saved);
    replyPushLen(c, pat ? 4 : 3);
    replyBulkCString(c, type);
    if (pat) replyBulk(c, pat, patlen);
    replyBulk(c, ch, chlen);
    replyBulk(c, msg, msglen);
    pushEnd(c, saved);
}

long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen) {
    long long receivers = 0;
    channelNode *n = (channelNode *)dictFind(&channels, ch, chlen);
    if (n) {
        for (int i = 0; i < n->count; i++) deliver(n->subs[i], "message", NULL, 0, ch, chlen, msg, msglen);
        receivers += n->count;
    }
    if (dictSize(&patterns)) {
        /* Delivery only appends to output buffers (a client over its limit is
         * scheduled for closing, not freed): the dict does not change. */
        dictIter it;
        dictIterInit(&it, &patterns, 0);
        dictNode *d;
        while ((d = dictNext(&it))) {
            channelNode *p = (channelNode *)d;
            if (!globMatch(p->name, p->len, ch, chlen, 0)) continue;
            for (int i = 0; i < p->count; i++) deliver(p->subs[i], "pmessage", p->name, p->len, ch, chlen, msg, msglen);
            receivers += p->count;
        }
        dictIterEnd(&it);
    }
    return receivers;
}

static long long publishShard(const char *ch, size_t chlen, const char *msg, size_t msglen) {
    channelNode *n = (channelNode *)dictFind(&shardChannels, ch, chlen);
    if (!n) return 0;
    for (int i = 0; i < n->count; i++) deliver(n->subs[i], "smessage", NULL, 0, ch, chlen, msg, msglen);
    return n->count;
}

/* ---- commands -------------------------------------------------------------- */

static void subscribeCommand(client *c) {
    for (int i = 1; i < c->argc; i++) subscribe(c, PS_CHANNEL, c->argv[i].p, c->argv[i].len);
}

static void psubscribeCommand(client *c) {
    for (int i = 1; i < c->argc; i++) subscribe(c, PS_PATTERN, c->argv[i].p, c->argv[i].len);
}

static void ssubscribeCommand(client *c) {
    /* Redis 7.0 runs EXEC's commands as a "deny blocking" client, and
     * SSUBSCRIBE refuses those (SUBSCRIBE keeps a legacy exception). */
    if (c->flags & CLIENT_MULTI) {
        replyError(c, "SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    for (int i = 1; i < c->argc; i++) subscribe(c, PS_SHARD, c->argv[i].p, c->argv[i].len);
}

static void unsubscribeKind(client *c, int kind) {
    if (c->argc == 1) unsubscribeAll(c, kind, 1);
    else
        for (int i = 1; i < c->argc; i++) unsubscribe(c, kind, c->argv[i].p, c->argv[i].len, 1);
    updateFlag(c);
}

/* Cluster mode: a new map took the slot of these shard channels away, so
 * every subscriber is unsubscribed from them and told so (Redis'
 * removeChannelsInSlot). */
void pubsubShardUnsubscribeWhere(int (*match)(const char *ch, size_t len, void *priv), void *priv) {
    dictIter it;
    dictIterInit(&it, &shardChannels, 1);
    dictNode *n;
    while ((n = dictNext(&it))) {
        channelNode *ch = (channelNode *)n;
        if (!match(ch->name, ch->len, priv)) continue;
        /* The last unsubscribe frees ch: count first, touch nothing after. */
        for (int left = ch->count; left > 0; left--) {
            client *c = ch->subs[0];
            unsubscribe(c, PS_SHARD, ch->name, ch->len, 1);
            updateFlag(c);
        }
    }
    dictIterEnd(&it);
}

static void unsubscribeCommand(client *c) { unsubscribeKind(c, PS_CHANNEL); }
static void punsubscribeCommand(client *c) { unsubscribeKind(c, PS_PATTERN); }
static void sunsubscribeCommand(client *c) { unsubscribeKind(c, PS_SHARD); }

static void publishCommand(client *c) {
    replyLongLong(c, pubsubPublish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

static void spublishCommand(client *c) {
    replyLongLong(c, publishShard(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

static void pubsubSubcommandError(client *c) {
    replyErrorFormat(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
}

static void listChannels(client *c, dict *d) {
    if (c->argc > 3) {
        pubsubSubcommandError(c);
        return;
    }
    slice pat = c->argc == 3 ? c->argv[2] : (slice){NULL, 0};
    void *len = replyDeferredLen(c);
    long count = 0;
    dictIter it;
    dictIterInit(&it, d, 0);
    dictNode *n;
    while ((n = dictNext(&it))) {
        channelNode *ch = (channelNode *)n;
        if (pat.p && !globMatch(pat.p, pat.len, ch->name, ch->len, 0)) continue;
        replyBulk(c, ch->name, ch->len);
        count++;
    }
    dictIterEnd(&it);
    replySetDeferredArrayLen(c, len, count);
}

static void numSub(client *c, dict *d) {
    replyArrayLen(c, (long)(c->argc - 2) * 2);
    for (int i = 2; i < c->argc; i++) {
        channelNode *ch = (channelNode *)dictFind(d, c->argv[i].p, c->argv[i].len);
        replySlice(c, c->argv[i]);
        replyLongLong(c, ch ? ch->count : 0);
    }
}

static void pubsubChannelsCommand(client *c) { listChannels(c, &channels); }
static void pubsubShardChannelsCommand(client *c) { listChannels(c, &shardChannels); }
static void pubsubNumsubCommand(client *c) { numSub(c, &channels); }
static void pubsubShardNumsubCommand(client *c) { numSub(c, &shardChannels); }

static void pubsubNumpatCommand(client *c) { replyLongLong(c, (long long)dictSize(&patterns)); }

static void pubsubHelpCommand(client *c) {
    static const char *help[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL};
    replyHelp(c, help);
}

/* The container is never run by cmd.c (it resolves the subcommand or
 * rejects); kept for safety. */
static void pubsubCommand(client *c) {
    if (c->argc >= 2) pubsubSubcommandError(c);
    else replyErrorArity(c);
}

#define SUB_FLAGS (CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define PUBSUB_INFO_FLAGS (CMD_PUBSUB | CMD_LOADING | CMD_STALE)

static cmdDef pubsubSubcommands[] = {
    {.name = "channels", .proc = pubsubChannelsCommand, .arity = -2, .flags = PUBSUB_INFO_FLAGS, .since = "2.8.0",
     .summary = "List active channels",
     .complexity = "O(N) where N is the number of active channels, and assuming constant time pattern matching "
                   "(relatively short channels and patterns)"},
    {.name = "numsub", .proc = pubsubNumsubCommand, .arity = -2, .flags = PUBSUB_INFO_FLAGS, .since = "2.8.0",
     .summary = "Get the count of subscribers for channels",
     .complexity = "O(N) for the NUMSUB subcommand, where N is the number of requested channels"},
    {.name = "numpat", .proc = pubsubNumpatCommand, .arity = 2, .flags = PUBSUB_INFO_FLAGS, .since = "2.8.0",
     .summary = "Get the count of unique patterns pattern subscriptions", .complexity = "O(1)"},
    {.name = "shardchannels", .proc = pubsubShardChannelsCommand, .arity = -2, .flags = PUBSUB_INFO_FLAGS,
     .since = "7.0.0", .summary = "List active shard channels",
     .complexity = "O(N) where N is the number of active shard channels, and assuming constant time pattern "
                   "matching (relatively short shard channels)."},
    {.name = "shardnumsub", .proc = pubsubShardNumsubCommand, .arity = -2, .flags = PUBSUB_INFO_FLAGS,
     .since = "7.0.0", .summary = "Get the count of subscribers for shard channels",
     .complexity = "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"},
    {.name = "help", .proc = pubsubHelpCommand, .arity = 2, .flags = CMD_LOADING | CMD_STALE, .since = "6.2.0",
     .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {0}};

cmdDef pubsubCommands[] = {
    {.name = "subscribe", .proc = subscribeCommand, .arity = -2, .flags = SUB_FLAGS, .group = "pubsub",
     .since = "2.0.0", .summary = "Listen for messages published to the given channels",
     .complexity = "O(N) where N is the number of channels to subscribe to."},
    {.name = "unsubscribe", .proc = unsubscribeCommand, .arity = -1, .flags = SUB_FLAGS, .group = "pubsub",
     .since = "2.0.0", .summary = "Stop listening for messages posted to the given channels",
     .complexity = "O(N) where N is the number of clients already subscribed to a channel."},
    {.name = "psubscribe", .proc = psubscribeCommand, .arity = -2, .flags = SUB_FLAGS, .group = "pubsub",
     .since = "2.0.0", .summary = "Listen for messages published to channels matching the given patterns",
     .complexity = "O(N) where N is the number of patterns the client is already subscribed to."},
    {.name = "punsubscribe", .proc = punsubscribeCommand, .arity = -1, .flags = SUB_FLAGS, .group = "pubsub",
     .since = "2.0.0", .summary = "Stop listening for messages posted to channels matching the given patterns",
     .complexity = "O(N+M) where N is the number of patterns the client is already subscribed and M is the "
                   "number of total patterns subscribed in the system (by any client)."},
    {.name = "publish", .proc = publishCommand, .arity = 3, .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .group = "pubsub", .since = "2.0.0", .summary = "Post a message to a channel",
     .complexity = "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the "
                   "total number of subscribed patterns (by any client)."},
    {.name = "ssubscribe", .proc = ssubscribeCommand, .arity = -2, .flags = SUB_FLAGS, .firstKey = 1, .lastKey = -1,
     .keyStep = 1, .group = "pubsub", .since = "7.0.0",
     .summary = "Listen for messages published to the given shard channels",
     .complexity = "O(N) where N is the number of shard channels to subscribe to."},
    {.name = "sunsubscribe", .proc = sunsubscribeCommand, .arity = -1, .flags = SUB_FLAGS, .firstKey = 1,
     .lastKey = -1, .keyStep = 1, .group = "pubsub", .since = "7.0.0",
     .summary = "Stop listening for messages posted to the given shard channels",
     .complexity = "O(N) where N is the number of clients already subscribed to a shard channel."},
    {.name = "spublish", .proc = spublishCommand, .arity = 3, .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "pubsub", .since = "7.0.0",
     .summary = "Post a message to a shard channel",
     .complexity = "O(N) where N is the number of clients subscribed to the receiving shard channel."},
    {.name = "pubsub", .proc = pubsubCommand, .arity = -2, .group = "pubsub", .since = "2.8.0",
     .summary = "A container for Pub/Sub commands", .complexity = "Depends on subcommand.",
     .subcmds = pubsubSubcommands},
    {0}};
