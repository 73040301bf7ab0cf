/* slowlog.c - the slow log: the latest commands that ran longer than
 * slowlog-log-slower-than microseconds, as Redis keeps them (SLOWLOG GET).
 *
 * Owns: the entries and copies of their arguments. An entry copies what it
 * needs (argv slices point into query buffers that are reused), with Redis'
 * limits: at most 32 arguments, each cut at 128 bytes, so a huge command
 * costs the log a few KB at most.
 * Must never keep pointers into a client: the client may be gone before the
 * entry is read. Must never keep a secret: passwords in AUTH, HELLO AUTH,
 * CONFIG SET requirepass/masterauth, MIGRATE AUTH/AUTH2 and ACL SETUSER
 * password rules are stored as "(redacted)", as Redis does.
 * Bounded by srv.slowlogMaxLen (trimmed on each push). */
#include "server.h"
#include "client.h"
#include "reply.h"
#include "slowlog.h"
#include <stdio.h>
#include <string.h>

#define SLOWLOG_ENTRY_MAX_ARGC 32
#define SLOWLOG_ENTRY_MAX_STRING 128

typedef struct slowlogArg {
    char *p;
    size_t len;
} slowlogArg;

typedef struct slowlogEntry {
    struct slowlogEntry *prev, *next; /* next = older */
    long long id;
    long long time;     /* unix seconds */
    long long duration; /* microseconds */
    int argc;
    slowlogArg *argv;
    char *peerid;
    char *cname;
} slowlogEntry;

static slowlogEntry *head, *tail; /* head = newest */
static unsigned long length;
static long long nextId;

void slowlogInit(void) {
    head = tail = NULL;
    length = 0;
    nextId = 0;
}

static void setArg(slowlogArg *a, const char *p, size_t len) {
    a->p = memDupBytes(p, len);
    a->len = len;
}

static int isSensitiveConfig(slice name) {
    return sliceEqNocase(name, "requirepass") || sliceEqNocase(name, "masterauth") ||
           sliceEqNocase(name, "tls-key-file-pass") || sliceEqNocase(name, "tls-client-key-file-pass");
}

/* Whether argv[j] carries a secret. */
static int isRedacted(slice *argv, int argc, int j) {
    if (j == 0) return 0;
    slice cmd = argv[0];
    if (sliceEqNocase(cmd, "auth")) return 1;
    if (sliceEqNocase(cmd, "hello")) {
        for (int i = 2; i + 2 < argc; i++) {
            if (sliceEqNocase(argv[i], "auth")) return j == i + 1 || j == i + 2;
        }
        return 0;
    }
    if (sliceEqNocase(cmd, "config") && argc > 1 && sliceEqNocase(argv[1], "set"))
        return j >= 3 && (j % 2) == 1 && isSensitiveConfig(argv[j - 1]);
    if (sliceEqNocase(cmd, "migrate")) {
        for (int i = 6; i < argc; i++) {
            if (sliceEqNocase(argv[i], "auth")) {
                if (j == i + 1) return 1;
                i++;
            } else if (sliceEqNocase(argv[i], "auth2")) {
                if (j == i + 1 || j == i + 2) return 1;
                i += 2;
            } else if (sliceEqNocase(argv[i], "keys")) {
                break;
            }
        }
        return 0;
    }
    if (sliceEqNocase(cmd, "acl") && argc > 1 && sliceEqNocase(argv[1], "setuser") && j >= 3 && argv[j].len > 0) {
        char first = argv[j].p[0];
        return first == '>' || first == '<' || first == '#' || first == '!';
    }
    return 0;
}

static slowlogEntry *createEntry(client *c, slice *argv, int argc, long long duration) {
    slowlogEntry *se = memCalloc(sizeof(*se));
    int slargc = argc > SLOWLOG_ENTRY_MAX_ARGC ? SLOWLOG_ENTRY_MAX_ARGC : argc;
    se->argc = slargc;
    se->argv = memAlloc(sizeof(slowlogArg) * (size_t)(slargc ? slargc : 1));
    for (int j = 0; j < slargc; j++) {
        char buf[SLOWLOG_ENTRY_MAX_STRING + 64];
        if (slargc != argc && j == slargc - 1) {
            /* The last slot says how many arguments were left out. */
            int n = snprintf(buf, sizeof(buf), "... (%d more arguments)", argc - slargc + 1);
            setArg(&se->argv[j], buf, (size_t)n);
        } else if (isRedacted(argv, argc, j)) {
            setArg(&se->argv[j], "(redacted)", 10);
        } else if (argv[j].len > SLOWLOG_ENTRY_MAX_STRING) {
            memcpy(buf, argv[j].p, SLOWLOG_ENTRY_MAX_STRING);
            int n = snprintf(buf + SLOWLOG_ENTRY_MAX_STRING, sizeof(buf) - SLOWLOG_ENTRY_MAX_STRING,
                             "... (%lu more bytes)", (unsigned long)(argv[j].len - SLOWLOG_ENTRY_MAX_STRING));
            setArg(&se->argv[j], buf, SLOWLOG_ENTRY_MAX_STRING + (size_t)n);
        } else {
            setArg(&se->argv[j], argv[j].p, argv[j].len);
        }
    }
    se->time = srv.mstime / 1000;
    se->duration = duration;
    se->id = nextId++;
    se->peerid = memStrdup(c ? c->addr : "");
    se->cname = memStrdup(c && c->name ? c->name : "");
    return se;
}

static void freeEntry(slowlogEntry *se) {
    for (int j = 0; j < se->argc; j++) memFree(se->argv[j].p);
    memFree(se->argv);
    memFree(se->peerid);
    memFree(se->cname);
    memFree(se);
}

static void dropOldest(void) {
    slowlogEntry *se = tail;
    if (!se) return;
    tail = se->prev;
    if (tail) tail->next = NULL;
    else head = NULL;
    length--;
    freeEntry(se);
}

void slowlogPush(client *c, slice *argv, int argc, long long durationUs) {
    if (srv.slowlogLogSlowerThan < 0) return; /* disabled */
    if (durationUs >= srv.slowlogLogSlowerThan && srv.slowlogMaxLen > 0) {
        slowlogEntry *se = createEntry(c, argv, argc, durationUs);
        se->prev = NULL;
        se->next = head;
        if (head) head->prev = se;
        else tail = se;
        head = se;
        length++;
    }
    while (length > srv.slowlogMaxLen) dropOldest();
}

void slowlogReset(void) {
    while (length > 0) dropOldest();
}

unsigned long slowlogLen(void) { return length; }

void slowlogReply(client *c, long count) {
    if (count < 0 || (unsigned long)count > length) count = (long)length;
    replyArrayLen(c, count);
    slowlogEntry *se = head;
    for (long i = 0; i < count && se; i++, se = se->next) {
        replyArrayLen(c, 6);
        replyLongLong(c, se->id);
        replyLongLong(c, se->time);
        replyLongLong(c, se->duration);
        replyArrayLen(c, se->argc);
        for (int j = 0; j < se->argc; j++) replyBulk(c, se->argv[j].p, se->argv[j].len);
        replyBulkCString(c, se->peerid);
        replyBulkCString(c, se->cname);
    }
}
