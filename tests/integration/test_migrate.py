"""MIGRATE and RESTORE-ASKING: the single-key and KEYS forms, COPY, REPLACE,
AUTH/AUTH2, errors from the target (BUSYKEY, WRONGPASS) passed on, an
unreachable or silent target (-IOERR, the keys stay), the caller waiting
while the loop serves others, writes to keys in flight waiting for the
outcome, ACL key permissions, replication of the DELs, and whole slot moves
between two cluster-mode Cachet nodes under a redis-py RedisCluster load,
plaintext and TLS.

The replies are compared with Redis 7.0's (MIGRATE between two redis-server
processes against MIGRATE between two Cachets) when redis-server is installed.
"""
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
from redis.cluster import RedisCluster, ClusterNode

from conftest import ROOT, wait_until
from test_cluster import Cluster, key_slot, ok
from tlsutil import tls_client  # noqa: F401

REDIS_SERVER = shutil.which("redis-server")


def err_text(fn):
    try:
        return ("ok", fn())
    except redis.ResponseError as e:
        return ("err", str(e))


def scenario(src_srv, dst_srv, pw_srv):
    """The same sequence against a source and two targets (the second with a
    password); the list of what each step answered and left behind, for
    comparison."""
    src = src_srv.client(decode_responses=True)
    dst = dst_srv.client(decode_responses=True)
    pw = pw_srv.client(decode_responses=True)
    pw.config_set("requirepass", "secret")
    pw.auth("secret")
    host, port = "127.0.0.1", dst_srv.port
    out = []

    def mig(*args):
        return err_text(lambda: src.execute_command("MIGRATE", host, port, *args))

    src.set("k", "v")
    src.expire("k", 100)
    out.append(("single", mig("k", 0, 1000), src.exists("k"), dst.get("k"), 90 < dst.ttl("k") <= 100))
    src.mset({"a": 1, "b": 2, "c": 3})
    src.rpush("l", "x", "y")
    src.hset("h", mapping={"f": "v"})
    out.append(("keys", mig("", 0, 1000, "KEYS", "a", "b", "missing", "l", "h"), src.exists("a", "b", "l", "h"),
                dst.mget("a", "b"), dst.lrange("l", 0, -1), dst.hgetall("h")))
    out.append(("copy", mig("", 0, 1000, "COPY", "KEYS", "c"), src.get("c"), dst.get("c")))
    out.append(("busykey", mig("", 0, 1000, "KEYS", "c"), src.get("c")))
    src.set("c", "33")
    out.append(("replace", mig("", 0, 1000, "REPLACE", "KEYS", "c"), src.exists("c"), dst.get("c")))
    out.append(("nokey", mig("nothing", 0, 1000), mig("", 0, 1000, "KEYS", "n1", "n2")))
    src.set("d", "4")
    out.append(("keys-with-key", mig("d", 0, 1000, "KEYS", "d")))
    out.append(("syntax", mig("d", 0, 1000, "BOGUS"), mig("d", 0, 1000, "AUTH"), mig("d", 0, 1000, "AUTH2", "u")))
    out.append(("bad-timeout", mig("d", 0, "x"), mig("d", "y", 1000)))
    out.append(("db1", mig("d", 1, 1000), src.exists("d"), dst.execute_command("SELECT", 1) and dst.get("d")))
    dst.execute_command("SELECT", 0)
    src.mset({"e": "5", "e2": "5"})
    # AUTH against a target without a password: its error is passed on (the
    # RESTORE itself went through there: the key stays here and is there too)
    out.append(("auth-nopass", mig("e", 0, 1000, "AUTH", "pw"), src.get("e"), dst.get("e")))
    # A target with a password (its own server: Redis caches sockets per target)
    host, port = "127.0.0.1", pw_srv.port
    out.append(("noauth", mig("e2", 0, 1000), src.get("e2")))
    out.append(("wrongpass", mig("e2", 0, 1000, "AUTH", "nope"), src.get("e2")))
    out.append(("auth", mig("e2", 0, 1000, "AUTH", "secret"), src.exists("e2"), pw.get("e2")))
    pw.execute_command("ACL", "SETUSER", "mover", "on", ">pw2", "~*", "+@all")
    src.mset({"f": "6", "f2": "6"})
    # (Redis' cached socket is still logged in after a failed AUTH: another key
    # for the next step, so that both servers see the same.)
    out.append(("auth2-wrong", mig("f", 0, 1000, "AUTH2", "mover", "bad"), src.get("f")))
    out.append(("auth2", mig("f2", 0, 1000, "AUTH2", "mover", "pw2"), src.exists("f2"), pw.get("f2")))
    # ACL: MIGRATE's keys are the key argument or those after KEYS
    src.execute_command("ACL", "SETUSER", "lim", "on", ">p", "~a*", "+migrate", "+set")
    lim = src_srv.client(decode_responses=True, username="lim", password="p")
    lim.set("a1", "1")
    src.set("b1", "1")
    out.append(("acl", err_text(lambda: lim.execute_command("MIGRATE", host, port, "", 0, 1000, "AUTH", "secret",
                                                            "KEYS", "b1")),
                err_text(lambda: lim.execute_command("MIGRATE", host, port, "b1", 0, 1000, "AUTH", "secret")),
                err_text(lambda: lim.execute_command("MIGRATE", host, port, "", 0, 1000, "AUTH", "secret",
                                                     "KEYS", "a1")),
                src.exists("a1", "b1")))
    # unreachable: the keys stay
    src.set("g", "7")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()
    out.append(("unreachable", err_text(lambda: src.execute_command("MIGRATE", host, dead, "g", 0, 500)),
                src.get("g")))
    out.append(("commandinfo", src.execute_command("COMMAND GETKEYS", "MIGRATE", host, port, "", 0, 5, "KEYS",
                                                   "x", "y"),
                src.execute_command("COMMAND GETKEYS", "MIGRATE", host, port, "z", 0, 5, "COPY")))
    return out


