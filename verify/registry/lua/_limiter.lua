-- The one limiter (every limit of verify counts with these three functions): a counter per subject
-- and window, started by its first hit and gone when the window ends.
local function limit_count(counter)
  return tonumber(redis.call('GET', counter) or '0')
end

local function limit_hit(counter, window)
  local n = redis.call('INCR', counter)
  if n == 1 then redis.call('EXPIRE', counter, window) end
  return n
end

local function limit_wait(counter)
  return math.max(redis.call('TTL', counter), 1)
end
