-- wrk script of benchmarks/loadtest.py: send the session cookie, print one JSON line.
local cookie = os.getenv("BENCH_COOKIE")

request = function()
  return wrk.format("GET", nil, {["Cookie"] = cookie})
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
