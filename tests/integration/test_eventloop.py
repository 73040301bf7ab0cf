"""Busy polling: under load the event loop can poll briefly before it sleeps.

What an operator relies on: `busy-poll-usec` is an ordinary parameter
(CONFIG GET/SET, range-checked, 0 turns polling off) and is off by default,
so a server with the default configuration never polls, loaded or not (it
costs CPU per request; bench/run.py measures it); an idle server never
polls, so its CPU use is what it was; a loaded server polls and says so in
INFO (`busy_polling:1`, and `used_cpu_busy_poll`, the seconds spent polling,
which are part of used_cpu_user/sys); when the load stops it goes back to
sleeping. Every reply under load is still right, over plaintext and TLS.
"""
import os
import shutil
import signal
import subprocess

import pytest
import redis

from conftest import wait_until

BENCH = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"


def info(c, section):
    return c.info(section)


def tls_args(certs):
    return ("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"])


def start_load(port, certs=None):
    """redis-benchmark GETs at pipeline 4 from 50 clients until stopped: enough
    to keep the loop more than half busy on any machine this runs on."""
    argv = [BENCH, "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", "4", "-n", "100000000", "-t", "get",
            "-q"]
    if certs:
        argv += ["--tls", "--cacert", certs["ca_crt"]]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_load(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
    p.wait(timeout=10)


def test_parameter_default_range_and_errors(server):
    c = server.client(decode_responses=True)
    assert c.config_get("busy-poll-usec") == {"busy-poll-usec": "0"}
    for v in ("0", "1000", "20"):
        assert c.config_set("busy-poll-usec", v)
        assert c.config_get("busy-poll-usec") == {"busy-poll-usec": v}
    for bad in ("1001", "-1", "abc", "1.5"):
        with pytest.raises(redis.ResponseError) as e:
            c.config_set("busy-poll-usec", bad)
        assert "busy-poll-usec" in str(e.value)
        assert c.config_get("busy-poll-usec") == {"busy-poll-usec": "20"}, "a refused value changes nothing"


@pytest.mark.solo  # a neighbour's load can make a 25 ms window with one INFO look busy (conftest.py)
def test_idle_server_never_polls(server_factory):
    s = server_factory("--busy-poll-usec", "50")
    c = s.client()
    # From the first INFO on (start-up and the first connection are work, and
    # an ASan server may poll once after them), several load windows pass
    # while idle (INFO every 50 ms, a few at a time): no polling time added.
    spent = info(c, "cpu")["used_cpu_busy_poll"]
    start = info(c, "server")["uptime_in_seconds"]
    wait_until(lambda: info(c, "server")["uptime_in_seconds"] >= start + 2, timeout=10, interval=0.05,
               what="two seconds of idle uptime")
    assert info(c, "server")["busy_polling"] == 0
    assert info(c, "cpu")["used_cpu_busy_poll"] == spent


@pytest.mark.solo  # measures how busy the loop is: a neighbour's load changes that (conftest.py)
@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_polls_under_load_and_stops_after(server_factory, tls_certs, transport):
    s = server_factory("--busy-poll-usec", "50", *tls_args(tls_certs))
    c = s.client()
    c.set("key:__rand_int__", "v")  # the benchmark's GET key: replies are bulk strings, not nil
    load = start_load(s.port, tls_certs if transport == "tls" else None)
    try:
        wait_until(lambda: info(c, "server")["busy_polling"] == 1 and info(c, "cpu")["used_cpu_busy_poll"] > 0,
                   timeout=20, interval=0.05, what="busy_polling:1 under load")
        # Replies stay right while the loop polls.
        for i in range(200):
            c.set(f"k{i}", i)
        assert [int(x) for x in c.mget([f"k{i}" for i in range(200)])] == list(range(200))
    finally:
        stop_load(load)
    assert load.returncode in (-signal.SIGTERM, 0)
    wait_until(lambda: info(c, "server")["busy_polling"] == 0, timeout=10, what="busy_polling:0 after the load")
    # Idle again: the polling time stops growing.
    spent = info(c, "cpu")["used_cpu_busy_poll"]
    start = info(c, "server")["uptime_in_seconds"]
    wait_until(lambda: info(c, "server")["uptime_in_seconds"] >= start + 1, timeout=5, interval=0.05,
               what="a second of idle uptime")
    assert info(c, "cpu")["used_cpu_busy_poll"] == spent
    assert s.alive()


@pytest.mark.solo  # measures how busy the loop is: a neighbour's load changes that (conftest.py)
@pytest.mark.parametrize("args", [(), ("--busy-poll-usec", "0")], ids=["default", "zero"])
def test_no_polling_under_load_by_default_or_zero(server_factory, args):
    s = server_factory(*args)
    c = s.client()
    base = info(c, "stats")["total_commands_processed"]
    load = start_load(s.port)
    try:
        seen = []

        def loaded():
            seen.append(info(c, "server")["busy_polling"])
            return info(c, "stats")["total_commands_processed"] >= base + 200000

        wait_until(loaded, timeout=60, interval=0.05, what="200,000 commands under load")
    finally:
        stop_load(load)
    assert seen and set(seen) == {0}
    assert info(c, "cpu")["used_cpu_busy_poll"] == 0
    # Turned on at run time, it takes effect without a restart.
    assert c.config_set("busy-poll-usec", "50")
    load = start_load(s.port)
    try:
        wait_until(lambda: info(c, "server")["busy_polling"] == 1, timeout=20, interval=0.05,
                   what="busy_polling:1 once turned on")
    finally:
        stop_load(load)
