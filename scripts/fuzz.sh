#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 16, ASan + UBSan, into build-fuzz/)
# and runs each one over its kept corpus (fuzz/corpus/<target>/) for a fixed number of
# executions (the short form: or 30 s, whichever comes first), then prints a table. Exits non-zero when any target crashed, broke an invariant,
# leaked or timed out, naming the file that reproduces it (build-fuzz/fuzz-artifacts/).
#   scripts/fuzz.sh                     the short form for CI: 20000 executions a target, or
#                                       30 s for a slow one (the whole kept corpus runs first)
#   scripts/fuzz.sh --long              500000 executions a target
#   scripts/fuzz.sh --runs N            N executions a target
#   scripts/fuzz.sh --keep-new          merge the inputs that found new coverage into
#                                       fuzz/corpus/ (otherwise the repository is not touched)
#   scripts/fuzz.sh [...] TARGET...     only these targets (fuzz_ingest fuzz_jpeg ...)
# Reproduce a crash: build-fuzz/fuzz/<target> <crash file>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

runs=20000
seconds=30  # the short form's time cap a target; 0: none
keep_new=0
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --long) runs=500000 seconds=0 ;;
    --runs) runs=$2 seconds=0; shift ;;
    --keep-new) keep_new=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    fuzz_*) targets+=("$1") ;;
    *) echo "fuzz: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# Each target and the longest input it is given (a small JPEG with its headers, a config file).
declare -A max_len=([fuzz_ingest]=4096 [fuzz_jpeg]=4096 [fuzz_csv]=4096 [fuzz_yaml]=8192
                     [fuzz_query]=1024)
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_ingest fuzz_jpeg fuzz_csv fuzz_yaml fuzz_query)

"$root/scripts/deps.sh"  # clang-16 and libFuzzer among the rest

start=$SECONDS
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -- -j"$(nproc)"
limit=()
[[ $seconds -gt 0 ]] && limit=(-max_total_time="$seconds")
echo "== fuzz: build took $((SECONDS - start)) s; $runs executions a target${limit:+ or $seconds s}"

work=$(mktemp -d "${TMPDIR:-/tmp}/att-fuzz-run-XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$root/build-fuzz/fuzz-artifacts"
logs="$root/build-fuzz/fuzz-logs"
mkdir -p "$artifacts" "$logs"
# Stacks are symbolized with addr2line (binutils) when llvm-symbolizer is not installed.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:symbolize=1:allow_addr2line=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

rows=()
failed=0
for t in "${targets[@]}"; do
  bin="$root/build-fuzz/fuzz/$t"
  corpus="$work/$t"
  cp -r "$root/fuzz/corpus/$t" "$corpus"
  dict=()
  [[ -f "$root/fuzz/$t.dict" ]] && dict=(-dict="$root/fuzz/$t.dict")
  log="$logs/$t.log"
  start_ns=$(date +%s%N)
  set +e
  "$bin" "$corpus" -runs="$runs" -max_len="${max_len[$t]}" -timeout=20 -rss_limit_mb=2048 \
    -seed=1 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${limit[@]}" "${dict[@]}" \
    >"$log" 2>&1
  rc=$?
  set -e
  took=$(awk -v ns=$(($(date +%s%N) - start_ns)) 'BEGIN { printf "%.1f", ns / 1e9 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(awk -v n="${execs:-0}" -v s="$took" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -En 's/.* cov: ([0-9]+) ft: ([0-9]+).*/\1\/\2/p' <<<"$last")
  files=$(find "$corpus" -type f | wc -l)
  kib=$(( ($(du -sb "$corpus" | cut -f1) + 1023) / 1024 ))
  result="ok (${took} s)"
  if [[ $rc -ne 0 ]]; then
    failed=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="FAILED rc=$rc: ${crash:-no artifact, see $log}"
    echo "== fuzz: $t failed; its log: $log"
    grep -E 'ERROR: |invariant broken|SUMMARY|Test unit written' "$log" | head -8 || true
  elif [[ $keep_new -eq 1 ]]; then
    "$bin" -merge=1 "$root/fuzz/corpus/$t" "$corpus" -max_len="${max_len[$t]}" >>"$log" 2>&1
  fi
  rows+=("$t|${execs:-?}|${rate:-?}|$files files, $kib KiB|${cov:-?}|$result")
done

echo
printf '%-12s | %10s | %7s | %-18s | %-11s | %s\n' target executions exec/s corpus 'cov/ft' result
printf -- '-%.0s' {1..90}; echo
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d e f <<<"$r"
  printf '%-12s | %10s | %7s | %-18s | %-11s | %s\n' "$a" "$b" "$c" "$d" "$e" "$f"
done
exit $failed
