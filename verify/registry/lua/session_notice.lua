#!lua
-- Record how the pre-call notice went, on the session it was sent for only.
-- KEYS: session hash. ARGV: the session id's suffix, the outcome. Returns {'recorded', 1 | 0}.
if redis.call('HGET', KEYS[1], 'sx') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'no', ARGV[2])
  return {'recorded', 1}
end
return {'recorded', 0}
