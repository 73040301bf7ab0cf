"""FAILOVER [TO host port] [FORCE] [TIMEOUT ms] / FAILOVER ABORT: a Cachet
primary hands its role to a Cachet replica (plaintext and TLS replication
links) or to Debian's redis-server 7.0 as its replica, under a write load
whose clients rediscover the primary with ROLE; every write WAIT confirmed
is on the new primary afterwards, and the old primary follows it with a
partial resync. Then the waiting-for-sync paths (a replica made to lag with
SIGSTOP, resumed in a finally): ABORT, TIMEOUT without and with FORCE, and
every error reply, byte for byte Redis 7.0's.

Every wait polls with a deadline; every server is stopped by PID.
"""
import os
import shutil
import signal
import socket
import threading

import pytest
import redis

from conftest import wait_until
from conftest import cmd as resp

REDIS = shutil.which("redis-server")


# ---- helpers ------------------------------------------------------------------


def tls_args(c):
    """TLS on the client port (plaintext still served: the test clients
    use it) and for the replication links this node opens."""
    return ["--tls-mode", "preferred", "--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"],
            "--tls-ca-cert-file", c["ca_crt"], "--tls-replication", "yes", "--tls-client-cert-file",
            c["client_crt"], "--tls-client-key-file", c["client_key"]]


def node(start, *args, certs=None):
    extra = tls_args(certs) if certs else []
    s = start("--repl-diskless-sync-delay", "0", "--save", "", *extra, *args)
    return s, s.client(decode_responses=True)


def replica_of(start, primary, *args, certs=None):
    s, c = node(start, "--replicaof", "127.0.0.1", str(primary.port), *args, certs=certs)
    return s, c


def repl(c):
    return c.info("replication")


def role(c):
    return c.execute_command("ROLE")[0]


def wait_in_sync(p, r, timeout=30):
    def same():
        pi, ri = repl(p), repl(r)
        return ri.get("master_link_status") == "up" and ri["slave_repl_offset"] == pi["master_repl_offset"]
    wait_until(same, timeout=timeout, interval=0.02, what="the replica to catch up")


def stat(c, field):
    return int(c.info("stats")[field])


def err(c, *args):
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command(*args)
    return str(e.value)


class Stopped:
    """SIGSTOP a server (it lags: its ACKs stop) and SIGCONT it on exit,
    whatever happens."""

    def __init__(self, s):
        self.s = s

    def __enter__(self):
        os.kill(self.s.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.s.pid, signal.SIGCONT)


class Load:
    """Writer threads: SET a unique key, then WAIT 1; a write WAIT confirmed
    is recorded. On -READONLY or a lost connection the writer finds the
    primary again with ROLE on every node and retries."""

    def __init__(self, ports, writers=3):
        self.ports = ports
        self.stop = threading.Event()
        self.confirmed = {}
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(writers)]

    def primary(self):
        while not self.stop.is_set():
            for port in self.ports:
                try:
                    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)
                    if c.execute_command("ROLE")[0] == "master":
                        return c
                    c.close()
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
            self.stop.wait(0.01)
        return None

    def run(self, i):
        c = self.primary()
        n = 0
        while c and not self.stop.is_set():
            key, val = f"k:{i}:{n}", f"v{n}"
            try:
                c.set(key, val)
                acked = c.execute_command("WAIT", 1, 5000)
                n += 1
                if acked >= 1:
                    with self.lock:
                        self.confirmed[key] = val
            except redis.ResponseError as e:
                # -READONLY (redis-py's ReadOnlyError), or a WAIT that ran
                # once the node had become a replica, or one a Redis node
                # unblocked when it became a replica (-UNBLOCKED): not
                # confirmed, retry.
                if not isinstance(e, redis.ReadOnlyError) and not str(e).startswith(("WAIT cannot be used",
                                                                                     "UNBLOCKED")):
                    self.errors.append(str(e))
                    return
                c.close()
                c = self.primary()
            except (redis.ConnectionError, redis.TimeoutError):
                c.close()
                c = self.primary()
        if c:
            c.close()

    def count(self):
        with self.lock:
            return len(self.confirmed)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def check_switched(old, new, new_port):
    """ROLE flipped on both; the old primary follows the new one, link up,
    and the failover state is cleared on both."""
    def done():
        r = old.execute_command("ROLE")
        return r[0] == "slave" and int(r[2]) == new_port and r[3] == "connected" and role(new) == "master"
    wait_until(done, timeout=30, interval=0.02, what="the old primary to follow the new one")
    assert repl(old)["master_failover_state"] == "no-failover"
    assert repl(new)["master_failover_state"] == "no-failover"


