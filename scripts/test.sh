#!/usr/bin/env bash
# The whole test suite: installs what it needs (scripts/setup.sh), starts Azurite, runs every test project,
# and ends with one line "N passed, N failed, N skipped" summed over all projects.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# One Azurite for the whole run (the test fixture reuses it; it starts its own if none answers).
azurite_pid=""
if ! (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  mkdir -p artifacts
  node_modules/.bin/azurite --silent --inMemoryPersistence --skipApiVersionCheck --disableTelemetry \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 > artifacts/azurite.log 2>&1 &
  azurite_pid=$!
  for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null && break; sleep 0.5; done
fi
trap '[ -n "$azurite_pid" ] && kill "$azurite_pid" 2>/dev/null' EXIT

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
# --blame-hang-timeout turns a hung test into a failure with a dump instead of a stuck run.
dotnet test MoeFunctions.sln -c "${CONFIGURATION:-Debug}" --no-build -nologo \
  --logger "trx" --results-directory "$results" --blame-hang-timeout 15m \
  -- RunConfiguration.TreatNoTestsAsError=false "$@"
rc=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # The trx logger leaves notExecuted at 0 for skipped tests; they are the ones counted but not executed.
  skipped=$((skipped + $(get total) - $(get executed)))
done
# A project that crashed before writing its report counts as a failure, not as silence.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
