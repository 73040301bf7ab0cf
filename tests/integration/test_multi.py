"""Transactions: MULTI / EXEC / DISCARD and optimistic locking with WATCH /
UNWATCH, as Redis 7.0 answers them (texts and reply shapes byte for byte
where clients parse them)."""
import socket
import time

import pytest
import redis

from conftest import cmd, exchange, read_exact, resp_exchange, wait_until


def one(server, **kw):
    """A redis-py client pinned to a single connection (MULTI state is per
    connection)."""
    kw.setdefault("decode_responses", True)
    c = server.client(single_connection_client=True, **kw)
    c.response_callbacks.clear()  # raw replies: "QUEUED" and EXEC arrays as sent
    return c



# ---- MULTI / EXEC ------------------------------------------------------------


def test_multi_exec_basic_raw(server, r):
    s = server.raw()
    exchange(s, cmd("MULTI"), b"+OK\r\n")
    exchange(s, cmd("SET", "a", "1"), b"+QUEUED\r\n")
    exchange(s, cmd("INCR", "a"), b"+QUEUED\r\n")
    exchange(s, cmd("GET", "a"), b"+QUEUED\r\n")
    # Nothing runs before EXEC.
    assert r.get("a") is None
    exchange(s, cmd("EXEC"), b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n")
    assert r.get("a") == "2"
    # The client is out of MULTI afterwards.
    exchange(s, cmd("GET", "a"), b"$1\r\n2\r\n")


def test_empty_transaction(server):
    s = server.raw()
    exchange(s, cmd("MULTI") + cmd("EXEC"), b"+OK\r\n*0\r\n")


def test_queued_error_aborts_whole_transaction(server, r):
    c = one(server)
    assert c.execute_command("MULTI") == "OK"
    assert c.execute_command("SET", "a", "1") == "QUEUED"
    with pytest.raises(redis.ResponseError, match="unknown command 'NOSUCHCMD'"):
        c.execute_command("NOSUCHCMD", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        c.execute_command("GET")
    with pytest.raises(redis.exceptions.ExecAbortError):
        c.execute_command("EXEC")
    assert r.get("a") is None
    # Out of MULTI: the next EXEC has no transaction.
    with pytest.raises(redis.ResponseError, match="^EXEC without MULTI$"):
        c.execute_command("EXEC")


def test_execabort_bytes(server):
    s = server.raw()
    out = resp_exchange(s, cmd("MULTI") + cmd("SET", "k") + cmd("EXEC"),
                        until=b"errors.\r\n")
    assert out == (b"+OK\r\n-ERR wrong number of arguments for 'set' command\r\n"
                   b"-EXECABORT Transaction discarded because of previous errors.\r\n")


def test_runtime_error_is_an_element_and_others_apply(server, r):
    r.set("s", "notanumber")
    s = server.raw()
    exchange(s, cmd("MULTI"), b"+OK\r\n")
    for args in (("SET", "a", "1"), ("INCR", "s"), ("SET", "b", "2")):
        exchange(s, cmd(*args), b"+QUEUED\r\n")
    exchange(s, cmd("EXEC"), b"*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n")
    assert r.get("a") == "1"
    assert r.get("b") == "2"
    assert r.get("s") == "notanumber"


def test_runtime_error_via_redis_py(server, r):
    r.set("s", "x")
    p = r.pipeline(transaction=True)
    p.set("a", "1").incr("s").set("b", "2")
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[2] is True
    assert isinstance(res[1], redis.ResponseError)
    assert r.mget("a", "b") == ["1", "2"]


def test_nesting_and_misuse_errors(server, r):
    c = one(server)
    with pytest.raises(redis.ResponseError, match="^EXEC without MULTI$"):
        c.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="^DISCARD without MULTI$"):
        c.execute_command("DISCARD")
    assert c.execute_command("MULTI") == "OK"
    with pytest.raises(redis.ResponseError, match="^MULTI calls can not be nested$"):
        c.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="^WATCH inside MULTI is not allowed$"):
        c.execute_command("WATCH", "k")
    # Neither error poisons the transaction (as in Redis).
    assert c.execute_command("SET", "k", "v") == "QUEUED"
    assert c.execute_command("EXEC") == ["OK"]
    assert r.get("k") == "v"


