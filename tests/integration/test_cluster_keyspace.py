"""Cluster mode's keyspace: one key table per hash slot (src/server/kvstore.c).

What a user relies on when a node runs with cluster-enabled yes: SCAN,
KEYS, DBSIZE, RANDOMKEY, eviction, FLUSHALL (sync and async), snapshots and
restarts see every key exactly as without cluster mode; COUNTKEYSINSLOT and
GETKEYSINSLOT stay exact; and cluster mode costs no memory per key (a slot
table per slot instead of links in every entry). Plaintext and TLS.
"""
import random

import pytest
import redis

from conftest import Server, wait_until
from test_cluster import Cluster, TLS_ARGS, key_slot


def one_node(server_factory, tls_certs, transport, *extra):
    tls = tls_certs if transport == "tls" else None
    targs = tuple(tls_certs.get(a, a) for a in TLS_ARGS) if tls else ()
    c = Cluster(server_factory, n=1, extra=targs + ("--enable-debug-command", "yes") + extra, tls=tls)
    c.push(*c.spec(ranges=["0-16383"]))
    return c


def fill(r, keys, value="v"):
    p = r.pipeline(transaction=False)
    for i, k in enumerate(keys):
        p.set(k, value)
        if i % 1000 == 999:
            p.execute()
    p.execute()


def full_scan(r, **kw):
    cursor, seen = 0, []
    while True:
        cursor, batch = r.scan(cursor, **kw)
        seen += batch
        if cursor == 0:
            return seen


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_scan_keys_dbsize_across_slots(server_factory, tls_certs, transport):
    c = one_node(server_factory, tls_certs, transport)
    r = c.admin(0)
    keys = [f"key:{n}" for n in range(5000)] + [f"{{hot}}:{n}" for n in range(500)]
    fill(r, keys)
    r.hset("h:1", "f", "v")
    assert r.dbsize() == len(keys) + 1
    assert set(r.keys("*")) == set(keys) | {"h:1"}
    assert sorted(r.keys("{hot}:*")) == sorted(keys[5000:])
    for count in (1, 10, 1000, 100000):
        assert set(full_scan(r, count=count)) == set(keys) | {"h:1"}, count
    assert set(full_scan(r, match="{hot}:*", count=50)) == set(keys[5000:])
    assert full_scan(r, _type="hash") == ["h:1"]
    # Keys that exist for the whole scan are all returned, while others
    # come and go between the calls (slot tables created, emptied, grown).
    steady = set(keys[:2500])
    cursor, seen, n = 0, set(), 0
    while True:
        cursor, batch = r.scan(cursor, count=25)
        seen.update(batch)
        r.delete(keys[2500 + n % 2500])
        r.set(f"new:{n}", 1)
        n += 1
        if cursor == 0:
            break
    assert steady <= seen
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.scan("12x")


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_countkeysinslot_sums_to_dbsize_through_writes(server_factory, tls_certs, transport):
    c = one_node(server_factory, tls_certs, transport)
    r = c.admin(0)
    rnd = random.Random(7)
    live = set()
    for step in range(3000):
        k = f"k{rnd.randrange(400)}"
        op = rnd.randrange(4)
        if op == 0:
            r.delete(k)
            live.discard(k)
        elif op == 1:
            r.rpush(k + ":l", 1)  # another type in another slot
            live.add(k + ":l")
        else:
            r.set(k, "x" * rnd.randrange(1, 80))
            live.add(k)
    assert r.dbsize() == len(live)
    slots = {}
    for k in live:
        slots.setdefault(key_slot(k), set()).add(k)
    for s, ks in slots.items():
        assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == len(ks)
        assert set(r.execute_command("CLUSTER", "GETKEYSINSLOT", s, 1000)) == ks
    assert sum(r.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) for s in slots) == r.dbsize()


def test_randomkey_is_uniform_over_keys_not_slots(server_factory, tls_certs):
    """A slot with 900 keys and one with 100: RANDOMKEY names the first
    about 90% of the time (a per-slot table picked uniformly would say 50%)."""
    c = one_node(server_factory, tls_certs, "plain")
    r = c.admin(0)
    fill(r, [f"{{big}}:{n}" for n in range(900)] + [f"{{small}}:{n}" for n in range(100)])
    draws = 3000
    p = r.pipeline(transaction=False)
    for _ in range(draws):
        p.randomkey()
    got = p.execute()
    big = sum(1 for k in got if k.startswith("{big}"))
    assert 0.86 * draws < big < 0.94 * draws, big  # binomial sd is 0.55%
    assert len(set(got)) > 900  # not stuck on a few keys
    r.flushall()
    assert r.randomkey() is None


