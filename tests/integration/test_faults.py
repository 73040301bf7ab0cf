"""Faults an operator meets in production, and what the server must do:

- the disk fills up (a small tmpfs mounted in a private mount namespace that
  only the server sees, and RLIMIT_FSIZE where mounts are not permitted), the
  snapshot directory turns read-only, the snapshot or the child's temp file is
  deleted while a BGSAVE runs: the error is in INFO persistence and the log,
  the previous snapshot keeps its bytes, no temp file is left, writes stop
  with Redis' exact -MISCONF (stop-writes-on-bgsave-error yes) or continue
  (no), and once there is room again a BGSAVE succeeds and writes resume;
- SIGTERM/SIGINT while the snapshot loads (`key-load-delay` makes the load
  slow): exit 0, nothing saved over the good file; SIGKILL while loading:
  the restart loads the last good snapshot;
- maxmemory with each of the 8 policies while several clients write at once:
  used_memory, sampled during the run, stays within maxmemory + MARGIN and
  reads keep being answered; noeviction answers writers with Redis' exact
  -OOM while reads and DEL work.

test_persistence.py already covers a removed dir, kill -9 of the child or of
the server during BGSAVE and MISCONF after a failed scheduled save; this file
does not repeat them. Servers started here are stopped by PID (the PID of the
`unshare ... sh -c 'mount ... && exec cachet-server'` wrapper is checked to
have become the server before anything else happens).
"""
import glob
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import Server, cmd, free_port, resp_exchange, wait_until

MISCONF = (b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
           b"Commands that may modify the data set are disabled, because this instance is configured to report "
           b"errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
           b"Redis logs for details about the RDB error.\r\n")
OOM = "OOM command not allowed when used memory > 'maxmemory'."


# ---- servers started our own way ------------------------------------------

def can_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


needs_mount_ns = pytest.mark.skipif(not can_unshare(), reason="needs root and mount namespaces (unshare -m)")


