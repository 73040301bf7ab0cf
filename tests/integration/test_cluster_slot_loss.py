"""Cluster mode: what a node does when a new map takes a slot away from it.

* Its keys of that slot are deleted (Redis 7.0's delKeysInSlot), and the
  deletions go down the replication stream so replicas stay its copy.
* Clients blocked on keys of that slot (BLPOP, BLMOVE, BZPOPMIN, XREAD
  BLOCK, XREADGROUP) are woken with the redirection Redis 7.0's
  clusterRedirectBlockedClientIfNeeded gives: -MOVED, or -CLUSTERDOWN.

Every test runs with its clients over plaintext and over TLS (nodes in
tls-mode preferred: one port for both; replication stays plaintext).
"""
import concurrent.futures
import threading

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import wait_until
from test_cluster import Cluster, info_map, key_slot, ok
from tlsutil import tls_client

# node 0 and node 1 split the slots; node 2 replicates node 0
RANGES2 = ["0-8000", "8001-16383"]


def tls_args(certs):
    return ("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"])


@pytest.fixture(params=["plain", "tls"])
def trio(request, server_factory, tls_certs):
    """Two primaries and node 0's replica (attached and in sync), with the
    admin clients over the parametrized transport."""
    c = Cluster(server_factory, n=3, extra=tls_args(tls_certs),
                tls=tls_certs if request.param == "tls" else None)
    c.push(*c.spec(roles(RANGES2)))
    rep = c.admin(2)
    assert ok(rep.execute_command("REPLICAOF", "127.0.0.1", c.nodes[0].port))
    wait_until(lambda: rep.info("replication").get("master_link_status") == "up",
               what="replica in sync")
    return c


def roles(ranges):
    return [("primary", ranges[0]), ("primary", ranges[1]), ("replica", 0)]


def keys_in_slot_of(tag, n):
    return [f"{{{tag}}}:{i}" for i in range(n)]


def tag_owned_by(node, avoid=()):
    """A hash tag whose slot node 0 (0-8000) or node 1 owns in RANGES2."""
    for i in range(10000):
        t = f"t{i}"
        s = key_slot(t)
        if (s <= 8000) == (node == 0) and s not in avoid:
            return t
    raise AssertionError("no tag")


def without(ranges0, slot):
    a, b = (int(x) for x in ranges0.split("-"))
    parts = [f"{a}-{slot - 1}" if slot > a else "", f"{slot + 1}-{b}" if slot < b else ""]
    return ",".join(p for p in parts if p)


def moved_map(slot, epoch):
    """RANGES2 with one slot of node 0 given to node 1."""
    return [without(RANGES2[0], slot), f"{slot},{RANGES2[1]}"], epoch


def replica_synced(c):
    off0 = c.admin(0).info("replication")["master_repl_offset"]
    return c.admin(2).info("replication").get("slave_repl_offset") == off0


# ---- 1. keys of a lost slot are deleted, on the primary and its replica ----------------


