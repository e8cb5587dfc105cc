#!/usr/bin/env bash
# Several service processes on one PostgreSQL database, against one process on SQLite, in one
# run on this machine. Two parts:
#  1. Load: 1,000 simulated sites that count (attendance-sim --mode edge: a signed count every
#     5 s and a 1280x720 evidence picture every 60 s, audited by the service with fused), as in
#     `scripts/bench_service.sh --edge`, for DURATION seconds (60) against
#       a. one process on SQLite, the sim straight at it (HTTP): the baseline;
#       b. one process on PostgreSQL (scripts/pg_server.sh --durable: fsync on), straight at it;
#       c. two processes on the same PostgreSQL behind nginx (config/nginx/attendance.conf,
#          HTTPS; the sim trusts nginx's self-signed certificate with --ca-file), each with
#          half the detector workers (detector.workers: nproc / 2, at least 1).
#     A row each: items offered and stored per second, 503 answers, capture → acknowledged
#     p50 / p99, what the simulated nodes still hold or dropped, and CPU (% of one core, from
#     /proc over the sim's run) of the service processes, of PostgreSQL (the postmaster and
#     its children, exited ones included through its cutime/cstime) and of nginx (its master
#     and workers) and of the rest of the machine (/proc/stat's busy time less those: the sim,
#     and whatever else runs), the service processes' peak RSS (VmHWM, summed) and their evidence audits
#     (attendance_audits_total done / skipped, summed); then (c) against (a).
#     The pictures are counted once beforehand (--count-cache), so the sim's run is sending only.
#     Everything shares this machine's cores: with 2 cores, (c) measures what the second
#     process, PostgreSQL and nginx cost, not what several machines would gain.
#  2. Takeover of the roll book: two processes on a fresh PostgreSQL, no load; the one that
#     holds the roll_book role (/metrics: attendance_cluster_role{role="roll_book"} 1) is
#     killed with SIGKILL, the other's /metrics is read every 100 ms until it holds the role;
#     the killed one is started again and must rejoin without it (checked after one roll-book
#     tick, 11 s); each kill comes after a random 0-10 s wait (so that kills fall at any
#     point of the survivor's tick); TAKEOVERS times (5), so the kills alternate. Each time,
#     then min / median / max. A process tries for the role at its roll-book tick (every
#     10 s), so expect 0-10 s.
# Builds attendance-server and attendance-sim first (BUILD=0: not). Starts and stops everything
# it uses (servers, nginx, PostgreSQL) and leaves nothing in /tmp (LOGS=DIR: the servers' and
# the sim's logs are copied there first). Ports PORT (18380) to PORT+3. A server that does not
# exit 0 on SIGTERM is named under the tables. Exits 0 with a message when
# ../shared/data/classroom is missing.
#   scripts/bench_cluster.sh           (about 6 minutes on the 2-core machine)
#   DURATION=120 TAKEOVERS=9 scripts/bench_cluster.sh
#   scripts/bench_cluster.sh --docs    also writes the tables into docs/measurements.md
#                                      ("Several processes on PostgreSQL")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
docs=0
case "${1:-}" in
  --docs) docs=1 ;;
  "") ;;
  *) echo "usage: scripts/bench_cluster.sh [--docs]" >&2; exit 2 ;;
esac
duration=${DURATION:-60}
takeovers=${TAKEOVERS:-5}
[[ "$takeovers" =~ ^[1-9][0-9]*$ ]] || { echo "bench_cluster: TAKEOVERS must be 1 or more" >&2; exit 2; }
port=${PORT:-18380}
ports=("$port" "$((port + 1))")  # the service processes
https_port=$((port + 2)) http_port=$((port + 3))
shared=${ATTENDANCE_SHARED_DIR:-$root/../shared}
images=$shared/data/classroom
[[ -d "$images" ]] || { echo "bench_cluster: needs $images (the shared classroom frames)"; exit 0; }
for tool in jq curl openssl /usr/sbin/nginx; do
  command -v "$tool" >/dev/null || { echo "bench_cluster: needs $tool" >&2; exit 1; }
done
[[ "${BUILD:-1}" == 0 ]] ||
  cmake --build build --target attendance-server attendance-sim >/dev/null

