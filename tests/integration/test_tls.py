"""TLS on the main port and on tls-port, with real clients (redis-py,
redis-cli, openssl s_client) and raw sockets for the bad inputs.

Covers: the three modes and the switches between them, the refusal texts,
INFO # SSL, CLIENT LIST/KILL by TLS, session resumption, certificate
rotation and its refusals, auto-reload, client certificates, and hostile
handshakes (old protocol versions, garbage records, stalled and abandoned
handshakes, a storm of 1,000). Load across mode switches is in
test_migration.py.
"""
import os
import resource
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import redis

from conftest import SERVER_BIN, free_port, make_certs, wait_until
from tlsutil import (OPENSSL, TLS_REQUIRED_LINE, Resp, cert_dates, cert_enddate_epoch, cert_serial,
                     client_context, client_hello_bytes, info, info_int, make_dated_cert, openssl, peer_serial,
                     read_to_eof, tls_attempt_ping, tls_client, tls_resp, tls_socket)

CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def tls_args(c, mode="preferred", *extra):
    return ("--tls-mode", mode, "--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"],
            "--tls-ca-cert-file", c["ca_crt"]) + tuple(extra)


def cli(port, *args, tls_ca=None, extra=()):
    argv = [CLI, "-p", str(port)] + list(extra)
    if tls_ca:
        argv += ["--tls", "--cacert", tls_ca]
    return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True, timeout=20)


def ssl_info(client):
    return info(client, "ssl")


# --- real clients in each mode ------------------------------------------------

def test_preferred_serves_tls_and_plaintext_on_one_port(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    plain = s.client(decode_responses=True)
    secure = tls_client(s, tls_certs, decode_responses=True)
    assert secure.set("k", "from-tls") is True
    assert plain.get("k") == "from-tls"
    plain.set("k2", "from-plain")
    assert secure.get("k2") == "from-plain"
    lines = {l.split(" name=")[0]: l for l in plain.execute_command("CLIENT", "LIST").splitlines()}
    assert sorted(l.endswith("tls=yes") for l in lines.values()) == [False, True]
    assert secure.execute_command("CLIENT", "INFO").strip().endswith("tls=yes")
    assert plain.execute_command("CLIENT", "INFO").strip().endswith("tls=no")
    i = ssl_info(plain)
    assert (i["tls_mode"], i["ssl_enabled"]) == ("preferred", "yes")
    assert (i["tls_mode_connected_tcp_clients"], i["tls_mode_connected_tls_clients"]) == ("1", "1")


def test_redis_cli_and_openssl_in_preferred_and_required(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    out = cli(s.port, "SET", "a", "1", tls_ca=tls_certs["ca_crt"])
    assert out.stdout.strip() == "OK", out.stderr
    assert cli(s.port, "GET", "a").stdout.strip() == "1"  # plaintext redis-cli, same port
    assert cli(s.port, "CONFIG", "SET", "tls-mode", "required", tls_ca=tls_certs["ca_crt"]).stdout.strip() == "OK"
    assert cli(s.port, "GET", "a", tls_ca=tls_certs["ca_crt"]).stdout.strip() == "1"
    refused = cli(s.port, "GET", "a")
    assert "TLS is required on this port" in refused.stdout + refused.stderr
    # openssl s_client verifies the chain and carries a PING.
    p = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % s.port, "-CAfile", tls_certs["ca_crt"],
                        "-verify_return_error", "-quiet", "-ign_eof"],
                       input=b"PING\r\nQUIT\r\n", capture_output=True, timeout=20)
    assert b"+PONG\r\n" in p.stdout, p.stderr


def test_redis_py_verified_tls_in_required(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs, "required"))
    c = tls_client(s, tls_certs, decode_responses=True)
    c.rpush("l", "a", "b")
    assert c.lrange("l", 0, -1) == ["a", "b"]
    # A plaintext redis-py client is told why, not just disconnected.
    with pytest.raises(redis.ResponseError, match="TLS is required on this port"):
        s.client().ping()


def test_none_is_plaintext_and_refuses_a_client_hello(server_factory, tls_certs):
    s = server_factory("--tls-cert-file", tls_certs["server_crt"], "--tls-key-file", tls_certs["server_key"])
    c = s.client(decode_responses=True)
    assert c.ping() is True
    assert cli(s.port, "PING").stdout.strip() == "PONG"
    raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    raw.sendall(client_hello_bytes())
    data, closed = read_to_eof(raw)
    raw.close()
    assert (data, closed) == (b"", True)  # closed without a byte
    i = ssl_info(c)
    assert i["tls_hello_rejected"] == "1"
    assert (i["ssl_enabled"], i["tls_mode"]) == ("no", "none")
    assert c.ping() is True


