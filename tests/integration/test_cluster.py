"""Cluster mode: key slots, the pushed topology (CLUSTER SETTOPOLOGY), the
CLUSTER commands in Redis 7.0's formats, MOVED/CROSSSLOT/CLUSTERDOWN
redirections, READONLY on replicas, sharded pub/sub, the cluster-config-file
across restarts and crashes, and real cluster clients (redis-py RedisCluster,
redis-cli -c) over plaintext and TLS.

Reference shapes (CLUSTER NODES/SLOTS/SHARDS/INFO) were taken from a real
3-node Redis 7.0.15 cluster built with `redis-cli --cluster create`; the
comparison test at the end rebuilds one when redis-server is installed.
"""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster, ClusterNode

from conftest import Server, free_port, wait_until
from tlsutil import tls_client  # noqa: F401  (same certificates as test_tls)

CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
REDIS_SERVER = shutil.which("redis-server")
RANGES3 = ["0-5460", "5461-10922", "10923-16383"]


def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    k = key.encode()
    s = k.find(b"{")
    if s != -1:
        e = k.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            k = k[s + 1:e]
    return crc16(k) % 16384


def owner_of(slot, ranges=RANGES3):
    for i, r in enumerate(ranges):
        a, b = (int(x) for x in r.split("-"))
        if a <= slot <= b:
            return i
    return None


class Cluster:
    """N cachet-server nodes with cluster-enabled yes and a pushed map."""

    def __init__(self, server_factory, n=3, extra=(), tls=None):
        self.tls = tls
        self.nodes = [server_factory("--cluster-enabled", "yes", *extra) for _ in range(n)]
        self.ids = [self.admin(i).execute_command("CLUSTER", "MYID") for i in range(n)]

    def admin(self, i, **kw):
        s = self.nodes[i]
        if self.tls:
            return tls_client(s, self.tls, decode_responses=True, **kw)
        return s.client(decode_responses=True, **kw)

    def spec(self, roles=None, ranges=RANGES3, host="-", epoch=1):
        """roles: list of ('primary', ranges) or ('replica', primary_index)."""
        roles = roles or [("primary", r) for r in ranges]
        args = [epoch]
        for i, (role, what) in enumerate(roles):
            args += ["NODE", self.ids[i], "127.0.0.1", self.nodes[i].port, 0, host]
            args += ["PRIMARY", what] if role == "primary" else ["REPLICA", self.ids[what]]
        return args

    def push(self, *args):
        for i in range(len(self.nodes)):
            assert ok(self.admin(i).execute_command("CLUSTER", "SETTOPOLOGY", *args))


@pytest.fixture
def cluster(server_factory):
    c = Cluster(server_factory)
    c.push(*c.spec())
    return c


def ok(v):
    """redis-py turns some +OK replies into True."""
    return v is True or v == "OK"


def info_map(text):
    return dict(line.split(":", 1) for line in text.strip().splitlines() if ":" in line)


# ---- slots -------------------------------------------------------------------------


def test_keyslot_matches_redis_rule(cluster):
    r = cluster.admin(0)
    for key in ["foo", "bar", "{user1}:a", "a{}b", "{}x", "x{", "a{b}c{d}", "", "123456789", "{{a}}"]:
        assert r.execute_command("CLUSTER", "KEYSLOT", key) == key_slot(key), key
    assert r.execute_command("CLUSTER", "KEYSLOT", "123456789") == 0x31C3 % 16384
    assert r.execute_command("CLUSTER", "KEYSLOT", "{user1}:a") == 8106  # as Redis 7.0 answers


def test_countkeysinslot_and_getkeysinslot(cluster):
    i = 0
    r = cluster.admin(i)
    mine = [k for k in (f"k{n}" for n in range(2000)) if owner_of(key_slot(k)) == i]
    tagged = [f"{{tag}}:{n}" for n in range(50)]
    slot = key_slot("{tag}")
    node = cluster.admin(owner_of(slot))
    for k in mine[:300]:
        r.set(k, 1)
    for k in tagged:
        node.set(k, 1)
    assert node.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 50
    got = node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
    assert sorted(got) == sorted(tagged)
    assert len(node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 7)) == 7
    assert node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 0) == []
    # deletes, overwrites, expiry and flush keep the index exact
    node.delete(*tagged[:10])
    node.set(tagged[10], "new value that is much longer than before" * 3)
    node.append(tagged[11], "x" * 100)
    node.set(tagged[12], 1, px=1)
    wait_until(lambda: node.get(tagged[12]) is None and node.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 39,
               what="the expired key to leave the slot index")
    assert sorted(node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)) == sorted(
        tagged[10:12] + tagged[13:])
    node.flushall()
    assert node.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert node.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10) == []
    total = sum(r.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot(k)) for k in set(mine[:300]))
    assert total >= 300  # several keys may share a slot: each counted once per slot


def test_slot_argument_errors(cluster):
    r = cluster.admin(0)
    for bad in ("-1", "16384", "99999"):
        with pytest.raises(redis.ResponseError, match="^Invalid slot$"):
            r.execute_command("CLUSTER", "COUNTKEYSINSLOT", bad)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("CLUSTER", "COUNTKEYSINSLOT", "abc")
    with pytest.raises(redis.ResponseError, match="^Invalid slot or number of keys$"):
        r.execute_command("CLUSTER", "GETKEYSINSLOT", 1, -1)
    with pytest.raises(redis.ResponseError, match="^Invalid slot or number of keys$"):
        r.execute_command("CLUSTER", "GETKEYSINSLOT", 16384, 1)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("CLUSTER", "GETKEYSINSLOT", 1, "abc")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'cluster|keyslot' command"):
        r.execute_command("CLUSTER", "KEYSLOT")


