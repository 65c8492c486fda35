#!lua
-- The first request of a call to the hotline (Twilio may send it twice): claim it and count the call
-- on the caller's limit, and keep the outcome with the claim, so a second request gets the same answer
-- and counts nothing.
-- KEYS: claim, caller's call counter. ARGV: claim ttl, call limit, window.
-- Returns pairs: claim new, claim limited (with the count), or claim duplicate and what the claim holds
-- (reply '' for a call let in, 'limited' for one refused).
--- @include "_message_claim"
local taken = message_claim(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3])
if taken and taken[2] == 'duplicate' then return taken end
redis.call('HSET', KEYS[1], 'state', 'answered', 'reply', taken and 'limited' or '')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return taken or {'claim', 'new'}
