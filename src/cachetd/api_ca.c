/* api_ca.c - the CA actions (api_ca.h): start and finish a rotation, and
 * report how far the nodes are. The state itself is ca.c's; this file
 * only checks that a change is allowed now.
 * Must never change the CA while a node still trusts or presents what the
 * change would drop: finish waits for every certificate of the new CA,
 * a new rotation for every node to hold the current bundle. */
#include "api_ca.h"

#include <stdio.h>
#include <string.h>

#include "ca.h"
#include "cachetd.h"
#include "group_int.h"
#include "log.h"
#include "mem.h"
#include "store.h"

/* Nodes (of groups not being deleted) holding TLS files whose recorded
 * bundle is not the current one, and whose certificate is not of the
 * active CA. */
static void countPending(int *trust, int *cert) {
    char want[64];
    cdCaTrustId(want, sizeof(want));
    *trust = *cert = 0;
    char **ids;
    int n = cdStoreList(cd.store, "group", &ids);
    for (int i = 0; i < n; i++) {
        cdParams g = {0};
        if (cdStoreGet(cd.store, "group", ids[i], &g) == 1 && strcmp(recStr(&g, "status"), "deleting")) {
            groupShape s = shapeOf(&g);
            groupNode *v;
            int num = loadNodes(ids[i], &s, &v);
            for (int j = 0; j < num; j++) {
                const cdParams *r = &v[j].rec;
                if (!v[j].have || !nodeUsesTls(r)) continue;
                *trust += strcmp(recStr(r, "trust"), want) != 0;
                *cert += recInt(r, "certca") != cdCaActive();
            }
            freeNodes(v, num);
        }
        cdParamsFree(&g);
    }
    cdStoreFreeList(ids, n);
}

static void describe(const char *action, const char *rid, cdReply *out) {
    int trust, cert;
    countPending(&trust, &cert);
    const char *status = cdCaOld() ? "rotating" : trust ? "finishing" : "stable";
    textBuf b = {0};
    textAppend(&b, "%s", "");
    cdXmlElem(&b, "Status", status);
    cdXmlElemInt(&b, "ActiveCertificateAuthority", cdCaActive());
    if (cdCaOld()) cdXmlElemInt(&b, "OldCertificateAuthority", cdCaOld());
    cdXmlElemTime(&b, "ActiveCertificateAuthorityValidTill", cdCaNotAfter() * 1000);
    cdXmlElemInt(&b, "NodesPendingBundle", trust);
    cdXmlElemInt(&b, "NodesPendingCertificate", cert);
    textAppend(&b, "\n");
    replyOk(out, action, b.p, rid);
    memFree(b.p);
}

static void actRotate(const char *rid, cdReply *out) {
    char err[256];
    int trust, cert;
    if (cdCaOld()) {
        snprintf(err, sizeof(err), "A CA rotation is already in progress (CA %lld to %lld); complete it first.",
                 cdCaOld(), cdCaActive());
        return replyError(out, 400, "InvalidCertificateAuthorityState", err, rid);
    }
    countPending(&trust, &cert);
    if (trust) {
        snprintf(err, sizeof(err), "The previous CA change is still being applied: %d node(s) lack the current bundle.",
                 trust);
        return replyError(out, 400, "InvalidCertificateAuthorityState", err, rid);
    }
    if (cdCaRotateStart(err, sizeof(err))) return replyError(out, 500, "InternalFailure", err, rid);
    logNotice("CA rotation started: CA %lld to %lld; ca.pem now holds both", cdCaOld(), cdCaActive());
    cdWakeReconciler();
    describe("RotateCertificateAuthority", rid, out);
}

static void actComplete(const char *rid, cdReply *out) {
    char err[256];
    int trust, cert;
    if (!cdCaOld()) return replyError(out, 400, "InvalidCertificateAuthorityState", "No CA rotation is in progress.", rid);
    countPending(&trust, &cert);
    if (trust || cert) {
        snprintf(err, sizeof(err),
                 "The CA rotation is not done yet: %d node(s) lack the new bundle, %d node(s) a certificate of CA %lld.",
                 trust, cert, cdCaActive());
        return replyError(out, 400, "InvalidCertificateAuthorityState", err, rid);
    }
    long long gone = cdCaOld();
    if (cdCaRotateFinish(err, sizeof(err))) return replyError(out, 500, "InternalFailure", err, rid);
    logNotice("CA rotation completed: CA %lld dropped from ca.pem", gone);
    cdWakeReconciler();
    describe("CompleteCertificateAuthorityRotation", rid, out);
}

int cdCaDispatch(const char *action, const cdParams *p, const char *rid, cdReply *out) {
    (void)p;
    if (!strcmp(action, "RotateCertificateAuthority")) actRotate(rid, out);
    else if (!strcmp(action, "CompleteCertificateAuthorityRotation")) actComplete(rid, out);
    else if (!strcmp(action, "DescribeCertificateAuthority")) describe(action, rid, out);
    else return 0;
    return 1;
}
