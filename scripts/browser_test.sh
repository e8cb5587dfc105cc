#!/usr/bin/env bash
# Browser tests of the dashboard (tests/browser/run.mjs: Debian's Chromium, headless, driven by
# playwright-core) against the real service: builds nothing, but starts attendance-server on a
# free port with the demo province in a temporary data directory, one user per role (the
# `users add` command), attendance-sim for a few sites, then the tests. Screenshots, the
# downloaded export and the service's log go to the artifacts directory (printed at the end).
# Exit status: 0 when every browser test passed.
#   scripts/browser_test.sh [--bin build/bin] [--artifacts build/browser-artifacts]
# ctest runs it as the test `browser` (label browser) of the release build.
#
# The demo province as shipped (config/server.yaml, sites.csv, zones.yaml) with two changes,
# both in the temporary copy: the class is moved to today, in a period that began 5 minutes
# ago, with a roll call every minute (the shipped schedule.yaml is for 2027), and the
# attendance timers are shortened (roll calls taken 5 s after their time, alerts after 1
# minute) so that roll calls, evidence and alerts happen within the test's few minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/bin"
artifacts="$root/build/browser-artifacts"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --artifacts) artifacts=$2; shift 2 ;;
    *) echo "usage: $0 [--bin DIR] [--artifacts DIR]" >&2; exit 2 ;;
  esac
done
chromium=${ATT_CHROMIUM:-/usr/bin/chromium}
say() { echo "browser tests: $*"; }
fail() { echo "browser tests: $*" >&2; exit 1; }

for tool in node npm gst-launch-1.0; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done
[[ -x "$chromium" ]] || fail "$chromium is missing (Debian package chromium; scripts/deps.sh installs it)"
for exe in attendance-server attendance-sim; do
  [[ -x "$bin/$exe" ]] || fail "$bin/$exe is missing: build first (scripts/build.sh)"
done
[[ -f "$root/dashboard/vendor/uPlot.iife.min.js" ]] ||
  fail "dashboard/vendor/ is missing: scripts/dashboard.sh (scripts/build.sh runs it)"
"$bin/attendance-server" users --help >/dev/null 2>&1 ||
  fail "$bin/attendance-server has no 'users' command: it was built without logins"

