#!/usr/bin/env bash
# The reliability suite (tests/reliability.cpp): attendance-server, attendance-capture and
# attendance-sim as processes on loopback, under load at rising rates and under faults
# (kill -9 of the server and of a node, a link cut through a proxy, the camera gone and back,
# the node's and the server's disk full, the node's clock an hour off). Prints two tables:
# the load ramp, and per fault the frames sampled, stored, lost (counted, with the reason),
# unaccounted, and the time to recover; also written to build/reliability.md.
# Needs root for the disk-full scenarios (small tmpfs mounts), which skip without it.
#   scripts/reliability.sh              the short form, as CI runs it (about 4 minutes)
#   scripts/reliability.sh --long       the link cut for 30 minutes, 30 s phases (about 40 minutes)
#   scripts/reliability.sh --asan       against the ASan + UBSan build (build-asan/)
#   scripts/reliability.sh [...] --only 'Faults.LinkCut:Load.*'    some scenarios (gtest filter)
#   scripts/reliability.sh [...] --docs    also writes the tables into docs/reliability.md
#                                           (the short or the long form's section)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
preset=release
form=short
filter='*'
docs=0
args="$*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --long) form=long ;;
    --asan) preset=asan ;;
    --only) filter=$2; shift ;;
    --docs) docs=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "reliability: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
scripts/build.sh "$preset" >/dev/null
dir=build
[[ $preset == asan ]] && dir=build-asan
table=$dir/reliability.md
rm -f "$table"
start=$SECONDS
RELIABILITY=$form RELIABILITY_TABLE=$table ASAN_OPTIONS=detect_leaks=0 \
  "$dir/tests/reliability" --gtest_filter="$filter" > "$dir/reliability.log" 2>&1 || status=$?
grep -E '^\[reliability\]|^\[  FAILED|Failure|^\[  SKIPPED' "$dir/reliability.log" || true
echo "== reliability ($form form, $preset build, $(date -u +%F), $((SECONDS - start)) s); log: $dir/reliability.log"
cat "$table" 2>/dev/null || true
if ((docs)) && [[ -z "${status:-}" ]]; then
  python3 scripts/put_table.py docs/reliability.md "reliability-$form" "$table" \
    "scripts/reliability.sh $args"
fi
exit "${status:-0}"
