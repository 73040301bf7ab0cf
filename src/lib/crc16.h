/* crc16.h - CRC-16/XMODEM (polynomial 0x1021, init 0, no reflection, no
 * final xor), the checksum Redis Cluster maps keys to hash slots with:
 * crc16("123456789", 9) == 0x31c3.
 *
 * Owns: nothing (constant tables built at compile time). Never allocates. */
#ifndef CACHET_CRC16_H
#define CACHET_CRC16_H
#include <stddef.h>
#include <stdint.h>

uint16_t crc16(const char *p, size_t n);

#endif
