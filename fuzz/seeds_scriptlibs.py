#!/usr/bin/python3
"""fuzz/seeds_scriptlibs.py - writes the seed corpus fuzz/corpus/scriptlibs/
for fuzz/fuzz_scriptlibs.c: a script selector byte, then ARGV[1] NUL ARGV[2].
Selectors 0-3 take MessagePack input (cmsgpack.unpack, unpack_limit,
unpack_one, unpack then pack again); 4-7 a struct format then its data
(unpack, unpack from position 3, pack, size). Re-run after changing the
harness' input layout; the output is committed."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

MSGPACK = [
    b"\x93\x01\xa1a\xc3",
    b"\x82\xa1a\x01\xa1b\x92\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18\xc0",
    b"\xcc\x80\xcd\x01\x00\xce\xff\xff\xff\xff\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
    b"\xd0\x80\xd1\x80\x00\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\xff\xff\xff\xff\xe0\x7f",
    b"\xd9\x03abc\xda\x00\x01x\xdb\x00\x00\x00\x01y\xdc\x00\x01\xc2\xdd\x00\x00\x00\x00\xde\x00\x00\xdf\x00\x00\x00\x00",
    b"\xca\x3f\xc0\x00\x00\x91\x91\x91\x91\x80",
    b"\xc1",
    b"\xcd\x01",
]
STRUCT = [
    (b"<bBhHlLiIfd", bytes(range(40))),
    (b">i3I5c2s", b"\x01\x02\x03" + b"\xff" * 5 + b"ab" + b"str\x00"),
    (b"!4 b i !8 d", bytes(24)),
    (b"Bc0", b"\x03abc"),
    (b"xxi16", b"\x01" * 20),
    (b"q", b""),
    (b"!3", b""),
]


def main():
    d = os.path.join(HERE, "corpus", "scriptlibs")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    seeds = [bytes([k]) + m for m in MSGPACK for k in range(4)]
    seeds += [bytes([k]) + f + b"\x00" + data for f, data in STRUCT for k in range(4, 8)]
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as fp:
            fp.write(s)


if __name__ == "__main__":
    main()
