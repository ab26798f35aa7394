-- bench/http (c): GET /v0/pipes/user_feature_usage.json for typical users:
-- user_ids drawn uniformly from the generator's 20,000 users (the median user
-- has ~8 events in a 1M-event store, the 90th percentile ~41), keep-alive.
local counter = 0

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("USAGEDB_BENCH_TOKEN")
  math.randomseed(id or 1)
end

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/v0/pipes/user_feature_usage.json?user_id=user_" .. math.random(0, 19999))
end
