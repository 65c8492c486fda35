#!lua
-- End a session. KEYS: session hash. ARGV: the session id's suffix.
-- Returns {'ended', 'now' | 'before' | 'unknown'}.
local s = redis.call('HMGET', KEYS[1], 'sx', 'en', 'ex')
if s[1] ~= ARGV[1] then return {'ended', 'unknown'} end
local time = redis.call('TIME')
local now = time[1]
if s[2] or tonumber(now) + tonumber(time[2]) / 1000000 >= tonumber(s[3]) then return {'ended', 'before'} end
redis.call('HSET', KEYS[1], 'en', now)
return {'ended', 'now'}