class Proc(Server):
    """A cachet-server in data directory `d` with its log in `logdir`.
    tmpfs="256k" starts it inside its own mount namespace with a tmpfs of
    that size over d (the host never sees the mount; files are read through
    /proc/PID/root). ready=False returns as soon as the process runs (for
    servers that are still loading and do not answer yet). It stops with
    SHUTDOWN NOSAVE first: on a full disk a SIGTERM's final save fails and
    the server stays up, as Redis does."""

    def __init__(self, d, logdir, args=(), tmpfs=None, preexec=None, ready=True):
        wrap = None
        if tmpfs:
            # "$0" is the directory, "$@" the server's argv: no quoting games.
            def wrap(argv):
                return ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o size={tmpfs} tmpfs "$0" && exec "$@"',
                        str(d)] + argv
        self.ns = bool(tmpfs)
        super().__init__(d, args, log_dir=logdir, wrap=wrap, preexec=preexec, ready=ready, ready_timeout=20,
                         client_timeout=15, stop_nosave=True)

    def path(self, name=""):
        """A file in the data directory as the server sees it."""
        base = f"/proc/{self.pid}/root{self.dir}" if self.ns else self.dir
        return os.path.join(base, name) if name else base

    def read(self, name="dump.rdb"):
        with open(self.path(name), "rb") as f:
            return f.read()

    def temps(self):
        return sorted(glob.glob(os.path.join(self.path(), "temp-*.rdb")))

    def nsmount(self, opts):
        subprocess.run(["nsenter", "-t", str(self.pid), "-m", "mount", "-o", opts, self.dir], check=True,
                       capture_output=True)

    def call(self, *args):
        """One command over a fresh connection: the reply's exact bytes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            return resp_exchange(s, cmd(*args), timeout=10)


@pytest.fixture
def procs():
    started = []
    yield started
    reports = []
    for p in started:
        p.stop()
        rep = p.sanitizer_report()
        if rep:
            reports.append(rep)
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


def persistence(r):
    return r.info("persistence")


def bgsave_and_wait(p, r, timeout=30):
    """BGSAVE; the final rdb_last_bgsave_status."""
    assert p.call("BGSAVE") == b"+Background saving started\r\n"
    wait_until(lambda: persistence(r)["rdb_bgsave_in_progress"] == 0, timeout=timeout, what="BGSAVE to end")
    return persistence(r)["rdb_last_bgsave_status"]


def fill(r, n, size, prefix="big"):
    """n keys of `size` random (incompressible) bytes."""
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{prefix}:{i}", os.urandom(size))
    assert all(pipe.execute())


def keys_in_snapshot(data, tmp_path, *args):
    """Loads snapshot bytes in a fresh server: its DBSIZE."""
    d = tmp_path / f"load-{free_port()}"
    d.mkdir()
    (d / "dump.rdb").write_bytes(data)
    s = Server(d, args)
    try:
        return s.client().dbsize()
    finally:
        s.stop()


# ---- disk full -----------------------------------------------------------------

@needs_mount_ns
@pytest.mark.parametrize("stop_writes", ["yes", "no"])
def test_disk_full_keeps_the_previous_snapshot_and_recovers(procs, tmp_path, stop_writes):
    p = Proc(tmp_path / "data", tmp_path / "logs", ("--save", "3600 1", "--stop-writes-on-bgsave-error", stop_writes),
             tmpfs="256k")
    procs.append(p)
    r = p.client()
    for i in range(20):
        r.set(f"small:{i}", f"v{i}")
    assert r.execute_command("SAVE")
    good = p.read()
    assert good.startswith(b"REDIS")

    fill(r, 64, 8192)  # 512 KiB of random bytes: twice the tmpfs
    assert bgsave_and_wait(p, r) == "err"
    assert "No space left on device" in p.log()
    with pytest.raises(redis.ResponseError):
        r.execute_command("SAVE")
    assert p.log().count("No space left on device") >= 2  # the child's and SAVE's
    assert p.read() == good
    assert p.temps() == []

    if stop_writes == "yes":
        assert p.call("SET", "k", "v") == MISCONF
        assert p.call("PING") == MISCONF  # as Redis: PING tells a client persistence is broken
        assert p.call("DEL", "small:0") == MISCONF
        assert r.get("small:1") == b"v1" and r.dbsize() == 84  # reads still served
        # Make room: the operator grows the volume.
        p.nsmount("remount,size=4m")
    else:
        assert r.set("k", "v")
        # Make room: the data shrinks.
        assert r.delete(*[f"big:{i}" for i in range(60)]) == 60
    assert bgsave_and_wait(p, r) == "ok"
    assert p.call("SET", "after", "1") == b"+OK\r\n"
    assert p.temps() == []
    now = p.read()
    assert now != good
    expect = 84 if stop_writes == "yes" else 25  # 20 small + big (64 or 4) + "k" if it was accepted
    assert keys_in_snapshot(now, tmp_path) == expect
    assert keys_in_snapshot(good, tmp_path) == 20


def set_fsize(limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_file_size_limit_fails_the_save_with_efbig_not_a_crash(procs, tmp_path):
    """RLIMIT_FSIZE (ulimit -f) is the disk-full case where no mount is
    permitted. The server ignores SIGXFSZ, so the write fails with EFBIG and
    the log says "File too large": a SAVE does not kill the server and the
    child does not die by signal 25."""
    p = Proc(tmp_path / "data", tmp_path / "logs", ("--save", "3600 1"), preexec=set_fsize(128 * 1024))
    procs.append(p)
    r = p.client()
    r.set("small", "v")
    assert r.execute_command("SAVE")
    good = p.read()

    fill(r, 32, 8192)
    assert bgsave_and_wait(p, r) == "err"
    log = p.log()
    assert "File too large" in log and "terminated by signal" not in log
    with pytest.raises(redis.ResponseError):
        r.execute_command("SAVE")
    assert p.proc.poll() is None and r.get("small") == b"v"
    assert p.log().count("File too large") >= 2
    assert p.read() == good and p.temps() == []
    assert p.call("SET", "k", "v") == MISCONF

    assert p.call("DEL", "big:0") == MISCONF  # DEL is a write too
    assert r.config_set("stop-writes-on-bgsave-error", "no")
    assert r.delete(*[f"big:{i}" for i in range(32)]) == 32
    assert r.config_set("stop-writes-on-bgsave-error", "yes")
    assert bgsave_and_wait(p, r) == "ok"
    assert p.call("SET", "k", "v") == b"+OK\r\n"
    assert keys_in_snapshot(p.read(), tmp_path) == 1


# ---- unwritable directory -----------------------------------------------------

@needs_mount_ns
def test_read_only_dir_fails_cleanly_and_recovers(procs, tmp_path):
    """Root ignores mode bits: the directory becomes a read-only mount."""
    p = Proc(tmp_path / "data", tmp_path / "logs", ("--save", "3600 1", "--stop-writes-on-bgsave-error", "no"),
             tmpfs="1m")
    procs.append(p)
    r = p.client()
    r.set("a", "1")
    assert r.execute_command("SAVE")
    good = p.read()
    r.set("b", "2")

    p.nsmount("remount,ro")
    assert bgsave_and_wait(p, r) == "err"
    assert "Failed opening the temp RDB file" in p.log() and "Read-only file system" in p.log()
    with pytest.raises(redis.ResponseError):
        r.execute_command("SAVE")
    assert p.log().count("Read-only file system") >= 2
    assert p.read() == good and p.temps() == []
    assert r.set("c", "3")  # stop-writes-on-bgsave-error no

    p.nsmount("remount,rw")
    assert bgsave_and_wait(p, r) == "ok"
    assert keys_in_snapshot(p.read(), tmp_path) == 3


# ---- files removed while a BGSAVE runs -------------------------------------------

def slow_bgsave_started(p, r, keys=150, delay_us=10000):
    """keys keys, a good SAVE, then a BGSAVE taking keys*delay_us; returns
    once its temp file exists. The good snapshot's bytes."""
    pipe = r.pipeline(transaction=False)
    for i in range(keys):
        pipe.set(f"k:{i}", f"value-{i}")
    pipe.execute()
    assert r.execute_command("SAVE")
    good = p.read()
    r.config_set("rdb-key-save-delay", str(delay_us))
    assert p.call("BGSAVE") == b"+Background saving started\r\n"
    wait_until(lambda: p.temps(), timeout=10, what="the child's temp file")
    assert persistence(r)["rdb_bgsave_in_progress"] == 1
    return good


