/* acl_describe.c - a user described as Redis 7.0 prints it: ACL LIST and
 * ACL GETUSER, and the ACL file's lines (the same rules, quoted for the
 * file). The command bitmap is shown as "+@all" or "-@all", then the
 * categories that fit best, then single commands for what is left
 * (ACLDescribeSelectorCommandRules), so rules that change nothing are not
 * shown. Owns nothing; must never change a user. */
#include "server.h"
#include "acl.h"
#include "cmd.h"
#include "acl_int.h"
#include <string.h>

static void countCategory(const uint64_t *bits, uint64_t cat, unsigned long *on, unsigned long *off) {
    *on = *off = 0;
    for (int id = 0; id < aclNCmdIds; id++)
        if (aclCmdById[id] && (aclCmdById[id]->acl & cat)) {
            if (aclBitsGet(bits, id)) (*on)++;
            else (*off)++;
        }
}

/* Redis 7.0's ACLDescribeSelectorCommandRules: from "+@all" (commands added
 * later allowed) or "-@all", add (or remove) the category that best fits the
 * bits still unexplained, again and again, then name the single commands
 * that still differ. The rules are replayed on a scratch bitmap as they are
 * chosen, so the description rebuilds exactly the user's bits. Redis walks
 * single commands in its (seeded) dict order; we walk them by id. */
void aclDescribeCommands(const aclUser *u, textBuf *b) {
    int additive = !(u->flags & USER_FUTURE);
    size_t bytes = sizeof(uint64_t) * (size_t)aclCmdWords;
    uint64_t *fake = memAlloc(bytes), *temp = memAlloc(bytes);
    memset(fake, additive ? 0 : 0xff, bytes);
    memcpy(temp, u->allowed, bytes);
    textAppend(b, "%s", additive ? "-@all" : "+@all");
    char applied[64] = {0};
    for (;;) {
        int best = -1;
        unsigned long mindiff = (unsigned long)-1, maxsame = 0;
        for (int j = 0; aclCategoryNames[j]; j++) {
            if (applied[j]) continue;
            unsigned long on, off;
            countCategory(temp, 1ULL << j, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best == -1) break;
        aclCategoryApply(fake, 1ULL << best, additive);
        aclCategoryApply(temp, 1ULL << best, !additive);
        textAppend(b, " %c@%s", additive ? '+' : '-', aclCategoryNames[best]);
        applied[best] = 1;
    }
    for (int id = 0; id < aclNCmdIds; id++) {
        const cmdDef *c = aclCmdById[id];
        if (!c) continue;
        int userbit = aclBitsGet(u->allowed, id);
        if (userbit != aclBitsGet(fake, id)) {
            textAppend(b, " %c%s", userbit ? '+' : '-', c->fullname);
            if (c->parent) aclBitsSet(fake, id, userbit);
            else aclPermChange(fake, c, userbit);
        }
    }
    memFree(fake);
    memFree(temp);
}

/* A name or pattern as a file line carries it. ACL LIST shows it as is, as
 * Redis does; a file gets it in double quotes when it holds a quote (which
 * the line splitter would take as the start of a quoted token), so that
 * whatever ACL SAVE or CONFIG REWRITE writes loads back. Spaces and NULs
 * cannot occur (refused by SETUSER). */
static void appendToken(textBuf *b, const char *prefix, const char *tok, int forFile) {
    if (!forFile || !strpbrk(tok, "\"'")) {
        textAppend(b, "%s%s", prefix, tok);
        return;
    }
    textAppend(b, "\"%s", prefix);
    for (const char *p = tok; *p; p++) {
        if (*p == '"' || *p == '\\') textAppend(b, "\\%c", *p);
        else textAppend(b, "%c", *p);
    }
    textAppend(b, "\"");
}

static void describeKeysAs(const aclUser *u, textBuf *b, int forFile) {
    for (int i = 0; i < u->nkeys; i++) {
        if (b->len) textAppend(b, " ");
        int perm = u->keys[i].perm;
        const char *prefix = perm == (PERM_R | PERM_W) ? "~" : perm == PERM_R ? "%R~" : "%W~";
        appendToken(b, prefix, u->keys[i].pat, forFile);
    }
}

void aclDescribeKeys(const aclUser *u, textBuf *b) { describeKeysAs(u, b, 0); }

static void describeChannelsAs(const aclUser *u, textBuf *b, int forFile) {
    for (int i = 0; i < u->nchans; i++) {
        if (b->len) textAppend(b, " ");
        appendToken(b, "&", u->chans[i], forFile);
    }
}

void aclDescribeChannels(const aclUser *u, textBuf *b) { describeChannelsAs(u, b, 0); }

/* "user NAME on nopass #hash ~keys resetchannels &chans +@all ..." */
char *aclDescribe(const aclUser *u, int forFile) {
    textBuf b = {0};
    textAppend(&b, "user ");
    appendToken(&b, "", u->name, forFile);
    textAppend(&b, " %s", (u->flags & USER_ON) ? "on" : "off");
    if (u->flags & USER_NOPASS) textAppend(&b, " nopass");
    if (u->flags & USER_SANITIZE) textAppend(&b, " sanitize-payload");
    for (int i = 0; i < u->npass; i++) {
        char hex[65];
        aclHashHex(u->pass[i], hex);
        textAppend(&b, " #%s", hex);
    }
    textBuf k = {0};
    describeKeysAs(u, &k, forFile);
    if (k.len) textAppend(&b, " %s", k.p);
    memFree(k.p);
    if (!(u->flags & USER_ALLCHANNELS)) textAppend(&b, " resetchannels");
    textBuf ch = {0};
    describeChannelsAs(u, &ch, forFile);
    if (ch.len) textAppend(&b, " %s", ch.p);
    memFree(ch.p);
    textBuf cm = {0};
    aclDescribeCommands(u, &cm);
    textAppend(&b, " %s", cm.p);
    memFree(cm.p);
    return b.p;
}

char *aclDescribeUser(const aclUser *u) { return aclDescribe(u, 0); }
char *aclDescribeUserFile(const aclUser *u) { return aclDescribe(u, 1); }
