/* fuzz_inline.c - the inline-command grammar of resp.c (respSplitInline, and
 * respParse on a line that does not start with '*'): spaces, "double quotes"
 * with \n \r \t \b \a \xHH escapes, 'single quotes' with \', and a closing
 * quote that must be followed by a space or the end.
 *
 * Checks: the counting pass and the writing pass agree (RESP_NEED_ARGV /
 * -2 asks for exactly what is then used); arguments lie inside the line, in
 * order, without overlap; respParse on "line\r\n" gives the same arguments;
 * and, for lines without a NUL byte, the result equals Redis 7.0's own
 * sdssplitargs (ported below as the reference, bugs and all) - same count,
 * same bytes, and unbalanced quotes in the same cases.
 * Owns nothing global; never exits (abort() on a mismatch is the finding). */
#include "fuzz_common.h"
#include "db.h"
#include <ctype.h>

/* ---- Redis 7.0 sds.c sdssplitargs, on a NUL-terminated copy ---- */
static int refHexDigit(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int refHexVal(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

typedef struct refArg {
    char *p;
    size_t len;
} refArg;

/* Returns argc (args in out[], each memAlloc'd) or -1 (unbalanced). */
static long refSplit(const char *line, refArg **out) {
    const char *p = line;
    long argc = 0, cap = 0;
    refArg *v = NULL;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) {
            *out = v;
            return argc;
        }
        int inq = 0, insq = 0, done = 0;
        size_t clen = 0, ccap = 16;
        char *cur = memAlloc(ccap);
#define REF_PUT(ch)                                 \
    do {                                            \
        if (clen == ccap) cur = memRealloc(cur, ccap *= 2); \
        cur[clen++] = (char)(ch);                   \
    } while (0)
        while (!done) {
            if (inq) {
                if (*p == '\\' && *(p + 1) == 'x' && refHexDigit(*(p + 2)) && refHexDigit(*(p + 3))) {
                    REF_PUT(refHexVal(*(p + 2)) * 16 + refHexVal(*(p + 3)));
                    p += 3;
                } else if (*p == '\\' && *(p + 1)) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    REF_PUT(c);
                } else if (*p == '"') {
                    if (*(p + 1) && !isspace((unsigned char)*(p + 1))) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    REF_PUT(*p);
                }
            } else if (insq) {
                if (*p == '\\' && *(p + 1) == '\'') {
                    p++;
                    REF_PUT('\'');
                } else if (*p == '\'') {
                    if (*(p + 1) && !isspace((unsigned char)*(p + 1))) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    REF_PUT(*p);
                }
            } else {
                switch (*p) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: REF_PUT(*p); break;
                }
            }
            if (*p) p++;
        }
        if (argc == cap) {
            cap = cap ? cap * 2 : 8;
            v = memRealloc(v, sizeof(refArg) * (size_t)cap);
        }
        v[argc].p = cur;
        v[argc].len = clen;
        argc++;
        continue;
    err:
        memFree(cur);
        for (long i = 0; i < argc; i++) memFree(v[i].p);
        memFree(v);
        *out = NULL;
        return -1;
    }
#undef REF_PUT
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > RESP_MAX_INLINE) return 0;
    /* ---- respSplitInline: counting then writing ---- */
    char *line = memDupBytes(data, size);
    long want = -1;
    long n = respSplitInline(line, size, 0, NULL, 0, &want);
    respArg *argv = NULL;
    if (n == -2) {
        if (want <= 0) abort();
        argv = memAlloc(sizeof(respArg) * (size_t)want);
        long want2 = -1;
        n = respSplitInline(line, size, 0, argv, want, &want2);
        if (n != want) {
            fprintf(stderr, "counted %ld arguments, wrote %ld\n", want, n);
            abort();
        }
    } else if (n != 0 && n != -1) {
        fprintf(stderr, "respSplitInline with cap 0 returned %ld\n", n);
        abort();
    }
    size_t prevEnd = 0;
    for (long i = 0; i < n; i++) {
        if (argv[i].off < prevEnd || argv[i].off > size || argv[i].len > size - argv[i].off) {
            fprintf(stderr, "argument %ld at %zu+%zu outside the line (%zu) or overlapping\n", i, argv[i].off,
                    argv[i].len, size);
            abort();
        }
        prevEnd = argv[i].off + argv[i].len;
    }

    /* ---- the reference, for lines Redis reads whole (no NUL) ---- */
    if (!memchr(data, '\0', size)) {
        char *z = memDupBytes(data, size);
        refArg *rv = NULL;
        long rn = refSplit(z, &rv);
        if (rn != n) {
            fprintf(stderr, "Redis splits into %ld, we into %ld\n", rn, n);
            abort();
        }
        for (long i = 0; i < rn; i++) {
            if (rv[i].len != argv[i].len || memcmp(rv[i].p, line + argv[i].off, rv[i].len) != 0) {
                fprintf(stderr, "argument %ld differs from Redis'\n", i);
                abort();
            }
            memFree(rv[i].p);
        }
        memFree(rv);
        memFree(z);
    }

    /* ---- respParse on "line\r\n": the same split (lines without '\n'
     * and not starting with '*') ---- */
    if (size > 0 && data[0] != '*' && !memchr(data, '\n', size)) {
        char *req = memAlloc(size + 2);
        memcpy(req, data, size);
        req[size] = '\r';
        req[size + 1] = '\n';
        respReq r;
        respReqReset(&r);
        respArg *pv = NULL;
        long pcap = 0;
        const char *err = NULL;
        respStatus st;
        for (;;) {
            r.argv = pv;
            r.argvCap = pcap;
            st = respParse(req, size + 2, &r, 512LL * 1024 * 1024, &err);
            if (st != RESP_NEED_ARGV) break;
            pcap = r.argcWant;
            pv = memRealloc(pv, sizeof(respArg) * (size_t)pcap);
        }
        /* A trailing '\r' in the line is eaten with the terminator. */
        int lastCr = data[size - 1] == '\r';
        if (!lastCr) {
            if ((st == RESP_ERROR) != (n == -1) || (st == RESP_OK && r.argc != n)) {
                fprintf(stderr, "respParse (%d, argc %ld) disagrees with respSplitInline (%ld)\n", (int)st, r.argc, n);
                abort();
            }
            for (long i = 0; st == RESP_OK && i < n; i++)
                if (pv[i].len != argv[i].len || memcmp(req + pv[i].off, line + argv[i].off, argv[i].len) != 0) abort();
            if (st == RESP_OK && r.pos != size + 2) abort();
        }
        memFree(pv);
        memFree(req);
    }
    memFree(argv);
    memFree(line);
    return 0;
}