def test_snapshot_deleted_during_bgsave_is_written_anew(procs, tmp_path):
    p = Proc(tmp_path / "data", tmp_path / "logs")
    procs.append(p)
    r = p.client()
    slow_bgsave_started(p, r)
    os.unlink(p.path("dump.rdb"))
    wait_until(lambda: persistence(r)["rdb_bgsave_in_progress"] == 0, timeout=30, what="BGSAVE to end")
    assert persistence(r)["rdb_last_bgsave_status"] == "ok"
    assert p.temps() == []
    assert keys_in_snapshot(p.read(), tmp_path) == 150


def test_temp_file_deleted_during_bgsave_fails_cleanly(procs, tmp_path):
    p = Proc(tmp_path / "data", tmp_path / "logs")
    procs.append(p)
    r = p.client()
    good = slow_bgsave_started(p, r)
    for t in p.temps():
        os.unlink(t)
    wait_until(lambda: persistence(r)["rdb_bgsave_in_progress"] == 0, timeout=30, what="BGSAVE to end")
    assert persistence(r)["rdb_last_bgsave_status"] == "err"
    log = p.log()
    assert "Error moving temp DB file" in log and "No such file or directory" in log
    assert "Background saving error" in log
    assert p.temps() == [] and sorted(os.listdir(p.path())) == ["dump.rdb"]
    assert p.read() == good
    r.config_set("rdb-key-save-delay", "0")
    assert bgsave_and_wait(p, r) == "ok"
    assert p.read() != good and keys_in_snapshot(p.read(), tmp_path) == 150