def test_migrate_replies(server_factory):
    src_srv = server_factory()
    out = scenario(src_srv, server_factory(), server_factory())
    # A name this node does not resolve (numeric addresses and localhost only:
    # no resolver on the loop); Redis' text for a failed resolution.
    src = src_srv.client(decode_responses=True)
    src.set("z", "1")
    with pytest.raises(redis.ResponseError, match="^IOERR error or timeout connecting to the client$"):
        src.execute_command("MIGRATE", "no-such-host.invalid", 6379, "z", 0, 1000)
    assert src.get("z") == "1"
    got = {step[0]: step[1:] for step in out}
    assert got["single"] == (("ok", "OK"), 0, "v", True)
    assert got["keys"] == (("ok", "OK"), 0, ["1", "2"], ["x", "y"], {"f": "v"})
    assert got["copy"] == (("ok", "OK"), "3", "3")
    assert got["busykey"] == (("err", "Target instance replied with error: BUSYKEY Target key name already exists."),
                              "3")
    assert got["replace"] == (("ok", "OK"), 0, "33")
    assert got["nokey"] == (("ok", "NOKEY"), ("ok", "NOKEY"))
    assert got["keys-with-key"][0][1] == ("When using MIGRATE KEYS option, the key argument must be set to the "
                                          "empty string")
    assert got["auth-nopass"][0][1].startswith("Target instance replied with error: ERR AUTH <password> called without")
    assert got["wrongpass"] == (("err", "Target instance replied with error: WRONGPASS invalid username-password "
                                        "pair or user is disabled."), "5")
    assert got["noauth"] == (("err", "Target instance replied with error: NOAUTH Authentication required."), "5")
    assert got["auth"] == (("ok", "OK"), 0, "5")
    assert got["auth2"] == (("ok", "OK"), 0, "6")
    assert got["unreachable"] == (("err", "IOERR error or timeout writing to target instance"), "7")
    assert got["acl"][0][0] == "err" and got["acl"][1][0] == "err" and got["acl"][2] == ("ok", "OK")
    assert got["commandinfo"] == (["x", "y"], ["z"])


