#!/usr/bin/python3
"""fuzz/seeds.py - writes the checked-in seed corpora fuzz/corpus/NAME/ and the
dictionaries fuzz/NAME.dict. Re-run after changing it; the output is
committed so `make fuzz` needs no Python. Seeds are small and cover each
grammar; the fuzzers grow their own corpora under build-fuzz/corpus/."""
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))

def put(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for i, s in enumerate(seeds):
        if isinstance(s, str):
            s = s.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as fp:
            fp.write(s)

def dict_file(name, words):
    with open(os.path.join(HERE, name + ".dict"), "w") as fp:
        for w in sorted(set(words)):
            esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c) for c in w)
            fp.write('"%s"\n' % esc)

def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

# ---- resp: flags byte, split offsets, stream ----
def resp_seed(stream, splits=(), flags=0):
    flags = (flags & 3) | (len(splits) << 2)
    return bytes([flags]) + b"".join(struct.pack("<H", s) for s in splits) + stream

streams = [
    resp("PING"),
    resp("SET", "key", "value") + resp("GET", "key"),
    resp("SET", "k", b"\x00\r\n\xff" * 5) + b"PING\r\n",
    b"*0\r\n*-1\r\n" + resp("ECHO", ""),
    b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$-1\r\n",
    b"*2\r\n$3\r\nGET\r\n:1\r\n",
    b"*99999999999\r\n",
    b"*1\r\n$0100\r\n",
    b"PING\r\nSET \"a b\" 'c'\r\n\r\nGET a\n",
    b"*1\r\n$4\r\nPI",
    resp(*["arg%d" % i for i in range(40)]),
]
put("resp", [resp_seed(s) for s in streams] +
    [resp_seed(streams[1], (3, 9, 17)), resp_seed(streams[4], (1, 2, 30), 1),
     resp_seed(streams[11], (50, 51, 200, 201), 2), resp_seed(streams[9], (4, 5, 20))])
dict_file("resp", ["*", "$", "\r\n", "*1\r\n", "$0\r\n", "*-1\r\n", "$-1\r\n", "\"", "'", "\\x", "PING"])

# ---- inline ----
put("inline", [
    'SET "a b" \'c\\\'d\' "\\x41\\n"',
    "GET key",
    '"\\r\\n\\t\\b\\a\\z" x',
    "'unterminated",
    '"close"x',
    "a\"b c\" d",
    "  many   spaces\tand\ttabs  ",
    '"\\x4g" "\\xff"',
    "",
])
dict_file("inline", ["\"", "'", "\\x", "\\n", "\\'", " ", "\t", "\\"])

# ---- config ----
conf_lines = []
try:
    for line in open("/etc/redis/redis.conf", errors="replace"):
        line = line.strip()
        if line and not line.startswith("#"):
            conf_lines.append(line)
except OSError:
    pass
config_seeds = [
    "port 7000\nbind 127.0.0.1 -::1\nsave 900 1 300 10\nsave 60 10000\n",
    "maxmemory 100mb\nmaxmemory-policy allkeys-lru\nmaxmemory-samples 10\n",
    "requirepass \"p@ss w\\x00rd\"\nuser alice on >secret ~cache:* &chan +@read -debug\n",
    "client-output-buffer-limit normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60\n",
    "client-output-buffer-limit \"pubsub 1mb 1kb 10\"\nbind \"127.0.0.1 ::1\"\nsave \"\"\n",
    "tls-mode preferred\ntls-port 0\ntls-cert-file /nonexistent\ntls-auth-clients optional\n",
    "hash-max-ziplist-entries 128\nzset-max-listpack-value 32\nlist-max-listpack-size -3\nhz 1000\n",
    "loglevel verbose\ndatabases 4\nproto-max-bulk-len 1mb\nclient-query-buffer-limit 2gb\n",
    "dbfilename a/b.rdb\n",
    "appendonly yes\n",
    "user default off resetpass nopass\nuser bob reset on #" + "a" * 64 + " %R~r:* %W~w:*\n",
    "snapshot-encryption yes\nkeyring-file \"\"\nsnapshot-encryption-key-id k1\n",
    "# comment\n\n   \t  \nunknown-directive 1\n",
    "save 'unbalanced\n",
]
if conf_lines:
    config_seeds.append("\n".join(conf_lines[:40]) + "\n")
put("config", config_seeds)
params = []
src = open(os.path.join(HERE, "..", "src", "config.c")).read()
import re
params = re.findall(r'(?:BOOLP|NUMP|ENUMP|STRP|SPECIALP)\("([a-z-]+)"', src)
params += re.findall(r'\.alias = "([a-z-]+)"', src)
dict_file("config", params + ["user", "yes", "no", "mb", "gb", "kb", "\"", "'", "\n", "on", "off", "nopass",
                               "~*", "&*", "+@all", "-@all", "allkeys-lru", "preferred", "required"])

