"""Applications built on scripts, run the same way against Cachet and
Debian's redis-server 7.0 with every reply compared: a job queue in the
style BullMQ and Sidekiq build theirs (Lua over lists, sorted sets, hashes
and a stream of events read by a consumer group), a sliding-window rate
limiter, and redis-py's Lock.

The driver is seeded and uses a simulated clock passed to the scripts as an
argument, so both servers see exactly the same commands; stream entry ids
are derived from a counter for the same reason. Cachet is driven over
plaintext and over TLS; the reference over plaintext (the reference's
transport does not change what it answers).
"""
import os
import random

import pytest
import redis

from conftest import Server
from test_scripting import RATE_LIMITER  # the limiter test_scripting runs on Cachet alone
from tlsutil import tls_client

REDIS_BIN = "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_BIN), reason="redis-server 7.0 not installed")


def tls_args(certs):
    return ("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"], "--tls-auth-clients", "no")


@pytest.fixture
def pair(server_factory, tls_certs, tmp_path, request):
    """(cachet client, reference client) for the transport under test."""
    cachet = server_factory("--save", "", *tls_args(tls_certs))
    d = tmp_path / "redis"
    d.mkdir()
    ref = Server(d, ("--save", ""), binary=REDIS_BIN)
    try:
        if request.param == "tls":
            c = tls_client(cachet, tls_certs, decode_responses=True)
        else:
            c = cachet.client(decode_responses=True)
        yield c, ref.client(decode_responses=True)
    finally:
        ref.stop()


# ---- the job queue ---------------------------------------------------------
# Keys: q:id (job counter), q:ev (event counter), q:wait and q:active
# (lists), q:delayed, q:completed, q:failed (sorted sets by time), q:events
# (stream), job:<id> (hash), lock:<id> (string with a TTL).

ADD = """
local id = redis.call('INCR', KEYS[1])
local now, delay = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', 'job:' .. id, 'name', ARGV[1], 'data', ARGV[2], 'attempts', 0, 'ts', now)
if delay > 0 then
  redis.call('ZADD', KEYS[3], now + delay, id)
else
  redis.call('LPUSH', KEYS[2], id)
end
local ev = redis.call('INCR', KEYS[5])
redis.call('XADD', KEYS[4], 'MAXLEN', '=', 200, ev .. '-0', 'event', delay > 0 and 'delayed' or 'waiting', 'id', id)
return id
"""

MOVE_TO_ACTIVE = """
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if not id then return false end
redis.call('SET', 'lock:' .. id, ARGV[1], 'PX', ARGV[2])
local attempts = redis.call('HINCRBY', 'job:' .. id, 'attempts', 1)
redis.call('HSET', 'job:' .. id, 'processedOn', ARGV[3])
return {id, attempts, redis.call('HMGET', 'job:' .. id, 'name', 'data')}
"""

FINISH = """
local id, token, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('GET', 'lock:' .. id) ~= token then
  return redis.error_reply('Missing lock for job ' .. id .. '. moveToFinished')
end
if redis.call('LREM', KEYS[1], -1, id) == 0 then
  return redis.error_reply('Missing key for job ' .. id .. '. moveToFinished')
end
redis.call('DEL', 'lock:' .. id)
local event
if ARGV[4] == 'ok' then
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('HSET', 'job:' .. id, 'returnvalue', cjson.encode({ok = true, at = now}), 'finishedOn', now)
  event = 'completed'
else
  local attempts = tonumber(redis.call('HGET', 'job:' .. id, 'attempts'))
  if attempts < tonumber(ARGV[5]) then
    redis.call('ZADD', KEYS[4], now + 100 * 2 ^ attempts, id)
    event = 'retrying'
  else
    redis.call('ZADD', KEYS[3], now, id)
    redis.call('HSET', 'job:' .. id, 'failedReason', ARGV[4], 'finishedOn', now)
    event = 'failed'
  end
end
local ev = redis.call('INCR', KEYS[6])
redis.call('XADD', KEYS[5], 'MAXLEN', '=', 200, ev .. '-0', 'event', event, 'id', id)
return event
"""

PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 5)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('LPUSH', KEYS[2], id)
end
return due
"""

COUNTS = """
return {redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('ZCARD', KEYS[3]),
        redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('XLEN', KEYS[6])}