@pytest.mark.skipif(not REDIS_SERVER, reason="redis-server not installed")
def test_migrate_replies_match_redis(server_factory):
    theirs = scenario(*(server_factory(binary=REDIS_SERVER) for _ in range(3)))
    ours = scenario(*(server_factory() for _ in range(3)))
    for a, b in zip(ours, theirs):
        assert a == b
    assert len(ours) == len(theirs)


def test_restore_asking_and_command_info(server_factory):
    r = server_factory().client()
    r.set("k", "v")
    payload = r.dump("k")
    assert r.execute_command("RESTORE-ASKING", "k2", 0, payload) == b"OK"
    assert r.get("k2") == b"v"
    with pytest.raises(redis.ResponseError, match="^BUSYKEY Target key name already exists.$"):
        r.execute_command("RESTORE-ASKING", "k2", 0, payload)
    info = r.execute_command("COMMAND INFO", "restore-asking", "migrate")
    assert info[0][:6] == [b"restore-asking", -4, [b"write", b"denyoom", b"asking"], 1, 1, 1]
    assert info[1][:6] == [b"migrate", -6, [b"write", b"movablekeys"], 3, 3, 1]


class Silent:
    """A listener that accepts and reads but never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.t.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def test_silent_target_times_out_and_loop_keeps_serving(server_factory):
    srv = server_factory()
    r = srv.client(decode_responses=True)
    other = srv.client(decode_responses=True)
    r.set("k", "v")
    silent = Silent()
    try:
        result = {}

        def run():
            t0 = time.monotonic()
            result["reply"] = err_text(lambda: r.execute_command("MIGRATE", "127.0.0.1", silent.port, "k", 0, 800))
            result["took"] = time.monotonic() - t0

        t = threading.Thread(target=run)
        t.start()
        # While the MIGRATE waits, the server answers others at once...
        wait_until(lambda: other.info("clients")["blocked_clients"] == 1, timeout=5, what="MIGRATE to wait")
        t0 = time.monotonic()
        assert other.ping() and other.get("k") == "v"
        assert time.monotonic() - t0 < 0.5
        # ...and a write to the key in flight waits for the outcome.
        w0 = time.monotonic()
        assert other.append("k", "+") == 2
        waited = time.monotonic() - w0
        t.join(10)
        assert result["reply"] == ("err", "IOERR error or timeout reading to target instance")
        assert 0.5 < result["took"] < 5
        assert waited > 0.2  # it ran after the MIGRATE gave up
        assert other.get("k") == "v+"
    finally:
        silent.close()


def test_client_gone_while_waiting_keys_still_move(server_factory):
    src_srv, dst_srv = server_factory(), server_factory()
    src, dst = src_srv.client(decode_responses=True), dst_srv.client(decode_responses=True)
    for i in range(50):
        src.set(f"k{i}", "x" * 1000)
    s = src_srv.raw()
    keys = " ".join(f"k{i}" for i in range(50))
    s.sendall(f'MIGRATE 127.0.0.1 {dst_srv.port} "" 0 5000 KEYS {keys}\r\n'.encode())
    s.close()
    wait_until(lambda: dst.dbsize() == 50 and src.dbsize() == 0, timeout=10, what="the keys to move")


def test_migrate_replicates_dels(server_factory):
    primary, replica, dst = server_factory(), server_factory(), server_factory()
    p = primary.client(decode_responses=True)
    rr = replica.client(decode_responses=True)
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    p.mset({"a": 1, "b": 2, "c": 3})
    wait_until(lambda: rr.dbsize() == 3, timeout=10, what="the replica to sync")
    assert p.execute_command("MIGRATE", "127.0.0.1", dst.port, "", 0, 1000, "KEYS", "a", "b") == "OK"
    wait_until(lambda: rr.dbsize() == 1, timeout=10, what="the DELs to replicate")
    assert rr.get("c") == "3"


# ---- cluster: whole slots moved under load ------------------------------------------

RANGES2 = ["0-8191", "8192-16383"]


class Load:
    """A cluster client (make_client()) in a thread setting each key to a new
    number and reading it back, until the block ends; every exception or
    wrong value is a failed operation. state["last"]: the last value each key
    was set to."""

    def __init__(self, make_client, keys):
        self.make_client, self.keys = make_client, keys
        self.state = {"ops": 0, "failed": [], "stop": False, "last": {}}
        self.t = threading.Thread(target=self.run)

    def run(self):
        st, rc, n = self.state, self.make_client(), 0
        try:
            while not st["stop"]:
                for k in self.keys:
                    if st["stop"]:
                        break
                    n += 1
                    try:
                        rc.set(k, n)
                        got = rc.get(k)
                        if got != str(n):
                            st["failed"].append((k, n, got))
                        st["last"][k] = n
                        st["ops"] += 2
                    except Exception as e:  # noqa: BLE001 - every failure counts
                        st["failed"].append((k, n, repr(e)))
        finally:
            rc.close()

    def wait_more(self, n):
        base = self.state["ops"]
        wait_until(lambda: self.state["ops"] > base + n, timeout=20, what="the load to go on")

    def __enter__(self):
        self.t.start()
        self.wait_more(100)
        return self

    def __exit__(self, *exc):
        self.state["stop"] = True
        self.t.join(30)


def compress(slots):
    """Slot numbers as the map's "a-b,c" ranges."""
    out, run = [], None
    for s in sorted(slots):
        if run and s == run[1] + 1:
            run[1] = s
        else:
            if run:
                out.append(run)
            run = [s, s]
    if run:
        out.append(run)
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in out)


