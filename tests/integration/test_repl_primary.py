"""The source side of replication: Cachet as a primary, fed to Debian's
redis-server 7.0 as its replica (plaintext and TLS, disk-based and
diskless), and to a hand-written replica on a raw socket that checks the
exact stream (the propagated forms of non-deterministic commands, SELECT,
MULTI/EXEC, DEL for expiries and evictions), partial resyncs, the backlog,
the output buffer limit, WAIT and the replication user.

Every wait polls with a deadline; every server is stopped by PID.
"""
import re
import shutil
import socket
import threading
import time

import pytest
import redis

from conftest import Server, wait_until
from replutil import Load, compare, info, wait_in_sync

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")


# ---- helpers ------------------------------------------------------------------


def tls_args(c):
    return ["--tls-mode", "preferred", "--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"],
            "--tls-ca-cert-file", c["ca_crt"]]


@pytest.fixture
def started(server_factory):
    """Servers started by the test (cachet-server unless binary= says
    otherwise), stopped by PID afterwards whatever happens."""
    return server_factory


def redis_replica(start, primary, certs=None):
    args = ["--replicaof", "127.0.0.1", str(primary.port), "--save", "", "--appendonly", "no",
            "--repl-diskless-load", "disabled"]
    if certs:
        args += ["--tls-replication", "yes", "--tls-cert-file", certs["client_crt"], "--tls-key-file",
                 certs["client_key"], "--tls-ca-cert-file", certs["ca_crt"]]
    return start(*args, binary=REDIS)


def primary_and_replica(started, *args):
    """A Cachet primary (diskless sync without delay) and a Redis replica
    in sync with it: (primary, its client, replica, its client)."""
    p = started("--repl-diskless-sync-delay", "0", *args)
    pc = p.client()
    r = redis_replica(started, p)
    rc = r.client()
    wait_in_sync(pc, rc)
    return p, pc, r, rc


