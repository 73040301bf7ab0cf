"""Server administration commands: DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN,
SLOWLOG, LATENCY, MEMORY USAGE/STATS/DOCTOR, OBJECT and DEBUG — replies and
error texts as Redis 7.0 gives them."""
import os
import re
import time

import pytest
import redis

from conftest import resp_exchange, wait_until


@pytest.fixture
def server_factory(server_factory):
    """DEBUG is off by default, as in Redis 7.0 (enable-debug-command no);
    this module's servers turn it on. A later "--enable-debug-command no"
    in a test's own arguments turns it off again."""
    return lambda *args, **kw: server_factory("--enable-debug-command", "yes", *args, **kw)


def err(excinfo):
    return str(excinfo.value)


def raw_cmd(r, *args):
    """Run a command without redis-py's reply callbacks (OBJECT HELP has none
    that fits)."""
    conn = r.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        r.connection_pool.release(conn)


def configured(server_factory, **params):
    """A server with config params applied: given on the command line, and
    once more with CONFIG SET where this build has it (errors ignored, so
    either mechanism is enough)."""
    args = []
    for k, v in params.items():
        args += ["--" + k, str(v)]
    s = server_factory(*args)
    r = s.client(decode_responses=True)
    for k, v in params.items():
        try:
            r.config_set(k, v)
        except redis.ResponseError:
            pass
    return s, r


@pytest.fixture
def slow(server_factory):
    """A server logging every command in the slow log."""
    return configured(server_factory, **{"slowlog-log-slower-than": 0})


# ---- DBSIZE / FLUSHDB / FLUSHALL -------------------------------------------


def test_dbsize_counts_keys(r):
    assert r.dbsize() == 0
    for i in range(5):
        r.set(f"k{i}", "v")
    assert r.dbsize() == 5
    r.set("k0", "overwrite")
    assert r.dbsize() == 5
    r.delete("k1", "k2")
    assert r.dbsize() == 3
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DBSIZE", "x")
    assert err(e) == "wrong number of arguments for 'dbsize' command"


def test_flushdb_touches_only_selected_db(server):
    r0 = server.client(decode_responses=True, db=0)
    r1 = server.client(decode_responses=True, db=1)
    r0.set("a", "1")
    r0.set("b", "2")
    r1.set("c", "3")
    assert r1.flushdb() is True
    assert r1.dbsize() == 0
    assert r0.dbsize() == 2
    assert r0.get("a") == "1"


def test_flushall_empties_every_db(server):
    r0 = server.client(decode_responses=True, db=0)
    r5 = server.client(decode_responses=True, db=5)
    r0.set("a", "1")
    r5.set("b", "2")
    assert r0.flushall() is True
    assert r0.dbsize() == 0
    assert r5.dbsize() == 0
    assert r0.get("a") is None


@pytest.mark.parametrize("cmd", ["FLUSHDB", "FLUSHALL"])
def test_flush_options_and_errors(r, cmd):
    for opt in ("ASYNC", "sync", "Async"):
        r.set("k", "v")
        assert r.execute_command(cmd, opt) is True
        assert r.dbsize() == 0
    r.set("k", "v")
    for bad in (["FOO"], ["ASYNC", "SYNC"], ["SYNC", "SYNC"]):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(cmd, *bad)
        assert err(e) == "syntax error"
    assert r.get("k") == "v"  # a rejected flush changes nothing


def test_flush_counts_changes(r):
    before = r.info("persistence")["rdb_changes_since_last_save"]
    r.set("a", "1")
    r.set("b", "1")
    r.flushdb()
    after = r.info("persistence")["rdb_changes_since_last_save"]
    assert after - before == 4  # two writes + two keys removed


# ---- TIME -------------------------------------------------------------------


def test_time_reply_shape(server):
    s = server.raw()
    s.sendall(b"*1\r\n$4\r\nTIME\r\n")
    out = b""
    deadline = time.monotonic() + 5
    while out.count(b"\r\n") < 5 and time.monotonic() < deadline:
        out += s.recv(4096)
    m = re.fullmatch(rb"\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(\d+)\r\n", out)
    assert m, out
    secs, usec = int(m.group(2)), int(m.group(4))
    assert int(m.group(1)) == len(m.group(2)) and int(m.group(3)) == len(m.group(4))
    assert abs(secs - time.time()) < 5
    assert 0 <= usec < 1_000_000


