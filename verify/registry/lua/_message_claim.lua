-- One claim per inbound message or step of a call (Twilio may deliver one twice) and the sender's limit.
-- claim: the message's claim hash; counter: the sender's messages in the window.
-- Returns nil for a new message within the limit (the caller goes on with its work and writes the
-- claim), else pairs: {'claim', 'duplicate', then what the claim holds} or {'claim', 'limited', 'count', n}
-- (the claim then says 'answering' until the reply is kept).
--- @include "_limiter"
local function message_claim(claim, counter, ttl, limit, window)
  local prior = redis.call('HGETALL', claim)
  if #prior > 0 then
    table.insert(prior, 1, 'duplicate')
    table.insert(prior, 1, 'claim')
    return prior
  end
  local n = limit_hit(counter, window)
  if n > limit then
    redis.call('HSET', claim, 'state', 'answering')
    redis.call('EXPIRE', claim, ttl)
    return {'claim', 'limited', 'count', n}
  end
  return nil
end
