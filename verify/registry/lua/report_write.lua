-- File a report with its indexes and running totals, under the client's report limits, all or nothing.
-- KEYS: report, by-time, status:new, number:<e164>, reporters:<e164>, totals:numbers, totals:categories,
--       then one limit counter per window.
-- ARGV: now, id, reporter fingerprint, number, categories (comma-separated), number of limits,
--       (allowance, window) per limit, then the report's fields as name, value (handed to HSET as
--       they are: cheaper for Redis than decoding a JSON copy).
-- Returns {'filed', 'yes'}, {'filed', 'limited', 'wait', seconds} or {'filed', 'id_taken'}.
--- @include "_limiter"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'filed', 'id_taken'} end
local now, id, fingerprint, number, categories = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limits = tonumber(ARGV[6])
for i = 1, limits do
  if limit_count(KEYS[7 + i]) >= tonumber(ARGV[5 + 2 * i]) then
    return {'filed', 'limited', 'wait', limit_wait(KEYS[7 + i])}
  end
end
for i = 1, limits do limit_hit(KEYS[7 + i], ARGV[6 + 2 * i]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 7 + 2 * limits))
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
