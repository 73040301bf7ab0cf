"""Cachet -> Cachet replication: a primary and a replica, a chain (the middle
node proxies), PSYNC2 after a promotion, restarts, a link cut mid-stream by
a proxy and a replica stopped past repl-timeout; plaintext and TLS, each
with a seeded random write load of every data type running. Then the TLS
mode walk (none -> preferred -> required -> preferred -> none on the primary
under load, the replicas moving their links with CONFIG SET tls-replication)
and certificate rotation on either side, which must never drop a link.

Every wait polls with a deadline; every server is stopped by PID.
"""
import os
import shutil
import signal
import socket
import subprocess
import threading

import pytest
import redis

REDIS = shutil.which("redis-server")
from conftest import SERVER_BIN, make_certs, wait_until
from replutil import Load, compare, info, wait_in_sync


def stat(c, field):
    return int(c.info("stats")[field])


class Node:
    """Arguments of one Cachet node: TLS (tls-mode preferred, its links over
    TLS) or plaintext."""

    def __init__(self, certs, tls):
        self.certs, self.tls = certs, tls

    def args(self, *extra, mode="preferred", repl_tls=None):
        c = self.certs
        a = ["--repl-diskless-sync-delay", "0", "--tls-cert-file", c["server_crt"], "--tls-key-file",
             c["server_key"], "--tls-ca-cert-file", c["ca_crt"], "--tls-client-cert-file", c["client_crt"],
             "--tls-client-key-file", c["client_key"]]
        if self.tls:
            a += ["--tls-mode", mode]
        rt = self.tls if repl_tls is None else repl_tls
        a += ["--tls-replication", "yes" if rt else "no"]
        return a + list(extra)


def replica_of(p):
    return ["--replicaof", "127.0.0.1", str(p.port)]


def tls_client(srv, certs, **kw):
    c = redis.Redis(host="127.0.0.1", port=srv.port, ssl=True, ssl_ca_certs=certs["ca_crt"],
                    ssl_certfile=certs["client_crt"], ssl_keyfile=certs["client_key"], ssl_cert_reqs="required",
                    socket_timeout=10, **kw)
    srv._clients.append(c)
    return c


def replica_links(pc):
    """CLIENT LIST lines of the replicas attached to pc's server."""
    return [ln for ln in pc.execute_command("CLIENT", "LIST").decode().splitlines() if " flags=S " in ln]


TLS_IDS = ["plain", "tls"]


def wait_up(c, what="the link up"):
    wait_until(lambda: info(c).get("master_link_status") == "up", timeout=30, what=what)


