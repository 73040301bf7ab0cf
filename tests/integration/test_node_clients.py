"""node-redis (npm `redis` v4, pinned in tests/node/package-lock.json)
against Cachet: createClient on one node over plaintext and TLS (same port,
tls-mode preferred), and createCluster against a 3-shard cluster over
plaintext and TLS (hostname endpoints, certificates checked), following
ASK while a slot migrates and MOVED after a slot moved. The scripts are tests/node/redis_client.mjs and
cluster_client.mjs; each prints what node-redis parsed as JSON.
"""
import pytest

from nodeutil import NodeProcess, needs_node, run_node
from test_cluster import Cluster, RANGES3, key_slot, ok, owner_of

pytestmark = needs_node



def TLS_ARGS(c):
    return ("--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"], "--tls-ca-cert-file", c["ca_crt"])


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "tls"])
def test_create_client_single_node(server_factory, tls_certs, tls):
    s = server_factory("--tls-mode", "preferred", *TLS_ARGS(tls_certs))
    cfg = {"port": s.port}
    if tls:
        cfg["ca"] = tls_certs["ca_crt"]
    [out] = run_node("redis_client.mjs", cfg)
    assert out["ping"] == "PONG" and out["flushAll"] == "OK"
    assert out["set"] == "OK" and out["get"] == "héllo" and out["ttl"] == 100 and out["missing"] is None
    assert out["incr"] == 41 and out["incrFloat"] == "1.5"
    assert out["hset"] == 3 and out["hgetall"] == {"a": "1", "b": "two", "c": ""}
    assert out["hmget"] == ["two", None]
    assert out["rpush"] == 3 and out["lrange"] == ["x", "y", "z"]
    assert out["zadd"] == 2 and out["zrangeWithScores"] == [{"value": "a", "score": 1}, {"value": "b", "score": 2.5}]
    assert out["sadd"] == 2 and out["smembers"] == ["m1", "m2"]
    assert out["exists"] == 2 and out["binary"] is True
    assert out["incrError"] == {"name": "ErrorReply", "message": "ERR value is not an integer or out of range"}
    assert out["pipeline"] == ["OK", 2, "ab", 2]
    assert out["execAsPipeline"] == ["OK", 6, "6"]
    assert out["multi"] == ["OK", 2, {"a": "1", "b": "two", "c": ""}, ["x"]]
    assert out["watchedExec"] == {"name": "WatchError"} and out["watchedValue"] == "other"
    assert out["published"] == [1, 1, 1]
    assert out["messages"] == [["js:chan", "one"], ["js:pattern", "two"], ["js:chan", "three"]]
    assert out["numsub"] == {"js:chan": 1}
    assert out["clientInfoTls"] is tls
    assert out["dbsize"] == 12
    r = s.client(decode_responses=True)
    assert r.hgetall("js:h") == {"a": "1", "b": "two", "c": ""} and r.get("js:w") == "other"


