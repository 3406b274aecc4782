#!/usr/bin/env bash
# The test command from the README: builds everything with warnings as errors, then runs the unit and
# integration tests (real servers on 127.0.0.1). Benchmarks and soaks are separate commands.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The dashboard's browser tests drive Debian's Chromium (Playwright cannot download browsers offline).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing chromium for the browser tests (apt-get)..."
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium; } >/tmp/chromium-install.log 2>&1 \
    || { echo "chromium install failed (see /tmp/chromium-install.log); the browser tests will fail"; }
fi
# The cluster tests start a real Redis (Debian's redis-server) for Orleans membership between server processes.
if ! command -v redis-server >/dev/null; then
  echo "Installing redis-server for the cluster tests (apt-get)..."
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server; } >/tmp/redis-install.log 2>&1 \
    || { echo "redis-server install failed (see /tmp/redis-install.log); the multi-process cluster tests will fail"; }
fi
dotnet build VectorStore.sln -c Release || exit 1
log=$(mktemp)
dotnet test VectorStore.sln -c Release --no-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One closing line for the whole run, summed over the test assemblies.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
