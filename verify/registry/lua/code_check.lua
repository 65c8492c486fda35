#!lua
-- A code typed on the web or sent to the API.
-- KEYS: session hash, wrong-code counter, last-contact record.
-- ARGV: code HMAC, caller ('' = any), max wrong codes, window, seconds the last-contact record is kept.
--- @include "_code_check"
return code_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], KEYS[3], ARGV[5])