def move_slot(cluster, slot, src, dst):
    """Moves slot from node src to node dst as a resharding tool does:
    IMPORTING/MIGRATING, MIGRATE of its keys, NODE on both, then the new map
    under epoch 2 on every node."""
    ids, a, b = cluster.ids, cluster.admin(src), cluster.admin(dst)
    assert ok(b.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src]))
    assert ok(a.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst]))
    keys = a.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
    assert keys
    assert ok(a.execute_command("MIGRATE", "127.0.0.1", cluster.nodes[dst].port, "", 0, 5000, "KEYS", *keys))
    assert ok(b.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst]))
    assert ok(a.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst]))
    ranges = list(RANGES3)
    lo, hi = (int(x) for x in ranges[src].split("-"))
    ranges[src] = ",".join(f"{x}-{y}" if x != y else str(x) for x, y in ((lo, slot - 1), (slot + 1, hi)) if x <= y)
    ranges[dst] += f",{slot}"
    return keys, ranges


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "tls"])
def test_create_cluster(server_factory, tls_certs, tls):
    if tls:
        extra = ("--tls-mode", "required", *TLS_ARGS(tls_certs), "--cluster-announce-hostname", "localhost",
                 "--cluster-preferred-endpoint-type", "hostname")
        c = Cluster(server_factory, extra=extra, tls=tls_certs)
        host = "localhost"
        c.push(*c.spec(host=host))
    else:
        c = Cluster(server_factory)
        host = "127.0.0.1"
        c.push(*c.spec())
    nkeys = 300
    # A slot of node 0 holding some of the script's keys: it moves to node 1.
    watch = next(f"js:{i}" for i in range(nkeys) if owner_of(key_slot(f"js:{i}")) == 0)
    slot = key_slot(watch)
    watch_keys = [f"js:{i}" for i in range(nkeys) if key_slot(f"js:{i}") == slot]
    # Keys of one slot of node 2 that is left half migrated to node 0.
    tag = next(t for t in (f"{{ask{n}}}" for n in range(100)) if owner_of(key_slot(t)) == 2)
    ask_slot, ask_keys = key_slot(tag), [f"{tag}:{n}" for n in range(10)]
    cfg = {"host": host, "ports": [c.nodes[0].port], "keys": nkeys, "watchSlot": slot, "watchKeys": watch_keys,
           "askKeys": ask_keys}
    if tls:
        cfg["ca"] = tls_certs["ca_crt"]
    p = NodeProcess("cluster_client.mjs", cfg)
    try:
        first = p.read_json()
        # node-redis found all three shards from one root node (CLUSTER SLOTS)
        # under the announced endpoint; in TLS it checked each certificate
        # against "localhost".
        assert first["shards"] == sorted(f"{host}:{n.port}" for n in c.nodes)
        assert first["watchOwner"] == f"{host}:{c.nodes[0].port}"
        assert first["set"] == nkeys and first["readBack"] == nkeys
        assert first["hgetall"] == {"a": "1", "b": "2"} and first["hset"] == 2
        assert first["multi"] == ["OK", 2, "2"]
        assert first["mget"] == ["2", None]
        assert first["crossSlot"] == "CROSSSLOT Keys in request don't hash to the same slot"
        # the keys went where the slot map says
        assert first["askSet"] == len(ask_keys)
        sizes = [c.admin(i).dbsize() for i in range(3)]
        assert sum(sizes) == nkeys + 2 + len(ask_keys) and all(sizes)
        # Half of the ask keys go to node 0, which imports their slot.
        assert ok(c.admin(0).execute_command("CLUSTER", "SETSLOT", ask_slot, "IMPORTING", c.ids[2]))
        assert ok(c.admin(2).execute_command("CLUSTER", "SETSLOT", ask_slot, "MIGRATING", c.ids[0]))
        assert ok(c.admin(2).execute_command("MIGRATE", "127.0.0.1", c.nodes[0].port, "", 0, 5000,
                                             "KEYS", *ask_keys[:5]))
        p.go()
        ask = p.read_json()
        assert ask["values"] == ask_keys
        assert c.admin(0).execute_command("CLUSTER", "COUNTKEYSINSLOT", ask_slot) == 5
        assert c.admin(2).execute_command("CLUSTER", "COUNTKEYSINSLOT", ask_slot) == 5
        for k in watch_keys:
            assert c.admin(0).get(k) == k.split(":")[1]
        moved, ranges = move_slot(c, slot, 0, 1)
        assert sorted(moved) == sorted(watch_keys)
        c.push(*c.spec(ranges=ranges, host=host if tls else "-", epoch=2))
        p.go()
        second = p.read_json()
        p.wait()
    finally:
        p.stop()
    # The old owner answered MOVED; node-redis rediscovered the map and read
    # the keys at their new owner, then wrote there.
    assert second["watchKeys"] == [k.split(":")[1] for k in watch_keys]
    assert second["watchOwner"] == f"{host}:{c.nodes[1].port}"
    assert second["setAfter"] == "OK" and second["readBack"] == nkeys
    assert c.admin(1).get(watch_keys[0]) == "after-move"
    assert c.admin(0).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
