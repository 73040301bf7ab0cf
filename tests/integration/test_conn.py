"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO and
CLIENT (ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO, REPLY, NO-EVICT,
NO-TOUCH, HELP). Error texts and reply bytes are Redis 7.0's (7.2's for
SETINFO / NO-TOUCH, 7.4's for KILL MAXAGE); most checks go over raw sockets
so the exact bytes, not redis-py's parse of them, are asserted."""
import shutil
import socket
import subprocess
import time

import pytest
import redis

from conftest import wait_until


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def _reply_end(buf, pos):
    """Index just past the RESP reply starting at pos, or None if incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl == -1:
        return None
    t, head = buf[pos:pos + 1], buf[pos + 1:nl]
    end = nl + 2
    if t in b"+-:_,#(":
        return end
    if t in b"$=!":
        n = int(head)
        if n < 0:
            return end
        return end + n + 2 if len(buf) >= end + n + 2 else None
    if t in b"*~>%":
        n = int(head)
        if n < 0:
            return end
        for _ in range(n * (2 if t == b"%" else 1)):
            end = _reply_end(buf, end)
            if end is None:
                return None
        return end
    raise AssertionError("bad reply type %r in %r" % (t, buf))


class Raw:
    """A raw RESP connection that reads exactly one reply per call."""

    def __init__(self, server, timeout=5.0):
        self.sock = server.raw(timeout=timeout)
        self.buf = b""

    def send(self, *args):
        self.sock.sendall(enc(*args))

    def read(self, timeout=5.0):
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            end = _reply_end(self.buf, 0) if self.buf else None
            if end is not None:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            if time.monotonic() > deadline:
                raise AssertionError("no complete reply, have %r" % self.buf)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed, partial %r" % self.buf)
            self.buf += chunk

    def call(self, *args):
        self.send(*args)
        return self.read()

    def closed(self, timeout=5.0):
        """True once the server has closed the connection (EOF/reset)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def silent(self, wait=0.3):
        """Nothing arrives within `wait` seconds (for CLIENT REPLY OFF)."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return self.buf == b""
        self.buf += chunk
        return False


def info_fields(line):
    """CLIENT LIST/INFO line -> dict (bytes or str)."""
    if isinstance(line, bytes):
        line = line.decode()
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


def bulk_text(reply):
    """Payload of a $ bulk or = verbatim reply (verbatim without its 'txt:')."""
    hdr, _, rest = reply.partition(b"\r\n")
    body = rest[:-2]
    assert len(body) == int(hdr[1:])
    if reply.startswith(b"="):
        assert body.startswith(b"txt:")
        body = body[4:]
    else:
        assert reply.startswith(b"$")
    return body


HELLO_TAIL = (b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
              b"$7\r\nmodules\r\n*0\r\n")


def hello_bytes(proto, cid, resp_of_reply):
    head = b"%7\r\n" if resp_of_reply == 3 else b"*14\r\n"
    return (head + b"$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
            b"$5\r\nproto\r\n:%d\r\n$2\r\nid\r\n:%d\r\n" % (proto, cid) + HELLO_TAIL)


NOAUTH_HELLO = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select the "
                b"RESP protocol version at the same time\r\n")
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
BADNAME = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"


# ---- PING / ECHO -----------------------------------------------------------

def test_ping_and_echo(server):
    c = Raw(server)
    assert c.call("PING") == b"+PONG\r\n"
    assert c.call("ping", "hello world") == b"$11\r\nhello world\r\n"
    assert c.call("PING", "") == b"$0\r\n\r\n"
    assert c.call("PING", "a", "b") == b"-ERR wrong number of arguments for 'ping' command\r\n"
    assert c.call("ECHO", "x\r\ny") == b"$4\r\nx\r\ny\r\n"
    assert c.call("ECHO") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert c.call("ECHO", "a", "b") == b"-ERR wrong number of arguments for 'echo' command\r\n"


def test_ping_in_resp2_subscribe_context_is_an_array(server):
    c = Raw(server)
    assert c.call("SUBSCRIBE", "ch") == b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    assert c.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert c.call("PING", "hi") == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    assert c.call("ECHO", "x").startswith(b"-ERR Can't execute 'echo'")


def test_ping_in_resp3_subscribe_context_is_plain(server):
    c = Raw(server)
    c.call("HELLO", "3")
    c.call("SUBSCRIBE", "ch")
    assert c.call("PING") == b"+PONG\r\n"
    assert c.call("PING", "hi") == b"$2\r\nhi\r\n"


# ---- SELECT ----------------------------------------------------------------

def test_select_isolates_keys(server):
    r0 = server.client(decode_responses=True)
    r0.set("k", "zero")
    c = Raw(server)
    assert c.call("SELECT", "5") == b"+OK\r\n"
    assert c.call("GET", "k") == b"$-1\r\n"
    assert c.call("SET", "k", "five") == b"+OK\r\n"
    assert c.call("GET", "k") == b"$4\r\nfive\r\n"
    assert r0.get("k") == "zero"
    assert c.call("SELECT", "0") == b"+OK\r\n"
    assert c.call("GET", "k") == b"$4\r\nzero\r\n"
    r5 = server.client(decode_responses=True, db=5)
    assert r5.get("k") == "five"


def test_select_errors_change_nothing(server):
    c = Raw(server)
    c.call("SELECT", "3")
    c.call("SET", "where", "three")
    for bad in ("16", "-1"):
        assert c.call("SELECT", bad) == b"-ERR DB index is out of range\r\n"
    for bad in ("abc", "1.5", " 1", ""):
        assert c.call("SELECT", bad) == b"-ERR value is not an integer or out of range\r\n"
    assert c.call("SELECT", "99999999999") == (
        b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n")
    assert c.call("SELECT") == b"-ERR wrong number of arguments for 'select' command\r\n"
    assert c.call("GET", "where") == b"$5\r\nthree\r\n"


def test_select_highest_db_with_databases_config(server_factory):
    s = server_factory("--databases", "4")
    c = Raw(s)
    assert c.call("SELECT", "3") == b"+OK\r\n"
    assert c.call("SELECT", "4") == b"-ERR DB index is out of range\r\n"


# ---- QUIT / RESET ------------------------------------------------------------

def test_quit_replies_ok_then_closes(server, r):
    c = Raw(server)
    # Pipelined commands after QUIT are not executed.
    c.sock.sendall(enc("QUIT") + enc("SET", "after-quit", "1"))
    assert c.read() == b"+OK\r\n"
    assert c.closed()
    assert r.get("after-quit") is None
    assert r.ping()


def test_quit_with_replies_off_still_closes(server):
    c = Raw(server)
    c.send("CLIENT", "REPLY", "OFF")
    c.send("QUIT")
    assert c.closed()
    assert c.buf == b""


def test_quit_inside_multi_closes(server, r):
    c = Raw(server)
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("SET", "q", "1") == b"+QUEUED\r\n"
    assert c.call("QUIT") == b"+OK\r\n"
    assert c.closed()
    assert r.get("q") is None


def test_reset_restores_defaults(server):
    c = Raw(server)
    c.call("SELECT", "2")
    c.call("CLIENT", "SETNAME", "before-reset")
    c.call("CLIENT", "NO-EVICT", "on")
    c.call("CLIENT", "NO-TOUCH", "on")
    c.call("HELLO", "3")
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("SET", "k", "v") == b"+QUEUED\r\n"
    assert c.call("RESET") == b"+RESET\r\n"
    # RESP2 again: a missing name is $-1, not _.
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"
    f = info_fields(bulk_text(c.call("CLIENT", "INFO")))
    assert f["db"] == "0" and f["resp"] == "2" and f["name"] == "" and f["flags"] == "N"
    assert c.call("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert c.call("GET", "k") == b"$-1\r\n"


def test_reset_leaves_subscribe_context(server):
    c = Raw(server)
    c.call("SUBSCRIBE", "ch")
    assert c.call("RESET") == b"+RESET\r\n"
    assert c.call("ECHO", "back") == b"$4\r\nback\r\n"
    r = server.client()
    assert r.pubsub_numsub("ch") == [(b"ch", 0)]


def test_reset_keeps_library_info(server):
    c = Raw(server)
    c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py")
    c.call("RESET")
    assert info_fields(bulk_text(c.call("CLIENT", "INFO")))["lib-name"] == "redis-py"


def test_reset_reply_skipped_by_client_reply_skip(server):
    c = Raw(server)
    c.send("CLIENT", "REPLY", "SKIP")
    c.send("RESET")
    assert c.call("PING") == b"+PONG\r\n"


# ---- AUTH / requirepass ------------------------------------------------------

def test_auth_without_password_configured(server):
    c = Raw(server)
    assert c.call("AUTH", "x") == (
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n")
    # The default user has no password: any password is accepted for it.
    assert c.call("AUTH", "default", "anything") == b"+OK\r\n"
    assert c.call("AUTH", "default", "") == b"+OK\r\n"
    assert c.call("AUTH", "someone", "x") == WRONGPASS
    assert c.call("AUTH", "a", "b", "c") == b"-ERR syntax error\r\n"
    assert c.call("AUTH") == b"-ERR wrong number of arguments for 'auth' command\r\n"
    assert c.call("PING") == b"+PONG\r\n"


def test_requirepass_gates_commands_until_auth(server_factory):
    s = server_factory("--requirepass", "secret")
    c = Raw(s)
    for args in (("PING",), ("SELECT", "1"), ("ECHO", "a"), ("CLIENT", "ID"), ("GET", "k"),
                 ("CLIENT", "LIST")):
        assert c.call(*args) == b"-NOAUTH Authentication required.\r\n", args
    assert c.call("AUTH", "wrong") == WRONGPASS
    assert c.call("AUTH", "default", "wrong") == WRONGPASS
    assert c.call("AUTH", "DEFAULT", "secret") == WRONGPASS  # user names are case-sensitive
    assert c.call("AUTH", "other", "secret") == WRONGPASS
    assert c.call("AUTH", "secre") == WRONGPASS
    assert c.call("AUTH", "secret2") == WRONGPASS
    assert c.call("PING") == b"-NOAUTH Authentication required.\r\n"
    assert c.call("AUTH", "secret") == b"+OK\r\n"
    assert c.call("PING") == b"+PONG\r\n"
    # A failed AUTH after a good one does not log the client out.
    assert c.call("AUTH", "wrong") == WRONGPASS
    assert c.call("PING") == b"+PONG\r\n"

    c2 = Raw(s)
    assert c2.call("AUTH", "default", "secret") == b"+OK\r\n"
    assert c2.call("SET", "k", "v") == b"+OK\r\n"
    # RESET logs out again.
    assert c2.call("RESET") == b"+RESET\r\n"
    assert c2.call("GET", "k") == b"-NOAUTH Authentication required.\r\n"
    # QUIT works without auth.
    c3 = Raw(s)
    assert c3.call("QUIT") == b"+OK\r\n"
    assert c3.closed()


def test_requirepass_with_redis_py(server_factory):
    s = server_factory("--requirepass", "secret")
    with pytest.raises(redis.AuthenticationError):
        s.client().ping()
    assert s.client(password="secret").ping()
    assert s.client(username="default", password="secret").ping()
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        s.client(password="nope").ping()


# ---- HELLO ---------------------------------------------------------------------

def test_hello3_switches_to_resp3_and_hello2_back(server):
    c = Raw(server)
    cid = int(c.call("CLIENT", "ID")[1:-2])
    got = c.call("HELLO", "3")
    assert got.startswith(b"%7\r\n")
    assert b"$5\r\nproto\r\n:3\r\n" in got
    assert got == hello_bytes(3, cid, 3)
    # RESP3 shapes now: null, verbatim text, maps.
    assert c.call("CLIENT", "GETNAME") == b"_\r\n"
    info = c.call("CLIENT", "INFO")
    assert info.startswith(b"=") and b"\r\ntxt:id=%d " % cid in info
    assert info_fields(bulk_text(info))["resp"] == "3"
    assert c.call("CLIENT", "LIST").startswith(b"=")
    # HELLO with no version reports the current protocol.
    assert c.call("HELLO") == hello_bytes(3, cid, 3)
    got = c.call("HELLO", "2")
    assert got.startswith(b"*14\r\n") and got == hello_bytes(2, cid, 2)
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert c.call("CLIENT", "INFO").startswith(b"$")


def test_hello_errors_leave_protocol_unchanged(server):
    c = Raw(server)
    assert c.call("HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    assert c.call("HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert c.call("HELLO", "abc") == b"-ERR Protocol version is not an integer or out of range\r\n"
    assert c.call("HELLO", "3", "foo") == b"-ERR Syntax error in HELLO option 'foo'\r\n"
    assert c.call("HELLO", "3", "AUTH", "default") == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert c.call("HELLO", "3", "SETNAME") == b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    assert c.call("HELLO", "3", "SETNAME", "a b") == BADNAME
    assert c.call("HELLO", "3", "AUTH", "nobody", "pw") == WRONGPASS
    # Still RESP2, still unnamed.
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"
    # A bad option after a good SETNAME applies nothing.
    assert c.call("HELLO", "3", "SETNAME", "good", "bogus").startswith(b"-ERR Syntax error")
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"


def test_hello_setname_and_auth_without_password(server):
    c = Raw(server)
    cid = int(c.call("CLIENT", "ID")[1:-2])
    assert c.call("HELLO", "3", "AUTH", "default", "x", "SETNAME", "app1") == hello_bytes(3, cid, 3)
    assert c.call("CLIENT", "GETNAME") == b"$4\r\napp1\r\n"
    # Later options win; SETNAME "" clears.
    assert c.call("HELLO", "2", "SETNAME", "y", "SETNAME", "z") == hello_bytes(2, cid, 2)
    assert c.call("CLIENT", "GETNAME") == b"$1\r\nz\r\n"
    c.call("HELLO", "2", "SETNAME", "")
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"


def test_hello_with_requirepass(server_factory):
    s = server_factory("--requirepass", "secret")
    c = Raw(s)
    assert c.call("HELLO") == NOAUTH_HELLO
    assert c.call("HELLO", "3") == NOAUTH_HELLO
    assert c.call("HELLO", "3", "SETNAME", "sneaky") == NOAUTH_HELLO
    assert c.call("HELLO", "9") == b"-NOPROTO unsupported protocol version\r\n"
    assert c.call("HELLO", "3", "AUTH", "default", "wrong") == WRONGPASS
    # Failure left everything unchanged: still RESP2, still unauthenticated.
    assert c.call("PING") == b"-NOAUTH Authentication required.\r\n"
    got = c.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "myapp")
    assert got.startswith(b"%7\r\n") and b"$5\r\nproto\r\n:3\r\n" in got
    assert c.call("CLIENT", "GETNAME") == b"$5\r\nmyapp\r\n"
    assert c.call("PING") == b"+PONG\r\n"
    # Once authenticated, HELLO needs no AUTH.
    assert c.call("HELLO", "2").startswith(b"*14\r\n")


# ---- CLIENT ID / SETNAME / GETNAME / INFO / LIST --------------------------------

def test_client_id_setname_getname(server):
    c = Raw(server)
    cid = c.call("CLIENT", "ID")
    assert cid.startswith(b":")
    other = int(Raw(server).call("CLIENT", "ID")[1:-2])
    assert other > int(cid[1:-2])  # IDs grow with each connection
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert c.call("CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
    assert c.call("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    for bad in ("a b", "a\nb", "tab\there", "\x01", "caf\xe9".encode("latin-1"), "é"):
        assert c.call("CLIENT", "SETNAME", bad) == BADNAME, bad
    assert c.call("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    assert c.call("CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert c.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert c.call("CLIENT", "SETNAME") == b"-ERR wrong number of arguments for 'client|setname' command\r\n"
    assert c.call("CLIENT", "ID", "x") == b"-ERR wrong number of arguments for 'client|id' command\r\n"


def test_client_info_is_one_line_for_this_client(server):
    c = Raw(server)
    cid = int(c.call("CLIENT", "ID")[1:-2])
    body = bulk_text(c.call("CLIENT", "INFO")).decode()
    assert body.endswith("\n") and body.count("\n") == 1
    f = info_fields(body)
    assert f["id"] == str(cid)
    assert f["cmd"] == "client|info"
    assert f["user"] == "default"
    assert f["addr"] == "%s:%d" % c.sock.getsockname()


def test_client_list_shows_name_and_db(server):
    a = Raw(server)
    a.call("CLIENT", "SETNAME", "listed")
    a.call("SELECT", "7")
    a_id = int(a.call("CLIENT", "ID")[1:-2])
    b = Raw(server)
    b_id = int(b.call("CLIENT", "ID")[1:-2])
    body = bulk_text(b.call("CLIENT", "LIST")).decode()
    assert body.endswith("\n")
    lines = body.split("\n")[:-1]
    by_id = {int(info_fields(l)["id"]): info_fields(l) for l in lines}
    assert by_id[a_id]["name"] == "listed" and by_id[a_id]["db"] == "7"
    assert by_id[b_id]["cmd"] == "client|list" and by_id[b_id]["db"] == "0"
    # Oldest connection first, as Redis.
    ids = [int(info_fields(l)["id"]) for l in lines]
    assert ids == sorted(ids)


def test_client_list_filters(server):
    a = Raw(server)
    sub = Raw(server)
    sub_id = int(sub.call("CLIENT", "ID")[1:-2])
    sub.call("SUBSCRIBE", "news")
    a_id = int(a.call("CLIENT", "ID")[1:-2])

    def ids(reply):
        body = bulk_text(reply).decode()
        return [int(info_fields(l)["id"]) for l in body.split("\n") if l]

    assert ids(a.call("CLIENT", "LIST", "TYPE", "pubsub")) == [sub_id]
    assert a_id in ids(a.call("CLIENT", "LIST", "type", "NORMAL"))
    assert sub_id not in ids(a.call("CLIENT", "LIST", "TYPE", "normal"))
    assert ids(a.call("CLIENT", "LIST", "TYPE", "master")) == []
    assert ids(a.call("CLIENT", "LIST", "TYPE", "replica")) == []
    assert ids(a.call("CLIENT", "LIST", "ID", str(a_id), "999999", str(sub_id))) == [a_id, sub_id]
    assert a.call("CLIENT", "LIST", "ID", "999999") == b"$0\r\n\r\n"
    assert a.call("CLIENT", "LIST", "TYPE", "foo") == b"-ERR Unknown client type 'foo'\r\n"
    assert a.call("CLIENT", "LIST", "ID", str(a_id), "abc") == b"-ERR Invalid client ID\r\n"
    assert a.call("CLIENT", "LIST", "ID") == b"-ERR syntax error\r\n"
    assert a.call("CLIENT", "LIST", "foo") == b"-ERR syntax error\r\n"
    assert a.call("CLIENT", "LIST", "TYPE", "normal", "x") == b"-ERR syntax error\r\n"


def test_client_list_via_redis_py(server, r):
    r.client_setname("pyclient")
    entries = r.client_list()
    assert any(e["name"] == "pyclient" for e in entries)
    assert r.client_info()["name"] == "pyclient"
    assert r.client_getname() == "pyclient"
    assert r.client_id() == int(r.client_info()["id"])


# ---- CLIENT KILL ---------------------------------------------------------------

def test_client_kill_by_id_disconnects_other_client(server):
    killer = server.client(decode_responses=True)
    # One pinned connection: the pool would otherwise reconnect silently.
    victim = server.client(decode_responses=True, single_connection_client=True)
    victim_id = victim.client_id()
    assert killer.execute_command("CLIENT", "KILL", "ID", victim_id) == 1

    def next_command_fails():
        try:
            victim.ping()
        except redis.ConnectionError:
            return True
        return False

    wait_until(next_command_fails, timeout=5, what="the killed client's next command to fail")
    assert victim_id not in [int(e["id"]) for e in killer.client_list()]
    assert killer.execute_command("CLIENT", "KILL", "ID", victim_id) == 0
    # The same on a raw socket: the server closes it.
    raw = Raw(server)
    raw_id = int(raw.call("CLIENT", "ID")[1:-2])
    assert killer.execute_command("CLIENT", "KILL", "ID", raw_id) == 1
    assert raw.closed()
    assert killer.ping()


def test_client_kill_old_form_by_address(server):
    killer = Raw(server)
    victim = Raw(server)
    addr = "%s:%d" % victim.sock.getsockname()
    assert killer.call("CLIENT", "KILL", addr) == b"+OK\r\n"
    assert victim.closed()
    assert killer.call("CLIENT", "KILL", addr) == b"-ERR No such client\r\n"
    assert killer.call("CLIENT", "KILL", "1.2.3.4:5") == b"-ERR No such client\r\n"
    assert killer.call("CLIENT", "KILL", "127.0.0.1:") == b"-ERR No such client\r\n"
    # The old form can kill the caller: +OK first, then the close.
    me = "%s:%d" % killer.sock.getsockname()
    assert killer.call("CLIENT", "KILL", me) == b"+OK\r\n"
    assert killer.closed()


def test_client_kill_filters(server):
    killer = Raw(server)
    v1, v2 = Raw(server), Raw(server)
    v1_addr = "%s:%d" % v1.sock.getsockname()
    laddr = "%s:%d" % v1.sock.getpeername()
    assert killer.call("CLIENT", "KILL", "ADDR", v1_addr) == b":1\r\n"
    assert v1.closed()
    assert killer.call("CLIENT", "KILL", "ADDR", v1_addr) == b":0\r\n"
    # LADDR (the server's side) matches every client; SKIPME yes spares the caller.
    assert killer.call("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "yes") == b":1\r\n"
    assert v2.closed()
    assert killer.call("CLIENT", "KILL", "LADDR", "127.0.0.1:1") == b":0\r\n"

    sub, normal = Raw(server), Raw(server)
    sub.call("SUBSCRIBE", "ch")
    assert killer.call("CLIENT", "KILL", "TYPE", "pubsub") == b":1\r\n"
    assert sub.closed()
    assert killer.call("CLIENT", "KILL", "TYPE", "master") == b":0\r\n"
    assert killer.call("CLIENT", "KILL", "TYPE", "replica") == b":0\r\n"
    assert killer.call("CLIENT", "KILL", "USER", "default") == b":1\r\n"
    assert normal.closed()
    assert killer.call("PING") == b"+PONG\r\n"


def test_client_kill_combined_filters_must_all_match(server):
    killer = Raw(server)
    v = Raw(server)
    v_id = int(v.call("CLIENT", "ID")[1:-2])
    v_addr = "%s:%d" % v.sock.getsockname()
    assert killer.call("CLIENT", "KILL", "ID", str(v_id), "TYPE", "pubsub") == b":0\r\n"
    assert killer.call("CLIENT", "KILL", "ID", str(v_id), "ADDR", "1.1.1.1:1") == b":0\r\n"
    assert v.call("PING") == b"+PONG\r\n"
    assert killer.call("CLIENT", "KILL", "ID", str(v_id), "ADDR", v_addr, "TYPE", "normal") == b":1\r\n"
    assert v.closed()


def test_client_kill_skipme_no_kills_caller_after_reply(server):
    others = [Raw(server) for _ in range(2)]
    me = Raw(server)
    assert me.call("CLIENT", "KILL", "SKIPME", "no") == b":3\r\n"
    assert me.closed()
    for o in others:
        assert o.closed()
    assert server.client().ping()


def test_client_kill_own_id_closes_after_reply(server):
    me = Raw(server)
    my_id = me.call("CLIENT", "ID")[1:-2].decode()
    assert me.call("CLIENT", "KILL", "ID", my_id) == b":0\r\n"  # SKIPME yes by default
    assert me.call("CLIENT", "KILL", "ID", my_id, "SKIPME", "no") == b":1\r\n"
    assert me.closed()


def test_client_kill_maxage(server):
    old = Raw(server)
    old_id = old.call("CLIENT", "ID")[1:-2].decode()
    killer = Raw(server)
    assert killer.call("CLIENT", "KILL", "MAXAGE", "100000") == b":0\r\n"
    # Ages are whole seconds: poll until `old` is more than 1 s old.
    wait_until(lambda: killer.call("CLIENT", "KILL", "ID", old_id, "MAXAGE", "1") == b":1\r\n",
               timeout=10, interval=0.2, what="MAXAGE 1 to kill the old client")
    assert old.closed()


def test_client_kill_errors(server):
    c = Raw(server)
    err_id = b"-ERR client-id should be greater than 0\r\n"
    assert c.call("CLIENT", "KILL") == b"-ERR wrong number of arguments for 'client|kill' command\r\n"
    assert c.call("CLIENT", "KILL", "ID", "str") == err_id
    assert c.call("CLIENT", "KILL", "ID", "0") == err_id
    assert c.call("CLIENT", "KILL", "ID", "-1") == err_id
    assert c.call("CLIENT", "KILL", "ID", "10", "wrong_arg") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", "KILL", "TYPE", "wrong") == b"-ERR Unknown client type 'wrong'\r\n"
    assert c.call("CLIENT", "KILL", "USER", "wrong") == b"-ERR No such user 'wrong'\r\n"
    assert c.call("CLIENT", "KILL", "SKIPME", "maybe") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", "KILL", "BOGUS", "x") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", "KILL", "foo", "bar", "baz") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", "KILL", "MAXAGE", "str") == b"-ERR maxage is not an integer or out of range\r\n"
    assert c.call("CLIENT", "KILL", "MAXAGE", "99999999999999999999") == (
        b"-ERR maxage is not an integer or out of range\r\n")
    assert c.call("CLIENT", "KILL", "MAXAGE", "-1").startswith(b"-ERR maxage should be greater than 0")
    # A bad filter after a matching one kills nobody.
    other = Raw(server)
    other_id = other.call("CLIENT", "ID")[1:-2].decode()
    assert c.call("CLIENT", "KILL", "ID", other_id, "SKIPME", "maybe") == b"-ERR syntax error\r\n"
    assert other.call("PING") == b"+PONG\r\n"


# ---- CLIENT REPLY ----------------------------------------------------------------

def test_client_reply_off_and_on(server, r):
    c = Raw(server)
    c.send("CLIENT", "REPLY", "OFF")
    c.send("SET", "silent", "1")
    c.send("PING", "a")
    assert c.silent()
    assert r.get("silent") == "1"  # executed, just not answered
    assert c.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert c.call("PING", "c") == b"$1\r\nc\r\n"


def test_client_reply_skip_skips_exactly_one(server):
    c = Raw(server)
    c.send("CLIENT", "REPLY", "SKIP")
    c.send("PING", "a")
    assert c.call("PING", "b") == b"$1\r\nb\r\n"
    # SKIP then ON: the ON itself is answered (it clears the skip).
    c.send("CLIENT", "REPLY", "SKIP")
    assert c.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert c.call("PING") == b"+PONG\r\n"
    # SKIP while OFF does nothing.
    c.send("CLIENT", "REPLY", "OFF")
    c.send("CLIENT", "REPLY", "SKIP")
    c.send("PING", "x")
    assert c.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert c.call("PING", "y") == b"$1\r\ny\r\n"


def test_client_reply_errors(server):
    c = Raw(server)
    assert c.call("CLIENT", "REPLY", "maybe") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", "REPLY") == b"-ERR wrong number of arguments for 'client|reply' command\r\n"
    assert c.call("PING") == b"+PONG\r\n"


# ---- CLIENT SETINFO / NO-EVICT / NO-TOUCH / HELP -------------------------------

def test_client_setinfo(server):
    c = Raw(server)
    assert c.call("CLIENT", "SETINFO", "lib-name", "redis.py") == b"+OK\r\n"
    assert c.call("CLIENT", "SETINFO", "LIB-VER", "1.2.3") == b"+OK\r\n"
    f = info_fields(bulk_text(c.call("CLIENT", "INFO")))
    assert f["lib-name"] == "redis.py" and f["lib-ver"] == "1.2.3"
    assert c.call("CLIENT", "SETINFO", "lib-name", "redis py") == (
        b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n")
    assert c.call("CLIENT", "SETINFO", "LIB-VER", "1\n") == (
        b"-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n")
    assert c.call("CLIENT", "SETINFO", "badger", "hamster") == b"-ERR Unrecognized option 'badger'\r\n"
    assert c.call("CLIENT", "SETINFO", "lib-name") == (
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n")
    f = info_fields(bulk_text(c.call("CLIENT", "INFO")))
    assert f["lib-name"] == "redis.py" and f["lib-ver"] == "1.2.3"
    assert c.call("CLIENT", "SETINFO", "lib-name", "") == b"+OK\r\n"
    assert info_fields(bulk_text(c.call("CLIENT", "INFO")))["lib-name"] == ""


@pytest.mark.parametrize("sub,flag", [("NO-EVICT", "e"), ("NO-TOUCH", "T")])
def test_client_no_evict_no_touch(server, sub, flag):
    c = Raw(server)
    assert c.call("CLIENT", sub, "on") == b"+OK\r\n"
    assert flag in info_fields(bulk_text(c.call("CLIENT", "INFO")))["flags"]
    assert c.call("CLIENT", sub, "OFF") == b"+OK\r\n"
    assert info_fields(bulk_text(c.call("CLIENT", "INFO")))["flags"] == "N"
    assert c.call("CLIENT", sub, "wrongInput") == b"-ERR syntax error\r\n"
    assert c.call("CLIENT", sub) == b"-ERR wrong number of arguments for 'client|%s' command\r\n" % sub.lower().encode()


def test_client_help_and_unknown_subcommand(server):
    c = Raw(server)
    helptext = c.call("CLIENT", "HELP")
    assert helptext.startswith(b"*")
    assert b"+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n" in helptext
    for word in (b"KILL", b"LIST", b"SETNAME", b"REPLY (ON|OFF|SKIP)", b"NO-EVICT", b"SETINFO"):
        assert word in helptext
    assert c.call("CLIENT", "foo") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    assert c.call("CLIENT") == b"-ERR wrong number of arguments for 'client' command\r\n"


# ---- command table -------------------------------------------------------------

def parse(reply):
    """Raw RESP reply -> Python values (bytes, ints, lists) for the types used here."""
    def one(pos):
        nl = reply.index(b"\r\n", pos)
        t, head, pos = reply[pos:pos + 1], reply[pos + 1:nl], nl + 2
        if t in b"+-":
            return head, pos
        if t == b":":
            return int(head), pos
        if t == b"$":
            n = int(head)
            return (None, pos) if n < 0 else (reply[pos:pos + n], pos + n + 2)
        if t in b"*~":
            n = int(head)
            out = []
            for _ in range(max(n, 0)):
                v, pos = one(pos)
                out.append(v)
            return out, pos
        raise AssertionError(t)
    v, end = one(0)
    assert end == len(reply)
    return v


def test_command_info_matches_redis(server):
    c = Raw(server)

    def info(name):
        return parse(c.call("COMMAND", "INFO", name))[0]

    hello = info("hello")
    assert hello[1] == -1
    assert set(hello[2]) == {b"noscript", b"loading", b"stale", b"fast", b"no_auth", b"allow_busy"}
    assert set(hello[6]) == {b"@fast", b"@connection"}
    auth = info("auth")
    assert auth[1] == -2 and set(auth[2]) == set(hello[2]) and set(auth[6]) == {b"@fast", b"@connection"}
    for name in ("quit", "reset"):
        assert set(info(name)[2]) == set(hello[2])
    assert info("reset")[1] == 1
    ping = info("ping")
    assert ping[1] == -1 and ping[2] == [b"fast"] and set(ping[6]) == {b"@fast", b"@connection"}
    for name in ("select", "echo"):
        i = info(name)
        assert i[1] == 2 and set(i[2]) == {b"loading", b"stale", b"fast"}
    kill = info("client|kill")
    assert kill[1] == -3
    assert set(kill[2]) == {b"admin", b"noscript", b"loading", b"stale"}
    assert set(kill[6]) == {b"@admin", b"@slow", b"@dangerous", b"@connection"}
    assert info("client|list")[1] == -2
    setname = info("client|setname")
    assert setname[1] == 3 and set(setname[2]) == {b"noscript", b"loading", b"stale"}
    assert set(setname[6]) == {b"@slow", b"@connection"}
    client = info("client")
    assert client[1] == -2 and client[2] == [] and client[6] == [b"@slow"]
    subs = {s[0] for s in client[9]}
    assert {b"client|id", b"client|info", b"client|list", b"client|kill", b"client|setname",
            b"client|getname", b"client|reply", b"client|no-evict", b"client|help"} <= subs


# ---- redis-cli -------------------------------------------------------------------

def test_redis_cli_works(server):
    def cli(*args):
        p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(server.port)] + list(args),
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        return p.stdout

    assert cli("ping") == "PONG\n"
    out = cli("client", "list")
    assert "cmd=client|list" in out and out.startswith("id=")
    assert cli("echo", "hi there") == "hi there\n"
    # RESP3 mode: redis-cli sends HELLO 3 and prints the verbatim text.
    out = cli("-3", "client", "info")
    assert "resp=3" in out and "cmd=client|info" in out


def test_redis_cli_with_password(server_factory):
    s = server_factory("--requirepass", "secret")
    p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(s.port), "--no-auth-warning", "-a", "secret",
                        "ping"], capture_output=True, text=True, timeout=10)
    assert p.stdout == "PONG\n"
    p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(s.port), "ping"],
                       capture_output=True, text=True, timeout=10)
    assert "NOAUTH" in p.stdout + p.stderr


def test_client_info_line_is_whole_for_a_long_user_name(server):
    name = "u" * 2000
    admin = server.client(decode_responses=True)
    admin.execute_command("ACL", "SETUSER", name, "on", "nopass", "+@all", "~*")
    c = server.client(decode_responses=True, username=name, password="x")
    line = c.execute_command("CLIENT", "INFO").strip()
    assert f" user={name} " in line and line.endswith(" tls=no"), line[-200:]
    assert any(l.endswith(" tls=no") and f"user={name}" in l for l in admin.execute_command("CLIENT", "LIST").splitlines())
