#!lua
-- Ask for a callback: one open request per number, under the number's and the day's limits, all or
-- nothing. Times come from Redis's clock.
-- KEYS: the number's open-request record, the open index, the new request's hash, then the limiter's
--       counters (the number's, the day's, and for a spoofable channel its share of the day).
-- ARGV: id, seconds the request stays open (ttl), seconds it is kept after that, how many counters,
--       each counter's allowance and window, then the request's fields as name, value.
-- Returns {'request', 'yes', 'id', id, 'created', now, 'expires', now + ttl}; {'request', 'already',
-- 'id', .., 'created', .., 'expires', ..} while the number has an open request (nothing written,
-- nothing counted); {'request', 'limited', 'wait', seconds} (nothing written); {'request', 'id_taken'}.
--- @include "_limiter"
local id, ttl, keep, counters = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local open = redis.call('HMGET', KEYS[1], 'id', 'ct', 'ex')
if open[1] and now < tonumber(open[3]) then
  return {'request', 'already', 'id', open[1], 'created', open[2], 'expires', open[3]}
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'request', 'id_taken'} end
for i = 1, counters do
  if limit_count(KEYS[3 + i]) >= tonumber(ARGV[3 + 2 * i]) then
    return {'request', 'limited', 'wait', limit_wait(KEYS[3 + i])}
  end
end
for i = 1, counters do limit_hit(KEYS[3 + i], ARGV[4 + 2 * i]) end
local expires = now + ttl
redis.call('HSET', KEYS[3], 'id', id, 'ct', now, 'ex', expires, 'st', 'open', unpack(ARGV, 5 + 2 * counters))
redis.call('EXPIRE', KEYS[3], ttl + keep)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', id, 'ct', now, 'ex', expires)
redis.call('EXPIRE', KEYS[1], ttl)
-- The index keeps expired requests as long as their hashes (counted as expired on the overview).
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - ttl - keep))
redis.call('ZADD', KEYS[2], now, id)
return {'request', 'yes', 'id', id, 'created', now, 'expires', expires}
