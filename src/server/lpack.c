/* lpack.c - the packed array declared in lpack.h.
 *
 * Owns: the byte layout of a packed array and every edit of it.
 * Must never: read past the 0xFF end byte, or let the header's size or count
 * disagree with the elements (every edit updates both before returning).
 *
 * Element header byte (the first byte of an element):
 *   0xxxxxxx            integer 0..127, no payload
 *   10xxxxxx            string of 0..63 bytes follows
 *   110xxxxx +1 byte    integer -4096..4095 (13 bits, two's complement)
 *   1110xxxx +1 byte    string of up to 4095 bytes follows (12-bit length)
 *   0xF0 +4 bytes       string, 32-bit length
 *   0xF1 / F2 / F3 / F4 integer in 2 / 3 / 4 / 8 bytes (little endian)
 *   0xFF                end of the array (not an element)
 * After the payload comes the element's size (header + payload) in 1..5
 * bytes of 7 bits, written so that it can be read from its last byte
 * backwards: the last byte holds the low 7 bits, and a set high bit means
 * one more byte lies before it. */
#include "lpack.h"
#include "db.h"
#include "mem.h"
#include "util.h"
#include <string.h>

#define LP_HDR 6 /* uint32 total bytes, uint16 count */
#define LP_COUNT_UNKNOWN 65535 /* count too big for the header: walk to count */
#define LP_END 0xFF

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void setBytes(unsigned char *lp, size_t n) { wr32(lp, (uint32_t)n); }

/* The count takes two bytes, not four: with the 4-byte size that makes a
 * 6-byte header, which keeps a typical 5-field hash in jemalloc's 112-byte
 * class rather than 128. Past 65534 elements the header says "unknown" and
 * lpLength walks (such arrays are far over every conversion threshold). */
static void setCount(unsigned char *lp, unsigned long n) {
    if (n >= LP_COUNT_UNKNOWN) n = LP_COUNT_UNKNOWN;
    lp[4] = (unsigned char)n;
    lp[5] = (unsigned char)(n >> 8);
}

size_t lpBytes(const unsigned char *lp) { return rd32(lp); }

static size_t elementSize(const unsigned char *p);

unsigned long lpLength(const unsigned char *lp) {
    unsigned long n = (unsigned long)lp[4] | (unsigned long)lp[5] << 8;
    if (n < LP_COUNT_UNKNOWN) return n;
    n = 0;
    for (const unsigned char *p = lp + LP_HDR; *p != 0xFF; p += elementSize(p)) n++;
    return n;
}

unsigned char *lpNew(size_t capacity) {
    if (capacity < LP_HDR + 1) capacity = LP_HDR + 1;
    unsigned char *lp = memAlloc(capacity);
    setBytes(lp, LP_HDR + 1);
    setCount(lp, 0);
    lp[LP_HDR] = LP_END;
    return lp;
}

void lpFree(unsigned char *lp) { memFree(lp); }

/* ---- encoding one element ------------------------------------------------ */

static unsigned backlenBytes(size_t v) {
    if (v < 128) return 1;
    if (v < 16384) return 2;
    if (v < 2097152) return 3;
    if (v < 268435456) return 4;
    return 5;
}

/* Writes v so that it ends right before `end`. */
static void writeBacklen(unsigned char *end, size_t v) {
    unsigned n = backlenBytes(v);
    for (unsigned i = 0; i < n; i++) end[-1 - (long)i] = (unsigned char)(((v >> (7 * i)) & 127) | (i + 1 < n ? 128 : 0));
}

/* Reads the size that ends right before `end`; *nbytes gets its length. */
static size_t readBacklen(const unsigned char *end, unsigned *nbytes) {
    size_t v = 0;
    unsigned i = 0;
    unsigned char b;
    do {
        b = end[-1 - (long)i];
        v |= (size_t)(b & 127) << (7 * i);
        i++;
    } while ((b & 128) && i < 5);
    *nbytes = i;
    return v;
}

/* Header + payload size of the element at p (not counting the backlen). */
static size_t encodedSize(const unsigned char *p) {
    unsigned char h = p[0];
    if (h < 0x80) return 1;
    if ((h & 0xC0) == 0x80) return 1 + (h & 0x3F);
    if ((h & 0xE0) == 0xC0) return 2;
    if ((h & 0xF0) == 0xE0) return 2 + (((size_t)(h & 0x0F) << 8) | p[1]);
    switch (h) {
    case 0xF0: return 5 + rd32(p + 1);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    case 0xF4: return 9;
    }
    return 1; /* not reached for a well-formed array */
}

static size_t elementSize(const unsigned char *p) {
    size_t enc = encodedSize(p);
    return enc + backlenBytes(enc);
}

/* A to-be-written element: an integer or string bytes. */
typedef struct lpVal {
    int isint;
    long long v;
    const char *s;
    size_t len;
    size_t enc; /* header + payload bytes */
} lpVal;

