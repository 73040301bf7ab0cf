/* api_meta.c - api_meta.h: CreateCacheSubnetGroup, DescribeCacheSubnetGroups,
 * ModifyCacheSubnetGroup, DeleteCacheSubnetGroup, DescribeCacheParameterGroups,
 * DescribeCacheEngineVersions, AddTagsToResource, ListTagsForResource,
 * RemoveTagsFromResource. Owns the "subnetgroup" records (desc, created,
 * subnet.N as given) and the "tags" records (tag key = value, in the order
 * added). Every change is one store transaction; a request that fails a
 * check writes nothing. Must never talk to a node. */
#include "api_meta.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cachetd.h"
#include "group_int.h"
#include "mem.h"
#include "store.h"

#define MAX_TAGS 50            /* ElastiCache's tags per resource */
#define MAX_SUBNETS 20         /* subnets per subnet group */
#define MAX_SUBNET_GROUPS 150  /* subnet groups per account */
#define SUBNET_KEY "SubnetIds.SubnetIdentifier."

static void storeFailed(cdReply *out, const char *rid) {
    cdStoreRollback(cd.store);
    replyError(out, 500, "InternalFailure", "The state store failed; nothing was changed.", rid);
}

static int missing(cdReply *out, const char *name, const char *rid) {
    char msg[160];
    snprintf(msg, sizeof(msg), "The request must contain the parameter %s", name);
    replyError(out, 400, "MissingParameter", msg, rid);
    return -1;
}

/* ---- cache subnet groups ----------------------------------------------- */

/* 1-255 letters, digits or hyphens; lower-cased in place (ElastiCache
 * stores the name lower-case). */
static int validSubnetGroupName(char *n) {
    size_t len = strlen(n);
    if (len < 1 || len > 255) return 0;
    for (char *c = n; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '-') return 0;
        *c = (char)tolower((unsigned char)*c);
    }
    return 1;
}

/* A subnet id as EC2 writes it: "subnet-" and 1-32 letters or digits. */
static int validSubnetId(const char *s) {
    if (strncmp(s, "subnet-", 7)) return 0;
    size_t len = strlen(s + 7);
    if (len < 1 || len > 32) return 0;
    for (const char *c = s + 7; *c; c++)
        if (!isalnum((unsigned char)*c)) return 0;
    return 1;
}

/* Reads CacheSubnetGroupName into name (checked, lower-cased), or replies. */
static int subnetGroupName(const cdParams *p, char *name, size_t len, cdReply *out, const char *rid) {
    const char *raw = cdParamsGet(p, "CacheSubnetGroupName");
    if (!raw) return missing(out, "CacheSubnetGroupName", rid);
    snprintf(name, len, "%s", raw);
    if (strlen(raw) >= len || !validSubnetGroupName(name)) {
        replyError(out, 400, "InvalidParameterValue",
                   "The parameter CacheSubnetGroupName must be 1 to 255 letters, digits or hyphens.", rid);
        return -1;
    }
    return 0;
}

static int subnetGroupNotFound(cdReply *out, const char *name, const char *rid) {
    char msg[320];
    snprintf(msg, sizeof(msg), "Cache subnet group %.255s not found.", name);
    replyError(out, 400, "CacheSubnetGroupNotFoundFault", msg, rid);
    return -1;
}

/* Copies SubnetIds.SubnetIdentifier.N (N = 1, 2, ... as botocore numbers
 * them) into rec as subnet.N; their count, or -1 with the error replied. */
static int takeSubnets(const cdParams *p, cdParams *rec, cdReply *out, const char *rid) {
    int n = 0;
    char key[64], msg[160];
    for (;;) {
        snprintf(key, sizeof(key), SUBNET_KEY "%d", n + 1);
        const char *v = cdParamsGet(p, key);
        if (!v) break;
        if (n == MAX_SUBNETS) {
            snprintf(msg, sizeof(msg), "A cache subnet group can have at most %d subnets.", MAX_SUBNETS);
            replyError(out, 400, "CacheSubnetQuotaExceededFault", msg, rid);
            return -1;
        }
        if (!validSubnetId(v)) {
            replyError(out, 400, "InvalidSubnet", "Subnet ids must look like subnet-0123abcd.", rid);
            return -1;
        }
        snprintf(key, sizeof(key), "subnet.%d", ++n);
        cdParamsSet(rec, key, v);
    }
    return n;
}

