/* pause.c - pauses of client processing (pause.h).
 *
 * States, per purpose (a CLIENT PAUSE, a FAILOVER): NONE, or a type (WRITE,
 * ALL) with an end time. The pause in force is the strictest type among the
 * purposes whose end has not passed.
 * Invariants:
 *  - a client is on the postponed list  <=>  CLIENT_PAUSED is set on it;
 *  - a postponed client's query buffer still holds the request that waits
 *    (it will be parsed and checked again, as if it had just arrived);
 *  - no key is deleted by expiry or eviction while a pause is in force.
 * Transitions: pauseStart (NONE -> type, or widen), pauseEnd and the end
 * time passing (-> NONE; pauseBeforeSleep notices), pausePostpone and
 * resume() for clients.
 * Must never run a client's command from inside another client's command
 * (resumes happen in pauseBeforeSleep) or pause a replica's link. */
#include "server.h"
#include "client.h"
#include "cmd.h"
#include "pause.h"
#include "function.h"
#include "multi.h"
#include "script.h"
#include "dassert.h"
#include <string.h>

static struct {
    pauseType type;
    long long endMs;
} purposes[PAUSE_PURPOSES];

static client **postponed;
static long long npostponed, cap;
static pauseType lastType; /* the type in force when clients were last resumed */

static pauseType typeInForce(void) {
    pauseType t = PAUSE_NONE;
    for (int i = 0; i < PAUSE_PURPOSES; i++)
        if (purposes[i].type != PAUSE_NONE && purposes[i].endMs > srv.mstime && purposes[i].type > t)
            t = purposes[i].type;
    return t;
}

void pauseStart(pausePurpose p, long long endMs, pauseType t) {
    if (purposes[p].type == PAUSE_NONE || purposes[p].endMs <= srv.mstime) {
        purposes[p].type = t;
        purposes[p].endMs = endMs;
    } else {
        if (t > purposes[p].type) purposes[p].type = t;
        if (endMs > purposes[p].endMs) purposes[p].endMs = endMs;
    }
    lastType = typeInForce();
}

void pauseEnd(pausePurpose p) {
    purposes[p].type = PAUSE_NONE;
    purposes[p].endMs = 0;
}

pauseType pausePurposeType(pausePurpose p) {
    return purposes[p].endMs > srv.mstime ? purposes[p].type : PAUSE_NONE;
}

int pauseActive(void) { return typeInForce() != PAUSE_NONE; }

long long pauseRemainingMs(void) {
    long long end = 0;
    for (int i = 0; i < PAUSE_PURPOSES; i++)
        if (purposes[i].type != PAUSE_NONE && purposes[i].endMs > end) end = purposes[i].endMs;
    return end > srv.mstime ? end - srv.mstime : 0;
}

/* Redis 7.0's is_may_replicate_command: a write, or a command that may
 * replicate (PUBLISH, scripts and functions that did not declare
 * no-writes), or an EXEC whose queue holds one. */
int pauseMayReplicate(client *c, cmdDef *cmd) {
    if (cmd->flags & CMD_WRITE) return 1;
    if (!cmd->parent && !strcmp(cmd->name, "exec")) return multiMayReplicate(c);
    if (!(cmd->flags & CMD_MAY_REPLICATE)) return 0;
    if (!cmd->parent && (!strcmp(cmd->name, "eval") || !strcmp(cmd->name, "evalsha") || !strcmp(cmd->name, "fcall")))
        return scriptCallMayWrite(c, cmd);
    return 1;
}

int pauseMustWait(client *c, cmdDef *cmd) {
    pauseType t = typeInForce();
    if (t == PAUSE_NONE || (c->flags & (CLIENT_REPLICA | CLIENT_SCRIPT))) return 0;
    if (t == PAUSE_ALL) return 1;
    return pauseMayReplicate(c, cmd);
}

void pausePostpone(client *c) {
    CACHET_ASSERT(!(c->flags & CLIENT_PAUSED));
    if (npostponed == cap) {
        cap = cap ? cap * 2 : 16;
        postponed = memRealloc(postponed, sizeof(client *) * (size_t)cap);
    }
    postponed[npostponed++] = c;
    c->flags |= CLIENT_PAUSED;
}

void pauseClientFree(client *c) {
    if (!(c->flags & CLIENT_PAUSED)) return;
    for (long long i = 0; i < npostponed; i++) {
        if (postponed[i] == c) {
            postponed[i] = postponed[--npostponed];
            break;
        }
    }
    c->flags &= ~(uint64_t)CLIENT_PAUSED;
}

long long pausePostponedCount(void) { return npostponed; }

/* Every postponed client runs its waiting request again, in the order
 * they were postponed; one still caught by a narrower pause waits again (at
 * the end of the list, past the n taken here). A client freed meanwhile has
 * left the list through pauseClientFree, so the list never holds a dangling
 * pointer. */
static void resumeAll(void) {
    long long n = npostponed;
    while (n-- > 0 && npostponed > 0) {
        client *c = postponed[0];
        memmove(postponed, postponed + 1, sizeof(client *) * (size_t)(npostponed - 1));
        npostponed--;
        c->flags &= ~(uint64_t)CLIENT_PAUSED;
        clientProcessPendingInput(c);
    }
}

void pauseBeforeSleep(void) {
    for (int i = 0; i < PAUSE_PURPOSES; i++)
        if (purposes[i].type != PAUSE_NONE && purposes[i].endMs <= srv.mstime) pauseEnd((pausePurpose)i);
    pauseType now = typeInForce();
    if (now < lastType || (now == PAUSE_NONE && npostponed)) {
        lastType = now;
        if (npostponed) resumeAll();
    }
}
