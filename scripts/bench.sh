#!/usr/bin/env bash
# Regenerates docs/benchmarks.md: Release build of moe-bench, `moe` installed as users install it, then the full benchmark.
# Run it on a quiet machine: the page records the load average, and absolute speeds are only meaningful without other work.
# Extra arguments go to moe-bench, e.g. `scripts/bench.sh --corpus /data/corpus --model models/trained`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/MoeFunctions.Benchmarks -c Release --nologo -v quiet
# The end-to-end section runs `moe` as scripts/install.sh installs it (ReadyToRun), unless --moe names another.
moe=()
if [[ " $* " != *" --moe "* ]]; then
  bash scripts/install.sh artifacts/bench-moe > /dev/null
  moe=(--moe artifacts/bench-moe/bin/moe)
fi
# The build itself keeps both cores busy, and the page flags a run whose 1-minute load average starts above the core
# count: wait (up to 3 minutes) for the build's load to decay before measuring.
for _ in $(seq 36); do
  awk '{exit !($1 < 1.0)}' /proc/loadavg && break
  sleep 5
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
exec benchmarks/MoeFunctions.Benchmarks/bin/Release/net10.0/moe-bench --out docs/benchmarks.md "${moe[@]}" "$@"
