/* sigv4.h - AWS Signature Version 4 checking and the shared-credentials
 * file the SDKs read (AWS_SHARED_CREDENTIALS_FILE=DIR/credentials).
 *
 * Owns: nothing beyond the strings it returns. Must never log or return the
 * secret key, and never trust anything of the request it did not recompute. */
#ifndef CACHETD_SIGV4_H
#define CACHETD_SIGV4_H
#include <stddef.h>

/* Looks a request header up by lower-case name; NULL when absent. */
typedef const char *cdHeaderLookup(void *ctx, const char *lowerName);

typedef struct cdSigReq {
    const char *method, *path, *query; /* query: raw, without '?', may be "" */
    const char *body;
    size_t bodyLen;
    cdHeaderLookup *header;
    void *ctx;
    long long now; /* the server's clock, Unix seconds: X-Amz-Date must be within 15 minutes of it */
} cdSigReq;

#define CD_SIG_CODE_LEN 64
#define CD_SIG_MSG_LEN 512
#define CD_SIG_WINDOW_S (15 * 60)

/* 0 when the request carries a valid SigV4 signature by accessKey/secret,
 * dated (X-Amz-Date) within CD_SIG_WINDOW_S of r->now; -1 with AWS' error
 * code (IncompleteSignature, SignatureDoesNotMatch, InvalidClientTokenId,
 * MissingAuthenticationToken) and message otherwise. A signature too old or
 * too far ahead is SignatureDoesNotMatch with AWS' "Signature expired" /
 * "Signature not yet current" text: it bounds how long a captured request
 * can be replayed.
 * anySignature: accept any well-formed or missing signature (relaxed mode). */
int cdSigV4Verify(const cdSigReq *r, const char *accessKey, const char *secret, int anySignature, char *code,
                  char *msg);

/* The hex signature of r for the given credential scope parts and signed
 * header list ("host;x-amz-date"); out has 65 bytes. For the unit test and
 * for cdSigV4Verify. */
void cdSigV4Compute(const cdSigReq *r, const char *secret, const char *amzDate, const char *scopeDate,
                    const char *region, const char *service, const char *signedHeaders, char *out);

/* Reads [default] from path, creating it (mode 0600) with a random pair
 * when it does not exist. 0, or -1 with err. Outputs are NUL-terminated. */
int cdCredentialsLoad(const char *path, char *akid, size_t akidLen, char *secret, size_t secretLen, char *err,
                      size_t errlen);
#endif
