"""CLIENT PAUSE / CLIENT UNPAUSE (pause.c), as Redis 7.0 behaves.

A paused request waits in its client's query buffer and is counted in
INFO blocked_clients; the tests poll that count (with a deadline) to know a
client is waiting, then assert the reply arrives only after the unpause.
Every test runs over plaintext and over TLS (tls-mode preferred, one port).
"""
import socket
import time

import pytest
import redis

from conftest import cmd, read_exact, wait_until
from tlsutil import client_context, tls_socket


def tls_args(certs):
    return ("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"])


@pytest.fixture(params=["plain", "tls"])
def env(request, server_factory, tls_certs):
    """(server, admin client, raw-socket opener) over the parametrized transport."""
    srv = server_factory(*tls_args(tls_certs))
    if request.param == "tls":
        ctx = client_context(tls_certs["ca_crt"])

        def raw():
            return tls_socket(srv.port, ctx, owner=srv)

        admin = redis.Redis(host="127.0.0.1", port=srv.port, ssl=True, ssl_ca_certs=tls_certs["ca_crt"],
                            ssl_cert_reqs="required", socket_timeout=10, decode_responses=True)
    else:
        def raw():
            return srv.raw()

        admin = srv.client(decode_responses=True)
    try:
        yield srv, admin, raw
    finally:
        try:
            admin.execute_command("CLIENT", "UNPAUSE")
        except redis.RedisError:
            pass


def blocked(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n):
    wait_until(lambda: blocked(r) == n, timeout=5, what=f"blocked_clients == {n}")


def send(raw, *args):
    s = raw()
    s.sendall(cmd(*args))
    return s


def assert_silent(sock, window=0.2):
    sock.settimeout(window)
    try:
        data = sock.recv(1024)
    except (socket.timeout, TimeoutError):
        return
    raise AssertionError(f"reply while paused: {data!r}")


def pause(r, ms, mode=None):
    args = ["CLIENT", "PAUSE", str(ms)] + ([mode] if mode else [])
    assert r.execute_command(*args) == "OK"


def test_reads_run_under_a_write_pause(env):
    srv, r, raw = env
    r.set("foo", "bar")
    pause(r, 100000, "WRITE")
    s = send(raw, "GET", "foo")
    assert read_exact(s, b"$3\r\nbar\r\n") == b"$3\r\nbar\r\n"
    s2 = send(raw, "PING")
    assert read_exact(s2, b"+PONG\r\n") == b"+PONG\r\n"
    assert blocked(r) == 0


def test_writes_wait_for_unpause_then_run(env):
    srv, r, raw = env
    pause(r, 60000, "WRITE")
    clients = [send(raw, "SET", f"k{i}", "v") for i in range(3)]
    wait_blocked(r, 3)
    for s in clients:
        assert_silent(s)
    assert r.exists("k0", "k1", "k2") == 0
    assert r.execute_command("CLIENT", "UNPAUSE") == "OK"
    for s in clients:
        assert read_exact(s, b"+OK\r\n") == b"+OK\r\n"
    assert r.exists("k0", "k1", "k2") == 3
    assert blocked(r) == 0


def test_pause_all_holds_every_command_and_ends_by_itself(env):
    """Under ALL even INFO and CLIENT UNPAUSE wait (as in Redis 7.0), so
    nothing can be polled: the replies must come, and not before the end."""
    srv, r, raw = env
    r.set("foo", "bar")
    start = time.monotonic()
    pause(r, 400, "ALL")
    s = send(raw, "GET", "foo")
    s2 = send(raw, "CLIENT", "UNPAUSE")
    assert read_exact(s, b"$3\r\nbar\r\n", timeout=10) == b"$3\r\nbar\r\n"
    assert read_exact(s2, b"+OK\r\n", timeout=10) == b"+OK\r\n"
    assert time.monotonic() - start >= 0.35


