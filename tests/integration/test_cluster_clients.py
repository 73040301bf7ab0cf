"""Real cluster clients against a 3-shard Cachet cluster, and (where it is
cheap) the same test against a Redis 7.0 cluster built with `redis-cli
--cluster create` (differential): `redis-benchmark --cluster`, `redis-cli -c`
following MOVED, redis-py RedisCluster over TLS with ssl_check_hostname
against nodes announcing the host name `localhost`, READONLY reads on a
replica.
"""
import re
import shutil
import subprocess

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import free_port, wait_until
from test_cluster import Cluster, key_slot, ok, owner_of

CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
BENCH = shutil.which("redis-benchmark")
REDIS_SERVER = shutil.which("redis-server")


def cachet3(server_factory):
    c = Cluster(server_factory)
    c.push(*c.spec())
    return [n.port for n in c.nodes]


def redis3(server_factory, extra=()):
    """A 3-primary Redis 7.0 cluster; its bus on a port of its own (cluster-port)."""
    nodes = [server_factory("--cluster-enabled", "yes", "--cluster-port", free_port(), "--save", "", *extra,
                            binary=REDIS_SERVER) for _ in range(3)]
    subprocess.run([CLI, "--cluster", "create"] + [f"127.0.0.1:{n.port}" for n in nodes] + ["--cluster-yes"],
                   capture_output=True, timeout=60, check=True)
    for n in nodes:
        wait_until(lambda: "cluster_state:ok" in n.client(decode_responses=True).execute_command("CLUSTER", "INFO"),
                   timeout=30, what="redis cluster_state ok")
    return [n.port for n in nodes]


KINDS = ["cachet", pytest.param("redis", marks=pytest.mark.skipif(not REDIS_SERVER, reason="no redis-server"))]


@pytest.fixture(params=KINDS)
def ports(request, server_factory):
    return cachet3(server_factory) if request.param == "cachet" else redis3(server_factory)


@pytest.mark.skipif(not BENCH, reason="redis-benchmark not installed")
def test_redis_benchmark_cluster(ports):
    p = subprocess.run([BENCH, "--cluster", "-p", str(ports[0]), "-t", "set,get", "-n", "2000", "-c", "10",
                        "-r", "10000", "--csv"], capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "error" not in out.lower(), out
    assert "Cluster has 3 master nodes" in out, out
    rows = dict(re.findall(r'^"(SET|GET)","([0-9.]+)"', p.stdout, re.M))
    assert set(rows) == {"SET", "GET"}, out
    assert all(float(v) > 0 for v in rows.values()), out


def test_redis_cli_follows_moved_across_slots(ports):
    keys = [f"k{n}" for n in range(40)]
    assert len({owner_of(key_slot(k)) for k in keys}) == 3
    for i, k in enumerate(keys):
        p = subprocess.run([CLI, "-c", "-p", str(ports[i % 3]), "SET", k, f"v{i}"], capture_output=True, text=True,
                           timeout=20)
        assert p.stdout.strip() == "OK", p
    for i, k in enumerate(keys):
        p = subprocess.run([CLI, "-c", "-p", str(ports[(i + 1) % 3]), "GET", k], capture_output=True, text=True,
                           timeout=20)
        assert p.stdout.strip() == f"v{i}", p
    total = sum(redis.Redis(port=p).dbsize() for p in ports)
    assert total == len(keys)
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[1])], decode_responses=True)
    try:
        assert [rc.get(k) for k in keys] == [f"v{i}" for i in range(len(keys))]
    finally:
        rc.close()


def tls_admin(port, certs):
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=certs["ca_crt"], ssl_cert_reqs="required",
                       socket_timeout=10, decode_responses=True)


def cachet3_tls_hostname(server_factory, certs):
    args = ("--tls-mode", "required", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"],
            "--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname")
    c = Cluster(server_factory, extra=args, tls=certs)
    c.push(*c.spec(host="localhost"))
    return [n.port for n in c.nodes]