def move_slot(cl, slot, src_i, dst_i, host="127.0.0.1", batch=10):
    src, dst = cl.admin(src_i), cl.admin(dst_i)
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", cl.ids[src_i]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", cl.ids[dst_i]))
    moved = 0
    while True:
        keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch)
        if not keys:
            break
        rep = src.execute_command("MIGRATE", host, cl.nodes[dst_i].port, "", 0, 5000, "KEYS", *keys)
        assert rep in ("OK", "NOKEY"), rep
        moved += len(keys)
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "NODE", cl.ids[dst_i]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "NODE", cl.ids[dst_i]))
    return moved


def slot_move_under_load(cl, make_client, host="127.0.0.1"):
    keys = [f"w:{i}" for i in range(400)]
    seed = make_client()
    for k in keys:
        seed.set(k, 0)
    seed.close()
    slots = sorted({key_slot(k) for k in keys if key_slot(k) <= 8191})
    with Load(make_client, keys) as load:
        moved = sum(move_slot(cl, s, 0, 1, host=host) for s in slots)
        ranges = [compress(s for s in range(0, 8192) if s not in set(slots)), "8192-16383," + compress(slots)]
        cl.push(*cl.spec(ranges=ranges, epoch=2))
        load.wait_more(200)
    state = load.state
    assert state["failed"] == []
    assert moved >= len([k for k in keys if key_slot(k) <= 8191])
    a, b = cl.admin(0), cl.admin(1)
    assert a.dbsize() == 0 and b.dbsize() == len(keys)
    for k in keys:
        assert b.get(k) == str(state["last"][k])
    return state["ops"]


def test_slot_move_under_redis_py_load(server_factory):
    cl = Cluster(server_factory, n=2)
    cl.push(*cl.spec(ranges=RANGES2))
    port = cl.nodes[0].port
    ops = slot_move_under_load(
        cl, lambda: RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port)], decode_responses=True))
    assert ops > 400


