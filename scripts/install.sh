#!/usr/bin/env bash
# Installs a capture node (at a site) or the analysis service (at the province) from this
# tree, as a systemd service running as the system user "attendance".
#
#   sudo scripts/install.sh node --site td-01 --server https://diemdanh.example.vn \
#        --camera rtsp://admin:PASS@192.168.1.64:554/Streaming/Channels/101 \
#        --key-file td-01.key [--ca-file province-ca.pem]
#   sudo scripts/install.sh server
#
# Layout: programs in /opt/attendance/bin, settings in /etc/attendance, state (spool,
# sequence, reference view; or the database) in /var/lib/attendance, logs in the journal.
# An existing settings file is never overwritten. With --destdir DIR everything goes under
# DIR and no user, systemctl or build step is touched (packaging, tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
role=$1
shift
[[ "$role" == node || "$role" == server ]] || usage

prefix=/opt/attendance destdir="" site="" server="" camera="" key_file="" ca_file=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix) prefix=$2 ;;
    --destdir) destdir=$2 ;;
    --site) site=$2 ;;
    --server) server=$2 ;;
    --camera) camera=$2 ;;
    --key-file) key_file=$2 ;;
    --ca-file) ca_file=$2 ;;
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
fi

if [[ -z "$destdir" ]]; then
  [[ $(id -u) -eq 0 ]] || die "run as root (sudo), or give --destdir"
  "$root/scripts/build.sh" release
fi
for p in "${programs[@]}"; do
  [[ -x "$root/build/bin/$p" ]] || die "build/bin/$p is missing: run scripts/build.sh first"
  install -D -m 0755 "$root/build/bin/$p" "$destdir$prefix/bin/$p"
done
install -D -m 0644 "$root/README.md" "$destdir$prefix/README.md"
install -d -m 0755 "$etc" "$units"

unit="attendance-capture.service"
[[ "$role" == server ]] && unit="attendance-server.service"
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
         -e "s|^  site_keys: .*|  site_keys: $state/site_keys.csv|" "$etc/server.yaml"
fi

[[ -n "$destdir" ]] && { echo "install: $role installed under $destdir"; exit 0; }

id attendance >/dev/null 2>&1 ||
  useradd --system --home-dir "$state" --shell /usr/sbin/nologin attendance
[[ "$role" == node ]] && usermod -a -G video attendance
chown root:attendance "$etc"/*
[[ "$role" == node ]] && chown attendance:attendance "$etc/site.key"
systemctl daemon-reload
systemctl enable --now "$unit"
echo "install: $unit is running; follow it with: journalctl -u ${unit%.service} -f"
if [[ "$role" == server ]]; then
  echo "install: nothing can be read before the first user exists; create an admin with:"
  echo "  sudo -u attendance $prefix/bin/attendance-server --config /etc/attendance/server.yaml users add admin --role admin"
fi
