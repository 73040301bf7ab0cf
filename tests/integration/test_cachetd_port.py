"""CreateReplicationGroup's Port (docs/control-plane.md): the group's nodes
take Port, Port+1, ... in member order (primary first); the endpoints in
the replies are those ports; a range that is not free, or that another
group's node holds, or that runs past 65535 is refused with
InvalidParameterValue and changes nothing; a restarted node (died, or
cachetd restarted) comes back on its port. Without Port each node gets a
free port, as before."""
import os
import signal
import socket
import urllib.request

import pytest
import redis
from botocore.exceptions import ClientError

from conftest import wait_until
from test_cachetd import cachetd, code_of, node_pids, wait_available  # noqa: F401 - a fixture


def free_run(n):
    """A port p with p .. p+n-1 all free on 127.0.0.1 (bound, then released)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p + n - 1 > 65535:
            continue
        socks = []
        try:
            for q in range(p, p + n):
                s = socket.socket()
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no run of free ports")


def ports_of(g):
    """Member cluster id -> port, from DescribeReplicationGroups (cluster mode disabled)."""
    return {m["CacheClusterId"]: m["ReadEndpoint"]["Port"] for m in g["NodeGroups"][0]["NodeGroupMembers"]}


def assert_refused_and_nothing_changed(c, ec, before, **kw):
    with pytest.raises(ClientError) as e:
        ec.create_replication_group(ReplicationGroupDescription="p", **kw)
    assert code_of(e) == "InvalidParameterValue", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"]] == before
    gid = kw["ReplicationGroupId"]
    assert not any(n.startswith(gid + "-") for n in node_pids(c.dir))
    assert not os.path.exists(os.path.join(c.dir, "nodes", gid + "-001"))
    return e.value.response["Error"]["Message"]


def test_port_consecutive_and_kept_across_restarts(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    p = free_run(2)
    g = ec.create_replication_group(ReplicationGroupId="fixed", ReplicationGroupDescription="p",
                                    NumCacheClusters=2, Port=p, TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="preferred")["ReplicationGroup"]
    g = wait_available(ec, "fixed")
    assert ports_of(g) == {"fixed-001": p, "fixed-002": p + 1}
    ng = g["NodeGroups"][0]
    assert ng["PrimaryEndpoint"]["Port"] == p and ng["ReaderEndpoint"]["Port"] == p + 1
    clusters = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    assert {x["CacheClusterId"]: x["CacheNodes"][0]["Endpoint"]["Port"] for x in clusters} == ports_of(g)
    r = redis.Redis(host="127.0.0.1", port=p, socket_timeout=5)
    r.set("k", "v")
    wait_until(lambda: redis.Redis(host="127.0.0.1", port=p + 1, socket_timeout=5).get("k") == b"v",
               what="the replica on Port+1 follows")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(urllib.request.urlopen(c.url + "/ca.pem").read())
    for port in (p, p + 1):  # tls-mode preferred: TLS on the same ports
        assert redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=str(ca), socket_timeout=5).get("k") == b"v"

    # a node that dies comes back on its port
    old = node_pids(c.dir)["fixed-001"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: node_pids(c.dir).get("fixed-001") not in (None, old), timeout=30, what="node restarted")
    wait_until(lambda: redis.Redis(host="127.0.0.1", port=p, socket_timeout=2).ping(), timeout=30,
               what="primary back on Port")

    # cachetd killed, its nodes stopped too: the next cachetd starts them on the same ports
    c.kill()
    for pid in node_pids(c.dir).values():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: node_pids(c.dir) == {}, what="nodes gone")
    c.start()
    ec = c.client()
    wait_until(lambda: set(node_pids(c.dir)) == {"fixed-001", "fixed-002"}, timeout=30, what="nodes restarted")
    wait_until(lambda: redis.Redis(host="127.0.0.1", port=p + 1, socket_timeout=2).ping(), timeout=30,
               what="replica back on Port+1")
    assert redis.Redis(host="127.0.0.1", port=p, socket_timeout=2).ping()
    g = ec.describe_replication_groups(ReplicationGroupId="fixed")["ReplicationGroups"][0]
    assert ports_of(g) == {"fixed-001": p, "fixed-002": p + 1}


def test_port_cluster_mode_member_order(cachetd):
    c = cachetd()
    ec = c.client()
    p = free_run(4)
    ec.create_replication_group(ReplicationGroupId="cm", ReplicationGroupDescription="p", NumNodeGroups=2,
                                ReplicasPerNodeGroup=1, Port=p)
    g = wait_available(ec, "cm")
    assert g["ConfigurationEndpoint"]["Port"] == p
    clusters = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    got = {x["CacheClusterId"]: x["CacheNodes"][0]["Endpoint"]["Port"] for x in clusters}
    assert got == {"cm-0001-001": p, "cm-0001-002": p + 1, "cm-0002-001": p + 2, "cm-0002-002": p + 3}
    slots = redis.Redis(host="127.0.0.1", port=p, socket_timeout=5).execute_command("CLUSTER", "SLOTS")
    assert sorted(s[2][1] for s in slots) == [p, p + 2]


def test_port_refusals_change_nothing(cachetd):
    c = cachetd()
    ec = c.client()
    p = free_run(2)
    ec.create_replication_group(ReplicationGroupId="first", ReplicationGroupDescription="p", Port=p)
    wait_available(ec, "first")
    before = ["first"]
    # Port+1 in use by some other program
    q = free_run(2)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", q + 1))
        busy.listen()
        msg = assert_refused_and_nothing_changed(c, ec, before, ReplicationGroupId="busy", NumCacheClusters=2,
                                                 Port=q)
        assert f"127.0.0.1:{q + 1} is in use" in msg, msg
    # a port another group's node holds: the store decides (a node that is
    # down for a moment keeps its port), before any bind is tried
    msg = assert_refused_and_nothing_changed(c, ec, before, ReplicationGroupId="overlap", Port=p)
    assert "another cache node's" in msg, msg
    # out of range, or running past 65535
    for port, num in ((0, 1), (65536, 1), (65535, 2)):
        assert_refused_and_nothing_changed(c, ec, before, ReplicationGroupId="range", NumCacheClusters=num,
                                           Port=port)
    # the same Port free again: accepted (the refusals reserved nothing)
    ec.create_replication_group(ReplicationGroupId="busy", ReplicationGroupDescription="p", NumCacheClusters=2,
                                Port=q)
    assert ports_of(wait_available(ec, "busy")) == {"busy-001": q, "busy-002": q + 1}