def test_slot_move_under_load_tls(server_factory, tls_certs):
    # ip endpoints: redis-py 4.3.4 names nodes by resolved address and looks
    # an ASK's "host:port" up by name as given, so an ASK naming a host name
    # (as Redis 7.0 sends with hostname endpoints too) breaks it. The
    # certificates carry IP:127.0.0.1, so the client still checks the name;
    # MIGRATE itself goes to "localhost" (SNI and name check on the way out).
    args = ("--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file",
            tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"])
    cl = Cluster(server_factory, n=2, extra=args, tls=tls_certs)
    cl.push(*cl.spec(ranges=RANGES2))
    port = cl.nodes[0].port
    ops = slot_move_under_load(
        cl, lambda: RedisCluster(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=tls_certs["ca_crt"],
                                 ssl_cert_reqs="required", ssl_check_hostname=True, decode_responses=True),
        host="localhost")
    assert ops > 400


def test_migrate_in_cluster_uses_restore_asking_and_ask(server_factory):
    cl = Cluster(server_factory, n=2)
    cl.push(*cl.spec(ranges=RANGES2))
    src, dst = cl.admin(0), cl.admin(1)
    tag = next(t for t in (f"{{m{n}}}" for n in range(200)) if key_slot(t) <= 8191)
    slot = key_slot(tag)
    src.set(f"{tag}a", "1")
    src.set(f"{tag}b", "2")
    # Without IMPORTING on the target, RESTORE-ASKING is redirected: the error is passed on.
    with pytest.raises(redis.ResponseError, match=f"^Target instance replied with error: MOVED {slot} "):
        src.execute_command("MIGRATE", "127.0.0.1", cl.nodes[1].port, f"{tag}a", 0, 1000)
    assert src.get(f"{tag}a") == "1"
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", cl.ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", cl.ids[1]))
    assert src.execute_command("MIGRATE", "127.0.0.1", cl.nodes[1].port, f"{tag}a", 0, 1000) == "OK"
    # Gone here: ASK; MIGRATE itself still runs here (NOKEY, not ASK).
    with pytest.raises(redis.ResponseError, match=f"^ASK {slot} 127.0.0.1:{cl.nodes[1].port}$"):
        src.get(f"{tag}a")
    assert src.execute_command("MIGRATE", "127.0.0.1", cl.nodes[1].port, f"{tag}a", 0, 1000) == "NOKEY"
    assert src.get(f"{tag}b") == "2"
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cl.nodes[0].port)], decode_responses=True)
    try:
        assert rc.get(f"{tag}a") == "1"  # followed ASK
        rc.set(f"{tag}c", "3")           # a new key of the slot goes to the target
        assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 2
    finally:
        rc.close()


def test_tls_target_that_fails_verification_keeps_keys(server_factory, tls_certs, tmp_path):
    from conftest import make_certs
    other = make_certs(tmp_path / "other", name="Other CA")
    common = ("--tls-mode", "preferred", "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file",
              tls_certs["server_key"])
    # The target takes TLS only: a MIGRATE that gets through went over TLS.
    dst_srv = server_factory("--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"],
                             "--tls-key-file", tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"])
    good = server_factory(*common, "--tls-ca-cert-file", tls_certs["ca_crt"])
    bad = server_factory(*common, "--tls-ca-cert-file", other["ca_crt"])  # does not trust the target
    for s in (good, bad):
        s.client().set("k", "v")
    with pytest.raises(redis.ResponseError, match="^IOERR error or timeout connecting to the client$"):
        bad.client().execute_command("MIGRATE", "127.0.0.1", dst_srv.port, "k", 0, 2000)
    assert bad.client().get("k") == b"v"
    assert good.client().execute_command("MIGRATE", "localhost", dst_srv.port, "k", 0, 2000) == b"OK"
    assert good.client().exists("k") == 0
    assert tls_client(dst_srv, tls_certs).get("k") == b"v"


@pytest.mark.skipif(not REDIS_SERVER, reason="redis-server not installed")
def test_migrate_between_cachet_and_redis(server_factory):
    cachet, red = server_factory(), server_factory(binary=REDIS_SERVER)
    c, r = cachet.client(decode_responses=True), red.client(decode_responses=True)
    c.set("s", "v")
    c.rpush("l", *range(200))
    c.zadd("z", {"a": 1, "b": 2})
    c.hset("h", mapping={str(i): "x" * 100 for i in range(300)})
    c.sadd("st", *range(50))
    assert c.execute_command("MIGRATE", "127.0.0.1", red.port, "", 0, 2000, "KEYS", "s", "l", "z", "h", "st") == "OK"
    assert c.dbsize() == 0 and r.dbsize() == 5
    assert r.lrange("l", 0, -1) == [str(i) for i in range(200)] and r.zrange("z", 0, -1, withscores=True) == [
        ("a", 1.0), ("b", 2.0)]
    assert r.execute_command("MIGRATE", "127.0.0.1", cachet.port, "", 0, 2000, "KEYS", "s", "l", "z", "h",
                             "st") == "OK"
    assert r.dbsize() == 0 and c.dbsize() == 5
    assert c.get("s") == "v" and len(c.hgetall("h")) == 300 and c.scard("st") == 50