def more_ops(load, n, what="load"):
    """Waits until the load ran n more operations."""
    ops = load.ops
    wait_until(lambda: load.ops > ops + n, timeout=30, what=what)


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_primary_replica_full_sync_under_load(server_factory, tls_certs, tls):
    n = Node(tls_certs, tls)
    p = server_factory(*n.args())
    pc = p.client()
    with Load(p.port, seed=11 + tls) as load:
        wait_until(lambda: load.ops > 300, timeout=30, what="some load before the sync")
        r = server_factory(*n.args(*replica_of(p)))
        rc = r.client()
        wait_up(rc, "the link up")
        more_ops(load, 300, "load after the sync")
    wait_in_sync(pc, rc)
    compare(p, r)
    assert stat(pc, "sync_full") == 1
    links = replica_links(pc)
    assert len(links) == 1 and ("tls=yes" in links[0]) == tls, links


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_chain_proxies(server_factory, tls_certs, tls):
    n = Node(tls_certs, tls)
    p = server_factory(*n.args())
    pc = p.client()
    with Load(p.port, seed=21 + tls) as load:
        a = server_factory(*n.args(*replica_of(p)))
        ac = a.client()
        b = server_factory(*n.args(*replica_of(a)))
        bc = b.client()
        wait_up(bc, "the sub-replica up")
        more_ops(load, 500, "load through the chain")
    wait_in_sync(pc, ac)
    wait_in_sync(pc, bc)
    compare(p, a)
    compare(p, b)
    assert info(bc)["master_repl_offset"] == info(pc)["master_repl_offset"]
    assert info(bc)["master_replid"] == info(pc)["master_replid"]
    assert stat(pc, "sync_full") == 1 and stat(ac, "sync_full") == 1


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_psync2_promotion(server_factory, tls_certs, tls):
    """P with replicas A and B; A is promoted, B and the demoted P follow A
    with partial resyncs only."""
    n = Node(tls_certs, tls)
    p = server_factory(*n.args())
    pc = p.client()
    with Load(p.port, seed=31 + tls) as load:
        a = server_factory(*n.args(*replica_of(p)))
        b = server_factory(*n.args(*replica_of(p)))
        ac, bc = a.client(), b.client()
        for c in (ac, bc):
            wait_up(c, "replicas up")
        more_ops(load, 300, "load")
    wait_in_sync(pc, ac)
    wait_in_sync(pc, bc)
    full, partial = stat(ac, "sync_full"), stat(ac, "sync_partial_ok")
    ac.execute_command("REPLICAOF", "NO", "ONE")
    bc.execute_command("REPLICAOF", "127.0.0.1", a.port)
    pc.execute_command("REPLICAOF", "127.0.0.1", a.port)
    with Load(a.port, seed=41 + tls) as load:
        for c in (bc, pc):
            wait_up(c, "following A")
        more_ops(load, 300, "load on A")
    wait_in_sync(ac, bc)
    wait_in_sync(ac, pc)
    assert stat(ac, "sync_full") == full
    assert stat(ac, "sync_partial_ok") == partial + 2
    compare(a, b)
    compare(a, p)


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_replica_restart_full_sync(server_factory, tls_certs, tls):
    n = Node(tls_certs, tls)
    p = server_factory(*n.args())
    pc = p.client()
    with Load(p.port, seed=51 + tls) as load:
        r = server_factory(*n.args(*replica_of(p)))
        rc = r.client()
        wait_up(rc, "the link up")
        try:
            rc.execute_command("SHUTDOWN", "NOSAVE")
        except redis.ConnectionError:
            pass
        r.proc.wait(timeout=10)
        r2 = server_factory(*n.args(*replica_of(p)))
        r2c = r2.client()
        wait_up(r2c, "the restarted replica")
        more_ops(load, 200, "load")
    wait_in_sync(pc, r2c)
    compare(p, r2)
    assert stat(pc, "sync_full") == 2


def shutdown(srv, *how):
    c = srv.client()
    try:
        c.execute_command("SHUTDOWN", *how)
    except redis.ConnectionError:
        pass
    srv.proc.wait(timeout=30)


def restart(srv, argv=None):
    """Starts srv again, same port, directory and log (its data file too)."""
    srv.proc = subprocess.Popen(argv or srv.argv, stdout=srv._log, stderr=subprocess.STDOUT, cwd=srv.dir)
    srv.pid = srv.proc.pid
    wait_until(srv._ping, timeout=30, what="the restarted server")


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_primary_restart_from_snapshot_partial_resync(server_factory, tls_certs, tls):
    """The snapshot carries repl-id and repl-offset (as Redis 7.0's): the
    restarted primary continues its replica partially."""
    n = Node(tls_certs, tls)
    p = server_factory(*n.args())
    pc = p.client()
    r = server_factory(*n.args(*replica_of(p)))
    rc = r.client()
    with Load(p.port, seed=55 + tls) as load:
        wait_up(rc, "the link up")
        more_ops(load, 300, "load")
    wait_in_sync(pc, rc)
    before = info(pc)
    pc.save()
    shutdown(p, "NOSAVE")
    wait_until(lambda: info(rc).get("master_link_status") == "down", timeout=30, what="the link down")
    restart(p)
    pc = p.client()
    after = info(pc)
    assert (after["master_replid"], after["master_repl_offset"]) == (before["master_replid"],
                                                                       before["master_repl_offset"])
    wait_up(rc, "the link back")
    with Load(p.port, seed=56 + tls) as load:
        more_ops(load, 300, "load after the restart")
    wait_in_sync(pc, rc)
    compare(p, r)
    assert (stat(pc, "sync_full"), stat(pc, "sync_partial_ok")) == (0, 1)


