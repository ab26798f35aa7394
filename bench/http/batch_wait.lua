-- bench/http (a): POST /v0/events?wait=true with batches of 10,000 events (the file
-- $USAGEDB_BENCH_BATCH, NDJSON without event_ids so every request stores all of its
-- rows), each answered 200 once durable. Events/s = requests/s x 10,000.
function init(args)
  local f = assert(io.open(os.getenv("USAGEDB_BENCH_BATCH"), "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.path = "/v0/events?name=feature_events&wait=true"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("USAGEDB_BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/x-ndjson"
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
