#!/usr/bin/env bash
# The demo: installs what is missing, builds, gets the model, then starts the service on
# http://127.0.0.1:8080 with a fresh database holding the sample province (164 sites), and a
# few real capture nodes, each fed by a real classroom clip played in a loop like a camera,
# each counting its room itself (counting.mode: edge, the default) and sending counts and
# evidence pictures, which the service audits. The other sites stay empty. Ctrl-C stops
# everything.
#   PORT=8081 scripts/demo.sh             another port
#   COUNTING=central scripts/demo.sh      the nodes send frames and the service counts them
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${PORT:-8080}
counting=${COUNTING:-edge}

scripts/deps.sh --demo
scripts/models.sh
scripts/build.sh release

data="$root/data/demo"
rm -rf "$data"
mkdir -p "$data"

clips=()
if compgen -G "$root/../shared/data/video/*.mp4" >/dev/null; then
  clips=("$root"/../shared/data/video/*.mp4)
else
  vtest=/usr/share/doc/opencv-doc/examples/data/vtest.avi
  [[ -f "$vtest.gz" && ! -f "$data/vtest.avi" ]] && gunzip -c "$vtest.gz" >"$data/vtest.avi" && vtest="$data/vtest.avi"
  clips=("$vtest")
fi
sites=(tp-01 td-01 sh-01 pt-01 mt-01)

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Every site gets a key (kept in data/site_keys.csv, see config/server.yaml nodes.site_keys).
build/bin/attendance-server --config config/server.yaml keys
# One user of each role to log in to the dashboard with (the demo's database is new each time).
demo_password=demo-password
for role in admin organizer auditor technician; do
  printf '%s\n' "$demo_password" |
    build/bin/attendance-server --config config/server.yaml --data-dir "$data" users add "$role" --role "$role"
done
build/bin/attendance-server --config config/server.yaml --data-dir "$data" \
  --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "demo: the server did not start:" >&2
    cat "$data/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

for i in "${!clips[@]}"; do
  site=${sites[$i]}
  mkdir -p "$data/node-$site"
  (umask 077 && build/bin/attendance-server --config config/server.yaml keys --show "$site" \
    >"$data/node-$site/site.key")
  build/bin/attendance-capture --site "$site" --server "http://127.0.0.1:$port" \
    --source "${clips[$i]}" --secret-file "$data/node-$site/site.key" \
    --state-dir "$data/node-$site" --counting "$counting" >"$data/node-$site.log" 2>&1 &
  pids+=($!)
  if [[ "$counting" == edge ]]; then
    echo "demo: site $site <- $(basename "${clips[$i]}") (counted at the site: a look a second, a count every 5 s, a picture a minute)"
  else
    echo "demo: site $site <- $(basename "${clips[$i]}") (the service asks for a frame every 5 s)"
  fi
done

grep -E "DEGRADED" "$data/server.log" >&2 || true
cat <<MSG

  Dashboard:  http://127.0.0.1:$port/
              log in as admin, organizer, auditor or technician, password $demo_password
  API:        http://127.0.0.1:$port/api/v1/sites (after POST /api/v1/login; README, "Users and roles")
  Metrics:    curl http://127.0.0.1:$port/metrics (from this machine, no login)
  Logs:       $data/*.log
  Stop:       Ctrl-C

MSG
wait "${pids[0]}"
