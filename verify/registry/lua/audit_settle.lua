#!lua
-- After an outbox's entries were relayed and deleted from it (see audit_relay.lua): delete their
-- markers (the entries cannot be relayed again), and forget the outbox as pending unless work noted it
-- again since (its token changed): that work relays it itself, or the sweep does.
-- KEYS: the sorted set of pending outboxes, then the markers. ARGV: the outbox key, the token it was
-- noted with. Returns 1 when the outbox was forgotten.
if #KEYS > 1 then redis.call('DEL', unpack(KEYS, 2)) end
local token = redis.call('ZSCORE', KEYS[1], ARGV[1])
if token and tonumber(token) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
