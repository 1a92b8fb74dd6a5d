-- wrk script: each request carries the next device's X-Provision-Token (tokens file: one per line).
-- The summary is printed as one JSON line starting with "BENCH_JSON " for the bench to parse.
local tokens = {}
local counter = 0

function init(args)
  local path = args[1] or os.getenv("BENCH_TOKENS")
  for line in io.lines(path) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  counter = math.random(#tokens)
end

function request()
  counter = counter % #tokens + 1
  wrk.headers["X-Provision-Token"] = tokens[counter]
  return wrk.format("GET", wrk.path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
