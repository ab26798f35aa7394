#!/usr/bin/env bash
# Installs the Debian packages usagedb builds with, only those that are missing.
# Uses sudo when not run as root. Safe to run repeatedly.
#   USAGEDB_WITH_CLANG=1  also clang (fuzzers, the sanitizer builds in tools/check.sh)
#   USAGEDB_WITH_PEERS=1  also node and npm, when missing (bench/peers/install_peers.sh)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libabsl-dev libsimdjson-dev libroaring-dev libxxhash-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev zlib1g-dev libssl-dev  # the HTTP API (lib/http, usagedb serve)
  curl                                      # the HTTP API's tests drive the server with it
  libjs-chart.js                            # Chart.js, built into the dashboard (SPEC 7)
  chromium                                  # the dashboard's browser test (tests/web, headless)
)
# clang provides libFuzzer for the NDJSON fuzz target; optional for the main build.
if [[ "${USAGEDB_WITH_CLANG:-0}" == 1 ]]; then packages+=(clang); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node and npm install the benchmark's peer engines (bench/peers/install_peers.sh). Checked by
# command, not by package: a Node.js from elsewhere (e.g. a nodejs package that bundles npm)
# must not be replaced by Debian's, which would conflict with it.
if [[ "${USAGEDB_WITH_PEERS:-0}" == 1 ]]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "usagedb: installing missing packages: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "usagedb: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
