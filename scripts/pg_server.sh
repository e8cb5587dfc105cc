#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (and, with --durable, for benchmarks): a fresh
# cluster in DIR/data (initdb: trust authentication, superuser `attendance`, UTF8), listening
# on 127.0.0.1 only and on a unix socket in DIR, its log in DIR/server.log. A start takes
# 0.8 s on the idle 2-core development machine and up to 1.7 s beside a build, nearly all of
# it initdb (pg_ctl start: 0.12 s); --durable 1.3-1.9 s (initdb syncs); a stop 0.15 s.
#   scripts/pg_server.sh start DIR [--port N] [--durable]
#       Creates DIR (absent or empty, or left by an earlier start: that server is stopped and
#       its directory replaced) and starts the server. Without --port it takes a random free
#       port below the kernel's ephemeral range, trying another when the one it took is in
#       use. Without --durable the cluster neither syncs nor writes full pages (fsync=off,
#       full_page_writes=off, initdb --no-sync): fast, and lost with the machine, which is
#       what tests want; --durable keeps PostgreSQL's defaults. max_connections=300.
#       Writes DIR/conninfo, one libpq connection string, and prints the same line:
#         host=127.0.0.1 port=N user=attendance dbname=postgres
#       On failure prints the server log's tail on stderr and exits 1.
#   scripts/pg_server.sh stop DIR
#       Stops the server (pg_ctl stop -m fast) and removes DIR. A DIR without a running server
#       is only removed; a missing DIR is fine.
# PostgreSQL refuses to run as root: run as root, the script runs initdb, pg_ctl and the
# server as the `postgres` user (`nobody` where there is none) and gives DIR to that user, so
# DIR must be reachable by it: put it under /tmp, not under a directory closed to others (a
# home directory). The socket's path (DIR/.s.PGSQL.N) must stay under 107 bytes: keep DIR short.
# The binaries: `pg_config --bindir`, else /usr/lib/postgresql/15/bin, else the newest
# /usr/lib/postgresql/*/bin (Debian's postgresql-15 package).
set -euo pipefail

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2  # this header
  exit 2
}
die() {
  echo "pg_server: $*" >&2
  exit 1
}

[[ $# -ge 2 ]] || usage
command=$1 dir=$2
shift 2
port="" durable=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ && "$2" -le 65535 ]] ||
        die "--port wants a port number (1-65535)"
      port=$2
      shift
      ;;
    --durable) durable=1 ;;
    *) echo "pg_server: unknown option '$1'" >&2; usage ;;
  esac
  shift
done
[[ "$dir" == /* ]] || dir="$PWD/$dir"
dir=${dir%/}
[[ -n "$dir" ]] || die "refusing to use / as the server's directory"

bin_dir() {
  local d
  if command -v pg_config >/dev/null && d=$(pg_config --bindir 2>/dev/null) && [[ -x "$d/initdb" ]]; then
    echo "$d"
  elif [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
    echo /usr/lib/postgresql/15/bin
  elif d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1) && [[ -x "$d/initdb" ]]; then
    echo "$d"
  else
    die "no PostgreSQL server binaries (initdb, pg_ctl, postgres): install postgresql-15"
  fi
}

# The user the server runs as, and how to run a command as that user.
as_user=()
server_user=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  if id postgres >/dev/null 2>&1; then server_user=postgres; else server_user=nobody; fi
  as_user=(runuser -u "$server_user" --)
fi
as_server() { (cd "$dir" && "${as_user[@]}" "$@"); }

# What start writes in DIR; stop removes DIR only when it holds nothing else, so that a wrong
# argument cannot delete someone's directory.
is_ours() {
  local entry
  for entry in "$dir"/* "$dir"/.[!.]*; do
    [[ -e "$entry" ]] || continue
    case "${entry##*/}" in
      data | server.log | conninfo | .s.PGSQL.*) ;;  # .s.PGSQL.N[.lock]: the socket
      *) return 1 ;;
    esac
  done
}

