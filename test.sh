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
# The PostgreSQL cluster tests start a throw-away PostgreSQL (Debian's server packages) for Orleans membership and the catalog.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "Installing postgresql for the cluster tests (apt-get)..."
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql; } >/tmp/postgresql-install.log 2>&1 \
    || { echo "postgresql install failed (see /tmp/postgresql-install.log); the PostgreSQL cluster tests will fail"; }
fi
# The OpenAPI lint test runs Redocly CLI (an npm package) on the served /openapi/v1.json.
if [ ! -x .tools/redocly/node_modules/.bin/redocly ]; then
  echo "Installing @redocly/cli for the OpenAPI lint test (npm)..."
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo_cmd="sudo"
  { command -v npm >/dev/null || { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm; }; } >/tmp/redocly-install.log 2>&1
  npm install --no-save --no-audit --no-fund --prefix .tools/redocly @redocly/cli@2.77.0 >>/tmp/redocly-install.log 2>&1 \
    || echo "redocly install failed (see /tmp/redocly-install.log); the OpenAPI lint test will fail"
fi
dotnet build VectorStore.sln -c Release || exit 1
log=$(mktemp)
results=$(mktemp -d)
# The trx logger records each skipped test with its reason; the console keeps its usual summary per assembly.
dotnet test VectorStore.sln -c Release --no-build --logger "trx;LogFilePrefix=vs" --results-directory "$results" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One closing line for the whole run, summed over the test assemblies, then every skipped test with its reason.
awk '/^(Passed|Failed|Skipped)!/ { for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
find "$results" -name '*.trx' -exec cat {} + 2>/dev/null | awk '
  function text(s) { gsub(/&apos;/, "\047", s); gsub(/&quot;/, "\"", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s); return s }
  /<UnitTestResult / && /outcome="NotExecuted"/ { match($0, /testName="[^"]*"/); name = text(substr($0, RSTART + 10, RLENGTH - 11)); open = 1; next }
  open && /<Message>/ { reason = $0; sub(/.*<Message>/, "", reason); sub(/<\/Message>.*/, "", reason); printf "skipped: %s: %s\n", name, text(reason); open = 0 }
  open && /<\/UnitTestResult>/ { printf "skipped: %s\n", name; open = 0 }'
rm -rf "$log" "$results"
exit "$status"