# ---- signals while the snapshot loads ------------------------------------------

KEYRING_KEY = "11" * 32


def make_snapshot(tmp_path, n, *args):
    """A directory holding a snapshot of n keys (written by a server with args)."""
    d = tmp_path / "data"
    d.mkdir()
    s = Server(d, args)
    try:
        r = s.client()
        pipe = r.pipeline(transaction=False)
        for i in range(n):
            pipe.set(f"key:{i}", f"value:{i}")
        pipe.execute()
        assert r.execute_command("SAVE")
    finally:
        s.stop()
    return d


def enc_args(tmp_path):
    ring = tmp_path / "ring"
    ring.write_text(f"key k1 {KEYRING_KEY}\ndefault k1\n")
    os.chmod(ring, 0o600)
    return ("--keyring-file", str(ring), "--snapshot-encryption", "yes")


def wait_listening(p):
    """The listener opens before the load starts: a connect succeeds while
    the server still loads (and answers -LOADING)."""
    def ok():
        assert p.proc.poll() is None, "server exited:\n" + p.log()
        socket.create_connection(("127.0.0.1", p.port), timeout=1).close()
        return True
    wait_until(ok, timeout=10, what="the listener")


@pytest.mark.parametrize("sig,encrypted", [(signal.SIGTERM, False), (signal.SIGINT, False),
                                           (signal.SIGTERM, True)],
                         ids=["sigterm", "sigint", "sigterm-sealed"])
def test_shutdown_signal_during_load_exits_cleanly_without_saving(procs, tmp_path, sig, encrypted):
    n = 3000
    extra = enc_args(tmp_path) if encrypted else ()
    d = make_snapshot(tmp_path, n, *extra)
    good = (d / "dump.rdb").read_bytes()
    assert good.startswith(b"CACHETSEAL" if encrypted else b"REDIS")
    # With a save schedule a normal shutdown saves: during loading it must
    # not (the dataset is partial). 3000 keys x 1 ms = a 3 s load.
    p = Proc(d, tmp_path / "logs", ("--save", "3600 1", "--key-load-delay", "1000") + extra, ready=False)
    procs.append(p)
    wait_until(lambda: "Loading RDB from dump.rdb" in p.log(), timeout=10, what="the load to start")
    t0 = time.monotonic()
    os.kill(p.pid, sig)
    rc = p.proc.wait(timeout=10)
    took = time.monotonic() - t0
    log = p.log()
    assert rc == 0, log
    assert took < 2.5, f"exit took {took:.2f}s"
    name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
    assert f"Received {name} during loading (" in log and "shutting down without saving" in log
    assert ("(sealed)" in log) == encrypted
    assert "Done loading RDB" not in log and "Saving the final RDB snapshot" not in log
    assert "bye bye" in log
    assert (d / "dump.rdb").read_bytes() == good
    assert sorted(f for f in os.listdir(d) if f != "server.log") == ["dump.rdb"]  # no temp file

    s = Server(d, extra)
    try:
        r = s.client(decode_responses=True)
        assert r.dbsize() == n
        assert r.get("key:0") == "value:0" and r.get(f"key:{n - 1}") == f"value:{n - 1}"
    finally:
        s.stop()


