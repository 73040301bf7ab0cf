"""Shared fixtures: each test gets a real cachet-server process on a free
loopback port, stopped (by PID) after the test even when it fails.

The binary is $CACHET_SERVER or build/cachet-server. When the server's log
holds a sanitizer report the test fails: the sanitizer run of this suite
(`make test-sanitize`) relies on that.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_BIN = os.environ.get("CACHET_SERVER", os.path.join(ROOT, "build", "cachet-server"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


def pytest_configure(config):
    # `make test` runs the suite on four workers (pytest-xdist), then the
    # tests marked solo on their own: those bound how long a PING may wait
    # (a stall detector) or open thousands of sockets, and another test's
    # servers sharing the two cores would make them measure the neighbour.
    config.addinivalue_line("markers", "solo: run alone, after the parallel part of the suite (make test)")


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _port_slice():
    """This process's own range of ports below the kernel's ephemeral range,
    or None when that range starts too low to leave room."""
    hi = min(_ephemeral_low(), 32768)
    lo = 10000
    if hi - lo < 2000:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    idx = int(worker[2:]) if worker[2:].isdigit() else 0
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), idx + 1)
    size = (hi - lo) // count
    return lo + idx * size, lo + (idx + 1) * size


_PORTS = {"slice": None, "next": None}


def free_port():
    """A port nothing listens on now, for a server a test is about to start.

    Taken from a slice of 10000-32767 that belongs to this xdist worker: a
    port the kernel hands out (bind to 0) can be handed out again, to another
    worker's server or as the local port of any outgoing connection, between
    this call and the server's bind, and the server then fails to start or,
    worse, the test talks to someone else's server. Ports below the
    ephemeral range are never given to outgoing connections, and the slices
    keep the workers apart. Each candidate is still test-bound (another
    program may hold it)."""
    if _PORTS["slice"] is None:
        _PORTS["slice"] = _port_slice() or (0, 0)
        lo, hi = _PORTS["slice"]
        _PORTS["next"] = lo + (os.getpid() * 7919) % max(hi - lo, 1)
    lo, hi = _PORTS["slice"]
    for _ in range(max(hi - lo, 1)):
        if hi == 0:
            port = 0
        else:
            port = _PORTS["next"]
            _PORTS["next"] = lo + (port - lo + 1) % (hi - lo)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def wait_until(cond, timeout=10.0, interval=0.01, what="condition"):
    """Poll cond() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - polling tolerates transient errors
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