# ---- the switch ---------------------------------------------------------------


@pytest.mark.parametrize("tls", [False, True])
def test_failover_to_replica_under_load(server_factory, tls_certs, tls):
    certs = tls_certs if tls else None
    a, ac = node(server_factory, certs=certs)
    b, bc = replica_of(server_factory, a, certs=certs)
    wait_in_sync(ac, bc)
    with Load([a.port, b.port]) as load:
        wait_until(lambda: load.count() >= 50, timeout=30, what="confirmed writes before the failover")
        before = load.count()
        assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", b.port) == "OK"
        check_switched(ac, bc, b.port)
        # The writers found the new primary and go on there.
        wait_until(lambda: load.count() >= before + 50 or load.errors, timeout=30,
                   what="confirmed writes after the failover")
    assert not load.errors, load.errors
    got = bc.mget(list(load.confirmed))
    missing = [k for k, v, g in zip(load.confirmed, load.confirmed.values(), got) if g != v]
    assert not missing, f"{len(missing)} confirmed writes lost, e.g. {missing[:5]}"
    # The old primary continued from the new one's second id: no full sync.
    assert stat(bc, "sync_partial_ok") == 1
    assert stat(bc, "sync_full") == 0
    bi = repl(bc)
    assert bi["connected_slaves"] == 1 and bi["master_replid2"] == repl(ac)["master_replid2"]
    wait_in_sync(bc, ac)
    with pytest.raises(redis.ReadOnlyError):
        ac.set("x", "1")
    if tls:
        links = [c for c in bc.client_list() if "S" in c["flags"]]
        assert links and all(c.get("tls") == "yes" for c in links), links


def test_failover_without_to_picks_the_caught_up_replica(server_factory):
    a, ac = node(server_factory)
    b, bc = replica_of(server_factory, a)
    c, cc = replica_of(server_factory, a)
    wait_in_sync(ac, bc)
    wait_in_sync(ac, cc)
    with Stopped(c):
        ac.set("before", "1")
        assert ac.execute_command("FAILOVER") == "OK"
        check_switched(ac, bc, b.port)
    assert bc.get("before") == "1"
    assert "Failover target 127.0.0.1:%d is synced, failing over." % b.port in a.log()


def test_failover_abort_while_waiting_restores_writes(server_factory):
    a, ac = node(server_factory)
    b, bc = replica_of(server_factory, a)
    wait_in_sync(ac, bc)
    writer = a.client(decode_responses=True)
    result = {}
    with Stopped(b):
        ac.set("k", "1")
        assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", b.port) == "OK"
        assert repl(ac)["master_failover_state"] == "waiting-for-sync"
        assert err(ac, "FAILOVER") == "FAILOVER already in progress."
        assert err(ac, "REPLICAOF", "127.0.0.1", b.port) == "REPLICAOF not allowed while failing over."
        # A write waits (reads do not) ...
        t = threading.Thread(target=lambda: result.setdefault("set", writer.set("k", "2")), daemon=True)
        t.start()
        wait_until(lambda: ac.info("clients")["blocked_clients"] >= 1, timeout=10, what="the write to wait")
        assert ac.get("k") == "1"
        # ... until the failover is aborted.
        assert ac.execute_command("FAILOVER", "ABORT") == "OK"
        t.join(timeout=10)
        assert result.get("set") is True
        assert ac.get("k") == "2"
        assert role(ac) == "master"
        assert repl(ac)["master_failover_state"] == "no-failover"
        assert err(ac, "FAILOVER", "ABORT") == "No failover in progress."
    assert "FAILOVER to 127.0.0.1:%d aborted: Failover manually aborted" % b.port in a.log()
    wait_in_sync(ac, bc)
    assert bc.get("k") == "2"


