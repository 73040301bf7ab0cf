"""cachet-snapshot on real files, and the keyring configuration of the server.

Plain .rdb files come from Debian's redis-server (SAVE in its own directory,
every type, several databases, TTLs). The tool seals them, inspects and
verifies them, and decrypts them back byte for byte; damaged files and wrong
keyrings are refused with a message and a documented exit status, and never
produce an output file. The tool is the server binary run under the name
cachet-snapshot (a symlink here, as `make` creates one next to the server).

Server-side encrypted SAVE/BGSAVE tests belong to the snapshot glue
(snapshot.c), not here; this file checks the keyring parameters the server
accepts or refuses.
"""
import os
import shutil
import socket
import subprocess

import pytest
import redis

from conftest import SERVER_BIN, free_port, wait_until

KEY_A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
KEY_B = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
SECRET = "very-secret-value-0123456789"


def write_keyring(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory with the tool, keyrings, and a plain dump.rdb written by
    redis-server, plus what redis reported about its contents."""
    d = tmp_path_factory.mktemp("snaptool")
    tool = d / "cachet-snapshot"
    os.symlink(os.path.abspath(SERVER_BIN), tool)
    rdir = d / "redis"
    rdir.mkdir()
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(rdir), "--dbfilename", "dump.rdb"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        wait_until(lambda: c.ping(), what="redis-server")
        c.set("plain", SECRET)
        c.set("counter", 12345)
        c.set("ttl", "x", ex=3600)
        c.rpush("list", *[f"e{i}" for i in range(200)])
        c.hset("hash", mapping={f"f{i}": f"v{i}" for i in range(10)})
        c.hset("bighash", mapping={f"f{i}": "v" * 100 for i in range(600)})
        c.sadd("ints", *range(50))
        c.sadd("strs", *[f"m{i}" for i in range(20)])
        c.zadd("zset", {f"z{i}": i * 1.5 for i in range(30)})
        for i in range(3000):  # enough data for several 64 KiB chunks
            c.set(f"k:{i}", f"value-{i}-" + "y" * 40)
        c.select(3)
        c.set("in-db3", "v")
        c.set("in-db3-b", "v")
        c.select(0)
        expect = {0: c.dbsize(), 3: 2}
        c.save()
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ring = write_keyring(d / "ring", f"# test keys\nkey alias/cache-backups {KEY_A}\n"
                                     f"key key-2026-11 {KEY_B}\ndefault alias/cache-backups\n")
    wrong = write_keyring(d / "wrong", f"key alias/cache-backups {KEY_B}\ndefault alias/cache-backups\n")
    other = write_keyring(d / "other", f"key key-2026-11 {KEY_B}\ndefault key-2026-11\n")
    return {"dir": d, "tool": str(tool), "rdb": str(rdir / "dump.rdb"), "ring": ring, "wrong": wrong,
            "other": other, "expect": expect}


def run(work, *args):
    p = subprocess.run([work["tool"], *[str(a) for a in args]], capture_output=True, text=True, timeout=60,
                       cwd=str(work["dir"]))
    for key in (KEY_A, KEY_B):  # key material never reaches the terminal
        assert key not in p.stdout and key not in p.stderr
    return p


def sealed_copy(work, name, *extra):
    out = work["dir"] / name
    p = run(work, "encrypt", work["rdb"], out, "--keyring", work["ring"], *extra)
    assert p.returncode == 0, p.stderr
    return out


def test_help_documents_exit_codes(work):
    p = run(work, "--help")
    assert p.returncode == 0
    for word in ("inspect FILE", "verify FILE", "decrypt IN OUT", "encrypt IN OUT", "--key-id",
                 "Exit status: 0", "1 the snapshot is invalid", "2 usage error", "3 cannot"):
        assert word in p.stdout


@pytest.mark.parametrize("args,msg", [
    ((), "Usage"),
    (("frobnicate", "x"), "unknown command 'frobnicate'"),
    (("inspect",), "inspect takes FILE"),
    (("decrypt", "a", "b"), "decrypt needs --keyring"),
    (("encrypt", "a", "b", "c", "--keyring", "r"), "too many arguments"),
    (("inspect", "a", "--bogus"), "unknown option '--bogus'"),
    (("inspect", "a", "--keyring"), "--keyring needs a value"),
    (("verify", "a", "--key-id", "x"), "--key-id only applies to encrypt"),
])
def test_usage_errors_exit_2(work, args, msg):
    p = run(work, *args)
    assert p.returncode == 2
    assert msg in p.stderr


def test_inspect_plain_rdb_from_redis(work):
    p = run(work, "inspect", work["rdb"])
    assert p.returncode == 0, p.stderr
    assert "format: plain RDB (version 0010)" in p.stdout
    assert f"size: {os.path.getsize(work['rdb'])} bytes" in p.stdout
    exp = work["expect"]
    assert f"keys: db0={exp[0]} db3={exp[3]} (total {exp[0] + exp[3]})" in p.stdout
    assert "checksum: ok" in p.stdout
    assert "status: ok" in p.stdout
    v = run(work, "verify", work["rdb"])
    assert v.returncode == 0, v.stderr
    assert "valid plain snapshot" in v.stdout


def test_encrypt_inspect_verify_decrypt_round_trip(work):
    sealed = sealed_copy(work, "sealed.rdb")
    data = open(sealed, "rb").read()
    assert data.startswith(b"CACHETSEAL\x01")
    assert SECRET.encode() not in data and b"value-17-" not in data
    assert b"alias/cache-backups" in data  # the key id (not the key) is in the clear

    p = run(work, "inspect", sealed)  # header only without a keyring
    assert p.returncode == 0, p.stderr
    assert "format: sealed (CACHETSEAL v1, AES-256-GCM" in p.stdout
    assert "key id: alias/cache-backups" in p.stdout
    assert "contents: not checked" in p.stdout

    p = run(work, "inspect", sealed, "--keyring", work["ring"])
    assert p.returncode == 0, p.stderr
    exp = work["expect"]
    assert f"keys: db0={exp[0]} db3={exp[3]} (total {exp[0] + exp[3]})" in p.stdout
    assert "checksum: ok" in p.stdout
    assert "(all authenticated)" in p.stdout
    assert "status: ok" in p.stdout

    v = run(work, "verify", sealed, "--keyring", work["ring"])
    assert v.returncode == 0, v.stderr
    assert "valid sealed snapshot" in v.stdout

    out = work["dir"] / "decrypted.rdb"
    d = run(work, "decrypt", sealed, out, "--keyring", work["ring"])
    assert d.returncode == 0, d.stderr
    assert open(out, "rb").read() == open(work["rdb"], "rb").read()
    assert os.stat(out).st_mode & 0o077 == 0  # plaintext output is private
    assert not [f for f in os.listdir(work["dir"]) if ".tmp-" in f]


def test_two_encryptions_differ(work):
    a = open(sealed_copy(work, "a.rdb"), "rb").read()
    b = open(sealed_copy(work, "b.rdb"), "rb").read()
    assert len(a) == len(b) and a != b  # fresh salt and nonces


def test_key_id_choice_and_missing_key_id(work):
    sealed = sealed_copy(work, "k2.rdb", "--key-id", "key-2026-11")
    p = run(work, "inspect", sealed)
    assert "key id: key-2026-11" in p.stdout
    # A keyring without that id cannot open it.
    only_a = write_keyring(work["dir"] / "only-a", f"key alias/cache-backups {KEY_A}\n"
                                                   "default alias/cache-backups\n")
    out = work["dir"] / "k2-out.rdb"
    d = run(work, "decrypt", sealed, out, "--keyring", only_a)
    assert d.returncode == 1
    assert "needs key id 'key-2026-11', which is not in the keyring" in d.stderr
    assert not out.exists()
    # The right keyring opens it.
    assert run(work, "verify", sealed, "--keyring", work["other"]).returncode == 0
    # Encrypting with an id the keyring lacks is refused up front.
    e = run(work, "encrypt", work["rdb"], work["dir"] / "x.rdb", "--keyring", only_a, "--key-id", "nope")
    assert e.returncode == 3
    assert "key id 'nope' is not in the keyring" in e.stderr
    assert not (work["dir"] / "x.rdb").exists()


def test_wrong_key_is_refused(work):
    sealed = sealed_copy(work, "w.rdb")
    for cmd in (("verify", sealed), ("inspect", sealed)):
        p = run(work, *cmd, "--keyring", work["wrong"])
        assert p.returncode == 1
        assert "wrong key" in p.stderr and "alias/cache-backups" in p.stderr
    out = work["dir"] / "w-out.rdb"
    d = run(work, "decrypt", sealed, out, "--keyring", work["wrong"])
    assert d.returncode == 1 and "wrong key" in d.stderr
    assert not out.exists()


def test_tampering_is_detected_and_nothing_written(work):
    good = open(sealed_copy(work, "t.rdb"), "rb").read()
    out = work["dir"] / "t-out.rdb"
    out.write_bytes(b"previous contents")  # an existing OUT stays as it was
    hdr_len = 10 + 7 + len("alias/cache-backups") + 32 + 16 + 32
    cases = {
        "header key check": (hdr_len - 32 - 1, "wrong key"),
        "header mac": (hdr_len - 1, "header failed authentication"),
        "a middle chunk": (len(good) // 3, "failed authentication"),
        "last tag": (len(good) - 1, "failed authentication"),
    }
    for name, (pos, msg) in cases.items():
        bad = bytearray(good)
        bad[pos] ^= 0x20
        path = work["dir"] / "tampered.rdb"
        path.write_bytes(bytes(bad))
        v = run(work, "verify", path, "--keyring", work["ring"])
        assert v.returncode == 1, name
        assert msg in v.stderr, (name, v.stderr)
        d = run(work, "decrypt", path, out, "--keyring", work["ring"])
        assert d.returncode == 1, name
        assert msg in d.stderr, (name, d.stderr)
        assert out.read_bytes() == b"previous contents"
    assert not [f for f in os.listdir(work["dir"]) if ".tmp-" in f]


def test_truncation_and_appended_data(work):
    good = open(sealed_copy(work, "tr.rdb"), "rb").read()
    path = work["dir"] / "cut.rdb"
    chunk_rec = 65536 + 32
    hdr_len = 10 + 7 + len("alias/cache-backups") + 32 + 16 + 32
    for cut, msg in ((hdr_len + chunk_rec, "no final chunk was seen"), (len(good) - 10, "is incomplete"),
                     (hdr_len - 5, "header truncated"), (12, "header truncated")):
        path.write_bytes(good[:cut])
        v = run(work, "verify", path, "--keyring", work["ring"])
        assert v.returncode == 1, cut
        assert msg in v.stderr, (cut, v.stderr)
    path.write_bytes(good + b"extra")
    v = run(work, "verify", path, "--keyring", work["ring"])
    assert v.returncode == 1
    assert "data after its final chunk" in v.stderr


def test_corrupt_plain_rdb_fails_verify(work):
    data = bytearray(open(work["rdb"], "rb").read())
    data[-3] ^= 0xFF  # inside the CRC64 trailer
    path = work["dir"] / "badcrc.rdb"
    path.write_bytes(bytes(data))
    v = run(work, "verify", path)
    assert v.returncode == 1
    assert v.stderr.strip()


def test_refuses_wrong_inputs(work):
    junk = work["dir"] / "junk.bin"
    junk.write_bytes(b"hello world, not a snapshot")
    p = run(work, "verify", junk)
    assert p.returncode == 1 and "not a snapshot" in p.stderr
    e = run(work, "encrypt", junk, work["dir"] / "j.rdb", "--keyring", work["ring"])
    assert e.returncode == 1 and "not an RDB file" in e.stderr
    sealed = sealed_copy(work, "s2.rdb")
    e = run(work, "encrypt", sealed, work["dir"] / "j.rdb", "--keyring", work["ring"])
    assert e.returncode == 1 and "already sealed" in e.stderr
    d = run(work, "decrypt", work["rdb"], work["dir"] / "j.rdb", "--keyring", work["ring"])
    assert d.returncode == 1 and "not a sealed snapshot (it is a plain RDB already)" in d.stderr
    m = run(work, "inspect", work["dir"] / "missing.rdb")
    assert m.returncode == 3 and "can't open" in m.stderr
    v = run(work, "verify", sealed)
    assert v.returncode == 2 and "verify needs --keyring" in v.stderr
    assert not (work["dir"] / "j.rdb").exists()


@pytest.mark.parametrize("text,mode,msg", [
    (f"key a {KEY_A}\ndefault a\n", 0o644, "accessible by other users (mode 0644)"),
    (f"key a {KEY_A[:-2]}zz\ndefault a\n", 0o600, ":1: key 'a' is not valid hex"),
    (f"key a {KEY_A}\n", 0o600, "missing 'default <id>' line"),
    (f"key a {KEY_A}\nkey a {KEY_B}\ndefault a\n", 0o600, ":2: duplicate key id 'a'"),
])
def test_bad_keyring_exit_3(work, text, mode, msg):
    ring = write_keyring(work["dir"] / "badring", text, mode)
    p = run(work, "encrypt", work["rdb"], work["dir"] / "never.rdb", "--keyring", ring)
    assert p.returncode == 3
    assert msg in p.stderr
    assert not (work["dir"] / "never.rdb").exists()


# ---- the server's keyring parameters ----------------------------------------

def start_fails(tmp_path, *args):
    p = subprocess.run([SERVER_BIN, "--port", str(free_port()), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                        *args], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    return p.stdout + p.stderr


@pytest.mark.parametrize("text,mode,extra,msg", [
    (f"key a {KEY_A}\ndefault a\n", 0o604, (), "accessible by other users"),
    (f"key a {KEY_A[:10]}\ndefault a\n", 0o600, (), "must be 64 hex digits"),
    (f"key a {KEY_A}\ndefault b\n", 0o600, (), "default key id 'b' is not defined"),
    (f"key a {KEY_A}\ndefault a\n", 0o600, ("--snapshot-encryption-key-id", "zz"),
     "snapshot-encryption-key-id 'zz' is not in the keyring"),
])
def test_server_refuses_bad_keyring_at_start(tmp_path, text, mode, extra, msg):
    ring = write_keyring(tmp_path / "ring", text, mode)
    out = start_fails(tmp_path, "--keyring-file", ring, *extra)
    assert msg in out
    assert KEY_A not in out


def test_server_refuses_encryption_without_keyring(tmp_path):
    assert "snapshot-encryption yes needs a keyring-file" in start_fails(tmp_path, "--snapshot-encryption", "yes")
    assert "can't open keyring file" in start_fails(tmp_path, "--keyring-file", str(tmp_path / "nope"))


def test_server_keyring_config(server_factory, tmp_path):
    ring = write_keyring(tmp_path / "ring", f"key alias/cache-backups {KEY_A}\nkey key-2026-11 {KEY_B}\n"
                                            "default alias/cache-backups\n")
    s = server_factory("--keyring-file", ring, "--snapshot-encryption", "yes")
    r = s.client(decode_responses=True)
    assert r.config_get("keyring-file") == {"keyring-file": ring}
    assert r.config_get("snapshot-encryption") == {"snapshot-encryption": "yes"}
    assert r.config_get("snapshot-encryption-key-id") == {"snapshot-encryption-key-id": ""}
    assert r.config_set("snapshot-encryption-key-id", "key-2026-11")
    assert r.config_get("snapshot-encryption-key-id")["snapshot-encryption-key-id"] == "key-2026-11"
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("snapshot-encryption-key-id", "alias/unknown")
    assert "key id is not in the keyring" in str(e.value)
    assert r.config_get("snapshot-encryption-key-id")["snapshot-encryption-key-id"] == "key-2026-11"
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("keyring-file", "/tmp/other")
    assert "can't set immutable config" in str(e.value)
    everything = str(r.config_get("*")) + str(r.info("everything"))
    assert KEY_A not in everything and KEY_B not in everything
    assert r.config_set("snapshot-encryption", "no")
    assert s.alive()
    assert KEY_A not in s.log() and KEY_B not in s.log()
    assert "Keyring" in s.log() and "default key id 'alias/cache-backups'" in s.log()


def test_server_encryption_needs_keyring_at_runtime(server):
    r = server.client(decode_responses=True)
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("snapshot-encryption", "yes")
    assert "snapshot-encryption needs a keyring-file" in str(e.value)
    assert r.config_get("snapshot-encryption") == {"snapshot-encryption": "no"}
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("snapshot-encryption-key-id", "a")
    assert "no keyring-file is set" in str(e.value)
