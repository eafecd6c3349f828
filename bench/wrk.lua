-- wrk script: adds the bearer token; optional JSON body for POST scenarios.
-- Environment: CHARTER_TOKEN (required), BENCH_METHOD (default GET), BENCH_BODY_FILE.
local token = os.getenv("CHARTER_TOKEN")
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.headers["Authorization"] = "Bearer " .. token
-- Web pages authenticate by the browser session cookie instead (BENCH_COOKIE).
local cookie = os.getenv("BENCH_COOKIE")
if cookie then
  wrk.headers["Cookie"] = cookie
end
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  -- One machine-readable line for bench/run.py. wrk counts answers >= 400 as errors.
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