# The runner's one library, from tests/browser/package-lock.json; npm only when it changed.
tests="$root/tests/browser"
stamp="$tests/node_modules/.lock.sha256"
want=$(sha256sum "$tests/package.json" "$tests/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  say "installing playwright-core (npm ci)"
  (cd "$tests" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/att-browser.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  mkdir -p "$artifacts"
  cp "$tmp/server.log" "$tmp/sim.log" "$artifacts/" 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$artifacts"
mkdir -p "$artifacts" "$tmp/config" "$tmp/data"

# ---- The demo province, its class today ----
cfg="$tmp/config/server.yaml"
cp "$root/config/server.yaml" "$root/config/sites.csv" "$root/config/zones.yaml" "$tmp/config/"
set_setting() {  # a number in server.yaml, its comment kept
  grep -qE "^\s+$1:\s*[0-9.]+" "$cfg" || fail "config/server.yaml has no setting $1"
  sed -i -E "s/^(\s+$1:\s*)[0-9.]+/\1$2/" "$cfg"
}
set_setting roll_call_grace_s 5
set_setting under_minutes 1
set_setting offline_minutes 1
set_setting camera_fault_minutes 1
set_setting final_after_s 5
tz=$(sed -nE 's/^timezone:\s*([^ #]+).*/\1/p' "$root/config/schedule.yaml")
today=$(TZ=$tz date +%F)
yesterday=$(TZ=$tz date -d '12:00 yesterday' +%F)
now_min=$((10#$(TZ=$tz date +%H) * 60 + 10#$(TZ=$tz date +%M)))
start=$((now_min >= 5 ? now_min - 5 : 0))
end=$((now_min + 90 < 1439 ? now_min + 90 : 1439))
hhmm() { printf '%02d:%02d' $(($1 / 60)) $(($1 % 60)); }
period=$([[ $now_min -lt 720 ]] && echo morning || echo afternoon)
cat >"$tmp/config/schedule.yaml" <<EOF
# config/schedule.yaml moved for the browser tests: yesterday's short morning (its sessions
# are summarised), and today's period around now with a roll call every minute.
timezone: $tz
days:
  - date: $yesterday
    periods:
      - {name: morning, start: "07:30", end: "07:34"}
  - date: $today
    periods:
      - {name: $period, start: "$(hhmm $start)", end: "$(hhmm $end)"}
roll_calls:
  first_after_start_min: 1
  every_min: 1
EOF
[[ $end -gt $((now_min + 15)) ]] ||
  say "warning: it is nearly midnight in $tz: today's period ends at $(hhmm $end), perhaps before the tests do"

server=("$bin/attendance-server" --config "$cfg" --data-dir "$tmp/data")
setup() { "$@" >>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; fail "failed: $*"; }; }
setup "${server[@]}" keys

# ---- One user per role ----
declare -A names=([organizer]=bantochuc.lan [auditor]=kiemtra.minh [technician]=kythuat.hung [admin]=quantri)
users_json=""
for role in organizer auditor technician admin; do
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')-$role"
  printf '%s\n' "$password" | setup "${server[@]}" users add "${names[$role]}" --role "$role"
  users_json+="${users_json:+,}\"$role\":{\"user\":\"${names[$role]}\",\"password\":\"$password\"}"
done

# ---- The service on a free port ----
"${server[@]}" --listen 127.0.0.1:0 >"$tmp/server.log" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 1 300); do
  port=$(sed -nE 's#.*listening on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$tmp/server.log" | head -1)
  [[ -n "$port" ]] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$tmp/server.log" >&2; fail "the service did not start"; }
  sleep 0.2
done
[[ -n "$port" ]] || { cat "$tmp/server.log" >&2; fail "the service did not say where it listens"; }
base="http://127.0.0.1:$port"
say "service at $base (data in $tmp/data)"

# ---- Pictures: real classroom frames when ../shared has them ----
shared="${ATT_SHARED_DATA:-$root/../shared/data}"  # ATT_SHARED_DATA=/nonexistent tries the path without it
mkdir -p "$tmp/frames"
picture() {  # picture PATTERN FILE: one 640x360 JPEG of a GStreamer test pattern
  gst-launch-1.0 -q videotestsrc pattern="$1" num-buffers=1 ! video/x-raw,width=640,height=360 ! jpegenc ! \
    filesink location="$2" >/dev/null
}
picture black "$tmp/black.jpg"
picture smpte "$tmp/room.jpg"
compgen -G "$shared/classroom/*.jpg" >/dev/null && cp "$(compgen -G "$shared/classroom/*.jpg" | head -1)" "$tmp/room.jpg"
real=1
if compgen -G "$shared/classroom/*.jpg" >/dev/null; then
  pictures=(--images "$shared/classroom")
elif compgen -G "$shared/video/*.mp4" >/dev/null; then
  pictures=(--clip "$(compgen -G "$shared/video/*.mp4" | head -1)")
else
  real=0
  gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=12 ! video/x-raw,width=640,height=360 ! jpegenc ! \
    multifilesink location="$tmp/frames/%03d.jpg" >/dev/null
  pictures=(--images "$tmp/frames")
  say "../shared/data is absent: the simulated sites send test pictures; the check that people are counted is skipped"
fi
mapfile -t sim_sites < <(tail -n +2 "$tmp/config/sites.csv" | head -4 | cut -d, -f1)
"$bin/attendance-sim" --config "$cfg" --server "$base" --sites "${#sim_sites[@]}" --interval 5 --duration 1800 \
  --width 640 --height 360 "${pictures[@]}" >"$tmp/sim.log" 2>&1 &
pids+=($!)
say "attendance-sim feeds ${sim_sites[*]} (${pictures[*]})"

# ---- The tests ----
set +e
ATT_BASE_URL="$base" ATT_ARTIFACTS="$artifacts" ATT_USERS="{$users_json}" \
  ATT_SITE_KEYS="$tmp/data/site_keys.csv" ATT_SIM_SITES="$(IFS=,; echo "${sim_sites[*]}")" \
  ATT_DARK_JPEG="$tmp/black.jpg" ATT_ROOM_JPEG="$tmp/room.jpg" ATT_REAL_FRAMES="$real" ATT_CHROMIUM="$chromium" \
  node "$tests/run.mjs"
rc=$?
set -e
say "screenshots, the export and the logs: $artifacts"
exit "$rc"