# ---- acl: mode byte then payload ----
acl_rules = [
    "alice on >pass ~* &* +@all",
    "bob on nopass ~cache:* %R~ro:* %W~wo:* &news.* +@read +@write -flushall",
    "carol off resetpass #" + "0" * 64 + " -@all +get +config|get",
    "dave reset on >a >b <a allkeys allchannels allcommands",
    "eve on >x ~a* ~b? ~c[de] resetkeys ~*",
    "default on nopass ~* &* +@all",
    "frank on +@all -@dangerous +debug|digest",
    "greg on >p ~\"spaced key\" +acl|whoami",
    "hank on >p -@all +@hash +@set +@sortedset +@list +@string +@pubsub",
]
acl_files = [
    "user default on nopass ~* &* +@all\nuser alice on >pw ~k:* +get\n",
    "user default off\nuser bob on nopass ~* +@all\n",
    "user alice on >pw\nuser alice on\n",
    "user bad on +nosuchcommand\n",
    "not a user line\n",
    "user x on 'unbalanced\n",
]
globs = [
    "h?llo\x00hello", "h*llo\x00heeeello", "h[ae]llo\x00hallo", "h[^e]llo\x00hbllo", "h[a-b]llo\x00hcllo",
    "\\*\x00*", "[\x00[", "*a*b*c*d*e*\x00aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "[\\]]\x00]", "[z-a]\x00m", "*\x00", "\x00", "user:[0-9]*\x00user:42",
]
# Mode 3: command byte, two key-count bytes, "patterns | key material".
key_counts = [
    bytes([3, 0x01, 0x2c]) + b"app:* ab? | app:1app:2app:3secretapp:4",
    bytes([8, 0x07, 0xcf]) + b"k* | kkkkkkkkkkkkkkkkkkkkx",
    bytes([13, 0x00, 0x10]) + b"[a-]* *\\x | ]]]a-xyz",
]
# Mode 4: up to four user lines, saved and loaded back.
save_loads = [
    b"it's on >pw ~it's:* &o\"k +get\nbig on " + b" ".join(b"~p:%d:*" % i for i in range(300)) +
    b" +@all -@hash\nz on \"#" + b"a" * 64 + b"\" resetchannels &x +@set -sadd",
    b'n on ">a\\x00b" ~k* +@read +config|get',
]
put("acl", [b"\x00" + s.encode() for s in acl_rules] + [b"\x01" + s.encode() for s in acl_files] +
    [b"\x02" + s.encode() for s in globs] + [b"\x03" + s for s in key_counts] + [b"\x04" + s for s in save_loads])
dict_file("acl", ["on", "off", "nopass", "resetpass", "reset", "resetkeys", "resetchannels", "allkeys",
                  "allchannels", "allcommands", "nocommands", "~", "%R~", "%W~", "%RW~", "&", ">", "<", "#", "!",
                  "+@all", "-@all", "+@", "-@", "|", "*", "?", "[", "]", "^", "-", "\\", "user ", "\n",
                  "read", "write", "dangerous", "admin", "keyspace", "pubsub", "get", "set", "config",
                  "sanitize-payload", "skip-sanitize-payload"])


# ---- server: command streams (RESP and inline) of every type ----
def stream(*cmds):
    return b"".join(resp(*c) for c in cmds)

