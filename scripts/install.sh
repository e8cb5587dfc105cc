#!/usr/bin/env bash
# Installs a capture node (at a site) or the analysis service (at the province) from this
# tree, as a systemd service running as the system user "attendance".
#
#   sudo scripts/install.sh node --site td-01 --server https://diemdanh.example.vn \
#        --camera rtsp://admin:PASS@192.168.1.64:554/Streaming/Channels/101 \
#        --key-file td-01.key [--ca-file province-ca.pem]
#   sudo scripts/install.sh server [--host diemdanh.example.vn] [--cert FILE --key FILE]
#        [--no-nginx] [--postgres local|CONNINFO] [--processes N]
#
# Layout: programs in /opt/attendance/bin, the dashboard in /opt/attendance/dashboard,
# settings in /etc/attendance, state (spool, sequence, reference view; or the database) in
# /var/lib/attendance, logs in the journal. The server runs behind nginx (nginx-light): HTTPS
# on 443 (80 sends to it) with --cert/--key, or a self-signed certificate for --host made
# once; the service on 127.0.0.1:8080. --no-nginx: the service alone (see
# docs/running-the-service.md for what it then lacks). An existing settings file or
# certificate is never overwritten. With --destdir DIR everything goes under DIR and no
# user, package, systemctl or build step is touched (packaging, tests).
# The store is SQLite (/var/lib/attendance/attendance.db) unless --postgres: `local` installs
# PostgreSQL on this machine with a database and role `attendance` (the service logs in as its
# system user, over the local socket), or CONNINFO names an existing database (libpq's string;
# its password in /var/lib/attendance/.pgpass). --processes N (PostgreSQL only) runs N service
# processes, attendance-server@8081 ... @808N, behind nginx (docs/deployment.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
role=$1
shift
[[ "$role" == node || "$role" == server ]] || usage

prefix=/opt/attendance destdir="" site="" server="" camera="" key_file="" ca_file=""
host="" cert_file="" cert_key="" nginx=1 postgres="" processes=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-nginx) nginx=0; shift; continue ;;
    --host) host=$2 ;;
    --cert) cert_file=$2 ;;
    --key) cert_key=$2 ;;
    --prefix) prefix=$2 ;;
    --destdir) destdir=$2 ;;
    --site) site=$2 ;;
    --server) server=$2 ;;
    --camera) camera=$2 ;;
    --key-file) key_file=$2 ;;
    --ca-file) ca_file=$2 ;;
    --postgres) postgres=$2 ;;
    --processes) processes=$2 ;;
    *) echo "install: unknown option $1" >&2; usage ;;
  esac
  shift 2
done

