#!/usr/bin/env bash
# The accuracy benchmark (README, "Accuracy"): every detector on ../shared/data/classroom in
# one run, the counting path (detector + occupancy window) on the clips in
# ../shared/data/video, and the cost per frame at three sizes with tiling on and off.
# Prints Markdown tables. Takes about 10 minutes on the 2-core build machine.
#   scripts/accuracy.sh [--quick]     (--quick: fused, yunet and haar only, no cost table)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ATTENDANCE_SHARED_DIR:-$root/../shared}
images=$shared/data/classroom
videos=$shared/data/video
if [[ ! -d "$images" ]]; then
  echo "accuracy: $images not found; the benchmark needs the shared evaluation data" >&2
  exit 2
fi
"$root/scripts/build.sh" release >/dev/null
"$root/scripts/models.sh" >/dev/null
eval_bin=$root/build/bin/attendance-eval

detectors=(fused yunet-tiled yunet lffd-head yolox-person rfb fused+yolox fused+rfb haar hog)
[[ "${1:-}" == "--quick" ]] && detectors=(fused yunet haar)

echo "## Single frames: $(ls "$images"/*.txt | wc -l) images of $images"
echo
echo "| detector | count accuracy | MAE | within ±10 % | precision | recall | predicted / truth | median ms/image |"
echo "|---|---|---|---|---|---|---|---|"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for d in "${detectors[@]}"; do
  "$eval_bin" --images "$images" --detector "$d" --json 2>/dev/null | tail -1 >"$results/$d.json"
  jq -r '"| \(.detector) | \(.count_accuracy*1000|round/1000) | \(.mae*100|round/100) | \(.within_10pct*1000|round/1000) | \(.precision*1000|round/1000) | \(.recall*1000|round/1000) | \(.pred_total) / \(.truth_total) | \(.ms_median*10|round/10) |"' \
    "$results/$d.json"
done

echo
echo "## Single frames by room size (truth heads): count accuracy, and MAE in brackets"
echo
jq -r '"| detector | " + ([.by_room_size[] | "\(.truth) (\(.images) images)"] | join(" | ")) + " |"' \
  "$results/${detectors[0]}.json"
echo "|---|---|---|---|---|"
for d in "${detectors[@]}"; do
  jq -r '"| \(.detector) | " + ([.by_room_size[] | "\(.count_accuracy*1000|round/1000) (\(.mae*100|round/100))"] | join(" | ")) + " |"' \
    "$results/$d.json"
done

echo
echo "## Clips: the whole counting path (fused detector, occupancy window), a frame every second"
echo
echo "| clip | frames | per-frame count min–max | windowed count from the 3rd frame | final windowed count | median ms/frame |"
echo "|---|---|---|---|---|---|"
for clip in "$videos"/*.mp4; do
  "$eval_bin" --video "$clip" --every 1 --json 2>/dev/null | tail -1 | jq -r \
    '"| \(.video) | \(.frames) | \([.timeline[].frame_count]|min)–\([.timeline[].frame_count]|max) | \(.window_min)–\(.window_max) | \(.window_final) | \(.ms_median*10|round/10) |"'
done
[[ "${1:-}" == "--quick" ]] && exit 0

echo
echo "## Cost per frame (median of 5), on a crowded frame (PartA_00117, 78 heads) and an empty hall (PartA_00027)"
echo
echo "| detector | frame | 640x480 ms | 1280x720 ms | 1920x1080 ms |"
echo "|---|---|---|---|---|"
for d in yunet yunet-tiled fused; do
  for frame in PartA_00117 PartA_00027; do
    "$eval_bin" --cost "$images/$frame.jpg" --detector "$d" --repeat 5 --json 2>/dev/null | tail -1 |
      jq -r --arg f "$frame" '"| \(.detector) | \($f) | \(.sizes[0].ms_median*10|round/10) | \(.sizes[1].ms_median*10|round/10) | \(.sizes[2].ms_median*10|round/10) |"'
  done
done
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OpenCV $(pkg-config --modversion opencv4)"
