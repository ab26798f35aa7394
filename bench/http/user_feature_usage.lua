-- bench/http (c): GET /v0/pipes/user_feature_usage.json for typical users, keep-alive.
-- $USAGEDB_BENCH_USERS names a file of user_ids, one a line: run.sh writes the users
-- between the 40th and the 60th percentile of events per user (6 to 10 events in its
-- 1M-event store); each request asks for one of them at random.
local users = {}

function init(args)
  for line in io.lines(os.getenv("USAGEDB_BENCH_USERS")) do
    table.insert(users, line)
  end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("USAGEDB_BENCH_TOKEN")
  math.randomseed(os.time() + (id or 0))
end

function setup(thread)
  thread:set("id", math.random(1, 1000000))
end

function request()
  return wrk.format("GET", "/v0/pipes/user_feature_usage.json?user_id=" .. users[math.random(1, #users)])
end