def test_select_refused_and_cluster_disabled_errors(cluster, server_factory):
    r = cluster.admin(0)
    with pytest.raises(redis.ResponseError, match="^SELECT is not allowed in cluster mode$"):
        r.execute_command("SELECT", 1)
    assert ok(r.execute_command("SELECT", 0))
    assert r.info("cluster")["cluster_enabled"] == 1
    plain = server_factory().client(decode_responses=True)
    assert plain.info("cluster")["cluster_enabled"] == 0
    for args in (("CLUSTER", "INFO"), ("CLUSTER", "SLOTS"), ("READONLY",), ("CLUSTER", "SETTOPOLOGY", 1)):
        with pytest.raises(redis.ResponseError, match="^This instance has cluster support disabled$"):
            plain.execute_command(*args)
    assert ok(plain.execute_command("SELECT", 1))
    key = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 0)
    r.set(key, 1)
    with pytest.raises(redis.ResponseError, match="^MOVE is not allowed in cluster mode$"):
        r.move(key, 1)
    with pytest.raises(redis.ResponseError, match="^Copying to another database is not allowed in cluster mode$"):
        r.copy(key, "{" + key + "}y", destination_db=1)
    assert r.copy(key, "{" + key + "}x") is True  # same slot, same database
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("cluster-enabled", "no")


# ---- formats ---------------------------------------------------------------------

NODE_LINE = re.compile(r"^([0-9a-f]{40}) (\S*):(\d+)@(\d+)(,\S+)? (myself,)?(master|slave) (-|[0-9a-f]{40}) "
                       r"(\d+) (\d+) (\d+) connected((?: \d+(?:-\d+)?)*)$")


def test_cluster_nodes_line_format(cluster):
    for i in range(3):
        lines = cluster.admin(i).execute_command("CLUSTER", "NODES").strip().split("\n")
        assert len(lines) == 3
        seen = {}
        for line in lines:
            m = NODE_LINE.match(line)
            assert m, line
            seen[m.group(1)] = m
        me = seen[cluster.ids[i]]
        assert me.group(6) == "myself,"
        for j in range(3):
            m = seen[cluster.ids[j]]
            assert m.group(2) == "127.0.0.1" and int(m.group(3)) == cluster.nodes[j].port
            cport = cluster.nodes[j].port + 10000
            assert int(m.group(4)) == (cport if cport <= 65535 else 0)
            assert m.group(5) is None  # no hostname: no comma, as Redis 7.0
            assert m.group(7) == "master" and m.group(8) == "-"
            assert m.group(11) == "1"
            assert m.group(12).strip() == RANGES3[j]


def test_cluster_info_fields_in_redis_order(cluster):
    text = cluster.admin(1).execute_command("CLUSTER", "INFO")
    assert text.endswith("\r\n")
    keys = [line.split(":")[0] for line in text.strip().split("\r\n")]
    assert keys == ["cluster_state", "cluster_slots_assigned", "cluster_slots_ok", "cluster_slots_pfail",
                    "cluster_slots_fail", "cluster_known_nodes", "cluster_size", "cluster_current_epoch",
                    "cluster_my_epoch", "cluster_stats_messages_sent", "cluster_stats_messages_received",
                    "total_cluster_links_buffer_limit_exceeded"]
    m = info_map(text)
    assert m["cluster_state"] == "ok" and m["cluster_slots_assigned"] == "16384"
    assert m["cluster_slots_ok"] == "16384" and m["cluster_known_nodes"] == "3" and m["cluster_size"] == "3"
    assert m["cluster_current_epoch"] == "1" and m["cluster_my_epoch"] == "1"


