-- bench/http (b): one event per POST /v0/events (answered 202), keep-alive.
-- Each request's event_id is unique, so every event is stored (no dedup).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("USAGEDB_BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/x-ndjson"
  thread_id = id
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"event_id":"b%d_%d","user_id":"user_%d","feature_id":"feature_%d","product_version":"1.5.%d",' ..
    '"event_type":"click","timestamp":"2025-05-11 10:23:03","session_id":"s%d","metadata":"{\\"device\\":\\"desktop\\"}"}\n',
    thread_id, counter, counter % 5000, counter % 60, counter % 24, counter % 100000)
  return wrk.format(nil, "/v0/events?name=feature_events", nil, body)
end
