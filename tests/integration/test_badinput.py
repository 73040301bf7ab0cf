"""Bad input: malformed RESP (multibulk and inline), bulk lengths over
proto-max-bulk-len, multibulk counts over 1,048,576, query buffers over
client-query-buffer-limit, unknown commands, wrong arity, non-integers where
integers are expected, clients that never read (output buffer limits), more
connections than maxclients, and random garbage.

For each: the exact bytes Redis 7.0 sends (checked against redis-server
7.0.15), the connection closed where Redis closes it (protocol errors,
limits) and kept where it does not (command errors), the case logged where
Cachet logs it, nothing changed in the keyspace, and a second, well-behaved
client connected throughout that sees exactly its own replies before and
after. The sanitizer run (conftest) fails any test whose server log holds a
sanitizer report."""
import random
import socket
import time

import pytest

from conftest import cmd, exchange, read_exact, wait_until

KEEP = {b"keep:str": b"hello", b"keep:num": b"42", b"keep:ttl": b"v"}


def seed(r):
    """Data that bad input must never change."""
    for k, v in KEEP.items():
        r.set(k, v)
    r.expire(b"keep:ttl", 1000)


class Observer:
    """A well-behaved raw-socket client connected for the whole test. Replies
    on one connection are ordered, so reading exactly the expected bytes
    proves no stray byte reached this client before them."""

    def __init__(self, server):
        self.sock = server.raw()

    def check(self):
        payload = cmd("PING") + b"".join(cmd("GET", k) for k in KEEP) + cmd("EXISTS", "evil")
        expected = b"+PONG\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(v), v) for v in KEEP.values()) + b":0\r\n"
        exchange(self.sock, payload, expected)

    def call(self, *args, expected):
        exchange(self.sock, cmd(*args), expected)

    def bulk(self, *args):
        """Send a command whose reply is a bulk string; return its payload."""
        self.sock.sendall(cmd(*args))
        head = b""
        while not head.endswith(b"\r\n"):
            head += self.sock.recv(1)
        assert head.startswith(b"$"), head
        n = int(head[1:-2])
        body = read_exact(self.sock, b"x" * (n + 2))
        return body[:n]


def read_to_eof(sock, timeout=5.0):
    """Read until the server closes the connection; returns (bytes, closed)."""
    sock.settimeout(timeout)
    data = bytearray()  # bytes += would copy everything read so far per chunk
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), False
        except ConnectionResetError:
            return bytes(data), True
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


def send_quietly(sock, payload):
    """sendall that tolerates the server closing the connection mid-send."""
    try:
        sock.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass


def enc_many(*args):
    """cmd() for very many arguments: one join instead of quadratic +=."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def info_field(r, section, name):
    return r.info(section)[name]


def log_has(server, text, timeout=5):
    wait_until(lambda: text in server.log(), timeout=timeout, what=f"server log to mention {text!r}")


@pytest.fixture
def env(server):
    """(server, redis-py client, observer) with the KEEP data in place."""
    r = server.client()
    seed(r)
    obs = Observer(server)
    obs.check()
    return server, r, obs


def assert_unharmed(server, r, obs, dirty_before=None):
    assert server.alive()
    obs.check()
    assert r.ttl(b"keep:ttl") > 900
    assert r.ttl(b"keep:str") == -1
    if dirty_before is not None:
        assert info_field(r, "persistence", "rdb_changes_since_last_save") == dirty_before


# ---- protocol errors: error text, then the connection is closed ------------

EVIL = cmd("SET", "evil", "1")  # must never run: it follows the error

PROTOCOL_CASES = [
    # (id, payload, error text, append EVIL after the payload)
    ("mbulk-count-not-a-number", b"*abc\r\n", "Protocol error: invalid multibulk length", True),
    ("mbulk-count-leading-zero", b"*01\r\n", "Protocol error: invalid multibulk length", True),
    ("mbulk-count-minus-zero", b"*-01\r\n", "Protocol error: invalid multibulk length", True),
    ("mbulk-count-overflow", b"*99999999999999999999\r\n", "Protocol error: invalid multibulk length", True),
    # The limit is 1024*1024 arguments (Redis <= 6.2). Redis 7.0.15
    # accepts counts up to INT_MAX and waits for the arguments instead.
    ("mbulk-count-1048577", b"*1048577\r\n", "Protocol error: invalid multibulk length", True),
    ("mbulk-count-int-max+1", b"*2147483648\r\n", "Protocol error: invalid multibulk length", True),
    ("bulk-len-minus-one", b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length", True),
    ("bulk-len-negative", b"*1\r\n$-5\r\n", "Protocol error: invalid bulk length", True),
    ("bulk-len-not-a-number", b"*1\r\n$abc\r\n", "Protocol error: invalid bulk length", True),
    ("bulk-len-leading-zero", b"*1\r\n$01\r\nx\r\n", "Protocol error: invalid bulk length", True),
    ("bulk-len-overflow", b"*1\r\n$9999999999999999999999\r\n", "Protocol error: invalid bulk length", True),
    ("bulk-len-over-512mb", b"*2\r\n$3\r\nGET\r\n$536870913\r\n", "Protocol error: invalid bulk length", True),
    ("expected-dollar-got-x", b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'", True),
    ("expected-dollar-got-colon", b"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'", True),
    ("count-too-high-for-args", b"*2\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
     "Protocol error: expected '$', got '*'", True),
    ("second-arg-bad", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n+v\r\n", "Protocol error: expected '$', got '+'", True),
    ("inline-unbalanced-double", b'SET "evil 1\r\n', "Protocol error: unbalanced quotes in request", True),
    ("inline-unbalanced-single", b"SET 'evil 1\r\n", "Protocol error: unbalanced quotes in request", True),
    ("inline-closing-quote-glued", b'SET "evil"x 1\r\n', "Protocol error: unbalanced quotes in request", True),
    ("inline-too-big", b"x" * (64 * 1024 + 10), "Protocol error: too big inline request", False),
    ("mbulk-count-line-too-big", b"*" + b"1" * (64 * 1024 + 10), "Protocol error: too big mbulk count string", False),
    ("bulk-count-line-too-big", b"*1\r\n$" + b"1" * (64 * 1024 + 10), "Protocol error: too big bulk count string",
     False),
]


@pytest.mark.parametrize("payload,err,trailer", [c[1:] for c in PROTOCOL_CASES], ids=[c[0] for c in PROTOCOL_CASES])
def test_protocol_error_replies_closes_and_logs(env, payload, err, trailer):
    server, r, obs = env
    dirty = info_field(r, "persistence", "rdb_changes_since_last_save")
    s = server.raw()
    send_quietly(s, payload + (EVIL if trailer else b""))
    data, closed = read_to_eof(s)
    assert data == b"-ERR " + err.encode() + b"\r\n"
    assert closed, "Redis closes the connection after a protocol error"
    log_has(server, f"Protocol error ({err}) from client: id=")
    assert_unharmed(server, r, obs, dirty)
    assert info_field(r, "clients", "connected_clients") == 2  # the bad client is gone


def test_protocol_error_after_partial_reads(env):
    """The same errors when the frame arrives a byte at a time."""
    server, r, obs = env
    s = server.raw()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in b"*2\r\n$3\r\nGET\r\n$-7\r\n":
        s.sendall(bytes([b]))
    data, closed = read_to_eof(s)
    assert (data, closed) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert_unharmed(server, r, obs)


def test_valid_frames_byte_by_byte(env):
    """Partial frames are not errors: a pipeline dripped one byte per send
    gets every reply, in order."""
    server, r, obs = env
    s = server.raw()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = cmd("SET", "drip", "x" * 40) + b"APPEND drip yz\r\n" + cmd("STRLEN", "drip") + b"*0\r\n*-1\r\n\r\nPING\r\n"
    for b in payload:
        s.sendall(bytes([b]))
    exchange(s, None, b"+OK\r\n:42\r\n:42\r\n+PONG\r\n")
    r.delete("drip")
    assert_unharmed(server, r, obs)


def test_bulk_length_over_proto_max_bulk_len(env):
    server, r, obs = env
    assert r.config_set("proto-max-bulk-len", "1mb")
    limit = 1024 * 1024
    # Just above: refused from the header alone, before any data is sent.
    s = server.raw()
    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nevil\r\n$%d\r\n" % (limit + 1))
    data, closed = read_to_eof(s)
    assert (data, closed) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    log_has(server, "Protocol error (Protocol error: invalid bulk length)")
    # Exactly at the limit: accepted.
    s2 = server.raw()
    exchange(s2, cmd("SET", "atlimit", b"z" * limit), b"+OK\r\n")
    exchange(s2, cmd("STRLEN", "atlimit"), b":%d\r\n" % limit)
    r.delete("atlimit")
    assert_unharmed(server, r, obs)


def test_missing_crlf_after_bulk_data_is_skipped_like_redis(env):
    """Redis 7.0 skips the two bytes after bulk data without checking them;
    Cachet does the same, so the connection stays usable."""
    server, r, obs = env
    s = server.raw()
    exchange(s, b"*1\r\n$4\r\nPINGxx", b"+PONG\r\n")
    exchange(s, b"*2\r\n$3\r\nGET\r\n$8\r\nkeep:numXX*1\r\n$4\r\nPING\r\n", b"$2\r\n42\r\n+PONG\r\n")
    # Fewer bytes than declared: the server waits for the rest, then answers.
    s.sendall(b"*2\r\n$4\r\nECHO\r\n$10\r\nabc")
    exchange(s, b"defghij\r\n", b"$10\r\nabcdefghij\r\n")
    assert_unharmed(server, r, obs)


def test_non_resp_leading_bytes_are_inline_commands(env):
    """A frame not starting with '*' is an inline command, as in Redis."""
    server, r, obs = env
    s = server.raw()
    exchange(s, b"$4\r\nPING\r\n", b"-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n")
    exchange(s, b"\r\n\r\n \r\n*0\r\n*-1\r\n*-2\r\nPING\r\n", b"+PONG\r\n")
    assert_unharmed(server, r, obs)


def test_inline_line_limit(env):
    """Inline lines up to 64 KiB are parsed; longer without a newline are a
    protocol error (covered above)."""
    server, r, obs = env
    s = server.raw()
    name = b"y" * 60000
    exchange(s, b"ECHO " + name + b"\r\n", b"$60000\r\n" + name + b"\r\n")
    assert_unharmed(server, r, obs)


def test_protocol_error_inside_multi_discards_the_transaction(env):
    server, r, obs = env
    s = server.raw()
    exchange(s, cmd("WATCH", "keep:str") + cmd("MULTI") + EVIL, b"+OK\r\n+OK\r\n+QUEUED\r\n")
    s.sendall(b"*1\r\n$z\r\n" + cmd("EXEC"))  # the EXEC after the error never runs
    data, closed = read_to_eof(s)
    assert (data, closed) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    wait_until(lambda: info_field(r, "clients", "connected_clients") == 2, what="the client to be freed")
    assert r.exists("evil") == 0  # the queued SET died with the client
    r.set("keep:str", "hello")  # the dropped WATCH must not linger
    assert_unharmed(server, r, obs)


def test_protocol_error_from_subscriber_drops_its_subscriptions(env):
    server, r, obs = env
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "ch") + cmd("PSUBSCRIBE", "p*"),
             b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n")
    s.sendall(b"*1\r\n$-2\r\n")
    data, closed = read_to_eof(s)
    assert (data, closed) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    wait_until(lambda: r.pubsub_numsub("ch") == [(b"ch", 0)] and r.pubsub_numpat() == 0,
               what="the subscriptions to be dropped")
    assert r.publish("ch", "x") == 0
    assert_unharmed(server, r, obs)


# ---- a pipelined burst with an error in the middle -------------------------

def test_pipeline_protocol_error_in_the_middle(env):
    server, r, obs = env
    s = server.raw()
    payload = (cmd("SET", "p", "1") + cmd("INCR", "p") + b"PING\r\n" + b"*1\r\n$x\r\n" + cmd("SET", "p", "evil") +
               EVIL)
    s.sendall(payload)
    data, closed = read_to_eof(s)
    assert data == b"+OK\r\n:2\r\n+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert closed
    assert r.get("p") == b"2"  # nothing after the error ran
    r.delete("p")
    assert_unharmed(server, r, obs)


def test_pipeline_command_errors_in_the_middle_do_not_stop_it(env):
    server, r, obs = env
    s = server.raw()
    payload = (cmd("SET", "p", "1") + b"foo a\r\n" + cmd("GET") + cmd("INCRBY", "p", "x") + cmd("INCR", "p") +
               b"PING\r\n")
    exchange(s, payload,
             b"+OK\r\n-ERR unknown command 'foo', with args beginning with: 'a' \r\n"
             b"-ERR wrong number of arguments for 'get' command\r\n"
             b"-ERR value is not an integer or out of range\r\n:2\r\n+PONG\r\n")
    r.delete("p")
    assert_unharmed(server, r, obs)


# ---- command errors: error text, connection stays usable, nothing changes --

COMMAND_CASES = [
    ("unknown-with-args", b"foo a b\r\n", b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"),
    ("unknown-no-args", b"foo\r\n", b"-ERR unknown command 'foo', with args beginning with: \r\n"),
    ("unknown-multibulk", cmd("x"), b"-ERR unknown command 'x', with args beginning with: \r\n"),
    ("unknown-empty-name", cmd(""), b"-ERR unknown command '', with args beginning with: \r\n"),
    ("unknown-long-name", b"f" * 200 + b" a\r\n",
     b"-ERR unknown command '" + b"f" * 128 + b"', with args beginning with: 'a' \r\n"),
    ("unknown-long-arg", b"foo " + b"x" * 200 + b"\r\n",
     b"-ERR unknown command 'foo', with args beginning with: '" + b"x" * 128 + b"' \r\n"),
    ("unknown-many-args", b"foo " + b"'x' " * 100 + b"\r\n",
     b"-ERR unknown command 'foo', with args beginning with: " + b"'x' " * 32 + b"\r\n"),
    ("unknown-subcommand", b"OBJECT FOO\r\n", b"-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n"),
    ("arity-too-few", b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    ("arity-too-many", b"GET keep:str b\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    ("arity-variadic", cmd("SET", "keep:str"), b"-ERR wrong number of arguments for 'set' command\r\n"),
    ("arity-subcommand", b"CLIENT KILL\r\n", b"-ERR wrong number of arguments for 'client|kill' command\r\n"),
    ("int-letters", cmd("INCRBY", "keep:num", "x"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-float", cmd("INCRBY", "keep:num", "1.5"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-overflow", cmd("INCRBY", "keep:num", "99999999999999999999"),
     b"-ERR value is not an integer or out of range\r\n"),
    ("int-plus-sign", cmd("INCRBY", "keep:num", "+1"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-leading-zero", cmd("INCRBY", "keep:num", "01"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-space", cmd("INCRBY", "keep:num", " 1"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-value-not-int", cmd("INCR", "keep:str"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-expire", cmd("EXPIRE", "keep:str", "1.5"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-set-ex", cmd("SET", "keep:str", "evil", "EX", "abc"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-set-ex-zero", cmd("SET", "keep:str", "evil", "EX", "0"), b"-ERR invalid expire time in 'set' command\r\n"),
    ("int-getrange", cmd("GETRANGE", "keep:str", "a", "b"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-setrange", cmd("SETRANGE", "keep:str", "x", "y"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-setrange-negative", cmd("SETRANGE", "keep:str", "-1", "y"), b"-ERR offset is out of range\r\n"),
    ("int-setex", cmd("SETEX", "keep:str", "abc", "v"), b"-ERR value is not an integer or out of range\r\n"),
    ("int-select", cmd("SELECT", "x"), b"-ERR value is not an integer or out of range\r\n"),
    ("select-range", cmd("SELECT", "99"), b"-ERR DB index is out of range\r\n"),
    ("float-incrbyfloat", cmd("INCRBYFLOAT", "keep:num", "abc"), b"-ERR value is not a valid float\r\n"),
    ("scan-cursor", cmd("SCAN", "x"), b"-ERR invalid cursor\r\n"),
    ("scan-count", cmd("SCAN", "0", "COUNT", "x"), b"-ERR value is not an integer or out of range\r\n"),
    ("pexpire-overflow", cmd("PEXPIRE", "keep:str", "9223372036854775807"),
     b"-ERR invalid expire time in 'pexpire' command\r\n"),
    ("config-set-int", cmd("CONFIG", "SET", "maxclients", "abc"),
     b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an "
     b"integer\r\n"),
]


@pytest.mark.parametrize("payload,expected", [c[1:] for c in COMMAND_CASES], ids=[c[0] for c in COMMAND_CASES])
def test_command_error_keeps_connection_and_data(env, payload, expected):
    server, r, obs = env
    dirty = info_field(r, "persistence", "rdb_changes_since_last_save")
    s = server.raw()
    exchange(s, payload, expected)
    exchange(s, b"PING\r\n", b"+PONG\r\n")  # still usable
    exchange(s, cmd("GET", "keep:num"), b"$2\r\n42\r\n")  # still in db 0
    assert_unharmed(server, r, obs, dirty)


def test_command_errors_are_logged(env):
    server, r, obs = env
    s = server.raw()
    exchange(s, b"foo a\r\n", b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n")
    exchange(s, b"PING\r\n", b"+PONG\r\n")  # the command was handled: any log line is written by now
    log_has(server, "unknown command", timeout=0.5)


def test_unauthenticated_request_size_is_bounded(server_factory):
    server = server_factory("--requirepass", "pw")
    s = server.raw()
    s.sendall(b"*11\r\n")
    assert read_to_eof(s, timeout=1) == (b"-ERR Protocol error: unauthenticated multibulk length\r\n", True)
    s = server.raw()
    s.sendall(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
    assert read_to_eof(s, timeout=1) == (b"-ERR Protocol error: unauthenticated bulk length\r\n", True)


def test_unauthenticated_bad_input(server_factory):
    """Without AUTH: command errors keep Redis' precedence (unknown command and
    arity before NOAUTH), protocol errors still close."""
    server = server_factory("--requirepass", "pw")
    s = server.raw()
    exchange(s, b"foo a\r\n", b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n")
    exchange(s, b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n")
    exchange(s, b"GET a\r\n", b"-NOAUTH Authentication required.\r\n")
    s.sendall(b"*1\r\n$-3\r\n")
    assert read_to_eof(s) == (b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert server.alive()


# ---- query buffer limit ----------------------------------------------------

def test_query_buffer_limit_closes_client(env):
    server, r, obs = env
    assert r.config_set("client-query-buffer-limit", "1mb")
    s = server.raw()
    # A 3 MB argument, 1.5 MB of it sent: the unparsed query buffer passes 1 MB.
    send_quietly(s, b"*3\r\n$3\r\nSET\r\n$4\r\nevil\r\n$3000000\r\n" + b"y" * 1500000)
    data, closed = read_to_eof(s)
    assert (data, closed) == (b"", True)  # Redis closes without a reply
    log_has(server, "Closing client that reached max query buffer length")
    assert info_field(r, "stats", "client_query_buffer_limit_disconnections") == 1
    wait_until(lambda: info_field(r, "clients", "connected_clients") == 2, what="the client to be freed")
    assert_unharmed(server, r, obs)


def test_query_buffer_limit_spares_large_pipelines(env):
    """The limit is on unparsed input: a pipeline far bigger than the limit is
    served, since it is consumed as it is read."""
    server, r, obs = env
    assert r.config_set("client-query-buffer-limit", "1mb")
    s = server.raw()
    n = 3000
    payload = b"".join(cmd("SET", "pl:%d" % i, b"v" * 1000) for i in range(n))  # ~3 MB
    s.sendall(payload)
    exchange(s, None, b"+OK\r\n" * n)
    assert info_field(r, "stats", "client_query_buffer_limit_disconnections") == 0
    assert r.dbsize() == len(KEEP) + n
    r.flushdb()
    seed(r)
    assert_unharmed(server, r, obs)


# ---- output buffer limit: a client that never reads ------------------------

def test_output_buffer_limit_disconnects_non_reader(env):
    server, r, obs = env
    assert r.config_set("client-output-buffer-limit", "normal 1mb 512kb 0")
    big = b"b" * 100000
    r.set("big", big)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fill the kernel buffers fast
    s.settimeout(5)
    s.connect(("127.0.0.1", server.port))
    try:
        s.sendall(cmd("GET", "big") * 300)  # ~30 MB of replies, never read
        wait_until(lambda: info_field(r, "stats", "client_output_buffer_limit_disconnections") == 1,
                   what="the non-reading client to be disconnected")
        log_has(server, "scheduled to be closed ASAP for overcoming of output buffer limits")
        wait_until(lambda: info_field(r, "clients", "connected_clients") == 2, what="the client to be freed")
        # A client reading its replies one at a time stays connected.
        for _ in range(20):
            obs.call("GET", "big", expected=b"$100000\r\n" + big + b"\r\n")
        assert info_field(r, "stats", "client_output_buffer_limit_disconnections") == 1
        r.delete("big")
        assert_unharmed(server, r, obs)
    finally:
        s.close()


# ---- maxclients ----------------------------------------------------------

def test_maxclients_rejects_with_error_and_closes(env):
    server, r, obs = env
    r.connection_pool.disconnect()  # leave exactly one client (the observer)
    wait_until(lambda: obs.bulk("CLIENT", "LIST").count(b"id=") == 1, what="redis-py's connection to be freed")
    obs.call("CONFIG", "SET", "maxclients", "2", expected=b"+OK\r\n")
    second = server.raw()
    exchange(second, b"PING\r\n", b"+PONG\r\n")
    for _ in range(3):
        third = server.raw()
        data, closed = read_to_eof(third)
        assert (data, closed) == (b"-ERR max number of clients reached\r\n", True)
    log_has(server, "max number of clients reached")
    exchange(second, b"PING\r\n", b"+PONG\r\n")  # existing clients unaffected
    obs.check()
    # A freed slot is usable again.
    second.close()

    def slot_free():
        s = server.raw()
        s.sendall(b"PING\r\n")
        data = read_exact(s, b"+PONG\r\n")
        s.close()
        return data == b"+PONG\r\n"

    wait_until(slot_free, what="a new client to be accepted after one left")
    obs.call("CONFIG", "SET", "maxclients", "10000", expected=b"+OK\r\n")
    assert info_field(r, "stats", "rejected_connections") >= 3
    assert_unharmed(server, r, obs)


# ---- huge argument counts within the limits --------------------------------

def test_huge_argument_counts_within_limits(env):
    server, r, obs = env
    s = server.raw(timeout=30)
    n = 100000
    mset = [b"MSET"]
    for i in range(n):
        mset += [b"h:%d" % i, b"%d" % i]
    exchange(s, enc_many(*mset), b"+OK\r\n")
    exchange(s, cmd("DBSIZE"), b":%d\r\n" % (n + len(KEEP)))
    exchange(s, cmd("GET", "h:99999"), b"$5\r\n99999\r\n")
    exchange(s, enc_many(b"DEL", *[b"h:%d" % i for i in range(n)]), b":%d\r\n" % n)
    # Exactly 1024*1024 arguments: accepted (one more is a protocol error).
    argc = 1024 * 1024
    payload = b"*%d\r\n$6\r\nEXISTS\r\n" % argc + b"$8\r\nkeep:num\r\n" * (argc - 1)
    s.sendall(payload)
    # Seconds under ASan (the query buffer grows 16 KiB per read: quadratic with a copying realloc).
    assert read_exact(s, b":%d\r\n" % (argc - 1), timeout=60) == b":%d\r\n" % (argc - 1)
    exchange(s, b"PING\r\n", b"+PONG\r\n")
    assert_unharmed(server, r, obs)


# ---- random garbage --------------------------------------------------------

SAFE = [b"GET", b"SET", b"INCR", b"INCRBY", b"DEL", b"EXISTS", b"APPEND", b"STRLEN", b"GETRANGE", b"EXPIRE",
        b"TTL", b"PING", b"ECHO", b"MGET", b"TYPE", b"DECR", b"SETNX", b"GETDEL", b"MSET"]
ALPHABET = b"*$:+-\r\n0123456789abcxyz \"'\\"


def fuzz_frame(rng):
    kind = rng.random()
    if kind < 0.25:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    if kind < 0.5:
        return bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40)))
    args = [rng.choice(SAFE)] + [rng.choice([b"fz:a", b"fz:b", b"1", b"-3", b"x" * rng.randint(0, 20), b"10"])
                                 for _ in range(rng.randint(0, 4))]
    frame = bytearray(cmd(*args) if rng.random() < 0.7 else b" ".join(args) + b"\r\n")
    for _ in range(rng.randint(0, 3)):  # mutate: flip, cut, insert
        op, i = rng.random(), rng.randrange(len(frame))
        if op < 0.4:
            frame[i] = rng.choice(ALPHABET + b"\x00\xff")
        elif op < 0.7:
            del frame[i:]
            if not frame:
                frame = bytearray(b"*")
        else:
            frame[i:i] = bytes(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
    return bytes(frame)


def fuzz_round(server, rng, frames, nconn=4):
    conns = [None] * nconn

    def reopen(i):
        if conns[i] is not None:
            conns[i].close()
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        exchange(s, cmd("SELECT", "9"), b"+OK\r\n")
        s.setblocking(False)
        conns[i] = s

    for i in range(nconn):
        reopen(i)
    for n in range(frames):
        i = rng.randrange(nconn)
        if n % 50 == 49:  # reset parser states now and then
            reopen(i)
        try:
            conns[i].sendall(fuzz_frame(rng))
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            reopen(i)
            continue
        try:
            while True:  # drain replies so they never pile up
                if not conns[i].recv(65536):
                    reopen(i)
                    break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            reopen(i)
    for s in conns:
        s.close()


def settled_memory(server, r):
    """used_memory once only r and the observer remain and db 9 is empty."""
    wait_until(lambda: info_field(r, "clients", "connected_clients") == 2, what="fuzz clients to be freed")
    r9 = server.client(db=9)
    r9.flushdb()
    r9.connection_pool.disconnect()
    wait_until(lambda: info_field(r, "clients", "connected_clients") == 2, what="the db 9 client to be freed")
    return info_field(r, "memory", "used_memory")


def test_random_garbage_never_crashes_or_leaks(env):
    server, r, obs = env
    assert r.config_set("proto-max-bulk-len", "1mb")  # bounds what a garbage header may preallocate
    assert r.config_set("slowlog-log-slower-than", "-1")  # slowlog entries are not leaks
    rng = random.Random(20240501)
    fuzz_round(server, rng, 500)  # warm up: tables grown, buffers sized
    base = settled_memory(server, r)
    fuzz_round(server, rng, 2000)
    assert server.alive()
    after = settled_memory(server, r)
    assert after - base < 64 * 1024, f"used_memory grew from {base} to {after} over 2,000 garbage frames"
    log_has(server, "Protocol error (")
    assert_unharmed(server, r, obs)
    assert r.dbsize() == len(KEEP)