def test_new_map_taking_a_slot_deletes_its_keys_here_and_on_the_replica(trio):
    c = trio
    p, rep = c.admin(0), c.admin(2)
    lost_tag = tag_owned_by(0)
    slot = key_slot(lost_tag)
    kept_tag = tag_owned_by(0, avoid=(slot,))
    lost, kept = keys_in_slot_of(lost_tag, 40), keys_in_slot_of(kept_tag, 25)
    for k in lost[:30] + kept:
        p.set(k, "v")
    for k in lost[30:]:  # other types go the same way
        p.rpush(k, "a", "b")
    p.zadd(lost[0] + "z", {"m": 1})
    assert p.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 41
    wait_until(lambda: rep.dbsize() == 66, what="replica has every key")

    # a transaction WATCHing a key of the slot is invalidated, as by any delete
    w = c.admin(0)
    pipe = w.pipeline(transaction=True)
    pipe.watch(lost[0])
    pipe.multi()
    pipe.set(kept[0], "from-exec")

    # a stale map taking the slot is refused and deletes nothing
    ranges, _ = moved_map(slot, 0)
    with pytest.raises(redis.ResponseError, match="stale topology"):
        p.execute_command("CLUSTER", "SETTOPOLOGY", *c.spec(roles(ranges), epoch=0))
    assert p.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 41 and p.dbsize() == 66

    ranges, epoch = moved_map(slot, 2)
    c.push(*c.spec(roles(ranges), epoch=epoch))
    assert p.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert p.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100) == []
    assert p.dbsize() == 25
    assert all(p.get(k) == "v" for k in kept)
    with pytest.raises(redis.WatchError):
        pipe.execute()
    assert p.get(kept[0]) == "v"
    # the replica got the deletions through the replication stream
    wait_until(lambda: rep.dbsize() == 25, what="replica dropped the slot's keys")
    assert rep.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    wait_until(lambda: replica_synced(c), what="replica offset caught up")
    # the new owner was not given the keys (no MIGRATE happened): it has none
    assert c.admin(1).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    # clients now get MOVED from the old owner
    with pytest.raises(redis.ResponseError, match=f"^MOVED {slot} 127.0.0.1:{c.nodes[1].port}$"):
        p.get(lost[0])

    # the same map again (a control plane's retry) changes nothing more
    c.push(*c.spec(roles(ranges), epoch=epoch))
    assert p.dbsize() == 25


def test_unassigning_a_slot_deletes_its_keys_lazily_too(trio):
    """A slot left without owner is lost as well; with
    lazyfree-lazy-server-del the replicas get UNLINK (Redis'
    propagateDeletion), with the same result."""
    c = trio
    p, rep = c.admin(0), c.admin(2)
    assert p.config_set("lazyfree-lazy-server-del", "yes")
    assert p.config_set("cluster-require-full-coverage", "no")
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    for k in keys_in_slot_of(tag, 10):
        p.hset(k, mapping={f"f{i}": i for i in range(100)})  # big enough for the lazy-free thread
    before = p.dbsize()
    wait_until(lambda: rep.dbsize() == before, what="replica has every key")
    c.push(*c.spec(roles([without(RANGES2[0], slot), RANGES2[1]]), epoch=2))
    assert p.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0 and p.dbsize() == before - 10
    wait_until(lambda: rep.dbsize() == before - 10, what="replica dropped the slot's keys")
    stats = rep.info("commandstats")
    assert stats.get("cmdstat_unlink", {}).get("calls") == 10, stats.get("cmdstat_unlink")
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN Hash slot not served$"):
        p.get(f"{{{tag}}}:0")


def test_map_after_a_finished_migration_deletes_nothing(trio):
    """The usual resharding: the keys were MIGRATEd, SETSLOT NODE moved the
    slot on both sides, then the map saying so is pushed: the target keeps
    every key, the source had none left to delete."""
    c = trio
    src, dst = c.admin(0), c.admin(1)
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    keys = keys_in_slot_of(tag, 20)
    for k in keys:
        src.set(k, k)
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", c.ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", c.ids[1]))
    assert ok(src.execute_command("MIGRATE", "127.0.0.1", c.nodes[1].port, "", 0, 5000, "KEYS", *keys))
    for r in (dst, src):
        assert ok(r.execute_command("CLUSTER", "SETSLOT", slot, "NODE", c.ids[1]))
    ranges, epoch = moved_map(slot, 2)
    c.push(*c.spec(roles(ranges), epoch=epoch))
    assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 20
    assert all(dst.get(k) == k for k in keys)
    assert src.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    # and giving it back to node 0 deletes node 1's copy (node 1 is the loser now)
    c.push(*c.spec(roles(RANGES2), epoch=3))
    assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0 and dst.dbsize() == 0