@pytest.mark.skipif(not REDIS, reason="redis-server not installed")
@pytest.mark.parametrize("first", ["cachet", "redis"])
def test_restart_from_snapshot_across_servers(server_factory, first):
    """The aux fields both ways with Redis 7.0: a primary saved by one
    server and restarted as the other, from that file, continues the
    replica (Cachet) with a partial resync."""
    p = server_factory("--repl-diskless-sync-delay", "0", binary=None if first == "cachet" else REDIS)
    pc = p.client()
    r = server_factory(*replica_of(p))
    rc = r.client()
    with Load(p.port, seed=66) as load:
        wait_up(rc, "the link up")
        more_ops(load, 300, "load")
    wait_in_sync(pc, rc)
    before = info(pc)
    # SHUTDOWN SAVE, not SAVE then SHUTDOWN NOSAVE: Redis 7.0 sends its
    # replicas a REPLCONF GETACK while shutting down, before its final save.
    shutdown(p, "SAVE")
    before["master_repl_offset"] = info(rc)["master_repl_offset"]
    other = REDIS if first == "cachet" else SERVER_BIN
    restart(p, [other] + p.argv[1:])
    pc = p.client()
    after = info(pc)
    # Redis keeps the loaded id as its second one (a new id of its own,
    # replid2 and second_repl_offset = offset + 1): either continues.
    assert before["master_replid"] in (after["master_replid"], after["master_replid2"])
    assert after["master_repl_offset"] == before["master_repl_offset"]
    wait_up(rc, "the link back")
    pc.set("after-restart", "1")
    wait_in_sync(pc, rc)
    compare(p, r)
    assert stat(pc, "sync_partial_ok") == 1


