/* cmd_keys.c - STUB. */
#include "server.h"
static void delCommand(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) n += dbDelete(c->db, c->argv[i].p, c->argv[i].len);
    srv.dirty += n;
    replyLongLong(c, n);
}
cmdDef keyCommands[] = {
    {.name = "del", .proc = delCommand, .arity = -2, .flags = CMD_WRITE, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Delete a key"},
    {0}};