def test_time_via_client_and_arity(r):
    secs, usec = r.time()
    assert abs(secs + usec / 1e6 - time.time()) < 5
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("TIME", "now")
    assert err(e) == "wrong number of arguments for 'time' command"


# ---- SHUTDOWN -----------------------------------------------------------------


def _shutdown_raw(server, *args):
    s = server.raw()
    parts = [b"SHUTDOWN"] + [a.encode() for a in args]
    payload = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    s.sendall(payload)
    s.settimeout(10)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_shutdown_exits_zero_and_removes_pidfile(server_factory, tmp_path):
    pidfile = str(tmp_path / "cachet-test.pid")
    server = server_factory("--pidfile", pidfile)
    wait_until(lambda: os.path.exists(pidfile), timeout=5, what="pidfile to be written")
    with open(pidfile) as f:
        assert int(f.read().strip()) == server.pid
    # The client gets no reply: the connection just closes.
    assert _shutdown_raw(server) == b""
    wait_until(lambda: not server.alive(), timeout=10, what="server to exit")
    assert server.proc.returncode == 0
    assert not os.path.exists(pidfile)


@pytest.mark.parametrize("args", [["NOSAVE"], ["SAVE"], ["NOW", "FORCE"], ["nosave", "now", "force"]])
def test_shutdown_flags_exit_zero(server_factory, args):
    server = server_factory()
    assert _shutdown_raw(server, *args) == b""
    wait_until(lambda: not server.alive(), timeout=10, what="server to exit")
    assert server.proc.returncode == 0


def test_shutdown_redis_py_helper(server):
    r = server.client()
    r.shutdown(nosave=True)  # redis-py treats the closed connection as success
    wait_until(lambda: not server.alive(), timeout=10, what="server to exit")
    assert server.proc.returncode == 0


def test_shutdown_errors_keep_server_running(server, r):
    cases = [
        (["FOO"], "syntax error"),
        (["SAVE", "NOSAVE"], "syntax error"),
        (["ABORT", "NOW"], "syntax error"),
        (["ABORT"], "No shutdown in progress."),
    ]
    for args, text in cases:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SHUTDOWN", *args)
        assert err(e) == text
    assert server.alive()
    assert r.ping() is True


# ---- SLOWLOG ------------------------------------------------------------------


def test_slowlog_records_commands(slow):
    server, r = slow
    r.slowlog_reset()
    r.set("foo", "bar")
    entries = r.execute_command("SLOWLOG", "GET", "2")
    # Newest first: the SET (the RESET before it is logged too).
    assert len(entries) == 2
    eid, ts, dur, args, addr, name = entries[0]
    assert args == ["SET", "foo", "bar"]
    assert entries[1][3] == ["SLOWLOG", "RESET"]
    assert eid > entries[1][0]
    assert abs(ts - time.time()) < 5
    assert dur >= 0
    assert re.fullmatch(r"127\.0\.0\.1:\d+", addr)
    assert name == ""


def test_slowlog_truncates_long_arguments(slow):
    server, r = slow
    r.set("big", "a" * 200)
    entry = r.execute_command("SLOWLOG", "GET", "1")[0]
    assert entry[3] == ["SET", "big", "a" * 128 + "... (72 more bytes)"]
    keys = [f"key{i}" for i in range(40)]
    r.delete(*keys)  # 41 arguments
    args = r.execute_command("SLOWLOG", "GET", "1")[0][3]
    assert len(args) == 32
    assert args[:31] == ["DEL"] + keys[:30]
    assert args[31] == "... (10 more arguments)"