def test_sigkill_during_load_restarts_on_the_last_good_snapshot(procs, tmp_path):
    n = 3000
    d = make_snapshot(tmp_path, n)
    good = (d / "dump.rdb").read_bytes()
    p = Proc(d, tmp_path / "logs", ("--save", "3600 1", "--key-load-delay", "1000"), ready=False)
    procs.append(p)
    wait_listening(p)
    os.kill(p.pid, signal.SIGKILL)
    p.proc.wait(timeout=10)
    assert (d / "dump.rdb").read_bytes() == good
    s = Server(d, ())
    try:
        r = s.client(decode_responses=True)
        assert r.dbsize() == n and r.get("key:1234") == "value:1234"
    finally:
        s.stop()


LOADING = "Redis is loading the dataset in memory"


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_clients_get_loading_error_while_the_snapshot_loads(procs, tmp_path, tls_certs, transport):
    """Between keys the load serves sockets once every ~10 ms, as Redis does:
    data commands get -LOADING (redis-py: BusyLoadingError, which clients
    retry), INFO shows the progress, and nothing sees a partial dataset."""
    from tlsutil import tls_client
    n = 1500
    d = make_snapshot(tmp_path, n)
    args = ["--key-load-delay", "1000",  # 1500 keys x 1 ms = a 1.5 s load
            "--enable-debug-command", "yes"]  # DEBUG RELOAD below must meet -LOADING, not the DEBUG refusal
    if transport == "tls":
        args += ["--tls-mode", "preferred", "--tls-cert-file", tls_certs["server_crt"],
                 "--tls-key-file", tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"]]
    p = Proc(d, tmp_path / "logs", args, ready=False)
    procs.append(p)
    wait_until(lambda: "Loading RDB from dump.rdb" in p.log(), timeout=10, what="the load to start")
    r = tls_client(None, tls_certs, port=p.port) if transport == "tls" else p.client()
    try:
        t0 = time.monotonic()
        with pytest.raises(redis.BusyLoadingError) as e:
            r.get("key:0")
        assert str(e.value) == LOADING
        assert time.monotonic() - t0 < 1.0, "the -LOADING reply must come while loading, not after"
        for args_ in (("DBSIZE",), ("SET", "x", "1"), ("PING",), ("KEYS", "*"), ("DEBUG", "RELOAD")):
            with pytest.raises(redis.BusyLoadingError):
                r.execute_command(*args_)
        info = r.info("persistence")
        assert info["loading"] == 1
        assert info["loading_total_bytes"] == os.path.getsize(d / "dump.rdb")
        assert 0 <= info["loading_loaded_bytes"] <= info["loading_total_bytes"]
        assert 0 <= info["loading_loaded_perc"] <= 100
        assert r.config_get("key-load-delay") == {"key-load-delay": "1000"}  # CONFIG is a "loading" command
        # Clients that retry get the whole dataset once the load ends.
        wait_until(lambda: r.dbsize() == n, timeout=20, what="the load to finish")
        assert r.get("key:0") == b"value:0" and r.info("persistence")["loading"] == 0
        assert r.set("x", "1") and r.get(f"key:{n - 1}") == f"value:{n - 1}".encode()
    finally:
        r.close()
    assert "Done loading RDB, keys loaded: 1500" in p.log()


def test_shutdown_command_during_load_exits_without_saving(procs, tmp_path):
    n = 3000
    d = make_snapshot(tmp_path, n)
    good = (d / "dump.rdb").read_bytes()
    p = Proc(d, tmp_path / "logs", ("--save", "3600 1", "--key-load-delay", "1000"), ready=False)
    procs.append(p)
    wait_until(lambda: "Loading RDB from dump.rdb" in p.log(), timeout=10, what="the load to start")
    r = p.client()
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "SAVE")  # SAVE is overruled: the dataset is partial
    assert p.proc.wait(timeout=10) == 0
    log = p.log()
    assert "Saving the final RDB snapshot" not in log and "Done loading RDB" not in log and "bye bye" in log
    assert (d / "dump.rdb").read_bytes() == good