def test_the_stricter_and_longer_pause_wins(env):
    """PAUSE ALL 500 ms, then PAUSE WRITE 10 ms: the later, narrower and
    shorter one changes nothing, so a read still waits for the first."""
    srv, r, raw = env
    start = time.monotonic()
    pause(r, 500, "ALL")
    second = send(raw, "CLIENT", "PAUSE", "10", "WRITE")
    s = send(raw, "GET", "foo")
    assert read_exact(s, b"$-1\r\n", timeout=10) == b"$-1\r\n"
    assert time.monotonic() - start >= 0.45
    assert read_exact(second, b"+OK\r\n", timeout=10) == b"+OK\r\n"
    # A longer pause is not shortened by a shorter one either.
    pause(r, 60000, "WRITE")
    pause(r, 10, "WRITE")
    w = send(raw, "SET", "foo", "bar")
    wait_blocked(r, 1)
    assert_silent(w, 0.3)
    r.execute_command("CLIENT", "UNPAUSE")
    assert read_exact(w, b"+OK\r\n") == b"+OK\r\n"


def test_publish_and_writing_scripts_wait_but_no_writes_scripts_run(env):
    srv, r, raw = env
    r.execute_command("FUNCTION", "LOAD", "#!lua name=lib\n"
                      "redis.register_function{function_name='ro', callback=function() return 'hello' end,"
                      " flags={'no-writes'}}\n"
                      "redis.register_function('rw', function() return redis.call('set', 'f', 1) end)")
    sha = r.execute_command("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 3")
    pause(r, 60000, "WRITE")
    # SCRIPT LOAD is replicated in Redis 7.0, so it waits too.
    waiting = [send(raw, "PUBLISH", "ch", "m"), send(raw, "EVAL", "return 1", "0"),
               send(raw, "EVAL", "#!lua\nreturn 1", "0"), send(raw, "FCALL", "rw", "0"),
               send(raw, "SCRIPT", "LOAD", "return 4")]
    wait_blocked(r, 5)
    # Declared read-only work is not held back.
    assert r.execute_command("EVAL", "#!lua flags=no-writes\nreturn 'unique'", "0") == "unique"
    assert r.execute_command("EVAL_RO", "return 2", "0") == 2
    assert r.execute_command("EVALSHA", sha, "0") == 3
    assert r.execute_command("FCALL", "ro", "0") == "hello"
    assert blocked(r) == 5
    r.execute_command("CLIENT", "UNPAUSE")
    assert read_exact(waiting[0], b":0\r\n") == b":0\r\n"
    assert read_exact(waiting[1], b":1\r\n") == b":1\r\n"
    assert read_exact(waiting[2], b":1\r\n") == b":1\r\n"
    assert read_exact(waiting[3], b"+OK\r\n") == b"+OK\r\n"
    assert read_exact(waiting[4], b"$40\r\n")[:5] == b"$40\r\n"


def test_transactions_wait_only_when_they_write(env):
    srv, r, raw = env
    r.set("foo", "bar")
    writer = raw()
    writer.sendall(cmd("MULTI") + cmd("SET", "foo", "baz"))
    assert read_exact(writer, b"+OK\r\n+QUEUED\r\n") == b"+OK\r\n+QUEUED\r\n"
    pause(r, 60000, "WRITE")
    reader = raw()
    reader.sendall(cmd("MULTI") + cmd("PING") + cmd("GET", "foo") + cmd("EXEC"))
    want = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n$3\r\nbar\r\n"
    assert read_exact(reader, want) == want
    roscripts = raw()
    roscripts.sendall(cmd("MULTI") + cmd("EVAL", "#!lua flags=no-writes\nreturn 12", "0") + cmd("EXEC"))
    want = b"+OK\r\n+QUEUED\r\n*1\r\n:12\r\n"
    assert read_exact(roscripts, want) == want
    writer.sendall(cmd("EXEC"))
    wait_blocked(r, 1)
    assert_silent(writer)
    r.execute_command("CLIENT", "UNPAUSE")
    assert read_exact(writer, b"*1\r\n+OK\r\n") == b"*1\r\n+OK\r\n"
    assert r.get("foo") == "baz"


def test_pause_starts_at_the_end_of_the_transaction(env):
    srv, r, raw = env
    p = r.pipeline(transaction=True)
    p.set("a{t}", "1")
    p.execute_command("CLIENT", "PAUSE", "60000", "WRITE")
    p.set("b{t}", "2")
    res = p.execute()
    assert res[0] is True and res[2] is True, res
    assert r.get("a{t}") == "1" and r.get("b{t}") == "2"
    s = send(raw, "SET", "c{t}", "3")
    wait_blocked(r, 1)
    assert r.get("c{t}") is None
    r.execute_command("CLIENT", "UNPAUSE")
    assert read_exact(s, b"+OK\r\n") == b"+OK\r\n"