def test_cluster_slots_and_shards_shapes(cluster):
    r = cluster.admin(0)
    s = cluster.nodes[0].raw()
    s.sendall(b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n")
    from tlsutil import Resp
    slots = Resp(s).read()
    assert len(slots) == 3
    for entry, j in zip(sorted(slots), range(3)):
        a, b, node = entry
        assert f"{a}-{b}" == RANGES3[j]
        assert node == [b"127.0.0.1", cluster.nodes[j].port, cluster.ids[j].encode(), []]
    s2 = cluster.nodes[0].raw()
    s2.sendall(b"*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n")
    raw_shards = Resp(s2).read()
    for shard in raw_shards:
        assert shard[0] == b"slots" and shard[2] == b"nodes"
        node = shard[3][0]
        keys = node[0::2]
        assert keys == [b"id", b"port", b"ip", b"endpoint", b"role", b"replication-offset", b"health"]
        j = cluster.ids.index(node[1].decode())
        assert shard[1] == [int(x) for x in RANGES3[j].split("-")]
        assert node[3] == cluster.nodes[j].port and node[5] == b"127.0.0.1" and node[7] == b"127.0.0.1"
        assert node[9] == b"master" and node[13] == b"online"


def test_endpoint_types_in_slots_nodes_moved(server_factory):
    c = Cluster(server_factory, extra=("--cluster-preferred-endpoint-type", "hostname"))
    c.push(*c.spec(host="localhost"))
    from tlsutil import Resp
    s = c.nodes[0].raw()
    s.sendall(b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n")
    for entry in Resp(s).read():
        assert entry[2][0] == b"localhost" and entry[2][3] == [b"ip", b"127.0.0.1"]
    key = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 1)
    with pytest.raises(redis.ResponseError) as e:
        c.admin(0).get(key)
    assert str(e.value) == f"MOVED {key_slot(key)} localhost:{c.nodes[1].port}"
    assert ",localhost " in c.admin(0).execute_command("CLUSTER", "NODES").split("\n")[0]
    for i in range(3):
        c.admin(i).config_set("cluster-preferred-endpoint-type", "unknown-endpoint")
    s.sendall(b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n")
    for entry in Resp(s).read():
        assert entry[2][0] is None
        assert entry[2][3] == [b"ip", b"127.0.0.1", b"hostname", b"localhost"]
    with pytest.raises(redis.ResponseError) as e:
        c.admin(0).get(key)
    assert str(e.value) == f"MOVED {key_slot(key)} ?:{c.nodes[1].port}"
    c.admin(0).config_set("cluster-preferred-endpoint-type", "ip")
    with pytest.raises(redis.ResponseError) as e:
        c.admin(0).get(key)
    assert str(e.value) == f"MOVED {key_slot(key)} 127.0.0.1:{c.nodes[1].port}"
    with pytest.raises(redis.ResponseError):
        c.admin(0).config_set("cluster-preferred-endpoint-type", "dns")


def test_replicas_myshardid_links_reset(server_factory):
    c = Cluster(server_factory, n=4)
    roles = [("primary", "0-8000"), ("primary", "8001-16383"), ("replica", 0), ("replica", 0)]
    c.push(*c.spec(roles))
    r = c.admin(2)
    reps = r.execute_command("CLUSTER", "REPLICAS", c.ids[0])
    assert sorted(line.split()[0] for line in reps) == sorted([c.ids[2], c.ids[3]])
    assert all(" slave " in line or "myself,slave" in line for line in reps)
    assert r.execute_command("CLUSTER", "SLAVES", c.ids[1]) == []
    with pytest.raises(redis.ResponseError, match="^Unknown node abc$"):
        r.execute_command("CLUSTER", "REPLICAS", "abc")
    with pytest.raises(redis.ResponseError, match="^The specified node is not a master$"):
        r.execute_command("CLUSTER", "REPLICAS", c.ids[3])
    assert r.execute_command("CLUSTER", "MYSHARDID") == c.ids[0]
    assert c.admin(1).execute_command("CLUSTER", "MYSHARDID") == c.ids[1]
    assert r.execute_command("CLUSTER", "LINKS") == []
    line = [x for x in r.execute_command("CLUSTER", "NODES").split("\n") if x.startswith(c.ids[2])][0]
    assert f" myself,slave {c.ids[0]} " in line
    # A primary holding keys refuses RESET; an empty one goes back to itself alone.
    p = c.admin(0)
    p.set(next(k for k in (f"k{n}" for n in range(100)) if key_slot(k) <= 8000), 1)
    with pytest.raises(redis.ResponseError, match="^CLUSTER RESET can't be called with master nodes containing keys$"):
        p.execute_command("CLUSTER", "RESET")
    assert ok(r.execute_command("CLUSTER", "RESET"))
    assert r.execute_command("CLUSTER", "MYID") == c.ids[2]
    assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_known_nodes"] == "1"
    assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_state"] == "fail"
    # soft reset keeps the epoch: a stale map is still refused
    with pytest.raises(redis.ResponseError, match="stale topology"):
        r.execute_command("CLUSTER", "SETTOPOLOGY", *c.spec(roles, epoch=0))
    assert ok(r.execute_command("CLUSTER", "RESET", "HARD"))
    assert r.execute_command("CLUSTER", "MYID") != c.ids[2]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("CLUSTER", "RESET", "MEDIUM")


# ---- the topology command: bad input changes nothing ------------------------------

def test_bad_topologies_are_refused_and_change_nothing(cluster):
    r = cluster.admin(0)
    before = r.execute_command("CLUSTER", "NODES")
    ids = cluster.ids
    p = [n.port for n in cluster.nodes]

    def node(i, role="PRIMARY", what=None, ip="127.0.0.1", port=None, host="-", nid=None):
        return ["NODE", nid or ids[i], ip, port if port is not None else p[i], 0, host, role,
                what if what is not None else RANGES3[i]]

    def full(epoch=2, **over):
        return [epoch] + node(0) + node(1) + node(2)

    cases = {
        "stale topology: epoch 0 is lower than the current epoch 1": full(epoch=0),
        "slot 5460 is assigned to both": [2] + node(0) + node(1, what="5460-10922") + node(2),
        "names " + "f" * 40 + " as its primary": [2] + node(0) + node(1) + node(2, "REPLICA", "f" * 40),
        "not a primary of this map": [2] + node(0) + node(1, "REPLICA", ids[2]) + node(2, "REPLICA", ids[1]),
        "invalid node id": [2] + node(0) + node(1, nid="XYZ") + node(2),
        "invalid node id 'F": [2] + node(0) + node(1, nid="F" * 40) + node(2),
        "invalid slot range '16384'": [2] + node(0, what="0-5460,16384") + node(1) + node(2),
        "invalid slot range '10-5'": [2] + node(0, what="10-5") + node(1) + node(2),
        "invalid slot range 'a-b'": [2] + node(0, what="a-b") + node(1) + node(2),
        "invalid slot range ''": [2] + node(0, what="0-5460,") + node(1) + node(2),
        "invalid ip": [2] + node(0, ip="300.1.1.1") + node(1) + node(2),
        "invalid port": [2] + node(0, port=0) + node(1) + node(2),
        "invalid hostname": [2] + node(0, host="bad host") + node(1) + node(2),
        "invalid role": [2] + node(0, role="LEADER") + node(1) + node(2),
        "appears twice": [2] + node(0) + node(0, what="-") + node(2),
        "does not include this node": [2] + node(1) + node(2),
        "invalid epoch": ["-3"] + node(0),
        "syntax error": [2] + node(0)[:-1],
        "expected NODE": [2] + ["NOD"] + node(0)[1:],
    }
    for msg, args in cases.items():
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("CLUSTER", "SETTOPOLOGY", *args)
        assert msg in str(e.value), (msg, str(e.value))
        assert r.execute_command("CLUSTER", "NODES") == before
    with open(os.path.join(cluster.nodes[0].dir, "nodes.conf")) as f:
        assert "topology 1 " in f.read()
    # The same epoch again is accepted (a control plane's retry); a newer one moves slots.
    assert ok(r.execute_command("CLUSTER", "SETTOPOLOGY", *cluster.spec()))
    ranges = ["0-100", "101-10922", "10923-16383"]
    assert ok(r.execute_command("CLUSTER", "SETTOPOLOGY", *cluster.spec(ranges=ranges, epoch=5)))
    assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_current_epoch"] == "5"
    assert r.execute_command("CLUSTER", "NODES").split("\n")[0].endswith(" 5 connected 0-100")


def test_partial_coverage_and_unserved_slots(server_factory):
    c = Cluster(server_factory, n=1)
    r = c.admin(0)
    # A fresh node: no map, every key slot unserved.
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN Hash slot not served$"):
        r.get("foo")
    assert r.ping() is True  # keyless commands run
    c.push(*c.spec(roles=[("primary", "0-99,200")]))
    served = next(k for k in (f"k{n}" for n in range(100000)) if key_slot(k) < 100)
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN Hash slot not served$"):
        r.get("foo")
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN The cluster is down$"):
        r.get(served)
    assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_state"] == "fail"
    r.config_set("cluster-require-full-coverage", "no")
    assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_state"] == "ok"
    assert r.set(served, 1) is True
    assert "0-99 200" in r.execute_command("CLUSTER", "NODES")


# ---- redirections ---------------------------------------------------------------

def test_moved_crossslot_multi_eval(cluster):
    r = cluster.admin(0)
    k_other = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 2)
    with pytest.raises(redis.ResponseError) as e:
        r.set(k_other, 1)
    assert str(e.value) == f"MOVED {key_slot(k_other)} 127.0.0.1:{cluster.nodes[2].port}"
    with pytest.raises(redis.ResponseError, match="^CROSSSLOT Keys in request don't hash to the same slot$"):
        r.mset({"a": 1, "b": 2})
    tag = next(t for t in (f"{{t{n}}}" for n in range(100)) if owner_of(key_slot(t)) == 0)
    assert r.mset({f"{tag}1": 1, f"{tag}2": 2}) is True
    # MULTI: a queued command for another node fails at once and aborts EXEC
    mine = [k for k in (f"m{n}" for n in range(1000)) if owner_of(key_slot(k)) == 0]
    a, b = mine[0], next(k for k in mine if key_slot(k) != key_slot(mine[0]))
    s = cluster.nodes[0].raw()
    from tlsutil import Resp
    rr = Resp(s)
    rr.send("MULTI")
    assert ok(rr.read())
    rr.send("SET", a, 1)
    assert rr.read() == "QUEUED"
    rr.send("SET", b, 1)
    assert rr.read() == "QUEUED"
    rr.send("EXEC")
    err = rr.read()
    assert isinstance(err, Exception) and str(err) == "CROSSSLOT Keys in request don't hash to the same slot"
    rr.send("GET", a)
    assert rr.read() is None  # nothing ran
    rr.send("EXEC")
    assert str(rr.read()) == "ERR EXEC without MULTI"  # the transaction was discarded
    rr.send("MULTI")
    rr.read()
    rr.send("SET", k_other, 1)
    assert str(rr.read()).startswith("MOVED ")
    rr.send("EXEC")
    assert str(rr.read()) == "EXECABORT Transaction discarded because of previous errors."
    rr.send("MULTI")
    rr.read()
    rr.send("SET", a, 1)
    rr.read()
    rr.send("INCR", a)
    rr.read()
    rr.send("EXEC")
    assert rr.read() == ["OK", 2]
    # EVAL: keys must be in one slot and this node's
    with pytest.raises(redis.ResponseError, match="^CROSSSLOT Keys in request don't hash to the same slot$"):
        r.eval("return 1", 2, a, b)
    with pytest.raises(redis.ResponseError, match="^MOVED "):
        r.eval("return 1", 1, k_other)
    assert r.eval("return redis.call('get', KEYS[1])", 1, a) == "2"
    assert r.eval("return 7", 0) == 7


def test_readonly_on_replica(server_factory):
    c = Cluster(server_factory, n=3)
    roles = [("primary", "0-8000"), ("primary", "8001-16383"), ("replica", 0)]
    c.push(*c.spec(roles))
    key = next(k for k in (f"k{n}" for n in range(100)) if key_slot(k) <= 8000)
    key1 = next(k for k in (f"k{n}" for n in range(100)) if key_slot(k) > 8000)
    rep = c.admin(2)
    with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(key)} 127.0.0.1:{c.nodes[0].port}$"):
        rep.get(key)
    assert ok(rep.execute_command("READONLY"))
    assert rep.get(key) is None  # served here (replication fills it)
    with pytest.raises(redis.ResponseError, match="^MOVED "):
        rep.set(key, 1)  # writes still go to the primary
    with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(key1)} "):
        rep.get(key1)  # another shard's slot
    assert ok(rep.execute_command("READWRITE"))
    with pytest.raises(redis.ResponseError, match="^MOVED "):
        rep.get(key)
    # RESET ends READONLY, as in Redis
    from tlsutil import Resp
    s = Resp(c.nodes[2].raw())
    s.send("READONLY")
    assert s.read() == "OK"
    s.send("GET", key)
    assert s.read() is None
    s.send("RESET")
    assert s.read() == "RESET"
    s.send("GET", key)
    assert str(s.read()).startswith("MOVED ")


