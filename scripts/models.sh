#!/usr/bin/env bash
# Makes sure the YuNet 2022mar face model is available, without ever committing it.
# Looks in $ATTENDANCE_MODEL_DIR, then ../shared/models, then models/ (this tree);
# otherwise downloads the public file into models/ and checks its sha256.
# If nothing can be had it says so and exits 0: the server then runs on the Haar cascade
# and says, in its log and on the dashboard, that counts are degraded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
file=face_detection_yunet_2022mar.onnx
sha=50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7
url=https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/$file

good() { [[ -f "$1" ]] && echo "$sha  $1" | sha256sum --check --status; }

for dir in "${ATTENDANCE_MODEL_DIR:-}" "$root/../shared/models" "$root/models"; do
  [[ -n "$dir" ]] || continue
  if good "$dir/$file"; then
    echo "models: $file found in $(cd "$dir" && pwd) (sha256 ok)"
    exit 0
  fi
done

mkdir -p "$root/models"
tmp=$(mktemp "$root/models/.$file.XXXXXX")
trap 'rm -f "$tmp"' EXIT
echo "models: downloading $file from $url"
if curl -fsSL --retry 3 --max-time 120 -o "$tmp" "$url" && good "$tmp"; then
  mv "$tmp" "$root/models/$file"
  echo "models: $file saved in $root/models (sha256 ok)"
else
  echo "models: WARNING: could not get $file with sha256 $sha." >&2
  echo "models: the server will count with the Haar cascade and report DEGRADED counts." >&2
fi
