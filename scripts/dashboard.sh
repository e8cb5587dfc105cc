#!/usr/bin/env bash
# The dashboard's browser libraries, fetched at build time and served by the service itself
# (sites have no internet guarantee, so nothing comes from a CDN at run time).
# dashboard/package.json + package-lock.json name them; `npm ci` installs them into
# .cache/dashboard-npm/ (outside the served directory), and the few files the pages load are
# copied into dashboard/vendor/ (git-ignored). Skips npm when the installed tree matches the
# lock, so it is offline-safe and takes well under a second once done.
#   scripts/dashboard.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/dashboard"
npm_dir="$root/.cache/dashboard-npm"
vendor="$src/vendor"
stamp="$npm_dir/node_modules/.lock.sha256"

want=$(sha256sum "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  command -v npm >/dev/null || { echo "dashboard: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
  echo "dashboard: installing the browser libraries (npm ci)"
  mkdir -p "$npm_dir"
  cp "$src/package.json" "$src/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# name in node_modules -> name in dashboard/vendor/
files=(
  "uplot/dist/uPlot.iife.min.js:uPlot.iife.min.js"
  "uplot/dist/uPlot.min.css:uPlot.min.css"
  "uplot/LICENSE:uPlot.LICENSE.txt"
)
mkdir -p "$vendor"
for f in "${files[@]}"; do
  from="$npm_dir/node_modules/${f%%:*}" to="$vendor/${f##*:}"
  [[ -f "$from" ]] || { echo "dashboard: $from is missing" >&2; exit 1; }
  cmp -s "$from" "$to" 2>/dev/null || cp "$from" "$to"
done
