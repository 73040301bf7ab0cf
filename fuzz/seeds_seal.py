#!/usr/bin/python3
"""fuzz/seeds_seal.py BUILD - writes the seed corpus fuzz/corpus/seal/ for
fuzz/fuzz_seal.c. Sealed files come from the real tool
(BUILD/cachet-snapshot encrypt) over the small RDB seeds in fuzz/corpus/rdb,
with the harness' two keys, a wrong key for one of its ids, and an id it does
not hold. Re-run after changing the harness' input layout; the output is
committed. The first byte of every seed is the harness mode: 0 open a file,
1 seal / mutate / read back, 2 seal an RDB and load it."""
import os, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
KEY_B = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
KEY_X = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def rdb(name):
    with open(os.path.join(HERE, "corpus", "rdb", name), "rb") as f:
        return f.read()


def seal(tool, tmp, data, ring_text, key_id=None):
    ring = os.path.join(tmp, "ring")
    with open(ring, "w") as f:
        f.write(ring_text)
    os.chmod(ring, 0o600)
    src, dst = os.path.join(tmp, "in.rdb"), os.path.join(tmp, "out.rdb")
    with open(src, "wb") as f:
        f.write(data)
    if os.path.exists(dst):
        os.unlink(dst)
    cmd = [tool, "encrypt", src, dst, "--keyring", ring] + (["--key-id", key_id] if key_id else [])
    subprocess.run(cmd, check=True, capture_output=True)
    with open(dst, "rb") as f:
        return f.read()


def mode_b(plain, key=0, style=0, chunk=1024, repeat=1, wpiece=0, rsz=4096, muts=(), full=0):
    """Mode 1: flags (key, read style, full-disk sink 8, abort 16), chunk
    (le16, +1000), repeat, write piece, read piece (the full-disk limit / 4
    when flag 8), mutation count, 4 mutations of (op, pos le16, arg le16),
    plaintext."""
    p = bytes([key | style << 1 | full]) + struct.pack("<H", chunk - 1000) + bytes([repeat - 1])
    p += struct.pack("<HH", wpiece, rsz - 1) + bytes([len(muts)])
    for i in range(4):
        op, pos, arg = muts[i] if i < len(muts) else (0, 0, 0)
        p += bytes([op]) + struct.pack("<HH", pos, arg)
    assert len(p) == 29
    return b"\x01" + p + plain


def mode_c(payload, key=0, chunk=1024, wpiece=0):
    return b"\x02" + bytes([key]) + struct.pack("<HH", chunk - 1024, wpiece) + payload


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    tool = os.path.abspath(os.path.join(build, "cachet-snapshot"))
    ring = f"key fuzz-a {KEY_A}\nkey alias/fuzz-b {KEY_B}\ndefault fuzz-a\n"
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        small = rdb("redis70-small.snapshot")
        a = seal(tool, tmp, small, ring)
        seeds["a-sealed-fuzz-a"] = b"\x00" + a
        seeds["a-sealed-fuzz-b"] = b"\x00" + seal(tool, tmp, rdb("cachet-save-nock.snapshot"), ring, "alias/fuzz-b")
        seeds["a-wrong-key"] = b"\x00" + seal(tool, tmp, rdb("redis70-lru.snapshot"),
                                             f"key fuzz-a {KEY_X}\ndefault fuzz-a\n")
        seeds["a-unknown-id"] = b"\x00" + seal(tool, tmp, rdb("redis70-lfu.snapshot"),
                                              f"key other:key@1 {KEY_A}\ndefault other:key@1\n")
        seeds["a-header-only"] = b"\x00" + a[:10 + 7 + 6 + 80]
        seeds["a-short-header"] = b"\x00" + a[:20]
        seeds["a-trailing-byte"] = b"\x00" + a + b"\x00"
        seeds["a-plain-rdb"] = b"\x00" + small
    text = b"The quick brown fox jumps over the lazy dog. 0123456789\n" * 20  # 1140 bytes
    seeds["b-empty"] = mode_b(b"")
    seeds["b-one-chunk"] = mode_b(b"hello, sealed world", key=1)
    seeds["b-exact-chunks"] = mode_b(b"x" * 1024, repeat=3, style=1, rsz=700)
    seeds["b-many-chunks"] = mode_b(text, chunk=1100, repeat=9, wpiece=333, style=2, rsz=4096)
    seeds["b-refused-chunk"] = mode_b(b"abc", chunk=1000)
    for op, name in enumerate(["flip", "truncate", "drop", "dup", "swap", "header", "append", "lenword", "splice"]):
        seeds["b-mut-" + name] = mode_b(text, chunk=1024 + op * 100, repeat=4, key=op & 1, style=op % 3,
                                        muts=[(op, 1000 + op * 37, 1 + op)])
    seeds["b-full-disk"] = mode_b(text, repeat=3, wpiece=500, rsz=600, full=8)
    seeds["b-full-disk-abort"] = mode_b(text, repeat=3, rsz=300, full=8 | 16)
    seeds["b-mut-multi"] = mode_b(text, repeat=6, muts=[(2, 1, 0), (3, 0, 2), (4, 1, 3), (0, 500, 0x80)])
    for name in ("redis70-small.snapshot", "cachet-save-small.snapshot", "redis70-lru.snapshot",
                 "cachet-save-nock.snapshot"):
        seeds["c-" + name.replace(".snapshot", "")] = mode_c(rdb(name), key=len(name) & 1)
    seeds["c-trailing"] = mode_c(rdb("cachet-save-nock.snapshot") + b"junk", chunk=2048, wpiece=7)
    seeds["c-truncated"] = mode_c(rdb("redis70-small.snapshot")[:150])
    d = os.path.join(HERE, "corpus", "seal")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {d}")


if __name__ == "__main__":
    main()
