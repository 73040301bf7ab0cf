"""Replication edge cases, most of them differential: the same assertions run
against cachet-server and Debian's redis-server 7.0 (parametrized
[cachet, redis]), so Cachet's behaviour is Redis' behaviour.

CONFIG REWRITE of the replicaof line; a loop of replicas (A follows B, B
follows A); REPLICAOF to the node's own address; a primary restarted without
a snapshot (its replica ends empty); `redis-cli --rdb`, `--functions-rdb`
and `--replica` against Cachet; the least-privilege replication user and the
NOPERM of a user without +psync; REPLCONF rdb-filter-only; and the
walk-through that moves a live Redis 7.0 primary into Cachet under a write
load (plaintext and TLS), by REPLICAOF NO ONE and by FAILOVER TO.

Every wait polls with a deadline; every server and redis-cli process is
stopped by PID in a fixture or a finally.
"""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import SERVER_BIN, Server, free_port, wait_until
from conftest import cmd as resp
from replutil import Load, compare, info, wait_in_sync
from test_failover import Load as AckLoad
from test_repl_topology import restart, shutdown

REDIS = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
pytestmark = pytest.mark.skipif(not REDIS or not REDIS_CLI, reason="Debian's redis-server and redis-cli are needed")

KINDS = ["cachet", "redis"]


def binary(kind):
    return SERVER_BIN if kind == "cachet" else REDIS


def start(server_factory, kind, *args, config=None):
    """A node of that kind, no snapshots, diskless syncs without delay."""
    return server_factory("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", *args,
                          config=config, binary=binary(kind))


def role(c):
    return c.execute_command("ROLE")


def err_text(fn, *args):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