def test_nesting_error_bytes(server):
    s = server.raw()
    exchange(s, cmd("MULTI") + cmd("MULTI") + cmd("WATCH", "x") + cmd("SET", "a", "1") + cmd("EXEC"),
             b"+OK\r\n-ERR MULTI calls can not be nested\r\n-ERR WATCH inside MULTI is not allowed\r\n"
             b"+QUEUED\r\n*1\r\n+OK\r\n")


def test_arity_of_transaction_commands(server):
    s = server.raw()
    for name in ("MULTI", "DISCARD", "UNWATCH"):
        exchange(s, cmd(name, "extra"),
                 b"-ERR wrong number of arguments for '%s' command\r\n" % name.lower().encode())
    exchange(s, cmd("WATCH"), b"-ERR wrong number of arguments for 'watch' command\r\n")
    # A rejected EXEC aborts the transaction, and says so even outside one.
    exchange(s, cmd("EXEC", "extra"),
             b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n")
    exchange(s, cmd("MULTI") + cmd("SET", "a", "1") + cmd("EXEC", "x") + cmd("EXEC"),
             b"+OK\r\n+QUEUED\r\n"
             b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
             b"-ERR EXEC without MULTI\r\n")


def test_discard(server, r):
    c = one(server)
    assert c.execute_command("MULTI") == "OK"
    assert c.execute_command("SET", "a", "1") == "QUEUED"
    assert c.execute_command("DISCARD") == "OK"
    assert r.get("a") is None
    # Back to normal mode.
    assert c.set("b", "2") == "OK"
    assert r.get("b") == "2"


def test_large_queued_arguments_survive_buffer_moves(server, r):
    # Queued argv must be copies: the query buffer is reused and reallocated
    # while the transaction is being queued.
    p = r.pipeline(transaction=True)
    vals = {}
    for i in range(200):
        v = (("%03d" % i) * 4000)[: 5000 + i * 37]
        vals["k%d" % i] = v
        p.set("k%d" % i, v)
    assert all(x is True for x in p.execute())
    for k, v in vals.items():
        assert r.get(k) == v


def test_transaction_state_visible_in_client_list(server):
    c = one(server)
    c.execute_command("MULTI")
    c.execute_command("SET", "a", "1")
    c.execute_command("SET", "b", "1")
    other = server.client(decode_responses=True)
    mine = [x for x in other.client_list() if "x" in x["flags"]]
    assert len(mine) == 1 and mine[0]["multi"] == "2"
    c.execute_command("DISCARD")


# ---- WATCH ---------------------------------------------------------------------


def test_watch_change_by_other_client_fails_exec(server, r):
    s = server.raw()
    r.set("k", "orig")
    exchange(s, cmd("WATCH", "k"), b"+OK\r\n")
    r.set("k", "theirs")
    exchange(s, cmd("MULTI") + cmd("SET", "k", "mine") + cmd("SET", "other", "1"),
             b"+OK\r\n+QUEUED\r\n+QUEUED\r\n")
    exchange(s, cmd("EXEC"), b"*-1\r\n")
    assert r.get("k") == "theirs"
    assert r.get("other") is None
    # A later transaction is not affected (EXEC unwatched everything).
    exchange(s, cmd("MULTI") + cmd("SET", "k", "mine") + cmd("EXEC"), b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n")
    assert r.get("k") == "mine"


def test_watch_change_by_same_client_before_multi(server, r):
    c = one(server)
    c.set("k", "1")
    assert c.execute_command("WATCH", "k") == "OK"
    c.incr("k")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "100")
    assert c.execute_command("EXEC") is None
    assert r.get("k") == "2"


def test_watch_without_change_succeeds_and_own_writes_inside_exec(server, r):
    c = one(server)
    c.set("k", "1")
    c.execute_command("WATCH", "k")
    c.get("k")  # reads are no change
    c.execute_command("MULTI")
    c.execute_command("INCR", "k")
    c.execute_command("INCR", "k")
    assert c.execute_command("EXEC") == [2, 3]


@pytest.mark.parametrize("change", [
    lambda o: o.delete("k"),
    lambda o: o.expire("k", 100),
    lambda o: o.set("k", "1"),   # same value still counts
    lambda o: o.append("k", "x"),
])
def test_watch_invalidated_by_writes(server, r, change):
    r.set("k", "1")
    c = one(server)
    c.execute_command("WATCH", "k")
    change(server.client(decode_responses=True))
    c.execute_command("MULTI")
    c.execute_command("SET", "done", "1")
    assert c.execute_command("EXEC") is None
    assert r.get("done") is None


def test_watch_missing_key_created_by_other(server, r):
    c = one(server)
    c.execute_command("WATCH", "newkey")
    r.set("newkey", "x")
    c.execute_command("MULTI")
    c.execute_command("SET", "newkey", "y")
    assert c.execute_command("EXEC") is None
    assert r.get("newkey") == "x"


def test_watch_other_db_is_independent(server, r):
    c = one(server)
    c.execute_command("WATCH", "k")
    other = server.client(db=1, decode_responses=True)
    other.set("k", "in-db1")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "db0")
    assert c.execute_command("EXEC") == ["OK"]
    assert r.get("k") == "db0"


