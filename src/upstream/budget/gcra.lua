-- GCRA for one upstream key, shared by every replica, in one atomic call on Redis's own
-- clock (TIME), so that replicas never compare their clocks. After go-redis/redis_rate's
-- allow_n and rwz/redis-gcra, with one change: a call that fits within the wait it allows
-- takes its slot now (a reservation) and is told how long to wait for it, so that
-- waiters keep their order and need one round trip each.
--
-- KEYS[1]  the budget's key: a hash of the API key, never the key
-- ARGV[1]  emission interval (1 / rate), microseconds
-- ARGV[2]  burst, requests (at least 1)
-- ARGV[3]  the longest the caller may wait for its slot, microseconds
-- ARGV[4]  floor, microseconds from now: slots the caller booked on its own while Redis
--          was away run until then; no slot is given before it (0: none)
--
-- Returns {allowed, wait, booked}, in whole microseconds:
--   allowed  1 when a slot was taken, 0 when none comes within ARGV[3] (nothing taken)
--   wait     until the caller's slot; when refused, until a slot would come
--   booked   until the latest slot anyone holds (0 when none is still to come)
--
-- The stored value is the theoretical arrival time (TAT, microseconds since the epoch,
-- exact in a double until the year 2255); it expires when it passes, since a TAT in the
-- past means the same as none.

if redis.replicate_commands then
  redis.replicate_commands()
end

local interval = tonumber(ARGV[1])
local burst_offset = interval * tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local stored = tonumber(redis.call('GET', KEYS[1]))
local tat = math.max(stored or now, now)
if floor > 0 then
  tat = math.max(tat, now + floor + burst_offset)
end

local function store(value)
  redis.call('SET', KEYS[1], string.format('%.0f', value),
    'PX', math.max(1, math.ceil((value - now) / 1000)))
end

local new_tat = tat + interval
local wait = math.max(0, new_tat - burst_offset - now)
if wait > max_wait then
  if floor > 0 and tat ~= stored then
    store(tat)
  end
  return {0, math.ceil(wait), math.ceil(math.max(0, tat - burst_offset - now))}
end
store(new_tat)
return {1, math.ceil(wait), math.ceil(wait)}
