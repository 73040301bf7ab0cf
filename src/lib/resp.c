/* resp.c - RESP request parser; see resp.h for the contract.
 *
 * Error texts are Redis 7's, byte for byte: clients and tests match them. */
#include "resp.h"
#include <string.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

void respReqReset(respReq *r) {
    r->pos = 0;
    r->argcTotal = -1;
    r->argc = 0;
    r->need = 0;
    r->argcWant = 0;
    r->isInline = 0;
    r->unauthenticated = 0;
}

/* Parses a decimal length terminated by \r\n at buf[start..]. Returns the
 * offset after \r\n, 0 when the line is incomplete, -1 on a bad number. */
static long long parseLen(const char *buf, size_t len, size_t start, long long *out, size_t maxLine, int *tooBig) {
    const char *cr = memchr(buf + start, '\r', len - start);
    *tooBig = 0;
    if (!cr) {
        if (len - start > maxLine) *tooBig = 1;
        return 0;
    }
    size_t end = (size_t)(cr - buf);
    if (end + 1 >= len) return 0; /* need the \n */
    if (buf[end + 1] != '\n') return -1;
    const char *p = buf + start;
    size_t n = end - start;
    if (n == 0 || n > 20) return -1;
    int neg = 0;
    size_t i = 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) return -1;
    }
    /* Redis reads lengths with string2ll: no leading zeros, no "-0". */
    if (p[i] == '0' && n > 1) return -1;
    long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        if (v > (LLONG_MAX - 9) / 10) return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return (long long)end + 2;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One pass over the line. When write is set, arguments are unescaped in
 * place and stored in argv (which must hold them all); otherwise only
 * counted. Returns the count or -1 for unbalanced quotes. */
static long splitPass(char *line, size_t len, size_t base, respArg *argv, int write) {
    size_t i = 0;
    long argc = 0;
    for (;;) {
        while (i < len && isspace((unsigned char)line[i])) i++;
        if (i >= len) return argc;
        size_t out = i; /* unescaped bytes are written here; out <= i always */
        size_t start = out;
        int inq = 0, insq = 0;
        for (;;) {
            if (inq) {
                if (i >= len) return -1;
                char c = line[i];
                if (c == '\\' && i + 3 < len && line[i + 1] == 'x' && hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0) {
                    if (write) line[out] = (char)(hexval(line[i + 2]) * 16 + hexval(line[i + 3]));
                    out++;
                    i += 4;
                } else if (c == '\\' && i + 1 < len) {
                    char e = line[i + 1];
                    switch (e) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: break;
                    }
                    if (write) line[out] = e;
                    out++;
                    i += 2;
                } else if (c == '"') {
                    /* A closing quote must be followed by a space or the end. */
                    if (i + 1 < len && !isspace((unsigned char)line[i + 1])) return -1;
                    i++;
                    break;
                } else {
                    if (write) line[out] = c;
                    out++;
                    i++;
                }
            } else if (insq) {
                if (i >= len) return -1;
                char c = line[i];
                if (c == '\\' && i + 1 < len && line[i + 1] == '\'') {
                    if (write) line[out] = '\'';
                    out++;
                    i += 2;
                } else if (c == '\'') {
                    if (i + 1 < len && !isspace((unsigned char)line[i + 1])) return -1;
                    i++;
                    break;
                } else {
                    if (write) line[out] = c;
                    out++;
                    i++;
                }
            } else {
                if (i >= len) break;
                char c = line[i];
                /* Only these end an unquoted token, as in sdssplitargs: a
                 * \v or \f inside one is kept (isspace would split there). */
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t') break;
                /* A quote opens quoting even mid-token, as sdssplitargs:
                 * a"b c" is the single argument "ab c". */
                if (c == '"') {
                    inq = 1;
                    i++;
                } else if (c == '\'') {
                    insq = 1;
                    i++;
                } else {
                    if (write) line[out] = c;
                    out++;
                    i++;
                }
            }
        }
        if (write) {
            argv[argc].off = base + start;
            argv[argc].len = out - start;
        }
        argc++;
    }
}

long respSplitInline(char *line, size_t len, size_t base, respArg *argv, long cap, long *want) {
    long n = splitPass(line, len, base, NULL, 0);
    if (n < 0) return -1;
    if (n > cap) {
        *want = n;
        return -2;
    }
    return splitPass(line, len, base, argv, 1);
}