def test_a_failover_map_deletes_nothing(trio):
    """A failover: the replica was promoted and the old primary follows it
    (REPLICAOF) before the map saying so arrives. The old primary's map
    gave it the slots, the new one makes it a replica: it keeps its keys
    (they are its new primary's copy), as Redis turns it into a replica
    instead of deleting."""
    c = trio
    old, new = c.admin(0), c.admin(2)
    tag = tag_owned_by(0)
    keys = keys_in_slot_of(tag, 30)
    for k in keys:
        old.set(k, k)
    wait_until(lambda: new.dbsize() == 30, what="replica has every key")
    assert ok(new.execute_command("REPLICAOF", "NO", "ONE"))
    assert ok(old.execute_command("REPLICAOF", "127.0.0.1", c.nodes[2].port))
    wait_until(lambda: old.info("replication").get("master_link_status") == "up", what="old primary follows")
    c.push(*c.spec([("replica", 2), ("primary", RANGES2[1]), ("primary", RANGES2[0])], epoch=2))
    assert new.dbsize() == 30 and old.dbsize() == 30
    assert old.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot(tag)) == 30
    assert new.get(keys[0]) == keys[0]


# ---- 2. blocked clients on a lost slot are redirected ----------------------------------


def blocked(r):
    return int(r.info("clients")["blocked_clients"])


class Waiters:
    """Blocking calls run on their own redis-py connections in threads."""

    def __init__(self, c, node):
        self.c, self.node = c, node
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
        self.futures = {}

    def start(self, name, fn, readonly=False):
        conn = self.c.admin(self.node, socket_timeout=30)
        if readonly:
            assert ok(conn.execute_command("READONLY"))
        admin = self.c.admin(self.node)
        before = blocked(admin)
        self.futures[name] = self.pool.submit(fn, conn)
        wait_until(lambda: blocked(admin) == before + 1, what=f"{name} blocked")

    def outcome(self, name, timeout=10):
        try:
            return self.futures[name].result(timeout=timeout)
        except redis.ResponseError as e:
            return f"ERR:{e}"

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)


def test_blocked_clients_on_a_lost_slot_get_moved(trio):
    c = trio
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    other = tag_owned_by(0, avoid=(slot,))
    l, l2, z, s = (f"{{{tag}}}:{n}" for n in ("l", "l2", "z", "s"))
    p = c.admin(0)
    p.xadd(s, {"f": "v"}, id="1-0")
    p.xgroup_create(s, "g", id="$")
    sr = f"{{{tag}}}:sr"
    p.xadd(sr, {"f": "v"}, id="1-0")
    wait_until(lambda: replica_synced(c), what="replica in sync")
    w = Waiters(c, 0)
    wr = Waiters(c, 2)
    try:
        w.start("blpop", lambda r: r.blpop([l], 0))
        w.start("blmove", lambda r: r.blmove(l2, l, 0, "LEFT", "RIGHT"))
        w.start("bzpopmin", lambda r: r.bzpopmin([z], 0))
        w.start("xread", lambda r: r.xread({s: "$"}, block=0))
        w.start("xreadgroup", lambda r: r.xreadgroup("g", "c1", {s: ">"}, block=0))
        w.start("kept", lambda r: r.blpop([f"{{{other}}}:l"], 0))
        # on the replica, a READONLY reader of its primary's slot waits there
        wr.start("replica-xread", lambda r: r.xread({sr: "$"}, block=0), readonly=True)

        ranges, epoch = moved_map(slot, 2)
        c.push(*c.spec(roles(ranges), epoch=epoch))
        want = f"ERR:MOVED {slot} 127.0.0.1:{c.nodes[1].port}"
        for name in ("blpop", "blmove", "bzpopmin", "xread", "xreadgroup"):
            assert w.outcome(name) == want, name
        assert wr.outcome("replica-xread") == want
        # the client blocked on a slot node 0 keeps is still waiting, and served
        assert blocked(p) == 1 and not w.futures["kept"].done()
        p.lpush(f"{{{other}}}:l", "x")
        assert list(w.outcome("kept")) == [f"{{{other}}}:l", "x"]
        assert blocked(p) == 0 and blocked(c.admin(2)) == 0
        # a MOVED client's connection is usable again at once
        assert p.ping() is True
    finally:
        w.close()
        wr.close()