/* The "default" subnet group exists from the first use on (its own
 * transaction), as every account has one. */
static void ensureDefaultSubnetGroup(void) {
    cdParams g = {0};
    int found = cdStoreGet(cd.store, "subnetgroup", "default", &g);
    cdParamsFree(&g);
    if (found != 0) return;
    cdParamsSet(&g, "desc", "default");
    recSetInt(&g, "created", mstime());
    if (cdStoreBegin(cd.store) || cdStorePut(cd.store, "subnetgroup", "default", &g) || cdStoreCommit(cd.store))
        cdStoreRollback(cd.store);
    cdParamsFree(&g);
}

static void subnetGroupXml(textBuf *b, const char *name, const cdParams *g) {
    textAppend(b, "<CacheSubnetGroup>");
    cdXmlElem(b, "CacheSubnetGroupName", name);
    cdXmlElem(b, "CacheSubnetGroupDescription", recStr(g, "desc"));
    textAppend(b, "<Subnets>");
    for (int i = 1;; i++) {
        char key[32];
        snprintf(key, sizeof(key), "subnet.%d", i);
        const char *s = cdParamsGet(g, key);
        if (!s) break;
        textAppend(b, "<Subnet>");
        cdXmlElem(b, "SubnetIdentifier", s);
        textAppend(b, "<SubnetAvailabilityZone><Name>local</Name></SubnetAvailabilityZone>"
                      "<SupportedNetworkTypes><member>ipv4</member></SupportedNetworkTypes></Subnet>");
    }
    textAppend(b, "</Subnets>");
    textAppend(b, "<ARN>arn:aws:elasticache:%s:%s:subnetgroup:", cd.region, cd.account);
    cdXmlText(b, name);
    textAppend(b, "</ARN><SupportedNetworkTypes><member>ipv4</member></SupportedNetworkTypes></CacheSubnetGroup>");
}

static int subnetGroupItem(textBuf *b, const char *id, void *ctx) {
    (void)ctx;
    cdParams g = {0};
    int ok = cdStoreGet(cd.store, "subnetgroup", id, &g) == 1;
    if (ok) subnetGroupXml(b, id, &g);
    cdParamsFree(&g);
    return ok;
}

static int checkTags(const cdParams *p, const cdParams *old, cdReply *out, const char *rid);
static int putTags(const char *resource, const cdParams *p, const cdParams *old);

/* One transaction: the subnet group g (and, with tagsFrom, the request's
 * Tags as its tags); replies it, or the store's failure. */
static void saveSubnetGroup(const char *action, const char *name, const cdParams *g, const cdParams *tagsFrom,
                            cdReply *out, const char *rid) {
    char res[300];
    snprintf(res, sizeof(res), "subnetgroup:%s", name);
    if (cdStoreBegin(cd.store) || cdStorePut(cd.store, "subnetgroup", name, g) ||
        (tagsFrom && putTags(res, tagsFrom, NULL)) || cdStoreCommit(cd.store))
        return storeFailed(out, rid);
    textBuf b = {0};
    subnetGroupXml(&b, name, g);
    replyOk(out, action, b.p, rid);
    memFree(b.p);
}