def test_sharded_pubsub_routed_by_slot(cluster):
    ch = next(k for k in (f"ch{n}" for n in range(100)) if owner_of(key_slot(k)) == 1)
    with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(ch)} "):
        cluster.admin(0).execute_command("SPUBLISH", ch, "x")
    owner = cluster.nodes[1]
    from tlsutil import Resp
    s = owner.raw()
    sub = Resp(s)
    sub.send("SSUBSCRIBE", ch)
    assert sub.read() == [b"ssubscribe", ch.encode(), 1]
    assert cluster.admin(1).execute_command("SPUBLISH", ch, "hello") == 1
    assert sub.read() == [b"smessage", ch.encode(), b"hello"]
    s2 = cluster.nodes[0].raw()
    other = Resp(s2)
    other.send("SSUBSCRIBE", ch)
    assert str(other.read()).startswith("MOVED ")
    other.send("SSUBSCRIBE", "{a}x", "{b}y")
    assert str(other.read()) == "CROSSSLOT Keys in request don't hash to the same slot"


# ---- real clients ------------------------------------------------------------

def test_redis_py_cluster_client_and_key_placement(cluster):
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cluster.nodes[0].port)], decode_responses=True)
    try:
        for n in range(1000):
            rc.set(f"key:{n}", n)
        for n in range(1000):
            assert rc.get(f"key:{n}") == str(n)
        counts = [cluster.admin(i).dbsize() for i in range(3)]
        assert sum(counts) == 1000 and all(x > 250 for x in counts)
        for n in range(0, 1000, 37):
            k = f"key:{n}"
            assert cluster.admin(owner_of(key_slot(k))).get(k) == str(n)
        # hash tags keep keys together, so multi-key commands work
        rc.mset_nonatomic({f"{{user42}}:{f}": f for f in "abcdef"})
        node = cluster.admin(owner_of(key_slot("{user42}")))
        assert node.mget([f"{{user42}}:{f}" for f in "abcdef"]) == list("abcdef")
        assert node.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot("{user42}")) >= 6
    finally:
        rc.close()