server_seeds = [
    stream(["PING"], ["ECHO", "hi"], ["SET", "k", "v", "EX", "100"], ["GET", "k"], ["APPEND", "k", "x"],
           ["INCR", "n"], ["INCRBYFLOAT", "f", "1.5"], ["SETRANGE", "k", "10", "y"], ["GETRANGE", "k", "0", "-1"],
           ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b", "c"], ["GETEX", "a", "PERSIST"], ["LCS", "a", "b"],
           ["STRLEN", "k"], ["GETDEL", "b"], ["SETNX", "a", "x"], ["DECRBY", "n", "7"]),
    stream(["LPUSH", "l", "a", "b", "c"], ["RPUSH", "l", "1", "2"], ["LRANGE", "l", "0", "-1"],
           ["LINSERT", "l", "BEFORE", "a", "z"], ["LPOS", "l", "a"], ["LMOVE", "l", "m", "LEFT", "RIGHT"],
           ["LSET", "l", "0", "q"], ["LREM", "l", "0", "a"], ["LTRIM", "l", "0", "1"], ["LMPOP", "2", "l", "m", "LEFT"],
           ["BLPOP", "nolist", "0.01"], ["RPOPLPUSH", "m", "l"], ["LINDEX", "l", "-1"]),
    stream(["HSET", "h", "f", "v", "g", "1"], ["HINCRBY", "h", "g", "5"], ["HINCRBYFLOAT", "h", "g", "0.5"],
           ["HGETALL", "h"], ["HRANDFIELD", "h", "-5", "WITHVALUES"], ["HSCAN", "h", "0", "MATCH", "*"],
           ["HDEL", "h", "f"], ["HSTRLEN", "h", "g"], ["HMGET", "h", "f", "g"]),
    stream(["SADD", "s", "1", "2", "3"], ["SADD", "t", "a", "2"], ["SINTER", "s", "t"], ["SUNIONSTORE", "u", "s", "t"],
           ["SDIFF", "s", "t"], ["SPOP", "s", "2"], ["SRANDMEMBER", "t", "-3"], ["SMOVE", "t", "s", "a"],
           ["SINTERCARD", "2", "s", "t", "LIMIT", "1"], ["SSCAN", "u", "0", "COUNT", "1"], ["SMISMEMBER", "s", "1", "9"]),
    stream(["ZADD", "z", "1", "a", "2", "b", "-inf", "c"], ["ZADD", "z", "XX", "CH", "INCR", "5", "a"],
           ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"],
           ["ZRANGEBYLEX", "z", "-", "+"], ["ZUNIONSTORE", "o", "2", "z", "s", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"],
           ["ZPOPMIN", "z"], ["BZPOPMAX", "z", "0.01"], ["ZRANK", "z", "b"], ["ZREMRANGEBYSCORE", "z", "-inf", "(2"],
           ["ZRANDMEMBER", "o", "3", "WITHSCORES"], ["ZMPOP", "1", "o", "MIN", "COUNT", "2"], ["ZINTERCARD", "2", "z", "o"]),
    stream(["SET", "k", "v"], ["EXPIRE", "k", "100"], ["TTL", "k"], ["PEXPIREAT", "k", "1"], ["EXISTS", "k"],
           ["SET", "a", "1"], ["RENAME", "a", "b"], ["COPY", "b", "c", "DB", "1"], ["MOVE", "c", "2"], ["TYPE", "b"],
           ["KEYS", "*"], ["SCAN", "0", "MATCH", "b*", "TYPE", "string"], ["RANDOMKEY"], ["DUMP", "b"],
           ["OBJECT", "ENCODING", "b"], ["DEL", "b"], ["SELECT", "3"], ["SWAPDB", "0", "3"], ["FLUSHDB"], ["DBSIZE"]),
    stream(["MULTI"], ["SET", "x", "1"], ["INCR", "x"], ["EXEC"], ["WATCH", "x"], ["MULTI"], ["GET", "x"], ["DISCARD"],
           ["MULTI"], ["NOSUCHCMD"], ["EXEC"], ["UNWATCH"]),
    stream(["SUBSCRIBE", "c1", "c2"], ["PSUBSCRIBE", "c*"], ["PING"], ["PUBLISH", "c1", "m"], ["UNSUBSCRIBE"],
           ["PUNSUBSCRIBE"], ["SSUBSCRIBE", "s1"], ["SPUBLISH", "s1", "x"], ["PUBSUB", "CHANNELS"], ["PUBSUB", "NUMPAT"]),
    stream(["HELLO", "3"], ["HGETALL", "h"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["SMEMBERS", "s"],
           ["CLIENT", "SETNAME", "fz"], ["CLIENT", "INFO"], ["CLIENT", "LIST"], ["CLIENT", "REPLY", "OFF"], ["PING"],
           ["CLIENT", "REPLY", "ON"], ["RESET"], ["HELLO", "2", "SETNAME", "x"]),
    stream(["ACL", "SETUSER", "u", "on", ">p", "~k*", "+@read", "+set"], ["AUTH", "u", "p"], ["GET", "k1"],
           ["SET", "other", "1"], ["ACL", "WHOAMI"], ["ACL", "LOG"], ["AUTH", "default", "x"], ["ACL", "LIST"],
           ["ACL", "DRYRUN", "u", "set", "k", "v"], ["ACL", "CAT", "read"], ["ACL", "GETUSER", "u"], ["ACL", "DELUSER", "u"]),
    stream(["INFO"], ["INFO", "everything"], ["CONFIG", "GET", "*"], ["COMMAND", "COUNT"], ["COMMAND", "INFO", "get"],
           ["COMMAND", "DOCS", "set"], ["COMMAND", "GETKEYS", "mset", "a", "b"], ["SLOWLOG", "GET"], ["LATENCY", "DOCTOR"],
           ["MEMORY", "USAGE", "k"], ["MEMORY", "STATS"], ["TIME"], ["DEBUG", "OBJECT", "k"], ["OBJECT", "FREQ", "k"]),
    b"PING\r\nSET \"a b\" 'c d'\r\nGET \"a b\"\r\n\r\n  \r\nQUIT\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-5\r\n",
    b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n",
    stream(["RESTORE", "r", "0", open(os.path.join(HERE, "corpus", "rdb", "dump-z"), "rb").read()
            if os.path.exists(os.path.join(HERE, "corpus", "rdb", "dump-z")) else "x"], ["ZRANGE", "r", "0", "-1"]),
]
put("server", server_seeds)
names = re.findall(r'\.name = "([a-z|-]+)"', "".join(open(os.path.join(HERE, "..", "src", f)).read()
                   for f in os.listdir(os.path.join(HERE, "..", "src")) if f.endswith(".c")))
dict_file("server", names + [n.upper() for n in names] + ["\r\n", "*", "$", "EX", "PX", "NX", "XX", "GT", "LT",
          "CH", "INCR", "WITHSCORES", "LIMIT", "COUNT", "MATCH", "TYPE", "BYSCORE", "BYLEX", "REV", "LEFT", "RIGHT",
          "BEFORE", "AFTER", "KEEPTTL", "GET", "PERSIST", "EXAT", "PXAT", "AGGREGATE", "WEIGHTS", "WITHVALUES",
          "-inf", "+inf", "(", "[", "-", "+", "0", "-1", "1.5", "nan", "9223372036854775807", "-9223372036854775808"])

# ---- sniffer: mode/flags byte, then what the peer sends ----
def client_hellos():
    """Real ClientHellos from openssl s_client (TLS 1.3 and 1.2), captured on a
    loopback socket; none when openssl is missing."""
    import socket, subprocess
    out = []
    for extra in ([], ["-tls1_2"]):
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        try:
            p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                  "-servername", "localhost"] + extra,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            ls.close()
            return out
        ls.settimeout(5)
        try:
            c, _ = ls.accept()
            c.settimeout(1)
            data = b""
            try:
                while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            c.close()
            if data:
                out.append(data)
        except socket.timeout:
            pass
        p.kill()
        p.wait()
        ls.close()
    return out

hellos = client_hellos()
sniff = []
for h in hellos:
    sniff += [bytes([1]) + h, bytes([2]) + h, bytes([0]) + h, bytes([1 | 8]) + h, bytes([1 | 4]) + h]
sniff += [bytes([m]) + resp("PING") for m in (0, 1, 2, 5)]
sniff += [bytes([1]) + b"PING\r\n", bytes([2 | 4]) + b"GET k\r\n", bytes([1]) + b"\x16", bytes([1 | 4]) + b"\x16\x03\x01",
          bytes([1]) + b"\x16\x03\x01\x00\x05hello", bytes([4]), bytes([1 | 8]) + resp("SET", "a", "b") + resp("GET", "a")]
put("sniffer", sniff)

# ---- modeswitch: flags byte, then NUL-separated parts (fuzz_modeswitch.c) ----
big = b"SETRANGE big 300000 x\r\nGET big\r\nGET big\r\n"
put("modeswitch", [
    bytes([1 | 16]) + b"SUBSCRIBE ch\r\n\x00" + big + b"BLPOP l 0\r\n\x00PSUBSCRIBE c*\r\n\x00\x00"
    b"PUBLISH ch hello\r\nLPUSH l a\r\nRPUSH l b\r\n\x00PING\r\nLPOP l\r\n",
    bytes([2]) + b"MULTI\r\nSET a 1\r\n\x00" + big + b"\x00SSUBSCRIBE s\r\n\x00BLMOVE l2 l3 LEFT RIGHT 0\r\n\x00"
    b"SPUBLISH s x\r\nLPUSH l2 z\r\n\x00EXEC\r\n",
    bytes([4 | 8]) + big + b"SUBSCRIBE ch\r\n\x00BZPOPMIN z 0\r\n\x00\x00\x00ZADD z 1 m\r\nPUBLISH ch m\r\n\x00SUBSCRIBE ch\r\n",
    bytes([0]) + b"\x00\x00\x00\x00PUBLISH ch x\r\n\x00PING\r\n",
])

# ---- certname: capacity byte, then [selector, string type, length, bytes] entries ----
def cn_entry(sel, typ, val):
    return bytes([sel | (16 if len(val) > 255 else 0), typ, len(val) & 255]) + val
put("certname", [
    bytes([64]) + cn_entry(2, 0, b"x") + cn_entry(0, 0, b"admin"),
    bytes([64]) + cn_entry(0, 0, b"admin\x00.tenant7"),
    bytes([64]) + cn_entry(0, 0, b"admin") + cn_entry(1, 1, b"guest"),
    bytes([255]) + cn_entry(2, 0, b"org") + cn_entry(8, 0, b"admin"),
    bytes([255]) + cn_entry(0, 0, b"a" * 300),
    bytes([64]) + cn_entry(0, 4, b"\x00a\x00d\x00m\x00i\x00n"),
])