def raw_call(port, payload, nlines, timeout=5):
    """Sends payload on a fresh socket; the first nlines reply lines."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        buf = b""
        while buf.count(b"\r\n") < nlines:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\r\n")[:nlines]
    finally:
        s.close()


# ---- CONFIG REWRITE ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_config_rewrite_writes_and_removes_replicaof(server_factory, kind):
    p = start(server_factory, kind)
    s = start(server_factory, kind, config="# my config\nslaveof 127.0.0.1 1\n")
    path = os.path.join(s.dir, "cachet.conf")
    c = s.client(decode_responses=True)
    assert c.execute_command("REPLICAOF", "NO", "ONE") == "OK"
    assert c.config_rewrite() in (True, "OK")
    text = open(path).read()
    assert "slaveof" not in text and "replicaof" not in text  # a primary: the old line goes away
    assert text.startswith("# my config\n")

    assert c.execute_command("REPLICAOF", "127.0.0.1", p.port) == "OK"
    assert c.config_rewrite() in (True, "OK")
    lines = open(path).read().split("\n")
    assert lines.count(f"replicaof 127.0.0.1 {p.port}") == 1, lines
    # Stable, and another target replaces the line in place.
    assert c.execute_command("REPLICAOF", "localhost", p.port) == "OK"
    assert c.config_rewrite() in (True, "OK")
    lines2 = open(path).read().split("\n")
    assert lines2.count(f"replicaof localhost {p.port}") == 1, lines2
    assert not [ln for ln in lines2 if ln.startswith("replicaof 127.0.0.1")], lines2

    # The rewritten file starts a replica of the same primary.
    pc = p.client()
    pc.set("from-primary", "1")
    s.stop()
    # (--port and --dir on the command line override the file's lines)
    s2 = Server(s.dir + "-again", ["--save", ""], config=open(path).read(), binary=binary(kind))
    try:
        c2 = s2.client()
        wait_until(lambda: info(c2).get("master_link_status") == "up", timeout=30, what="the restarted replica")
        assert c2.get("from-primary") == b"1"
        assert role(c2)[:3] == [b"slave", b"localhost", p.port]
    finally:
        s2.stop()


# ---- topologies that go wrong ---------------------------------------------------


def steady(cond, seconds, what):
    """cond() holds at every poll for `seconds` (a property over time; the
    polls end at the deadline, nothing waits longer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert cond(), what
        time.sleep(0.05)


@pytest.mark.parametrize("kind", KINDS)
def test_loop_of_replicas(server_factory, kind):
    """A follows B, then B follows A: both are replicas of each other, their
    links up, the data B had on both (A's own was replaced by its full
    sync, as always), writes refused on both, and nothing circulates: a
    replica never originates stream bytes (no PING), so the offsets stay
    put. REPLICAOF NO ONE on one node ends the loop with a partial resync."""
    a = start(server_factory, kind, "--repl-ping-replica-period", "1")
    b = start(server_factory, kind, "--repl-ping-replica-period", "1")
    ac, bc = a.client(), b.client()
    bc.mset({"x": "1", "y": "2"})
    bc.rpush("l", "a", "b")
    ac.set("only-a", "1")
    assert ac.execute_command("REPLICAOF", "127.0.0.1", b.port) == b"OK"
    wait_in_sync(bc, ac)
    assert bc.execute_command("REPLICAOF", "127.0.0.1", a.port) == b"OK"

    def looped():
        ra, rb = role(ac), role(bc)
        return ra[0] == rb[0] == b"slave" and ra[3] == rb[3] == b"connected"
    wait_until(looped, timeout=30, what="both links up")
    data = {"x": b"1", "y": b"2"}
    for c in (ac, bc):
        assert sorted(c.keys()) == [b"l", b"x", b"y"]
        assert c.mget(list(data)) == list(data.values()) and c.lrange("l", 0, -1) == [b"a", b"b"]
        assert err_text(c.set, "w", "1") == "You can't write against a read only replica."
    offsets = (info(ac)["master_repl_offset"], info(bc)["master_repl_offset"])
    steady(lambda: (info(ac)["master_repl_offset"], info(bc)["master_repl_offset"]) == offsets
           and a.alive() and b.alive(), 3, "offsets moved in a loop (bytes circulating)")
    assert info(ac)["master_link_status"] == info(bc)["master_link_status"] == "up"

    assert ac.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    ac.set("after", "1")
    wait_in_sync(ac, bc)
    compare(a, b)
    assert bc.get("after") == b"1" and role(bc)[0] == b"slave" and role(ac)[0] == b"master"
    assert int(ac.info("stats")["sync_full"]) == 0  # B continued partially from A's shifted history


@pytest.mark.parametrize("kind", KINDS)
def test_replicaof_itself(server_factory, kind):
    """Accepted (+OK) by Redis 7.0 as by Cachet; the link never comes up,
    the data stays, writes are refused as on any replica, and REPLICAOF NO
    ONE ends it. (test_repl_replica.py checks Cachet's retries and log.)"""
    s = start(server_factory, kind)
    c = s.client()
    c.mset({"a": "1", "b": "2"})
    assert c.execute_command("REPLICAOF", "127.0.0.1", s.port) == b"OK"
    assert role(c)[:3] == [b"slave", b"127.0.0.1", s.port]
    steady(lambda: info(c)["master_link_status"] == "down" and c.mget("a", "b") == [b"1", b"2"], 2,
           "a replica of itself lost its data or brought its link up")
    assert err_text(c.set, "w", "1") == "You can't write against a read only replica."
    assert c.execute_command("REPLICAOF", "127.0.0.1", s.port) == b"OK Already connected to specified master"
    assert c.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert c.mget("a", "b") == [b"1", b"2"] and role(c)[0] == b"master"
    assert int(c.info("stats")["sync_full"]) == 0 and s.alive()


@pytest.mark.parametrize("kind", KINDS)
def test_primary_restart_without_snapshot(server_factory, kind):
    """A primary stopped without saving comes back empty with a new
    replication id: its replica cannot continue, syncs fully and ends as
    empty as the primary (then follows the new writes)."""
    p = start(server_factory, kind)
    pc = p.client()
    with Load(p.port, seed=81):
        r = start(server_factory, kind, "--replicaof", "127.0.0.1", str(p.port))
        rc = r.client()
        wait_until(lambda: info(rc).get("master_link_status") == "up", timeout=30, what="the link up")
    wait_in_sync(pc, rc)
    assert rc.dbsize() > 0
    old_id = info(pc)["master_replid"]
    shutdown(p, "NOSAVE")
    wait_until(lambda: info(rc).get("master_link_status") == "down", timeout=30, what="the link down")
    restart(p)
    pc = p.client()
    assert pc.dbsize() == 0 and info(pc)["master_replid"] != old_id
    wait_in_sync(pc, rc)
    assert rc.dbsize() == 0 and info(rc)["master_replid"] == info(pc)["master_replid"]
    assert int(pc.info("stats")["sync_full"]) == 1 and int(pc.info("stats")["sync_partial_ok"]) == 0
    pc.set("new", "1")
    wait_in_sync(pc, rc)
    compare(p, r)


# ---- redis-cli as a replica -------------------------------------------------------

LIB = "#!lua name=edgelib\nredis.register_function('edge_f', function() return 1 end)"


def fill(c):
    """A little of every type, a TTL, db 1, a function library."""
    c.set("s", "v")
    c.set("ttl", "v", px=600000)
    c.rpush("l", 1, 2, 3)
    c.hset("h", mapping={"f": "1", "g": "2"})
    c.sadd("set", "a", "b")
    c.zadd("z", {"m": 1.5})
    c.xadd("x", {"a": "1"})
    c.execute_command("SELECT", 1)  # one connection: redis-py's pool reuses it
    c.set("in-db1", "1")
    c.execute_command("SELECT", 0)
    c.execute_command("FUNCTION", "LOAD", LIB)


def cli(*args, timeout=60):
    return subprocess.run([REDIS_CLI, *[str(a) for a in args]], capture_output=True, timeout=timeout)


def load_file(server_factory, kind, path):
    """A fresh node of that kind started from the RDB file at path."""
    d = os.path.dirname(path)
    return server_factory("--save", "", "--dir", d, "--dbfilename", os.path.basename(path), binary=binary(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_redis_cli_rdb_loads_everywhere(server_factory, tmp_path, kind):
    """redis-cli --rdb against Cachet: the file is a whole snapshot that
    both Cachet and Redis load, dataset and functions equal."""
    s = server_factory("--save", "", "--repl-diskless-sync-delay", "0")
    c = s.client()
    c.execute_command("HELLO", 2)
    fill(c)
    out = tmp_path / "cli" / "dump.rdb"
    out.parent.mkdir()
    res = cli("-p", s.port, "--rdb", out)
    assert res.returncode == 0, res.stderr
    assert b"Transfer finished with success" in res.stderr
    t = load_file(server_factory, kind, str(out))
    compare(s, t)
    assert t.client().execute_command("FUNCTION", "LIST")[0][1] == b"edgelib"


@pytest.mark.parametrize("kind", KINDS)
def test_redis_cli_functions_rdb(server_factory, tmp_path, kind):
    """redis-cli --functions-rdb sends REPLCONF rdb-filter-only functions:
    the snapshot holds the libraries and no key (same size from both)."""
    s = start(server_factory, kind)
    fill(s.client())
    out = tmp_path / "cli" / "functions.rdb"
    out.parent.mkdir()
    res = cli("-p", s.port, "--functions-rdb", out)
    assert res.returncode == 0, res.stderr
    t = load_file(server_factory, "cachet", str(out))
    tc = t.client()
    assert tc.dbsize() == 0 and tc.execute_command("SELECT", 1) and tc.dbsize() == 0
    assert tc.execute_command("FUNCTION", "LIST")[0][1] == b"edgelib"
    # A full sync of a real replica afterwards still carries the keys.
    r = server_factory("--replicaof", "127.0.0.1", str(s.port))
    rc = r.client()
    wait_in_sync(s.client(), rc)
    assert rc.get("s") == b"v"


def test_replconf_rdb_filter_only_replies_as_redis(server_factory):
    nodes = {k: start(server_factory, k) for k in KINDS}
    forms = [b"functions", b"", b"FUNCTIONS", b"foo", b"functions foo", b'"unbalanced', b"functions\x00junk"]
    got = {}
    for k, s in nodes.items():
        got[k] = [raw_call(s.port, resp("REPLCONF", "rdb-filter-only", f), 1) for f in forms]
        got[k].append(raw_call(s.port, resp("REPLCONF", "rdb-filter-only"), 1))
        got[k] += [raw_call(s.port, resp("REPLCONF", "rdb-only", v), 1) for v in ("1", "0", "2", "x")]
    assert got["cachet"] == got["redis"], got
    assert got["cachet"][0] == [b"+OK"]


def test_redis_cli_replica_shows_the_stream(server_factory):
    """redis-cli --replica against Cachet: it asks REPLCONF rdb-filter-only ""
    (an empty snapshot), then prints every write of the stream, in the db
    it happened in."""
    s = server_factory("--save", "", "--repl-diskless-sync-delay", "0")
    c = s.client()
    c.set("before", "1")
    proc = subprocess.Popen([REDIS_CLI, "-p", str(s.port), "--replica"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any(b"Logging commands from master" in ln for ln in lines), timeout=30,
                   what="the snapshot read")
        wait_until(lambda: info(c).get("connected_slaves") == 1, timeout=30, what="redis-cli online")
        c.set("during", "x1")
        c.rpush("list", "a")
        c.execute_command("SELECT", 2)
        c.incrbyfloat("f", 1.5)
        c.execute_command("SELECT", 0)
        wait_until(lambda: any(b'"SET","f","1.5","KEEPTTL"' in ln for ln in lines), timeout=30,
                   what="the writes in redis-cli's output")
        text = b"".join(lines)
        assert b'"set","during","x1"' in text.lower() and b'"rpush","list","a"' in text.lower()
        assert text.index(b'"SELECT","2"') < text.index(b'"SET","f","1.5","KEEPTTL"')
        assert b'"before"' not in text  # in the snapshot, not the stream
    finally:
        proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)
        proc.stdout.close()


# ---- the replication user ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_least_privilege_replication_user(server_factory, kind):
    """ACL user with +psync +replconf +ping only: a Cachet replica follows a
    primary of either kind with it; a user without +psync gets NOPERM, byte
    for byte Redis 7.0's, and the primary logs the denial in ACL LOG."""
    p = start(server_factory, kind)
    pc = p.client()
    pc.execute_command("ACL", "SETUSER", "repl", "on", ">pw", "+psync", "+replconf", "+ping")
    pc.execute_command("ACL", "SETUSER", "nopsync", "on", ">pw", "+replconf", "+ping")
    pc.execute_command("CONFIG", "SET", "requirepass", "adminpw")
    pc.execute_command("AUTH", "adminpw")
    pc.set("x", "1")
    r = server_factory("--replicaof", "127.0.0.1", str(p.port), "--masteruser", "repl", "--masterauth", "pw")
    rc = r.client()
    wait_in_sync(pc, rc)
    assert rc.get("x") == b"1"
    pc.set("y", "2")
    wait_in_sync(pc, rc)
    assert rc.get("y") == b"2"

    lines = raw_call(p.port, resp("AUTH", "nopsync", "pw") + resp("REPLCONF", "capa", "eof") +
                     resp("PSYNC", "?", "-1") + resp("SYNC"), 4)
    assert lines == [b"+OK", b"+OK", b"-NOPERM this user has no permissions to run the 'psync' command",
                     b"-NOPERM this user has no permissions to run the 'sync' command"]
    log = [dict(zip(e[::2], e[1::2])) for e in pc.execute_command("ACL", "LOG")]
    assert any(e[b"object"] == b"psync" and e[b"username"] == b"nopsync" for e in log), log
    # And a replica configured with that user never gets a link up.
    bad = server_factory("--replicaof", "127.0.0.1", str(p.port), "--masteruser", "nopsync", "--masterauth", "pw")
    badc = bad.client()
    steady(lambda: info(badc)["master_link_status"] == "down" and badc.dbsize() == 0, 2,
           "a replica whose user lacks +psync synced")
    assert info(pc)["connected_slaves"] == 1


# ---- moving a live Redis into Cachet ------------------------------------------------


def redis_tls_args(certs):
    """redis-server 7.0 with a TLS port beside the plaintext one (the test
    clients use the plaintext port), TLS for the links it opens."""
    return ["--tls-port", str(free_port()), "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"], "--tls-replication", "yes"]


def tls_port_of(c):
    return int(c.config_get("tls-port")["tls-port"])


@pytest.mark.parametrize("how", ["promote", "failover"])
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_move_live_redis_into_cachet(server_factory, tls_certs, tls, how):
    """docs/replication.md's walk-through: Cachet follows a Redis 7.0
    primary under a random write load of every type (full sync, then the
    stream), then takes over without downtime, either
      promote:  CLIENT PAUSE WRITE on Redis, Cachet caught up, REPLICAOF NO
                ONE on Cachet, Redis REPLICAOF Cachet, CLIENT UNPAUSE (the
                writes that waited get -READONLY and retry on Cachet), or
      failover: FAILOVER TO <cachet> on Redis (Redis pauses, waits, and
                hands over with PSYNC ... FAILOVER).
    Writer clients find the primary with ROLE and retry; every write WAIT
    confirmed is on Cachet afterwards, the old Redis follows Cachet with a
    partial resync, and the datasets compare equal key by key."""
    certs = tls_certs
    red = server_factory("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
                         *(redis_tls_args(certs) if tls else []), binary=REDIS)
    redc = red.client(decode_responses=True)
    cachet_tls = ["--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
                  certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"], "--tls-replication", "yes",
                  "--tls-client-cert-file", certs["client_crt"], "--tls-client-key-file", certs["client_key"]]
    cach = server_factory("--save", "", "--repl-diskless-sync-delay", "0", *(cachet_tls if tls else []))
    cc = cach.client(decode_responses=True)
    src_port = tls_port_of(redc) if tls else red.port

    with Load(red.port, seed=91 + tls):
        wait_until(lambda: redc.dbsize() > 100, timeout=30, what="data on the Redis primary")
        assert cc.execute_command("REPLICAOF", "127.0.0.1", src_port) == "OK"
        wait_until(lambda: info(cc).get("master_link_status") == "up", timeout=60, what="Cachet synced")
        ops = redc.info("stats")["total_commands_processed"]
        wait_until(lambda: redc.info("stats")["total_commands_processed"] > ops + 500, timeout=30,
                   what="writes streamed after the full sync")
    wait_in_sync(redc, cc)
    compare(red, cach)

    with AckLoad([red.port, cach.port]) as load:
        wait_until(lambda: load.count() >= 50 or load.errors, timeout=30, what="confirmed writes on Redis")
        before = load.count()
        if how == "failover":
            assert redc.execute_command("FAILOVER", "TO", "127.0.0.1", cach.port) == "OK"
        else:
            assert redc.execute_command("CLIENT", "PAUSE", 30000, "WRITE") == "OK"
            try:
                wait_in_sync(redc, cc)
                assert cc.execute_command("REPLICAOF", "NO", "ONE") == "OK"
                assert redc.execute_command("REPLICAOF", "127.0.0.1", cach.port) == "OK"
            finally:
                redc.execute_command("CLIENT", "UNPAUSE")

        def switched():
            r = redc.execute_command("ROLE")
            return role(cc)[0] == "master" and r[0] == "slave" and int(r[2]) == cach.port and r[3] == "connected"
        wait_until(switched, timeout=30, interval=0.02, what="Redis following Cachet")
        wait_until(lambda: load.count() >= before + 50 or load.errors, timeout=30,
                   what="confirmed writes on Cachet")
    assert not load.errors, load.errors
    got = cc.mget(list(load.confirmed))
    missing = [k for k, g in zip(load.confirmed, got) if g != load.confirmed[k]]
    assert not missing, f"{len(missing)} confirmed writes lost, e.g. {missing[:5]}"
    wait_in_sync(cc, redc)
    compare(cach, red)
    stats = cc.info("stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (0, 1), cach.log() + red.log()
    if tls:
        links = [c for c in cc.client_list() if "S" in c["flags"]]
        assert links and all(c.get("tls") == "yes" for c in links), links


@pytest.mark.parametrize("kind", KINDS)
def test_promoted_replica_keeps_its_backlog_for_the_old_primary(server_factory, kind):
    """A replica that never had replicas of its own, promoted with REPLICAOF
    NO ONE, keeps its backlog for repl-backlog-ttl from the promotion (not
    from its start): the old primary, re-pointed a while later, continues
    with a partial resync."""
    p = start(server_factory, kind)
    pc = p.client()
    pc.mset({"a": "1", "b": "2"})
    r = start(server_factory, kind, "--replicaof", "127.0.0.1", str(p.port), "--repl-backlog-ttl", "3")
    rc = r.client()
    wait_in_sync(pc, rc)
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    steady(lambda: info(rc)["repl_backlog_active"] == 1, 1.5, "the promoted replica freed its backlog")
    assert pc.execute_command("REPLICAOF", "127.0.0.1", r.port) == b"OK"
    rc.set("c", "3")
    wait_in_sync(rc, pc)
    compare(r, p)
    stats = rc.info("stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (0, 1)


def test_info_memory_counts_replicas_and_backlog(server_factory):
    """mem_clients_slaves (the replicas' clients and the stream kept for a
    replica that syncs), mem_replication_backlog and their sum in
    mem_total_replication_buffers, as the fields Redis 7.0 has; a replica
    that stops reading shows its buffered stream there."""
    p = server_factory("--save", "", "--repl-diskless-sync-delay", "0", "--repl-backlog-size", "1mb")
    pc = p.client()
    m = pc.info("memory")
    assert (m["mem_clients_slaves"], m["mem_replication_backlog"]) == (0, 0)
    r = server_factory("--replicaof", "127.0.0.1", str(p.port))
    rc = r.client()
    wait_in_sync(pc, rc)
    m = pc.info("memory")
    assert m["mem_replication_backlog"] >= 1 << 20
    assert m["mem_clients_slaves"] > 0 and m["mem_clients_normal"] > 0
    assert m["mem_total_replication_buffers"] == m["mem_replication_backlog"] + m["mem_clients_slaves"]
    stats = dict(zip(*[iter(pc.execute_command("MEMORY", "STATS"))] * 2))
    assert stats[b"clients.slaves"] > 0 and stats[b"replication.backlog"] >= 1 << 20
    base = m["mem_clients_slaves"]
    os.kill(r.pid, signal.SIGSTOP)
    try:
        value = "v" * 10000
        for i in range(2000):  # 20 MB of stream: more than the socket buffers hold
            pc.set(f"big{i % 10}", value)
        wait_until(lambda: pc.info("memory")["mem_clients_slaves"] > base + (1 << 20), timeout=10,
                   what="the stream kept for the stopped replica")
    finally:
        os.kill(r.pid, signal.SIGCONT)
    wait_in_sync(pc, rc)


@pytest.mark.parametrize("kind", KINDS)
def test_no_lru_touch_while_a_child_shares_the_pages(server_factory, kind):
    """While a forked child (a BGSAVE here, a replica's snapshot alike)
    shares the primary's pages, reads and TOUCH leave a key's idle time
    alone, as Redis 7.0 does: refreshing it would copy the key's page."""
    s = start(server_factory, kind, "--rdb-key-save-delay", "200000")  # 0.2 s per key
    c = s.client()
    c.mset({"a": "1", "b": "2", "c": "3"})
    wait_until(lambda: c.object("idletime", "a") >= 2, timeout=10, what="an idle key")
    c.bgsave()
    wait_until(lambda: c.info("persistence")["rdb_bgsave_in_progress"] == 1, timeout=10, what="the child")
    assert c.get("a") == b"1" and c.touch("a") == 1
    assert c.object("idletime", "a") >= 2
    wait_until(lambda: c.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=30, what="the child's end")
    c.get("a")
    assert c.object("idletime", "a") == 0