def test_redis_cli_follows_moved(cluster):
    key = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 2)
    p = subprocess.run([CLI, "-c", "-p", str(cluster.nodes[0].port), "SET", key, "v"], capture_output=True,
                       text=True, timeout=20)
    assert p.stdout.strip() == "OK", p
    p = subprocess.run([CLI, "-c", "-p", str(cluster.nodes[1].port), "GET", key], capture_output=True, text=True,
                       timeout=20)
    assert p.stdout.strip() == "v"
    assert cluster.admin(2).get(key) == "v"


# ---- cluster-config-file ------------------------------------------------------

def test_map_and_id_survive_restart(server_factory, tmp_path):
    c = Cluster(server_factory)
    c.push(*c.spec(epoch=9))
    n0 = c.nodes[0]
    before = c.admin(0).execute_command("CLUSTER", "NODES")
    n0.stop()
    again = Server(n0.dir and tmp_path / "srv0", ["--cluster-enabled", "yes"])
    try:
        r = again.client(decode_responses=True)
        # The port changed (a new free port) but the map is the one pushed.
        assert r.execute_command("CLUSTER", "MYID") == c.ids[0]
        def strip_times(text):  # pong-recv is a time stamp
            return [line.split()[:4] + line.split()[6:] for line in text.split("\n")[1:]]
        assert strip_times(r.execute_command("CLUSTER", "NODES")) == strip_times(before)
        assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_current_epoch"] == "9"
    finally:
        again.stop()


def test_kill_mid_write_leaves_old_or_new_map(server_factory, tmp_path):
    c = Cluster(server_factory, extra=("--cluster-config-save-delay", "3000"))
    c.nodes[0].client().config_set("cluster-config-save-delay", 0)
    c.push(*c.spec(epoch=3))
    n0 = c.nodes[0]
    n0.client().config_set("cluster-config-save-delay", 3000)
    conf = os.path.join(n0.dir, "nodes.conf")
    with open(conf) as f:
        old = f.read()
    s = n0.raw()
    from conftest import cmd
    s.sendall(cmd("CLUSTER", "SETTOPOLOGY", *c.spec(ranges=["0-1", "2-10922", "10923-16383"], epoch=4)))
    wait_until(lambda: any(x.startswith("nodes.conf.tmp-") for x in os.listdir(n0.dir)), what="the temp file")
    os.kill(n0.pid, signal.SIGKILL)
    n0.proc.wait(timeout=10)
    with open(conf) as f:
        assert f.read() == old
    again = Server(tmp_path / "srv0", ["--cluster-enabled", "yes"])
    try:
        r = again.client(decode_responses=True)
        assert info_map(r.execute_command("CLUSTER", "INFO"))["cluster_current_epoch"] == "3"
        assert r.execute_command("CLUSTER", "MYID") == c.ids[0]
    finally:
        again.stop()


def test_corrupt_config_file_refuses_start(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "nodes.conf").write_text("cachet-cluster 1\nmyid 123\ntopology 1\n")
    port = free_port()
    p = subprocess.run([os.environ.get("CACHET_SERVER", os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                                                     "cachet-server")),
                        "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d), "--cluster-enabled", "yes"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "bad node id in the cluster config file" in p.stdout + p.stderr


# ---- TLS -----------------------------------------------------------------------

def test_tls_cluster_with_hostname_endpoints(server_factory, tls_certs):
    args = ("--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file",
            tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"],
            "--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname")
    c = Cluster(server_factory, extra=args, tls=tls_certs)
    c.push(*c.spec(host="localhost"))
    rc = RedisCluster(host="localhost", port=c.nodes[0].port, ssl=True, ssl_ca_certs=tls_certs["ca_crt"],
                      ssl_cert_reqs="required", ssl_check_hostname=True, decode_responses=True)
    try:
        for n in range(300):
            rc.set(f"t:{n}", n)
        for n in range(300):
            assert rc.get(f"t:{n}") == str(n)
        assert sum(c.admin(i).dbsize() for i in range(3)) == 300
        # The map says "localhost" (CLUSTER SLOTS' endpoint); redis-py's ClusterNode
        # resolves that name, and checks the certificate against it.
        assert sorted(node.name for node in rc.get_nodes()) == sorted(f"127.0.0.1:{n.port}" for n in c.nodes)
    finally:
        rc.close()
    key = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 2)
    p = subprocess.run([CLI, "-c", "--tls", "--cacert", tls_certs["ca_crt"], "-h", "localhost", "-p",
                        str(c.nodes[0].port), "SET", key, "v"], capture_output=True, text=True, timeout=20)
    assert p.stdout.strip() == "OK", p
    assert c.admin(2).get(key) == "v"


# ---- against a real Redis 7.0 cluster ---------------------------------------------