static void actCreateSubnetGroup(const cdParams *p, const char *rid, cdReply *out) {
    char name[256], msg[320];
    if (subnetGroupName(p, name, sizeof(name), out, rid)) return;
    const char *desc = cdParamsGet(p, "CacheSubnetGroupDescription");
    if (!desc) return (void)missing(out, "CacheSubnetGroupDescription", rid);
    cdParams g = {0}, old = {0};
    int n = takeSubnets(p, &g, out, rid);
    if (n < 0 || (n == 0 && missing(out, "SubnetIds", rid)) || checkTags(p, NULL, out, rid)) goto done;
    if (cdStoreGet(cd.store, "subnetgroup", name, &old) == 1) {
        snprintf(msg, sizeof(msg), "Cache subnet group %s already exists.", name);
        replyError(out, 400, "CacheSubnetGroupAlreadyExists", msg, rid);
        goto done;
    }
    char **ids;
    int count = cdStoreList(cd.store, "subnetgroup", &ids);
    cdStoreFreeList(ids, count > 0 ? count : 0);
    if (count >= MAX_SUBNET_GROUPS) {
        snprintf(msg, sizeof(msg), "At most %d cache subnet groups can exist.", MAX_SUBNET_GROUPS);
        replyError(out, 400, "CacheSubnetGroupQuotaExceeded", msg, rid);
        goto done;
    }
    cdParamsSet(&g, "desc", desc);
    recSetInt(&g, "created", mstime());
    saveSubnetGroup("CreateCacheSubnetGroup", name, &g, p, out, rid);
done:
    cdParamsFree(&g);
    cdParamsFree(&old);
}

static void actModifySubnetGroup(const cdParams *p, const char *rid, cdReply *out) {
    char name[256];
    if (subnetGroupName(p, name, sizeof(name), out, rid)) return;
    cdParams g = {0}, subnets = {0};
    if (cdStoreGet(cd.store, "subnetgroup", name, &g) != 1) {
        subnetGroupNotFound(out, name, rid);
        goto done;
    }
    if (!strcmp(name, "default")) {
        replyError(out, 400, "InvalidParameterValue", "The default cache subnet group can't be modified.", rid);
        goto done;
    }
    int n = takeSubnets(p, &subnets, out, rid);
    if (n < 0) goto done;
    if (n > 0) { /* SubnetIds replaces the list */
        for (int i = g.n - 1; i >= 0; i--)
            if (!strncmp(g.k[i], "subnet.", 7)) cdParamsDel(&g, g.k[i]);
        for (int i = 0; i < subnets.n; i++) cdParamsSet(&g, subnets.k[i], subnets.v[i]);
    }
    if (cdParamsGet(p, "CacheSubnetGroupDescription"))
        cdParamsSet(&g, "desc", cdParamsGet(p, "CacheSubnetGroupDescription"));
    saveSubnetGroup("ModifyCacheSubnetGroup", name, &g, NULL, out, rid);
done:
    cdParamsFree(&g);
    cdParamsFree(&subnets);
}

/* The first replication group naming the subnet group into who; 1 if any. */
static int subnetGroupUser(const char *name, char *who, size_t len) {
    char **ids;
    int n = cdStoreList(cd.store, "group", &ids), used = 0;
    for (int i = 0; i < n && !used; i++) {
        cdParams g = {0};
        if (cdStoreGet(cd.store, "group", ids[i], &g) == 1 && !strcmp(recStr(&g, "subnet_group"), name)) {
            used = 1;
            snprintf(who, len, "%s", ids[i]);
        }
        cdParamsFree(&g);
    }
    cdStoreFreeList(ids, n > 0 ? n : 0);
    return used;
}

static void actDeleteSubnetGroup(const cdParams *p, const char *rid, cdReply *out) {
    char name[256], who[64], msg[400];
    if (subnetGroupName(p, name, sizeof(name), out, rid)) return;
    cdParams g = {0};
    int found = cdStoreGet(cd.store, "subnetgroup", name, &g);
    cdParamsFree(&g);
    if (found != 1) return (void)subnetGroupNotFound(out, name, rid);
    if (!strcmp(name, "default"))
        return replyError(out, 400, "InvalidParameterValue", "The default cache subnet group can't be deleted.", rid);
    if (subnetGroupUser(name, who, sizeof(who))) {
        snprintf(msg, sizeof(msg), "Cache subnet group %s is in use by replication group %s.", name, who);
        return replyError(out, 400, "CacheSubnetGroupInUse", msg, rid);
    }
    char res[300];
    snprintf(res, sizeof(res), "subnetgroup:%s", name);
    if (cdStoreBegin(cd.store) || cdStoreDelete(cd.store, "subnetgroup", name) || cdTagsDrop(res) ||
        cdStoreCommit(cd.store))
        return storeFailed(out, rid);
    replyOk(out, "DeleteCacheSubnetGroup", "", rid);
}