class CutProxy:
    """A TCP proxy on a free port to `port`, in threads; cut() closes every
    connection it carries abruptly (RST), then it accepts again."""

    def __init__(self, port):
        self.target = port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.socks = []
        self.lock = threading.Lock()
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the primary is gone (teardown)
                c.close()
                continue
            with self.lock:
                self.socks += [c, s]
                self.accepted += 1
            threading.Thread(target=self._pipe, args=(c, s), daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.close()
            except OSError:
                pass

    def cut(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self):
        self.ls.close()
        self.cut()


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_partial_resync_after_link_cut_by_proxy(server_factory, tls_certs, tls):
    n = Node(tls_certs, tls)
    p = server_factory(*n.args("--repl-backlog-size", "64mb"))  # outlives the reconnection delay
    pc = p.client()
    proxy = CutProxy(p.port)
    try:
        with Load(p.port, seed=61 + tls) as load:
            r = server_factory(*n.args("--replicaof", "127.0.0.1", proxy.port))
            rc = r.client()
            for i in range(3):
                wait_up(rc, "the link up")
                more_ops(load, 200, "load mid-stream")
                proxy.cut()
                wait_until(lambda i=i: proxy.accepted >= i + 2, timeout=30, what="the replica to reconnect")
            wait_up(rc, "the link up")
        wait_in_sync(pc, rc)
        compare(p, r)
        assert stat(pc, "sync_full") == 1
        assert stat(pc, "sync_partial_ok") == 3
    finally:
        proxy.close()


@pytest.mark.parametrize("tls", [False, True], ids=TLS_IDS)
def test_partial_resync_after_replica_stopped_past_timeout(server_factory, tls_certs, tls):
    n = Node(tls_certs, tls)
    p = server_factory(*n.args("--repl-timeout", "2", "--repl-backlog-size", "64mb"))
    pc = p.client()
    with Load(p.port, seed=71 + tls) as load:
        r = server_factory(*n.args(*replica_of(p), "--repl-timeout", "2"))
        rc = r.client()
        wait_up(rc, "the link up")
        os.kill(r.pid, signal.SIGSTOP)
        try:
            # The primary drops the silent replica after repl-timeout.
            wait_until(lambda: info(pc)["connected_slaves"] == 0, timeout=30, what="the primary to drop it")
        finally:
            os.kill(r.pid, signal.SIGCONT)
        wait_until(lambda: info(rc).get("master_link_status") == "up" and stat(pc, "sync_partial_ok") == 1,
                   timeout=30, what="a partial resync")
        more_ops(load, 200, "load")
    wait_in_sync(pc, rc)
    compare(p, r)
    assert stat(pc, "sync_full") == 1


# ---- the TLS mode walk ----------------------------------------------------------


class WalkLoad(Load):
    """The seeded load through a client that moves between plaintext and TLS
    when told (self.want): it reconnects between two operations, so no
    operation is lost. Failed operations are counted, not raised."""

    def __init__(self, srv, certs, seed, want):
        super().__init__(srv.port, seed)
        self.srv, self.certs = srv, certs
        self.want = self.cur = want
        self.c = self._connect(want)
        self.failed = []

    def _connect(self, tls):
        if tls:
            return redis.Redis(host="127.0.0.1", port=self.srv.port, ssl=True, ssl_ca_certs=self.certs["ca_crt"],
                               ssl_certfile=self.certs["client_crt"], ssl_keyfile=self.certs["client_key"],
                               ssl_cert_reqs="required", socket_timeout=10)
        return redis.Redis(port=self.srv.port, socket_timeout=10)

    def run(self):
        while not self.stop_ev.is_set():
            if self.want != self.cur:
                self.c.close()
                self.cur = self.want
                self.c = self._connect(self.cur)
            try:
                self.one()
            except Exception as e:  # noqa: BLE001 - every failure is a counted, reported figure
                self.failed.append(repr(e))

    def move(self, tls):
        """Returns once an operation ran over the new transport."""
        self.want = tls
        ops = self.ops
        wait_until(lambda: self.cur == tls and self.ops > ops + 1, timeout=30, what="the client to move")


def test_tls_mode_walk(server_factory, tls_certs):
    c = tls_certs
    tlsargs = ["--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"], "--tls-ca-cert-file",
               c["ca_crt"], "--tls-client-cert-file", c["client_crt"], "--tls-client-key-file", c["client_key"],
               "--repl-diskless-sync-delay", "0"]
    p = server_factory(*tlsargs)
    pc = p.client()
    a = server_factory(*tlsargs, *replica_of(p))
    b = server_factory(*tlsargs, *replica_of(p))
    ac, bc = a.client(), b.client()
    for rc in (ac, bc):
        wait_up(rc, "replicas up")
    wait_in_sync(pc, ac)
    wait_in_sync(pc, bc)
    full0 = stat(pc, "sync_full")
    assert full0 == 2
    partial0 = stat(pc, "sync_partial_ok")
    # The plaintext load follows the modes (plaintext until required); the
    # TLS load joins once TLS is possible and runs until it is optional again.
    plain = WalkLoad(p, c, seed=81, want=False)
    plain.__enter__()
    tl = None
    try:
        more_ops(plain, 200, "load in none")

        pc.config_set("tls-mode", "preferred")
        tl = WalkLoad(p, c, seed=82, want=True)
        tl.__enter__()
        for rc in (ac, bc):
            rc.config_set("tls-replication", "yes")
        for rc in (ac, bc):
            wait_up(rc, "links over TLS")
        wait_until(lambda: len(replica_links(pc)) == 2 and all("tls=yes" in ln for ln in replica_links(pc)),
                   timeout=30, what="both replica links over TLS")

        plain.move(True)
        pc.config_set("tls-mode", "required")
        more_ops(plain, 300, "load in required")
        links = replica_links(tls_client(p, c))
        assert len(links) == 2 and all("tls=yes" in ln for ln in links), links

        tls_client(p, c).config_set("tls-mode", "preferred")
        pc = p.client()  # the plaintext one was closed by required
        for rc in (ac, bc):
            rc.config_set("tls-replication", "no")
        wait_until(lambda: len(replica_links(pc)) == 2 and all("tls=no" in ln for ln in replica_links(pc)),
                   timeout=30, what="both replica links back to plaintext")
        plain.move(False)
        tl.__exit__(None, None, None)
        failed_tls, tl_ops = tl.failed, tl.ops
        tl = None

        pc.config_set("tls-mode", "none")
        more_ops(plain, 200, "load in none again")
    finally:
        if tl:
            tl.stop_ev.set()
        plain.stop_ev.set()
        plain.thread.join(30)
        plain.c.close()
    wait_in_sync(pc, ac)
    wait_in_sync(pc, bc)
    compare(p, a)
    compare(p, b)
    full, partial = stat(pc, "sync_full") - full0, stat(pc, "sync_partial_ok") - partial0
    print(f"TLS mode walk: {full} full resyncs, {partial} partial resyncs, "
          f"{len(plain.failed) + len(failed_tls)} failed ops of {plain.ops + tl_ops} ops")
    assert (full, plain.failed, failed_tls, plain.errors) == (0, [], [], [])
    assert partial == 4  # each replica: to TLS and back