def test_slowlog_redacts_secrets(slow):
    server, r = slow
    r.slowlog_reset()
    try:
        r.execute_command("AUTH", "hunter2")
    except redis.ResponseError:
        pass  # no password configured: still logged, still redacted
    r.config_set("requirepass", "hunter2")
    r.config_set("requirepass", "")
    entries = r.execute_command("SLOWLOG", "GET", "-1")
    logged = [a for e in entries for a in e[3]]
    assert "hunter2" not in logged
    cfg = [e[3] for e in entries if e[3][:2] == ["CONFIG", "SET"]]
    assert cfg[0] == ["CONFIG", "SET", "requirepass", "(redacted)"]
    auth = [e[3] for e in entries if e[3][0] == "AUTH"]
    if auth:  # AUTH exists in this build
        assert auth[0] == ["AUTH", "(redacted)"]


def test_slowlog_len_reset_get_count(slow):
    server, r = slow
    for i in range(5):
        r.set(f"k{i}", "v")
    assert r.slowlog_len() >= 5
    assert r.slowlog_reset() is True
    # The RESET itself is the one entry now, as in Redis.
    assert r.slowlog_len() == 1
    for i in range(12):
        r.ping()
    assert len(r.execute_command("SLOWLOG", "GET")) == 10  # default count
    assert r.execute_command("SLOWLOG", "GET", "0") == []
    assert len(r.execute_command("SLOWLOG", "GET", "3")) == 3
    n = r.slowlog_len()
    # Each SLOWLOG call is itself logged once it has run.
    assert len(r.execute_command("SLOWLOG", "GET", "-1")) == n + 1
    assert len(r.execute_command("SLOWLOG", "GET", "1000")) == n + 2


def test_slowlog_errors(r):
    for bad in ("-2", "abc", "1.5", "99999999999999999999"):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SLOWLOG", "GET", bad)
        assert err(e) == "count should be greater than or equal to -1"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SLOWLOG", "GET", "1", "2")
    assert err(e) == "unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SLOWLOG", "foo")
    assert err(e) == "unknown subcommand 'foo'. Try SLOWLOG HELP."
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SLOWLOG")
    assert err(e) == "wrong number of arguments for 'slowlog' command"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SLOWLOG", "LEN", "x")
    assert err(e) == "wrong number of arguments for 'slowlog|len' command"


def test_slowlog_help(r):
    lines = r.execute_command("SLOWLOG", "HELP")
    assert lines[0] == "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "GET [<count>]" in lines and "LEN" in lines and "RESET" in lines


def test_slowlog_default_threshold_skips_fast_commands(r):
    r.slowlog_reset()
    for i in range(10):
        r.set(f"k{i}", "v")
    # Default threshold is 10 ms: quick commands are not logged.
    assert r.slowlog_len() == 0


def test_slowlog_negative_threshold_disables(server_factory):
    s, r = configured(server_factory, **{"slowlog-log-slower-than": -1})
    r.execute_command("DEBUG", "SLEEP", "0.02")
    assert r.slowlog_len() == 0


def test_slowlog_max_len_bounds_entries(server_factory):
    s, r = configured(server_factory, **{"slowlog-log-slower-than": 0, "slowlog-max-len": 3})
    for i in range(10):
        r.set(f"k{i}", "v")
    assert r.slowlog_len() == 3
    entries = r.execute_command("SLOWLOG", "GET", "-1")
    # Oldest dropped first: the LEN just logged, then the last two SETs.
    assert [e[3] for e in entries] == [["SLOWLOG", "LEN"], ["SET", "k9", "v"], ["SET", "k8", "v"]]


def test_slowlog_slow_command_logged_with_duration(r):
    r.slowlog_reset()
    r.execute_command("DEBUG", "SLEEP", "0.02")
    entries = r.execute_command("SLOWLOG", "GET", "-1")
    sleeps = [e for e in entries if e[3][:2] == ["DEBUG", "SLEEP"]]
    assert len(sleeps) == 1
    assert sleeps[0][2] >= 20000  # microseconds


# ---- LATENCY ------------------------------------------------------------------


def test_latency_disabled_by_default(r):
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "HISTORY", "command") == []
    assert r.execute_command("LATENCY", "RESET") == 0
    doctor = r.execute_command("LATENCY", "DOCTOR")
    assert doctor.startswith("I'm sorry, Dave, I can't do that. Latency monitoring is disabled")


