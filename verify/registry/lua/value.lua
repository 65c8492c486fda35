#!lua flags=no-writes
-- A string key's value (to read it in the same round trip as other scripts).
-- KEYS: the key. Returns its value, or nil.
return redis.call('GET', KEYS[1])
