"""Configuration: the redis.conf loader (file, command line, stdin), CONFIG
GET / SET / RESETSTAT / REWRITE / HELP, and the runtime effects of CONFIG SET
(listener moves, requirepass, maxclients)."""
import os
import socket
import subprocess

import pytest
import redis

from conftest import SERVER_BIN, free_port, resp_exchange, wait_until


def cfg(r, name):
    return r.config_get(name)[name]


def err_of(fn, *args):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


def raw_cmd(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# ---- loading ------------------------------------------------------------------


def test_file_then_command_line_precedence(server_factory):
    conf = (
        "# a comment line\n"
        "\n"
        "   # indented comment\n"
        "hz 20\n"
        "maxmemory 10mb\n"
        "MaxMemory-Policy allkeys-lru\n"
        "hz 30\n"  # later lines override earlier ones
        'lfu-log-factor "7"\n'
        "save 100 1\n"
        "save 200 2\n"  # save lines accumulate, as in Redis
        "bind 10.1.1.1 10.2.2.2\n"  # replaced below by the command line
        "port 1\n"  # the fixture's --port wins
    )
    s = server_factory("--maxmemory", "20mb", "--timeout", "33", config=conf)
    r = s.client(decode_responses=True)
    assert cfg(r, "hz") == "30"
    assert cfg(r, "maxmemory") == str(20 * 1024 * 1024)
    assert cfg(r, "maxmemory-policy") == "allkeys-lru"
    assert cfg(r, "lfu-log-factor") == "7"
    assert cfg(r, "save") == "100 1 200 2"
    assert cfg(r, "timeout") == "33"
    assert cfg(r, "bind") == "127.0.0.1"
    assert cfg(r, "port") == str(s.port)


def test_defaults(r):
    got = r.config_get("*")
    expect = {
        "port": None, "bind": "* -::*", "protected-mode": "yes", "maxclients": "10000", "timeout": "0",
        "tcp-keepalive": "300", "tcp-backlog": "511", "databases": "16", "maxmemory": "0",
        "maxmemory-policy": "noeviction", "maxmemory-samples": "5", "lfu-log-factor": "10", "lfu-decay-time": "1",
        "proto-max-bulk-len": "536870912", "client-query-buffer-limit": "1073741824",
        "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        "loglevel": "notice", "logfile": "", "daemonize": "no", "pidfile": "", "hz": "10", "requirepass": "",
        "slowlog-log-slower-than": "10000", "slowlog-max-len": "128", "latency-monitor-threshold": "0",
        "active-expire-effort": "1", "lazyfree-lazy-user-del": "no", "lazyfree-lazy-user-flush": "no",
        "save": "", "appendonly": "no", "dbfilename": "dump.rdb",
    }
    for k, v in expect.items():
        assert k in got, k
        if k == "bind":
            continue  # the fixture passes --bind
        if v is not None:
            assert got[k] == v, k


def run_refused(args, stdin=None, timeout=10):
    """Start the binary expecting a refusal; returns (exit code, stderr)."""
    p = subprocess.run([SERVER_BIN] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr


@pytest.mark.parametrize("body,line,shown,reason", [
    ("port 7000\nmaxmemory 1x\n", 2, "maxmemory 1x", "argument must be a memory value"),
    ("# c\n\nfoo bar\n", 3, "foo bar", "Bad directive or wrong number of arguments"),
    ("port 7000 8000\n", 1, "port 7000 8000", "wrong number of arguments"),
    ("hz abc\n", 1, "hz abc", "argument couldn't be parsed into an integer"),
    ('  port   "70000"  \r\n', 1, 'port   "70000"', "argument must be between 0 and 65535 inclusive"),
    ('port "700\n', 1, 'port "700', "Unbalanced quotes in configuration line"),
    ("protected-mode maybe\n", 1, "protected-mode maybe", "argument must be 'yes' or 'no'"),
    ("loglevel loud\n", 1, "loglevel loud",
     "argument(s) must be one of the following: debug, verbose, notice, warning"),
    ("client-output-buffer-limit foo 1 2 3\n", 1, "client-output-buffer-limit foo 1 2 3",
     "Invalid client class specified in buffer limit configuration."),
    ("save 100\n", 1, "save 100", "Invalid save parameters"),
    ("dir /nonexistent/dir\n", 1, "dir /nonexistent/dir", "No such file or directory"),
])
def test_bad_file_refused_with_line(tmp_path, body, line, shown, reason):
    conf = tmp_path / "bad.conf"
    conf.write_text(body)
    rc, err = run_refused([str(conf), "--port", str(free_port())])
    assert rc == 1
    assert f"Reading the configuration file, at line {line}\n>>> '{shown}'\n{reason}\n" in err
    assert "FATAL CONFIG FILE ERROR" in err


def test_bad_command_line_option_refused(tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text("hz 20\nmaxmemory 1mb\n")
    # Options follow the file's lines (after a separating newline), as in Redis.
    rc, err = run_refused([str(conf), "--port", str(free_port()), "--maxmemory-policy", "foo"])
    assert rc == 1
    assert "at line 5\n>>> 'maxmemory-policy \"foo\"'\nargument(s) must be one of the following: volatile-lru" in err
    rc, err = run_refused(["--port", str(free_port()), "--nosuch", "1"])
    assert rc == 1 and "at line 3\n>>> 'nosuch \"1\"'\nBad directive or wrong number of arguments" in err
    rc, err = run_refused([str(tmp_path / "missing.conf")])
    assert rc == 1 and "can't open config file" in err


def test_config_from_stdin(tmp_path):
    port = free_port()
    proc = subprocess.Popen([SERVER_BIN, "-", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(b"hz 42\nmaxmemory-policy volatile-ttl\n")
        proc.stdin.close()
        wait_until(lambda: can_connect(port), what="stdin-configured server")
        r = redis.Redis(port=port, decode_responses=True, socket_timeout=5)
        assert cfg(r, "hz") == "42"
        assert cfg(r, "maxmemory-policy") == "volatile-ttl"
        assert err_of(r.config_rewrite) == "The server is running without a config file"
        r.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- CONFIG GET ------------------------------------------------------------------


def test_config_get_glob_and_multiple_patterns(r, server):
    got = r.config_get("maxmemory*")
    assert set(got) == {"maxmemory", "maxmemory-policy", "maxmemory-samples"}
    got = r.execute_command("CONFIG", "GET", "lfu-*", "hz", "maxmemory", "lfu-log-factor", "nosuch")
    assert got == ["lfu-log-factor", "10", "lfu-decay-time", "1", "hz", "10", "maxmemory", "0"] or \
        dict(zip(got[::2], got[1::2])) == {"lfu-log-factor": "10", "lfu-decay-time": "1", "hz": "10", "maxmemory": "0"}
    names = got[::2]
    assert len(names) == len(set(names)) == 4  # each parameter once
    # An exact name is answered under the name as asked (Redis does the same).
    assert r.execute_command("CONFIG", "GET", "PORT", "port") == ["PORT", str(server.port)]
    assert r.config_get("nosuch*") == {}
    assert r.config_get("h?") == {"hz": "10"}
    assert r.config_get("[h]z") == {"hz": "10"}
    assert err_of(r.execute_command, "CONFIG", "GET") == "wrong number of arguments for 'config|get' command"


def test_config_get_resp3_map(server):
    s = server.raw()
    hello = resp_exchange(s, b"HELLO 3\r\n")
    assert hello.startswith(b"%")
    if b"modules" not in hello:
        hello += resp_exchange(s, b"", until=b"modules")
    out = resp_exchange(s, raw_cmd(s, "CONFIG", "GET", "hz", "lfu-decay-time"), until=b"lfu-decay-time\r\n$1\r\n1\r\n")
    assert out == b"%2\r\n$2\r\nhz\r\n$2\r\n10\r\n$14\r\nlfu-decay-time\r\n$1\r\n1\r\n"
    s2 = server.raw()
    out = resp_exchange(s2, raw_cmd(s2, "CONFIG", "GET", "hz"), until=b"10\r\n")
    assert out == b"*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"


# ---- CONFIG SET --------------------------------------------------------------------


def test_config_set_several_pairs(r):
    assert r.execute_command("CONFIG", "SET", "hz", "50", "maxmemory-policy", "allkeys-lfu",
                             "lazyfree-lazy-user-del", "YES", "loglevel", "warning") == "OK"
    assert cfg(r, "hz") == "50"
    assert cfg(r, "maxmemory-policy") == "allkeys-lfu"
    assert cfg(r, "lazyfree-lazy-user-del") == "yes"
    assert cfg(r, "loglevel") == "warning"


def test_config_set_all_or_nothing(r):
    e = err_of(r.execute_command, "CONFIG", "SET", "maxmemory", "10mb", "hz", "77", "maxmemory-policy", "bogus")
    assert e.startswith("CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be")
    assert cfg(r, "maxmemory") == "0"
    assert cfg(r, "hz") == "10"
    assert cfg(r, "maxmemory-policy") == "noeviction"
    # An unknown name anywhere: nothing is applied either.
    e = err_of(r.execute_command, "CONFIG", "SET", "hz", "77", "nosuch", "1")
    assert e == "Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    assert cfg(r, "hz") == "10"


@pytest.mark.parametrize("args,msg", [
    (["foo", "bar"], "Unknown option or number of arguments for CONFIG SET - 'foo'"),
    (["port", "abc"], "CONFIG SET failed (possibly related to argument 'port') - "
                      "argument couldn't be parsed into an integer"),
    (["port", "70000"], "CONFIG SET failed (possibly related to argument 'port') - "
                        "argument must be between 0 and 65535 inclusive"),
    (["maxmemory", "1x"], "CONFIG SET failed (possibly related to argument 'maxmemory') - "
                          "argument must be a memory value"),
    (["maxmemory", "-1"], "CONFIG SET failed (possibly related to argument 'maxmemory') - "
                          "argument must be a memory value"),
    (["maxclients", "0"], "CONFIG SET failed (possibly related to argument 'maxclients') - "
                          "argument must be between 1 and 4294967295 inclusive"),
    (["hz", "-1"], "CONFIG SET failed (possibly related to argument 'hz') - "
                   "argument must be between 0 and 2147483647 inclusive"),
    (["slowlog-log-slower-than", "-2"], "CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than')"
                                        " - argument must be between -1 and 9223372036854775807 inclusive"),
    (["active-expire-effort", "11"], "CONFIG SET failed (possibly related to argument 'active-expire-effort') - "
                                     "argument must be between 1 and 10 inclusive"),
    (["proto-max-bulk-len", "1k"], "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - "
                                   "argument must be between 1048576 and 9223372036854775807 inclusive"),
    (["protected-mode", "maybe"], "CONFIG SET failed (possibly related to argument 'protected-mode') - "
                                  "argument must be 'yes' or 'no'"),
    (["maxmemory-policy", "lru"], "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
                                  "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                                  "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                                  "noeviction"),
    (["save", "1 2 3"], "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
    (["client-output-buffer-limit", "normal 1 2"], "CONFIG SET failed (possibly related to argument "
                                                   "'client-output-buffer-limit') - Wrong number of arguments in "
                                                   "buffer limit configuration."),
    (["client-output-buffer-limit", "master 1 2 3"], "CONFIG SET failed (possibly related to argument "
                                                     "'client-output-buffer-limit') - Invalid client class "
                                                     "specified in buffer limit configuration."),
    (["client-output-buffer-limit", "normal 1x 2 3"], "CONFIG SET failed (possibly related to argument "
                                                      "'client-output-buffer-limit') - Error in hard, soft or "
                                                      "soft_seconds setting in buffer limit configuration."),
    (["maxmemory", "1mb", "MAXMEMORY", "2mb"], "CONFIG SET failed (possibly related to argument 'MAXMEMORY') - "
                                               "duplicate parameter"),
    (["databases", "5"], "CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
    (["daemonize", "no"], "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
    (["tcp-backlog", "5"], "CONFIG SET failed (possibly related to argument 'tcp-backlog') - "
                           "can't set immutable config"),
    (["logfile", "x"], "CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config"),
    (["pidfile", "x"], "CONFIG SET failed (possibly related to argument 'pidfile') - can't set immutable config"),
    (["dir", "/tmp"], "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
    (["dbfilename", "x.rdb"], "CONFIG SET failed (possibly related to argument 'dbfilename') - "
                              "can't set protected config"),
    (["hz", "5", "databases", "3", "foo", "2"], "CONFIG SET failed (possibly related to argument 'databases') - "
                                                "can't set immutable config"),
])
def test_config_set_error_texts(r, args, msg):
    before = r.config_get("*")
    assert err_of(r.execute_command, "CONFIG", "SET", *args) == msg
    assert r.config_get("*") == before


def test_config_set_arity_and_syntax(r):
    assert err_of(r.execute_command, "CONFIG", "SET", "hz") == "wrong number of arguments for 'config|set' command"
    assert err_of(r.execute_command, "CONFIG", "SET", "hz", "1", "2") == "syntax error"
    assert err_of(r.execute_command, "CONFIG") == "wrong number of arguments for 'config' command"
    assert err_of(r.execute_command, "CONFIG", "FOO") == "unknown subcommand 'FOO'. Try CONFIG HELP."


def test_hz_is_clamped(r):
    r.config_set("hz", 1000)
    assert cfg(r, "hz") == "500"
    r.config_set("hz", 0)
    assert cfg(r, "hz") == "1"


def test_maxmemory_units(r):
    for val, expect in [("1gb", 1 << 30), ("100mb", 100 << 20), ("5k", 5000), ("5kb", 5120), ("1GB", 1 << 30),
                        ("12345", 12345), ("0", 0)]:
        r.config_set("maxmemory", val)
        assert cfg(r, "maxmemory") == str(expect), val
    for bad in ["1.5gb", " 5", "5 ", "1tb", "-1", "+1", "0x10", "99999999999999999999gb"]:
        assert "argument must be a memory value" in err_of(r.config_set, "maxmemory", bad)
        assert cfg(r, "maxmemory") == "0"
    # Redis 7.0's parse, quirks included: "" and a bare unit are 0, leading
    # zeros are fine, too many digits saturate at 2^64-1.
    for val, expect in [("01mb", 1 << 20), ("", 0), ("kb", 0), ("18446744073709551616", 2**64 - 1)]:
        r.config_set("maxmemory", val)
        assert cfg(r, "maxmemory") == str(expect), val
    r.config_set("maxmemory", 0)


def test_listpack_value_limits_are_memory_values(r):
    """hash-/zset-max-listpack-value are memory values in Redis 7.0."""
    for name in ("hash-max-listpack-value", "zset-max-listpack-value", "hash-max-ziplist-value"):
        r.config_set(name, "1kb")
        assert cfg(r, name) == "1024"
        assert "argument must be a memory value" in err_of(r.config_set, name, "-1")
        assert "argument must be a memory value" in err_of(r.config_set, name, "abc")
        assert "argument must be between 0 and 9223372036854775807 inclusive" in \
            err_of(r.config_set, name, "18446744073709551615")
        assert cfg(r, name) == "1024"
        r.config_set(name, 64)
    # proto-max-bulk-len: 2^64-1 parses, then fails its bounds, as in Redis.
    assert "argument must be between 1048576 and 9223372036854775807 inclusive" in \
        err_of(r.config_set, "proto-max-bulk-len", "18446744073709551615")


def test_client_output_buffer_limit_round_trip(r):
    r.config_set("client-output-buffer-limit", "normal 1mb 2mb 3 pubsub 1 2 3")
    assert cfg(r, "client-output-buffer-limit") == \
        "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 1 2 3"
    # The GET output is itself a valid SET value (replica is an alias of slave).
    out = cfg(r, "client-output-buffer-limit")
    r.config_set("client-output-buffer-limit", "replica 0 0 0")
    r.config_set("client-output-buffer-limit", out)
    assert cfg(r, "client-output-buffer-limit") == out


def test_save_appendonly_dbfilename(r):
    r.config_set("save", "900 1 300 10")
    assert cfg(r, "save") == "900 1 300 10"
    r.config_set("save", "")
    assert cfg(r, "save") == ""
    assert r.config_set("appendonly", "no") is True
    assert "appendonly yes is not supported" in err_of(r.config_set, "appendonly", "yes")
    assert cfg(r, "appendonly") == "no"
    assert cfg(r, "dbfilename") == "dump.rdb"


def test_protected_configs_when_enabled(server_factory, tmp_path):
    s = server_factory("--enable-protected-configs", "yes")
    r = s.client(decode_responses=True)
    sub = tmp_path / "newdir"
    sub.mkdir()
    r.config_set("dir", str(sub))
    assert cfg(r, "dir") == str(sub)
    assert err_of(r.config_set, "dir", "/nonexistent/x") == \
        "CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    assert cfg(r, "dir") == str(sub)
    r.config_set("dbfilename", "other.rdb")
    assert cfg(r, "dbfilename") == "other.rdb"
    assert err_of(r.config_set, "dbfilename", "a/b.rdb") == \
        "CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
    assert "can't set immutable config" in err_of(r.config_set, "enable-protected-configs", "no")


# ---- runtime effects ----------------------------------------------------------------


def test_config_set_port_moves_listener(server):
    r = server.client(decode_responses=True)
    r.set("k", "v")
    old, new = server.port, free_port()
    assert r.config_set("port", new) is True
    assert can_connect(new)
    assert not can_connect(old)
    # The connection that asked stays open.
    assert r.get("k") == "v"
    assert cfg(r, "port") == str(new)
    r2 = redis.Redis(port=new, decode_responses=True, socket_timeout=5)
    assert r2.get("k") == "v"
    # A busy port: error, and the current listener keeps serving.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    bport = busy.getsockname()[1]
    try:
        e = err_of(r2.execute_command, "CONFIG", "SET", "hz", "33", "port", str(bport))
        assert e == "CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. " \
                    "Check server logs."
    finally:
        busy.close()
    assert cfg(r2, "port") == str(new)
    assert cfg(r2, "hz") == "10"  # rolled back with the port
    assert can_connect(new)
    server.port = new  # let the fixture's clients/stop find it
    r2.close()


def test_config_set_bind(server):
    r = server.client(decode_responses=True)
    assert r.config_set("bind", "127.0.0.1 -::1") is True
    assert cfg(r, "bind") == "127.0.0.1 -::1"
    assert can_connect(server.port)
    e = err_of(r.config_set, "bind", "192.0.2.123")
    assert e == "CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
    assert cfg(r, "bind") == "127.0.0.1 -::1"
    assert can_connect(server.port)


def test_requirepass_then_noauth(server):
    r = server.client(decode_responses=True)
    assert r.config_set("requirepass", "s3cret") is True
    assert cfg(r, "requirepass") == "s3cret"
    s = server.raw()
    assert resp_exchange(s, b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert resp_exchange(s, raw_cmd(s, "GET", "k")) == b"-NOAUTH Authentication required.\r\n"
    # The connection that set it stays authenticated (as in Redis).
    assert r.ping() is True
    r.config_set("requirepass", "")
    assert cfg(r, "requirepass") == ""
    s2 = server.raw()
    assert resp_exchange(s2, b"PING\r\n") == b"+PONG\r\n"


def test_maxclients(server):
    r = server.client(decode_responses=True)
    r.config_set("maxclients", 2)
    assert cfg(r, "maxclients") == "2"
    s1 = server.raw()
    assert resp_exchange(s1, b"PING\r\n") == b"+PONG\r\n"
    s2 = server.raw()
    assert resp_exchange(s2, b"PING\r\n") == b"-ERR max number of clients reached\r\n"
    r.config_set("maxclients", 5000)
    assert cfg(r, "maxclients") == "5000"
    e = err_of(r.config_set, "maxclients", 4294967295)
    assert e.startswith("CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not "
                        "able to handle the specified number of clients, try with ")
    assert cfg(r, "maxclients") == "5000"


# ---- RESETSTAT, REWRITE, HELP, COMMAND INFO ---------------------------------------------


def info_stats(r):
    try:
        return r.info("stats")
    except redis.ResponseError:
        return None


def test_resetstat(r):
    for i in range(20):
        r.set(f"k{i}", i)
    assert r.config_resetstat() is True
    stats = info_stats(r)
    assert stats is not None and "total_commands_processed" in stats
    # RESETSTAT itself and INFO are counted after the reset.
    assert stats["total_commands_processed"] <= 2
    assert stats.get("total_connections_received", 0) == 0
    assert r.dbsize() == 20  # data is untouched


def test_rewrite_round_trip(server_factory):
    conf = (
        "# My cachet config\n"
        "# keep this comment\n"
        "hz 20\n"
        "\n"
        "# policy below\n"
        "maxmemory-policy allkeys-lru\n"
        "save 100 1\n"
        "save 200 2\n"
        "timeout 5\n"
    )
    s = server_factory(config=conf)
    path = os.path.join(s.dir, "cachet.conf")
    r = s.client(decode_responses=True)
    r.config_set("hz", 25)
    r.config_set("maxmemory", "100mb")
    r.config_set("client-output-buffer-limit", "pubsub 64mb 16mb 90")
    r.config_set("save", "300 5")
    r.config_set("timeout", 0)
    assert r.config_rewrite() in (True, "OK")
    text = open(path).read()
    lines = text.split("\n")
    assert lines[:3] == ["# My cachet config", "# keep this comment", "hz 25"]  # updated in place
    assert "# policy below" in lines
    assert "maxmemory-policy allkeys-lru" in lines
    assert "timeout 0" in lines  # was in the file: kept in place even at its default
    assert lines.count("save 300 5") == 1 and "save 100 1" not in text and "save 200 2" not in text
    assert lines.count("# Generated by CONFIG REWRITE") == 1
    tail = lines[lines.index("# Generated by CONFIG REWRITE"):]
    assert "maxmemory 100mb" in tail
    assert "client-output-buffer-limit pubsub 64mb 16mb 90" in tail
    assert not any(l.startswith("databases") for l in lines)  # defaults are not added
    assert not [f for f in os.listdir(s.dir) if ".tmp-" in f]  # temp file renamed away

    # A second rewrite is stable: same content, one signature.
    assert r.config_rewrite() in (True, "OK")
    assert open(path).read() == text

    # Restart from the rewritten file: values kept.
    s2 = server_factory(config=text)
    r2 = s2.client(decode_responses=True)
    assert cfg(r2, "hz") == "25"
    assert cfg(r2, "maxmemory") == str(100 << 20)
    assert cfg(r2, "maxmemory-policy") == "allkeys-lru"
    assert cfg(r2, "save") == "300 5"
    assert cfg(r2, "timeout") == "0"
    assert cfg(r2, "client-output-buffer-limit").endswith("pubsub 67108864 16777216 90")


def test_rewrite_requirepass(server_factory):
    s = server_factory(config="# top\nrequirepass old\n")
    sock = s.raw()
    assert resp_exchange(sock, b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    # Set at runtime, rewritten, and in force after a restart from the file.
    s2 = server_factory(config="# top\nhz 11\n")
    r = s2.client(decode_responses=True)
    path2 = os.path.join(s2.dir, "cachet.conf")
    r.config_set("requirepass", 'pa ss"w')
    assert r.config_rewrite() in (True, "OK")
    text = open(path2).read()
    assert 'requirepass "pa ss\\"w"' in text.split("\n")
    # Restarted from it, the password is in force.
    s3 = server_factory(config=text)
    sock = s3.raw()
    assert resp_exchange(sock, b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    # Cleared password: the line goes away on the next rewrite.
    r.config_set("requirepass", "")
    assert r.config_rewrite() in (True, "OK")
    assert not [l for l in open(path2).read().split("\n") if l.startswith("requirepass")]


def test_rewrite_without_config_file(r):
    assert err_of(r.config_rewrite) == "The server is running without a config file"


def test_help_and_command_info(r):
    lines = r.execute_command("CONFIG", "HELP")
    assert lines[0] == "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in ("GET <pattern>", "SET <directive> <value>", "RESETSTAT", "REWRITE", "HELP"):
        assert sub in lines
    info = r.execute_command("COMMAND", "INFO", "config|get", "config|set", "config|resetstat", "config|rewrite",
                             "config|help")
    # redis-py turns the reply into {name: {"arity":..., "flags": [...]}}
    for name, arity in (("config|get", -3), ("config|set", -4), ("config|resetstat", 2), ("config|rewrite", 2)):
        assert info[name]["arity"] == arity
        assert set(info[name]["flags"]) == {"admin", "noscript", "loading", "stale"}
    assert info["config|help"]["arity"] == 2
    assert set(info["config|help"]["flags"]) == {"loading", "stale"}


def test_collection_encoding_configs_and_ziplist_aliases(r):
    # Redis 7.0 defaults, under the listpack names and the old ziplist ones.
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "512"}
    assert r.config_get("set-max-intset-entries") == {"set-max-intset-entries": "512"}
    assert r.config_get("zset-max-listpack-value") == {"zset-max-listpack-value": "64"}
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-2"}
    assert r.config_set("hash-max-ziplist-entries", 7) is True
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "7"}
    assert r.config_get("hash-max-ziplist-entries") == {"hash-max-ziplist-entries": "7"}
    # A glob answers under both names.
    assert r.config_get("hash-max-*-entries") == {"hash-max-listpack-entries": "7", "hash-max-ziplist-entries": "7"}
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("set-max-intset-entries", -1)
    assert "argument must be between 0 and 9223372036854775807 inclusive" in str(e.value)
    assert r.config_get("set-max-intset-entries") == {"set-max-intset-entries": "512"}


# ---- protected mode: non-loopback clients, in a network namespace ------------------

DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
    b"default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    b"from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    b"sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    b"same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    b"so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode "
    b"by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting "
    b"the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the "
    b"above things in order for the server to start accepting connections from the outside.\r\n")

NS_ADDR = "10.77.0.1"  # exists only inside the namespace the test creates
NS_TLS_PORT = 16390    # any port is free in a fresh namespace

# Runs inside the namespace: connect from src (plain or TLS), send the
# commands, print what came back before the close or the expected reply.
NS_CLIENT = r"""
import socket, ssl, sys, time
src, port, ca, want = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
payload = bytes.fromhex(sys.argv[5])
s = socket.socket()
s.bind((src, 0))
s.settimeout(5)
s.connect((src, port))
if ca != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = False
    s = ctx.wrap_socket(s, server_hostname="localhost")
s.sendall(payload)
data, deadline = b"", time.monotonic() + 5
while time.monotonic() < deadline and not data.endswith(want):
    try:
        chunk = s.recv(65536)
    except (ConnectionResetError, ssl.SSLError, TimeoutError):
        break
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.hex())
"""


def netns_ok():
    import shutil
    return os.geteuid() == 0 and all(shutil.which(p) for p in ("unshare", "nsenter", "ip")) and \
        subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def ns_server(tmp_path, *args):
    """A server in a new network namespace whose loopback also carries
    NS_ADDR, a non-loopback address: clients from there are 'remote', and
    no packet ever leaves the namespace."""
    from conftest import Server
    setup = f"ip link set lo up && ip addr add {NS_ADDR}/32 dev lo && exec \"$0\" \"$@\""
    return Server(tmp_path, args, wrap=lambda argv: ["unshare", "-n", "sh", "-c", setup] + argv,
                  ready=lambda s: "Ready to accept connections" in s.log())


def ns_talk(server, src, port, *cmds, ca=None, want=b"\r\n"):
    payload = b"".join(raw_cmd(None, *c) for c in cmds)
    out = subprocess.run(["nsenter", f"--net=/proc/{server.pid}/ns/net", "/usr/bin/python3", "-c", NS_CLIENT, src,
                          str(port), ca or "-", want.decode(), payload.hex()],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return bytes.fromhex(out.stdout)


@pytest.mark.skipif(not netns_ok(), reason="needs root and unshare/nsenter for a private network namespace")
@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_protected_mode_refuses_remote_clients_whatever_bind_says(tmp_path, tls_certs, transport):
    # Redis 7.0: protected mode depends on the default user's password only;
    # "bind 0.0.0.0" with no password must not leave an open server.
    args = ["--bind", "0.0.0.0"]
    if transport == "tls":
        args += ["--tls-port", NS_TLS_PORT, "--tls-cert-file", tls_certs["server_crt"],
                 "--tls-key-file", tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"]]
    s = ns_server(tmp_path, *args)
    try:
        port = NS_TLS_PORT if transport == "tls" else s.port
        ca = tls_certs["ca_crt"] if transport == "tls" else None
        assert ns_talk(s, NS_ADDR, port, ("PING",), ca=ca, want=b"outside.\r\n") == DENIED
        assert ns_talk(s, "127.0.0.1", port, ("PING",), ca=ca) == b"+PONG\r\n"
        # A password for the default user lifts it (the client then needs AUTH).
        assert ns_talk(s, "127.0.0.1", port, ("CONFIG", "SET", "requirepass", "pw"), ca=ca) == b"+OK\r\n"
        assert ns_talk(s, NS_ADDR, port, ("AUTH", "pw"), ("PING",), ca=ca, want=b"PONG\r\n") == b"+OK\r\n+PONG\r\n"
        assert ns_talk(s, "127.0.0.1", port, ("AUTH", "pw"), ("CONFIG", "SET", "requirepass", ""), ca=ca,
                       want=b"OK\r\n+OK\r\n") == b"+OK\r\n+OK\r\n"
        assert ns_talk(s, NS_ADDR, port, ("PING",), ca=ca, want=b"outside.\r\n") == DENIED
        # protected-mode no: the operator chose an open server.
        assert ns_talk(s, "127.0.0.1", port, ("CONFIG", "SET", "protected-mode", "no"), ca=ca) == b"+OK\r\n"
        assert ns_talk(s, NS_ADDR, port, ("PING",), ca=ca) == b"+PONG\r\n"
    finally:
        s.stop()


@pytest.mark.skipif(not netns_ok(), reason="needs root and unshare/nsenter for a private network namespace")
def test_debug_command_local_allows_only_loopback(tmp_path):
    s = ns_server(tmp_path, "--bind", "0.0.0.0", "--protected-mode", "no", "--enable-debug-command", "local",
                  "--enable-protected-configs", "local")
    try:
        assert ns_talk(s, "127.0.0.1", s.port, ("DEBUG", "SLEEP", "0")) == b"+OK\r\n"
        assert ns_talk(s, NS_ADDR, s.port, ("DEBUG", "SLEEP", "0")) == b"-" + DEBUG_REFUSED.encode() + b"\r\n"
        assert ns_talk(s, NS_ADDR, s.port, ("CONFIG", "SET", "dbfilename", "x.rdb")) == \
            b"-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n"
        assert ns_talk(s, "127.0.0.1", s.port, ("CONFIG", "SET", "dbfilename", "x.rdb")) == b"+OK\r\n"
    finally:
        s.stop()


# ---- DEBUG and MODULE are off by default (Redis 7.0) ------------------------------------

DEBUG_REFUSED = ('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run '
                 'it from a local connection, otherwise you need to set this option in the configuration file, and '
                 'then restart the server.')
MODULE_REFUSED = DEBUG_REFUSED.replace("DEBUG", "MODULE").replace("enable-debug-command", "enable-module-command")


def test_debug_and_module_refused_by_default(server_factory):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.set("k", "v")
    for args in (("SLEEP", "10"), ("RELOAD",), ("OBJECT", "k"), ("HELP",), ("SET-ACTIVE-EXPIRE", "0")):
        assert "ERR " + err_of(r.execute_command, "DEBUG", *args) == DEBUG_REFUSED
    for args in (("LOAD", "/tmp/x.so"), ("LOADEX", "/tmp/x.so"), ("UNLOAD", "x")):
        assert "ERR " + err_of(r.execute_command, "MODULE", *args) == MODULE_REFUSED
    assert r.execute_command("MODULE", "LIST") == []
    assert r.config_get("enable-*") == {"enable-protected-configs": "no", "enable-debug-command": "no",
                                        "enable-module-command": "no"}
    for name in ("enable-debug-command", "enable-module-command"):
        assert err_of(r.config_set, name, "yes") == \
            f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
    # Before NOAUTH, as Redis checks it; and inside MULTI it aborts the EXEC.
    r.config_set("requirepass", "pw")
    sock = s.raw()
    assert resp_exchange(sock, raw_cmd(None, "DEBUG", "HELP")) == b"-" + DEBUG_REFUSED.encode() + b"\r\n"
    want = b"+OK\r\n+OK\r\n-" + DEBUG_REFUSED.encode() + \
        b"\r\n-EXECABORT Transaction discarded because of previous errors.\r\n"
    got = resp_exchange(sock, raw_cmd(None, "AUTH", "pw") + raw_cmd(None, "MULTI") + raw_cmd(None, "DEBUG", "RELOAD") +
                        raw_cmd(None, "EXEC"), until=b"errors.\r\n")
    assert got == want


def test_debug_and_module_when_enabled(server_factory):
    s = server_factory("--enable-debug-command", "yes", "--enable-module-command", "yes")
    r = s.client(decode_responses=True)
    assert r.execute_command("DEBUG", "SLEEP", "0") == "OK"
    assert err_of(r.execute_command, "MODULE", "LOAD", "/nonexistent.so") == \
        "Error loading the extension. Please check the server logs."
    assert err_of(r.execute_command, "MODULE", "UNLOAD", "x") == \
        "Error unloading module: no such module with that name"
    assert r.config_get("enable-debug-command") == {"enable-debug-command": "yes"}


# ---- NUL bytes in parameter values ----------------------------------------------------


def test_requirepass_is_binary_safe(server_factory, tmp_path):
    s = server_factory()
    sock = s.raw()
    assert resp_exchange(sock, raw_cmd(None, "CONFIG", "SET", "requirepass", b"x\0rest")) == b"+OK\r\n"
    other = s.raw()
    assert resp_exchange(other, raw_cmd(None, "AUTH", "x")) == \
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert resp_exchange(other, raw_cmd(None, "AUTH", b"x\0rest")) == b"+OK\r\n"
    assert resp_exchange(other, raw_cmd(None, "CONFIG", "GET", "requirepass"), until=b"rest\r\n") == \
        b"*2\r\n$11\r\nrequirepass\r\n$6\r\nx\0rest\r\n"
    # A multi-pair SET that fails restores the whole binary value.
    assert resp_exchange(other, raw_cmd(None, "CONFIG", "SET", "requirepass", b"z\0", "hz", "x")).startswith(b"-ERR")
    assert resp_exchange(s.raw(), raw_cmd(None, "AUTH", b"x\0rest")) == b"+OK\r\n"
    # The same from a config file ("\x00" escape), and CONFIG REWRITE keeps it.
    s2 = server_factory(config='requirepass "y\\x00more"\n')
    c = s2.raw()
    assert resp_exchange(c, raw_cmd(None, "AUTH", "y")).startswith(b"-WRONGPASS")
    assert resp_exchange(c, raw_cmd(None, "AUTH", b"y\0more")) == b"+OK\r\n"
    assert resp_exchange(c, raw_cmd(None, "CONFIG", "REWRITE")) == b"+OK\r\n"
    with open(os.path.join(s2.dir, "cachet.conf")) as f:
        assert 'requirepass "y\\x00more"' in f.read()


def test_nul_in_c_string_parameters_is_refused(server_factory, tmp_path):
    s = server_factory("--enable-protected-configs", "yes")
    r = s.client(decode_responses=True)
    before = {n: cfg(r, n) for n in ("dir", "dbfilename", "tls-ciphers", "bind", "save", "protected-mode", "hz")}
    for name, value in (("dir", str(tmp_path) + "\0x"), ("dbfilename", "a.rdb\0b"), ("tls-ciphers", "a\0b"),
                        ("bind", "127.0.0.1\0 0.0.0.0"), ("save", "900\0 1"), ("protected-mode", "no\0"),
                        ("hz", "10\0")):
        assert err_of(r.config_set, name, value) == \
            f"CONFIG SET failed (possibly related to argument '{name}') - argument must not contain NUL bytes"
    # A multi-pair SET with one bad value changes nothing.
    with pytest.raises(redis.ResponseError):
        r.config_set("maxmemory-samples", "7", "dbfilename", "b\0c")
    assert r.config_get("maxmemory-samples") == {"maxmemory-samples": "5"}
    assert {n: cfg(r, n) for n in before} == before
    # In the config file too: no silent cut at the NUL.
    p = subprocess.run([SERVER_BIN, "-"], input='dbfilename "a.rdb\\x00b"\n', capture_output=True, text=True,
                       timeout=10)
    assert p.returncode != 0
    assert "argument must not contain NUL bytes" in p.stdout + p.stderr
    # A user's rules keep the NUL instead (the whole password, as Redis):
    # test_acl.py's test_nul_in_passwords_and_names_from_files.


def test_rewrite_long_values_restart(server_factory):
    """A config file CONFIG REWRITE writes loads back, whatever its line
    lengths (a 15 KB password with quotes; user lines: test_acl.py)."""
    s = server_factory(config="hz 11\n")
    r = s.client(decode_responses=True)
    pw = "p\"w'\\" + "x" * 15_000  # AUTH before login takes bulks up to 16 KB
    r.config_set("requirepass", pw)
    assert r.config_rewrite() in (True, "OK")
    text = open(os.path.join(s.dir, "cachet.conf")).read()
    s2 = server_factory(config=text)
    r2 = s2.client(decode_responses=True, password=pw)
    assert r2.ping() and cfg(r2, "hz") == "11"


def test_config_get_star_lists_what_redis_lists(server, tmp_path):
    """CONFIG GET * shows what Redis 7.0 shows: its debug parameters
    (key-load-delay, rdb-key-save-delay: Redis' HIDDEN_CONFIG) only when
    named exactly; every other name Cachet lists is listed by Redis too or is
    Cachet's own (unknown to Redis). Values CONFIG SET takes are Redis'."""
    from conftest import Server
    ref = Server(tmp_path / "redis", ["--save", "", "--appendonly", "no"], binary="redis-server")
    try:
        rr = ref.client(decode_responses=True)
        r = server.client(decode_responses=True)
        ours, theirs = set(r.config_get("*")), set(rr.config_get("*"))
        for hidden in ("key-load-delay", "rdb-key-save-delay"):
            assert hidden not in ours and hidden not in theirs
            assert r.config_get("*delay*").get(hidden) is None
            assert r.config_get(hidden) == rr.config_get(hidden) == {hidden: "0"}
            assert r.config_get("hz", hidden.upper()) == {"hz": "10", hidden.upper(): "0"}
        for name in sorted(ours - theirs):
            assert rr.config_get(name) == {}, name  # Cachet's own parameter
        for name in sorted(ours & theirs):  # set back to its value: the same answer
            try:
                a = r.config_set(name, r.config_get(name)[name])
            except redis.ResponseError as e:
                a = str(e)
            try:
                b = rr.config_set(name, rr.config_get(name)[name])
            except redis.ResponseError as e:
                b = str(e)
            assert a == b, name
        assert r.config_set("rdb-key-save-delay", -1) and rr.config_set("rdb-key-save-delay", -1)
        assert r.config_get("rdb-key-save-delay") == rr.config_get("rdb-key-save-delay")
    finally:
        ref.stop()