def test_blocked_clients_get_clusterdown(trio):
    c = trio
    p = c.admin(0)
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    other = tag_owned_by(0, avoid=(slot,))
    w = Waiters(c, 0)
    try:
        # a map leaving the slot without owner (full coverage not required)
        assert p.config_set("cluster-require-full-coverage", "no")
        w.start("unbound", lambda r: r.blpop([f"{{{tag}}}:l"], 0))
        w.start("served", lambda r: r.blpop([f"{{{other}}}:l"], 0))
        c.push(*c.spec(roles([without(RANGES2[0], slot), RANGES2[1]]), epoch=2))
        assert w.outcome("unbound") == "ERR:CLUSTERDOWN Hash slot not served"
        assert blocked(p) == 1
        # requiring full coverage again puts the cluster down: every waiter goes
        assert p.config_set("cluster-require-full-coverage", "yes")
        assert w.outcome("served") == "ERR:CLUSTERDOWN The cluster is down"
        assert blocked(p) == 0
        # CLUSTER RESET (no keys here) leaves the node without slots: down too
        assert p.config_set("cluster-require-full-coverage", "no")
        c.push(*c.spec(roles(RANGES2), epoch=3))
        w.start("reset", lambda r: r.bzpopmin([f"{{{other}}}:z"], 0))
        assert ok(p.execute_command("CLUSTER", "RESET", "SOFT"))
        assert w.outcome("reset") == "ERR:CLUSTERDOWN The cluster is down"
    finally:
        w.close()


def test_setslot_node_redirects_blocked_clients(trio):
    c = trio
    p = c.admin(0)
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    w = Waiters(c, 0)
    try:
        w.start("blpop", lambda r: r.blpop([f"{{{tag}}}:l"], 0))
        # a refused SETSLOT (unknown node) changes nothing: still blocked
        with pytest.raises(redis.ResponseError, match="Unknown node"):
            p.execute_command("CLUSTER", "SETSLOT", slot, "NODE", "f" * 40)
        assert blocked(p) == 1
        assert ok(p.execute_command("CLUSTER", "SETSLOT", slot, "NODE", c.ids[1]))
        assert w.outcome("blpop") == f"ERR:MOVED {slot} 127.0.0.1:{c.nodes[1].port}"
    finally:
        w.close()


def test_cluster_client_follows_the_redirect_of_a_blocked_blpop(trio):
    """redis-py's RedisCluster, blocked in BLPOP, gets MOVED when the slot
    moves, refreshes its map and blocks again at the new owner, where a
    push then serves it."""
    c = trio
    kw = {}
    if c.tls:
        kw = dict(ssl=True, ssl_ca_certs=c.tls["ca_crt"], ssl_cert_reqs="required")
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", c.nodes[0].port)], decode_responses=True,
                      socket_timeout=30, **kw)
    tag = tag_owned_by(0)
    slot = key_slot(tag)
    key = f"{{{tag}}}:q"
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", rc.blpop([key], 0)), daemon=True)
    t.start()
    wait_until(lambda: blocked(c.admin(0)) == 1, what="blocked on node 0")
    ranges, epoch = moved_map(slot, 2)
    # The node that gains the slot learns first, as a control plane pushes:
    # the other way round the client can bounce between a node that already
    # redirects and one that still does, and redis-py gives up after 16
    # redirections (TTL exhausted) when the pushes are slow.
    spec = c.spec(roles(ranges), epoch=epoch)
    for i in reversed(range(len(c.nodes))):
        assert ok(c.admin(i).execute_command("CLUSTER", "SETTOPOLOGY", *spec))
    wait_until(lambda: blocked(c.admin(1)) == 1, what="blocked again on node 1")
    assert blocked(c.admin(0)) == 0
    c.admin(1).rpush(key, "hello")
    t.join(10)
    assert list(out.get("r") or ()) == [key, "hello"]
    rc.close()