def test_watch_key_that_expires_fails_exec(server, r):
    c = one(server)
    r.set("k", "v", px=50)
    c.execute_command("WATCH", "k")
    t0 = time.monotonic()
    # Wait past the TTL without touching the key from here.
    wait_until(lambda: time.monotonic() - t0 > 0.15, what="TTL to pass")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "new")
    assert c.execute_command("EXEC") is None
    assert r.get("k") is None


def test_watch_key_expiry_seen_by_poll(server, r):
    c = one(server)
    r.set("k", "v", px=50)
    c.execute_command("WATCH", "k")
    wait_until(lambda: r.exists("k") == 0, what="key to expire")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "new")
    assert c.execute_command("EXEC") is None


def pass_time(ms):
    """Let ms of wall time pass (polled, no fixed sleep)."""
    t0 = time.monotonic()
    wait_until(lambda: time.monotonic() - t0 > ms / 1000.0, interval=0.005, what="time to pass")


@pytest.fixture
def debug_server(server_factory):
    """A server that allows DEBUG (off by default, as in Redis 7.0)."""
    return server_factory("--enable-debug-command", "yes")


def test_watch_expired_but_not_yet_deleted_fails_exec(debug_server):
    server = debug_server
    r = server.client(decode_responses=True)
    # With active expiry off nothing deletes the key: EXEC itself notices
    # that a watched key expired after WATCH (Redis 7).
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.set("k", "v", px=50)
    c = one(server)
    c.execute_command("WATCH", "k")
    pass_time(120)
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "new")
    assert c.execute_command("EXEC") is None


def test_watch_on_already_expired_key(debug_server):
    server = debug_server
    r = server.client(decode_responses=True)
    # A key already expired when watched is logically missing: its lazy
    # deletion is no change, but creating it again is.
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.set("k", "v", px=10)
    pass_time(60)
    c = one(server)
    c.execute_command("WATCH", "k")
    assert r.get("k") is None  # lazy deletion
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "mine")
    assert c.execute_command("EXEC") == ["OK"]
    r.set("k", "v", px=10)
    pass_time(60)
    c.execute_command("WATCH", "k")
    r.set("k", "theirs")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "mine")
    assert c.execute_command("EXEC") is None
    assert r.get("k") == "theirs"


def test_flushall_invalidates_watch(server, r):
    r.set("k", "1")
    c = one(server)
    c.execute_command("WATCH", "k")
    r.flushall()
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "2")
    assert c.execute_command("EXEC") is None
    assert r.get("k") is None


def test_flushdb_invalidates_watch(server, r):
    r.set("k", "1")
    c = one(server)
    c.execute_command("WATCH", "k")
    r.flushdb()
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "2")
    assert c.execute_command("EXEC") is None


def test_flushall_on_missing_watched_key_is_no_change(server, r):
    # Redis 7: only watched keys that existed are invalidated by a flush.
    c = one(server)
    c.execute_command("WATCH", "missing")
    r.flushall()
    c.execute_command("MULTI")
    c.execute_command("SET", "missing", "1")
    assert c.execute_command("EXEC") == ["OK"]
    assert r.get("missing") == "1"


def test_unwatch(server, r):
    r.set("k", "1")
    c = one(server)
    assert c.execute_command("WATCH", "k", "k2") == "OK"
    r.set("k", "2")
    assert c.execute_command("UNWATCH") == "OK"
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "3")
    assert c.execute_command("EXEC") == ["OK"]
    assert r.get("k") == "3"