@pytest.mark.skipif(not REDIS_SERVER, reason="redis-server not installed")
def test_shapes_match_a_real_redis_cluster(cluster, tmp_path):
    """Builds a 3-node Redis cluster and compares the reply shapes field by field."""
    procs = []
    ports = []
    try:
        for i in range(3):
            d = tmp_path / f"redis{i}"
            d.mkdir()
            port = free_port()
            ports.append(port)
            # The bus on a port of its own from the same slice: the default,
            # port + 10000, can fall in the kernel's ephemeral range, where an
            # outgoing connection may hold it and redis-server then exits.
            procs.append(subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                                           "--cluster-port", str(free_port()),
                                           "--cluster-enabled", "yes", "--save", "", "--dir", str(d),
                                           "--cluster-announce-hostname", f"h{i}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in ports:
            wait_until(lambda: redis.Redis(port=p).ping(), what="redis-server")
        subprocess.run([CLI, "--cluster", "create"] + [f"127.0.0.1:{p}" for p in ports] + ["--cluster-yes"],
                       capture_output=True, timeout=60, check=True)
        ref = redis.Redis(port=ports[0], decode_responses=True)
        wait_until(lambda: info_map(ref.execute_command("CLUSTER", "INFO"))["cluster_state"] == "ok",
                   what="redis cluster ok")
        ours = cluster.admin(0)
        ours_keys = [x.split(":")[0] for x in ours.execute_command("CLUSTER", "INFO").strip().split("\r\n")]
        ref_keys = [x.split(":")[0] for x in ref.execute_command("CLUSTER", "INFO").strip().split("\r\n")]
        # Redis lists a stats line per message type it has seen; ours has none.
        assert [k for k in ref_keys if "_stats_messages_" not in k or k in ours_keys] == ours_keys
        for line in ref.execute_command("CLUSTER", "NODES").strip().split("\n"):
            assert NODE_LINE.match(line.replace(",h0 ", " ").replace(",h1 ", " ").replace(",h2 ", " ")), line
        from tlsutil import Resp
        import socket
        def raw(port, *a):
            s = socket.create_connection(("127.0.0.1", port))
            rr = Resp(s)
            rr.send(*a)
            v = rr.read()
            s.close()
            return v
        ref_slots = raw(ports[0], "CLUSTER", "SLOTS")
        our_slots = raw(cluster.nodes[0].port, "CLUSTER", "SLOTS")
        assert [len(e) for e in ref_slots] == [len(e) for e in our_slots]
        assert all(len(e[2]) == 4 for e in ref_slots + our_slots)
        ref_shards = raw(ports[0], "CLUSTER", "SHARDS")
        our_shards = raw(cluster.nodes[0].port, "CLUSTER", "SHARDS")
        ref_fields = [f for f in ref_shards[0][3][0][0::2] if f != b"hostname"]
        assert ref_fields == our_shards[0][3][0][0::2]
        assert ref_shards[0][0::2] == our_shards[0][0::2]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


# ---- slot migration: SETSLOT, ASK, ASKING, TRYAGAIN ----------------------------------

def test_setslot_errors(cluster):
    r = cluster.admin(0)
    theirs = 6000  # node 1's
    for args, msg in [
        ((16384, "STABLE"), "^Invalid or out of range slot$"),
        (("x", "STABLE"), "^Invalid or out of range slot$"),
        ((1, "MIGRATING"), "^Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP$"),
        ((1, "STABLE", "x"), "^Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP$"),
        ((1, "LEAVING", cluster.ids[1]), "^Invalid CLUSTER SETSLOT action"),
        ((theirs, "MIGRATING", cluster.ids[1]), f"^I'm not the owner of hash slot {theirs}$"),
        ((1, "MIGRATING", "f" * 40), f"^I don't know about node {'f' * 40}$"),
        ((1, "IMPORTING", cluster.ids[1]), "^I'm already the owner of hash slot 1$"),
        ((theirs, "IMPORTING", "nope"), "^I don't know about node nope$"),
        ((1, "NODE", "nope"), "^Unknown node nope$"),
    ]:
        with pytest.raises(redis.ResponseError, match=msg):
            r.execute_command("CLUSTER", "SETSLOT", *args)
    assert "[" not in r.execute_command("CLUSTER", "NODES")
    key = next(k for k in (f"k{n}" for n in range(100)) if owner_of(key_slot(k)) == 0)
    r.set(key, 1)
    with pytest.raises(redis.ResponseError, match="^Can't assign hashslot .* while I still hold keys"):
        r.execute_command("CLUSTER", "SETSLOT", key_slot(key), "NODE", cluster.ids[1])


def test_manual_slot_migration_with_ask(cluster):
    src, dst = cluster.admin(0), cluster.admin(1)
    ids, ports = cluster.ids, [n.port for n in cluster.nodes]
    tag = next(t for t in (f"{{mig{n}}}" for n in range(100)) if owner_of(key_slot(t)) == 0)
    keys = [f"{tag}:{n}" for n in range(20)]
    slot = key_slot(tag)
    for k in keys:
        src.set(k, k)
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[1]))
    assert f" [{slot}->-{ids[1]}]" in src.execute_command("CLUSTER", "NODES").split("\n")[0]
    assert f" [{slot}-<-{ids[0]}]" in [x for x in dst.execute_command("CLUSTER", "NODES").split("\n")
                                        if "myself" in x][0]
    # Move half the keys by hand (DUMP / RESTORE with ASKING, then DEL).
    from tlsutil import Resp
    s = cluster.nodes[1].raw()
    d = Resp(s)
    for k in keys[:10]:
        payload = cluster.nodes[0].client().dump(k)
        d.send("ASKING")
        assert d.read() == "OK"
        d.send("RESTORE", k, 0, payload)
        assert d.read() == "OK"
        src.delete(k)
    # Keys still here are served here; moved ones are asked for at the target.
    assert src.get(keys[15]) == keys[15]
    with pytest.raises(redis.ResponseError) as e:
        src.get(keys[0])
    assert str(e.value) == f"ASK {slot} 127.0.0.1:{ports[1]}"
    with pytest.raises(redis.ResponseError, match="^TRYAGAIN Multiple keys request during rehashing of slot$"):
        src.mget(keys[0], keys[15])
    # At the target: MOVED back without ASKING, served with it (once).
    with pytest.raises(redis.ResponseError, match=f"^MOVED {slot} 127.0.0.1:{ports[0]}$"):
        dst.get(keys[0])
    d.send("ASKING")
    assert d.read() == "OK"
    d.send("GET", keys[0])
    assert d.read() == keys[0].encode()
    d.send("GET", keys[1])
    assert str(d.read()).startswith("MOVED ")  # ASKING was for one command
    d.send("ASKING")
    d.read()
    d.send("MGET", keys[0], keys[15])
    assert str(d.read()) == "TRYAGAIN Multiple keys request during rehashing of slot"
    # ASKING holds through a transaction
    d.send("ASKING")
    d.read()
    d.send("MULTI")
    d.read()
    d.send("GET", keys[2])
    assert d.read() == "QUEUED"
    d.send("EXEC")
    assert d.read() == [keys[2].encode()]
    # redis-py and redis-cli follow ASK
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ports[0])], decode_responses=True)
    try:
        assert rc.get(keys[3]) == keys[3] and rc.get(keys[17]) == keys[17]
    finally:
        rc.close()
    p = subprocess.run([CLI, "-c", "-p", str(ports[0]), "GET", keys[4]], capture_output=True, text=True, timeout=20)
    assert p.stdout.strip() == keys[4]
    # Finish: the rest, then NODE on both sides, then the map under a new epoch.
    for k in keys[10:]:
        payload = cluster.nodes[0].client().dump(k)
        d.send("ASKING")
        d.read()
        d.send("RESTORE", k, 0, payload)
        assert d.read() == "OK"
        src.delete(k)
    assert src.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[1]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[1]))
    assert "[" not in src.execute_command("CLUSTER", "NODES")
    with pytest.raises(redis.ResponseError, match=f"^MOVED {slot} 127.0.0.1:{ports[1]}$"):
        src.get(keys[0])
    assert dst.get(keys[0]) == keys[0]
    assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 20
    r0 = f"0-{slot - 1},{slot + 1}-5460" if slot > 0 else "1-5460"
    cluster.push(*cluster.spec(ranges=[r0, f"{slot},5461-10922", "10923-16383"], epoch=2))
    assert dst.get(keys[19]) == keys[19]
    with pytest.raises(redis.ResponseError, match=f"^MOVED {slot} 127.0.0.1:{ports[1]}$"):
        src.get(keys[19])


