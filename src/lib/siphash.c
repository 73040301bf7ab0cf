/* siphash.c - SipHash-1-3 (one compression round, three finalisation rounds).
 * Written from the SipHash paper (Aumasson & Bernstein). 1-3 is the variant
 * hash tables commonly use: still keyed against flooding, about twice as fast
 * as 2-4. Must never read past data+len. */
#include "siphash.h"
#include <string.h>
#include <ctype.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define ROUND                                                   \
    do {                                                        \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                  \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                  \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

static uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only (x86_64, aarch64) */
    return v;
}

static uint64_t sip(const uint8_t *in, size_t len, const uint8_t k[16], int nocase) {
    uint64_t k0 = load64(k), k1 = load64(k + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = ((uint64_t)len) << 56;
    size_t whole = len & ~(size_t)7;
    uint8_t tmp[8];
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m;
        if (nocase) {
            for (int j = 0; j < 8; j++) tmp[j] = (uint8_t)tolower(in[i + j]);
            m = load64(tmp);
        } else {
            m = load64(in + i);
        }
        v3 ^= m;
        ROUND;
        v0 ^= m;
    }
    size_t left = len & 7;
    uint64_t t = 0;
    for (size_t j = 0; j < left; j++) {
        uint8_t c = in[whole + j];
        if (nocase) c = (uint8_t)tolower(c);
        t |= ((uint64_t)c) << (8 * j);
    }
    b |= t;
    v3 ^= b;
    ROUND;
    v0 ^= b;
    v2 ^= 0xff;
    ROUND; ROUND; ROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash13(const void *data, size_t len, const uint8_t key[16]) {
    return sip(data, len, key, 0);
}

uint64_t siphash13Nocase(const void *data, size_t len, const uint8_t key[16]) {
    return sip(data, len, key, 1);
}