static char errbuf[128];

static respStatus parseInline(char *buf, size_t len, respReq *r, const char **err) {
    char *nl = memchr(buf, '\n', len);
    if (!nl) {
        if (len > RESP_MAX_INLINE) {
            *err = "Protocol error: too big inline request";
            return RESP_ERROR;
        }
        r->need = len + 1;
        return RESP_PARTIAL;
    }
    size_t linelen = (size_t)(nl - buf);
    if (linelen > RESP_MAX_INLINE) {
        *err = "Protocol error: too big inline request";
        return RESP_ERROR;
    }
    size_t content = linelen;
    if (content && buf[content - 1] == '\r') content--;
    long want = 0;
    long argc = respSplitInline(buf, content, 0, r->argv, r->argvCap, &want);
    if (argc == -1) {
        *err = "Protocol error: unbalanced quotes in request";
        return RESP_ERROR;
    }
    if (argc == -2) {
        r->argcWant = want;
        return RESP_NEED_ARGV;
    }
    r->isInline = 1;
    r->argc = argc;
    r->argcTotal = argc;
    r->pos = linelen + 1;
    return RESP_OK;
}

respStatus respParse(char *buf, size_t len, respReq *r, long long maxBulk, const char **err) {
    if (len == 0) {
        r->need = 1;
        return RESP_PARTIAL;
    }
    if (buf[0] != '*') return parseInline(buf, len, r, err);

    int tooBig;
    if (r->argcTotal < 0) {
        long long count;
        long long next = parseLen(buf, len, 1, &count, RESP_MAX_INLINE, &tooBig);
        if (next == 0) {
            if (tooBig) {
                *err = "Protocol error: too big mbulk count string";
                return RESP_ERROR;
            }
            r->need = len + 1;
            return RESP_PARTIAL;
        }
        if (next < 0 || count > RESP_MAX_MULTIBULK) {
            *err = "Protocol error: invalid multibulk length";
            return RESP_ERROR;
        }
        if (r->unauthenticated && count > RESP_UNAUTH_MAX_MULTIBULK) {
            *err = "Protocol error: unauthenticated multibulk length";
            return RESP_ERROR;
        }
        r->pos = (size_t)next;
        r->argc = 0;
        if (count <= 0) {
            /* "*0" and "*-1" are empty requests, skipped as Redis does. */
            r->argcTotal = 0;
            return RESP_OK;
        }
        r->argcTotal = count;
    }
    while (r->argc < r->argcTotal) {
        if (r->argc >= r->argvCap) {
            /* Grow geometrically: a declared count is not yet a promise of data. */
            long want = r->argvCap < 8 ? 16 : r->argvCap * 2;
            if (want > r->argcTotal) want = (long)r->argcTotal;
            r->argcWant = want;
            return RESP_NEED_ARGV;
        }
        size_t pos = r->pos;
        if (pos >= len) {
            r->need = pos + 1;
            return RESP_PARTIAL;
        }
        if (buf[pos] != '$') {
            snprintf(errbuf, sizeof(errbuf), "Protocol error: expected '$', got '%c'", buf[pos]);
            *err = errbuf;
            return RESP_ERROR;
        }
        long long blen;
        long long next = parseLen(buf, len, pos + 1, &blen, RESP_MAX_INLINE, &tooBig);
        if (next == 0) {
            if (tooBig) {
                *err = "Protocol error: too big bulk count string";
                return RESP_ERROR;
            }
            r->need = len + 1;
            return RESP_PARTIAL;
        }
        if (next < 0 || blen < 0 || blen > maxBulk) {
            *err = "Protocol error: invalid bulk length";
            return RESP_ERROR;
        }
        if (r->unauthenticated && blen > RESP_UNAUTH_MAX_BULK) {
            *err = "Protocol error: unauthenticated bulk length";
            return RESP_ERROR;
        }
        size_t end = (size_t)next + (size_t)blen + 2;
        if (len < end) {
            r->need = end;
            return RESP_PARTIAL;
        }
        r->argv[r->argc].off = (size_t)next;
        r->argv[r->argc].len = (size_t)blen;
        r->argc++;
        r->pos = end;
    }
    return RESP_OK;
}
