/* crc64.c - CRC-64/Jones (reflected), as Redis' crc64.c: the RDB file
 * trailer and DUMP payload footer must match Redis' byte for byte.
 *
 * Owns: eight 256-entry tables for slice-by-8 (8 bytes per step: the RDB
 * writer and loader checksum every byte of a snapshot, so speed matters).
 * Built lazily on first call; a forked child inherits them. Must never
 * depend on anything but its input (no allocation, no global state besides
 * the tables). */
#include "crc64.h"
#include <string.h>

#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL /* 0xad93d23594c935a9 bit-reversed */

static uint64_t crcTab[8][256];
static int crcReady;

static void crc64Init(void) {
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crcTab[0][i] = c;
    }
    /* crcTab[k][i]: the CRC of byte i followed by k zero bytes. */
    for (int i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) crcTab[k][i] = (crcTab[k - 1][i] >> 8) ^ crcTab[0][crcTab[k - 1][i] & 0xff];
    crcReady = 1;
}

uint64_t crc64(uint64_t crc, const void *data, size_t n) {
    if (!crcReady) crc64Init();
    const unsigned char *p = data;
    while (n >= 8) {
        /* Little-endian load, independent of the host's byte order. */
        uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                     (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        crc ^= w;
        crc = crcTab[7][crc & 0xff] ^ crcTab[6][(crc >> 8) & 0xff] ^ crcTab[5][(crc >> 16) & 0xff] ^
              crcTab[4][(crc >> 24) & 0xff] ^ crcTab[3][(crc >> 32) & 0xff] ^ crcTab[2][(crc >> 40) & 0xff] ^
              crcTab[1][(crc >> 48) & 0xff] ^ crcTab[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crcTab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
