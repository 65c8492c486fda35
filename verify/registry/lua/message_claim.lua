#!lua
-- Claim an inbound message that is not a code.
-- KEYS: claim, sender's message counter. ARGV: claim ttl, message limit, window.
-- Returns pairs: claim new (with the count) or as message_claim says.
--- @include "_message_claim"
local taken = message_claim(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3])
if taken then return taken end
redis.call('HSET', KEYS[1], 'state', 'answering')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {'claim', 'new'}
