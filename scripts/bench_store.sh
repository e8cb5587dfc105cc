#!/usr/bin/env bash
# The store's write path: 16 threads insert 200 observations each through SqliteStore, with
# group commit (one writer thread, what queued during a commit goes in the next transaction)
# and then with a transaction per write, both synchronous=FULL. Prints writes per second, the
# per-write latency and the ratio, as a table row for the README.
#   scripts/bench_store.sh            (about 15 seconds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/build.sh release >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/bin/bench-store --dir "$tmp/db" --threads "${THREADS:-16}" --per-thread "${PER_THREAD:-200}" \
  2>/dev/null >"$tmp/out.json"
echo "| mode | writes/s | write p50 / p99 | transactions | largest batch |"
echo "|---|---|---|---|---|"
jq -r 'select(.mode) | "| \(.mode) | \(.writes_per_s | round) | \(.write_p50_ms * 10 | round / 10) ms / \(.write_p99_ms * 10 | round / 10) ms | \(.transactions) | \(.largest_batch) |"' "$tmp/out.json"
jq -r 'select(.ratio_writes_per_s) | "\nGroup commit / a transaction per write: \(.ratio_writes_per_s * 100 | round / 100)x the writes per second."' "$tmp/out.json"
