/* cachetd_sigv4_query.c - cachetd's pure modules: SigV4 against AWS'
 * published test-suite vectors (aws-sig-v4-test-suite: get-vanilla,
 * post-vanilla, get-vanilla-query-order-key-case,
 * post-x-www-form-urlencoded), the verifier's error codes, the form decoder
 * and the XML envelope botocore parses. */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "query.h"
#include "sigv4.h"
#include "unit.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

typedef struct hdrs {
    const char *names[8], *values[8];
} hdrs;

static const char *look(void *ctx, const char *name) {
    hdrs *h = ctx;
    for (int i = 0; i < 8 && h->names[i]; i++)
        if (!strcmp(h->names[i], name)) return h->values[i];
    return NULL;
}

static void vector(const char *method, const char *query, const char *body, const char *ctype, const char *signedH,
                   const char *want) {
    hdrs h = {{"host", "x-amz-date", "content-type"}, {"example.amazonaws.com", "20150830T123600Z", ctype}};
    cdSigReq r = {.method = method, .path = "/", .query = query, .body = body, .bodyLen = strlen(body),
                  .header = look, .ctx = &h};
    char sig[65];
    cdSigV4Compute(&r, SECRET, "20150830T123600Z", "20150830", "us-east-1", "service", signedH, sig);
    CHECKF(!strcmp(sig, want), "%s %s: got %s want %s", method, query, sig, want);
}

static void verifyCases(void) {
    unitCurrent = "verify";
    char code[CD_SIG_CODE_LEN], msg[CD_SIG_MSG_LEN];
    hdrs h = {{"host", "x-amz-date", "authorization"},
              {"example.amazonaws.com", "20150830T123600Z",
               "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
               "SignedHeaders=host;x-amz-date, "
               "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}};
    /* 1440938160 is the vectors' 20150830T123600Z. */
    cdSigReq r = {.method = "GET", .path = "/", .query = "", .body = "", .bodyLen = 0, .header = look, .ctx = &h,
                  .now = 1440938160};
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == 0);
    /* The replay window: 15 minutes either way of the server's clock, the
     * edges included, AWS' wording outside it. */
    r.now = 1440938160 + 900;
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == 0);
    r.now = 1440938160 - 900;
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == 0);
    r.now = 1440938160 + 901;
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "SignatureDoesNotMatch"));
    CHECKF(!strcmp(msg, "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
                        "(20150830T125101Z - 15 min.)"), "%s", msg);
    r.now = 1440938160 - 3600;
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "SignatureDoesNotMatch"));
    CHECKF(!strcmp(msg, "Signature not yet current: 20150830T123600Z is still later than 20150830T115100Z "
                        "(20150830T113600Z + 15 min.)"), "%s", msg);
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", "wrong", 1, code, msg) == 0); /* relaxed mode: no window either */
    r.now = 1440938160;
    h.values[1] = "20150830T1236a0Z"; /* not ISO 8601 basic */
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "IncompleteSignature"));
    h.values[1] = "20150830T123600Z";
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == 0);
    CHECK(cdSigV4Verify(&r, "AKIDOTHER", SECRET, 0, code, msg) == -1 && !strcmp(code, "InvalidClientTokenId"));
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", "wrong", 0, code, msg) == -1 && !strcmp(code, "SignatureDoesNotMatch"));
    r.method = "POST"; /* a changed request no longer matches */
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "SignatureDoesNotMatch"));
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", "wrong", 1, code, msg) == 0); /* relaxed mode */
    h.values[2] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "IncompleteSignature"));
    h.values[2] = "Basic Zm9vOmJhcg==";
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 && !strcmp(code, "IncompleteSignature"));
    h.names[2] = NULL;
    CHECK(cdSigV4Verify(&r, "AKIDEXAMPLE", SECRET, 0, code, msg) == -1 &&
          !strcmp(code, "MissingAuthenticationToken"));
}

