"""Clients blocked on keys (block.c): BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN.

Waiters are raw sockets: the blocking command is sent, the test waits (by
polling INFO) until the server counts the client as blocked, and the reply
bytes are asserted exactly once data arrives or the timeout fires.
"""
import socket
import time

import pytest

from conftest import cmd, read_exact, resp_exchange, wait_until


def bulk(b):
    b = b if isinstance(b, bytes) else str(b).encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(*items):
    return b"*%d\r\n" % len(items) + b"".join(bulk(i) for i in items)


NULL_ARRAY = b"*-1\r\n"
NULL_BULK = b"$-1\r\n"


def blocked(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n):
    wait_until(lambda: blocked(r) == n, timeout=5, what=f"blocked_clients == {n}")


def waiter(server, r, *args):
    """Open a connection, send a blocking command, return once it is blocked."""
    before = blocked(r)
    s = server.raw()
    s.sendall(cmd(*args))
    wait_blocked(r, before + 1)
    return s


def expect(sock, expected, timeout=5.0):
    got = read_exact(sock, expected, timeout=timeout)
    assert got == expected
    return got


def assert_silent(sock, window=0.2):
    """Nothing arrives on sock within window seconds (it is still blocked)."""
    sock.settimeout(window)
    with pytest.raises(socket.timeout):
        data = sock.recv(1024)
        if not data:  # closed: report it as data, not a timeout
            raise AssertionError("connection closed")
        raise AssertionError(f"unexpected reply {data!r}")


# ---- serving order -----------------------------------------------------------


def test_waiters_served_in_fifo_order(server, r):
    ws = [waiter(server, r, "BLPOP", "q", 0) for _ in range(3)]
    assert r.rpush("q", "a") == 1
    expect(ws[0], arr("q", "a"))
    wait_blocked(r, 2)
    assert r.rpush("q", "b") == 1
    expect(ws[1], arr("q", "b"))
    assert r.rpush("q", "c") == 1
    expect(ws[2], arr("q", "c"))
    wait_blocked(r, 0)
    assert r.exists("q") == 0


def test_one_push_of_n_elements_serves_n_waiters_in_order(server, r):
    ws = [waiter(server, r, "BLPOP", "q", 0) for _ in range(3)]
    extra = waiter(server, r, "BRPOP", "q", 0)
    r.rpush("q", "a", "b", "c")
    for w, v in zip(ws, "abc"):
        expect(w, arr("q", v))
    # the fourth waiter found nothing left and is still first in line
    assert blocked(r) == 1
    assert_silent(extra)
    r.rpush("q", "d", "e")
    expect(extra, arr("q", "e"))
    assert r.lrange("q", 0, -1) == ["d"]


def test_brpop_pops_from_the_tail(server, r):
    w = waiter(server, r, "BRPOP", "q", 0)
    r.rpush("q", "x", "y", "z")
    expect(w, arr("q", "z"))
    assert r.lrange("q", 0, -1) == ["x", "y"]


def test_waiter_on_several_keys_is_served_by_the_first_key_with_data(server, r):
    w = waiter(server, r, "BLPOP", "k1", "k2", "k3", 0)
    r.rpush("k2", "v2")
    expect(w, arr("k2", "v2"))
    wait_blocked(r, 0)
    # it left every queue: later pushes on the other keys stay in place
    r.rpush("k1", "v1")
    r.rpush("k3", "v3")
    assert r.lrange("k1", 0, -1) == ["v1"]
    assert r.lrange("k3", 0, -1) == ["v3"]


def test_same_key_twice_is_served_once(server, r):
    w = waiter(server, r, "BLPOP", "k", "k", 0)
    r.rpush("k", "a", "b")
    expect(w, arr("k", "a"))
    wait_blocked(r, 0)
    assert r.lrange("k", 0, -1) == ["b"]


