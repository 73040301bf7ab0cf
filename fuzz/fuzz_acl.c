/* fuzz_acl.c - the ACL rule parser, the ACL file loader and the glob matcher
 * (acl.c, util.c globMatch).
 *
 * Input: byte 0 picks the mode, the rest is the payload.
 *   0 (rules): the payload is one line split like ACL SETUSER's arguments
 *     (configSplitArgs): a user name then rules, applied with aclConfigUser.
 *     When accepted, the user's description (ACL LIST) must load back as an
 *     identical user: describe -> split -> define -> describe is a fixed
 *     point (that is what ACL SAVE then ACL LOAD rely on). Then aclCheck runs
 *     a few commands with keys and channels taken from the payload.
 *   1 (file): the payload is an ACL file, loaded with aclLoadFile from a
 *     memfd; on success the users are described.
 *   2 (glob): pattern and string split at the first NUL (or halves); both
 *     cases of nocase. For 7-bit input without NUL, the answer must equal
 *     Redis 7.0's stringmatchlen (ported below as the reference), nesting
 *     limit and malformed classes included.
 *   3 (key count): a user with key patterns from the payload; MGET, MSET,
 *     DEL, ZUNIONSTORE, LMPOP and BLPOP with 1..2000 keys built from it.
 *     aclCheck must deny exactly when some key matches no pattern, naming
 *     the first such key (a reference check over every key), however many.
 *   4 (save/load): up to four users defined from the payload's lines, ACL
 *     SAVE to a real file, ACL LOAD: every user must come back identical.
 * Between inputs, users go back to the built-in default and the ACL log is
 * left bounded (acllog-max-len). Never exits. */
#include "fuzz_common.h"
#include "db.h"
#include "cmd.h"
#include "acl.h"
#include "config.h"
#include <ctype.h>

/* ---- Redis 7.0 util.c stringmatchlen, on NUL-terminated copies ---- */
static int refMatch(const char *pattern, int patternLen, const char *string, int stringLen, int nocase,
                    int *skipLonger, int depth) {
    if (depth > 1000) return 0; /* Redis 7.0.10+ (CVE-2022-36021): give up past 1000 nested '*' */
    while (patternLen && stringLen) {
        switch (pattern[0]) {
        case '*':
            while (patternLen && pattern[1] == '*') {
                pattern++;
                patternLen--;
            }
            if (patternLen == 1) return 1;
            while (stringLen) {
                if (refMatch(pattern + 1, patternLen - 1, string, stringLen, nocase, skipLonger, depth + 1)) return 1;
                if (*skipLonger) return 0;
                string++;
                stringLen--;
            }
            *skipLonger = 1;
            return 0;
        case '?':
            string++;
            stringLen--;
            break;
        case '[': {
            int not, match;
            pattern++;
            patternLen--;
            not = pattern[0] == '^';
            if (not) {
                pattern++;
                patternLen--;
            }
            match = 0;
            while (1) {
                if (pattern[0] == '\\' && patternLen >= 2) {
                    pattern++;
                    patternLen--;
                    if (pattern[0] == string[0]) match = 1;
                } else if (pattern[0] == ']') {
                    break;
                } else if (patternLen == 0) {
                    pattern--;
                    patternLen++;
                    break;
                } else if (patternLen >= 3 && pattern[1] == '-') {
                    int start = pattern[0];
                    int end = pattern[2];
                    int c = string[0];
                    if (start > end) {
                        int t = start;
                        start = end;
                        end = t;
                    }
                    if (nocase) {
                        start = tolower(start);
                        end = tolower(end);
                        c = tolower(c);
                    }
                    pattern += 2;
                    patternLen -= 2;
                    if (c >= start && c <= end) match = 1;
                } else {
                    if (!nocase) {
                        if (pattern[0] == string[0]) match = 1;
                    } else {
                        if (tolower((int)pattern[0]) == tolower((int)string[0])) match = 1;
                    }
                }
                pattern++;
                patternLen--;
            }
            if (not) match = !match;
            if (!match) return 0;
            string++;
            stringLen--;
            break;
        }
        case '\\':
            if (patternLen >= 2) {
                pattern++;
                patternLen--;
            }
            /* fall through */
        default:
            if (!nocase) {
                if (pattern[0] != string[0]) return 0;
            } else {
                if (tolower((int)pattern[0]) != tolower((int)string[0])) return 0;
            }
            string++;
            stringLen--;
            break;
        }
        pattern++;
        patternLen--;
        if (stringLen == 0) {
            while (*pattern == '*') {
                pattern++;
                patternLen--;
            }
            break;
        }
    }
    if (patternLen == 0 && stringLen == 0) return 1;
    return 0;
}

