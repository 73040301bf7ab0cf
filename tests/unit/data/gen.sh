#!/bin/sh
# gen.sh - regenerates the Redis 7.0 RDB files test_rdb.c loads, with
# Debian's redis-server (7.0.x). Run from anywhere: ./tests/unit/data/gen.sh
# Files:
#   redis70-all.rdb   every type in every encoding Redis 7.0 writes (listpack,
#                     quicklist incl. PLAIN nodes, intset, hashtable,
#                     skiplist), LZF and int-encoded strings, TTLs, an already
#                     expired key, keys in DB 0 and DB 3.
#   redis70-lru.rdb   maxmemory-policy allkeys-lru: IDLE opcodes.
#   redis70-lfu.rdb   maxmemory-policy allkeys-lfu: FREQ opcodes.
#   redis70-nock.rdb  rdbcompression no, rdbchecksum no (CRC trailer 0).
set -e
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
port=${PORT:-23791}
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT

start() { # extra args
    redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        --enable-debug-command yes "$@" >"$work/log" 2>&1 &
    pid=$!
    for i in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "redis-server did not start"; cat "$work/log"; exit 1
}
stop() { redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; wait $pid 2>/dev/null || true; rm -f "$work/dump.rdb"; }
c() { redis-cli -p $port "$@" >/dev/null; }

# ---- redis70-all.rdb
start
c debug set-active-expire 0
c debug quicklist-packed-threshold 1000
c set str:small hello
c set str:int 12345
c set str:neg -7
c set str:bigint 12345678901234
c set str:empty ""
c set str:lzf "$(printf 'abcdefghij%.0s' $(seq 20))"
c set str:ttl v pxat 4102444800000
c set str:expired gone px 1
c rpush list:small a b 1 2 -3 longer-element
c eval "for i=1,1000 do redis.call('rpush', KEYS[1], 'item-'..i) end" 1 list:big
c rpush list:plain head "$(printf 'P%.0s' $(seq 2000))" tail
c sadd set:int 1 2 3 -5 100000
c sadd set:int64 5 9223372036854775807 -9223372036854775808
c sadd set:str a b c
c eval "for i=1,600 do redis.call('sadd', KEYS[1], i) end" 1 set:bigint
c zadd zset:small 1 a 2.5 b -3 c inf d 0 e
c eval "for i=1,200 do redis.call('zadd', KEYS[1], i/4, 'm'..i) end" 1 zset:big
c hset hash:small f1 v1 f2 123 f3 "" 7 seven
c eval "for i=1,600 do redis.call('hset', KEYS[1], 'field'..i, 'value'..i) end" 1 hash:big
c hset hash:longval a "$(printf 'L%.0s' $(seq 100))"
c pexpireat hash:small 4102444800000

c -n 3 set db3:str three
c -n 3 rpush db3:list x y z
c -n 3 sadd db3:set q
sleep 0.1
c save
cp "$work/dump.rdb" "$here/redis70-all.rdb"
stop

# ---- redis70-lru.rdb / redis70-lfu.rdb
for pol in lru lfu; do
    start --maxmemory-policy allkeys-$pol
    c set k1 v1
    c rpush k2 a b
    c save
    cp "$work/dump.rdb" "$here/redis70-$pol.rdb"
    stop
done

# ---- redis70-nock.rdb
start --rdbcompression no --rdbchecksum no
c set str:lzf "$(printf 'abcdefghij%.0s' $(seq 20))"
c hset h a 1
c save
cp "$work/dump.rdb" "$here/redis70-nock.rdb"
stop
ls -l "$here"/*.rdb
