#!lua
-- A texted code from the borrower's own phone (or a code keyed in on the hotline, counted with the web
-- and API codes), in one round trip: claim the message (or step of the call), check the code,
-- and keep the check's outcome with the claim, so a second delivery gets the same answer unchecked.
-- KEYS: session hash, wrong-code counter (of the channel's kind), claim, sender's message (or keyed-in
--       code) counter, last-contact record.
-- ARGV: code HMAC, max wrong codes, lockout window, claim ttl, that counter's limit, window, seconds
--       the last-contact record is kept.
--- @include "_message_claim"
--- @include "_code_check"
local taken = message_claim(KEYS[3], KEYS[4], ARGV[4], tonumber(ARGV[5]), ARGV[6])
if taken then return taken end
local checked = code_check(KEYS[1], KEYS[2], ARGV[1], '', tonumber(ARGV[2]), ARGV[3], KEYS[5], ARGV[7])
redis.call('HSET', KEYS[3], 'state', 'checked', 'check', cjson.encode(checked))
redis.call('EXPIRE', KEYS[3], ARGV[4])
table.insert(checked, 1, 'checked')
table.insert(checked, 1, 'claim')
return checked
