#!/usr/bin/env bash
# Builds the four-domain training corpus (issue 3), then runs the shortcut audit.
#   scripts/build-corpus.sh [--out DIR] [--seed N] [--shared DIR] [--domains D1,D2,D3,D4] [--limit N]
# Installs the Debian packages it needs (scripts/deps/corpus.apt) when missing; resumable: rerun to continue.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < scripts/deps/corpus.apt
if ((${#missing[@]})); then
  echo "build-corpus: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

args=("$@")
[[ " ${args[*]} " == *" --out "* ]] || args+=(--out corpus)
if [[ -z "${MOE_SHARED_DATA:-}" && -f ../shared/data/manifest.csv ]]; then MOE_SHARED_DATA=../shared/data; fi
[[ " ${args[*]} " == *" --shared "* || -z "${MOE_SHARED_DATA:-}" ]] || args+=(--shared "$MOE_SHARED_DATA")

dotnet build -c Release src/MoeFunctions.Cli -v q -nologo
exec dotnet run -c Release --no-build --project src/MoeFunctions.Cli -- corpus build "${args[@]}"
