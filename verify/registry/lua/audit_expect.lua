#!lua
-- Note an outbox as pending before work writes an audit entry into it (see audit_relay.lua), with a
-- token above any it had (Redis's clock in microseconds): a relay forgets the outbox only while its
-- token is still the one it noted (audit_settle.lua), and a sweep relays those left older than a while.
-- KEYS: the sorted set of pending outboxes. ARGV: the outbox key. Returns the token.
local clock = redis.call('TIME')
local token = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
if before and tonumber(before) >= token then token = tonumber(before) + 1 end
redis.call('ZADD', KEYS[1], token, ARGV[1])
return string.format('%.0f', token)
