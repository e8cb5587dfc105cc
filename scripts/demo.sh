#!/usr/bin/env bash
# The demo: a class day of the whole province, now. Installs what is missing, builds what the
# demo runs, gets the model, then starts the service on http://127.0.0.1:8080 with a fresh
# database under data/demo/ holding the sample province (164 sites), a schedule with a class
# in progress in the province's time zone whatever the hour, and every site alive:
#   - one real capture node per clip in ../shared/data/video/ (tp-02, td-02, sh-02), each clip
#     played in a loop like a camera, each node counting its room itself;
#   - attendance-sim as the other 161 nodes, sending counts, evidence pictures and reports
#     from real classroom pictures (../shared/data/classroom/), each count its picture's;
#   - a script for the first minutes: tp-01 starts late (a quarter of its class until the
#     7th minute), sh-01 goes offline for 8 minutes, pt-01's lens is covered for 7, and half
#     of td-01 leaves before its session's last roll call (its morning ends early).
# Roll calls every 5 minutes from the 3rd minute; so that the covered camera raises its alert
# within the demo's first minutes, a camera fault is raised after 3 minutes (10 in
# config/server.yaml). Ctrl-C stops everything.
#   PORT=8081 scripts/demo.sh             another port
#   DEMO_DIR=/tmp/d scripts/demo.sh       its files elsewhere than data/demo (emptied first)
#   COUNTING=central scripts/demo.sh      the clip nodes send frames and the service counts them
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${PORT:-8080}
counting=${COUNTING:-edge}
say() { echo "demo: $*"; }

scripts/deps.sh --demo
scripts/models.sh
if [[ ! -x build/bin/attendance-server || ! -x build/bin/attendance-sim ]]; then
  say "first build of the service, the capture node and the simulator: about 5 minutes on 2 cores (later starts take seconds)"
fi
built_at=$SECONDS
scripts/build.sh release attendance-server attendance-capture attendance-sim
say "built in $((SECONDS - built_at)) s"

demo=${DEMO_DIR:-$root/data/demo}
rm -rf "$demo"
mkdir -p "$demo/config" "$demo/data" "$root/data"
cfg="$demo/config/server.yaml"
server=(build/bin/attendance-server --config "$cfg" --data-dir "$demo/data")

# The configuration: the project's, with the demo's schedule and the clip sites' class sizes.
clip_sites=(tp-02 td-02 sh-02)
clip_expected=(13 13 22)  # the people each clip shows (the sample province's are larger)
cp config/server.yaml config/zones.yaml config/sites.csv config/schedule.yaml "$demo/config/"
sed -i -E 's/^(  camera_fault_minutes:) *[0-9]+/\1 3/; s/^(  roll_call_grace_s:) *[0-9]+/\1 30/' "$cfg"
for i in "${!clip_sites[@]}"; do
  sed -i -E "s/^(${clip_sites[$i]},[^\"]*\"[^\"]*\",)[0-9]+,/\1${clip_expected[$i]},/" "$demo/config/sites.csv"
done

# The simulated sites' pictures, each counted once as the service counts (kept for next time
# in data/demo-counts.json), before the clock of the demo starts.
if [[ -d "$root/../shared/data/classroom" ]]; then
  pictures=(--images "$root/../shared/data/classroom" --pictures 150)
else
  pictures=(--clip "$root/../shared/data/video/$(ls "$root/../shared/data/video" 2>/dev/null | head -1)")
  [[ -f "${pictures[1]}" ]] || pictures=(--clip /usr/share/doc/opencv-doc/examples/data/vtest.avi)
  say "no ../shared/data/classroom: the simulated sites show frames of ${pictures[1]}"
fi
sim=(build/bin/attendance-sim --config "$cfg" --mode edge "${pictures[@]}"
  --count-cache "$root/data/demo-counts.json")
"${server[@]}" keys >/dev/null  # every site's key, in $demo/data/site_keys.csv
[[ -f "$root/data/demo-counts.json" ]] || say "counting the classroom pictures once (about a minute on 2 cores)"
"${sim[@]}" --count-only

