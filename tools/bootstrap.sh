#!/usr/bin/env bash
# First contact: installs what is missing, builds usagedb in build/release and
# runs the main job. Safe to run again (it rebuilds only what changed).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DUSAGEDB_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)"
build/release/examples/quickstart
