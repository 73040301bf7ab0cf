/* acl_int.h - what the files of the ACL module share (acl.c: users, rules,
 * the check, the file and the ACL command; acl_describe.c: a user as ACL
 * LIST / GETUSER / the ACL file print it; acl_log.c: ACL LOG). Nothing
 * outside those files includes it: acl.h is the module's public header. */
#ifndef CACHET_ACL_INT_H
#define CACHET_ACL_INT_H

#include "acl.h"
#include "client.h"
#include "cmd.h"
#include "util.h"

#define USER_ON (1 << 0)
#define USER_NOPASS (1 << 1)
#define USER_ALLKEYS (1 << 2)     /* ~* : every key, read and write */
#define USER_ALLCHANNELS (1 << 3) /* &*  */
#define USER_FUTURE (1 << 4)      /* +@all: commands not in the table yet are allowed */
#define USER_SANITIZE (1 << 5)    /* shown after "reset", as Redis does */

#define PERM_R 1
#define PERM_W 2


typedef struct keyPattern {
    char *pat;
    int perm;
    size_t len;
    long prefix; /* "abc*" with no other glob syntax: 3 (a prefix test, no glob); else -1 */
} keyPattern;

struct aclUser {
    char *name;
    int flags;
    unsigned char (*pass)[32];
    int npass;
    uint64_t *allowed; /* bit per command id */
    keyPattern *keys;
    int nkeys;
    char **chans;
    int nchans;
    int unrestricted; /* cached: on, every command, every key, every channel */
};

extern int aclCmdWords; /* uint64_t words in a command bitmap (acl.c) */
extern cmdDef **aclCmdById; /* every command and subcommand by id */
extern int aclNCmdIds;

/* acl.c: command bitmaps and password hashes. */
void aclBitsSet(uint64_t *bits, int id, int on);
int aclBitsGet(const uint64_t *bits, int id);
void aclPermChange(uint64_t *bits, const cmdDef *cmd, int on);   /* a command and its subcommands */
void aclCategoryApply(uint64_t *bits, uint64_t cat, int on);      /* +@cat / -@cat */
void aclHashHex(const unsigned char h[32], char out[65]);

/* acl_describe.c: memAlloc'd "user NAME rules..." (forFile: the ACL file's
 * quoting), and the parts ACL GETUSER prints on their own. */
char *aclDescribe(const aclUser *u, int forFile);
void aclDescribeCommands(const aclUser *u, textBuf *b);
void aclDescribeKeys(const aclUser *u, textBuf *b);
void aclDescribeChannels(const aclUser *u, textBuf *b);

/* acl_log.c: ACL LOG [count|RESET]. */
void aclLogCommand(client *c);

#endif
