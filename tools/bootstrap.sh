#!/usr/bin/env bash
# First contact: installs what is missing, builds usagedb (library, CLI,
# examples) in build/release and runs the main job: `usagedb demo`, which
# generates 1M events, ingests them into the default store (./usagedb-data)
# and answers the three endpoints. Safe to run again: rebuilds only what
# changed, and the demo's events are deduplicated by event_id.
#
#   tools/bootstrap.sh                 # the demo on 1M events
#   tools/bootstrap.sh --events 200000 # any `usagedb demo` option
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DUSAGEDB_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)"
build/release/usagedb demo "$@"
