#!/usr/bin/env bash
# The front door measured: requests a second and p50/p99 for node uploads and the dashboard's
# poll (GET /api/v1/sites), against the service directly (HTTP, its own HTTPS) and through
# nginx (config/nginx/attendance.conf), alone and while 300 slow clients hold connections.
# Prints the table; --docs also writes it into docs/measurements.md ("Front door").
#   scripts/bench_front_door.sh [--docs] [--seconds 10] [--slow 300]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
docs=0
args=()
for a in "$@"; do
  if [[ "$a" == --docs ]]; then docs=1; else args+=("$a"); fi
done
"$root/scripts/deps.sh"
"$root/scripts/build.sh" release >/dev/null
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$root/build/bin/bench_front_door" "${args[@]}" | tee "$table"
if ((docs)); then
  python3 "$root/scripts/put_table.py" docs/measurements.md front-door "$table" \
    "scripts/bench_front_door.sh ${args[*]}"
fi
