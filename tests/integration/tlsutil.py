"""Helpers for the TLS integration tests (test_tls.py): TLS client sockets
and redis-py clients, a small RESP reader usable on plain and TLS sockets,
INFO parsing that keeps every value a string (a certificate serial like
"1000" or "12E4" must not turn into a number), certificates with chosen
validity dates (openssl ca), and a ClientHello captured from a MemoryBIO
handshake for raw-socket bad-input tests.

Nothing here starts or stops servers; test_tls.py does that.
"""
import os
import shutil
import socket
import ssl
import subprocess
import time
import warnings

import redis

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
TLS_REQUIRED_LINE = b"-ERR TLS is required on this port; connect with TLS (e.g. redis-cli --tls)\r\n"


# --- RESP over any socket (plain or ssl.SSLSocket) -------------------------

def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Resp:
    """Reads whole RESP2 replies from a socket, one per read() call."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        sock.settimeout(timeout)

    def send(self, *args):
        self.sock.sendall(enc(*args))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        """The next n bytes and the CRLF after them; returns the n bytes."""
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return redis.ResponseError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise AssertionError("unexpected reply line %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.read()


def read_to_eof(sock, timeout=10.0):
    """Read until the peer closes; returns (data, closed). A reset counts
    as closed. closed is False when the deadline passed first."""
    deadline = time.monotonic() + timeout
    data = bytearray()  # bytes += would copy everything read so far per chunk
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(0.5, deadline - time.monotonic())))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), True
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


# --- INFO ------------------------------------------------------------------

def parse_info(text):
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def raw_info_client(client):
    """Make client.execute_command("INFO", ...) return the raw text."""
    client.set_response_callback("INFO", lambda resp, **kw: resp)
    return client


def info(client, section="everything"):
    """INFO as a dict of strings, from a redis-py client or a Resp."""
    if isinstance(client, Resp):
        return parse_info(client.call("INFO", section))
    raw_info_client(client)
    return parse_info(client.execute_command("INFO", section))


def info_int(client, field, section="everything"):
    return int(info(client, section)[field])


# --- TLS clients -------------------------------------------------------------

def client_context(ca=None, cert=None, key=None, verify=True, min_version=None, max_version=None,
                   ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(ca)
        ctx.check_hostname = False  # we connect to 127.0.0.1; the chain is what matters
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if min_version is not None:
            ctx.minimum_version = min_version
        if max_version is not None:
            ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_socket(port, ctx, session=None, timeout=5.0, owner=None):
    """Connect and finish the TLS handshake; returns the ssl.SSLSocket.
    owner (a conftest Server) closes it at teardown."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    except BaseException:
        raw.close()
        raise
    if owner is not None:
        owner._clients.append(s)
    return s


def tls_resp(server, certs=None, ca=None, cert=None, key=None, port=None, timeout=5.0):
    """A Resp over a verified TLS connection to server (or port)."""
    ca = ca or certs["ca_crt"]
    ctx = client_context(ca, cert, key)
    s = tls_socket(port or server.port, ctx, timeout=timeout, owner=server)
    return Resp(s, timeout=timeout)


def tls_client(server, certs, port=None, **kw):
    """redis-py client over TLS, verifying the server against certs' CA."""
    kw.setdefault("socket_timeout", 10)
    c = redis.Redis(host="127.0.0.1", port=port or server.port, ssl=True,
                    ssl_ca_certs=certs["ca_crt"] if isinstance(certs, dict) else certs,
                    ssl_cert_reqs="required", **kw)
    if server is not None:
        server._clients.append(c)
    return c


def tls_attempt_ping(port, ctx, timeout=5.0):
    """Try handshake + PING. Returns the reply bytes, or the exception /
    b"" (EOF) that stopped it. TLS 1.3 servers report a refused client
    certificate only after the client's handshake returned, so the PING
    round trip is part of "did the handshake succeed"."""
    try:
        s = tls_socket(port, ctx, timeout=timeout)
    except (ssl.SSLError, OSError) as e:
        return e
    try:
        s.sendall(b"PING\r\n")
        data, _ = read_to_eof_or_line(s, timeout)
        return data
    except (ssl.SSLError, OSError) as e:
        return e
    finally:
        s.close()


def read_to_eof_or_line(sock, timeout):
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline and not data.endswith(b"\r\n"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return data, True
        data += chunk
    return data, False


def client_hello_bytes(max_version=None):
    """The first flight of a real TLS client handshake (a ClientHello
    record), captured through a MemoryBIO: send it on raw sockets to make
    the server start handshakes without the client's crypto cost."""
    ctx = client_context(verify=False, max_version=max_version)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    data = out.read()
    assert data[:1] == b"\x16", data[:8]
    return data


# --- certificates ------------------------------------------------------------

def openssl(*args, input=None, check=True):
    return subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=check, timeout=60)


def cert_serial(path=None, der=None):
    """Serial as openssl prints it (hex, upper case, no 'serial=')."""
    if der is not None:
        out = openssl("x509", "-inform", "DER", "-serial", "-noout", input=der).stdout
    else:
        out = openssl("x509", "-in", path, "-serial", "-noout").stdout
    return out.decode().strip().split("=", 1)[1]


def cert_dates(path):
    """(notBefore, notAfter) strings exactly as openssl x509 prints them."""
    nb = openssl("x509", "-in", path, "-startdate", "-noout").stdout.decode().strip().split("=", 1)[1]
    na = openssl("x509", "-in", path, "-enddate", "-noout").stdout.decode().strip().split("=", 1)[1]
    return nb, na


def cert_enddate_epoch(path):
    import datetime
    na = cert_dates(path)[1]
    dt = datetime.datetime.strptime(na.replace("  ", " "), "%b %d %H:%M:%S %Y GMT")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def peer_serial(sock):
    return cert_serial(der=sock.getpeercert(binary_form=True))


CA_CONF = """[ ca ]
default_ca = CA_default
[ CA_default ]
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
[ policy_any ]
commonName = supplied
[ server_ext ]
subjectAltName = DNS:localhost,IP:127.0.0.1
keyUsage = digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
"""


def make_dated_cert(certs, directory, name, startdate, enddate):
    """A server certificate signed by certs' CA with the given validity
    (openssl ca dates, e.g. 20200101000000Z): returns (crt, key) paths.
    OpenSSL 3.0's `x509 -req` cannot back-date, `ca -startdate` can."""
    d = os.path.join(str(directory), "ca-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CONF.format(d=d))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write(os.urandom(8).hex().upper() + "\n")
    key = os.path.join(str(directory), name + ".key")
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(str(directory), name + ".crt")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", "/CN=localhost",
            "-out", csr)
    openssl("ca", "-batch", "-config", os.path.join(d, "ca.cnf"), "-cert", certs["ca_crt"],
            "-keyfile", certs["ca_key"], "-extensions", "server_ext", "-startdate", startdate,
            "-enddate", enddate, "-in", csr, "-out", crt, "-notext")
    return crt, key
