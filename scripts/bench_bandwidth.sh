#!/usr/bin/env bash
# Upload bandwidth per site: what the capture node's sparse JPEGs cost (quality 85, the node's
# default, same jpegenc and I420 conversion as its pipeline) next to streaming the same
# picture as H.264, at 720p and 1080p. Prints a Markdown table.
#   JPEG:  the classroom frames in ../shared/data/classroom, each scaled to the size and
#          encoded once; mean size -> kbit/s at one frame every 5 s and at 1 frame/s.
#   H.264: the clips in ../shared/data/video scaled to the size and encoded with x264 at a
#          camera-like setting (veryfast, GOP 50, no B-frames) at constant quality, CRF 23
#          and QP 23; bytes / duration -> kbit/s.
# Uses gst-launch-1.0 and standard tools only. Takes about a minute on a 2-core machine.
#   scripts/bench_bandwidth.sh          (data from $ATTENDANCE_SHARED_DIR or ../shared)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ATTENDANCE_SHARED_DIR:-$root/../shared}
frames_dir=$shared/data/classroom
clips_dir=$shared/data/video
sizes=(1280x720 1920x1080)
quality=85

shopt -s nullglob
frames=("$frames_dir"/*.jpg)
clips=("$clips_dir"/*.mp4)
shopt -u nullglob
if ((${#frames[@]} == 0 && ${#clips[@]} == 0)); then
  echo "bench_bandwidth: no classroom frames ($frames_dir/*.jpg) and no clips" \
    "($clips_dir/*.mp4); nothing to measure (set ATTENDANCE_SHARED_DIR to the shared data)."
  exit 0
fi
for tool in gst-launch-1.0 awk stat; do
  command -v "$tool" >/dev/null || { echo "bench_bandwidth: needs $tool" >&2; exit 1; }
done

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Mean, min and max of the sizes in bytes of the files given.
size_stats() { stat -c %s "$@" | awk '{s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1}
  END {printf "%.0f %d %d\n", s / NR, lo, hi}'; }
kbits() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b * 8 / s / 1000}'; }
kbytes() { awk -v b="$1" 'BEGIN {printf "%.0f", b / 1000}'; }

# --- JPEG: every frame scaled and re-encoded, in one pipeline per size --------------------
declare -A jpeg_mean jpeg_range
if ((${#frames[@]} > 0)); then
  # multifilesrc reads numbered names: link the frames as 00000.jpg, 00001.jpg, ...
  mkdir "$tmp/in"
  for i in "${!frames[@]}"; do ln -s "${frames[$i]}" "$tmp/in/$(printf %05d "$i").jpg"; done
  for size in "${sizes[@]}"; do
    w=${size%x*} h=${size#*x}
    mkdir "$tmp/jpeg-$size"
    gst-launch-1.0 -q multifilesrc location="$tmp/in/%05d.jpg" index=0 \
      stop-index=$((${#frames[@]} - 1)) caps=image/jpeg,framerate=1/1 ! jpegdec ! videoconvert \
      ! videoscale ! "video/x-raw,format=I420,width=$w,height=$h" ! jpegenc quality=$quality \
      ! multifilesink location="$tmp/jpeg-$size/%05d.jpg" >"$tmp/jpeg-$size.log" 2>&1 ||
      { cat "$tmp/jpeg-$size.log" >&2; exit 1; }
    out=("$tmp/jpeg-$size"/*.jpg)
    if ((${#out[@]} != ${#frames[@]})); then
      echo "bench_bandwidth: $size: ${#out[@]} JPEGs out of ${#frames[@]} frames" >&2
      exit 1
    fi
    read -r mean lo hi < <(size_stats "${out[@]}")
    jpeg_mean[$size]=$mean
    jpeg_range[$size]="$(kbytes "$lo")–$(kbytes "$hi")"
  done
fi

# --- H.264: each clip scaled and encoded; duration from the frames' timestamps ------------
# The seconds from the first frame's start to the last frame's end, read from the
# identity element's last-message lines that gst-launch -v prints for every buffer.
clip_seconds() {
  grep -o 'frames: last-message = chain.*' "$1" | awk '
    function secs(t,  p) { split(t, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    { match($0, /pts: [0-9:.]+/); pts = secs(substr($0, RSTART + 5, RLENGTH - 5))
      match($0, /duration: [0-9:.]+/); dur = secs(substr($0, RSTART + 10, RLENGTH - 10))
      if (NR == 1) first = pts; last = pts + dur; n = NR }
    END { if (n > 1) printf "%.3f %d\n", last - first, n; else print "0 0" }'
}
modes=("pass=qual quantizer=23" "pass=quant quantizer=23")
mode_names=("CRF 23" "QP 23")
declare -A h264_kbits h264_sum
h264_rows=()
for clip in "${clips[@]}"; do
  name=$(basename "$clip" .mp4)
  for m in "${!modes[@]}"; do
    row="H.264 ${mode_names[$m]}, \`$name\`"
    for size in "${sizes[@]}"; do
      w=${size%x*} h=${size#*x}
      log=$tmp/$name-$m-$size.log
      # shellcheck disable=SC2086  # the mode is two properties
      gst-launch-1.0 -v filesrc location="$clip" ! decodebin ! videoconvert ! videoscale \
        ! "video/x-raw,format=I420,width=$w,height=$h" ! identity name=frames silent=false \
        ! x264enc speed-preset=veryfast key-int-max=50 bframes=0 ${modes[$m]} ! h264parse \
        ! filesink location="$tmp/out.h264" >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
      read -r seconds n < <(clip_seconds "$log")
      if [[ "$n" == 0 ]]; then
        echo "bench_bandwidth: no frame timestamps for $clip" >&2
        exit 1
      fi
      rate=$(kbits "$(stat -c %s "$tmp/out.h264")" "$seconds")
      h264_kbits["$row|$size"]=$rate
      h264_sum["$m|$size"]=$((${h264_sum["$m|$size"]:-0} + rate))
      fps=$(awk -v n="$n" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')
      rm -f "$tmp/out.h264"
    done
    h264_rows+=("$row ($fps fps, $(awk -v s="$seconds" 'BEGIN {printf "%.1f", s}') s)|$row")
  done
done

# --- The table ----------------------------------------------------------------------------
cell() { [[ -n "${1:-}" ]] && echo "$1" || echo "–"; }
echo "## Upload bandwidth per site (measured with $(gst-launch-1.0 --version | sed -n 's/^GStreamer /GStreamer /p'))"
echo
echo "| | 720p (1280×720) | 1080p (1920×1080) |"
echo "|---|---|---|"
if ((${#frames[@]} > 0)); then
  n=${#frames[@]}
  printf '| JPEG q%d, mean frame size (%d classroom frames) | %s kB | %s kB |\n' "$quality" "$n" \
    "$(kbytes "${jpeg_mean[1280x720]}")" "$(kbytes "${jpeg_mean[1920x1080]}")"
  printf '| JPEG q%d, frame size min–max | %s kB | %s kB |\n' "$quality" \
    "${jpeg_range[1280x720]}" "${jpeg_range[1920x1080]}"
  printf '| **JPEG, one frame every 5 s (attendance)** | **%s kbit/s** | **%s kbit/s** |\n' \
    "$(kbits "${jpeg_mean[1280x720]}" 5)" "$(kbits "${jpeg_mean[1920x1080]}" 5)"
  per_day() { awk -v b="$1" 'BEGIN {printf "%.0f", b * (8 * 3600 / 5) / 1e6}'; }  # 8 hours
  printf '| JPEG, one frame every 5 s, per 8-hour day | %s MB | %s MB |\n' \
    "$(per_day "${jpeg_mean[1280x720]}")" "$(per_day "${jpeg_mean[1920x1080]}")"
  printf '| JPEG, 1 frame/s (live view) | %s kbit/s | %s kbit/s |\n' \
    "$(kbits "${jpeg_mean[1280x720]}" 1)" "$(kbits "${jpeg_mean[1920x1080]}" 1)"
fi
for entry in "${h264_rows[@]}"; do
  label=${entry%%|*} key=${entry#*|}
  printf '| %s | %s kbit/s | %s kbit/s |\n' "$label" \
    "$(cell "${h264_kbits["$key|1280x720"]:-}")" "$(cell "${h264_kbits["$key|1920x1080"]:-}")"
done
if ((${#clips[@]} > 0)); then
  for m in "${!modes[@]}"; do
    printf '| **H.264 %s, mean of %d clips** | **%s kbit/s** | **%s kbit/s** |\n' \
      "${mode_names[$m]}" "${#clips[@]}" \
      "$((${h264_sum["$m|1280x720"]} / ${#clips[@]}))" \
      "$((${h264_sum["$m|1920x1080"]} / ${#clips[@]}))"
  done
fi
echo "| Typical IP camera main stream (vendor defaults, not measured) | 2048 kbit/s | 4096 kbit/s |"
echo
echo "JPEG: jpegenc quality=$quality from I420, as the capture node encodes. H.264: x264enc"
echo "speed-preset=veryfast key-int-max=50 bframes=0 (no B-frames, as most IP cameras), at the"
echo "clip's own frame rate. kB = 1000 bytes, kbit/s = 1000 bit/s. Every source here is smaller"
echo "than 1080p (frames 789–1271 px wide, clips 640–1280 px) and already compressed, so the"
echo "scaled-up pictures carry less detail and no sensor noise: a real 1080p camera costs more"
echo "in both columns. Took $((SECONDS - start)) s."
