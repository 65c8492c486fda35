#!lua
-- Append an audit entry, in the same script as the write it records (both happen or neither).
-- KEYS: the audit stream, then optionally a hash that must hold ARGV[3] in field ARGV[2] for the entry
-- to be appended (the session it records was opened by this very call, not a retry's earlier one).
-- ARGV: the most entries kept (approximately), the field, the value ('' without a second key), then
-- the entry's fields as name, value. Returns the entry's id, or false when the condition failed.
if KEYS[2] and redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return false end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 4))