TLS_ARGS = ("--tls-mode", "required", "--tls-cert-file", "server_crt", "--tls-key-file", "server_key",
            "--tls-ca-cert-file", "ca_crt")


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_overwrites_in_place_keep_every_index(server_factory, tls_certs, transport):
    """A string SET over a string rewrites the entry in place when the new
    value fits its allocation (the slot list, the dict and the expire index
    are not touched), and replaces it otherwise: both kinds, and the moves
    between them, must leave the slot index, TTLs, WATCH and values exact."""
    tls = tls_certs if transport == "tls" else None
    extra = tuple(tls_certs.get(a, a) for a in TLS_ARGS) if tls else ()
    c = Cluster(server_factory, n=1, extra=extra + ("--enable-debug-command", "yes"), tls=tls)
    c.push(*c.spec(ranges=["0-16383"]))
    r = c.admin(0)
    slot = key_slot("{t}")
    keys = [f"{{t}}:{n}" for n in range(40)]
    want = {}

    def put(k, v, **kw):
        assert r.set(k, v, **kw)
        want[k] = v

    for k in keys:
        put(k, "abc")
    put("other", "1")
    put(keys[0], "xyz")                   # same size: in place
    put(keys[1], "12345")                 # inline -> int
    put(keys[1], "abc")                   # int -> inline
    put(keys[2], "v" * 300)               # bigger: a new entry replaces it
    put(keys[2], "w")                     # much smaller: replaced again
    r.append(keys[3], "x" * 100)          # RAW
    want[keys[3]] = "abc" + "x" * 100
    put(keys[3], "rst")                   # RAW -> inline
    r.delete(keys[4])
    r.rpush(keys[4], "a")                 # a list...
    put(keys[4], "str")                   # ...overwritten by a string
    assert r.object("encoding", keys[1]) == "embstr" and r.object("encoding", keys[0]) == "embstr"
    put(keys[5], "77")
    assert r.object("encoding", keys[5]) == "int"
    # TTLs: dropped, added, kept
    put(keys[6], "ttl", px=200)
    put(keys[6], "now")                   # must leave the expire index
    put(keys[7], "abc")
    put(keys[7], "def", px=200)           # must enter it: expires actively
    put(keys[8], "ttl", ex=1000)
    put(keys[8], "kep", keepttl=True)
    assert 0 < r.pttl(keys[8]) <= 1000000
    assert r.getset(keys[8], "gst") == "kep"
    want[keys[8]] = "gst"
    assert r.ttl(keys[8]) == -1
    assert r.mset({keys[9]: "mst", keys[10]: "123"})
    want.update({keys[9]: "mst", keys[10]: "123"})
    put("marker", "m", px=250)
    # DBSIZE never expires lazily: only the active cycle can take these.
    wait_until(lambda: r.dbsize() == len(want) - 2, what="the two volatile keys to expire actively")
    assert r.exists(keys[6]) == 1 and r.ttl(keys[6]) == -1
    assert r.exists(keys[7]) == 0
    del want[keys[7]], want["marker"]
    # WATCH sees an in-place overwrite from another client
    w = c.admin(0)
    p = w.pipeline()
    p.watch(keys[0])
    put(keys[0], "zzz")
    p.multi()
    p.set(keys[0], "lost")
    with pytest.raises(redis.WatchError):
        p.execute()
    p.reset()
    w.close()

    def check():
        for k, v in want.items():
            assert r.get(k) == v, k
        tagged = sorted(k for k in want if k.startswith("{t}"))
        assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(tagged)
        assert sorted(r.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)) == tagged
        assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot("other")) == 1
        assert r.dbsize() == len(want)

    check()
    assert ok(r.execute_command("DEBUG", "RELOAD"))  # the index rebuilt from a snapshot
    check()
    for k in list(want)[::2]:
        assert r.delete(k) == 1           # unlinks walk the neighbours' links
        del want[k]
    check()


