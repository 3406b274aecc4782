#!/usr/bin/env bash
# Exact-scan benchmark: 100k x 384 by default. Usage: bench/VectorStore.Benchmarks/run-exact.sh [--vectors N --dim D]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
dotnet run -c Release --project "$here" -- exact "$@"