def test_required_answers_plaintext_with_one_error_line(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs, "required"))
    r = tls_resp(s, tls_certs)
    before = int(parse(r)["tls_plaintext_rejected"])  # the fixture's readiness PING was one
    raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    raw.sendall(b"*1\r\n$4\r\nPING\r\n")
    data, closed = read_to_eof(raw)
    raw.close()
    assert (data, closed) == (TLS_REQUIRED_LINE, True)
    assert r.call("PING") == "PONG"
    assert int(parse(r)["tls_plaintext_rejected"]) == before + 1


def parse(resp):
    from tlsutil import parse_info
    return parse_info(resp.call("INFO", "ssl"))


# --- switching modes -----------------------------------------------------------

def test_switching_without_certificate_fails_and_changes_nothing(server_factory):
    s = server_factory()
    c = s.client(decode_responses=True)
    for mode in ("preferred", "required"):
        with pytest.raises(redis.ResponseError) as e:
            c.config_set("tls-mode", mode)
        assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'tls-mode') - TLS is not "
                                "configured: tls-cert-file and tls-key-file must both be set")
        assert c.config_get("tls-mode") == {"tls-mode": "none"}
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("tls-mode", "sometimes")
    assert "must be one of the following: none, preferred, required" in str(e.value)
    assert c.ping() is True


def test_startup_without_certificate_is_refused(tmp_path):
    p = subprocess.run([SERVER_BIN, "--port", str(free_port()), "--bind", "127.0.0.1", "--tls-mode", "preferred"],
                       capture_output=True, text=True, timeout=20, cwd=str(tmp_path))
    assert p.returncode != 0
    assert "tls-cert-file and tls-key-file must both be set" in p.stdout + p.stderr


def test_entering_required_closes_plaintext_after_pending_replies(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    admin = tls_client(s, tls_certs)
    big = b"x" * (8 << 20)
    admin.set("big", big)
    # A plaintext client asks for 8 MiB three times and reads nothing yet:
    # most of the replies wait in the server when the mode changes.
    slow = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    slow.sendall(b"GET big\r\n" * 3)
    idle = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    idle.sendall(b"PING\r\n")
    assert idle.recv(7) == b"+PONG\r\n"
    wait_until(lambda: int(ssl_info(admin)["tls_mode_connected_tcp_clients"]) == 2, what="two plain clients")
    def pending_output():
        for line in admin.execute_command("CLIENT", "LIST").decode().splitlines():
            if "cmd=get" in line and "tls=no" in line:
                return int(line.split(" omem=")[1].split()[0]) > (8 << 20)
        return False
    wait_until(pending_output, what="replies waiting in the server")
    assert admin.config_set("tls-mode", "required") is True
    data, closed = read_to_eof(slow, timeout=30)
    expected = (b"$%d\r\n" % len(big) + big + b"\r\n") * 3
    assert closed and len(data) == len(expected), (closed, len(data), len(expected))
    assert data == expected
    data, closed = read_to_eof(idle)
    assert (data, closed) == (b"", True)
    assert admin.ping() is True  # the TLS client was not touched
    wait_until(lambda: int(ssl_info(admin)["tls_mode_connected_tcp_clients"]) == 0, what="plain clients gone")
    wait_until(lambda: "TLS mode changed from preferred to required: 1 TLS clients kept, 0 plaintext clients kept, "
                       "2 plaintext clients closed" in s.log(), what="mode change log line")


def test_back_to_none_keeps_tls_clients_and_refuses_new_ones(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs, "required"))
    secure = tls_client(s, tls_certs)
    assert secure.config_set("tls-mode", "preferred") is True
    plain = s.client()
    assert plain.ping() is True
    assert secure.config_set("tls-mode", "none") is True
    assert secure.ping() is True and plain.ping() is True
    assert isinstance(tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])), Exception) or \
        tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) == b""
    wait_until(lambda: "TLS mode changed from preferred to none: 1 TLS clients kept, 1 plaintext clients kept, "
                       "0 plaintext clients closed" in s.log(), what="mode change log line")


