#!/usr/bin/env bash
# The test command: installs what is missing, checks the format (scripts/check_format.sh) and
# the include graph (scripts/check_includes.py), gets the model, builds, and runs every test
# with ctest, first in the release build, then under AddressSanitizer + UBSan (the
# reliability suite's short form among them: its tables are printed), then the threaded
# suites under ThreadSanitizer; then the fuzz targets' short form (scripts/fuzz.sh: 20000
# executions, or 30 s, each over the kept corpus). A developer at work runs one layer instead:
#   ctest --preset release -L unit     (labels: unit, integration, slow, threaded; docs/testing.md)
#   scripts/test.sh                    everything (what CI runs)
#   scripts/test.sh --no-sanitizers    the release build only, for a quick local run
#   scripts/test.sh --docs             everything, then writes the tables it made into docs/:
#                                      its step times (docs/measurements.md), the reliability
#                                      suite's short form and the hostile requests
#                                      (docs/reliability.md), each naming this command
# Each step's time is also written to build/test-times.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
presets=(release asan tsan)  # tsan: only the threaded suites (its test preset filters)
sanitizers=1 docs=0
for arg in "$@"; do
  case "$arg" in
    --no-sanitizers) presets=(release) sanitizers=0 ;;
    --docs) docs=1 ;;
    *) echo "test.sh: unknown argument '$arg' (--no-sanitizers, --docs)" >&2; exit 2 ;;
  esac
done

times=$(mktemp)
trap 'rm -f "$times"' EXIT
begun=$SECONDS
step() {  # step NAME COMMAND...: runs it, its time in the table
  local start=$SECONDS
  "${@:2}"
  echo "| $1 | $((SECONDS - start)) s |" >>"$times"
}

step "packages (scripts/deps.sh)" "$root/scripts/deps.sh"
echo "== checks"
step "format and include checks" bash -c "'$root/scripts/check_format.sh' && python3 '$root/scripts/check_includes.py'"
"$root/scripts/models.sh"
for preset in "${presets[@]}"; do
  echo "== build ($preset)"
  step "build, $preset preset" "$root/scripts/build.sh" "$preset"
  echo "== tests ($preset)"
  step "tests, $preset preset (ctest -j$(nproc))" ctest --preset "$preset" -j"$(nproc)"
  # The reliability suite's tables (tests/reliability.cpp, its short form, one of the tests).
  table="$root/build/reliability.md"
  [[ "$preset" == release ]] || table="$root/build-$preset/reliability.md"
  if [[ -f "$table" ]]; then echo "== reliability, short form ($preset build)"; cat "$table"; fi
done
if ((sanitizers)); then
  echo "== fuzz (short form)"
  step "fuzz targets, short form (scripts/fuzz.sh)" "$root/scripts/fuzz.sh"
fi
echo "| the whole command | $((SECONDS - begun)) s |" >>"$times"
{
  echo "| step | time |"
  echo "|---|---|"
  cat "$times"
} >"$root/build/test-times.md"
echo "== times"
cat "$root/build/test-times.md"

if ((docs)); then
  echo "== tables into docs/"
  command="scripts/test.sh $*"
  python3 "$root/scripts/put_table.py" docs/measurements.md test-times \
    "$root/build/test-times.md" "$command"
  python3 "$root/scripts/put_table.py" docs/reliability.md reliability-short \
    "$root/build/reliability.md" "$command (release build)"
  # The hostile requests: the whole list runs in one process, which prints it at the end.
  hostile=$(mktemp)
  "$root/build/tests/test_hostile" | sed -n '/^| name | request | caller | answer |$/,$p' >"$hostile"
  python3 "$root/scripts/put_table.py" docs/reliability.md hostile-requests "$hostile" \
    "$command (build/tests/test_hostile)"
  rm -f "$hostile"
fi
