#!lua
-- Relay one audit entry from an outbox (Redis Cluster: it was written in the slot of the work it records)
-- to the audit stream, once: a marker per outbox entry makes a second relay of it (a relay that failed
-- before it deleted the entry from its outbox) do nothing.
-- KEYS: the audit stream, the entry's marker. ARGV: the most entries kept (approximately), the marker's
-- lifetime in seconds, then the entry's fields as name, value. Returns 1 when relayed now, 0 if before.
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
return 1
