/* seal.h - sealed (encrypted, authenticated) snapshot streams.
 *
 * Owns: the sealed stream format below, wrapped around an rdbSink/rdbSource
 * (rdb.h). Must never: hand out a plaintext byte before the chunk holding it
 * is authenticated, reuse a (key, nonce) pair, or put key bytes in an error.
 *
 * Format, version 1 (integers big-endian):
 *
 *   header
 *     magic      10  "CACHETSEAL"
 *     version     1  1
 *     algorithm   1  1 = AES-256-GCM, per-file key by HKDF-SHA256
 *     chunk size  4  plaintext bytes per chunk, 1 KiB .. 16 MiB (64 KiB written)
 *     id length   1  1..255
 *     key id      n  the keyring id of the master key
 *     salt       32  random per file
 *     key check  16  HKDF(master, salt, "cachet-seal v1 key-check")
 *     header mac 32  HMAC-SHA256(HKDF(master, salt, "cachet-seal v1 header"),
 *                    every header byte before it)
 *   chunks, one or more
 *     length      4  top bit = final chunk; low 31 bits = plaintext length
 *                    (== chunk size for every non-final chunk, <= for the final)
 *     nonce      12  random, fresh per chunk (RAND_bytes)
 *     ciphertext  length
 *     tag        16  GCM tag; AAD = SHA-256(header) || chunk index (8) ||
 *                    final flag (1) || length (4)
 *   nothing after the final chunk.
 *
 * The data key is HKDF-SHA256(ikm = master key, salt, info = "cachet-seal v1
 * data"): every file has its own key, so random nonces only need to be unique
 * within one file (2^-64-ish collision odds for 2^32 chunks), and a chunk
 * from one file is never valid in another. The chunk index and the header
 * hash in the AAD catch reordering, duplication and splicing; the final flag
 * catches truncation at a chunk boundary; the key check tells "wrong key"
 * apart from a damaged chunk; the header MAC authenticates the version, key
 * id and chunk size before any data is read. A stream always ends with a
 * final chunk, empty only for an empty stream (the writer holds a full chunk
 * back until it knows more data follows). */
#ifndef CACHET_SEAL_H
#define CACHET_SEAL_H
#include "keyring.h"
#include "rdb.h"
#include <stddef.h>
#include <stdint.h>

#define SEAL_MAGIC "CACHETSEAL"
#define SEAL_MAGIC_LEN 10
#define SEAL_VERSION 1
#define SEAL_ALG_AES256GCM_HKDF 1
#define SEAL_CHUNK_DEFAULT (64 * 1024)
#define SEAL_CHUNK_MIN 1024
#define SEAL_CHUNK_MAX (16 * 1024 * 1024)
#define SEAL_SALT_LEN 32
#define SEAL_KCV_LEN 16
#define SEAL_MAC_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_CHUNK_HDR_LEN 4
#define SEAL_CHUNK_OVERHEAD (SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)

/* A parsed (not yet authenticated) header. */
typedef struct sealHeader {
    int version, algorithm;
    uint32_t chunkSize;
    char keyId[KEYRING_ID_MAX + 1];
    unsigned char salt[SEAL_SALT_LEN];
    unsigned char kcv[SEAL_KCV_LEN];
    unsigned char mac[SEAL_MAC_LEN];
    unsigned char raw[SEAL_MAGIC_LEN + 7 + KEYRING_ID_MAX + SEAL_SALT_LEN + SEAL_KCV_LEN + SEAL_MAC_LEN];
    size_t rawLen; /* header bytes on disk */
} sealHeader;

/* 1 when p (n bytes, the start of a file) is a sealed stream. */
int sealIsSealed(const void *p, size_t n);

/* Writer: out becomes a sink that seals into under. chunkSize 0 = default.
 * Close writes the final chunk (the stream is invalid without it) and frees
 * the state; Abort only frees. Neither flushes nor closes under. */
int sealSinkOpen(rdbSink *out, rdbSink *under, const keyringKey *k, size_t chunkSize, char *err, size_t errlen);
int sealSinkClose(rdbSink *out, char *err, size_t errlen);
void sealSinkAbort(rdbSink *out);

/* Reader: reads the header from under (sealHeaderRead), finds its key id in
 * kr, checks key and header MAC; out then yields verified plaintext. A
 * failed chunk makes out->read fail; sealSourceError says why. */
int sealHeaderRead(rdbSource *under, sealHeader *h, char *err, size_t errlen);
int sealSourceStart(rdbSource *out, rdbSource *under, const sealHeader *h, const keyring *kr, char *err,
                    size_t errlen);
int sealSourceOpen(rdbSource *out, rdbSource *under, const keyring *kr, char *err, size_t errlen);
/* The next verified chunk's plaintext (what out->read has not consumed of
 * the current one first): 1 = *p,*n set, 0 = end (final chunk consumed),
 * -1 = error (sealSourceError). */
int sealSourceNext(rdbSource *out, const unsigned char **p, size_t *n);
/* After the consumer stopped reading: verifies the remaining chunks up to
 * the final one and that no byte follows it. -1 + err if anything is wrong
 * or plaintext was left unread (the stream held more than the consumer
 * expected). */
int sealSourceFinish(rdbSource *out, char *err, size_t errlen);
const char *sealSourceError(const rdbSource *out); /* "" when none */
unsigned long long sealSourceChunks(const rdbSource *out); /* chunks verified so far */
void sealSourceClose(rdbSource *out);

#endif
