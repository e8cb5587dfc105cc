#!/usr/bin/env bash
# The test command: installs what is missing, gets the model, builds, and runs every test
# with ctest, first in the release build, then under AddressSanitizer + UBSan; then the
# fuzz targets' short form (scripts/fuzz.sh: 20000 executions each over the kept corpus).
#   scripts/test.sh                    everything (what CI runs)
#   scripts/test.sh --no-sanitizers    the release build only, for a quick local run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
presets=(release asan)
[[ "${1:-}" == "--no-sanitizers" ]] && presets=(release)

"$root/scripts/deps.sh"
"$root/scripts/models.sh"
for preset in "${presets[@]}"; do
  echo "== build ($preset)"
  start=$SECONDS
  "$root/scripts/build.sh" "$preset"
  echo "== build ($preset) took $((SECONDS - start)) s; tests:"
  start=$SECONDS
  ctest --preset "$preset" -j"$(nproc)"
  echo "== tests ($preset) took $((SECONDS - start)) s"
done
if [[ "${1:-}" != "--no-sanitizers" ]]; then
  echo "== fuzz (short form)"
  start=$SECONDS
  "$root/scripts/fuzz.sh"
  echo "== fuzz took $((SECONDS - start)) s"
fi