tmp=$(mktemp -d /tmp/bench-cluster.XXXXXX)
chmod 755 "$tmp"  # PostgreSQL's user reaches its directory, $tmp/pg, through it
pg=$tmp/pg
svc_pids=("" "")
nginx_pid="" sim_pid=""
die() {
  echo "bench_cluster: $*" >&2
  exit 1
}
stop_pid() {  # stop_pid PID [NAME]: SIGTERM, SIGKILL after 20 s; a NAME'd one that does not
  local pid=$1 rc=0   # exit 0 is noted in $tmp/exits (printed at the end)
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  if [[ -n "${2:-}" && $rc -ne 0 ]]; then
    echo "$2 exited with status $rc on SIGTERM$( ((rc > 128)) && echo " (signal $((rc - 128)))")." >>"$tmp/exits"
  fi
  return 0
}
cleanup() {
  set +e
  stop_pid "$sim_pid"
  stop_pid "${svc_pids[0]}"
  stop_pid "${svc_pids[1]}"
  stop_pid "$nginx_pid"
  scripts/pg_server.sh stop "$pg" >/dev/null 2>&1
  [[ -n "${LOGS:-}" ]] && mkdir -p "$LOGS" && cp "$tmp"/*.log "$tmp"/*.json "$LOGS"/
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The province of 1,000 sites (scripts/bench_province.sh), its keys, and the pictures counted once.
scripts/bench_province.sh "$tmp"
build/bin/attendance-sim --config "$tmp/server.yaml" --mode edge --images "$images" \
  --width 1280 --height 720 --count-cache "$tmp/counts.json" --count-only 2>"$tmp/count.log" ||
  { cat "$tmp/count.log" >&2; die "counting the pictures failed"; }
half=$(($(nproc) / 2))
((half >= 1)) || half=1

# server_yaml FILE [CONNINFO [WORKERS]]: the settings, on PostgreSQL when CONNINFO is given,
# behind nginx (its X-Forwarded-For trusted) and with WORKERS detector workers when given.
server_yaml() {
  local file=$1 conninfo=${2:-} workers=${3:-}
  if [[ -z "$conninfo" ]]; then
    cp "$tmp/server.yaml" "$file"
    return
  fi
  sed -e "s|^  backend: sqlite.*|  backend: postgres\n  postgres: \"$conninfo\"|" \
      ${workers:+-e "s|^  workers: .*|  workers: $workers|"} \
      ${workers:+-e "s|^  # trusted_proxies: .*|  trusted_proxies: [127.0.0.1]|"} \
      "$tmp/server.yaml" >"$file"
  grep -q '^  backend: postgres' "$file" || die "could not set storage.backend in $file"
}

# start_server I CONFIG LOG: process I on ports[I]; waits for /healthz.
start_server() {
  local i=$1
  build/bin/attendance-server --config "$2" --listen "127.0.0.1:${ports[$i]}" >>"$3" 2>&1 &
  svc_pids[i]=$!
  for _ in $(seq 1 150); do
    curl -fs --max-time 1 "http://127.0.0.1:${ports[$i]}/healthz" >/dev/null 2>&1 && return 0
    kill -0 "${svc_pids[$i]}" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$3" >&2
  die "attendance-server on port ${ports[$i]} did not start (log above)"
}

holds_roll_book() {  # holds_roll_book I: whether process I says it holds the role
  local metrics
  metrics=$(curl -fs --max-time 1 "http://127.0.0.1:${ports[$1]}/metrics") || return 1
  grep -qx 'attendance_cluster_role{role="roll_book"} 1' <<<"$metrics"
}

wait_for_holder() {  # wait_for_holder I SECONDS
  local tries=$(($2 * 10))
  for _ in $(seq 1 "$tries"); do
    holds_roll_book "$1" && return 0
    sleep 0.1
  done
  return 1
}

start_postgres() {
  conninfo=$(scripts/pg_server.sh start "$pg" --durable) || die "PostgreSQL did not start"
}
stop_postgres() {
  scripts/pg_server.sh stop "$pg" >/dev/null
}
postmaster_pid() { head -n 1 "$pg/data/postmaster.pid"; }

# tree_ticks PID...: CPU ticks used so far by each PID and its children: their own, and those
# of children already reaped (cutime, cstime), so that a PostgreSQL backend or nginx worker
# that ended during the run is still counted.
tree_ticks() {
  local total=0 f line pid
  local -a v
  local -A roots=()
  for pid in "$@"; do roots[$pid]=1; done
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}
    read -r -a v <<<"${line##*) }"  # from field 3 (state) on; field 4 is the parent
    if [[ -n "${roots[$pid]:-}" || -n "${roots[${v[1]}]:-}" ]]; then
      total=$((total + v[11] + v[12] + v[13] + v[14]))
    fi
  done
  echo "$total"
}

nginx_start() {
  local d=$tmp/nginx servers=""
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$d/key.pem" \
    -out "$d/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
  for p in "${ports[@]}"; do servers+="server 127.0.0.1:$p max_fails=1 fail_timeout=5s; "; done
  # The placeholders replaced outside comments, as scripts/install.sh and the tests do.
  awk -v services="$servers" -v dashboard="$root/dashboard" -v cert="$d/cert.pem" \
    -v key="$d/key.pem" -v https="127.0.0.1:$https_port" -v http="127.0.0.1:$http_port" '
    !/^[ \t]*#/ { gsub(/@SERVICES@/, services); gsub(/@DASHBOARD@/, dashboard)
                  gsub(/@CERT@/, cert); gsub(/@KEY@/, key)
                  gsub(/@HTTPS@/, https); gsub(/@HTTP@/, http) }
    { print }' config/nginx/attendance.conf >"$d/attendance.conf"
  ! grep -v '^[[:space:]]*#' "$d/attendance.conf" | grep -q '@[A-Z]*@' ||
    die "a placeholder of config/nginx/attendance.conf is not replaced"
  {
    [[ $(id -u) -eq 0 ]] && echo "user root;"  # workers as nobody could not read $d
    echo "worker_processes 2;"
    echo "daemon off;"
    echo "pid $d/nginx.pid;"
    echo "error_log $d/error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  include /etc/nginx/mime.types;"
    echo "  default_type application/octet-stream;"
    echo "  access_log off;"
    for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $d/$temp;"; done
    echo "  include $d/attendance.conf;"
    echo "}"
  } >"$d/nginx.conf"
  /usr/sbin/nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$d/nginx.out" 2>&1 &
  nginx_pid=$!
  for _ in $(seq 1 50); do
    curl -fs --max-time 1 --cacert "$d/cert.pem" "https://127.0.0.1:$https_port/healthz" \
      >/dev/null 2>&1 && return 0
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$d/nginx.out" "$d/error.log" >&2 2>/dev/null || true
  die "nginx did not start"
}

ticks=$(getconf CLK_TCK)
busy_ticks() {  # CPU ticks this machine has been busy, all cores (/proc/stat)
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
cpu_pct() {  # cpu_pct TICKS SECONDS
  awk -v c="$1" -v hz="$ticks" -v s="$2" 'BEGIN { printf "%.0f %%", 100 * c / hz / s }'
}

# run_load LABEL URL [CA]: the sim against the processes in svc_pids (and nginx, PostgreSQL
# when running); prints a table row, keeps the sim's JSON in $tmp/sim-LABEL.json.
run_load() {
  local label=$1 url=$2 ca=${3:-} name=${1%%.*}
  local -a svc=() svc_ports=() sim_ca=()
  local pid i
  for i in 0 1; do
    [[ -n "${svc_pids[$i]}" ]] && svc+=("${svc_pids[$i]}") svc_ports+=("${ports[$i]}")
  done
  [[ -n "$ca" ]] && sim_ca=(--ca-file "$ca")
  local pm=""
  [[ -f "$pg/data/postmaster.pid" ]] && pm=$(postmaster_pid)
  local s0 p0=0 n0=0 m0 s1 p1=0 n1=0 m1 t0 t1
  s0=$(tree_ticks "${svc[@]}")
  [[ -n "$pm" ]] && p0=$(tree_ticks "$pm")
  [[ -n "$nginx_pid" ]] && n0=$(tree_ticks "$nginx_pid")
  m0=$(busy_ticks)
  t0=$(date +%s.%N)
  build/bin/attendance-sim --config "$tmp/server.yaml" --server "$url" "${sim_ca[@]}" \
    --sites 1000 --interval 5 --evidence-interval 60 --duration "$duration" \
    --images "$images" --width 1280 --height 720 --mode edge --count-cache "$tmp/counts.json" \
    >"$tmp/sim-$name.json" 2>"$tmp/sim-$name.log" &
  sim_pid=$!
  local rc=0
  wait "$sim_pid" || rc=$?
  sim_pid=""
  t1=$(date +%s.%N)
  m1=$(busy_ticks)
  s1=$(tree_ticks "${svc[@]}")
  [[ -n "$pm" ]] && p1=$(tree_ticks "$pm")
  [[ -n "$nginx_pid" ]] && n1=$(tree_ticks "$nginx_pid")
  # 3: some items refused (counted in the JSON); anything else is a failure of the sim.
  if [[ ! -s "$tmp/sim-$name.json" ]] || ((rc != 0 && rc != 3)); then
    tail -n 20 "$tmp/sim-$name.log" >&2
    die "attendance-sim failed ($rc) in run $label"
  fi
  local audits
  audits=$(for p in "${svc_ports[@]}"; do curl -fs --max-time 5 "http://127.0.0.1:$p/metrics"; done |
    awk -F'[ "]' '/^attendance_audits_total/ { n[$2] += $NF }
                  END { printf "%d / %d", n["done"], n["skipped"] }')
  local rss=0
  for pid in "${svc[@]}"; do
    rss=$((rss + $(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")))
  done
  local seconds pg_cpu="–" nginx_cpu="–"
  seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  [[ -n "$pm" ]] && pg_cpu=$(cpu_pct "$((p1 - p0))" "$seconds")
  [[ -n "$nginx_pid" ]] && nginx_cpu=$(cpu_pct "$((n1 - n0))" "$seconds")
  jq -r --arg d "$label" --arg svc "$(cpu_pct "$((s1 - s0))" "$seconds")" --arg pg "$pg_cpu" \
    --arg ngx "$nginx_cpu" --arg rss "$((rss / 1024)) MiB" --arg audits "$audits" \
    --arg rest "$(cpu_pct "$((m1 - m0 - (s1 - s0) - (p1 - p0) - (n1 - n0)))" "$seconds")" \
    '"| \($d) | \(.offered_fps * 10 | round / 10) | \(.stored_fps * 100 | round / 100) | \(.busy_503) | \(.latency_p50_ms / 1000 * 100 | round / 100) s / \(.latency_p99_ms / 1000 * 100 | round / 100) s | \(.left_in_sim_spools) | \(.dropped_in_sim_spools) | \($audits) | \($svc) | \($pg) | \($ngx) | \($rest) | \($rss) |"' \
    "$tmp/sim-$name.json"
}

stop_services() {  # stop_services RUN
  stop_pid "${svc_pids[0]}" "attendance-server 0 of run $1"
  stop_pid "${svc_pids[1]}" "attendance-server 1 of run $1"
  svc_pids=("" "")
}

out=$tmp/tables.md
{
  echo "| setup | offered items/s | stored items/s | 503 answers | capture → acknowledged p50 / p99 | left in the nodes' spools | dropped | audits done / skipped | service CPU (sum, % of one core) | PostgreSQL CPU | nginx CPU | the rest of the machine's CPU (the sim and anything else) | service RSS (sum) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$out"

# a. One process on SQLite.
rm -rf "$tmp/data"
server_yaml "$tmp/a.yaml"
start_server 0 "$tmp/a.yaml" "$tmp/server-a.log"
run_load "a. one process, SQLite, HTTP" "http://127.0.0.1:${ports[0]}" >>"$out"
stop_services a

# b. One process on PostgreSQL.
rm -rf "$tmp/data"
start_postgres
server_yaml "$tmp/b.yaml" "$conninfo"
start_server 0 "$tmp/b.yaml" "$tmp/server-b.log"
run_load "b. one process, PostgreSQL, HTTP" "http://127.0.0.1:${ports[0]}" >>"$out"
stop_services b
stop_postgres

# c. Two processes on one PostgreSQL behind nginx, half the detector workers each. The first
# takes the roll book before the second starts (as tests/test_cluster.cpp does).
rm -rf "$tmp/data"
start_postgres
server_yaml "$tmp/c.yaml" "$conninfo" "$half"
start_server 0 "$tmp/c.yaml" "$tmp/server-c0.log"
wait_for_holder 0 30 || die "the first process did not take the roll book within 30 s"
start_server 1 "$tmp/c.yaml" "$tmp/server-c1.log"
nginx_start
run_load "c. two processes ($half detector worker(s) each), PostgreSQL, nginx HTTPS" \
  "https://127.0.0.1:$https_port" "$tmp/nginx/cert.pem" >>"$out"
stop_pid "$nginx_pid" "nginx of run c"
nginx_pid=""
stop_services c
stop_postgres

{
  echo
  jq -r '"\(.stored_fps) \(.latency_p99_ms)"' "$tmp/sim-a.json" "$tmp/sim-c.json" | paste -sd' ' |
    awk '{ printf "(c) / (a): stored items/s %.2fx (%.2f / %.2f); capture → acknowledged p99 %.1fx (%d ms / %d ms).\n",
           $3 / $1, $3, $1, ($2 > 0 ? $4 / $2 : 0), $4, $2 }'
  for run in a b c; do
    jq -r --arg r "$run" 'select(.refused > 0 or .failed > 0) |
      "Run \($r): \(.refused) items refused, \(.failed) failed uploads."' "$tmp/sim-$run.json"
  done
  echo
  echo "One run of $duration s each, $(date -u +%Y-%m-%d), $(nproc) cores; 1,000 sites, a count every 5 s and a 1280x720 evidence picture every 60 s from each; CPU over the sim's run."
  echo
} >>"$out"

# 2. Takeover of the roll book.
rm -rf "$tmp/data"
start_postgres
server_yaml "$tmp/t.yaml" "$conninfo" "$half"
start_server 0 "$tmp/t.yaml" "$tmp/server-t0.log"
wait_for_holder 0 30 || die "the first process did not take the roll book within 30 s"
start_server 1 "$tmp/t.yaml" "$tmp/server-t1.log"
times=()
{
  echo "| takeover | killed (SIGKILL) | taken over by | kill → the other's /metrics says it holds the roll book | the killed one, started again, holds it |"
  echo "|---|---|---|---|---|"
} >>"$out"
for round in $(seq 1 "$takeovers"); do
  # The kill at a random point of the survivor's 10 s tick: otherwise every kill would fall
  # at the same phase (this loop's own rhythm) and the times would all be alike.
  sleep "$((RANDOM % 10)).$((RANDOM % 10))"
  holder=""
  holds_roll_book 0 && holder=0
  if holds_roll_book 1; then
    [[ -z "$holder" ]] || die "both processes say they hold the roll book"
    holder=1
  fi
  [[ -n "$holder" ]] || die "neither process holds the roll book (round $round)"
  other=$((1 - holder))
  kill -9 "${svc_pids[$holder]}"
  t0=$(date +%s.%N)
  wait "${svc_pids[$holder]}" 2>/dev/null || true
  svc_pids[holder]=""
  wait_for_holder "$other" 30 ||
    die "process $other did not take the roll book within 30 s of process $holder's kill"
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  times+=("$took")
  start_server "$holder" "$tmp/t.yaml" "$tmp/server-t$holder.log"
  sleep 11  # one roll-book tick: the rejoined process has tried for the role and lost
  rejoined=no
  holds_roll_book "$holder" && rejoined="**yes**"
  holds_roll_book "$other" || die "process $other lost the roll book after $holder rejoined"
  echo "| $round | process $holder (port ${ports[$holder]}) | process $other | $took s | $rejoined |" >>"$out"
done
stop_services takeover
stop_postgres
printf '%s\n' "${times[@]}" | sort -g | awk '{ t[NR] = $1 }
  END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
        printf "\nTakeover over %d kills: min %.2f s, median %.2f s, max %.2f s (polled every 100 ms).\n", NR, t[1], m, t[NR] }' >>"$out"

if [[ -s "$tmp/exits" ]]; then
  echo >>"$out"
  sed 's/^/Not a clean stop: /' "$tmp/exits" >>"$out"
fi
cat "$out"
if ((docs)); then
  scripts/put_table.py docs/measurements.md cluster "$out" "scripts/bench_cluster.sh --docs"
fi
