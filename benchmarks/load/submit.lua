-- wrk script: POST a ~512-byte notification with a unique title each time,
-- so content dedup never short-circuits the write path.
local counter = 0
local key = os.getenv("ALERTHUB_API_KEY") or ""

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = key

local padding = string.rep("x", 300)

-- A prefix of its own for every wrk process (seeded from the time and a heap
-- address): runs repeated against one daemon must not resubmit earlier
-- titles, which content dedup would answer as duplicates without a write.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
local run = string.format("%08x", math.random(0, 2147483646))

request = function()
  counter = counter + 1
  local body = string.format(
    '{"type":"deploy.finished","title":"release %s-%d","priority":"high",' ..
    '"body":"%s","tags":{"env":"prod","service":"checkout"},' ..
    '"data":{"version":"2.3.1","commit":"9f2c1e7"}}',
    run, counter, padding)
  return wrk.format(nil, "/api/v1/notifications", nil, body)
end

-- Print the latency percentiles and status counts in a parseable form.
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
