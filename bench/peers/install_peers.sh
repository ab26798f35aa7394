#!/usr/bin/env bash
# Installs the two peer engines of the benchmark / conformance harness from the npm registry
# into <repo>/.peers/ (git-ignored) and records where their shared libraries are:
#
#   DuckDB  : @duckdb/node-bindings-linux-x64  -> libduckdb.so (DuckDB C API)
#   chDB    : chdb + @chdb/lib-linux-x64-gnu   -> libchdb.so   (ClickHouse in process, chdb.h C API)
#
# Run it explicitly (nothing downloads at build time):   bash bench/peers/install_peers.sh
# It is idempotent: when the pinned versions are already there it only re-checks them and
# rewrites .peers/paths.env. Set USAGEDB_PEERS_DIR to install somewhere else.
#
# Writes <peers>/paths.env:
#   USAGEDB_DUCKDB_LIB=/abs/path/libduckdb.so
#   USAGEDB_CHDB_LIB=/abs/path/libchdb.so
# (source it, or pass the paths to peers_smoke / the benchmark).
set -euo pipefail

# ---- pinned versions (verified together: see bench/peers/README.md) -------------------------
DUCKDB_PKG="@duckdb/node-bindings-linux-x64"
DUCKDB_VERSION="1.5.6-r.1"          # ships DuckDB v1.5.x libduckdb.so
DUCKDB_INTEGRITY="sha512-IXcrZJE6kEqM0Z4wwdVnGBHX/frOS33VPNAwDXQ/Q+Fs84b058Qe94chrCCIcNJlG8Y3UHIUU4eBeCQxW5mN1Q=="
CHDB_PKG="chdb"
CHDB_VERSION="3.4.0"                # the JS package; it names the lib package below
CHDB_LIB_PKG="@chdb/lib-linux-x64-gnu"
CHDB_LIB_VERSION="26.7.3-stable.1"  # ships libchdb.so, chdb_version() = 26.7.3
CHDB_LIB_INTEGRITY="sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=="
# ----------------------------------------------------------------------------------------------

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
peers_dir="${USAGEDB_PEERS_DIR:-$repo_root/.peers}"

die() { echo "install_peers.sh: error: $*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) die "only linux x86_64 (glibc) is supported by the pinned packages, this is $(uname -s)-$(uname -m)" ;;
esac
command -v npm >/dev/null 2>&1 || die "npm not found (Debian: apt-get install -y npm)"
command -v node >/dev/null 2>&1 || die "node not found (Debian: apt-get install -y nodejs)"

mkdir -p "$peers_dir"
peers_dir="$(cd "$peers_dir" && pwd)"
nm_dir="$peers_dir/node_modules"
duckdb_lib="$nm_dir/$DUCKDB_PKG/libduckdb.so"
chdb_lib="$nm_dir/$CHDB_LIB_PKG/libchdb.so"

# Prints the installed version of package $1 ("" when absent).
installed_version() {
  local pj="$nm_dir/$1/package.json"
  [[ -f "$pj" ]] || { echo ""; return; }
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$pj"
}

# Prints the integrity npm recorded for package $1 ("" when unknown).
installed_integrity() {
  local lock="$nm_dir/.package-lock.json"
  [[ -f "$lock" ]] || { echo ""; return; }
  node -e '
    const lock = require(process.argv[1]);
    const p = (lock.packages || {})["node_modules/" + process.argv[2]];
    process.stdout.write(p && p.integrity ? p.integrity : "");' "$lock" "$1"
}

is_installed() {
  [[ "$(installed_version "$DUCKDB_PKG")" == "$DUCKDB_VERSION" ]] &&
  [[ "$(installed_version "$CHDB_PKG")" == "$CHDB_VERSION" ]] &&
  [[ "$(installed_version "$CHDB_LIB_PKG")" == "$CHDB_LIB_VERSION" ]] &&
  [[ -s "$duckdb_lib" && -s "$chdb_lib" ]]
}

if is_installed; then
  echo "install_peers.sh: pinned versions already installed in $peers_dir"
else
  echo "install_peers.sh: installing $DUCKDB_PKG@$DUCKDB_VERSION, $CHDB_PKG@$CHDB_VERSION," \
       "$CHDB_LIB_PKG@$CHDB_LIB_VERSION into $peers_dir (about 650 MB unpacked)"
  # A private package.json with exact versions keeps this folder self-contained.
  cat >"$peers_dir/package.json" <<EOF
{
  "name": "usagedb-bench-peers",
  "private": true,
  "description": "Peer engines for the usagedb benchmark; written by bench/peers/install_peers.sh",
  "dependencies": {
    "$DUCKDB_PKG": "$DUCKDB_VERSION",
    "$CHDB_PKG": "$CHDB_VERSION",
    "$CHDB_LIB_PKG": "$CHDB_LIB_VERSION"
  }
}
EOF
  # --ignore-scripts: we only want the files; nothing is built or executed.
  (cd "$peers_dir" && npm install --no-audit --no-fund --ignore-scripts --save-exact \
      --loglevel=error) || die "npm install failed in $peers_dir"
  is_installed || die "npm install finished but the pinned versions are not all present in $nm_dir"
fi

# Verify the native packages are byte-for-byte the ones pinned here.
got="$(installed_integrity "$DUCKDB_PKG")"
[[ "$got" == "$DUCKDB_INTEGRITY" ]] ||
  die "$DUCKDB_PKG integrity mismatch: expected $DUCKDB_INTEGRITY, npm recorded '${got}' (delete $peers_dir and rerun)"
got="$(installed_integrity "$CHDB_LIB_PKG")"
[[ "$got" == "$CHDB_LIB_INTEGRITY" ]] ||
  die "$CHDB_LIB_PKG integrity mismatch: expected $CHDB_LIB_INTEGRITY, npm recorded '${got}' (delete $peers_dir and rerun)"

# The C symbols the harness resolves with dlsym must be exported.
# (nm's output is captured first: `nm | grep -q` would fail under pipefail when grep exits early.)
if command -v nm >/dev/null 2>&1; then
  syms="$(nm -D --defined-only "$duckdb_lib")"
  for sym in duckdb_open_ext duckdb_connect duckdb_query duckdb_fetch_chunk duckdb_library_version; do
    grep -q " T $sym\$" <<<"$syms" || die "$duckdb_lib does not export $sym"
  done
  syms="$(nm -D --defined-only "$chdb_lib")"
  for sym in chdb_connect chdb_query_n chdb_result_error chdb_destroy_query_result chdb_version; do
    grep -q " T $sym\$" <<<"$syms" || die "$chdb_lib does not export $sym"
  done
fi

cat >"$peers_dir/paths.env" <<EOF
# written by bench/peers/install_peers.sh; $DUCKDB_PKG@$DUCKDB_VERSION, $CHDB_LIB_PKG@$CHDB_LIB_VERSION
USAGEDB_DUCKDB_LIB=$duckdb_lib
USAGEDB_CHDB_LIB=$chdb_lib
EOF

echo "USAGEDB_DUCKDB_LIB=$duckdb_lib"
echo "USAGEDB_CHDB_LIB=$chdb_lib"
echo "install_peers.sh: wrote $peers_dir/paths.env"
