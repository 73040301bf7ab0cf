"""cachetd: the workflow of ../shared/seeds/000-elasticache-online-tls-migration-python.md
(issue 20) against groups with replicas: a cluster-mode-enabled group (2 shards
x 1 replica, the seed's launch request) with redis-py RedisCluster, then a
cluster-mode-disabled group (1 primary + 1 replica) with redis.Redis on the
primary endpoint. Plaintext clients run through none -> preferred, TLS clients
through preferred -> required, each with 0 failed operations; the waiters;
the replication links follow (over TLS once the group is); delete leaves no
process. Also: the create errors of cluster mode, explicit slots, and
SIGKILL + restart of cachetd during a cluster create and a migration.

Every process is stopped by PID even on failure (the `cachetd` fixture of
test_cachetd.py).
"""
import os
import signal
import threading
import time
import urllib.request

import pytest
import redis
from redis.cluster import RedisCluster

from conftest import wait_until
from test_cachetd import (AWS_CLI, aws_cli, aws_cli_run, cachetd, code_of, node_pids,  # noqa: F401 - a fixture
                          raw_post, wait_available)

from botocore.exceptions import ClientError  # noqa: E402

# The seed's constants and launch request (its Config / ConfigCME classes).
SECURITY_GROUP = "sg-0492aa0a29c558427"
EC_SUBNET_GROUP = "client-testing"
DEFAULT_PARAMETER_GROUP_REDIS_7_CLUSTER_MODE_ENABLED = "default.redis7.cluster.on"


def cme_launch_request(name, num_shards=2, num_replicas_per_shard=1):
    return {
        "ReplicationGroupId": name,
        "TransitEncryptionEnabled": False,
        "MultiAZEnabled": True,
        "CacheNodeType": "cache.t4g.small",
        "Engine": "redis",
        "EngineVersion": "7.0",
        "CacheSubnetGroupName": EC_SUBNET_GROUP,
        "CacheParameterGroupName": DEFAULT_PARAMETER_GROUP_REDIS_7_CLUSTER_MODE_ENABLED,
        "ReplicationGroupDescription": "online TLS migration user guide",
        "SecurityGroupIds": [SECURITY_GROUP],
        "NumNodeGroups": num_shards,
        "ReplicasPerNodeGroup": num_replicas_per_shard,
    }


def launch(ec, name, **kw):
    """The seed's create, in an account that has its subnet group (the seed
    assumes one made beforehand; cachetd, like ElastiCache, refuses a
    create naming an unknown one)."""
    try:
        ec.create_cache_subnet_group(CacheSubnetGroupName=EC_SUBNET_GROUP, CacheSubnetGroupDescription="seed",
                                     SubnetIds=["subnet-0123456789abcdef0"])
    except ClientError as e:
        assert e.response["Error"]["Code"] == "CacheSubnetGroupAlreadyExists"
    return ec.create_replication_group(**cme_launch_request(name, **kw))["ReplicationGroup"]


class DowntimeTestClient(threading.Thread):
    """The seed's DowntimeTestClient (prefill, then random GETs checked
    against what was written, counting failed operations), run in a thread
    so it keeps going while the test drives the control plane."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.prefilled = 0
        self.success_ops = self.fail_ops = 0
        self.errors = []
        self.halt = threading.Event()
        self.rand = 0

    def prefill_data(self, n=500):
        for i in range(n):
            self.client.set(i, i)
        self.prefilled = n

    def run(self):
        while not self.halt.is_set():
            self.rand = (self.rand * 1103515245 + 12345) % (1 << 31)
            key = self.rand % int(self.prefilled * 1.1)
            try:
                v = self.client.get(key)
                if key < self.prefilled:
                    assert v == str(key).encode(), (key, v)
                self.success_ops += 1
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.fail_ops += 1
                self.errors.append(repr(e))
            time.sleep(0.001)

    def more(self, n=50):
        """Waits for n more successful operations."""
        target = self.success_ops + n
        wait_until(lambda: self.success_ops >= target, timeout=30, what="client operations")

    def finish(self):
        self.halt.set()
        self.join(10)
        assert self.fail_ops == 0, (self.fail_ops, self.errors[:3])
        return self


def modify_transit_encryption_mode(ec, gid, mode):
    g = ec.modify_replication_group(ReplicationGroupId=gid, TransitEncryptionMode=mode,
                                    TransitEncryptionEnabled=True, ApplyImmediately=True)["ReplicationGroup"]
    assert g["Status"] == "modifying"
    assert g["PendingModifiedValues"]["TransitEncryptionMode"] == mode
    return g


def node_infos(ec, gid, ca):
    """{member cluster id: INFO replication + stats} of every node of the
    group, asked over TLS or plaintext as the group's mode allows."""
    g = ec.describe_replication_groups(ReplicationGroupId=gid)["ReplicationGroups"][0]
    kw = dict(ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required") if g.get("TransitEncryptionMode") == "required" \
        else {}
    out = {}
    for cc in ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]:
        if cc["ReplicationGroupId"] == gid:
            ep = cc["CacheNodes"][0]["Endpoint"]
            r = redis.Redis(host=ep["Address"], port=ep["Port"], socket_timeout=5, **kw)
            out[cc["CacheClusterId"]] = dict(r.info("replication"), **r.info("stats"))
    return out