def test_tls_port_beside_a_plaintext_port(server_factory, tls_certs):
    tport = free_port()
    s = server_factory("--tls-port", tport, "--tls-cert-file", tls_certs["server_crt"],
                       "--tls-key-file", tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"])
    plain = s.client(decode_responses=True)
    secure = tls_client(s, tls_certs, port=tport, decode_responses=True)
    secure.set("k", "v")
    assert plain.get("k") == "v"
    i = ssl_info(plain)
    assert (i["ssl_enabled"], i["tls_mode"], i["tls_port"]) == ("yes", "none", str(tport))
    raw = socket.create_connection(("127.0.0.1", tport), timeout=5)  # plaintext on the TLS port
    raw.sendall(b"PING\r\n")
    data, closed = read_to_eof(raw)
    raw.close()
    assert closed and b"PONG" not in data
    assert secure.ping() is True


def test_tls_port_only_with_port_0(tmp_path, tls_certs):
    tport = free_port()
    log = open(tmp_path / "server.log", "w")
    p = subprocess.Popen([SERVER_BIN, "--port", "0", "--bind", "127.0.0.1", "--tls-port", str(tport),
                          "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file", tls_certs["server_key"]],
                         stdout=log, stderr=subprocess.STDOUT, cwd=str(tmp_path))
    try:
        ctx = client_context(tls_certs["ca_crt"])
        wait_until(lambda: tls_attempt_ping(tport, ctx) == b"+PONG\r\n", what="PONG over the TLS port")
    finally:
        p.terminate()
        p.wait(10)
        log.close()


def test_client_kill_by_tls(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    plain = s.client()
    plain.ping()
    others = [tls_resp(s, tls_certs) for _ in range(3)]
    for o in others:
        assert o.call("PING") == "PONG"
    assert plain.execute_command("CLIENT", "KILL", "TLS", "yes") == 3
    for o in others:
        with pytest.raises((EOFError, OSError)):
            o.call("PING")
    assert plain.execute_command("CLIENT", "KILL", "TLS", "no") == 0  # SKIPME yes by default
    assert plain.execute_command("CLIENT", "KILL", "TLS", "no", "SKIPME", "no") == 1
    with pytest.raises(redis.ResponseError):
        s.client().execute_command("CLIENT", "KILL", "TLS", "maybe")


# --- INFO # SSL ------------------------------------------------------------------

def test_info_ssl_reports_the_certificate(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    c = s.client()
    i = ssl_info(c)
    nb, na = cert_dates(tls_certs["server_crt"])
    assert i["ssl_current_certificate_not_before_date"] == nb
    assert i["ssl_current_certificate_not_after_date"] == na
    assert i["ssl_current_certificate_serial"] == cert_serial(tls_certs["server_crt"])
    left = cert_enddate_epoch(tls_certs["server_crt"]) - time.time()
    assert abs(int(i["tls_server_cert_expires_in_seconds"]) - left) < 120
    ca_left = cert_enddate_epoch(tls_certs["ca_crt"]) - time.time()
    assert abs(int(i["tls_ca_cert_expires_in_seconds"]) - ca_left) < 120
    for field in ("tls_handshakes_ok", "tls_handshakes_failed", "tls_handshakes_resumed",
                  "tls_handshakes_timed_out"):
        assert i[field] == "0"
    assert "# SSL" in c.execute_command("INFO").decode()  # in the default sections too
    r = tls_resp(s, tls_certs)
    r.call("PING")
    assert info_int(c, "tls_handshakes_ok", "ssl") == 1
    c.config_resetstat()
    assert info_int(c, "tls_handshakes_ok", "ssl") == 0


def test_session_resumption(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    ctx = client_context(tls_certs["ca_crt"], max_version=ssl.TLSVersion.TLSv1_2)
    first = tls_socket(s.port, ctx, owner=s)
    Resp(first).call("PING")
    again = tls_socket(s.port, ctx, session=first.session, owner=s)
    assert again.session_reused
    assert Resp(again).call("PING") == "PONG"
    assert info_int(s.client(), "tls_handshakes_resumed", "ssl") == 1

    off = server_factory(*tls_args(tls_certs, "preferred", "--tls-session-caching", "no"))
    first = tls_socket(off.port, ctx, owner=off)
    Resp(first).call("PING")
    again = tls_socket(off.port, ctx, session=first.session, owner=off)
    assert not again.session_reused
    assert info_int(off.client(), "tls_handshakes_resumed", "ssl") == 0


def test_only_tls_12_and_13_by_default(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    p = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % s.port, "-tls1_1",
                        "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=20)
    assert p.returncode != 0
    wait_until(lambda: info_int(s.client(), "tls_handshakes_failed", "ssl") >= 1, what="failed handshake counted")
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(tls_certs["ca_crt"], min_version=v, max_version=v)
        assert tls_attempt_ping(s.port, ctx) == b"+PONG\r\n"


# --- rotation ----------------------------------------------------------------------

def test_rotation_serves_new_connections_with_the_new_certificate(server_factory, tls_certs, tmp_path):
    new = make_certs(tmp_path / "new", "Cachet new CA")
    bundle = tmp_path / "both.crt"
    bundle.write_bytes(open(tls_certs["ca_crt"], "rb").read() + open(new["ca_crt"], "rb").read())
    s = server_factory(*tls_args(tls_certs))
    ctx = client_context(str(bundle))
    old = tls_socket(s.port, ctx, owner=s)
    assert peer_serial(old) == cert_serial(tls_certs["server_crt"])
    c = s.client(decode_responses=True)
    assert c.config_set("tls-cert-file", new["server_crt"], "tls-key-file", new["server_key"],
                        "tls-ca-cert-file", str(bundle)) is True
    fresh = tls_socket(s.port, ctx, owner=s)
    assert peer_serial(fresh) == cert_serial(new["server_crt"])
    assert ssl_info(c)["ssl_current_certificate_serial"] == cert_serial(new["server_crt"])
    assert Resp(old).call("PING") == "PONG"  # existing connections keep theirs
    assert tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) != b"+PONG\r\n"  # old CA only
    assert "TLS context loaded" in s.log()


@pytest.mark.parametrize("case", ["missing", "mismatched", "expired", "not-yet-valid", "not-a-cert"])
def test_bad_rotation_is_refused_and_old_certificate_keeps_serving(server_factory, tls_certs, tmp_path, case):
    s = server_factory(*tls_args(tls_certs))
    c = s.client(decode_responses=True)
    other = make_certs(tmp_path / "other", "Other CA") if case == "mismatched" else None
    if case == "missing":
        pair, why = (str(tmp_path / "nope.crt"), tls_certs["server_key"]), "Cannot read certificate"
    elif case == "mismatched":
        pair, why = (other["server_crt"], tls_certs["server_key"]), "key values mismatch"
    elif case == "expired":
        pair, why = make_dated_cert(tls_certs, tmp_path, "old", "20200101000000Z", "20210101000000Z"), "has expired"
    elif case == "not-yet-valid":
        pair, why = make_dated_cert(tls_certs, tmp_path, "new", "20400101000000Z", "20410101000000Z"), \
            "is not valid yet"
    else:
        junk = tmp_path / "junk.crt"
        junk.write_text("not a certificate\n")
        pair, why = (str(junk), tls_certs["server_key"]), "certificate"
    before = ssl_info(c)["ssl_current_certificate_serial"]
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("tls-cert-file", pair[0], "tls-key-file", pair[1])
    assert str(e.value).startswith("CONFIG SET failed (possibly related to argument 'tls-")
    assert why in str(e.value)
    assert c.config_get("tls-cert-file")["tls-cert-file"] == tls_certs["server_crt"]
    assert ssl_info(c)["ssl_current_certificate_serial"] == before
    assert tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) == b"+PONG\r\n"


def test_startup_refuses_expired_certificate_and_mismatched_key(tmp_path, tls_certs):
    crt, key = make_dated_cert(tls_certs, tmp_path, "old", "20200101000000Z", "20210101000000Z")
    other = make_certs(tmp_path / "other", "Other CA")
    for cert_key, why in (((crt, key), "has expired"), ((other["server_crt"], tls_certs["server_key"]),
                                                        "key values mismatch")):
        p = subprocess.run([SERVER_BIN, "--port", str(free_port()), "--bind", "127.0.0.1", "--tls-mode",
                            "preferred", "--tls-cert-file", cert_key[0], "--tls-key-file", cert_key[1]],
                           capture_output=True, text=True, timeout=20, cwd=str(tmp_path))
        assert p.returncode != 0
        assert why in p.stdout + p.stderr


def test_auto_reload_picks_up_rewritten_files(server_factory, tls_certs, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(tls_certs["server_crt"], live / "server.crt")
    shutil.copy(tls_certs["server_key"], live / "server.key")
    new = make_certs(tmp_path / "next", "Cachet test")  # same CA name, new CA: trust both below
    bundle = tmp_path / "both.crt"
    bundle.write_bytes(open(tls_certs["ca_crt"], "rb").read() + open(new["ca_crt"], "rb").read())
    s = server_factory("--tls-mode", "preferred", "--tls-cert-file", str(live / "server.crt"),
                       "--tls-key-file", str(live / "server.key"), "--tls-auto-reload", "yes")
    c = s.client()
    # Both files replaced by rename, as deployment tools do.
    shutil.copy(new["server_key"], live / "server.key.tmp")
    shutil.copy(new["server_crt"], live / "server.crt.tmp")
    os.rename(live / "server.key.tmp", live / "server.key")
    os.rename(live / "server.crt.tmp", live / "server.crt")
    want = cert_serial(new["server_crt"])
    wait_until(lambda: ssl_info(c)["ssl_current_certificate_serial"] == want, timeout=10, what="auto reload")
    fresh = tls_socket(s.port, client_context(str(bundle)), owner=s)
    assert peer_serial(fresh) == want


def test_config_set_of_the_same_paths_loads_files_replaced_in_place(server_factory, tls_certs, tmp_path):
    """tls-*-file are volatile, as in Redis: CONFIG SET of the path already
    set loads the file again when it was replaced (cachetd renews node
    certificates and CA bundles this way); unchanged files build nothing."""
    live = tmp_path / "live"
    live.mkdir()
    for name in ("server.crt", "server.key", "ca.crt"):
        shutil.copy(tls_certs[name.replace(".", "_")], live / name)
    paths = [str(live / n) for n in ("server.crt", "server.key", "ca.crt")]
    s = server_factory("--tls-mode", "preferred", "--tls-cert-file", paths[0], "--tls-key-file", paths[1],
                       "--tls-ca-cert-file", paths[2])
    c = s.client(decode_responses=True)
    args = ("tls-cert-file", paths[0], "tls-key-file", paths[1], "tls-ca-cert-file", paths[2])
    loads = s.log().count("TLS context loaded")
    assert c.config_set(*args) is True  # nothing replaced: the context stays
    assert s.log().count("TLS context loaded") == loads
    old = tls_socket(s.port, client_context(tls_certs["ca_crt"]), owner=s)
    new = make_certs(tmp_path / "next", "Cachet next CA")
    bundle = open(tls_certs["ca_crt"], "rb").read() + open(new["ca_crt"], "rb").read()
    (live / "ca.crt.tmp").write_bytes(bundle)
    shutil.copy(new["server_key"], live / "server.key.tmp")
    shutil.copy(new["server_crt"], live / "server.crt.tmp")
    for n in ("ca.crt", "server.key", "server.crt"):
        os.rename(live / f"{n}.tmp", live / n)
    assert ssl_info(c)["ssl_current_certificate_serial"] == cert_serial(tls_certs["server_crt"])  # no auto reload
    assert c.config_set(*args) is True
    assert ssl_info(c)["ssl_current_certificate_serial"] == cert_serial(new["server_crt"])
    assert peer_serial(tls_socket(s.port, client_context(new["ca_crt"]), owner=s)) == cert_serial(new["server_crt"])
    assert Resp(old).call("PING") == "PONG"  # connected clients keep their session
    assert c.config_get("tls-cert-file")["tls-cert-file"] == paths[0]


# --- client certificates --------------------------------------------------------------

def test_client_certificates_required(server_factory, tls_certs, tmp_path):
    s = server_factory(*tls_args(tls_certs, "preferred", "--tls-auth-clients", "yes"))
    stranger = make_certs(tmp_path / "stranger", "Stranger CA")
    no_cert = client_context(tls_certs["ca_crt"])
    good = client_context(tls_certs["ca_crt"], tls_certs["client_crt"], tls_certs["client_key"])
    unknown = client_context(tls_certs["ca_crt"], stranger["client_crt"], stranger["client_key"])
    assert tls_attempt_ping(s.port, good) == b"+PONG\r\n"
    assert tls_attempt_ping(s.port, no_cert) != b"+PONG\r\n"
    assert tls_attempt_ping(s.port, unknown) != b"+PONG\r\n"
    assert info_int(s.client(), "tls_handshakes_failed", "ssl") >= 2
    assert s.client().ping() is True  # plaintext still served in preferred


def test_client_certificates_optional(server_factory, tls_certs, tmp_path):
    s = server_factory(*tls_args(tls_certs, "preferred", "--tls-auth-clients", "optional"))
    stranger = make_certs(tmp_path / "stranger", "Stranger CA")
    assert tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) == b"+PONG\r\n"
    good = client_context(tls_certs["ca_crt"], tls_certs["client_crt"], tls_certs["client_key"])
    assert tls_attempt_ping(s.port, good) == b"+PONG\r\n"
    unknown = client_context(tls_certs["ca_crt"], stranger["client_crt"], stranger["client_key"])
    assert tls_attempt_ping(s.port, unknown) != b"+PONG\r\n"


def test_client_certificate_cn_logs_in_as_that_user(server_factory, tls_certs, tmp_path):
    key, csr, crt = (str(tmp_path / n) for n in ("alice.key", "alice.csr", "alice.crt"))
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", "/CN=alice", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", tls_certs["ca_crt"], "-CAkey", tls_certs["ca_key"],
            "-CAcreateserial", "-days", "2", "-out", crt)
    s = server_factory(*tls_args(tls_certs, "preferred", "--tls-auth-clients", "optional",
                                 "--tls-auth-clients-user", "CN"))
    admin = s.client(decode_responses=True)
    admin.execute_command("ACL", "SETUSER", "alice", "on", "~alice:*", "+@all")
    r = tls_resp(s, tls_certs, cert=crt, key=key)
    assert r.call("ACL", "WHOAMI") == b"alice"
    assert r.call("SET", "alice:1", "x") == "OK"
    assert "no permissions" in str(r.call("SET", "bob:1", "x"))
    anonymous = tls_resp(s, tls_certs)
    assert anonymous.call("ACL", "WHOAMI") == b"default"
    admin.config_set("tls-auth-clients-user", "off")
    assert tls_resp(s, tls_certs, cert=crt, key=key).call("ACL", "WHOAMI") == b"default"


# --- hostile handshakes -----------------------------------------------------------------

def test_garbage_after_a_record_header_is_refused(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    for payload in (b"\x16\x03\x01\x00\x05garbage-and-more", b"\x16\x03\x03\xff\xff" + os.urandom(300),
                    b"\x16" + b"\x00" * 64):
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        raw.sendall(payload)
        data, closed = read_to_eof(raw)
        raw.close()
        assert closed and b"PONG" not in data
    c = s.client()
    wait_until(lambda: info_int(c, "tls_handshakes_failed", "ssl") >= 2, what="failures counted")
    assert tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) == b"+PONG\r\n"


def test_stalled_handshake_times_out_and_frees_its_slot(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs, "preferred", "--tls-handshake-timeout", "300"))
    c = s.client()
    hello = client_hello_bytes()
    stalled = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    stalled.sendall(hello[:len(hello) // 2])  # half a ClientHello, then nothing
    started = time.monotonic()
    data, closed = read_to_eof(stalled, timeout=10)
    stalled.close()
    assert closed and time.monotonic() - started < 5
    wait_until(lambda: info_int(c, "tls_handshakes_timed_out", "ssl") == 1, what="timed out counted")
    wait_until(lambda: info_int(c, "connected_clients", "clients") == 1, what="slot freed")


def test_silent_connection_in_required_times_out(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs, "required", "--tls-handshake-timeout", "300"))
    silent = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    data, closed = read_to_eof(silent, timeout=10)
    silent.close()
    assert closed
    r = tls_resp(s, tls_certs)
    assert int(parse(r)["tls_handshakes_timed_out"]) >= 1


def _raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


@pytest.mark.solo  # 1000 handshakes at once: alone (conftest.py)
def test_a_storm_of_1000_handshakes_does_not_starve_others(server_factory, tls_certs):
    _raise_nofile(4096)
    s = server_factory(*tls_args(tls_certs, "preferred", "--maxclients", "2000"))
    c = tls_client(s, tls_certs)
    c.ping()
    hello = client_hello_bytes()
    socks = []
    try:
        for _ in range(1000):
            raw = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            raw.sendall(hello)
            socks.append(raw)
            if len(socks) % 200 == 0:
                assert c.ping() is True  # served during the storm
        wait_until(lambda: info_int(c, "connected_clients", "clients") >= 1001, timeout=30, what="all accepted")
        assert c.set("during", "storm") is True
        # Every handshake got its ServerHello (the server did the work, once each).
        for raw in socks[:50]:
            raw.settimeout(10)
            assert raw.recv(1)[:1] == b"\x16"
    finally:
        for raw in socks:
            raw.close()
    wait_until(lambda: info_int(c, "connected_clients", "clients") == 1, timeout=30, what="storm cleaned up")
    assert c.get("during") == b"storm"
    assert s.alive()


def test_abandoned_handshakes_cost_nothing_lasting(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    c = s.client()
    hello = client_hello_bytes()
    for _ in range(200):
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        raw.sendall(hello)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()  # reset before the handshake finishes
    wait_until(lambda: info_int(c, "connected_clients", "clients") == 1, timeout=20, what="abandoned cleaned up")
    i = ssl_info(c)
    assert int(i["tls_handshakes_ok"]) == 0
    assert int(i["tls_handshakes_abandoned"]) + int(i["tls_handshakes_failed"]) > 0
    assert tls_attempt_ping(s.port, client_context(tls_certs["ca_crt"])) == b"+PONG\r\n"


# --- nothing produced after a switch to required reaches plaintext -----------------------

def _plain(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # replies stay in the server
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def _omem(admin, marker):
    for line in admin.execute_command("CLIENT", "LIST").decode().splitlines():
        if f"name={marker} " in line:
            return int(line.split(" omem=")[1].split()[0])
    return -1


def test_required_sends_plaintext_nothing_produced_after_the_switch(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    admin = tls_client(s, tls_certs)
    big = b"b" * (4 << 20)
    admin.set("big", big)
    # A plaintext subscriber that stopped reading with messages owed.
    sub = _plain(s.port)
    sub.sendall(b"CLIENT SETNAME psub\r\nSUBSCRIBE ch\r\n")
    wait_until(lambda: admin.pubsub_numsub("ch")[0][1] == 1, what="plaintext subscriber")
    for _ in range(3):
        admin.publish("ch", big)
    # A plaintext client blocked in BLPOP behind a big reply it is not reading.
    blk = _plain(s.port)
    blk.sendall(b"CLIENT SETNAME pblk\r\nGET big\r\nBLPOP list 0\r\n")
    # A TLS client blocked on the same list, after it.
    tblk = tls_resp(s, tls_certs, timeout=10)
    wait_until(lambda: info_int(admin, "blocked_clients", "clients") == 1, what="plaintext BLPOP blocked")
    tblk.send("BLPOP", "list", 0)
    wait_until(lambda: info_int(admin, "blocked_clients", "clients") == 2, what="TLS BLPOP blocked")
    tsub = tls_resp(s, tls_certs, timeout=10)
    assert tsub.call("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
    wait_until(lambda: _omem(admin, "psub") > 0 and _omem(admin, "pblk") > 0, what="replies waiting in the server")

    assert admin.config_set("tls-mode", "required") is True
    # Produced after the switch: only TLS clients may see it.
    assert admin.publish("ch", "after-the-switch") == 1
    assert tsub.read() == [b"message", b"ch", b"after-the-switch"]
    assert admin.lpush("list", "secret-1") == 1
    assert tblk.read() == [b"list", b"secret-1"]
    assert admin.lpush("list", "secret-2") == 1
    assert admin.lrange("list", 0, -1) == [b"secret-2"]  # nobody plaintext popped it
    assert admin.pubsub_numsub("ch")[0][1] == 1
    assert info_int(admin, "blocked_clients", "clients") == 0

    for sock in (sub, blk):  # now read fast
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    data, closed = read_to_eof(sub, timeout=30)
    assert closed and b"after-the-switch" not in data
    msg = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$%d\r\n%s\r\n" % (len(big), big)
    assert data == b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" + msg * 3
    data, closed = read_to_eof(blk, timeout=30)
    assert closed and b"secret" not in data
    assert data == b"+OK\r\n$%d\r\n%s\r\n" % (len(big), big)
    assert admin.ping() is True


def test_required_revokes_a_plaintext_transaction_and_pipeline(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    admin = tls_client(s, tls_certs)
    admin.set("big", b"b" * (4 << 20))
    admin.set("secret", "s")
    c = _plain(s.port)
    c.sendall(b"CLIENT SETNAME pm\r\nGET big\r\nMULTI\r\nSET k v\r\n")
    wait_until(lambda: _omem(admin, "pm") > 0, what="replies waiting in the server")
    wait_until(lambda: " flags=x " in [l for l in admin.execute_command("CLIENT", "LIST").decode().splitlines()
                                        if "name=pm " in l][0], what="plaintext MULTI")
    assert admin.config_set("tls-mode", "required") is True
    c.sendall(b"EXEC\r\nGET secret\r\n")  # read and dropped, never run
    data, closed = read_to_eof(c, timeout=30)
    assert closed and data.endswith(b"+OK\r\n+QUEUED\r\n")
    assert admin.get("k") is None


def _answers(host, port, ctx=None):
    try:
        raw = socket.create_connection((host, port), timeout=2)
    except OSError:
        return False
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
        s.sendall(b"PING\r\n")
        return s.recv(16) == b"+PONG\r\n"
    except OSError:
        return False
    finally:
        raw.close()


def test_config_set_bind_moves_the_tls_port_too(server_factory, tls_certs):
    tport = free_port()
    s = server_factory("--tls-port", tport, *tls_args(tls_certs))
    ctx = client_context(tls_certs["ca_crt"])
    admin = s.client()
    assert _answers("127.0.0.1", tport, ctx) and _answers("127.0.0.1", s.port)
    assert admin.config_set("bind", "127.0.0.2") is True
    assert _answers("127.0.0.2", s.port) and _answers("127.0.0.2", s.port, ctx)
    assert _answers("127.0.0.2", tport, ctx), "the tls-port did not move to the new bind address"
    assert not _answers("127.0.0.1", s.port) and not _answers("127.0.0.1", tport, ctx)
    # Back, and to both: the same port on overlapping addresses.
    admin2 = redis.Redis(host="127.0.0.2", port=s.port, socket_timeout=10)
    assert admin2.config_set("bind", "127.0.0.1 127.0.0.2") is True
    for host in ("127.0.0.1", "127.0.0.2"):
        assert _answers(host, s.port) and _answers(host, tport, ctx)
    admin2.close()
    # A bind the tls-port cannot take is refused whole: both ports stay.
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.3", tport))
    blocker.listen(1)
    try:
        admin3 = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=10)
        with pytest.raises(redis.ResponseError, match="Failed to bind to specified addresses"):
            admin3.config_set("bind", "127.0.0.3")
        assert admin3.config_get("bind") == {"bind": "127.0.0.1 127.0.0.2"}
        for host in ("127.0.0.1", "127.0.0.2"):
            assert _answers(host, s.port) and _answers(host, tport, ctx)
        admin3.close()
    finally:
        blocker.close()


# --- client-certificate names are compared whole ------------------------------------------

def _client_cert(certs, directory, name_attrs, tag):
    """A client certificate signed by the test CA whose subject is exactly
    name_attrs: [(oid, value), ...] (values may hold a NUL or exceed 64)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    with open(certs["ca_crt"], "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(certs["ca_key"], "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(oid, v, _validate=False) for oid, v in name_attrs])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, kp = str(directory / f"{tag}.crt"), str(directory / f"{tag}.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    return crt, kp


@pytest.mark.parametrize("case", ["nul", "long", "two-cns", "good"])
def test_client_certificate_cn_must_name_the_user_exactly(server_factory, tls_certs, tmp_path, case):
    from cryptography.x509.oid import NameOID
    cn = NameOID.COMMON_NAME
    long_cn = "a" * 300
    subjects = {
        "nul": [(cn, "admin\x00.tenant7")],             # strlen() says "admin"
        "long": [(cn, long_cn)],                        # a 256-byte buffer says its first 255 bytes
        "two-cns": [(cn, "admin"), (cn, "guest")],      # which one?
        "good": [(NameOID.ORGANIZATION_NAME, "x"), (cn, "admin")],
    }
    crt, key = _client_cert(tls_certs, tmp_path, subjects[case], case)
    s = server_factory(*tls_args(tls_certs, "preferred", "--tls-auth-clients", "optional",
                                 "--tls-auth-clients-user", "CN", "--requirepass", "pw"))
    admin = s.client(password="pw", decode_responses=True)
    for user in ("admin", "guest", long_cn[:255], long_cn[:256]):
        admin.execute_command("ACL", "SETUSER", user, "on", "nopass", "~*", "+@all")
    r = tls_resp(s, tls_certs, cert=crt, key=key)
    who = r.call("ACL", "WHOAMI")
    if case == "good":
        assert who == b"admin"
    else:
        assert isinstance(who, redis.ResponseError) and str(who).startswith("NOAUTH"), who
        assert r.call("AUTH", "pw") == "OK" and r.call("ACL", "WHOAMI") == b"default"


def test_tls_parameters_apply_when_the_certificate_path_is_long(server_factory, tmp_path):
    # Certificate paths of ~2,200 bytes: a change of tls-protocols (named
    # after them in what identifies a context) must still rebuild it.
    deep = tmp_path
    for _ in range(11):
        deep = deep / ("d" * 200)
    certs = make_certs(deep, "Deep CA")
    s = server_factory("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"],
                       "--tls-key-file", certs["server_key"])
    tls12 = client_context(certs["ca_crt"], max_version=ssl.TLSVersion.TLSv1_2)
    assert tls_attempt_ping(s.port, tls12) == b"+PONG\r\n"
    assert s.client().config_set("tls-protocols", "TLSv1.3") is True
    assert tls_attempt_ping(s.port, tls12) != b"+PONG\r\n", "tls-protocols TLSv1.3 was not applied"
    assert tls_attempt_ping(s.port, client_context(certs["ca_crt"])) == b"+PONG\r\n"


@pytest.mark.parametrize("to", ["preferred", "required"])
def test_connection_silent_since_none_is_judged_by_its_first_byte(server_factory, tls_certs, to):
    # Accepted in tls-mode none, nothing sent yet when TLS is turned on: a
    # TLS handshake on it must work, and it is not counted as plaintext.
    s = server_factory(*tls_args(tls_certs, "none"))
    admin = s.client()
    early_tls = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    early_plain = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    s._clients += [early_tls, early_plain]
    wait_until(lambda: len(admin.execute_command("CLIENT", "LIST").splitlines()) == 3, what="three clients")
    assert admin.execute_command("CONFIG", "SET", "tls-mode", to) == b"OK"  # closes this admin in required
    conn = client_context(tls_certs["ca_crt"]).wrap_socket(early_tls, server_hostname="localhost")
    conn.sendall(b"PING\r\n")
    assert conn.recv(16) == b"+PONG\r\n"
    early_plain.sendall(b"PING\r\n")
    data, _ = read_to_eof(early_plain, timeout=5) if to == "required" else (early_plain.recv(16), None)
    assert data == (TLS_REQUIRED_LINE if to == "required" else b"+PONG\r\n")
    wait_until(lambda: f"TLS mode changed from none to {to}:" in s.log(), what="mode change log line")
    line = [l for l in s.log().splitlines() if f"TLS mode changed from none to {to}:" in l][-1]
    assert ("0 TLS clients kept" in line and "2 new connections still to send their first byte" in line
            and (", 1 plaintext clients closed" if to == "required" else ", 1 plaintext clients kept") in line), line
