/* siphash.h - keyed hash for hash tables (SipHash-1-3).
 * Owns nothing; pure function. The key is random per process so that a client
 * cannot precompute keys that collide in our tables. */
#ifndef CACHET_SIPHASH_H
#define CACHET_SIPHASH_H
#include <stdint.h>
#include <stddef.h>
uint64_t siphash13(const void *data, size_t len, const uint8_t key[16]);
/* Case-insensitive variant (ASCII), for command names and config names. */
uint64_t siphash13Nocase(const void *data, size_t len, const uint8_t key[16]);
#endif
