#!/usr/bin/env bash
# ANN benchmark: VectorStore HNSW vs hnswlib on the same data, same M/efConstruction, same run.
# Usage: bench/VectorStore.Benchmarks/run-ann.sh [ann options]   e.g. --data ../shared/data/ann/siftsmall | --random 100000 --dim 128
#        --random 200000 --latent 16 --quantization none,int8 --graph-cache /tmp/graphs   (structured synthetic set; graphs reused by later runs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ ! -f /usr/include/hnswlib/hnswalg.h ]; then
  echo "hnswlib headers missing: installing libhnswlib-dev" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y libhnswlib-dev || { apt-get update && apt-get install -y libhnswlib-dev; }
  else sudo apt-get install -y libhnswlib-dev || { sudo apt-get update && sudo apt-get install -y libhnswlib-dev; }; fi
fi
bin="$here/bin/hnsw_bench"
mkdir -p "$here/bin"
g++ -O3 -march=native -std=c++17 -pthread -o "$bin" "$here/hnswlib/hnsw_bench.cpp"
cd "$repo"
dotnet run -c Release --project "$here" -- ann --hnswlib-bin "$bin" "$@"
