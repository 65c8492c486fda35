#!lua
-- File a report with its indexes and running totals, under the client's report limits, all or nothing.
-- KEYS: report, by-time, status:new, number:<e164>, reporters:<e164>, totals:numbers, totals:categories,
--       the request's idempotency record, then one limit counter per window.
-- ARGV: now, id, reporter fingerprint, number, categories (comma-separated), seconds to keep the
--       idempotency record (0: the request has no Idempotency-Key), the request's digest, number of
--       limits, (allowance, window) per limit, then the report's fields as name, value (handed to HSET
--       as they are: cheaper for Redis than decoding a JSON copy).
-- Returns {'filed', 'yes'}, {'filed', 'limited', 'wait', seconds}, {'filed', 'id_taken'},
-- {'filed', 'again', 'id', id, 'at', time} (the same request was filed before: nothing written) or
-- {'filed', 'reused'} (its Idempotency-Key was used for another request: nothing written).
--- @include "_limiter"
local now, id, fingerprint, number, categories = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local keep, digest = tonumber(ARGV[6]), ARGV[7]
if keep > 0 then
  local earlier = redis.call('HMGET', KEYS[8], 'id', 'at', 'digest')
  if earlier[1] and earlier[3] ~= digest then return {'filed', 'reused'} end
  if earlier[1] then return {'filed', 'again', 'id', earlier[1], 'at', earlier[2]} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'filed', 'id_taken'} end
local limits = tonumber(ARGV[8])
for i = 1, limits do
  if limit_count(KEYS[8 + i]) >= tonumber(ARGV[7 + 2 * i]) then
    return {'filed', 'limited', 'wait', limit_wait(KEYS[8 + i])}
  end
end
for i = 1, limits do limit_hit(KEYS[8 + i], ARGV[8 + 2 * i]) end
if keep > 0 then
  redis.call('HSET', KEYS[8], 'id', id, 'at', now, 'digest', digest)
  redis.call('EXPIRE', KEYS[8], keep)
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9 + 2 * limits))
redis.call('ZADD', KEYS[2], now, id)
redis.call('ZADD', KEYS[3], now, id)
redis.call('ZADD', KEYS[4], now, id)
-- GT keeps each reporter's latest time: one reporter counts once, in every window.
redis.call('ZADD', KEYS[5], 'GT', now, fingerprint)
redis.call('ZINCRBY', KEYS[6], 1, number)
for category in string.gmatch(categories, '[^,]+') do
  redis.call('HINCRBY', KEYS[7], category, 1)
end
return {'filed', 'yes'}
