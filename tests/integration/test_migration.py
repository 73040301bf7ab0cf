"""Zero-downtime TLS migration, measured with tools/cachet-load (issue 4).

Each loader runs in the background (-D 0) against a real server while the
test switches tls-mode or rotates the certificate; it is stopped with SIGINT
and its JSON summary says how many ops failed. The loader rewrites a stats
file every second: the tests poll it (never fixed sleeps) and keep every
loader running across each switch until a stats window that lies wholly
after the switch shows ops getting through (about 1-2 s per switch).

Run with `pytest -s` to see the measured figures (one line per step).

The loader binary: $CACHET_LOAD, else cachet-load next to $CACHET_SERVER,
else build/cachet-load in the repository.
"""
import json
import os
import signal
import socket
import ssl
import subprocess

import pytest
import redis

from conftest import make_certs, wait_until
from tlsutil import (cert_serial, client_context, info, info_int, peer_serial, tls_attempt_ping,
                     tls_client, tls_socket)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.environ.get("CACHET_LOAD"):
    LOAD_BIN = os.environ["CACHET_LOAD"]
elif os.environ.get("CACHET_SERVER"):
    LOAD_BIN = os.path.join(os.path.dirname(os.environ["CACHET_SERVER"]), "cachet-load")
else:
    LOAD_BIN = os.path.join(REPO, "build", "cachet-load")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Modest rate: the loaders, the server (maybe under ASan) and pytest share a
# small machine; 2000 ops/s per loader is plenty to hit every switch.
RATE = 2000


class Loader:
    """One cachet-load process in the background."""

    def __init__(self, server, tmp_path, name, conns=8, tls=False, ca=None, extra=()):
        assert os.path.exists(LOAD_BIN), f"{LOAD_BIN} is missing: build it with make"
        self.name = name
        self.conns = conns
        self.ready_file = str(tmp_path / f"{name}.ready")
        self.stats_file = str(tmp_path / f"{name}.stats.json")
        self.err_path = str(tmp_path / f"{name}.stderr")
        argv = [LOAD_BIN, "-p", str(server.port), "-c", str(conns), "-k", "400", "-d", "100",
                "-D", "0", "--timeout", "3000", "--rate", str(RATE), "--prefix", name,
                "--ready-file", self.ready_file, "--stats-file", self.stats_file]
        if tls:
            argv += ["--tls", "--cacert", ca]
        argv += list(extra)
        self.argv = argv
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._err)
        self.result = None

    def stderr(self):
        if not self._err.closed:
            self._err.flush()
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def snapshot(self):
        """The latest stats file (rewritten each second), or None yet."""
        assert self.proc.poll() is None, f"{self.name} exited early:\n{self.stderr()}"
        try:
            with open(self.stats_file) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def wait_ready(self, timeout=15):
        wait_until(lambda: self.proc.poll() is not None or os.path.exists(self.ready_file),
                   timeout=timeout, what=f"{self.name} to prefill and connect")
        assert self.proc.poll() is None, f"{self.name} exited early:\n{self.stderr()}"

    def next_snapshot(self, after, timeout=10):
        """Wait for a stats file written after snapshot `after`."""
        def newer():
            s = self.snapshot()
            return s if s and (after is None or s["duration_s"] > after["duration_s"]) else None
        return wait_until(newer, timeout=timeout, what=f"{self.name} stats update")

    def window(self):
        """Counters over one full stats period that started after now:
        (first, second) snapshots, both written after this call."""
        s0 = self.snapshot()
        s1 = self.next_snapshot(s0)
        s2 = self.next_snapshot(s1)
        return s1, s2

    def keeps_working(self):
        """Assert ops get through, with no failure, over a full stats period
        after now (the loader keeps running across the switch meanwhile)."""
        s1, s2 = self.window()
        assert s2["ok"] > s1["ok"], f"{self.name}: no op got through:\n{self.stderr()[-2000:]}"
        assert s2["failed"] == 0 and s2["connect_errors"] == 0, \
            f"{self.name}: failures: {s2}\n{self.stderr()[-2000:]}"
        return s2

    def stop(self, step):
        """SIGINT, parse the JSON summary, print the measured figures."""
        if self.result is None:
            self.proc.send_signal(signal.SIGINT)
            out, _ = self.proc.communicate(timeout=20)
            self._err.close()
            err = self.stderr()
            for m in SANITIZER_MARKERS:
                assert m not in err, f"sanitizer report from {self.name}:\n{err}"
            assert self.proc.returncode == 0, f"{self.name} exited {self.proc.returncode}:\n{err}"
            self.result = json.loads(out)
            r = self.result
            print(f"[{step}] {self.name}: failed={r['failed']} ok={r['ok']} "
                  f"connect_errors={r['connect_errors']} verify_errors={r['verify_errors']} "
                  f"reconnects={r['reconnects']} timeouts={r['timeouts']} downtime_ms={r['downtime_ms']} "
                  f"p50_us={r['p50_us']} p99_us={r['p99_us']} max_us={r['max_us']} "
                  f"duration_s={r['duration_s']}")
        return self.result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if not self._err.closed:
            self._err.close()