class Server:
    """A running server process (cachet-server unless binary= says otherwise)
    on a free loopback port, data in directory `tmp_path`. Use .client() for
    a redis-py connection.

    Options for tests that start servers their own way:
      binary        another executable (Debian's redis-server, for comparisons)
      log_dir       where the log goes (and the process's cwd), when the data
                    directory is not the place (a private tmpfs, say)
      wrap          argv -> argv: run the server under a wrapper that execs it
                    (unshare ...); start-up then also waits for that exec
      preexec       passed to Popen (resource limits)
      ready         True: wait until PING answers; False: return once the
                    process runs (a server still loading); a callable(self):
                    wait until it returns true
      stop_nosave   stop with SHUTDOWN NOSAVE before SIGTERM (a server whose
                    final save would fail stays up on SIGTERM, as Redis does)
    """

    def __init__(self, tmp_path, args=(), config=None, *, binary=None, log_dir=None, wrap=None, preexec=None,
                 ready=True, ready_timeout=10, client_timeout=10, stop_nosave=False):
        self.port = free_port()
        self.dir = str(tmp_path)
        self.binary = binary or SERVER_BIN
        self.client_timeout = client_timeout
        self.stop_nosave = stop_nosave
        cwd = str(log_dir) if log_dir else self.dir
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(cwd, exist_ok=True)
        self.log_path = os.path.join(cwd, f"server-{self.port}.log" if log_dir else "server.log")
        argv = [self.binary]
        if config is not None:
            conf = os.path.join(self.dir, "cachet.conf")
            with open(conf, "w") as f:
                f.write(config)
            argv.append(conf)
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        argv += [str(a) for a in args]
        self.argv = argv
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(wrap(argv) if wrap else argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=cwd, preexec_fn=preexec)
        self.pid = self.proc.pid
        self._clients = []
        try:
            if wrap:
                real = os.path.realpath(self.binary if os.sep in self.binary else shutil.which(self.binary))
                wait_until(lambda: self._exe() == real, timeout=10, what="the wrapper to exec the server")
            if ready:
                check = self._ping if ready is True else (lambda: self._alive_or_fail() and ready(self))
                wait_until(check, timeout=ready_timeout,
                           what=f"{os.path.basename(self.binary)} on port {self.port} to be ready")
        except BaseException as e:
            self.stop()
            if isinstance(e, AssertionError):
                raise AssertionError("server did not start:\n" + self.log()) from e
            raise

    def _alive_or_fail(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited early:\n" + self.log())
        return True

    def _exe(self):
        self._alive_or_fail()
        return os.path.realpath(f"/proc/{self.pid}/exe")

    def _ping(self):
        self._alive_or_fail()
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            # A server in tls-mode required answers plaintext with one error
            # line: that proves it is up, too.
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-ERR TLS is required"))

    def client(self, **kw):
        kw.setdefault("socket_timeout", self.client_timeout)
        c = redis.Redis(host="127.0.0.1", port=self.port, **kw)
        self._clients.append(c)
        return c

    def raw(self, timeout=5):
        """A plain socket connected to the server."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self._clients.append(s)
        return s

    def log(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
        self._clients = []
        if self.proc.poll() is None:
            refused = b""
            if self.stop_nosave:
                try:  # a TLS-only server refuses it: SIGTERM then
                    with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                        refused = resp_exchange(s, cmd("SHUTDOWN", "NOSAVE"), timeout=10)
                except OSError:
                    refused = b""
            if refused or not self.stop_nosave:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def sanitizer_report(self):
        text = self.log()
        for m in SANITIZER_MARKERS:
            if m in text:
                return text
        return None


@pytest.fixture
def server_factory(tmp_path):
    """Start servers with custom args: server_factory("--maxmemory", "1mb")."""
    started = []

    def make(*args, config=None, binary=None):
        d = tmp_path / f"srv{len(started)}"
        d.mkdir()
        s = Server(d, args, config=config, binary=binary)
        started.append(s)
        return s

    yield make
    reports = []
    for s in started:
        s.stop()
        r = s.sanitizer_report()
        if r:
            reports.append(r)
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


def make_certs(directory, name="Cachet test"):
    """A CA plus server and client certificates (scripts/gen-certs.sh) in
    directory; returns their paths by name (ca_crt, server_key, ...)."""
    subprocess.run([os.path.join(ROOT, "scripts", "gen-certs.sh"), str(directory), name],
                   check=True, capture_output=True)
    paths = {}
    for base in ("ca", "server", "client"):
        for ext in ("crt", "key"):
            paths[f"{base}_{ext}"] = os.path.join(str(directory), f"{base}.{ext}")
    return paths


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """One development CA and its certificates for the whole test session."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def r(server):
    """redis-py client (RESP2, decoded strings) on a fresh server."""
    return server.client(decode_responses=True)


@pytest.fixture
def rb(server):
    """redis-py client returning bytes."""
    return server.client()


def resp_exchange(sock, payload, timeout=5.0, until=None):
    """Send raw bytes and read until `until` bytes are seen (or one reply
    line if None). Returns the bytes read."""
    sock.sendall(payload)
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until is None and data.endswith(b"\r\n"):
            break
        if until is not None and until in data:
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def cmd(*args):
    """Encode one command as a RESP array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_exact(sock, expected, timeout=5.0):
    """Read until len(expected) bytes arrived (or the deadline); return them."""
    sock.settimeout(timeout)
    data = bytearray()  # bytes += would copy everything read so far per chunk
    deadline = time.monotonic() + timeout
    while len(data) < len(expected) and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def exchange(sock, payload, expected):
    """Send payload (if any) and assert the reply bytes are exactly expected."""
    if payload:
        sock.sendall(payload)
    got = read_exact(sock, expected)
    assert got == expected
    return got