static void actDescribeSubnetGroups(const cdParams *p, const char *rid, cdReply *out) {
    long long max;
    if (pageArgs(p, &max, out, rid)) return;
    textBuf b = {0};
    if (cdParamsGet(p, "CacheSubnetGroupName")) {
        char name[256];
        if (subnetGroupName(p, name, sizeof(name), out, rid)) return;
        textAppend(&b, "<CacheSubnetGroups>");
        if (!subnetGroupItem(&b, name, NULL)) {
            memFree(b.p);
            return (void)subnetGroupNotFound(out, name, rid);
        }
        textAppend(&b, "</CacheSubnetGroups>");
    } else {
        pagedList(&b, "subnetgroup", cdParamsGet(p, "Marker"), max, "CacheSubnetGroups", subnetGroupItem, NULL);
    }
    replyOk(out, "DescribeCacheSubnetGroups", b.p, rid);
    memFree(b.p);
}

/* ---- fixed lists: parameter groups, engine versions ----------------------- */

typedef int staticItem(textBuf *b, int i, void *ctx);

/* pagedList over a fixed, sorted list of keys. */
static void staticList(textBuf *b, const char *const *keys, int n, const char *marker, long long max,
                       const char *wrap, staticItem *fn, void *ctx) {
    int shown = 0, more = 0;
    const char *last = NULL;
    textAppend(b, "<%s>", wrap);
    for (int i = 0; i < n && !more; i++) {
        if (marker && strcmp(keys[i], marker) <= 0) continue;
        textBuf item = {0};
        textAppend(&item, "%s", "");
        if (fn(&item, i, ctx)) {
            if (shown == max) {
                more = 1;
            } else {
                textAppendBytes(b, item.p, item.len);
                last = keys[i];
                shown++;
            }
        }
        memFree(item.p);
    }
    textAppend(b, "</%s>", wrap);
    if (more) cdXmlElem(b, "Marker", last);
}

static const char *const paramGroups[] = {"default.redis7", "default.redis7.cluster.on"};
#define NPARAMGROUPS ((int)(sizeof(paramGroups) / sizeof(paramGroups[0])))

static int paramGroupItem(textBuf *b, int i, void *ctx) {
    const char *want = ctx;
    if (want && strcasecmp(want, paramGroups[i])) return 0;
    textAppend(b, "<CacheParameterGroup>");
    cdXmlElem(b, "CacheParameterGroupName", paramGroups[i]);
    cdXmlElem(b, "CacheParameterGroupFamily", "redis7");
    textAppend(b, "<Description>Default parameter group for redis7%s</Description>",
               strstr(paramGroups[i], "cluster.on") ? " with cluster mode on" : "");
    cdXmlElemBool(b, "IsGlobal", 0);
    textAppend(b, "<ARN>arn:aws:elasticache:%s:%s:parametergroup:%s</ARN>", cd.region, cd.account, paramGroups[i]);
    textAppend(b, "</CacheParameterGroup>");
    return 1;
}

