/* fuzz_certname.c - the client-certificate user name (tlsSubjectCommonName,
 * conn_tls.c): which bytes of a certificate subject may log a client in.
 *
 * Input: byte 0 the capacity of the name buffer (0..255, plus 0 or 256 by bit
 * pattern), then entries of [attribute selector, string type, length, bytes]
 * built in the harness into an X509_NAME with raw ASN.1 string types (UTF8,
 * Printable, IA5, T61, BMP, Universal: any bytes, NULs included, odd lengths
 * for BMP/Universal too), an entry sometimes joined to the previous RDN; the
 * name then goes through DER and back, as a peer certificate's would.
 * Checks: the buffer (allocated exactly cap bytes) is never overrun; a name is
 * accepted only if it has exactly one CN whose UTF-8 form is 1..cap bytes
 * with no NUL, and then the bytes returned are that whole form (never a
 * truncation); for a UTF8String, or ASCII in a single-byte type, that form
 * is the raw bytes the harness put in. Never exits. */
#include "fuzz_common.h"
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

static const int nids[] = {NID_commonName, NID_commonName, NID_organizationName, NID_organizationalUnitName,
                           NID_countryName, NID_pkcs9_emailAddress, NID_serialNumber, NID_userId};
static const int types[] = {V_ASN1_UTF8STRING, V_ASN1_PRINTABLESTRING, V_ASN1_IA5STRING,
                            V_ASN1_T61STRING,  V_ASN1_BMPSTRING,       V_ASN1_UNIVERSALSTRING};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 8192) return 0;
    size_t cap = data[0] == 255 ? 256 : data[0];
    X509_NAME *built = X509_NAME_new();
    if (!built) abort();
    int cns = 0, lastCnType = -1;
    const uint8_t *cnBytes = NULL;
    size_t cnLen = 0, pos = 1;
    while (pos + 3 <= size) {
        int nid = nids[data[pos] & 7];
        int sameRdn = (data[pos] & 8) && X509_NAME_entry_count(built) > 0;
        int type = types[data[pos + 1] % 6];
        size_t len = data[pos + 2];
        if (data[pos] & 16) len += 256; /* long values too */
        pos += 3;
        if (len > size - pos) len = size - pos;
        X509_NAME_ENTRY *e =
            X509_NAME_ENTRY_create_by_NID(NULL, nid, type, (const unsigned char *)data + pos, (int)len);
        if (e) {
            if (X509_NAME_add_entry(built, e, -1, sameRdn ? -1 : 0) == 1 && nid == NID_commonName) {
                cns++;
                lastCnType = type;
                cnBytes = data + pos;
                cnLen = len;
            }
            X509_NAME_ENTRY_free(e);
        }
        pos += len;
    }
    ERR_clear_error();
    /* Through DER, as the peer's certificate arrives. */
    unsigned char *der = NULL;
    int derLen = i2d_X509_NAME(built, &der);
    X509_NAME *name = NULL;
    if (derLen > 0) {
        const unsigned char *p = der;
        name = d2i_X509_NAME(NULL, &p, derLen);
    }
    OPENSSL_free(der);
    X509_NAME_free(built);
    ERR_clear_error();
    if (!name) return 0;

    char *buf = malloc(cap ? cap : 1); /* exactly cap bytes: ASan sees any overrun */
    if (!buf) abort();
    size_t got = 12345;
    int ok = tlsSubjectCommonName(name, buf, cap, &got);

    /* The oracle, from the parsed name. */
    int count = 0, idx = -1, expectOk = 0;
    unsigned char *utf8 = NULL;
    int n = -1;
    for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) {
        count++;
        idx = i;
    }
    if (count == 1) {
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
        expectOk = n > 0 && (size_t)n <= cap && !memchr(utf8, 0, (size_t)n);
    }
    if (ok != expectOk) abort();
    if (ok && (got != (size_t)n || memcmp(buf, utf8, (size_t)n) != 0)) abort();
    if (!ok && got != 0) abort();
    if (count != cns) abort(); /* DER round trip kept every CN */
    int ascii = 1;
    for (size_t i = 0; i < cnLen; i++)
        if (cnBytes[i] & 0x80) ascii = 0;
    if (ok && (lastCnType == V_ASN1_UTF8STRING || ascii) && lastCnType != V_ASN1_BMPSTRING &&
        lastCnType != V_ASN1_UNIVERSALSTRING && (got != cnLen || memcmp(buf, cnBytes, cnLen) != 0))
        abort();
    OPENSSL_free(utf8);
    free(buf);
    X509_NAME_free(name);
    ERR_clear_error();
    return 0;
}