@pytest.fixture
def loaders(tmp_path):
    """Start loaders: loaders(server, name, ...); any still running at the
    end of the test is killed (by its own process)."""
    started = []

    def make(server, name, **kw):
        ld = Loader(server, tmp_path, name, **kw)
        started.append(ld)
        return ld

    yield make
    for ld in started:
        ld.kill()


def tls_args(certs, ca=None):
    return ("--tls-cert-file", certs["server_crt"], "--tls-key-file", certs["server_key"],
            "--tls-ca-cert-file", ca or certs["ca_crt"])


def assert_clean(result, what):
    assert result["failed"] == 0, f"{what}: {result}"
    assert result["connect_errors"] == 0, f"{what}: {result}"
    assert result["verify_errors"] == 0, f"{what}: {result}"
    assert result["ok"] > 0, f"{what}: {result}"


def plain_tcp_clients(admin):
    return info_int(admin, "tls_mode_connected_tcp_clients", "ssl")


# --- 1. none -> preferred -> required --------------------------------------

def test_migration_up_none_preferred_required(server_factory, tls_certs, loaders):
    srv = server_factory(*tls_args(tls_certs))  # tls-mode none, certificate loaded
    admin = srv.client(decode_responses=True)
    assert admin.config_get("tls-mode") == {"tls-mode": "none"}

    plain = loaders(srv, "plain-up", conns=8)
    plain.wait_ready()
    assert admin.config_set("tls-mode", "preferred")
    plain.keeps_working()
    assert_clean(plain.stop("none->preferred"), "plain loader across none->preferred")

    # From here on the admin connection is TLS: required closes plaintext.
    admin = tls_client(srv, tls_certs, decode_responses=True)
    tls = loaders(srv, "tls-up", conns=8, tls=True, ca=tls_certs["ca_crt"])
    doomed = loaders(srv, "plain-doomed", conns=4)
    tls.wait_ready()
    doomed.wait_ready()
    assert admin.config_set("tls-mode", "required")

    # The plaintext clients that were connected are closed and cannot come
    # back: once they are all gone, no op of theirs gets through any more.
    wait_until(lambda: plain_tcp_clients(admin) == 0, what="no plaintext client left")
    wait_until(lambda: doomed.snapshot() and doomed.snapshot()["connected"] == 0
               and doomed.snapshot()["connect_errors"] >= doomed.conns,
               what="plain loader to be cut off")
    s1, s2 = doomed.window()
    assert s2["ok"] == s1["ok"], f"plaintext ops still succeed in required: {s1} {s2}"
    cut = doomed.stop("preferred->required, plain already connected")
    assert cut["connect_errors"] > 0 and cut["connected"] == 0

    # A plaintext loader started now makes no successful op.
    late = loaders(srv, "plain-late", conns=4)
    wait_until(lambda: late.snapshot() and late.snapshot()["connect_errors"] >= 2 * late.conns,
               what="late plain loader to be refused (twice per connection)")
    late_r = late.stop("required, new plain")
    assert late_r["ok"] == 0 and late_r["connect_errors"] > 0, late_r
    assert info_int(admin, "tls_plaintext_rejected", "ssl") >= late_r["connect_errors"]

    tls.keeps_working()
    assert plain_tcp_clients(admin) == 0
    assert_clean(tls.stop("preferred->required"), "TLS loader across preferred->required")
    assert info(admin, "ssl")["tls_mode"] == "required"


# --- 2. required -> preferred -> none ----------------------------------------

