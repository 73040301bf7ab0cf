/* keyring.h - named 256-bit keys for snapshot encryption at rest.
 *
 * Owns: the keyring file format and its parser, and the server's loaded
 * keyring (from `keyring-file`). Must never: print, log or return key
 * material (only ids), keep key bytes in memory it has freed without wiping
 * them, or accept a file it cannot fully validate.
 *
 * Keyring file format (text, one directive a line; blank lines and lines
 * whose first non-blank character is '#' are ignored):
 *
 *     # production snapshot keys
 *     key alias/cache-backups  9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *     key key-2026-11          60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
 *     default alias/cache-backups
 *
 * - `key <id> <hex>`: a 256-bit key, exactly 64 hex digits (either case).
 *   Ids are 1..255 bytes of [A-Za-z0-9] and "/_-.:+=@" (KMS key ids, aliases
 *   and ARNs fit); an id appears once.
 * - `default <id>`: exactly once, naming a key of this file.
 * - The file must not be accessible by "others" (mode & 007): refused, as ssh
 *   refuses private keys. Group-readable (mode & 070) is allowed with a
 *   warning (e.g. a 0440 secret shared with a backup group).
 * Every error names the file and line; none repeats key bytes. */
#ifndef CACHET_KEYRING_H
#define CACHET_KEYRING_H
#include <stddef.h>

#define KEYRING_KEY_LEN 32
#define KEYRING_ID_MAX 255

typedef struct keyringKey {
    char *id; /* NUL-terminated */
    unsigned char key[KEYRING_KEY_LEN];
} keyringKey;

typedef struct keyring {
    keyringKey *keys;
    int count;
    int defaultIdx;
} keyring;

/* Parses keyring text; origin names it in errors (a path). NULL + err on any
 * error. */
keyring *keyringParse(const char *text, size_t len, const char *origin, char *err, size_t errlen);
/* Reads and parses a file, checking its permissions. warn (may be NULL)
 * receives a non-fatal remark ("" when none). */
keyring *keyringLoadFile(const char *path, char *err, size_t errlen, char *warn, size_t warnlen);
void keyringFree(keyring *kr); /* wipes the key bytes */
const keyringKey *keyringFind(const keyring *kr, const char *id, size_t idlen);
const keyringKey *keyringDefault(const keyring *kr);
int keyringValidId(const char *id, size_t len);

/* The server's keyring (NULL when keyring-file is not set). */
const keyring *keyringServer(void);
/* The key new snapshots are sealed with: NULL when snapshot-encryption is no.
 * Sets err (and returns NULL) if encryption is on but no key is usable. */
const keyringKey *keyringSnapshotKey(int *encrypt, char *err, size_t errlen);

/* keyring.c (types and parser in keyring.h): snapshot encryption keys.
 * keyringInitFromConfig loads keyring-file at start-up (serverInit) and
 * refuses a bad file or an encryption setting it cannot honour. */
int keyringInitFromConfig(char *err, size_t errlen);
int keyringCheckKeyIdConfig(const char *v, char *err, size_t errlen);  /* config checkStr */
int keyringCheckEncryptionConfig(long long v, char *err, size_t errlen); /* config checkNum */

#endif
