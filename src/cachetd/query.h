/* query.h - the ElastiCache Query protocol's data: form-encoded parameter
 * lists (requests, and the records the store keeps) and the XML writer of
 * replies and AWS error documents.
 *
 * Owns: cdParams lists (their keys and values are heap copies it frees).
 * Must never know about HTTP, the store or the nodes: pure text in, text out,
 * so the unit test drives it without a daemon. */
#ifndef CACHETD_QUERY_H
#define CACHETD_QUERY_H
#include <stddef.h>
#include "util.h"

#define CD_XMLNS "http://elasticache.amazonaws.com/doc/2015-02-02/"

/* Ordered key/value pairs; a later cdParamsSet of an existing key replaces. */
typedef struct cdParams {
    int n, cap;
    char **k, **v; /* owned */
} cdParams;

void cdParamsFree(cdParams *p);
const char *cdParamsGet(const cdParams *p, const char *key); /* NULL if absent */
void cdParamsSet(cdParams *p, const char *key, const char *val);
void cdParamsDel(cdParams *p, const char *key);
/* Parses application/x-www-form-urlencoded text into p (appended). -1 on a
 * malformed %-escape, with a message in err. */
int cdFormDecode(const char *s, size_t len, cdParams *p, char *err, size_t errlen);
/* The params as form text, keys in order; caller memFree()s. */
char *cdFormEncode(const cdParams *p);
/* RFC 3986 percent-encoding (unreserved kept), as SigV4 wants. */
void cdUriEncode(textBuf *b, const char *s, size_t len, int keepSlash);

/* "true"/"false" (any case) -> 1/0, absent -> dflt, else -1. */
int cdParamBool(const cdParams *p, const char *key, int dflt);
/* Integer param: 0 ok (absent -> dflt), -1 not an integer. */
int cdParamInt(const cdParams *p, const char *key, long long dflt, long long *out);

/* An ISO 8601 UTC time as botocore sends it (YYYY-MM-DDTHH:MM:SS, optional
 * fraction, optional Z or +00:00) into milliseconds since the epoch. 0 ok,
 * -1 malformed. */
int cdParseTime(const char *s, long long *ms);

/* XML text with &<>"' escaped. */
void cdXmlText(textBuf *b, const char *s);
/* <name>escaped value</name>; nothing when v is NULL. */
void cdXmlElem(textBuf *b, const char *name, const char *v);
void cdXmlElemInt(textBuf *b, const char *name, long long v);
void cdXmlElemBool(textBuf *b, const char *name, int v);
/* ISO 8601 UTC with milliseconds, as botocore's timestamp parser reads. */
void cdXmlElemTime(textBuf *b, const char *name, long long ms);

/* The success envelope around body: <ActionResponse xmlns><ActionResult>
 * body</ActionResult><ResponseMetadata>... Caller memFree()s. */
char *cdXmlResponse(const char *action, const char *body, const char *requestId);
/* AWS' error document botocore's query parser reads. Caller memFree()s. */
char *cdXmlError(const char *code, const char *message, const char *requestId);
#endif