def test_failover_timeout_without_force_aborts(server_factory):
    a, ac = node(server_factory)
    b, bc = replica_of(server_factory, a)
    wait_in_sync(ac, bc)
    with Stopped(b):
        ac.set("k", "1")
        assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", b.port, "TIMEOUT", 200) == "OK"
        wait_until(lambda: repl(ac)["master_failover_state"] == "no-failover", timeout=10,
                   what="the failover to time out")
        assert role(ac) == "master"
        assert ac.set("k", "2") is True
    assert "aborted: Replica never caught up before timeout" in a.log()
    wait_in_sync(ac, bc)


def test_failover_timeout_with_force_fails_over(server_factory):
    a, ac = node(server_factory)
    b, bc = replica_of(server_factory, a)
    wait_in_sync(ac, bc)
    with Stopped(b):
        ac.set("k", "1")
        assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", b.port, "FORCE", "TIMEOUT", 200) == "OK"
        wait_until(lambda: repl(ac)["master_failover_state"] == "failover-in-progress", timeout=10,
                   what="the forced failover to start")
        assert role(ac) == "slave"
    check_switched(ac, bc, b.port)
    assert "time out exceeded, failing over." in a.log()
    # The replica read its link before the PSYNC: it had caught up.
    assert bc.get("k") == "1"


def test_target_refusing_psync_aborts(server_factory):
    """A fake replica (a socket here) that ACKs the primary's offset, then
    answers the PSYNC FAILOVER with an error: the primary is one again."""
    a, ac = node(server_factory)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    fake_port = lsock.getsockname()[1]
    rep = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    try:
        for req in (resp("REPLCONF", "listening-port", fake_port), resp("REPLCONF", "capa", "psync2")):
            rep.sendall(req)
            assert rep.recv(64) == b"+OK\r\n"
        rep.sendall(resp("PSYNC", "?", "-1"))
        wait_until(lambda: ac.execute_command("ROLE")[2], timeout=30, what="the fake replica to be online")
        ac.set("k", "1")
        assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", fake_port) == "OK"
        rep.sendall(resp("REPLCONF", "ACK", repl(ac)["master_repl_offset"]))
        lsock.settimeout(10)
        conn, _ = lsock.accept()
        with conn:
            conn.settimeout(10)
            buf, pong, oks = b"", False, False
            while b"FAILOVER" not in buf:
                chunk = conn.recv(4096)
                assert chunk, buf
                buf += chunk
                if b"PING" in buf and not pong:
                    conn.sendall(b"+PONG\r\n")
                    pong = True
                if buf.count(b"REPLCONF") >= 2 and not oks:
                    conn.sendall(b"+OK\r\n+OK\r\n")
                    oks = True
            want = b"PSYNC\r\n$40\r\n%s\r\n" % repl(ac)["master_replid"].encode()
            assert want in buf and buf.endswith(b"$8\r\nFAILOVER\r\n"), buf
            conn.sendall(b"-ERR no thanks\r\n")
            wait_until(lambda: role(ac) == "master" and repl(ac)["master_failover_state"] == "no-failover",
                       timeout=10, what="the primary to be one again")
        assert ac.set("k", "2") is True
        assert "aborted: Failover target rejected psync request" in a.log()
    finally:
        rep.close()
        lsock.close()


# ---- errors -------------------------------------------------------------------


