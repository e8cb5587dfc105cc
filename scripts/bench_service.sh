#!/usr/bin/env bash
# The service under load: attendance-sim pushes real classroom frames (720p, signed) from 164
# and then 1,000 simulated sites at one frame every 5 s to attendance-server with the
# province's settings (detector fused); prints per run the frames offered and stored per
# second, the push-backs (503), the time from capture to acknowledgement (p50, p99) and the
# server's CPU and memory. Both programs share this machine's cores.
#   scripts/bench_service.sh                 (about 3 minutes)
#   DURATION=120 SITES="164 1000" scripts/bench_service.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
duration=${DURATION:-60}
read -r -a site_counts <<<"${SITES:-164 1000}"
port=${HTTP_PORT:-18280}
shared=${ATTENDANCE_SHARED_DIR:-$root/../shared}
images=$shared/data/classroom
[[ -d "$images" ]] || { echo "bench_service: needs $images (the shared classroom frames)"; exit 0; }

scripts/build.sh release >/dev/null
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The sample province with a province of up to 1,000 sites: the 164 sample sites, then
# copies of them under new ids, all in the same districts.
cp config/schedule.yaml config/zones.yaml "$tmp/"
awk -F, 'NR == 1 { print; next } { rows[++n] = $0 ; print }
         END { for (i = n + 1; i <= 1000; i++) { r = rows[(i - 1) % n + 1];
               sub(/^[^,]*/, sprintf("sim-%04d", i), r); print r } }' config/sites.csv >"$tmp/sites.csv"
sed -e "s|^data_dir: .*|data_dir: $tmp/data|" \
    -e "s|^  site_keys: .*|  site_keys: $tmp/site_keys.csv|" config/server.yaml >"$tmp/server.yaml"
build/bin/attendance-server --config "$tmp/server.yaml" keys 2>/dev/null

ticks=$(getconf CLK_TCK)
echo "| sites | offered frames/s | stored frames/s | 503 answers | capture → acknowledged p50 / p99 | frames left in the nodes' spools | server CPU (of 2 cores) | server RSS |"
echo "|---|---|---|---|---|---|---|---|"
for sites in "${site_counts[@]}"; do
  rm -rf "$tmp/data"
  build/bin/attendance-server --config "$tmp/server.yaml" --listen "127.0.0.1:$port" \
    >"$tmp/server-$sites.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  c0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  t0=$(date +%s.%N)
  build/bin/attendance-sim --config "$tmp/server.yaml" --server "http://127.0.0.1:$port" \
    --sites "$sites" --interval 5 --duration "$duration" --images "$images" \
    >"$tmp/sim-$sites.json" 2>"$tmp/sim-$sites.log"
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  rss=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  cpu=$(awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.0f %%", 100 * c / hz / (t1 - t0) }')
  jq -r --arg cpu "$cpu" --arg rss "$((rss / 1024)) MiB" \
    '"| \(.sites) | \(.offered_fps) | \(.stored_fps * 100 | round / 100) | \(.busy_503) | \(.latency_p50_ms / 1000 * 10 | round / 10) s / \(.latency_p99_ms / 1000 * 10 | round / 10) s | \(.left_in_sim_spools) | \($cpu) | \($rss) |"' \
    "$tmp/sim-$sites.json"
done
echo
echo "One run of $duration s each, $(date -u +%Y-%m-%d), $(nproc) cores; frames: the classroom set scaled to 1280x720."
