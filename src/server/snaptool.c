/* snaptool.c - cachet-snapshot: inspect, verify, decrypt and encrypt
 * snapshot files (plain RDB or sealed, see seal.h). It is the server binary
 * run under the name cachet-snapshot (main.c dispatches on argv[0]), so it
 * reads RDB contents with the server's own loader (rdb.c).
 *
 * Owns: the tool's command line, its messages and exit codes (--help), and
 * atomic output files (temporary file in the target's directory, fsync,
 * rename, directory fsync: OUT is either untouched or complete).
 * Must never: print key bytes, leave a partial OUT behind, write OUT from
 * data that failed authentication, or run inside a serving server. */
#include "keyring.h"
#include "seal.h"
#include "server.h"
#include "db.h"
#include "config.h"
#include "snaptool.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_OK 0      /* the snapshot is valid / the command did what was asked */
#define ST_INVALID 1 /* the snapshot is corrupt, truncated, tampered, or needs another key */
#define ST_USAGE 2   /* bad command line */
#define ST_ENV 3     /* cannot read the input or keyring, cannot write the output */

static void snaptoolUsage(FILE *fp) {
    fprintf(fp,
            "Usage: cachet-snapshot inspect FILE [--keyring KEYRING]\n"
            "       cachet-snapshot verify FILE [--keyring KEYRING]\n"
            "       cachet-snapshot decrypt IN OUT --keyring KEYRING\n"
            "       cachet-snapshot encrypt IN OUT --keyring KEYRING [--key-id ID]\n"
            "       cachet-snapshot --help\n"
            "\n"
            "Works on Cachet/Redis snapshots: plain RDB files and sealed (encrypted) ones.\n"
            "  inspect  format, key id, size, keys per database (not counting keys\n"
            "           already expired) and checksum status\n"
            "           (contents only when readable: plain, or sealed with --keyring).\n"
            "  verify   authenticates every chunk of a sealed file and loads the RDB\n"
            "           (structure and CRC64); a sealed file needs --keyring.\n"
            "  decrypt  writes the plain RDB inside a sealed file to OUT.\n"
            "  encrypt  seals a plain RDB into OUT with the keyring's default key or ID.\n"
            "OUT is written to a temporary file, fsync'd and renamed: it is complete or\n"
            "untouched. The keyring format is described in docs/persistence.md (lines\n"
            "'key <id> <64 hex digits>' and 'default <id>').\n"
            "\n"
            "Exit status: 0 ok / valid; 1 the snapshot is invalid (corrupt, truncated,\n"
            "tampered, wrong key or key id not in the keyring); 2 usage error; 3 cannot\n"
            "read the input or keyring, or cannot write the output.\n");
}

/* ---- buffered fd source and sink ------------------------------------------ */

typedef struct snapIn {
    int fd;
    unsigned char *buf;
    size_t len, pos;
    int ioError;
} snapIn;

static int snapInRead(void *ctx, void *p, size_t n) {
    snapIn *in = ctx;
    unsigned char *d = p;
    while (n) {
        if (in->pos == in->len) {
            ssize_t r = read(in->fd, in->buf, 1 << 18);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) in->ioError = errno;
            if (r <= 0) return -1;
            in->len = (size_t)r;
            in->pos = 0;
        }
        size_t take = in->len - in->pos;
        if (take > n) take = n;
        memcpy(d, in->buf + in->pos, take);
        in->pos += take;
        d += take;
        n -= take;
    }
    return 0;
}

typedef struct snapOut {
    int fd;
    unsigned char *buf;
    size_t len;
    int ioError;
} snapOut;

static int snapOutFlush(snapOut *o) {
    if (fdWriteAll(o->fd, o->buf, o->len) == -1) {
        o->ioError = errno;
        return -1;
    }
    o->len = 0;
    return 0;
}

