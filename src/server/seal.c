/* seal.c - sealed snapshot streams: AES-256-GCM chunks with an authenticated
 * header, wrapped around rdb.c's sinks and sources (format in seal.h).
 *
 * Owns: the writer and reader state of sealed streams and their OpenSSL
 * contexts. Must never: return a plaintext byte whose chunk failed or has not
 * yet passed authentication, accept a stream without its final chunk or with
 * bytes after it, reuse a nonce deliberately (fresh RAND_bytes per chunk,
 * per-file HKDF key), or copy key material into errors or logs. Buffers that
 * held keys or plaintext are wiped before they are freed. */
#include "seal.h"
#include "server.h"
#include "db.h"
#include "keyring.h"
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define SEAL_FINAL_BIT 0x80000000u
#define SEAL_AAD_LEN (32 + 8 + 1 + 4)

/* The underlying sink/source contract (rdb.h): 0 = every byte moved. */
static int sealUnderWrite(rdbSink *s, const void *p, size_t n) {
    if (s->write(s->ctx, p, n) != 0) return -1;
    s->bytes += n;
    return 0;
}

static int sealUnderRead(rdbSource *s, void *p, size_t n) {
    if (s->read(s->ctx, p, n) != 0) return -1;
    s->offset += n;
    return 0;
}

static void sealPut32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t sealGet32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int sealIsSealed(const void *p, size_t n) {
    return n >= SEAL_MAGIC_LEN && memcmp(p, SEAL_MAGIC, SEAL_MAGIC_LEN) == 0;
}

/* HKDF-SHA256(master, salt, info) -> out. */
static int sealHkdf(const unsigned char *master, const unsigned char *salt, const char *info, unsigned char *out,
                    size_t outlen) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf) return -1;
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kctx) return -1;
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, KEYRING_KEY_LEN);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SEAL_SALT_LEN);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok ? 0 : -1;
}

/* The three per-file secrets and the header's MAC over raw[0..len). */
typedef struct sealKeys {
    unsigned char data[32], mac[32], kcv[SEAL_KCV_LEN];
} sealKeys;

static int sealDerive(const keyringKey *k, const unsigned char *salt, sealKeys *ks) {
    if (sealHkdf(k->key, salt, "cachet-seal v1 data", ks->data, sizeof(ks->data)) == -1 ||
        sealHkdf(k->key, salt, "cachet-seal v1 header", ks->mac, sizeof(ks->mac)) == -1 ||
        sealHkdf(k->key, salt, "cachet-seal v1 key-check", ks->kcv, sizeof(ks->kcv)) == -1) {
        OPENSSL_cleanse(ks, sizeof(*ks));
        return -1;
    }
    return 0;
}

static int sealHeaderMac(const sealKeys *ks, const unsigned char *p, size_t n, unsigned char *out) {
    unsigned int len = 0;
    return HMAC(EVP_sha256(), ks->mac, (int)sizeof(ks->mac), p, n, out, &len) && len == SEAL_MAC_LEN ? 0 : -1;
}

static void sealAad(unsigned char *aad, const unsigned char *hh, uint64_t index, int final, uint32_t len) {
    memcpy(aad, hh, 32);
    for (int i = 0; i < 8; i++) aad[32 + i] = (unsigned char)(index >> (56 - 8 * i));
    aad[40] = (unsigned char)(final ? 1 : 0);
    sealPut32(aad + 41, len);
}

/* ---- writer ----------------------------------------------------------------- */

typedef struct sealWriter {
    rdbSink *under;
    EVP_CIPHER_CTX *ctx;
    unsigned char hh[32]; /* SHA-256 of the header */
    uint64_t index;
    size_t chunk, used;
    unsigned char *plain; /* chunk bytes waiting */
    unsigned char *rec;   /* one record: length, nonce, ciphertext, tag */
    int failed;
} sealWriter;

static void sealWriterFree(sealWriter *w) {
    if (!w) return;
    EVP_CIPHER_CTX_free(w->ctx);
    if (w->plain) OPENSSL_cleanse(w->plain, w->chunk);
    memFree(w->plain);
    memFree(w->rec);
    memFree(w);
}