def replica_links(ec, gid, ca):
    """master_link_status of every replica of the group."""
    return {k: i["master_link_status"] for k, i in node_infos(ec, gid, ca).items() if i["role"] == "slave"}


def migration_order(ec, gid):
    """The group's node steps in the order cachetd made them (its events):
    [(member id, "mode preferred" | "mode required" | "link TLS" ...)]."""
    steps = []
    for e in ec.describe_events(SourceType="cache-cluster", Duration=60, MaxRecords=100)["Events"]:
        words = e["Message"].split()
        if e["SourceIdentifier"].startswith(gid + "-") and words[:2] == ["Cache", "node"]:
            if words[3:6] == ["now", "in", "tls-mode"]:
                steps.append((words[2], "mode " + words[6]))
            elif words[3] == "replicates":
                steps.append((words[2], "link " + words[5]))
    return steps


def assert_replicas_first(ec, gid):
    """Each replica's mode step before its primary's; going to preferred,
    the link to TLS after the primary accepts TLS; no link step afterwards
    (required: the links are TLS already)."""
    steps = migration_order(ec, gid)
    pos = {s: i for i, s in enumerate(steps)}
    replicas = {n for n, _ in steps if not n.endswith("-001")}
    assert replicas
    for r in replicas:
        p = r[:-4] + "-001"
        for mode in ("preferred", "required"):
            assert pos[(r, "mode " + mode)] < pos[(p, "mode " + mode)], steps
        assert pos[(p, "mode preferred")] < pos[(r, "link TLS")] < pos[(p, "mode required")], steps


