"""Replication, the replica side: a Cachet replica following Debian's
redis-server 7.0 as its primary (the live-migration path), over plaintext and
TLS, with the primary's disk-based ($<len>) and diskless ($EOF:) framings.

Each sync test runs a seeded random write load of every data type on the
primary during the full sync and after it, waits until Cachet's offset
equals the primary's master_repl_offset, and compares the datasets key by
key (type, value, PTTL). Then: partial resyncs after the link is cut from
either end, READONLY, MASTERDOWN, expired keys hidden until the primary's
DEL, REPLICAOF NO ONE, a replica of itself, and a fake primary (a socket
server here) sending truncated, oversized and garbage snapshots.

Every server is started on a free loopback port and stopped by PID.
"""
import os
import random
import shutil
import socket
import threading
import time

import pytest
import redis

from conftest import Server, free_port, wait_until
from conftest import cmd as resp
from tlsutil import info

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(not REDIS_SERVER, reason="Debian's redis-server is needed as the primary")


# --- servers -----------------------------------------------------------------

class Primary:
    """redis-server 7.0, plaintext or TLS-only (--port 0 --tls-port)."""

    def __init__(self, tmp_path, diskless=True, certs=None, extra=()):
        self.certs = certs
        args = ["--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes" if diskless else "no",
                "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]
        ready = True
        if certs:
            self.tls_port = free_port()
            args += ["--port", "0", "--tls-port", str(self.tls_port), "--tls-cert-file", certs["server_crt"],
                     "--tls-key-file", certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"]]
            ready = lambda s: self._tls_ping()  # noqa: E731
        args += list(extra)
        self.srv = Server(tmp_path / "redis-primary", args, binary=REDIS_SERVER, ready=ready)
        self.port = self.tls_port if certs else self.srv.port

    def _tls_ping(self):
        c = self._tls_client(socket_timeout=2)
        try:
            return c.ping()
        finally:
            c.close()

    def _tls_client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.tls_port, ssl=True, ssl_ca_certs=self.certs["ca_crt"],
                           ssl_certfile=self.certs["client_crt"], ssl_keyfile=self.certs["client_key"],
                           ssl_cert_reqs="required", **kw)

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        if not self.certs:
            return self.srv.client(**kw)
        c = self._tls_client(**kw)
        self.srv._clients.append(c)
        return c

    def stop(self):
        self.srv.stop()


@pytest.fixture
def primaries(tmp_path):
    started = []

    def make(**kw):
        p = Primary(tmp_path / f"p{len(started)}", **kw)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


def replica_args(certs=None, *extra):
    args = []
    if certs:
        args += ["--tls-replication", "yes", "--tls-ca-cert-file", certs["ca_crt"],
                 "--tls-client-cert-file", certs["client_crt"], "--tls-client-key-file", certs["client_key"]]
    return args + list(extra)


def repl_info(c):
    return info(c, "replication")


def link_up(c):
    return repl_info(c).get("master_link_status") == "up"


def wait_caught_up(replica_client, primary_client, timeout=30):
    """Cachet's applied offset equals the primary's master_repl_offset."""
    def same():
        want = int(repl_info(primary_client)["master_repl_offset"])
        got = repl_info(replica_client)
        return got.get("master_link_status") == "up" and int(got["slave_repl_offset"]) == want
    wait_until(same, timeout=timeout, interval=0.05, what="the replica's offset to reach the primary's")


def stat(c, field):
    return int(info(c, "stats")[field])


# --- the write load --------------------------------------------------------------

TYPES = ("s", "l", "h", "S", "z", "x")


def random_op(rnd, pipe):
    """One random write on a key whose name says its type (no WRONGTYPE)."""
    t = rnd.choice(TYPES)
    k = f"{t}:{rnd.randrange(300)}"
    v = f"v{rnd.randrange(10**6)}"
    r = rnd.random()
    if t == "s":
        if r < 0.3:
            pipe.set(k, v, px=rnd.randrange(60_000, 600_000))
        elif r < 0.5:
            pipe.set(k, v)
        elif r < 0.65:
            pipe.incrbyfloat(f"f:{rnd.randrange(50)}", rnd.choice(["1.5", "-0.25", "3.0e2"]))
        elif r < 0.8:
            pipe.append(k, v)
        else:
            pipe.incr(f"n:{rnd.randrange(50)}")
    elif t == "l":
        if r < 0.6:
            pipe.rpush(k, *[f"{v}{i}" for i in range(rnd.randrange(1, 4))])
        elif r < 0.8:
            pipe.lpush(k, v)
        else:
            pipe.lpop(k)
    elif t == "h":
        if r < 0.7:
            pipe.hset(k, f"f{rnd.randrange(20)}", v)
        elif r < 0.85:
            pipe.hincrby(k, "cnt", rnd.randrange(1, 10))
        else:
            pipe.hdel(k, f"f{rnd.randrange(20)}")
    elif t == "S":
        if r < 0.7:
            pipe.sadd(k, *[f"m{rnd.randrange(40)}" for _ in range(rnd.randrange(1, 4))])
        elif r < 0.85:
            pipe.spop(k)
        else:
            pipe.srem(k, f"m{rnd.randrange(40)}")
    elif t == "z":
        if r < 0.6:
            pipe.zadd(k, {f"m{rnd.randrange(40)}": rnd.randrange(1000) / 7})
        elif r < 0.85:
            pipe.zincrby(k, 1.25, f"m{rnd.randrange(40)}")
        else:
            pipe.zrem(k, f"m{rnd.randrange(40)}")
    else:
        if r < 0.85:
            pipe.xadd(k, {"f": v, "g": str(rnd.randrange(100))}, maxlen=50, approximate=False)
        else:
            pipe.delete(k)
    if rnd.random() < 0.05:
        pipe.expire(f"{rnd.choice(TYPES)}:{rnd.randrange(300)}", rnd.randrange(100, 1000))
    if rnd.random() < 0.02:
        pipe.delete(f"{rnd.choice(TYPES)}:{rnd.randrange(300)}")


def apply_batch(client, rnd, n):
    """n random writes: half pipelined plainly, half as MULTI/EXEC blocks,
    with a few in database 3 (SELECT in the stream)."""
    transactional = rnd.random() < 0.5
    pipe = client.pipeline(transaction=transactional)
    for _ in range(n):
        random_op(rnd, pipe)
    pipe.execute()


class Load(threading.Thread):
    """Random writes on the primary until stopped (bounded in count)."""

    def __init__(self, client, client_db3, seed, max_batches=100_000):
        super().__init__(daemon=True)
        self.client, self.client_db3 = client, client_db3
        self.rnd = random.Random(seed)
        self.stop_evt = threading.Event()
        self.batches = 0
        self.max_batches = max_batches
        self.error = None

    def run(self):
        try:
            while not self.stop_evt.is_set() and self.batches < self.max_batches:
                apply_batch(self.client_db3 if self.rnd.random() < 0.1 else self.client, self.rnd, 20)
                self.batches += 1
        except Exception as e:  # noqa: BLE001 - reported by finish()
            self.error = e

    def finish(self):
        self.stop_evt.set()
        self.join(timeout=30)
        assert self.error is None, f"write load failed: {self.error!r}"


# --- comparing datasets --------------------------------------------------------------

def dump_value(c, k, t):
    if t == b"string":
        return c.get(k)
    if t == b"list":
        return c.lrange(k, 0, -1)
    if t == b"hash":
        return c.hgetall(k)
    if t == b"set":
        return c.smembers(k)
    if t == b"zset":
        return c.zrange(k, 0, -1, withscores=True)
    if t == b"stream":
        return c.xrange(k, "-", "+")
    raise AssertionError(f"unexpected type {t!r} for {k!r}")


def compare_db(primary_client, replica_client, db):
    p = redis.Redis(connection_pool=None, **_kwargs(primary_client, db))
    r = redis.Redis(connection_pool=None, **_kwargs(replica_client, db))
    try:
        pkeys = set(p.scan_iter(count=1000))
        rkeys = set(r.scan_iter(count=1000))
        assert pkeys == rkeys, f"db {db}: keys differ: only on primary {sorted(pkeys - rkeys)[:10]}, " \
                               f"only on replica {sorted(rkeys - pkeys)[:10]}"
        for k in sorted(pkeys):
            t = p.type(k)
            assert r.type(k) == t, f"db {db}: TYPE of {k!r}"
            assert dump_value(r, k, t) == dump_value(p, k, t), f"db {db}: value of {k!r}"
            pt, rt = p.pttl(k), r.pttl(k)
            if pt < 0:
                assert rt == pt, f"db {db}: PTTL of {k!r}: {rt} vs {pt}"
            else:
                assert abs(rt - pt) < 1500, f"db {db}: PTTL of {k!r}: {rt} vs {pt}"
        return len(pkeys)
    finally:
        p.close()
        r.close()


def _kwargs(client, db):
    kw = dict(client.connection_pool.connection_kwargs)
    kw["db"] = db
    kw.pop("connection_class", None)
    if client.connection_pool.connection_class is redis.SSLConnection:
        kw["ssl"] = True
        for src, dst in (("ssl_ca_certs", "ssl_ca_certs"), ("ssl_certfile", "ssl_certfile"),
                         ("ssl_keyfile", "ssl_keyfile"), ("ssl_cert_reqs", "ssl_cert_reqs")):
            if src in kw:
                kw[dst] = kw[src]
    return kw


def compare_all(primary_client, replica_client):
    n = compare_db(primary_client, replica_client, 0)
    n3 = compare_db(primary_client, replica_client, 3)
    assert n > 100 and n3 > 10, (n, n3)


def preload(client, client_db3, seed, batches=150):
    rnd = random.Random(seed)
    for i in range(batches):
        apply_batch(client_db3 if i % 10 == 0 else client, rnd, 40)


# --- the full sync under load, both framings, plaintext and TLS --------------------------

@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("diskless", [True, False], ids=["diskless", "disk"])
def test_full_sync_under_load_then_partial_resyncs(primaries, server_factory, tls_certs, tls, diskless):
    certs = tls_certs if tls else None
    p = primaries(diskless=diskless, certs=certs)
    pc, pc3 = p.client(), p.client(db=3)
    preload(pc, pc3, seed=1)
    rs = server_factory(*replica_args(certs))
    rc = rs.client()
    rc.set("old-data", "gone after the sync")
    load = Load(p.client(), p.client(db=3), seed=2)
    load.start()
    try:
        assert rc.execute_command("REPLICAOF", "127.0.0.1", p.port) == b"OK"
        wait_until(lambda: link_up(rc), timeout=30, what="master_link_status:up")
        n_after = load.batches
        wait_until(lambda: load.batches >= n_after + 30, timeout=30, what="writes after the sync")
    finally:
        load.finish()
    wait_caught_up(rc, pc)
    compare_all(pc, rc)
    assert rc.get("old-data") is None
    log = rs.log()
    assert "Connecting to MASTER 127.0.0.1:%d" % p.port in log
    assert "MASTER <-> REPLICA sync: Finished with success" in log
    assert ("with EOF to disk" in log) == diskless
    assert rc.execute_command("ROLE")[:4] == [b"slave", b"127.0.0.1", p.port, b"connected"]
    full = stat(pc, "sync_full")
    partial = stat(pc, "sync_partial_ok")
    assert full == 1

    # The link cut from our side, then from the primary's, with writes meanwhile.
    rnd = random.Random(3)
    for kill in (lambda: rc.execute_command("CLIENT", "KILL", "TYPE", "master"),
                 lambda: pc.execute_command("CLIENT", "KILL", "TYPE", "replica")):
        assert kill() >= 1
        apply_batch(pc, rnd, 200)
        partial += 1
        wait_until(lambda: stat(pc, "sync_partial_ok") == partial, timeout=15, what="a partial resync")
        wait_caught_up(rc, pc)
        apply_batch(pc, rnd, 200)
        wait_caught_up(rc, pc)
        compare_all(pc, rc)
    assert stat(pc, "sync_full") == full
    assert "Successful partial resynchronization with master." in rs.log()


def test_info_and_role_as_replica(primaries, server_factory):
    p = primaries()
    pc = p.client()
    pc.set("k", "v")
    rs = server_factory()
    rc = rs.client()
    assert rc.execute_command("REPLICAOF", "127.0.0.1", p.port) == b"OK"
    # Already following it: Redis' own words.
    assert rc.execute_command("REPLICAOF", "127.0.0.1", p.port) == b"OK Already connected to specified master"
    wait_caught_up(rc, pc)
    i = repl_info(rc)
    keys = [line.split(":")[0] for line in
            rc.execute_command("INFO", "replication").decode().splitlines()[1:] if ":" in line]
    assert keys[:12] == ["role", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
                         "master_sync_in_progress", "slave_read_repl_offset", "slave_repl_offset", "slave_priority",
                         "slave_read_only", "replica_announced", "connected_slaves"]
    assert i["role"] == "slave" and i["master_port"] == str(p.port) and i["master_sync_in_progress"] == "0"
    assert i["master_replid"] == repl_info(pc)["master_replid"]
    # The primary sees us with our listening port; CLIENT LIST shows flags=M.
    # (A diskless primary says online once its child is reaped: a moment after we are up.)
    wait_until(lambda: f"port={rs.port},state=online" in repl_info(pc)["slave0"], timeout=10,
               what="the primary to list us online")
    lst = rc.execute_command("CLIENT", "LIST", "TYPE", "master").decode()
    assert "flags=M" in lst and lst.count("\n") == 1
    assert rc.get("k") == b"v"
    # WAIT on the primary sends REPLCONF GETACK: the one request we answer.
    pc.set("k2", "v2")
    assert pc.execute_command("WAIT", 1, 5000) == 1
    assert rc.get("k2") == b"v2"
    # The once-a-second REPLCONF ACK keeps the primary's view of our offset fresh.
    wait_until(lambda: f"offset={repl_info(pc)['master_repl_offset']}," in repl_info(pc)["slave0"], timeout=5,
               what="the primary to see our ACKed offset")
    # The link down: master_link_down_since_seconds appears, ROLE says connect/connecting.
    p.stop()
    wait_until(lambda: repl_info(rc)["master_link_status"] == "down", timeout=10, what="the link to drop")
    i = repl_info(rc)
    assert "master_link_down_since_seconds" in i and int(i["master_link_down_since_seconds"]) >= 0
    assert rc.execute_command("ROLE")[3] in (b"connect", b"connecting")
    assert rc.get("k") == b"v"  # stale data still served (replica-serve-stale-data yes)
    assert "Connection with master lost." in rs.log()


def test_replicaof_errors_and_config(server_factory):
    rs = server_factory()
    rc = rs.client(decode_responses=True)
    for port in ("abc", "-1", "65536", "1.5", ""):
        with pytest.raises(redis.ResponseError, match="^Invalid master port$"):
            rc.execute_command("REPLICAOF", "127.0.0.1", port)
    with pytest.raises(redis.ResponseError, match="Invalid master host"):
        rc.execute_command("REPLICAOF", "example.invalid", "6379")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'replicaof' command"):
        rc.execute_command("REPLICAOF", "127.0.0.1")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'slaveof' command"):
        rc.execute_command("SLAVEOF", "a", "b", "c")
    assert rc.execute_command("ROLE")[0] == "master"  # nothing changed
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == "OK"  # already a primary: OK
    # Allowed inside MULTI, as in Redis.
    pipe = rc.pipeline(transaction=True)
    pipe.execute_command("REPLICAOF", "no", "one")
    assert pipe.execute() == ["OK"]
    defaults = {"replica-read-only": "yes", "replica-serve-stale-data": "yes", "replica-priority": "100",
                "repl-timeout": "60", "tls-replication": "no", "masterauth": "", "masteruser": "",
                "replica-announce-ip": "", "replica-announce-port": "0", "tls-client-cert-file": "",
                "tls-client-key-file": "", "replica-announced": "yes"}
    for k, v in defaults.items():
        assert rc.config_get(k) == {k: v}, k
    assert rc.config_get("replicaof") == {}  # not a CONFIG parameter in Redis 7.0
    assert rc.config_set("repl-timeout", 5)
    with pytest.raises(redis.ResponseError):
        rc.config_set("repl-timeout", 0)
    with pytest.raises(redis.ResponseError):
        rc.config_set("replica-announce-port", 70000)
    assert rc.config_set("slave-read-only", "no") and rc.config_get("replica-read-only")["replica-read-only"] == "no"


def test_replicaof_in_config_and_auth(primaries, server_factory, tmp_path):
    p = primaries(extra=["--requirepass", "s3cret"])
    pc = p.client(password="s3cret")
    pc.set("from-config", "1")
    pc.execute_command("ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping")
    rs = server_factory("--replicaof", "127.0.0.1", str(p.port), "--masteruser", "repl", "--masterauth", "replpw",
                        "--replica-announce-ip", "127.0.0.5", "--replica-announce-port", "7777")
    rc = rs.client()
    wait_caught_up(rc, pc)
    wait_until(lambda: repl_info(pc)["slave0"].startswith("ip=127.0.0.5,port=7777,state=online"), timeout=10,
               what="the primary to list us with the announced address")
    assert rc.get("from-config") == b"1"
    assert "Partial resynchronization not possible (no cached master)" in rs.log()
    # A wrong password: logged, retried, old data kept.
    bad = server_factory("--replicaof", "127.0.0.1", str(p.port), "--masterauth", "wrong")
    wait_until(lambda: "Unable to AUTH to MASTER" in bad.log(), timeout=10, what="the AUTH failure in the log")
    assert repl_info(bad.client())["master_link_status"] == "down"
    # A bad replicaof line refuses to start, with Redis' reason.
    port = free_port()
    conf = tmp_path / "bad.conf"
    conf.write_text(f"port {port}\nreplicaof 127.0.0.1 notaport\n")
    import subprocess
    out = subprocess.run([rs.binary, str(conf)], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0 and "Invalid master port" in (out.stdout + out.stderr)


def test_readonly_and_writable_replica(primaries, server_factory):
    p = primaries()
    pc = p.client()
    rs = server_factory()
    rc = rs.client()
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    pc.set("k", "1")
    wait_caught_up(rc, pc)
    with pytest.raises(redis.ResponseError, match="^You can't write against a read only replica.$") as e:
        rc.set("k", "2")
    assert str(e.value).startswith("You can't")
    with pytest.raises(redis.exceptions.ReadOnlyError):
        rc.incr("k")
    pipe = rc.pipeline(transaction=True)
    pipe.set("k", "3")
    with pytest.raises(redis.ResponseError, match="read only replica"):
        pipe.execute()
    assert rc.get("k") == b"1"
    rc.config_set("replica-read-only", "no")
    assert rc.set("local", "x") and rc.get("local") == b"x"
    # The primary's writes keep coming.
    pc.set("k", "9")
    wait_caught_up(rc, pc)
    assert rc.get("k") == b"9"


def test_masterdown_when_stale_data_is_off(server_factory):
    rs = server_factory("--replica-serve-stale-data", "no")
    rc = rs.client(decode_responses=True)
    rc.set("k", "v")
    dead = free_port()  # nothing listens there
    assert rc.execute_command("REPLICAOF", "127.0.0.1", dead) == "OK"
    with pytest.raises(redis.ResponseError,
                       match="^MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.$"):
        rc.get("k")
    assert repl_info(rc)["master_link_status"] == "down"  # INFO is a stale command
    assert rc.config_set("replica-serve-stale-data", "yes")
    assert rc.get("k") == "v"
    wait_until(lambda: "Error condition on socket for SYNC" in rs.log() or "Unable to connect to MASTER" in rs.log(),
               timeout=10, what="the refused connect in the log")


def test_expired_keys_hidden_until_the_primary_deletes_them(primaries, server_factory):
    p = primaries()
    pc = p.client()
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # the primary deletes only when asked
    rs = server_factory()
    rc = rs.client()
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_until(lambda: link_up(rc), timeout=15, what="the link")
    pc.set("short", "v", px=300)
    pc.set("long", "v")
    wait_caught_up(rc, pc)
    wait_until(lambda: rc.get("short") is None, timeout=10, what="the key to expire logically")
    # Hidden from reads, still held (no deletion on a replica): DBSIZE counts it.
    assert rc.exists("short") == 0 and rc.pttl("short") == -2 and rc.type("short") == b"none"
    assert rc.dbsize() == 2
    assert b"short" not in set(rc.keys("*"))
    # The primary's lazy expiry sends DEL: now it is gone on the replica too.
    # (Polled: the primary judges by its own cached clock, which may lag ours.)
    wait_until(lambda: pc.get("short") is None, timeout=10, what="the primary to expire the key")
    wait_caught_up(rc, pc)
    wait_until(lambda: rc.dbsize() == 1, timeout=10, what="the primary's DEL")
    assert rc.get("long") == b"v"


def test_replicaof_no_one_keeps_data_and_promotes(primaries, server_factory):
    p = primaries()
    pc = p.client()
    for i in range(100):
        pc.set(f"k{i}", i)
    rs = server_factory()
    rc = rs.client()
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_caught_up(rc, pc)
    old_id = repl_info(rc)["master_replid"]
    off = int(repl_info(rc)["master_repl_offset"])
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert rc.execute_command("ROLE")[0] == b"master"
    i = repl_info(rc)
    assert i["role"] == "master" and i["master_replid2"] == old_id and int(i["second_repl_offset"]) == off + 1
    assert i["master_replid"] != old_id
    assert rc.dbsize() == 100 and rc.get("k42") == b"42"
    assert rc.set("new", "1")  # a primary takes writes
    assert "MASTER MODE enabled" in rs.log()
    # Following it again: a PSYNC with our own history is tried first.
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_caught_up(rc, pc)
    assert "Trying a partial resynchronization (request %s:" % i["master_replid"] in rs.log()


def test_replica_of_itself(server_factory):
    rs = server_factory()
    rc = rs.client()
    rc.mset({"a": "1", "b": "2"})
    assert rc.execute_command("REPLICAOF", "127.0.0.1", rs.port) == b"OK"  # Redis accepts it too
    wait_until(lambda: rs.log().count("Connecting to MASTER") >= 2, timeout=10, what="retries")
    assert rc.execute_command("ROLE")[:3] == [b"slave", b"127.0.0.1", rs.port]
    assert rc.mget("a", "b") == [b"1", b"2"]
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert rc.mget("a", "b") == [b"1", b"2"] and rc.execute_command("ROLE")[0] == b"master"
    assert rs.alive()


# --- a fake primary ------------------------------------------------------------------

def valid_rdb(server_factory):
    """The bytes of a real snapshot (Cachet writes Redis' RDB 10)."""
    s = server_factory()
    c = s.client()
    c.set("from-snapshot", "yes")
    c.rpush("list", "a", "b")
    c.save()
    with open(os.path.join(s.dir, "dump.rdb"), "rb") as f:
        return f.read()


class FakePrimary(threading.Thread):
    """Answers the handshake, then PSYNC with `payload(conn_index)` bytes and
    closes. Counts the connections it got (the replica retries)."""

    def __init__(self, payload, hold=0.2, answer_ping=True):
        super().__init__(daemon=True)
        self.payload = payload
        self.hold = hold
        self.answer_ping = answer_ping
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.psyncs = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve_and_close, args=(conn, self.connections), daemon=True).start()

    def _serve_and_close(self, conn, n):
        try:
            self.serve(conn, n)
        except OSError:
            pass
        finally:
            conn.close()

    def serve(self, conn, n):
        hold = self.hold(n) if callable(self.hold) else self.hold
        conn.settimeout(5)
        buf = b""
        while True:
            while b"\r\n" not in buf or not self._whole(buf):
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            args, buf = self._parse(buf)
            name = args[0].upper()
            if name == b"PING":
                if not self.answer_ping:
                    self.done.wait(hold)
                    return
                conn.sendall(b"+PONG\r\n")
            elif name == b"PSYNC":
                self.psyncs.append(args[1:])
                conn.sendall(self.payload(n))
                self.done.wait(hold)  # then silence, or close
                return
            else:
                conn.sendall(b"+OK\r\n")

    @staticmethod
    def _whole(buf):
        try:
            FakePrimary._parse(buf)
            return True
        except (IndexError, ValueError):
            return False

    @staticmethod
    def _parse(buf):
        assert buf[:1] == b"*"
        head, rest = buf.split(b"\r\n", 1)
        n = int(head[1:])
        args = []
        for _ in range(n):
            h, rest = rest.split(b"\r\n", 1)
            ln = int(h[1:])
            if len(rest) < ln + 2:
                raise IndexError
            args.append(rest[:ln])
            rest = rest[ln + 2:]
        return args, rest

    def stop(self):
        self.done.set()
        self.sock.close()
        self.join(timeout=5)


FULL = b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n"


@pytest.mark.parametrize("case", ["truncated", "longer-than-announced", "garbage-header", "garbage-body",
                                  "garbage-psync-reply", "eof-truncated"])
def test_bad_primary_keeps_old_data(server_factory, case):
    rdb = valid_rdb(server_factory)
    payloads = {
        "truncated": FULL + b"$%d\r\n" % len(rdb) + rdb[: len(rdb) // 2],
        "longer-than-announced": FULL + b"$%d\r\n" % (len(rdb) - 12) + rdb,
        "garbage-header": FULL + b"hello there\r\n",
        "garbage-body": FULL + b"$%d\r\n" % len(rdb) + bytes(random.Random(5).randrange(256) for _ in rdb),
        "garbage-psync-reply": b"+WHATEVER\r\n",
        "eof-truncated": FULL + b"$EOF:" + b"m" * 40 + b"\r\n" + rdb[:20],
    }
    fake = FakePrimary(lambda n: payloads[case])
    fake.start()
    try:
        rs = server_factory("--repl-timeout", "2")
        rc = rs.client()
        rc.set("old", "kept")
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_until(lambda: fake.connections >= 2, timeout=15, what="the replica to retry")
        assert rs.alive()
        assert rc.get("old") == b"kept" and rc.dbsize() == 1
        assert repl_info(rc)["master_link_status"] == "down"
        log = rs.log()
        expected = {
            "truncated": "I/O error trying to sync with MASTER: connection lost",
            "longer-than-announced": "the snapshot received is not valid",
            "garbage-header": "Bad protocol from MASTER",
            "garbage-body": "the snapshot received is not valid",
            "garbage-psync-reply": "Unexpected reply to PSYNC from master",
            "eof-truncated": "I/O error trying to sync with MASTER: connection lost",
        }[case]
        assert expected in log
        # No temp file is left behind.
        assert not [f for f in os.listdir(rs.dir) if f.startswith("temp-")]
        # The first attempt asked with our own history.
        assert fake.psyncs[0][0] != b"?"
    finally:
        fake.stop()


def test_fake_primary_with_a_valid_snapshot_both_framings(server_factory):
    rdb = valid_rdb(server_factory)
    mark = b"0123456789abcdef0123456789abcdef01234567"
    stream = b"*3\r\n$3\r\nSET\r\n$6\r\nstream\r\n$2\r\nok\r\n"
    for framing in (b"$%d\r\n" % len(rdb) + rdb, b"$EOF:" + mark + b"\r\n" + rdb + mark):
        fake = FakePrimary(lambda n, f=framing: b"\n\n" + FULL + b"\n" + f + stream)
        fake.start()
        try:
            rs = server_factory()
            rc = rs.client()
            rc.set("old", "replaced")
            rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
            wait_until(lambda: rc.get("stream") == b"ok", timeout=10, what="the stream after the snapshot")
            assert rc.get("from-snapshot") == b"yes" and rc.lrange("list", 0, -1) == [b"a", b"b"]
            assert rc.get("old") is None
            i = repl_info(rc)
            assert i["master_replid"] == "a" * 40 and int(i["master_repl_offset"]) == len(stream)
        finally:
            fake.stop()


@pytest.mark.parametrize("phase", ["handshake", "transfer", "stream"])
def test_silent_primary_times_out_and_is_retried(server_factory, phase):
    payloads = {"handshake": b"", "transfer": FULL + b"$1000\r\nREDIS", "stream": b"+CONTINUE\r\n"}
    fake = FakePrimary(lambda n: payloads[phase], hold=30, answer_ping=phase != "handshake")
    fake.start()
    try:
        rs = server_factory("--repl-timeout", "1")
        rc = rs.client()
        rc.set("old", "kept")
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        expected = {"handshake": "Timeout connecting to the MASTER...",
                    "transfer": "Timeout receiving bulk data from MASTER...",
                    "stream": "MASTER timeout: no data nor PING received..."}[phase]
        if phase == "stream":
            wait_until(lambda: link_up(rc), timeout=10, what="+CONTINUE to bring the link up")
        elif phase == "transfer":
            wait_until(lambda: repl_info(rc).get("master_sync_in_progress") == "1", timeout=10, what="the transfer")
            i = repl_info(rc)
            assert i["master_sync_total_bytes"] == "1000" and i["master_sync_read_bytes"] == "5"
            assert i["master_sync_left_bytes"] == "995" and i["master_sync_perc"] == "0.50"
            assert rc.execute_command("ROLE")[3] == b"sync"
        wait_until(lambda: expected in rs.log(), timeout=10, what=expected)
        wait_until(lambda: fake.connections >= 2, timeout=10, what="a new connection after the timeout")
        assert rc.get("old") == b"kept"
        if phase == "transfer":
            # SHUTDOWN during a transfer leaves no temp file behind.
            wait_until(lambda: repl_info(rc).get("master_sync_in_progress") == "1", timeout=10, what="the transfer")
            assert [f for f in os.listdir(rs.dir) if f.startswith("temp-")]
            try:
                rc.shutdown(nosave=True)
            except redis.ConnectionError:
                pass
            rs.proc.wait(timeout=10)
            assert not [f for f in os.listdir(rs.dir) if f.startswith("temp-")]
    finally:
        fake.stop()


def test_offset_counts_exactly_the_applied_bytes(server_factory):
    """+CONTINUE, then a command and half a transaction, then the link
    breaks: the replica asks to continue right after the command (the MULTI
    is resent whole), and a +CONTINUE with a new id shifts the history."""
    set_x = resp("SET", "x", "1")
    half_txn = resp("MULTI") + resp("SET", "y", "1")
    new_id = b"b" * 40
    set_z = resp("SET", "z", "1")
    first = b"+CONTINUE\r\n" + set_x + half_txn
    second = b"+CONTINUE " + new_id + b"\r\n" + resp("MULTI") + resp("SET", "y", "1") + resp("EXEC") + set_z
    fake = FakePrimary(lambda n: first if n == 1 else second, hold=lambda n: 0.2 if n == 1 else 30)
    fake.start()
    try:
        rs = server_factory()
        rc = rs.client()
        own_id = repl_info(rc)["master_replid"]
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_until(lambda: len(fake.psyncs) >= 2, timeout=15, what="the second PSYNC")
        assert fake.psyncs[0] == [own_id.encode(), b"1"]
        assert fake.psyncs[1] == [own_id.encode(), b"%d" % (len(set_x) + 1)]
        wait_until(lambda: rc.get("z") == b"1", timeout=10, what="the stream after +CONTINUE <newid>")
        assert rc.get("x") == b"1" and rc.get("y") == b"1"
        i = repl_info(rc)
        assert i["master_replid"] == new_id.decode() and i["master_replid2"] == own_id
        assert int(i["second_repl_offset"]) == len(set_x) + 1
        assert int(i["master_repl_offset"]) == len(set_x) + len(second) - len(b"+CONTINUE " + new_id + b"\r\n")
    finally:
        fake.stop()


def test_stream_writes_with_past_expiry_are_kept_hidden(server_factory):
    """A write that arrives with its expiry already past (a late stream)
    is stored, hidden, and waits for the primary's DEL (Redis'
    checkAlreadyExpired is off on a replica)."""
    rs = server_factory()
    rc = rs.client()
    rc.set("x", "payload")
    payload = rc.dump("x")
    rc.delete("x")
    stream = (resp("SET", "a", "1", "PXAT", "1") + resp("SET", "b", "1") + resp("PEXPIREAT", "b", "1") +
              resp("RESTORE", "c", "1", payload, "ABSTTL") + resp("SET", "done", "1"))
    fake = FakePrimary(lambda n: b"+CONTINUE\r\n" + stream, hold=30)
    fake.start()
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_until(lambda: rc.get("done") == b"1", timeout=10, what="the stream")
        assert rc.mget("a", "b", "c") == [None, None, None] and rc.exists("a", "b", "c") == 0
        assert rc.dbsize() == 4  # a, b and c held until the primary's DEL
    finally:
        fake.stop()


def test_tls_replication_certificates(primaries, server_factory, tls_certs, tmp_path):
    """The client certificate falls back to tls-cert-file/tls-key-file, as in
    Redis 7; a primary whose certificate does not chain to our CA is refused
    (logged, old data kept, retried)."""
    p = primaries(certs=tls_certs)
    pc = p.client()
    pc.set("k", "over tls")
    fallback = server_factory("--tls-replication", "yes", "--tls-ca-cert-file", tls_certs["ca_crt"],
                              "--tls-cert-file", tls_certs["client_crt"], "--tls-key-file", tls_certs["client_key"])
    fc = fallback.client()
    fc.execute_command("REPLICAOF", "localhost", p.port)  # localhost: SNI and the name checked
    wait_caught_up(fc, pc)
    assert fc.get("k") == b"over tls"
    # Without any client certificate the primary (tls-auth-clients yes) refuses us.
    bare = server_factory("--tls-replication", "yes", "--tls-ca-cert-file", tls_certs["ca_crt"])
    bc = bare.client()
    bc.set("old", "kept")
    bc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_until(lambda: bare.log().count("Connecting to MASTER") >= 2, timeout=15, what="retries")
    assert repl_info(bc)["master_link_status"] == "down" and bc.get("old") == b"kept"
    # TLS 1.3: the refusal of a client without certificate shows at the first write or read.
    assert any(m in bare.log() for m in ("Error writing to MASTER", "Master closed the connection",
                                         "I/O error trying to sync with MASTER"))
    # A CA that did not sign the primary's certificate: verification fails.
    from conftest import make_certs
    other = make_certs(tmp_path / "other-ca", name="Other")
    wrong = server_factory(*replica_args(dict(tls_certs, ca_crt=other["ca_crt"])))
    wc = wrong.client()
    wc.set("old", "kept")
    wc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_until(lambda: "Error condition on socket for SYNC" in wrong.log(), timeout=15, what="the refused handshake")
    assert "certificate verify failed" in wrong.log()
    assert repl_info(wc)["master_link_status"] == "down" and wc.get("old") == b"kept"
