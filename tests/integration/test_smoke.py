"""The basics every client needs: PING, SET/GET, errors for unknown
commands and wrong arity, inline commands and pipelining."""
from conftest import resp_exchange


def test_ping_set_get(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert r.get("missing") is None


def test_unknown_command_text(server):
    s = server.raw()
    out = resp_exchange(s, b"*3\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nb\r\n")
    assert out == b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"


def test_wrong_arity_text(server):
    s = server.raw()
    assert resp_exchange(s, b"*1\r\n$3\r\nget\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"


def test_inline_with_quotes(server):
    s = server.raw()
    out = resp_exchange(s, b'set "a b" "c\\x41"\r\nget "a b"\r\n', until=b"cA\r\n")
    assert out == b"+OK\r\n$2\r\ncA\r\n"


def test_deep_pipeline(server):
    s = server.raw()
    n = 5000
    payload = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % i), i) for i in range(n))
    payload += b"*1\r\n$4\r\nPING\r\n"
    out = resp_exchange(s, payload, until=b"+PONG\r\n", timeout=20)
    assert out == b"+OK\r\n" * n + b"+PONG\r\n"
