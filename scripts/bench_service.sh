#!/usr/bin/env bash
# The service under load: attendance-sim pushes real classroom frames (720p, signed) from 164
# and then 1,000 simulated sites at one frame every 5 s to attendance-server with the
# province's settings, for each detector; then, per detector, as many sites as 80 % of the
# rate it stored, to show the latency of a load it holds. Prints per run the frames offered
# and stored per second, the push-backs (503), the time from capture to acknowledgement
# (p50, p99; the answer follows the commit, so the count is visible through the API by
# then), what the nodes still hold or dropped, and the server's CPU and memory. Both
# programs share this machine's cores.
#   scripts/bench_service.sh                 (about 8 minutes)
#   DURATION=120 SITES="164 1000" DETECTORS="fused yunet yunet-tiled" scripts/bench_service.sh
#   DETECTORS= scripts/bench_service.sh      (only the ceiling run, below)
#   scripts/bench_service.sh --edge          (about 6 minutes) sites that count: each site sends
#                                            a count every 5 s and an evidence picture every
#                                            60 s (attendance-sim --mode edge), 164 and 1,000
#                                            sites, the service auditing pictures with fused;
#                                            beside each, the same sites in central mode
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
duration=${DURATION:-60}
read -r -a site_counts <<<"${SITES:-164 1000}"
port=${HTTP_PORT:-18280}
edge=0
[[ "${1:-}" == "--edge" ]] && edge=1
if ((edge)); then default_detectors=fused; else default_detectors="fused yunet"; fi
read -r -a detectors <<<"${DETECTORS-$default_detectors}"
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

# A province of 1,000 sites (scripts/bench_province.sh).
scripts/bench_province.sh "$tmp"

ticks=$(getconf CLK_TCK)
# One run: the server with `detector` against `sites` simulated sites sending frames of
# `width`x`height` (default 1280x720), or in `mode` edge counts and evidence pictures of that
# size; prints a table row and leaves the stored frames per second in $stored_fps.
run_one() {
  local detector=$1 sites=$2 width=${3:-1280} height=${4:-720} mode=${5:-central}
  rm -rf "$tmp/data"
  sed -e "s|^  name: fused|  name: $detector|" "$tmp/server.yaml" >"$tmp/server-$detector.yaml"
  build/bin/attendance-server --config "$tmp/server-$detector.yaml" --listen "127.0.0.1:$port" \
    >"$tmp/server-$detector-$sites.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  local c0 c1 t0 t1 rss cpu
  c0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  t0=$(date +%s.%N)
  build/bin/attendance-sim --config "$tmp/server.yaml" --server "http://127.0.0.1:$port" \
    --sites "$sites" --interval 5 --duration "$duration" --images "$images" \
    --width "$width" --height "$height" --mode "$mode" --evidence-interval 60 \
    >"$tmp/sim.json" 2>"$tmp/sim-$detector-$sites.log"
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  rss=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  local audits
  audits=$(curl -fs "http://127.0.0.1:$port/metrics" |
    awk -F'[ "]' '/^attendance_audits_total/ { n[$2] = $NF } END { printf "%d / %d", n["done"], n["skipped"] }')
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  cpu=$(awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.0f %%", 100 * c / hz / (t1 - t0) }')
  local label=$detector
  [[ "$width" == 1280 ]] || label="$detector, ${width}x$height frames"
  [[ "$mode" == edge ]] && label="counted at the sites, $detector audits" ||
    { ((edge)) && label="counted here, $detector"; }
  local extra=""
  ((edge)) && extra=" $audits |"
  jq -r --arg d "$label" --arg cpu "$cpu" --arg rss "$((rss / 1024)) MiB" --arg extra "$extra" \
    '"| \($d) | \(.sites) | \(.offered_fps) | \(.stored_fps * 100 | round / 100) | \(.busy_503) | \(.latency_p50_ms / 1000 * 100 | round / 100) s / \(.latency_p99_ms / 1000 * 100 | round / 100) s | \(.left_in_sim_spools) | \(.dropped_in_sim_spools) |\($extra) \($cpu) | \($rss) |"' \
    "$tmp/sim.json"
  stored_fps=$(jq '.stored_fps' "$tmp/sim.json")
}

if ((edge)); then
  echo "| where counted | sites | offered items/s | stored items/s | 503 answers | capture → acknowledged p50 / p99 | left in the nodes' spools | dropped | audits done / skipped | server CPU (of $(nproc) cores) | server RSS |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for sites in "${site_counts[@]}"; do
    for detector in "${detectors[@]}"; do
      run_one "$detector" "$sites" 1280 720 edge
      run_one "$detector" "$sites" 1280 720 central
    done
  done
  echo
  echo "One run of $duration s each, $(date -u +%Y-%m-%d), $(nproc) cores; pictures: the classroom set scaled to 1280x720; items: counts and evidence pictures (edge) or frames (central)."
  exit 0
fi

echo "| detector | sites | offered frames/s | stored frames/s | 503 answers | capture → acknowledged p50 / p99 | left in the nodes' spools | dropped | server CPU (of $(nproc) cores) | server RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for detector in "${detectors[@]}"; do
  best=0
  for sites in "${site_counts[@]}"; do
    run_one "$detector" "$sites"
    best=$(awk -v a="$best" -v b="$stored_fps" 'BEGIN { print (b > a ? b : a) }')
  done
  # What it holds: 80 % of the best rate it stored under overload, as sites at one frame
  # every 5 s; that run's p99 says whether the count is visible within 2 s at that load.
  held=$(awk -v f="$best" 'BEGIN { n = int(0.8 * f * 5); print (n < 1 ? 1 : n) }')
  run_one "$detector" "$held"
done
# The service's own ceiling: detection made cheap (yunet on 320x180 frames, a few ms each),
# so that what remains is the rest of the path (HTTP, signature, JPEG decode, counting,
# fsync, group commit) and the simulator, on the same 2 cores.
[[ "${CEILING:-1}" == 1 ]] && run_one yunet 1000 320 180
echo
echo "One run of $duration s each, $(date -u +%Y-%m-%d), $(nproc) cores; frames: the classroom set scaled to 1280x720."