def fetch_ca(c, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(urllib.request.urlopen(c.url + "/ca.pem").read())
    return str(ca)


def delete_and_check_no_orphans(ec, c, gid):
    pids = node_pids(c.dir)
    mine = [pid for nid, pid in pids.items() if nid.startswith(gid + "-")]
    assert mine
    assert ec.delete_replication_group(ReplicationGroupId=gid, RetainPrimaryCluster=False)[
        "ReplicationGroup"]["Status"] == "deleting"
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId=gid,
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    for pid in mine:
        wait_until(lambda: not os.path.exists(f"/proc/{pid}") or
                   open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", what="node process gone")
    assert not [n for n in node_pids(c.dir) if n.startswith(gid + "-")]
    assert not os.path.exists(os.path.join(c.dir, "nodes", gid + "-0001-001"))


def migrate_under_load(ec, gid, ca, make_client):
    """The seed's main: a plaintext client through none -> preferred, then a
    TLS client beside it, then the TLS client through preferred -> required;
    0 failed operations, every replica link up at each stable point.
    make_client(**tls) builds a client (tls: redis-py's ssl arguments)."""
    tcp = DowntimeTestClient(make_client())
    tcp.prefill_data()
    tcp.start()
    tcp.more()
    modify_transit_encryption_mode(ec, gid, "preferred")
    g = wait_available(ec, gid)
    assert g["TransitEncryptionEnabled"] is True and g["TransitEncryptionMode"] == "preferred"
    tcp.more()
    tls = DowntimeTestClient(make_client(ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required"))
    tls.prefill_data()
    tls.start()
    tls.more()
    tcp.more()
    tcp.finish()
    assert set(replica_links(ec, gid, ca).values()) == {"up"}
    modify_transit_encryption_mode(ec, gid, "required")
    g = wait_available(ec, gid)
    assert g["TransitEncryptionMode"] == "required"
    tls.more()
    tls.finish()
    # the links moved to TLS before the primaries went to required: still up,
    # and never a full resync after the first one of each replica
    infos = node_infos(ec, gid, ca)
    assert {i["master_link_status"] for i in infos.values() if i["role"] == "slave"} == {"up"}
    assert {k: i["sync_full"] for k, i in infos.items() if i["role"] == "master"} == \
        {k: i["connected_slaves"] for k, i in infos.items() if i["role"] == "master"}
    assert_replicas_first(ec, gid)
    return g


CLIENT_TIMEOUTS = dict(socket_timeout=2, socket_connect_timeout=2)  # the seed: 0.25 / 0.1 (shared 2-core box)


def test_seed_workflow_cluster_mode_enabled(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    g = launch(ec, "alonare-test")
    assert g["Status"] == "creating" and g["ClusterEnabled"] is True
    g = wait_available(ec, "alonare-test")
    assert g["ClusterEnabled"] is True and g["AutomaticFailover"] == "enabled" and g["MultiAZ"] == "enabled"
    assert g["MemberClusters"] == ["alonare-test-0001-001", "alonare-test-0001-002",
                                   "alonare-test-0002-001", "alonare-test-0002-002"]
    assert [(ng["NodeGroupId"], ng["Slots"]) for ng in g["NodeGroups"]] == [("0001", "0-8191"),
                                                                             ("0002", "8192-16383")]
    assert [len(ng["NodeGroupMembers"]) for ng in g["NodeGroups"]] == [2, 2]
    assert "PrimaryEndpoint" not in g["NodeGroups"][0]
    ce = g["ConfigurationEndpoint"]
    assert ce["Address"] == "127.0.0.1"
    assert len(node_pids(c.dir)) == 4
    ca = fetch_ca(c, tmp_path)
    assert set(replica_links(ec, "alonare-test", ca).values()) == {"up"}

    # every node holds the same map: 2 primaries, each with its replica
    r = redis.Redis(host=ce["Address"], port=ce["Port"])
    slots = r.execute_command("CLUSTER", "SLOTS")
    assert sorted((s[0], s[1], len(s) - 2) for s in slots) == [(0, 8191, 2), (8192, 16383, 2)]
    assert r.info("cluster")["cluster_enabled"] == 1

    g = migrate_under_load(ec, "alonare-test", ca, lambda **tls: RedisCluster(
        host=ce["Address"], port=ce["Port"], **tls, **CLIENT_TIMEOUTS))
    assert g["ConfigurationEndpoint"] == ce  # one port serves both: no endpoint changes
    with pytest.raises(redis.exceptions.RedisError):
        redis.Redis(host=ce["Address"], port=ce["Port"], socket_timeout=2).ping()
    rt = RedisCluster(host=ce["Address"], port=ce["Port"], ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")
    rt.set("after", "required")
    assert rt.get("after") == b"required"
    msgs = [e["Message"] for e in ec.describe_events(SourceIdentifier="alonare-test-0001-002")["Events"]]
    assert "Cache node alonare-test-0001-002 replicates over TLS" in msgs
    delete_and_check_no_orphans(ec, c, "alonare-test")


def test_seed_workflow_cluster_mode_disabled(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    g = ec.create_replication_group(ReplicationGroupId="cmd", ReplicationGroupDescription="cmd",
                                    NumCacheClusters=2, AutomaticFailoverEnabled=True, MultiAZEnabled=True,
                                    Engine="redis", EngineVersion="7.0")["ReplicationGroup"]
    assert g["Status"] == "creating" and g["ClusterEnabled"] is False
    g = wait_available(ec, "cmd")
    assert g["MemberClusters"] == ["cmd-001", "cmd-002"] and "ConfigurationEndpoint" not in g
    ng = g["NodeGroups"][0]
    assert [(m["CacheClusterId"], m["CurrentRole"]) for m in ng["NodeGroupMembers"]] == [
        ("cmd-001", "primary"), ("cmd-002", "replica")]
    pe, re_ = ng["PrimaryEndpoint"], ng["ReaderEndpoint"]
    assert pe != re_ and re_ == ng["NodeGroupMembers"][1]["ReadEndpoint"]
    ca = fetch_ca(c, tmp_path)
    assert replica_links(ec, "cmd", ca) == {"cmd-002": "up"}

    g = migrate_under_load(ec, "cmd", ca, lambda **tls: redis.Redis(
        host=pe["Address"], port=pe["Port"], **tls, **CLIENT_TIMEOUTS))
    assert g["NodeGroups"][0]["PrimaryEndpoint"] == pe
    assert replica_links(ec, "cmd", ca) == {"cmd-002": "up"}
    # the replica followed every write, over its TLS link
    reader = redis.Redis(host=re_["Address"], port=re_["Port"], ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")
    wait_until(lambda: reader.get("499") == b"499", what="replica caught up")

    # and back to none through preferred: links go plaintext before the primary
    ec.modify_replication_group(ReplicationGroupId="cmd", TransitEncryptionEnabled=True,
                                TransitEncryptionMode="preferred", ApplyImmediately=True)
    wait_available(ec, "cmd")
    ec.modify_replication_group(ReplicationGroupId="cmd", TransitEncryptionEnabled=False, ApplyImmediately=True)
    g = wait_available(ec, "cmd")
    assert g["TransitEncryptionEnabled"] is False
    assert replica_links(ec, "cmd", ca) == {"cmd-002": "up"}
    redis.Redis(host=pe["Address"], port=pe["Port"]).set("plain-again", 1)
    wait_until(lambda: redis.Redis(host=re_["Address"], port=re_["Port"]).get("plain-again") == b"1",
               what="replicated over plaintext")
    delete_and_check_no_orphans(ec, c, "cmd")


def create_raw(c, **params):
    """CreateReplicationGroup as a raw form: Debian's botocore model predates
    ClusterMode (the relaxed-signature cachetd takes it unsigned)."""
    body = "&".join(f"{k}={v}" for k, v in dict(Action="CreateReplicationGroup", Version="2015-02-02",
                                                    ReplicationGroupDescription="x", **params).items())
    return raw_post(c, body, {"Content-Type": "application/x-www-form-urlencoded"})


def test_cluster_mode_create_errors_and_slots(cachetd):
    c = cachetd(["--insecure-any-signature"])
    ec = c.client()
    for kw, code in [(dict(NumCacheClusters=2, ClusterMode="enabled"), "InvalidParameterCombination"),
                                  (dict(ClusterMode="disabled", CacheParameterGroupName="default.redis7.cluster.on"),
                      "InvalidParameterCombination"),
                     (dict(ClusterMode="sometimes"), "InvalidParameterValue"),
                     (dict(NumNodeGroups=4294967297), "InvalidParameterValue"),  # not truncated to 1
                     (dict(NumNodeGroups=2, ReplicasPerNodeGroup=4294967297), "InvalidParameterValue"),
                     ({"NodeGroupConfiguration.NodeGroupConfiguration.2147483647.Slots": "0-16383"},
                      "InvalidParameterValue")]:
        status, body = create_raw(c, ReplicationGroupId="bad", **kw)
        assert status == 400 and f"<Code>{code}</Code>" in body, (kw, body)
    base = dict(ReplicationGroupDescription="x")
    ngc = lambda *specs: [dict(Slots=s, ReplicaCount=0) for s in specs]  # noqa: E731
    cases = [
        (dict(NumCacheClusters=2, NumNodeGroups=2), "InvalidParameterCombination"),
        (dict(NumCacheClusters=2, CacheParameterGroupName="default.redis7.cluster.on"),
         "InvalidParameterCombination"),
        (dict(NumNodeGroups=2, AutomaticFailoverEnabled=False), "InvalidParameterCombination"),
        (dict(NumNodeGroups=3, NodeGroupConfiguration=ngc("0-8191", "8192-16383")), "InvalidParameterCombination"),
        (dict(NumNodeGroups=0), "InvalidParameterValue"),
        (dict(NumNodeGroups=91), "InvalidParameterValue"),
        (dict(NumNodeGroups=2, ReplicasPerNodeGroup=6), "InvalidParameterValue"),
        (dict(NodeGroupConfiguration=ngc("0-8191", "8000-16383")), "InvalidParameterValue"),  # overlap
        (dict(NodeGroupConfiguration=ngc("0-8191", "8193-16383")), "InvalidParameterValue"),  # 8192 uncovered
        (dict(NodeGroupConfiguration=ngc("0-8191", "8192-16384")), "InvalidParameterValue"),
        (dict(NodeGroupConfiguration=ngc("zero-8191", "8192-16383")), "InvalidParameterValue"),
        (dict(NodeGroupConfiguration=[dict(Slots="0-8191", ReplicaCount=0),
                                      dict(Slots="8192-16383", ReplicaCount=1)]), "InvalidParameterValue"),
        (dict(NumNodeGroups=46, ReplicasPerNodeGroup=1), "NodeQuotaForClusterExceeded"),
    ]
    for kw, code in cases:
        with pytest.raises(ClientError) as e:
            ec.create_replication_group(ReplicationGroupId="bad", **base, **kw)
        assert code_of(e) == code, kw
    assert ec.describe_replication_groups()["ReplicationGroups"] == []  # nothing was created

    # explicit slots, no replicas; ClusterMode alone is one shard
    ec.create_replication_group(ReplicationGroupId="sl",
                                NodeGroupConfiguration=ngc("0-999,5000", "1000-4999,5001-16383"), **base)
    status, body = create_raw(c, ReplicationGroupId="one", ClusterMode="enabled")
    assert status == 200 and "<ClusterEnabled>true</ClusterEnabled>" in body, body
    g = wait_available(ec, "sl")
    assert [ng["Slots"] for ng in g["NodeGroups"]] == ["0-999,5000", "1000-4999,5001-16383"]
    assert g["MemberClusters"] == ["sl-0001-001", "sl-0002-001"]
    ce = g["ConfigurationEndpoint"]
    rc = RedisCluster(host=ce["Address"], port=ce["Port"])
    slots = redis.Redis(host=ce["Address"], port=ce["Port"]).execute_command("CLUSTER", "SLOTS")
    ranges = sorted((s[0], s[1]) for s in slots)
    assert ranges == [(0, 999), (1000, 4999), (5000, 5000), (5001, 16383)]
    for i in range(50):
        rc.set(f"k{i}", i)
    assert rc.get("k7") == b"7"
    g = wait_available(ec, "one")
    assert [ng["Slots"] for ng in g["NodeGroups"]] == ["0-16383"] and g["ClusterEnabled"] is True


def test_sigkill_during_cluster_create_and_migration(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    launch(ec, "crash")
    c.kill(signal.SIGKILL)  # at once: nodes maybe launched, maps maybe not pushed
    c.start()
    ec = c.client()
    g = wait_available(ec, "crash")
    assert len(node_pids(c.dir)) == 4
    ce = g["ConfigurationEndpoint"]
    rc = RedisCluster(host=ce["Address"], port=ce["Port"], **CLIENT_TIMEOUTS)
    w = DowntimeTestClient(rc)
    w.prefill_data(200)
    w.start()
    w.more()
    before = node_pids(c.dir)
    modify_transit_encryption_mode(ec, "crash", "preferred")
    c.kill(signal.SIGKILL)
    c.start()
    ec = c.client()
    g = wait_available(ec, "crash")
    assert g["TransitEncryptionMode"] == "preferred"
    assert node_pids(c.dir) == before  # migrated online, adopted, never restarted
    w.more()
    w.finish()
    assert set(replica_links(ec, "crash", fetch_ca(c, tmp_path)).values()) == {"up"}


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="Debian's awscli is not installed")
def test_aws_cli_cluster_mode(cachetd):
    """A shorter run with the AWS CLI: a 2x1 cluster-mode group, to preferred, deleted."""
    c = cachetd()

    def group():
        return aws_cli(c, "describe-replication-groups", "--replication-group-id", "cli-cme")["ReplicationGroups"][0]

    g = aws_cli(c, "create-replication-group", "--replication-group-id", "cli-cme", "--replication-group-description",
                "c", "--num-node-groups", "2", "--replicas-per-node-group", "1",
                "--cache-parameter-group-name", "default.redis7.cluster.on")["ReplicationGroup"]
    assert g["Status"] == "creating" and g["ClusterEnabled"] is True
    wait_until(lambda: group()["Status"] == "available", timeout=30, interval=0.3, what="available")
    g = group()
    assert len(g["MemberClusters"]) == 4 and g["ConfigurationEndpoint"]["Port"] > 0
    g = aws_cli(c, "modify-replication-group", "--replication-group-id", "cli-cme", "--transit-encryption-enabled",
                "--transit-encryption-mode", "preferred", "--apply-immediately")["ReplicationGroup"]
    assert g["Status"] == "modifying"
    wait_until(lambda: group()["Status"] == "available", timeout=30, interval=0.3, what="migrated")
    assert group()["TransitEncryptionMode"] == "preferred"
    out = aws_cli_run(c, "create-replication-group", "--replication-group-id", "x", "--replication-group-description",
                      "c", "--num-node-groups", "2", "--num-cache-clusters", "2")
    assert out.returncode != 0 and "InvalidParameterCombination" in out.stderr
    aws_cli(c, "delete-replication-group", "--replication-group-id", "cli-cme")
    wait_until(lambda: "ReplicationGroupNotFoundFault" in aws_cli_run(
        c, "describe-replication-groups", "--replication-group-id", "cli-cme").stderr, timeout=30, interval=0.3,
        what="deleted")
    assert node_pids(c.dir) == {}


def test_sigkill_loop_during_migrations(cachetd, tmp_path):
    """cachetd SIGKILLed again and again while it migrates a 2x1 cluster-mode
    group to preferred then required: each restart resumes, the group ends
    consistent (every node at the mode, links TLS and up), clients see 0
    failed operations and no node is ever restarted."""
    import random
    rnd = random.Random(20)
    c = cachetd()
    ec = c.client()
    launch(ec, "loop")
    ce = wait_available(ec, "loop")["ConfigurationEndpoint"]
    ca = fetch_ca(c, tmp_path)
    pids = node_pids(c.dir)
    clients = {}
    for mode, tls in (("preferred", {}), ("required", dict(ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required"))):
        w = clients[mode] = DowntimeTestClient(RedisCluster(host=ce["Address"], port=ce["Port"], **tls,
                                                            **CLIENT_TIMEOUTS))
        w.prefill_data(200)
        w.start()
        w.more()
        modify_transit_encryption_mode(ec, "loop", mode)
        for _ in range(6):
            time.sleep(rnd.uniform(0, 0.08))  # a random point of the migration, not a wait for a state
            c.kill(signal.SIGKILL)
            c.start()
            ec = c.client()
        g = wait_available(ec, "loop")
        assert g["TransitEncryptionMode"] == mode
        w.more()
        w.finish()
    assert node_pids(c.dir) == pids
    infos = node_infos(ec, "loop", ca)
    assert {i["master_link_status"] for i in infos.values() if i["role"] == "slave"} == {"up"}
    cc = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    assert {x["TransitEncryptionMode"] for x in cc} == {"required"}
    with pytest.raises(redis.exceptions.RedisError):
        redis.Redis(host=ce["Address"], port=ce["Port"], socket_timeout=2).ping()


def test_create_tls_required_with_replicas_and_replica_restart(cachetd, tmp_path):
    """Created in required: every replica's link is TLS from its first sync;
    a replica killed under a running cachetd comes back over TLS."""
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="sec", ReplicationGroupDescription="s", NumCacheClusters=3,
                                TransitEncryptionEnabled=True)
    g = wait_available(ec, "sec")
    assert g["TransitEncryptionMode"] == "required" and g["MemberClusters"] == ["sec-001", "sec-002", "sec-003"]
    ca = fetch_ca(c, tmp_path)
    assert replica_links(ec, "sec", ca) == {"sec-002": "up", "sec-003": "up"}
    pe = g["NodeGroups"][0]["PrimaryEndpoint"]
    r = redis.Redis(host=pe["Address"], port=pe["Port"], ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")
    r.set("k", "v")
    pid = node_pids(c.dir)["sec-003"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: node_pids(c.dir).get("sec-003") not in (None, pid), what="replica restarted")
    wait_until(lambda: replica_links(ec, "sec", ca) == {"sec-002": "up", "sec-003": "up"}, timeout=20,
               what="replica's TLS link up again")
    rp = g["NodeGroups"][0]["NodeGroupMembers"][2]["ReadEndpoint"]["Port"]
    rr = redis.Redis(host="127.0.0.1", port=rp, ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")
    assert rr.get("k") == b"v"
    assert rr.info("replication")["role"] == "slave"
    assert node_infos(ec, "sec", ca)["sec-001"]["connected_slaves"] == 2