# ---- tools/cachet-cluster ----------------------------------------------------------------

TOOL = os.path.join(ROOT, "build", "cachet-cluster")


def tool(*args, ok_codes=(0,)):
    p = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert p.returncode in ok_codes, (p.returncode, p.stdout, p.stderr)
    return p


def test_cachet_cluster_check_and_reshard_under_load(server_factory):
    cl = Cluster(server_factory, n=3)
    cl.push(*cl.spec())
    seed = f"127.0.0.1:{cl.nodes[0].port}"
    out = tool("check", seed).stdout
    assert "[OK] All 16384 slots covered." in out and "[OK] All nodes agree" in out
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cl.nodes[0].port)], decode_responses=True)
    keys = [f"r:{i}" for i in range(600)]
    for k in keys:
        rc.set(k, 0)
    port1 = cl.nodes[1].port
    with Load(lambda: RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port1)], decode_responses=True),
              keys) as load:
        p = tool("reshard", seed, "--from", cl.ids[0][:12], "--to", cl.ids[2], "--slots", 300)
        assert "[OK] 300 slots moved" in p.stdout and "Moved slot 0 from" in p.stdout
        load.wait_more(100)
    state = load.state
    assert state["failed"] == []
    # Every node agrees already (SETSLOT NODE everywhere); the map makes it final.
    assert "[OK] All nodes agree" in tool("check", seed).stdout
    cl.push(*cl.spec(ranges=["300-5460", "5461-10922", "0-299,10923-16383"], epoch=2))
    assert "[OK] All nodes agree" in tool("check", seed).stdout
    assert sum(cl.admin(i).dbsize() for i in range(3)) == len(keys)
    for k in keys:
        assert rc.get(k) == str(state["last"][k])
    assert all(key_slot(k) >= 300 for k in cl.admin(0).keys("*"))

    # A move left half done (the tool killed mid-slot) shows in check and is finished by the next reshard.
    slot = next(s for s in (key_slot(k) for k in keys) if 300 <= s <= 5460)
    src, dst = cl.admin(0), cl.admin(2)
    in_slot = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
    assert in_slot
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", cl.ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", cl.ids[2]))
    assert src.execute_command("MIGRATE", "127.0.0.1", cl.nodes[2].port, in_slot[0], 0, 1000) == "OK"
    p = tool("check", seed, ok_codes=(1,))
    assert f"has slot {slot} in migrating state" in p.stdout and f"has slot {slot} in importing state" in p.stdout
    p = tool("reshard", seed, "--from", cl.ids[0], "--to", cl.ids[2], "--slots", 1)
    assert f"Resuming the move of slot {slot}" in p.stdout
    assert "[OK] All nodes agree" in tool("check", seed).stdout
    assert src.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(in_slot)
    rc.close()


def test_cachet_cluster_reports_problems(server_factory):
    cl = Cluster(server_factory, n=2)
    cl.push(*cl.spec(ranges=["0-100", "200-16383"]))
    p = tool("check", f"127.0.0.1:{cl.nodes[0].port}", ok_codes=(1,))
    assert "[ERR] Not all 16384 slots are covered by nodes (16285 are)." in p.stdout
    # One node with an older map: owners and epochs differ.
    assert ok(cl.admin(0).execute_command("CLUSTER", "SETTOPOLOGY", *cl.spec(ranges=["0-8191", "8192-16383"],
                                                                             epoch=2)))
    p = tool("check", f"127.0.0.1:{cl.nodes[0].port}", ok_codes=(1,))
    assert "Epochs differ" in p.stdout and "disagrees about the owner" in p.stdout
    p = tool("check", "127.0.0.1:1", ok_codes=(2,))
    assert "cannot connect" in p.stderr


