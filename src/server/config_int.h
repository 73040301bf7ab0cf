/* config_int.h - what config.c (the parameter table, loading, CONFIG GET/SET)
 * shares with config_rewrite.c (CONFIG REWRITE). Not for other modules:
 * they use the config functions declared in server.h.
 * Must never: grow into a second way to change parameters; values are
 * stored only by config.c. */
#ifndef CACHET_CONFIG_INT_H
#define CACHET_CONFIG_INT_H
#include "server.h"
#include "db.h"
#include "client.h"
#include <stdio.h>

enum { CT_BOOL, CT_NUM, CT_ENUM, CT_STRING, CT_SPECIAL };
/* Storage width of a numeric field; unsigned kinds get unsigned bound checks
 * (as Redis does for uint / unsigned long long configs). */
enum { NK_INT, NK_UINT, NK_LL, NK_ULONG, NK_ULL };

#define CF_IMMUTABLE (1 << 0)  /* only from the file / command line */
#define CF_PROTECTED (1 << 1)  /* CONFIG SET only with enable-protected-configs */
#define CF_MULTI_ARG (1 << 2)  /* value is a list (bind, save, client-output-buffer-limit) */
#define CF_MEMORY (1 << 3)     /* numeric value accepts units: 1gb, 100mb, 5k */
#define CF_EMPTY_NULL (1 << 4) /* string: "" is stored as NULL */
#define CF_BINARY (1 << 5)     /* value may hold NUL bytes (setBin/getBin); every other
                                * parameter is a C string and refuses a NUL */
#define CF_HIDDEN (1 << 6)     /* CONFIG GET shows it only when named exactly (Redis' HIDDEN_CONFIG: debug aids) */
#define CF_VOLATILE (1 << 7)   /* names a file: a set of the same value still applies (Redis' VOLATILE_CONFIG),
                                * so CONFIG SET tls-cert-file <same path> loads a file replaced in place */

typedef struct cfgEnum {
    const char *name;
    int val;
} cfgEnum;

typedef struct rwState rwState;

typedef struct cfgParam {
    const char *name;
    const char *alias;     /* old name still accepted (Redis' ziplist names) */
    int type;
    int flags;
    void *ptr; /* the srv field (not used by CT_SPECIAL) */
    int kind;  /* CT_NUM: NK_* */
    long long min, max, def;
    const char *defStr;    /* CT_STRING default (NULL allowed with CF_EMPTY_NULL) */
    const cfgEnum *enums;  /* CT_ENUM names, in the order Redis lists them */
    int (*enumFrom)(const char *name);  /* optional CT_ENUM mapping (evict.c names) */
    const char *(*enumName)(int val);
    /* Extra validation: 0, or -1 with a message in err. */
    int (*checkNum)(long long v, char *err, size_t errlen);
    int (*checkStr)(const char *v, char *err, size_t errlen);
    void (*post)(void);    /* after a value is stored, at load and at runtime */
    /* CT_SPECIAL: set returns -1 error, 0 unchanged, 1 changed; get memAlloc's. */
    int (*set)(char **argv, int argc, char *err, size_t errlen);
    char *(*get)(void);
    /* CF_BINARY: the value with its length (Redis' sds configs). */
    int (*setBin)(const char *v, size_t len, char *err, size_t errlen);
    char *(*getBin)(size_t *len);
    void (*rewrite)(rwState *st, int idx);
    /* Runtime side effect after all values of a CONFIG SET are stored;
     * returns -1 with a message in err on failure (the whole SET is then
     * rolled back), 0 on success: the convention of every module. */
    int (*apply)(char *err, size_t errlen);
} cfgParam;

/* The table (config.c) and its size. */
extern cfgParam *const configParams;
extern const int configParamCount;
extern const obufLimit configObufDefaults[OBUF_CLASSES];

/* config.c helpers the rewrite uses. */
char *configFmt(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* memAlloc'd */
int configParamIndex(const char *name, size_t len); /* by name or alias, -1 if unknown */
long long configNumRead(const cfgParam *p);
int configNumIsUnsigned(const cfgParam *p);
const char *configEnumName(const cfgParam *p, int v);
int configSplitSpaces(const char *v, char ***out); /* CONFIG SET's space-separated lists */
char *configParamGet(const cfgParam *p, size_t *len); /* memAlloc'd value, NUL-terminated; *len its length */
int configReadAll(FILE *fp, char **buf, size_t *len, size_t *cap);

/* config_rewrite.c: the special parameters' rewriters (the table names
 * them), and the command. */
void bindRewrite(rwState *st, int idx);
void saveRewrite(rwState *st, int idx);
void obufRewrite(rwState *st, int idx);
void dirRewrite(rwState *st, int idx);
void passRewrite(rwState *st, int idx);
void configRewriteCommand(client *c);

#endif
