/* crc64.h - CRC-64/Jones as Redis computes it (reflected, polynomial
 * 0xad93d23594c935a9, init 0, no final xor): the RDB trailer and the DUMP
 * payload checksum. crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
 *
 * Owns: its lookup tables (built once, on first use). Never allocates. */
#ifndef CACHET_CRC64_H
#define CACHET_CRC64_H
#include <stddef.h>
#include <stdint.h>

/* Continues crc over p[0..n): crc64(crc64(0, a), b) == crc64(0, a || b). */
uint64_t crc64(uint64_t crc, const void *p, size_t n);

#endif
