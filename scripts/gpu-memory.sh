#!/usr/bin/env bash
# Peak GPU memory of `moe scan --device cuda` (nvidia-smi's memory.used, sampled every 0.1 s while the scan runs) for the
# bundle's dense routing at batch 32 and 128 and for sparse top-2, on FOLDER. Uses the CUDA-capable build that
# scripts/bench-gpu.sh publishes (artifacts/bench-gpu/app/moe.dll) unless MOE_DLL names another.
# Usage: scripts/gpu-memory.sh FOLDER
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:?usage: scripts/gpu-memory.sh FOLDER}
moe=${MOE_DLL:-artifacts/bench-gpu/app/moe.dll}
idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
echo "GPU memory.used before the scans: $idle MiB"
for args in "--batch 32" "--batch 32 --mode sparse --top-k 2" "--batch 128"; do
  samples=$(mktemp)
  ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1; sleep 0.1; done ) > "$samples" &
  sampler=$!
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # the routing arguments are words
  dotnet "$moe" scan "$folder" --device cuda $args --quiet --json "$samples.json" --model models/default
  wall=$(( ($(date +%s%N) - start) / 1000000 ))
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  echo "moe scan $folder --device cuda $args: ${wall} ms, peak GPU memory.used $(sort -n "$samples" | tail -1) MiB"
  rm -f "$samples" "$samples.json"
done