# The schedule: today in the province's time zone, a session that began 5 minutes ago and
# lasts 3 hours (to 23:59 at the latest), a second one after a half-hour break when the day
# has room, and tomorrow as a usual class day.
tz=Asia/Ho_Chi_Minh
today=$(TZ=$tz date +%F)
tomorrow=$(TZ=$tz date -d tomorrow +%F)
now_min=$((10#$(TZ=$tz date +%H) * 60 + 10#$(TZ=$tz date +%M)))
hhmm() { printf '%02d:%02d' $(($1 / 60)) $(($1 % 60)); }
names=(morning afternoon evening night)
name_at() { if (($1 < 720)); then echo 0; elif (($1 < 1080)); then echo 1; else echo 2; fi; }
last=$((24 * 60 - 1))
start=$((now_min >= 5 ? now_min - 5 : 0))
end=$((start + 180 < last ? start + 180 : last))
first=$(name_at $start)
period() { echo "$1- {name: ${names[$2]}, start: \"$(hhmm "$3")\", end: \"$(hhmm "$4")\"}"; }
periods=$(period "      " "$first" $start $end)
early_end=$((start + 13 < last ? start + 13 : last))  # td-01: roll calls at +7 and +12 min
early_periods=$(period "          " "$first" $start $early_end)
if ((end + 60 <= last)); then  # the next session: named after the first, the day's next part
  second=$((end + 30))
  second_end=$((second + 150 < last ? second + 150 : last))
  periods+=$'\n'$(period "      " $((first + 1)) $second $second_end)
  early_periods+=$'\n'$(period "          " $((first + 1)) $second $second_end)
fi
cat >"$demo/config/schedule.yaml" <<YAML
# The demo's class schedule, written by scripts/demo.sh at $(TZ=$tz date '+%F %H:%M') ($tz).
timezone: $tz
days:
  - date: $today
    periods:
$periods
  - date: $tomorrow
    periods:
      - {name: morning, start: "07:30", end: "11:30"}
      - {name: afternoon, start: "13:30", end: "17:00"}
roll_calls:
  first_after_start_min: 7
  every_min: 5
overrides:
  - site: td-01
    days:
      - date: $today
        periods:
$early_periods
YAML

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  say "stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# One user of each role to log in to the dashboard with.
demo_password=demo-password
for role in admin organizer auditor technician; do
  printf '%s\n' "$demo_password" | "${server[@]}" users add "$role" --role "$role" >/dev/null
done
"${server[@]}" --listen "127.0.0.1:$port" >"$demo/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the server did not start:" >&2
    cat "$demo/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
grep -E "DEGRADED" "$demo/server.log" >&2 || true

clips=()
if compgen -G "$root/../shared/data/video/*.mp4" >/dev/null; then
  clips=("$root"/../shared/data/video/*.mp4)
else
  vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
  [[ -f "$vtest.gz" && ! -f "$demo/vtest.avi" ]] && gunzip -c "$vtest.gz" >"$demo/vtest.avi" && vtest="$demo/vtest.avi"
  clips=("$vtest")
fi
# Health scored every 3 s: a clip of 5 s scored every 5 s would show the same frame each time,
# and look frozen.
for i in "${!clips[@]}"; do
  ((i < ${#clip_sites[@]})) || break
  site=${clip_sites[$i]}
  mkdir -p "$demo/node-$site"
  (umask 077 && "${server[@]}" keys --show "$site" >"$demo/node-$site/site.key")
  build/bin/attendance-capture --site "$site" --server "http://127.0.0.1:$port" \
    --source "${clips[$i]}" --secret-file "$demo/node-$site/site.key" \
    --state-dir "$demo/node-$site" --counting "$counting" --interval 3 >"$demo/node-$site.log" 2>&1 &
  pids+=($!)
  say "$site <- $(basename "${clips[$i]}") (a real capture node, counting $counting)"
done

"${sim[@]}" --server "http://127.0.0.1:$port" --sites 164 --skip "$(IFS=,; echo "${clip_sites[*]}")" --interval 5 --evidence-interval 300 \
  --heartbeat-interval 30 --duration 604800 --spool 500 \
  --event tp-01:people=0.25:0-360 --event sh-01:offline:0-480 --event pt-01:covered:0-420 \
  --event td-01:people=0.3:240- >"$demo/sim.log" 2>&1 &
pids+=($!)
say "attendance-sim <- the other $((164 - ${#clip_sites[@]})) sites"

cat <<MSG

  Dashboard:  http://127.0.0.1:$port/   (ready $SECONDS s after this script started)
              log in as organizer, auditor, technician or admin, password $demo_password
    organizer   Tổng quan: the class in progress, sites needing a call first (sh-01 offline
                from the 5th minute, pt-01's camera covered, tp-01 late), totals by district
    auditor     Hồ sơ: roll calls every 5 minutes with their pictures, alerts, exports, the
                ledger's check (Kiểm tra sổ)
    technician  Camera: every node's picture health and reports; live view of tp-02
    admin       Người dùng: add a user, disable one, reset a password
  API:        http://127.0.0.1:$port/api/v1/sites (after POST /api/v1/login)
  Metrics:    curl http://127.0.0.1:$port/metrics (from this machine, no login)
  Logs:       $demo/*.log
  Stop:       Ctrl-C

MSG
wait "${pids[0]}"