static int snapOutWrite(void *ctx, const void *p, size_t n) {
    snapOut *o = ctx;
    const size_t cap = 1 << 18;
    if (o->len + n > cap && snapOutFlush(o) == -1) return -1;
    if (n >= cap) {
        if (fdWriteAll(o->fd, p, n) == -1) {
            o->ioError = errno;
            return -1;
        }
        return 0;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

typedef struct snapFile {
    const char *path;
    int fd;
    long long size;
    unsigned char head[SEAL_MAGIC_LEN];
    size_t headLen;
    int sealed, plain;
} snapFile;

static int snapOpenInput(const char *path, snapFile *f) {
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f->fd == -1 || fstat(f->fd, &st) == -1) {
        fprintf(stderr, "cachet-snapshot: can't open '%s': %s\n", path, strerror(errno));
        if (f->fd != -1) close(f->fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "cachet-snapshot: '%s' is not a regular file\n", path);
        close(f->fd);
        return -1;
    }
    f->size = (long long)st.st_size;
    ssize_t n = pread(f->fd, f->head, sizeof(f->head), 0);
    f->headLen = n > 0 ? (size_t)n : 0;
    f->sealed = sealIsSealed(f->head, f->headLen);
    f->plain = f->headLen >= 5 && memcmp(f->head, "REDIS", 5) == 0;
    return 0;
}

static keyring *snapLoadKeyring(const char *path) {
    char err[512], warn[512];
    keyring *kr = keyringLoadFile(path, err, sizeof(err), warn, sizeof(warn));
    if (!kr) fprintf(stderr, "cachet-snapshot: %s\n", err);
    else if (warn[0]) fprintf(stderr, "cachet-snapshot: warning: %s\n", warn);
    return kr;
}

/* Loads the RDB stream in src with the server's loader and reports keys per
 * database. Returns 0, or -1 with err set. */
static int snapLoadRdb(rdbSource *src, int print, int noCrc, char *err, size_t errlen) {
    int rc = rdbLoadAll(src, err, errlen);
    if (rc != 0) return -1;
    if (print) {
        long long total = 0;
        printf("keys:");
        for (int i = 0; i < srv.dbnum; i++) {
            long long n = dbSize(&srv.db[i]);
            if (n) printf(" db%d=%lld", i, n);
            total += n;
        }
        printf("%s (total %lld)\n", total ? "" : " none", total);
        printf("checksum: %s\n", noCrc ? "none (the file carries no CRC64; structure verified)"
                                        : "ok (structure and CRC64 verified)");
    }
    return 0;
}

/* The header of a sealed input (reads from the start of the file). */
static int snapSealedHeader(snapFile *f, snapIn *in, rdbSource *under, sealHeader *h, char *err, size_t errlen) {
    lseek(f->fd, 0, SEEK_SET);
    memset(in, 0, sizeof(*in));
    in->fd = f->fd;
    in->buf = memAlloc(1 << 18);
    memset(under, 0, sizeof(*under));
    under->read = snapInRead;
    under->ctx = in;
    return sealHeaderRead(under, h, err, errlen);
}

/* inspect (print = 1) and verify (print = 0). */
static int snapInspect(const char *path, const char *ringPath, int print) {
    snapFile f;
    if (snapOpenInput(path, &f) == -1) return ST_ENV;
    keyring *kr = NULL;
    if (ringPath && !(kr = snapLoadKeyring(ringPath))) {
        close(f.fd);
        return ST_ENV;
    }
    char err[1024] = "";
    int st = ST_OK;
    snapIn in;
    rdbSource under;
    memset(&in, 0, sizeof(in));
    if (print) {
        printf("file: %s\n", path);
        printf("size: %lld bytes\n", f.size);
    }
    if (f.sealed) {
        sealHeader h;
        if (snapSealedHeader(&f, &in, &under, &h, err, sizeof(err)) == -1) {
            st = ST_INVALID;
            goto done;
        }
        if (print) {
            printf("format: sealed (CACHETSEAL v%d, AES-256-GCM, HKDF-SHA256 per-file key, %u-byte chunks)\n",
                   h.version, h.chunkSize);
            printf("key id: %s\n", h.keyId);
        }
        if (!kr) {
            if (print) {
                printf("contents: not checked (sealed; give --keyring to authenticate and count keys)\n");
            } else {
                fprintf(stderr, "cachet-snapshot: '%s' is sealed with key id '%s': verify needs --keyring\n", path,
                        h.keyId);
                st = ST_USAGE;
            }
            goto done;
        }
        rdbSource sealed;
        if (sealSourceStart(&sealed, &under, &h, kr, err, sizeof(err)) == -1) {
            st = ST_INVALID;
            goto done;
        }
        int rc = snapLoadRdb(&sealed, print, 0, err, sizeof(err));
        if (rc == -1 && sealSourceError(&sealed)[0]) snprintf(err, sizeof(err), "%s", sealSourceError(&sealed));
        if (rc == 0 && sealSourceFinish(&sealed, err, sizeof(err)) == -1) rc = -1;
        if (rc == 0 && print) printf("chunks: %llu (all authenticated)\n", sealSourceChunks(&sealed));
        sealSourceClose(&sealed);
        if (rc == -1) st = ST_INVALID;
    } else if (f.plain) {
        char ver[5] = "";
        if (f.headLen >= 9) memcpy(ver, f.head + 5, 4);
        if (print) printf("format: plain RDB (version %s)\n", ver);
        memset(&in, 0, sizeof(in));
        in.fd = f.fd;
        in.buf = memAlloc(1 << 18);
        memset(&under, 0, sizeof(under));
        under.read = snapInRead;
        under.ctx = &in;
        unsigned char tail[8] = {1};
        int noCrc = f.size >= 8 && pread(f.fd, tail, 8, f.size - 8) == 8 && !memcmp(tail, "\0\0\0\0\0\0\0\0", 8);
        if (snapLoadRdb(&under, print, noCrc, err, sizeof(err)) == -1) st = ST_INVALID;
    } else {
        snprintf(err, sizeof(err), "not a snapshot: neither an RDB file (REDIS) nor a sealed one (%s)", SEAL_MAGIC);
        st = ST_INVALID;
    }
done:
    if (st == ST_INVALID) {
        if (in.ioError) {
            snprintf(err, sizeof(err), "read error: %s", strerror(in.ioError));
            st = ST_ENV;
        }
        if (print) printf("status: INVALID: %s\n", err);
        fprintf(stderr, "cachet-snapshot: %s: %s\n", path, err);
    } else if (st == ST_OK) {
        if (print) printf("status: %s\n", (f.sealed && !kr) ? "header ok (contents not checked)" : "ok");
        else printf("OK: %s is a valid %s snapshot\n", path, f.sealed ? "sealed" : "plain");
    }
    memFree(in.buf);
    keyringFree(kr);
    close(f.fd);
    return st;
}

/* OUT's temporary file, in OUT's directory so rename is atomic. */
typedef struct snapTmp {
    char *tmp, *dir;
    const char *out;
    int fd;
} snapTmp;

static int snapTmpOpen(snapTmp *t, const char *out, mode_t mode) {
    t->out = out;
    size_t n = strlen(out) + 32; // NOLINT(clang-analyzer-core.NonNullParamChecker): OUT is argv (npos == 3 checked), the analyzer loses it across the strcmp dispatch
    t->tmp = memAlloc(n);
    snprintf(t->tmp, n, "%s.tmp-%d", out, (int)getpid());
    char *copy = memStrdup(out);
    t->dir = memStrdup(dirname(copy));
    memFree(copy);
    t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (t->fd == -1) {
        fprintf(stderr, "cachet-snapshot: can't create '%s': %s\n", t->tmp, strerror(errno));
        memFree(t->tmp);
        memFree(t->dir);
        return -1;
    }
    return 0;
}

static void snapTmpAbort(snapTmp *t) {
    close(t->fd);
    unlink(t->tmp);
    memFree(t->tmp);
    memFree(t->dir);
}

static int snapTmpCommit(snapTmp *t) {
    int ok = fsync(t->fd) == 0;
    int e = errno;
    if (close(t->fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(t->tmp, t->out) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        fprintf(stderr, "cachet-snapshot: can't write '%s': %s\n", t->out, strerror(e));
        unlink(t->tmp);
    } else {
        int dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd != -1) {
            fsync(dfd);
            close(dfd);
        }
    }
    memFree(t->tmp);
    memFree(t->dir);
    return ok ? 0 : -1;
}

static int snapDecrypt(const char *inPath, const char *outPath, const char *ringPath) {
    snapFile f;
    if (snapOpenInput(inPath, &f) == -1) return ST_ENV;
    if (!f.sealed) {
        fprintf(stderr, "cachet-snapshot: %s: not a sealed snapshot%s\n", inPath,
                f.plain ? " (it is a plain RDB already)" : "");
        close(f.fd);
        return ST_INVALID;
    }
    keyring *kr = snapLoadKeyring(ringPath);
    if (!kr) {
        close(f.fd);
        return ST_ENV;
    }
    char err[1024] = "";
    int st = ST_OK;
    snapIn in;
    rdbSource under, sealed;
    sealHeader h;
    snapTmp t;
    snapOut o = {.fd = -1};
    memset(&sealed, 0, sizeof(sealed));
    if (snapSealedHeader(&f, &in, &under, &h, err, sizeof(err)) == -1 ||
        sealSourceStart(&sealed, &under, &h, kr, err, sizeof(err)) == -1) {
        st = ST_INVALID;
        goto done;
    }
    if (snapTmpOpen(&t, outPath, 0600) == -1) {
        st = ST_ENV;
        goto done;
    }
    o.fd = t.fd;
    o.buf = memAlloc(1 << 18);
    const unsigned char *p;
    size_t n;
    int rc;
    /* Each chunk is authenticated before it is written; a later failure
     * removes the temporary file, so OUT never holds unverified data. */
    while ((rc = sealSourceNext(&sealed, &p, &n)) == 1) {
        if (snapOutWrite(&o, p, n) == -1) break;
    }
    if (rc == -1) {
        snprintf(err, sizeof(err), "%s", sealSourceError(&sealed));
        st = ST_INVALID;
    } else if (o.ioError || snapOutFlush(&o) == -1) {
        snprintf(err, sizeof(err), "writing '%s': %s", t.tmp, strerror(o.ioError));
        st = ST_ENV;
    } else if (sealSourceFinish(&sealed, err, sizeof(err)) == -1) {
        st = ST_INVALID;
    }
    if (st != ST_OK) snapTmpAbort(&t);
    else if (snapTmpCommit(&t) == -1) st = ST_ENV;
done:
    if (st == ST_INVALID && in.ioError) {
        snprintf(err, sizeof(err), "read error: %s", strerror(in.ioError));
        st = ST_ENV;
    }
    if (st == ST_OK)
        printf("decrypted %s (key id %s, %llu chunks) -> %s\n", inPath, h.keyId, sealSourceChunks(&sealed), outPath);
    else if (err[0])
        fprintf(stderr, "cachet-snapshot: %s: %s\n", inPath, err);
    if (sealed.ctx) sealSourceClose(&sealed);
    if (o.buf) OPENSSL_cleanse(o.buf, 1 << 18);
    memFree(o.buf);
    memFree(in.buf);
    keyringFree(kr);
    close(f.fd);
    return st;
}

static int snapEncrypt(const char *inPath, const char *outPath, const char *ringPath, const char *keyId) {
    snapFile f;
    if (snapOpenInput(inPath, &f) == -1) return ST_ENV;
    if (f.sealed || !f.plain) {
        fprintf(stderr, "cachet-snapshot: %s: %s\n", inPath,
                f.sealed ? "already sealed" : "not an RDB file (does not start with REDIS)");
        close(f.fd);
        return ST_INVALID;
    }
    keyring *kr = snapLoadKeyring(ringPath);
    if (!kr) {
        close(f.fd);
        return ST_ENV;
    }
    const keyringKey *k = keyId ? keyringFind(kr, keyId, strlen(keyId)) : keyringDefault(kr);
    if (!k) {
        fprintf(stderr, "cachet-snapshot: key id '%s' is not in the keyring %s\n", keyId, ringPath);
        keyringFree(kr);
        close(f.fd);
        return ST_ENV;
    }
    char err[1024] = "";
    int st = ST_OK;
    snapTmp t;
    if (snapTmpOpen(&t, outPath, 0644) == -1) {
        keyringFree(kr);
        close(f.fd);
        return ST_ENV;
    }
    snapOut o = {.fd = t.fd, .buf = memAlloc(1 << 18)};
    rdbSink under = {.write = snapOutWrite, .ctx = &o}, sealed;
    unsigned char *buf = memAlloc(1 << 18);
    lseek(f.fd, 0, SEEK_SET);
    if (sealSinkOpen(&sealed, &under, k, 0, err, sizeof(err)) == -1) {
        st = ST_ENV;
    } else {
        for (;;) {
            ssize_t n = read(f.fd, buf, 1 << 18);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                snprintf(err, sizeof(err), "reading '%s': %s", inPath, strerror(errno));
                st = ST_ENV;
                break;
            }
            if (n == 0) break;
            if (sealed.write(sealed.ctx, buf, (size_t)n) != 0) {
                snprintf(err, sizeof(err), "writing '%s': %s", t.tmp, strerror(o.ioError ? o.ioError : EIO));
                st = ST_ENV;
                break;
            }
        }
        if (st == ST_OK) {
            if (sealSinkClose(&sealed, err, sizeof(err)) == -1 || snapOutFlush(&o) == -1) {
                if (o.ioError) snprintf(err, sizeof(err), "writing '%s': %s", t.tmp, strerror(o.ioError));
                st = ST_ENV;
            }
        } else {
            sealSinkAbort(&sealed);
        }
    }
    if (st != ST_OK) snapTmpAbort(&t);
    else if (snapTmpCommit(&t) == -1) st = ST_ENV;
    if (st == ST_OK) printf("encrypted %s with key id %s -> %s\n", inPath, k->id, outPath);
    else if (err[0]) fprintf(stderr, "cachet-snapshot: %s\n", err);
    memFree(buf);
    memFree(o.buf);
    keyringFree(kr);
    close(f.fd);
    return st;
}