static fuzzMemFile aclFile;
static char saveDir[64], savePath[96]; /* ACL SAVE renames: a real directory */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit(NULL);
    fuzzMemFileInit(&aclFile, "fuzz-acl-file");
    snprintf(saveDir, sizeof(saveDir), "/tmp/fuzz-acl-XXXXXX");
    if (!mkdtemp(saveDir)) abort();
    snprintf(savePath, sizeof(savePath), "%s/users.acl", saveDir);
    return 0;
}

static void checkCommands(const aclUser *u, const char *p, size_t n) {
    /* Keys and channels from the payload: its first and second halves. */
    slice a = {p, n / 2}, b = {p + n / 2, n - n / 2};
    static const struct {
        const char *name;
        int argc;
    } cmds[] = {{"get", 2}, {"set", 3}, {"copy", 3}, {"subscribe", 2}, {"psubscribe", 2}, {"publish", 3},
                {"config", 3}, {"flushall", 1}, {"acl", 2}, {"lmove", 5}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        slice argv[5] = {{cmds[i].name, strlen(cmds[i].name)}, a, b, a, b};
        if (!strcmp(cmds[i].name, "config")) argv[1] = (slice){"get", 3};
        if (!strcmp(cmds[i].name, "acl")) argv[1] = (slice){"whoami", 6};
        if (!strcmp(cmds[i].name, "lmove")) argv[3] = (slice){"left", 4}, argv[4] = (slice){"right", 5};
        cmdDef *cmd = cmdLookupArgv(argv, cmds[i].argc);
        if (!cmd) continue;
        int bad = -1;
        int rc = aclCheck(u, cmd, argv, cmds[i].argc, &bad);
        if (rc != ACL_OK && (bad < 0 || bad >= cmds[i].argc) && rc != ACL_DENIED_CMD) {
            fprintf(stderr, "aclCheck denied (%d) naming argument %d of %d\n", rc, bad, cmds[i].argc);
            abort();
        }
    }
}

static void modeRules(const uint8_t *p, size_t n) {
    char **argv;
    size_t *lens;
    int argc = configSplitArgsLen((const char *)p, n, &argv, &lens);
    if (argc < 1) {
        if (argc == 0) {
            configFreeArgs(argv, 0);
            memFree(lens);
        }
        return;
    }
    char err[512];
    /* An empty name is valid (Redis too) but its description "user  on..."
     * cannot load back, in Redis neither: no round trip for it. */
    if (aclConfigUser(argv, lens, argc, err, sizeof(err)) == 0 && argv[0][0]) {
        aclUser *u = aclGetUser(argv[0], lens[0]);
        if (!u) abort();
        /* "user NAME rules..." as a file holds it (quotes quoted) back
         * through the same parser: ACL SAVE then ACL LOAD. */
        char *d1 = aclDescribeUserFile(u);
        char **dv;
        size_t *dl;
        int dc = configSplitArgsLen(d1, strlen(d1), &dv, &dl);
        if (dc < 2 || strcmp(dv[0], "user") != 0) {
            fprintf(stderr, "description does not split back: %s\n", d1);
            abort();
        }
        char err2[512] = "";
        int rc2 = aclConfigUser(dv + 1, dl + 1, dc - 1, err2, sizeof(err2));
        /* %R~* then %W~* merge into "~*" without the allkeys flag, so the
         * description's later patterns are refused on the way back: Redis
         * 7.0 does exactly the same (ACL LIST then ACL SETUSER fails). */
        if (rc2 != 0 && !strncmp(err2, "Adding a pattern after the * pattern", 36)) {
            configFreeArgs(dv, dc);
            memFree(dl);
            memFree(d1);
            configFreeArgs(argv, argc);
            memFree(lens);
            return;
        }
        if (rc2 != 0) {
            fprintf(stderr, "description does not load back (%s): %s\n", err2, d1);
            abort();
        }
        aclUser *u2 = aclGetUser(dv[1], dl[1]);
        if (!u2) abort();
        char *d2 = aclDescribeUserFile(u2);
        if (strcmp(d1, d2) != 0) {
            fprintf(stderr, "ACL LIST round trip differs:\n  %s\n  %s\n", d1, d2);
            abort();
        }
        checkCommands(u2, (const char *)p, n);
        memFree(d2);
        configFreeArgs(dv, dc);
        memFree(dl);
        memFree(d1);
    }
    configFreeArgs(argv, argc);
    memFree(lens);
}

/* ---- mode 3: every key checked, whatever the count ---- */

static int refKeyAllowed(char **pats, const size_t *plen, int npat, const char *k, size_t klen) {
    for (int i = 0; i < npat; i++)
        if (globMatch(pats[i], plen[i], k, klen, 0)) return 1;
    return 0;
}

