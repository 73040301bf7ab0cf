"""INFO: the sections, field names and order of Redis 7.0, parsed by
redis-py as clients and monitoring tools do, with numbers that move as the
server works."""
import re

import pytest
import redis

from conftest import resp_exchange, wait_until

DEFAULT_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                    "Errorstats", "Cluster", "Keyspace", "SSL"]
ALL_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                "Commandstats", "Errorstats", "Cluster", "Keyspace", "SSL"]


def raw_info(r, *sections):
    """INFO text without redis-py's parsing."""
    conn = r.connection_pool.get_connection("INFO")
    try:
        conn.send_command("INFO", *sections)
        out = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    return out.decode() if isinstance(out, bytes) else out


def headers(text):
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def test_every_section_parses(r):
    r.set("k", "v")
    r.get("k")
    info = r.info("everything")
    for field in ("redis_version", "cachet_version", "redis_mode", "os", "arch_bits", "process_id", "run_id",
                  "tcp_port", "uptime_in_seconds", "hz", "lru_clock", "executable", "config_file",
                  "connected_clients", "maxclients", "blocked_clients", "pubsub_clients",
                  "used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory",
                  "maxmemory_policy", "mem_fragmentation_ratio", "mem_allocator",
                  "loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
                  "rdb_last_bgsave_status", "aof_enabled",
                  "total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
                  "total_net_input_bytes", "rejected_connections", "expired_keys", "evicted_keys",
                  "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "total_error_replies",
                  "client_query_buffer_limit_disconnections", "client_output_buffer_limit_disconnections",
                  "total_reads_processed", "total_writes_processed",
                  "role", "connected_slaves", "master_replid", "master_repl_offset",
                  "used_cpu_sys", "used_cpu_user", "cmdstat_get", "cmdstat_set", "cluster_enabled", "db0"):
        assert field in info, field
    assert info["redis_version"].startswith("7.")
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert info["connected_slaves"] == 0
    assert info["cluster_enabled"] == 0
    assert info["aof_enabled"] == 0
    assert info["loading"] == 0
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["master_repl_offset"] == 0
    assert re.fullmatch(r"[0-9a-f]{40}", info["master_replid"])
    assert info["db0"] == {"keys": 1, "expires": 0, "avg_ttl": 0}
    assert info["cmdstat_get"]["calls"] == 1
    assert isinstance(info["used_cpu_user"], float)


def test_default_and_all_section_lists(r):
    assert headers(raw_info(r)) == DEFAULT_SECTIONS
    assert headers(raw_info(r, "default")) == DEFAULT_SECTIONS
    assert headers(raw_info(r, "all")) == ALL_SECTIONS
    assert headers(raw_info(r, "everything")) == ALL_SECTIONS


def test_two_sections_in_fixed_order(r):
    text = raw_info(r, "clients", "server")
    assert headers(text) == ["Server", "Clients"]
    assert headers(raw_info(r, "CPU", "server", "cpu")) == ["Server", "CPU"]
    assert headers(raw_info(r, "Keyspace")) == ["Keyspace"]
    info = r.info("server")
    assert "redis_version" in info and "connected_clients" not in info


def test_unknown_section_is_empty(r):
    assert raw_info(r, "nosuchsection") == ""
    assert headers(raw_info(r, "nosuchsection", "cluster")) == ["Cluster"]


