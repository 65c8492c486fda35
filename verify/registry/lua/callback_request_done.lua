#!lua
-- Close a callback request with the session that answered it (expired ones too: a late call is a call).
-- KEYS: the request's hash, the open index, the number's open-request record.
-- ARGV: the request's id, the session id, who closed it, a token of this call (kept as 'dt': its audit
--       entry, in the same script, is made only when the request holds it).
-- Returns {'done', 'now', 'at', time}; {'done', 'before', 'session', id, 'at', time} when it was closed
-- already (nothing written); {'done', 'unknown'}.
local r = redis.call('HMGET', KEYS[1], 'id', 'st', 'si', 'dn')
if r[1] ~= ARGV[1] then return {'done', 'unknown'} end
if r[2] == 'done' then return {'done', 'before', 'session', r[3], 'at', r[4]} end
local now = redis.call('TIME')[1]
redis.call('HSET', KEYS[1], 'st', 'done', 'si', ARGV[2], 'dn', now, 'by', ARGV[3], 'dt', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], 'id') == ARGV[1] then redis.call('DEL', KEYS[3]) end
return {'done', 'now', 'at', now}