static void classify(lpVal *x, const char *s, size_t len) {
    x->s = s;
    x->len = len;
    x->isint = len <= 20 && string2ll(s, len, &x->v);
    if (x->isint) {
        long long v = x->v;
        if (v >= 0 && v <= 127) x->enc = 1;
        else if (v >= -4096 && v <= 4095) x->enc = 2;
        else if (v >= -32768 && v <= 32767) x->enc = 3;
        else if (v >= -8388608 && v <= 8388607) x->enc = 4;
        else if (v >= INT32_MIN && v <= INT32_MAX) x->enc = 5;
        else x->enc = 9;
    } else if (len < 64) {
        x->enc = 1 + len;
    } else if (len < 4096) {
        x->enc = 2 + len;
    } else {
        x->enc = 5 + len;
    }
}

static void classifyInt(lpVal *x, long long v) {
    char buf[LP_INTBUF_SIZE];
    int n = ll2string(buf, sizeof(buf), v);
    classify(x, buf, (size_t)n);
    x->s = NULL; /* buf dies here; an integer needs only v */
}

/* Writes header, payload and backlen at p; returns the bytes written. */
static size_t writeElement(unsigned char *p, const lpVal *x) {
    unsigned char *q = p;
    if (x->isint) {
        uint64_t u = (uint64_t)x->v;
        switch (x->enc) {
        case 1: *q++ = (unsigned char)x->v; break;
        case 2:
            *q++ = (unsigned char)(0xC0 | ((u >> 8) & 0x1F));
            *q++ = (unsigned char)u;
            break;
        default: {
            int nb = (int)x->enc - 1;
            *q++ = nb == 2 ? 0xF1 : nb == 3 ? 0xF2 : nb == 4 ? 0xF3 : 0xF4;
            for (int i = 0; i < nb; i++) *q++ = (unsigned char)(u >> (8 * i));
        }
        }
    } else {
        if (x->len < 64) {
            *q++ = (unsigned char)(0x80 | x->len);
        } else if (x->len < 4096) {
            *q++ = (unsigned char)(0xE0 | (x->len >> 8));
            *q++ = (unsigned char)x->len;
        } else {
            *q++ = 0xF0;
            wr32(q, (uint32_t)x->len);
            q += 4;
        }
        memcpy(q, x->s, x->len);
        q += x->len;
    }
    unsigned bl = backlenBytes(x->enc);
    writeBacklen(q + bl, x->enc);
    return (size_t)(q - p) + bl;
}

static size_t valSize(const lpVal *x) { return x->enc + backlenBytes(x->enc); }

/* ---- reading ----------------------------------------------------------------- */

static long long signExtend(uint64_t u, int bits) {
    uint64_t m = 1ULL << (bits - 1);
    u &= (bits == 64) ? ~0ULL : ((1ULL << bits) - 1);
    return (long long)((u ^ m) - m);
}

/* 1 and *v when the element at p is an integer. */
static int getInt(const unsigned char *p, long long *v) {
    unsigned char h = p[0];
    if (h < 0x80) {
        *v = h;
        return 1;
    }
    if ((h & 0xE0) == 0xC0) {
        *v = signExtend(((uint64_t)(h & 0x1F) << 8) | p[1], 13);
        return 1;
    }
    int nb = h == 0xF1 ? 2 : h == 0xF2 ? 3 : h == 0xF3 ? 4 : h == 0xF4 ? 8 : 0;
    if (!nb) return 0;
    uint64_t u = 0;
    for (int i = 0; i < nb; i++) u |= (uint64_t)p[1 + i] << (8 * i);
    *v = signExtend(u, nb * 8);
    return 1;
}

/* String bytes of a non-integer element. */
static const char *getStr(const unsigned char *p, size_t *len) {
    unsigned char h = p[0];
    if ((h & 0xC0) == 0x80) {
        *len = h & 0x3F;
        return (const char *)p + 1;
    }
    if ((h & 0xF0) == 0xE0) {
        *len = ((size_t)(h & 0x0F) << 8) | p[1];
        return (const char *)p + 2;
    }
    *len = rd32(p + 1);
    return (const char *)p + 5;
}

const char *lpGet(const unsigned char *p, char *buf, size_t *len, long long *ival, int *isint) {
    long long v;
    if (getInt(p, &v)) {
        if (ival) *ival = v;
        if (isint) *isint = 1;
        *len = (size_t)ll2string(buf, LP_INTBUF_SIZE, v);
        return buf;
    }
    if (isint) *isint = 0;
    return getStr(p, len);
}

int lpEq(const unsigned char *p, const char *s, size_t len) {
    long long v;
    if (getInt(p, &v)) {
        long long sv;
        return len <= 20 && string2ll(s, len, &sv) && sv == v;
    }
    size_t l;
    const char *q = getStr(p, &l);
    return l == len && memcmp(q, s, len) == 0;
}

/* ---- walking ----------------------------------------------------------------- */

unsigned char *lpFirst(unsigned char *lp) { return lp[LP_HDR] == LP_END ? NULL : lp + LP_HDR; }

unsigned char *lpNext(unsigned char *lp, unsigned char *p) {
    (void)lp;
    p += elementSize(p);
    return *p == LP_END ? NULL : p; // NOLINT(clang-analyzer-core.NullDereference): callers pass an element, never NULL (lpSeek stays below the count)
}