def test_wrong_calls_get_their_error_at_once(env):
    srv, r, raw = env
    pause(r, 100000, "WRITE")
    s = send(raw, "SET", "foo")
    want = b"-ERR wrong number of arguments for 'set' command\r\n"
    assert read_exact(s, want) == want
    assert blocked(r) == 0


def test_no_key_expires_during_a_pause(env):
    srv, r, raw = env
    expired = r.info("stats")["expired_keys"]
    p = r.pipeline(transaction=True)
    p.set("foo{t}", "bar", px=10)
    p.set("bar{t}", "foo", px=10)
    p.execute_command("CLIENT", "PAUSE", "50000", "WRITE")
    p.execute()
    wait_until(lambda: r.get("foo{t}") is None and r.get("bar{t}") is None, timeout=5,
               what="keys logically expired")
    # Hidden from reads, but neither the reads nor the active cycle deleted them.
    assert r.info("stats")["expired_keys"] == expired
    assert r.dbsize() == 2
    # RANDOMKEY must not spin on a db of only expired keys: it names one.
    assert r.randomkey() in ("foo{t}", "bar{t}")
    r.execute_command("CLIENT", "UNPAUSE")
    assert r.get("foo{t}") is None and r.get("bar{t}") is None
    assert r.info("stats")["expired_keys"] == expired + 2
    assert r.randomkey() is None


def test_client_unblock_does_not_release_a_paused_client(env):
    srv, r, raw = env
    ids = []
    socks = []
    for _ in range(2):
        s = raw()
        s.sendall(cmd("CLIENT", "ID"))
        line = b""
        while not line.endswith(b"\r\n"):
            line += s.recv(64)
        ids.append(int(line[1:-2]))
        socks.append(s)
    r.delete("mylist")
    pause(r, 100000, "WRITE")
    socks[0].sendall(cmd("BLPOP", "mylist", "0"))
    socks[1].sendall(cmd("BLPOP", "mylist", "0"))
    wait_blocked(r, 2)
    assert r.execute_command("CLIENT", "UNBLOCK", ids[0], "TIMEOUT") == 0
    assert r.execute_command("CLIENT", "UNBLOCK", ids[1], "ERROR") == 0
    r.execute_command("CLIENT", "UNPAUSE")
    # Now blocked on the key: UNBLOCK works.
    wait_until(lambda: r.execute_command("CLIENT", "UNBLOCK", ids[0], "TIMEOUT") == 1, timeout=5,
               what="first client blocked on mylist")
    assert read_exact(socks[0], b"*-1\r\n") == b"*-1\r\n"
    wait_until(lambda: r.execute_command("CLIENT", "UNBLOCK", ids[1], "ERROR") == 1, timeout=5,
               what="second client blocked on mylist")
    want = b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert read_exact(socks[1], want) == want


def test_a_paused_client_that_disconnects_is_forgotten(env):
    srv, r, raw = env
    pause(r, 60000, "WRITE")
    s = send(raw, "SET", "gone", "1")
    wait_blocked(r, 1)
    s.close()
    wait_until(lambda: blocked(r) == 0, timeout=5, what="the closed client to leave the paused list")
    r.execute_command("CLIENT", "UNPAUSE")
    assert r.set("after", "1") is True
    assert r.exists("gone") == 0


def test_bad_arguments_as_redis(env):
    srv, r, raw = env
    cases = [
        (("CLIENT", "PAUSE", "10", "bogus"), "CLIENT PAUSE mode must be WRITE or ALL"),
        (("CLIENT", "PAUSE", "-1"), "timeout is negative"),
        (("CLIENT", "PAUSE", "abc"), "timeout is not an integer or out of range"),
        (("CLIENT", "PAUSE", "1.5"), "timeout is not an integer or out of range"),
        (("CLIENT", "PAUSE", "10", "all", "extra"),
         "unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."),
        (("CLIENT", "UNPAUSE", "x"), "wrong number of arguments for 'client|unpause' command"),
    ]
    for args, err in cases:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(*args)
        assert str(e.value) == err, args
    # None of them paused anything.
    assert r.set("x", "1") is True
    help_lines = r.execute_command("CLIENT", "HELP")
    assert "PAUSE <timeout> [WRITE|ALL]" in help_lines and "UNPAUSE" in help_lines