def test_pipelined_requests_wait_for_the_migrate(server_factory):
    src_srv, dst_srv = server_factory(), server_factory()
    src_srv.client().set("k", "v")
    from conftest import cmd, resp_exchange
    s = src_srv.raw()
    got = resp_exchange(s, cmd("MIGRATE", "127.0.0.1", dst_srv.port, "k", 0, 1000) + cmd("EXISTS", "k") +
                        cmd("PING"), until=b"+PONG\r\n")
    assert got == b"+OK\r\n:0\r\n+PONG\r\n"


def test_cachet_cluster_over_tls(server_factory, tls_certs):
    args = ("--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file",
            tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"])
    cl = Cluster(server_factory, n=2, extra=args, tls=tls_certs)
    cl.push(*cl.spec(ranges=RANGES2))
    t = tls_client(cl.nodes[0], tls_certs)
    tag = next(g for g in (f"{{t{n}}}" for n in range(200000)) if key_slot(g) < 10)  # among the slots moved
    for i in range(50):
        t.set(f"{tag}{i}", i)
    seed = f"127.0.0.1:{cl.nodes[0].port}"
    assert "[OK] All nodes agree" in tool("check", seed, "--tls", "--cacert", tls_certs["ca_crt"]).stdout
    tool("check", seed, ok_codes=(2,))  # plaintext to a TLS-only node
    p = tool("reshard", seed, "--from", cl.ids[0], "--to", cl.ids[1], "--slots", 10, "--tls", "--cacert",
             tls_certs["ca_crt"])
    assert "[OK] 10 slots moved" in p.stdout and "(50 keys)" in p.stdout
    assert "[OK] All nodes agree" in tool("check", seed, "--tls", "--cacert", tls_certs["ca_crt"]).stdout
    assert t.dbsize() == 0 and tls_client(cl.nodes[1], tls_certs).dbsize() == 50


def test_replies_wait_for_a_client_pause_to_end(server_factory):
    """The target's +OK arrives during CLIENT PAUSE WRITE: the key is deleted
    (and the DEL propagated) only once the pause ends."""
    srv = server_factory()
    r, admin = srv.client(decode_responses=True), srv.client(decode_responses=True)
    r.set("k", "v")
    fake = Silent()
    try:
        result = {}
        t = threading.Thread(target=lambda: result.update(
            reply=err_text(lambda: r.execute_command("MIGRATE", "127.0.0.1", fake.port, "k", 0, 5000))))
        t.start()
        wait_until(lambda: fake.conns and fake.conns[0].recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT),
                   timeout=5, what="the request to reach the target")
        assert admin.execute_command("CLIENT", "PAUSE", 3000, "WRITE")
        fake.conns[0].sendall(b"+OK\r\n+OK\r\n")  # SELECT, RESTORE
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            assert admin.exists("k") == 1 and t.is_alive()
        assert admin.execute_command("CLIENT", "UNPAUSE")
        t.join(5)
        assert result["reply"] == ("ok", "OK") and admin.exists("k") == 0
    finally:
        fake.close()