/* The element that ends right before `end` (NULL when end is the first). */
static unsigned char *before(unsigned char *lp, unsigned char *end) {
    if (end <= lp + LP_HDR) return NULL;
    unsigned nb;
    size_t enc = readBacklen(end, &nb);
    return end - nb - enc;
}

unsigned char *lpPrev(unsigned char *lp, unsigned char *p) { return before(lp, p); }
unsigned char *lpLast(unsigned char *lp) { return before(lp, lp + lpBytes(lp) - 1); }

unsigned char *lpSeek(unsigned char *lp, long index) {
    long n = (long)lpLength(lp);
    if (index < 0) index += n;
    if (index < 0 || index >= n) return NULL;
    unsigned char *p;
    if (index <= n / 2) {
        p = lpFirst(lp);
        while (index--) p = lpNext(lp, p);
    } else {
        p = lpLast(lp);
        for (long i = n - 1; i > index; i--) p = lpPrev(lp, p);
    }
    return p;
}

/* ---- editing -------------------------------------------------------------------- */

/* Opens `add` bytes at offset off and writes x there. */
static unsigned char *insertAt(unsigned char *lp, size_t off, const lpVal *x, unsigned char **newp) {
    size_t total = lpBytes(lp), add = valSize(x);
    unsigned long count = lpLength(lp);
    lp = memRealloc(lp, total + add);
    memmove(lp + off + add, lp + off, total - off);
    writeElement(lp + off, x);
    setBytes(lp, total + add);
    setCount(lp, count + 1);
    if (newp) *newp = lp + off;
    return lp;
}

unsigned char *lpInsert(unsigned char *lp, unsigned char *p, int where, const char *s, size_t len,
                        unsigned char **newp) {
    lpVal x;
    classify(&x, s, len);
    size_t off = (size_t)(p - lp);
    if (where == LP_AFTER) off += elementSize(p);
    return insertAt(lp, off, &x, newp);
}

unsigned char *lpAppend(unsigned char *lp, const char *s, size_t len) {
    lpVal x;
    classify(&x, s, len);
    return insertAt(lp, lpBytes(lp) - 1, &x, NULL);
}

unsigned char *lpPrepend(unsigned char *lp, const char *s, size_t len) {
    lpVal x;
    classify(&x, s, len);
    return insertAt(lp, LP_HDR, &x, NULL);
}

unsigned char *lpAppendInteger(unsigned char *lp, long long v) {
    lpVal x;
    classifyInt(&x, v);
    return insertAt(lp, lpBytes(lp) - 1, &x, NULL);
}

unsigned char *lpReplace(unsigned char *lp, unsigned char **p, const char *s, size_t len) {
    lpVal x;
    classify(&x, s, len);
    size_t off = (size_t)(*p - lp), old = elementSize(*p), add = valSize(&x), total = lpBytes(lp);
    if (add > old) lp = memRealloc(lp, total + add - old);
    memmove(lp + off + add, lp + off + old, total - off - old);
    writeElement(lp + off, &x);
    setBytes(lp, total + add - old);
    if (add < old) lp = memRealloc(lp, total + add - old);
    *p = lp + off;
    return lp;
}

/* Removes the bytes [off, off+cut) holding n elements. */
static unsigned char *cutBytes(unsigned char *lp, size_t off, size_t cut, unsigned long n) {
    size_t total = lpBytes(lp);
    unsigned long count = lpLength(lp);
    memmove(lp + off, lp + off + cut, total - off - cut);
    setBytes(lp, total - cut);
    setCount(lp, count - n);
    return memRealloc(lp, total - cut);
}

unsigned char *lpDelete(unsigned char *lp, unsigned char *p, unsigned char **next) {
    size_t off = (size_t)(p - lp);
    lp = cutBytes(lp, off, elementSize(p), 1);
    if (next) *next = lp[off] == LP_END ? NULL : lp + off;
    return lp;
}

unsigned char *lpDeleteRange(unsigned char *lp, long index, unsigned long num) {
    unsigned char *p = lpSeek(lp, index);
    if (!p || num == 0) return lp;
    unsigned char *q = p;
    unsigned long n = 0;
    while (n < num && *q != LP_END) {
        q += elementSize(q);
        n++;
    }
    return cutBytes(lp, (size_t)(p - lp), (size_t)(q - p), n);
}

unsigned char *lpFind(unsigned char *lp, unsigned char *p, const char *s, size_t len, unsigned int skip) {
    (void)lp;
    long long sv;
    int sIsInt = len <= 20 && string2ll(s, len, &sv);
    while (p && *p != LP_END) {
        long long v;
        if (getInt(p, &v)) {
            if (sIsInt && v == sv) return p;
        } else if (!sIsInt) {
            size_t l;
            const char *q = getStr(p, &l);
            if (l == len && memcmp(q, s, len) == 0) return p;
        }
        p += elementSize(p);
        for (unsigned int i = 0; i < skip && *p != LP_END; i++) p += elementSize(p);
    }
    return NULL;
}

int lpSafeToAdd(const unsigned char *lp, size_t add) { return lpBytes(lp) + add < (1UL << 30); }
