/* util.c - number/string conversions with Redis' exact rules, glob matching,
 * randomness, time and whole-buffer writes to blocking file descriptors. Pure helpers: own no state beyond the random source.
 * Must never accept what Redis rejects: "+1", " 1", "01" are not integers. */
#include "util.h"
#include "el.h"
#include "mem.h"
#include <stdarg.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <openssl/rand.h>
#include <time.h>
#include <unistd.h>

int string2ll(const char *s, size_t len, long long *value) {
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;
    if (len == 0 || len > 20) return 0;
    if (len == 1 && p[0] == '0') {
        *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == len) return 0;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < len && p[0] >= '0' && p[0] <= '9') {
        if (v > ULLONG_MAX / 10) return 0;
        v *= 10;
        unsigned long long d = (unsigned long long)(p[0] - '0');
        if (v > ULLONG_MAX - d) return 0;
        v += d;
        p++;
        plen++;
    }
    if (plen < len) return 0;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1)) return 0;
        *value = v == ((unsigned long long)LLONG_MAX + 1) ? LLONG_MIN : -(long long)v;
    } else {
        if (v > LLONG_MAX) return 0;
        *value = (long long)v;
    }
    return 1;
}

int ll2string(char *dst, size_t dstlen, long long svalue) {
    char tmp[24];
    unsigned long long v;
    int neg = svalue < 0;
    v = neg ? (unsigned long long)(-(svalue + 1)) + 1 : (unsigned long long)svalue;
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) tmp[i++] = '-';
    if ((size_t)i + 1 > dstlen) {
        if (dstlen) dst[0] = '\0';
        return 0;
    }
    for (int j = 0; j < i; j++) dst[j] = tmp[i - 1 - j];
    dst[i] = '\0';
    return i;
}

