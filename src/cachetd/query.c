/* query.c - form-encoded parameters and the XML of replies (query.h).
 * Owns only the cdParams it builds; must never touch HTTP, files or nodes. */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mem.h"

void cdParamsFree(cdParams *p) {
    for (int i = 0; i < p->n; i++) {
        memFree(p->k[i]);
        memFree(p->v[i]);
    }
    memFree(p->k);
    memFree(p->v);
    memset(p, 0, sizeof(*p));
}

static int findKey(const cdParams *p, const char *key) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->k[i], key)) return i;
    return -1;
}

const char *cdParamsGet(const cdParams *p, const char *key) {
    int i = findKey(p, key);
    return i < 0 ? NULL : p->v[i];
}

static void addOwned(cdParams *p, char *k, char *v) {
    int i = findKey(p, k);
    if (i >= 0) {
        memFree(p->k[i]);
        memFree(p->v[i]);
        p->k[i] = k;
        p->v[i] = v;
        return;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->k = memRealloc(p->k, sizeof(char *) * (size_t)p->cap);
        p->v = memRealloc(p->v, sizeof(char *) * (size_t)p->cap);
    }
    p->k[p->n] = k;
    p->v[p->n] = v;
    p->n++;
}

void cdParamsSet(cdParams *p, const char *key, const char *val) { addOwned(p, memStrdup(key), memStrdup(val)); }

void cdParamsDel(cdParams *p, const char *key) {
    int i = findKey(p, key);
    if (i < 0) return;
    memFree(p->k[i]);
    memFree(p->v[i]);
    memmove(p->k + i, p->k + i + 1, sizeof(char *) * (size_t)(p->n - i - 1));
    memmove(p->v + i, p->v + i + 1, sizeof(char *) * (size_t)(p->n - i - 1));
    p->n--;
}

static int hexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) ('+' is a space) into a new string, or NULL. */
static char *unescape(const char *s, size_t len) {
    char *out = memAlloc(len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                memFree(out);
                return NULL;
            }
            int a = hexVal(s[i + 1]), b = hexVal(s[i + 2]);
            if (a < 0 || b < 0) {
                memFree(out);
                return NULL;
            }
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    if (strlen(out) != (size_t)(o - out)) { /* an escaped NUL: never a valid parameter */
        memFree(out);
        return NULL;
    }
    return out;
}

int cdFormDecode(const char *s, size_t len, cdParams *p, char *err, size_t errlen) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=') eq++;
            char *k = unescape(s + i, eq - i);
            char *v = eq < j ? unescape(s + eq + 1, j - eq - 1) : memStrdup("");
            if (!k || !v) {
                memFree(k);
                memFree(v);
                snprintf(err, errlen, "Malformed form-encoded parameter");
                return -1;
            }
            addOwned(p, k, v);
        }
        i = j + 1;
    }
    return 0;
}

void cdUriEncode(textBuf *b, const char *s, size_t len, int keepSlash) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (keepSlash && c == '/'))
            textAppend(b, "%c", c);
        else
            textAppend(b, "%%%02X", c);
    }
}

char *cdFormEncode(const cdParams *p) {
    textBuf b = {0};
    textAppend(&b, "%s", "");
    for (int i = 0; i < p->n; i++) {
        if (i) textAppend(&b, "&");
        cdUriEncode(&b, p->k[i], strlen(p->k[i]), 0);
        textAppend(&b, "=");
        cdUriEncode(&b, p->v[i], strlen(p->v[i]), 0);
    }
    return b.p;
}

int cdParamBool(const cdParams *p, const char *key, int dflt) {
    const char *v = cdParamsGet(p, key);
    if (!v) return dflt;
    if (!strcasecmp(v, "true")) return 1;
    if (!strcasecmp(v, "false")) return 0;
    return -1;
}

int cdParamInt(const cdParams *p, const char *key, long long dflt, long long *out) {
    const char *v = cdParamsGet(p, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    return string2ll(v, strlen(v), out) ? 0 : -1;
}

/* Runs of plain characters are copied whole: a listing of 100 groups is
 * some 100 KB of mostly plain text. */
void cdXmlText(textBuf *b, const char *s) {
    for (;;) {
        size_t run = strcspn(s, "&<>\"'");
        if (run) textAppendBytes(b, s, run);
        s += run;
        if (!*s) return;
        switch (*s++) {
        case '&': textAppendBytes(b, "&amp;", 5); break;
        case '<': textAppendBytes(b, "&lt;", 4); break;
        case '>': textAppendBytes(b, "&gt;", 4); break;
        case '"': textAppendBytes(b, "&quot;", 6); break;
        default: textAppendBytes(b, "&apos;", 6); break;
        }
    }
}

static void xmlTag(textBuf *b, const char *name, int close) {
    textAppendBytes(b, close ? "</" : "<", close ? 2 : 1);
    textAppendBytes(b, name, strlen(name));
    textAppendBytes(b, ">", 1);
}

void cdXmlElem(textBuf *b, const char *name, const char *v) {
    if (!v) return;
    xmlTag(b, name, 0);
    cdXmlText(b, v);
    xmlTag(b, name, 1);
}

void cdXmlElemInt(textBuf *b, const char *name, long long v) { textAppend(b, "<%s>%lld</%s>", name, v, name); }

void cdXmlElemBool(textBuf *b, const char *name, int v) {
    textAppend(b, "<%s>%s</%s>", name, v ? "true" : "false", name);
}

void cdXmlElemTime(textBuf *b, const char *name, long long ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    textAppend(b, "<%s>%s.%03lldZ</%s>", name, ts, ms % 1000, name);
}

char *cdXmlResponse(const char *action, const char *body, const char *requestId) {
    textBuf b = {0};
    /* The whitespace before </...Result> must hold a newline, as AWS' does:
     * the JavaScript SDK's XML parser keeps a whitespace-only text node
     * without one, and then reads the whole Result element as that text (an
     * output with no fields). */
    size_t n = strlen(body);
    const char *nl = n && body[n - 1] == '\n' ? "" : "\n";
    textAppend(&b, "<%sResponse xmlns=\"%s\">\n  <%sResult>\n", action, CD_XMLNS, action);
    textAppendBytes(&b, body, n); /* can be 100 KB: copied, not formatted */
    textAppend(&b, "%s  </%sResult>\n", nl, action);
    textAppend(&b, "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n</%sResponse>\n",
               requestId, action);
    return b.p;
}

char *cdXmlError(const char *code, const char *message, const char *requestId) {
    textBuf b = {0};
    textAppend(&b, "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>Sender</Type>\n", CD_XMLNS);
    textAppend(&b, "    <Code>");
    cdXmlText(&b, code);
    textAppend(&b, "</Code>\n    <Message>");
    cdXmlText(&b, message);
    textAppend(&b, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", requestId);
    return b.p;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long long daysFromCivil(long long y, long long m, long long d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, long long *out) {
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

int cdParseTime(const char *s, long long *ms) {
    long long y, mo, d, h, mi, sec, frac = 0;
    if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3) frac = frac * 10 + (*p - '0');
        if (!n) return -1;
        for (; n < 3; n++) frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') p++;
    else if (!strcmp(p, "+00:00")) p += 6;
    if (*p) return -1;
    *ms = ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000 + frac;
    return 0;
}