def test_new_map_drops_stale_migration_state(cluster):
    r = cluster.admin(0)
    assert ok(r.execute_command("CLUSTER", "SETSLOT", 5, "MIGRATING", cluster.ids[1]))
    assert ok(r.execute_command("CLUSTER", "SETSLOT", 6000, "IMPORTING", cluster.ids[1]))
    cluster.push(*cluster.spec(epoch=2))  # same ownership: states kept
    assert "[5->-" in r.execute_command("CLUSTER", "NODES") and "[6000-<-" in r.execute_command("CLUSTER", "NODES")
    cluster.push(*cluster.spec(ranges=["6-5460", "0-5,5461-10922", "10923-16383"], epoch=3))
    nodes = r.execute_command("CLUSTER", "NODES")
    assert "[5->-" not in nodes and "[6000-<-" in nodes
    assert ok(r.execute_command("CLUSTER", "SETSLOT", 6000, "STABLE"))
    assert "[" not in r.execute_command("CLUSTER", "NODES")


def test_announce_configs_are_validated(cluster):
    r = cluster.admin(0)
    with pytest.raises(redis.ResponseError, match="Hostnames must be less than 256 characters"):
        r.config_set("cluster-announce-hostname", "bad host")
    with pytest.raises(redis.ResponseError, match="cluster-announce-ip must be an IPv4 or IPv6 address"):
        r.config_set("cluster-announce-ip", "not-an-ip")
    assert r.config_set("cluster-announce-hostname", "node-1.example") is True
    assert r.config_set("cluster-announce-ip", "::1") is True
    assert r.config_get("cluster-announce-*") == {"cluster-announce-hostname": "node-1.example",
                                                 "cluster-announce-ip": "::1", "cluster-announce-port": "0",
                                                 "cluster-announce-tls-port": "0"}
    assert r.config_get("cluster-node-timeout") == {"cluster-node-timeout": "15000"}


def test_shard_subscribers_leave_with_their_slot(cluster):
    from tlsutil import Resp
    ch = next(k for k in (f"ch{n}" for n in range(100)) if owner_of(key_slot(k)) == 0)
    keep = next(k for k in (f"ch{n}" for n in range(100)) if owner_of(key_slot(k)) == 0 and key_slot(k) != key_slot(ch))
    sub = Resp(cluster.nodes[0].raw())
    sub.send("SSUBSCRIBE", ch)
    assert sub.read() == [b"ssubscribe", ch.encode(), 1]
    sub.send("SSUBSCRIBE", keep)
    assert sub.read() == [b"ssubscribe", keep.encode(), 2]
    slot = key_slot(ch)
    r0 = ",".join(x for x in (f"0-{slot - 1}" if slot > 0 else "", f"{slot + 1}-5460" if slot < 5460 else "") if x)
    cluster.push(*cluster.spec(ranges=[r0, f"{slot},5461-10922", "10923-16383"], epoch=2))
    assert sub.read() == [b"sunsubscribe", ch.encode(), 1]
    assert cluster.admin(0).execute_command("PUBSUB", "SHARDNUMSUB", ch, keep) == [ch, 0, keep, 1]
    assert cluster.admin(0).execute_command("SPUBLISH", keep, "m") == 1
    assert sub.read() == [b"smessage", keep.encode(), b"m"]
    # SETSLOT NODE giving the slot away does the same
    slot2 = key_slot(keep)
    assert ok(cluster.admin(0).execute_command("CLUSTER", "SETSLOT", slot2, "NODE", cluster.ids[1]))
    assert sub.read() == [b"sunsubscribe", keep.encode(), 0]
    sub.send("PING")
    assert sub.read() == "PONG"  # out of the pub/sub context again


def test_scripts_stay_on_local_slots(cluster):
    r = cluster.admin(0)
    mine = [k for k in (f"s{n}" for n in range(2000)) if owner_of(key_slot(k)) == 0]
    a, b = mine[0], next(k for k in mine if key_slot(k) != key_slot(mine[0]))
    other = next(k for k in (f"o{n}" for n in range(100)) if owner_of(key_slot(k)) == 1)
    r.set(a, "A")
    r.set(b, "B")
    with pytest.raises(redis.ResponseError,
                       match="^Script attempted to access a non local key in a cluster node script: [0-9a-f]{40}, "
                             "on @user_script:1.$"):
        r.eval("return redis.call('get', ARGV[1])", 0, other)
    # A script without shebang may touch local keys of several slots (Redis 7.0 compatibility)
    assert r.eval("return redis.call('get', ARGV[1]) .. redis.call('get', ARGV[2])", 0, a, b) == "AB"
    with pytest.raises(redis.ResponseError,
                       match="^Script attempted to access keys that do not hash to the same slot script: "):
        r.eval("#!lua\nreturn redis.call('get', ARGV[1]) .. redis.call('get', ARGV[2])", 0, a, b)
    with pytest.raises(redis.ResponseError, match="^Script attempted to access keys that do not hash to the same slot"):
        r.eval("#!lua\nreturn redis.call('get', ARGV[1])", 1, a, b)  # declared a, then b
    assert r.eval("#!lua flags=allow-cross-slot-keys\nreturn redis.call('get', ARGV[1]) .. redis.call('get', ARGV[2])",
                  0, a, b) == "AB"
    assert r.eval("#!lua\nreturn redis.call('get', KEYS[1])", 1, a) == "A"
