/* lzf.c - LZF compress/decompress (format in lzf.h), written from the format
 * description; any stream Redis' liblzf writes decompresses here and vice
 * versa (the format does not depend on the compressor's choices).
 *
 * Owns: nothing beyond the call. Must never touch a byte outside in/out:
 * the decompressor runs on untrusted RDB and RESTORE input. */
#include "lzf.h"
#include <stdint.h>
#include <string.h>

#define LZF_HLOG 14
#define LZF_HSIZE (1u << LZF_HLOG)
#define LZF_MAX_LIT 32                     /* literal run per control byte */
#define LZF_MAX_OFF (1u << 13)             /* back reference distance */
#define LZF_MAX_REF ((1u << 8) + (1u << 3)) /* 264: longest back reference */

static inline uint32_t lzfHash(const unsigned char *p, int hlog) {
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - hlog);
}

size_t lzfCompress(const void *inv, size_t inLen, void *outv, size_t outLen) {
    const unsigned char *in = inv;
    unsigned char *out = outv;
    if (inLen == 0 || outLen == 0) return 0;
    /* position + 1 of the last sequence with this hash; 0 = none. Sized to
     * the input: clearing 64 KiB for every 30-byte value would cost more
     * than compressing it (the RDB writer tries every string > 20 bytes). */
    uint32_t htab[LZF_HSIZE];
    int hlog = 8;
    while (hlog < LZF_HLOG && ((size_t)1 << hlog) < inLen) hlog++;
    memset(htab, 0, sizeof(uint32_t) << hlog);
    size_t ip = 0, op = 1, lit = 0; /* out[op - lit - 1] is the open literal run's control byte */
    while (ip + 2 < inLen) {
        uint32_t h = lzfHash(in + ip, hlog);
        size_t ref = htab[h];
        htab[h] = (uint32_t)(ip + 1);
        if (ref && ip - (ref - 1) - 1 < LZF_MAX_OFF && ip < UINT32_MAX) {
            size_t r = ref - 1, off = ip - r - 1;
            if (in[r] == in[ip] && in[r + 1] == in[ip + 1] && in[r + 2] == in[ip + 2]) {
                size_t maxlen = inLen - ip;
                if (maxlen > LZF_MAX_REF) maxlen = LZF_MAX_REF;
                size_t len = 3;
                while (len < maxlen && in[r + len] == in[ip + len]) len++;
                /* Close the literal run (or drop its unused control byte). */
                if (lit) out[op - lit - 1] = (unsigned char)(lit - 1);
                else op--;
                if (op + 3 + 1 > outLen) return 0;
                size_t l = len - 2;
                if (l < 7) {
                    out[op++] = (unsigned char)((l << 5) | (off >> 8));
                } else {
                    out[op++] = (unsigned char)((7 << 5) | (off >> 8));
                    out[op++] = (unsigned char)(l - 7);
                }
                out[op++] = (unsigned char)(off & 0xff);
                /* Remember the sequences the match skipped over (a cheap
                 * improvement: the next repeat is found sooner). */
                size_t end = ip + len;
                for (ip++; ip < end && ip + 2 < inLen; ip++) htab[lzfHash(in + ip, hlog)] = (uint32_t)(ip + 1);
                ip = end;
                lit = 0;
                op++; /* control byte of the next literal run */
                continue;
            }
        }
        if (op >= outLen) return 0;
        out[op++] = in[ip++];
        if (++lit == LZF_MAX_LIT) {
            out[op - lit - 1] = LZF_MAX_LIT - 1;
            lit = 0;
            op++;
        }
    }
    while (ip < inLen) {
        if (op >= outLen) return 0;
        out[op++] = in[ip++];
        if (++lit == LZF_MAX_LIT) {
            out[op - lit - 1] = LZF_MAX_LIT - 1;
            lit = 0;
            op++;
        }
    }
    if (lit) out[op - lit - 1] = (unsigned char)(lit - 1);
    else op--;
    if (op > outLen) return 0;
    return op;
}

size_t lzfDecompress(const void *inv, size_t inLen, void *outv, size_t outLen) {
    const unsigned char *in = inv, *ip = in, *iend = in + inLen;
    unsigned char *out = outv, *op = out, *oend = out + outLen;
    while (ip < iend) {
        unsigned int c = *ip++;
        if (c < 32) {
            size_t n = (size_t)c + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n) return 0;
            memcpy(op, ip, n);
            op += n;
            ip += n;
        } else {
            size_t len = c >> 5;
            if (len == 7) {
                if (ip >= iend) return 0;
                len += *ip++;
            }
            len += 2;
            if (ip >= iend) return 0;
            size_t off = ((size_t)(c & 0x1f) << 8 | *ip++) + 1;
            if (off > (size_t)(op - out) || (size_t)(oend - op) < len) return 0;
            const unsigned char *ref = op - off;
            /* Byte by byte: the source may overlap what we write (runs). */
            if (off >= len) {
                memcpy(op, ref, len);
                op += len;
            } else {
                while (len--) *op++ = *ref++;
            }
        }
    }
    return (size_t)(op - out);
}
