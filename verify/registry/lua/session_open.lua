-- Open a callback session, replacing the borrower's previous one. Times come from Redis's clock.
-- KEYS: session hash. ARGV: ttl, seconds kept after it ends, then the session's fields as name, value.
-- Returns {'created', now, 'expires', now + ttl}.
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ct', now, 'ex', now + ttl, unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ttl + tonumber(ARGV[2]))
return {'created', now, 'expires', now + ttl}