static void actDescribeParameterGroups(const cdParams *p, const char *rid, cdReply *out) {
    long long max;
    if (pageArgs(p, &max, out, rid)) return;
    const char *want = cdParamsGet(p, "CacheParameterGroupName");
    textBuf b = {0};
    int found = !want;
    for (int i = 0; i < NPARAMGROUPS && !found; i++) found = !strcasecmp(want, paramGroups[i]);
    if (!found) {
        char msg[320];
        snprintf(msg, sizeof(msg), "CacheParameterGroup %.255s not found.", want);
        return replyError(out, 404, "CacheParameterGroupNotFound", msg, rid);
    }
    staticList(&b, paramGroups, NPARAMGROUPS, want ? NULL : cdParamsGet(p, "Marker"), max, "CacheParameterGroups",
               paramGroupItem, (void *)want);
    replyOk(out, "DescribeCacheParameterGroups", b.p, rid);
    memFree(b.p);
}

/* The one engine version: Redis 7.0 (what cachet-server speaks). */
static const char *const engineVersions[] = {"redis:7.0"};

typedef struct engineFilter {
    const char *engine, *version, *family;
} engineFilter;

static int engineItem(textBuf *b, int i, void *ctx) {
    (void)i;
    engineFilter *f = ctx;
    if ((f->engine && strcasecmp(f->engine, "redis")) || (f->version && strcmp(f->version, "7.0")) ||
        (f->family && strcmp(f->family, "redis7")))
        return 0;
    textAppend(b, "<CacheEngineVersion><Engine>redis</Engine><EngineVersion>7.0</EngineVersion>"
                  "<CacheParameterGroupFamily>redis7</CacheParameterGroupFamily>"
                  "<CacheEngineDescription>Redis</CacheEngineDescription>"
                  "<CacheEngineVersionDescription>redis version 7.0 (Cachet)</CacheEngineVersionDescription>"
                  "</CacheEngineVersion>");
    return 1;
}

static void actDescribeEngineVersions(const cdParams *p, const char *rid, cdReply *out) {
    long long max;
    if (pageArgs(p, &max, out, rid)) return;
    if (cdParamBool(p, "DefaultOnly", 0) < 0)
        return replyError(out, 400, "InvalidParameterValue", "DefaultOnly must be true or false.", rid);
    /* 7.0 is the default (and only) version, so DefaultOnly changes nothing. */
    engineFilter f = {cdParamsGet(p, "Engine"), cdParamsGet(p, "EngineVersion"),
                      cdParamsGet(p, "CacheParameterGroupFamily")};
    textBuf b = {0};
    staticList(&b, engineVersions, 1, cdParamsGet(p, "Marker"), max, "CacheEngineVersions", engineItem, &f);
    replyOk(out, "DescribeCacheEngineVersions", b.p, rid);
    memFree(b.p);
}

/* ---- tags ---------------------------------------------------------------- */

#define TAG_KEY "Tags.Tag.%d.Key"
#define TAG_VALUE "Tags.Tag.%d.Value"

/* The request's i-th tag (Tags.Tag.i.Key/Value, i from 1; a missing Value
 * is ""); 0 when there is no i-th Key. */
static int requestTag(const cdParams *p, int i, const char **k, const char **v) {
    char key[48];
    snprintf(key, sizeof(key), TAG_KEY, i);
    *k = cdParamsGet(p, key);
    snprintf(key, sizeof(key), TAG_VALUE, i);
    *v = cdParamsGet(p, key);
    if (!*v) *v = "";
    return *k != NULL;
}

/* old's tags (old may be NULL) with the request's added, equal keys
 * replaced, into t. */
static void mergeTags(const cdParams *p, const cdParams *old, cdParams *t) {
    const char *k, *v;
    for (int i = 0; old && i < old->n; i++) cdParamsSet(t, old->k[i], old->v[i]);
    for (int i = 1; requestTag(p, i, &k, &v); i++) cdParamsSet(t, k, v);
}

/* Validates the request's tags and that, merged into old's, there are at
 * most 50. 0 ok, else -1 and the error replied. */
