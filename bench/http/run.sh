#!/usr/bin/env bash
# bench/http: usagedb serve under load from wrk (Debian's), client and server on one machine.
#
#   (a) POST /v0/events?wait=true, batches of 10,000 events, 8 connections      -> events/s
#       (events of one month, as a live API receives them; (a') over 12 months)
#   (b) POST /v0/events, one event per request (202), keep-alive, 64 connections -> requests/s
#   (c) GET /v0/pipes/user_feature_usage.json, typical users, 64 connections   -> requests/s, p99
#       (users between the 40th and 60th percentile of events per user, 6 to 10 events)
#
# Each run starts a fresh server (the store of (c) holds 1M generated events), records the
# server's peak RSS (VmHWM), stops it with SIGTERM (exit status 0 required) and prints one
# line per scenario. Quote medians of several runs, with the load average (printed).
#
#   bash bench/http/run.sh [--runs N] [--seconds S] [--usagedb PATH]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
usagedb="$repo/build/release/usagedb"
runs=3
seconds=10
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --usagedb) usagedb=$2; shift 2 ;;
    *) echo "usage: run.sh [--runs N] [--seconds S] [--usagedb PATH]" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
[[ -x "$usagedb" ]] || { echo "run.sh: no usagedb at $usagedb (build it: cmake --build build/release)" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export USAGEDB_BENCH_TOKEN="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "{\"tokens\":[{\"name\":\"bench\",\"token\":\"$USAGEDB_BENCH_TOKEN\",\"scopes\":[\"ADMIN\"]}]}" >"$tmp/tokens.json"
port=7191

# The batches of (a): 10,000 generated events without event_ids (no dedup: each request
# stores all of them), from one month, as a live Events API receives them; and (a'), the same
# spread over 12 months (every batch touches every month: each checkpoint rebuilds all months).
"$usagedb" generate --events 10000 --seed 3 --months 1 --start 2025-06-01 | sed 's/"event_id":"[^"]*",//' \
  >"$tmp/batch10k.ndjson"
"$usagedb" generate --events 10000 --seed 3 | sed 's/"event_id":"[^"]*",//' >"$tmp/batch10k_year.ndjson"
# The store of (c): 1M generated events (20,000 users, 60 features, 24 versions, 12 months).
"$usagedb" generate --events 1000000 --output "$tmp/1m.ndjson" 2>/dev/null
"$usagedb" ingest --store "$tmp/query-store" "$tmp/1m.ndjson" >/dev/null 2>&1
cp -r "$tmp/query-store" "$tmp/query-store.orig"
# The typical users of (c): those between the 40th and 60th percentile of events per user.
grep -o '"user_id":"[^"]*"' "$tmp/1m.ndjson" | cut -d'"' -f4 | sort | uniq -c | sort -n |
  awk '{u[NR] = $2} END {for (i = int(NR * 0.4); i <= int(NR * 0.6); i++) print u[i]}' >"$tmp/typical_users.txt"
export USAGEDB_BENCH_USERS="$tmp/typical_users.txt"

start_server() {  # STORE
  "$usagedb" serve --store "$1" --tokens "$tmp/tokens.json" --port "$port" --access-log off >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$tmp/server.out" && return; sleep 0.05; done
  echo "run.sh: the server did not start:" >&2; cat "$tmp/server.out" >&2; exit 1
}

stop_server() {  # sets rss: the server's peak RSS in MiB
  rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status")
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=
  [[ $status -eq 0 ]] || { echo "run.sh: usagedb serve exited with $status after SIGTERM" >&2; exit 1; }
}

# scenario NAME STORE CONNECTIONS SCRIPT EVENTS_PER_REQUEST (0: not an ingest): one line.
scenario() {
  local name=$1 store=$2 connections=$3 script=$4 per_request=$5 load rps p50 p99 events
  start_server "$store"
  load=$(cut -d' ' -f1 /proc/loadavg)
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$here/$script" "http://127.0.0.1:$port" >"$tmp/wrk.txt" 2>&1
  read -r rps p50 p99 <<<"$(awk '/Requests\/sec/ {r = $2} /^ +50%/ {a = $2} /^ +99%/ {b = $2} END {print r, a, b}' \
    "$tmp/wrk.txt")"
  stop_server
  events=$(awk -v r="$rps" -v n="$per_request" 'BEGIN { if (n > 0) printf "%.0f", r * n; else print "-" }')
  printf '%-44s %5s %12s %12s %9s %9s %7sMiB %s\n' "$name" "$run" "$rps" "$events" "$p50" "$p99" "$rss" "$load"
}

printf '%-44s %5s %12s %12s %9s %9s %9s %s\n' scenario run requests/s events/s p50 p99 peak_RSS load
for run in $(seq "$runs"); do
  rm -rf "$tmp/a" "$tmp/a-year" "$tmp/b" "$tmp/query-store"
  cp -r "$tmp/query-store.orig" "$tmp/query-store"
  USAGEDB_BENCH_BATCH="$tmp/batch10k.ndjson" \
    scenario "(a) wait=true, 10,000-event batches, 8 conn" "$tmp/a" 8 batch_wait.lua 10000
  USAGEDB_BENCH_BATCH="$tmp/batch10k_year.ndjson" \
    scenario "(a') the same, events over 12 months" "$tmp/a-year" 8 batch_wait.lua 10000
  scenario "(b) single-event POSTs (202), 64 conn" "$tmp/b" 64 single_event.lua 1
  scenario "(c) user_feature_usage.json, 64 conn" "$tmp/query-store" 64 user_feature_usage.lua 0
done