def test_required_closes_plaintext_replica_link(server_factory, tls_certs):
    """A plaintext replica link does not survive tls-mode required: it is
    closed, and the replica (still plaintext) cannot come back."""
    c = tls_certs
    p = server_factory("--tls-mode", "preferred", "--tls-cert-file", c["server_crt"], "--tls-key-file",
                       c["server_key"], "--tls-ca-cert-file", c["ca_crt"])
    r = server_factory("--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"], "--tls-ca-cert-file",
                       c["ca_crt"], *replica_of(p))
    rc = r.client()
    wait_up(rc, "the link up")
    pc = tls_client(p, c)
    pc.config_set("tls-mode", "required")
    wait_until(lambda: info(rc).get("master_link_status") == "down", timeout=30, what="the plaintext link closed")
    assert replica_links(pc) == []
    # Its own listener's mode never touches a replica's outbound link.
    pc.config_set("tls-mode", "preferred")
    wait_up(rc, "the link back")
    lost = r.log().count("Connection with master lost")
    rc.config_set("tls-mode", "required")
    pcp = p.client()
    pcp.set("after", "1")
    wait_until(lambda: tls_client(r, c).get("after") == b"1", timeout=30, what="the link to survive")
    assert r.log().count("Connection with master lost") == lost


# ---- certificate rotation ------------------------------------------------------


