-- The code check every channel makes, with the borrower's wrong-code lockout.
-- session: the session hash; counter: wrong codes in the lockout window; code: the code's HMAC;
-- caller: the E.164 number the borrower says called ('' = any); max: wrong codes before `locked`;
-- contact, keep: the borrower's last-contact record and its lifetime in seconds (a right code writes it).
-- Returns field/value pairs: outcome (genuine, wrong or locked), then the session (genuine),
-- active (wrong: 1 if the borrower has an active session) or wait (locked: seconds left).
--- @include "_limiter"
--- @include "_last_contact"
local function code_check(session, counter, code, caller, max, window, contact, keep)
  if limit_count(counter) >= max then
    return {'outcome', 'locked', 'wait', limit_wait(counter)}
  end
  local s = redis.call('HMGET', session, 'cd', 'ex', 'en', 'cl', 'cs', 'sx', 'ai', 'an', 'pu', 'ct')
  local time = redis.call('TIME')
  local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
  local active = s[1] and s[3] == false and now < tonumber(s[2])
  if active and s[1] == code then
    local callers = s[5] or s[4]
    if caller == '' or string.find(',' .. callers .. ',', ',' .. caller .. ',', 1, true) then
      redis.call('HINCRBY', session, 'ok', 1)
      -- The number the borrower saw when they named it (one of the session's numbers), else the session's.
      last_contact(contact, keep, time[1], caller ~= '' and caller or s[4], s[7])
      return {'outcome', 'genuine', 'sx', s[6], 'cl', s[4], 'ai', s[7], 'an', s[8], 'pu', s[9], 'ct', s[10], 'ex', s[2]}
    end
  end
  if active then redis.call('HINCRBY', session, 'fl', 1) end
  if limit_hit(counter, window) >= max then
    return {'outcome', 'locked', 'wait', limit_wait(counter)}
  end
  return {'outcome', 'wrong', 'active', active and 1 or 0}
end
