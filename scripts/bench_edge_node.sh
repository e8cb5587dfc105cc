#!/usr/bin/env bash
# What a node that counts costs the site's box, and what it sends: attendance-capture reading
# an H.264 RTSP camera at 720p and at 1080p, counting a look a second (counting.mode: edge,
# every_s 1, max_cores 1) with each detector, beside the same node sending a frame every 5 s
# for the service to count (central) and beside merely receiving and decoding the stream;
# one after the other in one run. Per run: CPU (% of one core) and resident memory from
# /proc, the looks per second it achieved and its ms per look (its heartbeat's counting
# report), and what it uploaded, request by request, through a counting proxy in front of
# the service: the mean bytes of each kind of request (headers and body), and from them the
# steady upload per site at the configured intervals (a count every 5 s, an evidence picture
# every 60 s, a heartbeat every 30 s; or a frame every 5 s and a heartbeat).
#   scripts/bench_edge_node.sh                 (about 10 minutes)
#   SECONDS_PER_RUN=60 DETECTORS="yunet-tiled" SIZES="1920x1080" scripts/bench_edge_node.sh
# The camera is attendance-rtsp-serve showing the real classroom frames of
# ../shared/data/classroom, a new one every second, scaled to the size and encoded by x264 at
# 25 fps (2 Mbit/s at 720p, 4 Mbit/s at 1080p: an IP camera's main stream); its own CPU, the
# service's and the proxy's are not counted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_s=${SECONDS_PER_RUN:-40}
warm_s=12
read -r -a sizes <<<"${SIZES:-1280x720 1920x1080}"
read -r -a detectors <<<"${DETECTORS:-yunet yunet-tiled fused}"
rtsp_port=${RTSP_PORT:-18555}
http_port=${HTTP_PORT:-18081}
proxy_port=${PROXY_PORT:-18082}
shared=${ATTENDANCE_SHARED_DIR:-$root/../shared}
[[ -d "$shared/data/classroom" ]] || { echo "bench_edge_node: needs $shared/data/classroom"; exit 0; }

