-- wrk script for fixed-count runs: requests the paths in BENCH_PATHS (a file, one per line) in
-- order, each once, and stops the run when BENCH_N responses have come back, printing
-- "BENCH_DONE n=N ms=..." with the time from the first request to the Nth response
-- (LuaJIT's ffi reads the monotonic clock; wrk's own totals run to the end of -d).
-- Requests sent after the Nth (at most one per connection) take the next paths, so no path
-- is requested twice as long as the file has N + connections paths.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  paths[#paths + 1] = line
end
local N = tonumber(os.getenv("BENCH_N"))
local sent, got, non200, t0 = 0, 0, 0, nil

request = function()
  if not t0 then t0 = now_ms() end
  sent = sent + 1
  return wrk.format(nil, paths[((sent - 1) % #paths) + 1])
end

response = function(status, headers, body)
  got = got + 1
  if status ~= 200 then non200 = non200 + 1 end
  if got == N then
    io.stdout:write(string.format("BENCH_DONE n=%d ms=%.3f sent=%d non200=%d\n", got, now_ms() - t0, sent, non200))
    io.stdout:flush()
    wrk.thread:stop()
  end
end