@pytest.mark.parametrize("flush", ["SYNC", "ASYNC"])
def test_flushall_then_reuse(server_factory, tls_certs, flush):
    c = one_node(server_factory, tls_certs, "plain")
    r = c.admin(0)
    keys = [f"f:{n}" for n in range(20000)]
    fill(r, keys)
    s = key_slot(keys[0])
    assert r.execute_command("FLUSHALL", flush)
    assert r.dbsize() == 0 and r.keys("*") == []
    assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == 0
    assert r.scan(0) == (0, [])
    fill(r, keys[:100], value="again")
    assert r.dbsize() == 100 and r.get(keys[0]) == "again"
    assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == 1
    wait_until(lambda: int(r.info("memory")["lazyfree_pending_objects"]) == 0, timeout=60,
               what="the flushed tables to be freed")


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random", "allkeys-lfu"])
def test_eviction_samples_across_slots(server_factory, tls_certs, policy):
    c = one_node(server_factory, tls_certs, "plain", "--maxmemory", "4mb", "--maxmemory-policy", policy)
    r = c.admin(0)
    maxmem = 4 * 1024 * 1024
    n = 0
    while int(r.info("stats")["evicted_keys"]) < 2000:
        fill(r, [f"e:{n + i}" for i in range(1000)], value="x" * 100)
        n += 1000
        assert n < 400000, "nothing was evicted"
    assert int(r.info("memory")["used_memory"]) < maxmem * 1.1
    r.config_set("maxmemory", 0)  # no eviction while SCAN counts (its replies use memory too)
    size = r.dbsize()
    assert 0 < size < n
    assert len(set(full_scan(r, count=1000))) == size
    if policy == "allkeys-lru":
        # recently written keys survive an LRU policy better than old ones
        recent = sum(r.exists(f"e:{n - 1 - i}") for i in range(200))
        old = sum(r.exists(f"e:{i}") for i in range(200))
        assert recent > old


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_snapshot_reload_and_restart_rebuild_the_slot_tables(server_factory, tls_certs, transport):
    c = one_node(server_factory, tls_certs, transport)
    r = c.admin(0)
    keys = [f"p:{n}" for n in range(3000)]
    fill(r, keys)
    r.set("ttl", 1, ex=1000)
    s = key_slot("{x}")
    fill(r, [f"{{x}}{n}" for n in range(30)])
    assert r.execute_command("DEBUG", "RELOAD")
    assert r.dbsize() == 3031
    assert r.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) == 30
    assert r.ttl("ttl") > 900
    assert r.save()
    node = c.nodes[0]
    node.stop()
    c.nodes[0] = Server(node.dir, node.argv[7:])  # same dir and arguments, a new port
    try:
        r = c.admin(0)
        wait_until(lambda: r.dbsize() == 3031, what="the snapshot to load")
        assert sorted(r.execute_command("CLUSTER", "GETKEYSINSLOT", s, 100)) == sorted(f"{{x}}{n}" for n in range(30))
        assert set(full_scan(r, count=500)) == set(keys) | {"ttl"} | {f"{{x}}{n}" for n in range(30)}
    finally:
        c.nodes[0].stop()


def used(r):
    return int(r.info("memory")["used_memory"])


def test_cluster_mode_costs_no_memory_per_key(server_factory, tls_certs):
    """The same 100,000 small keys in a node with cluster-enabled yes and
    one with no: within a few bytes a key (the slot tables' own structures
    are per slot, not per key; links in every entry cost 16 bytes)."""
    on = one_node(server_factory, tls_certs, "plain").admin(0)
    off = server_factory().client(decode_responses=True)
    keys = [f"key:{n:08d}" for n in range(100000)]
    per_key = []
    for r in (on, off):
        before = used(r)
        fill(r, keys, value="abc")
        per_key.append((used(r) - before) / len(keys))
    assert per_key[0] - per_key[1] < 6, per_key  # links in the entries: 16 and more
    # Emptied slot tables are freed by the cron: deleting every key gives
    # back what they held.
    base = used(on)
    p = on.pipeline(transaction=False)
    for i, k in enumerate(keys):
        p.delete(k)
        if i % 1000 == 999:
            p.execute()
    p.execute()
    assert on.dbsize() == 0
    wait_until(lambda: base - used(on) > 0.95 * per_key[0] * len(keys), timeout=30,
               what="the empty slot tables to be freed")
