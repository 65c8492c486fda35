#!lua
-- A hit on a subject's limits, one counter per window.
-- KEYS: the counters. ARGV: allowance and window length (seconds) per counter, in KEYS' order.
-- Every hit counts; it is refused when a counter is past its allowance.
-- Returns {'count', hits in the first window, 'wait', seconds until allowed again (0: allowed)}.
--- @include "_limiter"
local wait, first = 0, 0
for i = 1, #KEYS do
  local n = limit_hit(KEYS[i], ARGV[2 * i])
  if i == 1 then first = n end
  if n > tonumber(ARGV[2 * i - 1]) then wait = math.max(wait, limit_wait(KEYS[i])) end
end
return {'count', first, 'wait', wait}
