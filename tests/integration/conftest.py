"""Shared fixtures: each test gets a real cachet-server process on a free
loopback port, stopped (by PID) after the test even when it fails.

The binary is $CACHET_SERVER or build/cachet-server. When the server's log
holds a sanitizer report the test fails: the sanitizer run of this suite
(`make test-sanitize`) relies on that.
"""
import os
import socket
import subprocess
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_BIN = os.environ.get("CACHET_SERVER", os.path.join(ROOT, "build", "cachet-server"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    """A running cachet-server. Use .client() for a redis-py connection."""

    def __init__(self, tmp_path, args=(), config=None):
        self.port = free_port()
        self.dir = str(tmp_path)
        self.log_path = os.path.join(self.dir, "server.log")
        argv = [SERVER_BIN]
        if config is not None:
            conf = os.path.join(self.dir, "cachet.conf")
            with open(conf, "w") as f:
                f.write(config)
            argv.append(conf)
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        argv += [str(a) for a in args]
        self.argv = argv
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        self.pid = self.proc.pid
        self._clients = []
        try:
            wait_until(self._ping, timeout=10, what=f"cachet-server on port {self.port} to answer PING")
        except AssertionError:
            self.stop()
            raise AssertionError("server did not start:\n" + self.log())

    def _ping(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited early:\n" + self.log())
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            # A server in tls-mode required answers plaintext with one error
            # line: that proves it is up, too.
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-ERR TLS is required"))

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
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

    def make(*args, config=None):
        d = tmp_path / f"srv{len(started)}"
        d.mkdir()
        s = Server(d, args, config=config)
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
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < len(expected) and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def exchange(sock, payload, expected):
    """Send payload (if any) and assert the reply bytes are exactly expected."""
    if payload:
        sock.sendall(payload)
    got = read_exact(sock, expected)
    assert got == expected
    return got
