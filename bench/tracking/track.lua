-- wrk script for the tracking intake: MODE=single|batch|noop, APP_ID, USERS, BATCH.
-- noop: the CORS preflight (OPTIONS) of /api/v1/track with a single-event body,
-- the reference of the same server and routing doing no work.
local counter = 0
local threads = {}
local mode = os.getenv("MODE") or "single"
local app_id = os.getenv("APP_ID")
local users = tonumber(os.getenv("USERS") or "10000")
local batch = tonumber(os.getenv("BATCH") or "50")
local run = os.getenv("RUN") or tostring(os.time())

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + tid)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "text/plain"
end

-- RATE (requests/s for the whole run) and CONNECTIONS pace each connection
-- for the latency runs: wrk then measures at about that rate.
local rate = tonumber(os.getenv("RATE") or "0")
local conns = tonumber(os.getenv("CONNECTIONS") or "1")
function delay()
  if rate <= 0 then return 0 end
  -- exponential gaps: arrivals roughly like independent visitors
  return math.floor(-math.log(1 - math.random()) * conns * 1000 / rate)
end

function request()
  counter = counter + 1
  local n = (mode == "batch") and batch or 1
  local events = {}
  for k = 1, n do
    local kind = (k == 1) and "page" or "heartbeat"
    events[k] = string.format('{"message_id":"%s-%d-%d-%d","type":"%s","url":"https://shop.example/p%d"}',
      run, tid, counter, k, kind, k)
  end
  local body = string.format('{"app_id":"%s","user":{"id":"user%d"},"events":[%s]}',
    app_id, math.random(1, users), table.concat(events, ","))
  local method = (mode == "noop") and "OPTIONS" or "POST"
  return wrk.format(method, "/api/v1/track", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d errors_other=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
