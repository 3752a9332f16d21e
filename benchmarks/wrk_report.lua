-- wrk script of benchmarks/loadtest.py: send the session cookie (and `HX-Request: true` when
-- BENCH_HTMX=1), print one JSON line. With BENCH_COLD_EVERY=N and BENCH_COLD_PATHS (a file
-- of paths, one a line), every Nth request goes to the next of those paths instead, each
-- requested once: pages no worker has rendered yet (a cold cache). Run with one thread (-t1).
local cookie = os.getenv("BENCH_COOKIE")
local headers = {["Cookie"] = cookie}
if os.getenv("BENCH_HTMX") == "1" then
  headers["HX-Request"] = "true"
end
local every = tonumber(os.getenv("BENCH_COLD_EVERY") or "0")
local cold = {}
local cold_file = os.getenv("BENCH_COLD_PATHS")
if cold_file and cold_file ~= "" then
  for line in io.lines(cold_file) do
    cold[#cold + 1] = line
  end
end
local sent = 0

request = function()
  sent = sent + 1
  if every > 0 and #cold > 0 and sent % every == 0 then
    local path = cold[(math.floor(sent / every) - 1) % #cold + 1]
    return wrk.format("GET", path, headers)
  end
  return wrk.format("GET", nil, headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
