#!lua
-- Open a callback session, replacing the borrower's previous one. Times come from Redis's clock.
-- KEYS: session hash, the request's idempotency record.
-- ARGV: ttl, seconds kept after it ends, seconds to keep the idempotency record (0: the request has no
--       Idempotency-Key), the request's digest, the code sealed for a retry, then the session's fields
--       as name, value (its id's suffix `sx` first).
-- Returns {'opened', 'yes', 'created', now, 'expires', now + ttl} (whole seconds; stored to the
-- microsecond, so a session lives exactly its ttl); {'opened', 'again', 'sx', .., 'created', ..,
-- 'expires', .., 'code', sealed code} when the same request opened one before (nothing written); or
-- {'opened', 'reused'} when its Idempotency-Key came with another request (nothing written).
local keep, digest = tonumber(ARGV[3]), ARGV[4]
if keep > 0 then
  local e = redis.call('HMGET', KEYS[2], 'sx', 'ct', 'ex', 'code', 'digest')
  if e[1] and e[5] ~= digest then return {'opened', 'reused'} end
  if e[1] then return {'opened', 'again', 'sx', e[1], 'created', e[2], 'expires', e[3], 'code', e[4]} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ct', now, 'ex', now + ttl, unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ttl + tonumber(ARGV[2]))
if keep > 0 then
  redis.call('HSET', KEYS[2], 'sx', ARGV[7], 'ct', now, 'ex', now + ttl, 'code', ARGV[5], 'digest', digest)
  redis.call('EXPIRE', KEYS[2], keep)
end
return {'opened', 'yes', 'created', now, 'expires', now + ttl}
