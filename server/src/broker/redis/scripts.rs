//! The server-side scripts: each runs atomically in Redis, so seq numbers,
//! the epoch and the lease can never be seen half-changed.

use redis::Script;

/// Both scripts start here: the stream's epoch (a new one, with no stale seq
/// or entries, when it is missing) and its cap, into the locals `epoch` and `cap`.
/// KEYS: epoch, seq, stream, cap. ARGV: a new epoch, the default cap.
macro_rules! stream_prelude {
    () => {
        r"
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('SET', KEYS[1], ARGV[1])
  epoch = ARGV[1]
end
local cap = redis.call('GET', KEYS[4])
if not cap then
  redis.call('SET', KEYS[4], ARGV[2])
  cap = ARGV[2]
end
"
    };
}

/// Appends events: checks the lease for fenced ones, starts a new stream
/// (epoch) when there is none, numbers each event with the next seq and adds
/// it with `0-<seq>` as its entry id, capped at the stream's history.
///
/// KEYS: epoch, seq, stream, cap, leader.
/// ARGV: a new epoch (used only if there is none), the default cap, the fence
/// (this instance's id, or empty), sent_at_us, a deadline (Unix µs), then one
/// event JSON each. Returns `{epoch, last seq}`.
///
/// A call that reaches Redis after its deadline is refused: its publisher
/// gave up and answered 503, so it must not appear later (a paused Redis runs
/// what was queued when it resumes).
pub fn append() -> Script {
    Script::new(concat!(
        r"
local now = redis.call('TIME')
if tonumber(now[1]) * 1000000 + tonumber(now[2]) > tonumber(ARGV[5]) then
  return redis.error_reply('LATE the publisher gave up on this call')
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[3] then
  return redis.error_reply('NOTLEADER this instance does not hold the lease')
end
",
        stream_prelude!(),
        r"
local seq = 0
for i = 6, #ARGV do
  seq = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[3], 'MAXLEN', cap, '0-' .. seq, 'e', ARGV[i], 't', ARGV[4])
end
return {epoch, seq}
"
    ))
}

/// Makes sure a stream exists: an epoch (a new one, and no stale seq or
/// entries, if it was missing) and a cap. Returns `{epoch, cap, head seq}`.
///
/// KEYS: epoch, seq, stream, cap. ARGV: a new epoch, the default cap.
pub fn ensure() -> Script {
    Script::new(concat!(
        stream_prelude!(),
        r"
return {epoch, cap, tonumber(redis.call('GET', KEYS[2]) or '0')}
"
    ))
}

/// Takes or renews the simulator's lease. Returns 1 while this instance holds it.
///
/// KEYS: leader. ARGV: instance id, TTL in ms.
pub fn lease() -> Script {
    Script::new(
        r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
",
    )
}

/// Gives the lease up if this instance holds it. KEYS: leader. ARGV: instance id.
pub fn release() -> Script {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
}

/// Owes the leader `n` more burst events, unless that passes the bound.
/// Returns the new total, or -1 when refused. KEYS: owed. ARGV: n, bound.
pub fn owe() -> Script {
    Script::new(
        r"
local owed = tonumber(redis.call('GET', KEYS[1]) or '0')
if owed + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  return -1
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
",
    )
}

/// The leader takes up to `n` owed burst events. KEYS: owed. ARGV: n.
pub fn take_owed() -> Script {
    Script::new(
        r"
local owed = tonumber(redis.call('GET', KEYS[1]) or '0')
local take = math.min(owed, tonumber(ARGV[1]))
if take > 0 then
  redis.call('DECRBY', KEYS[1], take)
end
return take
",
    )
}
