#!/usr/bin/env bash
# The test command: installs what is missing, checks the format (scripts/check_format.sh) and
# the include graph (scripts/check_includes.py), gets the model, builds, and runs every test
# with ctest, first in the release build, then under AddressSanitizer + UBSan (the
# reliability suite's short form among them: its tables are printed), then the threaded
# suites under ThreadSanitizer; then the fuzz targets' short form (scripts/fuzz.sh: 20000
# executions each over the kept corpus). A developer at work runs one layer instead:
#   ctest --preset release -L unit     (labels: unit, integration, slow, threaded; docs/testing.md)
#   scripts/test.sh                    everything (what CI runs)
#   scripts/test.sh --no-sanitizers    the release build only, for a quick local run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
presets=(release asan tsan)  # tsan: only the threaded suites (its test preset filters)
[[ "${1:-}" == "--no-sanitizers" ]] && presets=(release)

"$root/scripts/deps.sh"
echo "== checks"
"$root/scripts/check_format.sh"
python3 "$root/scripts/check_includes.py"
"$root/scripts/models.sh"
for preset in "${presets[@]}"; do
  echo "== build ($preset)"
  start=$SECONDS
  "$root/scripts/build.sh" "$preset"
  echo "== build ($preset) took $((SECONDS - start)) s; tests:"
  start=$SECONDS
  ctest --preset "$preset" -j"$(nproc)"
  echo "== tests ($preset) took $((SECONDS - start)) s"
  # The reliability suite's tables (tests/reliability.cpp, its short form, one of the tests).
  table="$root/build/reliability.md"
  [[ "$preset" == release ]] || table="$root/build-$preset/reliability.md"
  if [[ -f "$table" ]]; then echo "== reliability, short form ($preset build)"; cat "$table"; fi
done
if [[ "${1:-}" != "--no-sanitizers" ]]; then
  echo "== fuzz (short form)"
  start=$SECONDS
  "$root/scripts/fuzz.sh"
  echo "== fuzz took $((SECONDS - start)) s"
fi
