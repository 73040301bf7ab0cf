/* acl.h - users, the permission check before every command, ACL LOG and
 * the ACL file (acl.c). */
#ifndef CACHET_ACL_H
#define CACHET_ACL_H

#include <stddef.h>
#include <stdint.h>
#include "client.h"
#include "cmd.h"

/* acl.c: users, the check before every command, ACL LOG, the ACL file */
typedef struct aclUser aclUser;
#define ACL_OK 0
#define ACL_DENIED_CMD 1
#define ACL_DENIED_KEY 2
#define ACL_DENIED_CHANNEL 3
#define ACL_DENIED_AUTH 4
typedef struct aclStats {
    long long deniedCmd, deniedKey, deniedChannel, deniedAuth;
} aclStats;
extern aclStats aclStat;
void aclInit(void);                   /* after cmdInitTable, before the config file */
int aclInitFromConfig(char *err, size_t errlen); /* loads aclfile if set */
int aclConfigUser(char **argv, const size_t *lens, int argc, char *err, size_t errlen); /* "user" config line */
aclUser *aclGetUser(const char *name, size_t len);
aclUser *aclDefaultUser(void);
const char *aclUserName(const aclUser *u);
char *aclDescribeUser(const aclUser *u); /* "user NAME rules..." as ACL LIST shows it; caller frees */
char *aclDescribeUserFile(const aclUser *u); /* the same as a file line: names/patterns with quotes quoted */
int aclDescribeUsers(char ***lines);     /* every user as a config file line, sorted by name; caller frees each and the array */
int aclUserUnrestricted(const aclUser *u);
int aclDefaultAutoAuth(void);         /* default user is on and nopass */
int aclDefaultNoPass(void);
int aclCategoryFromName(const char *name, size_t len, uint64_t *out);
/* ACL_OK or the ACL_DENIED_* reason; *badArg = argument index at fault. */
int aclCheck(const aclUser *u, cmdDef *cmd, slice *argv, int argc, int *badArg);
void aclDeny(client *c, cmdDef *cmd, int reason, int badArg);  /* -NOPERM + ACL LOG */
int aclDenyQueued(client *c, cmdDef *cmd); /* EXEC: 1 = denied now, error replied */
void aclLogDenial(client *c, int reason, const char *object, size_t olen, const char *username);
void aclLogScriptDenial(client *caller, int reason, const char *object, size_t olen, const char *username);
int aclAuthenticate(client *c, slice user, slice pass); /* 0 ok, -1 denied (logged) */
void aclAuthenticateByCertificate(client *c);
void aclSetDefaultPassword(const char *pass, size_t len);
int aclLoadFile(char *err, size_t errlen);
int aclSaveFile(char *err, size_t errlen);
void aclResetStats(void);

#endif