def redis3_tls_hostname(tmp_path, certs, procs):
    """A Redis 7.0 cluster on TLS-only ports (bus over TLS too), announcing
    localhost; its processes are appended to procs for the caller to stop."""
    ports = []
    for i in range(3):
        d = tmp_path / f"redis-tls{i}"
        d.mkdir()
        port = free_port()
        ports.append(port)
        procs.append(subprocess.Popen(
            [REDIS_SERVER, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
             "--save", "", "--cluster-enabled", "yes", "--cluster-port", str(free_port()), "--tls-cluster", "yes",
             "--tls-cert-file", certs["server_crt"], "--tls-key-file", certs["server_key"],
             "--tls-ca-cert-file", certs["ca_crt"], "--tls-auth-clients", "no",
             # the bus always wants a client certificate, and the server's is for serverAuth only
             "--tls-client-cert-file", certs["client_crt"], "--tls-client-key-file", certs["client_key"],
             "--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def pings(p):
        try:
            return tls_admin(p, certs).ping()
        except redis.ConnectionError:
            return False
    for p in ports:
        wait_until(lambda: pings(p), timeout=20, what="redis-server over TLS")
    subprocess.run([CLI, "--tls", "--cacert", certs["ca_crt"], "--cluster", "create"] +
                   [f"127.0.0.1:{p}" for p in ports] + ["--cluster-yes"], capture_output=True, timeout=60, check=True)
    for p in ports:
        wait_until(lambda: "cluster_state:ok" in tls_admin(p, certs).execute_command("CLUSTER", "INFO"), timeout=30,
                   what="redis cluster_state ok")
        # every node must know every node's host name (gossip) before the maps compare
        wait_until(lambda: all(e[2][0] == "localhost" for e in tls_admin(p, certs).execute_command("CLUSTER", "SLOTS")),
                   timeout=30, what="host names gossiped")
    return ports


@pytest.mark.parametrize("kind", KINDS)
def test_tls_hostname_endpoints_with_check_hostname(kind, server_factory, tls_certs, tmp_path):
    procs = []
    try:
        if kind == "cachet":
            ports = cachet3_tls_hostname(server_factory, tls_certs)
        else:
            ports = redis3_tls_hostname(tmp_path, tls_certs, procs)
        check_tls_hostname_cluster(ports, tls_certs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


def check_tls_hostname_cluster(ports, certs):
    admin = tls_admin(ports[1], certs)
    slots = admin.execute_command("CLUSTER", "SLOTS")
    assert [e[2][0] for e in sorted(slots)] == ["localhost"] * 3
    assert all(e[2][3] == ["ip", "127.0.0.1"] for e in slots)
    for sh in admin.execute_command("CLUSTER", "SHARDS"):
        node = dict(zip(sh[3][0][0::2], sh[3][0][1::2]))
        assert node["endpoint"] == "localhost" and node["hostname"] == "localhost", node
    rc = RedisCluster(host="localhost", port=ports[2], ssl=True, ssl_ca_certs=certs["ca_crt"],
                      ssl_cert_reqs="required", ssl_check_hostname=True, decode_responses=True)
    try:
        keys = [f"tls:{n}" for n in range(200)]
        for k in keys:
            rc.set(k, k[::-1])
        assert [rc.get(k) for k in keys] == [k[::-1] for k in keys]
        counts = [tls_admin(p, certs).dbsize() for p in ports]
        assert sum(counts) == 200 and all(x > 0 for x in counts)
        # a MOVED names the host name too
        k = next(k for k in keys if owner_of(key_slot(k)) == 0)  # redis-cli --cluster create splits as RANGES3
        with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(k)} localhost:{ports[0]}$"):
            tls_admin(ports[1], certs).get(k)
    finally:
        rc.close()


def test_readonly_reads_on_an_attached_replica(server_factory):
    c = Cluster(server_factory, n=4)
    roles = [("primary", r) for r in ("0-5460", "5461-10922", "10923-16383")] + [("replica", 0)]
    c.push(*c.spec(roles))
    rep = c.admin(3)
    assert ok(rep.execute_command("REPLICAOF", "127.0.0.1", c.nodes[0].port))
    key = next(k for k in (f"r{n}" for n in range(200)) if owner_of(key_slot(k)) == 0)
    c.admin(0).set(key, "from-primary")
    assert ok(rep.execute_command("READONLY"))
    wait_until(lambda: rep.get(key) == "from-primary", timeout=20, what="the replica to get the key")
    rep2 = c.admin(3)
    with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(key)} 127.0.0.1:{c.nodes[0].port}$"):
        rep2.get(key)  # without READONLY
    # redis-py routes reads to replicas with read_from_replicas
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", c.nodes[0].port)], read_from_replicas=True,
                      decode_responses=True)
    try:
        assert rc.get(key) == "from-primary"
        assert any(n.server_type == "replica" and n.port == c.nodes[3].port for n in rc.get_nodes())
    finally:
        rc.close()


def test_blocked_client_gets_moved_when_its_slot_moves(ports):
    """A client blocked in BLPOP on a key of node 0, whose slot node 0 then
    hands to node 1 (CLUSTER SETSLOT NODE: the slot holds no key), is
    answered -MOVED by Redis 7.0 (clientsCron's
    clusterRedirectBlockedClientIfNeeded) and by Cachet alike."""
    import threading
    tag = next(t for t in (f"b{n}" for n in range(1000)) if owner_of(key_slot(t)) == 0)
    slot, key = key_slot(tag), f"{{{tag}}}:q"
    admin = [redis.Redis(port=p, decode_responses=True) for p in ports[:2]]
    waiter = redis.Redis(port=ports[0], decode_responses=True, socket_timeout=30)
    out = {}

    def run():
        try:
            out["r"] = waiter.blpop([key], 0)
        except redis.ResponseError as e:
            out["r"] = str(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_until(lambda: admin[0].info("clients")["blocked_clients"] == 1, what="blocked")
    assert admin[0].execute_command("CLUSTER", "SETSLOT", slot, "NODE",
                                    admin[1].execute_command("CLUSTER", "MYID")) in (True, "OK")
    t.join(15)
    assert out.get("r") == f"MOVED {slot} 127.0.0.1:{ports[1]}"
    assert admin[0].info("clients")["blocked_clients"] == 0
