#!/usr/bin/env bash
# A new process's CLI query, timed to its answer (issue 21): wall time from the start of
# `usagedb query ...` to the first byte of its answer on standard output, and the process's peak
# RSS up to that moment (VmHWM, read with the process stopped), then the whole run's wall time
# (the store's close included).
#
#   bench/first_answer.sh [--runs 5] [--no-rollups] USAGEDB STORE NAME [param=value ...]
#   bench/first_answer.sh --runs 7 build/rel/usagedb build/s30 user_feature_usage user_id=user_1234
#
# --no-rollups deletes STORE's rollup files before every run, so the query reads the parts (a
# rollup file that is missing is rebuilt by the closing checkpoint, which is why the time to the
# answer is the number to read then). The store is opened in place and closed: use a copy.
# Prints one line per run and the medians.
set -euo pipefail

runs=5
no_rollups=0
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --no-rollups) no_rollups=1; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
  esac
done
(($# >= 3)) || { echo "usage: $0 [--runs N] [--no-rollups] USAGEDB STORE NAME [param=value ...]" >&2; exit 2; }
bin="$1" store="$2" name="$3"
shift 3

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fifo="$dir/out"
mkfifo "$fifo"
answer_ms=() answer_kb=() total_ms=()
for ((i = 1; i <= runs; i++)); do
  ((no_rollups)) && rm -f "$store"/rollup-*.udbr
  start=$(date +%s%N)
  "$bin" query "$name" --store "$store" --format csv "$@" >"$fifo" &
  pid=$!
  exec 3<"$fifo"
  IFS= read -r -n 1 -u 3 _ || true
  now=$(date +%s%N)
  kill -STOP "$pid" 2>/dev/null || true
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  kill -CONT "$pid" 2>/dev/null || true
  cat <&3 >/dev/null
  exec 3<&-
  wait "$pid"
  end=$(date +%s%N)
  ms=$(((now - start) / 1000000))
  printf 'run %d: answer after %d ms, peak RSS %s KB by then; whole run %d ms\n' \
    "$i" "$ms" "${hwm:-(exited)}" $(((end - start) / 1000000))
  answer_ms+=("$ms") total_ms+=($(((end - start) / 1000000)))
  [[ -n "$hwm" ]] && answer_kb+=("$hwm")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
printf 'median of %d: answer after %s ms, peak RSS %s KB by then; whole run %s ms (%s)\n' \
  "$runs" "$(median "${answer_ms[@]}")" "$(median "${answer_kb[@]:-0}")" "$(median "${total_ms[@]}")" \
  "$(uptime | sed 's/.*load/load/')"
