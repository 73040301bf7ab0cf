/* t_string.c - STUB: GET and plain SET. */
#include "server.h"
static void getCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) { replyNull(c); return; }
    if (e->type != OBJ_STRING) { replyErrorWrongType(c); return; }
    char nb[LONG_STR_SIZE]; const char *p; size_t len;
    objStringBytes(e, nb, &p, &len);
    replyBulk(c, p, len);
}
static void setCommand(client *c) {
    dbEntry *e = objNewStringEntry(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len);
    dbSetKey(c->db, e, 0);
    srv.dirty++;
    replyOk(c);
}
cmdDef stringCommands[] = {
    {.name = "get", .proc = getCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0", .summary = "Get the value of a key"},
    {.name = "set", .proc = setCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0", .summary = "Set the string value of a key"},
    {0}};
