#!/usr/bin/env bash
# usagedb side by side with DuckDB and ClickHouse (chDB): same events, same queries, same answers.
#
#   bench/compare.sh                 # 1,000,000 events
#   bench/compare.sh 10000000        # 10M events (~2.5 GB of NDJSON in $TMPDIR; minutes)
#   bench/compare.sh --smoke         # 100k events, few repetitions; exit != 0 on any mismatch
#   bench/compare.sh 1000000 --markdown /tmp/compare.md --keep   # other flags go to usagedb_compare
#                                    # (usagedb_compare --help lists them; bench/README.md)
#
# 1. installs the peer engines into <repo>/.peers/ when missing (bench/peers/install_peers.sh, npm)
# 2. builds usagedb_compare in Release (build/compare; tests, tools and examples off)
# 3. runs it: generate, load each engine in its own process, time every query, check the rows
#    against chDB's, print the tables (see bench/README.md). Exit status: usagedb_compare's.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${USAGEDB_COMPARE_BUILD_DIR:-$repo/build/compare}"

args=()
while (($#)); do
  case "$1" in
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    [0-9]*) args+=(--events "$1") ;;
    --events|--seed|--engines|--workdir|--paths-env|--duckdb|--chdb|--warmup|--budget|--min-reps|\
    --max-reps|--markdown|--tamper|--queries|--cache-bytes|--scale-rows)
      (($# >= 2)) || { echo "compare.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift ;;
    *) args+=("$1") ;;
  esac
  shift
done

paths_env="$repo/.peers/paths.env"
peers_ok() {
  [[ -f "$paths_env" ]] || return 1
  local lib
  for lib in $(sed -n 's/^USAGEDB_[A-Z]*_LIB=//p' "$paths_env"); do [[ -s "$lib" ]] || return 1; done
}
if ! peers_ok; then
  echo "compare.sh: peers not installed; running bench/peers/install_peers.sh"
  bash "$repo/bench/peers/install_peers.sh"
fi

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUSAGEDB_BUILD_TESTS=OFF \
  -DUSAGEDB_BUILD_EXAMPLES=OFF -DUSAGEDB_BUILD_TOOLS=OFF -DUSAGEDB_INSTALL=OFF >/dev/null
cmake --build "$build" --target usagedb_compare -j "$(nproc)"

exec "$build/bench/usagedb_compare" --paths-env "$paths_env" "${args[@]}"
