#!/usr/bin/env bash
# The seed tutorial's curl commands against `usagedb serve`, verbatim but for
# the host: "Build a Feature Usage Tracking API with Tinybird" (dev.to/tinybirdco,
# and its project README's "Example Usage"). https://api.europe-west2.gcp.tinybird.co
# and https://api.tinybird.co become $host; $TB_ADMIN_TOKEN is the admin token
# the server created on its first start, printed once.
#
# Notes on "verbatim":
# - the article's rendering of the user_feature_usage call wraps the word
#   "pipes" of the URL in a Markdown link to the docs; the command is the one
#   of the README (and of the text around it), without the link;
# - its last command has placeholders (your_pipe_name, YOUR_TOKEN), filled in.
#
#   bash tests/http/tutorial_test.sh build/release/usagedb
# Exit 77 (skip) without curl.
set -euo pipefail
usagedb=${1:?usage: tutorial_test.sh PATH/TO/usagedb}
command -v curl >/dev/null || { echo "SKIPPED: curl is not installed (apt-get install curl)"; exit 77; }

tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$usagedb" serve --store "$tmp/store" --port 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 200); do
  grep -q 'listening on' "$tmp/out" 2>/dev/null && grep -q 'shown only this once' "$tmp/out" && break
  sleep 0.05
done
port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$tmp/out" | grep -o '[0-9]*$')
TB_ADMIN_TOKEN=$(sed -n 3p "$tmp/out")
[[ -n "$port" && -n "$TB_ADMIN_TOKEN" ]] || { echo "the server did not start:"; cat "$tmp/out" "$tmp/err"; exit 1; }
host="http://127.0.0.1:$port"

failed=0
# expect NAME EXPECTED: compares the output of the last command ($tmp/got),
# its "statistics" (timings and the store's read counters) left out.
expect() {
  local got
  got=$(sed -E 's/,"statistics":\{[^}]*\}//' "$tmp/got")
  if [[ "$got" != "$2" ]]; then
    echo "FAILED: $1"
    echo "  expected: $2"
    echo "  got:      $got"
    failed=1
  else
    echo "ok: $1"
  fi
}

# ---- Sending events (the tutorial's "Here's how you can send data to your feature_events data source")
curl -X POST "$host/v0/events?name=feature_events&utm_source=DEV&utm_campaign=tb+create+--prompt+DEV" \
     -H "Authorization: Bearer $TB_ADMIN_TOKEN" \
     -d '{
       "event_id": "evt_12345",
       "user_id": "usr_789",
       "feature_id": "feature_recommendations",
       "product_version": "2.4.1",
       "event_type": "feature_used",
       "timestamp": "2023-10-15 14:35:22",
       "session_id": "sess_456",
       "metadata": "{\"duration_seconds\":45,\"result\":\"success\"}"
     }' >"$tmp/got" 2>>"$tmp/curl_progress"
expect "POST /v0/events (the tutorial's event)" '{"successful_rows":1,"quarantined_rows":0,"duplicate_rows":0}'

# ---- The README's ingestion example (the same event, without the utm_ parameters): a duplicate now
curl -X POST "$host/v0/events?name=feature_events" \
     -H "Authorization: Bearer $TB_ADMIN_TOKEN" \
     -d '{
       "event_id": "evt_12345",
       "user_id": "usr_789",
       "feature_id": "feature_recommendations",
       "product_version": "2.4.1",
       "event_type": "feature_used",
       "timestamp": "2023-10-15 14:35:22",
       "session_id": "sess_456",
       "metadata": "{\"duration_seconds\":45,\"result\":\"success\"}"
     }' >"$tmp/got" 2>>"$tmp/curl_progress"
expect "POST /v0/events again (event_id dedup)" '{"successful_rows":0,"quarantined_rows":0,"duplicate_rows":1}'

# ---- User Feature Usage
curl -X GET "$host/v0/pipes/user_feature_usage.json?token=$TB_ADMIN_TOKEN&user_id=usr_789&feature_id=feature_recommendations" >"$tmp/got" 2>>"$tmp/curl_progress"
expect "GET user_feature_usage.json" '{"meta":[{"name":"user_id","type":"String"},{"name":"feature_id","type":"String"},{"name":"product_version","type":"String"},{"name":"usage_count","type":"UInt64"},{"name":"first_usage","type":"DateTime"},{"name":"last_usage","type":"DateTime"}],"data":[{"user_id":"usr_789","feature_id":"feature_recommendations","product_version":"2.4.1","usage_count":1,"first_usage":"2023-10-15 14:35:22","last_usage":"2023-10-15 14:35:22"}],"rows":1}'

# ---- Feature Usage Summary
curl -X GET "$host/v0/pipes/feature_usage_summary.json?token=$TB_ADMIN_TOKEN&start_date=2023-09-01%2000:00:00&end_date=2023-10-31%2023:59:59" >"$tmp/got" 2>>"$tmp/curl_progress"
expect "GET feature_usage_summary.json" '{"meta":[{"name":"feature_id","type":"String"},{"name":"product_version","type":"String"},{"name":"total_events","type":"UInt64"},{"name":"unique_users","type":"UInt64"},{"name":"unique_sessions","type":"UInt64"},{"name":"first_seen","type":"DateTime"},{"name":"last_seen","type":"DateTime"}],"data":[{"feature_id":"feature_recommendations","product_version":"2.4.1","total_events":1,"unique_users":1,"unique_sessions":1,"first_seen":"2023-10-15 14:35:22","last_seen":"2023-10-15 14:35:22"}],"rows":1}'

# ---- Feature Usage Timeline (`interval` is not a parameter of usagedb's timeline: ignored, as Tinybird ignores unknown ones)
curl -X GET "$host/v0/pipes/feature_usage_timeline.json?token=$TB_ADMIN_TOKEN&feature_id=feature_recommendations&interval=7%20day" >"$tmp/got" 2>>"$tmp/curl_progress"
expect "GET feature_usage_timeline.json" '{"meta":[{"name":"period","type":"DateTime"},{"name":"feature_id","type":"String"},{"name":"events","type":"UInt64"},{"name":"unique_users","type":"UInt64"}],"data":[{"period":"2023-10-15 00:00:00","feature_id":"feature_recommendations","events":1,"unique_users":1}],"rows":1}'

# ---- Deploying to production: token-based authentication (your_pipe_name and YOUR_TOKEN filled in)
your_pipe_name=user_feature_usage
YOUR_TOKEN=$TB_ADMIN_TOKEN
curl -X GET "$host/v0/pipes/$your_pipe_name.json?token=$YOUR_TOKEN&utm_source=DEV&utm_campaign=tb+create+--prompt+DEV" >"$tmp/got" 2>>"$tmp/curl_progress"
expect "GET your_pipe_name.json with utm_ parameters" '{"meta":[{"name":"user_id","type":"String"},{"name":"feature_id","type":"String"},{"name":"product_version","type":"String"},{"name":"usage_count","type":"UInt64"},{"name":"first_usage","type":"DateTime"},{"name":"last_usage","type":"DateTime"}],"data":[],"rows":0}'

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status -eq 0 ]] || { echo "FAILED: usagedb serve exited with $status after SIGTERM"; cat "$tmp/err"; failed=1; }
grep -q "$TB_ADMIN_TOKEN" "$tmp/err" && { echo "FAILED: the admin token appears in the server's log"; failed=1; }
exit $failed