def test_latency_records_slow_commands(server_factory):
    s, r = configured(server_factory, **{"latency-monitor-threshold": 10})
    assert r.execute_command("LATENCY", "DOCTOR").startswith("Dave, no latency spike was observed")
    r.execute_command("DEBUG", "SLEEP", "0.05")
    latest = r.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    event, ts, last, worst = latest[0]
    assert event == "command"
    assert abs(ts - time.time()) < 5
    assert last >= 50 and worst >= last
    hist = r.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) == 1 and hist[0][1] == last
    doctor = r.execute_command("LATENCY", "DOCTOR")
    assert "1. command: 1 latency spikes" in doctor
    assert r.execute_command("LATENCY", "RESET", "nosuchevent") == 0
    assert r.execute_command("LATENCY", "RESET", "command") == 1
    assert r.execute_command("LATENCY", "LATEST") == []


def test_latency_errors_and_help(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("LATENCY", "foo")
    assert err(e) == "unknown subcommand 'foo'. Try LATENCY HELP."
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("LATENCY", "HISTORY")
    assert err(e) == "wrong number of arguments for 'latency|history' command"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("LATENCY", "LATEST", "x")
    assert err(e) == "wrong number of arguments for 'latency|latest' command"
    help_lines = r.execute_command("LATENCY", "HELP")
    assert help_lines[0].startswith("LATENCY <subcommand>")
    assert "LATEST" in help_lines


# ---- MEMORY -------------------------------------------------------------------


def test_memory_usage_grows_with_value(r):
    r.set("small", "x")
    r.set("big", "x" * 10000)
    small = r.memory_usage("small")
    big = r.memory_usage("big")
    assert 0 < small < 200
    assert big >= 10000
    assert big > small
    assert r.memory_usage("missing") is None
    assert r.execute_command("MEMORY", "USAGE", "big", "SAMPLES", "0") == big
    assert r.execute_command("MEMORY", "USAGE", "big", "SAMPLES", "5", "SAMPLES", "3") == big


def test_memory_usage_errors(r):
    r.set("k", "v")
    for args, text in [
        (["SAMPLES"], "syntax error"),
        (["SAMPLES", "-1"], "syntax error"),
        (["FOO", "1"], "syntax error"),
        (["SAMPLES", "x"], "value is not an integer or out of range"),
    ]:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("MEMORY", "USAGE", "k", *args)
        assert err(e) == text
    # Options are checked before the key is looked up, as in Redis.
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MEMORY", "USAGE", "missing", "SAMPLES", "x")
    assert err(e) == "value is not an integer or out of range"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MEMORY", "USAGE")
    assert err(e) == "wrong number of arguments for 'memory|usage' command"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MEMORY", "foo")
    assert err(e) == "unknown subcommand 'foo'. Try MEMORY HELP."


def test_memory_stats_map(r):
    for i in range(100):
        r.set(f"key:{i}", "v" * 50)
    stats = r.memory_stats()
    for field in ("peak.allocated", "total.allocated", "startup.allocated", "dataset.bytes", "keys.count",
                  "fragmentation", "overhead.total", "clients.normal", "db.0"):
        assert field in stats, field
    assert stats["keys.count"] == 100
    assert stats["total.allocated"] > 0
    assert stats["peak.allocated"] >= stats["total.allocated"]
    # The dataset is what is left after overheads: positive, within the total
    # (its exact size depends on the allocator: the ASan build uses libc's).
    assert 0 < stats["dataset.bytes"] <= stats["total.allocated"]
    assert float(stats["fragmentation"]) > 0
    assert "overhead.hashtable.main" in stats["db.0"]


def test_memory_doctor_purge_help(r):
    doctor = r.execute_command("MEMORY", "DOCTOR")
    assert doctor.startswith("Hi Sam")
    assert r.execute_command("MEMORY", "PURGE") == "OK"
    assert isinstance(r.execute_command("MEMORY", "MALLOC-STATS"), str)
    lines = r.execute_command("MEMORY", "HELP")
    assert lines[0] == "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "USAGE <key> [SAMPLES <count>]" in lines


# ---- OBJECT -------------------------------------------------------------------


def test_object_encoding(r):
    r.set("int", "12345")
    r.set("neg", "-7")
    r.set("short", "hello")
    r.set("edge44", "x" * 44)
    r.set("edge45", "x" * 45)
    r.set("notint", "0123")  # leading zero: not a canonical integer
    assert r.object("encoding", "int") == "int"
    assert r.object("encoding", "neg") == "int"
    assert r.object("encoding", "short") == "embstr"
    assert r.object("encoding", "edge44") == "embstr"
    assert r.object("encoding", "edge45") == "raw"
    assert r.object("encoding", "notint") == "embstr"
    assert r.object("encoding", "missing") is None


def test_object_freq_requires_lfu(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError) as e:
        r.object("freq", "k")
    assert err(e) == (
        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.")
    assert r.object("freq", "missing") is None


def test_object_freq_and_idletime_under_lfu(server_factory):
    s, r = configured(server_factory, **{"maxmemory-policy": "allkeys-lfu"})
    r.set("k", "v")
    for _ in range(10):
        r.get("k")
    assert isinstance(r.object("freq", "k"), int)
    with pytest.raises(redis.ResponseError) as e:
        r.object("idletime", "k")
    assert err(e) == (
        "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
        "between policies at runtime LRU and LFU data will take some time to adjust.")


def test_object_idletime_refcount(r):
    r.set("k", "v")
    idle = r.object("idletime", "k")
    assert isinstance(idle, int) and 0 <= idle <= 2
    assert r.object("refcount", "k") == 1
    assert r.object("idletime", "missing") is None
    assert r.object("refcount", "missing") is None


def test_object_does_not_touch_the_key(r):
    r.set("k", "v")
    wait_until(lambda: r.object("idletime", "k") >= 2, timeout=8, interval=0.2, what="key to become idle")
    # Inspecting it did not reset the idle time; a read does.
    assert r.object("idletime", "k") >= 2
    r.get("k")
    assert r.object("idletime", "k") <= 1


def test_object_errors_and_help(r):
    for args, text in [
        (["OBJECT"], "wrong number of arguments for 'object' command"),
        (["OBJECT", "foo"], "unknown subcommand 'foo'. Try OBJECT HELP."),
        (["OBJECT", "ENCODING"], "wrong number of arguments for 'object|encoding' command"),
        (["OBJECT", "ENCODING", "a", "b"], "wrong number of arguments for 'object|encoding' command"),
    ]:
        with pytest.raises(redis.ResponseError) as e:
            raw_cmd(r, *args)
        assert err(e) == text
    lines = raw_cmd(r, "OBJECT", "HELP")
    assert lines[0] == "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "ENCODING <key>" in lines and "FREQ <key>" in lines


def test_object_counts_hits_and_misses(r):
    r.set("k", "v")
    before = r.info("stats")
    r.object("encoding", "k")
    r.object("encoding", "missing")
    after = r.info("stats")
    assert after["keyspace_hits"] - before["keyspace_hits"] == 1
    assert after["keyspace_misses"] - before["keyspace_misses"] == 1


# ---- DEBUG --------------------------------------------------------------------


def test_debug_sleep(r):
    t0 = time.monotonic()
    assert r.execute_command("DEBUG", "SLEEP", "0.1") == "OK"
    assert time.monotonic() - t0 >= 0.09
    assert r.execute_command("DEBUG", "SLEEP", "0") == "OK"
    assert r.execute_command("DEBUG", "SLEEP", "-1") == "OK"
    assert r.execute_command("DEBUG", "SLEEP", "abc") == "OK"  # strtod, as Redis


def test_debug_object(r):
    r.set("k", "hello")
    r.set("n", "12345")
    line = r.debug_object("k")  # redis-py parses the line into a dict
    assert line["refcount"] == 1
    assert line["encoding"] == "embstr"
    assert line["serializedlength"] == 6
    assert "lru" in line and "lru_seconds_idle" in line
    assert r.debug_object("n")["encoding"] == "int"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "OBJECT", "missing")
    assert err(e) == "no such key"


def test_debug_object_raw_line(server):
    s = server.raw()
    resp_exchange(s, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n")
    out = resp_exchange(s, b"*3\r\n$5\r\nDEBUG\r\n$6\r\nOBJECT\r\n$1\r\nk\r\n")
    assert re.fullmatch(
        rb"\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 lru:\d+ lru_seconds_idle:\d+\r\n",
        out), out


def test_debug_set_active_expire(r):
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"


def test_debug_errors_and_help(r):
    for args, name in [(["FOO"], "FOO"), (["sleep"], "sleep"), (["SET-ACTIVE-EXPIRE"], "SET-ACTIVE-EXPIRE"),
                       (["OBJECT"], "OBJECT"), (["OBJECT", "a", "b"], "OBJECT")]:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("DEBUG", *args)
        assert err(e) == f"unknown subcommand or wrong number of arguments for '{name}'. Try DEBUG HELP."
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG")
    assert err(e) == "wrong number of arguments for 'debug' command"
    lines = r.execute_command("DEBUG", "HELP")
    assert lines[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "SLEEP <seconds>" in lines


# ---- COMMAND metadata ------------------------------------------------------------


def test_command_info_matches_redis(rb):
    conn = rb.connection_pool.get_connection("COMMAND")
    try:
        conn.send_command("COMMAND", "INFO", "dbsize", "flushall", "shutdown", "object|encoding", "slowlog|get",
                          "debug", "time")
        info = conn.read_response()
    finally:
        rb.connection_pool.release(conn)
    by_name = {e[0]: e for e in info}
    assert by_name[b"dbsize"][1] == 1
    assert set(by_name[b"dbsize"][2]) == {b"readonly", b"fast"}
    assert set(by_name[b"dbsize"][6]) == {b"@keyspace", b"@read", b"@fast"}
    assert by_name[b"flushall"][1] == -1
    assert set(by_name[b"flushall"][6]) == {b"@keyspace", b"@write", b"@slow", b"@dangerous"}
    assert set(by_name[b"shutdown"][2]) == {b"admin", b"noscript", b"loading", b"stale", b"no_multi", b"allow_busy"}
    assert by_name[b"object|encoding"][1:6] == [3, [b"readonly"], 2, 2, 1]
    assert set(by_name[b"object|encoding"][6]) == {b"@keyspace", b"@read", b"@slow"}
    assert set(by_name[b"slowlog|get"][2]) == {b"admin", b"loading", b"stale"}
    assert by_name[b"time"][1] == 1


# ---- RESP3 --------------------------------------------------------------------


def test_resp3_nulls_and_verbatim(server):
    s = server.raw()
    hello = resp_exchange(s, b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", until=b"$7\r\nmodules\r\n*0\r\n")
    assert hello.startswith(b"%")
    assert resp_exchange(s, b"*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$7\r\nmissing\r\n") == b"_\r\n"
    assert resp_exchange(s, b"*3\r\n$6\r\nMEMORY\r\n$5\r\nUSAGE\r\n$7\r\nmissing\r\n") == b"_\r\n"
    out = resp_exchange(s, b"*2\r\n$7\r\nLATENCY\r\n$6\r\nDOCTOR\r\n", until=b"monitor.\n\r\n")
    assert out.startswith(b"=") and b"\r\ntxt:I'm sorry, Dave" in out


def test_command_getkeys_movable_keys(r):
    # Cluster clients route by these: a count argument, then the keys.
    assert r.command_getkeys("LMPOP", "2", "a", "b", "LEFT") == ["a", "b"]
    assert r.command_getkeys("BLMPOP", "0", "1", "q", "RIGHT", "COUNT", "2") == ["q"]
    assert r.command_getkeys("MSET", "a", "1", "b", "2") == ["a", "b"]
    with pytest.raises(redis.ResponseError, match="The command has no key arguments"):
        r.command_getkeys("PING", "x")
    # COMMAND GETKEYS takes a command and at least one argument (arity -4, as Redis 7.0).
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'command|getkeys' command"):
        r.command_getkeys("PING")
