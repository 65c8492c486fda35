#!lua flags=no-writes
-- Read a borrower's session as it is now, counting nothing: one script, so that it is one call on
-- Redis Cluster too (whose pipelines refuse TIME).
-- KEYS: the session hash, the wrong-code counters (one per kind of channel), then optionally the
-- last-contact record. Returns {the session's fields and values, {the counters' values}, {seconds,
-- microseconds} of Redis's clock, the last-contact record's text or false}.
local wrong = {}
for i = 2, 3 do wrong[i - 1] = redis.call('GET', KEYS[i]) end
local contact = false
if KEYS[4] then contact = redis.call('GET', KEYS[4]) end
return {redis.call('HGETALL', KEYS[1]), wrong, redis.call('TIME'), contact}