stop() {
  [[ -e "$dir" ]] || return 0
  [[ -d "$dir" ]] || die "$dir is not a directory"
  is_ours || die "$dir holds files other than a server's (data, server.log, conninfo): not removing it"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    local bin
    bin=$(bin_dir)
    if ! as_server "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 30 >/dev/null 2>&1; then
      # A stale pid file (the server was killed) ends here too; a live server that did not
      # stop in time is stopped without its shutdown checkpoint.
      as_server "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$dir"
}

fail_with_log() {  # fail_with_log MESSAGE [FIRST_LINE]: the log's tail from FIRST_LINE on
  echo "pg_server: $1" >&2
  if [[ -s "$dir/server.log" ]]; then
    echo "pg_server: from $dir/server.log:" >&2
    tail -n "+${2:-1}" "$dir/server.log" | tail -n 30 >&2
  fi
  exit 1
}

start() {
  local bin
  bin=$(bin_dir)
  if [[ -e "$dir" ]]; then
    [[ -d "$dir" ]] || die "$dir is not a directory"
    stop  # an earlier run's server (or an empty directory made for this one)
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ${#as_user[@]} -gt 0 ]]; then
    chown "$server_user:" "$dir"
    "${as_user[@]}" test -w "$dir" -a -x "$dir" ||
      { rm -rf "$dir"; die "the user $server_user, which runs the server, cannot reach $dir (a directory above it is closed to others): put it under /tmp"; }
  fi
  local socket_path="$dir/.s.PGSQL.65535"
  [[ ${#socket_path} -lt 108 ]] || { rm -rf "$dir"; die "$dir is too long for a unix socket's path: use a shorter one"; }

  local locale=(--no-locale)
  locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale=(--locale=C.UTF-8)
  local sync=(--no-sync)
  ((durable)) && sync=()
  as_server touch "$dir/server.log"  # pg_ctl -l opens it as the server's user
  as_server "$bin/initdb" -D "$dir/data" -A trust -U attendance -E UTF8 "${locale[@]}" \
    "${sync[@]}" --no-instructions >>"$dir/server.log" 2>&1 || fail_with_log "initdb failed"

  # Settings beside initdb's; the directory name quoted as postgresql.conf wants ('' for ').
  {
    echo
    echo "# scripts/pg_server.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '${dir//\'/\'\'}'"
    echo "max_connections = 300"
    if ((!durable)); then
      echo "fsync = off"
      echo "full_page_writes = off"
    fi
  } >>"$dir/data/postgresql.conf"

  # Random ports come from below the ephemeral range, so that no outgoing connection holds one;
  # from 6000-9999 when the range starts above 10000, away from the ports tests take for their
  # own listeners (tests/support unused_port(): 10000 up to the range).
  local ephemeral_low low high attempts=1
  read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral_low=32768
  if ((ephemeral_low > 10000)); then low=6000 high=10000; else low=1024 high=$ephemeral_low; fi
  [[ -n "$port" ]] || attempts=5
  local attempt try_port log_lines
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    try_port=${port:-$((low + (RANDOM * 32768 + RANDOM) % (high - low)))}
    log_lines=$(wc -l <"$dir/server.log")
    if as_server "$bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $try_port" >/dev/null 2>>"$dir/server.log"; then
      local conninfo="host=127.0.0.1 port=$try_port user=attendance dbname=postgres"
      echo "$conninfo" >"$dir/conninfo"
      echo "$conninfo"
      return 0
    fi
    # Only a port in use is worth another try.
    tail -n "+$((log_lines + 1))" "$dir/server.log" | grep -q 'Address already in use' || break
    [[ $attempt -lt $attempts ]] && echo "pg_server: port $try_port is in use, trying another" >&2
  done
  # A server still coming up when pg_ctl gave up waiting is not left behind.
  [[ -f "$dir/data/postmaster.pid" ]] &&
    as_server "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1
  fail_with_log "the server did not start (pg_ctl start, port $try_port)" $((log_lines + 1))
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "pg_server: unknown command '$command' (start, stop)" >&2; usage ;;
esac