static int checkTags(const cdParams *p, const cdParams *old, cdReply *out, const char *rid) {
    const char *k, *v;
    for (int i = 1; requestTag(p, i, &k, &v); i++) {
        if (!*k || strlen(k) > 128 || strlen(v) > 256 || !strncasecmp(k, "aws:", 4)) {
            replyError(out, 400, "InvalidParameterValue",
                       "Tag keys must be 1 to 128 characters and not begin with aws:, values at most 256.", rid);
            return -1;
        }
    }
    cdParams t = {0};
    mergeTags(p, old, &t);
    int n = t.n;
    cdParamsFree(&t);
    if (n > MAX_TAGS) {
        replyError(out, 400, "TagQuotaPerResourceExceeded",
                   "The request cannot be processed because it would cause the resource to have more than 50 tags.",
                   rid);
        return -1;
    }
    return 0;
}

/* old's tags with the request's added, stored as resource's tags. Inside
 * the caller's transaction. */
static int putTags(const char *resource, const cdParams *p, const cdParams *old) {
    cdParams t = {0};
    mergeTags(p, old, &t);
    int err = t.n ? cdStorePut(cd.store, "tags", resource, &t) : 0;
    cdParamsFree(&t);
    return err;
}

int cdTagsPutFromRequest(const char *resource, const cdParams *p) {
    if (cdTagsDrop(resource)) return -1;
    return putTags(resource, p, NULL);
}

int cdTagsDrop(const char *resource) { return cdStoreDelete(cd.store, "tags", resource); }

/* ResourceName resolved to the tags record's id ("<type>:<name>"), the
 * resource checked to exist; `changing`: a replication group (or its
 * cluster's) that is being deleted refuses the change. 0 ok, else -1 and
 * the error replied. */
static int resolveResource(const cdParams *p, char *res, size_t len, int changing, cdReply *out,
                           const char *rid) {
    const char *arn = cdParamsGet(p, "ResourceName");
    if (!arn) return missing(out, "ResourceName", rid);
    char buf[512], msg[700];
    snprintf(buf, sizeof(buf), "%s", arn);
    char *part[7];
    int n = 0;
    char *s = buf;
    for (; n < 6; n++) { /* arn:partition:service:region:account:type:name */
        part[n] = s;
        char *c = strchr(s, ':');
        if (!c) break;
        *c = 0;
        s = c + 1;
    }
    if (n == 6) part[6] = s;
    if (strlen(arn) >= sizeof(buf) || n != 6 || strcmp(part[0], "arn") || strncmp(part[1], "aws", 3) ||
        strcmp(part[2], "elasticache") || !*part[3] || !*part[4] || !*part[6] ||
        (strcmp(part[5], "replicationgroup") && strcmp(part[5], "cluster") && strcmp(part[5], "subnetgroup"))) {
        snprintf(msg, sizeof(msg),
                 "The ARN %.400s is not valid: expected arn:aws:elasticache:REGION:ACCOUNT:"
                 "replicationgroup|cluster|subnetgroup:NAME.",
                 arn);
        replyError(out, 400, "InvalidARN", msg, rid);
        return -1;
    }
    const char *type = part[5];
    char name[256];
    snprintf(name, sizeof(name), "%.255s", part[6]);
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    int here = !strcmp(part[3], cd.region) && !strcmp(part[4], cd.account);
    cdParams r = {0}, g = {0};
    int ok = -1;
    if (!strcmp(type, "subnetgroup")) {
        if (!here || cdStoreGet(cd.store, "subnetgroup", name, &r) != 1) {
            subnetGroupNotFound(out, part[6], rid);
            goto done;
        }
    } else if (!strcmp(type, "replicationgroup")) {
        if (!here || cdStoreGet(cd.store, "group", name, &g) != 1) {
            snprintf(msg, sizeof(msg), "ReplicationGroup %.255s not found.", part[6]);
            replyError(out, 404, "ReplicationGroupNotFoundFault", msg, rid);
            goto done;
        }
    } else {
        if (!here || cdStoreGet(cd.store, "node", name, &r) != 1 ||
            cdStoreGet(cd.store, "group", recStr(&r, "group"), &g) != 1) {
            snprintf(msg, sizeof(msg), "CacheCluster not found: %.255s", part[6]);
            replyError(out, 404, "CacheClusterNotFound", msg, rid);
            goto done;
        }
    }
    if (changing && !strcmp(recStr(&g, "status"), "deleting")) {
        snprintf(msg, sizeof(msg), "Replication group %.255s is being deleted.", name);
        replyError(out, 400, "InvalidReplicationGroupState", msg, rid);
        goto done;
    }
    snprintf(res, len, "%s:%s", type, name);
    ok = 0;
done:
    cdParamsFree(&r);
    cdParamsFree(&g);
    return ok;
}

