-- wrk script for the bubble's benchmark (bench/messages/show.py).
-- MODE=noop: the CORS preflight of /api/v1/messenger/show (same server and
--   routing, no work): the same-run reference.
-- MODE=show: "show" for a new (message, user) pair each time (MESSAGES: the
--   ids of messages everyone is in the audience of; USERS users user1..N).
-- MODE=track: one single-event snippet batch asking for in-site messages with
--   the version its user holds (VERSIONS: one per plan class, user i is class i % 3).
local counter = 0
local threads = {}
local mode = os.getenv("MODE") or "show"
local app_id = os.getenv("APP_ID")
local users = tonumber(os.getenv("USERS") or "10000")
local run = os.getenv("RUN") or tostring(os.time())
local nthreads = tonumber(os.getenv("THREADS") or "1")
-- track: the users on the site now (each sends a heartbeat every 15 s in life)
local active = tonumber(os.getenv("ACTIVE") or os.getenv("USERS") or "10000")
local messages, versions = {}, {}
for id in string.gmatch(os.getenv("MESSAGES") or "", "[^,]+") do table.insert(messages, id) end
for v in string.gmatch(os.getenv("VERSIONS") or "", "[^,]+") do table.insert(versions, v) end

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + tid)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "text/plain"
end

function request()
  counter = counter + 1
  if mode == "track" then
    local u = math.random(1, active)
    -- No VERSIONS: a batch that does not ask for messages (the reference).
    local ask = (#versions > 0) and string.format('"messages_version":"%s",', versions[(u % 3) + 1]) or ""
    local body = string.format(
      '{"app_id":"%s","user":{"id":"user%d"},%s"events":[' ..
      '{"message_id":"%s-%d-%d","type":"heartbeat","url":"https://shop.example/p"}]}',
      app_id, u, ask, run, tid, counter)
    return wrk.format("POST", "/api/v1/track", nil, body)
  end
  -- A new pair per request: thread tid takes every #threads-th pair.
  local i = (counter - 1) * nthreads + (tid - 1)
  local u = (i % users) + 1
  local m = messages[(math.floor(i / users) % #messages) + 1]
  local body = string.format('{"app_id":"%s","user":{"id":"user%d"},"message_id":%s}', app_id, u, m)
  local method = (mode == "noop") and "OPTIONS" or "POST"
  return wrk.format(method, "/api/v1/messenger/show", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d errors_other=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
