/* cmd_server.c - STUB. */
#include "server.h"
cmdDef serverCommands[] = {{0}};
