"""Pub/Sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBE forms,
PUBLISH / SPUBLISH, PUBSUB introspection, the RESP2 subscribed-context
restriction, RESP3 push messages, clean-up on disconnect and the pubsub
output-buffer limit. Reply bytes are Redis 7.0's."""
import socket
import time

import pytest
import redis

from conftest import cmd, exchange, read_exact, wait_until



def push(kind, *items, resp=2):
    """Encode a pubsub frame: RESP2 array or RESP3 push."""
    out = (b">%d\r\n" if resp == 3 else b"*%d\r\n") % len(items)
    for it in items:
        if it is None:
            out += b"_\r\n" if resp == 3 else b"$-1\r\n"
        elif isinstance(it, int):
            out += b":%d\r\n" % it
        else:
            it = it if isinstance(it, bytes) else it.encode()
            out += b"$%d\r\n%s\r\n" % (len(it), it)
    return out


def next_message(p, timeout=5.0):
    """Next non-None message from a redis-py PubSub, polling with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.05)
        if m is not None:
            return m
    raise AssertionError("no pubsub message within %.1fs" % timeout)


def hello3(s):
    s.sendall(cmd("HELLO", "3"))
    data = b""
    s.settimeout(5)
    deadline = time.monotonic() + 5
    while b"modules\r\n*0\r\n" not in data and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"%"), data


# ---- redis-py PubSub -------------------------------------------------------


def test_subscribe_publish_unsubscribe(server, r):
    p = r.pubsub()
    p.subscribe("news")
    assert next_message(p) == {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}
    assert r.publish("news", "hello") == 1
    assert next_message(p) == {"type": "message", "pattern": None, "channel": "news", "data": "hello"}
    assert r.publish("other", "x") == 0
    p.unsubscribe("news")
    assert next_message(p) == {"type": "unsubscribe", "pattern": None, "channel": "news", "data": 0}
    assert r.publish("news", "again") == 0
    p.close()


def test_messages_are_binary_safe(server):
    rb = server.client()
    p = rb.pubsub(ignore_subscribe_messages=True)
    p.subscribe(b"bin\x00ch")
    wait_until(lambda: rb.pubsub_numsub(b"bin\x00ch")[0][1] == 1, what="subscription")
    payload = b"a\r\nb\x00\xff" * 1000
    assert rb.publish(b"bin\x00ch", payload) == 1
    m = next_message(p)
    assert m["channel"] == b"bin\x00ch" and m["data"] == payload
    p.close()


def test_patterns_glob(server, r):
    p = r.pubsub()
    p.psubscribe("news.*", "h?llo", "x[ab]")
    counts = [next_message(p)["data"] for _ in range(3)]
    assert counts == [1, 2, 3]
    assert r.publish("news.tech", "m1") == 1
    assert next_message(p) == {"type": "pmessage", "pattern": "news.*", "channel": "news.tech", "data": "m1"}
    assert r.publish("hallo", "m2") == 1
    assert next_message(p)["pattern"] == "h?llo"
    assert r.publish("xb", "m3") == 1
    assert next_message(p)["pattern"] == "x[ab]"
    # Patterns are case-sensitive and anchored.
    assert r.publish("NEWS.tech", "no") == 0
    assert r.publish("xc", "no") == 0
    assert r.publish("news", "no") == 0
    p.punsubscribe("news.*")
    assert next_message(p) == {"type": "punsubscribe", "pattern": None, "channel": "news.*", "data": 2}
    assert r.publish("news.tech", "gone") == 0
    p.close()


def test_channel_and_pattern_both_receive(server, r):
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("a.b")
    p.psubscribe("a.*")
    wait_until(lambda: r.pubsub_numpat() == 1 and r.pubsub_numsub("a.b")[0][1] == 1, what="subscriptions")
    assert r.publish("a.b", "m") == 2
    first, second = next_message(p), next_message(p)
    assert first["type"] == "message" and second["type"] == "pmessage"
    assert second["pattern"] == "a.*" and second["channel"] == "a.b"
    p.close()


def test_many_subscribers_and_counts(server, r):
    subs = []
    for _ in range(20):
        p = server.client(decode_responses=True).pubsub(ignore_subscribe_messages=True)
        p.subscribe("fan")
        subs.append(p)
    wait_until(lambda: r.pubsub_numsub("fan") == [("fan", 20)], what="20 subscribers")
    assert r.publish("fan", "hi") == 20
    for p in subs:
        assert next_message(p)["data"] == "hi"
    for p in subs[:10]:
        p.unsubscribe("fan")
    wait_until(lambda: r.pubsub_numsub("fan") == [("fan", 10)], what="10 subscribers")
    assert r.publish("fan", "again") == 10
    for p in subs:
        p.close()


# ---- raw RESP2 reply shapes -------------------------------------------------


def test_subscribe_counts_raw(server):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "a", "b"),
             push("", "subscribe", "a", 1) + push("", "subscribe", "b", 2))
    exchange(s, cmd("PSUBSCRIBE", "p*", "p*"),
             push("", "psubscribe", "p*", 3) + push("", "psubscribe", "p*", 3))
    # Subscribing again to the same channel does not count twice.
    exchange(s, cmd("SUBSCRIBE", "a"), push("", "subscribe", "a", 3))
    # Unsubscribing from a channel never subscribed still confirms it.
    exchange(s, cmd("UNSUBSCRIBE", "a", "zz"),
             push("", "unsubscribe", "a", 2) + push("", "unsubscribe", "zz", 2))
    exchange(s, cmd("PUNSUBSCRIBE"), push("", "punsubscribe", "p*", 1))
    exchange(s, cmd("UNSUBSCRIBE"), push("", "unsubscribe", "b", 0))
    # Nothing left: one reply with a nil channel.
    exchange(s, cmd("UNSUBSCRIBE"), push("", "unsubscribe", None, 0))
    exchange(s, cmd("PUNSUBSCRIBE"), push("", "punsubscribe", None, 0))
    # Out of the subscribed context: any command works again.
    exchange(s, cmd("GET", "x"), b"$-1\r\n")


def test_unsubscribe_all_lists_every_channel(server):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "c1", "c2", "c3"),
             push("", "subscribe", "c1", 1) + push("", "subscribe", "c2", 2) + push("", "subscribe", "c3", 3))
    s.sendall(cmd("UNSUBSCRIBE"))
    expected_len = sum(len(push("", "unsubscribe", "cX", n)) for n in (2, 1, 0))
    got = read_exact(s, b"x" * expected_len)
    assert len(got) == expected_len
    for ch in (b"c1", b"c2", b"c3"):
        assert b"$2\r\n" + ch + b"\r\n" in got
    for n in (2, 1, 0):
        assert got.count(b":%d\r\n" % n) == 1
    assert got.count(b"$11\r\nunsubscribe\r\n") == 3


def test_message_frames_raw(server, r):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "ch") + cmd("PSUBSCRIBE", "c*"),
             push("", "subscribe", "ch", 1) + push("", "psubscribe", "c*", 2))
    assert r.publish("ch", "hello") == 2
    exchange(s, b"", push("", "message", "ch", "hello") + push("", "pmessage", "c*", "ch", "hello"))


def test_resp2_context_restriction(server, r):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "a"), push("", "subscribe", "a", 1))
    exchange(s, cmd("GET", "x"),
             b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
             b"are allowed in this context\r\n")
    exchange(s, cmd("PUBLISH", "a", "m"),
             b"-ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
             b"are allowed in this context\r\n")
    # The rejected commands did nothing; the subscription still works.
    assert r.publish("a", "m") == 1
    exchange(s, b"", push("", "message", "a", "m"))
    # Only patterns left: still in the context.
    exchange(s, cmd("PSUBSCRIBE", "z*") + cmd("UNSUBSCRIBE", "a"),
             push("", "psubscribe", "z*", 2) + push("", "unsubscribe", "a", 1))
    exchange(s, cmd("SET", "k", "v"),
             b"-ERR Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
             b"are allowed in this context\r\n")
    exchange(s, cmd("PUNSUBSCRIBE", "z*"), push("", "punsubscribe", "z*", 0))
    exchange(s, cmd("SET", "k", "v"), b"+OK\r\n")


def test_ping_in_subscribed_context(server):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "a"), push("", "subscribe", "a", 1))
    exchange(s, cmd("PING"), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
    exchange(s, cmd("PING", "hi"), b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n")
    exchange(s, cmd("UNSUBSCRIBE"), push("", "unsubscribe", "a", 0))
    exchange(s, cmd("PING"), b"+PONG\r\n")


def test_subscribe_arity(server):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE"), b"-ERR wrong number of arguments for 'subscribe' command\r\n")
    exchange(s, cmd("PSUBSCRIBE"), b"-ERR wrong number of arguments for 'psubscribe' command\r\n")
    exchange(s, cmd("PUBLISH", "a"), b"-ERR wrong number of arguments for 'publish' command\r\n")
    exchange(s, cmd("PUBLISH", "a", "b", "c"), b"-ERR wrong number of arguments for 'publish' command\r\n")


def test_subscribe_inside_multi(server, r):
    s = server.raw()
    exchange(s, cmd("MULTI") + cmd("SUBSCRIBE", "q") + cmd("EXEC"),
             b"+OK\r\n+QUEUED\r\n*1\r\n" + push("", "subscribe", "q", 1))
    assert r.publish("q", "m") == 1
    exchange(s, b"", push("", "message", "q", "m"))


# ---- PUBSUB introspection ----------------------------------------------------


def test_pubsub_channels_numsub_numpat(server, r):
    p1 = server.client(decode_responses=True).pubsub()
    p2 = server.client(decode_responses=True).pubsub()
    p1.subscribe("news.tech", "news.art", "sport")
    p2.subscribe("news.tech")
    p1.psubscribe("n*", "s*")
    p2.psubscribe("n*")
    wait_until(lambda: r.pubsub_numsub("news.tech") == [("news.tech", 2)] and r.pubsub_numpat() == 2,
               what="subscriptions")
    assert sorted(r.pubsub_channels()) == ["news.art", "news.tech", "sport"]
    assert sorted(r.pubsub_channels("news.*")) == ["news.art", "news.tech"]
    assert r.pubsub_channels("none*") == []
    assert r.pubsub_numsub("news.tech", "sport", "missing") == [("news.tech", 2), ("sport", 1), ("missing", 0)]
    assert r.pubsub_numsub() == []
    # NUMPAT counts unique patterns, pattern subscribers are not in NUMSUB.
    assert r.pubsub_numpat() == 2
    p1.close()
    p2.close()
    wait_until(lambda: r.pubsub_channels() == [] and r.pubsub_numpat() == 0, what="clean-up")


def test_pubsub_errors_and_help(server, r):
    s = server.raw()
    exchange(s, cmd("PUBSUB", "CHANNELS", "a", "b"),
             b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n")
    exchange(s, cmd("PUBSUB", "foo"), b"-ERR unknown subcommand 'foo'. Try PUBSUB HELP.\r\n")
    exchange(s, cmd("PUBSUB"), b"-ERR wrong number of arguments for 'pubsub' command\r\n")
    exchange(s, cmd("PUBSUB", "NUMPAT", "x"), b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n")
    help_lines = r.execute_command("PUBSUB", "HELP")
    assert help_lines[0] == "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "NUMSUB [<channel> ...]" in help_lines
    assert help_lines[-2:] == ["HELP", "    Prints this help."]
    assert len(help_lines) == 14


# ---- RESP3 ------------------------------------------------------------------------


def test_resp3_push_messages(server, r):
    r.set("k", "v")
    s = server.raw()
    hello3(s)
    exchange(s, cmd("SUBSCRIBE", "ch"), push("", "subscribe", "ch", 1, resp=3))
    assert r.publish("ch", "hello") == 1
    exchange(s, b"", push("", "message", "ch", "hello", resp=3))
    # Other commands keep working on a subscribed RESP3 connection.
    exchange(s, cmd("GET", "k"), b"$1\r\nv\r\n")
    exchange(s, cmd("PSUBSCRIBE", "c*"), push("", "psubscribe", "c*", 2, resp=3))
    assert r.publish("ch", "x") == 2
    exchange(s, b"", push("", "message", "ch", "x", resp=3) + push("", "pmessage", "c*", "ch", "x", resp=3))
    # A publish by the subscriber itself: the push comes before the reply.
    exchange(s, cmd("PUBLISH", "ch", "self"),
             push("", "message", "ch", "self", resp=3) + push("", "pmessage", "c*", "ch", "self", resp=3) + b":2\r\n")
    exchange(s, cmd("PING"), b"+PONG\r\n")
    exchange(s, cmd("UNSUBSCRIBE") + cmd("PUNSUBSCRIBE"),
             push("", "unsubscribe", "ch", 1, resp=3) + push("", "punsubscribe", "c*", 0, resp=3))
    exchange(s, cmd("UNSUBSCRIBE"), push("", "unsubscribe", None, 0, resp=3))


# ---- shard channels ---------------------------------------------------------------


def test_shard_channels(server, r):
    s = server.raw()
    exchange(s, cmd("SSUBSCRIBE", "s1", "s2"), push("", "ssubscribe", "s1", 1) + push("", "ssubscribe", "s2", 2))
    # Shard and plain subscriptions are counted apart.
    exchange(s, cmd("SUBSCRIBE", "c"), push("", "subscribe", "c", 1))
    assert r.execute_command("SPUBLISH", "s1", "m") == 1
    exchange(s, b"", push("", "smessage", "s1", "m"))
    assert r.publish("s1", "m") == 0  # different namespace
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") in (["s1", "s2"], ["s2", "s1"])
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "x") == ["s1", 1, "x", 0]
    s.sendall(cmd("SUNSUBSCRIBE"))
    got = read_exact(s, push("", "sunsubscribe", "s1", 1) + push("", "sunsubscribe", "s2", 0))
    assert got.count(b"sunsubscribe") == 2 and got.endswith(b":0\r\n")
    exchange(s, cmd("SUNSUBSCRIBE"), push("", "sunsubscribe", None, 0))
    exchange(s, cmd("UNSUBSCRIBE"), push("", "unsubscribe", "c", 0))


def test_ssubscribe_refused_inside_multi(server):
    s = server.raw()
    exchange(s, cmd("MULTI") + cmd("SSUBSCRIBE", "z") + cmd("EXEC"),
             b"+OK\r\n+QUEUED\r\n*1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n")


# ---- life cycle ------------------------------------------------------------------


def test_disconnect_cleans_up(server, r):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "a", "b") + cmd("PSUBSCRIBE", "p*"),
             push("", "subscribe", "a", 1) + push("", "subscribe", "b", 2) + push("", "psubscribe", "p*", 3))
    assert r.pubsub_numsub("a", "b") == [("a", 1), ("b", 1)]
    assert r.pubsub_numpat() == 1
    s.close()
    wait_until(lambda: r.pubsub_numsub("a", "b") == [("a", 0), ("b", 0)] and r.pubsub_numpat() == 0,
               what="subscriptions to go")
    assert r.pubsub_channels() == []
    assert r.publish("a", "x") == 0
    assert r.publish("pq", "x") == 0


def test_reset_leaves_pubsub(server, r):
    s = server.raw()
    exchange(s, cmd("SUBSCRIBE", "a") + cmd("PSUBSCRIBE", "p*"),
             push("", "subscribe", "a", 1) + push("", "psubscribe", "p*", 2))
    exchange(s, cmd("RESET"), b"+RESET\r\n")
    assert r.pubsub_numsub("a") == [("a", 0)]
    assert r.pubsub_numpat() == 0
    exchange(s, cmd("GET", "nokey"), b"$-1\r\n")


def test_slow_subscriber_is_disconnected_by_pubsub_obuf_limit(server, r):
    r.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", server.port))
    server._clients.append(s)
    exchange(s, cmd("SUBSCRIBE", "firehose"), push("", "subscribe", "firehose", 1))
    # The subscriber never reads again: its output grows past 1mb.
    payload = "x" * 100_000
    sent = 0
    while r.pubsub_numsub("firehose")[0][1] == 1 and sent < 500:
        r.publish("firehose", payload)
        sent += 1
    wait_until(lambda: r.pubsub_numsub("firehose") == [("firehose", 0)], what="slow subscriber to be dropped")
    assert sent < 500
    assert r.publish("firehose", "x") == 0
    # Everyone else is unaffected.
    assert r.ping() is True
    assert server.alive()


# ---- CLIENT REPLY OFF / SKIP do not silence pushes ----------------------------------


@pytest.fixture(params=["plain", "tls"])
def wire(request, server_factory):
    """(server, connect): raw sockets over plaintext or TLS (tls-mode preferred,
    so the redis-py publisher can stay plain)."""
    if request.param == "plain":
        s = server_factory()
        return s, s.raw
    from tlsutil import client_context, tls_socket
    certs = request.getfixturevalue("tls_certs")
    s = server_factory("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"],
                       "--tls-key-file", certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"])
    ctx = client_context(certs["ca_crt"])
    return s, lambda: tls_socket(s.port, ctx, owner=s)


@pytest.mark.parametrize("resp", [2, 3])
def test_client_reply_off_still_delivers_pubsub(wire, resp):
    # Redis 7.0 marks confirmations and messages as pushes, which CLIENT
    # REPLY OFF/SKIP do not silence; before, Cachet dropped them while
    # PUBLISH counted the subscriber, so every message was lost.
    s, connect = wire
    sub = connect()
    if resp == 3:
        hello3(sub)
    sub.sendall(cmd("CLIENT", "REPLY", "OFF") + cmd("SUBSCRIBE", "ch") + cmd("PSUBSCRIBE", "p*") + cmd("PING"))
    confirm = push("", "subscribe", "ch", 1, resp=resp) + push("", "psubscribe", "p*", 2, resp=resp)
    assert read_exact(sub, confirm) == confirm
    pub = s.client()
    assert pub.publish("ch", "m1") == 1
    assert pub.publish("px", "m2") == 1
    # PING's reply stays silenced: the messages come right after the confirmations.
    msgs = push("", "message", "ch", "m1", resp=resp) + push("", "pmessage", "p*", "px", "m2", resp=resp)
    assert read_exact(sub, msgs) == msgs
    if resp == 3:  # RESP3 may leave the subscribed context's restrictions: REPLY ON works
        exchange(sub, cmd("UNSUBSCRIBE", "ch") + cmd("CLIENT", "REPLY", "ON") + cmd("PING"),
                 push("", "unsubscribe", "ch", 1, resp=3) + b"+OK\r\n+PONG\r\n")

    # SKIP silences the SUBSCRIBE's own reply only, never its confirmation.
    other = connect()
    if resp == 3:
        hello3(other)
    pong = b"+PONG\r\n" if resp == 3 else b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    exchange(other, cmd("CLIENT", "REPLY", "SKIP") + cmd("SUBSCRIBE", "c2") + cmd("PING"),
             push("", "subscribe", "c2", 1, resp=resp) + pong)
    assert pub.publish("c2", "m3") == 1
    exchange(other, b"", push("", "message", "c2", "m3", resp=resp))