def test_failover_errors(server_factory):
    a, ac = node(server_factory)
    not_int = "value is not an integer or out of range"
    syntax = "syntax error"
    assert err(ac, "FAILOVER", "TIMEOUT", 0) == "FAILOVER timeout must be greater than 0"
    assert err(ac, "FAILOVER", "TIMEOUT", -5) == "FAILOVER timeout must be greater than 0"
    assert err(ac, "FAILOVER", "TIMEOUT", "x") == not_int
    assert err(ac, "FAILOVER", "TO", "127.0.0.1", "port") == not_int
    for bad in (["FOO"], ["TO", "127.0.0.1"], ["TIMEOUT"], ["FORCE", "FORCE"], ["TIMEOUT", 5, "TIMEOUT", 5],
                ["TO", "h", 1, "TO", "h", 1], ["ABORT", "X"]):
        assert err(ac, "FAILOVER", *bad) == syntax, bad
    assert err(ac, "FAILOVER", "ABORT") == "No failover in progress."
    assert err(ac, "FAILOVER") == "FAILOVER requires connected replicas."
    b, bc = replica_of(server_factory, a)
    wait_in_sync(ac, bc)
    assert err(bc, "FAILOVER") == "FAILOVER is not valid when server is a replica."
    force = "FAILOVER with force option requires both a timeout and target HOST and IP."
    assert err(ac, "FAILOVER", "FORCE") == force
    assert err(ac, "FAILOVER", "FORCE", "TIMEOUT", 10) == force
    assert err(ac, "FAILOVER", "TO", "127.0.0.1", b.port, "FORCE") == force
    assert err(ac, "FAILOVER", "TO", "127.0.0.1", 1) == "FAILOVER target HOST and PORT is not a replica."
    assert err(ac, "FAILOVER", "TO", "10.9.9.9", b.port) == "FAILOVER target HOST and PORT is not a replica."
    # PSYNC FAILOVER with another history: refused, the replica stays one.
    with socket.create_connection(("127.0.0.1", b.port), timeout=10) as s:
        s.sendall(resp("PSYNC", "a" * 40, 1, "FAILOVER"))
        assert s.recv(4096) == b"-ERR PSYNC FAILOVER replid must match my replid.\r\n"
    assert role(bc) == "slave"
    # A replica still waiting for its full sync is not online.
    ac.config_set("repl-diskless-sync-delay", 60)
    with socket.create_connection(("127.0.0.1", a.port), timeout=10) as s:
        s.sendall(resp("REPLCONF", "listening-port", 4242))
        assert s.recv(64) == b"+OK\r\n"
        s.sendall(resp("PSYNC", "?", "-1"))
        wait_until(lambda: repl(ac)["connected_slaves"] == 2, timeout=10, what="the second replica")
        assert err(ac, "FAILOVER", "TO", "127.0.0.1", 4242) == "FAILOVER target replica is not online."
    # Nothing of the above changed anything.
    assert repl(ac)["master_failover_state"] == "no-failover" and role(ac) == "master"
    assert ac.set("still", "writable") is True


# ---- Redis 7.0 as the target --------------------------------------------------


@pytest.mark.skipif(not REDIS, reason="redis-server not installed")
def test_failover_to_a_redis_replica(server_factory):
    a, ac = node(server_factory)
    r = server_factory("--replicaof", "127.0.0.1", str(a.port), "--save", "", "--appendonly", "no",
                       binary=REDIS)
    rc = r.client(decode_responses=True)
    ac.mset({f"k{i}": i for i in range(100)})
    wait_in_sync(ac, rc)
    assert ac.execute_command("FAILOVER", "TO", "127.0.0.1", r.port) == "OK"
    check_switched(ac, rc, r.port)
    assert stat(rc, "sync_partial_ok") == 1
    rc.set("after", "yes")
    wait_in_sync(rc, ac)
    assert ac.get("after") == "yes" and ac.get("k99") == "99"


def test_failover_info_field_and_command_docs(server_factory):
    a, ac = node(server_factory)
    assert repl(ac)["master_failover_state"] == "no-failover"
    with socket.create_connection(("127.0.0.1", a.port), timeout=10) as s:
        s.sendall(resp("COMMAND", "INFO", "failover"))
        assert s.recv(4096).startswith(b"*1\r\n*10\r\n$8\r\nfailover\r\n:-1\r\n")


def test_failover_refused_in_cluster_mode(server_factory):
    a, ac = node(server_factory, "--cluster-enabled", "yes")
    assert err(ac, "FAILOVER") == "FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
    assert err(ac, "FAILOVER", "ABORT") == "FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