int snaptoolMain(int argc, char **argv) {
    const char *pos[3] = {NULL, NULL, NULL}, *ringPath = NULL, *keyId = NULL;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            snaptoolUsage(stdout);
            return ST_OK;
        } else if (!strcmp(a, "--keyring") || !strcmp(a, "--key-id")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "cachet-snapshot: %s needs a value\n", a);
                return ST_USAGE;
            }
            if (a[5] == 'r') ringPath = argv[++i];
            else keyId = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "cachet-snapshot: unknown option '%s' (see --help)\n", a);
            return ST_USAGE;
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "cachet-snapshot: too many arguments (see --help)\n");
            return ST_USAGE;
        }
    }
    if (npos == 0) {
        snaptoolUsage(stderr);
        return ST_USAGE;
    }
    const char *cmd = pos[0];
    int want = (!strcmp(cmd, "inspect") || !strcmp(cmd, "verify")) ? 2
               : (!strcmp(cmd, "decrypt") || !strcmp(cmd, "encrypt")) ? 3
                                                                        : 0;
    if (!want) {
        fprintf(stderr, "cachet-snapshot: unknown command '%s' (see --help)\n", cmd);
        return ST_USAGE;
    }
    if (npos != want) {
        fprintf(stderr, "cachet-snapshot: %s takes %s (see --help)\n", cmd, want == 2 ? "FILE" : "IN OUT");
        return ST_USAGE;
    }
    if (want == 3 && !ringPath) {
        fprintf(stderr, "cachet-snapshot: %s needs --keyring\n", cmd);
        return ST_USAGE;
    }
    if (keyId && strcmp(cmd, "encrypt") != 0) {
        fprintf(stderr, "cachet-snapshot: --key-id only applies to encrypt\n");
        return ST_USAGE;
    }
    /* The server's defaults (databases, limits) for its RDB loader; notices
     * of the loader stay quiet. */
    char *cerr = NULL;
    if (configLoadFile(NULL, "", &cerr) == -1) {
        fprintf(stderr, "cachet-snapshot: %s\n", cerr ? cerr : "configuration error");
        memFree(cerr);
        return ST_ENV;
    }
    srv.verbosity = LL_WARNING;
    serverUpdateCachedTime();
    dbInitAll();
    if (!strcmp(cmd, "inspect")) return snapInspect(pos[1], ringPath, 1);
    if (!strcmp(cmd, "verify")) return snapInspect(pos[1], ringPath, 0);
    if (!strcmp(cmd, "decrypt")) return snapDecrypt(pos[1], pos[2], ringPath);
    return snapEncrypt(pos[1], pos[2], ringPath, keyId);
}
