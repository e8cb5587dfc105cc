#!/usr/bin/env bash
# What the heaviest headers cost the build, and what a precompiled header would save: each
# header alone in an empty translation unit, then four real translation units compiled as the
# release build compiles them, without and with a precompiled header of the heavy ones
# (cpp-httplib, nlohmann/json, spdlog, OpenCV core, GoogleTest). CPU seconds (user + sys) of
# g++, best of three for the headers. Run it on a quiet machine (about 2 minutes).
#   scripts/bench_headers.sh          prints the two tables
#   scripts/bench_headers.sh --docs   and writes them into docs/measurements.md
set -euo pipefail
docs=0
[[ "${1:-}" == "--docs" ]] && docs=1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --preset release -B "$work/cfg" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

cpu() {  # cpu COMMAND...: the command's CPU seconds
  /usr/bin/time -o "$work/t" -f "%U %S" "$@" >/dev/null 2>&1
  awk '{ printf "%.2f", $1 + $2 }' "$work/t"
}

flags="-std=c++23 -O2 -g -Wall -Wextra -DCPPHTTPLIB_OPENSSL_SUPPORT -DSPDLOG_COMPILED_LIB"
flags+=" -DSPDLOG_FMT_EXTERNAL $(pkg-config --cflags opencv4)"
{
echo "| header alone | CPU s |"
echo "|---|---|"
for h in "string" "httplib.h" "nlohmann/json.hpp" "spdlog/spdlog.h" "opencv2/core.hpp" \
         "opencv2/dnn.hpp" "gtest/gtest.h" "kainjow/mustache.hpp" "date/tz.h" "yaml-cpp/yaml.h"; do
  echo "#include <$h>" >"$work/one.cpp"
  best=999
  for _ in 1 2 3; do
    # shellcheck disable=SC2086
    t=$(cpu g++ $flags -c "$work/one.cpp" -o "$work/one.o")
    best=$(awk -v a="$t" -v b="$best" 'BEGIN { print (a < b ? a : b) }')
  done
  echo "| \`<$h>\` | $best |"
done
} >"$work/headers.md"

cat >"$work/pch.h" <<'EOF'
#include <httplib.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
EOF
{
echo "| translation unit | CPU s | with the precompiled header | building that header |"
echo "|---|---|---|---|"
for tu in counting/detector.cpp analysis/store/sqlite_store.cpp analysis/web/site_routes.cpp \
          tests/test_auth.cpp; do
  command=$(python3 - "$work/cfg/compile_commands.json" "$root/$tu" <<'EOF'
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    if e["file"] == sys.argv[2]:
        args = shlex.split(e["command"])
        # The compiler itself, without the ccache launcher in front of it.
        args = args[next(i for i, a in enumerate(args) if a.endswith(("c++", "g++"))):]
        out = args.index("-o")
        del args[out:out + 2]
        print(shlex.join(a for a in args if a not in ("-MD",) and not a.startswith("-MF")
                         and not a.startswith("-MT")))
EOF
)
  plain=$(cd "$work/cfg" && cpu bash -c "$command -o $work/tu.o")
  # The header precompiled with the same flags (a PCH must match them).
  pch_flags=$(sed -e 's/ -c .*//' -e 's/ -M[DFT][^ ]*//g' <<<"$command" | cut -d' ' -f2-)
  build_pch=$(cd "$work/cfg" && cpu bash -c "g++ $pch_flags -x c++-header $work/pch.h -o $work/pch.h.gch")
  with=$(cd "$work/cfg" && cpu bash -c "$command -include $work/pch.h -Winvalid-pch -o $work/tu.o")
  echo "| \`$tu\` | $plain | $with | $build_pch |"
done
} >"$work/units.md"
cat "$work/headers.md"
echo
cat "$work/units.md"
if ((docs)); then
  python3 scripts/put_table.py docs/measurements.md headers "$work/headers.md" \
    "scripts/bench_headers.sh --docs"
  python3 scripts/put_table.py docs/measurements.md precompiled "$work/units.md" \
    "scripts/bench_headers.sh --docs"
fi