def test_waiter_only_sees_keys_of_its_own_db(server, r):
    s = server.raw()
    assert resp_exchange(s, cmd("SELECT", 1)) == b"+OK\r\n"
    s.sendall(cmd("BLPOP", "k", 0))
    wait_blocked(r, 1)
    r.rpush("k", "db0")  # db 0
    assert_silent(s)
    r1 = server.client(decode_responses=True, db=1)
    r1.rpush("k", "db1")
    expect(s, arr("k", "db1"))
    assert r.lrange("k", 0, -1) == ["db0"]


# ---- timeouts ------------------------------------------------------------------


def test_subsecond_timeout_returns_nil_on_time(server, r):
    s = server.raw()
    start = time.monotonic()
    s.sendall(cmd("BLPOP", "nothing", "0.1"))
    expect(s, NULL_ARRAY, timeout=3)
    elapsed = time.monotonic() - start
    assert 0.095 <= elapsed < 0.6, elapsed
    assert blocked(r) == 0


def test_blmove_timeout_is_a_null_array(server, r):
    # Redis 7.0 times every list command out with a null array (only the
    # at-once answer inside EXEC is a null bulk for BLMOVE)
    s = server.raw()
    start = time.monotonic()
    s.sendall(cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0.05"))
    expect(s, NULL_ARRAY, timeout=3)
    assert time.monotonic() - start >= 0.045


def test_many_timeouts_fire_each_at_its_own_deadline(server, r):
    timeouts = [0.3, 0.05, 0.2, 0.1, 0.25, 0.15]
    start = time.monotonic()
    socks = []
    for t in timeouts:
        s = server.raw()
        s.sendall(cmd("BLPOP", "k", t))
        socks.append(s)
    done = {}
    for s, t in sorted(zip(socks, timeouts), key=lambda p: p[1]):
        expect(s, NULL_ARRAY, timeout=3)
        done[t] = time.monotonic() - start
    for t, el in done.items():
        assert el >= t - 0.005, (t, el)
    assert max(done.values()) < 1.5
    assert blocked(r) == 0


def test_timeout_zero_waits_until_served(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    assert_silent(w, 0.3)
    assert blocked(r) == 1
    r.lpush("k", "late")
    expect(w, arr("k", "late"))


def test_served_before_timeout_gets_no_timeout_reply_later(server, r):
    w = waiter(server, r, "BLPOP", "k", "0.2")
    r.lpush("k", "v")
    expect(w, arr("k", "v"))
    assert_silent(w, 0.4)  # the deadline passes: nothing more is sent
    assert r.info("clients")["clients_in_timeout_table"] == 0


def test_bad_timeouts(server, r):
    s = server.raw()
    for t, err in [("abc", b"-ERR timeout is not a float or out of range\r\n"),
                   ("-1", b"-ERR timeout is negative\r\n"),
                   ("-0.5", b"-ERR timeout is negative\r\n"),
                   ("inf", b"-ERR timeout is negative\r\n"),
                   ("nan", b"-ERR timeout is not a float or out of range\r\n"),
                   ("1 ", b"-ERR timeout is not a float or out of range\r\n")]:
        assert resp_exchange(s, cmd("BLPOP", "k", t)) == err, t
        assert resp_exchange(s, cmd("BLMOVE", "a", "b", "LEFT", "LEFT", t)) == err, t
    assert blocked(r) == 0
    assert r.exists("k", "a", "b") == 0


def test_tiny_timeout_is_not_forever(server, r):
    s = server.raw()
    s.sendall(cmd("BLPOP", "k", "0.0001"))
    expect(s, NULL_ARRAY, timeout=3)


# ---- MULTI / EXEC ---------------------------------------------------------------


def test_blocking_command_inside_exec_answers_at_once(server, r):
    s = server.raw()
    payload = (cmd("MULTI") + cmd("BLPOP", "empty", 0) + cmd("BLMOVE", "empty", "d", "LEFT", "LEFT", 0)
               + cmd("EXEC"))
    expected = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n" + NULL_ARRAY + NULL_BULK
    start = time.monotonic()
    s.sendall(payload)
    expect(s, expected)
    assert time.monotonic() - start < 1
    assert blocked(r) == 0
    # with data the command inside EXEC simply pops
    r.rpush("full", "x")
    p = r.pipeline(transaction=True)
    p.blpop("full", 0)
    assert p.execute() == [("full", "x")]


def test_exec_that_pushes_wakes_waiter_after_exec(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    p = r.pipeline(transaction=True)
    p.rpush("k", "a", "b")
    p.llen("k")
    assert p.execute() == [2, 2]  # the waiter did not run inside the transaction
    expect(w, arr("k", "a"))
    assert r.lrange("k", 0, -1) == ["b"]


def test_exec_that_pushes_and_pops_leaves_waiter_blocked(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    p = r.pipeline(transaction=True)
    p.rpush("k", "a")
    p.lpop("k")
    assert p.execute() == [1, "a"]
    assert_silent(w)
    assert blocked(r) == 1
    r.rpush("k", "b")
    expect(w, arr("k", "b"))


# ---- moves feeding waiters --------------------------------------------------------


def test_lmove_into_waited_key_serves_waiter(server, r):
    w = waiter(server, r, "BLPOP", "dst", 0)
    r.rpush("src", "x", "y")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == "x"
    expect(w, arr("dst", "x"))
    assert r.exists("dst") == 0
    assert r.lrange("src", 0, -1) == ["y"]


def test_blmove_result_feeds_waiter_on_destination(server, r):
    a = waiter(server, r, "BLMOVE", "a", "b", "RIGHT", "LEFT", 0)
    b = waiter(server, r, "BLPOP", "b", 0)
    r.rpush("a", "item")
    expect(a, bulk("item"))
    expect(b, arr("b", "item"))
    wait_blocked(r, 0)
    assert r.exists("a", "b") == 0


def test_blmove_chain_of_three(server, r):
    first = waiter(server, r, "BLMOVE", "l1", "l2", "LEFT", "LEFT", 0)
    second = waiter(server, r, "BLMOVE", "l2", "l3", "LEFT", "LEFT", 0)
    third = waiter(server, r, "BRPOP", "l3", 0)
    r.lpush("l1", "v")
    expect(first, bulk("v"))
    expect(second, bulk("v"))
    expect(third, arr("l3", "v"))
    assert r.exists("l1", "l2", "l3") == 0


def test_blmpop_waiter(server, r):
    w = waiter(server, r, "BLMPOP", 0, 2, "m1", "m2", "LEFT")
    r.rpush("m2", "a", "b")
    expect(w, b"*2\r\n" + bulk("m2") + arr("a"))
    assert r.lrange("m2", 0, -1) == ["b"]


# ---- CLIENT UNBLOCK -----------------------------------------------------------------


def client_id(sock):
    line = resp_exchange(sock, cmd("CLIENT", "ID"))
    return int(line[1:-2])


def test_client_unblock_timeout_and_error(server, r):
    s = server.raw()
    cid = client_id(s)
    s.sendall(cmd("BLPOP", "k", 0))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 1
    expect(s, NULL_ARRAY)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0  # not blocked now
    s.sendall(cmd("BLMOVE", "a", "b", "LEFT", "LEFT", 0))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "TIMEOUT") == 1
    expect(s, NULL_ARRAY)
    s.sendall(cmd("BLPOP", "k", 0))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "error") == 1
    expect(s, b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
    wait_blocked(r, 0)
    # the unblocked client is usable, and left the queue: a push stays put
    assert resp_exchange(s, cmd("PING")) == b"+PONG\r\n"
    r.rpush("k", "v")
    assert r.lrange("k", 0, -1) == ["v"]


def test_client_unblock_errors(server, r):
    c = server.raw()
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", 12345)) == b":0\r\n"
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", client_id(c))) == b":0\r\n"
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", "abc")) == \
        b"-ERR value is not an integer or out of range\r\n"
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", 1, "maybe")) == \
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    # the reason is checked before the id, as Redis
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", "abc", "maybe")) == \
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK", 1, "timeout", "x")) == \
        b"-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.\r\n"
    assert resp_exchange(c, cmd("CLIENT", "UNBLOCK")) == \
        b"-ERR wrong number of arguments for 'client|unblock' command\r\n"


# ---- disconnects and pipelining --------------------------------------------------------


def test_disconnect_while_blocked(server, r):
    gone = waiter(server, r, "BLPOP", "k", 0)
    stay = waiter(server, r, "BLPOP", "k", 0)
    timed = waiter(server, r, "BLPOP", "k", 5)
    gone.close()
    timed.close()
    wait_blocked(r, 1)
    r.rpush("k", "one")
    expect(stay, arr("k", "one"))
    wait_blocked(r, 0)
    r.rpush("k", "two")  # nobody waits: the element stays in the list
    assert r.lrange("k", 0, -1) == ["two"]
    assert r.info("clients")["clients_in_timeout_table"] == 0
    assert server.alive()


def test_pipelined_commands_after_blocking_command_run_after_it(server, r):
    s = server.raw()
    s.sendall(cmd("BLPOP", "k", 0) + cmd("PING") + cmd("ECHO", "after") + cmd("LLEN", "k"))
    wait_blocked(r, 1)
    assert_silent(s)
    r.rpush("k", "a", "b")
    expect(s, arr("k", "a") + b"+PONG\r\n" + bulk("after") + b":1\r\n")


def test_pipelined_blocking_commands_after_timeout(server, r):
    s = server.raw()
    s.sendall(cmd("BLPOP", "k", "0.05") + cmd("PING") + cmd("BLPOP", "k", 0) + cmd("ECHO", "end"))
    expect(s, NULL_ARRAY + b"+PONG\r\n")
    wait_blocked(r, 1)  # the second BLPOP blocks again
    r.rpush("k", "v")
    expect(s, arr("k", "v") + bulk("end"))


def test_input_sent_while_blocked_is_kept(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    w.sendall(cmd("SET", "s", "1"))
    w.sendall(cmd("INCR", "s"))
    assert_silent(w)
    assert r.get("s") is None  # not run while blocked
    r.rpush("k", "v")
    expect(w, arr("k", "v") + b"+OK\r\n:2\r\n")


# ---- introspection and replies ---------------------------------------------------------


def test_info_and_client_list_show_blocked_clients(server, r):
    assert r.info("clients")["blocked_clients"] == 0
    a = waiter(server, r, "BLPOP", "k", 0)
    waiter(server, r, "BRPOP", "k2", 100)
    info = r.info("clients")
    assert info["blocked_clients"] == 2
    assert info["clients_in_timeout_table"] == 1
    flags = sorted(c["flags"] for c in r.client_list())
    assert flags.count("b") == 2
    r.rpush("k", "x")
    expect(a, arr("k", "x"))
    wait_blocked(r, 1)


def test_resp3_timeout_reply_is_null(server, r):
    s = server.raw()
    hello = resp_exchange(s, cmd("HELLO", "3"), until=b"modules\r\n*0\r\n")
    assert hello.startswith(b"%")
    s.sendall(cmd("BLPOP", "k", "0.05"))
    expect(s, b"_\r\n")
    s.sendall(cmd("BLMOVE", "a", "b", "LEFT", "LEFT", "0.05"))
    expect(s, b"_\r\n")
    cid = client_id(s)
    s.sendall(cmd("BLPOP", "k", 0))
    wait_blocked(r, 1)
    r.execute_command("CLIENT", "UNBLOCK", cid)
    expect(s, b"_\r\n")


def test_served_command_counted_once_in_commandstats(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    r.rpush("k", "v")
    expect(w, arr("k", "v"))
    stats = r.info("commandstats")
    assert stats["cmdstat_blpop"]["calls"] == 1


# ---- keys that change under the waiters ---------------------------------------------------


def test_key_turned_string_leaves_waiter_blocked(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    r.set("k", "str")
    assert_silent(w)
    assert blocked(r) == 1
    r.delete("k")
    r.rpush("k", "v")
    expect(w, arr("k", "v"))


def test_flushall_leaves_waiters_blocked(server, r):
    w = waiter(server, r, "BLPOP", "k", 0)
    r.flushall()
    r.flushdb()
    assert blocked(r) == 1
    r.rpush("k", "v")
    expect(w, arr("k", "v"))


def test_bzpopmin_waiter(server, r):
    w = waiter(server, r, "BZPOPMIN", "z", 0)
    r.zadd("z", {"a": 1, "b": 2})
    expect(w, arr("z", "a", "1"))
    assert r.zrange("z", 0, -1) == ["b"]
    s = server.raw()
    s.sendall(cmd("BZPOPMIN", "z2", "0.05"))
    expect(s, NULL_ARRAY)


def test_list_and_zset_waiters_on_one_key_get_their_own_type(server, r):
    z = waiter(server, r, "BZPOPMIN", "k", 0)
    lst = waiter(server, r, "BLPOP", "k", 0)
    r.rpush("k", "v")
    expect(lst, arr("k", "v"))
    assert_silent(z)
    assert blocked(r) == 1
    r.zadd("k", {"m": 5})
    expect(z, arr("k", "m", "5"))


# ---- order under pipelining: waiters are served after each command ----------------


@pytest.fixture(params=["plain", "tls"])
def wire(request, server_factory):
    """(server, redis-py client, connect): raw sockets over plaintext or TLS
    (tls-mode preferred; the INFO client stays plain)."""
    if request.param == "plain":
        s = server_factory()
        return s, s.client(decode_responses=True), s.raw
    from tlsutil import client_context, tls_socket
    certs = request.getfixturevalue("tls_certs")
    s = server_factory("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"],
                       "--tls-key-file", certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"])
    ctx = client_context(certs["ca_crt"])
    return s, s.client(decode_responses=True), lambda: tls_socket(s.port, ctx, owner=s)


def wire_waiter(wire, *args):
    _, r, connect = wire
    before = blocked(r)
    s = connect()
    s.sendall(cmd(*args))
    wait_blocked(r, before + 1)
    return s


ZA1 = b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"

# (waiter's command, pusher's command, what the waiter gets, what a later
# push of the second element gives the pipelined waiter, that later push)
FAMILIES = {
    "blpop": (("BLPOP", "l", "0"), ("LPUSH", "l", "1"), arr("l", "1"), arr("l", "2"), ("LPUSH", "l", "2")),
    "brpop": (("BRPOP", "l", "0"), ("RPUSH", "l", "1"), arr("l", "1"), arr("l", "2"), ("RPUSH", "l", "2")),
    "blmove": (("BLMOVE", "l", "d", "LEFT", "RIGHT", "0"), ("RPUSH", "l", "1"), bulk("1"), bulk("2"),
               ("RPUSH", "l", "2")),
    "brpoplpush": (("BRPOPLPUSH", "l", "d", "0"), ("RPUSH", "l", "1"), bulk("1"), bulk("2"), ("RPUSH", "l", "2")),
    "blmpop": (("BLMPOP", "0", "1", "l", "LEFT"), ("RPUSH", "l", "1"), b"*2\r\n$1\r\nl\r\n" + arr("1"),
               b"*2\r\n$1\r\nl\r\n" + arr("2"), ("RPUSH", "l", "2")),
    "bzpopmin": (("BZPOPMIN", "z", "0"), ("ZADD", "z", "1", "a"), ZA1, arr("z", "b", "2"), ("ZADD", "z", "2", "b")),
    "bzpopmax": (("BZPOPMAX", "z", "0"), ("ZADD", "z", "1", "a"), ZA1, arr("z", "b", "2"), ("ZADD", "z", "2", "b")),
    "bzmpop": (("BZMPOP", "0", "1", "z", "MIN"), ("ZADD", "z", "1", "a"), b"*2\r\n$1\r\nz\r\n*1\r\n" + arr("a", "1"),
               b"*2\r\n$1\r\nz\r\n*1\r\n" + arr("b", "2"), ("ZADD", "z", "2", "b")),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_pipelined_push_then_block_serves_the_earlier_waiter(wire, family):
    # A waits; B sends the push and the same blocking command in one write.
    # Redis serves waiters after each command, so A gets the element and B
    # blocks; serving only before sleep let B's own command take it.
    blocking, push_, first, second, later = FAMILIES[family]
    _, r, connect = wire
    a = wire_waiter(wire, *blocking)
    b = connect()
    b.sendall(cmd(*push_) + cmd(*blocking))
    expect(b, b":1\r\n")
    expect(a, first)
    wait_blocked(r, 1)  # B, now
    assert_silent(b)
    r.execute_command(*later)
    expect(b, second)
    assert blocked(r) == 0


def test_pipelined_exec_serves_the_waiter_after_exec(wire):
    # Inside MULTI the waiter is served after EXEC as a whole: it gets the
    # head of what the transaction left, and B's next BLPOP the rest.
    _, r, connect = wire
    a = wire_waiter(wire, "BLPOP", "l", "0")
    b = connect()
    b.sendall(cmd("MULTI") + cmd("LPUSH", "l", "1") + cmd("LPUSH", "l", "2") + cmd("EXEC") + cmd("BLPOP", "l", "0"))
    expect(b, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n" + arr("l", "1"))
    expect(a, arr("l", "2"))
    # A transaction that pushes and pops leaves nothing: the waiter stays
    # blocked, and B's pipelined BLPOP after a later push blocks behind it.
    a = wire_waiter(wire, "BLPOP", "l", "0")
    b.sendall(cmd("MULTI") + cmd("LPUSH", "l", "1") + cmd("LPOP", "l") + cmd("EXEC") + cmd("LPUSH", "l", "9") +
              cmd("BLPOP", "l", "0"))
    expect(b, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n$1\r\n1\r\n:1\r\n")
    expect(a, arr("l", "9"))
    wait_blocked(r, 1)
    r.lpush("l", "3")
    expect(b, arr("l", "3"))


def test_pipelined_push_feeds_a_chain_before_the_pushers_next_command(wire):
    # A: BLMOVE l1 -> l2; C: BLPOP l2. B pipelines LPUSH l1 + BLPOP l2: the
    # element goes A -> C (both waited first), and B blocks.
    _, r, connect = wire
    a = wire_waiter(wire, "BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0")
    c = wire_waiter(wire, "BLPOP", "l2", "0")
    b = connect()
    b.sendall(cmd("LPUSH", "l1", "x") + cmd("BLPOP", "l2", "0"))
    expect(b, b":1\r\n")
    expect(a, bulk("x"))
    expect(c, arr("l2", "x"))
    wait_blocked(r, 1)
    r.lpush("l2", "z")
    expect(b, arr("l2", "z"))


def test_resumed_pipeline_serves_others_between_its_commands(wire):
    # A's input after its BLPOP resumes once A is served; its LPUSH l2 must
    # serve C (blocked earlier) before A's own BLPOP l2 runs.
    _, r, connect = wire
    c = wire_waiter(wire, "BLPOP", "l2", "0")
    a = connect()
    a.sendall(cmd("BLPOP", "l", "0") + cmd("LPUSH", "l2", "x") + cmd("BLPOP", "l2", "0"))
    wait_blocked(r, 2)
    r.lpush("l", "1")
    expect(a, arr("l", "1") + b":1\r\n")
    expect(c, arr("l2", "x"))
    wait_blocked(r, 1)
    r.lpush("l2", "y")
    expect(a, arr("l2", "y"))