static void tagListReply(const char *action, const cdParams *t, const char *rid, cdReply *out) {
    textBuf b = {0};
    textAppend(&b, "<TagList>");
    for (int i = 0; i < t->n; i++) {
        textAppend(&b, "<Tag>");
        cdXmlElem(&b, "Key", t->k[i]);
        cdXmlElem(&b, "Value", t->v[i]);
        textAppend(&b, "</Tag>");
    }
    textAppend(&b, "</TagList>");
    replyOk(out, action, b.p, rid);
    memFree(b.p);
}

static void actListTags(const cdParams *p, const char *rid, cdReply *out) {
    char res[300];
    if (resolveResource(p, res, sizeof(res), 0, out, rid)) return;
    cdParams t = {0};
    (void)cdStoreGet(cd.store, "tags", res, &t);
    tagListReply("ListTagsForResource", &t, rid, out);
    cdParamsFree(&t);
}

/* The tags records a change of res's tags writes: res itself and, for a
 * replication group, each of its clusters' (ElastiCache replicates a
 * group's tag changes to its nodes). Their count; free with
 * cdStoreFreeList. */
static int tagTargets(const char *res, char ***out) {
    int n = 1;
    char **v = memAlloc(sizeof(char *));
    v[0] = memStrdup(res);
    cdParams g = {0};
    const char *gid = res + strlen("replicationgroup:");
    if (!strncmp(res, "replicationgroup:", strlen("replicationgroup:")) &&
        cdStoreGet(cd.store, "group", gid, &g) == 1) {
        groupShape s = shapeOf(&g);
        groupNode *nodes;
        int num = loadNodes(gid, &s, &nodes);
        v = memRealloc(v, sizeof(char *) * (size_t)(num + 1));
        for (int i = 0; i < num; i++) {
            char b[300];
            snprintf(b, sizeof(b), "cluster:%s", nodes[i].id);
            v[n++] = memStrdup(b);
        }
        freeNodes(nodes, num);
    }
    cdParamsFree(&g);
    *out = v;
    return n;
}

static void actAddTags(const cdParams *p, const char *rid, cdReply *out) {
    char res[300];
    if (resolveResource(p, res, sizeof(res), 1, out, rid)) return;
    if (!cdParamsGet(p, "Tags.Tag.1.Key")) return (void)missing(out, "Tags", rid);
    char **targets;
    int nt = tagTargets(res, &targets), bad = 0;
    for (int i = 0; i < nt && !bad; i++) { /* every target within its quota, or none changes */
        cdParams old = {0};
        (void)cdStoreGet(cd.store, "tags", targets[i], &old);
        bad = checkTags(p, &old, out, rid);
        cdParamsFree(&old);
    }
    int err = bad ? 0 : cdStoreBegin(cd.store);
    for (int i = 0; i < nt && !bad && !err; i++) {
        cdParams old = {0};
        (void)cdStoreGet(cd.store, "tags", targets[i], &old);
        err = putTags(targets[i], p, &old);
        cdParamsFree(&old);
    }
    if (!bad && (err || cdStoreCommit(cd.store))) {
        storeFailed(out, rid);
    } else if (!bad) {
        cdParams t = {0};
        (void)cdStoreGet(cd.store, "tags", res, &t);
        tagListReply("AddTagsToResource", &t, rid, out);
        cdParamsFree(&t);
    }
    cdStoreFreeList(targets, nt);
}

