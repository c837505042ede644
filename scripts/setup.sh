#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on a fresh Debian machine, then builds.
# Idempotent: packages already present are skipped. Package lists live in scripts/deps/*.apt and *.npm,
# one per project area, so each area declares its own needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
mapfile -t apt_pkgs < <(cat scripts/deps/*.apt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm tools (Azurite, dclint, ...) into ./node_modules ------------------------------------
# package.json lists the same name@version as scripts/deps/*.npm, and package-lock.json pins every transitive package:
# without it npm resolved the newest version of each range, and a fresh install failed the day the registry listed a
# version it could not serve (@opentelemetry/context-async-hooks 2.12.1, 2026-11-26). `npm ci` installs exactly the lock.
mapfile -t npm_pkgs < <(cat scripts/deps/*.npm 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
need_npm=()
for spec in "${npm_pkgs[@]}"; do
  name="${spec%@*}"; version="${spec##*@}"   # entries are name@version; scoped names start with @
  pinned=$(node -p "require('./package.json').dependencies?.['$name'] ?? ''")
  if [ "$pinned" != "$version" ]; then
    log "scripts/deps lists $spec but package.json pins '${pinned}': update package.json, then run npm install --package-lock-only"
    exit 1
  fi
  installed=$(node -p "try{require('./node_modules/$name/package.json').version}catch(e){''}" 2>/dev/null || true)
  [ "$installed" = "$version" ] || need_npm+=("$spec")
done
if ((${#need_npm[@]})); then
  log "installing npm packages: ${need_npm[*]}"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# --- .NET build ------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building MoeFunctions.sln"
  dotnet build MoeFunctions.sln -c "${CONFIGURATION:-Debug}" -nologo -v:q -clp:ErrorsOnly
fi
log "ready"
