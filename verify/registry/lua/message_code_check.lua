#!lua
-- A texted code from the borrower's own phone, in one round trip: claim the message, check the code,
-- and keep the check's outcome with the claim, so a second delivery gets the same answer unchecked.
-- KEYS: session hash, wrong-code counter, claim, sender's message counter.
-- ARGV: code HMAC, max wrong codes, lockout window, claim ttl, message limit, message window.
--- @include "_message_claim"
--- @include "_code_check"
local taken = message_claim(KEYS[3], KEYS[4], ARGV[4], tonumber(ARGV[5]), ARGV[6])
if taken then return taken end
local checked = code_check(KEYS[1], KEYS[2], ARGV[1], '', tonumber(ARGV[2]), ARGV[3])
redis.call('HSET', KEYS[3], 'state', 'checked', 'check', cjson.encode(checked))
redis.call('EXPIRE', KEYS[3], ARGV[4])
table.insert(checked, 1, 'checked')
table.insert(checked, 1, 'claim')
return checked
