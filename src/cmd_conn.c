/* cmd_conn.c - STUB. */
#include "server.h"
static void pingCommand(client *c) {
    if (c->argc > 2) { replyErrorArity(c); return; }
    if (c->argc == 2) replySlice(c, c->argv[1]); else replyStatus(c, "PONG");
}
cmdDef connCommands[] = {
    {.name = "ping", .proc = pingCommand, .arity = -1, .flags = CMD_FAST, .acl = ACL_CONNECTION, .group = "connection", .since = "1.0.0", .summary = "Ping the server"},
    {0}};
