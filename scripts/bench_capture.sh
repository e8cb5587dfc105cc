#!/usr/bin/env bash
# What a capture node costs the site's box: CPU (% of one core) and resident memory of
# attendance-capture reading a 1080p H.264 RTSP camera and sampling one frame every 5 s,
# next to the baseline of merely receiving and decoding the same stream (gst-launch-1.0
# rtspsrc ! decodebin ! fakesink), measured one after the other in one run.
#   scripts/bench_capture.sh            (about 3 minutes)
#   SECONDS_PER_RUN=120 scripts/bench_capture.sh
# The camera is attendance-rtsp-serve encoding a busy test picture with x264 at 4 Mbit/s,
# 25 fps (a typical IP camera's 1080p main stream); its own CPU is not counted. The stream's
# measured bitrate is printed with the table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_s=${SECONDS_PER_RUN:-60}
warm_s=15
rtsp_port=${RTSP_PORT:-18554}
http_port=${HTTP_PORT:-18080}

scripts/build.sh release >/dev/null
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The service, with the cheapest detector (it shares these 2 cores) and its own keys.
cp config/sites.csv config/schedule.yaml config/zones.yaml "$tmp/"
sed -e "s|^data_dir: .*|data_dir: $tmp/data|" -e "s|^  name: fused|  name: yunet|" \
    -e "s|^  site_keys: .*|  site_keys: $tmp/site_keys.csv|" config/server.yaml >"$tmp/server.yaml"
build/bin/attendance-server --config "$tmp/server.yaml" keys 2>/dev/null
(umask 077 && build/bin/attendance-server --config "$tmp/server.yaml" keys --show td-01 >"$tmp/td-01.key")
build/bin/attendance-server --config "$tmp/server.yaml" --listen "127.0.0.1:$http_port" \
  >"$tmp/server.log" 2>&1 &
pids+=($!)

# Noise, so that the encoder really fills its 4 Mbit/s (a ball on a plain background would
# need a tenth of it and flatter the decoder): the decoding cost of a busy camera.
camera="( videotestsrc is-live=true pattern=snow \
! video/x-raw,width=1920,height=1080,framerate=25/1 \
! x264enc tune=zerolatency speed-preset=ultrafast bitrate=4096 vbv-buf-capacity=1000 \
key-int-max=50 bframes=0 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
build/bin/attendance-rtsp-serve --port "$rtsp_port" --launch "$camera" >"$tmp/rtsp.log" 2>&1 &
pids+=($!)
url="rtsp://127.0.0.1:$rtsp_port/cam"
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && grep -q rtsp:// "$tmp/rtsp.log" && break
  sleep 0.2
done

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Prints "cpu_percent rss_mib peak_rss_mib" of process $1 over $run_s after $warm_s.
measure() {
  local pid=$1
  sleep "$warm_s"
  local t0 c0 t1 c1
  t0=$(date +%s.%N) c0=$(cpu_ticks "$pid")
  sleep "$run_s"
  t1=$(date +%s.%N) c1=$(cpu_ticks "$pid")
  local rss hwm
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" -v rss="$rss" -v hwm="$hwm" \
    'BEGIN { printf "%.1f %.0f %.0f\n", 100 * c / hz / (t1 - t0), rss / 1024, hwm / 1024 }'
}

# The stream's real bitrate: 10 s of its RTP payload, depayloaded.
timeout 12 gst-launch-1.0 -q rtspsrc location="$url" latency=200 ! rtph264depay \
  ! h264parse ! filesink location="$tmp/stream.h264" >/dev/null 2>&1 || true
stream_kbps=$(( $(stat -c %s "$tmp/stream.h264") * 8 / 12 / 1000 ))

echo "bench: baseline, receiving and decoding the stream (${warm_s} s warm-up, ${run_s} s measured)" >&2
gst-launch-1.0 -q rtspsrc location="$url" latency=200 ! rtph264depay ! h264parse \
  ! avdec_h264 ! fakesink sync=false >"$tmp/baseline.log" 2>&1 &
base_pid=$!
pids+=("$base_pid")
read -r base_cpu base_rss base_hwm < <(measure "$base_pid")
kill "$base_pid"

echo "bench: attendance-capture, one frame every 5 s" >&2
build/bin/attendance-capture --site td-01 --server "http://127.0.0.1:$http_port" \
  --source "$url" --secret-file "$tmp/td-01.key" --state-dir "$tmp/node" \
  --interval 5 --counting central >"$tmp/node.log" 2>&1 &
node_pid=$!
pids+=("$node_pid")
read -r node_cpu node_rss node_hwm < <(measure "$node_pid")
frames=$(find "$tmp/data/frames" -name '*.jpg' 2>/dev/null | wc -l)
bytes=$(find "$tmp/data/frames" -name '*.jpg' -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}')
kill -TERM "$node_pid"

cat <<TABLE

| 1080p25 H.264 RTSP, measured $stream_kbps kbit/s | CPU, % of one core | resident memory (peak) |
|---|---|---|
| baseline: rtspsrc ! avdec_h264 ! fakesink | $base_cpu | $base_rss MiB ($base_hwm MiB) |
| attendance-capture, a frame every 5 s | $node_cpu | $node_rss MiB ($node_hwm MiB) |
| ratio node / baseline | $(awk -v a="$node_cpu" -v b="$base_cpu" 'BEGIN { printf "%.2f", a / b }') | |

$frames frames stored at the service during the run, $((bytes / (frames > 0 ? frames : 1) / 1024)) KiB each on average
(a test picture: see scripts/bench_bandwidth.sh for real classroom frames).
Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo).
TABLE
