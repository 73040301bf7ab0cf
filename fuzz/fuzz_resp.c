/* fuzz_resp.c - the RESP request parser (resp.c) over a request stream that
 * arrives in pieces.
 *
 * Input: byte 0 = flags (bit 0: unauthenticated limits; bit 1: a tiny
 * proto-max-bulk-len; bits 2-4: number of split points, 0..7), then two
 * bytes per split point (little-endian offsets into the stream), then the
 * stream itself.
 *
 * The stream is parsed twice: one-shot (all bytes present, a fresh respReq
 * per request), and resumed the way client.c does it (bytes appended at the
 * split points, the respReq kept across RESP_PARTIAL, the `need` shortcut
 * honoured, the buffer reallocated to its exact size at each arrival so ASan
 * catches any read past what has arrived). Both must give the same requests,
 * argument for argument, and the same error at the same place. Arguments
 * must lie inside the request that holds them.
 * Owns nothing global; never exits (abort() on a mismatch is the finding). */
#include "fuzz_common.h"

typedef struct cmdRec {
    long argc;
    const char **p; /* into the one-shot buffer */
    size_t *len;
} cmdRec;

static void growArgv(respReq *r, respArg **argv, long *cap) {
    if (r->argcWant <= *cap) {
        fprintf(stderr, "NEED_ARGV without needing more (%ld <= %ld)\n", r->argcWant, *cap);
        abort();
    }
    *cap = r->argcWant;
    *argv = memRealloc(*argv, sizeof(respArg) * (size_t)*cap);
}

