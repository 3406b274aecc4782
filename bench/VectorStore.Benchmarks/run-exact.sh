#!/usr/bin/env bash
# Exact-scan benchmark against hnswlib BruteforceSearch and FAISS IndexFlat, same data, same run.
# Usage: bench/VectorStore.Benchmarks/run-exact.sh              (200k x 128 and 100k x 384)
#        bench/VectorStore.Benchmarks/run-exact.sh --vectors N --dim D [--queries Q]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
install() { as_root apt-get install -y "$@" || { as_root apt-get update && as_root apt-get install -y "$@"; }; }
[ -f /usr/include/hnswlib/hnswalg.h ] || install libhnswlib-dev
# FAISS from Debian; OpenBLAS so its batched search gets a real BLAS (the reference BLAS would handicap it).
[ -f /usr/include/faiss/IndexFlat.h ] || install libfaiss-dev || echo "libfaiss-dev not installable: FAISS rows skipped" >&2
[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || install libopenblas-openmp-dev || true
bin="$here/bin/scan_bench"
mkdir -p "$here/bin"
if [ -f /usr/include/faiss/IndexFlat.h ]; then
  g++ -O3 -march=native -std=c++17 -fopenmp -DWITH_FAISS -o "$bin" "$here/scan/scan_bench.cpp" -lfaiss -lopenblas -llapack
else
  g++ -O3 -march=native -std=c++17 -o "$bin" "$here/scan/scan_bench.cpp"
fi
cd "$repo"
dotnet build -c Release "$here" >/dev/null
run() { dotnet run -c Release --no-build --project "$here" -- exact --baseline-bin "$bin" "$@"; }
if [ $# -eq 0 ]; then
  run --vectors 200000 --dim 128
  run --vectors 100000 --dim 384
else
  run "$@"
fi