/* The request's TagKeys.member.N: with drop, removed from t (those t has);
 * without, only looked for. The first key t lacks, or NULL. */
static const char *tagKeys(const cdParams *p, cdParams *t, int drop) {
    char key[48];
    const char *absent = NULL;
    for (int i = 1;; i++) {
        snprintf(key, sizeof(key), "TagKeys.member.%d", i);
        const char *k = cdParamsGet(p, key);
        if (!k) return absent;
        if (!absent && !cdParamsGet(t, k)) absent = k;
        if (drop) cdParamsDel(t, k);
    }
}

static void actRemoveTags(const cdParams *p, const char *rid, cdReply *out) {
    char res[300], msg[300];
    if (resolveResource(p, res, sizeof(res), 1, out, rid)) return;
    if (!cdParamsGet(p, "TagKeys.member.1")) return (void)missing(out, "TagKeys", rid);
    cdParams t = {0};
    (void)cdStoreGet(cd.store, "tags", res, &t);
    const char *absent = tagKeys(p, &t, 0);
    if (absent) {
        snprintf(msg, sizeof(msg), "Tag %.200s not found on the resource.", absent);
        replyError(out, 404, "TagNotFound", msg, rid);
        cdParamsFree(&t);
        return;
    }
    tagKeys(p, &t, 1);
    /* Only the resource's own tags are checked; its clusters lose those of
     * the keys they have. */
    char **targets;
    int nt = tagTargets(res, &targets), err = cdStoreBegin(cd.store);
    for (int i = 0; i < nt && !err; i++) {
        cdParams c = {0};
        (void)cdStoreGet(cd.store, "tags", targets[i], &c);
        tagKeys(p, &c, 1);
        err = cdStoreDelete(cd.store, "tags", targets[i]) || (c.n && cdStorePut(cd.store, "tags", targets[i], &c));
        cdParamsFree(&c);
    }
    if (err || cdStoreCommit(cd.store))
        storeFailed(out, rid);
    else
        tagListReply("RemoveTagsFromResource", &t, rid, out);
    cdStoreFreeList(targets, nt);
    cdParamsFree(&t);
}

/* ---- CreateReplicationGroup's checks, the dispatch ---------------------------- */

int cdMetaCheckCreate(const cdParams *p, cdReply *out, const char *rid) {
    if (cdParamsGet(p, "CacheSubnetGroupName")) {
        char name[256];
        if (subnetGroupName(p, name, sizeof(name), out, rid)) return -1;
        ensureDefaultSubnetGroup();
        cdParams g = {0};
        int found = cdStoreGet(cd.store, "subnetgroup", name, &g);
        cdParamsFree(&g);
        if (found != 1) return subnetGroupNotFound(out, name, rid);
    }
    return checkTags(p, NULL, out, rid);
}

int cdMetaDispatch(const char *action, const cdParams *p, const char *rid, cdReply *out) {
    static const struct {
        const char *name;
        void (*fn)(const cdParams *, const char *, cdReply *);
        int subnets; /* touches subnet groups: the default one must exist */
    } acts[] = {
        {"CreateCacheSubnetGroup", actCreateSubnetGroup, 1},
        {"DescribeCacheSubnetGroups", actDescribeSubnetGroups, 1},
        {"ModifyCacheSubnetGroup", actModifySubnetGroup, 1},
        {"DeleteCacheSubnetGroup", actDeleteSubnetGroup, 1},
        {"DescribeCacheParameterGroups", actDescribeParameterGroups, 0},
        {"DescribeCacheEngineVersions", actDescribeEngineVersions, 0},
        {"AddTagsToResource", actAddTags, 1},
        {"ListTagsForResource", actListTags, 1},
        {"RemoveTagsFromResource", actRemoveTags, 1},
    };
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
        if (strcmp(action, acts[i].name)) continue;
        if (acts[i].subnets) ensureDefaultSubnetGroup();
        acts[i].fn(p, rid, out);
        return 1;
    }
    return 0;
}
