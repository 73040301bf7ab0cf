"""cachetd driven by the JavaScript SDK (@aws-sdk/client-elasticache, pinned
in tests/node/package-lock.json): tests/node/elasticache_workflow.mjs creates
a cluster-mode-disabled group with encryption in transit off, waits with the
SDK's waiter, migrates it to TLS preferred with ModifyReplicationGroup while
node-redis reads and writes on the primary endpoint (plaintext, then TLS with
cachetd's CA), gets ElastiCache's errors as the SDK's typed exceptions, and
deletes the group. cachetd is started and stopped (by PID, with every node it
ran) by test_cachetd.py's fixture; the SDK finds the credentials in
cachetd's DIR/credentials through AWS_SHARED_CREDENTIALS_FILE.
"""
import os

from nodeutil import needs_node, run_node
from test_cachetd import cachetd, node_pids  # noqa: F401 - a fixture

pytestmark = needs_node


def sdk_env(c):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.path.join(c.dir, "credentials"),
               AWS_CONFIG_FILE=os.path.join(c.dir, "no-aws-config"), AWS_EC2_METADATA_DISABLED="true")
    return env


def test_js_sdk_workflow(cachetd):
    c = cachetd()
    [out] = run_node("elasticache_workflow.mjs", {"endpoint": c.url, "id": "js-web"}, timeout=120, env=sdk_env(c))

    assert out["created"]["Status"] == "creating" and out["created"]["ReplicationGroupId"] == "js-web"
    assert out["waitCreated"] == "SUCCESS"
    g = out["available"]
    assert g["Status"] == "available" and g["ClusterEnabled"] is False
    assert g["TransitEncryptionEnabled"] is False and g["TransitEncryptionMode"] is None
    assert g["MemberClusters"] == ["js-web-001"] and g["Roles"] == ["primary"]
    assert g["ARN"] == "arn:aws:elasticache:us-east-1:000000000000:replicationgroup:js-web"
    ep = g["PrimaryEndpoint"]
    assert ep["Address"] == "127.0.0.1" and ep["Port"] > 0
    assert out["plainSet"] == "OK"

    assert out["requiredFirst"]["name"] == "InvalidParameterCombinationException"
    assert out["requiredFirst"]["typed"] is True and out["requiredFirst"]["status"] == 400
    m = out["modified"]
    assert m["Status"] == "modifying"
    assert m["PendingModifiedValues"] == {"TransitEncryptionEnabled": True, "TransitEncryptionMode": "preferred"}
    assert out["waitModified"] == "SUCCESS"
    p = out["preferred"]
    assert p["Status"] == "available" and p["TransitEncryptionEnabled"] is True
    assert p["TransitEncryptionMode"] == "preferred" and p["PrimaryEndpoint"] == ep  # the port never changes
    assert out["plainGet"] == "plaintext" and out["tlsGet"] == "plaintext" and out["tlsClientInfo"] is True

    for case in ("notFound", "modifyMissing"):
        e = out[case]
        assert e["name"] == "ReplicationGroupNotFoundFault" and e["notFoundClass"] is True, (case, e)
        assert e["fault"] == "client" and e["status"] == 404, (case, e)
        assert "js-web-missing" in e["message"], (case, e)
    assert out["createAgain"]["name"] == "ReplicationGroupAlreadyExistsFault", out["createAgain"]

    assert out["deleted"]["Status"] == "deleting"
    assert out["waitDeleted"] == "SUCCESS"
    assert out["afterDelete"]["name"] == "ReplicationGroupNotFoundFault"
    assert out["groupsLeft"] == 0
    assert node_pids(c.dir) == {}
