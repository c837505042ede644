#!/usr/bin/env bash
# Installs the `moe` command with the bundled model, for sweeping libraries without a source checkout in the way:
#   bash scripts/install.sh [PREFIX]        (default ~/.local: files in PREFIX/lib/moe, the command in PREFIX/bin/moe)
# A ReadyToRun publish for this machine's runtime: the code is compiled ahead of time, so a scan spends less of its
# time in the JIT (5 % faster on the benchmark's 30-minute folder, docs/benchmarks.md). It needs the .NET 10 SDK;
# ffmpeg, which decodes M4A/AAC, video containers and the rest, comes from scripts/setup.sh or the system.
# The build happens under its own artifacts folder, so the checkout's bin/ and obj/ are left as they are.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix=$(realpath -m "${1:-$HOME/.local}")
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64 | arm64) rid=linux-arm64 ;;
  *) echo "install.sh: no .NET runtime identifier for $(uname -m)" >&2; exit 1 ;;
esac
artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
# Publish into a fresh folder and swap it in, so a failed publish leaves an earlier install working.
rm -rf "$prefix/lib/moe.new"
dotnet publish "$root/src/MoeFunctions.Cli" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
  --artifacts-path "$artifacts" -o "$prefix/lib/moe.new" --nologo -v quiet
rm -rf "$prefix/lib/moe"
mv "$prefix/lib/moe.new" "$prefix/lib/moe"
mkdir -p "$prefix/bin"
ln -sfn "$prefix/lib/moe/moe" "$prefix/bin/moe"
"$prefix/bin/moe" --help > /dev/null
echo "installed $prefix/bin/moe ($rid, ReadyToRun, model bundle in $prefix/lib/moe/models/default)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add $prefix/bin to PATH to run it as \`moe\`" ;; esac
