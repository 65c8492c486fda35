-- The borrower's last-contact record: when we last had a genuine contact with them (a confirmed code
-- or an ended session), from which number and by which agent. One string (a JSON object), replaced by
-- each newer contact and deleted by Redis `keep` seconds after it (90 days), so "no call from us in
-- 90 days" needs no clean-up. Written by the script that confirms or ends, never on its own.
local function last_contact(key, keep, at, caller, agent)
  redis.call('SET', key, cjson.encode({at = at, cl = caller, ai = agent}), 'EX', keep)
end