def test_wire_format_resp2(server):
    s = server.raw()
    out = resp_exchange(s, b"*2\r\n$4\r\nINFO\r\n$7\r\ncluster\r\n", until=b"cluster_enabled:0\r\n")
    assert out == b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    out = resp_exchange(s, b"*3\r\n$4\r\nINFO\r\n$7\r\ncluster\r\n$7\r\nmodules\r\n", until=b"enabled:0\r\n\r\n")
    # Sections are separated by one blank line; the text ends with CRLF.
    assert out == b"$43\r\n# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_resp3_info_is_verbatim_string(server):
    s = server.raw()
    hello = resp_exchange(s, b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", until=b"$7\r\nmodules\r\n*0\r\n")
    assert hello.startswith(b"%")
    out = resp_exchange(s, b"*2\r\n$4\r\nINFO\r\n$7\r\ncluster\r\n", until=b"cluster_enabled:0\r\n\r\n")
    assert out == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
    out = resp_exchange(s, b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n", until=b"io_threads_active:0\r\n\r\n")
    assert out.startswith(b"=") and b"\r\ntxt:# Server\r\nredis_version:" in out


def test_keyspace_after_writes_and_flushall(server):
    r0 = server.client(decode_responses=True)
    r3 = server.client(decode_responses=True, db=3)
    assert r0.info("keyspace") == {}
    for i in range(3):
        r0.set(f"k{i}", "v")
    r3.set("x", "1")
    ks = r0.info("keyspace")
    assert ks["db0"] == {"keys": 3, "expires": 0, "avg_ttl": 0}
    assert ks["db3"]["keys"] == 1
    assert "db1" not in ks
    r0.flushall()
    assert r0.info("keyspace") == {}


def test_keyspace_hits_and_misses(r):
    r.set("k", "v")
    before = r.info("stats")
    r.get("k")
    r.get("k")
    r.get("missing")
    after = r.info("stats")
    assert after["keyspace_hits"] - before["keyspace_hits"] == 2
    assert after["keyspace_misses"] - before["keyspace_misses"] == 1


def test_total_commands_processed_increases(r):
    before = r.info("stats")["total_commands_processed"]
    for _ in range(5):
        r.ping()
    after = r.info("stats")["total_commands_processed"]
    # The five PINGs plus the first INFO (counted once it has run).
    assert after - before == 6


def test_net_bytes_and_connections_move(server, r):
    before = r.info("stats")
    r.set("k", "x" * 1000)
    r.get("k")
    server.client().ping()
    after = r.info("stats")
    assert after["total_net_input_bytes"] - before["total_net_input_bytes"] >= 1000
    assert after["total_net_output_bytes"] - before["total_net_output_bytes"] >= 1000
    assert after["total_connections_received"] == before["total_connections_received"] + 1
    assert after["total_reads_processed"] > before["total_reads_processed"]
    assert after["total_writes_processed"] > before["total_writes_processed"]


def test_commandstats(r):
    r.set("a", "1")
    r.get("a")
    r.get("b")
    stats = r.info("commandstats")
    assert stats["cmdstat_get"]["calls"] == 2
    assert stats["cmdstat_set"]["calls"] == 1
    for field in ("usec", "usec_per_call", "rejected_calls", "failed_calls"):
        assert field in stats["cmdstat_get"]
    assert "cmdstat_del" not in stats  # never called
    # Wrong arity is a rejected call, not a call.
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    stats = r.info("commandstats")
    assert stats["cmdstat_get"]["rejected_calls"] == 1
    assert stats["cmdstat_get"]["calls"] == 2
    text = raw_info(r, "everything")
    assert "# Commandstats\r\ncmdstat_" in text
    assert re.search(r"cmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r\n", text)


def test_subcommand_stats_use_full_name(r):
    r.execute_command("SLOWLOG", "LEN")
    assert r.info("commandstats")["cmdstat_slowlog|len"]["calls"] == 1


def test_errorstats(r):
    before = r.info("stats")["total_error_replies"]
    for _ in range(2):
        with pytest.raises(redis.ResponseError):
            r.execute_command("NOSUCHCOMMAND")
    info = r.info("errorstats")
    assert info["errorstat_ERR"] == "count=2"  # redis-py leaves a single pair unparsed
    assert r.info("stats")["total_error_replies"] - before == 2


def test_connected_clients(server, r):
    assert r.info("clients")["connected_clients"] == 1
    extra = [server.client() for _ in range(3)]
    for c in extra:
        c.ping()
    assert r.info("clients")["connected_clients"] == 4
    extra[0].connection_pool.disconnect()
    wait_until(lambda: r.info("clients")["connected_clients"] == 3, what="closed client to be counted out")
    clients = r.info("clients")
    assert clients["maxclients"] > 0
    assert clients["blocked_clients"] == 0


def test_used_memory_grows_with_data(r):
    before = r.info("memory")
    pipe = r.pipeline(transaction=False)
    for i in range(10000):
        pipe.set(f"key:{i:06d}", "v" * 100)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    assert r.dbsize() == 10000
    after = r.info("memory")
    # 10,000 keys of 100+ bytes each: at least a megabyte more.
    assert after["used_memory"] - before["used_memory"] >= 10000 * 100
    assert after["used_memory_peak"] >= after["used_memory"]
    assert after["used_memory_dataset"] >= 10000 * 100
    ratio = after["mem_fragmentation_ratio"]
    assert isinstance(ratio, float) and 0 < ratio < 100
    assert after["used_memory_rss"] > 0
    r.flushall()
    assert r.info("memory")["used_memory"] < after["used_memory"] - 10000 * 100


def test_memory_fields(r):
    mem = r.info("memory")
    assert re.fullmatch(r"\d+(\.\d+)?[BKMGTP]", mem["used_memory_human"])
    assert mem["maxmemory"] == 0
    assert mem["maxmemory_human"] == "0B"
    assert mem["maxmemory_policy"] == "noeviction"
    assert mem["mem_allocator"].startswith(("jemalloc", "libc"))
    assert mem["used_memory_peak"] >= mem["used_memory"]
    assert mem["used_memory_overhead"] <= mem["used_memory"]


def test_server_fields(server, r):
    info = r.info("server")
    assert info["process_id"] == server.pid
    assert info["tcp_port"] == server.port
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])
    assert info["uptime_in_seconds"] >= 0 and info["uptime_in_days"] == 0
    assert info["executable"].startswith("/")
    assert info["hz"] == info["configured_hz"] > 0
    assert info["arch_bits"] in (32, 64)
    assert str(info["cachet_version"])
    # run_id is stable for the process.
    assert r.info("server")["run_id"] == info["run_id"]


def test_persistence_counts_changes(r):
    before = r.info("persistence")["rdb_changes_since_last_save"]
    r.set("a", "1")
    r.set("b", "2")
    r.get("a")
    after = r.info("persistence")
    assert after["rdb_changes_since_last_save"] - before == 2
    assert after["rdb_last_save_time"] > 0
    assert after["aof_enabled"] == 0


def test_info_is_case_insensitive_and_accepts_many(r):
    assert headers(raw_info(r, "SERVER")) == ["Server"]
    assert headers(raw_info(r, "Stats", "MEMORY", "default")) == DEFAULT_SECTIONS
