-- wrk script: every request is a new reader (a browser's user agent, an address of its own),
-- so the blog counts every one. BENCH_READER_RUN keeps the addresses of runs apart.
local run = tonumber(os.getenv("BENCH_READER_RUN") or "1")
local n = 0
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

request = function()
  n = n + 1
  wrk.headers["cf-connecting-ip"] = string.format("2001:db8:%x:ffff::%x", run, n)
  return wrk.format(nil)
end
