#!lua
-- Open a callback session, replacing the borrower's previous one unless a guard says otherwise.
-- Times come from Redis's clock.
-- KEYS: session hash, the request's idempotency record.
-- ARGV: ttl, seconds kept after it ends, seconds to keep the idempotency record (0: the request has no
--       Idempotency-Key), the request's digest, the code sealed for a retry, the guard, then the
--       session's fields as name, value (its id's suffix `sx` first).
-- The guard: '' replaces whatever is there (the API); 'none' opens only when the borrower has no live
-- session (not ended, not expired); 'sx:<suffix>' only when there is none or the live one is that
-- session (the agent console's explicit replace: never a session someone opened since).
-- Returns {'opened', 'yes', 'created', now, 'expires', now + ttl} (whole seconds; stored to the
-- microsecond, so a session lives exactly its ttl); {'opened', 'again', 'sx', .., 'created', ..,
-- 'expires', .., 'code', sealed code} when the same request opened one before (nothing written);
-- {'opened', 'live', 'sx', .., 'created', .., 'expires', ..} when the guard found a live session
-- (nothing written); or {'opened', 'reused'} when its Idempotency-Key came with another request
-- (nothing written).
local keep, digest, guard = tonumber(ARGV[3]), ARGV[4], ARGV[6]
if keep > 0 then
  local e = redis.call('HMGET', KEYS[2], 'sx', 'ct', 'ex', 'code', 'digest')
  if e[1] and e[5] ~= digest then return {'opened', 'reused'} end
  if e[1] then return {'opened', 'again', 'sx', e[1], 'created', e[2], 'expires', e[3], 'code', e[4]} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
if guard ~= '' then
  local c = redis.call('HMGET', KEYS[1], 'sx', 'ct', 'ex', 'en')
  local live = c[1] and not c[4] and now < tonumber(c[3])
  if live and (guard == 'none' or guard ~= 'sx:' .. c[1]) then
    return {'opened', 'live', 'sx', c[1], 'created', c[2], 'expires', c[3]}
  end
end
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ct', now, 'ex', now + ttl, unpack(ARGV, 7))
redis.call('EXPIRE', KEYS[1], ttl + tonumber(ARGV[2]))
if keep > 0 then
  redis.call('HSET', KEYS[2], 'sx', ARGV[8], 'ct', now, 'ex', now + ttl, 'code', ARGV[5], 'digest', digest)
  redis.call('EXPIRE', KEYS[2], keep)
end
return {'opened', 'yes', 'created', now, 'expires', now + ttl}