def test_migration_back_required_preferred_none(server_factory, tls_certs, loaders):
    srv = server_factory("--tls-mode", "required", *tls_args(tls_certs))
    admin = tls_client(srv, tls_certs, decode_responses=True)
    tls = loaders(srv, "tls-back", conns=8, tls=True, ca=tls_certs["ca_crt"])
    tls.wait_ready()

    assert admin.config_set("tls-mode", "preferred")
    tls.keeps_working()
    plain = loaders(srv, "plain-back", conns=8)
    plain.wait_ready()  # plaintext clients connect again
    plain.keeps_working()

    # none: new TLS handshakes are refused, connected TLS clients are kept.
    assert admin.config_set("tls-mode", "none")
    tls.keeps_working()
    plain.keeps_working()
    refused = tls_attempt_ping(srv.port, client_context(tls_certs["ca_crt"]))
    assert isinstance(refused, (ssl.SSLError, OSError)) or refused == b"", refused
    assert admin.ping()  # the TLS admin connection made before the switch still works
    assert_clean(plain.stop("required->preferred->none"), "plain loader across preferred->none")
    assert_clean(tls.stop("required->preferred->none"), "TLS loader across required->preferred->none")
    assert info_int(admin, "tls_hello_rejected", "ssl") >= 1


# --- 3. certificate rotation under load ---------------------------------------

def test_rotation_to_new_ca_under_load(server_factory, tmp_path, loaders):
    one = make_certs(tmp_path / "ca1", "Cachet CA one")
    two = make_certs(tmp_path / "ca2", "Cachet CA two")
    bundle = str(tmp_path / "both.crt")
    with open(bundle, "w") as out:
        for p in (one["ca_crt"], two["ca_crt"]):
            with open(p) as f:
                out.write(f.read())
    srv = server_factory("--tls-mode", "preferred", *tls_args(one, ca=bundle))
    admin = srv.client(decode_responses=True)
    old_serial, new_serial = cert_serial(one["server_crt"]), cert_serial(two["server_crt"])
    assert old_serial != new_serial
    assert info(admin, "ssl")["ssl_current_certificate_serial"] == old_serial

    tls = loaders(srv, "tls-rotate", conns=8, tls=True, ca=bundle)
    tls.wait_ready()
    assert admin.execute_command("CONFIG", "SET", "tls-cert-file", two["server_crt"],
                                 "tls-key-file", two["server_key"]) in (b"OK", "OK", True)
    tls.keeps_working()

    # New connections get the new certificate; a client trusting only the
    # old CA is now refused, one with the bundle is not.
    s = tls_socket(srv.port, client_context(bundle), owner=srv)
    assert peer_serial(s) == new_serial
    assert info(admin, "ssl")["ssl_current_certificate_serial"] == new_serial
    assert isinstance(tls_attempt_ping(srv.port, client_context(one["ca_crt"])), ssl.SSLError)
    assert tls_attempt_ping(srv.port, client_context(two["ca_crt"])) == b"+PONG\r\n"
    assert_clean(tls.stop("rotation CA1->CA2"), "TLS loader across certificate rotation")


# --- 4. the loader detects what it claims to detect ---------------------------

def test_loader_counts_killed_connections_and_recovers(server_factory, loaders):
    srv = server_factory()
    admin = srv.client(decode_responses=True)
    ld = loaders(srv, "killed", conns=6)
    ld.wait_ready()
    before = ld.snapshot() or {"ok": 0}
    killed = admin.execute_command("CLIENT", "KILL", "TYPE", "normal")  # SKIPME yes: admin stays
    assert killed == 6
    wait_until(lambda: (ld.snapshot() or {}).get("reconnects", 0) >= 6, what="loader to reconnect")
    s1, s2 = ld.window()
    assert s2["ok"] > s1["ok"] > before["ok"], "the loader did not recover"
    r = ld.stop("CLIENT KILL TYPE normal")
    # Every killed connection costs at least the op that found it dead.
    assert r["failed"] >= 6 and r["reconnects"] >= 6, r
    assert r["verify_errors"] == 0 and r["connect_errors"] == 0, r
    assert 0 < r["downtime_ms"], r


def test_loader_verifies_values_written_behind_its_back(server_factory, loaders):
    srv = server_factory()
    admin = srv.client(decode_responses=True)
    # --set-ratio 0: after prefill the loader only reads, so it reads each
    # tampered key before it could overwrite it itself.
    ld = loaders(srv, "verify", conns=4, extra=("--set-ratio", "0"))
    ld.wait_ready()
    assert admin.get("verify:7").startswith("7:0:")  # key i, version 0
    for k in range(10, 19):
        admin.set(f"verify:{k}", "changed behind its back")
    admin.delete("verify:19")
    wait_until(lambda: (ld.snapshot() or {}).get("verify_errors", 0) >= 10, timeout=15,
               what="loader to catch the 10 tampered keys")
    ld.window()  # it keeps reading them: each is repaired, not reported again
    r = ld.stop("tampered keys")
    assert r["verify_errors"] == 10, r
    assert r["failed"] == 0 and r["ok"] > 0, r
    assert admin.get("verify:19") is not None  # rewritten by its owner