scripts/build.sh release >/dev/null
scripts/models.sh >/dev/null
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The classroom frames as a numbered sequence (links, in the scratch folder only).
mkdir -p "$tmp/frames"
i=0
for f in "$shared"/data/classroom/*.jpg; do
  ln -s "$f" "$tmp/frames/$(printf 'room%03d.jpg' "$i")"
  i=$((i + 1))
done

# The service (yunet: it audits an evidence picture a minute here, on the same cores).
cp config/sites.csv config/schedule.yaml config/zones.yaml "$tmp/"
sed -e "s|^data_dir: .*|data_dir: $tmp/data|" -e "s|^  name: fused|  name: yunet|" \
    -e "s|^  site_keys: .*|  site_keys: $tmp/site_keys.csv|" config/server.yaml >"$tmp/server.yaml"
build/bin/attendance-server --config "$tmp/server.yaml" keys 2>/dev/null
(umask 077 && build/bin/attendance-server --config "$tmp/server.yaml" keys --show td-01 >"$tmp/td-01.key")
build/bin/attendance-server --config "$tmp/server.yaml" --listen "127.0.0.1:$http_port" \
  >"$tmp/server.log" 2>&1 &
pids+=($!)

# The counting proxy: forwards the node's connections to the service and adds up, per
# request path, the requests and their bytes (request line, headers and body), into a JSON
# file it rewrites every second.
cat >"$tmp/proxy.py" <<'PY'
import asyncio, json, sys
listen, upstream, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
totals = {}
async def pipe(reader, writer, count):
    buf = b""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
            if count:
                buf += data
                while (end := buf.find(b"\r\n\r\n")) >= 0:
                    head = buf[:end].decode("latin-1").split("\r\n")
                    length = next((int(h.split(":", 1)[1]) for h in head[1:]
                                   if h.lower().startswith("content-length:")), 0)
                    if len(buf) < end + 4 + length:
                        break
                    path = head[0].split(" ")[1]
                    t = totals.setdefault(path, [0, 0])
                    t[0] += 1
                    t[1] += end + 4 + length
                    buf = buf[end + 4 + length:]
    finally:
        writer.close()
async def serve(r, w):
    ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
    await asyncio.gather(pipe(r, uw, True), pipe(ur, w, False), return_exceptions=True)
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    async with server:
        while True:
            await asyncio.sleep(1)
            with open(out + ".tmp", "w") as f:
                json.dump(totals, f)
            import os; os.replace(out + ".tmp", out)
asyncio.run(main())
PY
python3 "$tmp/proxy.py" "$proxy_port" "$http_port" "$tmp/uploads.json" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Prints "cpu_percent rss_mib" of process $1 over $run_s after $warm_s.
measure() {
  local pid=$1
  sleep "$warm_s"
  local t0 c0 t1 c1
  t0=$(date +%s.%N) c0=$(cpu_ticks "$pid")
  sleep "$run_s"
  t1=$(date +%s.%N) c1=$(cpu_ticks "$pid")
  awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" \
    -v rss="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")" \
    'BEGIN { printf "%.1f %.0f\n", 100 * c / hz / (t1 - t0), rss / 1024 }'
}
# Mean bytes of the requests to /api/v1/$1 in this run's totals, or 0.
mean_bytes() {
  jq --arg p "/api/v1/$1" '(.[$p] // [0, 0]) as $t | if $t[0] > 0 then ($t[1] / $t[0] | round) else 0 end' \
    "$tmp/run.json"
}

echo "| camera | node | CPU, % of one core | resident memory | looks per second | ms per look | request bytes: frame / count / evidence / heartbeat | upload per site |"
echo "|---|---|---|---|---|---|---|---|"
for size in "${sizes[@]}"; do
  w=${size%x*} h=${size#*x}
  kbps=$((w >= 1920 ? 4096 : 2048))
  camera="( multifilesrc location=$tmp/frames/room%03d.jpg loop=true \
caps=image/jpeg,framerate=1/1 ! jpegdec ! videoconvert ! videoscale add-borders=false \
! video/x-raw,width=$w,height=$h,format=I420,pixel-aspect-ratio=1/1 ! videorate \
! video/x-raw,framerate=25/1 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=$kbps \
key-int-max=50 bframes=0 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
  build/bin/attendance-rtsp-serve --port "$rtsp_port" --launch "$camera" >"$tmp/rtsp.log" 2>&1 &
  rtsp_pid=$!
  pids+=("$rtsp_pid")
  for _ in $(seq 1 50); do grep -q rtsp:// "$tmp/rtsp.log" && break; sleep 0.2; done
  url="rtsp://127.0.0.1:$rtsp_port/cam"
  label="${h}p H.264 RTSP, $((kbps / 1024)) Mbit/s"

  gst-launch-1.0 -q rtspsrc location="$url" latency=200 protocols=tcp ! rtph264depay \
    ! h264parse ! avdec_h264 ! fakesink sync=false >"$tmp/baseline.log" 2>&1 &
  base_pid=$!
  pids+=("$base_pid")
  read -r cpu rss < <(measure "$base_pid")
  kill "$base_pid"
  echo "| $label | baseline: rtspsrc ! avdec_h264 ! fakesink | $cpu | $rss MiB | | | | |"

  for mode in central "${detectors[@]}"; do
    # The node keeps its state folder from run to run, as one node restarted with another
    # configuration: its sequence numbers go on, so the service stores its heartbeats.
    if [[ "$mode" == central ]]; then
      counting="{mode: central}"
    else
      counting="{mode: edge, detector: $mode, every_s: 1, max_cores: 1, report_interval_s: 5, evidence_interval_s: 60}"
    fi
    cat >"$tmp/node.yaml" <<YAML
site_id: td-01
server_url: http://127.0.0.1:$proxy_port
secret_file: $tmp/td-01.key
state_dir: $tmp/node
source: {uri: "$url", sample_interval_s: 5}
health: {heartbeat_s: 30}
counting: $counting
YAML
    # The proxy's totals run on across runs: this run's are the difference.
    sleep 1.2
    cp "$tmp/uploads.json" "$tmp/before.json" 2>/dev/null || echo '{}' >"$tmp/before.json"
    started_ms=$(date +%s%3N)
    build/bin/attendance-capture --config "$tmp/node.yaml" >"$tmp/node-$mode-$h.log" 2>&1 &
    node_pid=$!
    pids+=("$node_pid")
    read -r cpu rss < <(measure "$node_pid")
    sleep 1.2
    jq -s '.[0] as $b | .[1] | with_entries(.value = [.value[0] - ($b[.key][0] // 0), .value[1] - ($b[.key][1] // 0)])' \
      "$tmp/before.json" "$tmp/uploads.json" >"$tmp/run.json"
    kill -TERM "$node_pid"
    wait "$node_pid" 2>/dev/null || true
    # The node's own report of its counting: the newest heartbeat of this run that has one
    # (the last is sent as the node stops).
    report=$(sqlite3 "$tmp/data/attendance.db" \
      "SELECT report FROM heartbeats WHERE site_id = 'td-01' AND received_at_ms >= $started_ms
       AND json_extract(report, '$.counting.model') = '$mode' ORDER BY received_at_ms DESC LIMIT 1")
    frame=$(mean_bytes frames) count=$(mean_bytes counts) evidence=$(mean_bytes evidence)
    beat=$(mean_bytes health)
    if [[ "$mode" == central ]]; then
      node="attendance-capture, a frame every 5 s (central)"
      looks="" ms=""
      upload=$(awk -v f="$frame" -v b="$beat" 'BEGIN { printf "%.1f", (f / 5 + b / 30) * 8 / 1000 }')
    else
      node="attendance-capture counting, $mode"
      looks=$(jq -r '.counting.rate_hz // empty | . * 100 | round / 100' <<<"$report")
      ms=$(jq -r '.counting.detector_ms // empty | round' <<<"$report")
      upload=$(awk -v c="$count" -v e="$evidence" -v b="$beat" \
        'BEGIN { printf "%.1f", (c / 5 + e / 60 + b / 30) * 8 / 1000 }')
    fi
    echo "| $label | $node | $cpu | $rss MiB | $looks | $ms | $frame / $count / $evidence / $beat | $upload kbit/s |"
  done
  kill "$rtsp_pid"
  wait "$rtsp_pid" 2>/dev/null || true
done
echo
echo "One run, ${warm_s} s warm-up then ${run_s} s measured per row, $(date -u +%Y-%m-%d);" \
  "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)."
