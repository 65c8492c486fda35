#!lua
-- Delete relayed entries from an outbox (see audit_relay.lua), and the outbox itself once it is empty
-- (a stream stays when its last entry goes; a borrower's outbox must not outlive its entries). In one
-- script, so an entry added meanwhile is never deleted with it.
-- KEYS: the outbox. ARGV: the relayed entries' ids. Returns the entries left.
redis.call('XDEL', KEYS[1], unpack(ARGV))
local left = redis.call('XLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1]) end
return left