die() { echo "install: $*" >&2; exit 2; }
etc="$destdir/etc/attendance"
units="$destdir/etc/systemd/system"
state=/var/lib/attendance
if [[ "$role" == node ]]; then
  [[ -n "$site" && -n "$server" && -n "$camera" && -n "$key_file" ]] ||
    die "node needs --site, --server, --camera and --key-file (the key comes from the" \
        "province: attendance-server keys --show SITE)"
  [[ "$site" =~ ^[a-z0-9_-]{1,32}$ ]] || die "--site '$site' is not a site id"
  [[ "$server" =~ ^https?:// ]] || die "--server must start with http:// or https://"
  [[ -f "$key_file" ]] || die "no key file $key_file"
  [[ $(tr -d '[:space:]' <"$key_file") =~ ^[0-9a-fA-F]{32,}$ ]] ||
    die "$key_file does not hold a site key (64 hex digits)"
  [[ -z "$ca_file" || -f "$ca_file" ]] || die "no CA file $ca_file"
  programs=(attendance-capture)
else
  programs=(attendance-server attendance-eval)
  [[ -z "$cert_file" && -z "$cert_key" ]] || [[ -f "$cert_file" && -f "$cert_key" ]] ||
    die "--cert and --key go together, and both must be files"
  [[ -n "$host" ]] || host=$(hostname -f 2>/dev/null || hostname)
  [[ "$host" =~ ^[A-Za-z0-9.-]{1,253}$ ]] || die "--host '$host' is not a host name"
  [[ "$processes" =~ ^[1-9]$ ]] || die "--processes takes 1 to 9"
  ((processes == 1)) || [[ -n "$postgres" ]] ||
    die "--processes $processes needs --postgres: several processes share one PostgreSQL database"
  ((processes == 1)) || ((nginx == 1)) || die "--processes $processes needs nginx in front"
  [[ "$postgres" != *\|* && "$postgres" != *\"* ]] || die "--postgres holds a | or a quote"
fi
# The service's processes: one on 8080, or N on 8081...
ports=(8080)
((processes == 1)) || ports=($(seq 8081 $((8080 + processes))))

if [[ -z "$destdir" ]]; then
  [[ $(id -u) -eq 0 ]] || die "run as root (sudo), or give --destdir"
  "$root/scripts/build.sh" release
  if [[ "$role" == server ]]; then
    "$root/scripts/dashboard.sh"
    if [[ $nginx -eq 1 ]] && ! command -v nginx >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light
    fi
    if [[ "$postgres" == local ]] && ! command -v pg_ctlcluster >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15
    fi
  fi
fi
for p in "${programs[@]}"; do
  [[ -x "$root/build/bin/$p" ]] || die "build/bin/$p is missing: run scripts/build.sh first"
  install -D -m 0755 "$root/build/bin/$p" "$destdir$prefix/bin/$p"
done
install -D -m 0644 "$root/README.md" "$destdir$prefix/README.md"
install -d -m 0755 "$etc" "$units"

unit="attendance-capture.service"
[[ "$role" == server ]] && unit="attendance-server.service"
((processes == 1)) || unit="attendance-server@.service"
sed "s|/opt/attendance|$prefix|g" "$root/config/systemd/$unit" >"$units/$unit"
chmod 0644 "$units/$unit"

if [[ "$role" == node ]]; then
  # The key: readable by the node's user only.
  install -m 0600 /dev/null "$etc/site.key"
  tr -d '[:space:]' <"$key_file" >"$etc/site.key"
  echo >>"$etc/site.key"
  if [[ -n "$ca_file" ]]; then install -m 0644 "$ca_file" "$etc/province-ca.pem"; fi
  if [[ -e "$etc/capture.yaml" ]]; then
    echo "install: keeping the existing $etc/capture.yaml"
  else
    sed -e "s|^site_id: .*|site_id: $site|" \
        -e "s|^server_url: .*|server_url: $server|" \
        -e "s|^secret_file: .*|secret_file: /etc/attendance/site.key|" \
        -e "s|^state_dir: .*|state_dir: $state|" \
        -e "s|^  uri: .*|  uri: \"$camera\"|" \
        "$root/config/capture.yaml" >"$etc/capture.yaml"
    [[ -n "$ca_file" ]] &&
      sed -i "s|^# ca_file: .*|ca_file: /etc/attendance/province-ca.pem|" "$etc/capture.yaml"
    chmod 0640 "$etc/capture.yaml"  # the camera URI may hold its password
  fi
else
  for f in server.yaml sites.csv schedule.yaml zones.yaml; do
    if [[ -e "$etc/$f" ]]; then
      echo "install: keeping the existing $etc/$f"
    else
      install -m 0644 "$root/config/$f" "$etc/$f"
    fi
  done
  sed -i -e "s|^data_dir: .*|data_dir: $state|" \
         -e "s|^dashboard_dir: .*|dashboard_dir: $prefix/dashboard|" \
         -e "s|^  site_keys: .*|  site_keys: $state/site_keys.csv|" "$etc/server.yaml"
  if [[ -n "$postgres" ]]; then
    conninfo=$postgres
    # Over the local socket, as the service's system user (peer authentication).
    [[ "$postgres" == local ]] && conninfo="host=/var/run/postgresql dbname=attendance"
    sed -i -e "s|^  backend: .*|  backend: postgres|" \
           -e "s|^  # postgres: .*|  postgres: \"$conninfo\"|" "$etc/server.yaml"
  fi
  grep -q '^dashboard_dir:' "$etc/server.yaml" ||
    sed -i "s|^data_dir: .*|&\ndashboard_dir: $prefix/dashboard|" "$etc/server.yaml"
  # The dashboard's files, served by nginx (and by the service itself without it).
  rm -rf "$destdir$prefix/dashboard"
  install -d -m 0755 "$destdir$prefix/dashboard"
  (cd "$root/dashboard" && cp -r index.html app.js style.css js vendor "$destdir$prefix/dashboard/")
  # TLS: the given certificate, or one made for --host, kept across installs.
  tls="$etc/tls"
  install -d -m 0755 "$tls"
  if [[ -n "$cert_file" ]]; then
    install -m 0644 "$cert_file" "$tls/cert.pem"
    install -m 0600 "$cert_key" "$tls/key.pem"
  elif [[ ! -e "$tls/cert.pem" ]]; then
    openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=$host" \
      -addext "subjectAltName=DNS:$host" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
    chmod 0600 "$tls/key.pem"
    echo "install: made a self-signed certificate for $host: give $tls/cert.pem to every node" \
         "(install.sh node --ca-file)"
  fi
  if [[ $nginx -eq 1 ]]; then
    # The service on loopback, trusting nginx on this machine to name the client.
    sed -i -e "s|^  host: .*|  host: 127.0.0.1|" \
           -e "s|^  # trusted_proxies: \(\[[^]]*\]\).*|  trusted_proxies: \1|" "$etc/server.yaml"
    install -d -m 0755 "$destdir/etc/nginx/conf.d"
    # The placeholders replaced outside comments.
    servers=""
    for port in "${ports[@]}"; do servers+="server 127.0.0.1:$port max_fails=1 fail_timeout=5s; "; done
    sed -e "/^ *#/!s|@SERVICES@|${servers% }|" -e "/^ *#/!s|@DASHBOARD@|$prefix/dashboard|" \
        -e "/^ *#/!s|@CERT@|/etc/attendance/tls/cert.pem|" \
        -e "/^ *#/!s|@KEY@|/etc/attendance/tls/key.pem|" \
        -e "/^ *#/!s|@HTTPS@|443|" -e "/^ *#/!s|@HTTP@|80|" \
        "$root/config/nginx/attendance.conf" >"$destdir/etc/nginx/conf.d/attendance.conf"
    # Debian's default site would answer port 80 in our place.
    rm -f "$destdir/etc/nginx/sites-enabled/default"
  else
    sed -i -e "s|^  host: .*|  host: 0.0.0.0|" \
           -e "s|^  # tls_cert: .*|  tls_cert: /etc/attendance/tls/cert.pem|" \
           -e "s|^  # tls_key: .*|  tls_key: /etc/attendance/tls/key.pem|" "$etc/server.yaml"
  fi
fi

[[ -n "$destdir" ]] && { echo "install: $role installed under $destdir"; exit 0; }

id attendance >/dev/null 2>&1 ||
  useradd --system --home-dir "$state" --shell /usr/sbin/nologin attendance
if [[ "$postgres" == local ]]; then
  # The role and database `attendance`, owned by the service's user; the service migrates it.
  systemctl enable --now postgresql
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'attendance'" |
    grep -q 1 || runuser -u postgres -- createuser attendance
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'attendance'" |
    grep -q 1 || runuser -u postgres -- createdb --owner attendance attendance
fi
[[ "$role" == node ]] && usermod -a -G video attendance
chown root:attendance "$etc"/*
[[ "$role" == node ]] && chown attendance:attendance "$etc/site.key"
# The service reads its key itself without nginx.
[[ "$role" == server && $nginx -eq 0 ]] && chown attendance:attendance "$etc/tls/key.pem"
systemctl daemon-reload
if ((processes == 1)); then
  systemctl enable --now "$unit"
else
  systemctl disable --now attendance-server.service 2>/dev/null || true
  for port in "${ports[@]}"; do systemctl enable --now "attendance-server@$port.service"; done
  unit="attendance-server@*.service"
fi
if [[ "$role" == server && $nginx -eq 1 ]]; then
  nginx -t
  systemctl enable nginx
  systemctl reload-or-restart nginx
  echo "install: nginx serves https://$host/ in front of the service"
fi
echo "install: $unit is running; follow it with: journalctl -u ${unit%.service} -f"
if [[ "$role" == server ]]; then
  echo "install: nothing can be read before the first user exists; create an admin with:"
  echo "  sudo -u attendance $prefix/bin/attendance-server --config /etc/attendance/server.yaml users add admin --role admin"
fi