def test_loader_usage():
    assert os.path.exists(LOAD_BIN), f"{LOAD_BIN} is missing: build it with make"
    for bad in (["--bogus"], ["-c", "0"], ["--tls-ratio", "2"], ["--cert", "x"], ["-p"], ["extra"]):
        p = subprocess.run([LOAD_BIN, *bad], capture_output=True, timeout=10)
        assert p.returncode == 2, (bad, p)
        assert b"cachet-load" in p.stderr and p.stdout == b""
    p = subprocess.run([LOAD_BIN, "--help"], capture_output=True, timeout=10)
    assert p.returncode == 0 and b"--ready-file" in p.stdout


def test_loader_counts_refused_tls_in_none(server_factory, tls_certs, tmp_path):
    """A TLS loader against a node in none: every attempt is a connect
    error, no op succeeds, and the run ends on time (-D) with exit 0."""
    srv = server_factory(*tls_args(tls_certs))
    p = subprocess.run([LOAD_BIN, "-p", str(srv.port), "-c", "2", "--tls", "--cacert", tls_certs["ca_crt"],
                        "-D", "1", "-q"], capture_output=True, timeout=30)
    assert p.returncode == 0, p
    r = json.loads(p.stdout)
    assert r["ok"] == 0 and r["connect_errors"] >= 2 and r["tls"]["connect_errors"] == r["connect_errors"]
    assert r["prefill_ms"] == -1 and r["downtime_ms"] >= 1500, r
    print(f"[none, TLS loader] connect_errors={r['connect_errors']} ok={r['ok']} downtime_ms={r['downtime_ms']}")


# --- 5. connection pools that open a connection per operation ---------------------

CHURN_SECONDS = float(os.environ.get("CACHET_CHURN_SECONDS", "10"))


def test_new_tls_connections_survive_mode_toggling(server_factory, tls_certs):
    """16 threads open a new TLS connection for every command while tls-mode
    toggles between preferred and required every second. A connection whose
    ClientHello is still in flight at a switch (the threads wait a random
    0-20 ms between connect and handshake, as a network would) must be judged
    by its first byte, not closed as plaintext: 0 failed operations."""
    import random
    import threading
    import time as _time
    srv = server_factory("--tls-mode", "preferred", *tls_args(tls_certs))
    admin = tls_client(srv, tls_certs, decode_responses=True)
    ctx = client_context(tls_certs["ca_crt"])
    stop = threading.Event()
    ok = [0] * 16
    failures = []

    def worker(i):
        rnd = random.Random(i)
        while not stop.is_set():
            try:
                raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                try:
                    _time.sleep(rnd.random() * 0.02)
                    s = ctx.wrap_socket(raw, server_hostname="localhost")
                    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nk:%02d\r\n$1\r\nv\r\n" % i)
                    got = b""
                    while not got.endswith(b"\r\n"):
                        d = s.recv(64)
                        if not d:
                            break
                        got += d
                    if got != b"+OK\r\n":
                        failures.append(got)
                    else:
                        ok[i] += 1
                    s.close()
                finally:
                    raw.close()
            except (OSError, ssl.SSLError) as e:
                failures.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    switches = 0
    try:
        deadline = _time.monotonic() + CHURN_SECONDS
        mode = "preferred"
        while _time.monotonic() < deadline:
            next_at = _time.monotonic() + 1.0
            mode = "required" if mode == "preferred" else "preferred"
            assert admin.config_set("tls-mode", mode)
            switches += 1
            wait_until(lambda: _time.monotonic() >= next_at, timeout=2, interval=0.05, what="the next switch")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
    print(f"[churn] {switches} switches, {sum(ok)} ops, {len(failures)} failed")
    assert failures == [], f"{len(failures)} failed operations, e.g. {failures[:5]}"
    assert all(n > 0 for n in ok), ok
    assert info_int(admin, "tls_plaintext_rejected", "ssl") == 0
    log = srv.log()
    changes = [l for l in log.splitlines() if "TLS mode changed from preferred to required" in l]
    assert len(changes) == (switches + 1) // 2
    assert all(", 0 plaintext clients closed" in l for l in changes), changes
