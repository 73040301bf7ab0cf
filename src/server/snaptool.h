/* snaptool.h - the cachet-snapshot tool (snaptool.c). */
#ifndef CACHET_SNAPTOOL_H
#define CACHET_SNAPTOOL_H


/* snaptool.c: the cachet-snapshot tool (main.c runs it when argv[0]'s
 * basename is cachet-snapshot); returns the exit status. */
int snaptoolMain(int argc, char **argv);

#endif