/* Seals plain[0..len) as chunk w->index and writes the record. */
static int sealEmit(sealWriter *w, const unsigned char *plain, size_t len, int final) {
    unsigned char *r = w->rec, aad[SEAL_AAD_LEN];
    uint32_t l32 = (uint32_t)len;
    sealPut32(r, l32 | (final ? SEAL_FINAL_BIT : 0));
    if (RAND_bytes(r + SEAL_CHUNK_HDR_LEN, SEAL_NONCE_LEN) != 1) return -1;
    sealAad(aad, w->hh, w->index, final, l32);
    int outl = 0, finl = 0;
    unsigned char *ct = r + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN;
    if (EVP_EncryptInit_ex(w->ctx, NULL, NULL, NULL, r + SEAL_CHUNK_HDR_LEN) != 1 ||
        EVP_EncryptUpdate(w->ctx, NULL, &outl, aad, (int)sizeof(aad)) != 1)
        return -1;
    if (len && EVP_EncryptUpdate(w->ctx, ct, &outl, plain, (int)len) != 1) return -1;
    if (EVP_EncryptFinal_ex(w->ctx, ct + len, &finl) != 1 ||
        EVP_CIPHER_CTX_ctrl(w->ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1)
        return -1;
    if (sealUnderWrite(w->under, r, SEAL_CHUNK_OVERHEAD + len) == -1) return -1;
    w->index++;
    return 0;
}

static int sealSinkWrite(void *ctx, const void *p, size_t n) {
    sealWriter *w = ctx;
    const unsigned char *s = p;
    if (w->failed) return -1;
    while (n) {
        /* A full chunk is written only once more data shows it is not the
         * last: the final chunk must carry the final flag. */
        if (w->used == w->chunk) {
            if (sealEmit(w, w->plain, w->used, 0) == -1) {
                w->failed = 1;
                return -1;
            }
            w->used = 0;
        }
        /* Whole chunks with more data after them go straight from the
         * caller's buffer: no copy. */
        while (w->used == 0 && n > w->chunk) {
            if (sealEmit(w, s, w->chunk, 0) == -1) {
                w->failed = 1;
                return -1;
            }
            s += w->chunk;
            n -= w->chunk;
        }
        size_t take = w->chunk - w->used;
        if (take > n) take = n;
        memcpy(w->plain + w->used, s, take);
        w->used += take;
        s += take;
        n -= take;
    }
    return 0;
}

int sealSinkOpen(rdbSink *out, rdbSink *under, const keyringKey *k, size_t chunkSize, char *err, size_t errlen) {
    if (!chunkSize) chunkSize = SEAL_CHUNK_DEFAULT;
    if (chunkSize < SEAL_CHUNK_MIN || chunkSize > SEAL_CHUNK_MAX) {
        snprintf(err, errlen, "seal: chunk size %zu out of range", chunkSize);
        return -1;
    }
    size_t idlen = strlen(k->id);
    if (!keyringValidId(k->id, idlen)) {
        snprintf(err, errlen, "seal: invalid key id");
        return -1;
    }
    sealHeader h;
    unsigned char *p = h.raw;
    memcpy(p, SEAL_MAGIC, SEAL_MAGIC_LEN); // NOLINT(bugprone-not-null-terminated-result): binary header, no terminator wanted
    p += SEAL_MAGIC_LEN;
    *p++ = SEAL_VERSION;
    *p++ = SEAL_ALG_AES256GCM_HKDF;
    sealPut32(p, (uint32_t)chunkSize);
    p += 4;
    *p++ = (unsigned char)idlen;
    memcpy(p, k->id, idlen);
    p += idlen;
    if (RAND_bytes(p, SEAL_SALT_LEN) != 1) {
        snprintf(err, errlen, "seal: no random bytes for the salt");
        return -1;
    }
    sealKeys ks;
    if (sealDerive(k, p, &ks) == -1) {
        snprintf(err, errlen, "seal: key derivation failed");
        return -1;
    }
    p += SEAL_SALT_LEN;
    memcpy(p, ks.kcv, SEAL_KCV_LEN);
    p += SEAL_KCV_LEN;
    if (sealHeaderMac(&ks, h.raw, (size_t)(p - h.raw), p) == -1) {
        OPENSSL_cleanse(&ks, sizeof(ks));
        snprintf(err, errlen, "seal: header MAC failed");
        return -1;
    }
    p += SEAL_MAC_LEN;
    size_t hlen = (size_t)(p - h.raw);

    sealWriter *w = memCalloc(sizeof(*w));
    w->under = under;
    w->chunk = chunkSize;
    w->plain = memAlloc(chunkSize);
    w->rec = memAlloc(chunkSize + SEAL_CHUNK_OVERHEAD);
    w->ctx = EVP_CIPHER_CTX_new();
    EVP_Digest(h.raw, hlen, w->hh, NULL, EVP_sha256(), NULL);
    int ok = w->ctx && EVP_EncryptInit_ex(w->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(w->ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
             EVP_EncryptInit_ex(w->ctx, NULL, NULL, ks.data, NULL) == 1;
    OPENSSL_cleanse(&ks, sizeof(ks));
    if (!ok) {
        snprintf(err, errlen, "seal: AES-256-GCM is not available");
        sealWriterFree(w);
        return -1;
    }
    if (sealUnderWrite(under, h.raw, hlen) == -1) {
        snprintf(err, errlen, "seal: writing the header failed");
        sealWriterFree(w);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->write = sealSinkWrite;
    out->ctx = w;
    return 0;
}

int sealSinkClose(rdbSink *out, char *err, size_t errlen) {
    sealWriter *w = out->ctx;
    int rc = 0;
    if (!w) {
        snprintf(err, errlen, "seal: sink not open");
        return -1;
    }
    if (w->failed) {
        snprintf(err, errlen, "seal: an earlier write failed");
        rc = -1;
    } else if (sealEmit(w, w->plain, w->used, 1) == -1) {
        snprintf(err, errlen, "seal: writing the final chunk failed");
        rc = -1;
    }
    sealWriterFree(w);
    out->ctx = NULL;
    out->write = NULL;
    return rc;
}

void sealSinkAbort(rdbSink *out) {
    sealWriterFree(out->ctx);
    out->ctx = NULL;
    out->write = NULL;
}

/* ---- reader ----------------------------------------------------------------- */

typedef struct sealReader {
    rdbSource *under;
    EVP_CIPHER_CTX *ctx;
    unsigned char hh[32];
    uint64_t index;       /* next chunk to read */
    size_t chunk;
    unsigned char *plain; /* the current verified chunk */
    size_t have, pos;
    unsigned char *rec;
    unsigned long long fileOffset; /* of the next record */
    int sawFinal, failed;
    char err[300];
} sealReader;

static void sealReaderFree(sealReader *r) {
    if (!r) return;
    EVP_CIPHER_CTX_free(r->ctx);
    if (r->plain) OPENSSL_cleanse(r->plain, r->chunk);
    memFree(r->plain);
    memFree(r->rec);
    memFree(r);
}

int sealHeaderRead(rdbSource *under, sealHeader *h, char *err, size_t errlen) {
    memset(h, 0, sizeof(*h));
    unsigned char *p = h->raw;
    const size_t fixed = SEAL_MAGIC_LEN + 7;
    if (sealUnderRead(under, p, fixed) == -1) {
        snprintf(err, errlen, "sealed header truncated (file shorter than %zu bytes)", fixed);
        return -1;
    }
    if (!sealIsSealed(p, fixed)) {
        snprintf(err, errlen, "not a sealed snapshot (no %s magic)", SEAL_MAGIC);
        return -1;
    }
    h->version = p[SEAL_MAGIC_LEN];
    h->algorithm = p[SEAL_MAGIC_LEN + 1];
    h->chunkSize = sealGet32(p + SEAL_MAGIC_LEN + 2);
    size_t idlen = p[SEAL_MAGIC_LEN + 6];
    if (h->version != SEAL_VERSION) {
        snprintf(err, errlen, "sealed format version %d is not supported (this build reads version %d)", h->version,
                 SEAL_VERSION);
        return -1;
    }
    if (h->algorithm != SEAL_ALG_AES256GCM_HKDF) {
        snprintf(err, errlen, "sealed snapshot uses unknown algorithm %d", h->algorithm);
        return -1;
    }
    if (h->chunkSize < SEAL_CHUNK_MIN || h->chunkSize > SEAL_CHUNK_MAX || idlen == 0) {
        snprintf(err, errlen, "sealed header is corrupt (chunk size %u, key id length %zu)", h->chunkSize, idlen);
        return -1;
    }
    size_t rest = idlen + SEAL_SALT_LEN + SEAL_KCV_LEN + SEAL_MAC_LEN;
    if (sealUnderRead(under, p + fixed, rest) == -1) {
        snprintf(err, errlen, "sealed header truncated (expected %zu bytes)", fixed + rest);
        return -1;
    }
    memcpy(h->keyId, p + fixed, idlen);
    h->keyId[idlen] = '\0';
    if (!keyringValidId(h->keyId, idlen)) {
        snprintf(err, errlen, "sealed header is corrupt (invalid key id)");
        return -1;
    }
    p += fixed + idlen;
    memcpy(h->salt, p, SEAL_SALT_LEN);
    memcpy(h->kcv, p + SEAL_SALT_LEN, SEAL_KCV_LEN);
    memcpy(h->mac, p + SEAL_SALT_LEN + SEAL_KCV_LEN, SEAL_MAC_LEN);
    h->rawLen = fixed + rest;
    return 0;
}

/* Reads and authenticates the next record into r->plain. */
static int sealReadChunk(sealReader *r) {
    unsigned char *rec = r->rec;
    unsigned long long off = r->fileOffset;
    if (r->failed) return -1;
    if (r->sawFinal) {
        snprintf(r->err, sizeof(r->err), "sealed stream: read past the final chunk (plaintext ends at chunk %llu)",
                 (unsigned long long)r->index - 1);
        r->failed = 1;
        return -1;
    }
    if (sealUnderRead(r->under, rec, SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN) == -1) {
        snprintf(r->err, sizeof(r->err),
                 "sealed snapshot truncated at offset %llu: chunk %llu is missing and no final chunk was seen", off,
                 (unsigned long long)r->index);
        r->failed = 1;
        return -1;
    }
    uint32_t lf = sealGet32(rec);
    int final = (lf & SEAL_FINAL_BIT) != 0;
    uint32_t len = lf & ~SEAL_FINAL_BIT;
    if (len > r->chunk || (!final && len != r->chunk)) {
        snprintf(r->err, sizeof(r->err), "sealed snapshot corrupt at offset %llu: chunk %llu has a bad length %u",
                 off, (unsigned long long)r->index, len);
        r->failed = 1;
        return -1;
    }
    unsigned char *ct = rec + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN;
    if (sealUnderRead(r->under, ct, (size_t)len + SEAL_TAG_LEN) == -1) {
        snprintf(r->err, sizeof(r->err), "sealed snapshot truncated at offset %llu: chunk %llu is incomplete", off,
                 (unsigned long long)r->index);
        r->failed = 1;
        return -1;
    }
    unsigned char aad[SEAL_AAD_LEN];
    sealAad(aad, r->hh, r->index, final, len);
    int outl = 0, ok = EVP_DecryptInit_ex(r->ctx, NULL, NULL, NULL, rec + SEAL_CHUNK_HDR_LEN) == 1 &&
                       EVP_DecryptUpdate(r->ctx, NULL, &outl, aad, (int)sizeof(aad)) == 1 &&
                       (!len || EVP_DecryptUpdate(r->ctx, r->plain, &outl, ct, (int)len) == 1) &&
                       EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, ct + len) == 1 &&
                       EVP_DecryptFinal_ex(r->ctx, r->plain + len, &outl) == 1;
    if (!ok) {
        OPENSSL_cleanse(r->plain, len);
        snprintf(r->err, sizeof(r->err),
                 "sealed snapshot failed authentication at offset %llu (chunk %llu%s): the data was altered, "
                 "reordered or duplicated",
                 off, (unsigned long long)r->index, final ? ", final" : "");
        r->failed = 1;
        return -1;
    }
    r->fileOffset += SEAL_CHUNK_OVERHEAD + (unsigned long long)len;
    r->index++;
    r->have = len;
    r->pos = 0;
    r->sawFinal = final;
    return 0;
}

static int sealSourceRead(void *ctx, void *p, size_t n) {
    sealReader *r = ctx;
    unsigned char *d = p;
    while (n) {
        if (r->pos == r->have) {
            if (r->sawFinal && !r->failed) {
                snprintf(r->err, sizeof(r->err),
                         "sealed snapshot: the plaintext ended (final chunk %llu) before the reader expected",
                         (unsigned long long)r->index - 1);
                r->failed = 1;
            }
            if (sealReadChunk(r) == -1) return -1;
            continue;
        }
        size_t take = r->have - r->pos;
        if (take > n) take = n;
        memcpy(d, r->plain + r->pos, take);
        r->pos += take;
        d += take;
        n -= take;
    }
    return 0;
}

int sealSourceStart(rdbSource *out, rdbSource *under, const sealHeader *h, const keyring *kr, char *err,
                    size_t errlen) {
    const keyringKey *k = keyringFind(kr, h->keyId, strlen(h->keyId));
    if (!k) {
        snprintf(err, errlen, "sealed snapshot needs key id '%s', which is not in the keyring", h->keyId);
        return -1;
    }
    sealKeys ks;
    if (sealDerive(k, h->salt, &ks) == -1) {
        snprintf(err, errlen, "seal: key derivation failed");
        return -1;
    }
    if (CRYPTO_memcmp(ks.kcv, h->kcv, SEAL_KCV_LEN) != 0) {
        OPENSSL_cleanse(&ks, sizeof(ks));
        snprintf(err, errlen,
                 "wrong key: the keyring's key '%s' is not the key this snapshot was sealed with (or its header is "
                 "corrupt)",
                 h->keyId);
        return -1;
    }
    unsigned char mac[SEAL_MAC_LEN];
    if (sealHeaderMac(&ks, h->raw, h->rawLen - SEAL_MAC_LEN, mac) == -1 ||
        CRYPTO_memcmp(mac, h->mac, SEAL_MAC_LEN) != 0) {
        OPENSSL_cleanse(&ks, sizeof(ks));
        snprintf(err, errlen, "sealed snapshot header failed authentication: the header was altered");
        return -1;
    }
    sealReader *r = memCalloc(sizeof(*r));
    r->under = under;
    r->chunk = h->chunkSize;
    r->plain = memAlloc(r->chunk);
    r->rec = memAlloc(r->chunk + SEAL_CHUNK_OVERHEAD);
    r->fileOffset = h->rawLen;
    r->ctx = EVP_CIPHER_CTX_new();
    EVP_Digest(h->raw, h->rawLen, r->hh, NULL, EVP_sha256(), NULL);
    int ok = r->ctx && EVP_DecryptInit_ex(r->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
             EVP_DecryptInit_ex(r->ctx, NULL, NULL, ks.data, NULL) == 1;
    OPENSSL_cleanse(&ks, sizeof(ks));
    if (!ok) {
        snprintf(err, errlen, "seal: AES-256-GCM is not available");
        sealReaderFree(r);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->read = sealSourceRead;
    out->ctx = r;
    return 0;
}

int sealSourceOpen(rdbSource *out, rdbSource *under, const keyring *kr, char *err, size_t errlen) {
    sealHeader h;
    if (sealHeaderRead(under, &h, err, errlen) == -1) return -1;
    return sealSourceStart(out, under, &h, kr, err, errlen);
}

int sealSourceNext(rdbSource *out, const unsigned char **p, size_t *n) {
    sealReader *r = out->ctx;
    while (r->pos == r->have) {
        if (r->sawFinal) return r->failed ? -1 : 0;
        if (sealReadChunk(r) == -1) return -1;
    }
    *p = r->plain + r->pos;
    *n = r->have - r->pos;
    out->offset += *n;
    r->pos = r->have;
    return 1;
}

int sealSourceFinish(rdbSource *out, char *err, size_t errlen) {
    sealReader *r = out->ctx;
    unsigned long long unread = 0;
    if (r->failed) {
        snprintf(err, errlen, "%s", r->err);
        return -1;
    }
    for (;;) {
        unread += r->have - r->pos;
        r->pos = r->have;
        if (r->sawFinal) break;
        if (sealReadChunk(r) == -1) {
            snprintf(err, errlen, "%s", r->err);
            return -1;
        }
    }
    unsigned char extra;
    if (sealUnderRead(r->under, &extra, 1) == 0) {
        snprintf(err, errlen, "sealed snapshot has data after its final chunk (offset %llu)", r->fileOffset);
        r->failed = 1;
        return -1;
    }
    if (unread) {
        snprintf(err, errlen, "sealed snapshot holds %llu plaintext bytes after the end of the snapshot", unread);
        return -1;
    }
    return 0;
}

const char *sealSourceError(const rdbSource *out) {
    const sealReader *r = out->ctx;
    return r ? r->err : "";
}

unsigned long long sealSourceChunks(const rdbSource *out) {
    const sealReader *r = out->ctx;
    return r ? (unsigned long long)r->index : 0;
}

void sealSourceClose(rdbSource *out) {
    sealReaderFree(out->ctx);
    out->ctx = NULL;
    out->read = NULL;
}