@pytest.mark.parametrize("how", ["config-set", "auto-reload"])
@pytest.mark.parametrize("side", ["primary", "replica"])
def test_cert_rotation_keeps_links(server_factory, tls_certs, tmp_path, side, how):
    """New certificate files (CONFIG SET of new paths, or the same paths
    rewritten under tls-auto-reload) on the primary or on the replica (its
    server and its client certificate) never drop the replication link."""
    c = tls_certs
    live = {}
    for name in ("p", "r"):
        d = tmp_path / f"live-{name}"
        d.mkdir()
        for k in ("server_crt", "server_key", "client_crt", "client_key"):
            live[name, k] = str(d / os.path.basename(c[k]))
            shutil.copy(c[k], live[name, k])

    def args(name):
        return ["--tls-mode", "preferred", "--tls-cert-file", live[name, "server_crt"], "--tls-key-file",
                live[name, "server_key"], "--tls-ca-cert-file", c["ca_crt"], "--tls-client-cert-file",
                live[name, "client_crt"], "--tls-client-key-file", live[name, "client_key"], "--tls-replication",
                "yes", "--repl-diskless-sync-delay", "0", "--tls-auto-reload",
                "yes" if how == "auto-reload" else "no"]
    p = server_factory(*args("p"))
    pc = p.client()
    r = server_factory(*args("r"), *replica_of(p))
    rc = r.client()
    wait_up(rc, "the link up")
    fresh = make_certs(tmp_path / "fresh")
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", fresh["server_crt"]], check=True,
                            capture_output=True, text=True).stdout.strip().split("=")[1]
    name, target, srv = ("p", pc, p) if side == "primary" else ("r", rc, r)
    with Load(p.port, seed=91) as load:
        more_ops(load, 100, "load")
        if how == "auto-reload":
            for k in ("server_crt", "server_key", "client_crt", "client_key"):
                shutil.copy(fresh[k], live[name, k] + ".new")
                os.replace(live[name, k] + ".new", live[name, k])
        else:
            d = tmp_path / f"rotated-{name}"
            d.mkdir()
            new = {}
            for k in ("server_crt", "server_key", "client_crt", "client_key"):
                new[k] = str(d / os.path.basename(fresh[k]))
                shutil.copy(fresh[k], new[k])
            target.config_set("tls-cert-file", new["server_crt"], "tls-key-file", new["server_key"])
            target.execute_command("CONFIG", "SET", "tls-client-cert-file", new["client_crt"],
                                   "tls-client-key-file", new["client_key"])
        wait_until(lambda: serial in srv.log(), timeout=30, what="the new certificate loaded")
        more_ops(load, 200, "load after the rotation")
    wait_in_sync(pc, rc)
    compare(p, r)
    assert (stat(pc, "sync_full"), stat(pc, "sync_partial_ok")) == (1, 0)
    assert "Connection with master lost" not in r.log()
    assert "Replication transport changed" not in r.log()


@pytest.mark.parametrize("field", ["repl-id", "repl-offset"])
def test_malformed_history_in_snapshot_is_ignored(server_factory, field):
    """A snapshot whose repl-id is not 40 hex digits, or whose repl-offset
    is not a number, loads its data and starts a fresh history."""
    p = server_factory()
    pc = p.client()
    pc.set("k", "v")
    old = info(pc)["master_replid"]
    pc.save()
    shutdown(p, "NOSAVE")
    path = os.path.join(p.dir, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    if field == "repl-id":
        i = data.index(old.encode())
        data[i:i + 40] = b"Z" * 40
    else:
        i = data.index(b"repl-offset") + len(b"repl-offset")
        data[i:i + 2] = b"\x01x"  # offset 0 is 0xC0 0x00: now the one-byte string "x"
    data[-8:] = b"\x00" * 8  # no checksum: the file is read as it is
    open(path, "wb").write(bytes(data))
    restart(p)
    pc = p.client()
    assert pc.get("k") == b"v"
    assert info(pc)["master_replid"] != old and info(pc)["master_repl_offset"] == 0
    assert "Replication history restored" not in p.log()


def test_sub_replica_full_sync_continues_in_the_streams_db(server_factory):
    """The middle node proxies without a SELECT of its own: a sub-replica
    synced from it while the stream is in db 1 must apply what follows in
    db 1 (the snapshot's repl-stream-db aux field says so)."""
    p = server_factory("--repl-diskless-sync-delay", "0")
    p1 = redis.Redis(port=p.port, db=1)
    try:
        a = server_factory("--repl-diskless-sync-delay", "0", *replica_of(p))
        ac = a.client()
        wait_up(ac)
        p1.set("before", "1")  # the stream is now in db 1
        wait_in_sync(p.client(), ac)
        b = server_factory(*replica_of(a))
        bc = b.client()
        wait_up(bc)
        p1.set("after", "2")  # no SELECT: still db 1
        wait_in_sync(p.client(), bc)
        compare(p, b)
        assert redis.Redis(port=b.port, db=1).get("after") == b"2"
    finally:
        p1.close()
