/* cli.h - `cachetd rotate-ca`: the operator's command for the CA rotation,
 * a client of the running daemon. It reads the API's address from
 * DIR/endpoint (written by the daemon at start), the credentials from
 * DIR/credentials, signs a Query request with SigV4 as any SDK would and
 * verifies an HTTPS API against DIR/ca.pem.
 *
 * Must never change the state itself (only the daemon does, in its store),
 * nor print the secret key. */
#ifndef CACHETD_CLI_H
#define CACHETD_CLI_H

/* argv[0] is "rotate-ca"; the process's exit code. */
int cdCliRotateCa(int argc, char **argv);
/* Written by the daemon: DIR/endpoint holds url (renamed into place). */
int cdCliWriteEndpoint(const char *dir, const char *url);
#endif
