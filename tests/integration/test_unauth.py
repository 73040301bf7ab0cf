"""What a client that has not authenticated can make the server hold.

A client that never reads and keeps sending requests before AUTH gets a
-NOAUTH reply per request; the server closes it once 1 KiB of such replies
waits (Redis 7.0.15's fix for CVE-2025-21605 closes it 1 KiB past its 16 KiB
static buffer). So it cannot grow its output buffer, its server's RSS, or,
under maxmemory with an evicting policy, evict the dataset. Over plaintext
and TLS (the main port in tls-mode preferred).
"""
import socket
import ssl

import pytest

from conftest import wait_until
from tlsutil import client_context, info_int, tls_client

PASS = "s3cret"


def tls_args(c):
    return ("--tls-mode", "preferred", "--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"],
            "--tls-ca-cert-file", c["ca_crt"])


def connect(port, transport, certs):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    # A client that does not read: keep our receive window small, so the
    # replies stay in the server rather than in our kernel.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if transport == "tls":
        return client_context(certs["ca_crt"]).wrap_socket(raw, server_hostname="localhost")
    return raw


def flood(sock, payload, total):
    """Send payload repeatedly (total bytes), never reading. Returns the
    bytes sent before the server closed the connection."""
    chunk = payload * (65536 // len(payload))
    sent = 0
    try:
        while sent < total:
            sock.sendall(chunk)
            sent += len(chunk)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
        pass
    return sent


@pytest.mark.parametrize("transport", ["plain", "tls"])
@pytest.mark.parametrize("payload", [b"PING\r\n", b"*1\r\n$4\r\nPING\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"])
def test_non_reading_unauthenticated_client_is_closed(server_factory, tls_certs, transport, payload):
    s = server_factory(*tls_args(tls_certs), "--requirepass", PASS, "--maxmemory", "40mb",
                       "--maxmemory-policy", "allkeys-lru")
    admin = tls_client(s, tls_certs, password=PASS)
    pipe = admin.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"key:{i}", "v" * 1000)
    pipe.execute()
    base = info_int(admin, "used_memory", "memory")
    victim = connect(s.port, transport, tls_certs)
    s._clients.append(victim)
    # 8 MB of requests: ~45 MB of -NOAUTH replies if they were all kept.
    flood(victim, payload, 8 << 20)

    def only_admin():
        return len(admin.execute_command("CLIENT", "LIST").splitlines()) == 1
    wait_until(only_admin, timeout=10, what="the flooding client to be closed")
    assert info_int(admin, "client_output_buffer_limit_disconnections", "stats") >= 1
    assert admin.dbsize() == 2000, "the dataset was evicted"
    assert info_int(admin, "evicted_keys", "stats") == 0
    assert info_int(admin, "used_memory", "memory") < base + (2 << 20)
    # What it did receive before being closed: at most ~1 KiB of -NOAUTH.
    victim.settimeout(5)
    got = b""
    try:
        while True:
            d = victim.recv(65536)
            if not d:
                break
            got += d
    except (OSError, ssl.SSLError):
        pass
    assert len(got) <= 2048 and set(got.split(b"\r\n")) <= {b"-NOAUTH Authentication required.", b""}


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_a_few_pipelined_requests_before_auth_are_still_answered(server_factory, tls_certs, transport):
    s = server_factory(*tls_args(tls_certs), "--requirepass", PASS)
    c = connect(s.port, transport, tls_certs)
    s._clients.append(c)
    c.sendall(b"PING\r\n" * 10 + b"AUTH " + PASS.encode() + b"\r\n" + b"PING\r\n" * 2000)
    want = b"-NOAUTH Authentication required.\r\n" * 10 + b"+OK\r\n" + b"+PONG\r\n" * 2000
    got = b""
    while len(got) < len(want):
        d = c.recv(65536)
        assert d, f"closed after {len(got)} bytes"
        got += d
    assert got == want


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_unauthenticated_inline_request_does_not_keep_its_argument_arrays(server_factory, tls_certs, transport):
    s = server_factory(*tls_args(tls_certs), "--requirepass", PASS)
    admin = tls_client(s, tls_certs, password=PASS)
    c = connect(s.port, transport, tls_certs)
    s._clients.append(c)
    c.sendall(b"PING" + b" x" * 30000 + b"\r\n")  # one inline line of 30,001 arguments
    assert c.recv(64).startswith(b"-NOAUTH")

    def small():
        for line in admin.execute_command("CLIENT", "LIST").decode().splitlines():
            if " cmd=ping " in line:
                return int(line.split(" tot-mem=")[1].split()[0]) < 100000
        return False
    wait_until(small, timeout=5, what="the unauthenticated client's memory to be small")