def test_key_load_delay_is_a_config(procs, tmp_path):
    p = Proc(tmp_path / "data", tmp_path / "logs")
    procs.append(p)
    r = p.client(decode_responses=True)
    assert r.config_get("key-load-delay") == {"key-load-delay": "0"}
    assert r.config_set("key-load-delay", "-5")
    assert r.config_get("key-load-delay") == {"key-load-delay": "-5"}
    with pytest.raises(redis.ResponseError):
        r.config_set("key-load-delay", "abc")


# ---- maxmemory under concurrent writers ----------------------------------------

MAXMEMORY = 4 * 1024 * 1024
# Allowed overshoot of used_memory over maxmemory while 4 pipelining writers
# run (docs/hardening.md "Faults" lists what each policy reached). Eviction
# runs before every write, so the overshoot is one command's value plus the
# clients' query and reply buffers (pipelines of 50 x 512 B).
MARGIN = 64 * 1024
WRITERS = 4
RUN_SECONDS = 1.5
EVICTING = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
            "volatile-ttl"]


class Load:
    """WRITERS threads writing pipelines, one sampling used_memory and one
    reading a key, for RUN_SECONDS."""

    def __init__(self, p, policy, connect=None):
        self.p, self.policy = p, policy
        self.connect = connect or (lambda **kw: p.client(**kw))
        self.stop = threading.Event()
        self.errors, self.failures = [], []
        self.written = [0] * WRITERS
        self.samples, self.reads = [], []

    def writer(self, idx):
        try:
            r = self.connect()
            value = b"x" * 512
            i = 0
            volatile = self.policy.startswith("volatile")
            while not self.stop.is_set():
                pipe = r.pipeline(transaction=False)
                for _ in range(50):
                    # volatile-ttl: varied TTLs so it has a choice.
                    pipe.set(f"w{idx}:{i}", value, ex=(100 + i % 1000) if volatile else None)
                    i += 1
                for rep in pipe.execute(raise_on_error=False):
                    if isinstance(rep, Exception):
                        self.errors.append(str(rep))
                    else:
                        self.written[idx] += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.failures.append(repr(e))

    def sampler(self):
        try:
            r = self.connect(decode_responses=True)
            while not self.stop.is_set():
                self.samples.append(int(r.info("memory")["used_memory"]))
        except Exception as e:  # noqa: BLE001
            self.failures.append(repr(e))

    def reader(self):
        try:
            r = self.connect(socket_timeout=5)
            while not self.stop.is_set():
                t = time.monotonic()
                r.get("w0:0")  # evicted or not: a reply must come
                self.reads.append(time.monotonic() - t)
        except Exception as e:  # noqa: BLE001
            self.failures.append(repr(e))

    def pushed(self):
        """The writers have offered three times maxmemory (or been refused)."""
        return (sum(self.written) * 512 > 3 * MAXMEMORY or len(self.errors) > 100) and \
            len(self.samples) >= 10 and len(self.reads) >= 10

    def run(self, seconds=RUN_SECONDS):
        """At least `seconds`, and on a slow (loaded, sanitized) server until
        the limit was really pushed, for at most a minute."""
        threads = [threading.Thread(target=self.writer, args=(i,)) for i in range(WRITERS)]
        threads += [threading.Thread(target=self.sampler), threading.Thread(target=self.reader)]
        for t in threads:
            t.start()
        start = time.monotonic()
        while not self.failures:
            elapsed = time.monotonic() - start
            if elapsed >= 60 or (elapsed >= seconds and self.pushed()):
                break
            time.sleep(0.05)
        self.stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert not self.failures, self.failures


