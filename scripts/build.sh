#!/usr/bin/env bash
# Installs what is missing, then configures and builds one CMake preset (default: release,
# into build/). Idempotent; a no-op build takes about a second.
#   scripts/build.sh [release|debug|asan]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:-release}
"$root/scripts/deps.sh"
cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -- -j"$(nproc)"
