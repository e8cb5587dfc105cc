#!/usr/bin/env bash
# The store's write path, SQLite against PostgreSQL, in one run (tools/bench_store_main.cpp):
# 16 threads insert 200 observations each, and 4 threads append 200 ledger entries each
# (LedgerStore::append on the attendance ledger: appends serialize on the chain), each on a
# fresh store with group commit and then with a transaction per write. SQLite synchronous=FULL
# in a scratch directory under /tmp; PostgreSQL 15 started here with scripts/pg_server.sh
# --durable (fsync on, synchronous_commit on: each commit is flushed) in a mktemp directory
# under /tmp on the same disk, stopped on exit. Prints two markdown tables (writes per second,
# per-write latency, transactions, largest batch, the share of the run the one writer thread
# spent in COMMIT, where the flush is) and the ratios: group commit against a
# transaction per write for each backend, PostgreSQL against SQLite with group commit.
# Builds only bench-store first. --docs also writes the tables into docs/measurements.md
# ("SQLite against PostgreSQL").
#   scripts/bench_store.sh [--docs]            (about 10 s on the 2-core machine)
# THREADS, PER_THREAD, APPEND_THREADS and APPENDS_PER_THREAD change the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
docs=0
case "${1:-}" in
  --docs) docs=1 ;;
  "") ;;
  *) echo "usage: scripts/bench_store.sh [--docs]" >&2; exit 2 ;;
esac
scripts/build.sh release bench-store >/dev/null
tmp=$(mktemp -d /tmp/bench-store.XXXXXX)
pg="$tmp/pg"  # its own directory: pg_server.sh gives it to the server's user
trap 'scripts/pg_server.sh stop "$pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # the server's user reaches $pg through it
conninfo=$(scripts/pg_server.sh start "$pg" --durable)
if ! build/bin/bench-store --dir "$tmp/sqlite" --postgres "$conninfo" \
  --threads "${THREADS:-16}" --per-thread "${PER_THREAD:-200}" \
  --append-threads "${APPEND_THREADS:-4}" --appends-per-thread "${APPENDS_PER_THREAD:-200}" \
  >"$tmp/out.json" 2>"$tmp/err.log"; then
  cat "$tmp/err.log" >&2
  exit 1
fi

table() {  # table WORKLOAD: one row per backend and mode
  echo "| backend | mode | writes/s | write p50 / p99 | transactions | largest batch | writer in COMMIT |"
  echo "|---|---|---|---|---|---|---|"
  jq -r --arg w "$1" 'select(.mode and .workload == $w and (.ratio | not)) |
    "| \(.backend) | \(.mode | gsub("_"; " ")) | \(.writes_per_s | round) | \(.write_p50_ms * 10 | round / 10) ms / \(.write_p99_ms * 10 | round / 10) ms | \(.transactions) | \(.largest_batch) | \(.commit_seconds / .seconds * 100 | round) % |"' \
    "$tmp/out.json"
}
ratios() {  # ratios WORKLOAD
  jq -r --arg w "$1" 'select(.ratio and .workload == $w) |
    if .ratio == "postgres/sqlite"
    then "- PostgreSQL / SQLite, group commit: \(.value * 100 | round / 100)x the writes per second."
    else "- \(.backend): group commit / a transaction per write: \(.value * 100 | round / 100)x the writes per second."
    end' "$tmp/out.json"
}
{
  echo "Observations (${THREADS:-16} threads, ${PER_THREAD:-200} each):"
  echo
  table observations
  echo
  ratios observations
  echo
  echo "Ledger appends (${APPEND_THREADS:-4} threads, ${APPENDS_PER_THREAD:-200} each; they serialize on the chain):"
  echo
  table ledger_appends
  echo
  ratios ledger_appends
} | tee "$tmp/tables.md"
if ((docs)); then
  python3 scripts/put_table.py docs/measurements.md store-backends "$tmp/tables.md" \
    "scripts/bench_store.sh --docs"
fi
