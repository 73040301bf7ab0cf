/* keyring.c - the keyring file (named 256-bit keys for snapshot encryption)
 * and the server's keyring loaded from `keyring-file`.
 *
 * Owns: parsing and validating keyring files (format in keyring.h), the
 * process' loaded keyring, and the config checks of snapshot-encryption and
 * snapshot-encryption-key-id.
 * Must never: print, log or return key bytes (errors name ids, files and
 * lines only), leave key bytes in freed memory (wiped with OPENSSL_cleanse),
 * or let a CONFIG SET choose a key the keyring does not hold. */
#include "keyring.h"
#include "server.h"
#include "db.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- parser -------------------------------------------------------------- */

int keyringValidId(const char *id, size_t len) {
    if (len == 0 || len > KEYRING_ID_MAX) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        if (c && strchr("/_-.:+=@", c)) continue;
        return 0;
    }
    return 1;
}

static int keyringHexVal(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void keyringFree(keyring *kr) {
    if (!kr) return;
    for (int i = 0; i < kr->count; i++) {
        OPENSSL_cleanse(kr->keys[i].key, KEYRING_KEY_LEN);
        memFree(kr->keys[i].id);
    }
    memFree(kr->keys);
    memFree(kr);
}

const keyringKey *keyringFind(const keyring *kr, const char *id, size_t idlen) {
    if (!kr) return NULL;
    for (int i = 0; i < kr->count; i++)
        if (strlen(kr->keys[i].id) == idlen && memcmp(kr->keys[i].id, id, idlen) == 0) return &kr->keys[i];
    return NULL;
}

const keyringKey *keyringDefault(const keyring *kr) {
    return (kr && kr->defaultIdx >= 0 && kr->defaultIdx < kr->count) ? &kr->keys[kr->defaultIdx] : NULL;
}

/* Splits one line into at most 4 blank-separated words (a 4th means "too
 * many"). Returns the word count. */
static int keyringSplit(const char *p, const char *end, const char **w, size_t *wl) {
    int n = 0;
    while (p < end && n < 4) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        if (p >= end) break;
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r') p++;
        w[n] = s;
        wl[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

keyring *keyringParse(const char *text, size_t len, const char *origin, char *err, size_t errlen) {
    keyring *kr = memCalloc(sizeof(*kr));
    kr->defaultIdx = -1;
    int cap = 0, lineno = 0;
    char *defaultId = NULL;
    int defaultLine = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        lineno++;
        const char *w[4];
        size_t wl[4];
        int n = keyringSplit(p, eol, w, wl);
        p = eol < end ? eol + 1 : end;
        if (n == 0 || w[0][0] == '#') continue;
        if (wl[0] == 3 && !memcmp(w[0], "key", 3)) {
            if (n != 3) {
                snprintf(err, errlen, "%s:%d: expected 'key <id> <64 hex digits>'", origin, lineno);
                goto fail;
            }
            if (!keyringValidId(w[1], wl[1])) {
                snprintf(err, errlen, "%s:%d: invalid key id (1..%d characters of A-Z a-z 0-9 / _ - . : + = @)",
                         origin, lineno, KEYRING_ID_MAX);
                goto fail;
            }
            if (keyringFind(kr, w[1], wl[1])) {
                snprintf(err, errlen, "%s:%d: duplicate key id '%.*s'", origin, lineno, (int)wl[1], w[1]);
                goto fail;
            }
            if (wl[2] != KEYRING_KEY_LEN * 2) {
                snprintf(err, errlen, "%s:%d: key '%.*s' must be %d hex digits (256 bits), found %zu characters",
                         origin, lineno, (int)wl[1], w[1], KEYRING_KEY_LEN * 2, wl[2]);
                goto fail;
            }
            unsigned char key[KEYRING_KEY_LEN];
            for (int i = 0; i < KEYRING_KEY_LEN; i++) {
                int hi = keyringHexVal((unsigned char)w[2][2 * i]), lo = keyringHexVal((unsigned char)w[2][2 * i + 1]);
                if (hi < 0 || lo < 0) {
                    OPENSSL_cleanse(key, sizeof(key));
                    snprintf(err, errlen, "%s:%d: key '%.*s' is not valid hex", origin, lineno, (int)wl[1], w[1]);
                    goto fail;
                }
                key[i] = (unsigned char)(hi << 4 | lo);
            }
            if (kr->count == cap) {
                int ncap = cap ? cap * 2 : 4;
                keyringKey *nk = memCalloc(sizeof(*nk) * (size_t)ncap);
                if (kr->count) memcpy(nk, kr->keys, sizeof(*nk) * (size_t)kr->count);
                if (kr->keys) OPENSSL_cleanse(kr->keys, sizeof(*nk) * (size_t)kr->count);
                memFree(kr->keys);
                kr->keys = nk;
                cap = ncap;
            }
            kr->keys[kr->count].id = memDupBytes(w[1], wl[1]);
            memcpy(kr->keys[kr->count].key, key, KEYRING_KEY_LEN);
            OPENSSL_cleanse(key, sizeof(key));
            kr->count++;
        } else if (wl[0] == 7 && !memcmp(w[0], "default", 7)) {
            if (n != 2) {
                snprintf(err, errlen, "%s:%d: expected 'default <id>'", origin, lineno);
                goto fail;
            }
            if (defaultId) {
                snprintf(err, errlen, "%s:%d: 'default' given twice (first on line %d)", origin, lineno, defaultLine);
                goto fail;
            }
            defaultId = memDupBytes(w[1], wl[1]);
            defaultLine = lineno;
        } else {
            snprintf(err, errlen, "%s:%d: unknown directive '%.*s' (expected 'key', 'default' or a # comment)",
                     origin, lineno, (int)(wl[0] > 40 ? 40 : wl[0]), w[0]);
            goto fail;
        }
    }
    if (kr->count == 0) {
        snprintf(err, errlen, "%s: no keys (expected lines 'key <id> <64 hex digits>')", origin);
        goto fail;
    }
    if (!defaultId) {
        snprintf(err, errlen, "%s: missing 'default <id>' line", origin);
        goto fail;
    }
    const keyringKey *d = keyringFind(kr, defaultId, strlen(defaultId));
    if (!d) {
        snprintf(err, errlen, "%s:%d: default key id '%s' is not defined in this file", origin, defaultLine,
                 defaultId);
        goto fail;
    }
    kr->defaultIdx = (int)(d - kr->keys);
    memFree(defaultId);
    return kr;
fail:
    memFree(defaultId);
    keyringFree(kr);
    return NULL;
}

keyring *keyringLoadFile(const char *path, char *err, size_t errlen, char *warn, size_t warnlen) {
    if (warn && warnlen) warn[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "can't open keyring file '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "keyring file '%s' is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & 007) {
        snprintf(err, errlen,
                 "keyring file '%s' is accessible by other users (mode %04o): refusing it; "
                 "chmod 600 (or 640/440 for a group) it",
                 path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return NULL;
    }
    if ((st.st_mode & 070) && warn && warnlen)
        snprintf(warn, warnlen, "keyring file '%s' is readable by its group (mode %04o)", path,
                 (unsigned)(st.st_mode & 07777));
    if (st.st_size > 1024 * 1024) {
        snprintf(err, errlen, "keyring file '%s' is larger than 1 MB", path);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *text = memAlloc(cap);
    for (;;) {
        if (len == cap) {
            snprintf(err, errlen, "keyring file '%s' changed while being read", path);
            goto fail;
        }
        ssize_t n = read(fd, text + len, cap - len);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "can't read keyring file '%s': %s", path, strerror(errno));
            goto fail;
        }
        len += (size_t)n;
    }
    close(fd);
    keyring *kr = keyringParse(text, len, path, err, errlen);
    OPENSSL_cleanse(text, cap);
    memFree(text);
    return kr;
fail:
    close(fd);
    OPENSSL_cleanse(text, cap);
    memFree(text);
    return NULL;
}

/* ---- the server's keyring ------------------------------------------------- */

static keyring *serverKeyring;
static int serverKeyringLoaded; /* keyringInitFromConfig ran: config checks are live */

const keyring *keyringServer(void) {
    return serverKeyring;
}

int keyringInitFromConfig(char *err, size_t errlen) {
    char warn[512];
    keyringFree(serverKeyring);
    serverKeyring = NULL;
    if (srv.keyringFile && srv.keyringFile[0]) {
        serverKeyring = keyringLoadFile(srv.keyringFile, err, errlen, warn, sizeof(warn));
        if (!serverKeyring) return -1;
        if (warn[0]) logWarning("%s", warn);
        logNotice("Keyring '%s' loaded: %d key(s), default key id '%s'", srv.keyringFile, serverKeyring->count,
                  keyringDefault(serverKeyring)->id);
    }
    const char *kid = srv.snapshotEncryptionKeyId ? srv.snapshotEncryptionKeyId : "";
    if (kid[0] && !keyringFind(serverKeyring, kid, strlen(kid))) {
        snprintf(err, errlen, "snapshot-encryption-key-id '%s' is not in the keyring%s", kid,
                 serverKeyring ? "" : " (no keyring-file is set)");
        keyringFree(serverKeyring);
        serverKeyring = NULL;
        return -1;
    }
    if (srv.snapshotEncryption && !serverKeyring) {
        snprintf(err, errlen, "snapshot-encryption yes needs a keyring-file");
        return -1;
    }
    serverKeyringLoaded = 1;
    return 0;
}

/* While the config file is read the keyring is not loaded yet:
 * keyringInitFromConfig checks the final values then. */
int keyringCheckKeyIdConfig(const char *v, char *err, size_t errlen) {
    if (!serverKeyringLoaded || !v[0]) return 0;
    if (!serverKeyring) {
        snprintf(err, errlen, "no keyring-file is set");
        return -1;
    }
    if (!keyringFind(serverKeyring, v, strlen(v))) {
        snprintf(err, errlen, "key id is not in the keyring");
        return -1;
    }
    return 0;
}

int keyringCheckEncryptionConfig(long long v, char *err, size_t errlen) {
    if (!serverKeyringLoaded || !v || serverKeyring) return 0;
    snprintf(err, errlen, "snapshot-encryption needs a keyring-file");
    return -1;
}

const keyringKey *keyringSnapshotKey(int *encrypt, char *err, size_t errlen) {
    *encrypt = srv.snapshotEncryption;
    if (!srv.snapshotEncryption) return NULL;
    const char *kid = srv.snapshotEncryptionKeyId ? srv.snapshotEncryptionKeyId : "";
    const keyringKey *k = kid[0] ? keyringFind(serverKeyring, kid, strlen(kid)) : keyringDefault(serverKeyring);
    if (!k) snprintf(err, errlen, "snapshot encryption key '%s' is not in the keyring", kid[0] ? kid : "(default)");
    return k;
}