static void formCases(void) {
    unitCurrent = "form";
    cdParams p = {0};
    char err[64];
    const char *s = "Action=CreateReplicationGroup&Version=2015-02-02&Tags.Tag.1.Value=a%20b+c&Empty=&Flag";
    CHECK(cdFormDecode(s, strlen(s), &p, err, sizeof(err)) == 0);
    CHECK(p.n == 5);
    CHECK(!strcmp(cdParamsGet(&p, "Action"), "CreateReplicationGroup"));
    CHECK(!strcmp(cdParamsGet(&p, "Tags.Tag.1.Value"), "a b c"));
    CHECK(!strcmp(cdParamsGet(&p, "Empty"), "") && !strcmp(cdParamsGet(&p, "Flag"), ""));
    char *enc = cdFormEncode(&p);
    cdParams q = {0};
    CHECK(cdFormDecode(enc, strlen(enc), &q, err, sizeof(err)) == 0 && q.n == 5 &&
          !strcmp(cdParamsGet(&q, "Tags.Tag.1.Value"), "a b c"));
    memFree(enc);
    cdParamsFree(&q);
    cdParamsFree(&p);
    const char *bad[] = {"A=%", "A=%4", "A=%zz", "A=%00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECKF(cdFormDecode(bad[i], strlen(bad[i]), &p, err, sizeof(err)) == -1, "%s", bad[i]);
        cdParamsFree(&p);
    }
    long long v;
    cdParamsSet(&p, "N", "12");
    cdParamsSet(&p, "B", "TRUE");
    cdParamsSet(&p, "X", "yes");
    CHECK(cdParamInt(&p, "N", 0, &v) == 0 && v == 12);
    CHECK(cdParamInt(&p, "B", 0, &v) == -1);
    CHECK(cdParamInt(&p, "Absent", 7, &v) == 0 && v == 7);
    CHECK(cdParamBool(&p, "B", 0) == 1 && cdParamBool(&p, "X", 0) == -1 && cdParamBool(&p, "Absent", 0) == 0);
    cdParamsFree(&p);
}

static void xmlCases(void) {
    unitCurrent = "xml";
    char *x = cdXmlError("InvalidParameterValue", "a<b & \"c\"", "rid-1");
    CHECK(strstr(x, "<ErrorResponse xmlns=\"" CD_XMLNS "\">") != NULL);
    CHECK(strstr(x, "<Type>Sender</Type>") && strstr(x, "<Code>InvalidParameterValue</Code>"));
    CHECK(strstr(x, "<Message>a&lt;b &amp; &quot;c&quot;</Message>") != NULL);
    CHECK(strstr(x, "</Error>\n  <RequestId>rid-1</RequestId>\n</ErrorResponse>") != NULL);
    memFree(x);
    x = cdXmlResponse("DescribeEvents", "<Events></Events>\n", "rid-2");
    CHECK(!strncmp(x, "<DescribeEventsResponse xmlns=\"" CD_XMLNS "\">\n  <DescribeEventsResult>\n<Events>", strlen("<DescribeEventsResponse xmlns=\"" CD_XMLNS "\">\n  <DescribeEventsResult>\n<Events>")));
    CHECK(strstr(x, "</DescribeEventsResult>\n  <ResponseMetadata>\n    <RequestId>rid-2</RequestId>") != NULL);
    memFree(x);
    x = cdXmlResponse("DescribeEvents", "<Events></Events>", "rid-3");  /* a newline before </...Result> always */
    CHECK(strstr(x, "<Events></Events>\n  </DescribeEventsResult>\n") != NULL);
    memFree(x);
    textBuf b = {0};
    cdXmlElemTime(&b, "Date", 1440938160123LL);
    CHECK(!strcmp(b.p, "<Date>2015-08-30T12:36:00.123Z</Date>"));
    memFree(b.p);
}

/* cdParseTime: what botocore sends (with and without a fraction), the
 * inverse of cdXmlElemTime, and what it refuses. */
static void timeCases(void) {
    unitCurrent = "time";
    long long ms;
    CHECK(cdParseTime("2015-08-30T12:36:00.123Z", &ms) == 0 && ms == 1440938160123LL);
    CHECK(cdParseTime("2015-08-30T12:36:00Z", &ms) == 0 && ms == 1440938160000LL);
    CHECK(cdParseTime("2015-08-30T12:36:00.123456Z", &ms) == 0 && ms == 1440938160123LL);
    CHECK(cdParseTime("2015-08-30T12:36:00.5+00:00", &ms) == 0 && ms == 1440938160500LL);
    CHECK(cdParseTime("1970-01-01T00:00:00", &ms) == 0 && ms == 0);
    CHECK(cdParseTime("2000-02-29T23:59:59Z", &ms) == 0 && ms == 951868799000LL);
    const char *bad[] = {"", "yesterday", "2015-08-30", "2015-13-01T00:00:00Z", "2015-08-30T24:00:00Z",
                         "2015-08-30T12:36:00.Z", "2015-08-30T12:36:00+02:00", "2015-08-30T12:36:00Zjunk"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECKF(cdParseTime(bad[i], &ms) == -1, "%s", bad[i]);
}

int main(void) {
    unitCurrent = "vectors";
    vector("GET", "", "", NULL, "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    vector("POST", "", "", NULL, "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    vector("GET", "Param2=value2&Param1=value1", "", NULL, "host;x-amz-date",
           "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    vector("POST", "", "Param1=value1", "application/x-www-form-urlencoded", "content-type;host;x-amz-date",
           "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    verifyCases();
    formCases();
    xmlCases();
    timeCases();
    return unitDone();
}
