#!lua
-- Forget an outbox that was pending (see audit_relay.lua), unless work noted it again since (its token
-- changed): that work relays it itself, or the sweep does.
-- KEYS: the sorted set of pending outboxes. ARGV: the outbox key, the token it was noted with.
-- Returns 1 when forgotten.
local token = redis.call('ZSCORE', KEYS[1], ARGV[1])
if token and tonumber(token) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