"""

CLEAN = """
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, id in ipairs(old) do redis.call('DEL', 'job:' .. id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return #old
"""


def reply(f):
    """The reply or the error's text: both are compared."""
    try:
        return f()
    except redis.exceptions.ResponseError as e:
        return ("error", str(e))


def run_queue(r, seed, ops=600):
    rng = random.Random(seed)
    s = {name: r.register_script(body) for name, body in
         (("add", ADD), ("active", MOVE_TO_ACTIVE), ("finish", FINISH), ("promote", PROMOTE),
          ("counts", COUNTS), ("clean", CLEAN))}
    wait, active, delayed, done, failed, events = "q:wait", "q:active", "q:delayed", "q:completed", "q:failed", "q:events"
    reply(lambda: r.xgroup_create(events, "listeners", id="0", mkstream=True))
    out, now, held = [], 1_000_000, []  # held: (id, token) of active jobs
    for i in range(ops):
        now += rng.randint(1, 60)
        op = rng.random()
        if op < 0.30:
            args = [f"job{rng.randint(0, 9)}", "x" * rng.randint(0, 40), now, rng.choice([0, 0, 0, 50, 500])]
            out.append(reply(lambda: s["add"](keys=["q:id", wait, delayed, events, "q:ev"], args=args)))
        elif op < 0.55:
            token = f"tok{i}"
            got = reply(lambda: s["active"](keys=[wait, active], args=[token, 30000, now]))
            out.append(got)
            if isinstance(got, list):
                held.append((got[0], token))
        elif op < 0.75 and held:
            jid, token = held.pop(rng.randrange(len(held)))
            if rng.random() < 0.1:
                token = "stolen"  # a worker whose lock was lost: refused
            outcome = rng.choice(["ok", "ok", "ok", "boom"])
            out.append(reply(lambda: s["finish"](keys=[active, done, failed, delayed, events, "q:ev"],
                                                 args=[jid, token, now, outcome, 3])))
        elif op < 0.85:
            out.append(reply(lambda: s["promote"](keys=[delayed, wait], args=[now])))
        elif op < 0.93:
            # A listener reads events through its group and acknowledges them.
            got = reply(lambda: r.xreadgroup("listeners", "l1", {events: ">"}, count=rng.randint(1, 5)))
            out.append(got)
            if isinstance(got, list) and got:
                ids = [eid for eid, _ in got[0][1]]
                out.append(reply(lambda: r.xack(events, "listeners", *ids)))
                out.append(reply(lambda: r.xpending(events, "listeners")))
        elif op < 0.97:
            out.append(reply(lambda: s["counts"](keys=[wait, active, delayed, done, failed, events])))
        else:
            out.append(reply(lambda: s["clean"](keys=[done], args=[now - 2000])))
    return out


def dataset(r):
    """Every key with its type and contents, in a comparable form."""
    state = {}
    for k in sorted(r.scan_iter(count=1000)):
        t = r.type(k)
        if t == "string":
            v = r.get(k)
        elif t == "list":
            v = r.lrange(k, 0, -1)
        elif t == "hash":
            v = sorted(r.hgetall(k).items())
        elif t == "zset":
            v = r.zrange(k, 0, -1, withscores=True)
        elif t == "stream":
            v = (r.xrange(k), r.xinfo_groups(k)[0]["pending"] if r.xinfo_groups(k) else None)
        else:
            v = None
        state[k] = (t, v, r.pttl(k) > 0)
    return state


@pytest.mark.parametrize("pair", ["plain", "tls"], indirect=True)
@pytest.mark.parametrize("seed", [1, 2])
def test_job_queue_answers_as_redis(pair, seed):
    cachet, ref = pair
    got, want = run_queue(cachet, seed), run_queue(ref, seed)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"operation {i}: cachet {g!r}, redis {w!r}"
    assert len(got) == len(want)
    # The queue did real work: jobs completed, failed, retried, refused.
    flat = repr(want)
    for what in ("completed", "retrying", "Missing lock"):
        assert what in flat, what
    assert dataset(cachet) == dataset(ref)




@pytest.mark.parametrize("pair", ["plain", "tls"], indirect=True)
def test_rate_limiter_answers_as_redis(pair):
    results = []
    for r in pair:
        limiter = r.register_script(RATE_LIMITER)
        rng = random.Random(7)
        now, seq = 5_000_000, []
        for i in range(400):
            now += rng.choice([1, 5, 20, 150, 400])
            user = f"rl:{rng.randint(0, 3)}"
            seq.append(tuple(limiter(keys=[user], args=[now, 1000, 5, f"req{i}"])))
        results.append(seq)
    assert results[0] == results[1]
    assert {x[0] for x in results[1]} == {0, 1}  # both allowed and refused requests happened


@pytest.mark.parametrize("pair", ["plain", "tls"], indirect=True)
def test_redis_py_lock_answers_as_redis(pair):
    results = []
    for r in pair:
        seq = []
        a, b = r.lock("res", timeout=10, blocking=False), r.lock("res", timeout=10, blocking=False)
        seq += [a.acquire(), b.acquire(), a.owned(), b.owned(), a.extend(5), a.reacquire()]
        b.local.token = b"not-the-owner"
        try:
            b.release()
            seq.append("released")
        except redis.exceptions.LockNotOwnedError:
            seq.append("not owned")
        b.local.token = None
        a.release()
        seq += [b.acquire(), r.exists("res")]
        b.release()
        seq.append(r.exists("res"))
        results.append(seq)
    assert results[0] == results[1]
    assert results[1] == [True, False, True, False, True, True, "not owned", True, 1, 0]
