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
 *     Redis 7.0's stringmatchlen (ported below as the reference).
 * Between inputs, users go back to the built-in default and the ACL log is
 * left bounded (acllog-max-len). Never exits. */
#include "fuzz_common.h"
#include <ctype.h>

/* ---- Redis 7.0 util.c stringmatchlen, on NUL-terminated copies ---- */
static int refMatch(const char *pattern, int patternLen, const char *string, int stringLen, int nocase,
                    int *skipLonger, int depth) {
    if (depth > 1000) return 0; /* Redis 7.2 adds this nesting limit; 7.0 recurses */
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

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit(NULL);
    fuzzMemFileInit(&aclFile, "fuzz-acl-file");
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
    int argc = configSplitArgs((const char *)p, n, &argv);
    if (argc < 1) {
        if (argc == 0) configFreeArgs(argv, 0);
        return;
    }
    const char *err = NULL;
    /* An empty name is valid (Redis too) but its description "user  on..."
     * cannot load back, in Redis neither: no round trip for it. */
    if (aclConfigUser(argv, argc, &err) == 0 && argv[0][0]) {
        aclUser *u = aclGetUser(argv[0], strlen(argv[0]));
        if (!u) abort();
        char *d1 = aclDescribeUser(u);
        /* "user NAME rules..." back through the same parser. A name or
         * pattern holding a quote is printed unquoted (as Redis does), and
         * cannot load back (in Redis neither): no round trip for those. */
        if (strchr(d1, '"') || strchr(d1, '\'')) {
            memFree(d1);
            configFreeArgs(argv, argc);
            return;
        }
        char **dv;
        int dc = configSplitArgs(d1, strlen(d1), &dv);
        if (dc < 2 || strcmp(dv[0], "user") != 0) {
            fprintf(stderr, "description does not split back: %s\n", d1);
            abort();
        }
        const char *err2 = NULL;
        int rc2 = aclConfigUser(dv + 1, dc - 1, &err2);
        /* %R~* then %W~* merge into "~*" without the allkeys flag, so the
         * description's later patterns are refused on the way back: Redis
         * 7.0 does exactly the same (ACL LIST then ACL SETUSER fails). */
        if (rc2 != 0 && err2 && !strncmp(err2, "Adding a pattern after the * pattern", 36)) {
            configFreeArgs(dv, dc);
            memFree(d1);
            configFreeArgs(argv, argc);
            return;
        }
        if (rc2 != 0) {
            fprintf(stderr, "description does not load back (%s): %s\n", err2, d1);
            abort();
        }
        aclUser *u2 = aclGetUser(dv[1], strlen(dv[1]));
        if (!u2) abort();
        char *d2 = aclDescribeUser(u2);
        if (strcmp(d1, d2) != 0) {
            fprintf(stderr, "ACL LIST round trip differs:\n  %s\n  %s\n", d1, d2);
            abort();
        }
        checkCommands(u2, (const char *)p, n);
        memFree(d2);
        configFreeArgs(dv, dc);
        memFree(d1);
    }
    configFreeArgs(argv, argc);
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
        /* Classes differ on malformed input, on purpose: Redis reads
         * "[a-]" as the range a..']' and lets an unterminated class eat the
         * rest of the pattern; globMatch reads "[a-]" as 'a' or '-' and ends
         * the class at the pattern's end. So the reference is asked only
         * about patterns without '['. */
        if (ascii && slen > 0 && plen < 256 && slen < 256 && !memchr(pat, '[', plen)) {
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
    switch (data[0] % 3) {
    case 0: modeRules(p, n); break;
    case 1: modeFile(p, n); break;
    default: modeGlob(p, n); break;
    }
    fuzzResetUsers();
    return 0;
}