static void modeKeyCount(const uint8_t *p, size_t n) {
    if (n < 4) return;
    /* Byte 0: command; bytes 1-2: key count; the rest: "pat1 pat2 ... | key
     * seeds": patterns before the first '|', key material after it. */
    static const char *names[] = {"mget", "mset", "del", "zunionstore", "lmpop", "blpop"};
    int which = p[0] % 6;
    int nkeys = 1 + ((p[1] << 8) | p[2]) % 2000;
    const char *rest = (const char *)p + 3;
    size_t rlen = n - 3;
    const char *bar = memchr(rest, '|', rlen);
    size_t patPart = bar ? (size_t)(bar - rest) : rlen / 2;
    const char *keyMat = rest + patPart + (bar ? 1 : 0);
    size_t keyLen = rlen - patPart - (bar ? 1 : 0);
    /* The user: on, nopass, +@all, ~pattern for each space-separated word
     * without spaces or NUL (anything else would be refused). */
    char *pats[8];
    size_t plen[8];
    int npat = 0;
    char **rules = memAlloc(sizeof(char *) * 12);
    size_t *rl = memAlloc(sizeof(size_t) * 12);
    int nr = 0;
    rules[nr] = memStrdup("fk");
    rl[nr++] = 2;
    rules[nr] = memStrdup("on");
    rl[nr++] = 2;
    rules[nr] = memStrdup("+@all");
    rl[nr++] = 5;
    for (size_t i = 0; i < patPart && npat < 8;) {
        size_t j = i;
        while (j < patPart && !isspace((unsigned char)rest[j]) && rest[j] != '\0') j++;
        if (j > i && !(j - i == 1 && rest[i] == '*')) {
            pats[npat] = memDupBytes(rest + i, j - i);
            plen[npat] = j - i;
            rules[nr] = memAlloc(j - i + 1);
            rules[nr][0] = '~';
            memcpy(rules[nr] + 1, rest + i, j - i);
            rl[nr++] = j - i + 1;
            npat++;
        }
        i = j + 1;
    }
    char err[512];
    if (aclConfigUser(rules, rl, nr, err, sizeof(err)) != 0) {
        fprintf(stderr, "restricted user refused: %s\n", err);
        abort();
    }
    aclUser *u = aclGetUser("fk", 2);
    if (!u) abort();
    /* Keys: key i is a slice of the key material (cycled), so most repeat
     * allowed keys and a payload can place a forbidden one anywhere. */
    int argc = 0, cap = 2 * nkeys + 6;
    slice *argv = memAlloc(sizeof(slice) * (size_t)cap);
    char **owned = memAlloc(sizeof(char *) * (size_t)nkeys);
    char numbuf[16];
    snprintf(numbuf, sizeof(numbuf), "%d", nkeys);
    argv[argc++] = (slice){names[which], strlen(names[which])};
    if (which == 3) argv[argc++] = (slice){"dst", 3};
    if (which == 3 || which == 4) argv[argc++] = (slice){numbuf, strlen(numbuf)};
    int firstKeyArg = argc;
    for (int i = 0; i < nkeys; i++) {
        size_t off = keyLen ? ((size_t)i * 7) % keyLen : 0, len = keyLen ? 1 + (size_t)i % 5 : 0;
        if (off + len > keyLen) len = keyLen - off;
        owned[i] = memDupBytes(keyMat + off, len);
        argv[argc++] = (slice){owned[i], len};
        if (which == 1) argv[argc++] = (slice){"v", 1};
    }
    if (which == 4) argv[argc++] = (slice){"left", 4};
    if (which == 5) argv[argc++] = (slice){"0", 1};
    cmdDef *cmd = cmdLookupArgv(argv, argc);
    if (!cmd) abort();
    int want = -1; /* the first key no pattern matches */
    if (which == 3 && !refKeyAllowed(pats, plen, npat, "dst", 3)) want = 1;
    for (int i = 0; i < nkeys && want < 0; i++) {
        int at = firstKeyArg + i * (which == 1 ? 2 : 1);
        if (!refKeyAllowed(pats, plen, npat, argv[at].p, argv[at].len)) want = at;
    }
    int bad = -1;
    int rc = aclCheck(u, cmd, argv, argc, &bad);
    if ((want < 0) != (rc == ACL_OK) || (want >= 0 && (rc != ACL_DENIED_KEY || bad != want))) {
        fprintf(stderr, "%s with %d keys: aclCheck %d naming %d, reference %d\n", names[which], nkeys, rc, bad, want);
        abort();
    }
    for (int i = 0; i < nkeys; i++) memFree(owned[i]);
    memFree(owned);
    memFree(argv);
    for (int i = 0; i < npat; i++) memFree(pats[i]);
    for (int i = 0; i < nr; i++) memFree(rules[i]);
    memFree(rules);
    memFree(rl);
}

/* ---- mode 4: ACL SAVE then ACL LOAD gives the same users ---- */