def raw_info(port, section="replication"):
    """INFO as text (redis-py parses it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"INFO " + section.encode() + b"\r\n")
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        n = int(buf[1:buf.index(b"\r\n")])
        while len(buf) < buf.index(b"\r\n") + 2 + n:
            buf += s.recv(65536)
        return buf[buf.index(b"\r\n") + 2:][:n].decode()


def preload(c, n=3000):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set(f"pre:{i}", i)
        if i % 10 == 0:
            p.rpush(f"prel:{i}", i, i + 1)
    p.execute()


# ---- a Redis 7.0 replica -------------------------------------------------------------


@pytest.mark.parametrize("diskless", ["yes", "no"])
@pytest.mark.parametrize("tls", [False, True])
def test_redis_replica_follows_under_load(started, tls_certs, diskless, tls):
    args = ["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0", "--rdb-key-save-delay", "150"]
    if tls:
        args += tls_args(tls_certs)
    p = started(*args)
    pc = p.client()
    preload(pc)
    with Load(p.port, seed=hash((diskless, tls)) & 0xffff) as load:
        wait_until(lambda: load.ops > 50, what="load to start")
        r = redis_replica(started, p, tls_certs if tls else None)
        rc = r.client()
        # The load runs through the whole sync.
        wait_until(lambda: info(rc).get("master_link_status") == "up", timeout=60, what="link up")
        ops_at_up = load.ops
        wait_until(lambda: load.ops > ops_at_up + 300, timeout=30, what="load after the sync")
    wait_in_sync(pc, rc)
    compare(p, r)
    pi = info(pc)
    assert pi["connected_slaves"] == 1 and pi["slave0"]["state"] == "online"
    assert pc.info("stats")["sync_full"] == 1
    lst = pc.execute_command("CLIENT", "LIST", "TYPE", "replica").decode()
    assert "flags=S" in lst and ("tls=yes" in lst) == tls
    role = pc.execute_command("ROLE")
    assert role[0] == b"master" and role[2][0][1] == str(r.port).encode()


def test_partial_resync_after_client_kill(started):
    p, pc, r, rc = primary_and_replica(started)
    with Load(p.port, seed=7) as load:
        wait_until(lambda: load.ops > 100, what="load")
        assert pc.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
        wait_until(lambda: pc.info("stats")["sync_partial_ok"] == 1, timeout=20, what="partial resync")
        n = load.ops
        wait_until(lambda: load.ops > n + 100, what="more load")
    wait_in_sync(pc, rc)
    compare(p, r)
    st = pc.info("stats")
    assert st["sync_full"] == 1 and st["sync_partial_ok"] == 1
    assert "Partial resynchronization request from" in p.log()


def test_full_resync_when_backlog_exceeded(started):
    p, pc, r, rc = primary_and_replica(started, "--repl-backlog-size", "16kb")
    # Cut the link and write far more than the backlog holds before the
    # replica is back: it must resync fully.
    r.proc.send_signal(19)  # SIGSTOP
    try:
        pc.execute_command("CLIENT", "KILL", "TYPE", "replica")
        for i in range(300):
            pc.set(f"big:{i}", "v" * 200)
    finally:
        r.proc.send_signal(18)  # SIGCONT
    wait_until(lambda: pc.info("stats")["sync_full"] == 2, timeout=30, what="second full sync")
    wait_in_sync(pc, rc)
    compare(p, r, dbs=(0,))
    assert pc.info("stats")["sync_partial_err"] >= 1
    assert "for lack of backlog" in p.log()


def test_expiry_and_eviction_reach_the_replica_as_del(started):
    p, pc, r, rc = primary_and_replica(started)
    for i in range(50):
        pc.set(f"short:{i}", i, px=200)
    wait_in_sync(pc, rc)
    assert rc.dbsize() == 50
    # Active expiry on the primary; the replica only loses them by DEL.
    wait_until(lambda: pc.dbsize() == 0, timeout=20, what="primary to expire")
    wait_until(lambda: rc.dbsize() == 0, timeout=20, what="DELs on the replica")
    # Eviction.
    pc.config_set("maxmemory-policy", "allkeys-random")
    for i in range(2000):
        pc.set(f"ev:{i}", "x" * 500)
    used = pc.info("memory")["used_memory"]
    pc.config_set("maxmemory", used - 300000)
    pc.set("trigger", 1)
    assert pc.info("stats")["evicted_keys"] > 0
    pc.config_set("maxmemory", 0)
    wait_in_sync(pc, rc)
    assert rc.dbsize() == pc.dbsize()
    compare(p, r, dbs=(0,))


def test_wait_counts_acks(started):
    p = started("--repl-diskless-sync-delay", "0")
    pc = p.client()
    assert pc.execute_command("WAIT", 0, 0) == 0
    assert pc.execute_command("WAIT", 1, 50) == 0  # no replica: times out with 0
    r = redis_replica(started, p)
    rc = r.client()
    wait_in_sync(pc, rc)
    pc.set("w", 1)
    assert pc.execute_command("WAIT", 1, 5000) == 1
    assert pc.execute_command("WAIT", 2, 200) == 1  # only one replica exists
    for bad, err in (((-1, "x"), "timeout is not an integer or out of range"), ((1, -1), "timeout is negative"),
                     (("x", 0), "value is not an integer or out of range")):
        with pytest.raises(redis.ResponseError, match=err):
            pc.execute_command("WAIT", *bad)


def test_min_replicas_to_write(started):
    p = started("--repl-diskless-sync-delay", "0", "--min-replicas-to-write", "1")
    pc = p.client()
    with pytest.raises(redis.ResponseError, match="Not enough good replicas to write."):
        pc.set("a", 1)
    assert pc.get("a") is None
    r = redis_replica(started, p)
    wait_in_sync(pc, r.client())
    wait_until(lambda: pc.set("a", 1), what="writes allowed")
    assert "min_slaves_good_slaves:1" in raw_info(p.port)


def test_replication_user_least_privilege(started):
    p = started("--repl-diskless-sync-delay", "0")
    pc = p.client()
    pc.execute_command("ACL", "SETUSER", "repl", "on", ">pass", "+psync", "+replconf", "+ping")
    pc.execute_command("ACL", "SETUSER", "noperm", "on", ">pass", "+ping")
    r = started("--replicaof", "127.0.0.1", str(p.port), "--save", "", "--appendonly", "no",
                "--masteruser", "repl", "--masterauth", "pass", binary=REDIS)
    rc = r.client()
    pc.set("x", 1)
    wait_in_sync(pc, rc)
    assert rc.get("x") == b"1"
    # A user without PSYNC is refused, the denial logged in ACL LOG.
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    s.sendall(b"AUTH noperm pass\r\nPSYNC ? -1\r\n")
    data = read_lines(s, 2)
    assert data[0] == b"+OK" and data[1].startswith(b"-NOPERM")
    s.close()
    assert any(e[b"object"] == b"psync" for e in [dict(zip(x[::2], x[1::2])) for x in
                                                   pc.execute_command("ACL", "LOG")])


# ---- a replica on a raw socket ------------------------------------------------------


def read_lines(s, n, timeout=5):
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(b"\r\n") < n and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\r\n")[:n]


class RawReplica:
    """PSYNC on a socket: reads +FULLRESYNC and the payload, then parses the
    command stream."""

    def __init__(self, port, eof=True, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so the window never grows past it
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        capa = b"REPLCONF capa eof capa psync2\r\n" if eof else b"REPLCONF capa psync2\r\n"
        self.s.sendall(capa)
        assert self.line() == b"+OK"
        self.s.sendall(b"PSYNC ? -1\r\n")
        line = self.line()
        while line == b"":  # keepalive newlines
            line = self.line()
        m = re.match(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)$", line)
        assert m, line
        self.replid, self.offset = m.group(1), int(m.group(2))
        hdr = self.line()
        while hdr == b"":
            hdr = self.line()
        if hdr.startswith(b"$EOF:"):
            mark = hdr[5:]
            assert len(mark) == 40
            while mark not in self.buf:
                self.fill()
            i = self.buf.index(mark)
            self.rdb = self.buf[:i]
            self.buf = self.buf[i + 40:]
        else:
            n = int(hdr[1:])
            while len(self.buf) < n:
                self.fill()
            self.rdb, self.buf = self.buf[:n], self.buf[n:]
        assert self.rdb.startswith(b"REDIS0010")
        self.ack()

    def fill(self):
        chunk = self.s.recv(65536)
        assert chunk, "primary closed the link"
        self.buf += chunk

    def line(self):
        while b"\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\n")
        line, self.buf = self.buf[:i], self.buf[i + 1:]
        return line.rstrip(b"\r")

    def ack(self):
        off = str(self.offset).encode()
        self.s.sendall(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n" % (len(off), off))

    def command(self):
        start = len(self.buf)
        hdr = self.line()
        assert hdr.startswith(b"*"), hdr
        argv = []
        for _ in range(int(hdr[1:])):
            n = int(self.line()[1:])
            while len(self.buf) < n + 2:
                self.fill()
            argv.append(self.buf[:n])
            self.buf = self.buf[n + 2:]
        del start
        return argv

    def commands_until(self, pred, limit=200):
        seen = []
        for _ in range(limit):
            argv = self.command()
            if argv[0].upper() in (b"PING",) or argv[:2] == [b"REPLCONF", b"GETACK"]:
                continue
            argv[0] = argv[0].upper()  # a script's redis.call('set') travels as written
            seen.append(argv)
            if pred(argv):
                return seen
        raise AssertionError(f"not seen: {seen}")

    def close(self):
        self.s.close()


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_stream_carries_effects_not_commands(started, diskless):
    p = started("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
    pc = p.client()
    rr = RawReplica(p.port)
    try:
        def mark():
            pc.execute_command("SET", "MARK", "x")  # shows up as the SET itself
        mark_cmd = [b"SET", b"MARK", b"x"]

        def run(*args):
            return pc.execute_command(*args)

        def expect_then_mark(cmds):
            got = rr.commands_until(lambda a: a == mark_cmd)
            assert got[:-1] == cmds, got

        now = int(time.time() * 1000)
        run("SET", "a", "1", "EX", "100")
        mark()
        got = rr.commands_until(lambda a: a == mark_cmd)
        assert got[0] == [b"SELECT", b"0"]
        assert got[1][:4] == [b"SET", b"a", b"1", b"PXAT"] and abs(int(got[1][4]) - (now + 100000)) < 5000
        run("EXPIRE", "a", "50")
        mark()
        got = rr.commands_until(lambda a: a == mark_cmd)
        assert got[0][:2] == [b"PEXPIREAT", b"a"] and abs(int(got[0][2]) - (now + 50000)) < 5000
        run("SADD", "s", "m1")
        assert run("SPOP", "s") == b"m1"
        run("INCRBYFLOAT", "f", "1.5")
        run("HINCRBYFLOAT", "h", "x", "2.5")
        run("GETDEL", "f")
        mark()
        expect_then_mark([[b"SADD", b"s", b"m1"], [b"SREM", b"s", b"m1"], [b"SET", b"f", b"1.5", b"KEEPTTL"],
                          [b"HSET", b"h", b"x", b"2.5"], [b"DEL", b"f"]])
        p2 = pc.pipeline(transaction=True)
        p2.set("t1", 1)
        p2.get("t1")
        p2.execute_command("INCR", "t1")
        p2.execute()
        pc.eval("redis.call('set', KEYS[1], 'v'); redis.call('lpush', KEYS[2], 'e')", 2, "e1", "e2")
        mark()
        expect_then_mark([[b"MULTI"], [b"SET", b"t1", b"1"], [b"INCR", b"t1"], [b"EXEC"],
                          [b"MULTI"], [b"SET", b"e1", b"v"], [b"LPUSH", b"e2", b"e"], [b"EXEC"]])
        run("XADD", "st", "*", "f", "v")
        run("SELECT", "0")
        c3 = redis.Redis(port=p.port, db=3)
        c3.set("in3", 1)
        c3.close()
        mark()
        got = rr.commands_until(lambda a: a == mark_cmd)
        assert got[0][:2] == [b"XADD", b"st"] and re.match(rb"\d+-\d+$", got[0][2])
        assert got[1:3] == [[b"SELECT", b"3"], [b"SET", b"in3", b"1"]] and got[3] == [b"SELECT", b"0"]
        # A blocked pop served later runs as the plain pop on replicas.
        b = redis.Redis(port=p.port)
        t = threading.Thread(target=lambda: b.blpop(["bl"], 10))
        t.start()
        wait_until(lambda: pc.info("clients")["blocked_clients"] == 1, what="blocked")
        run("RPUSH", "bl", "x")
        t.join(10)
        b.close()
        mark()
        expect_then_mark([[b"RPUSH", b"bl", b"x"], [b"LPOP", b"bl"]])
        # Expiry: DEL from the primary.
        run("SET", "gone", "1", "PX", "50")
        wait_until(lambda: pc.exists("gone") == 0, what="expiry")
        mark()
        got = rr.commands_until(lambda a: a == mark_cmd)
        assert [b"DEL", b"gone"] in got
        run("CONFIG", "SET", "lazyfree-lazy-expire", "yes")
        run("SET", "gone2", "1", "PX", "50")
        wait_until(lambda: pc.exists("gone2") == 0, what="expiry")
        mark()
        got = rr.commands_until(lambda a: a == mark_cmd)
        assert [b"UNLINK", b"gone2"] in got
    finally:
        rr.close()


def test_replica_that_never_reads_is_dropped(started):
    p = started("--repl-diskless-sync-delay", "0", "--client-output-buffer-limit", "replica 256kb 128kb 1")
    pc = p.client()
    # The replica takes the whole snapshot and acknowledges it, then stops
    # reading: everything written after that can only pile up in its output
    # buffer. (Writes made before the sync's child forks would travel inside
    # the snapshot instead, where only repl-timeout could drop the replica.)
    rr = RawReplica(p.port, rcvbuf=4096)
    wait_until(lambda: pc.info("replication")["connected_slaves"] == 1, what="attached")
    # 10 MB: more than the kernel's send buffer (up to 4 MB) and the
    # replica's receive window hold, so the rest lands in the output buffer.
    with pc.pipeline(transaction=False) as pipe:
        for i in range(500):
            pipe.set(f"k{i}", "v" * 20000)
        pipe.execute()
    wait_until(lambda: pc.info("replication")["connected_slaves"] == 0, timeout=20, what="dropped")
    assert "output buffer limits" in p.log()
    assert pc.info("stats")["client_output_buffer_limit_disconnections"] >= 1
    assert pc.dbsize() == 500 and pc.get("k499") == b"v" * 20000
    rr.close()


def test_garbage_from_a_replica(started):
    p = started()
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    cases = [
        (b"REPLCONF listening-port\r\n", b"-ERR syntax error"),
        (b"REPLCONF listening-port abc\r\n", b"-ERR value is not an integer or out of range"),
        (b"REPLCONF bogus 1\r\n", b"-ERR Unrecognized REPLCONF option: bogus"),
        (b"REPLCONF ip-address " + b"a" * 300 + b"\r\n",
         b"-ERR REPLCONF ip-address provided by replica instance is too long: 300 bytes"),
        (b"PSYNC abc def\r\n", b"-ERR value is not an integer or out of range"),
        (b"PSYNC\r\n", b"-ERR wrong number of arguments for 'psync' command"),
        (b"REPLCONF capa eof capa whatever\r\n", b"+OK"),
        (b"REPLCONF ACK 5\r\nPING\r\n", b"+PONG"),  # ACK from a non-replica: no reply at all
        (b"SYNC extra\r\n", b"-ERR wrong number of arguments for 'sync' command"),
    ]
    for req, want in cases:
        s.sendall(req)
        assert read_lines(s, 1)[0] == want, req
    s.close()
    pc = p.client()
    assert pc.ping() and pc.info("replication")["connected_slaves"] == 0


def test_info_and_role_fields(started):
    p = started("--repl-diskless-sync-delay", "0")
    pc = p.client()
    text = raw_info(p.port)
    fields = [line.split(":")[0] for line in text.split("\r\n")[1:] if line]
    assert fields == ["role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2",
                      "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
                      "repl_backlog_first_byte_offset", "repl_backlog_histlen"]
    assert "repl_backlog_active:0" in text
    assert pc.execute_command("ROLE") == [b"master", 0, []]
    r = redis_replica(started, p)
    rc = r.client()
    wait_in_sync(pc, rc)
    pc.set("a", 1)
    wait_in_sync(pc, rc)
    pi = info(pc)
    assert pi["repl_backlog_active"] == 1 and pi["repl_backlog_first_byte_offset"] == 1
    assert pi["repl_backlog_histlen"] == pi["master_repl_offset"]
    wait_until(lambda: info(pc)["slave0"]["offset"] == info(pc)["master_repl_offset"], what="ack")
    s0 = info(pc)["slave0"]
    assert s0["ip"] == "127.0.0.1" and s0["port"] == r.port and s0["state"] == "online"


def test_pings_in_the_stream_and_silent_replica_times_out(started):
    p = started("--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1", "--repl-timeout", "2")
    pc = p.client()
    rr = RawReplica(p.port)
    try:
        assert rr.command() == [b"PING"]  # the keepalive, with no SELECT before it
        # No ACK since the first one: dropped after repl-timeout.
        wait_until(lambda: pc.info("replication")["connected_slaves"] == 0, timeout=10, what="timeout")
        assert "Disconnecting timedout replica" in p.log()
    finally:
        rr.close()


def test_backlog_resize_and_ttl(started):
    p = started("--repl-diskless-sync-delay", "0", "--repl-backlog-ttl", "1")
    pc = p.client()
    rr = RawReplica(p.port)
    first_id = pc.info("replication")["master_replid"]
    pc.config_set("repl-backlog-size", "32kb")
    assert pc.info("replication")["repl_backlog_size"] == 32768
    rr.close()
    wait_until(lambda: pc.info("replication")["repl_backlog_active"] == 0, timeout=10, what="backlog freed")
    assert pc.info("replication")["master_replid"] != first_id  # no history kept: a new id


def test_stream_forms_of_more_commands(started):
    p = started("--repl-diskless-sync-delay", "0")
    pc = p.client()
    rr = RawReplica(p.port)
    mark_cmd = [b"SET", b"MARK", b"x"]

    def forms(*cmds):
        for c in cmds:
            pc.execute_command(*c)
        pc.execute_command(*mark_cmd)
        return rr.commands_until(lambda a: a == mark_cmd)[:-1]

    try:
        now = int(time.time() * 1000)
        got = forms(("SETEX", "a", 100, "v"), ("GETEX", "a", "PX", 5000), ("GETEX", "a", "PERSIST"),
                    ("SET", "b", "1", "GET"), ("SET", "b", "2", "KEEPTTL", "NX"), ("PSETEX", "c", 100000, "v"))
        assert got[0] == [b"SELECT", b"0"]
        assert got[1][:4] == [b"SET", b"a", b"v", b"PXAT"] and abs(int(got[1][4]) - now - 100000) < 5000
        assert got[2][:2] == [b"PEXPIREAT", b"a"] and abs(int(got[2][2]) - now - 5000) < 5000
        assert got[3:5] == [[b"PERSIST", b"a"], [b"SET", b"b", b"1"]]
        assert got[5][:4] == [b"SET", b"c", b"v", b"PXAT"] and len(got) == 6  # the NX that did nothing is not sent
        dump = pc.dump("a")
        got = forms(("RESTORE", "r", 60000, dump), ("RESTORE", "r2", 0, dump), ("EXPIRE", "r2", -1))
        assert got[0][:2] == [b"RESTORE", b"r"] and got[0][4] == b"ABSTTL" and abs(int(got[0][2]) - now - 60000) < 5000
        assert got[1] == [b"RESTORE", b"r2", b"0", dump] and got[2] == [b"DEL", b"r2"]
        got = forms(("SADD", "s", 1, 2, 3), ("SPOP", "s", 3), ("RPUSH", "l", "a", "b"), ("BLMOVE", "l", "l2", "LEFT",
                                                                                          "RIGHT", 0),
                    ("BRPOPLPUSH", "l", "l2", 0), ("ZADD", "z", 1, "m", 2, "n"), ("BZPOPMIN", "z", 0),
                    ("ZMPOP", 1, "z", "MAX", "COUNT", 5), ("LMPOP", 1, "l2", "LEFT", "COUNT", 9))
        assert got[1] == [b"DEL", b"s"]  # the whole set popped
        assert got[3:] == [[b"LMOVE", b"l", b"l2", b"LEFT", b"RIGHT"], [b"RPOPLPUSH", b"l", b"l2"],
                           [b"ZADD", b"z", b"1", b"m", b"2", b"n"], [b"ZPOPMIN", b"z"], [b"ZPOPMAX", b"z", b"1"],
                           [b"LPOP", b"l2", b"2"]]
        for i in range(30):
            pc.xadd("x", {"f": i})
        got = forms(("XADD", "x", "MAXLEN", "~", 5, "*", "f", "v"), ("XTRIM", "x", "MAXLEN", 2))
        assert len(got) == 32 and got[0][:2] == [b"XADD", b"x"] and re.match(rb"\d+-\d+$", got[0][2])
        assert got[-2][:4] == [b"XADD", b"x", b"MAXLEN", b"="] and got[-2][4] == b"31"
        assert re.match(rb"\d+-\d+$", got[-2][5])
        assert got[-1] == [b"XTRIM", b"x", b"MAXLEN", b"2"]  # exact trims are deterministic: as sent
        tx = pc.pipeline(transaction=True)
        tx.execute_command("INCR", "p")
        tx.get("p")
        tx.execute()
        assert forms() == [[b"INCR", b"p"]]  # a transaction with one write travels alone (Redis 7.0)
    finally:
        rr.close()