def test_discard_unwatches(server, r):
    r.set("k", "1")
    c = one(server)
    c.execute_command("WATCH", "k")
    c.execute_command("MULTI")
    c.execute_command("DISCARD")
    r.set("k", "2")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "3")
    assert r.get("k") == "2"
    assert c.execute_command("EXEC") == ["OK"]
    assert r.get("k") == "3"


def test_watch_same_key_twice_and_many_watchers(server, r):
    r.set("k", "0")
    clients = [one(server) for _ in range(5)]
    for c in clients:
        c.execute_command("WATCH", "k", "k")
    r.incr("k")
    for c in clients:
        c.execute_command("MULTI")
        c.execute_command("INCR", "k")
        assert c.execute_command("EXEC") is None
    assert r.get("k") == "1"


def test_disconnect_with_watch_and_queue_cleans_up(server, r):
    s = server.raw()
    exchange(s, cmd("WATCH", "k", "j") + cmd("MULTI") + cmd("SET", "k", "x" * 10000),
             b"+OK\r\n+OK\r\n+QUEUED\r\n")
    s.close()
    wait_until(lambda: len(r.client_list()) == 1, what="client to go")
    # Writes to formerly watched keys, and new watchers, still work.
    r.set("k", "1")
    c = one(server)
    c.execute_command("WATCH", "k")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "2")
    c.execute_command("EXEC")
    assert r.get("k") == "2"
    assert server.alive()


# ---- redis-py high level API ---------------------------------------------------


def test_redis_py_pipeline_transaction(server, r):
    with r.pipeline(transaction=True) as p:
        p.set("a", "1").incr("a").get("a").delete("a")
        assert p.execute() == [True, 2, "2", 1]
    assert r.exists("a") == 0


def test_redis_py_transaction_retries_on_conflict(server, r):
    r.set("counter", "10")
    other = server.client(decode_responses=True)
    calls = []

    def fn(pipe):
        calls.append(1)
        value = int(pipe.get("counter"))
        if len(calls) == 1:
            other.set("counter", "100")  # conflicting write: forces a retry
        pipe.multi()
        pipe.set("counter", value + 1)

    r.transaction(fn, "counter")
    assert len(calls) == 2
    assert r.get("counter") == "101"


def test_redis_py_watch_error(server, r):
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        r.set("k", "2")
        p.multi()
        p.set("k", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("k") == "2"


# ---- RESP3 -----------------------------------------------------------------------


def hello3(s):
    s.sendall(cmd("HELLO", "3"))
    data = b""
    s.settimeout(5)
    deadline = time.monotonic() + 5
    # The HELLO map ends with the "modules" entry: an empty array.
    while b"modules\r\n*0\r\n" not in data and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"%"), data


def test_resp3_exec_reply(server, r):
    s = server.raw()
    hello3(s)
    exchange(s, cmd("MULTI") + cmd("SET", "k", "v") + cmd("GET", "k") + cmd("GET", "nokey") + cmd("EXEC"),
             b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\nv\r\n_\r\n")


def test_resp3_exec_null_when_watch_fails(server, r):
    s = server.raw()
    hello3(s)
    exchange(s, cmd("WATCH", "k"), b"+OK\r\n")
    r.set("k", "x")
    exchange(s, cmd("MULTI") + cmd("SET", "k", "v") + cmd("EXEC"), b"+OK\r\n+QUEUED\r\n_\r\n")


# ---- maxmemory -------------------------------------------------------------------


def test_exec_rejected_when_over_maxmemory(server, r):
    r.set("x", "y")
    c = one(server)
    try:
        c.execute_command("MULTI")
        c.execute_command("SET", "a", "1")
        # The memory limit drops below usage while the transaction is queued:
        # a queued command that may grow memory makes EXEC fail.
        r.config_set("maxmemory", "1")
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("EXEC")
        assert str(e.value) == ("Transaction discarded because of: OOM command not allowed when used memory > "
                                "'maxmemory'.")
        # Discarded: out of MULTI, nothing applied.
        with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
            c.execute_command("EXEC")
        r.config_set("maxmemory", "0")
        assert r.get("a") is None
        # A transaction of commands that do not grow memory still runs.
        c.execute_command("MULTI")
        c.execute_command("GET", "x")
        c.execute_command("DEL", "x")
        r.config_set("maxmemory", "1")
        assert c.execute_command("EXEC") == ["y", 1]
    finally:
        r.config_set("maxmemory", "0")