static void modeSaveLoad(const uint8_t *p, size_t n) {
    const char *s = (const char *)p, *end = s + n;
    int defined = 0;
    for (int k = 0; k < 4 && s < end; k++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        char **argv;
        size_t *lens;
        int argc = configSplitArgsLen(s, len, &argv, &lens);
        char err[512];
        /* "default" is left alone: replacing it changes the test's base. */
        if (argc >= 1 && lens[0] && !(lens[0] == 7 && !memcmp(argv[0], "default", 7)) &&
            aclConfigUser(argv, lens, argc, err, sizeof(err)) == 0)
            defined++;
        if (argc >= 0) {
            configFreeArgs(argv, argc);
            memFree(lens);
        }
        s += len + (nl ? 1 : 0);
    }
    if (!defined) return;
    char **before;
    int nb = aclDescribeUsers(&before);
    char *saved = srv.aclfile;
    srv.aclfile = savePath;
    char err[4096];
    if (aclSaveFile(err, sizeof(err)) != 0) {
        fprintf(stderr, "ACL SAVE failed: %s\n", err);
        abort();
    }
    int rc = aclLoadFile(err, sizeof(err));
    srv.aclfile = saved;
    /* The one description Redis cannot load back either (%R~* %W~* then
     * more patterns, see modeRules): a refused load, nothing changed. */
    if (rc != 0 && strstr(err, "Adding a pattern after the * pattern")) {
        for (int i = 0; i < nb; i++) memFree(before[i]);
        memFree(before);
        return;
    }
    if (rc != 0) {
        fprintf(stderr, "ACL LOAD of what ACL SAVE wrote failed: %s\n", err);
        abort();
    }
    char **after;
    int na = aclDescribeUsers(&after);
    if (na != nb) abort();
    for (int i = 0; i < nb; i++) {
        if (strcmp(before[i], after[i]) != 0) {
            fprintf(stderr, "ACL SAVE/LOAD changed a user:\n  %s\n  %s\n", before[i], after[i]);
            abort();
        }
        memFree(before[i]);
        memFree(after[i]);
    }
    memFree(before);
    memFree(after);
}

static void modeFile(const uint8_t *p, size_t n) {
    fuzzMemFileSet(&aclFile, p, n);
    char *saved = srv.aclfile;
    srv.aclfile = aclFile.path;
    char err[4096];
    if (aclLoadFile(err, sizeof(err)) == 0) {
        aclUser *d = aclDefaultUser();
        char *s = aclDescribeUser(d);
        memFree(s);
        checkCommands(d, (const char *)p, n);
    }
    srv.aclfile = saved;
}

static void modeGlob(const uint8_t *p, size_t n) {
    const uint8_t *nul = memchr(p, 0, n);
    size_t plen = nul ? (size_t)(nul - p) : n / 2;
    const char *pat = (const char *)p, *s = (const char *)p + plen + (nul ? 1 : 0);
    size_t slen = n - plen - (nul ? 1 : 0);
    for (int nocase = 0; nocase <= 1; nocase++) {
        /* Exact-size copies: ASan sees any read past either end. */
        char *pc = memAlloc(plen ? plen : 1), *sc = memAlloc(slen ? slen : 1);
        memcpy(pc, pat, plen);
        memcpy(sc, s, slen);
        int got = globMatch(pc, plen, sc, slen, nocase);
        memFree(pc);
        memFree(sc);
        int ascii = !memchr(s, 0, slen);
        for (size_t i = 0; i < plen && ascii; i++) ascii = (unsigned char)pat[i] < 0x80;
        for (size_t i = 0; i < slen && ascii; i++) ascii = (unsigned char)s[i] < 0x80;
        /* Redis never matches an empty string unless the pattern is empty
         * too ("*" vs "" is 0 there; KEYS and SCAN special-case a lone
         * "*"). We match it: a known, documented difference. */
        /* Lengths are bounded only to keep the recursive reference fast;
         * classes, malformed ones included, must answer as Redis does. */
        if (ascii && slen > 0 && plen < 4096 && slen < 256) {
            char *zp = memDupBytes(pat, plen), *zs = memDupBytes(s, slen);
            int skip = 0;
            int want = refMatch(zp, (int)plen, zs, (int)slen, nocase, &skip, 0);
            memFree(zp);
            memFree(zs);
            if (want != got) {
                fprintf(stderr, "globMatch('%.*s', '%.*s', nocase=%d) = %d, Redis says %d\n", (int)plen, pat,
                        (int)slen, s, nocase, got, want);
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: modeRules(p, n); break;
    case 1: modeFile(p, n); break;
    case 2: modeGlob(p, n); break;
    case 3: modeKeyCount(p, n); break;
    default: modeSaveLoad(p, n); break;
    }
    fuzzResetUsers();
    return 0;
}
