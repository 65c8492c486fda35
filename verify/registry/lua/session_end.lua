#!lua
-- End a session, and leave the borrower's last-contact record in the same script.
-- KEYS: session hash, last-contact record. ARGV: the session id's suffix, seconds the record is kept.
-- Returns {'ended', 'now' | 'before' | 'unknown'}.
--- @include "_last_contact"
local s = redis.call('HMGET', KEYS[1], 'sx', 'en', 'ex', 'cl', 'ai')
if s[1] ~= ARGV[1] then return {'ended', 'unknown'} end
local time = redis.call('TIME')
local now = time[1]
if s[2] or tonumber(now) + tonumber(time[2]) / 1000000 >= tonumber(s[3]) then return {'ended', 'before'} end
redis.call('HSET', KEYS[1], 'en', now)
last_contact(KEYS[2], ARGV[2], now, s[4], s[5])
return {'ended', 'now'}
