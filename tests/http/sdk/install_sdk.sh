#!/usr/bin/env bash
# Installs Tinybird's TypeScript SDK (@tinybirdco/sdk, pinned) from the npm registry into
# <repo>/.peers/tinybird-sdk/ (git-ignored), for the http_sdk test (tests/http/sdk/sdk_test.mjs),
# which drives `usagedb serve` with the SDK's TinybirdApi class, unmodified.
#
#   bash tests/http/sdk/install_sdk.sh          (tools/check.sh runs it)
#
# Idempotent: when the pinned version is there it only checks it. USAGEDB_PEERS_DIR installs
# elsewhere (the test looks in the same place). When the registry is unreachable it says so
# and exits 0: the test then skips with a visible message. Any other failure is an error.
set -euo pipefail

SDK_PKG="@tinybirdco/sdk"
SDK_VERSION="0.0.84"
SDK_INTEGRITY="sha512-uQXI4rbUoJV5D2O/m3sKvYqBGwkuJETLsPjUmEStkOwdjbCaAOdVPLuF+bj7Ew+ZCcbshri5p57uNzIRSU+qVw=="

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../../.." && pwd)"
dir="${USAGEDB_PEERS_DIR:-$repo_root/.peers}/tinybird-sdk"

die() { echo "install_sdk.sh: error: $*" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || die "npm not found (Debian: apt-get install -y npm)"
command -v node >/dev/null 2>&1 || die "node not found (Debian: apt-get install -y nodejs)"

installed_version() {
  local pj="$dir/node_modules/$SDK_PKG/package.json"
  [[ -f "$pj" ]] || { echo ""; return; }
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$pj"
}

if [[ "$(installed_version)" == "$SDK_VERSION" ]]; then
  echo "install_sdk.sh: $SDK_PKG@$SDK_VERSION already installed in $dir"
else
  mkdir -p "$dir"
  cat >"$dir/package.json" <<JSON
{
  "name": "usagedb-tinybird-sdk-test",
  "private": true,
  "description": "Tinybird's SDK for usagedb's HTTP API test; written by tests/http/sdk/install_sdk.sh",
  "dependencies": { "$SDK_PKG": "$SDK_VERSION" }
}
JSON
  echo "install_sdk.sh: installing $SDK_PKG@$SDK_VERSION into $dir"
  if ! (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error); then
    if ! npm ping --loglevel=error >/dev/null 2>&1; then
      echo "install_sdk.sh: the npm registry is unreachable: the http_sdk test will be SKIPPED" >&2
      exit 0
    fi
    die "npm install failed in $dir (the registry answers: see above)"
  fi
  [[ "$(installed_version)" == "$SDK_VERSION" ]] || die "npm install finished but $SDK_PKG@$SDK_VERSION is not in $dir"
fi

got="$(node -e '
  const lock = require(process.argv[1]);
  const p = (lock.packages || {})["node_modules/" + process.argv[2]];
  process.stdout.write(p && p.integrity ? p.integrity : "");' "$dir/node_modules/.package-lock.json" "$SDK_PKG")"
[[ "$got" == "$SDK_INTEGRITY" ]] ||
  die "$SDK_PKG integrity mismatch: expected $SDK_INTEGRITY, npm recorded '$got' (delete $dir and rerun)"
echo "install_sdk.sh: $SDK_PKG@$SDK_VERSION ready in $dir"
