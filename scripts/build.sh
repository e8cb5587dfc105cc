#!/usr/bin/env bash
# Installs what is missing, fetches the dashboard's browser libraries, then configures and
# builds one CMake preset (default: release, into build/), every target or those named.
# Idempotent; a no-op build takes about a second.
#   scripts/build.sh [release|debug|asan|tsan] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:-release}
targets=("${@:2}")
"$root/scripts/deps.sh"
"$root/scripts/dashboard.sh"  # the dashboard's browser libraries (npm, at build time)
cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" ${targets[@]:+--target "${targets[@]}"} -- -j"$(nproc)"
