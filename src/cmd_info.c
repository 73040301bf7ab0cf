/* cmd_info.c - STUB. */
#include "server.h"
cmdDef infoCommands[] = {{0}};