@pytest.mark.parametrize("policy", EVICTING)
def test_eviction_under_concurrent_writers_stays_bounded(procs, tmp_path, policy):
    p = Proc(tmp_path / "data", tmp_path / "logs", ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", policy))
    procs.append(p)
    r = p.client(decode_responses=True)
    load = Load(p, policy)
    load.run()
    peak = max(load.samples)
    # INFO evicts before it answers (as in Redis), so its samples show the
    # state between commands; used_memory_peak is also sampled by the cron,
    # which can land right after a write and before the next eviction.
    cron_peak = int(r.info("memory")["used_memory_peak"])
    print(f"\n{policy}: samples={len(load.samples)} peak used_memory={peak} "
          f"over={peak - MAXMEMORY} used_memory_peak over={cron_peak - MAXMEMORY} written={sum(load.written)} "
          f"reads={len(load.reads)} max_read={max(load.reads):.3f}s evicted={r.info('stats')['evicted_keys']}")
    assert cron_peak <= MAXMEMORY + MARGIN, f"{policy}: used_memory_peak {cron_peak}"
    assert load.errors == [], load.errors[:3]
    assert sum(load.written) * 512 > 2 * MAXMEMORY  # the limit was really pushed
    assert int(r.info("stats")["evicted_keys"]) > 0
    assert len(load.samples) >= 10 and len(load.reads) >= 10
    assert peak <= MAXMEMORY + MARGIN, f"{policy}: peak {peak} > {MAXMEMORY} + {MARGIN}"
    assert int(r.info("memory")["used_memory"]) <= MAXMEMORY + MARGIN
    assert r.ping()


def test_noeviction_under_concurrent_writers(procs, tmp_path):
    p = Proc(tmp_path / "data", tmp_path / "logs", ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy",
                                                    "noeviction"))
    procs.append(p)
    r = p.client(decode_responses=True)
    load = Load(p, "noeviction")
    load.run()
    peak = max(load.samples)
    cron_peak = int(r.info("memory")["used_memory_peak"])
    print(f"\nnoeviction: peak used_memory={peak} over={peak - MAXMEMORY} used_memory_peak over="
          f"{cron_peak - MAXMEMORY} written={sum(load.written)} refused={len(load.errors)}")
    assert load.errors and set(load.errors) == {OOM}
    assert peak <= MAXMEMORY + MARGIN and cron_peak <= MAXMEMORY + MARGIN
    assert int(r.info("stats")["evicted_keys"]) == 0
    assert len(load.reads) >= 10
    # Full: the exact error on the wire, reads and DEL still work, and DEL
    # makes room for a write.
    assert p.call("SET", "more", "x" * 512) == b"-" + OOM.encode() + b"\r\n"
    assert r.get("w0:0") == "x" * 512
    assert r.delete(*[f"w{w}:{i}" for w in range(WRITERS) for i in range(200)]) >= 200
    assert p.call("SET", "more", "x") == b"+OK\r\n"


def test_eviction_under_concurrent_tls_writers(procs, tmp_path, tls_certs):
    """The same over TLS, where reads and replies go through the TLS
    connection's own buffers."""
    from tlsutil import tls_client
    p = Proc(tmp_path / "data", tmp_path / "logs",
             ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "allkeys-lru", "--tls-mode", "required",
              "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file", tls_certs["server_key"],
              "--tls-ca-cert-file", tls_certs["ca_crt"]))
    procs.append(p)
    clients = []

    def connect(**kw):
        c = tls_client(None, tls_certs, port=p.port, **kw)
        clients.append(c)
        return c
    try:
        r = connect(decode_responses=True)
        load = Load(p, "allkeys-lru", connect)
        load.run()
        peak = max(load.samples)
        cron_peak = int(r.info("memory")["used_memory_peak"])
        print(f"\nallkeys-lru over TLS: peak used_memory over={peak - MAXMEMORY} used_memory_peak over="
              f"{cron_peak - MAXMEMORY} written={sum(load.written)} reads={len(load.reads)}")
        assert load.errors == [] and int(r.info("stats")["evicted_keys"]) > 0
        assert len(load.samples) >= 10 and len(load.reads) >= 10
        assert peak <= MAXMEMORY + MARGIN and cron_peak <= MAXMEMORY + MARGIN
    finally:
        for c in clients:
            c.close()
