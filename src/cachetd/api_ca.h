/* api_ca.h - the actions on cachetd's certificate authority, beside the
 * ElastiCache ones on the same API (SigV4-signed Query requests):
 * RotateCertificateAuthority, CompleteCertificateAuthorityRotation,
 * DescribeCertificateAuthority (docs/control-plane.md, "CA rotation");
 * `cachetd rotate-ca` (cli.h) is their command-line client.
 *
 * Must never be used without cd.lock held; never talks to a node (the
 * reconciler's CA pass does the node work). */
#ifndef CACHETD_API_CA_H
#define CACHETD_API_CA_H
#include "group.h"
#include "query.h"

/* Runs action if it is one of this file's: 1 (out filled), else 0. */
int cdCaDispatch(const char *action, const cdParams *p, const char *rid, cdReply *out);
#endif