static int isTooBig(const char *e) { return e && strstr(e, "too big") != NULL; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int flags = data[0];
    int unauth = flags & 1;
    long long maxBulk = (flags & 2) ? 16 : 512LL * 1024 * 1024;
    int nsplit = (flags >> 2) & 7;
    size_t hdr = 1 + 2 * (size_t)nsplit;
    if (size < hdr) return 0;
    size_t splits[9];
    const uint8_t *stream = data + hdr;
    size_t slen = size - hdr;
    for (int i = 0; i < nsplit; i++) {
        size_t off = (size_t)data[1 + 2 * i] | ((size_t)data[2 + 2 * i] << 8);
        splits[i] = slen ? off % (slen + 1) : 0;
    }
    /* Sorted arrival points, ending with the whole stream. */
    for (int i = 1; i < nsplit; i++)
        for (int j = i; j > 0 && splits[j - 1] > splits[j]; j--) {
            size_t t = splits[j];
            splits[j] = splits[j - 1];
            splits[j - 1] = t;
        }
    splits[nsplit] = slen;

    /* ---- one-shot ---- */
    char *one = memAlloc(slen ? slen : 1);
    memcpy(one, stream, slen);
    cmdRec *cmds = NULL;
    long ncmds = 0, capcmds = 0;
    const char *oneErr = NULL;
    char oneErrBuf[160];
    respReq r;
    respArg *argv = NULL;
    long argvCap = 0;
    size_t pos = 0;
    for (;;) {
        respReqReset(&r);
        r.unauthenticated = unauth;
        respStatus st;
        const char *err = NULL;
        for (;;) {
            r.argv = argv;
            r.argvCap = argvCap;
            st = respParse(one + pos, slen - pos, &r, maxBulk, &err);
            if (st != RESP_NEED_ARGV) break;
            growArgv(&r, &argv, &argvCap);
        }
        if (st == RESP_PARTIAL) break;
        if (st == RESP_ERROR) {
            /* Copied: some error texts live in a static buffer the resumed
             * parse below writes again. */
            snprintf(oneErrBuf, sizeof(oneErrBuf), "%s", err);
            oneErr = oneErrBuf;
            break;
        }
        if (r.pos == 0 || r.pos > slen - pos) {
            fprintf(stderr, "OK with consumed %zu of %zu\n", r.pos, slen - pos);
            abort();
        }
        if (r.argc > 0) {
            if (ncmds == capcmds) {
                capcmds = capcmds ? capcmds * 2 : 16;
                cmds = memRealloc(cmds, sizeof(cmdRec) * (size_t)capcmds);
            }
            cmdRec *c = &cmds[ncmds++];
            c->argc = r.argc;
            c->p = memAlloc(sizeof(char *) * (size_t)r.argc);
            c->len = memAlloc(sizeof(size_t) * (size_t)r.argc);
            for (long i = 0; i < r.argc; i++) {
                if (argv[i].off > r.pos || argv[i].len > r.pos - argv[i].off) {
                    fprintf(stderr, "argument %ld outside its request\n", i);
                    abort();
                }
                c->p[i] = one + pos + argv[i].off;
                c->len[i] = argv[i].len;
            }
        }
        pos += r.pos;
    }

    /* ---- resumed, as client.c ---- */
    char *buf = NULL;
    size_t have = 0, qpos = 0;
    long seen = 0;
    const char *resErr = NULL;
    respReqReset(&r);
    for (int s = 0; s <= nsplit && !resErr; s++) {
        if (splits[s] < have) continue;
        size_t nlen = splits[s];
        char *nb = memAlloc(nlen ? nlen : 1);
        memcpy(nb, buf ? buf : "", have);
        memcpy(nb + have, stream + have, nlen - have);
        memFree(buf);
        buf = nb;
        have = nlen;
        while (qpos < have) {
            size_t avail = have - qpos;
            if (r.need && avail < r.need) break;
            r.argv = argv;
            r.argvCap = argvCap;
            r.unauthenticated = unauth;
            const char *err = NULL;
            respStatus st = respParse(buf + qpos, avail, &r, maxBulk, &err);
            if (st == RESP_NEED_ARGV) {
                growArgv(&r, &argv, &argvCap);
                continue;
            }
            if (st == RESP_PARTIAL) break;
            if (st == RESP_ERROR) {
                resErr = err;
                break;
            }
            if (r.argc > 0) {
                if (seen >= ncmds) {
                    fprintf(stderr, "resumed parse found request %ld, one-shot only %ld\n", seen + 1, ncmds);
                    abort();
                }
                cmdRec *c = &cmds[seen];
                if (c->argc != r.argc) {
                    fprintf(stderr, "request %ld: argc %ld vs %ld\n", seen, r.argc, c->argc);
                    abort();
                }
                for (long i = 0; i < r.argc; i++) {
                    if (argv[i].len != c->len[i] || memcmp(buf + qpos + argv[i].off, c->p[i], c->len[i]) != 0) {
                        fprintf(stderr, "request %ld: argument %ld differs\n", seen, i);
                        abort();
                    }
                }
                seen++;
            }
            qpos += r.pos;
            respReqReset(&r);
        }
    }
    /* The same requests and the same ending. A "too big" error depends on
     * how much of an unterminated line has arrived (as in Redis), so it may
     * stand where the one-shot parse found the line's end and another
     * error. */
    if ((!resErr || !isTooBig(resErr)) && seen != ncmds) {
        fprintf(stderr, "resumed parse found %ld requests, one-shot %ld\n", seen, ncmds);
        abort();
    }
    if ((oneErr != NULL) != (resErr != NULL) && !isTooBig(resErr)) {
        fprintf(stderr, "error mismatch: one-shot '%s', resumed '%s'\n", oneErr ? oneErr : "(none)",
                resErr ? resErr : "(none)");
        abort();
    }
    if (oneErr && resErr && strcmp(oneErr, resErr) != 0 && !isTooBig(oneErr) && !isTooBig(resErr)) {
        fprintf(stderr, "error text: one-shot '%s', resumed '%s'\n", oneErr, resErr);
        abort();
    }

    for (long i = 0; i < ncmds; i++) {
        memFree(cmds[i].p);
        memFree(cmds[i].len);
    }
    memFree(cmds);
    memFree(argv);
    memFree(buf);
    memFree(one);
    return 0;
}
