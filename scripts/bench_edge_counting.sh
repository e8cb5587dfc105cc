#!/usr/bin/env bash
# Which detector a node that counts should use, measured: each detector on each clip in
# ../shared/data/video through the node's own pipeline (attendance-eval --video), pinned to one
# core (the node's default budget, counting.max_cores: 1), at the rate that core affords it
# (a look every second, or every ceil(ms per look) seconds for a slower one); then the node's
# detector (yunet-tiled) at a look per second against one per 5 s. Figures: the final windowed count and its range after
# the first 5 s against the people visible (the clips' MANIFEST), ms per look, CPU seconds
# per second of video.
#   scripts/bench_edge_counting.sh          prints the tables (under a minute)
#   scripts/bench_edge_counting.sh --docs   and writes them into docs/counting.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
docs=0
[[ "${1:-}" == "--docs" ]] && docs=1
videos="$root/../shared/data/video"
[[ -d "$videos" ]] || { echo "bench: needs $videos (the shared clips)" >&2; exit 2; }
scripts/build.sh release >/dev/null
eval_bin="$root/build/bin/attendance-eval"
# People visible, from the clips' MANIFEST.md (rough counts by eye; no ground truth), and the
# clips' lengths.
declare -A visible=([classroom_cctv_overhead_640x352.mp4]="13-14"
                    [classroom_handheld_dense_1280x720.mp4]="26-28"
                    [classroom_cctv_rebroadcast_960x540.mp4]="13-17")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # run CLIP DETECTOR EVERY: one line "final min max frames ms cpu_s seconds"
  local json cpu
  /usr/bin/time -o "$out/time" -f "%U %S" taskset -c 0 "$eval_bin" --video "$1" --detector "$2" \
    --every "$3" --json >"$out/run.json" 2>/dev/null
  cpu=$(tail -1 "$out/time")
  json=$(tail -1 "$out/run.json")
  local last_t
  last_t=$(jq '.timeline[-1].t_s' <<<"$json")
  echo "$(jq -r '[.window_final, .window_min, .window_max, .frames, .ms_median] | @tsv' <<<"$json")" \
    "$(awk '{print $1 + $2}' <<<"$cpu")" "$last_t"
}

declare -A duration=([classroom_cctv_overhead_640x352.mp4]=10.95
                     [classroom_handheld_dense_1280x720.mp4]=4.98
                     [classroom_cctv_rebroadcast_960x540.mp4]=12.4)
range() {  # the range after the first 5 s; none for a clip that is not longer
  if [[ "$1" -lt 0 ]]; then echo "— (under 5 s)"; elif [[ "$1" == "$2" ]]; then echo "$1"; else echo "$1-$2"; fi
}
clips=()
for f in "$videos"/*.mp4; do clips+=("$f"); done
{
  echo "| clip | people visible | detector | ms a look (1 core) | a look every | looks | final count | range after 5 s | CPU s per s of video |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for clip in "${clips[@]}"; do
    name=$(basename "$clip")
    for detector in yunet yunet-tiled fused; do
      # The rate one core affords: first measured at a look per second.
      read -r final lo hi frames ms cpu seconds < <(run "$clip" "$detector" 1)
      every=$(awk -v ms="$ms" 'BEGIN { e = int(ms / 1000) + (ms % 1000 > 0 && ms > 1000 ? 1 : 0); print (e < 1 ? 1 : e) }')
      if [[ "$every" != 1 ]]; then
        read -r final lo hi frames ms cpu seconds < <(run "$clip" "$detector" "$every")
      fi
      per_s=$(awk -v c="$cpu" -v s="${duration[$name]:-$seconds}" 'BEGIN { printf "%.2f", c / s }')
      echo "| ${name%.mp4} | ${visible[$name]:-?} | $detector | $(printf %.0f "$ms") | $every s | $frames | $final | $(range "$lo" "$hi") | $per_s |"
    done
  done
} >"$out/detectors.md"
{
  echo "| clip | people visible | a look every | looks | final count | range after 5 s |"
  echo "|---|---|---|---|---|---|"
  for clip in "${clips[@]}"; do
    name=$(basename "$clip")
    for every in 1 5; do
      read -r final lo hi frames ms cpu seconds < <(run "$clip" yunet-tiled "$every")
      echo "| ${name%.mp4} | ${visible[$name]:-?} | $every s | $frames | $final | $(range "$lo" "$hi") |"
    done
  done
} >"$out/rates.md"
echo "== detectors at the rate one core affords"
cat "$out/detectors.md"
echo "== yunet-tiled, a look per second against one per 5 s"
cat "$out/rates.md"
if ((docs)); then
  python3 scripts/put_table.py docs/counting.md edge-detectors "$out/detectors.md" \
    "scripts/bench_edge_counting.sh --docs"
  python3 scripts/put_table.py docs/counting.md edge-rates "$out/rates.md" \
    "scripts/bench_edge_counting.sh --docs"
fi
