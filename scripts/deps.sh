#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages the project needs, only those missing.
# Idempotent: when everything is there it only runs dpkg-query and returns in well
# under a second. Usage: scripts/deps.sh [--demo]   (--demo adds what the demo needs)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ca-certificates curl ccache
  libopencv-dev opencv-data
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  jq gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libsqlite3-dev sqlite3 libssl-dev openssl
  libgtest-dev libgmock-dev
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libyaml-cpp-dev
  libhowardhinnant-date-dev    # time zones (date/tz.h)
  libkainjow-mustache-dev      # the printable reports' templates (kainjow/mustache.hpp)
  clang-16 libclang-rt-16-dev  # libFuzzer (scripts/fuzz.sh): clang 14 cannot build <expected>
  faketime                     # the reliability suite sets a node's clock off with it
  clang-format python3         # the format and include checks of the test command
  nginx-light                  # the front door (config/nginx/), run by its tests
  postgresql-15 libpq-dev      # the tests' PostgreSQL server (scripts/pg_server.sh) and libpq
)
# The dashboard: its browser libraries come from npm at build time (scripts/dashboard.sh),
# its browser tests drive Debian's Chromium. A Node.js from elsewhere (NodeSource's bundles
# npm) is used as it is: Debian's npm would conflict with it.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
packages+=(chromium fonts-dejavu-core)
if [[ "${1:-}" == "--demo" && ! -d "$(dirname "$0")/../../shared/data/video" ]]; then
  packages+=(opencv-doc)  # ships vtest.avi, the demo's fallback clip
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
