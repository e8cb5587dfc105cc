#!/usr/bin/env bash
# A province of 1,000 sites for the benchmarks, written into DIR: the 164 sample sites of
# config/sites.csv, then copies of them under new ids (sim-0165 ...) in the same districts;
# config's schedule and zones; server.yaml with its data in DIR/data and its site keys in
# DIR/site_keys.csv, made by `attendance-server keys` (build/bin must be built).
#   scripts/bench_province.sh DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/bench_province.sh DIR}
cd "$root"
cp config/schedule.yaml config/zones.yaml "$dir/"
awk -F, 'NR == 1 { print; next } { rows[++n] = $0 ; print }
         END { for (i = n + 1; i <= 1000; i++) { r = rows[(i - 1) % n + 1];
               sub(/^[^,]*/, sprintf("sim-%04d", i), r); print r } }' config/sites.csv >"$dir/sites.csv"
sed -e "s|^data_dir: .*|data_dir: $dir/data|" \
    -e "s|^  site_keys: .*|  site_keys: $dir/site_keys.csv|" config/server.yaml >"$dir/server.yaml"
build/bin/attendance-server --config "$dir/server.yaml" keys 2>/dev/null
