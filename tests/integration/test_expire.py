"""Key expiry over time: lazy (on access) and active (the cron's expire cycle,
db.c), TTL countdown, PERSIST, and that expiring many keys never stalls the
server. Command-level EXPIRE semantics and errors are in test_keys.py.
"""
import threading
import time

import pytest

from conftest import wait_until


def test_lazy_expiry_get_returns_nil(r):
    r.set("k", "v", px=50)
    assert r.get("k") == "v"
    wait_until(lambda: r.get("k") is None, timeout=5, what="k to expire")
    assert r.exists("k") == 0
    assert r.ttl("k") == -2


def test_expired_key_is_gone_for_every_read(r):
    r.set("k", "v")
    r.pexpire("k", 30)
    wait_until(lambda: r.pttl("k") == -2, timeout=5, what="k to expire")
    assert r.get("k") is None
    assert r.type("k") == "none"
    assert r.exists("k") == 0
    assert r.keys("*") == []
    assert r.dbsize() == 0


def test_ttl_and_pttl_decrease(r):
    r.set("k", "v", ex=100)
    t = r.ttl("k")
    assert 99 <= t <= 100
    p1 = r.pttl("k")
    assert 99000 < p1 <= 100000
    wait_until(lambda: r.pttl("k") < p1 - 20, timeout=5, what="PTTL to decrease")
    assert r.pttl("k") < p1
    r.pexpire("k", 1500)
    wait_until(lambda: r.ttl("k") == 1, timeout=5, what="TTL to reach 1")
    assert r.expiretime("k") * 1000 - 1000 <= r.pexpiretime("k") <= r.expiretime("k") * 1000 + 500


def test_persist_keeps_key_past_its_ttl(r):
    r.set("k", "v", px=300)
    r.set("other", "v", px=300)
    assert r.persist("k") == 1
    assert r.ttl("k") == -1
    wait_until(lambda: r.get("other") is None, timeout=5, what="the other key to expire")
    assert r.get("k") == "v"


def test_expire_negative_deletes(r):
    r.set("k", "v")
    assert r.expire("k", -1) == 1
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.pexpire("k", -1000) == 1
    assert r.get("k") is None


def test_expire_updates_ttl_of_existing_ttl(r):
    r.set("k", "v", px=100)
    assert r.pexpire("k", 100000) == 1
    assert r.pttl("k") > 90000


def test_active_expiry_reclaims_without_access(r):
    """Keys nobody reads again still go away (the active cycle)."""
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"k{i}", "v", px=100)
        p.execute()
    r.set("live", "v")
    wait_until(lambda: r.dbsize() == 1, timeout=5, what="active expiry to reclaim 1000 keys")
    assert r.get("live") == "v"


class PingProbe:
    """Measures PING round trips from its own connection, in a thread."""

    def __init__(self, server):
        self.client = server.client(socket_timeout=5)
        self.max = 0.0
        self.count = 0
        self.errors = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self.client.ping()
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(e)
                return
            dt = time.monotonic() - t0
            self.max = max(self.max, dt)
            self.count += 1
            time.sleep(0.002)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join(timeout=10)


@pytest.mark.solo  # bounds a PING's wait: alone (conftest.py)
def test_active_expiry_of_200k_keys_without_stalling(server):
    n = 200_000
    r = server.client(decode_responses=True)
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.set(f"key:{i:06d}", "value", px=1000)
        p.execute()
    assert r.dbsize() > 0
    with PingProbe(server) as probe:
        start = time.monotonic()
        wait_until(lambda: r.dbsize() < n * 0.05, timeout=10, interval=0.05,
                   what="DBSIZE to fall below 5% of 200k keys with a 1 s TTL")
        elapsed = time.monotonic() - start
    assert not probe.errors, probe.errors
    assert probe.count > 20, "the probe barely ran"
    assert probe.max < 0.25, f"PING took {probe.max * 1000:.0f} ms while keys expired"
    assert elapsed < 10
    # Everything left is still on its way out, and nothing live was lost.
    r.set("survivor", "1")
    wait_until(lambda: r.dbsize() == 1, timeout=10, interval=0.05, what="the rest to expire")
    assert r.get("survivor") == "1"