@pytest.mark.skipif(not shutil.which("redis-cli"), reason="redis-cli not installed")
def test_redis_cli_reshard_and_check(server_factory):
    """redis-cli --cluster reshard drives a Cachet cluster (SETSLOT, GETKEYSINSLOT, MIGRATE with its pipeline)."""
    cl = Cluster(server_factory, n=3)
    cl.push(*cl.spec())
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cl.nodes[0].port)], decode_responses=True)
    try:
        for i in range(300):
            rc.set(f"key:{i}", i)
        p = subprocess.run([shutil.which("redis-cli"), "--cluster", "reshard", f"127.0.0.1:{cl.nodes[0].port}",
                            "--cluster-from", cl.ids[0], "--cluster-to", cl.ids[1], "--cluster-slots", "100",
                            "--cluster-yes"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Moving slot 99 from" in p.stdout
        p = subprocess.run([shutil.which("redis-cli"), "--cluster", "check", f"127.0.0.1:{cl.nodes[0].port}"],
                           capture_output=True, text=True, timeout=60)
        assert "[OK] All nodes agree about slots configuration." in p.stdout, p.stdout
        assert sum(cl.admin(i).dbsize() for i in range(3)) == 300
        assert all(key_slot(k) >= 100 for k in cl.admin(0).keys("*"))
        for i in range(300):
            assert rc.get(f"key:{i}") == str(i)
    finally:
        rc.close()


def test_cachet_cluster_reshard_push_map(server_factory):
    cl = Cluster(server_factory, n=3)
    cl.push(*cl.spec(roles=[("primary", "0-8191"), ("primary", "8192-16383"), ("replica", 0)], epoch=4))
    seed = f"127.0.0.1:{cl.nodes[0].port}"
    p = tool("reshard", seed, "--from", cl.ids[0], "--to", cl.ids[1], "--slots", 100, "--push-map")
    assert "[OK] Map of epoch 5 pushed to 3 nodes" in p.stdout
    for i in range(3):
        a = cl.admin(i)
        assert "cluster_current_epoch:5" in a.execute_command("CLUSTER", "INFO")
        slots = sorted((s[0], s[1], s[2][1]) for s in a.execute_command("CLUSTER", "SLOTS"))
        assert slots == [(0, 99, cl.nodes[1].port), (100, 8191, cl.nodes[0].port),
                         (8192, 16383, cl.nodes[1].port)]
    assert "[OK] All nodes agree" in tool("check", seed).stdout
    assert "replicates " + cl.ids[0] in tool("check", seed).stdout


def test_large_values_fill_the_socket(server_factory):
    src_srv, dst_srv = server_factory(), server_factory()
    src, dst = src_srv.client(), dst_srv.client()
    big = bytes(range(256)) * (32 * 1024)  # 8 MiB
    src.set("big", big)
    src.rpush("list", *[str(i) * 20 for i in range(20000)])
    other = src_srv.client()
    assert src.execute_command("MIGRATE", "127.0.0.1", dst_srv.port, "", 0, 10000, "KEYS", "big", "list") == b"OK"
    assert dst.get("big") == big and dst.llen("list") == 20000 and dst.lindex("list", 19999) == b"19999" * 20
    assert other.dbsize() == 0


def test_write_to_a_key_in_flight_is_asked_to_the_target_afterwards(server_factory):
    """The target is slow (its writes paused): a SET on the source to the key
    being moved waits, then answers -ASK (the key is gone from here), and
    the value it wanted to write was never applied to the stale copy."""
    cl = Cluster(server_factory, n=2)
    cl.push(*cl.spec(ranges=RANGES2))
    src, dst = cl.admin(0), cl.admin(1)
    tag = next(g for g in (f"{{w{n}}}" for n in range(200)) if key_slot(g) <= 8191)
    slot, key = key_slot(tag), f"{tag}k"
    src.set(key, "old")
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", cl.ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", cl.ids[1]))
    assert dst.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
    result = {}
    mover = threading.Thread(target=lambda: result.update(mig=src.execute_command(
        "MIGRATE", "127.0.0.1", cl.nodes[1].port, key, 0, 5000)))
    mover.start()
    wait_until(lambda: cl.admin(0).info("clients")["blocked_clients"] == 1, timeout=5, what="MIGRATE to wait")
    writer = cl.nodes[0].raw()
    writer.sendall(b"*3\r\n$3\r\nSET\r\n$" + str(len(key)).encode() + b"\r\n" + key.encode() + b"\r\n$3\r\nnew\r\n")
    wait_until(lambda: cl.admin(0).info("clients")["blocked_clients"] == 2, timeout=5, what="the SET to wait")
    assert cl.admin(0).get(key) == "old"  # reads are served meanwhile
    assert dst.execute_command("CLIENT", "UNPAUSE")
    mover.join(10)
    assert result["mig"] == "OK"
    writer.settimeout(5)
    assert writer.recv(100) == f"-ASK {slot} 127.0.0.1:{cl.nodes[1].port}\r\n".encode()
    assert src.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 1
    d = cl.nodes[1].client(decode_responses=True)
    d.execute_command("ASKING")
    assert d.get(key) == "old"  # the SET was not applied anywhere: the client follows the ASK