/* strtold/strtod need a NUL-terminated copy; arguments are not terminated. */
int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    if (isspace((unsigned char)buf[0])) return 0;
    char *eptr;
    errno = 0;
    long double v = strtold(buf, &eptr);
    /* eptr must reach the end: an embedded NUL ("1\0\0002", easy to make
     * with SETRANGE) stops strtold early and is not a number. */
    if ((size_t)(eptr - buf) != slen || (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *dp = v;
    return 1;
}

int string2d(const char *s, size_t slen, double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    if (isspace((unsigned char)buf[0])) return 0;
    char *eptr;
    errno = 0;
    double v = strtod(buf, &eptr);
    if ((size_t)(eptr - buf) != slen || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *dp = v;
    return 1;
}

/* Redis 7.0's double format: integers in range print as integers, the rest
 * with %.17g. */
int d2string(char *buf, size_t len, double value) {
    if (isnan(value)) return snprintf(buf, len, "nan");
    if (isinf(value)) return snprintf(buf, len, value > 0 ? "inf" : "-inf");
    if (value == 0) return snprintf(buf, len, signbit(value) ? "-0" : "0");
    double min = -4503599627370495.0, max = 4503599627370496.0; /* 2^52 range */
    if (value > min && value < max && value == (double)(long long)value)
        return ll2string(buf, len, (long long)value);
    return snprintf(buf, len, "%.17g", value);
}

/* INCRBYFLOAT's format: %.17Lf with trailing zeros (and dot) removed. */
int ld2string(char *buf, size_t len, long double value, int humanfriendly) {
    if (isinf(value)) {
        if (len < 5) return 0;
        return snprintf(buf, len, value > 0 ? "inf" : "-inf");
    }
    int l;
    if (humanfriendly) {
        l = snprintf(buf, len, "%.17Lf", value);
        if (l < 0 || (size_t)l + 1 > len) return 0;
        if (strchr(buf, '.')) {
            char *p = buf + l - 1;
            while (*p == '0') {
                p--;
                l--;
            }
            if (*p == '.') l--;
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            l = 1;
        }
    } else {
        l = snprintf(buf, len, "%.17Lg", value);
        if (l < 0 || (size_t)l + 1 > len) return 0;
    }
    buf[l] = '\0';
    return l;
}

#define GLOB_MAX_NESTING 1000 /* Redis' stringmatchlen_impl limit */

static int lowerc(int c, int nocase) { return nocase ? tolower(c) : c; }

/* Redis compares range bounds as (signed) chars, swapped before lowering. */
static int lowerSigned(int c) { return c >= 0 ? tolower(c) : c; }
static int signedByte(unsigned char c) { return c < 128 ? (int)c : (int)c - 256; }

/* Matches one character class starting after '['; *pi is advanced past ']'.
 * As Redis' stringmatchlen: an escaped character is compared case-sensitively,
 * "x-y" is a range whatever y is (so "[a-]" is the range a..]), bounds are
 * signed chars swapped when reversed, then lowered when nocase. */
static int matchClass(const char *pat, size_t patlen, size_t *pi, unsigned char c, int nocase) {
    size_t i = *pi;
    int neg = 0, match = 0;
    if (i < patlen && pat[i] == '^') {
        neg = 1;
        i++;
    }
    for (;;) {
        if (i >= patlen) break; /* unterminated: treat end as ']' like Redis */
        if (pat[i] == '\\' && i + 1 < patlen) {
            i++;
            if ((unsigned char)pat[i] == c) match = 1;
            i++;
        } else if (pat[i] == ']') {
            i++;
            break;
        } else if (i + 2 < patlen && pat[i + 1] == '-') {
            int a = signedByte((unsigned char)pat[i]), b = signedByte((unsigned char)pat[i + 2]), x = signedByte(c);
            if (a > b) {
                int t = a;
                a = b;
                b = t;
            }
            if (nocase) {
                a = lowerSigned(a);
                b = lowerSigned(b);
                x = lowerSigned(x);
            }
            if (x >= a && x <= b) match = 1;
            i += 3;
        } else {
            if (lowerc((unsigned char)pat[i], nocase) == lowerc(c, nocase)) match = 1;
            i++;
        }
    }
    *pi = i;
    return neg ? !match : match;
}

/* Glob match with *, ?, [...] and \ escapes. Iterative, backtracking only to
 * the most recent '*', so time is O(len(pat) * len(s)) whatever the pattern:
 * crafted patterns cannot stall the server. */
int globMatch(const char *pat, size_t patlen, const char *s, size_t slen, int nocase) {
    size_t p = 0, i = 0;
    size_t starP = (size_t)-1, starI = 0;
    int stars = 0;
    while (i < slen) {
        if (p < patlen) {
            char pc = pat[p];
            if (pc == '*') {
                while (p < patlen && pat[p] == '*') p++;
                if (p == patlen) return 1;
                /* Redis 7.0 (since CVE-2022-36021) recurses once per '*' run
                 * and gives up, no match, past GLOB_MAX_NESTING of them;
                 * every match goes through every run, so counting the runs
                 * met (each is met once here) gives Redis' answer. */
                if (++stars > GLOB_MAX_NESTING) return 0;
                starP = p;
                starI = i;
                continue;
            }
            if (pc == '?') {
                p++;
                i++;
                continue;
            }
            if (pc == '[') {
                size_t q = p + 1;
                if (matchClass(pat, patlen, &q, (unsigned char)s[i], nocase)) {
                    p = q;
                    i++;
                    continue;
                }
            } else {
                size_t q = p;
                if (pc == '\\' && p + 1 < patlen) q = p + 1;
                if (lowerc((unsigned char)pat[q], nocase) == lowerc((unsigned char)s[i], nocase)) {
                    p = q + 1;
                    i++;
                    continue;
                }
            }
        }
        if (starP != (size_t)-1) {
            p = starP;
            i = ++starI;
            continue;
        }
        return 0;
    }
    while (p < patlen && pat[p] == '*') p++;
    return p == patlen;
}

int sliceEqNocase(slice s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* Redis' memtoull, quirks included, because CONFIG SET and config files
 * must accept and refuse what Redis does: digits then an optional unit
 * (b, k, kb, m, mb, g, gb; any case). No sign, no spaces, but leading zeros
 * are fine, "" and a bare unit are 0, and a number past 2^64-1 saturates
 * (Redis' strtoull call ignores ERANGE). Reads up to the first NUL. */
int memtoull(const char *p, size_t len, unsigned long long *out) {
    static const struct {
        const char *name;
        unsigned long long mul;
    } units[] = {{"", 1},          {"b", 1},           {"k", 1000},           {"kb", 1024},
                 {"m", 1000000ULL}, {"mb", 1ULL << 20}, {"g", 1000000000ULL}, {"gb", 1ULL << 30}};
    size_t n = 0;
    while (n < len && p[n] != '\0') n++;
    if (n >= 128 || (n && p[0] == '-')) return 0; /* Redis' buffer is 128 bytes */
    size_t digits = 0;
    unsigned long long v = 0;
    for (; digits < n && isdigit((unsigned char)p[digits]); digits++) {
        unsigned d = (unsigned)(p[digits] - '0');
        v = v > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : v * 10 + d; /* saturate, as strtoull */
    }
    const char *unit = p + digits;
    size_t ulen = n - digits;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) != ulen || strncasecmp(unit, units[i].name, ulen)) continue;
        if (v > ULLONG_MAX / units[i].mul) return 0;
        *out = v * units[i].mul;
        return 1;
    }
    return 0;
}

void bytesToHuman(char *s, size_t size, unsigned long long n) {
    double d;
    if (n < 1024) {
        snprintf(s, size, "%lluB", n);
    } else if (n < (1024ULL * 1024)) {
        d = (double)n / 1024;
        snprintf(s, size, "%.2fK", d);
    } else if (n < (1024ULL * 1024 * 1024)) {
        d = (double)n / (1024 * 1024);
        snprintf(s, size, "%.2fM", d);
    } else if (n < (1024ULL * 1024 * 1024 * 1024)) {
        d = (double)n / (1024ULL * 1024 * 1024);
        snprintf(s, size, "%.2fG", d);
    } else {
        d = (double)n / (1024ULL * 1024 * 1024 * 1024);
        snprintf(s, size, "%.2fT", d);
    }
}

int randomBytes(unsigned char *p, size_t len) {
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR) continue; /* a signal, not a failure */
        if (n <= 0) {
            /* No getrandom (kernel < 3.17, a seccomp filter): OpenSSL's
             * CSPRNG. Nothing weaker: ACL GENPASS passwords and the hash
             * seed that keeps crafted keys from colliding come from here,
             * so without good randomness the caller fails instead. */
            return len <= INT_MAX && RAND_bytes(p, (int)len) == 1 ? 0 : -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int randomHex(char *p, size_t len) {
    static const char *hex = "0123456789abcdef";
    unsigned char r[256];
    while (len) {
        size_t n = len < sizeof(r) ? len : sizeof(r);
        if (randomBytes(r, n) == -1) return -1;
        for (size_t i = 0; i < n; i++) p[i] = hex[r[i] & 15];
        p += n;
        len -= n;
    }
    return 0;
}

/* For files and pipes only (snapshots, CONFIG REWRITE, the snapshot tool):
 * on a blocking fd a short write means "go on", EINTR means "again". Never
 * call it on a client socket, which is non-blocking and owned by conn*. */
int fdWriteAll(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO; /* write() made no progress: don't spin */
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

long long ustime(void) { return elNowUs(); }
long long mstime(void) { return elNowMs(); }

/* ---- growable text ----------------------------------------------------------- */

void textAppendBytes(textBuf *b, const char *s, size_t n) {
    if (!b->p || b->len + n >= b->cap) {
        b->cap = (b->len + n + 1) * 2;
        if (b->cap < 1024) b->cap = 1024;
        b->p = memRealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void textAppend(textBuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->len + (size_t)n + 1) * 2;
        if (b->cap < 1024) b->cap = 1024;
        b->p = memRealloc(b->p, b->cap);
    }
}
