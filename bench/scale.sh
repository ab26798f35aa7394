#!/usr/bin/env bash
# The scaling benchmark (issue 21): usagedb at 1M, 10M, 30M and 100M events, DuckDB and chDB at
# 10M and 30M, each size in processes of its own. bench/README.md ("bench/scale") says what it
# measures.
#
#   bench/scale.sh                                  # 1M, 10M, 30M, 100M; hours, ~25 GB of disk at 100M
#   bench/scale.sh --sizes 1000000,10000000         # these sizes only
#   bench/scale.sh --peers-at 10000000              # DuckDB and chDB at these sizes only ("" = never)
#   bench/scale.sh --cache-bytes 1073741824         # usagedb's Options::cache_bytes when asking
#   bench/scale.sh --out /tmp/scale.md --workdir /big/disk
#
# Per size, bench/compare.sh --scale (usagedb_compare): generate the events (lib/gen, seed 42:
# the same file as `usagedb generate --events N`), then per engine one process loads them
# (usagedb: ingest_file into a new store, as `usagedb ingest` does) and a new process opens the
# data and asks the nine questions (one per endpoint), checked against chDB's rows when it runs.
# The NDJSON file and the databases are deleted before the next size. The tables (Markdown) go
# to --out (default: bench/scale-results.md under the work directory) and to standard output.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

sizes="1000000,10000000,30000000,100000000"
peers_at="10000000,30000000"
workdir="${TMPDIR:-/tmp}/usagedb_scale"
out=""
extra=()
queries="user_typical,summary_year,timeline_day_feature,adoption_year,active_users_7,retention_product"
queries+=",funnel_3_day,breakdown_year,versions_week_year"
while (($#)); do
  case "$1" in
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    --sizes|--peers-at|--workdir|--out|--cache-bytes|--budget|--queries)
      (($# >= 2)) || { echo "scale.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --sizes) sizes="$2" ;;
        --peers-at) peers_at="$2" ;;
        --workdir) workdir="$2" ;;
        --out) out="$2" ;;
        --queries) queries="$2" ;;
        *) extra+=("$1" "$2") ;;
      esac
      shift ;;
    *) echo "scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$workdir"
out="${out:-$workdir/scale-results.md}"
rows="$workdir/scale-rows.md"
: > "$rows"
: > "$rows.queries"

# $USAGEDB_COMPARE_BIN: an usagedb_compare already built (e.g. build/release/bench/usagedb_compare)
# instead of compare.sh's Release build in build/compare.
if [[ -n "${USAGEDB_COMPARE_BIN:-}" ]]; then
  run=("$USAGEDB_COMPARE_BIN" --paths-env "$repo/.peers/paths.env")
else
  run=(bash "$repo/bench/compare.sh")
fi

status=0
IFS=, read -r -a size_list <<< "$sizes"
for n in "${size_list[@]}"; do
  engines="usagedb"
  [[ ",$peers_at," == *",$n,"* ]] && engines="usagedb,duckdb,chdb"
  echo "=== $n events: $engines ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # The timed budget per query is 1 s (compare's default is 2): nine questions, up to three
  # engines, four sizes.
  if ! "${run[@]}" --events "$n" --scale --engines "$engines" --queries "$queries" \
      --workdir "$workdir/$n" --budget 1 --markdown "$workdir/compare-$n.md" --scale-rows "$rows" \
      "${extra[@]}"; then
    echo "scale.sh: the $n-event run failed (its rows, if any, are still in the table)" >&2
    status=1
  fi
  rm -rf "${workdir:?}/$n"
done

{
  echo "| events | engine | load s | events/s | load peak RSS MiB | on disk MB | B/event | open ms | RSS after open MiB | asking process peak RSS MiB | load average start / end |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$rows"
  echo
  header="| events | engine |"
  rule="|---|---|"
  IFS=, read -r -a query_list <<< "$queries"
  for q in "${query_list[@]}"; do header+=" $q |"; rule+="---|"; done
  echo "First run / warm p50, ms, in the process that opened the data:"
  echo
  echo "$header"
  echo "$rule"
  cat "$rows.queries"
} > "$out"
cat "$out"
echo "wrote $out"
exit "$status"
